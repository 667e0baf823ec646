//! The CLI as a user runs it: generate, import (good, bad and mixed lines),
//! keys, config, and serve's first line and demo output.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;

use common::{BIN, telcdr, text};
const UNTIL: &str = "1795000000";

fn telcdr_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("TELCDR_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn generate(dir: &Path, count: &str, seed: &str) -> Vec<u8> {
    let out = telcdr(
        dir,
        &[
            "generate",
            "--count",
            count,
            "--sdk-app-id",
            "1400000000",
            "--days",
            "10",
            "--seed",
            seed,
            "--until",
            UNTIL,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

#[test]
fn generate_is_deterministic_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let a = generate(dir.path(), "500", "3");
    let b = generate(dir.path(), "500", "3");
    let c = generate(dir.path(), "500", "4");
    assert_eq!(a, b, "same seed, same file");
    assert_ne!(a, c, "another seed, another file");
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 500);
}

#[test]
fn import_counts_new_and_replaced_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let data = generate(dir.path(), "1200", "5");
    let file = dir.path().join("calls.jsonl");
    std::fs::write(&file, &data).unwrap();
    let first = telcdr(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("imported 1200 records (1200 new, 0 replaced), rejected 0"),
        "{}",
        text(&first.stderr)
    );
    let again = telcdr_stdin(dir.path(), &["import", "-"], &data);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("(0 new, 1200 replaced)"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn bad_lines_are_named_and_skipped_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let data = text(&generate(dir.path(), "3", "6"));
    let lines: Vec<&str> = data.lines().collect();
    let input = format!(
        "{}\nnot json at all\n{}\n{{\"SdkAppId\":1400000000,\"SessionId\":\"\",\"Time\":5}}\n\n{}\n{{\"SessionId\":\"x\",\"Time\":5}}\n",
        lines[0], lines[1], lines[2]
    );
    let out = telcdr_stdin(dir.path(), &["import", "-"], input.as_bytes());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("<stdin>:2: rejected:"), "{err}");
    assert!(
        err.contains("<stdin>:4: rejected:") && err.contains("SessionId"),
        "{err}"
    );
    assert!(
        err.contains("<stdin>:7: rejected:") && err.contains("SdkAppId"),
        "{err}"
    );
    assert!(
        err.contains("imported 3 records (3 new, 0 replaced), rejected 3 lines"),
        "{err}"
    );
}

#[test]
fn import_of_a_missing_file_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = telcdr(dir.path(), &["import", "/nonexistent/calls.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot open /nonexistent/calls.jsonl"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn keys_create_list_disable() {
    let dir = tempfile::tempdir().unwrap();
    let out = telcdr(
        dir.path(),
        &["keys", "create", "--sdk-app-id", "1400000001", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = key["SecretId"].as_str().unwrap();
    assert!(id.starts_with("AKID"));
    assert_eq!(key["SecretKey"].as_str().unwrap().len(), 32);
    // Same app again: a second key for the same account.
    let second = telcdr(
        dir.path(),
        &["keys", "create", "--sdk-app-id", "1400000001"],
    );
    assert!(
        text(&second.stdout).contains("for account"),
        "{}",
        text(&second.stdout)
    );
    // Mixing another account's app with a new one is refused.
    telcdr(
        dir.path(),
        &["keys", "create", "--sdk-app-id", "1400000002"],
    );
    let mixed = telcdr(
        dir.path(),
        &[
            "keys",
            "create",
            "--sdk-app-id",
            "1400000001",
            "--sdk-app-id",
            "1400000003",
        ],
    );
    assert_eq!(mixed.status.code(), Some(1));
    assert!(
        text(&mixed.stderr).contains("1400000001"),
        "{}",
        text(&mixed.stderr)
    );
    let list = text(&telcdr(dir.path(), &["keys", "list"]).stdout);
    assert_eq!(
        list.lines().filter(|l| l.starts_with("AKID")).count(),
        3,
        "{list}"
    );
    assert!(
        !list.contains(key["SecretKey"].as_str().unwrap()),
        "list never shows SecretKeys"
    );
    let disabled = telcdr(dir.path(), &["keys", "disable", id]);
    assert!(disabled.status.success());
    let listed = telcdr(dir.path(), &["keys", "list", "--json"]);
    let line = text(&listed.stdout)
        .lines()
        .find(|l| l.contains(id))
        .unwrap()
        .to_owned();
    assert!(line.contains("\"Enabled\":false"), "{line}");
    let unknown = telcdr(dir.path(), &["keys", "disable", "AKIDnope"]);
    assert_eq!(unknown.status.code(), Some(1));
    for bad_id in ["--sdk-app-id=-5", "--sdk-app-id=0"] {
        let bad = telcdr(dir.path(), &["keys", "create", bad_id]);
        assert_eq!(bad.status.code(), Some(1), "{bad_id}");
        assert!(
            text(&bad.stderr).contains("SdkAppId"),
            "{}",
            text(&bad.stderr)
        );
    }
}

#[test]
fn config_prints_the_merged_layers() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["config"])
        .env("TELCDR_DATA_DIR", dir.path())
        .env("TELCDR_RATE_LIMIT__PER_SECOND", "7")
        .output()
        .unwrap();
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(printed.contains("per_second = 7"), "{printed}");
    assert!(
        printed.contains(&dir.path().display().to_string()),
        "{printed}"
    );
    // A PostgreSQL password never appears.
    let masked = Command::new(BIN)
        .args(["config"])
        .env(
            "TELCDR_STORE",
            "postgres://telcdr:hunter2@127.0.0.1:5432/cdr",
        )
        .output()
        .unwrap();
    let printed = text(&masked.stdout);
    assert!(masked.status.success(), "{}", text(&masked.stderr));
    assert!(
        printed.contains(r#"store = "postgres://telcdr:***@127.0.0.1:5432/cdr""#),
        "{printed}"
    );
    assert!(!printed.contains("hunter2"), "{printed}");
    let bad = Command::new(BIN)
        .args(["config"])
        .env("TELCDR_RATE_LIMIT__PER_SECOND", "fast")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("TELCDR_RATE_LIMIT__PER_SECOND must be an integer"));
}

#[test]
fn serve_demo_prints_address_and_key_then_reuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut first_key = None;
    for round in 0..2 {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .env("TELCDR_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(
            first.starts_with("telcdr listening on http://127.0.0.1:"),
            "{first}"
        );
        let mut key = None;
        for line in lines.by_ref().take(40) {
            let line = line.unwrap();
            if let Some(id) = line.trim().strip_prefix("export TENCENTCLOUD_SECRET_ID=") {
                key = Some(id.to_owned());
            }
            if line.contains("tccli ccc DescribeTelCdr") {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let key = key.expect("the demo prints its key");
        if round == 0 {
            first_key = Some(key);
        } else {
            assert_eq!(
                first_key.as_deref(),
                Some(key.as_str()),
                "a rerun reuses the demo key"
            );
        }
    }
    // A data dir holding other records is not overwritten by --demo.
    let other = tempfile::tempdir().unwrap();
    let data = generate(other.path(), "10", "9");
    telcdr_stdin(other.path(), &["import", "-"], &data);
    let out = telcdr(
        other.path(),
        &["serve", "--demo", "--listen", "127.0.0.1:0"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--demo seeds a fresh data dir"),
        "{}",
        text(&out.stderr)
    );
}

/// The default data dir does not exist on a fresh machine: every command
/// that opens the store creates it, relative to the working directory.
#[test]
fn a_missing_data_dir_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("fresh").join("telcdr-data");
    let out = telcdr(&nested, &["keys", "create", "--sdk-app-id", "1400000001"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(nested.join("telcdr.db").exists());
    let out = Command::new(BIN)
        .args(["keys", "list"])
        .current_dir(dir.path())
        .env_remove("TELCDR_DATA_DIR")
        .env_remove("TELCDR_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("telcdr-data").join("telcdr.db").exists());
}
