//! [`ApiError`]: a Tencent error code with its message in both languages.
//!
//! Every message says what was wrong and what is allowed, so a developer
//! reading an SDK exception knows what to change without reading our source.

use std::fmt;

use crate::Language;
use crate::codes;

/// One API failure, ready for the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Dotted Tencent code, e.g. `AuthFailure.SignatureFailure`.
    pub code: &'static str,
    /// Message for `en-US`.
    pub en: String,
    /// Message for `zh-CN`.
    pub zh: String,
}

impl ApiError {
    pub fn new(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError {
            code,
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// The message in `language`.
    pub fn message(&self, language: Language) -> &str {
        match language {
            Language::EnUs => &self.en,
            Language::ZhCn => &self.zh,
        }
    }

    /// A server fault; the details go to the log, not to the caller.
    pub fn internal(code: &'static str) -> ApiError {
        let (en, zh) = if code == codes::INTERNAL_ERROR_DB_ERROR {
            (
                "The record store could not answer; try again shortly. The server log has the details.",
                "数据库访问失败，请稍后重试；详细原因见服务端日志。",
            )
        } else {
            (
                "An internal error occurred; try again shortly. The server log has the details.",
                "内部错误，请稍后重试；详细原因见服务端日志。",
            )
        };
        ApiError::new(code, en, zh)
    }

    pub fn unsupported_protocol(method: &str) -> ApiError {
        ApiError::new(
            codes::UNSUPPORTED_PROTOCOL,
            format!("HTTP method {method} is not supported; only GET and POST are."),
            format!("不支持 HTTP 方法 {method}，仅支持 GET 和 POST。"),
        )
    }

    /// `what` is e.g. "GET query string" or "POST body".
    pub fn request_size_limit(what: &str, max: usize, got: usize) -> ApiError {
        ApiError::new(
            codes::REQUEST_SIZE_LIMIT_EXCEEDED,
            format!("The {what} is {got} bytes; at most {max} bytes are allowed."),
            format!("请求大小超限：{what} 为 {got} 字节，最多允许 {max} 字节。"),
        )
    }

    /// A required parameter is absent; `name` as the caller would write it.
    pub fn missing_parameter(name: &str, en_hint: &str, zh_hint: &str) -> ApiError {
        ApiError::new(
            codes::MISSING_PARAMETER,
            format!("The required parameter {name} is missing.{en_hint}"),
            format!("缺少必填参数 {name}。{zh_hint}"),
        )
    }

    pub fn invalid_authorization(en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError::new(codes::INVALID_AUTHORIZATION, en, zh)
    }

    pub fn secret_id_not_found() -> ApiError {
        ApiError::new(
            codes::SECRET_ID_NOT_FOUND,
            "The SecretId is not found or has been disabled; create a key with `telcdr keys create` and use its SecretId.",
            "SecretId 不存在或已被禁用，请使用 `telcdr keys create` 创建的密钥。",
        )
    }

    pub fn signature_expire(timestamp: i64, now: i64, max_skew: i64) -> ApiError {
        ApiError::new(
            codes::SIGNATURE_EXPIRE,
            format!(
                "The request timestamp {timestamp} and the server time {now} differ by {} seconds; at most {max_skew} seconds are allowed. Check the client's clock.",
                (now - timestamp).unsigned_abs()
            ),
            format!(
                "签名过期：请求时间戳 {timestamp} 与服务器时间 {now} 相差 {} 秒，最多允许 {max_skew} 秒，请检查客户端时间。",
                (now - timestamp).unsigned_abs()
            ),
        )
    }

    /// The wording of the real service (spec 2.5), which users search for.
    pub fn signature_failure() -> ApiError {
        ApiError::new(
            codes::SIGNATURE_FAILURE,
            "The provided credentials could not be validated. Please check your signature is correct.",
            "请求签名验证失败，请检查您的签名计算是否正确。",
        )
    }

    pub fn token_failure(en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError::new(codes::TOKEN_FAILURE, en, zh)
    }

    pub fn invalid_action(action: &str) -> ApiError {
        ApiError::new(
            codes::INVALID_ACTION,
            format!(
                "The action {action:?} does not exist; check its spelling and case (e.g. DescribeTelCdr)."
            ),
            format!("接口 {action:?} 不存在，请检查名称及大小写（例如 DescribeTelCdr）。"),
        )
    }

    pub fn no_such_version(got: &str, supported: &str) -> ApiError {
        ApiError::new(
            codes::NO_SUCH_VERSION,
            format!("API version {got:?} does not exist; this service speaks version {supported}."),
            format!("接口版本 {got:?} 不存在，本服务支持的版本为 {supported}。"),
        )
    }

    pub fn request_limit_exceeded(per_second: u32) -> ApiError {
        ApiError::new(
            codes::REQUEST_LIMIT_EXCEEDED,
            format!(
                "Too many requests: at most {per_second} requests per second are allowed for this action and account; retry after a moment."
            ),
            format!("请求频率超限：该账号调用此接口每秒最多 {per_second} 次，请稍后重试。"),
        )
    }

    /// A wrong type or an unparsable value (`InvalidParameter`).
    pub fn invalid_parameter(en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError::new(codes::INVALID_PARAMETER, en, zh)
    }

    /// A value of the right type out of the allowed range.
    pub fn invalid_parameter_value(en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError::new(codes::INVALID_PARAMETER_VALUE, en, zh)
    }

    pub fn unknown_parameter(name: &str, action: &str, accepted: &str) -> ApiError {
        ApiError::new(
            codes::UNKNOWN_PARAMETER,
            format!("{name} is not a parameter of {action}; it accepts {accepted}."),
            format!("{name} 不是 {action} 的参数，可用参数为 {accepted}。"),
        )
    }

    /// A malformed body (multipart, JSON that is not an object, ...).
    pub fn invalid_request(en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError::new(codes::INVALID_REQUEST, en, zh)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.en)
    }
}

impl std::error::Error for ApiError {}
