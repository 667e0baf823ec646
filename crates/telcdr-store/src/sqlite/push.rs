//! The data push in SQLite: per-app push credentials, pushes applied once
//! per UUID together with their records, and the durable queue of media to
//! download. Writes run on the writer thread inside its group transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::media::mark_has_media;
use super::records::write_records;
use crate::rules::{push_auth_columns as auth_columns, push_auth_from as auth_from};
use crate::{
    Download, DownloadCounts, DownloadFile, NewDownload, NewRecord, PushAuth, PushOutcome,
    PushState, PushWrite, QueuedDownload, SeenPush, StoreError,
};

pub(crate) fn push_auth(
    conn: &Connection,
    sdk_app_id: i64,
) -> Result<Option<PushAuth>, StoreError> {
    let row: Option<(String, String, String)> = conn
        .prepare_cached(
            "SELECT push_auth, push_user, push_secret FROM app_setting WHERE sdk_app_id = ?1",
        )?
        .query_row([sdk_app_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(row.and_then(|(kind, user, secret)| auth_from(&kind, user, secret)))
}

pub(crate) fn set_push_auth(
    conn: &Connection,
    sdk_app_id: i64,
    auth: Option<&PushAuth>,
) -> Result<(), StoreError> {
    let (kind, user, secret) = auth_columns(auth);
    if let Some(PushAuth::OAuth2 { client_id, .. }) = auth {
        let taken: Option<i64> = conn
            .prepare_cached(
                "SELECT sdk_app_id FROM app_setting WHERE push_auth = 'oauth2' \
                 AND push_user = ?1 AND sdk_app_id <> ?2",
            )?
            .query_row(params![client_id, sdk_app_id], |r| r.get(0))
            .optional()?;
        if let Some(other) = taken {
            return Err(StoreError::Invalid(format!(
                "the OAuth 2.0 client id {client_id} already belongs to SdkAppId {other}"
            )));
        }
    }
    conn.prepare_cached(
        "INSERT INTO app_setting (sdk_app_id, push_auth, push_user, push_secret) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sdk_app_id) DO UPDATE SET \
         push_auth = excluded.push_auth, push_user = excluded.push_user, \
         push_secret = excluded.push_secret",
    )?
    .execute(params![sdk_app_id, kind, user, secret])?;
    Ok(())
}

pub(crate) fn push_client(
    conn: &Connection,
    client_id: &str,
) -> Result<Option<(i64, PushAuth)>, StoreError> {
    let row: Option<(i64, String, String)> = conn
        .prepare_cached(
            "SELECT sdk_app_id, push_user, push_secret FROM app_setting \
             WHERE push_auth = 'oauth2' AND push_user = ?1",
        )?
        .query_row([client_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(row.map(|(app, user, secret)| {
        (
            app,
            PushAuth::OAuth2 {
                client_id: user,
                secret_hash: secret,
            },
        )
    }))
}

pub(crate) fn apply_pushes(
    conn: &Connection,
    pushes: &[PushWrite],
) -> Result<Vec<PushOutcome>, StoreError> {
    let mut outcomes = Vec::with_capacity(pushes.len());
    let mut fresh = Vec::with_capacity(pushes.len());
    for push in pushes {
        if let Some(uuid) = &push.uuid {
            let inserted = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO push_seen (uuid, sdk_app_id, received_at) \
                     VALUES (?1, ?2, ?3)",
                )?
                .execute(params![uuid, push.sdk_app_id, push.received_at])?;
            if inserted == 0 {
                outcomes.push(PushOutcome::Duplicate);
                continue;
            }
        }
        outcomes.push(PushOutcome::Applied);
        fresh.push(push);
    }
    // One record batch for the whole group: buckets and look-ups amortised.
    let records: Vec<NewRecord> = fresh
        .iter()
        .flat_map(|p| p.records.iter().cloned())
        .collect();
    if !records.is_empty() {
        write_records(conn, &records)?;
    }
    for push in fresh {
        if let Some(download) = &push.download {
            queue_download(conn, push, download)?;
        }
    }
    Ok(outcomes)
}

fn queue_download(
    conn: &Connection,
    push: &PushWrite,
    download: &NewDownload,
) -> Result<(), StoreError> {
    let name = match &download.file {
        DownloadFile::Named(name) => name.clone(),
        DownloadFile::Voicemail { ext } => {
            let prefix = format!("{}.voicemail.", download.session_id);
            let n: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM download WHERE sdk_app_id = ?1 AND session_id = ?2 \
                     AND substr(name, 1, length(?3)) = ?3",
                )?
                .query_row(params![push.sdk_app_id, download.session_id, prefix], |r| {
                    r.get(0)
                })?;
            format!("{prefix}{n}.{ext}")
        }
    };
    conn.prepare_cached(
        "INSERT INTO download (sdk_app_id, session_id, name, url, next_at, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        push.sdk_app_id,
        download.session_id,
        name,
        download.url,
        push.received_at
    ])?;
    Ok(())
}

pub(crate) fn due_downloads(
    conn: &Connection,
    now: i64,
    limit: usize,
) -> Result<Vec<Download>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, sdk_app_id, session_id, name, url, attempts FROM download \
         WHERE state = 'pending' AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64], |r| {
        Ok(Download {
            id: r.get(0)?,
            sdk_app_id: r.get(1)?,
            session_id: r.get(2)?,
            name: r.get(3)?,
            url: r.get(4)?,
            attempts: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn finish_download(
    conn: &Connection,
    id: i64,
    object_key: &str,
    size: u64,
    now: i64,
) -> Result<(), StoreError> {
    let job: Option<(i64, String, String)> = conn
        .prepare_cached("SELECT sdk_app_id, session_id, name FROM download WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((app, session_id, name)) = job else {
        return Ok(());
    };
    let time: Option<i64> = conn
        .prepare_cached("SELECT time FROM cdr WHERE sdk_app_id = ?1 AND session_id = ?2")?
        .query_row(params![app, session_id], |r| r.get(0))
        .optional()?;
    match time {
        Some(time) => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO media (sdk_app_id, name, session_id, object_key, size, \
                 duration_ms, time) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
            )?
            .execute(params![
                app,
                name,
                session_id,
                object_key,
                size as i64,
                time
            ])?;
            mark_has_media(conn, app)?;
        }
        // The record has not come yet: the record writer links it.
        None => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO media_pending (name, object_key, size, duration_ms, \
                 created_at) VALUES (?1, ?2, ?3, 0, ?4)",
            )?
            .execute(params![name, object_key, size as i64, now])?;
        }
    }
    conn.prepare_cached(
        "UPDATE download SET state = 'done', attempts = attempts + 1, next_at = ?2, \
         last_error = '' WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    Ok(())
}

pub(crate) fn retry_download(
    conn: &Connection,
    id: i64,
    error: &str,
    next_at: Option<i64>,
) -> Result<(), StoreError> {
    match next_at {
        Some(at) => conn
            .prepare_cached(
                "UPDATE download SET attempts = attempts + 1, next_at = ?2, last_error = ?3 \
                 WHERE id = ?1",
            )?
            .execute(params![id, at, error])?,
        None => conn
            .prepare_cached(
                "UPDATE download SET attempts = attempts + 1, state = 'failed', last_error = ?2 \
                 WHERE id = ?1",
            )?
            .execute(params![id, error])?,
    };
    Ok(())
}

pub(crate) fn download_counts(conn: &Connection) -> Result<DownloadCounts, StoreError> {
    let mut counts = DownloadCounts::default();
    let mut stmt = conn.prepare_cached("SELECT state, count(*) FROM download GROUP BY state")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (state, n) = row?;
        match state.as_str() {
            "pending" => counts.pending = n as u64,
            "failed" => counts.failed = n as u64,
            _ => counts.done = n as u64,
        }
    }
    Ok(counts)
}

pub(crate) fn prune_push_history(conn: &Connection, before: i64) -> Result<u64, StoreError> {
    let seen = conn
        .prepare_cached("DELETE FROM push_seen WHERE received_at < ?1")?
        .execute([before])?;
    // Voicemail numbering counts a session's downloads; keep those.
    let done = conn
        .prepare_cached(
            "DELETE FROM download WHERE state = 'done' AND next_at < ?1 \
             AND name NOT LIKE '%.voicemail.%'",
        )?
        .execute([before])?;
    Ok((seen + done) as u64)
}

pub(crate) fn export_push_state(conn: &Connection) -> Result<PushState, StoreError> {
    let seen = conn
        .prepare("SELECT uuid, sdk_app_id, received_at FROM push_seen ORDER BY uuid")?
        .query_map([], |r| {
            Ok(SeenPush {
                uuid: r.get(0)?,
                sdk_app_id: r.get(1)?,
                received_at: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let downloads = conn
        .prepare(
            "SELECT sdk_app_id, session_id, name, url, attempts, next_at, last_error, state, \
             created_at FROM download ORDER BY id",
        )?
        .query_map([], |r| {
            Ok(QueuedDownload {
                sdk_app_id: r.get(0)?,
                session_id: r.get(1)?,
                name: r.get(2)?,
                url: r.get(3)?,
                attempts: r.get(4)?,
                next_at: r.get(5)?,
                last_error: r.get(6)?,
                state: r.get(7)?,
                created_at: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(PushState { seen, downloads })
}

/// Runs on the writer thread inside its transaction.
pub(crate) fn import_push_state(conn: &Connection, state: &PushState) -> Result<(), StoreError> {
    let mut seen = conn.prepare_cached(
        "INSERT OR IGNORE INTO push_seen (uuid, sdk_app_id, received_at) VALUES (?1, ?2, ?3)",
    )?;
    for push in &state.seen {
        seen.execute(params![push.uuid, push.sdk_app_id, push.received_at])?;
    }
    let mut queue = conn.prepare_cached(
        "INSERT INTO download (sdk_app_id, session_id, name, url, attempts, next_at, last_error, \
         state, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 \
         WHERE NOT EXISTS (SELECT 1 FROM download WHERE sdk_app_id = ?1 AND session_id = ?2 \
         AND name = ?3 AND url = ?4)",
    )?;
    for d in &state.downloads {
        queue.execute(params![
            d.sdk_app_id,
            d.session_id,
            d.name,
            d.url,
            d.attempts,
            d.next_at,
            d.last_error,
            d.state,
            d.created_at
        ])?;
    }
    Ok(())
}
