//! `telcdr export`: an app's records out of the store, as the JSON Lines
//! `telcdr import` takes back or as CSV for a spreadsheet, optionally with
//! their recordings, voicemails and transcripts.
//!
//! Records are read a page at a time in DescribeTelCdr's order (newest
//! first, ties by SessionId) with [`Store::scan_window`], so memory stays
//! the same whatever the number of records: a reader thread fetches a page
//! and renders it into one buffer while this thread writes the previous
//! one in a single write (and copies its media), and the buffers are
//! reused. At most three pages are held.
//!
//! JSON Lines are spliced from the stored bytes, never decoded: a line is
//! `{"SdkAppId":N,` + the stored TelCdrInfo body without its `{`, with
//! `,"Events":[...]` put before the final `}` when the record has events.
//! Importing the file into an empty store gives the same bodies and events,
//! so the same answers.
//!
//! A file named with `--output` is written under a temporary name in the
//! same directory and renamed at the end, so a failed export never leaves
//! half a file under the name asked for.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use telcdr_media::{MediaStore, ObjectKey};
use telcdr_model::TelCdrInfo;
use telcdr_model::media_name::MediaName;
use telcdr_model::record::MAX_SECONDS;
use telcdr_store::{CdrQuery, Store, WindowRecord};

use crate::config::Config;

/// Records per read of the store, and per write: a page is rendered into
/// one buffer of about a megabyte (records are 1-3 KB) and written at once.
/// Big enough that a statement, a channel hop and a write per page cost
/// nothing per record. Small enough that the buffer is still in the CPU's
/// cache when the kernel copies it into the file: with 2,000 records (4 MB)
/// writing 1M records to a file took 30% longer, nearly all of it in the
/// kernel.
const PAGE_SIZE: usize = 500;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON Lines that `telcdr import` reads back unchanged
    Jsonl,
    /// A header row and one row per record, nested fields flattened
    Csv,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The SdkAppId whose records to export
    #[arg(long)]
    sdk_app_id: i64,
    /// Only records with Time at or after this, Unix seconds [default: the oldest]
    #[arg(long, value_name = "TS")]
    from: Option<i64>,
    /// Only records with Time at or before this, Unix seconds [default: the newest]
    #[arg(long, value_name = "TS")]
    to: Option<i64>,
    /// jsonl: lines `telcdr import` takes back; csv: one row per record
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// Write here instead of standard output (through a temporary file in
    /// the same directory, renamed when the export is complete)
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the exported records' recordings, voicemails and
    /// transcripts into DIR, named as `telcdr import --media DIR` reads them
    #[arg(long, value_name = "DIR")]
    with_media: Option<PathBuf>,
}

/// What an export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    records: u64,
    media_files: u64,
    media_bytes: u64,
    /// Media rows whose object the media store no longer has.
    media_missing: u64,
}

pub fn run(config: &Config, args: &ExportArgs) -> Result<ExitCode> {
    let app = args.sdk_app_id;
    if app <= 0 {
        bail!("--sdk-app-id must be a positive integer (such as 1400000000), got {app}");
    }
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        bail!("--from {from} is after --to {to}: the window is empty (both ends are inclusive)");
    }
    // Record times are positive and below MAX_SECONDS: clamping changes
    // which records match in no case, and keeps the bucket arithmetic of
    // the total far from overflow.
    let from = args.from.unwrap_or(0).clamp(0, MAX_SECONDS);
    let to = args.to.unwrap_or(MAX_SECONDS).clamp(0, MAX_SECONDS);

    let store = super::open_store(config)?;
    let media = match &args.with_media {
        Some(dir) => {
            let media = super::open_media(config)?;
            fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the media directory {}", dir.display()))?;
            Some((media, dir.as_path()))
        }
        None => None,
    };
    let mut output = Output::open(args.output.as_deref())?;
    let progress = progress_bar(store.as_ref(), app, from, to);
    let started = Instant::now();

    let job = Job {
        store: store.as_ref(),
        app,
        from,
        to,
        format: args.format,
        media: media.as_ref().map(|(m, dir)| (m.as_ref(), *dir)),
        progress: &progress,
    };
    let mut counts = Counts::default();
    let result = job.run(&mut output.writer, &mut counts);
    progress.finish_and_clear();
    match result.and_then(|()| output.finish()) {
        Ok(()) => {}
        // `telcdr export ... | head` is not an error: the reader has what
        // it wanted.
        Err(e) if is_broken_pipe(&e) => {
            eprintln!("the output was closed before the export finished: stopped");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            return Err(e.context(format!(
                "exporting SdkAppId {app} (stopped after {} records{})",
                counts.records,
                match &args.output {
                    Some(path) => format!("; {} was not written", path.display()),
                    None => String::new(),
                }
            )));
        }
    }

    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "exported {} records of SdkAppId {app} in {secs:.1} s ({:.0} records/s)",
        counts.records,
        counts.records as f64 / secs
    );
    if counts.records == 0 {
        match (args.from, args.to) {
            (None, None) => eprintln!("SdkAppId {app} has no records in this store"),
            _ => eprintln!("SdkAppId {app} has no records with {from} <= Time <= {to}"),
        }
    }
    if let Some((_, dir)) = &media {
        eprintln!(
            "wrote {} media files ({} bytes) to {}{}",
            counts.media_files,
            counts.media_bytes,
            dir.display(),
            if counts.media_missing > 0 {
                format!(
                    "; {} media objects the store lists were missing from the media store",
                    counts.media_missing
                )
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// One export: where from, what to write.
struct Job<'a> {
    store: &'a dyn Store,
    app: i64,
    from: i64,
    to: i64,
    format: Format,
    media: Option<(&'a MediaStore, &'a Path)>,
    progress: &'a ProgressBar,
}

impl Job<'_> {
    /// Writes every record of the window to `out`, counting as it goes.
    fn run(&self, out: &mut impl Write, counts: &mut Counts) -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<Result<Rendered>>(1);
        let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
        let reader = Reader {
            store: self.store,
            app: self.app,
            from: self.from,
            to: self.to,
            format: self.format,
            with_sessions: self.media.is_some(),
        };
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || reader.run(&tx, &recycled));
            let written = self.write_chunks(&rx, &recycle, out, counts);
            // Dropping the receiver stops the reader at its next send.
            drop(rx);
            reader
                .join()
                .map_err(|_| anyhow!("the store reader thread panicked"))?;
            written
        })
    }

    /// The writing side: each rendered page goes out in one write, then
    /// its media; its buffer goes back to the reader for the next page.
    fn write_chunks(
        &self,
        chunks: &mpsc::Receiver<Result<Rendered>>,
        recycle: &mpsc::Sender<Vec<u8>>,
        out: &mut impl Write,
        counts: &mut Counts,
    ) -> Result<()> {
        for chunk in chunks.iter() {
            let chunk = chunk?;
            out.write_all(&chunk.bytes)?;
            counts.records += chunk.records;
            if let Some((media, dir)) = self.media {
                self.write_media(media, dir, &chunk.sessions, counts)?;
            }
            self.progress.inc(chunk.records);
            let _ = recycle.send(chunk.bytes);
        }
        Ok(())
    }

    /// Writes the media objects of some of the app's records into `dir`.
    fn write_media(
        &self,
        media: &MediaStore,
        dir: &Path,
        sessions: &[String],
        counts: &mut Counts,
    ) -> Result<()> {
        for chunk in sessions.chunks(1_000) {
            let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
            for object in self.store.media_for_sessions(self.app, &ids)? {
                // The name becomes a file name in `dir`: only the layout's
                // names (ids of [A-Za-z0-9_-], a known extension) qualify.
                if let Err(why) = MediaName::parse(&object.name) {
                    self.progress
                        .suspend(|| eprintln!("warning: skipped media object {why}"));
                    continue;
                }
                let key = ObjectKey::parse(&object.object_key)?;
                let Some(bytes) = media
                    .read(&key)
                    .with_context(|| format!("reading media object {}", object.object_key))?
                else {
                    counts.media_missing += 1;
                    self.progress.suspend(|| {
                        eprintln!(
                            "warning: {} of SessionId {} is missing from the media store (key {})",
                            object.name, object.session_id, object.object_key
                        )
                    });
                    continue;
                };
                write_file_atomically(dir, &object.name, &bytes)?;
                counts.media_files += 1;
                counts.media_bytes += bytes.len() as u64;
            }
        }
        Ok(())
    }
}

/// A page of records rendered into output bytes.
struct Rendered {
    bytes: Vec<u8>,
    records: u64,
    /// The page's SessionIds, when their media are exported too.
    sessions: Vec<String>,
}

/// The reader thread: reads the window a page at a time and renders each
/// page into bytes, so the writing thread does nothing but write.
struct Reader<'a> {
    store: &'a dyn Store,
    app: i64,
    from: i64,
    to: i64,
    format: Format,
    with_sessions: bool,
}

impl Reader<'_> {
    /// Sends rendered pages, newest first, until the window is done, a
    /// page fails or the receiver hangs up. Buffers come back through
    /// `recycled`, so after the first pages nothing is allocated for them.
    fn run(&self, tx: &mpsc::SyncSender<Result<Rendered>>, recycled: &mpsc::Receiver<Vec<u8>>) {
        let prefix = format!("{{\"SdkAppId\":{}", self.app).into_bytes();
        let mut row = CsvRow::default();
        let mut header = self.format == Format::Csv;
        let mut after: Option<(i64, String)> = None;
        loop {
            // Every row after the cursor (t, s) has time <= t: giving t as
            // the window's end lets the time index start at the cursor
            // instead of stepping over every row already exported.
            let end = after.as_ref().map_or(self.to, |(t, _)| *t);
            let page =
                match self
                    .store
                    .scan_window(self.app, self.from, end, after.as_ref(), PAGE_SIZE)
                {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = tx.send(Err(anyhow!(e).context("reading records from the store")));
                        return;
                    }
                };
            if page.is_empty() && !header {
                return;
            }
            let mut bytes = recycled.try_recv().unwrap_or_default();
            bytes.clear();
            if header {
                row.header();
                bytes.extend_from_slice(row.buf.as_bytes());
                header = false;
            }
            let rendered = self.render(&page, &prefix, &mut row, &mut bytes);
            let full = page.len() >= PAGE_SIZE;
            let records = page.len() as u64;
            after = page.last().map(|r| (r.time, r.session_id.clone()));
            let sessions = if self.with_sessions {
                page.into_iter().map(|r| r.session_id).collect()
            } else {
                Vec::new()
            };
            let failed = rendered.is_err();
            let message = rendered.map(|()| Rendered {
                bytes,
                records,
                sessions,
            });
            if tx.send(message).is_err() || failed || !full {
                return;
            }
        }
    }

    fn render(
        &self,
        page: &[WindowRecord],
        prefix: &[u8],
        row: &mut CsvRow,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        for record in page {
            match self.format {
                Format::Jsonl => write_jsonl(out, prefix, record)?,
                Format::Csv => {
                    let cdr: TelCdrInfo =
                        serde_json::from_slice(&record.body).with_context(|| {
                            format!(
                                "the stored record of SessionId {} is not a TelCdrInfo",
                                record.session_id
                            )
                        })?;
                    row.record(self.app, &cdr);
                    out.extend_from_slice(row.buf.as_bytes());
                }
            }
        }
        Ok(())
    }
}

/// One JSON line from the stored bytes: `{"SdkAppId":N,` + the body after
/// its `{`, with `,"Events":[...]` before its final `}`.
fn write_jsonl(out: &mut impl Write, prefix: &[u8], record: &WindowRecord) -> Result<()> {
    let [b'{', inner @ .., b'}'] = record.body.trim_ascii() else {
        bail!(
            "the stored record of SessionId {} is not a JSON object",
            record.session_id
        );
    };
    out.write_all(prefix)?;
    if !inner.trim_ascii().is_empty() {
        out.write_all(b",")?;
        out.write_all(inner)?;
    }
    if let Some(events) = &record.events {
        out.write_all(b",\"Events\":")?;
        out.write_all(events)?;
    }
    out.write_all(b"}\n")?;
    Ok(())
}

/// Where the export goes: standard output, or a temporary file renamed to
/// its name by [`Output::finish`] (and removed if the export fails).
struct Output {
    writer: Sink,
    file: Option<PendingFile>,
}

enum Sink {
    Stdout(io::StdoutLock<'static>),
    File(File),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(buf),
            Sink::File(file) => file.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.write_all(buf),
            Sink::File(file) => file.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::File(file) => file.flush(),
        }
    }
}

/// A temporary file that becomes `dest` when the export completes; dropped
/// unfinished, it is removed.
struct PendingFile {
    tmp: PathBuf,
    dest: PathBuf,
    flusher: Option<Flusher>,
    done: bool,
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(flusher) = self.flusher.take() {
            flusher.stop();
        }
        if !self.done {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes a growing file back to disk while it is written, so the disk
/// works from the start and the fsync before the rename has only the last
/// moments left to wait for, instead of everything the kernel held back.
struct Flusher {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Flusher {
    fn start(file: File) -> Flusher {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                while !stop.load(Ordering::Relaxed) {
                    // An error shows again in the final sync_all.
                    let _ = file.sync_data();
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        });
        Flusher { stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

impl Output {
    fn open(path: Option<&Path>) -> Result<Output> {
        let Some(dest) = path else {
            return Ok(Output {
                writer: Sink::Stdout(io::stdout().lock()),
                file: None,
            });
        };
        // Through a symbolic link, the file it names is what gets replaced.
        let resolved;
        let dest = match fs::symlink_metadata(dest) {
            Ok(meta) if meta.file_type().is_symlink() => {
                resolved = fs::canonicalize(dest).unwrap_or_else(|_| dest.to_owned());
                resolved.as_path()
            }
            _ => dest,
        };
        match fs::metadata(dest) {
            Ok(meta) if meta.is_dir() => {
                bail!("--output {} is a directory: name a file", dest.display())
            }
            // A device, pipe or socket (/dev/null, a FIFO) is written
            // directly: renaming over it would replace it.
            Ok(meta) if !meta.is_file() => {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(dest)
                    .with_context(|| format!("cannot open --output {}", dest.display()))?;
                return Ok(Output {
                    writer: Sink::File(file),
                    file: None,
                });
            }
            _ => {}
        }
        let name = dest
            .file_name()
            .with_context(|| format!("--output {} does not name a file", dest.display()))?;
        let dir = match dest.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".export-{}.tmp", std::process::id()));
        let tmp = dir.join(tmp_name);
        let file = File::create(&tmp)
            .with_context(|| format!("cannot create {} (for --output)", tmp.display()))?;
        let flusher = file.try_clone().ok().map(Flusher::start);
        Ok(Output {
            writer: Sink::File(file),
            file: Some(PendingFile {
                tmp,
                dest: dest.to_owned(),
                flusher,
                done: false,
            }),
        })
    }

    /// Flushes everything; a file is made durable and renamed to its name.
    fn finish(&mut self) -> Result<()> {
        self.writer.flush().context("writing the export")?;
        let Some(pending) = &mut self.file else {
            return Ok(());
        };
        if let Some(flusher) = pending.flusher.take() {
            flusher.stop();
        }
        if let Sink::File(file) = &self.writer {
            file.sync_all()
                .with_context(|| format!("writing {}", pending.tmp.display()))?;
        }
        fs::rename(&pending.tmp, &pending.dest).with_context(|| {
            format!(
                "cannot rename {} to {}",
                pending.tmp.display(),
                pending.dest.display()
            )
        })?;
        pending.done = true;
        Ok(())
    }
}

/// Writes `bytes` to `dir/name` through a temporary name, so a file under
/// the final name is always complete.
fn write_file_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let dest = dir.join(name);
    let tmp = dir.join(format!(".{name}.export-{}.tmp", std::process::id()));
    let written = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, &dest));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("cannot write {}", dest.display()))
}

/// A bar over the window's records on a terminal (their number is an exact
/// total from the count buckets, cheap to ask); nothing otherwise.
fn progress_bar(store: &dyn Store, app: i64, from: i64, to: i64) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let total = store
        .query_cdrs(&CdrQuery {
            sdk_app_id: app,
            start: from,
            end: to,
            phones: Vec::new(),
            session_ids: Vec::new(),
            offset: 0,
            limit: 0,
        })
        .ok()
        .map(|page| page.total);
    let bar = match total {
        Some(total) => ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} records (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {human_pos} records")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The CSV columns, in the order [`CsvRow::record`] writes them: Tencent's
/// member names, `SeatUser.*` for the agent, a ` (UTC)` column (ISO 8601,
/// empty for 0) after each seconds timestamp, and lists joined with `|`:
/// keys as `Key:Label`, legs as `Mail(Type,EndStatusString)`.
const CSV_COLUMNS: &[&str] = &[
    "SdkAppId",
    "SessionId",
    "Time",
    "Time (UTC)",
    "Caller",
    "Callee",
    "Direction",
    "CallType",
    "Duration",
    "RecordURL",
    "RecordId",
    "SeatUser.Name",
    "SeatUser.Mail",
    "SeatUser.StaffNumber",
    "SeatUser.Phone",
    "SeatUser.Nick",
    "SeatUser.UserId",
    "SeatUser.SkillGroupNameList",
    "SeatUser.Role",
    "SeatUser.ExtensionNumber",
    "EndStatus",
    "EndStatusString",
    "SkillGroup",
    "SkillGroupId",
    "CallerLocation",
    "IVRDuration",
    "StartTimestamp",
    "StartTimestamp (UTC)",
    "QueuedTimestamp",
    "QueuedTimestamp (UTC)",
    "RingTimestamp",
    "RingTimestamp (UTC)",
    "AcceptTimestamp",
    "AcceptTimestamp (UTC)",
    "EndedTimestamp",
    "EndedTimestamp (UTC)",
    "IVRKeyPressed",
    "IVRKeyPressedEx",
    "HungUpSide",
    "ServeParticipants (count)",
    "ServeParticipants",
    "PostIVRKeyPressed",
    "PostIVRKeyPressedEx",
    "QueuedSkillGroupId",
    "QueuedSkillGroupName",
    "ProtectedCaller",
    "ProtectedCallee",
    "Uui",
    "UUI",
    "AsrUrl",
    "AsrStatus",
    "CustomRecordURL",
    "Remark",
    "VoicemailRecordURL",
    "VoicemailAsrURL",
    "AIAgentId",
    "AIAgentName",
    "SysHangupReason",
    "SysHangupReasonString",
    "EndStatusV2",
];

/// One CSV line (RFC 4180: CRLF line ends; a field with a comma, quote, CR
/// or LF is quoted, its quotes doubled), built in a buffer reused for every
/// record.
#[derive(Default)]
struct CsvRow {
    buf: String,
    /// A list being joined, before it is quoted as one field.
    list: String,
}

impl CsvRow {
    fn header(&mut self) {
        self.buf.clear();
        for column in CSV_COLUMNS {
            self.text(column);
        }
        self.end();
    }

    fn record(&mut self, app: i64, cdr: &TelCdrInfo) {
        self.buf.clear();
        self.int(app);
        self.text(&cdr.session_id);
        self.time(cdr.time);
        self.text(&cdr.caller);
        self.text(&cdr.callee);
        self.int(cdr.direction);
        self.int(cdr.call_type);
        self.int(cdr.duration);
        self.text(&cdr.record_url);
        self.text(&cdr.record_id);
        let seat = &cdr.seat_user;
        self.text(&seat.name);
        self.text(&seat.mail);
        self.text(&seat.staff_number);
        self.text(&seat.phone);
        self.text(&seat.nick);
        self.text(&seat.user_id);
        self.strings(&seat.skill_group_name_list);
        self.int(seat.role);
        self.text(&seat.extension_number);
        self.int(cdr.end_status);
        self.text(&cdr.end_status_string);
        self.text(&cdr.skill_group);
        self.int(cdr.skill_group_id);
        self.text(&cdr.caller_location);
        self.int(cdr.ivr_duration);
        self.time(cdr.start_timestamp);
        self.time(cdr.queued_timestamp);
        self.time(cdr.ring_timestamp);
        self.time(cdr.accept_timestamp);
        self.time(cdr.ended_timestamp);
        self.strings(&cdr.ivr_key_pressed);
        self.keys(&cdr.ivr_key_pressed_ex);
        self.text(&cdr.hung_up_side);
        self.int(cdr.serve_participants.len() as i64);
        self.list.clear();
        for (i, leg) in cdr.serve_participants.iter().enumerate() {
            if i > 0 {
                self.list.push('|');
            }
            let who = if leg.mail.is_empty() {
                &leg.phone
            } else {
                &leg.mail
            };
            let _ = write!(self.list, "{who}({},{})", leg.r#type, leg.end_status_string);
        }
        self.list_field();
        self.keys(&cdr.post_ivr_key_pressed);
        self.keys(&cdr.post_ivr_key_pressed_ex);
        self.int(cdr.queued_skill_group_id);
        self.text(&cdr.queued_skill_group_name);
        self.text(&cdr.protected_caller);
        self.text(&cdr.protected_callee);
        self.text(&cdr.uui_deprecated);
        self.text(&cdr.uui);
        self.text(&cdr.asr_url);
        self.text(&cdr.asr_status);
        self.text(&cdr.custom_record_url);
        self.text(&cdr.remark);
        self.strings(&cdr.voicemail_record_url);
        self.strings(&cdr.voicemail_asr_url);
        self.int(cdr.ai_agent_id);
        self.text(&cdr.ai_agent_name);
        self.int(cdr.sys_hangup_reason);
        self.text(&cdr.sys_hangup_reason_string);
        self.int(cdr.end_status_v2);
        self.end();
    }

    fn separator(&mut self) {
        if !self.buf.is_empty() {
            self.buf.push(',');
        }
    }

    fn end(&mut self) {
        self.buf.push_str("\r\n");
    }

    fn text(&mut self, value: &str) {
        self.separator();
        push_quoted(&mut self.buf, value);
    }

    fn int(&mut self, value: i64) {
        self.separator();
        let _ = write!(self.buf, "{value}");
    }

    /// A seconds timestamp and, in the next column, its UTC date and time
    /// (empty for 0, "never").
    fn time(&mut self, value: i64) {
        self.int(value);
        self.separator();
        if value > 0 {
            let secs = value.rem_euclid(86_400);
            let _ = write!(
                self.buf,
                "{}T{:02}:{:02}:{:02}Z",
                tcapi::sign::utc_date(value),
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
        }
    }

    fn strings(&mut self, values: &[String]) {
        self.list.clear();
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.list.push('|');
            }
            self.list.push_str(value);
        }
        self.list_field();
    }

    /// Key presses as `Key:Label` (just `Key` when there is no label).
    fn keys(&mut self, values: &[telcdr_model::IvrKeyPressedElement]) {
        self.list.clear();
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.list.push('|');
            }
            self.list.push_str(&value.key);
            if !value.label.is_empty() {
                self.list.push(':');
                self.list.push_str(&value.label);
            }
        }
        self.list_field();
    }

    fn list_field(&mut self) {
        self.separator();
        push_quoted(&mut self.buf, &self.list);
    }
}

/// Appends one CSV field, quoted when RFC 4180 requires it.
fn push_quoted(out: &mut String, value: &str) {
    if !value.contains([',', '"', '\r', '\n']) {
        out.push_str(value);
        return;
    }
    out.push('"');
    for part in value.split_inclusive('"') {
        out.push_str(part);
        if part.ends_with('"') {
            out.push('"');
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(body: &str, events: Option<&str>) -> WindowRecord {
        WindowRecord {
            time: 1,
            session_id: "s".into(),
            body: body.as_bytes().to_vec(),
            events: events.map(|e| e.as_bytes().to_vec()),
        }
    }

    fn line(record: &WindowRecord) -> String {
        let mut out = Vec::new();
        write_jsonl(&mut out, br#"{"SdkAppId":7"#, record).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn jsonl_splices_app_and_events_into_the_stored_body() {
        assert_eq!(
            line(&window(r#"{"SessionId":"s","Time":1}"#, None)),
            "{\"SdkAppId\":7,\"SessionId\":\"s\",\"Time\":1}\n"
        );
        assert_eq!(
            line(&window(
                r#"{"SessionId":"s"}"#,
                Some(r#"[{"EventType":"StaffHold"}]"#)
            )),
            "{\"SdkAppId\":7,\"SessionId\":\"s\",\"Events\":[{\"EventType\":\"StaffHold\"}]}\n"
        );
        assert_eq!(line(&window("{}", None)), "{\"SdkAppId\":7}\n");
        assert_eq!(
            line(&window("{}", Some("[]"))),
            "{\"SdkAppId\":7,\"Events\":[]}\n"
        );
        let mut out = Vec::new();
        assert!(write_jsonl(&mut out, b"{", &window("[1]", None)).is_err());
        assert!(write_jsonl(&mut out, b"{", &window("", None)).is_err());
    }

    #[test]
    fn exported_line_of_a_served_body_imports_as_the_same_record() {
        let cdr = TelCdrInfo {
            session_id: "abc".into(),
            time: 1_700_000_000,
            start_timestamp: 1_700_000_000,
            caller: "8613000000000".into(),
            remark: "a, \"b\"\nc".into(),
            ..Default::default()
        };
        let events = r#"[{"Timestamp":1700000001,"EventType":"StaffHold","StaffEventDetail":{"Staffs":[]}}]"#;
        let record = WindowRecord {
            time: cdr.time,
            session_id: cdr.session_id.clone(),
            body: cdr.to_body(),
            events: Some(events.as_bytes().to_vec()),
        };
        let text = line(&record);
        let back = telcdr_model::parse_record_line(text.trim_end().as_bytes()).unwrap();
        assert_eq!(back.sdk_app_id, 7);
        assert_eq!(back.cdr.to_body(), record.body);
        assert_eq!(
            serde_json::to_string(&back.events).unwrap(),
            events,
            "events survive"
        );
    }

    #[test]
    fn csv_quotes_only_what_rfc_4180_requires() {
        let quoted = |s: &str| {
            let mut out = String::new();
            push_quoted(&mut out, s);
            out
        };
        assert_eq!(quoted("plain text"), "plain text");
        assert_eq!(quoted(""), "");
        assert_eq!(quoted("a,b"), "\"a,b\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted("\""), "\"\"\"\"");
        assert_eq!(quoted("two\nlines"), "\"two\nlines\"");
        assert_eq!(quoted("cr\r"), "\"cr\r\"");
        assert_eq!(quoted("广东深圳"), "广东深圳");
    }

    /// Splits one CSV line of ours (no embedded line breaks) into fields.
    fn fields(line: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    out.last_mut().unwrap().push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => out.push(String::new()),
                (c, _) => out.last_mut().unwrap().push(c),
            }
        }
        out
    }

    #[test]
    fn csv_row_has_a_value_under_every_column() {
        let mut row = CsvRow::default();
        row.header();
        assert!(row.buf.ends_with("\r\n"));
        assert_eq!(fields(row.buf.trim_end()), CSV_COLUMNS);

        let cdr: TelCdrInfo = serde_json::from_str(
            r#"{"SessionId":"s-1","Time":1729756291,"StartTimestamp":1729756291,"AcceptTimestamp":0,
            "Caller":"0086075500000","SeatUser":{"Name":"xiaoming","Mail":"m@x","SkillGroupNameList":["1539","2522"]},
            "IVRKeyPressed":["1","香蕉"],
            "IVRKeyPressedEx":[{"Key":"1","Label":"sales"},{"Key":"2","Label":""}],
            "PostIVRKeyPressedEx":[{"Key":"noInput","Label":"no answer"}],
            "ServeParticipants":[{"Mail":"a@x","Type":"staffSeat","EndStatusString":"seatForward"},
                                 {"Mail":"","Phone":"008613","Type":"staffPhoneSeat","EndStatusString":"ok"}],
            "VoicemailRecordURL":["https://v/0.mp3","https://v/1.mp3"],
            "Remark":"a, \"quoted\" remark"}"#,
        )
        .unwrap();
        row.record(1_400_000_000, &cdr);
        let values = fields(row.buf.trim_end());
        assert_eq!(values.len(), CSV_COLUMNS.len());
        let get = |column: &str| {
            let i = CSV_COLUMNS.iter().position(|c| *c == column).unwrap();
            values[i].as_str()
        };
        assert_eq!(get("SdkAppId"), "1400000000");
        assert_eq!(get("Time"), "1729756291");
        assert_eq!(get("Time (UTC)"), "2024-10-24T07:51:31Z");
        assert_eq!(get("AcceptTimestamp (UTC)"), "");
        assert_eq!(get("SeatUser.Name"), "xiaoming");
        assert_eq!(get("SeatUser.SkillGroupNameList"), "1539|2522");
        assert_eq!(get("IVRKeyPressed"), "1|香蕉");
        assert_eq!(get("IVRKeyPressedEx"), "1:sales|2");
        assert_eq!(get("PostIVRKeyPressedEx"), "noInput:no answer");
        assert_eq!(get("ServeParticipants (count)"), "2");
        assert_eq!(
            get("ServeParticipants"),
            "a@x(staffSeat,seatForward)|008613(staffPhoneSeat,ok)"
        );
        assert_eq!(get("VoicemailRecordURL"), "https://v/0.mp3|https://v/1.mp3");
        assert_eq!(get("Remark"), "a, \"quoted\" remark");
        assert_eq!(get("Caller"), "0086075500000");
    }
}
