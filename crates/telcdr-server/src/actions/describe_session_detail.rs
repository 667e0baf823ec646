//! DescribeSessionDetail: one finished call in detail (spec 6.4), with the
//! traps of 6.9: the input says `StartTimestamp`, the output
//! `StartTimeStamp`; `AsrURL` not `AsrUrl`; `IVRKeyPressed` and
//! `PostIVRKeyPressed` are arrays of key-press objects here. `Events` are
//! those the imported record carried.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tcapi::{Field, Ty};

use super::records::{int_of, presented_record, str_of, value_of};
use super::window::{WindowNames, check_window};
use super::{ActionContext, ActionDef, ActionError, typed};

#[rustfmt::skip]
const FIELDS: &[Field] = &[
    Field { name: "SdkAppId", ty: Ty::Int, required: true },
    Field { name: "SessionId", ty: Ty::Str, required: true },
    Field { name: "StartTimestamp", ty: Ty::Int, required: true },
    Field { name: "EndTimestamp", ty: Ty::Int, required: true },
];

pub(crate) const ACTION: ActionDef = ActionDef {
    name: "DescribeSessionDetail",
    fields: FIELDS,
    run,
};

const TIMESTAMP: WindowNames = WindowNames {
    start: "StartTimestamp",
    end: "EndTimestamp",
};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    sdk_app_id: i64,
    session_id: String,
    start_timestamp: i64,
    end_timestamp: i64,
}

fn run(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    let req: Request = typed(params)?;
    check_window(
        req.start_timestamp,
        req.end_timestamp,
        ctx.now,
        ctx.query_limits,
        &TIMESTAMP,
    )?;
    let view = ctx.app(req.sdk_app_id)?;
    let protect = view.settings.number_protection;
    let not_found = || ActionError::SessionNotExists {
        session_id: req.session_id.clone(),
    };
    let found = presented_record(ctx, req.sdk_app_id, &view, protect, &req.session_id)?
        .ok_or_else(not_found)?;
    if !(req.start_timestamp..=req.end_timestamp).contains(&found.time) {
        return Err(not_found());
    }
    let r = &found.record;
    let seat = r.get("SeatUser").and_then(Value::as_object);
    let staff = seat
        .map(|s| {
            let user_id = str_of(s, "UserId");
            if user_id.is_empty() {
                str_of(s, "Mail")
            } else {
                user_id
            }
        })
        .unwrap_or_default();
    let list = || Value::Array(Vec::new());
    let detail = json!({
        "Caller": str_of(r, "Caller"),
        "Callee": str_of(r, "Callee"),
        "CallType": int_of(r, "CallType"),
        "StartTimeStamp": int_of(r, "StartTimestamp"),
        "RingTimestamp": int_of(r, "RingTimestamp"),
        "AcceptTimestamp": int_of(r, "AcceptTimestamp"),
        "EndedTimestamp": int_of(r, "EndedTimestamp"),
        "QueuedTimestamp": int_of(r, "QueuedTimestamp"),
        "StaffUserId": staff,
        "EndStatus": int_of(r, "EndStatus"),
        "QueuedSkillGroupId": int_of(r, "QueuedSkillGroupId"),
        "QueuedSkillGroupName": str_of(r, "QueuedSkillGroupName"),
        "RecordURL": str_of(r, "RecordURL"),
        "CustomRecordURL": str_of(r, "CustomRecordURL"),
        "AsrURL": str_of(r, "AsrUrl"),
        "VoicemailRecordURL": value_of(r, "VoicemailRecordURL", list()),
        "VoicemailAsrURL": value_of(r, "VoicemailAsrURL", list()),
        "IVRKeyPressed": value_of(r, "IVRKeyPressedEx", list()),
        "PostIVRKeyPressed": value_of(r, "PostIVRKeyPressedEx", list()),
        "HungUpSide": str_of(r, "HungUpSide"),
        "UUI": str_of(r, "UUI"),
        "Events": found.events,
        "ServeParticipants": value_of(r, "ServeParticipants", list()),
        "SysHangupReason": int_of(r, "SysHangupReason"),
        "SysHangupReasonString": str_of(r, "SysHangupReasonString"),
        "EndStatusV2": int_of(r, "EndStatusV2"),
    });
    serde_json::to_vec(&detail).map_err(|e| ActionError::Internal(e.to_string()))
}
