//! Recordings, transcripts, number protection and the single-session and
//! statistics actions, over HTTP against an in-process server: the links the
//! API mints serve the stored bytes (Range included) and nothing else, and
//! every answer is compared with what the generated records say.
//!
//! Runs on the local media directory, and on S3 when
//! `TEST_TELCDR_MEDIA_BACKEND=s3` (see `common`).

mod common;

use common::*;
use serde_json::{Value, json};
use telcdr_media::{LinkSigner, ObjectKey};
use telcdr_model::normalize_phone;
use telcdr_model::{
    ImportedRecord, TelCdrInfo, demo_recording_wav, demo_transcript, parse_record_line,
    transcript_ms,
};
use telcdr_server::ServerConfig;
use telcdr_server::protect::NumberProtector;
use telcdr_store::{AppSettings, MediaObject, NewRecord};

const RECORDS: u64 = 400;
const DAY: i64 = 86_400;

fn records() -> Vec<ImportedRecord> {
    generated(RECORDS)
}

/// Answered calls with a recording id, oldest first.
fn answered(records: &[ImportedRecord]) -> Vec<&TelCdrInfo> {
    records
        .iter()
        .map(|r| &r.cdr)
        .filter(|c| c.accept_timestamp > 0 && c.duration > 0 && !c.record_id.is_empty())
        .collect()
}

fn config() -> ServerConfig {
    ServerConfig {
        rate_limit_per_second: 0,
        ..ServerConfig::default()
    }
}

/// What the test stored for a call.
struct Held {
    wav: Vec<u8>,
    transcript: Vec<u8>,
}

/// Stores a call's recording and transcript as `import --media` would.
async fn hold(server: &TestServer, cdr: &TelCdrInfo) -> Held {
    let held = Held {
        wav: demo_recording_wav(cdr),
        transcript: serde_json::to_vec(&demo_transcript(cdr)).unwrap(),
    };
    let (store, media) = (server.store.clone(), server.media.clone());
    let files = [
        (format!("{}.wav", cdr.record_id), held.wav.clone(), 0),
        (
            format!("{}.asr.json", cdr.session_id),
            held.transcript.clone(),
            transcript_ms(&demo_transcript(cdr)),
        ),
    ];
    let (session_id, time) = (cdr.session_id.clone(), cdr.time);
    blocking(move || {
        for (name, bytes, duration_ms) in files {
            let key = ObjectKey::for_media(APP, time, &name).unwrap();
            let size = bytes.len() as u64;
            media.put(&key, bytes).unwrap();
            store
                .put_media(vec![MediaObject {
                    sdk_app_id: APP,
                    name,
                    session_id: session_id.clone(),
                    object_key: key.as_str().to_owned(),
                    size,
                    duration_ms,
                    time,
                }])
                .unwrap();
        }
    })
    .await;
    held
}

/// The one record of `session_id`, as DescribeTelCdr returns it.
async fn cdr_of(server: &TestServer, session_id: &str) -> Value {
    let mut params = query(20, 10, 0);
    params["SessionIds"] = json!([session_id]);
    let reply = server.call(params).send().await;
    assert_eq!(reply.code(), "", "{}", reply.body);
    assert_eq!(reply.total(), 1);
    reply.response()["TelCdrList"][0].clone()
}

async fn action(server: &TestServer, name: &str, params: Value) -> Reply {
    server.call(params).action(name).send().await
}

async fn setting(server: &TestServer, name: &'static str) -> String {
    let store = server.store.clone();
    blocking(move || store.setting(name).unwrap().expect("server secret")).await
}

#[tokio::test]
async fn links_serve_the_stored_bytes_with_ranges_and_types() {
    let server = start(RECORDS, config()).await;
    let records = records();
    let calls = answered(&records);
    let (call, other) = (calls[calls.len() - 1], calls[calls.len() - 2]);
    let held = hold(&server, call).await;

    let record = cdr_of(&server, &call.session_id).await;
    let url = record["RecordURL"].as_str().unwrap();
    let prefix = format!("http://{}/media/{APP}/", server.addr);
    assert!(url.starts_with(&prefix), "{url}");
    assert!(
        url.contains(&format!("{}.wav?Expires=", call.record_id)),
        "{url}"
    );
    assert_eq!(record["AsrStatus"], "Complete");

    let whole = server.fetch(url, None).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.bytes.as_ref(), held.wav.as_slice());
    assert_eq!(whole.header("content-type"), "audio/wav");
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert_eq!(whole.header("content-length"), held.wav.len().to_string());

    let part = server.fetch(url, Some("bytes=10-19")).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes.as_ref(), &held.wav[10..20]);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 10-19/{}", held.wav.len())
    );
    let tail = server.fetch(url, Some("bytes=-44")).await;
    assert_eq!(tail.status, 206);
    assert_eq!(tail.bytes.as_ref(), &held.wav[held.wav.len() - 44..]);
    let beyond = server.fetch(url, Some("bytes=99999999-")).await;
    assert_eq!(beyond.status, 416);
    assert_eq!(
        beyond.header("content-range"),
        format!("bytes */{}", held.wav.len())
    );

    let asr = server.fetch(record["AsrUrl"].as_str().unwrap(), None).await;
    assert_eq!(asr.status, 200);
    assert_eq!(asr.header("content-type"), "application/json");
    assert_eq!(asr.bytes.as_ref(), held.transcript.as_slice());

    // A call whose media telcdr does not hold keeps the URL it came with.
    let plain = cdr_of(&server, &other.session_id).await;
    assert_eq!(plain["RecordURL"], other.record_url.as_str());
    assert_eq!(plain["AsrUrl"], other.asr_url.as_str());
}

#[tokio::test]
async fn unsigned_tampered_expired_and_missing_links_are_refused() {
    let server = start(RECORDS, config()).await;
    let records = records();
    let call = *answered(&records).last().unwrap();
    hold(&server, call).await;
    let record = cdr_of(&server, &call.session_id).await;
    let url = record["RecordURL"].as_str().unwrap().to_owned();
    let (base, query) = url.split_once('?').unwrap();

    assert_eq!(server.fetch(&url, None).await.status, 200);
    let unsigned = server.fetch(base, None).await;
    assert_eq!(unsigned.status, 403);
    assert!(String::from_utf8_lossy(&unsigned.bytes).contains("not signed"));

    let mut bad_signature = url.clone();
    let last = bad_signature.pop().unwrap();
    bad_signature.push(if last == '0' { '1' } else { '0' });
    assert_eq!(server.fetch(&bad_signature, None).await.status, 403);

    let other_path = format!("{}?{query}", base.replace(".wav", ".mp3"));
    assert_eq!(server.fetch(&other_path, None).await.status, 403);

    let expires: i64 = query
        .split('&')
        .find_map(|p| p.strip_prefix("Expires="))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(expires, NOW + DAY, "valid 24 h by default");
    server.clock.set(expires + 1);
    let expired = server.fetch(&url, None).await;
    assert_eq!(expired.status, 403);
    assert!(String::from_utf8_lossy(&expired.bytes).contains("expired"));
    server.clock.set(NOW);

    // Signed, but naming something outside the store or nothing at all.
    let signer = LinkSigner::new(setting(&server, "secret.media_links").await.as_bytes());
    for path in [
        "/media/../telcdr.db".to_owned(),
        format!("/media/{APP}/../../telcdr.db"),
        format!("/media/{APP}/%2e%2e/telcdr.db"),
        format!("/media/{APP}/2020/01/01/nothing-here.wav"),
    ] {
        let link = format!(
            "http://{}{path}?{}",
            server.addr,
            signer.sign(&path, NOW + 60)
        );
        assert_eq!(server.fetch(&link, None).await.status, 404, "{path}");
    }

    // The object gone from the media store, its row still there: 404.
    let (store, media) = (server.store.clone(), server.media.clone());
    let session = call.session_id.clone();
    let record_id = call.record_id.clone();
    blocking(move || {
        let row = store
            .media_for_sessions(APP, &[&session])
            .unwrap()
            .into_iter()
            .find(|m| m.name == format!("{record_id}.wav"))
            .unwrap();
        media
            .delete(&ObjectKey::parse(&row.object_key).unwrap())
            .unwrap()
    })
    .await;
    assert_eq!(server.fetch(&url, None).await.status, 404);
}

#[tokio::test]
async fn link_lifetime_is_configurable() {
    let server = start(
        RECORDS,
        ServerConfig {
            media_link_ttl_seconds: 60,
            ..config()
        },
    )
    .await;
    let records = records();
    let call = *answered(&records).last().unwrap();
    hold(&server, call).await;
    let url = cdr_of(&server, &call.session_id).await["RecordURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.contains(&format!("Expires={}&", NOW + 60)), "{url}");
    server.clock.set(NOW + 60);
    assert_eq!(server.fetch(&url, None).await.status, 200);
    server.clock.set(NOW + 61);
    assert_eq!(server.fetch(&url, None).await.status, 403);
}

#[tokio::test]
async fn number_protection_masks_numbers_and_phones_still_match() {
    let server = start(RECORDS, config()).await;
    let records = records();
    let caller = records[records.len() - 1].cdr.caller.clone();
    let protector = NumberProtector::new(
        setting(&server, "secret.number_protection")
            .await
            .as_bytes(),
    );
    let by_phone = || {
        let mut params = query(20, 100, 0);
        params["Phones"] = json!([caller.clone()]);
        params
    };
    let expected_total = records
        .iter()
        .filter(|r| {
            let n = normalize_phone(&caller);
            normalize_phone(&r.cdr.caller) == n || normalize_phone(&r.cdr.callee) == n
        })
        .count() as i64;

    let set = |on: bool| {
        let store = server.store.clone();
        blocking(move || {
            store
                .set_app_settings(
                    APP,
                    &AppSettings {
                        number_protection: on,
                        ..AppSettings::default()
                    },
                )
                .unwrap()
        })
    };
    set(true).await;
    let masked = server.call(by_phone()).send().await;
    assert_eq!(masked.code(), "", "{}", masked.body);
    assert_eq!(masked.total(), expected_total);
    assert!(expected_total > 0);
    for (got, want) in masked.response()["TelCdrList"]
        .as_array()
        .unwrap()
        .iter()
        .zip(records.iter().rev().filter(|r| {
            let n = normalize_phone(&caller);
            normalize_phone(&r.cdr.caller) == n || normalize_phone(&r.cdr.callee) == n
        }))
    {
        assert_eq!(got["Caller"], "");
        assert_eq!(got["Callee"], "");
        assert_eq!(
            got["ProtectedCaller"],
            protector.protect(APP, &want.cdr.caller)
        );
        assert_eq!(
            got["ProtectedCallee"],
            protector.protect(APP, &want.cdr.callee)
        );
    }

    // The same call through DescribeTelSession is masked too.
    let last = &records[records.len() - 1].cdr;
    let session = action(
        &server,
        "DescribeTelSession",
        json!({"SdkAppId": APP, "SessionId": last.session_id}),
    )
    .await;
    assert_eq!(session.response()["Session"]["Caller"], "");
    assert_eq!(
        session.response()["Session"]["ProtectedCaller"],
        protector.protect(APP, &last.caller)
    );

    set(false).await;
    let plain = server.call(by_phone()).send().await;
    let first = &plain.response()["TelCdrList"][0];
    assert_eq!(first["Caller"], last.caller.as_str());
    assert_eq!(first["ProtectedCaller"], "");

    // DescribeProtectedTelCdr masks whatever the setting.
    let protected = action(&server, "DescribeProtectedTelCdr", query(20, 5, 0)).await;
    assert_eq!(protected.code(), "", "{}", protected.body);
    assert_eq!(protected.total(), RECORDS as i64);
    for r in protected.response()["TelCdrList"].as_array().unwrap() {
        assert_eq!(r["Caller"], "");
        assert_eq!(r["ProtectedCaller"].as_str().unwrap().len(), 32);
    }
}

#[tokio::test]
async fn single_session_actions_read_the_record_its_events_and_transcript() {
    let server = start(RECORDS, config()).await;
    let records = records();
    let calls = answered(&records);
    let call = calls[calls.len() - 1];
    hold(&server, call).await;

    let session = action(
        &server,
        "DescribeTelSession",
        json!({"SdkAppId": APP, "SessionId": call.session_id}),
    )
    .await;
    assert_eq!(session.code(), "", "{}", session.body);
    let s = &session.response()["Session"];
    assert_eq!(s["SessionID"], call.session_id.as_str());
    assert_eq!(s["SessionStatus"], "finished");
    assert_eq!(s["Caller"], call.caller.as_str());
    assert_eq!(s["AcceptTimestamp"], call.accept_timestamp);
    assert_eq!(s["StaffEmail"], call.seat_user.mail.as_str());
    assert_eq!(s["Direction"], call.direction);

    let asr = action(
        &server,
        "DescribeTelRecordAsr",
        json!({"SdkAppId": APP, "SessionId": call.session_id}),
    )
    .await;
    assert_eq!(asr.code(), "", "{}", asr.body);
    assert_eq!(
        asr.response()["AsrDataList"],
        serde_json::to_value(demo_transcript(call)).unwrap()
    );
    let no_transcript = action(
        &server,
        "DescribeTelRecordAsr",
        json!({"SdkAppId": APP, "SessionId": calls[0].session_id}),
    )
    .await;
    assert_eq!(no_transcript.code(), "ResourceNotFound");
    assert!(no_transcript.message().contains("no transcript"));

    // A record that came with Events.
    let line = format!(
        r#"{{"SdkAppId":{APP},"SessionId":"with-events","Time":{t},"StartTimestamp":{t},"Caller":"8613000000009","Callee":"4000","AcceptTimestamp":{a},"Duration":30,"CallType":2,"IVRKeyPressedEx":[{{"Key":"1","Label":"sales","NodeLabel":"menu","OriginalContent":"","TTSPrompt":"","Timestamp":1}}],"Events":[{{"Timestamp":{a},"EventType":"StaffHold","StaffEventDetail":{{"Staffs":[{{"Mail":"a@x","StaffNumber":"7"}}]}}}}]}}"#,
        t = NOW - 100,
        a = NOW - 90
    );
    let imported = parse_record_line(line.as_bytes()).unwrap();
    let store = server.store.clone();
    blocking(move || {
        store
            .put_records(vec![NewRecord::from_imported(&imported)])
            .unwrap()
    })
    .await;
    let window = json!({"SdkAppId": APP, "SessionId": "with-events",
                        "StartTimestamp": NOW - DAY, "EndTimestamp": NOW});
    let detail = action(&server, "DescribeSessionDetail", window.clone()).await;
    assert_eq!(detail.code(), "", "{}", detail.body);
    let d = detail.response();
    assert_eq!(d["StartTimeStamp"], NOW - 100);
    assert_eq!(d["CallType"], 2);
    assert_eq!(
        d["IVRKeyPressed"][0]["Label"], "sales",
        "objects, not strings"
    );
    assert_eq!(
        d["Events"],
        json!([{"Timestamp": NOW - 90, "EventType": "StaffHold",
                "StaffEventDetail": {"Staffs": [{"Mail": "a@x", "StaffNumber": "7"}]}}])
    );
    assert!(d.get("AsrURL").is_some() && d.get("AsrUrl").is_none());

    let mut outside = window.clone();
    outside["EndTimestamp"] = json!(NOW - 200);
    let gone = action(&server, "DescribeSessionDetail", outside).await;
    assert_eq!(gone.code(), "FailedOperation.SessionNotExists");
    let mut unknown = window.clone();
    unknown["SessionId"] = json!("no-such-session");
    let unknown = action(&server, "DescribeSessionDetail", unknown).await;
    assert_eq!(unknown.code(), "FailedOperation.SessionNotExists");

    // A held recording reaches DescribeSessionDetail's URLs as links.
    let window = json!({"SdkAppId": APP, "SessionId": call.session_id,
                        "StartTimestamp": NOW - 19 * DAY, "EndTimestamp": NOW});
    let detail = action(&server, "DescribeSessionDetail", window).await;
    assert!(
        detail.response()["RecordURL"]
            .as_str()
            .unwrap()
            .contains("/media/")
    );
    assert!(
        detail.response()["AsrURL"]
            .as_str()
            .unwrap()
            .contains(".asr.json?Expires=")
    );
}

#[tokio::test]
async fn tel_call_info_counts_package_minutes_from_the_records() {
    let server = start(RECORDS, config()).await;
    let records = records();
    let calls = answered(&records);
    for call in &calls[calls.len() - 3..] {
        hold(&server, call).await;
    }
    let (start, end) = (NOW - 10 * DAY, NOW);

    // The rules, written out independently of the action.
    let (mut out, mut inbound, mut audio) = (0, 0, 0);
    let mut seats = std::collections::BTreeSet::new();
    let mut asr = 0;
    for r in records.iter().map(|r| &r.cdr) {
        if r.time < start || r.time > end {
            continue;
        }
        seats.extend(
            std::iter::once(&r.seat_user.mail)
                .chain(r.serve_participants.iter().map(|p| &p.mail))
                .filter(|m| !m.is_empty())
                .cloned(),
        );
        if r.accept_timestamp > 0 && r.duration > 0 {
            let minutes = (r.duration + 59) / 60;
            match r.call_type {
                1 | 5 => out += minutes,
                3 | 6 => audio += minutes,
                0 if r.direction == 1 => out += minutes,
                _ => inbound += minutes,
            }
        }
        if calls[calls.len() - 3..]
            .iter()
            .any(|c| c.session_id == r.session_id)
        {
            asr += (transcript_ms(&demo_transcript(r)) + 59_999) / 60_000;
        }
    }
    let reply = action(
        &server,
        "DescribeTelCallInfo",
        json!({"StartTimeStamp": start, "EndTimeStamp": end, "SdkAppIdList": [APP]}),
    )
    .await;
    assert_eq!(reply.code(), "", "{}", reply.body);
    let r = reply.response();
    assert_eq!(r["TelCallOutCount"], out);
    assert_eq!(r["TelCallInCount"], inbound);
    assert_eq!(r["VOIPCallInCount"], audio);
    assert_eq!(r["VoipCallInCount"], audio);
    assert_eq!(r["SeatUsedCount"], seats.len() as i64);
    assert_eq!(r["AsrOfflineCount"], asr);
    assert!(asr > 0 && out + inbound > 0);
    assert_eq!(r["AsrRealtimeCount"], 0);

    let foreign = action(
        &server,
        "DescribeTelCallInfo",
        json!({"StartTimeStamp": start, "EndTimeStamp": end, "SdkAppIdList": [APP, OTHER_APP]}),
    )
    .await;
    assert_eq!(foreign.code(), "InvalidParameterValue.InstanceNotExist");
    let too_long = action(
        &server,
        "DescribeTelCallInfo",
        json!({"StartTimeStamp": NOW - 90 * DAY, "EndTimeStamp": NOW, "SdkAppIdList": [APP]}),
    )
    .await;
    assert_eq!(too_long.code(), "InvalidParameterValue");
}

#[tokio::test]
async fn live_call_actions_say_why_they_are_unsupported() {
    let server = start(10, config()).await;
    for (name, params) in [
        ("DescribeCallInMetrics", json!({"SdkAppId": APP})),
        (
            "DescribePSTNActiveSessionList",
            json!({"SdkAppId": APP, "Offset": 0, "Limit": 10}),
        ),
    ] {
        let reply = action(&server, name, params.clone()).await;
        assert_eq!(reply.code(), "UnsupportedOperation", "{name}");
        assert!(
            reply.message().contains("in progress"),
            "{}",
            reply.message()
        );
        let mut foreign = params.clone();
        foreign["SdkAppId"] = json!(OTHER_APP);
        let reply = action(&server, name, foreign).await;
        assert_eq!(reply.code(), "InvalidParameterValue.InstanceNotExist");
    }
    let missing = action(
        &server,
        "DescribePSTNActiveSessionList",
        json!({"SdkAppId": APP, "Offset": 0}),
    )
    .await;
    assert_eq!(missing.code(), "MissingParameter");
}

#[tokio::test]
async fn other_tenants_reach_none_of_the_new_actions() {
    let server = start(50, config()).await;
    let records = records();
    let session = &records[0].cdr.session_id;
    for (name, params) in [
        (
            "DescribeTelSession",
            json!({"SdkAppId": APP, "SessionId": session}),
        ),
        (
            "DescribeTelRecordAsr",
            json!({"SdkAppId": APP, "SessionId": session}),
        ),
        (
            "DescribeSessionDetail",
            json!({"SdkAppId": APP, "SessionId": session, "StartTimestamp": NOW - DAY, "EndTimestamp": NOW}),
        ),
        ("DescribeProtectedTelCdr", query(1, 10, 0)),
    ] {
        let reply = server
            .call(params)
            .action(name)
            .key(&server.other_key)
            .send()
            .await;
        assert_eq!(
            reply.code(),
            "InvalidParameterValue.InstanceNotExist",
            "{name}"
        );
    }
}
