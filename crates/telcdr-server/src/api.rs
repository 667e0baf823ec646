//! The API route: one request through the check order of design.md §3.
//!
//! method -> size -> Action/Version present -> authentication (malformed,
//! unknown key, skew, signature) -> InvalidAction -> NoSuchVersion -> rate
//! limit -> parameters -> the action (which checks tenancy). Every answer is
//! HTTP 200 with `Content-Type: application/json` exactly and a RequestId;
//! the blocking part (store look-ups, the action) runs on a blocking thread.

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use http_body_util::{BodyExt, Limited};
use tcapi::{ApiError, Language, RawRequest};
use tracing::{info, warn};

use crate::App;
use crate::actions::{self, ActionContext};

/// The one API version this server speaks.
pub(crate) const VERSION: &str = "2020-02-10";

/// What one request produced, for the response and the log line.
struct Outcome {
    language: Language,
    action: Option<String>,
    sdk_app_id: Option<i64>,
    result: Result<Vec<u8>, ApiError>,
}

pub(crate) async fn handle(
    State(app): State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // A person typing the server's address: the console (design.md §3).
    if method == Method::GET
        && uri.query().is_none_or(|q| !q.contains("Action="))
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
        && !headers.contains_key(header::AUTHORIZATION)
    {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::FOUND;
        response
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/console/"));
        return response;
    }
    let started = Instant::now();
    let request_id = tcapi::new_request_id();
    let config = &app.inner.config;
    let query = uri.query().unwrap_or("").to_owned();

    let early = |err: ApiError| Outcome {
        language: config.default_language,
        action: None,
        sdk_app_id: None,
        result: Err(err),
    };
    let outcome = if let Err(err) = tcapi::check_transport(&method, query.len(), 0, &config.limits)
    {
        early(err)
    } else {
        let max = config.limits.max_post_bytes;
        match Limited::new(body, max).collect().await {
            Err(_) => {
                let declared = headers
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(max + 1);
                early(ApiError::request_size_limit("POST body", max, declared))
            }
            Ok(collected) => {
                let body = collected.to_bytes();
                let worker = app.clone();
                let headers = headers.clone();
                let base_url = base_url(config, &headers);
                tokio::task::spawn_blocking(move || {
                    let raw = RawRequest {
                        method: &method,
                        query: &query,
                        headers: &headers,
                        body: &body,
                    };
                    worker.process(&raw, &base_url)
                })
                .await
                .unwrap_or_else(|join_error| {
                    warn!(error = %join_error, "request worker failed");
                    early(ApiError::internal(tcapi::codes::INTERNAL_ERROR))
                })
            }
        }
    };

    let code = match &outcome.result {
        Ok(_) => "ok",
        Err(e) => e.code,
    };
    info!(
        target: "telcdr::request",
        action = outcome.action.as_deref().unwrap_or("-"),
        code,
        sdk_app_id = outcome.sdk_app_id.unwrap_or(0),
        duration_us = started.elapsed().as_micros() as u64,
        "api request"
    );
    let body = match &outcome.result {
        Ok(object) => tcapi::success_body(object, &request_id),
        Err(err) => tcapi::error_body(err, outcome.language, &request_id),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::OK;
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(tcapi::CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        out.insert("X-TC-RequestId", v);
    }
    // The Node SDK fills its exception's traceId from this response header.
    if let Some(trace) = headers.get("X-TC-TraceId") {
        out.insert("X-TC-TraceId", trace.clone());
    }
    response
}

impl App {
    /// The blocking part of the check order, from decoding to the action.
    fn process(&self, raw: &RawRequest, base_url: &str) -> Outcome {
        let config = &self.inner.config;
        let mut outcome = Outcome {
            language: config.default_language,
            action: None,
            sdk_app_id: None,
            result: Ok(Vec::new()),
        };
        outcome.result = self.process_inner(raw, base_url, &mut outcome);
        outcome
    }

    fn process_inner(
        &self,
        raw: &RawRequest,
        base_url: &str,
        outcome: &mut Outcome,
    ) -> Result<Vec<u8>, ApiError> {
        let inner = &self.inner;
        let config = &inner.config;
        let decoded = tcapi::decode(raw);
        // The envelope's language; the raw request is searched for one only
        // when the envelope has none (a v1 form body is not parsed twice).
        let language = decoded.as_ref().ok().and_then(|e| e.language);
        if let Some(language) = language.or_else(|| tcapi::language_hint(raw)) {
            outcome.language = language;
        }
        let envelope = decoded?;
        outcome.action = Some(envelope.action.clone());

        let now = inner.clock.now();
        // Temporary credentials (the console's) are derived, not stored.
        let (secret_key, account_id, token, expires) = if envelope
            .secret_id
            .starts_with(crate::temp_credentials::PREFIX)
        {
            let issued = inner
                .temp_credentials
                .resolve(&envelope.secret_id)
                .ok_or_else(ApiError::secret_id_not_found)?;
            let account = crate::temp_credentials::TempCredentials::account_of(&envelope.secret_id)
                .ok_or_else(ApiError::secret_id_not_found)?;
            (
                issued.secret_key,
                account,
                Some(issued.token),
                Some(issued.expires),
            )
        } else {
            let key = inner
                .store
                .find_key(&envelope.secret_id)
                .map_err(|e| {
                    warn!(error = %e, "key look-up failed");
                    ApiError::internal(tcapi::codes::INTERNAL_ERROR_DB_ERROR)
                })?
                .filter(|key| key.enabled)
                .ok_or_else(ApiError::secret_id_not_found)?;
            (key.secret_key, key.account_id, None, None)
        };
        tcapi::verify_with_token(
            &envelope,
            raw,
            &secret_key,
            token.as_deref(),
            now,
            config.max_skew_seconds,
        )?;
        if let Some(expires) = expires.filter(|e| now > *e) {
            return Err(ApiError::token_failure(
                format!(
                    "These temporary credentials expired at {expires} (now {now}); sign in again for new ones."
                ),
                format!("临时凭证已于 {expires} 过期（当前 {now}）；请重新登录获取新的凭证。"),
            ));
        }

        let action = actions::find(&envelope.action)
            .ok_or_else(|| ApiError::invalid_action(&envelope.action))?;
        if envelope.version != VERSION {
            return Err(ApiError::no_such_version(&envelope.version, VERSION));
        }
        if !inner.limiter.try_acquire(account_id, action.name) {
            return Err(ApiError::request_limit_exceeded(inner.limiter.per_second()));
        }

        let params = tcapi::params(&envelope, raw)?;
        let bound = tcapi::bind(action.name, &params, action.fields)?;
        outcome.sdk_app_id = bound.get("SdkAppId").and_then(|v| v.as_i64());
        let ctx = ActionContext {
            store: inner.store.as_ref(),
            media: &inner.media,
            account_id,
            temporary: expires.is_some(),
            temp_credentials: &inner.temp_credentials,
            now,
            query_limits: &config.query,
            signer: &inner.signer,
            link_ttl_seconds: config.media_link_ttl_seconds,
            base_url,
            protector: &inner.protector,
        };
        (action.run)(&ctx, bound).map_err(ApiError::from)
    }
}

/// Where minted links point: the configured public URL, else the host the
/// client reached (tccli's `Host: http://...` quirk included), over http.
fn base_url(config: &crate::ServerConfig, headers: &HeaderMap) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let host = host
        .strip_prefix("http://")
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or(host)
        .trim_end_matches('/');
    format!("http://{host}")
}
