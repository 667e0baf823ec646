//! The download worker: fetches the recordings and voicemails that pushes
//! announced, from the durable queue in the store, into the media store.
//!
//! Each download is tried with bounded retries and exponential backoff;
//! the queue lives in the store, so a restart resumes whatever was pending.
//! A file must be the audio its name says before it is kept. Once stored,
//! it becomes its record's media (the record's links switch to telcdr's
//! own) or, when the record has not arrived, waits for it.
//!
//! When idle, it moves media whose record has arrived from `pending/` to
//! their dated keys (`relocate`). It is a plain thread: store and media
//! calls block, and so does its HTTP client.

use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use telcdr_media::{MediaStore, ObjectKey, check_audio};
use telcdr_store::{Download, Store};
use tracing::{info, warn};

use crate::Clock;

/// How the worker fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadConfig {
    /// Attempts before a download is given up (kept as `failed`).
    pub max_attempts: u32,
    /// Wait before the second attempt, seconds; doubled each time after,
    /// up to an hour.
    pub backoff_seconds: i64,
    /// Timeout of one HTTP request, seconds.
    pub timeout_seconds: u64,
    /// Largest file accepted, bytes.
    pub max_bytes: u64,
    /// How often the queue is polled when nothing wakes the worker.
    pub poll: Duration,
}

impl Default for DownloadConfig {
    fn default() -> Self {
        DownloadConfig {
            max_attempts: 8,
            backoff_seconds: 10,
            timeout_seconds: 120,
            max_bytes: 512 << 20,
            poll: Duration::from_secs(2),
        }
    }
}

/// Wakes the worker when a push queued a download, so it does not wait
/// for its next poll.
#[derive(Clone, Default)]
pub struct DownloadWaker(Arc<(Mutex<bool>, Condvar)>);

impl DownloadWaker {
    pub fn wake(&self) {
        let (flag, signal) = &*self.0;
        if let Ok(mut woken) = flag.lock() {
            *woken = true;
            signal.notify_one();
        }
    }

    fn wait(&self, timeout: Duration) {
        let (flag, signal) = &*self.0;
        if let Ok(woken) = flag.lock()
            && let Ok((mut woken, _)) = signal.wait_timeout_while(woken, timeout, |w| !*w)
        {
            *woken = false;
        }
    }
}

/// Starts the worker thread; it runs until the process ends.
pub fn spawn(
    store: Arc<dyn Store>,
    media: Arc<MediaStore>,
    clock: Arc<dyn Clock>,
    waker: DownloadWaker,
    config: DownloadConfig,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("telcdr-downloads".into())
        .spawn(move || {
            let client = match reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(config.timeout_seconds))
                .build()
            {
                Ok(client) => client,
                Err(e) => {
                    warn!(error = %e, "downloads: cannot build the HTTP client");
                    return;
                }
            };
            loop {
                let due = match store.due_downloads(clock.now(), 16) {
                    Ok(due) => due,
                    Err(e) => {
                        warn!(error = %e, "downloads: cannot read the queue");
                        Vec::new()
                    }
                };
                if due.is_empty() {
                    // Idle: move media whose record has come out of pending/.
                    match crate::relocate::relocate_linked_media(&*store, &media, 64) {
                        Ok(0) => waker.wait(config.poll),
                        Ok(_) => {}
                        Err(e) => {
                            warn!(error = %e, "cannot move linked media out of pending/");
                            waker.wait(config.poll);
                        }
                    }
                    continue;
                }
                for job in due {
                    run_one(&*store, &media, &*clock, &client, &config, &job);
                }
            }
        })
}

fn run_one(
    store: &dyn Store,
    media: &MediaStore,
    clock: &dyn Clock,
    client: &reqwest::blocking::Client,
    config: &DownloadConfig,
    job: &Download,
) {
    match fetch_and_store(store, media, client, config, job) {
        Ok((key, size)) => {
            if let Err(e) = store.finish_download(job.id, key.as_str(), size, clock.now()) {
                // The object is stored; the next attempt stores it again.
                warn!(error = %e, name = job.name, "downloads: cannot record a finished download");
                let _ = store.retry_download(job.id, &e.to_string(), Some(clock.now() + 5));
            } else {
                info!(
                    name = job.name,
                    sdk_app_id = job.sdk_app_id,
                    size,
                    "downloaded pushed media"
                );
            }
        }
        Err(why) => {
            let attempts = job.attempts + 1;
            let next_at = (attempts < config.max_attempts).then(|| {
                let wait = config
                    .backoff_seconds
                    .saturating_mul(1 << (attempts - 1).min(20))
                    .min(3_600);
                clock.now() + wait
            });
            warn!(
                name = job.name,
                url = %redact_query(&job.url),
                attempts,
                error = %why,
                gave_up = next_at.is_none(),
                "downloads: attempt failed"
            );
            if let Err(e) = store.retry_download(job.id, &why, next_at) {
                warn!(error = %e, "downloads: cannot record a failed attempt");
            }
        }
    }
}

/// Fetches, checks and stores one file; returns where it went.
fn fetch_and_store(
    store: &dyn Store,
    media: &MediaStore,
    client: &reqwest::blocking::Client,
    config: &DownloadConfig,
    job: &Download,
) -> Result<(ObjectKey, u64), String> {
    let response = client
        .get(&job.url)
        .send()
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered HTTP {status}"));
    }
    let mut bytes = Vec::new();
    response
        .take(config.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("reading the body failed: {e}"))?;
    if bytes.len() as u64 > config.max_bytes {
        return Err(format!("the file is over {} bytes", config.max_bytes));
    }
    let ext = job.name.rsplit('.').next().unwrap_or("");
    check_audio(ext, &bytes)?;
    // Dated by its record when the record is here; else kept as pending.
    let record = store
        .find_record(job.sdk_app_id, &job.session_id)
        .map_err(|e| e.to_string())?;
    let key = match record {
        Some(r) => ObjectKey::for_media(job.sdk_app_id, r.time, &job.name),
        None => ObjectKey::pending(&job.name),
    }
    .map_err(|e| e.to_string())?;
    let size = bytes.len() as u64;
    media.put(&key, bytes).map_err(|e| e.to_string())?;
    Ok((key, size))
}

/// A URL for the log: its query (CCC's signature) left out.
fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}
