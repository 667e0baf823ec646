//! The single writer thread and its group commit, for any backend.
//!
//! SQLite lets one connection write at a time, and on every backend a
//! durable commit costs an fsync whatever its size. So one thread owns the
//! write connection; callers
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
//!
//! A bulk load instead streams batches to the thread ([`Writer::stream`]):
//! it runs alone between groups and commits every so many records as they
//! arrive, so the writer starts on the first few hundred records rather than
//! a whole transaction's worth, and no transaction has to be held in memory.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use crate::StoreError;

/// A write connection as the writer thread drives it: plain transaction
/// control. A backend whose connection can break reconnects in `begin`.
pub(crate) trait TxConnection: Send + 'static {
    fn begin(&mut self) -> Result<(), String>;
    fn commit(&mut self) -> Result<(), String>;
    /// Undoes the open transaction, if any.
    fn rollback(&mut self) -> Result<(), String>;
    /// Runs once after the last job, outside any transaction.
    fn close(&mut self) {}
}

/// Upper bound on the records one group takes before committing, so a flood
/// of batches still commits (and answers) in bounded steps. A single larger
/// batch is still written whole.
const MAX_GROUP_WEIGHT: usize = 20_000;

/// One unit of work for the writer thread.
trait WriteJob<C>: Send {
    /// Does the work inside the open transaction. False when it failed; the
    /// group is then rolled back and run again without this job, so `apply`
    /// may run more than once and only its last result counts.
    fn apply(&mut self, conn: &mut C) -> bool;
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

impl<C, T, F> WriteJob<C> for Call<T, F>
where
    T: Send,
    F: Fn(&mut C) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, conn: &mut C) -> bool {
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

/// What the writer thread is handed: a job for the next group, or work that
/// runs alone and manages its own transactions.
enum Job<C> {
    Group(Box<dyn WriteJob<C>>),
    Alone(Box<dyn FnOnce(&mut C) + Send>),
}

/// Batches queued for a stream ahead of the writer: enough to keep it busy
/// while the caller produces the next, few enough to bound memory.
const STREAM_QUEUE: usize = 8;

/// Handle on the writer thread. Dropping it lets the thread finish the jobs
/// already queued, then joins it.
pub(crate) struct Writer<C> {
    sender: Option<Sender<Job<C>>>,
    thread: Option<JoinHandle<()>>,
}

impl<C: TxConnection> Writer<C> {
    /// Starts the writer thread, named `name`, on `conn` (already configured
    /// and migrated).
    pub(crate) fn spawn(name: &str, conn: C) -> Result<Writer<C>, StoreError> {
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
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
        F: Fn(&mut C) -> Result<T, StoreError> + Send + 'static,
    {
        let sender = self.sender.as_ref().ok_or(StoreError::Closed)?;
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Call {
            work,
            result: None,
            reply,
            weight,
        };
        sender
            .send(Job::Group(Box::new(job)))
            .map_err(|_| StoreError::Closed)?;
        // A dropped reply sender means the writer thread died mid-group.
        answer.recv().map_err(|_| StoreError::Closed)?
    }

    /// Writes `batches`, in order, with `write`, committing once at least
    /// `commit_every` records (by `weight`) are written since the last
    /// commit, and at the end. `on_commit` hears each committed
    /// transaction's results in order, on the caller's thread, while later
    /// batches are still being written. The first error rolls back the open
    /// transaction and ends the stream; what was committed stays. The
    /// stream has the thread to itself: other calls wait until it ends.
    pub(crate) fn stream<B, T>(
        &self,
        batches: &mut dyn Iterator<Item = B>,
        commit_every: usize,
        weight: fn(&B) -> usize,
        write: impl Fn(&mut C, &B) -> Result<T, StoreError> + Send + 'static,
        on_commit: &mut dyn FnMut(Vec<T>),
    ) -> Result<(), StoreError>
    where
        B: Send + 'static,
        T: Send + 'static,
    {
        let sender = self.sender.as_ref().ok_or(StoreError::Closed)?;
        let (batch_tx, batch_rx) = mpsc::sync_channel::<B>(STREAM_QUEUE);
        let (commit_tx, commit_rx) = mpsc::channel::<Result<Vec<T>, StoreError>>();
        let work = move |conn: &mut C| {
            let mut open = false;
            let outcome = (|| -> Result<(), StoreError> {
                let mut results = Vec::new();
                let mut written = 0;
                for batch in batch_rx.iter() {
                    if !open {
                        conn.begin().map_err(StoreError::Database)?;
                        open = true;
                    }
                    results.push(write(conn, &batch)?);
                    written += weight(&batch);
                    if written >= commit_every {
                        conn.commit().map_err(StoreError::Database)?;
                        open = false;
                        written = 0;
                        // The caller may have stopped listening: then the
                        // next receive finds the batch channel closed.
                        let _ = commit_tx.send(Ok(std::mem::take(&mut results)));
                    }
                }
                if open {
                    conn.commit().map_err(StoreError::Database)?;
                    open = false;
                    let _ = commit_tx.send(Ok(results));
                }
                Ok(())
            })();
            if let Err(e) = outcome {
                if open {
                    let _ = conn.rollback();
                }
                let _ = commit_tx.send(Err(e));
            }
        };
        sender
            .send(Job::Alone(Box::new(work)))
            .map_err(|_| StoreError::Closed)?;

        let (mut sent, mut committed) = (0usize, 0usize);
        let mut failed = None;
        let mut deliver = |commit: Result<Vec<T>, StoreError>| match commit {
            Ok(results) => {
                committed += results.len();
                on_commit(results);
            }
            Err(e) => failed = Some(e),
        };
        for batch in batches {
            // A closed channel means the writer stopped on an error, which
            // is waiting in the commit channel.
            if batch_tx.send(batch).is_err() {
                break;
            }
            sent += 1;
            while let Ok(commit) = commit_rx.try_recv() {
                deliver(commit);
            }
        }
        drop(batch_tx);
        // Ends when the writer drops its sender: after the last commit or an
        // error, or when the writer thread died.
        for commit in commit_rx.iter() {
            deliver(commit);
        }
        match failed {
            Some(e) => Err(e),
            None if committed < sent => Err(StoreError::Closed),
            None => Ok(()),
        }
    }
}

impl<C> Drop for Writer<C> {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop after the queued jobs.
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread's loop: one group transaction per wake-up, and work
/// that runs alone in its turn.
fn run<C: TxConnection>(mut conn: C, jobs: Receiver<Job<C>>) {
    let mut next = None;
    while let Some(job) = next.take().or_else(|| jobs.recv().ok()) {
        let first = match job {
            Job::Group(first) => first,
            Job::Alone(work) => {
                work(&mut conn);
                continue;
            }
        };
        let mut weight = first.weight();
        let mut group = vec![first];
        while weight < MAX_GROUP_WEIGHT {
            match jobs.try_recv() {
                Ok(Job::Group(job)) => {
                    weight += job.weight();
                    group.push(job);
                }
                Ok(alone) => {
                    // It runs after this group, in arrival order.
                    next = Some(alone);
                    break;
                }
                Err(_) => break,
            }
        }
        let (failed, commit) = run_group(&mut conn, &mut group);
        let commit = commit.as_ref().map(|_| ()).map_err(String::as_str);
        for (job, failed) in group.into_iter().zip(failed) {
            // A failed job was left out of the transaction; it answers with
            // its own error whatever became of the others.
            job.finish(if failed { Ok(()) } else { commit });
        }
    }
    conn.close();
}

/// Runs a group in one transaction. Returns which jobs failed (and were left
/// out) and whether the others committed, or why not.
fn run_group<C: TxConnection>(
    conn: &mut C,
    group: &mut [Box<dyn WriteJob<C>>],
) -> (Vec<bool>, Result<(), String>) {
    let mut failed = vec![false; group.len()];
    loop {
        let attempt = (|| -> Result<bool, String> {
            conn.begin()?;
            for (job, failed) in group.iter_mut().zip(failed.iter_mut()) {
                if !*failed && !job.apply(conn) {
                    *failed = true;
                    return Ok(false);
                }
            }
            conn.commit()?;
            Ok(true)
        })();
        match attempt {
            Ok(true) => return (failed, Ok(())),
            // Undo the group and run it again without the failed job; each
            // round leaves one more out, so this ends.
            Ok(false) => {
                if let Err(e) = conn.rollback() {
                    return (failed, Err(format!("write transaction failed: {e}")));
                }
            }
            Err(e) => {
                let _ = conn.rollback();
                return (failed, Err(format!("write transaction failed: {e}")));
            }
        }
    }
}
