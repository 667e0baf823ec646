//! Media rows, per-app settings, single records and deletions in SQLite:
//! what the recording, transcript, retention and erasure features keep
//! beside the records. Writes run on the writer thread inside its group
//! transaction, reads on a reader connection.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::records::bump_buckets;
use crate::window::BucketDeltas;
use crate::{
    AppSettings, AppView, MediaObject, PendingMedia, StoreError, StoredRecord, WindowRecord,
};

const MEDIA_COLUMNS: &str = "sdk_app_id, name, session_id, object_key, size, duration_ms, time";

fn media_row(row: &Row) -> rusqlite::Result<MediaObject> {
    Ok(MediaObject {
        sdk_app_id: row.get(0)?,
        name: row.get(1)?,
        session_id: row.get(2)?,
        object_key: row.get(3)?,
        size: row.get::<_, i64>(4)? as u64,
        duration_ms: row.get(5)?,
        time: row.get(6)?,
    })
}

fn settings_row(row: &Row, from: usize) -> rusqlite::Result<AppSettings> {
    Ok(AppSettings {
        number_protection: row.get(from)?,
        record_retention_days: row.get(from + 1)?,
        media_retention_days: row.get(from + 2)?,
    })
}

pub(crate) fn app_view(
    conn: &Connection,
    account_id: i64,
    sdk_app_id: i64,
) -> Result<Option<AppView>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(s.number_protection, 0), coalesce(s.record_retention_days, 0), \
             coalesce(s.media_retention_days, 0), coalesce(s.has_media, 0) \
             FROM account_app a LEFT JOIN app_setting s USING (sdk_app_id) \
             WHERE a.sdk_app_id = ?1 AND a.account_id = ?2",
        )?
        .query_row([sdk_app_id, account_id], |row| {
            Ok(AppView {
                settings: settings_row(row, 0)?,
                has_media: row.get(3)?,
            })
        })
        .optional()?)
}

pub(crate) fn app_settings(conn: &Connection, sdk_app_id: i64) -> Result<AppSettings, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT number_protection, record_retention_days, media_retention_days \
             FROM app_setting WHERE sdk_app_id = ?1",
        )?
        .query_row([sdk_app_id], |row| settings_row(row, 0))
        .optional()?
        .unwrap_or_default())
}

pub(crate) fn set_app_settings(
    conn: &Connection,
    sdk_app_id: i64,
    s: &AppSettings,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO app_setting (sdk_app_id, number_protection, record_retention_days, \
         media_retention_days) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (sdk_app_id) DO UPDATE SET number_protection = excluded.number_protection, \
         record_retention_days = excluded.record_retention_days, \
         media_retention_days = excluded.media_retention_days",
    )?
    .execute(params![
        sdk_app_id,
        s.number_protection,
        s.record_retention_days,
        s.media_retention_days
    ])?;
    Ok(())
}

pub(crate) fn list_app_settings(conn: &Connection) -> Result<Vec<(i64, AppSettings)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT sdk_app_id, number_protection, record_retention_days, media_retention_days \
         FROM app_setting ORDER BY sdk_app_id",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, settings_row(row, 1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn mark_has_media(conn: &Connection, sdk_app_id: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO app_setting (sdk_app_id, has_media) VALUES (?1, 1) \
         ON CONFLICT (sdk_app_id) DO UPDATE SET has_media = 1 WHERE has_media = 0",
    )?
    .execute([sdk_app_id])?;
    Ok(())
}

pub(crate) fn put_media(conn: &Connection, objects: &[MediaObject]) -> Result<(), StoreError> {
    let mut put = conn.prepare_cached(
        "INSERT OR REPLACE INTO media (sdk_app_id, name, session_id, object_key, size, \
         duration_ms, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for m in objects {
        put.execute(params![
            m.sdk_app_id,
            m.name,
            m.session_id,
            m.object_key,
            m.size as i64,
            m.duration_ms,
            m.time
        ])?;
        mark_has_media(conn, m.sdk_app_id)?;
    }
    Ok(())
}

pub(crate) fn find_media(
    conn: &Connection,
    sdk_app_id: i64,
    name: &str,
) -> Result<Option<MediaObject>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {MEDIA_COLUMNS} FROM media WHERE sdk_app_id = ?1 AND name = ?2"
        ))?
        .query_row(params![sdk_app_id, name], media_row)
        .optional()?)
}

pub(crate) fn media_for_sessions(
    conn: &Connection,
    sdk_app_id: i64,
    session_ids: &[&str],
) -> Result<Vec<MediaObject>, StoreError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media WHERE sdk_app_id = ?1 AND session_id = ?2 ORDER BY name"
    ))?;
    for session_id in session_ids {
        for row in stmt.query_map(params![sdk_app_id, session_id], media_row)? {
            out.push(row?);
        }
    }
    Ok(out)
}

pub(crate) fn scan_media(
    conn: &Connection,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<MediaObject>, StoreError> {
    let (app, name, inclusive) = match after {
        Some((app, name)) => (*app, name.as_str(), false),
        None => (i64::MIN, "", true),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media \
         WHERE sdk_app_id > ?1 OR (sdk_app_id = ?1 AND (name > ?2 OR (?3 AND name = ?2))) \
         ORDER BY sdk_app_id, name LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![app, name, inclusive, limit as i64], media_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn media_before(
    conn: &Connection,
    sdk_app_id: i64,
    before: i64,
    limit: usize,
) -> Result<Vec<MediaObject>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media WHERE sdk_app_id = ?1 AND time < ?2 \
         ORDER BY time, name LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![sdk_app_id, before, limit as i64], media_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn media_under_pending(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<MediaObject>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media \
         WHERE object_key >= 'pending/' AND object_key < 'pending0' LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit as i64], media_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn move_media_key(
    conn: &Connection,
    sdk_app_id: i64,
    name: &str,
    from: &str,
    to: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE media SET object_key = ?4 \
             WHERE sdk_app_id = ?1 AND name = ?2 AND object_key = ?3",
        )?
        .execute(params![sdk_app_id, name, from, to])?
        > 0)
}

pub(crate) fn delete_media(
    conn: &Connection,
    sdk_app_id: i64,
    names: &[String],
) -> Result<u64, StoreError> {
    let mut delete =
        conn.prepare_cached("DELETE FROM media WHERE sdk_app_id = ?1 AND name = ?2")?;
    let mut n = 0;
    for name in names {
        n += delete.execute(params![sdk_app_id, name])? as u64;
    }
    Ok(n)
}

pub(crate) fn put_pending(conn: &Connection, m: &PendingMedia) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO media_pending (name, object_key, size, duration_ms, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        m.name,
        m.object_key,
        m.size as i64,
        m.duration_ms,
        m.created_at
    ])?;
    Ok(())
}

pub(crate) fn list_pending(conn: &Connection) -> Result<Vec<PendingMedia>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, object_key, size, duration_ms, created_at FROM media_pending ORDER BY name",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(PendingMedia {
            name: row.get(0)?,
            object_key: row.get(1)?,
            size: row.get::<_, i64>(2)? as u64,
            duration_ms: row.get(3)?,
            created_at: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Moves pending media to a record (inside the caller's transaction).
pub(crate) fn link_pending(
    conn: &Connection,
    names: &[String],
    sdk_app_id: i64,
    session_id: &str,
    time: i64,
) -> Result<(), StoreError> {
    let mut link = conn.prepare_cached(
        "INSERT OR REPLACE INTO media (sdk_app_id, name, session_id, object_key, size, \
         duration_ms, time) SELECT ?1, name, ?2, object_key, size, duration_ms, ?3 \
         FROM media_pending WHERE name = ?4",
    )?;
    let mut forget = conn.prepare_cached("DELETE FROM media_pending WHERE name = ?1")?;
    let mut linked = false;
    for name in names {
        linked |= link.execute(params![sdk_app_id, session_id, time, name])? > 0;
        forget.execute([name])?;
    }
    if linked {
        mark_has_media(conn, sdk_app_id)?;
    }
    Ok(())
}

pub(crate) fn find_record(
    conn: &Connection,
    sdk_app_id: i64,
    session_id: &str,
) -> Result<Option<StoredRecord>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT c.time, c.body, e.events FROM cdr c \
             LEFT JOIN cdr_events e USING (sdk_app_id, session_id) \
             WHERE c.sdk_app_id = ?1 AND c.session_id = ?2",
        )?
        .query_row(params![sdk_app_id, session_id], |row| {
            Ok(StoredRecord {
                time: row.get(0)?,
                body: row.get(1)?,
                events: row.get(2)?,
            })
        })
        .optional()?)
}

pub(crate) fn scan_window(
    conn: &Connection,
    sdk_app_id: i64,
    start: i64,
    end: i64,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<WindowRecord>, StoreError> {
    // Newest first, ties by session id (the time index's order): rows
    // after (t, s) have time < t, or time = t and session_id > s. With no
    // cursor, from `end` inclusive.
    let (after_time, after_session, inclusive) = match after {
        Some((t, s)) => (*t, s.as_str(), false),
        None => (end, "", true),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT c.time, c.session_id, c.body, e.events FROM cdr c \
         LEFT JOIN cdr_events e ON e.sdk_app_id = c.sdk_app_id AND e.session_id = c.session_id \
         WHERE c.sdk_app_id = ?1 AND c.time >= ?2 AND c.time <= ?3 \
         AND (c.time < ?4 OR (c.time = ?4 AND (c.session_id > ?5 OR (?6 AND c.session_id = ?5)))) \
         ORDER BY c.time DESC, c.session_id LIMIT ?7",
    )?;
    let rows = stmt.query_map(
        params![
            sdk_app_id,
            start,
            end,
            after_time,
            after_session,
            inclusive,
            limit as i64
        ],
        |row| {
            Ok(WindowRecord {
                time: row.get(0)?,
                session_id: row.get(1)?,
                body: row.get(2)?,
                events: row.get(3)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn sessions_with_phone(
    conn: &Connection,
    sdk_app_id: i64,
    phone: &str,
) -> Result<Vec<String>, StoreError> {
    // Every week that holds a record of the app, through the phone indexes.
    let Some((first_week, last_week)) =
        super::query::phone_weeks(conn, sdk_app_id, i64::MIN, i64::MAX)?
    else {
        return Ok(Vec::new());
    };
    let (weeks, in_weeks) = (super::query::weeks_table(3), super::query::IN_WEEKS);
    let mut stmt = conn.prepare_cached(&format!(
        "{weeks} SELECT session_id FROM cdr \
         WHERE sdk_app_id = ?1 AND {in_weeks} AND caller = ?2 \
         UNION SELECT session_id FROM cdr \
         WHERE sdk_app_id = ?1 AND {in_weeks} AND callee = ?2 \
         ORDER BY 1"
    ))?;
    let rows = stmt.query_map(params![sdk_app_id, phone, first_week, last_week], |row| {
        row.get(0)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes records with everything that hangs off them (inside the
/// caller's transaction), keeping the buckets exact.
pub(crate) fn delete_records(
    conn: &Connection,
    sdk_app_id: i64,
    session_ids: &[String],
) -> Result<u64, StoreError> {
    let mut delete = conn.prepare_cached(
        "DELETE FROM cdr WHERE sdk_app_id = ?1 AND session_id = ?2 RETURNING time",
    )?;
    let mut events =
        conn.prepare_cached("DELETE FROM cdr_events WHERE sdk_app_id = ?1 AND session_id = ?2")?;
    let mut media =
        conn.prepare_cached("DELETE FROM media WHERE sdk_app_id = ?1 AND session_id = ?2")?;
    let mut deltas = BucketDeltas::default();
    let mut n = 0;
    for session_id in session_ids {
        let time: Option<i64> = delete
            .query_row(params![sdk_app_id, session_id], |row| row.get(0))
            .optional()?;
        if let Some(time) = time {
            deltas.add(sdk_app_id, time, -1);
            n += 1;
        }
        events.execute(params![sdk_app_id, session_id])?;
        media.execute(params![sdk_app_id, session_id])?;
    }
    bump_buckets(conn, deltas)?;
    Ok(n)
}
