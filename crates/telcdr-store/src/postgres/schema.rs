//! The PostgreSQL schema as an ordered list of migrations, recorded in
//! `telcdr_schema`: version N means the first N steps have run.
//!
//! The same tables as SQLite's, shaped for a distributed PostgreSQL: every
//! record key and index leads with `sdk_app_id`, so Citus can shard `cdr`
//! and `cdr_bucket` on it (the account tables are small reference tables).
//! Text that is compared or ordered uses the "C" collation, so ties order by
//! bytes exactly as SQLite does and both backends answer byte for byte alike.
//!
//! Steps are only ever appended. Migrating takes an advisory lock, so
//! several servers starting at once on one database run each step once.

use postgres::Client;

use super::{LOCK_MIGRATE, pg_error};
use crate::StoreError;

/// Migration steps, in order. Step `i` takes the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: records, count buckets, accounts, keys, settings.
    r#"
    CREATE TABLE cdr (
        sdk_app_id     bigint  NOT NULL,
        session_id     text    COLLATE "C" NOT NULL,
        time           bigint  NOT NULL,
        caller         text    COLLATE "C" NOT NULL,
        callee         text    COLLATE "C" NOT NULL,
        direction      bigint  NOT NULL,
        end_status     bigint  NOT NULL,
        seat_mail      text    COLLATE "C" NOT NULL,
        skill_group_id bigint  NOT NULL,
        revision       bigint  NOT NULL,
        body           bytea   NOT NULL,
        PRIMARY KEY (sdk_app_id, session_id)
    );
    -- Bodies are about 2 KiB of JSON: kept in the row and uncompressed, so
    -- a page reads no TOAST table and decompresses nothing.
    ALTER TABLE cdr ALTER COLUMN body SET STORAGE MAIN;
    CREATE INDEX cdr_by_time ON cdr (sdk_app_id, time DESC, session_id);
    CREATE INDEX cdr_by_caller ON cdr (sdk_app_id, caller, time);
    CREATE INDEX cdr_by_callee ON cdr (sdk_app_id, callee, time);

    -- Records per tenant per period (see the store's window module).
    CREATE TABLE cdr_bucket (
        sdk_app_id bigint NOT NULL,
        span       bigint NOT NULL,
        start      bigint NOT NULL,
        count      bigint NOT NULL,
        PRIMARY KEY (sdk_app_id, span, start)
    );

    CREATE TABLE account (
        id         bigserial PRIMARY KEY,
        created_at bigint    NOT NULL
    );
    CREATE TABLE account_app (
        sdk_app_id bigint PRIMARY KEY,
        account_id bigint NOT NULL REFERENCES account (id)
    );
    CREATE INDEX account_app_by_account ON account_app (account_id, sdk_app_id);
    CREATE TABLE api_key (
        secret_id  text      COLLATE "C" PRIMARY KEY,
        secret_key text      NOT NULL,
        account_id bigint    NOT NULL REFERENCES account (id),
        enabled    boolean   NOT NULL,
        created_at bigint    NOT NULL,
        -- Creation order among keys of the same second (SQLite's rowid).
        seq        bigserial NOT NULL
    );
    CREATE TABLE setting (
        name  text COLLATE "C" PRIMARY KEY,
        value text NOT NULL
    );
    "#,
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`] when `apply` is set; checks
/// that it is there otherwise. PostgreSQL's DDL is transactional, so all
/// pending steps and the version bump commit together or not at all.
pub(crate) fn migrate(client: &mut Client, apply: bool) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(pg_error)?;
    // "already exists, skipping" notices are not news on every start.
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_MIGRATE])
        .map_err(pg_error)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS telcdr_schema (version bigint NOT NULL)")
        .map_err(pg_error)?;
    let found: i64 = tx
        .query_opt("SELECT version FROM telcdr_schema", &[])
        .map_err(pg_error)?
        .map_or(0, |row| row.get(0));
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    if !apply {
        return Err(StoreError::Invalid(format!(
            "the PostgreSQL schema is at version {found} and this telcdr needs {SCHEMA_VERSION}; \
             start it once with postgres.migrate = true (the default) to upgrade it"
        )));
    }
    for step in MIGRATIONS.iter().skip(found.max(0) as usize) {
        tx.batch_execute(step).map_err(pg_error)?;
    }
    tx.execute("DELETE FROM telcdr_schema", &[])
        .map_err(pg_error)?;
    tx.execute(
        "INSERT INTO telcdr_schema (version) VALUES ($1)",
        &[&SCHEMA_VERSION],
    )
    .map_err(pg_error)?;
    tx.commit().map_err(pg_error)
}
