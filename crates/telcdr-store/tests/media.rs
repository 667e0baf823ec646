//! The Store contract of what hangs off records, on every backend: app
//! settings and the tenancy view, media rows, media that wait for their
//! record, events, single records, window scans, phone look-ups and record
//! deletion (whose buckets must stay exact).

mod common;

use telcdr_store::sqlite::SqliteOptions;
use telcdr_store::{
    AppSettings, AppView, CdrQuery, MediaObject, NewRecord, PendingMedia, Store, WindowRecord,
};

const APP: i64 = 1_400_000_001;
const OTHER: i64 = 1_400_000_002;
const T0: i64 = 1_789_999_200;

fn rec(app: i64, session_id: &str, time: i64, caller: &str, refs: &[&str]) -> NewRecord {
    NewRecord {
        sdk_app_id: app,
        session_id: session_id.to_owned(),
        time,
        caller: caller.to_owned(),
        callee: "4000".into(),
        direction: 0,
        end_status: 1,
        seat_mail: String::new(),
        skill_group_id: 0,
        body: format!(r#"{{"SessionId":"{session_id}","Time":{time}}}"#).into_bytes(),
        events: None,
        media_refs: refs.iter().map(|r| r.to_string()).collect(),
    }
}

fn media(app: i64, session: &str, name: &str, time: i64) -> MediaObject {
    MediaObject {
        sdk_app_id: app,
        name: name.into(),
        session_id: session.into(),
        object_key: format!("{app}/k/{name}"),
        size: 10,
        duration_ms: 0,
        time,
    }
}

fn total(store: &dyn Store, app: i64) -> u64 {
    store
        .query_cdrs(&CdrQuery {
            sdk_app_id: app,
            start: 0,
            end: i64::MAX,
            phones: vec![],
            session_ids: vec![],
            offset: 0,
            limit: 1000,
        })
        .unwrap()
        .total
}

#[test]
fn app_settings_and_the_tenancy_view() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        let account = store
            .create_key(&[APP], "AKIDa", "s", 1)
            .unwrap()
            .account_id;
        assert_eq!(
            store.app_view(account, APP).unwrap(),
            Some(AppView::default())
        );
        assert_eq!(store.app_view(account, OTHER).unwrap(), None);
        assert_eq!(store.app_settings(OTHER).unwrap(), AppSettings::default());

        let settings = AppSettings {
            number_protection: true,
            record_retention_days: 30,
            media_retention_days: 7,
        };
        store.set_app_settings(APP, &settings).unwrap();
        assert_eq!(store.app_settings(APP).unwrap(), settings);
        assert_eq!(
            store.app_view(account, APP).unwrap().unwrap().settings,
            settings
        );
        assert_eq!(store.list_app_settings().unwrap(), vec![(APP, settings)]);

        // Media mark the app; its settings stay.
        store
            .put_media(vec![media(APP, "s1", "r1.wav", T0)])
            .unwrap();
        let view = store.app_view(account, APP).unwrap().unwrap();
        assert!(view.has_media);
        assert_eq!(view.settings, settings);

        // Every process ends up with the first value.
        assert_eq!(store.ensure_setting("secret.x", "one").unwrap(), "one");
        assert_eq!(store.ensure_setting("secret.x", "two").unwrap(), "one");
    }
}

#[test]
fn media_rows_by_session_and_by_age() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        store
            .put_media(vec![
                media(APP, "s1", "r1.wav", T0),
                media(APP, "s1", "s1.asr.json", T0),
                media(APP, "s2", "r2.mp3", T0 + 100),
                media(OTHER, "s1", "r1.wav", T0),
            ])
            .unwrap();
        let names = |objects: Vec<MediaObject>| -> Vec<String> {
            let mut n: Vec<String> = objects.into_iter().map(|m| m.name).collect();
            n.sort();
            n
        };
        assert_eq!(
            names(store.media_for_sessions(APP, &["s1", "s2"]).unwrap()),
            ["r1.wav", "r2.mp3", "s1.asr.json"]
        );
        assert_eq!(
            names(store.media_for_sessions(APP, &["s9"]).unwrap()),
            Vec::<String>::new()
        );
        // Replacing a row by name.
        let mut moved = media(APP, "s1", "r1.wav", T0);
        moved.object_key = "elsewhere".into();
        store.put_media(vec![moved]).unwrap();
        let s1 = store.media_for_sessions(APP, &["s1"]).unwrap();
        assert_eq!(s1.iter().filter(|m| m.name == "r1.wav").count(), 1);
        assert!(s1.iter().any(|m| m.object_key == "elsewhere"));

        assert_eq!(
            names(store.media_before(APP, T0 + 100, 10).unwrap()),
            ["r1.wav", "s1.asr.json"]
        );
        assert_eq!(store.media_before(APP, T0 + 100, 1).unwrap().len(), 1);
        assert_eq!(
            store
                .delete_media(APP, vec!["r1.wav".into(), "nope".into()])
                .unwrap(),
            1
        );
        assert_eq!(
            names(store.media_for_sessions(OTHER, &["s1"]).unwrap()),
            ["r1.wav"],
            "another app's row of the same name stays"
        );
    }
}

/// Media retention goes by the record's Time: a replacement that moves the
/// record moves its media's age too, in a big (bulk) batch as in a small one.
#[test]
fn a_replacement_that_moves_a_record_moves_its_media_age() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        let filler = |from: usize| -> Vec<NewRecord> {
            (from..from + 600)
                .map(|i| rec(APP, &format!("f{i}"), T0 + i as i64, "8613000000001", &[]))
                .collect()
        };
        store
            .put_records(vec![rec(APP, "s1", T0, "8613000000001", &[])])
            .unwrap();
        store
            .put_media(vec![media(APP, "s1", "r1.wav", T0)])
            .unwrap();
        let later = T0 + 30 * 86_400;
        let mut big = filler(0);
        big.push(rec(APP, "s1", later, "8613000000001", &[]));
        store.put_records(big).unwrap();
        assert!(
            store.media_before(APP, T0 + 86_400, 10).unwrap().is_empty(),
            "the media aged with the record's old Time"
        );
        assert_eq!(store.media_before(APP, later + 1, 10).unwrap().len(), 1);
        // And back, in a batch of one.
        store
            .put_records(vec![rec(APP, "s1", T0, "8613000000001", &[])])
            .unwrap();
        assert_eq!(store.media_before(APP, T0 + 1, 10).unwrap().len(), 1);
    }
}

#[test]
fn pending_media_are_linked_when_their_record_arrives() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        for name in [
            "rec-1.wav",
            "sess-1.asr.json",
            "sess-1.voicemail.0.mp3",
            "rec-9.mp3",
        ] {
            store
                .put_pending_media(PendingMedia {
                    name: name.into(),
                    object_key: format!("pending/{name}"),
                    size: 3,
                    duration_ms: 0,
                    created_at: 5,
                })
                .unwrap();
        }
        // A record whose id only shares a prefix links nothing.
        store
            .put_records(vec![rec(APP, "sess", T0, "1", &["rec"])])
            .unwrap();
        assert_eq!(store.list_pending_media().unwrap().len(), 4);

        store
            .put_records(vec![rec(APP, "sess-1", T0 + 5, "1", &["rec-0", "rec-1"])])
            .unwrap();
        let mut linked: Vec<(String, String, i64)> = store
            .media_for_sessions(APP, &["sess-1"])
            .unwrap()
            .into_iter()
            .map(|m| (m.name, m.object_key, m.time))
            .collect();
        linked.sort();
        assert_eq!(
            linked,
            vec![
                ("rec-1.wav".into(), "pending/rec-1.wav".into(), T0 + 5),
                (
                    "sess-1.asr.json".into(),
                    "pending/sess-1.asr.json".into(),
                    T0 + 5
                ),
                (
                    "sess-1.voicemail.0.mp3".into(),
                    "pending/sess-1.voicemail.0.mp3".into(),
                    T0 + 5
                ),
            ]
        );
        let left: Vec<String> = store
            .list_pending_media()
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(left, ["rec-9.mp3"]);

        // Linking by hand, to a record stored earlier.
        store
            .link_pending_media(vec!["rec-9.mp3".into()], APP, "sess", T0)
            .unwrap();
        assert!(store.list_pending_media().unwrap().is_empty());
        assert_eq!(store.media_for_sessions(APP, &["sess"]).unwrap().len(), 1);
    }
}

#[test]
fn events_live_beside_their_record_and_follow_its_revisions() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        let mut with = rec(APP, "e1", T0, "1", &[]);
        with.events = Some(br#"[{"EventType":"StaffHold"}]"#.to_vec());
        store.put_records(vec![with.clone()]).unwrap();
        let found = store.find_record(APP, "e1").unwrap().unwrap();
        assert_eq!(found.time, T0);
        assert_eq!(found.body, with.body);
        assert_eq!(found.events, with.events);
        assert_eq!(store.find_record(OTHER, "e1").unwrap(), None);

        // migrate carries them.
        let scanned = store.scan_records(None, 10).unwrap();
        assert_eq!(scanned[0].events, with.events);

        // A newer revision without events drops them.
        store
            .put_records(vec![rec(APP, "e1", T0 + 1, "1", &[])])
            .unwrap();
        let found = store.find_record(APP, "e1").unwrap().unwrap();
        assert_eq!((found.time, found.events), (T0 + 1, None));
    }
}

#[test]
fn window_scans_phone_lookups_and_deletes() {
    for common::Fresh { name, store, .. } in common::fresh_stores(SqliteOptions::default()) {
        eprintln!("backend: {name}");
        let mut batch = Vec::new();
        for i in 0..25 {
            // Ties on time: several records per second.
            let caller = if i % 5 == 0 { "861300" } else { "861399" };
            batch.push(rec(
                APP,
                &format!("s{i:02}"),
                T0 + (i / 3) * 3600,
                caller,
                &[],
            ));
        }
        batch.push(rec(OTHER, "s00", T0, "861300", &[]));
        store.put_records(batch.clone()).unwrap();

        // Every record of the window once, newest first, ties by id.
        let mut seen: Vec<WindowRecord> = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .scan_window(APP, T0 + 3600, T0 + 6 * 3600, after.as_ref(), 4)
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some((last.time, last.session_id.clone()));
            seen.extend(page);
        }
        let mut want: Vec<(i64, String)> = batch
            .iter()
            .filter(|r| r.sdk_app_id == APP && (T0 + 3600..=T0 + 6 * 3600).contains(&r.time))
            .map(|r| (r.time, r.session_id.clone()))
            .collect();
        want.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let got: Vec<(i64, String)> = seen
            .iter()
            .map(|r| (r.time, r.session_id.clone()))
            .collect();
        assert_eq!(got, want);

        assert_eq!(
            store.sessions_with_phone(APP, "861300").unwrap(),
            ["s00", "s05", "s10", "s15", "s20"]
        );
        assert_eq!(store.sessions_with_phone(APP, "4000").unwrap().len(), 25);

        store
            .put_media(vec![media(APP, "s05", "r5.wav", T0)])
            .unwrap();
        let removed = store
            .delete_records(APP, vec!["s05".into(), "s06".into(), "nope".into()])
            .unwrap();
        assert_eq!(removed, 2);
        assert_eq!(total(store.as_ref(), APP), 23, "buckets stay exact");
        assert_eq!(store.record_count().unwrap(), 24);
        assert!(store.find_record(APP, "s05").unwrap().is_none());
        assert!(store.media_for_sessions(APP, &["s05"]).unwrap().is_empty());
        assert_eq!(total(store.as_ref(), OTHER), 1);
        // Deleting everything leaves empty totals, not negative ones.
        let all: Vec<String> = (0..25).map(|i| format!("s{i:02}")).collect();
        store.delete_records(APP, all).unwrap();
        assert_eq!(total(store.as_ref(), APP), 0);
        assert_eq!(store.counts_by_app().unwrap(), vec![(OTHER, 1)]);
    }
}
