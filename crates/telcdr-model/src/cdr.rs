//! Wire types of DescribeTelCdr (spec 6.1): `TelCdrInfo` and the objects
//! nested in it, with Tencent's exact member names and JSON types.
//!
//! Two rules shape every field (design.md, "DescribeTelCdr semantics"):
//!
//! * A field the documents mark as always returned is always serialised, with
//!   `""`, `0` or `[]` when there is no value — never `null`, never omitted —
//!   because strongly typed SDKs (Go, Java, C++) expect the member.
//! * A field the documents mark "not always returned" (CallType, AIAgentId,
//!   SeatUser.Role, ...) is served too, with its empty value, because the
//!   issue asks for every field always present and typed SDKs decode missing
//!   and zero alike.
//!
//! Every field is `#[serde(default)]` on the way in, so a push body or an
//! older export that lacks a member still decodes. Nested objects must be
//! JSON objects (`crate::strict`): serde would otherwise read `"SeatUser":[]`
//! as an empty agent, which the import's checked path rejects.
//!
//! The Rust field order is the order of spec 6.1's tables; it is also the
//! member order of the served JSON (serde keeps declaration order).

use serde::{Deserialize, Deserializer, Serialize};

/// One call record as DescribeTelCdr returns it (spec 6.1, "TelCdrInfo").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct TelCdrInfo {
    /// Calling number, e.g. `0086010xxxxxxxx`; empty under number protection.
    #[serde(rename = "Caller")]
    pub caller: String,
    /// Called number.
    #[serde(rename = "Callee")]
    pub callee: String,
    /// Call initiation time, Unix seconds. DescribeTelCdr's window applies here.
    #[serde(rename = "Time")]
    pub time: i64,
    /// 0 inbound, 1 outbound (internal calls are 1 too).
    #[serde(rename = "Direction")]
    pub direction: i64,
    /// 1 outbound, 2 inbound, 3 VoIP inbound, 5 predictive outbound, 6 internal.
    /// Tencent does not always return it; telcdr always does.
    #[serde(rename = "CallType")]
    pub call_type: i64,
    /// Talk time in seconds (EndedTimestamp − AcceptTimestamp; 0 when unanswered).
    #[serde(rename = "Duration")]
    pub duration: i64,
    /// Customer-side recording URL.
    #[serde(rename = "RecordURL")]
    pub record_url: String,
    /// Customer-side recording id.
    #[serde(rename = "RecordId")]
    pub record_id: String,
    /// The agent (the last one if the call was transferred).
    #[serde(rename = "SeatUser", deserialize_with = "crate::strict::object")]
    pub seat_user: SeatUserInfo,
    /// End status code, 1:1 with `end_status_string` (see `end_status`).
    #[serde(rename = "EndStatus")]
    pub end_status: i64,
    /// Skill group name.
    #[serde(rename = "SkillGroup")]
    pub skill_group: String,
    /// Caller's region, e.g. `广东深圳`.
    #[serde(rename = "CallerLocation")]
    pub caller_location: String,
    /// Seconds spent in the IVR (QueuedTimestamp − StartTimestamp).
    #[serde(rename = "IVRDuration")]
    pub ivr_duration: i64,
    /// Ring time, Unix seconds.
    #[serde(rename = "RingTimestamp")]
    pub ring_timestamp: i64,
    /// Answer time, Unix seconds; 0 if never answered.
    #[serde(rename = "AcceptTimestamp")]
    pub accept_timestamp: i64,
    /// End time, Unix seconds.
    #[serde(rename = "EndedTimestamp")]
    pub ended_timestamp: i64,
    /// Deprecated: IVR keys as plain strings.
    #[serde(rename = "IVRKeyPressed")]
    pub ivr_key_pressed: Vec<String>,
    /// IVR keys and keywords with their node and label.
    #[serde(
        rename = "IVRKeyPressedEx",
        deserialize_with = "crate::strict::objects"
    )]
    pub ivr_key_pressed_ex: Vec<IvrKeyPressedElement>,
    /// `seat`, `user` or `system`.
    #[serde(rename = "HungUpSide")]
    pub hung_up_side: String,
    /// One entry per service leg (transfers add legs).
    #[serde(
        rename = "ServeParticipants",
        deserialize_with = "crate::strict::objects"
    )]
    pub serve_participants: Vec<ServeParticipant>,
    /// Skill group id.
    #[serde(rename = "SkillGroupId")]
    pub skill_group_id: i64,
    /// End status string, 1:1 with `end_status`.
    #[serde(rename = "EndStatusString")]
    pub end_status_string: String,
    /// Session start, Unix seconds.
    #[serde(rename = "StartTimestamp")]
    pub start_timestamp: i64,
    /// Queue entry, Unix seconds.
    #[serde(rename = "QueuedTimestamp")]
    pub queued_timestamp: i64,
    /// Deprecated post-call IVR keys.
    #[serde(
        rename = "PostIVRKeyPressed",
        deserialize_with = "crate::strict::objects"
    )]
    pub post_ivr_key_pressed: Vec<IvrKeyPressedElement>,
    /// Satisfaction survey keys; `Key` = `noInput` when nothing was pressed.
    #[serde(
        rename = "PostIVRKeyPressedEx",
        deserialize_with = "crate::strict::objects"
    )]
    pub post_ivr_key_pressed_ex: Vec<IvrKeyPressedElement>,
    /// Skill group the call queued in.
    #[serde(rename = "QueuedSkillGroupId")]
    pub queued_skill_group_id: i64,
    /// Session id (a UUID string).
    #[serde(rename = "SessionId")]
    pub session_id: String,
    /// Caller protection id when number protection is on.
    #[serde(rename = "ProtectedCaller")]
    pub protected_caller: String,
    /// Callee protection id when number protection is on.
    #[serde(rename = "ProtectedCallee")]
    pub protected_callee: String,
    /// Deprecated user-to-user info. The only member Tencent declares
    /// nullable; we still serialise `""` and accept `null` as `""`.
    #[serde(rename = "Uui", deserialize_with = "null_as_empty")]
    pub uui_deprecated: String,
    /// User-to-user info (customer data passed with the call).
    #[serde(rename = "UUI")]
    pub uui: String,
    /// URL of the ASR transcript.
    #[serde(rename = "AsrUrl")]
    pub asr_url: String,
    /// `Complete`, `Processing` or `NotExists` (empty when there is no recording).
    #[serde(rename = "AsrStatus")]
    pub asr_status: String,
    /// Copy of the recording in the customer's own COS bucket.
    #[serde(rename = "CustomRecordURL")]
    pub custom_record_url: String,
    /// Remark.
    #[serde(rename = "Remark")]
    pub remark: String,
    /// Name of the skill group the call queued in.
    #[serde(rename = "QueuedSkillGroupName")]
    pub queued_skill_group_name: String,
    /// Voicemail recordings made during the call.
    #[serde(rename = "VoicemailRecordURL")]
    pub voicemail_record_url: Vec<String>,
    /// ASR text URLs of those voicemails. Tencent does not always return it; telcdr always does.
    #[serde(rename = "VoicemailAsrURL")]
    pub voicemail_asr_url: Vec<String>,
    /// AI agent id for AI-agent calls. Tencent does not always return it; telcdr always does.
    #[serde(rename = "AIAgentId")]
    pub ai_agent_id: i64,
    /// AI agent name. Tencent does not always return it; telcdr always does.
    #[serde(rename = "AIAgentName")]
    pub ai_agent_name: String,
    /// Reason code when the system hung up after connect. Tencent does not always return it; telcdr always does.
    #[serde(rename = "SysHangupReason")]
    pub sys_hangup_reason: i64,
    /// Text for `sys_hangup_reason`. Tencent does not always return it; telcdr always does.
    #[serde(rename = "SysHangupReasonString")]
    pub sys_hangup_reason_string: String,
    /// "End status V2 (gray release)"; undocumented values. Tencent does not always return it; telcdr always does.
    #[serde(rename = "EndStatusV2")]
    pub end_status_v2: i64,
}

/// The agent of a call (spec 6.1, "SeatUserInfo").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct SeatUserInfo {
    /// Agent name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Agent email — the agent's identity.
    #[serde(rename = "Mail")]
    pub mail: String,
    /// Employee number.
    #[serde(rename = "StaffNumber")]
    pub staff_number: String,
    /// Agent phone with `0086` prefix.
    #[serde(rename = "Phone")]
    pub phone: String,
    /// Nickname.
    #[serde(rename = "Nick")]
    pub nick: String,
    /// User id (often equals `mail`).
    #[serde(rename = "UserId")]
    pub user_id: String,
    /// Skill groups of the agent.
    #[serde(rename = "SkillGroupNameList")]
    pub skill_group_name_list: Vec<String>,
    /// 1 admin, 2 quality inspector, 3 agent, other = custom role id. Tencent does not always return it; telcdr always does.
    #[serde(rename = "Role")]
    pub role: i64,
    /// Extension, 4–6 digits starting 1–8. Tencent does not always return it; telcdr always does.
    #[serde(rename = "ExtensionNumber")]
    pub extension_number: String,
}

/// One service leg of a call (spec 6.1, "ServeParticipant").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct ServeParticipant {
    /// Agent email.
    #[serde(rename = "Mail")]
    pub mail: String,
    /// Agent phone.
    #[serde(rename = "Phone")]
    pub phone: String,
    /// Ring time of this leg, Unix seconds.
    #[serde(rename = "RingTimestamp")]
    pub ring_timestamp: i64,
    /// Answer time of this leg, Unix seconds (0 if not answered).
    #[serde(rename = "AcceptTimestamp")]
    pub accept_timestamp: i64,
    /// End time of this leg, Unix seconds.
    #[serde(rename = "EndedTimestamp")]
    pub ended_timestamp: i64,
    /// Recording id of this leg.
    #[serde(rename = "RecordId")]
    pub record_id: String,
    /// `staffSeat`, `outboundSeat` or `staffPhoneSeat`.
    #[serde(rename = "Type")]
    pub r#type: String,
    /// Source agent of a transfer.
    #[serde(rename = "TransferFrom")]
    pub transfer_from: String,
    /// Type of the source, same values as `type`.
    #[serde(rename = "TransferFromType")]
    pub transfer_from_type: String,
    /// Target agent of a transfer.
    #[serde(rename = "TransferTo")]
    pub transfer_to: String,
    /// Type of the target, same values as `type`.
    #[serde(rename = "TransferToType")]
    pub transfer_to_type: String,
    /// Skill group id of this leg.
    #[serde(rename = "SkillGroupId")]
    pub skill_group_id: i64,
    /// Skill group name of this leg.
    #[serde(rename = "SkillGroupName")]
    pub skill_group_name: String,
    /// Leg end status, e.g. `ok`, `seatGiveUp`, `seatForward`.
    #[serde(rename = "EndStatusString")]
    pub end_status_string: String,
    /// This leg's recording URL.
    #[serde(rename = "RecordURL")]
    pub record_url: String,
    /// Leg index from 0.
    #[serde(rename = "Sequence")]
    pub sequence: i64,
    /// Leg recording in the customer's COS bucket.
    #[serde(rename = "CustomRecordURL")]
    pub custom_record_url: String,
    /// Leg start, Unix seconds.
    #[serde(rename = "StartTimestamp")]
    pub start_timestamp: i64,
}

/// An IVR key press or keyword (spec 6.1, "IVRKeyPressedElement").
///
/// `Timestamp` is Unix **milliseconds**. The spec calls it "not always
/// returned", but Tencent's own example shows `"Timestamp":0`, so it is always
/// serialised, 0 when unknown.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct IvrKeyPressedElement {
    /// Key pressed or keyword matched.
    #[serde(rename = "Key")]
    pub key: String,
    /// Label bound to the key.
    #[serde(rename = "Label")]
    pub label: String,
    /// Unix milliseconds; 0 when unknown.
    #[serde(rename = "Timestamp")]
    pub timestamp: i64,
    /// IVR node label.
    #[serde(rename = "NodeLabel")]
    pub node_label: String,
    /// Raw user input (speech text).
    #[serde(rename = "OriginalContent")]
    pub original_content: String,
    /// Prompt that was played.
    #[serde(rename = "TTSPrompt")]
    pub tts_prompt: String,
}

/// Tencent's spelling, for code that mirrors the documents.
#[allow(clippy::upper_case_acronyms)]
pub type IVRKeyPressedElement = IvrKeyPressedElement;

impl TelCdrInfo {
    /// The exact JSON bytes served for this record inside `TelCdrList`.
    ///
    /// The store keeps these bytes and splices them into responses, so a page
    /// is assembled without decoding and re-encoding each record.
    pub fn to_body(&self) -> Vec<u8> {
        // A typical record is 1-3 KB: start big enough that the buffer is
        // not regrown (and copied) five times on the import's hot path.
        let mut out = Vec::with_capacity(4096);
        // Serialising plain structs of strings, integers and vectors into a
        // Vec cannot fail (no maps with non-string keys, no I/O).
        serde_json::to_writer(&mut out, self).expect("TelCdrInfo always serialises");
        // Import batches hold tens of thousands of bodies: give back the slack.
        out.shrink_to_fit();
        out
    }
}

/// `Uui` is the one member Tencent declares nullable: read `null` as `""`.
fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    /// Tencent's example object (spec 6.1), `PostIVRKeyPressedEx` filled in
    /// with the "same shape" the spec abbreviates.
    pub(crate) const SPEC_EXAMPLE: &str = r#"{"AcceptTimestamp":1729756307,"AsrStatus":"Complete",
 "AsrUrl":"https://xxxxxx","Callee":"00860200000000","Caller":"0086075500000","CallerLocation":"广东深圳固话",
 "CustomRecordURL":"https://xxxxxxxx.mp3","Direction":0,"Duration":8,"EndStatus":1,"EndStatusString":"ok",
 "EndedTimestamp":1729756315,"HungUpSide":"seat","IVRDuration":15,"IVRKeyPressed":["香蕉"],
 "IVRKeyPressedEx":[{"Key":"香蕉","Label":"香蕉","NodeLabel":"语音识别导航","OriginalContent":"香蕉。","TTSPrompt":"输入您喜欢吃的水果","Timestamp":1729756303211}],
 "PostIVRKeyPressed":[{"Key":"1","Label":"不满意","NodeLabel":"","OriginalContent":"","TTSPrompt":"","Timestamp":0}],
 "PostIVRKeyPressedEx":[{"Key":"1","Label":"不满意","NodeLabel":"","OriginalContent":"","TTSPrompt":"","Timestamp":0}],"ProtectedCallee":"","ProtectedCaller":"",
 "QueuedSkillGroupId":2522,"QueuedSkillGroupName":"test-tel","QueuedTimestamp":1729756306,
 "RecordId":"e9fdbff5-2e35-4480-83f7-81917e723fa5","RecordURL":"https://xxxxxxx.mp3","Remark":"skillGroupId--34588",
 "RingTimestamp":1729756306,"SeatUser":{"Mail":"xxxxxxx@tencent.com","Name":"xiaoming","Nick":"guanjia","Phone":"00861580000000",
 "SkillGroupNameList":["1539","2522","3551"],"StaffNumber":"20012","UserId":"xxxxxxx@tencent.com"},
 "ServeParticipants":[{"AcceptTimestamp":1729756306,"CustomRecordURL":"https://xxxxx.mp3","EndStatusString":"ok","EndedTimestamp":1729756312,
 "Mail":"xxxxxx@tencent.com","Phone":"","RecordId":"96eaa575-be4c-48f1-99b8-9722f2f816ec","RecordURL":"https://xxxxxx.mp3","RingTimestamp":1729756306,
 "Sequence":0,"SkillGroupId":2522,"SkillGroupName":"test-tel","StartTimestamp":1729756306,"TransferFrom":"","TransferFromType":"",
 "TransferTo":"","TransferToType":"","Type":"staffSeat"}],"SessionId":"0955de87-c86d-4457-aac2-bee3d0a0b67a","SkillGroup":"test-tel",
 "SkillGroupId":2522,"StartTimestamp":1729756291,"Time":1729756291,"UUI":"","Uui":"","VoicemailAsrURL":[],"VoicemailRecordURL":[]}"#;

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn spec_example_round_trips_member_for_member() {
        let cdr: TelCdrInfo = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        assert_eq!(cdr.session_id, "0955de87-c86d-4457-aac2-bee3d0a0b67a");
        assert_eq!(cdr.seat_user.mail, "xxxxxxx@tencent.com");
        assert_eq!(cdr.ivr_key_pressed_ex[0].timestamp, 1_729_756_303_211);
        assert_eq!(cdr.ivr_key_pressed_ex[0].tts_prompt, "输入您喜欢吃的水果");
        assert!(cdr.voicemail_asr_url.is_empty());
        assert_eq!(cdr.call_type, 0);

        // Every member of the example comes back with the same value.
        let original: Value = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        let served: Value = serde_json::from_slice(&cdr.to_body()).unwrap();
        for (k, v) in original.as_object().unwrap() {
            if k == "SeatUser" {
                for (sk, sv) in v.as_object().unwrap() {
                    assert_eq!(served[k].get(sk), Some(sv), "member SeatUser.{sk}");
                }
            } else {
                assert_eq!(served.get(k), Some(v), "member {k}");
            }
        }
        // ... and what else is served are the members the abridged example
        // leaves out, each with its empty value.
        let extra: Vec<String> = keys(&served)
            .into_iter()
            .filter(|k| !original.as_object().unwrap().contains_key(k))
            .collect();
        assert_eq!(
            extra,
            [
                "AIAgentId",
                "AIAgentName",
                "CallType",
                "EndStatusV2",
                "SysHangupReason",
                "SysHangupReasonString"
            ]
        );
    }

    #[test]
    fn empty_record_serialises_every_member_never_null() {
        let body = TelCdrInfo::default().to_body();
        let v: Value = serde_json::from_slice(&body).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 44);
        assert!(obj.values().all(|v| !v.is_null()));
        for present in [
            "CallType",
            "VoicemailAsrURL",
            "AIAgentId",
            "AIAgentName",
            "SysHangupReason",
            "SysHangupReasonString",
            "EndStatusV2",
        ] {
            assert!(obj.contains_key(present), "{present}");
        }
        assert_eq!(obj["Uui"], Value::String(String::new()));
        assert_eq!(obj["UUI"], Value::String(String::new()));
        assert_eq!(obj["IVRKeyPressed"], Value::Array(vec![]));
        let seat = obj["SeatUser"].as_object().unwrap();
        assert_eq!(seat.len(), 9);
        assert_eq!(seat["Role"], 0);
        assert_eq!(seat["ExtensionNumber"], "");
    }

    #[test]
    fn sometimes_returned_members_round_trip() {
        let cdr = TelCdrInfo {
            call_type: 2,
            ai_agent_id: 9,
            ai_agent_name: "bot".into(),
            sys_hangup_reason: 3,
            sys_hangup_reason_string: "x".into(),
            end_status_v2: 601,
            voicemail_asr_url: vec!["u".into()],
            seat_user: SeatUserInfo {
                role: 3,
                extension_number: "8001".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let v: Value = serde_json::from_slice(&cdr.to_body()).unwrap();
        assert_eq!(v["CallType"], 2);
        assert_eq!(v["AIAgentId"], 9);
        assert_eq!(v["EndStatusV2"], 601);
        assert_eq!(v["VoicemailAsrURL"][0], "u");
        assert_eq!(v["SeatUser"]["Role"], 3);
        assert_eq!(v["SeatUser"]["ExtensionNumber"], "8001");
        let back: TelCdrInfo = serde_json::from_value(v).unwrap();
        assert_eq!(back, cdr);
    }

    #[test]
    fn null_uui_reads_as_empty() {
        let cdr: TelCdrInfo = serde_json::from_str(r#"{"Uui":null,"SessionId":"a"}"#).unwrap();
        assert_eq!(cdr.uui_deprecated, "");
        assert_eq!(cdr.session_id, "a");
    }
}
