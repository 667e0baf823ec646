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

use super::LOCK_MIGRATE;
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
    -- Bodies are about 2 KiB of JSON. By default PostgreSQL compresses a
    -- row over 2 KiB, and decompressing 100 bodies was the largest cost of
    -- a page: rows stay in the table uncompressed up to a page's worth (a
    -- rare larger body is compressed, still in the row).
    ALTER TABLE cdr ALTER COLUMN body SET STORAGE MAIN;
    ALTER TABLE cdr SET (toast_tuple_target = 8160);
    CREATE INDEX cdr_by_time ON cdr (sdk_app_id, time DESC, session_id);
    -- The session id rides in the phone indexes so that a phone filter
    -- orders its matches from the indexes alone and reads only the page's
    -- rows.
    CREATE INDEX cdr_by_caller ON cdr (sdk_app_id, caller, time) INCLUDE (session_id);
    CREATE INDEX cdr_by_callee ON cdr (sdk_app_id, callee, time) INCLUDE (session_id);

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

    -- One page of the unfiltered window lo..hi, newest first, with the
    -- window's exact total on every row (one row with a NULL body when the
    -- page is empty): the data-dependent half of the store's bucket walk
    -- (window.rs), run inside the database so a page and its total cost one
    -- round trip. The caller passes the cut's reads (window::cut_reads:
    -- bucket ranges by level 1..3 = day, hour, slice, and exact-count
    -- ranges); this fetches them in one query, finds the segment holding
    -- row `off`, opens whole buckets down to a slice, and reads the page.
    -- STABLE: every query here reads the calling statement's snapshot, so
    -- the total matches the page.
    CREATE FUNCTION telcdr_window_page(
        app bigint, lo bigint, hi bigint, off bigint, lim bigint,
        levels int[], firsts bigint[], lasts bigint[], count_los bigint[], count_his bigint[])
    RETURNS TABLE (total bigint, body bytea)
    LANGUAGE plpgsql STABLE AS $fn$
    DECLARE
        spans CONSTANT bigint[] := ARRAY[86400, 3600, 300];
        t bigint := 0;
        before bigint := 0;
        seg record;
        hit_top bigint;
        hit_level int;
        hit_period bigint;
        found_hit boolean := false;
        ratio bigint;
    BEGIN
        FOR seg IN
            SELECT s.top, s.n, s.lvl, s.period FROM (
                -- An index range per read: the LATERAL subquery with
                -- OFFSET 0 is never flattened, because a generic plan would
                -- hash the whole bucket table of a big tenant instead.
                SELECT (b.start + 1) * b.span - 1 AS top, b.count AS n, r.lvl, b.start AS period
                FROM unnest(levels, firsts, lasts) AS r (lvl, first_period, last_period)
                CROSS JOIN LATERAL (
                    SELECT * FROM cdr_bucket x WHERE x.sdk_app_id = app
                        AND x.span = spans[r.lvl]
                        AND x.start BETWEEN r.first_period AND r.last_period
                    OFFSET 0
                    ) b
                UNION ALL
                SELECT r.count_hi, (SELECT count(*) FROM cdr c WHERE c.sdk_app_id = app
                    AND c.time BETWEEN r.count_lo AND r.count_hi), 0, 0::bigint
                FROM unnest(count_los, count_his) AS r (count_lo, count_hi)
            ) s
            ORDER BY s.top DESC
        LOOP
            IF NOT found_hit AND off < before + seg.n THEN
                found_hit := true;
                hit_top := seg.top;
                hit_level := seg.lvl;
                hit_period := seg.period;
            ELSIF NOT found_hit THEN
                before := before + seg.n;
            END IF;
            t := t + seg.n;
        END LOOP;
        -- Open whole buckets into their finer buckets down to a slice.
        WHILE found_hit AND hit_level BETWEEN 1 AND 2 LOOP
            ratio := spans[hit_level] / spans[hit_level + 1];
            found_hit := false;
            FOR seg IN SELECT b.start, b.count FROM cdr_bucket b
                    WHERE b.sdk_app_id = app AND b.span = spans[hit_level + 1]
                    AND b.start BETWEEN hit_period * ratio AND (hit_period + 1) * ratio - 1
                    ORDER BY b.start DESC LOOP
                IF off < before + seg.count THEN
                    found_hit := true;
                    hit_top := (seg.start + 1) * spans[hit_level + 1] - 1;
                    hit_period := seg.start;
                    EXIT;
                END IF;
                before := before + seg.count;
            END LOOP;
            hit_level := hit_level + 1;
        END LOOP;
        IF found_hit AND lim > 0 AND off - before <= 32 THEN
            RETURN QUERY SELECT t, c.body FROM cdr c
                WHERE c.sdk_app_id = app AND c.time BETWEEN lo AND least(hit_top, hi)
                ORDER BY c.time DESC, c.session_id ASC
                LIMIT lim OFFSET off - before;
            IF FOUND THEN
                RETURN;
            END IF;
        ELSIF found_hit AND lim > 0 THEN
            -- Deeper into the slice: skip rows in the time index alone
            -- (index-only), then read the page's rows by key; OFFSET on
            -- the table would read every skipped row.
            RETURN QUERY SELECT t, c.body
                FROM (SELECT x.time, x.session_id FROM cdr x
                      WHERE x.sdk_app_id = app AND x.time BETWEEN lo AND least(hit_top, hi)
                      ORDER BY x.time DESC, x.session_id ASC
                      LIMIT lim OFFSET off - before) p
                JOIN cdr c ON c.sdk_app_id = app AND c.session_id = p.session_id
                ORDER BY p.time DESC, p.session_id ASC;
            IF FOUND THEN
                RETURN;
            END IF;
        END IF;
        RETURN QUERY SELECT t, NULL::bytea;
    END
    $fn$;
    "#,
    // 2: media telcdr holds, media waiting for their record, per-app
    // settings, session events (see SQLite's migration 2 for the columns).
    r#"
    CREATE TABLE media (
        sdk_app_id  bigint NOT NULL,
        name        text   COLLATE "C" NOT NULL,
        session_id  text   COLLATE "C" NOT NULL,
        object_key  text   NOT NULL,
        size        bigint NOT NULL,
        duration_ms bigint NOT NULL,
        time        bigint NOT NULL,
        PRIMARY KEY (sdk_app_id, name)
    );
    CREATE INDEX media_by_session ON media (sdk_app_id, session_id);
    CREATE INDEX media_by_time ON media (sdk_app_id, time);
    CREATE INDEX media_by_key ON media (object_key);
    CREATE TABLE media_pending (
        name        text   COLLATE "C" PRIMARY KEY,
        object_key  text   NOT NULL,
        size        bigint NOT NULL,
        duration_ms bigint NOT NULL,
        created_at  bigint NOT NULL
    );
    CREATE TABLE app_setting (
        sdk_app_id            bigint  PRIMARY KEY,
        number_protection     boolean NOT NULL DEFAULT false,
        record_retention_days bigint  NOT NULL DEFAULT 0,
        media_retention_days  bigint  NOT NULL DEFAULT 0,
        has_media             boolean NOT NULL DEFAULT false,
        push_auth             text    COLLATE "C" NOT NULL DEFAULT '',
        push_user             text    COLLATE "C" NOT NULL DEFAULT '',
        push_secret           text    NOT NULL DEFAULT ''
    );
    CREATE UNIQUE INDEX app_setting_by_push_client ON app_setting (push_user)
        WHERE push_auth = 'oauth2';
    CREATE TABLE push_seen (
        uuid        text   COLLATE "C" PRIMARY KEY,
        sdk_app_id  bigint NOT NULL,
        received_at bigint NOT NULL
    );
    CREATE INDEX push_seen_by_time ON push_seen (received_at);
    CREATE TABLE download (
        id          bigserial PRIMARY KEY,
        sdk_app_id  bigint NOT NULL,
        session_id  text   COLLATE "C" NOT NULL,
        name        text   COLLATE "C" NOT NULL,
        url         text   NOT NULL,
        attempts    bigint NOT NULL DEFAULT 0,
        next_at     bigint NOT NULL,
        last_error  text   NOT NULL DEFAULT '',
        state       text   NOT NULL DEFAULT 'pending',
        created_at  bigint NOT NULL
    );
    CREATE INDEX download_due ON download (state, next_at);
    CREATE INDEX download_by_session ON download (sdk_app_id, session_id);
    CREATE TABLE cdr_events (
        sdk_app_id bigint NOT NULL,
        session_id text   COLLATE "C" NOT NULL,
        events     bytea  NOT NULL,
        PRIMARY KEY (sdk_app_id, session_id)
    );
    "#,
    // 3: counts of busy numbers, so that a phone filter's exact total does
    // not walk every call of a number that makes thousands (see phones.rs).
    r#"
    -- Numbers a filter found with many calls in its window; from then on
    -- every record write keeps their buckets.
    CREATE TABLE cdr_busy_phone (
        sdk_app_id bigint NOT NULL,
        phone      text   COLLATE "C" NOT NULL,
        PRIMARY KEY (sdk_app_id, phone)
    );
    -- A busy number's records per period, at the spans of cdr_bucket; side
    -- 0 counts the records it is the caller of, side 1 the callee of.
    CREATE TABLE cdr_phone_bucket (
        sdk_app_id bigint   NOT NULL,
        phone      text     COLLATE "C" NOT NULL,
        side       smallint NOT NULL,
        span       bigint   NOT NULL,
        start      bigint   NOT NULL,
        count      bigint   NOT NULL,
        PRIMARY KEY (sdk_app_id, phone, side, span, start)
    );
    -- Records whose caller and callee are both among a filter's numbers
    -- (counted once by each side): a range per pair of numbers.
    CREATE INDEX cdr_by_pair ON cdr (sdk_app_id, caller, callee, time);
    "#,
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`] when `apply` is set; checks
/// that it is there otherwise. PostgreSQL's DDL is transactional, so all
/// pending steps and the version bump commit together or not at all.
pub(crate) fn migrate(client: &mut Client, apply: bool) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    // "already exists, skipping" notices are not news on every start.
    tx.batch_execute("SET LOCAL client_min_messages = warning")?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_MIGRATE])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS telcdr_schema (version bigint NOT NULL)")?;
    let found: i64 = tx
        .query_opt("SELECT version FROM telcdr_schema", &[])?
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
        tx.batch_execute(step)?;
    }
    tx.execute("DELETE FROM telcdr_schema", &[])?;
    tx.execute(
        "INSERT INTO telcdr_schema (version) VALUES ($1)",
        &[&SCHEMA_VERSION],
    )?;
    Ok(tx.commit()?)
}
