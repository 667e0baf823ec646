//! Accounts, the SdkAppIds they own, their API keys, and server settings.
//!
//! Writes here run on the writer connection (inside a group transaction),
//! reads on a reader connection.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::{ApiKey, KeyCreated, KeyInfo, StoreError};

/// Creates a key for the account owning `sdk_app_ids` (see
/// `Store::create_key`). `sdk_app_ids` is non-empty; the caller checks.
pub(crate) fn create_key(
    conn: &Connection,
    sdk_app_ids: &[i64],
    secret_id: &str,
    secret_key: &str,
    now: i64,
) -> Result<KeyCreated, StoreError> {
    let mut owner_of =
        conn.prepare_cached("SELECT account_id FROM account_app WHERE sdk_app_id = ?1")?;
    let mut owners = Vec::with_capacity(sdk_app_ids.len());
    for &app in sdk_app_ids {
        owners.push((
            app,
            owner_of
                .query_row([app], |row| row.get::<_, i64>(0))
                .optional()?,
        ));
    }

    let (account_id, new_account) = match crate::rules::key_account(&owners)? {
        None => {
            conn.prepare_cached("INSERT INTO account (created_at) VALUES (?1)")?
                .execute([now])?;
            let account_id = conn.last_insert_rowid();
            let mut claim = conn.prepare_cached(
                "INSERT OR IGNORE INTO account_app (sdk_app_id, account_id) VALUES (?1, ?2)",
            )?;
            for &app in sdk_app_ids {
                claim.execute([app, account_id])?;
            }
            (account_id, true)
        }
        Some(owner) => (owner, false),
    };

    let exists = conn
        .prepare_cached("SELECT 1 FROM api_key WHERE secret_id = ?1")?
        .query_row([secret_id], |_| Ok(()))
        .optional()?
        .is_some();
    if exists {
        return Err(StoreError::Invalid(format!(
            "SecretId {secret_id} already exists"
        )));
    }
    conn.prepare_cached(
        "INSERT INTO api_key (secret_id, secret_key, account_id, enabled, created_at) \
         VALUES (?1, ?2, ?3, 1, ?4)",
    )?
    .execute(params![secret_id, secret_key, account_id, now])?;
    Ok(KeyCreated {
        account_id,
        new_account,
    })
}

pub(crate) fn find_key(conn: &Connection, secret_id: &str) -> Result<Option<ApiKey>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT secret_id, secret_key, account_id, enabled, created_at FROM api_key \
         WHERE secret_id = ?1",
    )?;
    let key = stmt
        .query_row([secret_id], |row| {
            Ok(ApiKey {
                secret_id: row.get(0)?,
                secret_key: row.get(1)?,
                account_id: row.get(2)?,
                enabled: row.get(3)?,
                created_at: row.get(4)?,
            })
        })
        .optional()?;
    Ok(key)
}

/// Every key, oldest first (ties in creation order), each with its account's
/// SdkAppIds in ascending order.
pub(crate) fn list_keys(conn: &Connection) -> Result<Vec<KeyInfo>, StoreError> {
    let mut apps: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT account_id, sdk_app_id FROM account_app ORDER BY account_id, sdk_app_id",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?;
    for row in rows {
        let (account, app) = row?;
        apps.entry(account).or_default().push(app);
    }

    let mut stmt = conn.prepare_cached(
        "SELECT secret_id, account_id, enabled, created_at FROM api_key ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(KeyInfo {
            secret_id: row.get(0)?,
            account_id: row.get(1)?,
            sdk_app_ids: Vec::new(),
            enabled: row.get(2)?,
            created_at: row.get(3)?,
        })
    })?;
    let mut keys = Vec::new();
    for row in rows {
        let mut key = row?;
        key.sdk_app_ids = apps.get(&key.account_id).cloned().unwrap_or_default();
        keys.push(key);
    }
    Ok(keys)
}

pub(crate) fn set_key_enabled(
    conn: &Connection,
    secret_id: &str,
    enabled: bool,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached("UPDATE api_key SET enabled = ?2 WHERE secret_id = ?1")?
        .execute(params![secret_id, enabled])?;
    Ok(changed > 0)
}

pub(crate) fn setting(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT value FROM setting WHERE name = ?1")?;
    Ok(stmt.query_row([name], |row| row.get(0)).optional()?)
}

pub(crate) fn set_setting(conn: &Connection, name: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO setting (name, value) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?
    .execute([name, value])?;
    Ok(())
}
