//! The bodies of CCC's data push (spec 7.4) that are not call records:
//! `action=record` (one leg's recording is ready) and `action=voicemail`.
//! A `cdr` push body is an import line (`parse_record_line`).
//!
//! Validation words its errors for the operator reading the push log:
//! which member, what was expected, what came.

use serde_json::{Map, Value};

use crate::record::MAX_SESSION_ID_CHARS;

/// `action=record`: a leg's recording, to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPush {
    pub sdk_app_id: i64,
    pub session_id: String,
    pub record_id: String,
    /// Where CCC keeps the file (a link that expires).
    pub record_url: String,
    /// Customer phone or agent mail of the leg.
    pub endpoint_user: String,
    /// When the recording was made, Unix seconds (0 when absent).
    pub timestamp: i64,
}

/// `action=voicemail`: a voicemail left during a call, to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailPush {
    pub sdk_app_id: i64,
    pub session_id: String,
    pub record_url: String,
    pub endpoint_user: String,
    pub timestamp: i64,
}

/// Reads an `action=record` body.
pub fn parse_record_push(body: &[u8]) -> Result<RecordPush, String> {
    let obj = object(body)?;
    let record_id = required_str(&obj, "RecordId")?;
    if !is_id(&record_id) {
        return Err(format!(
            "RecordId must be 1 to {MAX_SESSION_ID_CHARS} letters, digits, '-' or '_', got {record_id:?}"
        ));
    }
    Ok(RecordPush {
        sdk_app_id: sdk_app_id(&obj)?,
        session_id: session_id(&obj)?,
        record_id,
        record_url: url(&obj)?,
        endpoint_user: loose_str(&obj, "EndpointUser")?,
        timestamp: seconds(&obj, "Timestamp")?,
    })
}

/// Reads an `action=voicemail` body.
pub fn parse_voicemail_push(body: &[u8]) -> Result<VoicemailPush, String> {
    let obj = object(body)?;
    Ok(VoicemailPush {
        sdk_app_id: sdk_app_id(&obj)?,
        session_id: session_id(&obj)?,
        record_url: url(&obj)?,
        endpoint_user: loose_str(&obj, "EndpointUser")?,
        timestamp: seconds(&obj, "Timestamp")?,
    })
}

/// Only the `SdkAppId` of a push body, to pick the app whose push
/// credentials apply before the body is read in full.
pub fn push_sdk_app_id(body: &[u8]) -> Result<i64, String> {
    /// Only `SdkAppId`; serde skips the other members unparsed.
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "SdkAppId")]
        sdk_app_id: Option<Value>,
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    match serde_json::from_slice::<Head>(body) {
        Ok(Head {
            sdk_app_id: Some(v),
        }) => match v.as_i64() {
            Some(id) if id > 0 => Ok(id),
            _ => Err(format!("SdkAppId must be a positive integer, got {v}")),
        },
        // Missing, null, or a body that is not an object: worded in full.
        _ => sdk_app_id(&object(body)?),
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err("the body must be one JSON object".into()),
        Err(e) => Err(format!("the body is not valid JSON: {e}")),
    }
}

fn sdk_app_id(obj: &Map<String, Value>) -> Result<i64, String> {
    match obj.get("SdkAppId") {
        None | Some(Value::Null) => Err("SdkAppId is missing".into()),
        Some(v) => match v.as_i64() {
            Some(id) if id > 0 => Ok(id),
            _ => Err(format!("SdkAppId must be a positive integer, got {v}")),
        },
    }
}

fn session_id(obj: &Map<String, Value>) -> Result<String, String> {
    let id = required_str(obj, "SessionId")?;
    if !is_id(&id) {
        return Err(format!(
            "SessionId must be 1 to {MAX_SESSION_ID_CHARS} letters, digits, '-' or '_', got {id:?}"
        ));
    }
    Ok(id)
}

/// Ids name media files, so they keep to the file-name alphabet.
fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_SESSION_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn required_str(obj: &Map<String, Value>, name: &str) -> Result<String, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Err(format!("{name} is missing")),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("{name} must not be empty")),
        Some(v) => Err(format!("{name} must be a string, got {v}")),
    }
}

fn url(obj: &Map<String, Value>) -> Result<String, String> {
    let url = required_str(obj, "RecordURL")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("RecordURL must be an http(s) URL, got {url:?}"));
    }
    Ok(url)
}

/// A string member that the documents' sample also shows as a bare
/// number (`EndpointUser`): both are taken, absent is "".
fn loose_str(obj: &Map<String, Value>, name: &str) -> Result<String, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(v) => Err(format!("{name} must be a string, got {v}")),
    }
}

fn seconds(obj: &Map<String, Value>, name: &str) -> Result<i64, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => match v.as_i64() {
            Some(t) if t >= 0 => Ok(t),
            _ => Err(format!("{name} must be a non-negative Unix time, got {v}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_push_as_documented() {
        let body = br#"{"SdkAppId":1400000000,"RecordId":"r-1","SessionId":"s-1",
            "Timestamp":1729756315,"EndpointUser":"008613800000000",
            "RecordURL":"https://ccc.example/r-1.mp3","CustomRecordURL":""}"#;
        assert_eq!(
            parse_record_push(body),
            Ok(RecordPush {
                sdk_app_id: 1400000000,
                session_id: "s-1".into(),
                record_id: "r-1".into(),
                record_url: "https://ccc.example/r-1.mp3".into(),
                endpoint_user: "008613800000000".into(),
                timestamp: 1729756315,
            })
        );
        assert_eq!(push_sdk_app_id(body), Ok(1400000000));
    }

    #[test]
    fn voicemail_push_takes_a_numeric_endpoint_user() {
        let body = br#"{"SdkAppId":1,"SessionId":"s","Timestamp":5,"RecordURL":"http://x/v.wav","EndpointUser":13123456789}"#;
        assert_eq!(
            parse_voicemail_push(body).unwrap().endpoint_user,
            "13123456789"
        );
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        let cases: &[(&[u8], &str)] = &[
            (b"[1]", "one JSON object"),
            (b"{", "not valid JSON"),
            (br#"{"RecordId":"r","SessionId":"s","RecordURL":"http://x"}"#, "SdkAppId is missing"),
            (br#"{"SdkAppId":"1","RecordId":"r","SessionId":"s","RecordURL":"http://x"}"#, "SdkAppId must be a positive integer"),
            (br#"{"SdkAppId":1,"SessionId":"s","RecordURL":"http://x"}"#, "RecordId is missing"),
            (br#"{"SdkAppId":1,"RecordId":"../x","SessionId":"s","RecordURL":"http://x"}"#, "RecordId must be"),
            (br#"{"SdkAppId":1,"RecordId":"r","SessionId":"s","RecordURL":"ftp://x"}"#, "http(s) URL"),
            (br#"{"SdkAppId":1,"RecordId":"r","SessionId":"s","RecordURL":"http://x","Timestamp":-1}"#, "non-negative"),
        ];
        for (body, want) in cases {
            let err = parse_record_push(body).unwrap_err();
            assert!(err.contains(want), "{err} lacks {want}");
        }
    }
}
