//! CCC's data push against an in-process server: each action and each auth
//! mode, UUID de-duplication, a recording pushed before its record, bad
//! payloads (nothing written), and downloads that fail, retry, and resume
//! from the durable queue. Recordings are served by a small HTTP server in
//! the test, standing in for CCC's storage.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use base64::Engine;
use common::*;
use serde_json::{Value, json};
use telcdr_model::demo_recording_wav;
use telcdr_server::ServerConfig;
use telcdr_server::downloads::DownloadConfig;
use telcdr_server::push_auth::hash_secret;
use telcdr_store::PushAuth;

/// CCC's recording storage, as far as the test needs it: files by name,
/// and a number of requests to fail first.
#[derive(Clone, Default)]
struct Files {
    bytes: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    fail_first: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

async fn serve_file(
    State(files): State<Files>,
    Path(name): Path<String>,
) -> (http::StatusCode, Vec<u8>) {
    files.requests.fetch_add(1, Ordering::SeqCst);
    if files
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (http::StatusCode::SERVICE_UNAVAILABLE, b"busy".to_vec());
    }
    match files.bytes.lock().unwrap().get(&name) {
        Some(bytes) => (http::StatusCode::OK, bytes.clone()),
        None => (http::StatusCode::NOT_FOUND, Vec::new()),
    }
}

/// Starts the file server; returns its base URL.
async fn file_server(files: Files) -> String {
    let router = axum::Router::new()
        .route("/files/{name}", axum::routing::get(serve_file))
        .with_state(files);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/files")
}

fn fast_downloads() -> DownloadConfig {
    DownloadConfig {
        max_attempts: 3,
        backoff_seconds: 0,
        timeout_seconds: 10,
        poll: Duration::from_millis(50),
        ..DownloadConfig::default()
    }
}

async fn server() -> TestServer {
    start(
        20,
        ServerConfig {
            rate_limit_per_second: 0,
            ..ServerConfig::default()
        },
    )
    .await
}

async fn set_auth(server: &TestServer, app: i64, auth: Option<PushAuth>) {
    let store = server.store.clone();
    blocking(move || store.set_push_auth(app, auth.as_ref()).unwrap()).await;
}

fn cdr_body(session: &str, record_id: &str) -> Vec<u8> {
    json!({
        "SdkAppId": APP, "SessionId": session, "Caller": "008613800000001",
        "Callee": "4000", "Direction": 0, "CallType": 2, "Duration": 30,
        "StartTimestamp": NOW - 600, "RingTimestamp": NOW - 590,
        "AcceptTimestamp": NOW - 580, "EndedTimestamp": NOW - 550,
        "EndStatusString": "ok", "RecordId": record_id,
        "RecordURL": format!("https://ccc.example/{record_id}.mp3"),
        "SeatUser": {"Mail": "a@x", "Name": "A"}, "HungUpSide": "user"
    })
    .to_string()
    .into_bytes()
}

async fn push(
    server: &TestServer,
    action: &str,
    uuid: &str,
    auth: &str,
    body: &[u8],
) -> (u16, Value) {
    let mut headers = vec![
        ("Content-Type", "application/json;charset=utf8"),
        ("X-TCCC-PUSH-UUID", uuid),
    ];
    if !auth.is_empty() {
        headers.push(("Authorization", auth));
    }
    let path = format!("/push?action={action}&version=1");
    let reply = server.post(&path, &headers, body).await;
    (reply.status, reply.json())
}

async fn record_count(server: &TestServer) -> u64 {
    let store = server.store.clone();
    blocking(move || store.record_count().unwrap()).await
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn an_app_without_push_auth_refuses_pushes() {
    let server = server().await;
    let before = record_count(&server).await;
    let (status, body) = push(&server, "cdr", "u1", "", &cdr_body("s1", "r1")).await;
    assert_eq!(status, 403);
    assert_eq!(body["ErrCode"], 3);
    assert!(body["ErrMsg"].as_str().unwrap().contains("--push-auth"));
    assert_eq!(record_count(&server).await, before);
}

#[tokio::test]
async fn basic_auth_and_open_apps() {
    let server = server().await;
    set_auth(
        &server,
        APP,
        Some(PushAuth::Basic {
            user: "ccc".into(),
            password_hash: hash_secret("pa55"),
        }),
    )
    .await;
    let before = record_count(&server).await;
    for (auth, code) in [
        (String::new(), 2),
        (basic("ccc", "wrong"), 2),
        (basic("other", "pa55"), 2),
        ("Basic !!!".to_owned(), 2),
    ] {
        let (status, body) = push(&server, "cdr", "u", &auth, &cdr_body("s1", "r1")).await;
        assert_eq!(
            (status, body["ErrCode"].as_i64()),
            (401, Some(code)),
            "{auth}"
        );
    }
    assert_eq!(record_count(&server).await, before, "nothing written");
    let (status, body) = push(
        &server,
        "cdr",
        "u2",
        &basic("ccc", "pa55"),
        &cdr_body("s1", "r1"),
    )
    .await;
    assert_eq!(
        (status, body.clone()),
        (200, json!({"ErrCode": 0, "ErrMsg": ""}))
    );
    assert_eq!(record_count(&server).await, before + 1);
    // The record is there, through the API, as pushed.
    let mut params = query(1, 10, 0);
    params["SessionIds"] = json!(["s1"]);
    let reply = server.call(params).send().await;
    assert_eq!(reply.total(), 1);
    assert_eq!(
        reply.response()["TelCdrList"][0]["Time"],
        NOW - 600,
        "Time from StartTimestamp"
    );

    // The other tenant's credentials do not reach this one.
    set_auth(&server, OTHER_APP, Some(PushAuth::Open)).await;
    let mut foreign = serde_json::from_slice::<Value>(&cdr_body("s2", "r2")).unwrap();
    foreign["SdkAppId"] = json!(OTHER_APP);
    let (status, _) = push(&server, "cdr", "u3", "", foreign.to_string().as_bytes()).await;
    assert_eq!(status, 200, "an open app takes pushes without credentials");
    let (status, _) = push(&server, "cdr", "u4", "", &cdr_body("s3", "r3")).await;
    assert_eq!(status, 401, "but APP still wants its own");
}

#[tokio::test]
async fn oauth2_tokens_come_from_the_token_endpoint() {
    let server = server().await;
    set_auth(
        &server,
        APP,
        Some(PushAuth::OAuth2 {
            client_id: "ccc-client".into(),
            secret_hash: hash_secret("cs"),
        }),
    )
    .await;
    let token_reply = |body: &'static str| {
        let server = &server;
        async move {
            server
                .post(
                    "/push/oauth2/token",
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    body.as_bytes(),
                )
                .await
        }
    };
    let bad =
        token_reply("grant_type=client_credentials&client_id=ccc-client&client_secret=no").await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"], "invalid_client");
    let wrong_grant =
        token_reply("grant_type=password&client_id=ccc-client&client_secret=cs").await;
    assert_eq!(wrong_grant.json()["error"], "unsupported_grant_type");
    let ok =
        token_reply("grant_type=client_credentials&client_id=ccc-client&client_secret=cs").await;
    assert_eq!(ok.status, 200);
    let token = ok.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(ok.json()["token_type"], "Bearer");
    // HTTP Basic client authentication works too.
    let via_basic = server
        .post(
            "/push/oauth2/token",
            &[("Authorization", &basic("ccc-client", "cs"))],
            b"grant_type=client_credentials",
        )
        .await;
    assert_eq!(via_basic.status, 200);

    let bearer = format!("Bearer {token}");
    let (status, body) = push(&server, "cdr", "t1", &bearer, &cdr_body("s1", "r1")).await;
    assert_eq!((status, body["ErrCode"].as_i64()), (200, Some(0)));
    let (status, _) = push(
        &server,
        "cdr",
        "t2",
        "Bearer 1400000000.9999999999.00",
        &cdr_body("s1", "r1"),
    )
    .await;
    assert_eq!(status, 401, "a forged token");
    server.clock.set(NOW + 7_201);
    let (status, body) = push(&server, "cdr", "t3", &bearer, &cdr_body("s1", "r1")).await;
    assert_eq!(status, 401, "expired");
    assert!(body["ErrMsg"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn retries_are_folded_by_uuid_and_bad_payloads_write_nothing() {
    let server = server().await;
    set_auth(&server, APP, Some(PushAuth::Open)).await;
    let before = record_count(&server).await;
    let record = json!({"SdkAppId": APP, "RecordId": "r9", "SessionId": "s9",
                        "Timestamp": NOW, "EndpointUser": "a@x",
                        "RecordURL": "http://127.0.0.1:9/r9.mp3"})
    .to_string();
    for _ in 0..3 {
        let (status, body) = push(&server, "record", "same-uuid", "", record.as_bytes()).await;
        assert_eq!((status, body["ErrCode"].as_i64()), (200, Some(0)));
    }
    let store = server.store.clone();
    let counts = blocking(move || store.download_counts().unwrap()).await;
    assert_eq!(counts.pending, 1, "three deliveries, one download");

    for (action, body, want) in [
        ("cdr", b"{".to_vec(), "not valid JSON"),
        (
            "cdr",
            br#"{"SdkAppId":1400000000}"#.to_vec(),
            "SessionId is missing",
        ),
        (
            "cdr",
            br#"{"SdkAppId":1400000000,"SessionId":"s","Time":5,"Direction":7}"#.to_vec(),
            "Direction must be 0",
        ),
        (
            "record",
            br#"{"SdkAppId":1400000000,"SessionId":"s"}"#.to_vec(),
            "RecordId is missing",
        ),
        (
            "voicemail",
            br#"{"SdkAppId":1400000000,"SessionId":"s","RecordURL":"file:///etc/passwd"}"#.to_vec(),
            "http(s) URL",
        ),
        (
            "imcdr",
            cdr_body("s1", "r1"),
            "action must be cdr, record or voicemail",
        ),
    ] {
        let (status, reply) = push(&server, action, "u-bad", "", &body).await;
        assert_ne!(reply["ErrCode"], 0, "{action}: {reply}");
        assert_eq!(status, 400, "{action}");
        assert!(reply["ErrMsg"].as_str().unwrap().contains(want), "{reply}");
    }
    assert_eq!(
        record_count(&server).await,
        before,
        "nothing of a bad push written"
    );
}

#[tokio::test]
async fn a_recording_pushed_before_its_record_is_downloaded_and_linked() {
    let server = server().await;
    set_auth(&server, APP, Some(PushAuth::Open)).await;
    let files = Files::default();
    let base = file_server(files.clone()).await;
    let wav = demo_recording_wav(&telcdr_model::TelCdrInfo {
        accept_timestamp: NOW - 580,
        duration: 3,
        ..Default::default()
    });
    files
        .bytes
        .lock()
        .unwrap()
        .insert("r-early.wav".into(), wav.clone());
    // CCC's storage is busy at first: the worker retries.
    files.fail_first.store(2, Ordering::SeqCst);
    server.app.spawn_download_worker(fast_downloads()).unwrap();

    let record = json!({"SdkAppId": APP, "RecordId": "r-early", "SessionId": "s-early",
                        "Timestamp": NOW, "RecordURL": format!("{base}/r-early.wav")})
    .to_string();
    let (status, _) = push(&server, "record", "p1", "", record.as_bytes()).await;
    assert_eq!(status, 200);
    let store = server.store.clone();
    wait_for("the download", async || {
        let store = store.clone();
        blocking(move || store.list_pending_media().unwrap().len() == 1).await
    })
    .await;
    assert_eq!(
        files.requests.load(Ordering::SeqCst),
        3,
        "two failures, then the file"
    );

    let (status, _) = push(&server, "cdr", "p2", "", &cdr_body("s-early", "r-early")).await;
    assert_eq!(status, 200);
    let mut params = query(1, 10, 0);
    params["SessionIds"] = json!(["s-early"]);
    // Linked at once; moved to its dated key by the worker soon after.
    let url = {
        let reply = server.call(params.clone()).send().await;
        reply.response()["TelCdrList"][0]["RecordURL"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(url.contains("/media/"), "{url}");
    assert_eq!(
        server.fetch(&url, None).await.bytes.as_ref(),
        wav.as_slice()
    );
    wait_for("the dated key", async || {
        let store = store.clone();
        blocking(move || {
            store.media_for_sessions(APP, &["s-early"]).unwrap()[0]
                .object_key
                .starts_with(&format!("{APP}/"))
        })
        .await
    })
    .await;
    // The link handed out before the move still works.
    assert_eq!(
        server.fetch(&url, None).await.bytes.as_ref(),
        wav.as_slice()
    );
}

#[tokio::test]
async fn voicemails_are_numbered_and_failed_downloads_are_given_up() {
    let server = server().await;
    set_auth(&server, APP, Some(PushAuth::Open)).await;
    let files = Files::default();
    let base = file_server(files.clone()).await;
    let wav = demo_recording_wav(&telcdr_model::TelCdrInfo {
        accept_timestamp: NOW,
        duration: 1,
        ..Default::default()
    });
    files
        .bytes
        .lock()
        .unwrap()
        .insert("v.wav".into(), wav.clone());
    files
        .bytes
        .lock()
        .unwrap()
        .insert("not-audio.mp3".into(), b"<html>".to_vec());

    let (status, _) = push(&server, "cdr", "c1", "", &cdr_body("s-vm", "")).await;
    assert_eq!(status, 200);
    for uuid in ["v1", "v2"] {
        let body = json!({"SdkAppId": APP, "SessionId": "s-vm", "Timestamp": NOW,
                          "RecordURL": format!("{base}/v.wav"), "EndpointUser": 13123456789u64});
        let (status, _) = push(&server, "voicemail", uuid, "", body.to_string().as_bytes()).await;
        assert_eq!(status, 200);
    }
    let bad = json!({"SdkAppId": APP, "RecordId": "r-bad", "SessionId": "s-vm",
                     "RecordURL": format!("{base}/not-audio.mp3")});
    push(&server, "record", "b1", "", bad.to_string().as_bytes()).await;
    // Queued while no worker ran: a restart resumes the queue.
    server.app.spawn_download_worker(fast_downloads()).unwrap();

    let store = server.store.clone();
    wait_for("the downloads", async || {
        let store = store.clone();
        blocking(move || {
            let c = store.download_counts().unwrap();
            c.pending == 0 && c.done == 2 && c.failed == 1
        })
        .await
    })
    .await;
    let mut params = query(1, 10, 0);
    params["SessionIds"] = json!(["s-vm"]);
    let reply = server.call(params).send().await;
    let links = reply.response()["TelCdrList"][0]["VoicemailRecordURL"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(links.len(), 2);
    assert!(links[0].as_str().unwrap().contains("s-vm.voicemail.0.wav"));
    assert!(links[1].as_str().unwrap().contains("s-vm.voicemail.1.wav"));
    for link in links {
        let got = server.fetch(link.as_str().unwrap(), None).await;
        assert_eq!(got.bytes.as_ref(), wav.as_slice());
    }
}
