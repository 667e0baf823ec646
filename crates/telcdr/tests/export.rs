//! `telcdr export` as an operator runs it: JSON Lines that import back into
//! a fresh store with the same answers (events included), CSV a spreadsheet
//! reads, media written in the layout `import --media` takes, inclusive
//! `--from`/`--to`, the errors, and memory that does not grow with the
//! number of records.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod common;

use common::{BIN, telcdr, text, wav};
use telcdr_model::{
    EventStaffDetail, EventStaffElement, GenerateOptions, ImportedRecord, SessionEvent,
    parse_record_line, to_json_line,
};
use telcdr_store::{CdrQuery, NewRecord, Store, StoreOptions, StoreUrl};

const APP: i64 = 1_400_000_000;
const OTHER: i64 = 1_400_000_001;
const UNTIL: i64 = 1_790_000_000;
/// A remark a CSV writer must quote: comma, quotes, a line break.
const TRICKY_REMARK: &str = "called back, said \"no\"\nthen hung up";

fn generated(app: i64, count: u64, days: u32, seed: u64) -> Vec<ImportedRecord> {
    telcdr_model::generate(&GenerateOptions {
        count,
        sdk_app_id: app,
        days,
        seed,
        until: UNTIL,
    })
    .collect()
}

/// A record with Events and a remark that needs CSV quoting.
fn tricky_record() -> ImportedRecord {
    let mut record = generated(APP, 1, 1, 99).remove(0);
    record.cdr.session_id = "tricky-session".into();
    record.cdr.remark = TRICKY_REMARK.into();
    record.events = vec![
        SessionEvent {
            timestamp: record.cdr.time + 5,
            event_type: "StaffHold".into(),
            staff_event_detail: EventStaffDetail {
                staffs: vec![EventStaffElement {
                    mail: "agent@example.com".into(),
                    staff_number: "7".into(),
                }],
            },
        },
        SessionEvent {
            timestamp: record.cdr.time + 9,
            event_type: "StaffUnhold".into(),
            ..Default::default()
        },
    ];
    record
}

fn write_lines(path: &Path, records: &[ImportedRecord]) {
    let mut out = String::new();
    for r in records {
        out.push_str(&to_json_line(r));
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

fn open_store(data: &Path) -> Arc<dyn Store> {
    telcdr_store::open(
        &StoreUrl::Sqlite(data.join("telcdr.db")),
        &StoreOptions::default(),
    )
    .unwrap()
}

fn import(data: &Path, args: &[&str]) -> String {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    let out = telcdr(data, &all);
    let err = text(&out.stderr);
    assert!(out.status.success(), "import {args:?}: {err}");
    err
}

/// Runs `telcdr export` and returns (stdout, stderr), asserting success.
fn export(data: &Path, args: &[&str]) -> (Vec<u8>, String) {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    let out = telcdr(data, &all);
    let err = text(&out.stderr);
    assert!(out.status.success(), "export {args:?}: {err}");
    (out.stdout, err)
}

fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

fn session_ids(bytes: &[u8]) -> BTreeSet<String> {
    lines(bytes)
        .into_iter()
        .map(|l| parse_record_line(l).unwrap().cdr.session_id)
        .collect()
}

/// Every page of a DescribeTelCdr-shaped query: its total and the bodies.
fn answers(store: &dyn Store, query: CdrQuery) -> (u64, Vec<Vec<u8>>) {
    let mut bodies = Vec::new();
    let mut total = 0;
    for page in 0.. {
        let answer = store
            .query_cdrs(&CdrQuery {
                offset: page * 100,
                limit: 100,
                ..query.clone()
            })
            .unwrap();
        total = answer.total;
        if answer.records.is_empty() {
            break;
        }
        bodies.extend(answer.records);
    }
    (total, bodies)
}

fn window(start: i64, end: i64) -> CdrQuery {
    CdrQuery {
        sdk_app_id: APP,
        start,
        end,
        phones: Vec::new(),
        session_ids: Vec::new(),
        offset: 0,
        limit: 100,
    }
}

/// Two apps' records imported into `dir/a`; returns the data dir and APP's
/// records.
fn source_store(dir: &Path, count: u64) -> (PathBuf, Vec<ImportedRecord>) {
    let mut records = generated(APP, count, 5, 3);
    records.push(tricky_record());
    let file = dir.join("in.jsonl");
    let mut both = records.clone();
    both.extend(generated(OTHER, 50, 5, 4));
    write_lines(&file, &both);
    let data = dir.join("a");
    import(&data, &[file.to_str().unwrap()]);
    (data, records)
}

#[test]
fn jsonl_round_trip_into_a_fresh_store_gives_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (a, records) = source_store(dir.path(), 2_000);
    let file = dir.path().join("export.jsonl");
    let (stdout, err) = export(
        &a,
        &[
            "--sdk-app-id",
            &APP.to_string(),
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert!(stdout.is_empty(), "--output writes nothing to stdout");
    assert!(
        err.contains(&format!(
            "exported {} records of SdkAppId {APP} in ",
            records.len()
        )),
        "{err}"
    );
    assert!(err.contains(" records/s)"), "{err}");
    let exported = std::fs::read(&file).unwrap();
    assert_eq!(lines(&exported).len(), records.len());
    // Only APP's records, every one of them, each line the import format.
    let want: BTreeSet<String> = records.iter().map(|r| r.cdr.session_id.clone()).collect();
    assert_eq!(session_ids(&exported), want);
    for line in lines(&exported) {
        assert!(line.starts_with(format!("{{\"SdkAppId\":{APP},").as_bytes()));
    }
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp")), "{names:?}");
    // Standard output gets the same bytes.
    let (to_stdout, _) = export(&a, &["--sdk-app-id", &APP.to_string()]);
    assert_eq!(to_stdout, exported);

    let b = dir.path().join("b");
    let err = import(&b, &[file.to_str().unwrap()]);
    assert!(
        err.contains(&format!("{} new, 0 replaced, 0 rejected", records.len())),
        "{err}"
    );

    let (sa, sb) = (open_store(&a), open_store(&b));
    let day_start = records[records.len() / 2].cdr.time - 43_200;
    let phone = telcdr_model::normalize_phone(&records[7].cdr.caller);
    for query in [
        window(1, UNTIL + 86_400),
        window(day_start, day_start + 86_399),
        CdrQuery {
            phones: vec![phone],
            ..window(1, UNTIL)
        },
    ] {
        let (total_a, bodies_a) = answers(sa.as_ref(), query.clone());
        let (total_b, bodies_b) = answers(sb.as_ref(), query.clone());
        assert!(total_a > 0, "{query:?}");
        assert_eq!(total_a, total_b, "{query:?}");
        assert_eq!(bodies_a.len() as u64, total_a);
        assert!(bodies_a == bodies_b, "pages differ for {query:?}");
    }
    // The record with events has them, byte for byte.
    let (ra, rb) = (
        sa.find_record(APP, "tricky-session").unwrap().unwrap(),
        sb.find_record(APP, "tricky-session").unwrap().unwrap(),
    );
    assert!(ra.events.is_some());
    assert_eq!(ra, rb);
    let events: Vec<SessionEvent> = serde_json::from_slice(rb.events.as_ref().unwrap()).unwrap();
    assert_eq!(events, tricky_record().events);
    // The other app did not travel.
    assert_eq!(
        sb.counts_by_app().unwrap(),
        vec![(APP, records.len() as u64)]
    );
    drop((sa, sb));
    // And exporting the copy gives the same file.
    let (again, _) = export(&b, &["--sdk-app-id", &APP.to_string()]);
    assert!(again == exported, "the copy exports differently");
}

/// A small RFC 4180 reader: quoted fields may hold commas, doubled quotes
/// and line breaks; rows end with CRLF (or LF).
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(
        field.is_empty() && row.is_empty(),
        "the last row has no line end"
    );
    rows
}

#[test]
fn csv_has_a_header_and_one_quoted_row_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let (a, records) = source_store(dir.path(), 300);
    let (stdout, err) = export(&a, &["--sdk-app-id", &APP.to_string(), "--format", "csv"]);
    assert!(
        err.contains(&format!("exported {} records", records.len())),
        "{err}"
    );
    let csv = String::from_utf8(stdout).unwrap();
    let rows = read_csv(&csv);
    assert_eq!(
        rows.len(),
        records.len() + 1,
        "a header and one row per record"
    );
    let header = &rows[0];
    for column in [
        "SdkAppId",
        "SessionId",
        "Time",
        "Time (UTC)",
        "Caller",
        "SeatUser.Mail",
        "IVRKeyPressedEx",
        "ServeParticipants (count)",
        "VoicemailRecordURL",
        "Remark",
        "EndStatusV2",
    ] {
        assert!(
            header.iter().any(|h| h == column),
            "no column {column}: {header:?}"
        );
    }
    assert!(rows.iter().all(|r| r.len() == header.len()), "ragged rows");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let tricky = rows
        .iter()
        .find(|r| r[col("SessionId")] == "tricky-session")
        .unwrap();
    assert_eq!(tricky[col("Remark")], TRICKY_REMARK);
    // The raw text has the remark quoted, its quotes doubled.
    assert!(csv.contains("\"called back, said \"\"no\"\"\nthen hung up\""));
    // Values match the records.
    for record in &records {
        let row = rows
            .iter()
            .find(|r| r[col("SessionId")] == record.cdr.session_id)
            .unwrap();
        assert_eq!(row[col("SdkAppId")], APP.to_string());
        assert_eq!(row[col("Time")], record.cdr.time.to_string());
        assert_eq!(row[col("Caller")], record.cdr.caller);
        assert_eq!(row[col("SeatUser.Mail")], record.cdr.seat_user.mail);
        assert_eq!(
            row[col("ServeParticipants (count)")],
            record.cdr.serve_participants.len().to_string()
        );
        assert_eq!(
            row[col("IVRKeyPressed")],
            record.cdr.ivr_key_pressed.join("|")
        );
        assert!(row[col("Time (UTC)")].ends_with('Z'));
    }

    // Python's csv module reads it the same way, when there is a Python.
    let file = dir.path().join("export.csv");
    std::fs::write(&file, &csv).unwrap();
    let script = "import csv,json,sys\n\
                  rows=list(csv.reader(open(sys.argv[1],newline='',encoding='utf-8')))\n\
                  h=rows[0]\n\
                  t=[r for r in rows if r[h.index('SessionId')]=='tricky-session'][0]\n\
                  print(json.dumps([len(rows),sorted(set(len(r) for r in rows)),t[h.index('Remark')]]))";
    if let Ok(out) = std::process::Command::new("python3")
        .args(["-c", script, file.to_str().unwrap()])
        .output()
        && out.status.success()
    {
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            got,
            serde_json::json!([records.len() + 1, [header.len()], TRICKY_REMARK])
        );
    }
}

#[test]
fn from_and_to_are_inclusive() {
    let dir = tempfile::tempdir().unwrap();
    let (a, records) = source_store(dir.path(), 500);
    let mut times: Vec<i64> = records.iter().map(|r| r.cdr.time).collect();
    times.sort_unstable();
    let (lo, hi) = (times[100], times[300]);
    let want: BTreeSet<String> = records
        .iter()
        .filter(|r| lo <= r.cdr.time && r.cdr.time <= hi)
        .map(|r| r.cdr.session_id.clone())
        .collect();
    let (stdout, _) = export(
        &a,
        &[
            "--sdk-app-id",
            &APP.to_string(),
            "--from",
            &lo.to_string(),
            "--to",
            &hi.to_string(),
        ],
    );
    let got = session_ids(&stdout);
    assert_eq!(got, want);
    // Both edges are in.
    for edge in [lo, hi] {
        assert!(
            lines(&stdout)
                .iter()
                .any(|l| parse_record_line(l).unwrap().cdr.time == edge)
        );
    }
    // One second: exactly the records of that second.
    let (one, _) = export(
        &a,
        &[
            "--sdk-app-id",
            &APP.to_string(),
            "--from",
            &lo.to_string(),
            "--to",
            &lo.to_string(),
        ],
    );
    let n = records.iter().filter(|r| r.cdr.time == lo).count();
    assert_eq!(lines(&one).len(), n);
    // Only --from or only --to.
    let (after, _) = export(
        &a,
        &["--sdk-app-id", &APP.to_string(), "--from", &hi.to_string()],
    );
    let n = records.iter().filter(|r| r.cdr.time >= hi).count();
    assert_eq!(lines(&after).len(), n);
    let (before, _) = export(
        &a,
        &["--sdk-app-id", &APP.to_string(), "--to", &lo.to_string()],
    );
    let n = records.iter().filter(|r| r.cdr.time <= lo).count();
    assert_eq!(lines(&before).len(), n);
}

#[test]
fn errors_and_empty_exports() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = source_store(dir.path(), 20);
    let app = APP.to_string();

    let out = telcdr(&a, &["export", "--sdk-app-id", &app, "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'xml'"),
        "{}",
        text(&out.stderr)
    );

    let out = telcdr(
        &a,
        &[
            "export",
            "--sdk-app-id",
            &app,
            "--from",
            "200",
            "--to",
            "100",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--from 200 is after --to 100"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let out = telcdr(&a, &["export", "--sdk-app-id", "0"]);
    assert_eq!(out.status.code(), Some(1));

    // An app with no records: nothing exported, said so, success.
    let file = dir.path().join("none.jsonl");
    let (_, err) = export(
        &a,
        &["--sdk-app-id", "1400000999", "-o", file.to_str().unwrap()],
    );
    assert!(
        err.contains("exported 0 records of SdkAppId 1400000999"),
        "{err}"
    );
    assert!(err.contains("has no records"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"");
    let (csv, _) = export(&a, &["--sdk-app-id", "1400000999", "--format", "csv"]);
    assert_eq!(read_csv(&text(&csv)).len(), 1, "just the header");

    // An output that cannot be written: an error, and no file.
    let missing = dir.path().join("no/such/dir/out.jsonl");
    let out = telcdr(
        &a,
        &[
            "export",
            "--sdk-app-id",
            &app,
            "-o",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!missing.exists());
    let out = telcdr(
        &a,
        &[
            "export",
            "--sdk-app-id",
            &app,
            "-o",
            dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is a directory"),
        "{}",
        text(&out.stderr)
    );

    // A named pipe is written into, not replaced by a file.
    let fifo = dir.path().join("pipe");
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let reader = std::thread::spawn({
            let fifo = fifo.clone();
            move || std::fs::read(fifo).unwrap()
        });
        export(&a, &["--sdk-app-id", &app, "-o", fifo.to_str().unwrap()]);
        assert_eq!(lines(&reader.join().unwrap()).len(), 21);
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
    // Through a symbolic link, the file it names is replaced.
    let target = dir.path().join("target.jsonl");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    export(&a, &["--sdk-app-id", &app, "-o", link.to_str().unwrap()]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(lines(&std::fs::read(&target).unwrap()).len(), 21);
}

fn transcript(start_ms: i64) -> Vec<u8> {
    format!(
        r#"[{{"User":"agent@x","Message":"Hello","Start":{start_ms},"End":{}}}]"#,
        start_ms + 1500
    )
    .into_bytes()
}

#[test]
fn with_media_writes_files_that_import_links_again() {
    let dir = tempfile::tempdir().unwrap();
    let records = generated(APP, 200, 5, 11);
    let file = dir.path().join("in.jsonl");
    write_lines(&file, &records);
    let calls: Vec<&ImportedRecord> = records
        .iter()
        .filter(|r| r.cdr.accept_timestamp > 0 && !r.cdr.record_id.is_empty())
        .collect();
    let (x, y) = (calls[0], calls[1]);
    let media_in = dir.path().join("media-in");
    std::fs::create_dir(&media_in).unwrap();
    let mut files = vec![
        (format!("{}.wav", x.cdr.record_id), wav(800, 3)),
        (
            format!("{}.asr.json", x.cdr.session_id),
            transcript(x.cdr.accept_timestamp * 1000),
        ),
        (format!("{}.voicemail.0.wav", x.cdr.session_id), wav(100, 5)),
        (format!("{}.wav", y.cdr.record_id), wav(300, 7)),
    ];
    files.sort();
    for (name, bytes) in &files {
        std::fs::write(media_in.join(name), bytes).unwrap();
    }
    let a = dir.path().join("a");
    let err = import(
        &a,
        &[
            "--media",
            media_in.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
    assert!(err.contains("4 stored (4 with their records"), "{err}");

    let media_out = dir.path().join("media-out");
    let out_file = dir.path().join("export.jsonl");
    let (_, err) = export(
        &a,
        &[
            "--sdk-app-id",
            &APP.to_string(),
            "-o",
            out_file.to_str().unwrap(),
            "--with-media",
            media_out.to_str().unwrap(),
        ],
    );
    assert!(err.contains("wrote 4 media files"), "{err}");
    let mut written: Vec<(String, Vec<u8>)> = std::fs::read_dir(&media_out)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    written.sort();
    assert!(
        written == files,
        "the media directory holds exactly the stored files"
    );

    // Into a fresh store: every file finds its record again.
    let b = dir.path().join("b");
    let err = import(
        &b,
        &[
            "--media",
            media_out.to_str().unwrap(),
            out_file.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("4 stored (4 with their records, 0 waiting"),
        "{err}"
    );
    let store = open_store(&b);
    let held = store
        .media_for_sessions(APP, &[&x.cdr.session_id, &y.cdr.session_id])
        .unwrap();
    let mut names: Vec<&str> = held.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    let want: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, want);
    for m in &held {
        let bytes = std::fs::read(b.join("media").join(&m.object_key)).unwrap();
        let original = &files.iter().find(|(n, _)| *n == m.name).unwrap().1;
        assert!(&bytes == original, "{}", m.name);
    }
}

/// Peak anonymous memory (heap, stacks) and the high-water mark of the
/// whole resident set of a running process, in KiB, sampled until it exits.
/// The store reads its file through a memory map, whose pages count in the
/// resident set but are page cache the kernel takes back at will: the
/// memory the export needs is the anonymous part.
fn watch_memory(child: &mut std::process::Child) -> (u64, u64) {
    let status = format!("/proc/{}/status", child.id());
    let field = |text: &str, name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let (mut anon, mut hwm) = (0, 0);
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            anon = anon.max(field(&text, "RssAnon:").unwrap_or(0));
            hwm = hwm.max(field(&text, "VmHWM:").unwrap_or(0));
        }
        if child.try_wait().unwrap().is_some() {
            return (anon, hwm);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn memory_does_not_grow_with_the_number_of_records() {
    const COUNT: usize = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        // Written straight into the store (an import of 200k records takes
        // a minute in a debug build): 500 generated records, repeated with
        // new SessionIds and times.
        let templates = generated(APP, 500, 30, 5);
        let store = open_store(&data);
        let mut batch = Vec::new();
        for i in 0..COUNT {
            let mut cdr = templates[i % templates.len()].cdr.clone();
            cdr.session_id = format!("mem-{i:07}");
            cdr.time = UNTIL - i as i64 * 10;
            batch.push(NewRecord::from_cdr(APP, &cdr));
            if batch.len() == 20_000 {
                store.put_records(std::mem::take(&mut batch)).unwrap();
            }
        }
        store.put_records(batch).unwrap();
    }
    let file = dir.path().join("big.jsonl");
    let mut child = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "--sdk-app-id", &APP.to_string(), "-o"])
        .arg(&file)
        .env_remove("TELCDR_CONFIG")
        .env("TELCDR_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (anon_kib, hwm_kib) = watch_memory(&mut child);
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("exported {COUNT} records")), "{err}");
    let size = std::fs::metadata(&file).unwrap().len();
    let newlines = std::fs::read(&file)
        .unwrap()
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    assert_eq!(newlines, COUNT);
    eprintln!(
        "exported {COUNT} records, {} MB: peak anonymous memory {} MB, VmHWM (with the mapped store) {} MB",
        size >> 20,
        anon_kib >> 10,
        hwm_kib >> 10
    );
    assert!(
        size > 300 << 20,
        "the data should dwarf the bound ({size} bytes)"
    );
    assert!(
        anon_kib < 100 << 10,
        "peak anonymous memory {anon_kib} KiB for a {size}-byte export"
    );
}
