//! Import throughput of the SQLite store: batches of 5,000 records with
//! ~1.5 KB bodies, default (durable) options. Ignored by default; measure
//! with `cargo test -p telcdr-store --release --test import_rate -- --ignored --nocapture`.
//! The target is >= 60,000 records/s on a 2-core machine.

use std::time::Instant;

use telcdr_store::sqlite::{SqliteOptions, SqliteStore};
use telcdr_store::{NewRecord, Store};

const APP: i64 = 1_400_000_000;
const T0: i64 = 1_780_000_000;
const BATCH: usize = 5_000;
/// Batches per pass; TELCDR_BENCH_BATCHES overrides.
const BATCHES: usize = 40;

fn record(seq: usize) -> NewRecord {
    let session_id = format!(
        "{:08x}-6a4e-4c8b-9d1f-{:012x}",
        seq.wrapping_mul(2_654_435_761) as u32,
        seq
    );
    // Ascending times with ties (1M records over 80 days is ~7 s apart), as
    // `telcdr generate` writes them; TELCDR_BENCH_SHUFFLE=1 scatters them.
    let time = if std::env::var("TELCDR_BENCH_SHUFFLE").is_ok() {
        T0 + ((seq as i64).wrapping_mul(7919) % (30 * 86_400))
    } else {
        T0 + (seq as i64) * 7 / 2
    };
    let caller = format!("86138{:08}", (seq * 31) % 50_000);
    let callee = format!("86400{:07}", seq % 20);
    let body = format!(
        r#"{{"Caller":"{caller}","Callee":"{callee}","Time":{time},"Direction":1,"Duration":87,"RecordURL":"https://example.invalid/rec/{session_id}.mp3","SeatUser":{{"Mail":"agent{}@example.com","StaffNumber":"{}","Nick":"Agent","UserId":"agent"}},"EndStatus":1,"SkillGroup":"Support","CallerLocation":"Shenzhen","IVRDuration":12,"RingTimestamp":{},"AcceptTimestamp":{},"EndedTimestamp":{},"IVRKeyPressed":["1","2"],"HungUpSide":"Caller","ServeParticipants":[],"SkillGroupId":7,"EndStatusString":"ok","StartTimestamp":{time},"QueuedTimestamp":{},"PostIVRKeyPressed":[],"QueuedSkillGroupId":7,"SessionId":"{session_id}","ProtectedCaller":"","ProtectedCallee":"","Uui":"","IVRKeyPressedEx":[],"AsrUrl":"","CustomRecordURL":"","Remark":"","QueuedSkillGroupName":"Support","VoicemailRecordURL":[],"VoicemailAsrURL":[],"Pad":"{}"}}"#,
        seq % 40,
        seq % 40,
        time + 3,
        time + 10,
        time + 97,
        time + 5,
        "p".repeat(600)
    );
    NewRecord {
        sdk_app_id: APP,
        session_id,
        time,
        caller,
        callee,
        direction: 1,
        end_status: 1,
        seat_mail: format!("agent{}@example.com", seq % 40),
        skill_group_id: 7,
        body: body.into_bytes(),
    }
}

fn batch_count() -> usize {
    std::env::var("TELCDR_BENCH_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BATCHES)
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn import_rate() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        synchronous_full: std::env::var("TELCDR_BENCH_SYNC").map_or(true, |v| v != "normal"),
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(&dir.path().join("telcdr.db"), options).unwrap();
    let batches: Vec<Vec<NewRecord>> = (0..batch_count())
        .map(|b| (b * BATCH..(b + 1) * BATCH).map(record).collect())
        .collect();
    let bytes: usize = batches.iter().flatten().map(|r| r.body.len()).sum();
    let started = Instant::now();
    for batch in batches {
        let t = Instant::now();
        store.put_records(batch).unwrap();
        if std::env::var("TELCDR_BENCH_VERBOSE").is_ok() {
            eprintln!("batch {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = (BATCH * batch_count()) as f64;
    println!(
        "imported {} records ({:.0} B mean body) in {elapsed:.2} s: {:.0} records/s",
        BATCH * batch_count(),
        bytes as f64 / n,
        n / elapsed
    );
    // A second pass replaces every record (re-import): the upsert path.
    let batches: Vec<Vec<NewRecord>> = (0..batch_count())
        .map(|b| (b * BATCH..(b + 1) * BATCH).map(record).collect())
        .collect();
    let started = Instant::now();
    for batch in batches {
        store.put_records(batch).unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "re-imported (all replaced) in {elapsed:.2} s: {:.0} records/s",
        n / elapsed
    );
    assert_eq!(
        store.record_count().unwrap(),
        (BATCH * batch_count()) as u64
    );
}
