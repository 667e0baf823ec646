//! The receiver of CCC's data push (spec 7): `POST /push?action=cdr`,
//! `?action=record`, `?action=voicemail`, and the OAuth 2.0 token endpoint
//! CCC calls first when an app uses client credentials
//! (`POST /push/oauth2/token`).
//!
//! A push is answered `{"ErrCode":0,"ErrMsg":""}` only once it is durable;
//! a retry with the same `X-TCCC-PUSH-UUID` is answered the same without
//! being applied again; a `record` or `voicemail` push queues a durable
//! download, which the download worker carries out. Anything wrong gets a
//! non-zero ErrCode and a message that says what, and nothing of it is
//! written:
//!
//! | ErrCode | HTTP | meaning |
//! |---|---|---|
//! | 1 | 400 | the request or its body is not a valid push |
//! | 2 | 401 | the credentials are missing or do not match the app's |
//! | 3 | 403 | the app accepts no pushes (no push auth configured) |
//! | 4 | 500 | the store failed; CCC should retry |

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use std::collections::HashMap;
use std::sync::{Arc, mpsc};

use http_body_util::{BodyExt, Limited};
use serde_json::json;
use telcdr_model::parse_record_line;
use telcdr_model::push::{parse_record_push, parse_voicemail_push, push_sdk_app_id};
use telcdr_store::{
    DownloadFile, NewDownload, NewRecord, PushAuth, PushOutcome, PushWrite, Store, StoreError,
};
use tracing::{info, warn};

use tokio::sync::oneshot;

use crate::downloads::DownloadWaker;
use crate::push_auth::{TOKEN_TTL_SECONDS, TokenSigner, secret_matches};
use crate::{App, Clock};

/// Largest push body accepted.
const MAX_BODY: usize = 1 << 20;

/// A refused push: HTTP status, ErrCode, message.
#[derive(Debug)]
struct Refusal(StatusCode, u32, String);

impl Refusal {
    fn bad(message: impl Into<String>) -> Refusal {
        Refusal(StatusCode::BAD_REQUEST, 1, message.into())
    }
}

fn answer(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({"ErrCode": code, "ErrMsg": message}).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"telcdr push\", Bearer"),
        );
    }
    response
}

async fn body_bytes(body: Body) -> Result<bytes::Bytes, Refusal> {
    Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|_| {
            Refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                1,
                format!("the body is over {MAX_BODY} bytes"),
            )
        })
}

pub(crate) async fn handle(
    State(app): State<App>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let outcome = match body_bytes(body).await {
        Err(refusal) => Err(refusal),
        // Parsing is short CPU work, done here; the store work (credentials,
        // the write) is the batching thread's, so no request holds a thread.
        Ok(bytes) => match prepare(
            uri.query().unwrap_or(""),
            &headers,
            &bytes,
            app.inner.clock.now(),
        ) {
            Err(refusal) => Err(refusal),
            Ok(job) => app.inner.pushes.submit(job).await,
        },
    };
    match outcome {
        Ok(()) => answer(StatusCode::OK, 0, ""),
        Err(Refusal(status, code, message)) => {
            info!(target: "telcdr::push", code, %message, "push refused");
            answer(status, code, &message)
        }
    }
}

/// A push read from its request, before its credentials are checked.
struct Prepared {
    sdk_app_id: i64,
    authorization: String,
    /// The push, or why its body is not one (answered only after the
    /// credentials passed, so a stranger learns nothing from the payload).
    push: Result<PushWrite, Refusal>,
}

fn prepare(query: &str, headers: &HeaderMap, body: &[u8], now: i64) -> Result<Prepared, Refusal> {
    let action = action_of(query)?;
    let sdk_app_id = push_sdk_app_id(body).map_err(Refusal::bad)?;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut push = PushWrite {
        uuid: headers
            .get("X-TCCC-PUSH-UUID")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        sdk_app_id,
        received_at: now,
        records: Vec::new(),
        download: None,
    };
    let parsed = (|| {
        match action {
            Action::Cdr => {
                let record = parse_record_line(body).map_err(|e| Refusal::bad(e.to_string()))?;
                push.records.push(NewRecord::from_imported(&record));
            }
            Action::Record => {
                let p = parse_record_push(body).map_err(Refusal::bad)?;
                push.download = Some(NewDownload {
                    file: DownloadFile::Named(format!(
                        "{}.{}",
                        p.record_id,
                        url_ext(&p.record_url)
                    )),
                    session_id: p.session_id,
                    url: p.record_url,
                });
            }
            Action::Voicemail => {
                let p = parse_voicemail_push(body).map_err(Refusal::bad)?;
                push.download = Some(NewDownload {
                    file: DownloadFile::Voicemail {
                        ext: url_ext(&p.record_url).to_owned(),
                    },
                    session_id: p.session_id,
                    url: p.record_url,
                });
            }
        }
        Ok(())
    })();
    Ok(Prepared {
        sdk_app_id,
        authorization,
        push: parsed.map(|()| push),
    })
}

/// What the query string names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Cdr,
    Record,
    Voicemail,
}

fn action_of(query: &str) -> Result<Action, Refusal> {
    let mut action = None;
    let mut version = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "action" => action = Some(v.into_owned()),
            "version" => version = Some(v.into_owned()),
            _ => {}
        }
    }
    if let Some(version) = version.filter(|v| v != "1") {
        return Err(Refusal::bad(format!("version must be 1, got {version:?}")));
    }
    match action.as_deref() {
        Some("cdr") => Ok(Action::Cdr),
        Some("record") => Ok(Action::Record),
        Some("voicemail") => Ok(Action::Voicemail),
        Some(other) => Err(Refusal::bad(format!(
            "action must be cdr, record or voicemail, got {other:?}"
        ))),
        None => Err(Refusal::bad(
            "the query has no action: POST to /push?action=cdr&version=1, ?action=record&version=1 or ?action=voicemail",
        )),
    }
}

/// Applies pushes in groups: while one group commits, the pushes that
/// arrive meanwhile queue up and go together in the next, in one store call
/// (one record batch, one UUID look-up, one credentials look-up per app),
/// so the cost per push falls as the concurrency rises. The thread does the
/// store work; request tasks only wait for their answer.
pub(crate) struct PushBatcher {
    sender: mpsc::Sender<PushJob>,
}

struct PushJob {
    prepared: Prepared,
    reply: oneshot::Sender<Result<(), Refusal>>,
}

/// Most pushes in one group.
const MAX_GROUP: usize = 2_048;

fn store_refusal(e: &StoreError) -> Refusal {
    warn!(error = %e, "push: store failure");
    Refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        4,
        "the store failed; nothing was written, push again".into(),
    )
}

impl PushBatcher {
    /// Starts the batching thread; it ends when the batcher is dropped.
    pub(crate) fn spawn(
        store: Arc<dyn Store>,
        tokens: TokenSigner,
        clock: Arc<dyn Clock>,
        downloads: DownloadWaker,
    ) -> PushBatcher {
        let (sender, receiver) = mpsc::channel::<PushJob>();
        let spawned = std::thread::Builder::new()
            .name("telcdr-push".into())
            .spawn(move || {
                while let Ok(first) = receiver.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_GROUP {
                        match receiver.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    apply_group(&*store, &tokens, clock.now(), &downloads, jobs);
                }
            });
        if let Err(e) = spawned {
            warn!(error = %e, "cannot start the push thread; pushes will fail");
        }
        PushBatcher { sender }
    }

    /// Applies one push with whatever else is queued, once it is committed.
    async fn submit(&self, prepared: Prepared) -> Result<(), Refusal> {
        let (reply, answer) = oneshot::channel();
        let gone = || {
            Refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                4,
                "the push thread is gone; push again".into(),
            )
        };
        self.sender
            .send(PushJob { prepared, reply })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// Checks credentials (one look-up per app of the group), answers refusals,
/// and writes the rest in one store call.
fn apply_group(
    store: &dyn Store,
    tokens: &TokenSigner,
    now: i64,
    downloads: &DownloadWaker,
    jobs: Vec<PushJob>,
) {
    let mut auths: HashMap<i64, Result<Option<PushAuth>, String>> = HashMap::new();
    let mut accepted = Vec::with_capacity(jobs.len());
    for PushJob { prepared, reply } in jobs {
        let sdk_app_id = prepared.sdk_app_id;
        let auth = auths
            .entry(sdk_app_id)
            .or_insert_with(|| store.push_auth(sdk_app_id).map_err(|e| e.to_string()));
        let checked = match auth {
            Err(e) => Err(store_refusal(&StoreError::Database(e.clone()))),
            Ok(None) => Err(Refusal(
                StatusCode::FORBIDDEN,
                3,
                format!(
                    "SdkAppId {sdk_app_id} accepts no pushes: configure it with `telcdr apps set {sdk_app_id} --push-auth none|basic|oauth2`"
                ),
            )),
            Ok(Some(auth)) => {
                check_credentials(auth, sdk_app_id, &prepared.authorization, tokens, now)
                    .and(prepared.push)
            }
        };
        match checked {
            Ok(push) => accepted.push((push, reply)),
            Err(refusal) => {
                let _ = reply.send(Err(refusal));
            }
        }
    }
    if accepted.is_empty() {
        return;
    }
    let has_download: Vec<bool> = accepted.iter().map(|(p, _)| p.download.is_some()).collect();
    let (pushes, replies): (Vec<_>, Vec<_>) = accepted.into_iter().unzip();
    match store.apply_pushes(pushes) {
        Ok(outcomes) => {
            let mut wake = false;
            for ((reply, outcome), download) in replies.into_iter().zip(outcomes).zip(has_download)
            {
                wake |= download && outcome == PushOutcome::Applied;
                let _ = reply.send(Ok(()));
            }
            if wake {
                downloads.wake();
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(store_refusal(&e)));
            }
        }
    }
}

/// The audio extension of a pushed URL's file, `mp3` when it names none
/// (CCC's recordings are MP3).
fn url_ext(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let file = path.rsplit('/').next().unwrap_or("");
    match file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
        Some(e) if e == "wav" => "wav",
        _ => "mp3",
    }
}

/// Checks a push's credentials against its app's push auth.
fn check_credentials(
    auth: &PushAuth,
    sdk_app_id: i64,
    authorization: &str,
    tokens: &TokenSigner,
    now: i64,
) -> Result<(), Refusal> {
    let refused = |why: &str| Refusal(StatusCode::UNAUTHORIZED, 2, why.to_owned());
    match auth {
        PushAuth::Open => Ok(()),
        PushAuth::Basic {
            user,
            password_hash,
        } => {
            let (got_user, got_password) = basic_credentials(authorization)
                .ok_or_else(|| refused("this app's pushes need HTTP Basic credentials"))?;
            if &got_user == user && secret_matches(password_hash, &got_password) {
                Ok(())
            } else {
                Err(refused(
                    "the user name or password does not match this app's",
                ))
            }
        }
        PushAuth::OAuth2 { secret_hash, .. } => {
            let token = authorization
                .strip_prefix("Bearer ")
                .map(str::trim)
                .ok_or_else(|| {
                    refused("this app's pushes need a bearer token from /push/oauth2/token")
                })?;
            if tokens.verify(token, sdk_app_id, secret_hash, now) {
                Ok(())
            } else {
                Err(refused(
                    "the bearer token is not valid for this app (expired, altered or issued for another)",
                ))
            }
        }
    }
}

/// (user, password) of an `Authorization: Basic ...` header.
fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let encoded = authorization.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// `POST /push/oauth2/token`: the client-credentials grant (RFC 6749 4.4).
/// The client id and secret come as form fields, a JSON body, or HTTP Basic.
pub(crate) async fn token(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match body_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body is too large",
            );
        }
    };
    let worker = app.clone();
    tokio::task::spawn_blocking(move || worker.issue_token(&headers, &bytes))
        .await
        .unwrap_or_else(|_| {
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "worker failed",
            )
        })
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = Response::new(Body::from(
        json!({"error": error, "error_description": description}).to_string(),
    ));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl App {
    fn issue_token(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let mut fields: Vec<(String, String)> =
            match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(serde_json::Value::Object(obj)) => obj
                    .into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                    .collect(),
                _ => form_urlencoded::parse(body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            };
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if let Some((id, secret)) = basic_credentials(authorization) {
            fields.push(("client_id".into(), id));
            fields.push(("client_secret".into(), secret));
        }
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        match field("grant_type") {
            Some("client_credentials") => {}
            Some(other) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    &format!("grant_type must be client_credentials, got {other:?}"),
                );
            }
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "grant_type=client_credentials is missing",
                );
            }
        }
        let (Some(client_id), Some(secret)) = (field("client_id"), field("client_secret")) else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "client_id and client_secret are required (form fields, JSON or HTTP Basic)",
            );
        };
        let found = match self.inner.store.push_client(client_id) {
            Ok(found) => found,
            Err(e) => {
                warn!(error = %e, "push token: store failure");
                return oauth_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "the store failed",
                );
            }
        };
        match found {
            Some((app, PushAuth::OAuth2 { secret_hash, .. }))
                if secret_matches(&secret_hash, secret) =>
            {
                let expires = self.inner.clock.now() + TOKEN_TTL_SECONDS;
                let token = self.inner.tokens.issue(app, expires, &secret_hash);
                let mut response = Response::new(Body::from(
                    json!({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_SECONDS})
                        .to_string(),
                ));
                let h = response.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            _ => oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client_id or wrong client_secret",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_versions() {
        assert_eq!(action_of("action=cdr&version=1").unwrap(), Action::Cdr);
        assert_eq!(
            action_of("version=1&action=record").unwrap(),
            Action::Record
        );
        assert_eq!(action_of("action=voicemail").unwrap(), Action::Voicemail);
        assert!(action_of("action=imcdr&version=1").is_err());
        assert!(action_of("action=cdr&version=2").is_err());
        assert!(action_of("").is_err());
    }

    #[test]
    fn extensions_of_pushed_urls() {
        assert_eq!(url_ext("https://x/a/b.mp3?sign=1"), "mp3");
        assert_eq!(url_ext("https://x/a/b.WAV"), "wav");
        assert_eq!(url_ext("https://x/a/b"), "mp3");
        assert_eq!(url_ext("https://x/a.wav/b"), "mp3");
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("u:p:w")
        );
        assert_eq!(basic_credentials(&header), Some(("u".into(), "p:w".into())));
        assert_eq!(basic_credentials("Bearer x"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
