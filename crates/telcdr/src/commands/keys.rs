//! `telcdr keys`: create, list, disable and enable API keys. A key belongs to
//! an account, and the account owns the SdkAppIds the key may query.

use std::process::ExitCode;

use anyhow::{Result, bail};
use telcdr_store::Store;

use crate::config::Config;

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key for the account owning these SdkAppIds (a new account if none has one)
    Create {
        /// An SdkAppId the key reaches; repeat for several
        #[arg(long = "sdk-app-id", required = true)]
        sdk_app_ids: Vec<i64>,
        /// Print one JSON line {"SecretId":..,"SecretKey":..}
        #[arg(long)]
        json: bool,
    },
    /// List keys (never their SecretKeys)
    List {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Disable a key: requests signed with it get AuthFailure.SecretIdNotFound
    Disable { secret_id: String },
    /// Enable a disabled key again
    Enable { secret_id: String },
}

pub fn run(config: &Config, command: &KeysCommand) -> Result<ExitCode> {
    let store = super::open_store(config)?;
    match command {
        KeysCommand::Create { sdk_app_ids, json } => {
            if let Some(bad) = sdk_app_ids.iter().find(|id| **id <= 0) {
                bail!(
                    "--sdk-app-id must be a positive integer (an SdkAppId such as 1400000000), got {bad}"
                );
            }
            let pair = telcdr_server::keys::generate_key_pair();
            let created = store.create_key(
                sdk_app_ids,
                &pair.secret_id,
                &pair.secret_key,
                super::unix_now(),
            )?;
            if *json {
                println!(
                    "{}",
                    serde_json::json!({"SecretId": pair.secret_id, "SecretKey": pair.secret_key})
                );
            } else {
                let ids: Vec<String> = sdk_app_ids.iter().map(i64::to_string).collect();
                let whose = if created.new_account {
                    "new account"
                } else {
                    "account"
                };
                println!(
                    "Created a key for {whose} {} (SdkAppId {}).",
                    created.account_id,
                    ids.join(", ")
                );
                println!("SecretId:  {}", pair.secret_id);
                println!("SecretKey: {}", pair.secret_key);
            }
        }
        KeysCommand::List { json } => {
            let keys = store.list_keys()?;
            if *json {
                for key in &keys {
                    println!(
                        "{}",
                        serde_json::json!({
                            "SecretId": key.secret_id, "AccountId": key.account_id,
                            "SdkAppIds": key.sdk_app_ids, "Enabled": key.enabled,
                            "CreatedAt": key.created_at,
                        })
                    );
                }
            } else if keys.is_empty() {
                println!("No keys yet. Create one: telcdr keys create --sdk-app-id <SdkAppId>");
            } else {
                println!(
                    "{:<38} {:>7}  {:<8} {:<12} SdkAppIds",
                    "SecretId", "account", "status", "created"
                );
                for key in &keys {
                    let ids: Vec<String> = key.sdk_app_ids.iter().map(i64::to_string).collect();
                    println!(
                        "{:<38} {:>7}  {:<8} {:<12} {}",
                        key.secret_id,
                        key.account_id,
                        if key.enabled { "enabled" } else { "disabled" },
                        key.created_at,
                        ids.join(",")
                    );
                }
            }
        }
        KeysCommand::Disable { secret_id } => set_enabled(store.as_ref(), secret_id, false)?,
        KeysCommand::Enable { secret_id } => set_enabled(store.as_ref(), secret_id, true)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn set_enabled(store: &dyn Store, secret_id: &str, enabled: bool) -> Result<()> {
    if !store.set_key_enabled(secret_id, enabled)? {
        bail!("no key with SecretId {secret_id} (see `telcdr keys list`)");
    }
    println!(
        "{} key {secret_id}.",
        if enabled { "Enabled" } else { "Disabled" }
    );
    Ok(())
}
