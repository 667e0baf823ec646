//! The data push in PostgreSQL, with the same meaning as SQLite's `push`
//! module: push credentials, pushes applied once per UUID with their
//! records, and the durable download queue.

use postgres::Row;

use super::PgClient;
use super::media::mark_has_media;
use super::records::write_records;
use crate::rules::{push_auth_columns as auth_columns, push_auth_from as auth_from};
use crate::{
    Download, DownloadCounts, DownloadFile, NewDownload, NewRecord, PushAuth, PushOutcome,
    PushState, PushWrite, QueuedDownload, SeenPush, StoreError,
};

pub(crate) fn push_auth(
    client: &mut PgClient,
    sdk_app_id: i64,
) -> Result<Option<PushAuth>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT push_auth, push_user, push_secret FROM app_setting WHERE sdk_app_id = $1",
            &[&sdk_app_id],
        )?
        .and_then(|r| auth_from(r.get::<_, &str>(0), r.get(1), r.get(2))))
}

pub(crate) fn set_push_auth(
    client: &mut PgClient,
    sdk_app_id: i64,
    auth: Option<&PushAuth>,
) -> Result<(), StoreError> {
    let (kind, user, secret) = auth_columns(auth);
    if let Some(PushAuth::OAuth2 { client_id, .. }) = auth {
        let taken = client.query_opt(
            "SELECT sdk_app_id FROM app_setting WHERE push_auth = 'oauth2' \
             AND push_user = $1 AND sdk_app_id <> $2",
            &[client_id, &sdk_app_id],
        )?;
        if let Some(row) = taken {
            return Err(StoreError::Invalid(format!(
                "the OAuth 2.0 client id {client_id} already belongs to SdkAppId {}",
                row.get::<_, i64>(0)
            )));
        }
    }
    client.execute(
        "INSERT INTO app_setting (sdk_app_id, push_auth, push_user, push_secret) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (sdk_app_id) DO UPDATE SET \
         push_auth = excluded.push_auth, push_user = excluded.push_user, \
         push_secret = excluded.push_secret",
        &[&sdk_app_id, &kind, &user, &secret],
    )?;
    Ok(())
}

pub(crate) fn push_client(
    client: &mut PgClient,
    client_id: &str,
) -> Result<Option<(i64, PushAuth)>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT sdk_app_id, push_user, push_secret FROM app_setting \
             WHERE push_auth = 'oauth2' AND push_user = $1",
            &[&client_id],
        )?
        .map(|r| {
            (
                r.get(0),
                PushAuth::OAuth2 {
                    client_id: r.get(1),
                    secret_hash: r.get(2),
                },
            )
        }))
}

pub(crate) fn apply_pushes(
    client: &mut PgClient,
    pushes: &[PushWrite],
) -> Result<Vec<PushOutcome>, StoreError> {
    // Every UUID of the group in one statement; those it inserted are new.
    let (mut uuids, mut apps, mut times) = (Vec::new(), Vec::new(), Vec::new());
    for p in pushes {
        if let Some(uuid) = &p.uuid {
            uuids.push(uuid.as_str());
            apps.push(p.sdk_app_id);
            times.push(p.received_at);
        }
    }
    let mut inserted: std::collections::HashSet<String> = if uuids.is_empty() {
        Default::default()
    } else {
        client
            .query(
                "INSERT INTO push_seen (uuid, sdk_app_id, received_at) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) \
                 ON CONFLICT (uuid) DO NOTHING RETURNING uuid",
                &[&uuids, &apps, &times],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let mut outcomes = Vec::with_capacity(pushes.len());
    let mut fresh = Vec::with_capacity(pushes.len());
    for p in pushes {
        // A UUID counts once: the first push that carries it, if it is new.
        let new = p.uuid.as_ref().is_none_or(|u| inserted.remove(u));
        if new {
            outcomes.push(PushOutcome::Applied);
            fresh.push(p);
        } else {
            outcomes.push(PushOutcome::Duplicate);
        }
    }
    let records: Vec<NewRecord> = fresh
        .iter()
        .flat_map(|p| p.records.iter().cloned())
        .collect();
    if !records.is_empty() {
        write_records(client, &records)?;
    }
    for push in fresh {
        if let Some(download) = &push.download {
            queue_download(client, push, download)?;
        }
    }
    Ok(outcomes)
}

fn queue_download(
    client: &mut PgClient,
    push: &PushWrite,
    download: &NewDownload,
) -> Result<(), StoreError> {
    let name = match &download.file {
        DownloadFile::Named(name) => name.clone(),
        DownloadFile::Voicemail { ext } => {
            // Numbering must not race another process's voicemail of the
            // same session: the records lock serialises writers.
            client.execute("SELECT pg_advisory_xact_lock($1)", &[&super::LOCK_RECORDS])?;
            let prefix = format!("{}.voicemail.", download.session_id);
            let n: i64 = client
                .query_one(
                    "SELECT count(*) FROM download WHERE sdk_app_id = $1 AND session_id = $2 \
                     AND starts_with(name, $3)",
                    &[&push.sdk_app_id, &download.session_id, &prefix],
                )?
                .get(0);
            format!("{prefix}{n}.{ext}")
        }
    };
    client.execute(
        "INSERT INTO download (sdk_app_id, session_id, name, url, next_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
        &[
            &push.sdk_app_id,
            &download.session_id,
            &name,
            &download.url,
            &push.received_at,
        ],
    )?;
    Ok(())
}

fn download_row(r: &Row) -> Download {
    Download {
        id: r.get(0),
        sdk_app_id: r.get(1),
        session_id: r.get(2),
        name: r.get(3),
        url: r.get(4),
        attempts: u32::try_from(r.get::<_, i64>(5)).unwrap_or(u32::MAX),
    }
}

pub(crate) fn due_downloads(
    client: &mut PgClient,
    now: i64,
    limit: usize,
) -> Result<Vec<Download>, StoreError> {
    Ok(client
        .query(
            "SELECT id, sdk_app_id, session_id, name, url, attempts FROM download \
             WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
            &[&now, &(limit as i64)],
        )?
        .iter()
        .map(download_row)
        .collect())
}

pub(crate) fn finish_download(
    client: &mut PgClient,
    id: i64,
    object_key: &str,
    size: u64,
    now: i64,
) -> Result<(), StoreError> {
    // Under the records lock, the record cannot arrive between the look-up
    // and the insert (its writer would then miss the pending row).
    client.execute("SELECT pg_advisory_xact_lock($1)", &[&super::LOCK_RECORDS])?;
    let Some(job) = client.query_opt(
        "SELECT sdk_app_id, session_id, name FROM download WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(());
    };
    let (app, session_id, name): (i64, String, String) = (job.get(0), job.get(1), job.get(2));
    let size = size as i64;
    let time = client
        .query_opt(
            "SELECT time FROM cdr WHERE sdk_app_id = $1 AND session_id = $2",
            &[&app, &session_id],
        )?
        .map(|r| r.get::<_, i64>(0));
    match time {
        Some(time) => {
            client.execute(
                "INSERT INTO media (sdk_app_id, name, session_id, object_key, size, duration_ms, \
                 time) VALUES ($1, $2, $3, $4, $5, 0, $6) \
                 ON CONFLICT (sdk_app_id, name) DO UPDATE SET session_id = excluded.session_id, \
                 object_key = excluded.object_key, size = excluded.size, \
                 duration_ms = excluded.duration_ms, time = excluded.time",
                &[&app, &name, &session_id, &object_key, &size, &time],
            )?;
            mark_has_media(client, app)?;
        }
        None => {
            client.execute(
                "INSERT INTO media_pending (name, object_key, size, duration_ms, created_at) \
                 VALUES ($1, $2, $3, 0, $4) ON CONFLICT (name) DO UPDATE SET \
                 object_key = excluded.object_key, size = excluded.size, \
                 duration_ms = excluded.duration_ms, created_at = excluded.created_at",
                &[&name, &object_key, &size, &now],
            )?;
        }
    }
    client.execute(
        "UPDATE download SET state = 'done', attempts = attempts + 1, next_at = $2, \
         last_error = '' WHERE id = $1",
        &[&id, &now],
    )?;
    Ok(())
}

pub(crate) fn retry_download(
    client: &mut PgClient,
    id: i64,
    error: &str,
    next_at: Option<i64>,
) -> Result<(), StoreError> {
    match next_at {
        Some(at) => client.execute(
            "UPDATE download SET attempts = attempts + 1, next_at = $2, last_error = $3 \
             WHERE id = $1",
            &[&id, &at, &error],
        )?,
        None => client.execute(
            "UPDATE download SET attempts = attempts + 1, state = 'failed', last_error = $2 \
             WHERE id = $1",
            &[&id, &error],
        )?,
    };
    Ok(())
}

pub(crate) fn download_counts(client: &mut PgClient) -> Result<DownloadCounts, StoreError> {
    let mut counts = DownloadCounts::default();
    for row in client.query("SELECT state, count(*) FROM download GROUP BY state", &[])? {
        let n = row.get::<_, i64>(1) as u64;
        match row.get::<_, &str>(0) {
            "pending" => counts.pending = n,
            "failed" => counts.failed = n,
            _ => counts.done = n,
        }
    }
    Ok(counts)
}

pub(crate) fn prune_push_history(client: &mut PgClient, before: i64) -> Result<u64, StoreError> {
    let seen = client.execute("DELETE FROM push_seen WHERE received_at < $1", &[&before])?;
    let done = client.execute(
        "DELETE FROM download WHERE state = 'done' AND next_at < $1 \
         AND name NOT LIKE '%.voicemail.%'",
        &[&before],
    )?;
    Ok(seen + done)
}

pub(crate) fn export_push_state(client: &mut PgClient) -> Result<PushState, StoreError> {
    let seen = client
        .query(
            "SELECT uuid, sdk_app_id, received_at FROM push_seen ORDER BY uuid",
            &[],
        )?
        .iter()
        .map(|r| SeenPush {
            uuid: r.get(0),
            sdk_app_id: r.get(1),
            received_at: r.get(2),
        })
        .collect();
    let downloads = client
        .query(
            "SELECT sdk_app_id, session_id, name, url, attempts, next_at, last_error, state, \
             created_at FROM download ORDER BY id",
            &[],
        )?
        .iter()
        .map(|r| QueuedDownload {
            sdk_app_id: r.get(0),
            session_id: r.get(1),
            name: r.get(2),
            url: r.get(3),
            attempts: r.get(4),
            next_at: r.get(5),
            last_error: r.get(6),
            state: r.get(7),
            created_at: r.get(8),
        })
        .collect();
    Ok(PushState { seen, downloads })
}

/// Runs on the writer thread inside its transaction.
pub(crate) fn import_push_state(
    client: &mut PgClient,
    state: &PushState,
) -> Result<(), StoreError> {
    for push in &state.seen {
        client.execute(
            "INSERT INTO push_seen (uuid, sdk_app_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (uuid) DO NOTHING",
            &[&push.uuid, &push.sdk_app_id, &push.received_at],
        )?;
    }
    for d in &state.downloads {
        client.execute(
            "INSERT INTO download (sdk_app_id, session_id, name, url, attempts, next_at, \
             last_error, state, created_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
             WHERE NOT EXISTS (SELECT 1 FROM download WHERE sdk_app_id = $1 AND session_id = $2 \
             AND name = $3 AND url = $4)",
            &[
                &d.sdk_app_id,
                &d.session_id,
                &d.name,
                &d.url,
                &d.attempts,
                &d.next_at,
                &d.last_error,
                &d.state,
                &d.created_at,
            ],
        )?;
    }
    Ok(())
}
