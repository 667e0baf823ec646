//! Copying a PostgreSQL store out and in (`telcdr migrate`): accounts, keys
//! and settings as a whole, records in key order, counts per SdkAppId. The
//! same rules as SQLite's (see `Store::import_meta`).

use super::{LOCK_KEYS, PgClient};
use crate::rules::{copy_app, copy_key};
use crate::{AccountRecord, ApiKey, NewRecord, RecordKey, StoreError, StoreMeta};

pub(crate) fn export_meta(client: &mut PgClient) -> Result<StoreMeta, StoreError> {
    let mut accounts: Vec<AccountRecord> = client
        .query("SELECT id, created_at FROM account ORDER BY id", &[])?
        .iter()
        .map(|row| AccountRecord {
            id: row.get(0),
            created_at: row.get(1),
            sdk_app_ids: Vec::new(),
        })
        .collect();
    for row in client.query(
        "SELECT account_id, sdk_app_id FROM account_app ORDER BY 1, 2",
        &[],
    )? {
        let account: i64 = row.get(0);
        if let Some(a) = accounts.iter_mut().find(|a| a.id == account) {
            a.sdk_app_ids.push(row.get(1));
        }
    }
    let keys = client
        .query(
            "SELECT secret_id, secret_key, account_id, enabled, created_at FROM api_key \
             ORDER BY created_at, seq",
            &[],
        )?
        .iter()
        .map(|row| ApiKey {
            secret_id: row.get(0),
            secret_key: row.get(1),
            account_id: row.get(2),
            enabled: row.get(3),
            created_at: row.get(4),
        })
        .collect();
    let settings = client
        .query("SELECT name, value FROM setting ORDER BY name", &[])?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    Ok(StoreMeta {
        accounts,
        keys,
        settings,
    })
}

/// Runs on the writer thread inside its transaction; an error rolls it all
/// back.
pub(crate) fn import_meta(client: &mut PgClient, meta: &StoreMeta) -> Result<(), StoreError> {
    client.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEYS])?;
    for account in &meta.accounts {
        client.execute(
            "INSERT INTO account (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            &[&account.id, &account.created_at],
        )?;
        for app in &account.sdk_app_ids {
            let owner = client
                .query_opt(
                    "SELECT account_id FROM account_app WHERE sdk_app_id = $1",
                    &[app],
                )?
                .map(|row| row.get::<_, i64>(0));
            if copy_app(*app, account.id, owner)? {
                client.execute(
                    "INSERT INTO account_app (sdk_app_id, account_id) VALUES ($1, $2)",
                    &[app, &account.id],
                )?;
            }
        }
    }
    // Accounts created later must not reuse the copied ids.
    client.execute(
        "SELECT setval(pg_get_serial_sequence('account', 'id'), \
         greatest((SELECT max(id) FROM account), 1))",
        &[],
    )?;
    for key in &meta.keys {
        let existing = client
            .query_opt(
                "SELECT secret_key, account_id FROM api_key WHERE secret_id = $1",
                &[&key.secret_id],
            )?
            .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)));
        if copy_key(key, existing)? {
            client.execute(
                "INSERT INTO api_key (secret_id, secret_key, account_id, enabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &key.secret_id,
                    &key.secret_key,
                    &key.account_id,
                    &key.enabled,
                    &key.created_at,
                ],
            )?;
        } else {
            client.execute(
                "UPDATE api_key SET enabled = $2 WHERE secret_id = $1",
                &[&key.secret_id, &key.enabled],
            )?;
        }
    }
    for (name, value) in &meta.settings {
        super::keys::set_setting(client, name, value)?;
    }
    Ok(())
}

pub(crate) fn scan_records(
    client: &mut PgClient,
    after: Option<&RecordKey>,
    limit: usize,
) -> Result<Vec<NewRecord>, StoreError> {
    let limit = limit as i64;
    let columns = "c.sdk_app_id, c.session_id, c.time, c.caller, c.callee, c.direction, \
                   c.end_status, c.seat_mail, c.skill_group_id, c.body, e.events";
    let from = "cdr c LEFT JOIN cdr_events e USING (sdk_app_id, session_id)";
    let rows = match after {
        Some((app, session)) => client.query(
            &format!(
                "SELECT {columns} FROM {from} WHERE (c.sdk_app_id, c.session_id) > ($1, $2) \
                 ORDER BY c.sdk_app_id, c.session_id LIMIT $3"
            ),
            &[app, session, &limit],
        )?,
        None => client.query(
            &format!("SELECT {columns} FROM {from} ORDER BY c.sdk_app_id, c.session_id LIMIT $1"),
            &[&limit],
        )?,
    };
    Ok(rows
        .iter()
        .map(|row| NewRecord {
            sdk_app_id: row.get(0),
            session_id: row.get(1),
            time: row.get(2),
            caller: row.get(3),
            callee: row.get(4),
            direction: row.get(5),
            end_status: row.get(6),
            seat_mail: row.get(7),
            skill_group_id: row.get(8),
            body: row.get(9),
            events: row.get(10),
            media_refs: Vec::new(),
        })
        .collect())
}

pub(crate) fn counts_by_app(client: &mut PgClient) -> Result<Vec<(i64, u64)>, StoreError> {
    Ok(client
        .query(
            "SELECT sdk_app_id, sum(count)::bigint FROM cdr_bucket WHERE span = 86400 \
             GROUP BY sdk_app_id HAVING sum(count) > 0 ORDER BY sdk_app_id",
            &[],
        )?
        .iter()
        .map(|row| (row.get(0), row.get::<_, i64>(1) as u64))
        .collect())
}
