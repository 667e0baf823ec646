//! One contract, every backend: each test runs against a local directory
//! and, when `TEST_TELCDR_S3` names an S3 endpoint (`http://127.0.0.1:PORT`,
//! e.g. from `scripts/s3-server start DIR`), against S3 too. The S3 run
//! creates a fresh bucket per test process and gives every test its own
//! prefix. With `TEST_TELCDR_REQUIRE_S3=1` a missing endpoint fails the test
//! instead of leaving S3 untested.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use telcdr_media::{MediaError, MediaStore, MediaUrl, ObjectKey, S3Options};

/// A fresh, empty store and what keeps it alive.
struct Fresh {
    name: &'static str,
    store: MediaStore,
    _dir: Option<tempfile::TempDir>,
}

fn s3_endpoint() -> Option<String> {
    match std::env::var("TEST_TELCDR_S3") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ => {
            assert!(
                std::env::var("TEST_TELCDR_REQUIRE_S3").as_deref() != Ok("1"),
                "TEST_TELCDR_REQUIRE_S3=1 but TEST_TELCDR_S3 names no S3 endpoint"
            );
            None
        }
    }
}

fn s3_options(endpoint: &str) -> S3Options {
    S3Options {
        endpoint: Some(endpoint.to_owned()),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        ..S3Options::default()
    }
}

/// The bucket of this test process, created on first use.
fn s3_bucket(endpoint: &str) -> &'static str {
    static BUCKET: OnceLock<String> = OnceLock::new();
    BUCKET.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let bucket = format!(
            "telcdr-media-{}-{}",
            std::process::id(),
            nanos % 1_000_000_000
        );
        create_bucket(endpoint, &bucket);
        bucket
    })
}

/// `PUT /bucket`, unsigned: the loopback test server does not check
/// credentials, and the store itself never creates buckets.
fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint
        .strip_prefix("http://")
        .expect("TEST_TELCDR_S3 must be an http:// URL");
    let mut conn =
        TcpStream::connect(host).unwrap_or_else(|e| panic!("cannot reach {endpoint}: {e}"));
    write!(
        conn,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "creating bucket {bucket}: {answer}"
    );
}

/// One fresh store per backend; `case` keeps the S3 tests apart.
fn fresh_stores(case: &str) -> Vec<Fresh> {
    let dir = tempfile::tempdir().unwrap();
    let local = MediaStore::open(&MediaUrl::Local(dir.path().join("media")), None).unwrap();
    let mut stores = vec![Fresh {
        name: "local",
        store: local,
        _dir: Some(dir),
    }];
    if let Some(endpoint) = s3_endpoint() {
        let url = MediaUrl::parse(&format!("s3://{}/t/{case}", s3_bucket(&endpoint))).unwrap();
        let store = MediaStore::open(&url, Some(&s3_options(&endpoint))).unwrap();
        stores.push(Fresh {
            name: "s3",
            store,
            _dir: None,
        });
    }
    stores
}

fn key(s: &str) -> ObjectKey {
    ObjectKey::parse(s).unwrap()
}

/// Bytes that differ at every offset, so a wrong range cannot pass.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn put_then_read_and_size() {
    for Fresh { name, store, .. } in fresh_stores("put") {
        let k = ObjectKey::for_media(1_400_000_000, 1_795_176_000, "abc.mp3").unwrap();
        let bytes = pattern(1000, 7);
        store.put(&k, bytes.clone()).unwrap();
        assert_eq!(store.read(&k).unwrap(), Some(bytes), "{name}");
        assert_eq!(store.size(&k).unwrap(), Some(1000), "{name}");
        // Every byte value survives, and an empty object is an object.
        let all: Vec<u8> = (0..=255).collect();
        store.put(&key("bin/all.wav"), all.clone()).unwrap();
        assert_eq!(
            store.read(&key("bin/all.wav")).unwrap(),
            Some(all),
            "{name}"
        );
        store.put(&key("bin/empty.json"), Vec::new()).unwrap();
        assert_eq!(
            store.size(&key("bin/empty.json")).unwrap(),
            Some(0),
            "{name}"
        );
        assert_eq!(
            store.read(&key("bin/empty.json")).unwrap(),
            Some(Vec::new()),
            "{name}"
        );
        assert_eq!(
            store.read_range(&key("bin/empty.json"), 0, 10).unwrap(),
            Some(Vec::new()),
            "{name}"
        );
    }
}

#[test]
fn a_large_object_round_trips() {
    for Fresh { name, store, .. } in fresh_stores("large") {
        let big = pattern(3 << 20, 1);
        store.put(&key("big/call.wav"), big.clone()).unwrap();
        assert_eq!(
            store.size(&key("big/call.wav")).unwrap(),
            Some(3 << 20),
            "{name}"
        );
        assert!(
            store.read(&key("big/call.wav")).unwrap() == Some(big.clone()),
            "{name}"
        );
        let mid = store
            .read_range(&key("big/call.wav"), 1 << 20, 4096)
            .unwrap()
            .unwrap();
        assert!(mid == big[1 << 20..(1 << 20) + 4096], "{name}");
    }
}

#[test]
fn missing_objects_read_as_none() {
    for Fresh { name, store, .. } in fresh_stores("missing") {
        let k = key("1400000000/2026/11/20/nothing.mp3");
        assert_eq!(store.read(&k).unwrap(), None, "{name}");
        assert_eq!(store.size(&k).unwrap(), None, "{name}");
        assert_eq!(store.read_range(&k, 0, 10).unwrap(), None, "{name}");
        assert_eq!(store.read_range(&k, 5, 0).unwrap(), None, "{name}");
        assert_eq!(store.delete(&k), Ok(()), "{name}");
        let err = store.rename(&k, &key("elsewhere.mp3")).unwrap_err();
        assert!(
            matches!(err, MediaError::NotFound(ref s) if s.contains("nothing.mp3")),
            "{name}: {err:?}"
        );
        assert_eq!(store.read(&key("elsewhere.mp3")).unwrap(), None, "{name}");
        // A key that is only a prefix of real objects is not an object.
        store.put(&key("dir/file.mp3"), b"x".to_vec()).unwrap();
        assert_eq!(store.read(&key("dir")).unwrap(), None, "{name}");
        assert_eq!(store.size(&key("dir")).unwrap(), None, "{name}");
        assert_eq!(store.read(&key("dir/file")).unwrap(), None, "{name}");
        assert_eq!(store.read(&key("dir/file.mp")).unwrap(), None, "{name}");
    }
}

#[test]
fn ranges_are_clamped_to_the_object() {
    for Fresh { name, store, .. } in fresh_stores("range") {
        let k = key("r/obj.mp3");
        let bytes = pattern(100, 3);
        store.put(&k, bytes.clone()).unwrap();
        let range = |start, len| store.read_range(&k, start, len).unwrap().unwrap();
        assert_eq!(range(0, 100), bytes, "{name}");
        assert_eq!(range(10, 20), bytes[10..30], "{name}: start inside");
        assert_eq!(range(0, 1), bytes[..1], "{name}");
        assert_eq!(range(99, 1), bytes[99..], "{name}: last byte");
        assert_eq!(range(90, 50), bytes[90..], "{name}: len past the end");
        assert_eq!(range(0, u64::MAX), bytes, "{name}: everything");
        assert_eq!(range(100, 10), b"", "{name}: start at the end");
        assert_eq!(range(150, 10), b"", "{name}: start past the end");
        assert_eq!(range(u64::MAX, u64::MAX), b"", "{name}: no overflow");
        assert_eq!(range(10, 0), b"", "{name}: zero length");
    }
}

#[test]
fn put_overwrites() {
    for Fresh { name, store, .. } in fresh_stores("overwrite") {
        let k = key("o/v.wav");
        store.put(&k, pattern(500, 1)).unwrap();
        store.put(&k, pattern(20, 2)).unwrap();
        assert_eq!(store.read(&k).unwrap(), Some(pattern(20, 2)), "{name}");
        assert_eq!(store.size(&k).unwrap(), Some(20), "{name}");
        store.put(&k, pattern(300, 3)).unwrap();
        assert_eq!(store.read(&k).unwrap(), Some(pattern(300, 3)), "{name}");
    }
}

#[test]
fn delete_removes_only_its_object() {
    for Fresh { name, store, .. } in fresh_stores("delete") {
        let (a, b) = (key("d/a.mp3"), key("d/a.mp3.json"));
        store.put(&a, b"a".to_vec()).unwrap();
        store.put(&b, b"b".to_vec()).unwrap();
        store.delete(&a).unwrap();
        assert_eq!(store.read(&a).unwrap(), None, "{name}");
        assert_eq!(store.size(&a).unwrap(), None, "{name}");
        assert_eq!(store.read(&b).unwrap(), Some(b"b".to_vec()), "{name}");
        assert_eq!(store.delete(&a), Ok(()), "{name}: deleting twice");
        // Deleting a "directory" is deleting nothing.
        assert_eq!(store.delete(&key("d")), Ok(()), "{name}");
        assert_eq!(store.read(&b).unwrap(), Some(b"b".to_vec()), "{name}");
    }
}

#[test]
fn rename_moves_a_pending_object_to_its_final_key() {
    for Fresh { name, store, .. } in fresh_stores("rename") {
        let pending = ObjectKey::pending("rec-1.mp3").unwrap();
        let last = ObjectKey::for_media(1_400_000_000, 1_767_225_600, "rec-1.mp3").unwrap();
        store.put(&pending, pattern(64, 9)).unwrap();
        store.rename(&pending, &last).unwrap();
        assert_eq!(store.read(&pending).unwrap(), None, "{name}");
        assert_eq!(store.read(&last).unwrap(), Some(pattern(64, 9)), "{name}");
        // Onto an existing object: replaced.
        store.put(&pending, pattern(8, 1)).unwrap();
        store.rename(&pending, &last).unwrap();
        assert_eq!(store.read(&last).unwrap(), Some(pattern(8, 1)), "{name}");
        assert_eq!(store.size(&pending).unwrap(), None, "{name}");
        // Onto itself: nothing changes.
        store.rename(&last, &last).unwrap();
        assert_eq!(store.read(&last).unwrap(), Some(pattern(8, 1)), "{name}");
        // A "directory" cannot be renamed.
        let err = store.rename(&key("1400000000"), &key("moved")).unwrap_err();
        assert!(matches!(err, MediaError::NotFound(_)), "{name}: {err:?}");
        assert_eq!(store.read(&last).unwrap(), Some(pattern(8, 1)), "{name}");
    }
}

#[test]
fn readers_never_see_a_partial_object() {
    for Fresh { name, store, .. } in fresh_stores("atomic") {
        let store = Arc::new(store);
        let k = key("a/tomic.wav");
        let (one, two) = (vec![1_u8; 256 << 10], vec![2_u8; 128 << 10]);
        store.put(&k, one.clone()).unwrap();
        let writer = {
            let (store, k, one, two) = (store.clone(), k.clone(), one.clone(), two.clone());
            std::thread::spawn(move || {
                for i in 0..20 {
                    store
                        .put(&k, if i % 2 == 0 { two.clone() } else { one.clone() })
                        .unwrap();
                }
            })
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !writer.is_finished() && Instant::now() < deadline {
            let got = store
                .read(&k)
                .unwrap()
                .expect("the object never disappears");
            assert!(
                got == one || got == two,
                "{name}: a read saw {} mixed bytes",
                got.len()
            );
        }
        writer.join().unwrap();
        assert_eq!(store.read(&k).unwrap(), Some(one), "{name}");
    }
}

#[test]
fn the_url_is_kept() {
    for Fresh { name, store, .. } in fresh_stores("url") {
        match (name, store.url()) {
            ("local", MediaUrl::Local(dir)) => assert!(dir.ends_with("media")),
            ("s3", MediaUrl::S3 { prefix, .. }) => assert_eq!(prefix, "t/url"),
            (name, url) => panic!("{name}: {url:?}"),
        }
    }
}

// ------------------------------------------------------------- local only

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn local_writes_stay_inside_the_directory() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("media");
    let store = MediaStore::open(&MediaUrl::Local(dir.clone()), None).unwrap();
    let k = ObjectKey::for_media(1_400_000_000, 1_709_164_800, "r.mp3").unwrap();
    store.put(&k, b"one".to_vec()).unwrap();
    store.put(&key("pending/p.wav"), b"two".to_vec()).unwrap();
    store
        .rename(&key("pending/p.wav"), &key("pending/q.wav"))
        .unwrap();
    store.put(&key("gone.json"), b"[]".to_vec()).unwrap();
    store.delete(&key("gone.json")).unwrap();
    // Keys that try to climb out never become keys at all.
    for bad in ["../escape", "/etc/passwd", "a/../../b", "..\\x", "a/./b"] {
        assert!(ObjectKey::parse(bad).is_err(), "{bad}");
    }
    let names: Vec<_> = std::fs::read_dir(parent.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["media"]);
    // The files are where the keys say, with no temporary files left over.
    assert_eq!(
        files_under(&dir),
        ["1400000000/2024/02/29/r.mp3", "pending/q.wav"]
    );
    assert_eq!(
        std::fs::read(dir.join("1400000000/2024/02/29/r.mp3")).unwrap(),
        b"one"
    );
}

#[test]
fn local_errors_name_the_key_and_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::open(&MediaUrl::Local(dir.path().to_owned()), None).unwrap();
    store.put(&key("a"), b"file".to_vec()).unwrap();
    // `a` is a file, so `a/b` cannot be created below it.
    let err = store.put(&key("a/b"), b"x".to_vec()).unwrap_err();
    assert!(
        matches!(err, MediaError::Io(ref m) if m.contains("a/b")),
        "{err:?}"
    );
    assert_eq!(store.read(&key("a/b")).unwrap(), None);
    assert_eq!(store.size(&key("a/b")).unwrap(), None);
    assert_eq!(store.delete(&key("a/b")), Ok(()));
    assert_eq!(store.read(&key("a")).unwrap(), Some(b"file".to_vec()));
    assert_eq!(files_under(dir.path()), ["a"]);
}

#[test]
fn local_open_refuses_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = MediaStore::open(&MediaUrl::Local(file), None).unwrap_err();
    assert!(
        matches!(err, MediaError::Io(ref m) if m.contains("not-a-dir")),
        "{err:?}"
    );
    // And creates a missing directory, parents included.
    let deep = dir.path().join("x/y/z");
    MediaStore::open(
        &MediaUrl::parse(&format!("file://{}", deep.display())).unwrap(),
        None,
    )
    .unwrap();
    assert!(deep.is_dir());
}

// ------------------------------------------------------------- S3 only

#[test]
fn s3_prefix_is_prepended_to_every_key() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let bucket = s3_bucket(&endpoint);
    let opts = s3_options(&endpoint);
    let open = |url: &str| MediaStore::open(&MediaUrl::parse(url).unwrap(), Some(&opts)).unwrap();
    let prefixed = open(&format!("s3://{bucket}/p/one"));
    let other = open(&format!("s3://{bucket}/p/two"));
    let whole = open(&format!("s3://{bucket}"));
    prefixed.put(&key("x/y.mp3"), b"in one".to_vec()).unwrap();
    assert_eq!(
        whole.read(&key("p/one/x/y.mp3")).unwrap(),
        Some(b"in one".to_vec())
    );
    assert_eq!(whole.read(&key("x/y.mp3")).unwrap(), None);
    assert_eq!(other.read(&key("x/y.mp3")).unwrap(), None);
    prefixed.rename(&key("x/y.mp3"), &key("x/z.mp3")).unwrap();
    assert_eq!(whole.size(&key("p/one/x/z.mp3")).unwrap(), Some(6));
    assert_eq!(whole.size(&key("p/one/x/y.mp3")).unwrap(), None);
    prefixed.delete(&key("x/z.mp3")).unwrap();
    assert_eq!(whole.size(&key("p/one/x/z.mp3")).unwrap(), None);
}

#[test]
fn s3_open_names_a_missing_bucket_but_never_the_secret() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let opts = S3Options {
        secret_access_key: "s3cr3t-never-shown".into(),
        ..s3_options(&endpoint)
    };
    let url = MediaUrl::parse("s3://no-such-bucket-telcdr/x").unwrap();
    let err = MediaStore::open(&url, Some(&opts)).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, MediaError::Unreachable(_)), "{shown}");
    assert!(
        shown.contains("s3://no-such-bucket-telcdr/x") && shown.contains(&endpoint),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

/// Needs no server: nothing listens on port 1.
#[test]
fn s3_open_fails_fast_when_nothing_answers() {
    let opts = S3Options {
        endpoint: Some("http://127.0.0.1:1".into()),
        access_key_id: "id".into(),
        secret_access_key: "s3cr3t-never-shown".into(),
        ..S3Options::default()
    };
    let started = Instant::now();
    let err = MediaStore::open(&MediaUrl::parse("s3://media").unwrap(), Some(&opts)).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, MediaError::Unreachable(_)), "{shown}");
    assert!(
        shown.contains("s3://media") && shown.contains("127.0.0.1:1"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn s3_settings_are_checked_before_connecting() {
    let url = MediaUrl::parse("s3://media").unwrap();
    let err = MediaStore::open(&url, None).unwrap_err();
    assert!(
        matches!(err, MediaError::Config(ref m) if m.contains("s3://media")),
        "{err:?}"
    );
    let no_keys = S3Options {
        endpoint: Some("http://127.0.0.1:1".into()),
        ..S3Options::default()
    };
    assert!(matches!(
        MediaStore::open(&url, Some(&no_keys)),
        Err(MediaError::Config(_))
    ));
    let bad_endpoint = S3Options {
        endpoint: Some("127.0.0.1:9000".into()),
        access_key_id: "id".into(),
        secret_access_key: "secret".into(),
        ..S3Options::default()
    };
    assert!(matches!(
        MediaStore::open(&url, Some(&bad_endpoint)),
        Err(MediaError::Config(_))
    ));
}

/// The last handle may be dropped on an async worker (say, when the server's
/// state goes away); that must not panic.
#[test]
fn s3_store_can_be_dropped_inside_a_runtime() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let url = MediaUrl::parse(&format!("s3://{}/drop", s3_bucket(&endpoint))).unwrap();
    let store = MediaStore::open(&url, Some(&s3_options(&endpoint))).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = tokio::task::spawn_blocking(move || {
            store.put(&key("k.json"), b"{}".to_vec()).unwrap();
            store
        })
        .await
        .unwrap();
        drop(store);
    });
}
