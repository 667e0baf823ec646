//! `telcdr sync`: pulls an app's call records from Tencent Cloud CCC — or
//! from any telcdr — into the local store, with their recordings, voicemails
//! and transcripts, so they are kept after CCC's links expire (24 h) and
//! its records (180 days).
//!
//! A fetcher thread pages DescribeTelCdr (signed with TC3-HMAC-SHA256, paced
//! by `--rate`) through time windows from the start to now minus `--lag`,
//! oldest window first, every page of each (`windows.rs`). Parser threads
//! validate each record as an import line (`parse_record_line`). A writer
//! thread takes the pages back in the order they were read, writes them
//! with `put_records` (identity (SdkAppId, SessionId): a record fetched
//! twice replaces itself), fetches the media they name (`media.rs`), and
//! only then saves the cursor, the end of the last complete window, in the
//! local store's settings (`sync.cursor.<endpoint>.<SdkAppId>`). A run that
//! stops anywhere (even `kill -9`) is resumed from the cursor by the next:
//! windows after it are read again, records in them replace themselves,
//! media already held are not fetched again.
//!
//! `--follow` then polls every `--interval` seconds from the cursor to now
//! minus `--lag` until Ctrl-C. `--dry-run` only pages through the windows
//! and discards what it reads: the floor the upstream sets.

mod client;
mod media;
mod windows;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use telcdr_media::MediaStore;
use telcdr_model::parse_record_line;
use telcdr_store::{NewRecord, Store, WriteOutcome};

use self::client::{ApiClient, CallError, CdrPage, ClientConfig, Endpoint};
use self::windows::{DAY, LOOKBACK_DAYS, Planner, cursor_name, parse_span, utc};
use crate::config::Config;

/// Records per page: DescribeTelCdr's most.
const PAGE_SIZE: u64 = 100;
/// Reads of a window whose TotalCount changes while it is paged.
const WINDOW_READS: u32 = 3;
/// Records written per transaction at most: as many as an import batch.
/// Each transaction rewrites the index pages its records touch, so fewer,
/// bigger ones write less (20,000 took a tenth longer on 1M records).
const FLUSH_AT: usize = 50_000;
/// How long the writer waits for more before writing what it has.
const FLUSH_IDLE: Duration = Duration::from_millis(100);
/// Pages the fetcher may be ahead of the parser.
const QUEUED_PAGES: usize = 64;
/// Parsed pages the parser may be ahead of the writer: more than a
/// transaction's worth, so the parser works while the writer commits.
const PARSED_PAGES: usize = 2 * FLUSH_AT / PAGE_SIZE as usize;

/// Set on Ctrl-C or SIGTERM: requests, waits and downloads stop.
static STOP: AtomicBool = AtomicBool::new(false);

#[derive(clap::Args)]
pub struct SyncArgs {
    /// The API endpoint: https://ccc.tencentcloudapi.com, or a telcdr such
    /// as http://127.0.0.1:8900
    #[arg(long, value_name = "URL")]
    endpoint: String,
    /// SecretId of a key that may read the app
    #[arg(long, env = "TENCENTCLOUD_SECRET_ID", hide_env_values = true)]
    secret_id: String,
    /// SecretKey of that key
    #[arg(long, env = "TENCENTCLOUD_SECRET_KEY", hide_env_values = true)]
    secret_key: String,
    /// The SdkAppId whose records to pull
    #[arg(long)]
    sdk_app_id: i64,
    /// X-TC-Region of the requests ("" sends none)
    #[arg(long, default_value = "ap-guangzhou")]
    region: String,
    /// Where the first run starts: this far back from now (30d, 12h, 90m;
    /// at most 180d, as far back as CCC keeps records) [default: 30d]. A
    /// later run starts from the saved cursor instead
    #[arg(long, conflicts_with = "from")]
    since: Option<String>,
    /// Start at this Unix time (seconds), even when a cursor is saved
    #[arg(long, value_name = "UNIX_TIME")]
    from: Option<i64>,
    /// After catching up, keep polling for new records until Ctrl-C
    #[arg(long)]
    follow: bool,
    /// Seconds between polls with --follow
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    interval: u64,
    /// Records whose calls started in the last SECONDS are left for the next
    /// run or poll: CCC writes a record when its call ends
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    lag: i64,
    /// API requests per second at most (CCC allows 20); 0: no limit
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// Media files fetched at once
    #[arg(long, default_value_t = 4, value_name = "N")]
    media_workers: usize,
    /// Timeout of one HTTP request, seconds
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
    /// Times a request is sent again after a network error or a 5xx
    #[arg(long, default_value_t = 5, value_name = "N")]
    retries: u32,
    /// Only page through the windows and discard the records (nothing is
    /// written, no cursor is read or saved): how fast the upstream answers
    #[arg(long, conflicts_with = "follow")]
    dry_run: bool,
    /// Where recordings and transcripts are stored: a directory or
    /// s3://bucket/prefix [env: TELCDR_MEDIA] [default: DATA_DIR/media]
    #[arg(long, value_name = "URL")]
    pub media: Option<String>,
}

/// What a run did so far (shared by the threads of a pass).
#[derive(Default)]
struct Totals {
    new: AtomicU64,
    replaced: AtomicU64,
    rejected: AtomicU64,
    media: AtomicU64,
    failed_media: AtomicU64,
    /// Windows read (`--dry-run`) or cursor saves (a sync).
    windows: AtomicU64,
    /// Records read (what `--dry-run` counts).
    fetched: AtomicU64,
}

impl Totals {
    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
    fn snapshot(&self) -> [u64; 5] {
        [
            Self::get(&self.new),
            Self::get(&self.replaced),
            Self::get(&self.media),
            Self::get(&self.failed_media),
            Self::get(&self.rejected),
        ]
    }
}

/// What a pass, the run of one span, shares.
struct Pass<'a> {
    client: &'a ApiClient,
    store: &'a dyn Store,
    media: &'a MediaStore,
    sdk_app_id: i64,
    cursor: &'a str,
    workers: usize,
    totals: &'a Totals,
    progress: &'a ProgressBar,
    /// The first second of the bar.
    origin: i64,
}

/// How a pass ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Done,
    Stopped,
}

/// A message from the fetcher to the parser.
enum Message {
    /// A page's records as import lines.
    Page(Vec<Vec<u8>>),
    /// Every page of the window was sent.
    WindowDone((i64, i64)),
}

/// A message from the parser to the writer.
enum Parsed {
    /// A page's valid records and the media files they name.
    Records {
        records: Vec<NewRecord>,
        jobs: Vec<media::Job>,
    },
    WindowDone((i64, i64)),
}

pub fn run(config: &Config, args: &SyncArgs) -> Result<ExitCode> {
    if args.sdk_app_id <= 0 {
        bail!(
            "--sdk-app-id must be a positive integer (such as 1400000000), got {}",
            args.sdk_app_id
        );
    }
    if args.secret_id.trim().is_empty() || args.secret_key.trim().is_empty() {
        bail!("--secret-id and --secret-key must not be empty");
    }
    if args.lag < 0 {
        bail!("--lag must not be negative, got {}", args.lag);
    }
    if args.interval == 0 {
        bail!("--interval must be at least 1 second");
    }
    let endpoint = Endpoint::parse(&args.endpoint)?;
    let client = ApiClient::new(
        ClientConfig {
            endpoint: endpoint.clone(),
            secret_id: args.secret_id.trim().to_owned(),
            secret_key: args.secret_key.trim().to_owned(),
            region: args.region.clone(),
            rate: args.rate,
            timeout: Duration::from_secs(args.timeout.max(1)),
            retries: args.retries,
        },
        &STOP,
    )?;
    watch_signals();
    let now = super::unix_now();
    let since_start = |now: i64| -> Result<i64> {
        let text = args.since.as_deref().unwrap_or("30d");
        let span = parse_span(text)?;
        if span > LOOKBACK_DAYS * DAY {
            bail!(
                "--since {text} reaches back {} days, but Tencent Cloud CCC keeps call records for {LOOKBACK_DAYS} days \
                 and refuses older starts; to pull older records from a telcdr that keeps them, give --from UNIX_TIME",
                span / DAY
            );
        }
        // A start exactly 180 days back would be older than that by the time
        // CCC reads it: keep ten minutes inside the limit.
        Ok((now - span).max(now - LOOKBACK_DAYS * DAY + 600))
    };
    let started = Instant::now();
    let totals = Totals::default();

    if args.dry_run {
        let start = match args.from {
            Some(from) => from,
            None => since_start(now)?,
        };
        let end = now - args.lag;
        eprintln!(
            "dry run: reading SdkAppId {} from {}, {} to {}, and discarding it",
            args.sdk_app_id,
            endpoint.name,
            utc(start),
            utc(end)
        );
        let progress = progress_bar(start, end);
        let mut sink = |message: Message| {
            match message {
                Message::Page(lines) => {
                    Totals::add(&totals.fetched, lines.len() as u64);
                }
                Message::WindowDone((_, b)) => {
                    Totals::add(&totals.windows, 1);
                    progress.set_position((b - start + 1) as u64);
                }
            }
            true
        };
        let fetched = fetch_span(&client, args.sdk_app_id, (start, end), &mut sink, &progress);
        progress.finish_and_clear();
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        let n = Totals::get(&totals.fetched);
        println!(
            "dry run: read {n} records in {} windows, {} requests ({} throttled) in {secs:.1} s ({:.0} records/s); nothing written",
            Totals::get(&totals.windows),
            Totals::get(&client.counters.requests),
            Totals::get(&client.counters.throttled),
            n as f64 / secs
        );
        return match fetched {
            Ok(Ended::Done) => Ok(ExitCode::SUCCESS),
            Ok(Ended::Stopped) => Ok(ExitCode::from(130)),
            Err(e) => Err(e),
        };
    }

    // A one-off sync is a bulk load (whole windows, FLUSH_AT records to a
    // transaction); one that follows runs beside a server for good and must
    // not keep it out.
    let store = if args.follow {
        super::open_store(config)?
    } else {
        super::open_store_for_bulk_load(config)?
    };
    let media = super::open_media(config)?;
    let cursor = cursor_name(&endpoint.name, args.sdk_app_id);
    let saved = match store.setting(&cursor)? {
        Some(text) => Some(
            text.trim()
                .parse::<i64>()
                .map_err(|_| anyhow!("the saved cursor {cursor} = {text:?} is not a Unix time"))?,
        ),
        None => None,
    };
    let mut start = match (args.from, saved) {
        (Some(from), Some(at)) => {
            eprintln!(
                "starting at --from {} ({}) instead of the saved cursor ({})",
                from,
                utc(from),
                utc(at)
            );
            from
        }
        (Some(from), None) => from,
        (None, Some(at)) => {
            eprintln!(
                "resuming from the saved cursor {cursor}: records up to {} are synced",
                utc(at)
            );
            if args.since.is_some() {
                eprintln!("(--since applies to a first run only; give --from to start elsewhere)");
            }
            at + 1
        }
        (None, None) => since_start(now)?,
    };
    let mut end = now - args.lag;
    if start <= end {
        eprintln!(
            "syncing SdkAppId {} from {}: {} to {}",
            args.sdk_app_id,
            endpoint.name,
            utc(start),
            utc(end)
        );
    } else {
        eprintln!(
            "nothing to sync before {} (calls of the last {} s are left for later: --lag)",
            utc(end),
            args.lag
        );
    }
    let progress = progress_bar(start, end);
    let mut pass = Pass {
        client: &client,
        store: store.as_ref(),
        media: &media,
        sdk_app_id: args.sdk_app_id,
        cursor: &cursor,
        workers: args.media_workers.max(1),
        totals: &totals,
        progress: &progress,
        origin: start,
    };
    let mut caught_up = false;
    let outcome = loop {
        let before = totals.snapshot();
        let ended = if start <= end {
            match run_pass(&pass, (start, end)) {
                Ok(ended) => Some(ended),
                // Once caught up, --follow rides out an unreachable upstream.
                Err(e) if caught_up && is_transport(&e) => {
                    eprintln!(
                        "{}: {e:#}; trying again in {} s",
                        utc(super::unix_now()),
                        args.interval
                    );
                    None
                }
                Err(e) => break Err(explain(e, start)),
            }
        } else {
            Some(Ended::Done)
        };
        match ended {
            Some(Ended::Stopped) => break Ok(Ended::Stopped),
            Some(Ended::Done) => start = start.max(end + 1),
            // Resume after what the failed pass completed.
            None => {
                if let Some(at) = store
                    .setting(&cursor)?
                    .and_then(|t| t.trim().parse::<i64>().ok())
                {
                    start = start.max(at + 1);
                }
            }
        }
        if !args.follow {
            break Ok(Ended::Done);
        }
        if !caught_up {
            caught_up = true;
            progress.finish_and_clear();
            eprintln!(
                "caught up to {}; polling every {} s (Ctrl-C to stop)",
                utc(end),
                args.interval
            );
        } else {
            let after = totals.snapshot();
            let d: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
            if d.iter().any(|n| *n > 0) {
                eprintln!(
                    "{}: synced {} records ({} new, {} replaced), {} media files, {} failed downloads, up to {}",
                    utc(super::unix_now()),
                    d[0] + d[1],
                    d[0],
                    d[1],
                    d[2],
                    d[3],
                    utc(end)
                );
            }
        }
        if !client.sleep(Duration::from_secs(args.interval)) {
            break Ok(Ended::Stopped);
        }
        end = super::unix_now() - args.lag;
        pass.origin = start;
    };
    progress.finish_and_clear();
    let [new, replaced, media_files, failed, rejected] = totals.snapshot();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let records = new + replaced;
    println!(
        "synced {records} records ({new} new, {replaced} replaced), {media_files} media files, {failed} failed downloads, \
         {} requests ({} throttled) in {secs:.1} s ({:.0} records/s)",
        Totals::get(&client.counters.requests),
        Totals::get(&client.counters.throttled),
        records as f64 / secs
    );
    if rejected > 0 {
        println!("{rejected} records failed validation and were skipped (reasons above)");
    }
    match outcome {
        Ok(Ended::Done) => Ok(ExitCode::SUCCESS),
        Ok(Ended::Stopped) if args.follow => Ok(ExitCode::SUCCESS),
        Ok(Ended::Stopped) => {
            eprintln!("interrupted: run again to resume from the cursor");
            Ok(ExitCode::from(130))
        }
        Err(e) => {
            if records > 0 {
                eprintln!(
                    "the records above are kept; the next run resumes from the cursor {cursor}"
                );
            }
            Err(e)
        }
    }
}

/// Whether a pass failed for the network's sake (after its retries).
fn is_transport(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<CallError>(), Some(CallError::Transport(_)))
}

/// Adds what to do about a refusal a user can fix.
fn explain(e: anyhow::Error, start: i64) -> anyhow::Error {
    let hint = match e.downcast_ref::<CallError>() {
        Some(CallError::Api { code, .. }) if code.starts_with("AuthFailure.SignatureExpire") => {
            Some("this machine's clock is more than five minutes off the endpoint's".to_owned())
        }
        Some(CallError::Api { code, .. }) if code.starts_with("AuthFailure") => {
            Some("check --secret-id and --secret-key (or TENCENTCLOUD_SECRET_ID/_KEY)".to_owned())
        }
        Some(CallError::Api { code, .. })
            if code.contains("InstanceNotExist") || code.starts_with("UnauthorizedOperation") =>
        {
            Some("the key's account does not own this --sdk-app-id".to_owned())
        }
        Some(CallError::Api { code, .. })
            if code.starts_with("InvalidParameterValue")
                && start < super::unix_now() - LOOKBACK_DAYS * DAY =>
        {
            Some(format!(
                "the start, {}, is more than {LOOKBACK_DAYS} days ago, which CCC refuses: give a later --from",
                utc(start)
            ))
        }
        _ => None,
    };
    match hint {
        Some(hint) => anyhow!("{e:#}\n  hint: {hint}"),
        None => e,
    }
}

/// Syncs `span`: a fetcher (this thread) and a writer, joined by a queue
/// of pages.
fn run_pass(pass: &Pass, span: (i64, i64)) -> Result<Ended> {
    let (tx, rx) = mpsc::sync_channel::<(u64, Message)>(QUEUED_PAGES);
    let (parsed_tx, parsed_rx) = mpsc::sync_channel::<(u64, Parsed)>(PARSED_PAGES);
    let rx = std::sync::Mutex::new(rx);
    let parsers = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    std::thread::scope(|scope| {
        for _ in 0..parsers {
            let (rx, tx) = (&rx, parsed_tx.clone());
            scope.spawn(move || parse_pages(pass, rx, tx));
        }
        drop(parsed_tx);
        let writer = scope.spawn(|| write_pages(pass, InOrder::new(parsed_rx)));
        let mut seq = 0u64;
        let mut sink = |message: Message| {
            seq += 1;
            tx.send((seq, message)).is_ok()
        };
        let fetched = fetch_span(pass.client, pass.sdk_app_id, span, &mut sink, pass.progress);
        drop(tx);
        let written = writer
            .join()
            .map_err(|_| anyhow!("the writer thread panicked"))?;
        // The writer's error explains a fetcher that found the queue closed.
        let written = written?;
        let fetched = fetched?;
        Ok(if written == Ended::Stopped || fetched == Ended::Stopped {
            Ended::Stopped
        } else {
            Ended::Done
        })
    })
}

/// The parsers' output in the order the fetcher sent it.
struct InOrder {
    rx: mpsc::Receiver<(u64, Parsed)>,
    next: u64,
    early: std::collections::BTreeMap<u64, Parsed>,
}

impl InOrder {
    fn new(rx: mpsc::Receiver<(u64, Parsed)>) -> InOrder {
        InOrder {
            rx,
            next: 1,
            early: std::collections::BTreeMap::new(),
        }
    }

    /// The next message; None when every parser is done, or (with a
    /// timeout) when it has not arrived in time.
    fn recv(&mut self, timeout: Option<Duration>) -> Option<Parsed> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(message) = self.early.remove(&self.next) {
                self.next += 1;
                return Some(message);
            }
            let (seq, message) = match deadline {
                None => self.rx.recv().ok()?,
                Some(deadline) => self
                    .rx
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .ok()?,
            };
            self.early.insert(seq, message);
        }
    }
}

/// Reads every window of `span`, oldest first, into `sink` (false: the
/// reader went away).
fn fetch_span(
    client: &ApiClient,
    sdk_app_id: i64,
    span: (i64, i64),
    sink: &mut dyn FnMut(Message) -> bool,
    progress: &ProgressBar,
) -> Result<Ended> {
    let mut planner = Planner::new(span.0, span.1);
    while let Some(window) = planner.window() {
        let first = match page(client, sdk_app_id, window, 0) {
            Err(CallError::Stopped) => return Ok(Ended::Stopped),
            other => other?,
        };
        if planner.too_big(window, first.total) {
            continue;
        }
        let total = match read_window(client, sdk_app_id, window, first, sink, progress) {
            Err(CallError::Stopped) => return Ok(Ended::Stopped),
            other => other?,
        };
        let Some(total) = total else {
            return Ok(Ended::Done); // the writer stopped; it says why
        };
        planner.done(window, total);
        if !sink(Message::WindowDone(window)) {
            return Ok(Ended::Done);
        }
    }
    Ok(Ended::Done)
}

fn page(
    client: &ApiClient,
    sdk_app_id: i64,
    (a, b): (i64, i64),
    number: u64,
) -> Result<CdrPage, CallError> {
    client.describe_tel_cdr(sdk_app_id, a, b, number, PAGE_SIZE)
}

/// Sends every page of a window; reads it again when its TotalCount
/// changed meanwhile (a record arriving in it could shift one past us).
/// Returns its total, or None when the sink closed.
fn read_window(
    client: &ApiClient,
    sdk_app_id: i64,
    window: (i64, i64),
    first: CdrPage,
    sink: &mut dyn FnMut(Message) -> bool,
    progress: &ProgressBar,
) -> Result<Option<u64>, CallError> {
    let mut first = Some(first);
    let mut total = 0;
    for read in 1..=WINDOW_READS {
        let page0 = match first.take() {
            Some(page0) => page0,
            None => page(client, sdk_app_id, window, 0)?,
        };
        total = page0.total;
        let pages = total.div_ceil(PAGE_SIZE);
        let mut stable = true;
        if !sink(Message::Page(page0.lines)) {
            return Ok(None);
        }
        for number in 1..pages {
            let next = page(client, sdk_app_id, window, number)?;
            stable &= next.total == total;
            let empty = next.lines.is_empty();
            if !sink(Message::Page(next.lines)) {
                return Ok(None);
            }
            if empty {
                stable = false;
                break;
            }
        }
        if stable {
            return Ok(Some(total));
        }
        progress.suspend(|| {
            eprintln!(
                "the window {} .. {} changed while it was read{}",
                utc(window.0),
                utc(window.1),
                if read < WINDOW_READS {
                    ": reading it again"
                } else {
                    "; moving on (a late record in it may be missed until a run with --from before it)"
                }
            )
        });
    }
    Ok(Some(total))
}

/// A parser (one per core, up to four): validates each record of a page as
/// an import line, so parsing overlaps the fetcher's requests and the
/// writer's transactions; the writer puts the pages back in order.
fn parse_pages(
    pass: &Pass,
    rx: &std::sync::Mutex<mpsc::Receiver<(u64, Message)>>,
    tx: mpsc::SyncSender<(u64, Parsed)>,
) {
    loop {
        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok((seq, message)) = next else { return };
        let parsed = match message {
            Message::Page(lines) => {
                let mut records = Vec::with_capacity(lines.len());
                let mut jobs = Vec::new();
                for line in lines {
                    match parse_record_line(&line) {
                        Ok(record) => {
                            media::jobs_for(&record, &mut jobs);
                            records.push(NewRecord::from_imported(&record));
                        }
                        Err(why) => {
                            Totals::add(&pass.totals.rejected, 1);
                            let session = session_of(&line);
                            pass.progress
                                .suspend(|| eprintln!("SessionId {session}: rejected: {why}"));
                        }
                    }
                }
                Parsed::Records { records, jobs }
            }
            Message::WindowDone(window) => Parsed::WindowDone(window),
        };
        if tx.send((seq, parsed)).is_err() {
            return; // the writer stopped; it says why
        }
    }
}

/// The writer: writes records, fetches their media, saves the cursor after
/// complete windows. Windows that arrive back to back share a transaction
/// (up to [`FLUSH_AT`] records: big transactions write the indexes once for
/// many records); when the queue stays empty for [`FLUSH_IDLE`], what is
/// there is written at once, so a slow upstream still moves the cursor.
fn write_pages(pass: &Pass, mut rx: InOrder) -> Result<Ended> {
    let mut batch: Vec<NewRecord> = Vec::new();
    let mut jobs: Vec<media::Job> = Vec::new();
    // The last complete window in the batch: the cursor once it is written.
    let mut due: Option<(i64, i64)> = None;
    let mut waiting: Option<Parsed> = None;
    let report = |line: &str| pass.progress.suspend(|| eprintln!("{line}"));
    let write = |batch: &mut Vec<NewRecord>,
                 jobs: &mut Vec<media::Job>,
                 due: &mut Option<(i64, i64)>|
     -> Result<bool> {
        if flush(pass, batch, jobs, &report)? {
            return Ok(true);
        }
        if let Some(window) = due.take() {
            save_cursor(pass, window)?;
        }
        Ok(false)
    };
    loop {
        let message = match waiting.take() {
            Some(message) => message,
            None => match rx.recv(None) {
                Some(message) => message,
                None => break,
            },
        };
        match message {
            Parsed::Records {
                mut records,
                jobs: mut more,
            } => {
                batch.append(&mut records);
                jobs.append(&mut more);
                if batch.len() >= FLUSH_AT && write(&mut batch, &mut jobs, &mut due)? {
                    return Ok(Ended::Stopped);
                }
            }
            Parsed::WindowDone(window) => {
                due = Some(window);
                let now = batch.len() >= FLUSH_AT
                    || match rx.recv(Some(FLUSH_IDLE)) {
                        Some(message) => {
                            waiting = Some(message);
                            false
                        }
                        None => true,
                    };
                if now && write(&mut batch, &mut jobs, &mut due)? {
                    return Ok(Ended::Stopped);
                }
            }
        }
    }
    // The fetcher is done, or ended mid-window: what it read is written,
    // the cursor moves past the complete windows only.
    if write(&mut batch, &mut jobs, &mut due)? {
        return Ok(Ended::Stopped);
    }
    Ok(Ended::Done)
}

/// Remembers that everything up to the end of `window` is synced.
fn save_cursor(pass: &Pass, (a, b): (i64, i64)) -> Result<()> {
    pass.store
        .set_setting(pass.cursor, &b.to_string())
        .with_context(|| format!("saving the cursor {}", pass.cursor))?;
    Totals::add(&pass.totals.windows, 1);
    tracing::debug!("records up to {b} written (window from {a}), cursor saved");
    let t = pass.totals;
    pass.progress
        .set_position(u64::try_from(b - pass.origin + 1).unwrap_or(0));
    pass.progress.set_message(format!(
        "{} records, {} media, {} failed, to {}",
        Totals::get(&t.new) + Totals::get(&t.replaced),
        Totals::get(&t.media),
        Totals::get(&t.failed_media),
        utc(b).get(..10).unwrap_or_default()
    ));
    Ok(())
}

/// Writes the batch, then fetches the media its records name; true when
/// Ctrl-C cut the media short (the cursor must not move).
fn flush(
    pass: &Pass,
    batch: &mut Vec<NewRecord>,
    jobs: &mut Vec<media::Job>,
    report: &(dyn Fn(&str) + Sync),
) -> Result<bool> {
    if !batch.is_empty() {
        let outcomes = pass
            .store
            .put_records(std::mem::take(batch))
            .context("writing records to the local store")?;
        let new = outcomes
            .iter()
            .filter(|o| **o == WriteOutcome::Inserted)
            .count() as u64;
        Totals::add(&pass.totals.new, new);
        Totals::add(&pass.totals.replaced, outcomes.len() as u64 - new);
    }
    let wanted = media::not_held(pass.store, pass.sdk_app_id, std::mem::take(jobs))?;
    if wanted.is_empty() {
        return Ok(pass.client.stopped());
    }
    let tally = media::run_jobs(
        pass.client,
        pass.store,
        pass.media,
        wanted,
        pass.workers,
        report,
    )?;
    Totals::add(&pass.totals.media, tally.stored);
    Totals::add(&pass.totals.failed_media, tally.failed);
    Ok(tally.stopped || pass.client.stopped())
}

/// The SessionId of a line that failed validation, for its message.
fn session_of(line: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "SessionId")]
        session_id: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Id>(line)
        .ok()
        .and_then(|id| id.session_id)
    {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => "(none)".to_owned(),
    }
}

/// A bar over the seconds of the span (how far the cursor is), with the
/// counts, on a terminal; nothing otherwise.
fn progress_bar(start: i64, end: i64) -> ProgressBar {
    let len = u64::try_from(end - start + 1).unwrap_or(0);
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Ctrl-C or SIGTERM once: stop after the current request, keep what is
/// written, print the summary. Twice: quit at once (the cursor is safe).
fn watch_signals() {
    std::thread::spawn(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            #[cfg(unix)]
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            loop {
                #[cfg(unix)]
                {
                    let sigterm = async {
                        match term.as_mut() {
                            Some(term) => {
                                term.recv().await;
                            }
                            None => std::future::pending::<()>().await,
                        }
                    };
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = sigterm => {}
                    }
                }
                #[cfg(not(unix))]
                let _ = tokio::signal::ctrl_c().await;
                if STOP.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
                eprintln!("stopping after the current request (again to quit at once)");
            }
        });
    });
}
