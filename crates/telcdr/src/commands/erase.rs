//! `telcdr erase --sdk-app-id ID --phone NUMBER`: removes every record of
//! an app in which a number took part — as caller, callee or a leg's phone —
//! together with its recordings, voicemails and transcripts, and says what
//! it removed. Numbers match after normalisation, as the Phones filter does.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{Result, bail};
use serde::Deserialize;
use telcdr_model::normalize_phone;
use telcdr_store::Store;

use super::media::delete_records;
use crate::config::Config;

#[derive(clap::Args)]
pub struct EraseArgs {
    /// The SdkAppId whose records to search
    #[arg(long)]
    sdk_app_id: i64,
    /// The phone number, in any spelling (+86..., 0086..., 86...)
    #[arg(long)]
    phone: String,
    /// Where recordings and transcripts live: a directory or s3://bucket/prefix
    /// [env: TELCDR_MEDIA] [default: DATA_DIR/media]
    #[arg(long, value_name = "URL")]
    pub media: Option<String>,
}

pub fn run(config: &Config, args: &EraseArgs) -> Result<ExitCode> {
    if args.sdk_app_id <= 0 {
        bail!(
            "--sdk-app-id must be a positive integer (such as 1400000000), got {}",
            args.sdk_app_id
        );
    }
    let phone = normalize_phone(&args.phone);
    if phone.is_empty() {
        bail!(
            "--phone {:?} has no digits: give a phone number",
            args.phone
        );
    }
    let store = super::open_store(config)?;
    let media = super::open_media(config)?;
    let sessions = sessions_involving(store.as_ref(), args.sdk_app_id, &phone)?;
    let ids: Vec<String> = sessions.into_iter().collect();
    let (records, objects) = delete_records(store.as_ref(), &media, args.sdk_app_id, &ids)?;
    for id in &ids {
        println!("removed session {id}");
    }
    println!(
        "erased {records} records and {objects} media objects involving {phone} from SdkAppId {}",
        args.sdk_app_id
    );
    Ok(ExitCode::SUCCESS)
}

/// Sessions whose caller or callee is `phone` (from the phone indexes) or
/// one of whose legs rang `phone` (legs are not indexed: read every record
/// of the app once).
fn sessions_involving(store: &dyn Store, sdk_app_id: i64, phone: &str) -> Result<BTreeSet<String>> {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Legs {
        serve_participants: Vec<Leg>,
    }
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Leg {
        phone: String,
    }
    let mut found: BTreeSet<String> = store
        .sessions_with_phone(sdk_app_id, phone)?
        .into_iter()
        .collect();
    let mut after: Option<(i64, String)> = None;
    loop {
        let batch = store.scan_window(sdk_app_id, i64::MIN, i64::MAX, after.as_ref(), 5_000)?;
        let Some(last) = batch.last() else { break };
        after = Some((last.time, last.session_id.clone()));
        for r in &batch {
            let Ok(legs) = serde_json::from_slice::<Legs>(&r.body) else {
                continue;
            };
            if legs
                .serve_participants
                .iter()
                .any(|leg| normalize_phone(&leg.phone) == phone)
            {
                found.insert(r.session_id.clone());
            }
        }
    }
    Ok(found)
}
