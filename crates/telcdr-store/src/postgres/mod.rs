//! The PostgreSQL backend: the same schema, counting and answers as SQLite,
//! for records that outgrow one disk or several `telcdr serve` processes
//! sharing one database.
//!
//! - `schema`: the tables and their migrations;
//! - `records`: record upserts (COPY for bulk batches) and their buckets;
//! - `query`: the DescribeTelCdr hot path;
//! - `keys`: accounts, keys and settings;
//! - `pool`: connections that reconnect by themselves.
//!
//! Writes of one process go through the shared group-commit writer thread,
//! like SQLite's. Writes of different processes serialise on an advisory
//! lock taken by each record-writing transaction, so a replaced record's old
//! time (needed to move it between buckets) cannot change under it and
//! bucket rows are never locked in two orders.

mod copy;
mod keys;
mod media;
mod phones;
mod pool;
mod push;
mod query;
mod records;
mod schema;
mod search;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::{Client, Config, NoTls};

use crate::group_commit::{TxConnection, Writer};
use crate::{
    ApiKey, AppSettings, AppView, CdrPage, CdrQuery, Download, DownloadCounts, ExtraFilters,
    KeyCreated, KeyInfo, MediaObject, NewRecord, PendingMedia, PushAuth, PushOutcome, PushState,
    PushWrite, RecordKey, Store, StoreError, StoreMeta, StoredRecord, WindowRecord, WriteOutcome,
};
pub use pool::PgClient;
use pool::PgPool;

pub use schema::SCHEMA_VERSION;

/// Advisory lock keys (one 64-bit space per database): record writes, key
/// and account changes, and schema migration.
const LOCK_RECORDS: i64 = 0x7465_6c63_6472_0001;
const LOCK_KEYS: i64 = 0x7465_6c63_6472_0002;
const LOCK_MIGRATE: i64 = 0x7465_6c63_6472_0003;

/// How long opening a connection may take when the URL sets no
/// `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Tuning of the PostgreSQL backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Read connections at most (opened as needed).
    pub readers: usize,
    /// Apply pending migrations on open (otherwise refuse an old schema).
    pub migrate: bool,
    /// Calls of one number in a filtered window from which the number is
    /// counted per period from then on (see `phones.rs`). Below it, a
    /// total counts the number's index range.
    pub busy_phone_calls: u64,
}

/// Default [`PgOptions::busy_phone_calls`]: counting a thousand index
/// entries costs about what a page's other reads do.
pub const DEFAULT_BUSY_PHONE_CALLS: u64 = 1_000;

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            readers: 8,
            migrate: true,
            busy_phone_calls: DEFAULT_BUSY_PHONE_CALLS,
        }
    }
}

/// A database error as the store reports it: PostgreSQL's own message when
/// it sent one.
pub(crate) fn pg_error(e: postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
        None => StoreError::Database(e.to_string()),
    }
}

/// The URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Connection settings from a `postgres://` URL, with telcdr's defaults for
/// what it leaves out.
fn config_of(url: &str) -> Result<Config, StoreError> {
    let mut config: Config = url.parse().map_err(|e| StoreError::Open {
        path: redact_url(url),
        reason: format!("not a PostgreSQL connection URL: {e}"),
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("telcdr");
    }
    config.keepalives(true);
    // The hot path runs a handful of fixed statements (and the plpgsql
    // window function's), thousands of times a second: plan each once.
    // Left to itself, PostgreSQL re-plans them per call (custom plans),
    // which cost more than executing them. JIT off: a generic plan's
    // estimates can cross jit_above_cost (a phone filter's pair ranges do
    // at 10M records), and compiling cost tens of milliseconds per query
    // that runs in one.
    const SESSION: &str = "-c plan_cache_mode=force_generic_plan -c jit=off";
    let options = match config.get_options() {
        Some(given) => format!("{given} {SESSION}"),
        None => SESSION.to_owned(),
    };
    config.options(&options);
    Ok(config)
}

/// The writer thread's connection: reconnects at the start of a group when
/// the last one broke (e.g. PostgreSQL restarted).
pub(crate) struct WriteConnection {
    config: Config,
    client: Option<PgClient>,
}

impl WriteConnection {
    /// The live client; only called inside a group, after `begin`.
    pub(crate) fn client(&mut self) -> Result<&mut PgClient, StoreError> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Database("the write connection is not open".into()))
    }
}

impl TxConnection for WriteConnection {
    fn begin(&mut self) -> Result<(), String> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.client = None;
            let client = self
                .config
                .connect(NoTls)
                .map_err(|e| pg_error(e).to_string())?;
            self.client = Some(PgClient::new(client));
        }
        let client = self.client.as_mut().expect("connected above");
        client
            .raw()
            .batch_execute("BEGIN")
            .map_err(|e| pg_error(e).to_string())
    }

    fn commit(&mut self) -> Result<(), String> {
        let client = self.client().map_err(|e| e.to_string())?;
        client
            .raw()
            .batch_execute("COMMIT")
            .map_err(|e| pg_error(e).to_string())
    }

    fn rollback(&mut self) -> Result<(), String> {
        match self.client.as_mut() {
            Some(client) if !client.is_closed() => client
                .raw()
                .batch_execute("ROLLBACK")
                .map_err(|e| pg_error(e).to_string()),
            // A broken connection has no transaction left to undo.
            _ => Ok(()),
        }
    }
}

/// A [`Store`] in a PostgreSQL database.
pub struct PgStore {
    // Shared with the threads that mark numbers busy (see `query_cdrs`).
    writer: Arc<Writer<WriteConnection>>,
    readers: PgPool,
    busy_phone_calls: u64,
    /// Numbers being marked busy now, so that the queries meanwhile do not
    /// queue the same pass again.
    marking: Arc<Mutex<HashSet<(i64, String)>>>,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:pass@host:port/db`)
    /// and brings its schema up to date (or checks it, when
    /// `options.migrate` is off). Fails with [`StoreError::Open`] when the
    /// database cannot be reached.
    pub fn open(url: &str, options: PgOptions) -> Result<PgStore, StoreError> {
        let config = config_of(url)?;
        let open_error = |e: StoreError| StoreError::Open {
            path: redact_url(url),
            reason: e.to_string(),
        };
        let mut client = config.connect(NoTls).map_err(|e| open_error(pg_error(e)))?;
        schema::migrate(&mut client, options.migrate).map_err(|e| match e {
            StoreError::Database(_) => open_error(e),
            other => other,
        })?;
        Ok(PgStore {
            writer: Arc::new(Writer::spawn(
                "telcdr-pg-writer",
                WriteConnection {
                    config: config.clone(),
                    client: Some(PgClient::new(client)),
                },
            )?),
            readers: PgPool::new(config, options.readers.max(1)),
            busy_phone_calls: options.busy_phone_calls,
            marking: Arc::default(),
        })
    }

    /// A fresh connection to the database at `url`, outside any pool (for
    /// tests and tools that inspect the tables).
    pub fn connect(url: &str) -> Result<Client, StoreError> {
        Ok(config_of(url)?.connect(NoTls)?)
    }
}

/// Creates database `name` through the server at `admin_url` and returns
/// the URL of the new database (same user, host and port). For tests, which
/// want a fresh database each.
pub fn create_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::Invalid(format!(
            "database name {name:?} must be letters, digits and underscores"
        )));
    }
    let mut client = PgStore::connect(admin_url)?;
    client.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let authority_end = base
        .find("://")
        .map(|s| s + 3)
        .and_then(|from| base[from..].find('/').map(|i| from + i))
        .unwrap_or(base.len());
    Ok(format!("{}/{name}{query}", &base[..authority_end]))
}

impl PgStore {
    /// Marks `phones` busy on a thread of its own: the pass over a
    /// hotline's calls takes a while at 10M records, and the query that
    /// found it (or the next ones, which count it the long way meanwhile)
    /// should not wait for it. The page is right either way; if marking
    /// fails, the next filter that finds the number busy tries again.
    fn mark_busy_later(&self, sdk_app_id: i64, numbers: Vec<String>) {
        let numbers: Vec<String> = {
            let Ok(mut marking) = self.marking.lock() else {
                return;
            };
            numbers
                .into_iter()
                .filter(|number| marking.insert((sdk_app_id, number.clone())))
                .collect()
        };
        if numbers.is_empty() {
            return;
        }
        let numbers = Arc::new(numbers);
        let done = move |marking: &Mutex<HashSet<(i64, String)>>, numbers: &[String]| {
            if let Ok(mut marking) = marking.lock() {
                for number in numbers {
                    marking.remove(&(sdk_app_id, number.clone()));
                }
            }
        };
        let (writer, marking) = (Arc::clone(&self.writer), Arc::clone(&self.marking));
        let listed = Arc::clone(&numbers);
        let spawned = std::thread::Builder::new()
            .name("telcdr-pg-busy".into())
            .spawn(move || {
                let to_mark = Arc::clone(&numbers);
                let _ = writer.call(to_mark.len(), move |conn| {
                    phones::mark_busy(conn.client()?, sdk_app_id, &to_mark)
                });
                done(&marking, &numbers);
            });
        if spawned.is_err() {
            // No thread to spare: a later filter asks again.
            done(&self.marking, &listed);
        }
    }
}

impl Store for PgStore {
    fn put_records(&self, batch: Vec<NewRecord>) -> Result<Vec<WriteOutcome>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.writer.call(batch.len(), move |conn| {
            records::write_records(conn.client()?, &batch)
        })
    }

    fn query_cdrs(&self, query: &CdrQuery) -> Result<CdrPage, StoreError> {
        let answer = self
            .readers
            .with(|client| query::query_cdrs(client, query, self.busy_phone_calls))?;
        if !answer.newly_busy.is_empty() {
            self.mark_busy_later(query.sdk_app_id, answer.newly_busy);
        }
        Ok(answer.page)
    }

    fn search_cdrs(&self, query: &CdrQuery, extra: &ExtraFilters) -> Result<CdrPage, StoreError> {
        if extra.is_empty() {
            return self.query_cdrs(query);
        }
        self.readers
            .with(|client| search::search_cdrs(client, query, extra))
    }

    fn record_count(&self) -> Result<u64, StoreError> {
        self.readers.with(|client| {
            let row = client.query_one(
                "SELECT coalesce(sum(count), 0)::bigint FROM cdr_bucket WHERE span = 86400",
                &[],
            )?;
            Ok(row.get::<_, i64>(0) as u64)
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
        self.writer.call(1, move |conn| {
            keys::create_key(conn.client()?, &apps, &id, &key, now)
        })
    }

    fn find_key(&self, secret_id: &str) -> Result<Option<ApiKey>, StoreError> {
        self.readers
            .with(|client| keys::find_key(client, secret_id))
    }

    fn apps_of_account(&self, account_id: i64) -> Result<Vec<i64>, StoreError> {
        self.readers.with(|client| {
            Ok(client
                .query(
                    "SELECT sdk_app_id FROM account_app WHERE account_id = $1 ORDER BY sdk_app_id",
                    &[&account_id],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        self.readers.with(keys::list_keys)
    }

    fn set_key_enabled(&self, secret_id: &str, enabled: bool) -> Result<bool, StoreError> {
        let id = secret_id.to_owned();
        self.writer.call(1, move |conn| {
            keys::set_key_enabled(conn.client()?, &id, enabled)
        })
    }

    fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.readers.with(|client| keys::setting(client, name))
    }

    fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.writer.call(1, move |conn| {
            keys::set_setting(conn.client()?, &name, &value)
        })
    }

    fn ensure_setting(&self, name: &str, value: &str) -> Result<String, StoreError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.writer.call(1, move |conn| {
            let client = conn.client()?;
            client.execute(
                "INSERT INTO setting (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &value],
            )?;
            keys::setting(client, &name)?
                .ok_or_else(|| StoreError::Database(format!("setting {name} vanished")))
        })
    }

    fn export_meta(&self) -> Result<StoreMeta, StoreError> {
        self.readers
            .with(|client| client.in_snapshot(copy::export_meta))
    }

    fn import_meta(&self, meta: &StoreMeta) -> Result<(), StoreError> {
        let meta = meta.clone();
        self.writer
            .call(1, move |conn| copy::import_meta(conn.client()?, &meta))
    }

    fn scan_records(
        &self,
        after: Option<&RecordKey>,
        limit: usize,
    ) -> Result<Vec<NewRecord>, StoreError> {
        self.readers
            .with(|client| copy::scan_records(client, after, limit))
    }

    fn counts_by_app(&self) -> Result<Vec<(i64, u64)>, StoreError> {
        self.readers.with(copy::counts_by_app)
    }

    fn app_view(&self, account_id: i64, sdk_app_id: i64) -> Result<Option<AppView>, StoreError> {
        self.readers
            .with(|client| media::app_view(client, account_id, sdk_app_id))
    }

    fn app_settings(&self, sdk_app_id: i64) -> Result<AppSettings, StoreError> {
        self.readers
            .with(|client| media::app_settings(client, sdk_app_id))
    }

    fn set_app_settings(&self, sdk_app_id: i64, settings: &AppSettings) -> Result<(), StoreError> {
        let settings = *settings;
        self.writer.call(1, move |conn| {
            media::set_app_settings(conn.client()?, sdk_app_id, &settings)
        })
    }

    fn list_app_settings(&self) -> Result<Vec<(i64, AppSettings)>, StoreError> {
        self.readers.with(media::list_app_settings)
    }

    fn put_media(&self, objects: Vec<MediaObject>) -> Result<(), StoreError> {
        self.writer.call(objects.len().max(1), move |conn| {
            media::put_media(conn.client()?, &objects)
        })
    }

    fn find_media(&self, sdk_app_id: i64, name: &str) -> Result<Option<MediaObject>, StoreError> {
        self.readers
            .with(|client| media::find_media(client, sdk_app_id, name))
    }

    fn media_for_sessions(
        &self,
        sdk_app_id: i64,
        session_ids: &[&str],
    ) -> Result<Vec<MediaObject>, StoreError> {
        self.readers
            .with(|client| media::media_for_sessions(client, sdk_app_id, session_ids))
    }

    fn scan_media(
        &self,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<MediaObject>, StoreError> {
        self.readers
            .with(|client| media::scan_media(client, after, limit))
    }

    fn media_before(
        &self,
        sdk_app_id: i64,
        before: i64,
        limit: usize,
    ) -> Result<Vec<MediaObject>, StoreError> {
        self.readers
            .with(|client| media::media_before(client, sdk_app_id, before, limit))
    }

    fn media_under_pending(&self, limit: usize) -> Result<Vec<MediaObject>, StoreError> {
        self.readers
            .with(|client| media::media_under_pending(client, limit))
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
            media::move_media_key(conn.client()?, sdk_app_id, &name, &from, &to)
        })
    }

    fn delete_media(&self, sdk_app_id: i64, names: Vec<String>) -> Result<u64, StoreError> {
        self.writer.call(names.len().max(1), move |conn| {
            media::delete_media(conn.client()?, sdk_app_id, &names)
        })
    }

    fn put_pending_media(&self, pending: PendingMedia) -> Result<(), StoreError> {
        self.writer
            .call(1, move |conn| media::put_pending(conn.client()?, &pending))
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
            media::link_pending(conn.client()?, &names, sdk_app_id, &session_id, time)
        })
    }

    fn find_record(
        &self,
        sdk_app_id: i64,
        session_id: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        self.readers
            .with(|client| media::find_record(client, sdk_app_id, session_id))
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
            .with(|client| media::scan_window(client, sdk_app_id, start, end, after, limit))
    }

    fn sessions_with_phone(&self, sdk_app_id: i64, phone: &str) -> Result<Vec<String>, StoreError> {
        self.readers
            .with(|client| media::sessions_with_phone(client, sdk_app_id, phone))
    }

    fn delete_records(&self, sdk_app_id: i64, session_ids: Vec<String>) -> Result<u64, StoreError> {
        self.writer.call(session_ids.len().max(1), move |conn| {
            media::delete_records(conn.client()?, sdk_app_id, &session_ids)
        })
    }
    fn push_auth(&self, sdk_app_id: i64) -> Result<Option<PushAuth>, StoreError> {
        self.readers
            .with(|client| push::push_auth(client, sdk_app_id))
    }

    fn set_push_auth(&self, sdk_app_id: i64, auth: Option<&PushAuth>) -> Result<(), StoreError> {
        let auth = auth.cloned();
        self.writer.call(1, move |conn| {
            push::set_push_auth(conn.client()?, sdk_app_id, auth.as_ref())
        })
    }

    fn push_client(&self, client_id: &str) -> Result<Option<(i64, PushAuth)>, StoreError> {
        self.readers
            .with(|client| push::push_client(client, client_id))
    }

    fn apply_pushes(&self, pushes: Vec<PushWrite>) -> Result<Vec<PushOutcome>, StoreError> {
        let weight = pushes.iter().map(|p| p.records.len()).sum::<usize>().max(1);
        self.writer.call(weight, move |conn| {
            push::apply_pushes(conn.client()?, &pushes)
        })
    }

    fn due_downloads(&self, now: i64, limit: usize) -> Result<Vec<Download>, StoreError> {
        self.readers
            .with(|client| push::due_downloads(client, now, limit))
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
            push::finish_download(conn.client()?, id, &key, size, now)
        })
    }

    fn retry_download(&self, id: i64, error: &str, next_at: Option<i64>) -> Result<(), StoreError> {
        let error = error.to_owned();
        self.writer.call(1, move |conn| {
            push::retry_download(conn.client()?, id, &error, next_at)
        })
    }

    fn download_counts(&self) -> Result<DownloadCounts, StoreError> {
        self.readers.with(push::download_counts)
    }

    fn prune_push_history(&self, before: i64) -> Result<u64, StoreError> {
        self.writer.call(1, move |conn| {
            push::prune_push_history(conn.client()?, before)
        })
    }

    fn export_push_state(&self) -> Result<PushState, StoreError> {
        self.readers
            .with(|client| client.in_snapshot(push::export_push_state))
    }

    fn import_push_state(&self, state: &PushState) -> Result<(), StoreError> {
        let state = state.clone();
        let weight = state.seen.len() + state.downloads.len();
        self.writer.call(weight, move |conn| {
            push::import_push_state(conn.client()?, &state)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://telcdr:s3cret@127.0.0.1:5432/cdr"),
            "postgres://telcdr:***@127.0.0.1:5432/cdr"
        );
        assert_eq!(
            redact_url("postgres://telcdr@127.0.0.1/cdr"),
            "postgres://telcdr@127.0.0.1/cdr"
        );
        assert_eq!(redact_url("host=/tmp user=x"), "host=/tmp user=x");
    }

    #[test]
    fn a_bad_url_is_an_open_error() {
        let err = config_of("postgres://127.0.0.1:notaport/db").unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
    }
}
