//! `telcdr sync` against a real upstream: a `telcdr serve` of its own data
//! dir, holding generated records (some with recordings, voicemails and
//! transcripts), a key, and a rate limit. Each test syncs into a fresh data
//! dir and then compares the two stores record for record (every field but
//! the URL fields, which each server mints as its own links) and media
//! file for media file (byte for byte).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::{BIN, telcdr, text, unix_now, wav};
use serde_json::{Value, json};
use telcdr_store::{CdrQuery, Store, StoreOptions, StoreUrl};

const APP: i64 = 1_400_000_000;
const DAY: i64 = 86_400;

/// What the upstream is given to import.
struct Data {
    /// Records to generate, spread over `days` days ending two hours ago.
    count: u32,
    days: u32,
    /// How many answered calls get recordings, a transcript and (every
    /// third) a voicemail; the URL fields of all other records are cleared.
    with_media: usize,
    /// One record more whose recording link leads nowhere.
    dead_link: bool,
}

/// An upstream telcdr: its data dir, its server, its key.
struct Upstream {
    data: PathBuf,
    url: String,
    secret_id: String,
    secret_key: String,
    server: Option<Child>,
    /// Media files the upstream holds.
    media_files: u64,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Upstream {
    /// Imports `data` into `dir/upstream` and serves it with a rate limit
    /// of `rate` requests per second per action (0: none).
    fn start(dir: &Path, data: &Data, rate: u32) -> Upstream {
        let root = dir.join("upstream");
        std::fs::create_dir_all(&root).unwrap();
        let (calls, media) = write_data(dir, data);
        let out = telcdr(
            &root,
            &[
                "import",
                "--media",
                media.to_str().unwrap(),
                calls.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = telcdr(
            &root,
            &["keys", "create", "--sdk-app-id", &APP.to_string(), "--json"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let key: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut upstream = Upstream {
            data: root,
            url: String::new(),
            secret_id: key["SecretId"].as_str().unwrap().to_owned(),
            secret_key: key["SecretKey"].as_str().unwrap().to_owned(),
            server: None,
            media_files: std::fs::read_dir(&media).unwrap().count() as u64,
        };
        upstream.serve(rate);
        upstream
    }

    fn serve(&mut self, rate: u32) {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(&self.data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("TELCDR_CONFIG")
            .env("TELCDR_LOG", "warn")
            .env("TELCDR_RATE_LIMIT__PER_SECOND", rate.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start telcdr serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a first line").unwrap();
        let addr = first
            .strip_prefix("telcdr listening on http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        // Keep reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.url = format!("http://{addr}");
        self.server = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `telcdr sync` of this upstream's app into `local`.
    fn sync_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "sync",
            "--endpoint",
            &self.url,
            "--secret-id",
            &self.secret_id,
            "--secret-key",
            &self.secret_key,
            "--sdk-app-id",
            "1400000000",
        ];
        args.extend_from_slice(extra);
        args
    }

    fn sync(&self, local: &Path, extra: &[&str]) -> Output {
        telcdr(local, &self.sync_args(extra))
    }

    /// The same, as a child whose stderr is read line by line (debug logs
    /// of telcdr itself on: one line per window written).
    fn spawn_sync(&self, local: &Path, extra: &[&str]) -> (Child, mpsc::Receiver<String>) {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(local)
            .args(self.sync_args(extra))
            .env_remove("TELCDR_CONFIG")
            .env("TELCDR_LOG", "warn,telcdr=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start telcdr sync");
        let rx = lines_of(child.stderr.take().unwrap());
        (child, rx)
    }
}

fn lines_of(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`; panics with what came instead.
fn wait_for(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return;
                }
            }
            Err(_) => panic!("no line with {needle:?}; got:\n{}", seen.join("\n")),
        }
    }
}

/// Generates the records, keeps media on a few of them and clears the URL
/// fields of the others; writes `calls.jsonl` and the media dir.
fn write_data(dir: &Path, data: &Data) -> (PathBuf, PathBuf) {
    let until = unix_now() - 2 * 3600;
    let out = telcdr(
        dir,
        &[
            "generate",
            "--count",
            &data.count.to_string(),
            "--sdk-app-id",
            &APP.to_string(),
            "--days",
            &data.days.to_string(),
            "--seed",
            "5",
            "--until",
            &until.to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let media = dir.join("media-in");
    std::fs::create_dir_all(&media).unwrap();
    let mut lines = String::new();
    let mut with_media = 0;
    let mut dead_link = data.dead_link;
    for (i, line) in text(&out.stdout).lines().enumerate() {
        let mut r: Value = serde_json::from_str(line).unwrap();
        let answered = r["AcceptTimestamp"].as_i64().unwrap() > 0
            && !r["RecordId"].as_str().unwrap().is_empty();
        let session = r["SessionId"].as_str().unwrap().to_owned();
        if answered && with_media < data.with_media {
            with_media += 1;
            let seed = (i % 200) as u8 + 1;
            let record_id = r["RecordId"].as_str().unwrap().to_owned();
            std::fs::write(media.join(format!("{record_id}.wav")), wav(400, seed)).unwrap();
            for leg in r["ServeParticipants"].as_array_mut().unwrap() {
                let leg_id = leg["RecordId"].as_str().unwrap().to_owned();
                if leg_id.is_empty() {
                    leg["RecordURL"] = json!("");
                } else if leg_id != record_id {
                    std::fs::write(media.join(format!("{leg_id}.wav")), wav(300, seed + 1))
                        .unwrap();
                }
            }
            let start_ms = r["AcceptTimestamp"].as_i64().unwrap() * 1000;
            // In the form DescribeTelRecordAsr serves it (compact, every
            // member, Timestamp = Start), so the synced copy is byte-equal.
            let sentence = |user: &str, message: String, start: i64, end: i64| json!({"User": user, "Message": message, "Timestamp": start, "Start": start, "End": end});
            let transcript = json!([
                sentence(
                    "agent@example.com",
                    format!("Hello {i}"),
                    start_ms,
                    start_ms + 1500
                ),
                sentence("user", "Hi".into(), start_ms + 2000, start_ms + 4000),
            ]);
            std::fs::write(
                media.join(format!("{session}.asr.json")),
                transcript.to_string(),
            )
            .unwrap();
            r["AsrStatus"] = json!("Complete");
            if with_media % 3 == 1 {
                std::fs::write(
                    media.join(format!("{session}.voicemail.0.wav")),
                    wav(200, seed + 2),
                )
                .unwrap();
                r["VoicemailRecordURL"] = json!(["https://expired.example/vm.mp3"]);
            }
        } else {
            clear_urls(&mut r);
            if dead_link && answered {
                dead_link = false;
                // Nothing listens on the discard port.
                r["RecordURL"] = json!("http://127.0.0.1:9/gone.mp3");
            }
        }
        lines.push_str(&r.to_string());
        lines.push('\n');
    }
    assert_eq!(with_media, data.with_media, "not enough answered calls");
    let calls = dir.join("calls.jsonl");
    std::fs::write(&calls, lines).unwrap();
    (calls, media)
}

fn clear_urls(r: &mut Value) {
    r["RecordURL"] = json!("");
    r["AsrUrl"] = json!("");
    r["AsrStatus"] = json!("NotExists");
    r["VoicemailRecordURL"] = json!([]);
    r["VoicemailAsrURL"] = json!([]);
    for leg in r["ServeParticipants"].as_array_mut().unwrap() {
        leg["RecordURL"] = json!("");
    }
}

fn open_store(data: &Path) -> Arc<dyn Store> {
    telcdr_store::open(
        &StoreUrl::Sqlite(data.join("telcdr.db")),
        &StoreOptions::default(),
    )
    .unwrap()
}

/// Every record of APP, by SessionId, read with DescribeTelCdr's query in
/// pages of 100 over the last 60 days.
fn records(store: &dyn Store) -> BTreeMap<String, Value> {
    let now = unix_now();
    let mut out = BTreeMap::new();
    let mut offset = 0;
    loop {
        let page = store
            .query_cdrs(&CdrQuery {
                sdk_app_id: APP,
                start: now - 60 * DAY,
                end: now,
                phones: vec![],
                session_ids: vec![],
                offset,
                limit: 100,
            })
            .unwrap();
        for body in &page.records {
            let r: Value = serde_json::from_slice(body).unwrap();
            let id = r["SessionId"].as_str().unwrap().to_owned();
            assert!(out.insert(id.clone(), r).is_none(), "{id} twice");
        }
        offset += 100;
        if offset >= page.total {
            assert_eq!(out.len() as u64, page.total);
            return out;
        }
    }
}

/// A record without its URL fields, which each server mints itself.
fn without_urls(mut r: Value) -> Value {
    let object = r.as_object_mut().unwrap();
    for field in [
        "RecordURL",
        "AsrUrl",
        "VoicemailRecordURL",
        "VoicemailAsrURL",
    ] {
        object.remove(field);
    }
    for leg in object["ServeParticipants"].as_array_mut().unwrap() {
        leg.as_object_mut().unwrap().remove("RecordURL");
    }
    r
}

/// The local store holds exactly the upstream's records and media.
/// Returns (records, media files).
fn assert_same(upstream: &Path, local: &Path) -> (usize, usize) {
    let (up, lo) = (open_store(upstream), open_store(local));
    let (want, got) = (records(up.as_ref()), records(lo.as_ref()));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "the same sessions"
    );
    for (id, record) in &want {
        assert_eq!(
            without_urls(record.clone()),
            without_urls(got[id].clone()),
            "record {id}"
        );
    }
    let media = |store: &dyn Store| {
        let rows = store.scan_media(None, 100_000).unwrap();
        rows.into_iter()
            .map(|m| (m.name.clone(), m))
            .collect::<BTreeMap<_, _>>()
    };
    let (want_media, got_media) = (media(up.as_ref()), media(lo.as_ref()));
    assert_eq!(
        want_media.keys().collect::<Vec<_>>(),
        got_media.keys().collect::<Vec<_>>(),
        "the same media files"
    );
    for (name, m) in &want_media {
        let l = &got_media[name];
        assert_eq!(
            (&m.session_id, m.size, m.duration_ms, m.time),
            (&l.session_id, l.size, l.duration_ms, l.time),
            "{name}"
        );
        let read = |root: &Path, key: &str| std::fs::read(root.join("media").join(key)).unwrap();
        assert_eq!(
            read(upstream, &m.object_key),
            read(local, &l.object_key),
            "the bytes of {name}"
        );
    }
    (want.len(), want_media.len())
}

/// The final summary line (stdout).
fn summary(out: &Output) -> String {
    text(&out.stdout)
        .lines()
        .find(|l| l.starts_with("synced "))
        .unwrap_or_else(|| panic!("no summary in {}\n{}", text(&out.stdout), text(&out.stderr)))
        .to_owned()
}

/// The number before `what` in a summary (`12 media files` -> 12).
fn figure(summary: &str, what: &str) -> u64 {
    let at = summary
        .find(what)
        .unwrap_or_else(|| panic!("{what:?} not in {summary:?}"));
    summary[..at]
        .trim_end()
        .rsplit([' ', '(', ','])
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no number before {what:?} in {summary:?}"))
}

#[test]
fn a_full_sync_copies_every_record_and_media_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data {
        count: 1_200,
        days: 12,
        with_media: 9,
        dead_link: true,
    };
    let upstream = Upstream::start(dir.path(), &data, 0);
    let local = dir.path().join("local");
    let out = upstream.sync(&local, &["--since", "20d"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line = summary(&out);
    assert!(
        line.starts_with("synced 1200 records (1200 new, 0 replaced)"),
        "{line}"
    );
    // 9 calls: a recording of the call and of each leg, a transcript, and
    // every third call a voicemail.
    assert!(upstream.media_files >= 9 * 3 + 3);
    assert_eq!(figure(&line, "media files"), upstream.media_files, "{line}");
    assert_eq!(figure(&line, "failed downloads"), 1, "{line}");
    assert!(err.contains("gone.mp3"), "{err}");
    assert!(err.contains("not stored"), "{err}");

    // A second run starts from the cursor and finds nothing new.
    let again = upstream.sync(&local, &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr)
            .contains("resuming from the saved cursor sync.cursor.http://127.0.0.1:"),
        "{}",
        text(&again.stderr)
    );
    assert!(
        summary(&again).starts_with("synced 0 records"),
        "{}",
        summary(&again)
    );

    let mut upstream = upstream;
    upstream.stop();
    let (records, media) = assert_same(&upstream.data, &local);
    assert_eq!((records, media as u64), (1_200, upstream.media_files));
}

#[test]
fn a_sync_killed_midway_resumes_without_gaps_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data {
        count: 3_000,
        days: 10,
        with_media: 12,
        dead_link: false,
    };
    let upstream = Upstream::start(dir.path(), &data, 0);
    let local = dir.path().join("local");
    let (mut child, rx) = upstream.spawn_sync(&local, &["--since", "12d", "--rate", "8"]);
    let mut seen = Vec::new();
    wait_for(&rx, "cursor saved", &mut seen);
    wait_for(&rx, "cursor saved", &mut seen);
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = open_store(&local).record_count().unwrap();
    assert!(
        partial > 0 && partial < 3_000,
        "{partial} records after the kill"
    );

    let out = upstream.sync(&local, &["--rate", "0"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("resuming from the saved cursor"), "{err}");
    let line = summary(&out);
    assert!(figure(&line, "records (") + partial >= 3_000, "{line}");
    assert_eq!(figure(&line, "failed downloads"), 0, "{line}");

    let mut upstream = upstream;
    upstream.stop();
    assert_eq!(open_store(&local).record_count().unwrap(), 3_000);
    let (records, media) = assert_same(&upstream.data, &local);
    assert_eq!((records, media as u64), (3_000, upstream.media_files));
}

#[test]
fn the_upstreams_rate_limit_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data {
        count: 800,
        days: 2,
        with_media: 3,
        dead_link: false,
    };
    // Three requests a second per action upstream.
    let upstream = Upstream::start(dir.path(), &data, 3);

    // At the default 20 a second the upstream refuses some; sync backs off.
    let fast = dir.path().join("fast");
    let out = upstream.sync(&fast, &["--since", "3d"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = summary(&out);
    assert!(figure(&line, "throttled") > 0, "{line}");
    assert!(line.starts_with("synced 800 records"), "{line}");

    // At 2 a second it never is.
    let slow = dir.path().join("slow");
    let out = upstream.sync(&slow, &["--since", "3d", "--rate", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = summary(&out);
    assert_eq!(figure(&line, "throttled"), 0, "{line}");
    assert!(line.starts_with("synced 800 records"), "{line}");

    let mut upstream = upstream;
    upstream.stop();
    let files = upstream.media_files as usize;
    assert_eq!(assert_same(&upstream.data, &fast), (800, files));
    assert_eq!(assert_same(&upstream.data, &slow), (800, files));
}

#[test]
fn bad_credentials_are_named_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data {
        count: 20,
        days: 1,
        with_media: 0,
        dead_link: false,
    };
    let mut upstream = Upstream::start(dir.path(), &data, 0);
    let real_id = std::mem::replace(
        &mut upstream.secret_id,
        "AKIDdoesnotexistdoesnotexist0000".into(),
    );
    let local = dir.path().join("local");
    let out = upstream.sync(&local, &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("AuthFailure.SecretIdNotFound"), "{err}");
    assert!(err.contains("--secret-id"), "{err}");

    // A wrong SecretKey is a signature failure.
    let out = telcdr(
        &local,
        &[
            "sync",
            "--endpoint",
            &upstream.url,
            "--secret-id",
            &real_id,
            "--secret-key",
            "wrongwrongwrongwrongwrongwrong00",
            "--sdk-app-id",
            "1400000000",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("AuthFailure.SignatureFailure"), "{err}");
}

#[test]
fn follow_picks_up_a_record_that_arrives_later() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data {
        count: 200,
        days: 2,
        with_media: 2,
        dead_link: false,
    };
    let upstream = Upstream::start(dir.path(), &data, 0);
    let local = dir.path().join("local");
    let (mut child, rx) = upstream.spawn_sync(
        &local,
        &["--since", "3d", "--follow", "--interval", "1", "--lag", "1"],
    );
    let mut seen = Vec::new();
    wait_for(&rx, "caught up", &mut seen);

    // A call that starts now reaches the upstream.
    let mut late: Value = serde_json::from_str(
        text(&std::fs::read(dir.path().join("calls.jsonl")).unwrap())
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    // Its Time is a few seconds ahead, so no poll can pass it before the
    // import below is done.
    let now = unix_now() + 5;
    late["SessionId"] = json!("late-call-0001");
    late["Time"] = json!(now);
    late["StartTimestamp"] = json!(now);
    clear_urls(&mut late);
    let file = dir.path().join("late.jsonl");
    std::fs::write(&file, format!("{late}\n")).unwrap();
    let out = telcdr(&upstream.data, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    wait_for(&rx, "synced 1 records (1 new", &mut seen);
    child.kill().unwrap();
    child.wait().unwrap();

    let store = open_store(&local);
    assert!(store.find_record(APP, "late-call-0001").unwrap().is_some());
    assert_eq!(store.record_count().unwrap(), 201);
    drop(store);
    let mut upstream = upstream;
    upstream.stop();
    assert_same(&upstream.data, &local);
}
