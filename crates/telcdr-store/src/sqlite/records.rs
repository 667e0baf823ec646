//! Record upserts of the SQLite backend, run inside the writer thread's
//! group transaction, and the count buckets kept in step with them.

use rusqlite::{Connection, params};

use crate::window::BucketDeltas;
use crate::{NewRecord, StoreError, WriteOutcome};

/// Writes a batch of records (inside the group transaction), keeping the
/// bucket counts in step. Items are written in order, so a batch naming one
/// (sdk_app_id, session_id) twice keeps the last: the first occurrence
/// reports `Inserted` (when new) and each later one `Replaced`, bumping the
/// revision each time, exactly as if they had come in separate batches.
pub(crate) fn write_records(
    conn: &Connection,
    batch: &[NewRecord],
) -> Result<Vec<WriteOutcome>, StoreError> {
    // Insert first: on a fresh import nearly every record is new, and this
    // finds out with one descent of the unique index instead of two.
    let mut insert = conn.prepare_cached(
        "INSERT INTO cdr (sdk_app_id, session_id, time, caller, callee, direction, end_status, \
         seat_mail, skill_group_id, revision, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10) \
         ON CONFLICT (sdk_app_id, session_id) DO NOTHING",
    )?;
    let mut find =
        conn.prepare_cached("SELECT id, time FROM cdr WHERE sdk_app_id = ?1 AND session_id = ?2")?;
    let mut update = conn.prepare_cached(
        "UPDATE cdr SET time = ?2, caller = ?3, callee = ?4, direction = ?5, end_status = ?6, \
         seat_mail = ?7, skill_group_id = ?8, body = ?9, revision = revision + 1 WHERE id = ?1",
    )?;

    // Bucket changes are summed first: a batch touches few hours, so this
    // turns thousands of bucket upserts into a handful.
    let mut deltas = BucketDeltas::default();
    let mut outcomes = Vec::with_capacity(batch.len());
    for r in batch {
        let inserted = insert.execute(params![
            r.sdk_app_id,
            r.session_id,
            r.time,
            r.caller,
            r.callee,
            r.direction,
            r.end_status,
            r.seat_mail,
            r.skill_group_id,
            r.body
        ])?;
        if inserted == 1 {
            outcomes.push(WriteOutcome::Inserted);
        } else {
            let (id, old_time) = find.query_row(params![r.sdk_app_id, r.session_id], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
            })?;
            update.execute(params![
                id,
                r.time,
                r.caller,
                r.callee,
                r.direction,
                r.end_status,
                r.seat_mail,
                r.skill_group_id,
                r.body
            ])?;
            // A replace may move the record to another hour, and its media
            // (whose retention goes by the record's Time) with it.
            deltas.add(r.sdk_app_id, old_time, -1);
            if old_time != r.time {
                conn.prepare_cached(
                    "UPDATE media SET time = ?3 WHERE sdk_app_id = ?1 AND session_id = ?2",
                )?
                .execute(params![r.sdk_app_id, r.session_id, r.time])?;
            }
            outcomes.push(WriteOutcome::Replaced);
        }
        deltas.add(r.sdk_app_id, r.time, 1);
    }

    bump_buckets(conn, deltas)?;
    write_events(conn, batch, &outcomes)?;
    link_pending_media(conn, batch)?;
    Ok(outcomes)
}

/// Keeps each record's `Events` beside it: a replacement without events
/// drops the old ones, as the newest revision wins.
fn write_events(
    conn: &Connection,
    batch: &[NewRecord],
    outcomes: &[WriteOutcome],
) -> Result<(), StoreError> {
    for (r, outcome) in batch.iter().zip(outcomes) {
        match &r.events {
            Some(events) => {
                conn.prepare_cached(
                    "INSERT INTO cdr_events (sdk_app_id, session_id, events) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (sdk_app_id, session_id) DO UPDATE SET events = excluded.events",
                )?
                .execute(params![r.sdk_app_id, r.session_id, events])?;
            }
            None if *outcome == WriteOutcome::Replaced => {
                conn.prepare_cached(
                    "DELETE FROM cdr_events WHERE sdk_app_id = ?1 AND session_id = ?2",
                )?
                .execute(params![r.sdk_app_id, r.session_id])?;
            }
            None => {}
        }
    }
    Ok(())
}

/// Links media that arrived before their record: a pending object whose
/// name starts with `<id>.` for the record's SessionId or one of its
/// RecordIds becomes the record's. Costs one probe per batch when nothing
/// is pending, which is the usual case.
fn link_pending_media(conn: &Connection, batch: &[NewRecord]) -> Result<(), StoreError> {
    let any: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM media_pending)")?
        .query_row([], |row| row.get(0))?;
    if !any {
        return Ok(());
    }
    let mut find = conn.prepare_cached(
        "SELECT name FROM media_pending WHERE name > ?1 || '.' AND name < ?1 || '/'",
    )?;
    for r in batch {
        let mut names = Vec::new();
        for id in std::iter::once(&r.session_id).chain(&r.media_refs) {
            for name in find.query_map([id], |row| row.get::<_, String>(0))? {
                names.push(name?);
            }
        }
        if !names.is_empty() {
            super::media::link_pending(conn, &names, r.sdk_app_id, &r.session_id, r.time)?;
        }
    }
    Ok(())
}

/// Adds `deltas` to the buckets; emptied buckets go, so a bucket walk only
/// sees periods with records.
pub(super) fn bump_buckets(conn: &Connection, deltas: BucketDeltas) -> Result<(), StoreError> {
    let mut bump = conn.prepare_cached(
        "INSERT INTO cdr_bucket (sdk_app_id, span, start, count) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (sdk_app_id, span, start) DO UPDATE SET count = count + excluded.count",
    )?;
    let mut prune = conn.prepare_cached(
        "DELETE FROM cdr_bucket WHERE sdk_app_id = ?1 AND span = ?2 AND start = ?3 AND count = 0",
    )?;
    for ((sdk_app_id, span, start), delta) in deltas.into_sorted() {
        bump.execute(params![sdk_app_id, span, start, delta])?;
        if delta < 0 {
            prune.execute(params![sdk_app_id, span, start])?;
        }
    }
    Ok(())
}
