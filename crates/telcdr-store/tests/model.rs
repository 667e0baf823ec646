//! Model-based test of every store backend (SQLite, and PostgreSQL when the
//! tests have a server; see `common`): random records (a few tenants,
//! times over a few days with many ties and hour-edge seconds, phones and
//! session ids from small pools so replacements happen) written in random
//! batches, then random queries. Every answer must equal a plain in-memory
//! filter-and-sort over the last revision of each record.

use std::collections::BTreeMap;

mod common;

use proptest::prelude::*;
use telcdr_store::sqlite::SqliteOptions;
use telcdr_store::{CdrPage, CdrQuery, NewRecord, WriteOutcome};

/// An hour boundary.
const T0: i64 = 1_789_999_200;
const HOURS: i64 = 72;
const TENANTS: [i64; 3] = [1_400_000_001, 1_400_000_002, 1_400_000_003];
const PHONES: [&str; 5] = [
    "8613000000001",
    "8613000000002",
    "8613000000003",
    "864000000001",
    "864000000002",
];
const SESSIONS: usize = 30;

/// A time within the few days, biased to hour edges and a few shared seconds
/// so that ties and edge cases are common.
fn time() -> impl Strategy<Value = i64> {
    let hour = 0..HOURS;
    prop_oneof![
        (
            hour.clone(),
            prop::sample::select(vec![0i64, 1, 1799, 3598, 3599])
        )
            .prop_map(|(h, s)| T0 + h * 3600 + s),
        (0..HOURS * 3600).prop_map(|s| T0 + s),
        // A handful of exact seconds shared by many records.
        prop::sample::select(vec![T0 + 3600, T0 + 7 * 3600 + 59, T0 + 30 * 3600 + 3599]),
    ]
}

/// A record without its body; the body is made at write time so each
/// revision is distinguishable.
#[derive(Debug, Clone)]
struct Draw {
    app: i64,
    session: usize,
    time: i64,
    caller: usize,
    callee: usize,
    direction: i64,
}

fn draw() -> impl Strategy<Value = Draw> {
    (
        0..TENANTS.len(),
        0..SESSIONS,
        time(),
        0..PHONES.len(),
        0..PHONES.len(),
        0..2i64,
    )
        .prop_map(|(t, session, time, caller, callee, direction)| Draw {
            app: TENANTS[t],
            session,
            time,
            caller,
            callee,
            direction,
        })
}

fn query() -> impl Strategy<Value = CdrQuery> {
    let edge = prop_oneof![
        (-2..HOURS + 2, prop::sample::select(vec![0i64, 1, 3599]))
            .prop_map(|(h, s)| T0 + h * 3600 + s),
        (-3600..(HOURS + 1) * 3600).prop_map(|s| T0 + s),
    ];
    let phones = prop::collection::vec(
        prop_oneof![4 => prop::sample::select(PHONES.to_vec()).prop_map(str::to_owned), 1 => Just("869999".to_owned())],
        0..=3,
    );
    let sessions = prop::collection::vec(
        prop_oneof![4 => (0..SESSIONS).prop_map(session_id), 1 => Just("nope".to_owned())],
        0..=3,
    );
    let limit = prop_oneof![Just(1u32), Just(3), Just(10), Just(100), Just(u32::MAX)];
    (
        0..TENANTS.len(),
        edge.clone(),
        edge,
        phones,
        sessions,
        0u64..80,
        limit,
    )
        .prop_map(|(t, a, b, phones, session_ids, offset, limit)| {
            // Mostly ordered windows, sometimes an inverted one.
            let (start, end) = if a <= b || a % 7 == 0 { (a, b) } else { (b, a) };
            CdrQuery {
                sdk_app_id: TENANTS[t],
                start,
                end,
                phones,
                session_ids,
                offset,
                limit,
            }
        })
}

fn session_id(i: usize) -> String {
    format!("sess-{i:03}")
}

fn record(d: &Draw, revision: usize) -> NewRecord {
    let session_id = session_id(d.session);
    NewRecord {
        sdk_app_id: d.app,
        events: None,
        media_refs: Vec::new(),
        body: format!(
            r#"{{"SessionId":"{session_id}","Time":{},"Rev":{revision}}}"#,
            d.time
        )
        .into_bytes(),
        session_id,
        time: d.time,
        caller: PHONES[d.caller].to_owned(),
        callee: PHONES[d.callee].to_owned(),
        direction: d.direction,
        end_status: 1,
        seat_mail: String::new(),
        skill_group_id: 0,
    }
}

/// The model's answer: filter, sort newest first with ties by session id,
/// then slice.
fn expected(model: &BTreeMap<(i64, String), NewRecord>, q: &CdrQuery) -> CdrPage {
    let mut hits: Vec<&NewRecord> = model
        .values()
        .filter(|r| r.sdk_app_id == q.sdk_app_id && q.start <= r.time && r.time <= q.end)
        .filter(|r| {
            q.phones.is_empty() || q.phones.iter().any(|p| *p == r.caller || *p == r.callee)
        })
        .filter(|r| q.session_ids.is_empty() || q.session_ids.contains(&r.session_id))
        .collect();
    hits.sort_by(|a, b| {
        b.time
            .cmp(&a.time)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    CdrPage {
        total: hits.len() as u64,
        records: hits
            .iter()
            .skip(q.offset as usize)
            .take(q.limit as usize)
            .map(|r| r.body.clone())
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn store_agrees_with_an_in_memory_model(
        batches in prop::collection::vec(prop::collection::vec(draw(), 1..40), 1..6),
        queries in prop::collection::vec(query(), 1..25),
        moved_by in 1..30i64,
    ) {
        // Durability is not under test here; skip SQLite's fsync per batch.
        let stores = common::fresh_stores(SqliteOptions {
            readers: 2,
            synchronous_full: false,
            ..SqliteOptions::default()
        });
        let mut batches = batches;
        // Always include a replacement that moves a record to another hour.
        let mut moved = batches[0][0].clone();
        moved.time = T0 + (moved.time - T0 + moved_by * 3600 + 17) % (HOURS * 3600);
        batches.push(vec![moved]);

        for common::Fresh { name, store, .. } in &stores {
            let mut model: BTreeMap<(i64, String), NewRecord> = BTreeMap::new();
            let mut revision = 0;
            for batch in &batches {
                let records: Vec<NewRecord> = batch
                    .iter()
                    .map(|d| {
                        revision += 1;
                        record(d, revision)
                    })
                    .collect();
                let mut want = Vec::new();
                for r in &records {
                    let key = (r.sdk_app_id, r.session_id.clone());
                    want.push(if model.insert(key, r.clone()).is_some() {
                        WriteOutcome::Replaced
                    } else {
                        WriteOutcome::Inserted
                    });
                }
                prop_assert_eq!(store.put_records(records).unwrap(), want, "{}", name);
                // Queries between batches too: on PostgreSQL a filter marks
                // numbers busy (the tests' threshold is low), and the later
                // batches must keep their counts.
                prop_assert_eq!(store.record_count().unwrap(), model.len() as u64);
                for q in &queries {
                    let got = store.query_cdrs(q).unwrap();
                    let want = expected(&model, q);
                    prop_assert_eq!(got.total, want.total, "{}: total for {:?}", name, q);
                    let as_text = |p: &CdrPage| -> Vec<String> {
                        p.records.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
                    };
                    prop_assert_eq!(as_text(&got), as_text(&want), "{}: page for {:?}", name, q);
                }
            }
            // Whole-window sanity per tenant: the bucket total equals the rows.
            for app in TENANTS {
                let all = CdrQuery {
                    sdk_app_id: app,
                    start: T0 - 3600,
                    end: T0 + (HOURS + 1) * 3600,
                    phones: vec![],
                    session_ids: vec![],
                    offset: 0,
                    limit: u32::MAX,
                };
                let got = store.query_cdrs(&all).unwrap();
                prop_assert_eq!(got.total as usize, got.records.len());
                prop_assert_eq!(got, expected(&model, &all));
            }
        }
    }
}
