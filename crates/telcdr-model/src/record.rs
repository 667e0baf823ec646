//! Import lines: one JSON object per line, a `TelCdrInfo` plus `SdkAppId`
//! (design.md, "Records"), or a CCC data-push `cdr` body (spec 7.4).
//!
//! Validation is a pure function from bytes to a record or a reason a person
//! can act on ("Direction must be 0 (inbound) or 1 (outbound), got 7"). It runs
//! in two passes:
//!
//! 1. A type check of every known member against the `schema` table, walking the
//!    JSON tree, so a wrong type is reported with its path
//!    (`ServeParticipants[1].Sequence must be an integer, got string "1"`)
//!    rather than as serde's "invalid type at column 812". Unknown members
//!    (push-only `SkillGroupPriority`, `UserRemark`, `TelLocation`, ...) are
//!    ignored; `null` members are treated as absent.
//! 2. Business rules on the decoded record (ids, times, direction, end status).
//!
//! Besides `SdkAppId`, a line may carry `Events` (spec 6.4, the hold and mute
//! events DescribeSessionDetail returns). They are validated like the other
//! members but kept beside the `TelCdrInfo`, which DescribeTelCdr serves
//! without them.

use serde_json::{Map, Value};

use crate::cdr::TelCdrInfo;
use crate::end_status::{end_status_code, end_status_string};
use crate::session_event::SessionEvent;

/// A validated call record and the application it belongs to; its identity is
/// `(sdk_app_id, cdr.session_id)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRecord {
    /// The CCC application (tenant), a positive integer.
    pub sdk_app_id: i64,
    /// The record, with `EndStatus`/`EndStatusString` completed and `Time`
    /// filled from `StartTimestamp` when the line had none.
    pub cdr: TelCdrInfo,
    /// The line's `Events` (hold, mute, ...) for DescribeSessionDetail; empty
    /// when the line has none. Not part of `cdr`: DescribeTelCdr never
    /// serves them.
    pub events: Vec<SessionEvent>,
}

/// Why a line was rejected. The `Display` text is meant for the person who
/// wrote the file: it names the field and says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The bytes are not JSON at all.
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    /// The JSON is not an object (e.g. an array of records on one line).
    #[error("a record must be one JSON object, got {0}")]
    NotAnObject(&'static str),
    /// A required member is absent (or `null`).
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A known member has the wrong JSON type.
    #[error("{field} must be {expected}, got {got}")]
    WrongType {
        /// Path of the member, e.g. `SeatUser.Mail` or `IVRKeyPressed[2]`.
        field: String,
        /// What is allowed, e.g. "an integer".
        expected: &'static str,
        /// A short rendering of what was found.
        got: String,
    },
    /// `SdkAppId` is zero or negative.
    #[error("SdkAppId must be a positive integer, got {0}")]
    SdkAppIdNotPositive(i64),
    /// `SessionId` is `""`.
    #[error("SessionId must not be empty")]
    SessionIdEmpty,
    /// `SessionId` is longer than [`MAX_SESSION_ID_CHARS`].
    #[error("SessionId must be at most 128 characters, got {0}")]
    SessionIdTooLong(usize),
    /// `Time` is zero or negative.
    #[error("{field} must be a positive Unix time in seconds, got {got}")]
    TimeNotPositive {
        /// `Time` or `StartTimestamp` (when used in its place).
        field: &'static str,
        /// The value found.
        got: i64,
    },
    /// A seconds timestamp is so large it must be milliseconds.
    #[error("{field} must be a Unix time in seconds, got {got} (milliseconds?)")]
    Milliseconds {
        /// Path of the member.
        field: String,
        /// The value found.
        got: i64,
    },
    /// A duration, timestamp or code is negative.
    #[error("{field} must not be negative, got {got}")]
    Negative {
        /// Path of the member.
        field: String,
        /// The value found.
        got: i64,
    },
    /// `Direction` is neither 0 nor 1.
    #[error("Direction must be 0 (inbound) or 1 (outbound), got {0}")]
    Direction(i64),
    /// `EndStatus` and `EndStatusString` disagree with the table.
    #[error("EndStatus {code} ({meaning}) contradicts EndStatusString \"{string}\"")]
    EndStatusContradiction {
        /// The code found.
        code: i64,
        /// The table's string for the code, or "not a documented code".
        meaning: &'static str,
        /// The string found.
        string: String,
    },
}

/// Longest `SessionId` accepted, in characters. Tencent's are 36-character
/// UUIDs; the limit only guards the index against junk.
pub const MAX_SESSION_ID_CHARS: usize = 128;

/// Largest value accepted in a seconds field: 10^11 s is the year 5138, while
/// a current time in milliseconds is about 1.7 × 10^12, so anything above is
/// almost certainly milliseconds.
pub const MAX_SECONDS: i64 = 100_000_000_000;

/// Parse and validate one import line.
///
/// Rules, in the order they are checked:
///
/// * The line is one JSON object. Surrounding whitespace (including the `\r`
///   of CRLF files) and a UTF-8 byte-order mark are ignored.
/// * `SdkAppId` is required, a positive integer.
/// * Every known member has its documented JSON type (unknown members are
///   ignored, `null` counts as absent).
/// * `SessionId` is required, non-empty, at most 128 characters.
/// * `Time` is required, positive, in seconds (over 10^11 is taken for
///   milliseconds and rejected). A push body has no `Time`: a missing or zero
///   `Time` is filled from `StartTimestamp`.
/// * Other timestamps and durations are non-negative; seconds fields are not
///   milliseconds.
/// * `Direction` is 0 or 1; when absent it follows `CallType` (1, 5, 6 are
///   outbound-side calls), else 0.
/// * `EndStatus` / `EndStatusString`: the missing one is filled from the
///   table; a pair that contradicts the table is rejected. A string the table
///   does not know (push-era `unconnected`) is kept with `EndStatus` 0.
/// * `Events`, when present, is an array of SessionEvent objects whose
///   members have their types (`Events[2].Timestamp must be an integer, ...`)
///   and whose `Timestamp` is a non-negative Unix time in seconds. An
///   `EventType` other than the four documented ones is kept as given.
pub fn parse_record_line(line: &[u8]) -> Result<ImportedRecord, RecordError> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    // Checking the whole line's UTF-8 once lets serde read it as text and
    // skip the check it would otherwise make string by string.
    let typed = std::str::from_utf8(line).ok().and_then(parse_typed);
    match typed {
        Some(record) => Ok(record),
        None => parse_checked(line),
    }
}

/// The fast path for the common, well-formed line: straight into the typed
/// struct in one pass (`crate::line`), about three times faster than
/// [`parse_checked`]'s walk over a `Value`. It gives up (`None`) on anything
/// unusual — a wrong type, a null, a missing Time or Direction whose
/// fallback needs to know what was absent, any failed rule — and the checked
/// path then decides and words the error, so both paths accept exactly the
/// same lines with the same result.
fn parse_typed(line: &str) -> Option<ImportedRecord> {
    let (mut cdr, extras) = crate::line::read_line(line)?;
    let sdk_app_id = extras.sdk_app_id?;
    let events = extras.events.unwrap_or_default();
    let ambiguous_direction = cdr.direction == 0 && matches!(cdr.call_type, 1 | 5 | 6);
    if sdk_app_id <= 0
        || cdr.session_id.is_empty()
        || cdr.session_id.chars().count() > MAX_SESSION_ID_CHARS
        || cdr.time <= 0
        || ambiguous_direction
        || (cdr.direction != 0 && cdr.direction != 1)
        || check_seconds(&cdr).is_err()
        || check_events(&events).is_err()
        || fill_end_status(&mut cdr).is_err()
    {
        return None;
    }
    Some(ImportedRecord {
        sdk_app_id,
        cdr,
        events,
    })
}

/// The checked path: every member's type, with the path of the first wrong
/// one in the error, then the record rules.
fn parse_checked(line: &[u8]) -> Result<ImportedRecord, RecordError> {
    let mut value: Value =
        serde_json::from_slice(line).map_err(|e| RecordError::InvalidJson(e.to_string()))?;
    let Value::Object(obj) = &mut value else {
        return Err(RecordError::NotAnObject(json_type(&value)));
    };

    // SdkAppId is not part of TelCdrInfo: take it out before the type check.
    let sdk_app_id = match obj.remove("SdkAppId") {
        None | Some(Value::Null) => return Err(RecordError::Missing("SdkAppId")),
        Some(v) => match v.as_i64() {
            Some(id) if id > 0 => id,
            Some(id) => return Err(RecordError::SdkAppIdNotPositive(id)),
            None => return Err(wrong_type("SdkAppId".into(), "a positive integer", &v)),
        },
    };

    let has = |obj: &Map<String, Value>, k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    let has_time = has(obj, "Time");
    let has_direction = has(obj, "Direction");
    let has_session = has(obj, "SessionId");
    // Events is not part of TelCdrInfo either: checked with its own schema.
    let events = obj.remove("Events");
    check_object(obj, schema::TEL_CDR_INFO, "")?;
    let events: Vec<SessionEvent> = match events {
        None | Some(Value::Null) => Vec::new(),
        Some(mut v) => {
            check_value(&mut v, schema::EVENTS, &|| "Events".to_owned())?;
            serde_json::from_value(v).map_err(|e| RecordError::InvalidJson(e.to_string()))?
        }
    };

    // After the type check every known member has the right type, so this
    // cannot fail for a type reason; map any residue to a readable error.
    let mut cdr: TelCdrInfo =
        serde_json::from_value(value).map_err(|e| RecordError::InvalidJson(e.to_string()))?;

    if !has_session {
        return Err(RecordError::Missing("SessionId"));
    }
    if cdr.session_id.is_empty() {
        return Err(RecordError::SessionIdEmpty);
    }
    let chars = cdr.session_id.chars().count();
    if chars > MAX_SESSION_ID_CHARS {
        return Err(RecordError::SessionIdTooLong(chars));
    }

    // A push `cdr` body has no Time; the session start is the same instant.
    let time_field = if has_time && cdr.time != 0 {
        "Time"
    } else if cdr.start_timestamp != 0 {
        cdr.time = cdr.start_timestamp;
        "StartTimestamp"
    } else if has_time {
        "Time"
    } else {
        return Err(RecordError::Missing("Time"));
    };
    if cdr.time <= 0 {
        return Err(RecordError::TimeNotPositive {
            field: time_field,
            got: cdr.time,
        });
    }
    check_seconds(&cdr)?;
    check_events(&events)?;

    if !has_direction {
        // Older exports lack Direction; CallType, when present, says it.
        cdr.direction = match cdr.call_type {
            1 | 5 | 6 => 1,
            _ => 0,
        };
    }
    if cdr.direction != 0 && cdr.direction != 1 {
        return Err(RecordError::Direction(cdr.direction));
    }

    fill_end_status(&mut cdr)?;
    Ok(ImportedRecord {
        sdk_app_id,
        cdr,
        events,
    })
}

/// One JSON line, `{"SdkAppId":N,...every TelCdrInfo member}`, then
/// `"Events":[...]` when the record has events; no trailing newline.
/// [`parse_record_line`] reads it back to an equal record.
pub fn to_json_line(record: &ImportedRecord) -> String {
    // TelCdrInfo always serialises as a non-empty object, so splice SdkAppId
    // in after its opening brace instead of building a second value. (Going
    // through `to_string` rather than `to_body` avoids re-validating UTF-8.)
    let mut line = serde_json::to_string(&record.cdr).expect("TelCdrInfo always serialises");
    debug_assert!(line.starts_with('{') && line.ends_with('}') && line.len() > 2);
    line.insert_str(1, &format!("\"SdkAppId\":{},", record.sdk_app_id));
    if !record.events.is_empty() {
        line.pop(); // the closing brace
        line.push_str(",\"Events\":");
        line.push_str(
            &serde_json::to_string(&record.events).expect("SessionEvent always serialises"),
        );
        line.push('}');
    }
    line
}

/// Seconds timestamps must be non-negative and not milliseconds; durations
/// non-negative; IVR key timestamps (milliseconds) non-negative.
fn check_seconds(cdr: &TelCdrInfo) -> Result<(), RecordError> {
    let seconds = [
        ("Time", cdr.time),
        ("StartTimestamp", cdr.start_timestamp),
        ("RingTimestamp", cdr.ring_timestamp),
        ("AcceptTimestamp", cdr.accept_timestamp),
        ("EndedTimestamp", cdr.ended_timestamp),
        ("QueuedTimestamp", cdr.queued_timestamp),
    ];
    for (field, got) in seconds {
        seconds_ok(got, || field.to_owned())?;
    }
    for (field, got) in [
        ("Duration", cdr.duration),
        ("IVRDuration", cdr.ivr_duration),
    ] {
        if got < 0 {
            return Err(RecordError::Negative {
                field: field.into(),
                got,
            });
        }
    }
    for (i, p) in cdr.serve_participants.iter().enumerate() {
        let legs = [
            ("StartTimestamp", p.start_timestamp),
            ("RingTimestamp", p.ring_timestamp),
            ("AcceptTimestamp", p.accept_timestamp),
            ("EndedTimestamp", p.ended_timestamp),
        ];
        for (field, got) in legs {
            seconds_ok(got, || format!("ServeParticipants[{i}].{field}"))?;
        }
    }
    let keys = [
        ("IVRKeyPressedEx", &cdr.ivr_key_pressed_ex),
        ("PostIVRKeyPressed", &cdr.post_ivr_key_pressed),
        ("PostIVRKeyPressedEx", &cdr.post_ivr_key_pressed_ex),
    ];
    for (name, list) in keys {
        for (i, k) in list.iter().enumerate() {
            if k.timestamp < 0 {
                return Err(RecordError::Negative {
                    field: format!("{name}[{i}].Timestamp"),
                    got: k.timestamp,
                });
            }
        }
    }
    Ok(())
}

/// Event times are Unix seconds: non-negative and not milliseconds.
fn check_events(events: &[SessionEvent]) -> Result<(), RecordError> {
    for (i, e) in events.iter().enumerate() {
        seconds_ok(e.timestamp, || format!("Events[{i}].Timestamp"))?;
    }
    Ok(())
}

fn seconds_ok(got: i64, path: impl Fn() -> String) -> Result<(), RecordError> {
    if got < 0 {
        Err(RecordError::Negative { field: path(), got })
    } else if got > MAX_SECONDS {
        Err(RecordError::Milliseconds { field: path(), got })
    } else {
        Ok(())
    }
}

/// Complete whichever of EndStatus / EndStatusString is missing, or reject a
/// pair that contradicts the table. 0 and `""` mean "missing".
fn fill_end_status(cdr: &mut TelCdrInfo) -> Result<(), RecordError> {
    let code = cdr.end_status;
    if code < 0 {
        return Err(RecordError::Negative {
            field: "EndStatus".into(),
            got: code,
        });
    }
    match (code, cdr.end_status_string.is_empty()) {
        (0, true) => {}
        (0, false) => {
            // Legacy push strings such as `unconnected` have no code: keep the
            // string, leave EndStatus 0 rather than invent one.
            cdr.end_status = end_status_code(&cdr.end_status_string).unwrap_or(0);
        }
        (_, true) => {
            // An undocumented code stays as it is with an empty string.
            cdr.end_status_string = end_status_string(code).unwrap_or_default().to_owned();
        }
        (_, false) => {
            let by_code = end_status_string(code);
            let by_string = end_status_code(&cdr.end_status_string);
            // Both unknown cannot contradict the table; anything else must agree.
            let agrees = match (by_code, by_string) {
                (None, None) => true,
                (Some(s), _) => s == cdr.end_status_string,
                (None, Some(_)) => false,
            };
            if !agrees {
                return Err(RecordError::EndStatusContradiction {
                    code,
                    meaning: by_code.unwrap_or("not a documented code"),
                    string: cdr.end_status_string.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The JSON types of known members, mirroring the structs in `cdr`.
///
/// Kept beside the structs' serde names by a test that compares the two, so
/// a member added to one and not the other fails the build's tests.
pub(crate) mod schema {
    /// Expected JSON type of a member.
    #[derive(Debug, Clone, Copy)]
    pub enum Kind {
        Str,
        Int,
        StrArray,
        Obj(&'static [(&'static str, Kind)]),
        ObjArray(&'static [(&'static str, Kind)]),
    }
    use Kind::*;

    pub const IVR_KEY: &[(&str, Kind)] = &[
        ("Key", Str),
        ("Label", Str),
        ("Timestamp", Int),
        ("NodeLabel", Str),
        ("OriginalContent", Str),
        ("TTSPrompt", Str),
    ];

    pub const SEAT_USER: &[(&str, Kind)] = &[
        ("Name", Str),
        ("Mail", Str),
        ("StaffNumber", Str),
        ("Phone", Str),
        ("Nick", Str),
        ("UserId", Str),
        ("SkillGroupNameList", StrArray),
        ("Role", Int),
        ("ExtensionNumber", Str),
    ];

    pub const SERVE_PARTICIPANT: &[(&str, Kind)] = &[
        ("Mail", Str),
        ("Phone", Str),
        ("RingTimestamp", Int),
        ("AcceptTimestamp", Int),
        ("EndedTimestamp", Int),
        ("RecordId", Str),
        ("Type", Str),
        ("TransferFrom", Str),
        ("TransferFromType", Str),
        ("TransferTo", Str),
        ("TransferToType", Str),
        ("SkillGroupId", Int),
        ("SkillGroupName", Str),
        ("EndStatusString", Str),
        ("RecordURL", Str),
        ("Sequence", Int),
        ("CustomRecordURL", Str),
        ("StartTimestamp", Int),
    ];

    pub const EVENT_STAFF: &[(&str, Kind)] = &[("Mail", Str), ("StaffNumber", Str)];

    pub const EVENT_STAFF_DETAIL: &[(&str, Kind)] = &[("Staffs", ObjArray(EVENT_STAFF))];

    pub const SESSION_EVENT: &[(&str, Kind)] = &[
        ("Timestamp", Int),
        ("EventType", Str),
        ("StaffEventDetail", Obj(EVENT_STAFF_DETAIL)),
    ];

    /// A line's `Events` member (not part of TelCdrInfo).
    pub const EVENTS: Kind = ObjArray(SESSION_EVENT);

    pub const TEL_CDR_INFO: &[(&str, Kind)] = &[
        ("Caller", Str),
        ("Callee", Str),
        ("Time", Int),
        ("Direction", Int),
        ("CallType", Int),
        ("Duration", Int),
        ("RecordURL", Str),
        ("RecordId", Str),
        ("SeatUser", Obj(SEAT_USER)),
        ("EndStatus", Int),
        ("SkillGroup", Str),
        ("CallerLocation", Str),
        ("IVRDuration", Int),
        ("RingTimestamp", Int),
        ("AcceptTimestamp", Int),
        ("EndedTimestamp", Int),
        ("IVRKeyPressed", StrArray),
        ("IVRKeyPressedEx", ObjArray(IVR_KEY)),
        ("HungUpSide", Str),
        ("ServeParticipants", ObjArray(SERVE_PARTICIPANT)),
        ("SkillGroupId", Int),
        ("EndStatusString", Str),
        ("StartTimestamp", Int),
        ("QueuedTimestamp", Int),
        ("PostIVRKeyPressed", ObjArray(IVR_KEY)),
        ("PostIVRKeyPressedEx", ObjArray(IVR_KEY)),
        ("QueuedSkillGroupId", Int),
        ("SessionId", Str),
        ("ProtectedCaller", Str),
        ("ProtectedCallee", Str),
        ("Uui", Str),
        ("UUI", Str),
        ("AsrUrl", Str),
        ("AsrStatus", Str),
        ("CustomRecordURL", Str),
        ("Remark", Str),
        ("QueuedSkillGroupName", Str),
        ("VoicemailRecordURL", StrArray),
        ("VoicemailAsrURL", StrArray),
        ("AIAgentId", Int),
        ("AIAgentName", Str),
        ("SysHangupReason", Int),
        ("SysHangupReasonString", Str),
        ("EndStatusV2", Int),
    ];
}

/// Type-check the known members of `obj` (recursively), dropping `null`
/// members so that serde's defaults apply to them.
fn check_object(
    obj: &mut Map<String, Value>,
    schema: &[(&str, schema::Kind)],
    prefix: &str,
) -> Result<(), RecordError> {
    obj.retain(|_, v| !v.is_null());
    for &(name, kind) in schema {
        if let Some(v) = obj.get_mut(name) {
            check_value(v, kind, &|| format!("{prefix}{name}"))?;
        }
    }
    Ok(())
}

fn check_value(
    v: &mut Value,
    kind: schema::Kind,
    path: &dyn Fn() -> String,
) -> Result<(), RecordError> {
    use schema::Kind;
    match kind {
        Kind::Str if v.is_string() => Ok(()),
        Kind::Str => Err(wrong_type(path(), "a string", v)),
        Kind::Int if v.as_i64().is_some() => Ok(()),
        Kind::Int => Err(wrong_type(path(), "an integer", v)),
        Kind::StrArray => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_string() {
                        return Err(wrong_type(format!("{}[{i}]", path()), "a string", item));
                    }
                }
                Ok(())
            }
            _ => Err(wrong_type(path(), "an array of strings", v)),
        },
        Kind::Obj(fields) => match v {
            Value::Object(inner) => check_object(inner, fields, &format!("{}.", path())),
            _ => Err(wrong_type(path(), "an object", v)),
        },
        Kind::ObjArray(fields) => match v {
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    match item {
                        Value::Object(inner) => {
                            check_object(inner, fields, &format!("{}[{i}].", path()))?;
                        }
                        other => {
                            return Err(wrong_type(format!("{}[{i}]", path()), "an object", other));
                        }
                    }
                }
                Ok(())
            }
            _ => Err(wrong_type(path(), "an array of objects", v)),
        },
    }
}

fn wrong_type(field: String, expected: &'static str, got: &Value) -> RecordError {
    RecordError::WrongType {
        field,
        expected,
        got: describe(got),
    }
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// "string \"1\"", "number 1.5", "an object" — short enough for a log line.
pub(crate) fn describe(v: &Value) -> String {
    const MAX: usize = 40;
    let shown = match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => v.to_string(),
        _ => return json_type(v).to_owned(),
    };
    let shown = if shown.chars().count() > MAX {
        let cut: String = shown.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        shown
    };
    let kind = match v {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        _ => "boolean",
    };
    format!("{kind} {shown}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdr::{IvrKeyPressedElement, SeatUserInfo, ServeParticipant};
    use crate::session_event::{EventStaffDetail, EventStaffElement};

    fn err(line: &str) -> String {
        parse_record_line(line.as_bytes()).unwrap_err().to_string()
    }

    fn ok(line: &str) -> ImportedRecord {
        parse_record_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    const MIN: &str = r#""SdkAppId":1400000000,"SessionId":"s-1","Time":1729756291"#;

    #[test]
    fn minimal_line() {
        let r = ok(&format!("{{{MIN}}}"));
        assert_eq!(r.sdk_app_id, 1_400_000_000);
        assert_eq!(r.cdr.session_id, "s-1");
        assert_eq!(r.cdr.time, 1_729_756_291);
        assert_eq!(r.cdr.direction, 0);
        assert_eq!(r.cdr.end_status, 0);
        assert_eq!(r.cdr.end_status_string, "");
    }

    #[test]
    fn spec_example_with_sdk_app_id() {
        let example = crate::cdr::tests::SPEC_EXAMPLE.replace('\n', "");
        let line = format!("{{\"SdkAppId\":1400000000,{}", &example[1..]);
        let r = ok(&line);
        let direct: TelCdrInfo = serde_json::from_str(&example).unwrap();
        assert_eq!(r.cdr, direct);
        assert_eq!(r.cdr.caller_location, "广东深圳固话");
        assert_eq!(r.cdr.serve_participants[0].r#type, "staffSeat");
        // And it round-trips through the line format.
        assert_eq!(ok(&to_json_line(&r)), r);
    }

    #[test]
    fn invalid_json_and_non_objects() {
        assert!(err("{\"SdkAppId\":1,").starts_with("not valid JSON: "));
        assert!(err("").starts_with("not valid JSON: "));
        assert_eq!(
            err("[{}]"),
            "a record must be one JSON object, got an array"
        );
        // CRLF and surrounding blanks are fine.
        ok(&format!("  {{{MIN}}}\r\n"));
    }

    #[test]
    fn sdk_app_id_rules() {
        let rest = r#""SessionId":"s","Time":1729756291"#;
        assert_eq!(err(&format!("{{{rest}}}")), "SdkAppId is missing");
        assert_eq!(
            err(&format!("{{\"SdkAppId\":null,{rest}}}")),
            "SdkAppId is missing"
        );
        assert_eq!(
            err(&format!("{{\"SdkAppId\":0,{rest}}}")),
            "SdkAppId must be a positive integer, got 0"
        );
        assert_eq!(
            err(&format!("{{\"SdkAppId\":-5,{rest}}}")),
            "SdkAppId must be a positive integer, got -5"
        );
        assert_eq!(
            err(&format!("{{\"SdkAppId\":\"1400000000\",{rest}}}")),
            "SdkAppId must be a positive integer, got string \"1400000000\""
        );
        assert_eq!(
            err(&format!("{{\"SdkAppId\":1.5,{rest}}}")),
            "SdkAppId must be a positive integer, got number 1.5"
        );
    }

    #[test]
    fn session_id_rules() {
        let head = r#""SdkAppId":1,"Time":1729756291"#;
        assert_eq!(err(&format!("{{{head}}}")), "SessionId is missing");
        assert_eq!(
            err(&format!("{{{head},\"SessionId\":\"\"}}")),
            "SessionId must not be empty"
        );
        let long = "x".repeat(129);
        assert_eq!(
            err(&format!("{{{head},\"SessionId\":\"{long}\"}}")),
            "SessionId must be at most 128 characters, got 129"
        );
        let edge = "é".repeat(128);
        ok(&format!("{{{head},\"SessionId\":\"{edge}\"}}"));
    }

    #[test]
    fn time_rules() {
        let head = r#""SdkAppId":1,"SessionId":"s""#;
        assert_eq!(err(&format!("{{{head}}}")), "Time is missing");
        assert_eq!(
            err(&format!("{{{head},\"Time\":1729756291000}}")),
            "Time must be a Unix time in seconds, got 1729756291000 (milliseconds?)"
        );
        assert_eq!(
            err(&format!("{{{head},\"Time\":-1}}")),
            "Time must be a positive Unix time in seconds, got -1"
        );
        assert_eq!(
            err(&format!("{{{head},\"Time\":0}}")),
            "Time must be a positive Unix time in seconds, got 0"
        );
        assert_eq!(
            err(&format!("{{{head},\"Time\":\"1729756291\"}}")),
            "Time must be an integer, got string \"1729756291\""
        );
        // StartTimestamp stands in for a missing (or zero) Time.
        let r = ok(&format!("{{{head},\"StartTimestamp\":1729756291}}"));
        assert_eq!(r.cdr.time, 1_729_756_291);
        let r = ok(&format!("{{{head},\"Time\":0,\"StartTimestamp\":17}}"));
        assert_eq!(r.cdr.time, 17);
        assert_eq!(
            err(&format!("{{{head},\"StartTimestamp\":1729756291000}}")),
            "Time must be a Unix time in seconds, got 1729756291000 (milliseconds?)"
        );
        assert_eq!(
            err(&format!("{{{head},\"StartTimestamp\":-3}}")),
            "StartTimestamp must be a positive Unix time in seconds, got -3"
        );
    }

    #[test]
    fn other_timestamps_and_durations() {
        assert_eq!(
            err(&format!("{{{MIN},\"Duration\":-1}}")),
            "Duration must not be negative, got -1"
        );
        assert_eq!(
            err(&format!("{{{MIN},\"IVRDuration\":-2}}")),
            "IVRDuration must not be negative, got -2"
        );
        assert_eq!(
            err(&format!("{{{MIN},\"EndedTimestamp\":-2}}")),
            "EndedTimestamp must not be negative, got -2"
        );
        assert_eq!(
            err(&format!("{{{MIN},\"AcceptTimestamp\":1729756307000}}")),
            "AcceptTimestamp must be a Unix time in seconds, got 1729756307000 (milliseconds?)"
        );
        assert_eq!(
            err(&format!(
                "{{{MIN},\"ServeParticipants\":[{{}},{{\"RingTimestamp\":-1}}]}}"
            )),
            "ServeParticipants[1].RingTimestamp must not be negative, got -1"
        );
        assert_eq!(
            err(&format!(
                "{{{MIN},\"IVRKeyPressedEx\":[{{\"Key\":\"1\",\"Timestamp\":-1}}]}}"
            )),
            "IVRKeyPressedEx[0].Timestamp must not be negative, got -1"
        );
        // Key timestamps are milliseconds: a large one is fine.
        ok(&format!(
            "{{{MIN},\"IVRKeyPressedEx\":[{{\"Key\":\"1\",\"Timestamp\":1729756303211}}]}}"
        ));
    }

    #[test]
    fn direction_rules() {
        assert_eq!(
            err(&format!("{{{MIN},\"Direction\":7}}")),
            "Direction must be 0 (inbound) or 1 (outbound), got 7"
        );
        assert_eq!(
            err(&format!("{{{MIN},\"Direction\":-1}}")),
            "Direction must be 0 (inbound) or 1 (outbound), got -1"
        );
        assert_eq!(ok(&format!("{{{MIN},\"Direction\":1}}")).cdr.direction, 1);
        // Without Direction, CallType decides; without either, inbound.
        assert_eq!(ok(&format!("{{{MIN},\"CallType\":6}}")).cdr.direction, 1);
        assert_eq!(ok(&format!("{{{MIN},\"CallType\":2}}")).cdr.direction, 0);
    }

    #[test]
    fn end_status_rules() {
        let r = ok(&format!("{{{MIN},\"EndStatus\":206}}"));
        assert_eq!(r.cdr.end_status_string, "busy");
        let r = ok(&format!("{{{MIN},\"EndStatusString\":\"busy\"}}"));
        assert_eq!(r.cdr.end_status, 206);
        let r = ok(&format!(
            "{{{MIN},\"EndStatus\":1,\"EndStatusString\":\"ok\"}}"
        ));
        assert_eq!(
            (r.cdr.end_status, r.cdr.end_status_string.as_str()),
            (1, "ok")
        );
        assert_eq!(
            err(&format!(
                "{{{MIN},\"EndStatus\":1,\"EndStatusString\":\"busy\"}}"
            )),
            "EndStatus 1 (ok) contradicts EndStatusString \"busy\""
        );
        assert_eq!(
            err(&format!(
                "{{{MIN},\"EndStatus\":999,\"EndStatusString\":\"busy\"}}"
            )),
            "EndStatus 999 (not a documented code) contradicts EndStatusString \"busy\""
        );
        assert_eq!(
            err(&format!("{{{MIN},\"EndStatus\":-1}}")),
            "EndStatus must not be negative, got -1"
        );
        // Legacy push strings are kept with EndStatus 0.
        let r = ok(&format!("{{{MIN},\"EndStatusString\":\"unconnected\"}}"));
        assert_eq!(
            (r.cdr.end_status, r.cdr.end_status_string.as_str()),
            (0, "unconnected")
        );
        // An undocumented code is kept with an empty string.
        let r = ok(&format!("{{{MIN},\"EndStatus\":601}}"));
        assert_eq!(
            (r.cdr.end_status, r.cdr.end_status_string.as_str()),
            (601, "")
        );
        // Both undocumented: nothing to contradict.
        ok(&format!(
            "{{{MIN},\"EndStatus\":601,\"EndStatusString\":\"new\"}}"
        ));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let cases = [
            (
                r#""Caller":8613012345678"#,
                "Caller must be a string, got number 8613012345678",
            ),
            (
                r#""Duration":"8""#,
                "Duration must be an integer, got string \"8\"",
            ),
            (
                r#""Duration":8.5"#,
                "Duration must be an integer, got number 8.5",
            ),
            (
                r#""SeatUser":"bob""#,
                "SeatUser must be an object, got string \"bob\"",
            ),
            (
                r#""SeatUser":{"Mail":5}"#,
                "SeatUser.Mail must be a string, got number 5",
            ),
            (
                r#""SeatUser":{"SkillGroupNameList":["a",2]}"#,
                "SeatUser.SkillGroupNameList[1] must be a string, got number 2",
            ),
            (
                r#""IVRKeyPressed":"1""#,
                "IVRKeyPressed must be an array of strings, got string \"1\"",
            ),
            (
                r#""ServeParticipants":[{"Sequence":"1"}]"#,
                "ServeParticipants[0].Sequence must be an integer, got string \"1\"",
            ),
            (
                r#""ServeParticipants":[5]"#,
                "ServeParticipants[0] must be an object, got number 5",
            ),
            (
                r#""PostIVRKeyPressedEx":[{"Key":true}]"#,
                "PostIVRKeyPressedEx[0].Key must be a string, got boolean true",
            ),
            (
                r#""CallType":true"#,
                "CallType must be an integer, got boolean true",
            ),
            (r#""Remark":[]"#, "Remark must be a string, got an array"),
            // Arrays are not objects, not even empty ones (serde's derived
            // impls would read them as structs on the fast path).
            (
                r#""SeatUser":[]"#,
                "SeatUser must be an object, got an array",
            ),
            (
                r#""ServeParticipants":[[]]"#,
                "ServeParticipants[0] must be an object, got an array",
            ),
            (
                r#""IVRKeyPressedEx":[["1","sales"]]"#,
                "IVRKeyPressedEx[0] must be an object, got an array",
            ),
        ];
        for (member, want) in cases {
            assert_eq!(err(&format!("{{{MIN},{member}}}")), want);
        }
        let long = format!("\"{}\"", "y".repeat(100));
        let e = err(&format!("{{{MIN},\"Duration\":{long}}}"));
        assert!(e.ends_with("...") && e.len() < 100, "{e}");
    }

    #[test]
    fn nulls_are_absent_and_unknown_members_ignored() {
        let r = ok(&format!(
            "{{{MIN},\"Uui\":null,\"Remark\":null,\"SeatUser\":{{\"Mail\":null,\"Role\":null}},\"Whatever\":[1,{{}}]}}"
        ));
        assert_eq!(r.cdr.uui_deprecated, "");
        assert_eq!(r.cdr.seat_user.role, 0);
    }

    /// A CCC data-push `cdr` body (spec 7.4), with the push-only members.
    #[test]
    fn push_cdr_body() {
        let push = r#"{"SdkAppId":1400000000,"SessionId":"a0b1c2d3-0000-4000-8000-000000000001",
            "Caller":"008613800138000","Callee":"008675586013388","Direction":0,"CallType":2,"Duration":42,
            "SeatUser":{"Mail":"bob@example.com","Name":"Bob","Nick":"bob","Phone":"008613900139000",
              "UserId":"bob@example.com","StaffNumber":"1001","SkillGroupNameList":["sales"]},
            "CallerLocation":"广东深圳","IVRDuration":5,"RingTimestamp":1729756300,"AcceptTimestamp":1729756303,
            "EndedTimestamp":1729756345,"StartTimestamp":1729756291,"IVRKeyPressed":["1"],
            "IVRKeyPressedEx":[{"Key":"1","Label":"sales","Timestamp":1729756293000}],"HungUpSide":"user",
            "ServeParticipants":[{"Sequence":0,"Mail":"bob@example.com","Phone":"","StartTimestamp":1729756299,
              "RingTimestamp":1729756300,"AcceptTimestamp":1729756303,"EndedTimestamp":1729756345,
              "Type":"staffSeat","RecordId":"r1","TransferFrom":"","TransferTo":"","TransferToType":"",
              "SkillGroupId":7,"SkillGroupName":"sales","SkillGroupPriority":1,"EndStatusString":"ok"}],
            "EndStatusString":"ok","QueuedTimestamp":1729756296,"PostIVRKeyPressed":[],
            "QueuedSkillGroupName":"sales","QueuedSkillGroupId":7,"RecordId":"r0",
            "UserRemark":"vip","TelLocation":{"TelNumber":"13800138000","Country":"中国","Province":"广东",
              "City":"深圳","Operator":"移动"},"Uui":null}"#
            .replace('\n', "");
        let r = ok(&push);
        assert_eq!(r.cdr.time, 1_729_756_291);
        assert_eq!(r.cdr.end_status, 1);
        assert_eq!(r.cdr.call_type, 2);
        assert_eq!(r.cdr.serve_participants[0].skill_group_id, 7);
        // What we store re-reads identically.
        assert_eq!(ok(&to_json_line(&r)), r);
    }

    #[test]
    fn json_line_shape() {
        let r = ImportedRecord {
            sdk_app_id: 7,
            cdr: TelCdrInfo {
                session_id: "s".into(),
                time: 5,
                ..Default::default()
            },
            events: Vec::new(),
        };
        let line = to_json_line(&r);
        assert!(
            line.starts_with("{\"SdkAppId\":7,\"Caller\":\"\","),
            "{line}"
        );
        assert!(!line.contains('\n'));
        assert_eq!(ok(&line), r);
    }

    const EVENTS: &str = r#""Events":[{"Timestamp":1729756310,"EventType":"StaffHold","StaffEventDetail":{"Staffs":[{"Mail":"bob@example.com","StaffNumber":"1001"}]}},{"Timestamp":1729756330,"EventType":"StaffUnhold","StaffEventDetail":{"Staffs":[{"Mail":"bob@example.com","StaffNumber":"1001"}]}}]"#;

    #[test]
    fn events_are_kept_beside_the_cdr() {
        let r = ok(&format!("{{{MIN},{EVENTS}}}"));
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.events[0].timestamp, 1_729_756_310);
        assert_eq!(r.events[0].event_type, "StaffHold");
        assert_eq!(
            r.events[1].staff_event_detail.staffs[0],
            EventStaffElement {
                mail: "bob@example.com".into(),
                staff_number: "1001".into(),
            }
        );
        // Not served by DescribeTelCdr.
        assert!(
            !String::from_utf8(r.cdr.to_body())
                .unwrap()
                .contains("Events")
        );
        // The line format carries them, after the TelCdrInfo members.
        let line = to_json_line(&r);
        assert!(line.ends_with(&format!(",{EVENTS}}}")), "{line}");
        assert_eq!(ok(&line), r);
        // Both paths agree (the line above is on the fast path).
        assert_eq!(parse_typed(&line), Some(r.clone()));
        assert_eq!(parse_checked(line.as_bytes()), Ok(r));
    }

    #[test]
    fn events_absent_null_or_empty() {
        for line in [
            format!("{{{MIN}}}"),
            format!("{{{MIN},\"Events\":null}}"),
            format!("{{{MIN},\"Events\":[]}}"),
        ] {
            let r = ok(&line);
            assert!(r.events.is_empty());
            // No events: the line has no Events member.
            assert!(!to_json_line(&r).contains("Events"));
        }
    }

    #[test]
    fn events_members_default_and_unknown_types_are_kept() {
        let r = ok(&format!(
            "{{{MIN},\"Events\":[{{\"EventType\":\"StaffTransfer\",\"Extra\":1}},{{\"Timestamp\":null,\"StaffEventDetail\":{{\"Staffs\":null}}}},{{}}]}}"
        ));
        assert_eq!(r.events.len(), 3);
        assert_eq!(r.events[0].event_type, "StaffTransfer");
        assert_eq!(r.events[1], SessionEvent::default());
        assert_eq!(r.events[2], SessionEvent::default());
        assert_eq!(ok(&to_json_line(&r)), r);
    }

    #[test]
    fn events_wrong_types_name_the_member() {
        let cases = [
            (
                r#""Events":{}"#,
                "Events must be an array of objects, got an object",
            ),
            (
                r#""Events":"StaffHold""#,
                "Events must be an array of objects, got string \"StaffHold\"",
            ),
            (
                r#""Events":[1]"#,
                "Events[0] must be an object, got number 1",
            ),
            (
                r#""Events":[[]]"#,
                "Events[0] must be an object, got an array",
            ),
            (
                r#""Events":[{},{"Timestamp":"1729756310"}]"#,
                "Events[1].Timestamp must be an integer, got string \"1729756310\"",
            ),
            (
                r#""Events":[{"Timestamp":1.5}]"#,
                "Events[0].Timestamp must be an integer, got number 1.5",
            ),
            (
                r#""Events":[{"EventType":3}]"#,
                "Events[0].EventType must be a string, got number 3",
            ),
            (
                r#""Events":[{"StaffEventDetail":[]}]"#,
                "Events[0].StaffEventDetail must be an object, got an array",
            ),
            (
                r#""Events":[{"StaffEventDetail":{"Staffs":{}}}]"#,
                "Events[0].StaffEventDetail.Staffs must be an array of objects, got an object",
            ),
            (
                r#""Events":[{"StaffEventDetail":{"Staffs":[{"Mail":"a"},{"StaffNumber":1001}]}}]"#,
                "Events[0].StaffEventDetail.Staffs[1].StaffNumber must be a string, got number 1001",
            ),
            (
                r#""Events":[{"Timestamp":-1}]"#,
                "Events[0].Timestamp must not be negative, got -1",
            ),
            (
                r#""Events":[{"Timestamp":1729756310000}]"#,
                "Events[0].Timestamp must be a Unix time in seconds, got 1729756310000 (milliseconds?)",
            ),
        ];
        for (member, want) in cases {
            assert_eq!(err(&format!("{{{MIN},{member}}}")), want, "{member}");
        }
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let line = format!("\u{feff}{{{MIN}}}");
        assert_eq!(ok(&line).cdr.session_id, "s-1");
    }

    proptest::proptest! {
        /// Any bytes give a record or a reason, never a panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_record_line(&bytes);
        }

        /// Arbitrary text in string members survives the line format
        /// (escaping of quotes, control characters, non-BMP characters).
        #[test]
        fn arbitrary_strings_round_trip(
            session in "\\PC{1,40}",
            caller in "\\PC*",
            remark in ".*",
            name in "\\PC*",
            keys in proptest::collection::vec(".*", 0..4),
            time in 1i64..=MAX_SECONDS,
            sdk_app_id in 1i64..=i64::MAX,
            direction in 0i64..=1,
            status in proptest::sample::select(crate::end_status::END_STATUS_TABLE),
            events in proptest::collection::vec(
                (
                    0i64..=MAX_SECONDS,
                    "\\PC*",
                    proptest::collection::vec(("\\PC*", "\\PC*"), 0..3),
                ),
                0..3,
            ),
        ) {
            let r = ImportedRecord {
                sdk_app_id,
                cdr: TelCdrInfo {
                    session_id: session,
                    caller,
                    remark,
                    time,
                    direction,
                    end_status: status.0,
                    end_status_string: status.1.to_owned(),
                    ivr_key_pressed: keys,
                    seat_user: SeatUserInfo { name, ..Default::default() },
                    ..Default::default()
                },
                events: events
                    .into_iter()
                    .map(|(timestamp, event_type, staffs)| SessionEvent {
                        timestamp,
                        event_type,
                        staff_event_detail: EventStaffDetail {
                            staffs: staffs
                                .into_iter()
                                .map(|(mail, staff_number)| EventStaffElement { mail, staff_number })
                                .collect(),
                        },
                    })
                    .collect(),
            };
            let line = to_json_line(&r);
            proptest::prop_assert!(!line.contains('\n'));
            proptest::prop_assert_eq!(parse_record_line(line.as_bytes()), Ok(r));
        }
    }

    /// The schema and the structs' serde names must list the same members.
    #[test]
    fn schema_matches_structs() {
        fn names(schema: &[(&str, schema::Kind)]) -> Vec<String> {
            let mut v: Vec<String> = schema.iter().map(|(n, _)| (*n).to_owned()).collect();
            v.sort();
            v
        }
        fn keys<T: serde::Serialize>(t: &T) -> Vec<String> {
            let v = serde_json::to_value(t).unwrap();
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        }
        let full = TelCdrInfo {
            call_type: 1,
            voicemail_asr_url: vec![],
            ai_agent_id: 1,
            ai_agent_name: String::new(),
            sys_hangup_reason: 1,
            sys_hangup_reason_string: String::new(),
            end_status_v2: 1,
            ..Default::default()
        };
        assert_eq!(keys(&full), names(schema::TEL_CDR_INFO));
        let seat = SeatUserInfo {
            role: 1,
            extension_number: String::new(),
            ..Default::default()
        };
        assert_eq!(keys(&seat), names(schema::SEAT_USER));
        assert_eq!(
            keys(&ServeParticipant::default()),
            names(schema::SERVE_PARTICIPANT)
        );
        assert_eq!(
            keys(&IvrKeyPressedElement::default()),
            names(schema::IVR_KEY)
        );
        assert_eq!(keys(&SessionEvent::default()), names(schema::SESSION_EVENT));
        assert_eq!(
            keys(&EventStaffDetail::default()),
            names(schema::EVENT_STAFF_DETAIL)
        );
        assert_eq!(
            keys(&EventStaffElement::default()),
            names(schema::EVENT_STAFF)
        );
    }

    /// Mutations that push a line off the fast path, or keep it on.
    fn mutate(line: &str, which: u8) -> String {
        // Spellings the one-pass reader must see through or refuse.
        match which % 22 {
            19 => {
                return line
                    .replacen("\"SdkAppId\"", "\"Sdk\\u0041ppId\"", 1)
                    .replacen("\"Caller\"", "\"Call\\u0065r\"", 1);
            }
            20 => return line.replacen('{', "{\"SdkAppId\":7,", 1),
            21 => return line.replacen('{', "{\"Events\":[],\"Events\":null,", 1),
            _ => {}
        }
        let mut v: Value = serde_json::from_str(line).unwrap();
        let o = v.as_object_mut().unwrap();
        match which % 22 {
            0 => {}
            1 => drop(o.remove("Time")),
            2 => drop(o.remove("Direction")),
            3 => drop(o.insert("Direction".into(), Value::from(0))),
            4 => drop(o.insert("CallType".into(), Value::from(1))),
            5 => drop(o.insert("Caller".into(), Value::Null)),
            6 => drop(o.insert("Duration".into(), Value::from(1.5))),
            7 => drop(o.remove("EndStatus")),
            8 => drop(o.insert("EndStatusString".into(), Value::from("busy"))),
            9 => drop(o.insert("Time".into(), Value::from(0))),
            10 => drop(o.insert("SdkAppId".into(), Value::from("1400000000"))),
            11 => drop(o.remove("SessionId")),
            12 => drop(o.insert("Events".into(), Value::Null)),
            13 => drop(o.insert(
                "Events".into(),
                serde_json::json!([{"Timestamp": 1_729_756_310, "EventType": "StaffMute",
                    "StaffEventDetail": {"Staffs": [{"Mail": "a@b.c", "StaffNumber": "7"}]}}]),
            )),
            14 => drop(o.insert(
                "Events".into(),
                serde_json::json!([{"Timestamp": null, "StaffEventDetail": {"Staffs": null}}]),
            )),
            15 => drop(o.insert("Events".into(), serde_json::json!([{"Timestamp": -5}]))),
            16 => drop(o.insert(
                "Events".into(),
                serde_json::json!([[], {"StaffEventDetail": []}]),
            )),
            17 => drop(o.insert("SeatUser".into(), serde_json::json!([]))),
            _ => drop(o.insert("Events".into(), serde_json::json!([{"EventType": 1}]))),
        }
        serde_json::to_string(&v).unwrap()
    }

    proptest::proptest! {
        /// The fast path never disagrees with the checked one: when it
        /// answers, the checked path gives the same record.
        #[test]
        fn fast_path_agrees_with_checked_path(seed in 0u64..1000, which in 0u8..44, index in 0usize..20) {
            let record = crate::generate(&crate::GenerateOptions {
                count: 20, sdk_app_id: 1_400_000_000, days: 3, seed, until: 1_795_000_000,
            })
            .nth(index)
            .unwrap();
            let line = mutate(&to_json_line(&record), which);
            let checked = parse_checked(line.as_bytes());
            if let Some(fast) = parse_typed(&line) {
                proptest::prop_assert_eq!(Ok(fast), checked.map_err(|e| e.to_string()));
            }
            proptest::prop_assert_eq!(
                parse_record_line(line.as_bytes()).map_err(|e| e.to_string()),
                parse_checked(line.as_bytes()).map_err(|e| e.to_string())
            );
        }
    }
}
