//! The CLI on PostgreSQL: `telcdr migrate` both ways (interrupted with
//! kill -9 and resumed), and a clear failure when PostgreSQL is unreachable
//! at start. Needs `TEST_TELCDR_POSTGRES` (an admin URL; `scripts/test`
//! starts a throwaway cluster); without it the tests say so and pass, unless
//! `TEST_TELCDR_REQUIRE_POSTGRES=1`.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use telcdr_store::{CdrQuery, DownloadFile, NewDownload, PushWrite, StoreOptions, StoreUrl};

const BIN: &str = env!("CARGO_BIN_EXE_telcdr");

fn admin_url() -> Option<String> {
    match std::env::var("TEST_TELCDR_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("TEST_TELCDR_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "TEST_TELCDR_REQUIRE_POSTGRES=1 but TEST_TELCDR_POSTGRES names no server"
            );
            eprintln!("skipped: no PostgreSQL test server (run scripts/test)");
            None
        }
    }
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("TELCDR_CONFIG")
        .env_remove("TELCDR_STORE")
        .env("TELCDR_LOG", "warn");
    cmd
}

fn telcdr(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("run telcdr")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The same queries on two stores give the same answers, byte for byte.
fn assert_same_answers(a: &StoreUrl, b: &StoreUrl, apps: &[i64]) {
    let options = StoreOptions::default();
    let (a, b) = (
        telcdr_store::open(a, &options).unwrap(),
        telcdr_store::open(b, &options).unwrap(),
    );
    for &app in apps {
        for (offset, limit, phones) in [
            (0, 100, vec![]),
            (3_000, 100, vec![]),
            (0, 10, vec!["8613800000000".to_owned()]),
        ] {
            let q = CdrQuery {
                sdk_app_id: app,
                start: 1_790_000_000,
                end: 1_795_000_000,
                phones,
                session_ids: vec![],
                offset,
                limit,
            };
            assert_eq!(
                a.query_cdrs(&q).unwrap(),
                b.query_cdrs(&q).unwrap(),
                "{q:?}"
            );
        }
    }
    assert_eq!(a.counts_by_app().unwrap(), b.counts_by_app().unwrap());
    let (ka, kb) = (a.list_keys().unwrap(), b.list_keys().unwrap());
    assert_eq!(ka, kb);
    for key in ka {
        assert_eq!(
            a.find_key(&key.secret_id).unwrap(),
            b.find_key(&key.secret_id).unwrap()
        );
    }
}

#[test]
fn migrate_sqlite_to_postgres_and_back_survives_kill_9() {
    let Some(admin) = admin_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (app, count, seed) in [("1400000000", "12000", "5"), ("1400000077", "800", "6")] {
        let jsonl = d.join(format!("{app}.jsonl"));
        let out = telcdr(
            d,
            &[
                "generate",
                "--count",
                count,
                "--sdk-app-id",
                app,
                "--days",
                "40",
                "--seed",
                seed,
                "--until",
                "1795000000",
                "-o",
                jsonl.to_str().unwrap(),
            ],
        );
        ok(&out);
        ok(&telcdr(d, &["import", jsonl.to_str().unwrap()]));
    }
    ok(&telcdr(
        d,
        &["keys", "create", "--sdk-app-id", "1400000000"],
    ));
    ok(&telcdr(
        d,
        &["keys", "create", "--sdk-app-id", "1400000077"],
    ));
    // An app setting and a recording, which must travel too.
    ok(&telcdr(
        d,
        &["apps", "set", "1400000077", "--number-protection", "on"],
    ));
    let first = std::fs::read_to_string(d.join("1400000000.jsonl")).unwrap();
    let recorded = first
        .lines()
        .map(|l| telcdr_model::parse_record_line(l.as_bytes()).unwrap())
        .find(|r| !r.cdr.record_id.is_empty())
        .unwrap();
    let media = d.join("media-in");
    std::fs::create_dir(&media).unwrap();
    std::fs::write(
        media.join(format!("{}.wav", recorded.cdr.record_id)),
        common::wav(10, 1),
    )
    .unwrap();
    ok(&telcdr(d, &["import", "--media", media.to_str().unwrap()]));
    let source = d.join("telcdr.db");
    // The data push's bookkeeping: a retry of this push must still fold,
    // and its queued download still run, after the move.
    let source_push = {
        let store = telcdr_store::open(&StoreUrl::Sqlite(source.clone()), &StoreOptions::default())
            .unwrap();
        store
            .apply_pushes(vec![PushWrite {
                uuid: Some("push-uuid-1".into()),
                sdk_app_id: 1_400_000_000,
                received_at: 1_795_000_000,
                records: Vec::new(),
                download: Some(NewDownload {
                    session_id: recorded.cdr.session_id.clone(),
                    file: DownloadFile::Named("late.mp3".into()),
                    url: "http://127.0.0.1:9/late.mp3".into(),
                }),
            }])
            .unwrap();
        store.export_push_state().unwrap()
    };
    assert_eq!(source_push.downloads.len(), 1);
    let pg =
        telcdr_store::postgres::create_database(&admin, &format!("migrate_{}", std::process::id()))
            .unwrap();

    // Interrupt the first run with kill -9 once some records are in.
    let mut child = command(
        d,
        &[
            "migrate",
            "--from",
            source.to_str().unwrap(),
            "--to",
            &pg,
            "--batch-size",
            "200",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let target =
        telcdr_store::open(&StoreUrl::Postgres(pg.clone()), &StoreOptions::default()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut killed_at = 0;
    while Instant::now() < deadline {
        killed_at = target.record_count().unwrap();
        if killed_at >= 1_000 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        killed_at < 12_800,
        "the copy finished before it could be interrupted ({killed_at} records)"
    );

    let out = ok(&telcdr(
        d,
        &["migrate", "--from", source.to_str().unwrap(), "--to", &pg],
    ));
    assert!(out.contains("counts per SdkAppId match"), "{out}");
    assert_eq!(target.record_count().unwrap(), 12_800);
    assert!(
        target
            .app_settings(1_400_000_077)
            .unwrap()
            .number_protection
    );
    let held = target
        .media_for_sessions(1_400_000_000, &[&recorded.cdr.session_id])
        .unwrap();
    assert_eq!(held.len(), 1, "the recording's row came along");
    assert_eq!(
        target.export_push_state().unwrap(),
        source_push,
        "push UUIDs and the download queue came along, once"
    );
    let apps = [1_400_000_000, 1_400_000_077];
    assert_same_answers(
        &StoreUrl::Sqlite(source.clone()),
        &StoreUrl::Postgres(pg.clone()),
        &apps,
    );

    // And back into a fresh SQLite file.
    let back = d.join("back").join("telcdr.db");
    let out = ok(&telcdr(
        d,
        &["migrate", "--from", &pg, "--to", back.to_str().unwrap()],
    ));
    assert!(out.contains("counts per SdkAppId match"), "{out}");
    let back_store =
        telcdr_store::open(&StoreUrl::Sqlite(back.clone()), &StoreOptions::default()).unwrap();
    assert_eq!(back_store.export_push_state().unwrap(), source_push);
    drop(back_store);
    assert_same_answers(&StoreUrl::Sqlite(source), &StoreUrl::Sqlite(back), &apps);
}

#[test]
fn an_unreachable_postgres_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1 of loopback.
    let url = "postgres://telcdr:secret@127.0.0.1:1/telcdr";
    for args in [
        vec!["--store", url, "serve", "--listen", "127.0.0.1:0"],
        vec!["--store", url, "keys", "list"],
    ] {
        let out = telcdr(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("cannot open the store at postgres://telcdr:***@127.0.0.1:1/telcdr"),
            "{err}"
        );
        assert!(
            !err.contains("secret"),
            "the password is never printed: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
