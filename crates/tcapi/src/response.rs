//! The answer envelope (spec 4): everything under one `Response` key, a
//! `RequestId` always, `Error` alone on failure.
//!
//! Bodies are assembled as bytes because an action's output is already JSON
//! (stored record bodies spliced together); re-parsing it here would cost
//! more than the rest of a request.

use crate::{ApiError, Language};

/// The one Content-Type of every answer. Exactly this, without `charset`:
/// the Python SDK detects errors only when the header equals it.
pub const CONTENT_TYPE: &str = "application/json";

/// A fresh RequestId (UUID v4).
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `{"Response":{<output fields>,"RequestId":"..."}}` from the action's JSON
/// object `{...}`.
pub fn success_body(object: &[u8], request_id: &str) -> Vec<u8> {
    let inner = object
        .trim_ascii()
        .strip_prefix(b"{")
        .and_then(|o| o.strip_suffix(b"}"))
        .unwrap_or(b"")
        .trim_ascii();
    let mut out = Vec::with_capacity(inner.len() + request_id.len() + 40);
    out.extend_from_slice(b"{\"Response\":{");
    if !inner.is_empty() {
        out.extend_from_slice(inner);
        out.push(b',');
    }
    out.extend_from_slice(b"\"RequestId\":");
    out.extend_from_slice(json_string(request_id).as_bytes());
    out.extend_from_slice(b"}}");
    out
}

/// `{"Response":{"Error":{"Code":...,"Message":...},"RequestId":...}}`.
pub fn error_body(err: &ApiError, language: Language, request_id: &str) -> Vec<u8> {
    format!(
        "{{\"Response\":{{\"Error\":{{\"Code\":{},\"Message\":{}}},\"RequestId\":{}}}}}",
        json_string(err.code),
        json_string(err.message(language)),
        json_string(request_id)
    )
    .into_bytes()
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn success_wraps_output_and_appends_request_id() {
        let body = success_body(br#"{"TotalCount":2,"TelCdrList":[]}"#, "id-1");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"Response": {"TotalCount": 2, "TelCdrList": [], "RequestId": "id-1"}})
        );
        let empty: Value = serde_json::from_slice(&success_body(b"{}", "id-2")).unwrap();
        assert_eq!(empty, json!({"Response": {"RequestId": "id-2"}}));
    }

    #[test]
    fn error_has_code_message_and_request_id_only() {
        let err = ApiError::signature_failure();
        let v: Value = serde_json::from_slice(&error_body(&err, Language::ZhCn, "r\"q")).unwrap();
        assert_eq!(
            v["Response"]["Error"]["Code"],
            "AuthFailure.SignatureFailure"
        );
        assert_eq!(
            v["Response"]["Error"]["Message"],
            "请求签名验证失败，请检查您的签名计算是否正确。"
        );
        assert_eq!(v["Response"]["RequestId"], "r\"q");
        assert_eq!(v["Response"].as_object().unwrap().len(), 2);
    }

    #[test]
    fn request_ids_are_uuids() {
        let a = new_request_id();
        assert_eq!(a.len(), 36);
        assert_ne!(a, new_request_id());
    }
}
