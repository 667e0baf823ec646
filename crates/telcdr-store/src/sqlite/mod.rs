//! The SQLite backend: one database file in WAL mode, one writer thread that
//! group-commits every concurrent write, and a small pool of readers.
//!
//! - `schema`: the tables and their migrations;
//! - `records`: record upserts and their count buckets, run on the writer
//!   thread of [`crate::group_commit`];
//! - `query`: the DescribeTelCdr hot path;
//! - `keys`: accounts, keys and settings;
//! - `media`: media rows, app settings, single records, deletions;
//! - `pool`: the reader pool.

mod copy;
mod keys;
mod media;
mod pool;
mod push;
mod query;
mod records;
mod schema;
mod search;

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::group_commit::{TxConnection, Writer};
use crate::{
    ApiKey, AppSettings, AppView, CdrPage, CdrQuery, Download, DownloadCounts, ExtraFilters,
    KeyCreated, KeyInfo, MediaObject, NewRecord, PendingMedia, PushAuth, PushOutcome, PushState,
    PushWrite, RecordKey, Store, StoreError, StoreMeta, StoredRecord, WindowRecord, WriteOutcome,
};
use pool::ReaderPool;

pub use schema::SCHEMA_VERSION;

/// How long a connection waits on a lock held by another process (e.g. a
/// CLI command next to a running server) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Default page size of a new database. Every commit writes each page it
/// dirtied to the WAL whole, and a small transaction (a push) dirties a page
/// in each random-order index (session id, phones): with 64 KiB pages a
/// group of 64 pushes wrote megabytes and the push rate was a third lower
/// than with 16 KiB. Bulk import prefers big pages (fewer B-tree splits and
/// WAL frames per record): 16 KiB imports about 11% slower than 64 KiB,
/// which `sqlite.page_size_kib` can still choose for an import-first store.
/// Reads are served from the OS page cache either way.
pub const DEFAULT_PAGE_SIZE: u32 = 16_384;

/// Requested memory map of each reader (SQLite lowers it to its limit).
const READER_MMAP_BYTES: i64 = 1 << 40;

/// WAL pages between automatic checkpoints: 1 GiB of 64 KiB pages.
const WAL_AUTOCHECKPOINT: i64 = 16_384;

/// Enough cached statements for every fixed query plus a few IN-list shapes.
const STATEMENT_CACHE: usize = 64;

/// Tuning of the SQLite backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Read connections in the pool (at least one is opened).
    pub readers: usize,
    /// `synchronous = FULL` (the default): every acknowledged write survives
    /// power loss too. `false` gives `NORMAL`: still safe against a crash of
    /// the process (`kill -9`), but the last commits may be lost on power
    /// loss.
    pub synchronous_full: bool,
    /// Page cache of each connection, in MiB.
    pub cache_mib: u32,
    /// Page size of a new database, bytes (a power of two, 512 to 65536);
    /// an existing database keeps its own.
    pub page_size: u32,
    /// Opened for a bulk load (`telcdr import`): while no other connection
    /// has the file open, write through a rollback journal instead of the
    /// WAL, and go back to the WAL on close. WAL writes every page twice
    /// (to the log, then to the file at checkpoint); a rollback journal
    /// writes new pages once and journals only the pages a commit changes.
    /// Commits stay as durable. While it lasts, other processes cannot open
    /// the store (they wait, then fail with "database is locked").
    pub bulk_load: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            synchronous_full: true,
            cache_mib: 64,
            page_size: DEFAULT_PAGE_SIZE,
            bulk_load: false,
        }
    }
}

/// A [`Store`] in one SQLite file.
pub struct SqliteStore {
    // Dropped in order: the writer finishes the queued jobs and joins its
    // thread, then the readers close.
    writer: Writer<Connection>,
    readers: ReaderPool,
}

impl TxConnection for Connection {
    fn begin(&mut self) -> Result<(), String> {
        // IMMEDIATE: take the write lock now rather than on first write.
        self.prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn commit(&mut self) -> Result<(), String> {
        self.prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn rollback(&mut self) -> Result<(), String> {
        if self.is_autocommit() {
            return Ok(());
        }
        self.execute_batch("ROLLBACK").map_err(|e| e.to_string())
    }

    /// Leaves the file in WAL mode after a bulk load; should this fail, the
    /// next open sets it anyway.
    fn close(&mut self) {
        let mode: rusqlite::Result<String> =
            self.pragma_query_value(None, "journal_mode", |row| row.get(0));
        if mode.is_ok_and(|m| !m.eq_ignore_ascii_case("wal")) {
            let _ = self.pragma_update_and_check(None, "journal_mode", "WAL", |row| {
                row.get::<_, String>(0)
            });
        }
    }
}

/// Switches a bulk load to a rollback journal, unless another connection
/// has the file open (leaving WAL needs exclusive access): then the load
/// goes through the WAL as usual, without waiting for the others.
fn use_rollback_journal(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::ZERO)?;
    let switched: rusqlite::Result<String> =
        conn.pragma_update_and_check(None, "journal_mode", "DELETE", |row| row.get(0));
    conn.busy_timeout(BUSY_TIMEOUT)?;
    match switched {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

// rusqlite errors become database errors; the message is all callers use.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, whose directory must
    /// exist, and brings its schema up to date.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore, StoreError> {
        let open_error = |e: rusqlite::Error| StoreError::Open {
            path: path.display().to_string(),
            reason: match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseBusy) => format!(
                    "{e}: another process holds it (an import into a store no server had \
                     open keeps it until the import ends)"
                ),
                _ => e.to_string(),
            },
        };

        let mut conn = Connection::open(path).map_err(open_error)?;
        configure(&conn, &options).map_err(open_error)?;
        // Takes effect only while the file is empty (before WAL mode).
        conn.pragma_update(None, "page_size", i64::from(options.page_size))
            .map_err(open_error)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open {
                path: path.display().to_string(),
                reason: format!("cannot use WAL journal mode (got {mode})"),
            });
        }
        let synchronous = if options.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.pragma_update(None, "synchronous", synchronous)
            .map_err(open_error)?;
        // Checkpoint far less often than SQLite's 1,000 pages: an import
        // batch dirties most pages of the random-order indexes, and pages
        // rewritten by several commits between checkpoints are copied back
        // once. (A separate checkpoint thread was tried and was slower on
        // two cores: it competes with the import's parser.)
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT)
            .map_err(open_error)?;
        if options.bulk_load {
            use_rollback_journal(&conn).map_err(open_error)?;
        }
        schema::migrate(&mut conn)?;

        let mut readers = Vec::with_capacity(options.readers.max(1));
        for _ in 0..options.readers.max(1) {
            let reader = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(open_error)?;
            configure(&reader, &options).map_err(open_error)?;
            // Readers never write: a bug that tries fails instead of
            // racing the writer for the lock.
            reader
                .pragma_update(None, "query_only", true)
                .map_err(open_error)?;
            // Read the database file through a memory map: a page of 100
            // bodies touches a few 64 KiB pages, which pread would copy into
            // each connection's cache first. SQLite caps the map at its
            // compile-time limit (2 GiB); the rest is read as usual.
            reader
                .pragma_update(None, "mmap_size", READER_MMAP_BYTES)
                .map_err(open_error)?;
            readers.push(reader);
        }

        Ok(SqliteStore {
            writer: Writer::spawn("telcdr-sqlite-writer", conn)?,
            readers: ReaderPool::new(readers),
        })
    }
}

/// Settings shared by the writer and the readers.
fn configure(conn: &Connection, options: &SqliteOptions) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Negative cache_size is in KiB.
    conn.pragma_update(None, "cache_size", -(i64::from(options.cache_mib) * 1024))?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Plan each statement once. Without this SQLite plans `LIMIT ?` with
    // the bound value and marks the statement stale whenever that parameter
    // is bound again, so every page query was parsed and planned anew (a
    // twelfth of a page of 100's CPU). Our plans never depend on values: no
    // statistics tables, no LIKE with a bound pattern on a read path.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

impl Store for SqliteStore {
    fn put_records(&self, batch: Vec<NewRecord>) -> Result<Vec<WriteOutcome>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.writer.call(batch.len(), move |conn| {
            records::write_records(conn, &batch)
        })
    }

    /// Each batch is written as it arrives, inside transactions of
    /// `commit_every` records: the writer need not wait for a whole
    /// transaction's worth to be parsed, nor hold one in memory.
    fn put_record_stream(
        &self,
        batches: &mut dyn Iterator<Item = Vec<NewRecord>>,
        commit_every: usize,
        on_commit: &mut dyn FnMut(Vec<WriteOutcome>),
    ) -> Result<(), StoreError> {
        self.writer.stream(
            &mut batches.filter(|b| !b.is_empty()),
            commit_every.max(1),
            Vec::len,
            |conn, batch: &Vec<NewRecord>| records::write_records(conn, batch),
            &mut |results: Vec<Vec<WriteOutcome>>| on_commit(results.concat()),
        )
    }

    fn query_cdrs(&self, query: &CdrQuery) -> Result<CdrPage, StoreError> {
        self.readers.with(|conn| query::query_cdrs(conn, query))
    }

    fn search_cdrs(&self, query: &CdrQuery, extra: &ExtraFilters) -> Result<CdrPage, StoreError> {
        if extra.is_empty() {
            return self.query_cdrs(query);
        }
        self.readers
            .with(|conn| search::search_cdrs(conn, query, extra))
    }

    fn record_count(&self) -> Result<u64, StoreError> {
        // The buckets hold every record exactly once.
        self.readers.with(|conn| {
            let n: i64 = conn.query_row(
                "SELECT coalesce(sum(count), 0) FROM cdr_bucket WHERE span = 86400",
                [],
                |row| row.get(0),
            )?;
            Ok(n as u64)
        })
    }

    fn create_key(
        &self,
        sdk_app_ids: &[i64],
        secret_id: &str,
        secret_key: &str,
        now: i64,
    ) -> Result<KeyCreated, StoreError> {
        let (apps, id, key) = (
            sdk_app_ids.to_vec(),
            secret_id.to_owned(),
            secret_key.to_owned(),
        );
        self.writer
            .call(1, move |conn| keys::create_key(conn, &apps, &id, &key, now))
    }

    fn find_key(&self, secret_id: &str) -> Result<Option<ApiKey>, StoreError> {
        self.readers.with(|conn| keys::find_key(conn, secret_id))
    }

    fn apps_of_account(&self, account_id: i64) -> Result<Vec<i64>, StoreError> {
        self.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT sdk_app_id FROM account_app WHERE account_id = ?1 ORDER BY sdk_app_id",
            )?;
            let rows = stmt.query_map([account_id], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        self.readers.with(keys::list_keys)
    }

    fn set_key_enabled(&self, secret_id: &str, enabled: bool) -> Result<bool, StoreError> {
        let id = secret_id.to_owned();
        self.writer
            .call(1, move |conn| keys::set_key_enabled(conn, &id, enabled))
    }

    fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.readers.with(|conn| keys::setting(conn, name))
    }

    fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.writer
            .call(1, move |conn| keys::set_setting(conn, &name, &value))
    }

    fn ensure_setting(&self, name: &str, value: &str) -> Result<String, StoreError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.writer.call(1, move |conn| {
            conn.prepare_cached("INSERT OR IGNORE INTO setting (name, value) VALUES (?1, ?2)")?
                .execute([&name, &value])?;
            keys::setting(conn, &name)?
                .ok_or_else(|| StoreError::Database(format!("setting {name} vanished")))
        })
    }

    fn export_meta(&self) -> Result<StoreMeta, StoreError> {
        self.readers.with(|conn| {
            let tx = conn.unchecked_transaction()?;
            let meta = copy::export_meta(&tx)?;
            tx.commit()?;
            Ok(meta)
        })
    }

    fn import_meta(&self, meta: &StoreMeta) -> Result<(), StoreError> {
        let meta = meta.clone();
        self.writer
            .call(1, move |conn| copy::import_meta(conn, &meta))
    }

    fn scan_records(
        &self,
        after: Option<&RecordKey>,
        limit: usize,
    ) -> Result<Vec<NewRecord>, StoreError> {
        self.readers
            .with(|conn| copy::scan_records(conn, after, limit))
    }

    fn counts_by_app(&self) -> Result<Vec<(i64, u64)>, StoreError> {
        self.readers.with(copy::counts_by_app)
    }

    fn app_view(&self, account_id: i64, sdk_app_id: i64) -> Result<Option<AppView>, StoreError> {
        self.readers
            .with(|conn| media::app_view(conn, account_id, sdk_app_id))
    }

    fn app_settings(&self, sdk_app_id: i64) -> Result<AppSettings, StoreError> {
        self.readers
            .with(|conn| media::app_settings(conn, sdk_app_id))
    }

    fn set_app_settings(&self, sdk_app_id: i64, settings: &AppSettings) -> Result<(), StoreError> {
        let settings = *settings;
        self.writer.call(1, move |conn| {
            media::set_app_settings(conn, sdk_app_id, &settings)
        })
    }

    fn list_app_settings(&self) -> Result<Vec<(i64, AppSettings)>, StoreError> {
        self.readers.with(media::list_app_settings)
    }

    fn put_media(&self, objects: Vec<MediaObject>) -> Result<(), StoreError> {
        self.writer.call(objects.len().max(1), move |conn| {
            media::put_media(conn, &objects)
        })
    }

    fn find_media(&self, sdk_app_id: i64, name: &str) -> Result<Option<MediaObject>, StoreError> {
        self.readers
            .with(|conn| media::find_media(conn, sdk_app_id, name))
    }

    fn media_for_sessions(
        &self,
        sdk_app_id: i64,
        session_ids: &[&str],
    ) -> Result<Vec<MediaObject>, StoreError> {
        self.readers
            .with(|conn| media::media_for_sessions(conn, sdk_app_id, session_ids))
    }

    fn scan_media(
        &self,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<MediaObject>, StoreError> {
        self.readers
            .with(|conn| media::scan_media(conn, after, limit))
    }

    fn media_before(
        &self,
        sdk_app_id: i64,
        before: i64,
        limit: usize,
    ) -> Result<Vec<MediaObject>, StoreError> {
        self.readers
            .with(|conn| media::media_before(conn, sdk_app_id, before, limit))
    }

    fn media_under_pending(&self, limit: usize) -> Result<Vec<MediaObject>, StoreError> {
        self.readers
            .with(|conn| media::media_under_pending(conn, limit))
    }

    fn move_media_key(
        &self,
        sdk_app_id: i64,
        name: &str,
        from: &str,
        to: &str,
    ) -> Result<bool, StoreError> {
        let (name, from, to) = (name.to_owned(), from.to_owned(), to.to_owned());
        self.writer.call(1, move |conn| {
            media::move_media_key(conn, sdk_app_id, &name, &from, &to)
        })
    }

    fn delete_media(&self, sdk_app_id: i64, names: Vec<String>) -> Result<u64, StoreError> {
        self.writer.call(names.len().max(1), move |conn| {
            media::delete_media(conn, sdk_app_id, &names)
        })
    }

    fn put_pending_media(&self, pending: PendingMedia) -> Result<(), StoreError> {
        self.writer
            .call(1, move |conn| media::put_pending(conn, &pending))
    }

    fn list_pending_media(&self) -> Result<Vec<PendingMedia>, StoreError> {
        self.readers.with(media::list_pending)
    }

    fn link_pending_media(
        &self,
        names: Vec<String>,
        sdk_app_id: i64,
        session_id: &str,
        time: i64,
    ) -> Result<(), StoreError> {
        let session_id = session_id.to_owned();
        self.writer.call(names.len().max(1), move |conn| {
            media::link_pending(conn, &names, sdk_app_id, &session_id, time)
        })
    }

    fn find_record(
        &self,
        sdk_app_id: i64,
        session_id: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        self.readers
            .with(|conn| media::find_record(conn, sdk_app_id, session_id))
    }

    fn scan_window(
        &self,
        sdk_app_id: i64,
        start: i64,
        end: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<WindowRecord>, StoreError> {
        self.readers
            .with(|conn| media::scan_window(conn, sdk_app_id, start, end, after, limit))
    }

    fn sessions_with_phone(&self, sdk_app_id: i64, phone: &str) -> Result<Vec<String>, StoreError> {
        self.readers
            .with(|conn| media::sessions_with_phone(conn, sdk_app_id, phone))
    }

    fn delete_records(&self, sdk_app_id: i64, session_ids: Vec<String>) -> Result<u64, StoreError> {
        self.writer.call(session_ids.len().max(1), move |conn| {
            media::delete_records(conn, sdk_app_id, &session_ids)
        })
    }
    fn push_auth(&self, sdk_app_id: i64) -> Result<Option<PushAuth>, StoreError> {
        self.readers.with(|conn| push::push_auth(conn, sdk_app_id))
    }

    fn set_push_auth(&self, sdk_app_id: i64, auth: Option<&PushAuth>) -> Result<(), StoreError> {
        let auth = auth.cloned();
        self.writer.call(1, move |conn| {
            push::set_push_auth(conn, sdk_app_id, auth.as_ref())
        })
    }

    fn push_client(&self, client_id: &str) -> Result<Option<(i64, PushAuth)>, StoreError> {
        self.readers.with(|conn| push::push_client(conn, client_id))
    }

    fn apply_pushes(&self, pushes: Vec<PushWrite>) -> Result<Vec<PushOutcome>, StoreError> {
        let weight = pushes.iter().map(|p| p.records.len()).sum::<usize>().max(1);
        self.writer
            .call(weight, move |conn| push::apply_pushes(conn, &pushes))
    }

    fn due_downloads(&self, now: i64, limit: usize) -> Result<Vec<Download>, StoreError> {
        self.readers
            .with(|conn| push::due_downloads(conn, now, limit))
    }

    fn finish_download(
        &self,
        id: i64,
        object_key: &str,
        size: u64,
        now: i64,
    ) -> Result<(), StoreError> {
        let key = object_key.to_owned();
        self.writer.call(1, move |conn| {
            push::finish_download(conn, id, &key, size, now)
        })
    }

    fn retry_download(&self, id: i64, error: &str, next_at: Option<i64>) -> Result<(), StoreError> {
        let error = error.to_owned();
        self.writer.call(1, move |conn| {
            push::retry_download(conn, id, &error, next_at)
        })
    }

    fn download_counts(&self) -> Result<DownloadCounts, StoreError> {
        self.readers.with(push::download_counts)
    }

    fn prune_push_history(&self, before: i64) -> Result<u64, StoreError> {
        self.writer
            .call(1, move |conn| push::prune_push_history(conn, before))
    }

    fn export_push_state(&self) -> Result<PushState, StoreError> {
        self.readers.with(|conn| {
            let tx = conn.unchecked_transaction()?;
            let state = push::export_push_state(&tx)?;
            tx.commit()?;
            Ok(state)
        })
    }

    fn import_push_state(&self, state: &PushState) -> Result<(), StoreError> {
        let state = state.clone();
        let weight = state.seen.len() + state.downloads.len();
        self.writer
            .call(weight, move |conn| push::import_push_state(conn, &state))
    }
}

#[cfg(test)]
mod tests;
