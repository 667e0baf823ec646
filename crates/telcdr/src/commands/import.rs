//! `telcdr import`: JSON Lines of TelCdrInfo (plus `SdkAppId`) into the store.
//!
//! Parser threads validate chunks of lines (`chunks`) while this thread
//! hands them, in input order, to the store's writer as they come
//! (`Store::put_record_stream`), so parsing and the store use every core.
//! A bad line is reported with its file, line number and reason and nothing
//! of it is written; the good lines around it are. A record counts as
//! imported only once the transaction holding it is durable.
//!
//! With `--media DIR`, the files of DIR are then stored as the records'
//! recordings, transcripts and voicemails (layout in
//! `telcdr_model::media_name`); a file whose record is not known yet is kept
//! and linked when its record arrives.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use indicatif::{ProgressBar, ProgressStyle};
use telcdr_media::MediaStore;
use telcdr_model::media_name::MediaName;
use telcdr_store::{Store, WriteOutcome};

use super::media::{self as media_files, Owners};
use chunks::ParsedChunks;

mod chunks;
use crate::config::Config;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// JSON Lines files; "-" reads standard input
    #[arg(required_unless_present = "media")]
    files: Vec<PathBuf>,
    /// A directory of recordings (<RecordId>.mp3|wav), transcripts
    /// (<SessionId>.asr.json) and voicemails (<SessionId>.voicemail.<n>.mp3|wav)
    /// to store with the records, in the media store TELCDR_MEDIA names
    #[arg(long, value_name = "DIR")]
    media: Option<PathBuf>,
    /// Records per write transaction: big ones amortise the index pages a
    /// commit rewrites (on PostgreSQL a transaction's records are also held
    /// in memory until it is written)
    #[arg(long, default_value_t = 100_000)]
    batch_size: usize,
}

/// What one import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub inserted: u64,
    pub replaced: u64,
    pub rejected: u64,
}

/// Parser threads at most: past four, the store's writer cannot keep up
/// anyway.
const MAX_PARSERS: usize = 4;

pub fn run(config: &Config, args: &ImportArgs) -> Result<ExitCode> {
    let store = super::open_store_for_bulk_load(config)?;
    // Open the media store first: a bad media setting should stop the
    // import before any record is written.
    let media = match &args.media {
        Some(_) => Some(super::open_media(config)?),
        None => None,
    };
    let mut owners = args.media.as_ref().map(|_| Owners::default());
    let started = Instant::now();
    let mut total = Summary::default();
    for path in &args.files {
        let summary = import_file(
            store.as_ref(),
            path,
            args.batch_size.max(1),
            owners.as_mut(),
        )?;
        total.inserted += summary.inserted;
        total.replaced += summary.replaced;
        total.rejected += summary.rejected;
    }
    let written = total.inserted + total.replaced;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    if !args.files.is_empty() {
        eprintln!(
            "imported {written} records ({} new, {} replaced), rejected {} lines, in {:.1} s ({:.0} records/s)",
            total.inserted,
            total.replaced,
            total.rejected,
            secs,
            written as f64 / secs
        );
    }
    if let (Some(dir), Some(media), Some(owners)) = (&args.media, &media, owners.as_mut()) {
        let rejected = import_media(store.as_ref(), media, dir, owners)?;
        total.rejected += rejected;
    }
    relocate_linked_media(store.as_ref(), config, media.as_deref())?;
    Ok(if total.rejected > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Imports one file (or stdin for "-"). With `owners`, remembers the ids
/// of the records written, for the media that follow.
pub fn import_file(
    store: &dyn Store,
    path: &Path,
    batch_size: usize,
    mut owners: Option<&mut Owners>,
) -> Result<Summary> {
    let name = display_name(path);
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if path == Path::new("-") {
        (Box::new(io::stdin()), None)
    } else {
        let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let progress = progress_bar(size);
    // The store's writer needs a core of its own: with more parsers than
    // spare cores they would take turns with it, and writing is the
    // longer half.
    let parsers = std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .clamp(1, MAX_PARSERS);

    let mut summary = Summary::default();
    let mut rejected = 0u64;
    let result = std::thread::scope(|scope| -> Result<()> {
        let mut chunks = ParsedChunks::start(scope, input, parsers, &progress);
        let mut line_base = 0u64;
        let mut read_error = None;
        // Each parsed chunk goes to the store as it comes, in input order;
        // rejected lines are reported on the way, numbered in the whole
        // input.
        let mut records = std::iter::from_fn(|| {
            loop {
                let chunk = match chunks.next_chunk()? {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        read_error = Some(e);
                        return None;
                    }
                };
                for (line, reason) in chunk.rejected {
                    rejected += 1;
                    let line = line_base + line;
                    progress.suspend(|| eprintln!("{name}:{line}: rejected: {reason}"));
                }
                line_base += chunk.lines;
                if !chunk.records.is_empty() {
                    if let Some(owners) = owners.as_deref_mut() {
                        owners.learn(&chunk.records);
                    }
                    return Some(chunk.records);
                }
            }
        });
        let written = store.put_record_stream(&mut records, batch_size, &mut |outcomes| {
            for outcome in outcomes {
                match outcome {
                    WriteOutcome::Inserted => summary.inserted += 1,
                    WriteOutcome::Replaced => summary.replaced += 1,
                }
            }
            progress.set_message(format!("{} records", summary.inserted + summary.replaced));
        });
        chunks.stop().map_err(|e| anyhow!(e))?;
        if let Err(e) = written {
            return Err(anyhow!(e)).context(format!(
                "writing records from {name} (the {} records before this transaction are stored)",
                summary.inserted + summary.replaced
            ));
        }
        match read_error {
            Some(e) => Err(e).with_context(|| format!("reading {name}")),
            None => Ok(()),
        }
    });
    progress.finish_and_clear();
    summary.rejected = rejected;
    result?;
    eprintln!(
        "{name}: {} new, {} replaced, {} rejected",
        summary.inserted, summary.replaced, summary.rejected
    );
    Ok(summary)
}

fn progress_bar(size: Option<u64>) -> ProgressBar {
    let bar = match size {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bytes} read, {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Stores the media files of `dir`; returns how many were rejected.
fn import_media(
    store: &dyn Store,
    media: &MediaStore,
    dir: &Path,
    owners: &mut Owners,
) -> Result<u64> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            names.push(entry.file_name());
        }
    }
    names.sort();
    let apps: Vec<i64> = store
        .counts_by_app()?
        .into_iter()
        .map(|(app, _)| app)
        .collect();
    let now = super::unix_now();
    let (mut linked, mut pending, mut rejected) = (0u64, 0u64, 0u64);
    let mut reject = |name: &str, why: String| {
        rejected += 1;
        eprintln!("{}: rejected: {why}", dir.join(name).display());
    };

    // Check every file first and find its record; RecordIds this run did
    // not write need one pass over the store, done once for all of them.
    let mut checked = Vec::new();
    let mut unknown_record_ids = Vec::new();
    for name in &names {
        let Some(name) = name.to_str() else {
            reject(&name.to_string_lossy(), "the file name is not UTF-8".into());
            continue;
        };
        let bytes = match std::fs::read(dir.join(name)) {
            Ok(bytes) => bytes,
            Err(e) => {
                reject(name, format!("cannot read it: {e}"));
                continue;
            }
        };
        match media_files::check(name, bytes) {
            Ok(file) => {
                let parsed = MediaName::parse(name).map_err(|e| anyhow!(e))?;
                if owners.find(store, &apps, &parsed)?.is_none()
                    && matches!(parsed, MediaName::Recording { .. })
                {
                    unknown_record_ids.push(parsed.id().to_owned());
                }
                checked.push(file);
            }
            Err(why) => reject(name, why),
        }
    }
    if !unknown_record_ids.is_empty() {
        eprintln!(
            "looking for {} RecordIds among the stored records...",
            unknown_record_ids.len()
        );
        owners.scan_for_record_ids(store, &unknown_record_ids)?;
    }
    for file in checked {
        let name = file.name.clone();
        let parsed = MediaName::parse(&name).map_err(|e| anyhow!(e))?;
        match owners.find(store, &apps, &parsed)? {
            Some(owner) => {
                media_files::store_for_record(store, media, file, &owner)?;
                linked += 1;
            }
            None => {
                media_files::store_pending(store, media, file, now)?;
                pending += 1;
                eprintln!(
                    "{name}: no record with id {} yet: kept, and linked when it arrives",
                    parsed.id()
                );
            }
        }
    }
    eprintln!(
        "media from {}: {} stored ({linked} with their records, {pending} waiting for their record), {rejected} rejected",
        dir.display(),
        linked + pending
    );
    Ok(rejected)
}

/// Moves media that waited for records written now to their dated keys
/// (`serve` also does this in the background).
fn relocate_linked_media(
    store: &dyn Store,
    config: &Config,
    media: Option<&MediaStore>,
) -> Result<()> {
    // Without --media the media store is opened only when there is work.
    if store.media_under_pending(1)?.is_empty() {
        return Ok(());
    }
    let opened;
    let media = match media {
        Some(media) => media,
        None => {
            opened = super::open_media(config)?;
            &opened
        }
    };
    loop {
        let moved = telcdr_server::relocate::relocate_linked_media(store, media, 256)
            .map_err(|e| anyhow!("moving media out of pending/: {e}"))?;
        if moved == 0 {
            return Ok(());
        }
    }
}
