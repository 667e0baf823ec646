//! Media rows, per-app settings, single records and deletions in
//! PostgreSQL, with the same meaning as SQLite's `media` module. Writes run
//! on the writer thread inside its group transaction.

use postgres::Row;

use super::PgClient;
use super::phones::{BusyPhones, PhoneDeltas, bump_phone_buckets};
use super::records::bump_buckets;
use crate::window::BucketDeltas;
use crate::{
    AppSettings, AppView, MediaObject, PendingMedia, StoreError, StoredRecord, WindowRecord,
};

const MEDIA_COLUMNS: &str = "sdk_app_id, name, session_id, object_key, size, duration_ms, time";

fn media_row(row: &Row) -> MediaObject {
    MediaObject {
        sdk_app_id: row.get(0),
        name: row.get(1),
        session_id: row.get(2),
        object_key: row.get(3),
        size: row.get::<_, i64>(4) as u64,
        duration_ms: row.get(5),
        time: row.get(6),
    }
}

fn days(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn settings_row(row: &Row, from: usize) -> AppSettings {
    AppSettings {
        number_protection: row.get(from),
        record_retention_days: days(row.get(from + 1)),
        media_retention_days: days(row.get(from + 2)),
    }
}

pub(crate) fn app_view(
    client: &mut PgClient,
    account_id: i64,
    sdk_app_id: i64,
) -> Result<Option<AppView>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT coalesce(s.number_protection, false), coalesce(s.record_retention_days, 0), \
             coalesce(s.media_retention_days, 0), coalesce(s.has_media, false) \
             FROM account_app a LEFT JOIN app_setting s USING (sdk_app_id) \
             WHERE a.sdk_app_id = $1 AND a.account_id = $2",
            &[&sdk_app_id, &account_id],
        )?
        .map(|row| AppView {
            settings: settings_row(&row, 0),
            has_media: row.get(3),
        }))
}

pub(crate) fn app_settings(
    client: &mut PgClient,
    sdk_app_id: i64,
) -> Result<AppSettings, StoreError> {
    Ok(client
        .query_opt(
            "SELECT number_protection, record_retention_days, media_retention_days \
             FROM app_setting WHERE sdk_app_id = $1",
            &[&sdk_app_id],
        )?
        .map(|row| settings_row(&row, 0))
        .unwrap_or_default())
}

pub(crate) fn set_app_settings(
    client: &mut PgClient,
    sdk_app_id: i64,
    s: &AppSettings,
) -> Result<(), StoreError> {
    client.execute(
        "INSERT INTO app_setting (sdk_app_id, number_protection, record_retention_days, \
         media_retention_days) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (sdk_app_id) DO UPDATE SET number_protection = excluded.number_protection, \
         record_retention_days = excluded.record_retention_days, \
         media_retention_days = excluded.media_retention_days",
        &[
            &sdk_app_id,
            &s.number_protection,
            &i64::from(s.record_retention_days),
            &i64::from(s.media_retention_days),
        ],
    )?;
    Ok(())
}

pub(crate) fn list_app_settings(
    client: &mut PgClient,
) -> Result<Vec<(i64, AppSettings)>, StoreError> {
    Ok(client
        .query(
            "SELECT sdk_app_id, number_protection, record_retention_days, media_retention_days \
             FROM app_setting ORDER BY sdk_app_id",
            &[],
        )?
        .iter()
        .map(|row| (row.get(0), settings_row(row, 1)))
        .collect())
}

pub(super) fn mark_has_media(client: &mut PgClient, sdk_app_id: i64) -> Result<(), StoreError> {
    client.execute(
        "INSERT INTO app_setting (sdk_app_id, has_media) VALUES ($1, true) \
         ON CONFLICT (sdk_app_id) DO UPDATE SET has_media = true \
         WHERE NOT app_setting.has_media",
        &[&sdk_app_id],
    )?;
    Ok(())
}

pub(crate) fn put_media(client: &mut PgClient, objects: &[MediaObject]) -> Result<(), StoreError> {
    for m in objects {
        client.execute(
            "INSERT INTO media (sdk_app_id, name, session_id, object_key, size, duration_ms, \
             time) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (sdk_app_id, name) DO UPDATE SET session_id = excluded.session_id, \
             object_key = excluded.object_key, size = excluded.size, \
             duration_ms = excluded.duration_ms, time = excluded.time",
            &[
                &m.sdk_app_id,
                &m.name,
                &m.session_id,
                &m.object_key,
                &(m.size as i64),
                &m.duration_ms,
                &m.time,
            ],
        )?;
        mark_has_media(client, m.sdk_app_id)?;
    }
    Ok(())
}

pub(crate) fn find_media(
    client: &mut PgClient,
    sdk_app_id: i64,
    name: &str,
) -> Result<Option<MediaObject>, StoreError> {
    Ok(client
        .query_opt(
            &format!("SELECT {MEDIA_COLUMNS} FROM media WHERE sdk_app_id = $1 AND name = $2"),
            &[&sdk_app_id, &name],
        )?
        .map(|row| media_row(&row)))
}

pub(crate) fn media_for_sessions(
    client: &mut PgClient,
    sdk_app_id: i64,
    session_ids: &[&str],
) -> Result<Vec<MediaObject>, StoreError> {
    let ids: Vec<&str> = session_ids.to_vec();
    Ok(client
        .query(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media WHERE sdk_app_id = $1 \
                 AND session_id = ANY($2) ORDER BY session_id, name"
            ),
            &[&sdk_app_id, &ids],
        )?
        .iter()
        .map(media_row)
        .collect())
}

pub(crate) fn scan_media(
    client: &mut PgClient,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<MediaObject>, StoreError> {
    let limit = limit as i64;
    let rows = match after {
        Some((app, name)) => client.query(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media WHERE (sdk_app_id, name) > ($1, $2) \
                 ORDER BY sdk_app_id, name LIMIT $3"
            ),
            &[app, name, &limit],
        )?,
        None => client.query(
            &format!("SELECT {MEDIA_COLUMNS} FROM media ORDER BY sdk_app_id, name LIMIT $1"),
            &[&limit],
        )?,
    };
    Ok(rows.iter().map(media_row).collect())
}

pub(crate) fn media_before(
    client: &mut PgClient,
    sdk_app_id: i64,
    before: i64,
    limit: usize,
) -> Result<Vec<MediaObject>, StoreError> {
    Ok(client
        .query(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media WHERE sdk_app_id = $1 AND time < $2 \
                 ORDER BY time, name LIMIT $3"
            ),
            &[&sdk_app_id, &before, &(limit as i64)],
        )?
        .iter()
        .map(media_row)
        .collect())
}

pub(crate) fn media_under_pending(
    client: &mut PgClient,
    limit: usize,
) -> Result<Vec<MediaObject>, StoreError> {
    Ok(client
        .query(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media \
                 WHERE object_key >= 'pending/' AND object_key < 'pending0' LIMIT $1"
            ),
            &[&(limit as i64)],
        )?
        .iter()
        .map(media_row)
        .collect())
}

pub(crate) fn move_media_key(
    client: &mut PgClient,
    sdk_app_id: i64,
    name: &str,
    from: &str,
    to: &str,
) -> Result<bool, StoreError> {
    Ok(client.execute(
        "UPDATE media SET object_key = $4 WHERE sdk_app_id = $1 AND name = $2 AND object_key = $3",
        &[&sdk_app_id, &name, &from, &to],
    )? > 0)
}

pub(crate) fn delete_media(
    client: &mut PgClient,
    sdk_app_id: i64,
    names: &[String],
) -> Result<u64, StoreError> {
    Ok(client.execute(
        "DELETE FROM media WHERE sdk_app_id = $1 AND name = ANY($2)",
        &[&sdk_app_id, &names],
    )?)
}

pub(crate) fn put_pending(client: &mut PgClient, m: &PendingMedia) -> Result<(), StoreError> {
    client.execute(
        "INSERT INTO media_pending (name, object_key, size, duration_ms, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET \
         object_key = excluded.object_key, size = excluded.size, \
         duration_ms = excluded.duration_ms, created_at = excluded.created_at",
        &[
            &m.name,
            &m.object_key,
            &(m.size as i64),
            &m.duration_ms,
            &m.created_at,
        ],
    )?;
    Ok(())
}

pub(crate) fn list_pending(client: &mut PgClient) -> Result<Vec<PendingMedia>, StoreError> {
    Ok(client
        .query(
            "SELECT name, object_key, size, duration_ms, created_at FROM media_pending \
             ORDER BY name",
            &[],
        )?
        .iter()
        .map(|row| PendingMedia {
            name: row.get(0),
            object_key: row.get(1),
            size: row.get::<_, i64>(2) as u64,
            duration_ms: row.get(3),
            created_at: row.get(4),
        })
        .collect())
}

/// Moves pending media to a record (inside the caller's transaction).
pub(crate) fn link_pending(
    client: &mut PgClient,
    names: &[String],
    sdk_app_id: i64,
    session_id: &str,
    time: i64,
) -> Result<(), StoreError> {
    let linked = client.execute(
        "WITH moved AS (DELETE FROM media_pending WHERE name = ANY($4) RETURNING *) \
         INSERT INTO media (sdk_app_id, name, session_id, object_key, size, duration_ms, time) \
         SELECT $1, name, $2, object_key, size, duration_ms, $3 FROM moved \
         ON CONFLICT (sdk_app_id, name) DO UPDATE SET session_id = excluded.session_id, \
         object_key = excluded.object_key, size = excluded.size, \
         duration_ms = excluded.duration_ms, time = excluded.time",
        &[&sdk_app_id, &session_id, &time, &names],
    )?;
    if linked > 0 {
        mark_has_media(client, sdk_app_id)?;
    }
    Ok(())
}

pub(crate) fn find_record(
    client: &mut PgClient,
    sdk_app_id: i64,
    session_id: &str,
) -> Result<Option<StoredRecord>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT c.time, c.body, e.events FROM cdr c \
             LEFT JOIN cdr_events e USING (sdk_app_id, session_id) \
             WHERE c.sdk_app_id = $1 AND c.session_id = $2",
            &[&sdk_app_id, &session_id],
        )?
        .map(|row| StoredRecord {
            time: row.get(0),
            body: row.get(1),
            events: row.get(2),
        }))
}

pub(crate) fn scan_window(
    client: &mut PgClient,
    sdk_app_id: i64,
    start: i64,
    end: i64,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<WindowRecord>, StoreError> {
    // Newest first, ties by session id; see SQLite's twin for the cursor.
    let (after_time, after_session, inclusive) = match after {
        Some((t, s)) => (*t, s.as_str(), false),
        None => (end, "", true),
    };
    Ok(client
        .query(
            "SELECT c.time, c.session_id, c.body, e.events FROM cdr c \
             LEFT JOIN cdr_events e ON e.sdk_app_id = c.sdk_app_id AND e.session_id = c.session_id \
             WHERE c.sdk_app_id = $1 AND c.time >= $2 AND c.time <= $3 \
             AND (c.time < $4 OR (c.time = $4 AND (c.session_id > $5 OR ($6 AND c.session_id = $5)))) \
             ORDER BY c.time DESC, c.session_id LIMIT $7",
            &[
                &sdk_app_id,
                &start,
                &end,
                &after_time,
                &after_session,
                &inclusive,
                &(limit as i64),
            ],
        )?
        .iter()
        .map(|row| WindowRecord {
            time: row.get(0),
            session_id: row.get(1),
            body: row.get(2),
            events: row.get(3),
        })
        .collect())
}

pub(crate) fn sessions_with_phone(
    client: &mut PgClient,
    sdk_app_id: i64,
    phone: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(client
        .query(
            "SELECT session_id FROM cdr WHERE sdk_app_id = $1 AND caller = $2 \
             UNION SELECT session_id FROM cdr WHERE sdk_app_id = $1 AND callee = $2 \
             ORDER BY 1",
            &[&sdk_app_id, &phone],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// Deletes records with everything that hangs off them (inside the
/// caller's transaction, under the records lock like every record write),
/// keeping the buckets exact.
pub(crate) fn delete_records(
    client: &mut PgClient,
    sdk_app_id: i64,
    session_ids: &[String],
) -> Result<u64, StoreError> {
    let busy = BusyPhones::lock_and_read(client, &[sdk_app_id])?;
    let rows = client.query(
        "DELETE FROM cdr WHERE sdk_app_id = $1 AND session_id = ANY($2) \
         RETURNING time, caller, callee",
        &[&sdk_app_id, &session_ids],
    )?;
    client.execute(
        "DELETE FROM cdr_events WHERE sdk_app_id = $1 AND session_id = ANY($2)",
        &[&sdk_app_id, &session_ids],
    )?;
    client.execute(
        "DELETE FROM media WHERE sdk_app_id = $1 AND session_id = ANY($2)",
        &[&sdk_app_id, &session_ids],
    )?;
    let mut deltas = BucketDeltas::default();
    let mut phone_deltas = PhoneDeltas::default();
    for row in &rows {
        deltas.add(sdk_app_id, row.get(0), -1);
        busy.count(
            &mut phone_deltas,
            sdk_app_id,
            row.get(1),
            row.get(2),
            row.get(0),
            -1,
        );
    }
    bump_buckets(client, deltas)?;
    bump_phone_buckets(client, phone_deltas)?;
    Ok(rows.len() as u64)
}
