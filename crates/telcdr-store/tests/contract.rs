//! The Store contract on every backend (SQLite, and PostgreSQL when the
//! tests have a server; see `common`): keys and accounts, settings,
//! concurrent writers, reopening, and two stores sharing one database.

mod common;

use telcdr_store::postgres::PgStore;
use telcdr_store::sqlite::SqliteOptions;
use telcdr_store::{
    CdrQuery, KeyCreated, NewRecord, StoreError, StoreOptions, StoreUrl, WriteOutcome,
};

const APP: i64 = 1_400_000_001;
const OTHER: i64 = 1_400_000_002;
/// An hour boundary.
const T0: i64 = 1_789_999_200;

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

#[test]
fn keys_lifecycle() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");

        assert!(matches!(
            store.create_key(&[], "AKIDempty", "s", 1),
            Err(StoreError::Invalid(_))
        ));

        let first = store
            .create_key(&[OTHER, APP], "AKID1", "secret1", 100)
            .unwrap();
        assert!(first.new_account);
        // Same SdkAppIds (any subset): the same account, no new one.
        let second = store.create_key(&[APP], "AKID2", "secret2", 100).unwrap();
        assert_eq!(
            second,
            KeyCreated {
                account_id: first.account_id,
                new_account: false
            }
        );
        // A fresh SdkAppId: a new account.
        let third = store.create_key(&[7], "AKID3", "secret3", 50).unwrap();
        assert!(third.new_account);
        assert_ne!(third.account_id, first.account_id);

        // Owned by different accounts, or only partly owned: refused.
        assert!(matches!(
            store.create_key(&[APP, 7], "AKID4", "s", 1),
            Err(StoreError::AppOwnedElsewhere { sdk_app_id: APP, owner }) if owner == first.account_id
        ));
        assert!(matches!(
            store.create_key(&[8, 7], "AKID4", "s", 1),
            Err(StoreError::AppOwnedElsewhere { sdk_app_id: 7, .. })
        ));
        // Refusals leave nothing behind: 8 is still unowned.
        assert!(
            store
                .create_key(&[8], "AKID5", "s", 200)
                .unwrap()
                .new_account
        );
        // A SecretId is unique.
        assert!(matches!(
            store.create_key(&[8], "AKID5", "s", 200),
            Err(StoreError::Invalid(_))
        ));

        let key = store.find_key("AKID1").unwrap().unwrap();
        assert_eq!(key.secret_key, "secret1");
        assert_eq!(key.account_id, first.account_id);
        assert!(key.enabled);
        assert!(!format!("{key:?}").contains("secret1"));
        assert_eq!(store.find_key("nope").unwrap(), None);

        assert!(store.account_owns(first.account_id, APP).unwrap());
        assert!(store.account_owns(first.account_id, OTHER).unwrap());
        assert!(!store.account_owns(first.account_id, 7).unwrap());
        assert!(!store.account_owns(third.account_id, APP).unwrap());

        let listed = store.list_keys().unwrap();
        let order: Vec<&str> = listed.iter().map(|k| k.secret_id.as_str()).collect();
        assert_eq!(order, ["AKID3", "AKID1", "AKID2", "AKID5"]);
        assert_eq!(listed[1].sdk_app_ids, vec![APP, OTHER]);
        assert_eq!(listed[0].sdk_app_ids, vec![7]);

        assert!(store.set_key_enabled("AKID1", false).unwrap());
        assert!(!store.find_key("AKID1").unwrap().unwrap().enabled);
        assert!(!store.set_key_enabled("missing", false).unwrap());
        assert!(store.set_key_enabled("AKID1", true).unwrap());
        assert!(store.find_key("AKID1").unwrap().unwrap().enabled);
    }
}

#[test]
fn settings_overwrite() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        assert_eq!(store.setting("x").unwrap(), None);
        store.set_setting("x", "1").unwrap();
        store.set_setting("x", "2").unwrap();
        assert_eq!(store.setting("x").unwrap().as_deref(), Some("2"));
    }
}

#[test]
fn concurrent_writers_are_grouped_and_all_acknowledged() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let r = rec(APP, &format!("t{t}-{i}"), T0 + i * 60);
                        assert_eq!(
                            store.put_records(vec![r]).unwrap(),
                            [WriteOutcome::Inserted]
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(store.record_count().unwrap(), 400);
        assert_eq!(
            store
                .query_cdrs(&window(APP, T0, T0 + 86_400))
                .unwrap()
                .total,
            400
        );
    }
}

#[test]
fn reopening_keeps_records_keys_and_settings() {
    for common::Fresh {
        name, store, url, ..
    } in common::fresh_stores(SqliteOptions::default())
    {
        eprintln!("backend: {name}");
        store.create_key(&[APP], "AKIDkeep", "secret", 10).unwrap();
        store.set_setting("demo.key", "AKIDkeep").unwrap();
        store
            .put_records(vec![rec(APP, "a", T0), rec(APP, "b", T0 + 1)])
            .unwrap();
        drop(store);

        let store = telcdr_store::open(&url, &StoreOptions::default()).unwrap();
        assert_eq!(store.record_count().unwrap(), 2);
        assert_eq!(
            store.query_cdrs(&window(APP, T0, T0 + 10)).unwrap().total,
            2
        );
        assert_eq!(
            store.find_key("AKIDkeep").unwrap().unwrap().secret_key,
            "secret"
        );
        assert_eq!(
            store.setting("demo.key").unwrap().as_deref(),
            Some("AKIDkeep")
        );
    }
}

/// Two servers on one database: a write acknowledged through one store is
/// visible through the other at once, and their writes interleave safely.
#[test]
fn two_stores_on_one_database_share_every_write() {
    for common::Fresh {
        name,
        store: first,
        url,
        ..
    } in common::fresh_stores(SqliteOptions::default())
    {
        eprintln!("backend: {name}");
        let second = telcdr_store::open(&url, &StoreOptions::default()).unwrap();
        first.create_key(&[APP], "AKIDone", "s1", 1).unwrap();
        assert!(second.find_key("AKIDone").unwrap().is_some());

        let stores = [first.clone(), second.clone()];
        let threads: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(s, store)| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..40 {
                        // Both write the shared sessions "x0".."x9" too, so
                        // replacements race across the two stores.
                        let batch = vec![
                            rec(APP, &format!("s{s}-{i}"), T0 + i * 97),
                            rec(
                                APP,
                                &format!("x{}", i % 10),
                                T0 + (i * 31 + s as i64) % 7200,
                            ),
                        ];
                        store.put_records(batch).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for store in [&first, &second] {
            let all = store
                .query_cdrs(&window(APP, T0 - 10, T0 + 86_400))
                .unwrap();
            assert_eq!(all.total, 90, "{name}");
            assert_eq!(all.records.len(), 90, "{name}");
            assert_eq!(store.record_count().unwrap(), 90, "{name}");
        }
        // The write through `second` is seen through `first` at once.
        second.put_records(vec![rec(APP, "late", T0 + 5)]).unwrap();
        assert_eq!(
            first
                .query_cdrs(&CdrQuery {
                    session_ids: vec!["late".into()],
                    ..window(APP, T0, T0 + 10)
                })
                .unwrap()
                .total,
            1
        );
    }
}

/// Windows at the edges of the time range (negative, or up to i64::MAX)
/// count and page like any other.
#[test]
fn extreme_windows_count_and_page() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        store
            .put_records(vec![
                rec(APP, "a", T0),
                rec(APP, "b", T0 + 86_400 * 3 + 17),
                rec(APP, "c", 5),
            ])
            .unwrap();
        for (start, end, want) in [
            (i64::MIN, i64::MAX, 3),
            (-1_000, T0, 2),
            (0, i64::MAX, 3),
            (T0 + 1, i64::MAX, 1),
            (i64::MIN, -1, 0),
        ] {
            let all = store.query_cdrs(&window(APP, start, end)).unwrap();
            assert_eq!(all.total, want, "{name}: {start}..{end}");
            assert_eq!(all.records.len() as u64, want, "{name}: {start}..{end}");
            let second = store
                .query_cdrs(&CdrQuery {
                    offset: 1,
                    limit: 1,
                    ..window(APP, start, end)
                })
                .unwrap();
            assert_eq!(second.total, want);
            assert_eq!(
                second.records.first(),
                all.records.get(1),
                "{name}: {start}..{end}"
            );
        }
    }
}

/// Import-sized batches: all new (PostgreSQL's one-COPY path), then half
/// replacements with a duplicate inside the batch (its look-up path).
#[test]
fn bulk_batches_report_new_and_replaced() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        let first: Vec<NewRecord> = (0..600)
            .map(|i| rec(APP, &format!("s{i:04}"), T0 + i * 7))
            .collect();
        let outcomes = store.put_records(first).unwrap();
        assert!(
            outcomes.iter().all(|o| *o == WriteOutcome::Inserted),
            "{name}"
        );

        // s0300..s0599 again (moved an hour later), s0600..s0899 new, and
        // s0900 twice.
        let mut second: Vec<NewRecord> = (300..900)
            .map(|i| rec(APP, &format!("s{i:04}"), T0 + 3_600 + i * 7))
            .collect();
        second.push(rec(APP, "s0900", T0 + 5));
        second.push(rec(APP, "s0900", T0 + 6));
        let outcomes = store.put_records(second).unwrap();
        let replaced = outcomes
            .iter()
            .filter(|o| **o == WriteOutcome::Replaced)
            .count();
        assert_eq!(outcomes.len(), 602, "{name}");
        assert_eq!(replaced, 301, "{name}: 300 existing and the second s0900");
        assert_eq!(outcomes[600], WriteOutcome::Inserted, "{name}");

        assert_eq!(store.record_count().unwrap(), 901, "{name}");
        let all = store.query_cdrs(&window(APP, T0, T0 + 86_400)).unwrap();
        assert_eq!(all.total, 901, "{name}");
        assert_eq!(all.records.len(), 901, "{name}");
        let moved = store
            .query_cdrs(&CdrQuery {
                session_ids: vec!["s0300".into(), "s0900".into()],
                ..window(APP, T0, T0 + 86_400)
            })
            .unwrap();
        let bodies: Vec<String> = moved
            .records
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect();
        assert_eq!(
            bodies,
            [
                format!(r#"{{"SessionId":"s0300","Time":{}}}"#, T0 + 3_600 + 2_100),
                format!(r#"{{"SessionId":"s0900","Time":{}}}"#, T0 + 6),
            ],
            "{name}"
        );
    }
}

/// A stream of batches commits in transactions of at least `commit_every`
/// records and reports each one's outcomes in input order, whether the
/// backend writes batches as they come (SQLite) or gathers them.
#[test]
fn record_streams_commit_in_steps_and_report_in_order() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        let mut batches: Vec<Vec<NewRecord>> = (0..10)
            .map(|b| {
                (0..7)
                    .map(|i| rec(APP, &format!("s{b}-{i}"), T0 + b * 100 + i))
                    .collect()
            })
            .collect();
        // A session twice in one batch, one again in a later transaction,
        // and an empty batch.
        batches[1].push(rec(APP, "s1-0", T0 + 150));
        batches[9].push(rec(APP, "s0-0", T0 + 5));
        batches.insert(3, Vec::new());

        let mut commits: Vec<Vec<WriteOutcome>> = Vec::new();
        store
            .put_record_stream(&mut batches.into_iter(), 20, &mut |o| commits.push(o))
            .unwrap();
        let sizes: Vec<usize> = commits.iter().map(Vec::len).collect();
        assert_eq!(sizes, [22, 21, 21, 8], "{name}");
        let replaced: Vec<usize> = commits
            .concat()
            .iter()
            .enumerate()
            .filter(|(_, o)| **o == WriteOutcome::Replaced)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(replaced, [14, 71], "{name}");
        assert_eq!(store.record_count().unwrap(), 70, "{name}");
        let moved = store
            .query_cdrs(&CdrQuery {
                session_ids: vec!["s0-0".into(), "s1-0".into()],
                ..window(APP, T0, T0 + 86_400)
            })
            .unwrap();
        assert_eq!(moved.total, 2, "{name}");
        assert_eq!(
            moved.records[0],
            format!(r#"{{"SessionId":"s1-0","Time":{}}}"#, T0 + 150).into_bytes(),
            "{name}"
        );
    }
}

/// Pages deep inside one crowded 5-minute slice (PostgreSQL skips such
/// rows in the time index alone) match the whole listing.
#[test]
fn pages_deep_inside_a_crowded_slice() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        // 400 records in one slice, many sharing a second.
        let batch: Vec<NewRecord> = (0..400)
            .map(|i| rec(APP, &format!("c{:03}", (i * 37) % 400), T0 + (i % 60)))
            .collect();
        store.put_records(batch).unwrap();
        let all = store
            .query_cdrs(&window(APP, T0 - 7_200, T0 + 7_200))
            .unwrap();
        assert_eq!(all.total, 400);
        for offset in (0..410).step_by(23) {
            let page = store
                .query_cdrs(&CdrQuery {
                    offset,
                    limit: 7,
                    ..window(APP, T0 - 7_200, T0 + 7_200)
                })
                .unwrap();
            assert_eq!(page.total, 400, "{name}");
            let want: Vec<Vec<u8>> = all
                .records
                .iter()
                .skip(offset as usize)
                .take(7)
                .cloned()
                .collect();
            assert_eq!(page.records, want, "{name}: offset {offset}");
        }
    }
}

/// PostgreSQL migrations run on open unless disabled; disabled, an old
/// schema is refused with a message that says how to upgrade, and a newer
/// one is refused either way.
#[test]
fn postgres_migrations_on_open() {
    use telcdr_store::postgres::{PgOptions, SCHEMA_VERSION};
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let url = common::fresh_postgres_url(&admin);
    let no_migrate = PgOptions {
        migrate: false,
        ..PgOptions::default()
    };
    let err = PgStore::open(&url, no_migrate.clone())
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("schema is at version 0")
            && err.to_string().contains("postgres.migrate"),
        "{err}"
    );
    drop(PgStore::open(&url, PgOptions::default()).unwrap());
    drop(PgStore::open(&url, no_migrate.clone()).unwrap());
    let mut client = PgStore::connect(&url).unwrap();
    client
        .execute(
            "UPDATE telcdr_schema SET version = $1",
            &[&(SCHEMA_VERSION + 1)],
        )
        .unwrap();
    for options in [no_migrate, PgOptions::default()] {
        assert!(matches!(
            PgStore::open(&url, options),
            Err(StoreError::SchemaTooNew { .. })
        ));
    }
}

/// `migrate`'s copy of the data push's bookkeeping: applied UUIDs and the
/// download queue (pending, failed and done) arrive whole, and copying
/// again adds nothing.
#[test]
fn push_state_copies_once_between_stores() {
    use telcdr_store::{DownloadFile, NewDownload, PushWrite};
    let push = |uuid: &str, session: &str, file: DownloadFile| PushWrite {
        uuid: Some(uuid.to_owned()),
        sdk_app_id: APP,
        received_at: T0,
        records: vec![rec(APP, session, T0)],
        download: Some(NewDownload {
            session_id: session.to_owned(),
            file,
            url: format!("http://127.0.0.1:9/{uuid}"),
        }),
    };
    let sources = common::fresh_stores(SqliteOptions::default());
    for common::Fresh { name, store, .. } in &sources {
        eprintln!("source backend: {name}");
        store
            .apply_pushes(vec![
                push("u1", "s1", DownloadFile::Named("r1.mp3".into())),
                push("u2", "s2", DownloadFile::Voicemail { ext: "wav".into() }),
                push("u3", "s3", DownloadFile::Named("r3.mp3".into())),
            ])
            .unwrap();
        let due = store.due_downloads(T0 + 10, 10).unwrap();
        assert_eq!(due.len(), 3);
        store.retry_download(due[0].id, "HTTP 404", None).unwrap();
        store
            .finish_download(due[1].id, "pending/x.wav", 10, T0 + 5)
            .unwrap();
        let state = store.export_push_state().unwrap();
        assert_eq!(state.seen.len(), 3);
        let states: Vec<&str> = state.downloads.iter().map(|d| d.state.as_str()).collect();
        assert_eq!(states, ["failed", "done", "pending"]);

        for common::Fresh {
            name,
            store: target,
            ..
        } in common::fresh_stores(SqliteOptions::default())
        {
            eprintln!("  target backend: {name}");
            target.import_push_state(&state).unwrap();
            target.import_push_state(&state).unwrap();
            assert_eq!(target.export_push_state().unwrap(), state);
            // A retry of a copied push folds onto it in the new store.
            let outcome = target
                .apply_pushes(vec![push("u1", "s1", DownloadFile::Named("r1.mp3".into()))])
                .unwrap();
            assert_eq!(outcome, [telcdr_store::PushOutcome::Duplicate]);
            assert_eq!(target.download_counts().unwrap().pending, 1);
        }
    }
}

/// A phone filter's total and page stay exact while a number it found busy
/// keeps being written: new calls (one by one and as a bulk batch),
/// replacements that move a call or take the number off it, calls between
/// the filter's own numbers, a call from a number to itself, and erasure.
/// On PostgreSQL the tests' low threshold makes the number busy after the
/// first query (checked below), so its totals come from its buckets.
#[test]
fn phone_totals_follow_every_write_of_a_busy_number() {
    const BUSY: &str = "8613000000009";
    const PEER: &str = "8613000000008";
    const OTHER_NUMBER: &str = "864000000007";
    let call = |session: &str, time: i64, caller: &str, callee: &str| NewRecord {
        caller: caller.to_owned(),
        callee: callee.to_owned(),
        ..rec(APP, session, time)
    };

    for common::Fresh {
        name, store, url, ..
    } in common::fresh_stores(SqliteOptions::default())
    {
        eprintln!("backend: {name}");
        let mut model: std::collections::BTreeMap<String, NewRecord> = Default::default();
        let write = |model: &mut std::collections::BTreeMap<String, NewRecord>,
                     records: Vec<NewRecord>| {
            for r in &records {
                model.insert(r.session_id.clone(), r.clone());
            }
            store.put_records(records).unwrap();
        };
        let check = |model: &std::collections::BTreeMap<String, NewRecord>| {
            let windows = [
                (i64::MIN, i64::MAX),
                (T0 - 3 * 86_400, T0 + 5 * 86_400),
                (T0 + 3_599, T0 + 86_400 * 2 + 301),
                (-1_000, T0),
            ];
            let filters: [&[&str]; 4] = [&[BUSY], &[BUSY, PEER], &[PEER], &[OTHER_NUMBER, BUSY]];
            for (start, end) in windows {
                for phones in filters {
                    let mut want: Vec<&NewRecord> = model
                        .values()
                        .filter(|r| {
                            (start..=end).contains(&r.time)
                                && (phones.contains(&r.caller.as_str())
                                    || phones.contains(&r.callee.as_str()))
                        })
                        .collect();
                    want.sort_by(|a, b| (b.time, &a.session_id).cmp(&(a.time, &b.session_id)));
                    for (offset, limit) in [(0, 100), (0, 3), (5, 4), (10_000, 10)] {
                        let got = store
                            .query_cdrs(&CdrQuery {
                                phones: phones.iter().map(|p| p.to_string()).collect(),
                                offset,
                                limit,
                                ..window(APP, start, end)
                            })
                            .unwrap();
                        let what =
                            format!("{name}: {phones:?} in {start}..={end}, {offset}+{limit}");
                        assert_eq!(got.total, want.len() as u64, "{what}");
                        let page: Vec<&[u8]> = want
                            .iter()
                            .skip(offset as usize)
                            .take(limit as usize)
                            .map(|r| r.body.as_slice())
                            .collect();
                        let got_page: Vec<&[u8]> = got.records.iter().map(Vec::as_slice).collect();
                        assert_eq!(got_page, page, "{what}");
                    }
                }
            }
        };

        // Calls over a few days, on both sides, with ties in time.
        let mut first = Vec::new();
        for i in 0..12 {
            let time = T0 + i * 7_200 + (i % 3) * 300;
            first.push(if i % 2 == 0 {
                call(&format!("s{i:02}"), time, BUSY, OTHER_NUMBER)
            } else {
                call(&format!("s{i:02}"), time, OTHER_NUMBER, BUSY)
            });
        }
        first.push(call("tie-a", T0 + 7_200, BUSY, "864000000001"));
        first.push(call("early", -100, BUSY, "864000000001"));
        write(&mut model, first);
        check(&model);

        if let StoreUrl::Postgres(url) = &url {
            // Marking runs beside the queries; wait for it.
            let mut client = PgStore::connect(url).unwrap();
            let marked = (0..100).any(|_| {
                let busy: i64 = client
                    .query_one(
                        "SELECT count(*) FROM cdr_busy_phone WHERE sdk_app_id = $1 AND phone = $2",
                        &[&APP, &BUSY],
                    )
                    .unwrap()
                    .get(0);
                if busy == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                busy == 1
            });
            assert!(marked, "the first filters marked {BUSY} busy");
            check(&model);
        }

        // Later writes: a new call, calls between the filter's numbers and
        // to itself, a replacement that moves a call to another day, one
        // that takes the busy number off a call, and a bulk batch.
        write(
            &mut model,
            vec![
                call("late", T0 + 86_400 * 2 + 5, PEER, BUSY),
                call("between", T0 + 86_400 + 60, BUSY, PEER),
                call("itself", T0 + 86_400 + 60, BUSY, BUSY),
                call("s03", T0 + 86_400 * 3 + 1, OTHER_NUMBER, BUSY),
                call("s04", T0 + 4 * 7_200, OTHER_NUMBER, "864000000001"),
            ],
        );
        check(&model);
        let bulk: Vec<NewRecord> = (0..300)
            .map(|i| call(&format!("bulk{i:03}"), T0 + 600 * i, BUSY, OTHER_NUMBER))
            .collect();
        write(&mut model, bulk);
        check(&model);

        // Erasure takes the calls out of the counts too.
        let erased: Vec<String> = ["s00", "between", "itself", "bulk007", "early"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(store.delete_records(APP, erased.clone()).unwrap(), 5);
        for s in &erased {
            model.remove(s);
        }
        check(&model);
    }
}
