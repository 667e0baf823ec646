//! Reading a request: the transport checks, then who is calling for which
//! action and how the request is signed ([`Envelope`]).
//!
//! The routing rule (spec 1.5): an `Authorization` header means TC3; a v1
//! parameter set (`Action`, `SecretId`, `Signature` in the query of a GET or
//! the form body of a POST) means v1; anything else is TC3 without
//! credentials and fails authentication.

use http::{HeaderMap, Method, header};

use crate::{ApiError, Language, SignatureMethod};

/// One request as received: the parts the protocol needs, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    pub method: &'a Method,
    /// The raw query string (after `?`), undecoded.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Request size limits (spec 1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The query string of a GET.
    pub max_get_bytes: usize,
    /// The body of a POST.
    pub max_post_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_get_bytes: 32 * 1024,
            max_post_bytes: 10 * 1024 * 1024,
        }
    }
}

/// The first two checks of the order: the method, then the size.
pub fn check_transport(
    method: &Method,
    query_len: usize,
    body_len: usize,
    limits: &Limits,
) -> Result<(), ApiError> {
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::unsupported_protocol(method.as_str()));
    }
    if method == Method::GET && query_len > limits.max_get_bytes {
        return Err(ApiError::request_size_limit(
            "GET query string",
            limits.max_get_bytes,
            query_len,
        ));
    }
    if body_len > limits.max_post_bytes {
        return Err(ApiError::request_size_limit(
            "POST body",
            limits.max_post_bytes,
            body_len,
        ));
    }
    Ok(())
}

/// How the request proves who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// TC3-HMAC-SHA256 from the `Authorization` header.
    Tc3 {
        /// `YYYY-MM-DD` of the credential scope.
        date: String,
        /// The scope's service as sent (the Node SDK puts odd things here).
        service: String,
        /// Lower-case header names in the order given.
        signed_headers: Vec<String>,
        /// Lower-case hex.
        signature: String,
    },
    /// v1: every decoded parameter (query for GET, form body for POST),
    /// including the common ones and `Signature`, in the order received.
    V1 {
        method: SignatureMethod,
        params: Vec<(String, String)>,
        signature: String,
    },
}

/// Who is calling, for what, and how it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub action: String,
    pub version: String,
    pub secret_id: String,
    /// Unix seconds the client signed with.
    pub timestamp: i64,
    /// A temporary credential's token, if one was sent.
    pub token: Option<String>,
    /// The requested message language, if a known one was sent.
    pub language: Option<Language>,
    pub auth: Auth,
}

impl Envelope {
    pub fn signature_method(&self) -> SignatureMethod {
        match &self.auth {
            Auth::Tc3 { .. } => SignatureMethod::Tc3HmacSha256,
            Auth::V1 { method, .. } => *method,
        }
    }
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The media type of the Content-Type header, lower-cased, without
/// parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    header_str(headers, header::CONTENT_TYPE.as_str())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The v1-style parameters of a request: the decoded query of a GET, the
/// form body of a form POST; empty otherwise.
pub(crate) fn form_pairs(raw: &RawRequest) -> Vec<(String, String)> {
    let source: &[u8] = if raw.method == Method::GET {
        raw.query.as_bytes()
    } else if media_type(raw.headers) == "application/x-www-form-urlencoded" {
        raw.body
    } else {
        return Vec::new();
    };
    form_urlencoded::parse(source)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pair<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The language a request asks for, readable before anything else is
/// decoded, so that even early errors answer in it.
pub fn language_hint(raw: &RawRequest) -> Option<Language> {
    if let Some(l) = header_str(raw.headers, "x-tc-language") {
        return Language::parse(l);
    }
    if raw.method == Method::GET || raw.body.len() < 64 * 1024 {
        return pair(&form_pairs(raw), "Language").and_then(Language::parse);
    }
    None
}

/// Reads the envelope: Action and Version (`MissingParameter`), then the
/// credentials (`AuthFailure.InvalidAuthorization`). Verification of the
/// signature is [`crate::verify`], once the key is known.
pub fn decode(raw: &RawRequest) -> Result<Envelope, ApiError> {
    let authorization = header_str(raw.headers, header::AUTHORIZATION.as_str());
    let pairs = if authorization.is_none() {
        form_pairs(raw)
    } else {
        Vec::new()
    };
    let v1 = authorization.is_none()
        && ["Action", "SecretId", "Signature"]
            .iter()
            .any(|n| pair(&pairs, n).is_some());
    if v1 {
        decode_v1(pairs)
    } else {
        decode_tc3(raw, authorization)
    }
}

fn require_header<'a>(raw: &RawRequest<'a>, name: &str) -> Result<&'a str, ApiError> {
    match header_str(raw.headers, name) {
        Some(v) if !v.trim().is_empty() => Ok(v.trim()),
        _ => Err(ApiError::missing_parameter(
            name,
            &format!(
                " Send it as the HTTP header {name} (TC3-HMAC-SHA256 requests) or as a parameter (v1 requests)."
            ),
            &format!("请通过 HTTP 头 {name}（TC3-HMAC-SHA256 签名）或请求参数（v1 签名）传入。"),
        )),
    }
}

fn decode_tc3(raw: &RawRequest, authorization: Option<&str>) -> Result<Envelope, ApiError> {
    let action = require_header(raw, "X-TC-Action")?.to_owned();
    let version = require_header(raw, "X-TC-Version")?.to_owned();
    let Some(authorization) = authorization else {
        return Err(ApiError::invalid_authorization(
            "The request is not signed: send an Authorization header (TC3-HMAC-SHA256), or Signature and SecretId parameters (HmacSHA1/HmacSHA256).",
            "请求未签名：请携带 Authorization 头（TC3-HMAC-SHA256），或 Signature 和 SecretId 参数（HmacSHA1/HmacSHA256）。",
        ));
    };
    let (secret_id, auth) = parse_tc3_authorization(authorization)?;
    let timestamp_text = require_header(raw, "X-TC-Timestamp")?;
    let timestamp = parse_timestamp("X-TC-Timestamp", timestamp_text)?;
    let token = header_str(raw.headers, "x-tc-token")
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let language = header_str(raw.headers, "x-tc-language").and_then(Language::parse);
    Ok(Envelope {
        action,
        version,
        secret_id,
        timestamp,
        token,
        language,
        auth,
    })
}

fn parse_timestamp(name: &str, text: &str) -> Result<i64, ApiError> {
    text.trim().parse::<i64>().map_err(|_| {
        ApiError::invalid_parameter(
            format!("{name} must be a Unix time in seconds (an integer), got {text:?}."),
            format!("{name} 必须是以秒为单位的 Unix 时间戳（整数），当前为 {text:?}。"),
        )
    })
}

fn malformed(what: &str) -> ApiError {
    ApiError::invalid_authorization(
        format!(
            "The Authorization header is malformed: {what}. Expected `TC3-HMAC-SHA256 Credential=<SecretId>/<YYYY-MM-DD>/<service>/tc3_request, SignedHeaders=content-type;host, Signature=<64 hex digits>`."
        ),
        format!(
            "Authorization 头格式错误：{what}。正确格式为 `TC3-HMAC-SHA256 Credential=<SecretId>/<YYYY-MM-DD>/<service>/tc3_request, SignedHeaders=content-type;host, Signature=<64 位十六进制>`。"
        ),
    )
}

/// Parses `TC3-HMAC-SHA256 Credential=.../.../.../tc3_request,
/// SignedHeaders=a;b, Signature=hex` (spec 2.1); separators may be `,` with
/// or without spaces.
pub(crate) fn parse_tc3_authorization(value: &str) -> Result<(String, Auth), ApiError> {
    let rest = value
        .strip_prefix("TC3-HMAC-SHA256")
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            let algorithm = value.split_whitespace().next().unwrap_or("");
            malformed(&format!(
                "the algorithm is {algorithm:?}, only TC3-HMAC-SHA256 is supported"
            ))
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, val) = part
            .split_once('=')
            .ok_or_else(|| malformed(&format!("{part:?} is not name=value")))?;
        match name.trim() {
            "Credential" => credential = Some(val.trim()),
            "SignedHeaders" => signed = Some(val.trim()),
            "Signature" => signature = Some(val.trim()),
            other => return Err(malformed(&format!("unknown part {other:?}"))),
        }
    }
    let credential = credential.ok_or_else(|| malformed("Credential is missing"))?;
    let signed = signed.ok_or_else(|| malformed("SignedHeaders is missing"))?;
    let signature = signature.ok_or_else(|| malformed("Signature is missing"))?;

    // The SecretId has no '/', but a Node endpoint can put ':' or '.' in the
    // service, so split from both ends.
    let mut from_right = credential.rsplitn(3, '/');
    let (Some(terminator), Some(service), Some(left)) =
        (from_right.next(), from_right.next(), from_right.next())
    else {
        return Err(malformed(
            "Credential must be <SecretId>/<date>/<service>/tc3_request",
        ));
    };
    let Some((secret_id, date)) = left.rsplit_once('/') else {
        return Err(malformed(
            "Credential must be <SecretId>/<date>/<service>/tc3_request",
        ));
    };
    if terminator != "tc3_request" {
        return Err(malformed("the Credential scope must end in tc3_request"));
    }
    if secret_id.is_empty() {
        return Err(malformed("the SecretId in Credential is empty"));
    }
    if service.is_empty() {
        return Err(malformed("the service in Credential is empty"));
    }
    let date_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !date_ok {
        return Err(malformed(&format!(
            "the date in Credential is {date:?}, expected YYYY-MM-DD"
        )));
    }
    let signed_headers: Vec<String> = signed
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(malformed("SignedHeaders has an empty name"));
    }
    for needed in ["content-type", "host"] {
        if !signed_headers.iter().any(|h| h == needed) {
            return Err(malformed(&format!("SignedHeaders must include {needed}")));
        }
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("Signature must be 64 hexadecimal digits"));
    }
    Ok((
        secret_id.to_owned(),
        Auth::Tc3 {
            date: date.to_owned(),
            service: service.to_owned(),
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        },
    ))
}

fn require_pair<'a>(pairs: &'a [(String, String)], name: &str) -> Result<&'a str, ApiError> {
    match pair(pairs, name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::missing_parameter(
            name,
            " It is a common parameter of v1-signed requests (Action, Version, SecretId, Timestamp, Nonce, Signature).",
            "它是 v1 签名请求的公共参数（Action、Version、SecretId、Timestamp、Nonce、Signature）。",
        )),
    }
}

fn decode_v1(pairs: Vec<(String, String)>) -> Result<Envelope, ApiError> {
    let action = require_pair(&pairs, "Action")?.to_owned();
    let version = require_pair(&pairs, "Version")?.to_owned();
    let signature = match pair(&pairs, "Signature") {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => {
            return Err(ApiError::invalid_authorization(
                "The v1 request has no Signature parameter; sign it with HmacSHA1 or HmacSHA256, or use TC3-HMAC-SHA256.",
                "v1 请求缺少 Signature 参数，请使用 HmacSHA1 或 HmacSHA256 签名，或改用 TC3-HMAC-SHA256。",
            ));
        }
    };
    let secret_id = match pair(&pairs, "SecretId") {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => {
            return Err(ApiError::invalid_authorization(
                "The v1 request has no SecretId parameter.",
                "v1 请求缺少 SecretId 参数。",
            ));
        }
    };
    let method = match pair(&pairs, "SignatureMethod") {
        None | Some("HmacSHA1") => SignatureMethod::HmacSha1,
        Some("HmacSHA256") => SignatureMethod::HmacSha256,
        Some(other) => {
            return Err(ApiError::invalid_authorization(
                format!(
                    "SignatureMethod {other:?} is not supported; use HmacSHA1 or HmacSHA256 (or TC3-HMAC-SHA256 in the Authorization header)."
                ),
                format!(
                    "不支持签名方法 {other:?}，请使用 HmacSHA1 或 HmacSHA256（或在 Authorization 头中使用 TC3-HMAC-SHA256）。"
                ),
            ));
        }
    };
    let timestamp = parse_timestamp("Timestamp", require_pair(&pairs, "Timestamp")?)?;
    let nonce = require_pair(&pairs, "Nonce")?;
    if nonce.parse::<u64>().is_err() {
        return Err(ApiError::invalid_parameter(
            format!("Nonce must be a non-negative integer, got {nonce:?}."),
            format!("Nonce 必须是非负整数，当前为 {nonce:?}。"),
        ));
    }
    let token = pair(&pairs, "Token")
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let language = pair(&pairs, "Language").and_then(Language::parse);
    Ok(Envelope {
        action,
        version,
        secret_id,
        timestamp,
        token,
        language,
        auth: Auth::V1 {
            method,
            params: pairs,
            signature,
        },
    })
}

/// Whether a failure came from the check order's "Action/Version present"
/// step; used by tests.
#[cfg(test)]
fn is_missing(e: &ApiError) -> bool {
    e.code == crate::codes::MISSING_PARAMETER
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes;
    use http::HeaderValue;

    fn headers(list: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in list {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const AUTH: &str = "TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/ccc/tc3_request, SignedHeaders=content-type;host, Signature=fb856e23b0eb1e5909c927866dffc348e35c498e80f0a1e43dacba3ffb3bdc47";

    #[test]
    fn transport_checks_method_then_size() {
        let l = Limits::default();
        assert_eq!(
            check_transport(&Method::PUT, 0, 0, &l).unwrap_err().code,
            codes::UNSUPPORTED_PROTOCOL
        );
        assert!(check_transport(&Method::GET, 32 * 1024, 0, &l).is_ok());
        let e = check_transport(&Method::GET, 32 * 1024 + 1, 0, &l).unwrap_err();
        assert_eq!(e.code, codes::REQUEST_SIZE_LIMIT_EXCEEDED);
        assert!(e.en.contains("32768"), "{}", e.en);
        assert!(check_transport(&Method::POST, 0, 10 << 20, &l).is_ok());
        assert!(check_transport(&Method::POST, 0, (10 << 20) + 1, &l).is_err());
    }

    #[test]
    fn tc3_envelope_from_headers() {
        let h = headers(&[
            ("authorization", AUTH),
            ("x-tc-action", "DescribeTelCdr"),
            ("x-tc-version", "2020-02-10"),
            ("x-tc-timestamp", "1700000000"),
            ("x-tc-language", "zh-CN"),
        ]);
        let raw = RawRequest {
            method: &Method::POST,
            query: "",
            headers: &h,
            body: b"{}",
        };
        let env = decode(&raw).unwrap();
        assert_eq!(env.action, "DescribeTelCdr");
        assert_eq!(env.secret_id, "AKIDx");
        assert_eq!(env.timestamp, 1_700_000_000);
        assert_eq!(env.language, Some(Language::ZhCn));
        assert_eq!(env.signature_method(), SignatureMethod::Tc3HmacSha256);
        match env.auth {
            Auth::Tc3 { service, date, .. } => {
                assert_eq!(service, "ccc");
                assert_eq!(date, "2023-11-14");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn action_and_version_are_checked_before_credentials() {
        let h = headers(&[("x-tc-version", "2020-02-10")]);
        let raw = RawRequest {
            method: &Method::POST,
            query: "",
            headers: &h,
            body: b"{}",
        };
        let e = decode(&raw).unwrap_err();
        assert!(is_missing(&e) && e.en.contains("X-TC-Action"), "{e}");
        let h = headers(&[
            ("x-tc-action", "DescribeTelCdr"),
            ("x-tc-version", "2020-02-10"),
        ]);
        let raw = RawRequest { headers: &h, ..raw };
        assert_eq!(decode(&raw).unwrap_err().code, codes::INVALID_AUTHORIZATION);
    }

    #[test]
    fn node_service_with_port_and_dots_is_kept() {
        let (id, auth) = parse_tc3_authorization(
            "TC3-HMAC-SHA256 Credential=AKIDx/2023-11-14/localhost:28417/tc3_request, SignedHeaders=content-type;host, Signature=436512a7d1656e8d3ceb9b68a5cd80a4c272209f3699ace0d98740051a67d330",
        )
        .unwrap();
        assert_eq!(id, "AKIDx");
        let Auth::Tc3 { service, .. } = auth else {
            panic!()
        };
        assert_eq!(service, "localhost:28417");
    }

    #[test]
    fn malformed_authorizations_are_refused() {
        let good_sig = "Signature=fb856e23b0eb1e5909c927866dffc348e35c498e80f0a1e43dacba3ffb3bdc47";
        for bad in [
            "SKIP".to_owned(),
            "TC3-HMAC-SHA1 Credential=a/2023-11-14/ccc/tc3_request, SignedHeaders=content-type;host, Signature=00".to_owned(),
            format!("TC3-HMAC-SHA256 Credential=a/2023-11-14/ccc, SignedHeaders=content-type;host, {good_sig}"),
            format!("TC3-HMAC-SHA256 Credential=a/20231114/ccc/tc3_request, SignedHeaders=content-type;host, {good_sig}"),
            format!("TC3-HMAC-SHA256 Credential=a/2023-11-14/ccc/tc3_request, SignedHeaders=host, {good_sig}"),
            "TC3-HMAC-SHA256 Credential=a/2023-11-14/ccc/tc3_request, SignedHeaders=content-type;host, Signature=xyz".to_owned(),
            format!("TC3-HMAC-SHA256 Credential=/2023-11-14/ccc/tc3_request, SignedHeaders=content-type;host, {good_sig}"),
        ] {
            let e = parse_tc3_authorization(&bad).unwrap_err();
            assert_eq!(e.code, codes::INVALID_AUTHORIZATION, "{bad}");
        }
        // No spaces after commas is still the same grammar.
        assert!(parse_tc3_authorization(&format!(
            "TC3-HMAC-SHA256 Credential=a/2023-11-14/ccc/tc3_request,SignedHeaders=content-type;host,{good_sig}"
        ))
        .is_ok());
    }

    #[test]
    fn v1_envelope_from_query_and_form() {
        let q = "Action=DescribeTelCdr&Version=2020-02-10&SecretId=AKIDx&Timestamp=1700000000&Nonce=0&Signature=abc%2B%3D&Language=zh-CN&SignatureMethod=HmacSHA256";
        let h = HeaderMap::new();
        let raw = RawRequest {
            method: &Method::GET,
            query: q,
            headers: &h,
            body: b"",
        };
        let env = decode(&raw).unwrap();
        assert_eq!(env.signature_method(), SignatureMethod::HmacSha256);
        assert_eq!(env.language, Some(Language::ZhCn));
        let Auth::V1 {
            signature, params, ..
        } = &env.auth
        else {
            panic!()
        };
        assert_eq!(signature, "abc+=");
        assert_eq!(params.len(), 8);
        assert_eq!(language_hint(&raw), Some(Language::ZhCn));

        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let md5 = q.replace("HmacSHA256", "HmacMD5");
        let form = RawRequest {
            method: &Method::POST,
            query: "",
            headers: &h,
            body: md5.as_bytes(),
        };
        assert_eq!(
            decode(&form).unwrap_err().code,
            codes::INVALID_AUTHORIZATION
        );
        let no_nonce = q.replace("&Nonce=0", "");
        let form = RawRequest {
            body: no_nonce.as_bytes(),
            ..form
        };
        let e = decode(&form).unwrap_err();
        assert!(is_missing(&e) && e.en.contains("Nonce"), "{e}");
    }
}
