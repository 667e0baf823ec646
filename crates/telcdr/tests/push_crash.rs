//! The data push under `kill -9`: clients push call records to a real
//! `telcdr serve` while it is killed at a random moment, several times.
//! Every push answered `ErrCode: 0` must be in the store afterwards; CCC
//! then retries everything (same `X-TCCC-PUSH-UUID`), and each session must
//! be there exactly once.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{BIN, telcdr, text};
use telcdr_store::{CdrQuery, Store, StoreOptions, StoreUrl};

const APP: i64 = 1_400_000_000;
const ROUNDS: usize = 6;
const CLIENTS: usize = 8;

fn start(dir: &Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TELCDR_LOG", "warn")
        .env("TELCDR_RETENTION__INTERVAL_SECONDS", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    // Keep reading, so later lines never meet a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr = line
        .trim()
        .strip_prefix("telcdr listening on http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, addr)
}

fn body(session: &str, i: usize) -> String {
    format!(
        r#"{{"SdkAppId":{APP},"SessionId":"{session}","Caller":"0086138{i:08}","Callee":"4000","StartTimestamp":{},"AcceptTimestamp":0,"EndStatusString":"ivrGiveUp","Direction":0}}"#,
        1_790_000_000 + i as i64
    )
}

/// One push over a fresh connection: true only for an `ErrCode: 0` answer.
fn push(addr: &str, uuid: &str, body: &str) -> bool {
    let Ok(mut conn) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "POST /push?action=cdr&version=1 HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json;charset=utf8\r\nX-TCCC-PUSH-UUID: {uuid}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if conn.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    if conn.read_to_string(&mut answer).is_err() {
        return false;
    }
    answer.starts_with("HTTP/1.1 200") && answer.contains(r#""ErrCode":0"#)
}

fn sessions_in(store: &dyn Store) -> Vec<String> {
    let page = store
        .query_cdrs(&CdrQuery {
            sdk_app_id: APP,
            start: 0,
            end: i64::MAX,
            phones: vec![],
            session_ids: vec![],
            offset: 0,
            limit: u32::MAX,
        })
        .unwrap();
    let sessions: Vec<String> = page
        .records
        .iter()
        .map(|b| {
            let v: serde_json::Value = serde_json::from_slice(b).unwrap();
            v["SessionId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(page.total as usize, sessions.len(), "total and page agree");
    sessions
}

#[test]
fn acknowledged_pushes_survive_kill_9_and_retries_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = telcdr(
        dir.path(),
        &["apps", "set", "1400000000", "--push-auth", "none"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut sent: Vec<(String, String)> = Vec::new();
    let mut acked: BTreeSet<String> = BTreeSet::new();
    let mut killed_mid_stream = 0;

    for round in 0..ROUNDS {
        let (mut server, addr) = start(dir.path());
        let stop = Arc::new(AtomicBool::new(false));
        let round_acked = Arc::new(Mutex::new(Vec::new()));
        let round_sent = Arc::new(Mutex::new(Vec::new()));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (addr, stop) = (addr.clone(), stop.clone());
                let (acked, sent) = (round_acked.clone(), round_sent.clone());
                std::thread::spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::SeqCst) {
                        let session = format!("r{round}-c{c}-{i}");
                        let body = body(&session, round * 100_000 + c * 10_000 + i);
                        sent.lock().unwrap().push((session.clone(), body.clone()));
                        if push(&addr, &session, &body) {
                            acked.lock().unwrap().push(session);
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        // Let pushes flow, then kill at a moment that differs per round.
        std::thread::sleep(Duration::from_millis(150 + (round as u64 * 97) % 400));
        let before_kill = round_acked.lock().unwrap().len();
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        for client in clients {
            client.join().unwrap();
        }
        let round_acked = round_acked.lock().unwrap().clone();
        if round_acked.len() > before_kill {
            killed_mid_stream += 1;
        }
        assert!(
            !round_acked.is_empty(),
            "round {round}: no push was answered"
        );
        acked.extend(round_acked);
        sent.extend(round_sent.lock().unwrap().iter().cloned());

        // Nothing acknowledged is lost.
        let store = telcdr_store::open(
            &StoreUrl::Sqlite(dir.path().join("telcdr.db")),
            &StoreOptions::default(),
        )
        .unwrap();
        let present: BTreeSet<String> = sessions_in(store.as_ref()).into_iter().collect();
        let lost: Vec<&String> = acked.difference(&present).collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged but lost: {lost:?}"
        );
    }
    assert!(
        killed_mid_stream > 0,
        "no kill landed while pushes were in flight"
    );

    // CCC retries every push it sent (answered or not) with its UUID.
    let (mut server, addr) = start(dir.path());
    for (session, body) in &sent {
        assert!(push(&addr, session, body), "retry of {session} refused");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let store = telcdr_store::open(
        &StoreUrl::Sqlite(dir.path().join("telcdr.db")),
        &StoreOptions::default(),
    )
    .unwrap();
    let sessions = sessions_in(store.as_ref());
    let distinct: BTreeSet<&String> = sessions.iter().collect();
    assert_eq!(distinct.len(), sessions.len(), "a session stored twice");
    let all_sent: BTreeSet<&String> = sent.iter().map(|(s, _)| s).collect();
    assert_eq!(distinct, all_sent, "exactly the sessions pushed, once each");
    eprintln!(
        "{} pushes sent over {ROUNDS} kills, {} acknowledged before a kill",
        sent.len(),
        acked.len()
    );
}
