//! The SQLite schema as an ordered list of migrations, keyed on
//! `PRAGMA user_version`: version N means the first N steps have run.
//!
//! Steps are only ever appended. A database whose version is beyond the list
//! was written by a newer telcdr and is refused rather than misread.

use rusqlite::Connection;

use crate::StoreError;

/// Migration steps, in order. Step `i` takes the schema to version `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: records, count buckets, accounts, keys, settings.
    r#"
    CREATE TABLE cdr (
        id             INTEGER PRIMARY KEY,
        sdk_app_id     INTEGER NOT NULL,
        session_id     TEXT    NOT NULL,
        time           INTEGER NOT NULL,
        caller         TEXT    NOT NULL,
        callee         TEXT    NOT NULL,
        direction      INTEGER NOT NULL,
        end_status     INTEGER NOT NULL,
        seat_mail      TEXT    NOT NULL,
        skill_group_id INTEGER NOT NULL,
        revision       INTEGER NOT NULL,
        body           BLOB    NOT NULL,
        UNIQUE (sdk_app_id, session_id)
    );
    -- The hot path: one tenant, a window, newest first, ties by session id.
    CREATE INDEX cdr_by_time ON cdr (sdk_app_id, time DESC, session_id);
    -- Phone filters: a record matches on its caller or its callee (step 3
    -- puts the week first).
    CREATE INDEX cdr_by_caller ON cdr (sdk_app_id, caller, time);
    CREATE INDEX cdr_by_callee ON cdr (sdk_app_id, callee, time);

    -- Records per tenant per period, at three spans (86400 s days, 3600 s
    -- hours, 300 s slices; start = time div span), kept in the same
    -- transaction as the records: a total or a deep page walks ~90 days,
    -- a few dozen edge hours and slices, and counts at most two 5-minute
    -- edges exactly, whatever the size of the window.
    CREATE TABLE cdr_bucket (
        sdk_app_id INTEGER NOT NULL,
        span       INTEGER NOT NULL,
        start      INTEGER NOT NULL,
        count      INTEGER NOT NULL,
        PRIMARY KEY (sdk_app_id, span, start)
    ) WITHOUT ROWID;

    CREATE TABLE account (
        id         INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE account_app (
        sdk_app_id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES account (id)
    );
    CREATE INDEX account_app_by_account ON account_app (account_id, sdk_app_id);
    CREATE TABLE api_key (
        secret_id  TEXT    PRIMARY KEY,
        secret_key TEXT    NOT NULL,
        account_id INTEGER NOT NULL REFERENCES account (id),
        enabled    INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE setting (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: media telcdr holds, media waiting for their record, per-app
    // settings, session events.
    r#"
    -- One row per object in the media store that belongs to a record.
    -- `name` is the file name of the import layout: `<RecordId>.<ext>` (a
    -- recording), `<SessionId>.asr.json` (the transcript),
    -- `<SessionId>.voicemail.<n>.<ext>` and `...voicemail.<n>.asr.json`.
    -- `time` is the record's Time, for media retention; `duration_ms` the
    -- transcribed span of a transcript (ASR minutes), else 0.
    CREATE TABLE media (
        sdk_app_id  INTEGER NOT NULL,
        name        TEXT    NOT NULL,
        session_id  TEXT    NOT NULL,
        object_key  TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        time        INTEGER NOT NULL,
        PRIMARY KEY (sdk_app_id, name)
    ) WITHOUT ROWID;
    CREATE INDEX media_by_session ON media (sdk_app_id, session_id);
    CREATE INDEX media_by_time ON media (sdk_app_id, time);
    -- Objects of linked media still under pending/ are moved to their
    -- dated key in the background; this finds them.
    CREATE INDEX media_by_key ON media (object_key);

    -- Media that arrived before their record: linked when a record naming
    -- them (by RecordId or SessionId) is written.
    CREATE TABLE media_pending (
        name        TEXT    PRIMARY KEY,
        object_key  TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        created_at  INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- Per-SdkAppId settings; an app without a row has the defaults (all
    -- off). `has_media` lets DescribeTelCdr skip the media look-up for apps
    -- that never had any.
    -- Push auth (data push receiver): '' not configured (pushes refused),
    -- 'none', 'basic' (push_user + password hash) or 'oauth2' (client id in
    -- push_user + secret hash).
    CREATE TABLE app_setting (
        sdk_app_id            INTEGER PRIMARY KEY,
        number_protection     INTEGER NOT NULL DEFAULT 0,
        record_retention_days INTEGER NOT NULL DEFAULT 0,
        media_retention_days  INTEGER NOT NULL DEFAULT 0,
        has_media             INTEGER NOT NULL DEFAULT 0,
        push_auth             TEXT    NOT NULL DEFAULT '',
        push_user             TEXT    NOT NULL DEFAULT '',
        push_secret           TEXT    NOT NULL DEFAULT ''
    );
    CREATE UNIQUE INDEX app_setting_by_push_client ON app_setting (push_user)
        WHERE push_auth = 'oauth2';

    -- Pushes already applied, by X-TCCC-PUSH-UUID: a retry is answered
    -- without being applied twice.
    CREATE TABLE push_seen (
        uuid        TEXT    PRIMARY KEY,
        sdk_app_id  INTEGER NOT NULL,
        received_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX push_seen_by_time ON push_seen (received_at);

    -- Media to fetch from a pushed URL: a durable queue, so a restart
    -- resumes what was pending. state: 'pending' or 'failed' (gave up).
    CREATE TABLE download (
        id          INTEGER PRIMARY KEY,
        sdk_app_id  INTEGER NOT NULL,
        session_id  TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        url         TEXT    NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        next_at     INTEGER NOT NULL,
        last_error  TEXT    NOT NULL DEFAULT '',
        state       TEXT    NOT NULL DEFAULT 'pending',
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX download_due ON download (state, next_at);
    CREATE INDEX download_by_session ON download (sdk_app_id, session_id);

    -- `Events` of an imported record (DescribeSessionDetail), a JSON array;
    -- most records have none, so they live beside the record.
    CREATE TABLE cdr_events (
        sdk_app_id INTEGER NOT NULL,
        session_id TEXT    NOT NULL,
        events     BLOB    NOT NULL,
        PRIMARY KEY (sdk_app_id, session_id)
    ) WITHOUT ROWID;
    "#,
    // 3: phone indexes led by the week of the call.
    r#"
    -- Led by the number alone, a phone index took a write batch's entries
    -- all over its pages: every commit of an import rewrote (and journaled)
    -- nearly the whole of both indexes, so imports slowed as the store grew.
    -- Records arrive roughly in time order; with the week (time / 604800)
    -- first, a batch lands in its own weeks' part of each index. A phone
    -- query seeks once per week of its window (at most 14 in 90 days). The
    -- expression must be written the same way in every query that means to
    -- use these indexes (see `query::weeks_table`).
    DROP INDEX cdr_by_caller;
    DROP INDEX cdr_by_callee;
    CREATE INDEX cdr_by_caller ON cdr (sdk_app_id, time / 604800, caller, time);
    CREATE INDEX cdr_by_callee ON cdr (sdk_app_id, time / 604800, callee, time);
    "#,
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`], each step in its own
/// transaction together with its version bump, so a crash mid-way leaves a
/// consistent earlier version. Running it again is a no-op.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, step) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        // PRAGMA takes no bound parameters; the value is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
        tx.commit()?;
    }
    Ok(())
}

/// The database's `PRAGMA user_version`.
pub fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrate_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 12);
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
            .unwrap();
        match migrate(&mut conn) {
            Err(StoreError::SchemaTooNew { found, supported }) => {
                assert_eq!(found, SCHEMA_VERSION + 1);
                assert_eq!(supported, SCHEMA_VERSION);
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }
}
