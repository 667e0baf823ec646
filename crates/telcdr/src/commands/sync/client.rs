//! The API client of `telcdr sync`: TC3-HMAC-SHA256-signed POSTs of JSON
//! to a Tencent Cloud API endpoint (CCC's, or any telcdr's), paced by a
//! client-side token bucket, retried on throttling and on network errors,
//! with the envelope (spec 4) decoded.
//!
//! Retry rules, per request:
//! - `RequestLimitExceeded` (and its sub-codes): wait 0.5 s, doubling up to
//!   8 s, and send the same request again (freshly signed), up to
//!   [`MAX_THROTTLED`] times in a row;
//! - a network error, a 5xx or 429 status, a body that is not JSON, or
//!   `InternalError`/`ServiceUnavailable`: the same backoff, `retries`
//!   times, then the call fails naming the endpoint and the last error;
//! - any other API error (`AuthFailure.*`, `InvalidParameterValue`, ...)
//!   fails at once with its code and message.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use tcapi::sign::{Tc3Request, tc3_authorization};

/// The API version of CCC's call-record actions.
pub const API_VERSION: &str = "2020-02-10";
/// The service of the credential scope.
const SERVICE: &str = "ccc";
/// Most `RequestLimitExceeded` answers to one request before giving up.
pub const MAX_THROTTLED: u32 = 30;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Where the API answers: `https://ccc.tencentcloudapi.com`,
/// `http://127.0.0.1:8900`, ...
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL requests are POSTed to (path `/`).
    pub url: reqwest::Url,
    /// The Host header, as sent and signed: host, plus the port when it is
    /// not the scheme's default.
    pub host: String,
    /// `scheme://host[:port]`, the endpoint's name in messages and in the
    /// cursor's setting name.
    pub name: String,
}

impl Endpoint {
    /// Reads `--endpoint`; a bare host name means HTTPS.
    pub fn parse(text: &str) -> Result<Endpoint> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("https://{text}")
        };
        let mut url = reqwest::Url::parse(&with_scheme).with_context(|| {
            format!("--endpoint {text:?} is not a URL (e.g. https://ccc.tencentcloudapi.com or http://127.0.0.1:8900)")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("--endpoint {text:?} must be an http:// or https:// URL");
        }
        let Some(host_name) = url.host_str() else {
            bail!("--endpoint {text:?} names no host");
        };
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_owned(),
        };
        let name = format!("{}://{host}", url.scheme());
        // The API answers at the root of its host only (spec 1.1).
        url.set_path("/");
        url.set_query(None);
        url.set_fragment(None);
        Ok(Endpoint { url, host, name })
    }
}

/// How the client talks to the endpoint.
pub struct ClientConfig {
    pub endpoint: Endpoint,
    pub secret_id: String,
    pub secret_key: String,
    /// `X-TC-Region`; empty: not sent.
    pub region: String,
    /// Requests per second at most; 0: unlimited.
    pub rate: u32,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Attempts after the first on network errors.
    pub retries: u32,
}

/// Counters of what went over the wire.
#[derive(Default)]
pub struct Counters {
    /// HTTP requests sent to the API (retries included).
    pub requests: AtomicU64,
    /// Answers that were `RequestLimitExceeded` (each retried).
    pub throttled: AtomicU64,
    /// Requests sent again after a network or server error.
    pub retried: AtomicU64,
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// The API answered with `Response.Error`.
    Api {
        action: String,
        code: String,
        message: String,
        request_id: String,
    },
    /// The endpoint could not be reached or answered nonsense, after the
    /// retries.
    Transport(String),
    /// Ctrl-C or SIGTERM arrived.
    Stopped,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Api {
                action,
                code,
                message,
                request_id,
            } => write!(
                f,
                "{action} was refused: {code}: {message} (RequestId {request_id})"
            ),
            CallError::Transport(reason) => f.write_str(reason),
            CallError::Stopped => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for CallError {}

/// A signed, paced, retrying client of one endpoint with one key.
pub struct ApiClient {
    http: reqwest::blocking::Client,
    config: ClientConfig,
    pacer: Pacer,
    stop: &'static AtomicBool,
    pub counters: Counters,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code", default)]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

/// A successful answer: the whole body and where each member of its
/// `Response` is in it.
pub struct Answer {
    pub body: Vec<u8>,
    members: Vec<raw::Member>,
}

impl Answer {
    /// The bytes of member `name` of `Response`.
    pub fn member(&self, name: &str) -> Option<&[u8]> {
        member_of(&self.body, &self.members, name)
    }

    /// The bytes of each element of `Response`'s array member `name`.
    pub fn items(&self, name: &str) -> Option<Vec<&[u8]>> {
        let member = self.members.iter().find(|m| m.name == name.as_bytes())?;
        let items = member.items.as_ref()?;
        Some(items.iter().map(|&(a, b)| &self.body[a..b]).collect())
    }
}

fn member_of<'b>(body: &'b [u8], members: &[raw::Member], name: &str) -> Option<&'b [u8]> {
    members
        .iter()
        .find(|m| m.name == name.as_bytes())
        .map(|m| &body[m.span.0..m.span.1])
}

/// One page of DescribeTelCdr.
pub struct CdrPage {
    pub total: u64,
    /// Each TelCdrInfo object of the page with `"SdkAppId": N` appended:
    /// an import line.
    pub lines: Vec<Vec<u8>>,
}

impl ApiClient {
    /// `stop` is polled while waiting, so Ctrl-C ends a backoff early.
    pub fn new(config: ClientConfig, stop: &'static AtomicBool) -> Result<ApiClient> {
        let http = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("telcdr-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(ApiClient {
            http,
            pacer: Pacer::new(config.rate),
            config,
            stop,
            counters: Counters::default(),
        })
    }

    /// The HTTP client, for media downloads (not paced: they are not API
    /// requests).
    pub fn http(&self) -> &reqwest::blocking::Client {
        &self.http
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sleeps `wait`, waking early on Ctrl-C; false when stopped.
    pub fn sleep(&self, wait: Duration) -> bool {
        sleep_unless(self.stop, wait)
    }

    /// One page of an app's records with `start <= Time <= end`, newest
    /// first.
    pub fn describe_tel_cdr(
        &self,
        sdk_app_id: i64,
        start: i64,
        end: i64,
        page: u64,
        page_size: u64,
    ) -> Result<CdrPage, CallError> {
        let body = format!(
            r#"{{"SdkAppId":{sdk_app_id},"StartTimeStamp":{start},"EndTimeStamp":{end},"PageSize":{page_size},"PageNumber":{page}}}"#
        );
        let answer = self.call("DescribeTelCdr", body.as_bytes())?;
        let nonsense = |what: &str| {
            CallError::Transport(format!(
                "DescribeTelCdr from {} answered without {what}",
                self.config.endpoint.name
            ))
        };
        let total = answer
            .member("TotalCount")
            .and_then(|t| std::str::from_utf8(t).ok()?.parse::<u64>().ok())
            .ok_or_else(|| nonsense("a TotalCount"))?;
        let items = answer
            .items("TelCdrList")
            .ok_or_else(|| nonsense("a TelCdrList"))?;
        let suffix = format!("\"SdkAppId\":{sdk_app_id}}}");
        let lines = items
            .into_iter()
            .map(|item| import_line(item, &suffix))
            .collect();
        Ok(CdrPage { total, lines })
    }

    /// The raw `AsrDataList` of a session's transcript (spec 6.5).
    pub fn describe_tel_record_asr(
        &self,
        sdk_app_id: i64,
        session_id: &str,
    ) -> Result<Vec<u8>, CallError> {
        let body = serde_json::json!({"SdkAppId": sdk_app_id, "SessionId": session_id});
        let answer = self.call("DescribeTelRecordAsr", body.to_string().as_bytes())?;
        answer
            .member("AsrDataList")
            .map(<[u8]>::to_vec)
            .ok_or_else(|| {
                CallError::Transport(format!(
                    "DescribeTelRecordAsr from {} answered without an AsrDataList",
                    self.config.endpoint.name
                ))
            })
    }

    /// Sends one action with its JSON parameters until it succeeds or fails
    /// for good (module docs).
    pub fn call(&self, action: &str, params: &[u8]) -> Result<Answer, CallError> {
        let mut throttled = 0u32;
        let mut failures = 0u32;
        let mut backoff = FIRST_BACKOFF;
        loop {
            if self.stopped() {
                return Err(CallError::Stopped);
            }
            self.pacer.wait(self.stop);
            let outcome = self.send_once(action, params);
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let transient = match outcome {
                Attempt::Done(answer) => return Ok(answer),
                Attempt::Refused(error) => return Err(error),
                Attempt::Throttled => {
                    self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    throttled += 1;
                    if throttled >= MAX_THROTTLED {
                        return Err(CallError::Transport(format!(
                            "{action} was refused with RequestLimitExceeded {throttled} times in a row by {}: lower --rate",
                            self.config.endpoint.name
                        )));
                    }
                    None
                }
                Attempt::Transient(reason) => Some(reason),
            };
            if let Some(reason) = transient {
                failures += 1;
                if failures > self.config.retries {
                    return Err(CallError::Transport(format!(
                        "{action} to {} failed {failures} times; last: {reason}",
                        self.config.endpoint.name
                    )));
                }
                self.counters.retried.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("{action}: {reason}; retrying in {backoff:?}");
            }
            if !self.sleep(backoff) {
                return Err(CallError::Stopped);
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn send_once(&self, action: &str, params: &[u8]) -> Attempt {
        let config = &self.config;
        let timestamp = super::super::unix_now();
        let signed = Tc3Request {
            method: "POST",
            host: &config.endpoint.host,
            query: "",
            content_type: "application/json",
            payload: params,
            service: SERVICE,
            timestamp,
            unsigned_payload: false,
        };
        let authorization = tc3_authorization(&config.secret_id, &config.secret_key, &signed);
        let mut request = self
            .http
            .post(config.endpoint.url.clone())
            .header("Host", &config.endpoint.host)
            .header("Content-Type", "application/json")
            .header("Authorization", authorization)
            .header("X-TC-Action", action)
            .header("X-TC-Version", API_VERSION)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Language", "en-US")
            .body(params.to_vec());
        if !config.region.is_empty() {
            request = request.header("X-TC-Region", &config.region);
        }
        let response = match request.send() {
            Ok(response) => response,
            Err(e) => return Attempt::Transient(error_chain(&e)),
        };
        let status = response.status();
        let body = match response.bytes() {
            Ok(body) => Vec::from(body),
            Err(e) => {
                return Attempt::Transient(format!("reading the answer: {}", error_chain(&e)));
            }
        };
        if status != reqwest::StatusCode::OK {
            let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            let reason = format!("HTTP {status}: {snippet}");
            return if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                Attempt::Transient(reason)
            } else {
                Attempt::Refused(CallError::Transport(format!(
                    "{action} to {} answered {reason}",
                    config.endpoint.name
                )))
            };
        }
        // The envelope is read without decoding the records: they are
        // validated one by one as import lines.
        let Some(members) = raw::response_members(&body) else {
            let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            return Attempt::Transient(format!(
                "the answer is not a Tencent Cloud API envelope: {snippet}"
            ));
        };
        let Some(error) = member_of(&body, &members, "Error") else {
            return Attempt::Done(Answer { body, members });
        };
        let error: ErrorBody = serde_json::from_slice(error).unwrap_or_else(|_| ErrorBody {
            code: "(unreadable)".into(),
            message: String::from_utf8_lossy(error).into_owned(),
        });
        let request_id = member_of(&body, &members, "RequestId")
            .and_then(|id| serde_json::from_slice::<String>(id).ok())
            .unwrap_or_default();
        if error.code.starts_with("RequestLimitExceeded") {
            Attempt::Throttled
        } else if matches!(
            error.code.as_str(),
            "InternalError" | "InternalError.DBError" | "ServiceUnavailable"
        ) {
            Attempt::Transient(format!("{}: {}", error.code, error.message))
        } else {
            Attempt::Refused(CallError::Api {
                action: action.to_owned(),
                code: error.code,
                message: error.message,
                request_id,
            })
        }
    }
}

enum Attempt {
    Done(Answer),
    Throttled,
    Transient(String),
    Refused(CallError),
}

/// An error and its causes on one line (reqwest hides the useful part,
/// "connection refused", in the source chain).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// Sleeps `wait` in short steps; false as soon as `stop` is set.
pub fn sleep_unless(stop: &AtomicBool, wait: Duration) -> bool {
    let until = Instant::now() + wait;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(100)));
    }
}

/// An import line from a TelCdrInfo object's bytes: `"SdkAppId": N`
/// appended as its last member (so it wins over any `SdkAppId` the object
/// carried).
fn import_line(object: &[u8], suffix: &str) -> Vec<u8> {
    let mut line = Vec::with_capacity(object.len() + suffix.len() + 1);
    // The object ends in `}`: drop it, then add `,"SdkAppId":N}`.
    let inner = &object[..object.len() - 1];
    line.extend_from_slice(inner);
    let empty = inner[1..].iter().all(u8::is_ascii_whitespace);
    if !empty {
        line.push(b',');
    }
    line.extend_from_slice(suffix.as_bytes());
    line
}

/// A token bucket of one token: requests leave at most `rate` a second,
/// evenly spaced, whichever thread sends them.
struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    fn new(rate: u32) -> Pacer {
        Pacer {
            interval: (rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(rate))),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this request's slot.
    fn wait(&self, stop: &AtomicBool) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let slot = (*next).max(Instant::now());
            *next = slot + interval;
            slot
        };
        sleep_unless(stop, slot.saturating_duration_since(Instant::now()));
    }
}

/// Finding members of a JSON document without decoding it: the spans of
/// TelCdrInfo objects become import lines byte for byte (and are validated
/// there). Malformed input gives None, never a panic.
mod raw {
    fn ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        i
    }

    /// `b[i]` is an opening quote; the index after the closing one.
    fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
        i += 1;
        loop {
            let at = quote_or_backslash(b, i)?;
            if b[at] == b'"' {
                return Some(at + 1);
            }
            i = at + 2;
        }
    }

    /// The first `"` or `\` at or after `from`, eight bytes at a time
    /// (most of a record is string contents).
    fn quote_or_backslash(b: &[u8], from: usize) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
        let mut i = from;
        while let Some(chunk) = b.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().ok()?);
            // The lowest flagged byte is always a real match.
            let hits = zero_byte(word ^ (ONES * u64::from(b'"')))
                | zero_byte(word ^ (ONES * u64::from(b'\\')));
            if hits != 0 {
                return Some(i + (hits.trailing_zeros() / 8) as usize);
            }
            i += 8;
        }
        let rest = b.get(i..)?;
        rest.iter()
            .position(|&c| c == b'"' || c == b'\\')
            .map(|p| i + p)
    }

    /// `b[i]` starts a value; the index after it.
    fn value_end(b: &[u8], i: usize) -> Option<usize> {
        match *b.get(i)? {
            b'"' => string_end(b, i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    let at = j + b
                        .get(j..)?
                        .iter()
                        .position(|&c| matches!(c, b'"' | b'{' | b'[' | b'}' | b']'))?;
                    match b[at] {
                        b'"' => {
                            j = string_end(b, at)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        _ => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(at + 1);
                            }
                        }
                    }
                    j = at + 1;
                }
            }
            _ => {
                let len = b[i..]
                    .iter()
                    .position(|&c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'))
                    .unwrap_or(b.len() - i);
                Some(i + len)
            }
        }
    }

    /// A member of an object: its name (raw), the span of its value, and
    /// for an array the spans of its elements.
    pub struct Member {
        pub name: Vec<u8>,
        pub span: (usize, usize),
        pub items: Option<Vec<(usize, usize)>>,
    }

    fn members(b: &[u8], start: usize) -> Option<Vec<Member>> {
        if b.get(start) != Some(&b'{') {
            return None;
        }
        let mut out = Vec::new();
        let mut i = ws(b, start + 1);
        if b.get(i) == Some(&b'}') {
            return Some(out);
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let key_end = string_end(b, i)?;
            let name = b[i + 1..key_end - 1].to_vec();
            i = ws(b, key_end);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = ws(b, i + 1);
            // An array's elements are found on the way past it: one walk.
            let (end, items) = if b.get(i) == Some(&b'[') {
                let (end, items) = array(b, i)?;
                (end, Some(items))
            } else {
                (value_end(b, i)?, None)
            };
            out.push(Member {
                name,
                span: (i, end),
                items,
            });
            i = ws(b, end);
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b'}') => return Some(out),
                _ => return None,
            }
        }
    }

    /// The array starting at `b[start]`: its end and its elements' spans.
    fn array(b: &[u8], start: usize) -> Option<(usize, Vec<(usize, usize)>)> {
        let mut items = Vec::new();
        let mut i = ws(b, start + 1);
        if b.get(i) == Some(&b']') {
            return Some((i + 1, items));
        }
        loop {
            let end = value_end(b, i)?;
            items.push((i, end));
            i = ws(b, end);
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b']') => return Some((i + 1, items)),
                _ => return None,
            }
        }
    }

    /// The members of the envelope's `Response` object.
    pub fn response_members(b: &[u8]) -> Option<Vec<Member>> {
        let top = members(b, ws(b, 0))?;
        let response = top.into_iter().find(|m| m.name == b"Response")?;
        members(b, response.span.0)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn strings_end_at_their_unescaped_quote_wherever_it_falls() {
            for n in 0..40 {
                let mut text = vec![b'"'];
                text.extend(std::iter::repeat_n(b'x', n));
                assert_eq!(quote_or_backslash(&text, 1), None);
                text.extend_from_slice(br#"\"\\"#);
                text.extend_from_slice("é\"".as_bytes());
                text.extend_from_slice(b"tail\"");
                // Ends after the quote following the two escapes and the é.
                assert_eq!(string_end(&text, 0), Some(n + 1 + 2 + 2 + 2 + 1), "{n}");
                assert_eq!(quote_or_backslash(&text, 1), Some(n + 1));
            }
            assert_eq!(string_end(br#""abc\"#, 0), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_their_port_and_default_to_https() {
        let e = Endpoint::parse("http://127.0.0.1:8900/").unwrap();
        assert_eq!(
            (e.host.as_str(), e.name.as_str(), e.url.as_str()),
            (
                "127.0.0.1:8900",
                "http://127.0.0.1:8900",
                "http://127.0.0.1:8900/"
            )
        );
        let e = Endpoint::parse("ccc.tencentcloudapi.com").unwrap();
        assert_eq!(e.host, "ccc.tencentcloudapi.com");
        assert_eq!(e.name, "https://ccc.tencentcloudapi.com");
        let e = Endpoint::parse("https://ccc.tencentcloudapi.com:443/x?y").unwrap();
        assert_eq!(e.host, "ccc.tencentcloudapi.com");
        assert_eq!(e.url.as_str(), "https://ccc.tencentcloudapi.com/");
        assert!(Endpoint::parse("ftp://h").is_err());
    }

    #[test]
    fn records_are_cut_out_of_the_answer_byte_for_byte() {
        let body =
            br#" {"Response": {"TotalCount": 2, "TelCdrList": [ {"SessionId":"a","X":"}]\"{"} ,
            {"SessionId":"b","L":[1,{"y":[]}]}, {} ], "RequestId": "r"}}"#;
        let members = raw::response_members(body).unwrap();
        let answer = Answer {
            body: body.to_vec(),
            members,
        };
        let items = answer.items("TelCdrList").unwrap();
        assert_eq!(
            items,
            vec![
                &br#"{"SessionId":"a","X":"}]\"{"}"#[..],
                &br#"{"SessionId":"b","L":[1,{"y":[]}]}"#[..],
                &b"{}"[..]
            ]
        );
        let suffix = "\"SdkAppId\":7}";
        assert_eq!(
            import_line(items[0], suffix),
            br#"{"SessionId":"a","X":"}]\"{","SdkAppId":7}"#.to_vec()
        );
        assert_eq!(import_line(b"{ }", suffix), br#"{ "SdkAppId":7}"#.to_vec());
        assert_eq!(answer.member("RequestId"), Some(&b"\"r\""[..]));
        assert_eq!(answer.member("TotalCount"), Some(&b"2"[..]));
        assert_eq!(answer.items("RequestId"), None);
        let empty = br#"{"Response":{"TelCdrList":[ ],"S":"\\\"x\\"}}"#;
        let answer = Answer {
            members: raw::response_members(empty).unwrap(),
            body: empty.to_vec(),
        };
        assert_eq!(answer.items("TelCdrList"), Some(vec![]));
        assert_eq!(answer.member("S"), Some(&br#""\\\"x\\""#[..]));
        for bad in [
            &b"<html>"[..],
            br#"{"Response":"#,
            br#"{"Response":{"TelCdrList":[{"a":"}]}}"#,
            br#"{"Response":{"A":1,}}"#,
            br#"{"Response":{"A" 1}}"#,
            br#"{"Response":{"A":"\"}}"#,
        ] {
            assert!(
                raw::response_members(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn the_pacer_spaces_requests() {
        static STOP: AtomicBool = AtomicBool::new(false);
        let pacer = Pacer::new(50);
        let t0 = Instant::now();
        for _ in 0..6 {
            pacer.wait(&STOP);
        }
        // Five intervals of 20 ms after the first request.
        assert!(
            t0.elapsed() >= Duration::from_millis(95),
            "{:?}",
            t0.elapsed()
        );
        let unlimited = Pacer::new(0);
        let t0 = Instant::now();
        for _ in 0..1000 {
            unlimited.wait(&STOP);
        }
        assert!(t0.elapsed() < Duration::from_millis(50));
    }
}
