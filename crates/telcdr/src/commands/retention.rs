//! Retention: removes what the apps' settings say to let go of — records
//! older than `record_retention_days` (with their media), and media of calls
//! older than `media_retention_days` (the records stay). `serve` runs it in
//! the background every `retention.interval_seconds` and logs what it
//! removed.

use std::process::ExitCode;

use anyhow::Result;
use telcdr_media::MediaStore;
use telcdr_store::Store;

use super::media::{delete_objects, delete_records};
use crate::config::Config;

const DAY: i64 = 86_400;
/// Records or media handled per step: bounded memory and transactions.
const STEP: usize = 1_000;

#[derive(clap::Args)]
pub struct RetentionArgs {
    /// Where recordings and transcripts live: a directory or s3://bucket/prefix
    /// [env: TELCDR_MEDIA] [default: DATA_DIR/media]
    #[arg(long, value_name = "URL")]
    pub media: Option<String>,
}

/// What one pass removed from one app.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub sdk_app_id: i64,
    pub records: u64,
    pub media: u64,
}

/// How long push UUIDs (for de-duplicating CCC's retries) and finished
/// downloads are remembered.
const PUSH_HISTORY_DAYS: i64 = 7;

/// One pass over every app with a retention setting, at time `now`.
pub fn run_once(store: &dyn Store, media: &MediaStore, now: i64) -> Result<Vec<Removed>> {
    store.prune_push_history(now - PUSH_HISTORY_DAYS * DAY)?;
    let mut report = Vec::new();
    for (app, settings) in store.list_app_settings()? {
        let mut removed = Removed {
            sdk_app_id: app,
            ..Removed::default()
        };
        if settings.record_retention_days > 0 {
            let cutoff = now - i64::from(settings.record_retention_days) * DAY;
            loop {
                // Always from the newest expired record: each step deletes
                // what it read, so there is no cursor to keep.
                let batch = store.scan_window(app, i64::MIN, cutoff - 1, None, STEP)?;
                if batch.is_empty() {
                    break;
                }
                let ids: Vec<String> = batch.into_iter().map(|r| r.session_id).collect();
                let (records, objects) = delete_records(store, media, app, &ids)?;
                removed.records += records;
                removed.media += objects;
                if records == 0 {
                    break;
                }
            }
        }
        if settings.media_retention_days > 0 {
            let cutoff = now - i64::from(settings.media_retention_days) * DAY;
            loop {
                let batch = store.media_before(app, cutoff, STEP)?;
                if batch.is_empty() {
                    break;
                }
                let n = delete_objects(store, media, &batch)?;
                removed.media += n;
                if n == 0 {
                    break;
                }
            }
        }
        if removed.records > 0 || removed.media > 0 {
            report.push(removed);
        }
    }
    Ok(report)
}

/// `telcdr retention`: one pass now, with a line per app that lost anything.
pub fn run(config: &Config) -> Result<ExitCode> {
    let store = super::open_store(config)?;
    let media = super::open_media(config)?;
    let report = run_once(store.as_ref(), &media, super::unix_now())?;
    for r in &report {
        println!(
            "SdkAppId {}: removed {} records and {} media objects",
            r.sdk_app_id, r.records, r.media
        );
    }
    if report.is_empty() {
        println!("nothing to remove");
    }
    Ok(ExitCode::SUCCESS)
}
