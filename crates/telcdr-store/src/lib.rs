//! Storage for telcdr: the [`Store`] trait that the server and the CLI talk to,
//! the query and page types of the hot path, and the backends behind it.
//!
//! The store knows call records as indexed columns plus an opaque body (the
//! exact JSON bytes that will be served); it knows nothing of Tencent's
//! envelope, signatures or HTTP. Every method is blocking: callers on an async
//! runtime run them on a blocking thread.
//!
//! Invariants every backend keeps:
//! - a record's identity is (sdk_app_id, session_id); writing it again
//!   replaces it and bumps its revision;
//! - `put_records` returns only once the batch is durable (it survives
//!   `kill -9` of the process);
//! - `query_cdrs` returns an exact total and any page without scanning the
//!   whole window (per-tenant day, hour and 5-minute counts kept in the write
//!   transaction).

mod group_commit;
mod open;
pub mod postgres;
mod record;
mod rules;
pub mod sqlite;
mod window;

pub use open::{StoreOptions, StoreUrl, open};
pub use record::NewRecord;

use std::fmt;

/// What a write did to one record of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// No record with this (sdk_app_id, session_id) existed.
    Inserted,
    /// An earlier revision existed and was replaced.
    Replaced,
}

/// One DescribeTelCdr-shaped query: a tenant, an inclusive window on the
/// call's initiation `Time`, optional filters, and a page.
///
/// Order is newest first by time, ties by session id ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrQuery {
    pub sdk_app_id: i64,
    /// Inclusive lower bound on `Time`, Unix seconds.
    pub start: i64,
    /// Inclusive upper bound on `Time`, Unix seconds.
    pub end: i64,
    /// Normalised phone numbers (see `telcdr_model::normalize_phone`); a
    /// record matches when its caller or callee is any of them. Empty: no
    /// phone filter.
    pub phones: Vec<String>,
    /// Exact session ids; empty: no session filter. Filters combine with AND.
    pub session_ids: Vec<String>,
    /// Number of matching records to skip (PageNumber * PageSize).
    pub offset: u64,
    /// Page size (at most 100 from the API; the store accepts any).
    pub limit: u32,
}

impl CdrQuery {
    /// The phone and session-id filters without repeats, in first-seen
    /// order (a repeated value changes no answer, and a stable order keeps
    /// statement text stable for the backends' statement caches).
    pub(crate) fn distinct_filters(&self) -> (Vec<&str>, Vec<&str>) {
        fn distinct(values: &[String]) -> Vec<&str> {
            let mut seen = std::collections::HashSet::new();
            values
                .iter()
                .map(String::as_str)
                .filter(|v| seen.insert(*v))
                .collect()
        }
        (distinct(&self.phones), distinct(&self.session_ids))
    }
}

/// Filters DescribeTelCdr lacks, for the console's search (a telcdr
/// extension). Each list, when not empty, keeps records whose column is one
/// of its values; lists combine with AND, and with the query's filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraFilters {
    pub directions: Vec<i64>,
    pub end_statuses: Vec<i64>,
    pub seat_mails: Vec<String>,
    pub skill_group_ids: Vec<i64>,
}

impl ExtraFilters {
    pub fn is_empty(&self) -> bool {
        self.directions.is_empty()
            && self.end_statuses.is_empty()
            && self.seat_mails.is_empty()
            && self.skill_group_ids.is_empty()
    }
}

/// One page of records with the exact number of matches in the window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CdrPage {
    pub total: u64,
    /// Stored bodies (TelCdrInfo JSON objects) in page order.
    pub records: Vec<Vec<u8>>,
}

/// A SecretId/SecretKey pair and the account it belongs to.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub secret_id: String,
    pub secret_key: String,
    pub account_id: i64,
    pub enabled: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl fmt::Debug for ApiKey {
    // The SecretKey never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("enabled", &self.enabled)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A key as `telcdr keys list` shows it: no SecretKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub secret_id: String,
    pub account_id: i64,
    pub sdk_app_ids: Vec<i64>,
    pub enabled: bool,
    pub created_at: i64,
}

/// What `create_key` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCreated {
    pub account_id: i64,
    /// False when the SdkAppIds already belonged to one account and the key
    /// was added to it.
    pub new_account: bool,
}

/// An account and the SdkAppIds it owns, as a store copy carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: i64,
    pub created_at: i64,
    pub sdk_app_ids: Vec<i64>,
}

/// Everything in a store but its records: what `telcdr migrate` copies
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreMeta {
    pub accounts: Vec<AccountRecord>,
    pub keys: Vec<ApiKey>,
    pub settings: Vec<(String, String)>,
}

/// A push already applied, known by its `X-TCCC-PUSH-UUID`: a retry of it
/// is answered without being applied again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenPush {
    pub uuid: String,
    pub sdk_app_id: i64,
    pub received_at: i64,
}

/// A row of the download queue, whatever its state, as `migrate` copies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedDownload {
    pub sdk_app_id: i64,
    pub session_id: String,
    pub name: String,
    pub url: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: String,
    /// `pending`, `failed` or `done`.
    pub state: String,
    pub created_at: i64,
}

/// The data push's bookkeeping besides records: without it a moved store
/// would apply a retried push twice and never fetch the recordings still
/// queued.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushState {
    pub seen: Vec<SeenPush>,
    pub downloads: Vec<QueuedDownload>,
}

/// A record's identity: (sdk_app_id, session_id).
pub type RecordKey = (i64, String);

/// Per-SdkAppId settings (`telcdr apps set`). An app never configured has
/// the defaults: no number protection, records and media kept forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppSettings {
    /// Callers and callees come back masked (DescribeTelCdr and friends).
    pub number_protection: bool,
    /// Records older than this many days are removed; 0 keeps them forever.
    pub record_retention_days: u32,
    /// Media of records older than this many days are removed (the records
    /// stay); 0 keeps them forever.
    pub media_retention_days: u32,
}

/// An app as a key that may read it sees it: its settings, and whether it
/// ever had media (so a query can skip the media look-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppView {
    pub settings: AppSettings,
    pub has_media: bool,
}

/// One object of the media store that belongs to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaObject {
    pub sdk_app_id: i64,
    /// File name of the import layout (`<RecordId>.mp3`,
    /// `<SessionId>.asr.json`, `<SessionId>.voicemail.0.wav`, ...); unique
    /// per SdkAppId.
    pub name: String,
    pub session_id: String,
    /// Key of the object in the media store.
    pub object_key: String,
    pub size: u64,
    /// Transcribed span of a transcript in milliseconds, else 0.
    pub duration_ms: i64,
    /// The record's `Time` (Unix seconds), for media retention.
    pub time: i64,
}

/// A media object whose record has not arrived yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMedia {
    /// File name; its first dot-separated part is the RecordId or
    /// SessionId of the record it waits for.
    pub name: String,
    pub object_key: String,
    pub size: u64,
    pub duration_ms: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// One stored record as the single-session actions read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub time: i64,
    /// The TelCdrInfo JSON object, as served.
    pub body: Vec<u8>,
    /// The record's `Events` (a JSON array), when it came with any.
    pub events: Option<Vec<u8>>,
}

/// A record in a time scan: its place in (time, session id) order and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    pub time: i64,
    pub session_id: String,
    pub body: Vec<u8>,
    /// The record's `Events` (a JSON array), when it came with any.
    pub events: Option<Vec<u8>>,
}

/// How an app's data pushes prove who sends them (spec 7.2). Secrets are
/// kept as salted hashes.
#[derive(Clone, PartialEq, Eq)]
pub enum PushAuth {
    /// Pushes need no credentials: configured on purpose, never a default.
    Open,
    /// HTTP Basic: a user name and the hash of its password.
    Basic { user: String, password_hash: String },
    /// OAuth 2.0 client credentials: the client id and the hash of its
    /// secret; telcdr issues the bearer tokens.
    OAuth2 {
        client_id: String,
        secret_hash: String,
    },
}

impl fmt::Debug for PushAuth {
    // Hashes stay out of logs too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushAuth::Open => f.write_str("Open"),
            PushAuth::Basic { user, .. } => write!(f, "Basic({user})"),
            PushAuth::OAuth2 { client_id, .. } => write!(f, "OAuth2({client_id})"),
        }
    }
}

/// A media file a push announced, to fetch from CCC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDownload {
    pub session_id: String,
    pub file: DownloadFile,
    pub url: String,
}

/// What a download becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadFile {
    /// A file of this name (`<RecordId>.mp3`).
    Named(String),
    /// The session's next voicemail, `<SessionId>.voicemail.<n>.<ext>`: n
    /// counts the session's voicemail pushes in the order they were applied.
    Voicemail { ext: String },
}

/// One data push, applied in one transaction with its de-duplication.
#[derive(Debug, Clone, PartialEq)]
pub struct PushWrite {
    /// `X-TCCC-PUSH-UUID`: a push already applied under it is not applied
    /// again.
    pub uuid: Option<String>,
    pub sdk_app_id: i64,
    /// Unix seconds.
    pub received_at: i64,
    pub records: Vec<NewRecord>,
    pub download: Option<NewDownload>,
}

/// What became of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    Applied,
    /// Its UUID was seen before; nothing was written.
    Duplicate,
}

/// A queued download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub id: i64,
    pub sdk_app_id: i64,
    pub session_id: String,
    /// The media file name it will be stored under.
    pub name: String,
    pub url: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// Downloads by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DownloadCounts {
    pub pending: u64,
    pub failed: u64,
    pub done: u64,
}

/// Errors of the storage layer. The server maps them to
/// `InternalError.DBError`; the CLI prints them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("cannot open the store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "SdkAppId {sdk_app_id} belongs to account {owner}; the other SdkAppIds given do not, so no single account can own them all"
    )]
    AppOwnedElsewhere { sdk_app_id: i64, owner: i64 },
    #[error(
        "the store's schema version {found} is newer than this telcdr understands ({supported})"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("the store is shut down")]
    Closed,
    /// A request the store cannot carry out as given (e.g. a key with no
    /// SdkAppId, or a SecretId that already exists).
    #[error("{0}")]
    Invalid(String),
}

/// The storage interface. Implementations are shared across threads behind
/// an `Arc<dyn Store>`.
pub trait Store: Send + Sync + 'static {
    /// Writes a batch of records in one durable transaction (group-committed
    /// with concurrent callers). Returns one outcome per record, in order. A
    /// batch that names one (sdk_app_id, session_id) twice keeps the last.
    fn put_records(&self, batch: Vec<NewRecord>) -> Result<Vec<WriteOutcome>, StoreError>;

    /// Writes a stream of batches in order, as a bulk load does: a
    /// transaction commits once at least `commit_every` records are written
    /// since the last one, and at the end. `on_commit` hears each committed
    /// transaction's outcomes (one per record, in order) once it is durable,
    /// while later batches are written. An error ends the stream; the
    /// transactions committed before it stay. Batches may be small: the
    /// default gathers them to `commit_every` records for
    /// [`Store::put_records`]; SQLite writes each as it comes, and its other
    /// writes through this store wait until the stream ends.
    fn put_record_stream(
        &self,
        batches: &mut dyn Iterator<Item = Vec<NewRecord>>,
        commit_every: usize,
        on_commit: &mut dyn FnMut(Vec<WriteOutcome>),
    ) -> Result<(), StoreError> {
        let mut gathered = Vec::new();
        for batch in batches {
            gathered.extend(batch);
            if gathered.len() >= commit_every {
                on_commit(self.put_records(std::mem::take(&mut gathered))?);
            }
        }
        if !gathered.is_empty() {
            on_commit(self.put_records(gathered)?);
        }
        Ok(())
    }

    /// Answers one query: exact total plus the requested page.
    fn query_cdrs(&self, query: &CdrQuery) -> Result<CdrPage, StoreError>;

    /// [`Store::query_cdrs`] with the console's extra filters. With extra
    /// filters it reads the window's rows (no per-filter counts are kept):
    /// meant for people at a console, not for the API's hot path.
    fn search_cdrs(&self, query: &CdrQuery, extra: &ExtraFilters) -> Result<CdrPage, StoreError>;

    /// Number of records of all tenants.
    fn record_count(&self) -> Result<u64, StoreError>;

    /// Creates a key for the account owning `sdk_app_ids`: a new account when
    /// none of them has an owner, the existing one when all of them belong to
    /// one account; an error when they belong to different accounts or only
    /// some have an owner.
    fn create_key(
        &self,
        sdk_app_ids: &[i64],
        secret_id: &str,
        secret_key: &str,
        now: i64,
    ) -> Result<KeyCreated, StoreError>;

    /// Looks a key up by SecretId, enabled or not.
    fn find_key(&self, secret_id: &str) -> Result<Option<ApiKey>, StoreError>;

    /// The SdkAppIds an account owns, ascending.
    fn apps_of_account(&self, account_id: i64) -> Result<Vec<i64>, StoreError>;

    /// Whether `account_id` owns `sdk_app_id`.
    fn account_owns(&self, account_id: i64, sdk_app_id: i64) -> Result<bool, StoreError> {
        Ok(self.app_view(account_id, sdk_app_id)?.is_some())
    }

    /// Every key, oldest first.
    fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError>;

    /// Enables or disables a key. Returns false when no such key exists.
    fn set_key_enabled(&self, secret_id: &str, enabled: bool) -> Result<bool, StoreError>;

    /// Reads a server setting (e.g. which key the demo created).
    fn setting(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Writes a server setting durably.
    fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError>;

    /// Reads a server setting, first writing `value` if it has none: every
    /// process sharing the store ends up with the same value (server
    /// secrets are made this way).
    fn ensure_setting(&self, name: &str, value: &str) -> Result<String, StoreError>;

    /// Accounts, keys and settings, for copying the store.
    fn export_meta(&self) -> Result<StoreMeta, StoreError>;

    /// Writes accounts (keeping their ids), keys and settings from another
    /// store in one transaction. Rows already present with the same content
    /// stay; an SdkAppId, account or SecretId that means something else here
    /// is an error and nothing is written.
    fn import_meta(&self, meta: &StoreMeta) -> Result<(), StoreError>;

    /// Up to `limit` records in (sdk_app_id, session_id) order, strictly
    /// after `after` (from the start when None).
    fn scan_records(
        &self,
        after: Option<&RecordKey>,
        limit: usize,
    ) -> Result<Vec<NewRecord>, StoreError>;

    /// Records per SdkAppId, ascending by SdkAppId.
    fn counts_by_app(&self) -> Result<Vec<(i64, u64)>, StoreError>;

    /// The app as `account_id` sees it, or None when the account does not
    /// own `sdk_app_id` (tenancy and settings in one read).
    fn app_view(&self, account_id: i64, sdk_app_id: i64) -> Result<Option<AppView>, StoreError>;

    /// An app's settings (the defaults when it has none).
    fn app_settings(&self, sdk_app_id: i64) -> Result<AppSettings, StoreError>;

    /// Writes an app's settings durably.
    fn set_app_settings(&self, sdk_app_id: i64, settings: &AppSettings) -> Result<(), StoreError>;

    /// Every app that has settings, ascending by SdkAppId.
    fn list_app_settings(&self) -> Result<Vec<(i64, AppSettings)>, StoreError>;

    /// Records media objects as held, replacing rows of the same
    /// (sdk_app_id, name), and marks their apps as having media.
    fn put_media(&self, objects: Vec<MediaObject>) -> Result<(), StoreError>;

    /// One media row by its name, as a `/media` link names it.
    fn find_media(&self, sdk_app_id: i64, name: &str) -> Result<Option<MediaObject>, StoreError>;

    /// The media held for some sessions of one app.
    fn media_for_sessions(
        &self,
        sdk_app_id: i64,
        session_ids: &[&str],
    ) -> Result<Vec<MediaObject>, StoreError>;

    /// Up to `limit` media rows of every app in (sdk_app_id, name) order,
    /// strictly after `after`: what `telcdr migrate` copies.
    fn scan_media(
        &self,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<MediaObject>, StoreError>;

    /// Up to `limit` media rows of an app whose record is older than
    /// `before` (Unix seconds), oldest first: what media retention removes.
    fn media_before(
        &self,
        sdk_app_id: i64,
        before: i64,
        limit: usize,
    ) -> Result<Vec<MediaObject>, StoreError>;

    /// Up to `limit` media rows whose object is still under `pending/`
    /// (it arrived before its record): to move to its dated key.
    fn media_under_pending(&self, limit: usize) -> Result<Vec<MediaObject>, StoreError>;

    /// Points a media row at `to` if it still points at `from`; false when
    /// the row changed or went meanwhile.
    fn move_media_key(
        &self,
        sdk_app_id: i64,
        name: &str,
        from: &str,
        to: &str,
    ) -> Result<bool, StoreError>;

    /// Forgets media rows (the objects are the caller's to delete first).
    fn delete_media(&self, sdk_app_id: i64, names: Vec<String>) -> Result<u64, StoreError>;

    /// Keeps a media object whose record has not arrived; `put_records`
    /// links it (moves it to the record's media) when a record whose
    /// SessionId or RecordId its name starts with is written.
    fn put_pending_media(&self, media: PendingMedia) -> Result<(), StoreError>;

    /// Every media object still waiting for its record, by name.
    fn list_pending_media(&self) -> Result<Vec<PendingMedia>, StoreError>;

    /// Links pending media to a record that is already stored.
    fn link_pending_media(
        &self,
        names: Vec<String>,
        sdk_app_id: i64,
        session_id: &str,
        time: i64,
    ) -> Result<(), StoreError>;

    /// One record by its identity.
    fn find_record(
        &self,
        sdk_app_id: i64,
        session_id: &str,
    ) -> Result<Option<StoredRecord>, StoreError>;

    /// Up to `limit` records of an app with `start <= time <= end`, newest
    /// first with ties by session id (DescribeTelCdr's order), strictly
    /// after the (time, session id) `after`. For statistics, retention and
    /// erasure, which must see every record of a window.
    fn scan_window(
        &self,
        sdk_app_id: i64,
        start: i64,
        end: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<WindowRecord>, StoreError>;

    /// The session ids of an app's records whose (normalised) caller or
    /// callee is `phone`.
    fn sessions_with_phone(&self, sdk_app_id: i64, phone: &str) -> Result<Vec<String>, StoreError>;

    /// Removes records, their count buckets' share, their events and their
    /// media rows in one transaction. Returns how many records existed.
    fn delete_records(&self, sdk_app_id: i64, session_ids: Vec<String>) -> Result<u64, StoreError>;

    /// How an app's pushes authenticate; None: not configured (refused).
    fn push_auth(&self, sdk_app_id: i64) -> Result<Option<PushAuth>, StoreError>;

    /// Sets (or with None, removes) an app's push authentication.
    fn set_push_auth(&self, sdk_app_id: i64, auth: Option<&PushAuth>) -> Result<(), StoreError>;

    /// The app whose OAuth 2.0 client id this is.
    fn push_client(&self, client_id: &str) -> Result<Option<(i64, PushAuth)>, StoreError>;

    /// Applies pushes durably in one transaction: each push's records and
    /// download, unless its UUID was applied before (or earlier in the same
    /// batch). Returns one outcome per push, in order, once committed.
    /// Records of a batch are written as one batch (a later push of a
    /// session replaces an earlier one).
    fn apply_pushes(&self, pushes: Vec<PushWrite>) -> Result<Vec<PushOutcome>, StoreError>;

    /// The push UUIDs applied and the whole download queue, for `migrate`.
    fn export_push_state(&self) -> Result<PushState, StoreError>;

    /// Adds another store's push state to this one's, in one transaction.
    /// UUIDs already known and downloads already queued (same app, session,
    /// name and URL) are skipped, so a migrate run again adds nothing twice.
    fn import_push_state(&self, state: &PushState) -> Result<(), StoreError>;

    /// Up to `limit` pending downloads due at `now`, oldest first.
    fn due_downloads(&self, now: i64, limit: usize) -> Result<Vec<Download>, StoreError>;

    /// Marks a download done, its object stored at `object_key`: the object
    /// becomes its record's media, or waits for the record.
    fn finish_download(
        &self,
        id: i64,
        object_key: &str,
        size: u64,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Records a failed attempt: tried again at `next_at`, or given up when
    /// None.
    fn retry_download(&self, id: i64, error: &str, next_at: Option<i64>) -> Result<(), StoreError>;

    /// Downloads by state.
    fn download_counts(&self) -> Result<DownloadCounts, StoreError>;

    /// Forgets push UUIDs and finished downloads older than `before`.
    fn prune_push_history(&self, before: i64) -> Result<u64, StoreError>;
}
