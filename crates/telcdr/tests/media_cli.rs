//! Media, settings and removal from the command line, as an operator runs
//! them: `import --media` (good files, files that lie about what they are,
//! files whose record comes later or came earlier), `apps set/show`, `erase`
//! and `retention`. The store is then opened directly to check what is there.

use std::path::{Path, PathBuf};

mod common;

use common::{telcdr, text, unix_now, wav};
use telcdr_model::{ImportedRecord, normalize_phone, parse_record_line};
use telcdr_store::{Store, StoreOptions, StoreUrl};

const APP: i64 = 1_400_000_000;
const DAY: i64 = 86_400;

/// Generated records ending at `until`, written to `calls.jsonl`.
fn records(dir: &Path, count: u32, days: u32, until: i64) -> (PathBuf, Vec<ImportedRecord>) {
    let out = telcdr(
        dir,
        &[
            "generate",
            "--count",
            &count.to_string(),
            "--sdk-app-id",
            &APP.to_string(),
            "--days",
            &days.to_string(),
            "--seed",
            "11",
            "--until",
            &until.to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.join("calls.jsonl");
    std::fs::write(&file, &out.stdout).unwrap();
    let parsed = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| parse_record_line(l).unwrap())
        .collect();
    (file, parsed)
}

fn transcript(start_ms: i64) -> Vec<u8> {
    format!(
        r#"[{{"User":"agent@x","Message":"Hello","Start":{start_ms},"End":{}}},
            {{"User":"user","Message":"Hi","Start":{},"End":{}}}]"#,
        start_ms + 1500,
        start_ms + 2000,
        start_ms + 61_000
    )
    .into_bytes()
}

fn open_store(dir: &Path) -> std::sync::Arc<dyn Store> {
    telcdr_store::open(
        &StoreUrl::Sqlite(dir.join("telcdr.db")),
        &StoreOptions::default(),
    )
    .unwrap()
}

/// Files under the data dir's media store, relative to it.
fn media_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(at).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&dir.join("media"), &dir.join("media"), &mut out);
    out.sort();
    out
}

fn answered(records: &[ImportedRecord]) -> Vec<&ImportedRecord> {
    records
        .iter()
        .filter(|r| r.cdr.accept_timestamp > 0 && !r.cdr.record_id.is_empty())
        .collect()
}

fn date_path(time: i64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = time.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}/{m:02}/{d:02}")
}

#[test]
fn import_media_stores_good_files_rejects_liars_and_links_late_records() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (file, records) = records(dir.path(), 200, 5, 1_795_000_000);
    let calls = answered(&records);
    let (a, b) = (calls[0], calls[1]);
    // b's record is held back: its media must wait for it.
    let late_line = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .find(|l| l.contains(&b.cdr.session_id))
        .unwrap()
        .to_owned();
    let early: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(&b.cdr.session_id))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, early).unwrap();

    let media = dir.path().join("in");
    std::fs::create_dir(&media).unwrap();
    let a_wav = wav(800, 3);
    std::fs::write(media.join(format!("{}.wav", a.cdr.record_id)), &a_wav).unwrap();
    std::fs::write(
        media.join(format!("{}.asr.json", a.cdr.session_id)),
        transcript(a.cdr.accept_timestamp * 1000),
    )
    .unwrap();
    std::fs::write(
        media.join(format!("{}.voicemail.0.wav", a.cdr.session_id)),
        wav(100, 5),
    )
    .unwrap();
    std::fs::write(media.join(format!("{}.wav", b.cdr.record_id)), wav(50, 7)).unwrap();
    // Liars and strangers.
    std::fs::write(media.join("notes-about-calls.mp3"), b"just some text").unwrap();
    std::fs::write(
        media.join(format!("{}.asr.json", calls[2].cdr.session_id)),
        b"[{\"Message\": 1}]",
    )
    .unwrap();
    std::fs::write(media.join("README.txt"), b"hello").unwrap();

    let out = telcdr(
        &data,
        &[
            "import",
            "--media",
            media.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("notes-about-calls.mp3: rejected: not an MP3"),
        "{err}"
    );
    assert!(err.contains("README.txt: rejected:"), "{err}");
    assert!(
        err.contains(&format!(
            "{}.asr.json: rejected: not a transcript",
            calls[2].cdr.session_id
        )),
        "{err}"
    );
    assert!(
        err.contains("4 stored (3 with their records, 1 waiting"),
        "{err}"
    );

    let day = date_path(a.cdr.time);
    assert_eq!(
        media_files(&data),
        vec![
            format!("{APP}/{day}/{}.asr.json", a.cdr.session_id),
            format!("{APP}/{day}/{}.voicemail.0.wav", a.cdr.session_id),
            format!("{APP}/{day}/{}.wav", a.cdr.record_id),
            format!("pending/{}.wav", b.cdr.record_id),
        ]
    );
    assert_eq!(
        std::fs::read(data.join(format!("media/{APP}/{day}/{}.wav", a.cdr.record_id))).unwrap(),
        a_wav
    );
    {
        let store = open_store(&data);
        let held = store.media_for_sessions(APP, &[&a.cdr.session_id]).unwrap();
        assert_eq!(held.len(), 3);
        let asr = held.iter().find(|m| m.name.ends_with(".asr.json")).unwrap();
        assert_eq!(asr.duration_ms, 61_000);
        assert_eq!(store.list_pending_media().unwrap().len(), 1);
    }

    // b's record arrives: its recording is linked...
    let late = dir.path().join("late.jsonl");
    std::fs::write(&late, format!("{late_line}\n")).unwrap();
    let out = telcdr(&data, &["import", late.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    {
        let store = open_store(&data);
        assert!(store.list_pending_media().unwrap().is_empty());
        let held = store.media_for_sessions(APP, &[&b.cdr.session_id]).unwrap();
        assert_eq!(held.len(), 1);
        // ...and moved from pending/ to its dated key.
        let key = format!("{APP}/{}/{}.wav", date_path(b.cdr.time), b.cdr.record_id);
        assert_eq!(held[0].object_key, key);
        assert!(media_files(&data).contains(&key));
        assert!(!media_files(&data).iter().any(|f| f.starts_with("pending/")));
    }

    // Media for records imported in an earlier run: found by RecordId and
    // SessionId in the store.
    let c = calls[3];
    let later = dir.path().join("later");
    std::fs::create_dir(&later).unwrap();
    std::fs::write(later.join(format!("{}.wav", c.cdr.record_id)), wav(10, 9)).unwrap();
    std::fs::write(
        later.join(format!("{}.asr.json", c.cdr.session_id)),
        transcript(c.cdr.accept_timestamp * 1000),
    )
    .unwrap();
    let out = telcdr(&data, &["import", "--media", later.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2 stored (2 with their records, 0 waiting"));
    let store = open_store(&data);
    assert_eq!(
        store
            .media_for_sessions(APP, &[&c.cdr.session_id])
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn apps_settings_round_trip_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = telcdr(
        dir.path(),
        &[
            "apps",
            "set",
            "1400000000",
            "--number-protection",
            "on",
            "--media-retention-days",
            "30",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = telcdr(dir.path(), &["apps", "show", "1400000000", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["NumberProtection"], true);
    assert_eq!(shown["MediaRetentionDays"], 30);
    assert_eq!(shown["RecordRetentionDays"], 0);

    let out = telcdr(
        dir.path(),
        &["apps", "set", "1400000000", "--number-protection", "off"],
    );
    assert!(text(&out.stdout).contains("number protection  off"));
    assert!(text(&out.stdout).contains("keep media         30 days"));

    for bad in [
        vec!["apps", "set", "1400000000", "--number-protection", "maybe"],
        vec!["apps", "set", "1400000000"],
        vec!["apps", "set", "-5", "--number-protection", "on"],
        vec!["apps", "set", "1400000000", "--record-retention-days", "-1"],
    ] {
        let out = telcdr(dir.path(), &bad);
        assert!(!out.status.success(), "{bad:?} was accepted");
        assert!(!text(&out.stderr).is_empty());
    }
}

#[test]
fn erase_removes_every_record_and_object_of_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (file, records) = records(dir.path(), 400, 5, 1_795_000_000);
    let out = telcdr(&data, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A number that is some records' caller or callee, and a leg's phone.
    let with_leg = records
        .iter()
        .find(|r| r.cdr.serve_participants.iter().any(|p| !p.phone.is_empty()))
        .expect("a call with a leg's phone");
    let leg_phone = with_leg
        .cdr
        .serve_participants
        .iter()
        .find(|p| !p.phone.is_empty())
        .unwrap()
        .phone
        .clone();
    let phone = normalize_phone(&leg_phone);
    let involved = |r: &ImportedRecord| {
        normalize_phone(&r.cdr.caller) == phone
            || normalize_phone(&r.cdr.callee) == phone
            || r.cdr
                .serve_participants
                .iter()
                .any(|p| normalize_phone(&p.phone) == phone)
    };
    let expected: Vec<&ImportedRecord> = records.iter().filter(|r| involved(r)).collect();
    assert!(!expected.is_empty());

    // One of them has a recording.
    let media = dir.path().join("in");
    std::fs::create_dir(&media).unwrap();
    let recorded = expected
        .iter()
        .find(|r| !r.cdr.record_id.is_empty())
        .unwrap();
    std::fs::write(
        media.join(format!("{}.wav", recorded.cdr.record_id)),
        wav(10, 1),
    )
    .unwrap();
    let out = telcdr(&data, &["import", "--media", media.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(media_files(&data).len(), 1);

    let out = telcdr(
        &data,
        &[
            "erase",
            "--sdk-app-id",
            "1400000000",
            "--phone",
            &format!("+{phone}"),
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "erased {} records and 1 media objects",
            expected.len()
        )),
        "{stdout}"
    );
    for r in &expected {
        assert!(stdout.contains(&format!("removed session {}", r.cdr.session_id)));
    }
    assert!(media_files(&data).is_empty(), "the recording is gone");
    let store = open_store(&data);
    assert!(store.sessions_with_phone(APP, &phone).unwrap().is_empty());
    for r in &expected {
        assert!(store.find_record(APP, &r.cdr.session_id).unwrap().is_none());
    }
    assert_eq!(
        store.record_count().unwrap(),
        (records.len() - expected.len()) as u64
    );

    let out = telcdr(
        &data,
        &["erase", "--sdk-app-id", "1400000000", "--phone", "abc"],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("has no digits"));
}

#[test]
fn retention_removes_old_records_and_old_media_separately() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let now = unix_now();
    let (file, records) = records(dir.path(), 300, 20, now);
    let out = telcdr(&data, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Recordings for an old call and a recent one.
    let calls = answered(&records);
    let old = calls.iter().find(|r| r.cdr.time < now - 15 * DAY).unwrap();
    let mid = calls
        .iter()
        .find(|r| r.cdr.time > now - 9 * DAY && r.cdr.time < now - 6 * DAY)
        .unwrap();
    let media = dir.path().join("in");
    std::fs::create_dir(&media).unwrap();
    for r in [old, mid] {
        std::fs::write(media.join(format!("{}.wav", r.cdr.record_id)), wav(10, 2)).unwrap();
    }
    let out = telcdr(&data, &["import", "--media", media.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Nothing configured: nothing goes.
    let out = telcdr(&data, &["retention"]);
    assert!(text(&out.stdout).contains("nothing to remove"));

    // Media older than 5 days go, records stay.
    telcdr(
        &data,
        &["apps", "set", "1400000000", "--media-retention-days", "5"],
    );
    let out = telcdr(&data, &["retention"]);
    assert!(
        text(&out.stdout).contains("SdkAppId 1400000000: removed 0 records and 2 media objects"),
        "{}",
        text(&out.stdout)
    );
    assert!(media_files(&data).is_empty());
    assert_eq!(
        open_store(&data).record_count().unwrap(),
        records.len() as u64
    );

    // Records older than 10 days go.
    telcdr(
        &data,
        &["apps", "set", "1400000000", "--record-retention-days", "10"],
    );
    // The command's clock is a little later than this test's: a record
    // may cross the cutoff in between.
    let expired_by = |at: i64| {
        records
            .iter()
            .filter(|r| r.cdr.time < at - 10 * DAY)
            .count()
    };
    let at_least = expired_by(unix_now());
    let out = telcdr(&data, &["retention"]);
    let at_most = expired_by(unix_now());
    let stdout = text(&out.stdout);
    let removed: usize = stdout
        .split("removed ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        at_least > 0 && (at_least..=at_most).contains(&removed),
        "{stdout}"
    );
    assert_eq!(
        open_store(&data).record_count().unwrap(),
        (records.len() - removed) as u64
    );
}
