//! Unit tests of the SQLite backend: schema lifecycle, keys, upserts and the
//! count buckets, totals across bucket edges, deep pages.

use std::path::Path;

use rusqlite::Connection;

use super::*;

const APP: i64 = 1_400_000_001;
const OTHER: i64 = 1_400_000_002;
/// An hour boundary: T0 % 3600 == 0.
const T0: i64 = 1_789_999_200;

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(
        path,
        SqliteOptions {
            readers: 2,
            ..SqliteOptions::default()
        },
    )
    .unwrap()
}

fn temp() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telcdr.db");
    (dir, path)
}

fn rec(app: i64, session_id: &str, time: i64) -> NewRecord {
    NewRecord {
        sdk_app_id: app,
        session_id: session_id.to_owned(),
        time,
        caller: "8613000000001".into(),
        callee: "864000000001".into(),
        direction: 0,
        end_status: 1,
        seat_mail: String::new(),
        skill_group_id: 0,
        body: format!(r#"{{"SessionId":"{session_id}","Time":{time}}}"#).into_bytes(),
        events: None,
        media_refs: Vec::new(),
    }
}

fn window(app: i64, start: i64, end: i64) -> CdrQuery {
    CdrQuery {
        sdk_app_id: app,
        start,
        end,
        phones: vec![],
        session_ids: vec![],
        offset: 0,
        limit: u32::MAX,
    }
}

/// The stored buckets of `app`, read directly.
fn buckets(path: &Path, app: i64) -> Vec<(i64, i64)> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT start, count FROM cdr_bucket WHERE sdk_app_id = ?1 AND span = 3600 ORDER BY start")
        .unwrap();
    stmt.query_map([app], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Session ids of a page, from the bodies.
fn ids(page: &CdrPage) -> Vec<String> {
    page.records
        .iter()
        .map(|b| {
            let v: serde_json::Value = serde_json::from_slice(b).unwrap();
            v["SessionId"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn reopen_keeps_records_and_schema_version() {
    let (_dir, path) = temp();
    {
        let store = open(&path);
        store
            .put_records(vec![rec(APP, "a", T0), rec(APP, "b", T0 + 1)])
            .unwrap();
        store.set_setting("demo.key", "AKID1").unwrap();
    }
    let store = open(&path);
    assert_eq!(store.record_count().unwrap(), 2);
    assert_eq!(store.setting("demo.key").unwrap().as_deref(), Some("AKID1"));
    let conn = Connection::open(&path).unwrap();
    assert_eq!(schema::user_version(&conn).unwrap(), SCHEMA_VERSION);
}

#[test]
fn newer_schema_is_refused_on_open() {
    let (_dir, path) = temp();
    drop(open(&path));
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 5))
        .unwrap();
    match SqliteStore::open(&path, SqliteOptions::default()) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 5, SCHEMA_VERSION));
        }
        Err(other) => panic!("expected SchemaTooNew, got {other:?}"),
        Ok(_) => panic!("expected SchemaTooNew, got a store"),
    }
}

#[test]
fn open_reports_a_file_that_is_not_a_database() {
    let (_dir, path) = temp();
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    assert!(matches!(
        SqliteStore::open(&path, SqliteOptions::default()),
        Err(StoreError::Open { .. })
    ));
}

#[test]
fn upsert_reports_outcomes_and_keeps_the_last_of_a_batch() {
    let (_dir, path) = temp();
    let store = open(&path);
    let mut later = rec(APP, "a", T0 + 10);
    later.body = br#"{"SessionId":"a","Time":1,"v":2}"#.to_vec();
    let outcomes = store
        .put_records(vec![rec(APP, "a", T0), rec(OTHER, "a", T0), later.clone()])
        .unwrap();
    assert_eq!(
        outcomes,
        [
            WriteOutcome::Inserted,
            WriteOutcome::Inserted,
            WriteOutcome::Replaced
        ]
    );
    let page = store.query_cdrs(&window(APP, T0, T0 + 100)).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.records, vec![later.body]);
    assert_eq!(
        store.put_records(vec![rec(APP, "a", T0)]).unwrap(),
        [WriteOutcome::Replaced]
    );
    assert_eq!(store.record_count().unwrap(), 2);
    assert_eq!(store.put_records(vec![]).unwrap(), []);

    let conn = Connection::open(&path).unwrap();
    let revision: i64 = conn
        .query_row(
            "SELECT revision FROM cdr WHERE sdk_app_id = ?1 AND session_id = 'a'",
            [APP],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(revision, 3);
}

#[test]
fn replace_moves_a_record_between_hour_buckets() {
    let (_dir, path) = temp();
    let store = open(&path);
    let h0 = T0 / 3600;
    store
        .put_records(vec![rec(APP, "a", T0 + 5), rec(APP, "b", T0 + 6)])
        .unwrap();
    assert_eq!(buckets(&path, APP), [(h0, 2)]);

    // "a" moves two hours later; its old bucket shrinks, a new one appears.
    store
        .put_records(vec![rec(APP, "a", T0 + 2 * 3600 + 1)])
        .unwrap();
    assert_eq!(buckets(&path, APP), [(h0, 1), (h0 + 2, 1)]);
    // "b" moves too, emptying the first bucket, which is removed.
    store
        .put_records(vec![rec(APP, "b", T0 + 2 * 3600 + 7)])
        .unwrap();
    assert_eq!(buckets(&path, APP), [(h0 + 2, 2)]);
    // Within one batch: move away and back again nets to nothing.
    store
        .put_records(vec![
            rec(APP, "a", T0 + 100),
            rec(APP, "a", T0 + 2 * 3600 + 1),
        ])
        .unwrap();
    assert_eq!(buckets(&path, APP), [(h0 + 2, 2)]);

    assert_eq!(
        store.query_cdrs(&window(APP, T0, T0 + 3599)).unwrap().total,
        0
    );
    let page = store.query_cdrs(&window(APP, T0, T0 + 3 * 3600)).unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(ids(&page), ["b", "a"]);
    assert_eq!(store.record_count().unwrap(), 2);
}

/// Records at and around hour edges, and windows cut at every interesting
/// second: the bucket arithmetic must match a plain count.
#[test]
fn totals_across_hour_edges() {
    let (_dir, path) = temp();
    let store = open(&path);
    let times: Vec<i64> = [
        -1, 0, 1, 1799, 3598, 3599, 3600, 3601, 7199, 7200, 7200, 10_799, 14_400,
    ]
    .iter()
    .map(|d| T0 + d)
    .collect();
    let batch: Vec<NewRecord> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| rec(APP, &format!("s{i:02}"), t))
        .collect();
    store.put_records(batch).unwrap();
    store.put_records(vec![rec(OTHER, "x", T0 + 1)]).unwrap();

    let cuts: Vec<i64> = [
        -3600, -2, -1, 0, 1, 3599, 3600, 3601, 7199, 7200, 7201, 10_800, 14_400, 20_000,
    ]
    .iter()
    .map(|d| T0 + d)
    .collect();
    for &start in &cuts {
        for &end in &cuts {
            let expected = if start > end {
                0
            } else {
                times.iter().filter(|&&t| start <= t && t <= end).count() as u64
            };
            let page = store.query_cdrs(&window(APP, start, end)).unwrap();
            assert_eq!(page.total, expected, "window {start}..={end}");
            assert_eq!(
                page.records.len() as u64,
                expected,
                "window {start}..={end}"
            );
        }
    }
}

/// A page query is planned once per connection, however its LIMIT and
/// OFFSET change: re-planning on every bind cost a twelfth of a page's CPU.
#[test]
fn page_queries_are_not_replanned_when_offsets_change() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(
        &path,
        SqliteOptions {
            readers: 1,
            ..SqliteOptions::default()
        },
    )
    .unwrap();
    let batch: Vec<NewRecord> = (0..200)
        .map(|i| rec(APP, &format!("s{i:03}"), T0 + i * 60))
        .collect();
    store.put_records(batch).unwrap();
    for (offset, limit) in [(0, 10), (5, 10), (50, 100), (120, 7), (0, 100)] {
        let page = store
            .query_cdrs(&CdrQuery {
                offset,
                limit,
                ..window(APP, T0, T0 + 200 * 60)
            })
            .unwrap();
        assert_eq!(
            page.records.len() as u64,
            u64::from(limit).min(200 - offset)
        );
    }
    let (runs, reprepares) = store
        .readers
        .with(|conn| {
            let stmt = conn.prepare_cached(query::PAGE_BODIES)?;
            Ok((
                stmt.get_status(rusqlite::StatementStatus::Run),
                stmt.get_status(rusqlite::StatementStatus::RePrepare),
            ))
        })
        .unwrap();
    assert_eq!((runs, reprepares), (5, 0));
}

/// Pages at every offset, including deep ones that start in an older hour,
/// equal the same slice of the full ordered list.
#[test]
fn deep_pages_match_the_full_order() {
    let (_dir, path) = temp();
    let store = open(&path);
    // 10 hours, 30 records an hour, ties on the same second.
    let batch: Vec<NewRecord> = (0..300)
        .map(|i| {
            rec(
                APP,
                &format!("s{:03}", (i * 37) % 300),
                T0 + (i / 30) * 3600 + (i % 5) * 700,
            )
        })
        .collect();
    store.put_records(batch).unwrap();

    let (start, end) = (T0 + 1000, T0 + 9 * 3600 + 2000);
    let all = store.query_cdrs(&window(APP, start, end)).unwrap();
    let all_ids = ids(&all);
    assert_eq!(all.total as usize, all_ids.len());
    // Ordered newest first, ties by session id.
    let mut keyed: Vec<(i64, String)> = all
        .records
        .iter()
        .map(|b| {
            let v: serde_json::Value = serde_json::from_slice(b).unwrap();
            (
                v["Time"].as_i64().unwrap(),
                v["SessionId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keyed.clone();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    assert_eq!(keyed, sorted);
    keyed.clear();

    for limit in [1u32, 7, 100] {
        for offset in 0..=all.total + 3 {
            let page = store
                .query_cdrs(&CdrQuery {
                    offset,
                    limit,
                    ..window(APP, start, end)
                })
                .unwrap();
            assert_eq!(page.total, all.total);
            let from = (offset as usize).min(all_ids.len());
            let to = (from + limit as usize).min(all_ids.len());
            assert_eq!(
                ids(&page),
                &all_ids[from..to],
                "offset {offset} limit {limit}"
            );
        }
    }
    let none = store
        .query_cdrs(&CdrQuery {
            limit: 0,
            ..window(APP, start, end)
        })
        .unwrap();
    assert_eq!((none.total, none.records.len()), (all.total, 0));
}

#[test]
fn filters_use_phones_and_sessions() {
    let (_dir, path) = temp();
    let store = open(&path);
    let mut a = rec(APP, "a", T0);
    a.caller = "1".into();
    a.callee = "2".into();
    let mut b = rec(APP, "b", T0 + 1);
    b.caller = "2".into();
    b.callee = "3".into();
    let mut c = rec(APP, "c", T0 + 1);
    c.caller = "1".into();
    c.callee = "1".into();
    store.put_records(vec![a, b, c]).unwrap();

    let q = |phones: &[&str], sessions: &[&str]| {
        let page = store
            .query_cdrs(&CdrQuery {
                phones: phones.iter().map(|s| s.to_string()).collect(),
                session_ids: sessions.iter().map(|s| s.to_string()).collect(),
                ..window(APP, T0, T0 + 10)
            })
            .unwrap();
        assert_eq!(page.total as usize, page.records.len());
        ids(&page)
    };
    assert_eq!(q(&["1"], &[]), ["c", "a"]);
    assert_eq!(q(&["2"], &[]), ["b", "a"]);
    assert_eq!(q(&["1", "2", "1"], &[]), ["b", "c", "a"]);
    assert_eq!(q(&[], &["a", "c", "zz", "a"]), ["c", "a"]);
    assert_eq!(q(&["3"], &["a", "b"]), ["b"]);
    assert_eq!(q(&["9"], &[]), Vec::<String>::new());
}

/// Phone matches are found in every week of a window, however long: a
/// window of many weeks is narrowed to the weeks that hold the app's
/// records, and erasure finds a number's calls across all of them.
#[test]
fn phone_filters_reach_every_week_of_long_windows() {
    let (_dir, path) = temp();
    let store = open(&path);
    const WEEK: i64 = 604_800;
    // Calls a year apart, on week edges and in between, and one record of
    // another app with the same number.
    let times = [
        T0 - 400 * 86_400,
        (T0 / WEEK) * WEEK - 1,
        (T0 / WEEK) * WEEK,
        T0,
        T0 + 3 * WEEK + 5,
        T0 + 300 * 86_400,
    ];
    let records: Vec<NewRecord> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let mut r = rec(APP, &format!("s{i}"), t);
            if i % 2 == 0 {
                r.caller = "8613912345678".into();
            } else {
                r.callee = "8613912345678".into();
            }
            r
        })
        .collect();
    store.put_records(records).unwrap();
    let mut other = rec(OTHER, "x", T0);
    other.caller = "8613912345678".into();
    store.put_records(vec![other]).unwrap();

    let phone = |start: i64, end: i64| {
        let page = store
            .query_cdrs(&CdrQuery {
                phones: vec!["8613912345678".into()],
                ..window(APP, start, end)
            })
            .unwrap();
        assert_eq!(page.total as usize, page.records.len());
        ids(&page)
    };
    assert_eq!(
        phone(i64::MIN, i64::MAX),
        ["s5", "s4", "s3", "s2", "s1", "s0"]
    );
    assert_eq!(phone(T0 - 500 * 86_400, T0), ["s3", "s2", "s1", "s0"]);
    assert_eq!(phone(times[1], times[4]), ["s4", "s3", "s2", "s1"]);
    assert_eq!(phone(times[2], times[2]), ["s2"]);
    assert!(phone(T0 + 301 * 86_400, i64::MAX).is_empty());
    assert_eq!(
        store.sessions_with_phone(APP, "8613912345678").unwrap(),
        ["s0", "s1", "s2", "s3", "s4", "s5"]
    );
    assert!(
        store
            .sessions_with_phone(OTHER + 1, "8613912345678")
            .unwrap()
            .is_empty()
    );
}

/// A store made before the phone indexes were led by the week keeps its
/// records and answers phone queries after the upgrade.
#[test]
fn upgrade_rebuilds_the_phone_indexes() {
    let (_dir, path) = temp();
    {
        let conn = Connection::open(&path).unwrap();
        for (i, step) in schema::MIGRATIONS[..2].iter().enumerate() {
            conn.execute_batch(step).unwrap();
            conn.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .unwrap();
        }
        conn.execute(
            "INSERT INTO cdr (sdk_app_id, session_id, time, caller, callee, direction, \
             end_status, seat_mail, skill_group_id, revision, body) \
             VALUES (?1, 'old', ?2, '8613912345678', '864000000001', 0, 1, '', 0, 1, x'7b7d')",
            rusqlite::params![APP, T0],
        )
        .unwrap();
    }
    let store = open(&path);
    let page = store
        .query_cdrs(&CdrQuery {
            phones: vec!["8613912345678".into()],
            ..window(APP, T0 - 10, T0 + 10)
        })
        .unwrap();
    assert_eq!((page.total, page.records), (1, vec![b"{}".to_vec()]));
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'cdr_by_callee'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("time / 604800, callee"), "{sql}");
}

/// The hot-path statements use the indexes rather than a scan or a sort.
#[test]
fn hot_path_query_plans_use_indexes() {
    let (_dir, path) = temp();
    drop(open(&path));
    let conn = Connection::open(&path).unwrap();
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let params = vec![1i64; stmt.parameter_count()];
        stmt.query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .join("; ")
    };
    let page = plan(query::PAGE_BODIES);
    assert!(
        page.contains("cdr_by_time") && !page.contains("TEMP B-TREE"),
        "{page}"
    );
    // A row skipped by OFFSET is never read: the table is sought (a
    // deferred seek) before the OFFSET check, its body read only after.
    let opcodes: Vec<String> = conn
        .prepare(&format!("EXPLAIN {}", query::PAGE_BODIES))
        .unwrap()
        .query_map(rusqlite::params_from_iter([1i64; 5]), |r| {
            r.get::<_, String>(1)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let at = |op: &str| opcodes.iter().position(|o| o == op);
    let (seek, offset, column) = (at("DeferredSeek"), at("IfPos"), at("Column"));
    assert!(
        seek.is_some() && seek < offset && offset < column,
        "{opcodes:?}"
    );
    let count = plan("SELECT count(*) FROM cdr WHERE sdk_app_id = 1 AND time BETWEEN 1 AND 2");
    assert!(count.contains("COVERING INDEX cdr_by_time"), "{count}");
    // Phone hits seek the week-led phone index by app, week and number,
    // and need nothing else from the row.
    for column in ["caller", "callee"] {
        let phone = plan(&query::phone_hits(column, 2));
        assert!(
            phone.contains(&format!(
                "COVERING INDEX cdr_by_{column} (sdk_app_id=? AND <expr>=? AND {column}=?"
            )),
            "{phone}"
        );
    }
}

/// A stream commits every `commit_every` records as it goes. An error rolls
/// back only the open transaction; the caller hears the commits before it,
/// then the error, and the writer goes on serving.
#[test]
fn a_record_stream_commits_as_it_goes_and_stops_at_an_error() {
    let (_dir, path) = temp();
    let store = open(&path);
    let batches = |n: i64| -> Vec<Vec<NewRecord>> {
        (0..n)
            .map(|b| {
                (0..5)
                    .map(|i| rec(APP, &format!("b{b}r{i}"), T0 + b * 10 + i))
                    .collect()
            })
            .collect()
    };
    let mut commits = Vec::new();
    let result = store.writer.stream(
        &mut batches(8).into_iter(),
        10,
        Vec::len,
        |conn, batch: &Vec<NewRecord>| {
            if batch[0].session_id == "b5r0" {
                return Err(StoreError::Database("disk full".into()));
            }
            records::write_records(conn, batch)
        },
        &mut |results: Vec<Vec<WriteOutcome>>| commits.push(results.concat().len()),
    );
    assert!(
        matches!(&result, Err(StoreError::Database(m)) if m == "disk full"),
        "{result:?}"
    );
    // b0..b3 in two commits; b4 was written in the transaction b5 failed.
    assert_eq!(commits, [10, 10]);
    assert_eq!(store.record_count().unwrap(), 20);
    assert_eq!(buckets(&path, APP), [(T0 / 3600, 20)]);
    assert_eq!(
        store.put_records(vec![rec(APP, "after", T0)]).unwrap(),
        [WriteOutcome::Inserted]
    );

    // A writer that dies mid-stream is an error, not a short success.
    let mut commits = Vec::new();
    let result = store.writer.stream(
        &mut batches(4).into_iter(),
        10,
        Vec::len,
        |conn, batch: &Vec<NewRecord>| {
            if batch[0].session_id == "b2r0" {
                panic!("the writer dies");
            }
            records::write_records(conn, batch)
        },
        &mut |results: Vec<Vec<WriteOutcome>>| commits.push(results.concat().len()),
    );
    assert!(matches!(result, Err(StoreError::Closed)), "{result:?}");
    assert_eq!(commits, [10]);
}

/// A job that fails inside a group is left out; the others in the same
/// transaction still commit and hear so.
#[test]
fn a_failing_job_does_not_sink_its_group() {
    let (_dir, path) = temp();
    let store = std::sync::Arc::new(open(&path));
    store.create_key(&[APP], "AKID1", "s", 1).unwrap();
    store.create_key(&[OTHER], "AKID2", "s", 1).unwrap();
    // Hold the writer busy so the next calls queue up into one group.
    let blocker = {
        let store = store.clone();
        std::thread::spawn(move || {
            store
                .writer
                .call(1, |_| {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok(())
                })
                .unwrap()
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    let writers: Vec<_> = (0..3)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || store.put_records(vec![rec(APP, &format!("g{i}"), T0)]))
        })
        .collect();
    let refused = {
        let store = store.clone();
        std::thread::spawn(move || store.create_key(&[APP, OTHER], "AKID3", "s", 2))
    };
    blocker.join().unwrap();
    assert!(matches!(
        refused.join().unwrap(),
        Err(StoreError::AppOwnedElsewhere { .. })
    ));
    for w in writers {
        assert_eq!(w.join().unwrap().unwrap(), [WriteOutcome::Inserted]);
    }
    assert_eq!(store.record_count().unwrap(), 3);
    assert_eq!(store.find_key("AKID3").unwrap(), None);
    assert_eq!(buckets(&path, APP), [(T0 / 3600, 3)]);
}

/// Windows spanning whole days use the day buckets for the total and open a
/// day into its hours for a deep page; both must match the plain order.
#[test]
fn totals_and_pages_across_day_buckets() {
    let (_dir, path) = temp();
    let store = open(&path);
    // Six days, a record every 17 minutes, some seconds shared.
    let batch: Vec<NewRecord> = (0..510)
        .map(|i| {
            rec(
                APP,
                &format!("d{:04}", (i * 7919) % 510),
                T0 + (i / 2) * 2040,
            )
        })
        .collect();
    let mut expected: Vec<(i64, String)> = batch
        .iter()
        .map(|r| (r.time, r.session_id.clone()))
        .collect();
    store.put_records(batch).unwrap();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));

    for (start, end) in [
        (T0 + 1, T0 + 5 * 86_400 + 77),
        (T0 - 86_400, T0 + 7 * 86_400),
        (T0 + 3 * 3600, T0 + 3 * 3600 + 86_399),
        (T0 + 50_400, T0 + 50_400 + 2 * 86_400 - 1),
    ] {
        let want: Vec<&String> = expected
            .iter()
            .filter(|(t, _)| start <= *t && *t <= end)
            .map(|(_, s)| s)
            .collect();
        for offset in [0u64, 1, 29, 30, 100, 151, 250, 399, 400, 500, 600] {
            let page = store
                .query_cdrs(&CdrQuery {
                    offset,
                    limit: 10,
                    ..window(APP, start, end)
                })
                .unwrap();
            assert_eq!(page.total as usize, want.len(), "{start}..{end}");
            let from = (offset as usize).min(want.len());
            let to = (from + 10).min(want.len());
            let got = ids(&page);
            assert_eq!(
                got.iter().collect::<Vec<_>>(),
                want[from..to],
                "{start}..{end} offset {offset}"
            );
        }
    }
}

/// Windows at the ends of the time line neither overflow nor lose records.
#[test]
fn extreme_windows() {
    let (_dir, path) = temp();
    let store = open(&path);
    store
        .put_records(vec![
            rec(APP, "a", 1),
            rec(APP, "b", T0),
            rec(APP, "c", T0 + 7),
        ])
        .unwrap();
    for (start, end, want) in [
        (0, i64::MAX, 3),
        (i64::MIN, i64::MAX, 3),
        (i64::MIN, 0, 0),
        (T0, i64::MAX - 1, 2),
        (2, T0 + 6, 1),
    ] {
        let page = store.query_cdrs(&window(APP, start, end)).unwrap();
        assert_eq!(
            (page.total, page.records.len()),
            (want, want as usize),
            "{start}..{end}"
        );
    }
}

fn journal_mode(path: &Path) -> String {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap()
}

fn open_bulk(path: &Path) -> SqliteStore {
    SqliteStore::open(
        path,
        SqliteOptions {
            readers: 1,
            bulk_load: true,
            ..SqliteOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn a_bulk_load_writes_through_a_rollback_journal_and_leaves_wal_behind() {
    let (_dir, path) = temp();
    drop(open(&path));
    assert_eq!(journal_mode(&path), "wal");

    let store = open_bulk(&path);
    // While the bulk store is open the file is in rollback-journal mode
    // (a plain reader sees it without switching it).
    let mode: String = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    store
        .put_records(
            (0..500)
                .map(|i| rec(APP, &format!("s{i}"), T0 + i))
                .collect(),
        )
        .unwrap();
    assert_eq!(
        store.query_cdrs(&window(APP, T0, T0 + 1000)).unwrap().total,
        500
    );
    drop(store);

    assert_eq!(journal_mode(&path), "wal");
    let store = open(&path);
    assert_eq!(
        store.query_cdrs(&window(APP, T0, T0 + 1000)).unwrap().total,
        500
    );
}

#[test]
fn a_bulk_load_beside_another_open_store_stays_on_the_wal_without_waiting() {
    let (_dir, path) = temp();
    let server = open(&path);
    server.put_records(vec![rec(APP, "first", T0)]).unwrap();

    let started = std::time::Instant::now();
    let bulk = open_bulk(&path);
    assert!(
        started.elapsed() < BUSY_TIMEOUT / 2,
        "the bulk open waited for the other store"
    );
    bulk.put_records(vec![rec(APP, "second", T0 + 1)]).unwrap();
    // Both see both records: the file never left WAL mode.
    assert_eq!(
        server.query_cdrs(&window(APP, T0, T0 + 10)).unwrap().total,
        2
    );
    assert_eq!(bulk.query_cdrs(&window(APP, T0, T0 + 10)).unwrap().total, 2);
    drop(bulk);
    assert_eq!(journal_mode(&path), "wal");
}
