//! `GET /media/<SdkAppId>/<name>?Expires=..&Signature=..`: recordings,
//! voicemails and transcripts behind the signed links the API mints.
//!
//! An unsigned, tampered or expired link gets 403 and a missing object 404,
//! each with a one-line text body saying which. A link names a media row
//! (SdkAppId and file name); where the object lives comes from that row, as
//! a parsed `ObjectKey`, so nothing outside the media store can be named. Range requests (one range) get 206, so audio
//! players can seek; the body streams in chunks read on a blocking thread.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use telcdr_media::{LinkError, ObjectKey, content_type};
use telcdr_model::media_name::MediaName;
use tokio::sync::mpsc;
use tracing::warn;

use crate::App;

/// Bytes read per chunk of a streamed answer.
const CHUNK: u64 = 256 * 1024;

pub(crate) async fn handle(State(app): State<App>, uri: Uri, headers: HeaderMap) -> Response {
    let inner = &app.inner;
    let path = uri.path();
    let now = inner.clock.now();
    if let Err(e) = inner.signer.verify(path, uri.query(), now) {
        let why = match e {
            LinkError::Unsigned => "this link is not signed: ask the API for a fresh one".into(),
            LinkError::Tampered => "this link's signature does not match it".into(),
            LinkError::Expired { expired_at } => {
                format!("this link expired at {expired_at}: ask the API for a fresh one")
            }
        };
        return text(StatusCode::FORBIDDEN, why);
    }
    let Some((sdk_app_id, name)) = path
        .strip_prefix("/media/")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(app, name)| Some((app.parse::<i64>().ok()?, name.to_owned())))
        .filter(|(_, name)| MediaName::parse(name).is_ok())
    else {
        return text(StatusCode::NOT_FOUND, "no such media object".into());
    };

    let (store, media) = (inner.store.clone(), inner.media.clone());
    let found = tokio::task::spawn_blocking(move || {
        let Some(row) = store
            .find_media(sdk_app_id, &name)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let key = ObjectKey::parse(&row.object_key).map_err(|e| e.to_string())?;
        Ok::<_, String>(
            media
                .size(&key)
                .map_err(|e| e.to_string())?
                .map(|size| (key, size)),
        )
    })
    .await;
    let (key, size) = match found {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => return text(StatusCode::NOT_FOUND, "no such media object".into()),
        Ok(Err(e)) => {
            warn!(error = %e, sdk_app_id, "media look-up failed");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "media store failure".into(),
            );
        }
        Err(_) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "media worker failed".into(),
            );
        }
    };

    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, size));
    let (status, start, len) = match range {
        None | Some(RangeAnswer::Whole) => (StatusCode::OK, 0, size),
        Some(RangeAnswer::Part { start, end }) => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Some(RangeAnswer::Unsatisfiable) => {
            let mut response = text(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the object has {size} bytes"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return response;
        }
    };

    let mut response = Response::new(stream_body(&app, key.clone(), start, len));
    *response.status_mut() = status;
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(key.as_str())),
    );
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    // Links are private and short-lived; nothing in between should keep them.
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1))
    {
        out.insert(header::CONTENT_RANGE, v);
    }
    response
}

/// Streams `len` bytes from `start`, reading on a blocking thread.
fn stream_body(app: &App, key: ObjectKey, start: u64, len: u64) -> Body {
    if len == 0 {
        return Body::empty();
    }
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let media = app.inner.media.clone();
    tokio::task::spawn_blocking(move || {
        let mut at = start;
        let end = start + len;
        while at < end {
            let want = CHUNK.min(end - at);
            let failure = match media.read_range(&key, at, want) {
                Ok(Some(bytes)) if !bytes.is_empty() => {
                    at += bytes.len() as u64;
                    if sender.blocking_send(Ok(Bytes::from(bytes))).is_err() {
                        // The client went away.
                        return;
                    }
                    continue;
                }
                Ok(_) => "the object ended early".to_owned(),
                Err(e) => e.to_string(),
            };
            // Ends the body with an error: the client sees a cut transfer,
            // not a short file that looks whole.
            let _ = sender.blocking_send(Err(std::io::Error::other(failure)));
            return;
        }
    });
    Body::new(ChunkBody { receiver })
}

/// A response body fed by the reading thread.
struct ChunkBody {
    receiver: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl http_body::Body for ChunkBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        self.receiver
            .poll_recv(cx)
            .map(|chunk| chunk.map(|r| r.map(http_body::Frame::data)))
    }
}

fn text(status: StatusCode, message: String) -> Response {
    let mut response = Response::new(Body::from(format!("{message}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// What a `Range` header asks of an object of a known size.
#[derive(Debug, PartialEq, Eq)]
enum RangeAnswer {
    /// No usable range (unknown unit, several ranges, malformed): the whole
    /// object, as RFC 9110 allows a server to answer.
    Whole,
    /// Inclusive byte positions.
    Part {
        start: u64,
        end: u64,
    },
    Unsatisfiable,
}

fn parse_range(value: &str, size: u64) -> RangeAnswer {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Whole;
    };
    if spec.contains(',') {
        return RangeAnswer::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match parsed(last) {
            Some(0) => RangeAnswer::Unsatisfiable,
            Some(n) if size > 0 => RangeAnswer::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
            Some(_) => RangeAnswer::Unsatisfiable,
            None => RangeAnswer::Whole,
        },
        // bytes=A- or bytes=A-B.
        (false, _) => {
            let Some(start) = parsed(first) else {
                return RangeAnswer::Whole;
            };
            let end = if last.is_empty() {
                size.saturating_sub(1)
            } else {
                match parsed(last) {
                    Some(end) if end >= start => end.min(size.saturating_sub(1)),
                    _ => return RangeAnswer::Whole,
                }
            };
            if start >= size {
                RangeAnswer::Unsatisfiable
            } else {
                RangeAnswer::Part { start, end }
            }
        }
        (true, true) => RangeAnswer::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeAnswer::*;
        assert_eq!(parse_range("bytes=0-99", 1000), Part { start: 0, end: 99 });
        assert_eq!(
            parse_range("bytes=900-", 1000),
            Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            parse_range("bytes=-100", 1000),
            Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            parse_range("bytes=-5000", 1000),
            Part { start: 0, end: 999 }
        );
        assert_eq!(
            parse_range("bytes=990-5000", 1000),
            Part {
                start: 990,
                end: 999
            }
        );
        assert_eq!(parse_range("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 1000), Whole);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Whole);
        assert_eq!(parse_range("items=0-1", 1000), Whole);
        assert_eq!(parse_range("bytes=x-1", 1000), Whole);
    }
}
