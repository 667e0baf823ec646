//! Accounts, keys and settings in PostgreSQL; the same rules as SQLite's
//! (see `Store::create_key`). Key changes run on the writer thread and take
//! an advisory lock, so two servers creating keys for one SdkAppId at once
//! cannot both make it a new account.

use std::collections::BTreeMap;

use super::{LOCK_KEYS, PgClient};
use crate::{ApiKey, KeyCreated, KeyInfo, StoreError};

pub(crate) fn create_key(
    client: &mut PgClient,
    sdk_app_ids: &[i64],
    secret_id: &str,
    secret_key: &str,
    now: i64,
) -> Result<KeyCreated, StoreError> {
    client.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEYS])?;
    let mut owners = Vec::with_capacity(sdk_app_ids.len());
    for &app in sdk_app_ids {
        let owner = client
            .query_opt(
                "SELECT account_id FROM account_app WHERE sdk_app_id = $1",
                &[&app],
            )?
            .map(|row| row.get::<_, i64>(0));
        owners.push((app, owner));
    }

    let (account_id, new_account) = match crate::rules::key_account(&owners)? {
        None => {
            let account_id: i64 = client
                .query_one(
                    "INSERT INTO account (created_at) VALUES ($1) RETURNING id",
                    &[&now],
                )?
                .get(0);
            for &app in sdk_app_ids {
                client.execute(
                    "INSERT INTO account_app (sdk_app_id, account_id) VALUES ($1, $2) \
                     ON CONFLICT (sdk_app_id) DO NOTHING",
                    &[&app, &account_id],
                )?;
            }
            (account_id, true)
        }
        Some(owner) => (owner, false),
    };

    let exists = client
        .query_opt("SELECT 1 FROM api_key WHERE secret_id = $1", &[&secret_id])?
        .is_some();
    if exists {
        return Err(StoreError::Invalid(format!(
            "SecretId {secret_id} already exists"
        )));
    }
    client.execute(
        "INSERT INTO api_key (secret_id, secret_key, account_id, enabled, created_at) \
         VALUES ($1, $2, $3, true, $4)",
        &[&secret_id, &secret_key, &account_id, &now],
    )?;
    Ok(KeyCreated {
        account_id,
        new_account,
    })
}

pub(crate) fn find_key(
    client: &mut PgClient,
    secret_id: &str,
) -> Result<Option<ApiKey>, StoreError> {
    let row = client.query_opt(
        "SELECT secret_id, secret_key, account_id, enabled, created_at FROM api_key \
         WHERE secret_id = $1",
        &[&secret_id],
    )?;
    Ok(row.map(|row| ApiKey {
        secret_id: row.get(0),
        secret_key: row.get(1),
        account_id: row.get(2),
        enabled: row.get(3),
        created_at: row.get(4),
    }))
}

pub(crate) fn list_keys(client: &mut PgClient) -> Result<Vec<KeyInfo>, StoreError> {
    let mut apps: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for row in client.query(
        "SELECT account_id, sdk_app_id FROM account_app ORDER BY account_id, sdk_app_id",
        &[],
    )? {
        apps.entry(row.get(0)).or_default().push(row.get(1));
    }
    let keys = client
        .query(
            "SELECT secret_id, account_id, enabled, created_at FROM api_key \
             ORDER BY created_at, seq",
            &[],
        )?
        .into_iter()
        .map(|row| {
            let account_id: i64 = row.get(1);
            KeyInfo {
                secret_id: row.get(0),
                account_id,
                sdk_app_ids: apps.get(&account_id).cloned().unwrap_or_default(),
                enabled: row.get(2),
                created_at: row.get(3),
            }
        })
        .collect();
    Ok(keys)
}

pub(crate) fn set_key_enabled(
    client: &mut PgClient,
    secret_id: &str,
    enabled: bool,
) -> Result<bool, StoreError> {
    let changed = client.execute(
        "UPDATE api_key SET enabled = $2 WHERE secret_id = $1",
        &[&secret_id, &enabled],
    )?;
    Ok(changed > 0)
}

pub(crate) fn setting(client: &mut PgClient, name: &str) -> Result<Option<String>, StoreError> {
    Ok(client
        .query_opt("SELECT value FROM setting WHERE name = $1", &[&name])?
        .map(|row| row.get(0)))
}

pub(crate) fn set_setting(
    client: &mut PgClient,
    name: &str,
    value: &str,
) -> Result<(), StoreError> {
    client.execute(
        "INSERT INTO setting (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&name, &value],
    )?;
    Ok(())
}
