//! Copying a SQLite store out and in (`telcdr migrate`): accounts, keys and
//! settings as a whole, records in key order, counts per SdkAppId.

use rusqlite::{Connection, OptionalExtension, params};

use crate::rules::{copy_app, copy_key};
use crate::{AccountRecord, ApiKey, NewRecord, RecordKey, StoreError, StoreMeta};

pub(crate) fn export_meta(conn: &Connection) -> Result<StoreMeta, StoreError> {
    let mut accounts: Vec<AccountRecord> = conn
        .prepare("SELECT id, created_at FROM account ORDER BY id")?
        .query_map([], |row| {
            Ok(AccountRecord {
                id: row.get(0)?,
                created_at: row.get(1)?,
                sdk_app_ids: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut apps = conn.prepare("SELECT account_id, sdk_app_id FROM account_app ORDER BY 1, 2")?;
    for row in apps.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))? {
        let (account, app) = row?;
        if let Some(a) = accounts.iter_mut().find(|a| a.id == account) {
            a.sdk_app_ids.push(app);
        }
    }
    let keys = conn
        .prepare(
            "SELECT secret_id, secret_key, account_id, enabled, created_at FROM api_key \
             ORDER BY created_at, rowid",
        )?
        .query_map([], |row| {
            Ok(ApiKey {
                secret_id: row.get(0)?,
                secret_key: row.get(1)?,
                account_id: row.get(2)?,
                enabled: row.get(3)?,
                created_at: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let settings = conn
        .prepare("SELECT name, value FROM setting ORDER BY name")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(StoreMeta {
        accounts,
        keys,
        settings,
    })
}

/// Runs on the writer thread inside its transaction; an error rolls it all
/// back.
pub(crate) fn import_meta(conn: &Connection, meta: &StoreMeta) -> Result<(), StoreError> {
    for account in &meta.accounts {
        conn.prepare_cached("INSERT OR IGNORE INTO account (id, created_at) VALUES (?1, ?2)")?
            .execute([account.id, account.created_at])?;
        for &app in &account.sdk_app_ids {
            let owner: Option<i64> = conn
                .prepare_cached("SELECT account_id FROM account_app WHERE sdk_app_id = ?1")?
                .query_row([app], |row| row.get(0))
                .optional()?;
            if copy_app(app, account.id, owner)? {
                conn.prepare_cached(
                    "INSERT INTO account_app (sdk_app_id, account_id) VALUES (?1, ?2)",
                )?
                .execute([app, account.id])?;
            }
        }
    }
    for key in &meta.keys {
        let existing: Option<(String, i64)> = conn
            .prepare_cached("SELECT secret_key, account_id FROM api_key WHERE secret_id = ?1")?
            .query_row([&key.secret_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        if copy_key(key, existing)? {
            conn.prepare_cached(
                "INSERT INTO api_key (secret_id, secret_key, account_id, enabled, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                key.secret_id,
                key.secret_key,
                key.account_id,
                key.enabled,
                key.created_at
            ])?;
        } else {
            conn.prepare_cached("UPDATE api_key SET enabled = ?2 WHERE secret_id = ?1")?
                .execute(params![key.secret_id, key.enabled])?;
        }
    }
    for (name, value) in &meta.settings {
        super::keys::set_setting(conn, name, value)?;
    }
    Ok(())
}

pub(crate) fn scan_records(
    conn: &Connection,
    after: Option<&RecordKey>,
    limit: usize,
) -> Result<Vec<NewRecord>, StoreError> {
    // (sdk_app_id, session_id) > (a, s), spelled out for the unique index.
    let (app, session) = match after {
        Some((app, session)) => (*app, session.as_str()),
        None => (i64::MIN, ""),
    };
    let inclusive_start = after.is_none();
    let mut stmt = conn.prepare_cached(
        "SELECT c.sdk_app_id, c.session_id, c.time, c.caller, c.callee, c.direction, \
         c.end_status, c.seat_mail, c.skill_group_id, c.body, e.events FROM cdr c \
         LEFT JOIN cdr_events e USING (sdk_app_id, session_id) \
         WHERE c.sdk_app_id > ?1 OR (c.sdk_app_id = ?1 AND (c.session_id > ?2 OR (?3 AND c.session_id = ?2))) \
         ORDER BY c.sdk_app_id, c.session_id LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![app, session, inclusive_start, limit as i64],
        |row| {
            Ok(NewRecord {
                sdk_app_id: row.get(0)?,
                session_id: row.get(1)?,
                time: row.get(2)?,
                caller: row.get(3)?,
                callee: row.get(4)?,
                direction: row.get(5)?,
                end_status: row.get(6)?,
                seat_mail: row.get(7)?,
                skill_group_id: row.get(8)?,
                body: row.get(9)?,
                events: row.get(10)?,
                media_refs: Vec::new(),
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn counts_by_app(conn: &Connection) -> Result<Vec<(i64, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT sdk_app_id, sum(count) FROM cdr_bucket WHERE span = 86400 \
         GROUP BY sdk_app_id HAVING sum(count) > 0 ORDER BY sdk_app_id",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
