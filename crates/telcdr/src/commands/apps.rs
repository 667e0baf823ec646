//! `telcdr apps`: per-SdkAppId settings — number protection, and how long
//! records and media are kept.

use std::process::ExitCode;

use anyhow::{Result, bail};
use telcdr_store::AppSettings;

use crate::config::Config;

#[derive(clap::Subcommand)]
pub enum AppsCommand {
    /// Change an app's settings (those not given stay as they are)
    Set {
        /// The SdkAppId
        sdk_app_id: i64,
        /// Mask callers and callees in API answers (ProtectedCaller/ProtectedCallee instead)
        #[arg(long, value_name = "on|off")]
        number_protection: Option<OnOff>,
        /// Remove records older than this many days (0: keep forever)
        #[arg(long, value_name = "DAYS")]
        record_retention_days: Option<u32>,
        /// Remove recordings, voicemails and transcripts of calls older than this many days, keeping the records (0: keep forever)
        #[arg(long, value_name = "DAYS")]
        media_retention_days: Option<u32>,
    },
    /// Print an app's settings
    Show {
        /// The SdkAppId
        sdk_app_id: i64,
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// Print the settings of every app that has any
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

pub fn run(config: &Config, command: &AppsCommand) -> Result<ExitCode> {
    let store = super::open_store(config)?;
    match command {
        AppsCommand::Set {
            sdk_app_id,
            number_protection,
            record_retention_days,
            media_retention_days,
        } => {
            check_id(*sdk_app_id)?;
            if number_protection.is_none()
                && record_retention_days.is_none()
                && media_retention_days.is_none()
            {
                bail!(
                    "nothing to set: give --number-protection on|off, --record-retention-days N or --media-retention-days N"
                );
            }
            let mut settings = store.app_settings(*sdk_app_id)?;
            if let Some(on) = number_protection {
                settings.number_protection = *on == OnOff::On;
            }
            if let Some(days) = record_retention_days {
                settings.record_retention_days = *days;
            }
            if let Some(days) = media_retention_days {
                settings.media_retention_days = *days;
            }
            store.set_app_settings(*sdk_app_id, &settings)?;
            print_settings(*sdk_app_id, &settings);
        }
        AppsCommand::Show { sdk_app_id, json } => {
            check_id(*sdk_app_id)?;
            let settings = store.app_settings(*sdk_app_id)?;
            if *json {
                println!(
                    "{}",
                    serde_json::json!({
                        "SdkAppId": sdk_app_id,
                        "NumberProtection": settings.number_protection,
                        "RecordRetentionDays": settings.record_retention_days,
                        "MediaRetentionDays": settings.media_retention_days,
                    })
                );
            } else {
                print_settings(*sdk_app_id, &settings);
            }
        }
        AppsCommand::List => {
            for (app, settings) in store.list_app_settings()? {
                print_settings(app, &settings);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check_id(sdk_app_id: i64) -> Result<()> {
    if sdk_app_id <= 0 {
        bail!("the SdkAppId must be a positive integer (such as 1400000000), got {sdk_app_id}");
    }
    Ok(())
}

fn days(n: u32) -> String {
    if n == 0 {
        "forever".to_owned()
    } else {
        format!("{n} days")
    }
}

fn print_settings(sdk_app_id: i64, s: &AppSettings) {
    println!("SdkAppId {sdk_app_id}");
    println!(
        "  number protection  {}",
        if s.number_protection { "on" } else { "off" }
    );
    println!("  keep records       {}", days(s.record_retention_days));
    println!("  keep media         {}", days(s.media_retention_days));
}
