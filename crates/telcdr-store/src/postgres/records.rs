//! Record upserts in PostgreSQL, run inside the writer thread's group
//! transaction, and the count buckets kept in step with them.
//!
//! A batch is folded to one row per (sdk_app_id, session_id) first (the last
//! occurrence wins and the revision counts every occurrence, as if each had
//! come in its own batch). A large batch is first tried as one binary COPY
//! of all-new records in a savepoint: an import of new calls needs no
//! look-up at all. Otherwise one query finds which keys exist and their old
//! times; new records then go in with COPY when there are many or one
//! INSERT over arrays when there are few (a push), and replacements with
//! one UPDATE over arrays. The records advisory lock held from the start
//! makes "new" stay new until COMMIT, so COPY cannot meet a duplicate key
//! it was not told of.

use std::collections::{HashMap, HashSet};

use std::io::Write;

use postgres::types::ToSql;

use super::PgClient;
use super::phones::{BusyPhones, PhoneDeltas, bump_phone_buckets};
use crate::window::BucketDeltas;
use crate::{NewRecord, StoreError, WriteOutcome};

/// New records from this many on go in with COPY rather than INSERT.
const COPY_FROM: usize = 256;

/// The columns written, in COPY order.
const COLUMNS: &str = "sdk_app_id, session_id, time, caller, callee, direction, end_status, \
                       seat_mail, skill_group_id, revision, body";

pub(crate) fn write_records(
    client: &mut PgClient,
    batch: &[NewRecord],
) -> Result<Vec<WriteOutcome>, StoreError> {
    let apps: Vec<i64> = batch.iter().map(|r| r.sdk_app_id).collect();
    let busy = BusyPhones::lock_and_read(client, &apps)?;

    // Fold the batch: per key, the index of its last occurrence and how many
    // times it came.
    let mut folded: HashMap<(i64, &str), (usize, i64)> = HashMap::with_capacity(batch.len());
    let mut keys: Vec<(i64, &str)> = Vec::with_capacity(batch.len());
    for (index, r) in batch.iter().enumerate() {
        let key = (r.sdk_app_id, r.session_id.as_str());
        let entry = folded.entry(key).or_insert_with(|| {
            keys.push(key);
            (index, 0)
        });
        entry.0 = index;
        entry.1 += 1;
    }

    // The last occurrence of each key and its count, in first-seen order.
    let rows: Vec<(&NewRecord, i64)> = keys
        .iter()
        .map(|key| {
            let (last, occurrences) = folded[key];
            (&batch[last], occurrences)
        })
        .collect();

    // A bulk batch is usually all new (an import): try it as one COPY
    // first, inside a savepoint, and look keys up only if some exist.
    // Under the records lock nothing else inserts meanwhile, so a COPY that
    // succeeds proves every key new.
    let copied = rows.len() >= COPY_FROM && optimistic_copy(client, &rows)?;
    let existing = if copied {
        HashMap::new()
    } else {
        old_times(client, &keys)?
    };

    let mut deltas = BucketDeltas::default();
    let mut phone_deltas = PhoneDeltas::default();
    let mut inserts: Vec<(&NewRecord, i64)> = Vec::new();
    let mut updates: Vec<(&NewRecord, i64)> = Vec::new();
    let mut moved: Vec<&NewRecord> = Vec::new();
    for (key, &(record, occurrences)) in keys.iter().zip(&rows) {
        match existing.get(key) {
            Some(old) => {
                deltas.add(key.0, old.time, -1);
                busy.count(
                    &mut phone_deltas,
                    key.0,
                    &old.caller,
                    &old.callee,
                    old.time,
                    -1,
                );
                updates.push((record, occurrences));
                if old.time != record.time {
                    moved.push(record);
                }
            }
            None if copied => {}
            None => inserts.push((record, occurrences)),
        }
        deltas.add(key.0, record.time, 1);
        busy.count(
            &mut phone_deltas,
            key.0,
            &record.caller,
            &record.callee,
            record.time,
            1,
        );
    }

    if inserts.len() >= COPY_FROM {
        copy_in(client, &inserts)?;
    } else if !inserts.is_empty() {
        insert_small(client, &inserts)?;
    }
    if !updates.is_empty() {
        update(client, &updates)?;
    }
    bump_buckets(client, deltas)?;
    bump_phone_buckets(client, phone_deltas)?;
    write_events(client, &rows, &existing)?;
    link_pending_media(client, &rows)?;
    // Media retention goes by the record's Time: follow a replacement that
    // moved it (rare: CCC does not change a call's Time).
    for record in moved {
        client.execute(
            "UPDATE media SET time = $3 WHERE sdk_app_id = $1 AND session_id = $2",
            &[&record.sdk_app_id, &record.session_id, &record.time],
        )?;
    }

    Ok(outcomes(batch, &existing))
}

/// Keeps each record's `Events` beside it: a replacement without events
/// drops the old ones, as the newest revision wins.
fn write_events(
    client: &mut PgClient,
    rows: &[(&NewRecord, i64)],
    existing: &HashMap<(i64, &str), Stored>,
) -> Result<(), StoreError> {
    for (r, _) in rows {
        match &r.events {
            Some(events) => {
                client.execute(
                    "INSERT INTO cdr_events (sdk_app_id, session_id, events) VALUES ($1, $2, $3) \
                     ON CONFLICT (sdk_app_id, session_id) DO UPDATE SET events = excluded.events",
                    &[&r.sdk_app_id, &r.session_id, events],
                )?;
            }
            None if existing.contains_key(&(r.sdk_app_id, r.session_id.as_str())) => {
                client.execute(
                    "DELETE FROM cdr_events WHERE sdk_app_id = $1 AND session_id = $2",
                    &[&r.sdk_app_id, &r.session_id],
                )?;
            }
            None => {}
        }
    }
    Ok(())
}

/// Links media that arrived before their record (see SQLite's twin): one
/// probe per batch when nothing is pending.
fn link_pending_media(client: &mut PgClient, rows: &[(&NewRecord, i64)]) -> Result<(), StoreError> {
    let any: bool = client
        .query_one("SELECT EXISTS (SELECT 1 FROM media_pending)", &[])?
        .get(0);
    if !any {
        return Ok(());
    }
    for (r, _) in rows {
        let mut names = Vec::new();
        for id in std::iter::once(&r.session_id).chain(&r.media_refs) {
            let (low, high) = (format!("{id}."), format!("{id}/"));
            for row in client.query(
                "SELECT name FROM media_pending WHERE name >= $1 AND name < $2",
                &[&low, &high],
            )? {
                names.push(row.get::<_, String>(0));
            }
        }
        if !names.is_empty() {
            super::media::link_pending(client, &names, r.sdk_app_id, &r.session_id, r.time)?;
        }
    }
    Ok(())
}

/// Outcomes in batch order: a key's first occurrence is new unless the
/// database had it; every later one replaces the one before.
fn outcomes(batch: &[NewRecord], existing: &HashMap<(i64, &str), Stored>) -> Vec<WriteOutcome> {
    let mut seen: HashSet<(i64, &str)> = HashSet::with_capacity(batch.len());
    batch
        .iter()
        .map(|r| {
            let key = (r.sdk_app_id, r.session_id.as_str());
            if seen.insert(key) && !existing.contains_key(&key) {
                WriteOutcome::Inserted
            } else {
                WriteOutcome::Replaced
            }
        })
        .collect()
}

/// COPYs the folded batch as all-new records. False (and nothing written)
/// when some key already exists.
fn optimistic_copy(client: &mut PgClient, rows: &[(&NewRecord, i64)]) -> Result<bool, StoreError> {
    client.raw().batch_execute("SAVEPOINT telcdr_copy")?;
    match copy_in(client, rows) {
        Ok(()) => {
            client
                .raw()
                .batch_execute("RELEASE SAVEPOINT telcdr_copy")?;
            Ok(true)
        }
        Err(e) if is_unique_violation(&e) => {
            client
                .raw()
                .batch_execute("ROLLBACK TO SAVEPOINT telcdr_copy")?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// What a replacement changes the counts of: the stored record's time and
/// numbers.
struct Stored {
    time: i64,
    caller: String,
    callee: String,
}

/// Every key of `keys` already stored, with its time and numbers.
fn old_times<'a>(
    client: &mut PgClient,
    keys: &[(i64, &'a str)],
) -> Result<HashMap<(i64, &'a str), Stored>, StoreError> {
    let apps: Vec<i64> = keys.iter().map(|k| k.0).collect();
    let sessions: Vec<&str> = keys.iter().map(|k| k.1).collect();
    let rows = client.query(
        "SELECT c.sdk_app_id, c.session_id, c.time, c.caller, c.callee \
         FROM unnest($1::bigint[], $2::text[]) AS k (sdk_app_id, session_id) \
         JOIN cdr c ON c.sdk_app_id = k.sdk_app_id AND c.session_id = k.session_id",
        &[&apps, &sessions],
    )?;
    // Map each found row back to the caller's borrowed key.
    let index: HashMap<(i64, &str), usize> =
        keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let app: i64 = row.get(0);
        let session: &str = row.get(1);
        if let Some(&i) = index.get(&(app, session)) {
            found.insert(
                keys[i],
                Stored {
                    time: row.get(2),
                    caller: row.get(3),
                    callee: row.get(4),
                },
            );
        }
    }
    Ok(found)
}

/// Streams `inserts` into `cdr` with COPY in PostgreSQL's binary format,
/// encoded here in chunks of about a megabyte: the client library's row
/// writer wakes its runtime for every row and sends every 4 KiB, which cost
/// more than PostgreSQL's own work on the rows.
fn copy_in(client: &mut PgClient, inserts: &[(&NewRecord, i64)]) -> Result<(), postgres::Error> {
    const CHUNK: usize = 1 << 20;
    let mut sink = client
        .raw()
        .copy_in(&format!("COPY cdr ({COLUMNS}) FROM STDIN (FORMAT binary)"))?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 8192);
    // Signature, flags, header extension length.
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0i32.to_be_bytes());
    buf.extend_from_slice(&0i32.to_be_bytes());
    let send = |sink: &mut postgres::CopyInWriter<'_>, buf: &mut Vec<u8>| {
        // An I/O error here means the connection failed; finish() reports
        // PostgreSQL's own error.
        let result = sink.write_all(buf);
        buf.clear();
        result
    };
    let mut failed = false;
    for (r, revision) in inserts {
        encode_row(&mut buf, r, *revision);
        if buf.len() >= CHUNK && send(&mut sink, &mut buf).is_err() {
            failed = true;
            break;
        }
    }
    if !failed {
        buf.extend_from_slice(&(-1i16).to_be_bytes());
        let _ = send(&mut sink, &mut buf);
    }
    sink.finish()?;
    Ok(())
}

/// One row of the binary COPY format: a field count, then each field as
/// its length and its bytes (int8 big-endian, text as UTF-8, bytea raw).
fn encode_row(buf: &mut Vec<u8>, r: &NewRecord, revision: i64) {
    fn int8(buf: &mut Vec<u8>, v: i64) {
        buf.extend_from_slice(&8i32.to_be_bytes());
        buf.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(buf: &mut Vec<u8>, v: &[u8]) {
        // Bodies and texts are far below 2 GiB (the request limit is 10 MiB).
        buf.extend_from_slice(&(v.len() as i32).to_be_bytes());
        buf.extend_from_slice(v);
    }
    buf.extend_from_slice(&11i16.to_be_bytes());
    int8(buf, r.sdk_app_id);
    bytes(buf, r.session_id.as_bytes());
    int8(buf, r.time);
    bytes(buf, r.caller.as_bytes());
    bytes(buf, r.callee.as_bytes());
    int8(buf, r.direction);
    int8(buf, r.end_status);
    bytes(buf, r.seat_mail.as_bytes());
    int8(buf, r.skill_group_id);
    int8(buf, revision);
    bytes(buf, &r.body);
}

/// The columns of `rows` as arrays, for statements over `unnest`.
struct Columns<'a> {
    sdk_app_id: Vec<i64>,
    session_id: Vec<&'a str>,
    time: Vec<i64>,
    caller: Vec<&'a str>,
    callee: Vec<&'a str>,
    direction: Vec<i64>,
    end_status: Vec<i64>,
    seat_mail: Vec<&'a str>,
    skill_group_id: Vec<i64>,
    revision: Vec<i64>,
    body: Vec<&'a [u8]>,
}

impl<'a> Columns<'a> {
    fn of(rows: &[(&'a NewRecord, i64)]) -> Columns<'a> {
        Columns {
            sdk_app_id: rows.iter().map(|(r, _)| r.sdk_app_id).collect(),
            session_id: rows.iter().map(|(r, _)| r.session_id.as_str()).collect(),
            time: rows.iter().map(|(r, _)| r.time).collect(),
            caller: rows.iter().map(|(r, _)| r.caller.as_str()).collect(),
            callee: rows.iter().map(|(r, _)| r.callee.as_str()).collect(),
            direction: rows.iter().map(|(r, _)| r.direction).collect(),
            end_status: rows.iter().map(|(r, _)| r.end_status).collect(),
            seat_mail: rows.iter().map(|(r, _)| r.seat_mail.as_str()).collect(),
            skill_group_id: rows.iter().map(|(r, _)| r.skill_group_id).collect(),
            revision: rows.iter().map(|&(_, n)| n).collect(),
            body: rows.iter().map(|(r, _)| r.body.as_slice()).collect(),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 11] {
        [
            &self.sdk_app_id,
            &self.session_id,
            &self.time,
            &self.caller,
            &self.callee,
            &self.direction,
            &self.end_status,
            &self.seat_mail,
            &self.skill_group_id,
            &self.revision,
            &self.body,
        ]
    }
}

/// `unnest` over the eleven column arrays, typed.
const UNNEST: &str = "unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], \
                      $6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], \
                      $11::bytea[])";

fn insert_small(client: &mut PgClient, inserts: &[(&NewRecord, i64)]) -> Result<(), StoreError> {
    let columns = Columns::of(inserts);
    client.execute(
        &format!("INSERT INTO cdr ({COLUMNS}) SELECT * FROM {UNNEST}"),
        &columns.params(),
    )?;
    Ok(())
}

fn update(client: &mut PgClient, updates: &[(&NewRecord, i64)]) -> Result<(), StoreError> {
    let columns = Columns::of(updates);
    client.execute(
        &format!(
            "UPDATE cdr SET time = u.time, caller = u.caller, callee = u.callee, \
             direction = u.direction, end_status = u.end_status, seat_mail = u.seat_mail, \
             skill_group_id = u.skill_group_id, body = u.body, \
             revision = cdr.revision + u.revision \
             FROM {UNNEST} AS u ({COLUMNS}) \
             WHERE cdr.sdk_app_id = u.sdk_app_id AND cdr.session_id = u.session_id"
        ),
        &columns.params(),
    )?;
    Ok(())
}

/// Adds `deltas` to the buckets (in key order); emptied buckets go, so a
/// bucket walk only sees periods with records.
pub(super) fn bump_buckets(client: &mut PgClient, deltas: BucketDeltas) -> Result<(), StoreError> {
    let changes = deltas.into_sorted();
    if changes.is_empty() {
        return Ok(());
    }
    let apps: Vec<i64> = changes.iter().map(|((a, _, _), _)| *a).collect();
    let spans: Vec<i64> = changes.iter().map(|((_, s, _), _)| *s).collect();
    let starts: Vec<i64> = changes.iter().map(|((_, _, p), _)| *p).collect();
    let counts: Vec<i64> = changes.iter().map(|(_, d)| *d).collect();
    client.execute(
        "INSERT INTO cdr_bucket (sdk_app_id, span, start, count) \
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) \
         ON CONFLICT (sdk_app_id, span, start) \
         DO UPDATE SET count = cdr_bucket.count + excluded.count",
        &[&apps, &spans, &starts, &counts],
    )?;
    if counts.iter().any(|&d| d < 0) {
        client.execute(
            "DELETE FROM cdr_bucket b \
             USING unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS k (sdk_app_id, span, start) \
             WHERE b.sdk_app_id = k.sdk_app_id AND b.span = k.span AND b.start = k.start \
             AND b.count = 0",
            &[&apps, &spans, &starts],
        )?;
    }
    Ok(())
}
