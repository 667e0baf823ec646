//! `telcdr migrate --from STORE --to STORE`: copies every account, key,
//! setting and record from one store to another (SQLite to PostgreSQL and
//! back), resumable, and ends by comparing the counts per SdkAppId. Media
//! rows, per-app settings and the data push's bookkeeping (applied UUIDs,
//! the download queue) come along, so retries still fold and queued
//! recordings are still fetched.
//!
//! Accounts, keys and settings go first, in one transaction. Records follow
//! in (SdkAppId, SessionId) order, in batches; after each batch the target
//! remembers the last key copied (a setting named after the source), so a
//! run that was interrupted starts again after it. A batch that was written
//! but not yet remembered is written again on resume, which replaces the
//! same records: nothing is lost or doubled.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use telcdr_store::{RecordKey, Store, StoreUrl};

use crate::config::Config;

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The store to copy from: a SQLite file or postgres://...
    #[arg(long)]
    pub from: String,
    /// The store to copy into: a SQLite file or postgres://... (created if needed)
    #[arg(long)]
    pub to: String,
    /// Records per transaction
    #[arg(long, default_value_t = 20_000)]
    pub batch_size: usize,
}

pub fn run(config: &Config, args: &MigrateArgs) -> Result<ExitCode> {
    let (from, to) = (StoreUrl::parse(&args.from), StoreUrl::parse(&args.to));
    if from == to {
        bail!("--from and --to name the same store ({})", from.display());
    }
    let options = config.store_options();
    let source = telcdr_store::open(&from, &options)
        .with_context(|| format!("opening the source store {}", from.display()))?;
    let mut target_options = options.clone();
    target_options.sqlite.bulk_load = true;
    let target = telcdr_store::open(&to, &target_options)
        .with_context(|| format!("opening the target store {}", to.display()))?;

    let meta = source.export_meta()?;
    target
        .import_meta(&meta)
        .context("copying accounts, keys and settings")?;
    eprintln!(
        "copied {} accounts, {} keys, {} settings",
        meta.accounts.len(),
        meta.keys.len(),
        meta.settings.len()
    );

    let copied = copy_records(
        source.as_ref(),
        target.as_ref(),
        &from,
        args.batch_size.max(1),
    )?;
    eprintln!("copied {copied} records");
    let (apps, media, pending) = copy_media_rows(source.as_ref(), target.as_ref())?;
    let push = source.export_push_state()?;
    target
        .import_push_state(&push)
        .context("copying the data push's applied UUIDs and download queue")?;
    eprintln!(
        "copied {} applied push UUIDs and {} queued downloads ({} still pending)",
        push.seen.len(),
        push.downloads.len(),
        push.downloads
            .iter()
            .filter(|d| d.state == "pending")
            .count()
    );
    eprintln!(
        "copied the settings of {apps} apps, {media} media rows and {pending} media waiting for their record \
         (the media objects stay where the media store keeps them)"
    );

    let (want, got) = (source.counts_by_app()?, target.counts_by_app()?);
    let mut same = true;
    println!("{:>12}  {:>12}  {:>12}", "SdkAppId", "source", "target");
    let mut apps: Vec<i64> = want.iter().chain(&got).map(|&(app, _)| app).collect();
    apps.sort_unstable();
    apps.dedup();
    for app in apps {
        let count = |list: &[(i64, u64)]| list.iter().find(|e| e.0 == app).map_or(0, |e| e.1);
        let (w, g) = (count(&want), count(&got));
        same &= w == g;
        println!(
            "{app:>12}  {w:>12}  {g:>12}{}",
            if w == g { "" } else { "  differs" }
        );
    }
    if same {
        println!("counts per SdkAppId match: the target holds every record of the source");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "counts per SdkAppId differ: the target held other records before, or the source changed during the copy"
        );
        Ok(ExitCode::from(1))
    }
}

/// Copies records after the remembered cursor; returns how many it copied.
fn copy_records(
    source: &dyn Store,
    target: &dyn Store,
    from: &StoreUrl,
    batch_size: usize,
) -> Result<u64> {
    let cursor_name = format!("migrate.cursor.{}", from.display());
    let mut after: Option<RecordKey> = match target.setting(&cursor_name)? {
        Some(saved) => {
            let (app, session) = saved
                .split_once('\t')
                .and_then(|(a, s)| Some((a.parse().ok()?, s.to_owned())))
                .with_context(|| format!("the saved cursor {cursor_name} is not readable"))?;
            eprintln!("resuming after SdkAppId {app}, SessionId {session}");
            Some((app, session))
        }
        None => None,
    };
    let progress = progress_bar(source.record_count()?);
    let started = Instant::now();
    let mut copied = 0u64;
    loop {
        let batch = source.scan_records(after.as_ref(), batch_size)?;
        let Some(last) = batch.last() else { break };
        let next = (last.sdk_app_id, last.session_id.clone());
        let n = batch.len() as u64;
        target.put_records(batch)?;
        target.set_setting(&cursor_name, &format!("{}\t{}", next.0, next.1))?;
        after = Some(next);
        copied += n;
        progress.inc(n);
    }
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64().max(1e-3);
    eprintln!(
        "records: {copied} in {seconds:.1} s ({:.0} records/s)",
        copied as f64 / seconds
    );
    Ok(copied)
}

/// A bar over the source's records on a terminal; nothing otherwise.
/// Copies app settings and the rows of media objects (the objects stay in
/// the media store, which both stores share or the operator moves). Rows
/// are upserts, so a second run after an interruption just copies again.
fn copy_media_rows(source: &dyn Store, target: &dyn Store) -> Result<(u64, u64, u64)> {
    let apps = source.list_app_settings()?;
    for (app, settings) in &apps {
        target.set_app_settings(*app, settings)?;
    }
    let mut media = 0u64;
    let mut after = None;
    loop {
        let batch = source.scan_media(after.as_ref(), 5_000)?;
        let Some(last) = batch.last() else { break };
        after = Some((last.sdk_app_id, last.name.clone()));
        media += batch.len() as u64;
        target.put_media(batch)?;
    }
    let pending = source.list_pending_media()?;
    for p in &pending {
        target.put_pending_media(p.clone())?;
    }
    Ok((apps.len() as u64, media, pending.len() as u64))
}

fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} records (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
