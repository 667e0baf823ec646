//! The single writer thread and its group commit.
//!
//! SQLite lets one connection write at a time, and a durable commit costs an
//! fsync whatever its size. So one thread owns the write connection; callers
//! hand it jobs over a channel and wait for a reply. The thread takes every
//! job queued at that moment, runs them all in one transaction, commits once,
//! and only then answers each caller. Many small concurrent writes therefore
//! share one fsync, and nobody hears "done" before the commit is on disk.
//!
//! A job that fails must not take its neighbours down with it. Savepoints
//! would isolate it, but they copy every page a job touches into a statement
//! journal, which bulk imports pay dearly for; instead a failure rolls the
//! group back and the group runs again without the failed job (jobs are
//! re-runnable closures). Failures are rare (a key request refused, a full
//! disk), so the retry costs nothing in the common case.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use rusqlite::{Connection, params};

use super::SPANS;
use crate::{NewRecord, StoreError, WriteOutcome};

/// Upper bound on the records one group takes before committing, so a flood
/// of batches still commits (and answers) in bounded steps. A single larger
/// batch is still written whole.
const MAX_GROUP_WEIGHT: usize = 20_000;

/// One unit of work for the writer thread.
trait WriteJob: Send {
    /// Does the work inside the open transaction. False when it failed; the
    /// group is then rolled back and run again without this job, so `apply`
    /// may run more than once and only its last result counts.
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the transaction's fate is known.
    fn finish(self: Box<Self>, commit: Result<(), &str>);
    /// How many records the job writes, for [`MAX_GROUP_WEIGHT`].
    fn weight(&self) -> usize;
}

/// A closure run on the writer connection and the channel its result goes
/// back on.
struct Call<T, F> {
    work: F,
    result: Option<Result<T, StoreError>>,
    reply: SyncSender<Result<T, StoreError>>,
    weight: usize,
}

impl<T, F> WriteJob for Call<T, F>
where
    T: Send,
    F: Fn(&Connection) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, conn: &Connection) -> bool {
        let result = (self.work)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), &str>) {
        let answer = match (self.result, commit) {
            // The job's own error stands even though the others committed.
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)) | None, Err(reason)) => Err(StoreError::Database(reason.to_owned())),
            (None, Ok(())) => Err(StoreError::Database("write job never ran".into())),
        };
        // The caller may have gone away; nothing to tell then.
        let _ = self.reply.send(answer);
    }

    fn weight(&self) -> usize {
        self.weight
    }
}

/// Handle on the writer thread. Dropping it lets the thread finish the jobs
/// already queued, then joins it.
pub(crate) struct Writer {
    sender: Option<Sender<Box<dyn WriteJob>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread on `conn` (already configured and migrated).
    pub(crate) fn spawn(conn: Connection) -> Result<Writer, StoreError> {
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("telcdr-sqlite-writer".into())
            .spawn(move || run(conn, receiver))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    /// Runs `work` in the next group transaction and returns its result once
    /// that transaction has committed. `weight` is the number of records it
    /// writes (1 for anything else). `work` may run more than once (see the
    /// module docs); only the run that commits counts.
    pub(crate) fn call<T, F>(&self, weight: usize, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let sender = self.sender.as_ref().ok_or(StoreError::Closed)?;
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Call {
            work,
            result: None,
            reply,
            weight,
        };
        sender.send(Box::new(job)).map_err(|_| StoreError::Closed)?;
        // A dropped reply sender means the writer thread died mid-group.
        answer.recv().map_err(|_| StoreError::Closed)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop after the queued jobs.
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread's loop: one group transaction per wake-up.
fn run(conn: Connection, jobs: Receiver<Box<dyn WriteJob>>) {
    while let Ok(first) = jobs.recv() {
        let mut weight = first.weight();
        let mut group = vec![first];
        while weight < MAX_GROUP_WEIGHT {
            match jobs.try_recv() {
                Ok(job) => {
                    weight += job.weight();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let (failed, commit) = run_group(&conn, &mut group);
        let commit = commit.as_ref().map(|_| ()).map_err(String::as_str);
        for (job, failed) in group.into_iter().zip(failed) {
            // A failed job was left out of the transaction; it answers with
            // its own error whatever became of the others.
            job.finish(if failed { Ok(()) } else { commit });
        }
    }
}

/// Runs a group in one transaction. Returns which jobs failed (and were left
/// out) and whether the others committed, or why not.
fn run_group(
    conn: &Connection,
    group: &mut [Box<dyn WriteJob>],
) -> (Vec<bool>, Result<(), String>) {
    let mut failed = vec![false; group.len()];
    loop {
        let attempt = (|| -> rusqlite::Result<bool> {
            // IMMEDIATE: take the write lock now rather than on first write.
            conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            for (job, failed) in group.iter_mut().zip(failed.iter_mut()) {
                if !*failed && !job.apply(conn) {
                    *failed = true;
                    return Ok(false);
                }
            }
            conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(true)
        })();
        match attempt {
            Ok(true) => return (failed, Ok(())),
            // Undo the group and run it again without the failed job; each
            // round leaves one more out, so this ends.
            Ok(false) => {
                if let Err(e) = conn.execute_batch("ROLLBACK") {
                    return (failed, Err(format!("write transaction failed: {e}")));
                }
            }
            Err(e) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                return (failed, Err(format!("write transaction failed: {e}")));
            }
        }
    }
}

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
    let mut deltas: HashMap<(i64, i64, i64), i64> = HashMap::new();
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
            // A replace may move the record to another hour.
            add_to_buckets(&mut deltas, r.sdk_app_id, old_time, -1);
            outcomes.push(WriteOutcome::Replaced);
        }
        add_to_buckets(&mut deltas, r.sdk_app_id, r.time, 1);
    }

    bump_buckets(conn, deltas)?;
    Ok(outcomes)
}

/// Counts a record in (or, with -1, out of) its bucket at every span.
fn add_to_buckets(
    deltas: &mut HashMap<(i64, i64, i64), i64>,
    sdk_app_id: i64,
    time: i64,
    delta: i64,
) {
    for span in SPANS {
        *deltas
            .entry((sdk_app_id, span, time.div_euclid(span)))
            .or_default() += delta;
    }
}

/// Adds `deltas` to the buckets; emptied buckets go, so a bucket walk only
/// sees periods with records.
fn bump_buckets(
    conn: &Connection,
    deltas: HashMap<(i64, i64, i64), i64>,
) -> Result<(), StoreError> {
    let mut bump = conn.prepare_cached(
        "INSERT INTO cdr_bucket (sdk_app_id, span, start, count) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (sdk_app_id, span, start) DO UPDATE SET count = count + excluded.count",
    )?;
    let mut prune = conn.prepare_cached(
        "DELETE FROM cdr_bucket WHERE sdk_app_id = ?1 AND span = ?2 AND start = ?3 AND count = 0",
    )?;
    for ((sdk_app_id, span, start), delta) in deltas {
        if delta == 0 {
            continue;
        }
        bump.execute(params![sdk_app_id, span, start, delta])?;
        if delta < 0 {
            prune.execute(params![sdk_app_id, span, start])?;
        }
    }
    Ok(())
}
