//! PostgreSQL restarted under load: requests during the outage get
//! `InternalError.DBError` in the envelope, the server reconnects by itself
//! afterwards, and no acknowledged write is lost.
//!
//! Needs the test cluster of `scripts/test` (`TEST_TELCDR_POSTGRES` and
//! `TEST_TELCDR_POSTGRES_DIR`, which `scripts/pg-cluster` halts and resumes).
//! It is alone in this test binary because it stops that cluster.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use telcdr_server::ServerConfig;
use telcdr_store::{CdrQuery, NewRecord, StoreUrl};

fn cluster(command: &str, dir: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster");
    let status = std::process::Command::new(script)
        .args([command, dir])
        .status()
        .expect("run scripts/pg-cluster");
    assert!(status.success(), "pg-cluster {command} failed");
}

fn record(i: u64) -> NewRecord {
    let session_id = format!("restart-{i:05}");
    let time = NOW - 3600 + i as i64 % 3000;
    NewRecord {
        sdk_app_id: APP,
        body: format!(r#"{{"SessionId":"{session_id}","Time":{time}}}"#).into_bytes(),
        events: None,
        media_refs: Vec::new(),
        session_id,
        time,
        caller: "8613800000001".into(),
        callee: "8613900000002".into(),
        direction: 0,
        end_status: 1,
        seat_mail: String::new(),
        skill_group_id: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_survives_a_database_restart_without_losing_acknowledged_writes() {
    let (Ok(admin), Ok(dir)) = (
        std::env::var("TEST_TELCDR_POSTGRES"),
        std::env::var("TEST_TELCDR_POSTGRES_DIR"),
    ) else {
        assert!(
            std::env::var("TEST_TELCDR_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TEST_TELCDR_REQUIRE_POSTGRES=1 but no PostgreSQL cluster is named"
        );
        eprintln!("skipped: no PostgreSQL test cluster (run scripts/test)");
        return;
    };
    let url = tokio::task::spawn_blocking(move || {
        telcdr_store::postgres::create_database(&admin, &format!("restart_{}", std::process::id()))
            .unwrap()
    })
    .await
    .unwrap();
    let config = ServerConfig {
        rate_limit_per_second: 0,
        ..ServerConfig::default()
    };
    let s = start_at(Some(StoreUrl::Postgres(url)), 50, config).await;

    // A writer acknowledging records one by one, as pushes would.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (s.store.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut acknowledged, mut failed) = (Vec::new(), 0u64);
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                match store.put_records(vec![record(i)]) {
                    Ok(_) => acknowledged.push((i, Instant::now())),
                    Err(_) => failed += 1,
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            (acknowledged, failed)
        })
    };

    // Queries throughout: before, during and after the outage.
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    let mut outage = None;
    let started = Instant::now();
    let mut last_ok_after_resume = None;
    let mut last_error = None;
    let mut seen_finished: Option<Instant> = None;
    // Until three seconds after the database is back (bounded overall).
    while seen_finished.is_none_or(|at| at.elapsed() < Duration::from_secs(3))
        && started.elapsed() < Duration::from_secs(60)
    {
        let t = started.elapsed();
        if outage.is_none() && t > Duration::from_secs(2) {
            let dir = dir.clone();
            let halted = tokio::task::spawn_blocking(move || {
                cluster("halt", &dir);
                let halted = Instant::now();
                std::thread::sleep(Duration::from_secs(2));
                cluster("resume", &dir);
                (halted, Instant::now())
            });
            outage = Some(halted);
        }
        let reply = s.call(query(1, 10, 0)).send().await;
        *codes.entry(reply.code().to_owned()).or_default() += 1;
        if !reply.code().is_empty() {
            last_error = Some(Instant::now());
        }
        if outage.as_ref().is_some_and(|task| task.is_finished()) {
            seen_finished.get_or_insert_with(Instant::now);
            if reply.code().is_empty() {
                last_ok_after_resume = Some(Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (halted, resumed) = outage.expect("the outage ran").await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let (acknowledged, failed) = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();

    eprintln!(
        "codes: {codes:?}; writes acknowledged {}, failed {failed}; outage {:?}, errors until {:?} after it ended",
        acknowledged.len(),
        resumed - halted,
        last_error.map(|e: Instant| e.saturating_duration_since(resumed)),
    );
    assert!(
        codes
            .keys()
            .all(|c| c.is_empty() || c == "InternalError.DBError"),
        "only success or DBError: {codes:?}"
    );
    assert!(
        codes.get("InternalError.DBError").copied().unwrap_or(0) > 0,
        "{codes:?}"
    );
    assert!(
        last_ok_after_resume.is_some(),
        "queries succeed again after the restart"
    );
    // The pool reconnects by itself: failures stop soon after the database
    // is back (a stale connection fails at most once, then is replaced).
    let errors_after = last_error.map_or(Duration::ZERO, |e| e.saturating_duration_since(resumed));
    assert!(
        errors_after < Duration::from_secs(1),
        "errors went on {errors_after:?} after the restart"
    );
    assert!(failed > 0, "writes during the outage fail rather than hang");
    assert!(
        acknowledged.iter().any(|&(_, at)| at > resumed),
        "writes are acknowledged again after the restart"
    );
    assert!(acknowledged.iter().any(|&(_, at)| at < halted));

    // Every acknowledged record is there.
    let store = s.store.clone();
    let missing = tokio::task::spawn_blocking(move || {
        let ids: Vec<u64> = acknowledged.iter().map(|&(i, _)| i).collect();
        let mut missing = Vec::new();
        for chunk in ids.chunks(50) {
            let page = store
                .query_cdrs(&CdrQuery {
                    sdk_app_id: APP,
                    start: NOW - 7200,
                    end: NOW,
                    phones: vec![],
                    session_ids: chunk.iter().map(|&i| record(i).session_id).collect(),
                    offset: 0,
                    limit: 100,
                })
                .unwrap();
            if page.total != chunk.len() as u64 {
                missing.push(chunk[0]);
            }
        }
        missing
    })
    .await
    .unwrap();
    assert!(
        missing.is_empty(),
        "acknowledged records lost near {missing:?}"
    );
}
