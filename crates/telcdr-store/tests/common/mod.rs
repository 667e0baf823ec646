//! The backends every store test runs against: SQLite always, PostgreSQL
//! when `TEST_TELCDR_POSTGRES` names a server (an admin URL; `scripts/test`
//! starts a throwaway cluster and sets it). With `TEST_TELCDR_REQUIRE_POSTGRES=1`
//! (also set by `scripts/test`) a missing server fails the test instead of
//! leaving PostgreSQL untested.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use telcdr_store::postgres::{PgOptions, create_database};
use telcdr_store::sqlite::SqliteOptions;
use telcdr_store::{Store, StoreOptions, StoreUrl};

/// A fresh, empty store and what keeps it alive.
pub struct Fresh {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    pub url: StoreUrl,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL admin URL, if the tests should use PostgreSQL.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_TELCDR_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("TEST_TELCDR_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "TEST_TELCDR_REQUIRE_POSTGRES=1 but TEST_TELCDR_POSTGRES names no server"
            );
            None
        }
    }
}

/// A new database on the test server, named uniquely for this process.
pub fn fresh_postgres_url(admin: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    create_database(admin, &name).unwrap()
}

/// One fresh store per backend under test.
pub fn fresh_stores(sqlite: SqliteOptions) -> Vec<Fresh> {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite(dir.path().join("telcdr.db"));
    let options = StoreOptions {
        sqlite,
        ..StoreOptions::default()
    };
    let mut stores = vec![Fresh {
        name: "sqlite",
        store: telcdr_store::open(&url, &options).unwrap(),
        url,
        _dir: Some(dir),
    }];
    if let Some(admin) = postgres_admin_url() {
        let url = StoreUrl::Postgres(fresh_postgres_url(&admin));
        let options = StoreOptions {
            postgres: PgOptions {
                readers: 2,
                // Low, so that the tests' few calls per number reach both
                // ways of counting a number (see postgres/phones.rs).
                busy_phone_calls: 3,
                ..PgOptions::default()
            },
            ..options
        };
        stores.push(Fresh {
            name: "postgres",
            store: telcdr_store::open(&url, &options).unwrap(),
            url,
            _dir: None,
        });
    }
    stores
}
