//! Acknowledged writes survive `kill -9`: a child process writes batches and
//! prints each acknowledgement; the parent kills it at a random moment,
//! reopens the store and checks that every acknowledged record is there and
//! that the bucket counts still agree with the rows. Every other round the
//! child writes as a bulk load (rollback journal, `SqliteOptions::bulk_load`).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use telcdr_store::sqlite::{SqliteOptions, SqliteStore};
use telcdr_store::{CdrQuery, NewRecord, Store};

const APP: i64 = 1_400_000_000;
const T0: i64 = 1_790_000_000;
const CHILD_ENV: &str = "TELCDR_KILL9_CHILD_DB";
const CHILD_BULK_ENV: &str = "TELCDR_KILL9_CHILD_BULK";

fn record(seq: u64) -> NewRecord {
    let session_id = format!("kill9-{seq:08}");
    // Spread over hours so counts move between buckets; every 7th record
    // rewrites an earlier one (a replace that changes its hour).
    let (session_id, time) = if seq % 7 == 6 {
        (
            format!("kill9-{:08}", seq / 2),
            T0 + (seq as i64 * 977) % 86_400,
        )
    } else {
        (session_id, T0 + (seq as i64 * 613) % 86_400)
    };
    NewRecord {
        sdk_app_id: APP,
        events: None,
        media_refs: Vec::new(),
        body: format!(
            r#"{{"SessionId":"{session_id}","Time":{time},"Pad":"{}"}}"#,
            "x".repeat(600)
        )
        .into_bytes(),
        session_id,
        time,
        caller: format!("86138{:08}", seq % 1000),
        callee: "864008001234".into(),
        direction: 0,
        end_status: 1,
        seat_mail: String::new(),
        skill_group_id: 0,
    }
}

/// The child: writes batches forever, acknowledging each on stdout only after
/// `put_records` returned. Run by the parent only (hence ignored).
#[test]
#[ignore = "child process of kill9_keeps_every_acknowledged_record"]
fn kill9_child_writer() {
    let Ok(db) = std::env::var(CHILD_ENV) else {
        panic!("run only by kill9_keeps_every_acknowledged_record");
    };
    let options = SqliteOptions {
        bulk_load: std::env::var_os(CHILD_BULK_ENV).is_some(),
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(Path::new(&db), options).unwrap();
    let stdout = std::io::stdout();
    let mut seq = 0u64;
    loop {
        let size = 1 + (seq % 50);
        let batch: Vec<NewRecord> = (seq..seq + size).map(record).collect();
        store.put_records(batch).unwrap();
        seq += size;
        let mut out = stdout.lock();
        writeln!(out, "ack {seq}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn kill9_keeps_every_acknowledged_record() {
    let exe = std::env::current_exe().unwrap();
    for round in 0..8u64 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("telcdr.db");
        let mut command = Command::new(&exe);
        if round % 2 == 1 {
            command.env(CHILD_BULK_ENV, "1");
        }
        let mut child = command
            .args([
                "--ignored",
                "--exact",
                "kill9_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill at a different moment each round, mid-stream.
        let run_for = Duration::from_millis(150 + round * 90);
        let started = Instant::now();
        let mut acked = 0u64;
        while started.elapsed() < run_for {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(n) = line.strip_prefix("ack ") {
                        acked = n.parse().unwrap();
                    }
                }
                _ => break,
            }
        }
        // SIGKILL: no destructor, no flush, no checkpoint.
        child.kill().unwrap();
        let _ = child.wait();
        assert!(acked > 0, "round {round}: the child acknowledged nothing");

        let store = SqliteStore::open(&db, SqliteOptions::default()).unwrap();
        let mut expected_ids = std::collections::BTreeSet::new();
        for seq in 0..acked {
            expected_ids.insert(record(seq).session_id);
        }
        let all = store
            .query_cdrs(&CdrQuery {
                sdk_app_id: APP,
                start: T0 - 1,
                end: T0 + 86_400,
                phones: vec![],
                session_ids: vec![],
                offset: 0,
                limit: u32::MAX,
            })
            .unwrap();
        let present: std::collections::BTreeSet<String> = all
            .records
            .iter()
            .map(|b| {
                let v: serde_json::Value = serde_json::from_slice(b).unwrap();
                v["SessionId"].as_str().unwrap().to_owned()
            })
            .collect();
        let missing: Vec<&String> = expected_ids.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged records lost after kill -9, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(3)]
        );
        assert_eq!(
            all.total as usize,
            all.records.len(),
            "round {round}: bucket counts disagree with the rows after kill -9"
        );
    }
}
