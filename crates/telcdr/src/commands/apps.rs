//! `telcdr apps`: per-SdkAppId settings — number protection, how long
//! records and media are kept, and how CCC's data pushes authenticate.

use std::process::ExitCode;

use anyhow::{Result, bail};
use telcdr_server::push_auth::hash_secret;
use telcdr_store::{AppSettings, PushAuth};

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
        /// How CCC's data pushes to /push authenticate: none, basic (with --push-user and
        /// --push-password), oauth2 (with --push-client-id and --push-client-secret), or off
        /// (refuse pushes, the default)
        #[arg(long, value_name = "MODE")]
        push_auth: Option<PushMode>,
        /// User name of basic push auth
        #[arg(long, value_name = "USER")]
        push_user: Option<String>,
        /// Password of basic push auth
        #[arg(long, value_name = "PASSWORD")]
        push_password: Option<String>,
        /// ClientID of oauth2 push auth (CCC asks /push/oauth2/token for a token with it)
        #[arg(long, value_name = "ID")]
        push_client_id: Option<String>,
        /// ClientSecret of oauth2 push auth
        #[arg(long, value_name = "SECRET")]
        push_client_secret: Option<String>,
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
pub enum PushMode {
    Off,
    None,
    Basic,
    Oauth2,
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
            push_auth,
            push_user,
            push_password,
            push_client_id,
            push_client_secret,
        } => {
            check_id(*sdk_app_id)?;
            let push = push_auth_of(
                *push_auth,
                push_user,
                push_password,
                push_client_id,
                push_client_secret,
            )?;
            if number_protection.is_none()
                && record_retention_days.is_none()
                && media_retention_days.is_none()
                && push.is_none()
            {
                bail!(
                    "nothing to set: give --number-protection on|off, --record-retention-days N, --media-retention-days N or --push-auth MODE"
                );
            }
            if let Some(auth) = &push {
                store.set_push_auth(*sdk_app_id, auth.as_ref())?;
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
            print_settings(
                *sdk_app_id,
                &settings,
                store.push_auth(*sdk_app_id)?.as_ref(),
            );
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
                        "PushAuth": push_mode(store.push_auth(*sdk_app_id)?.as_ref()),
                    })
                );
            } else {
                print_settings(
                    *sdk_app_id,
                    &settings,
                    store.push_auth(*sdk_app_id)?.as_ref(),
                );
            }
        }
        AppsCommand::List => {
            for (app, settings) in store.list_app_settings()? {
                print_settings(app, &settings, store.push_auth(app)?.as_ref());
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

/// The push auth the flags ask for: None when `--push-auth` is absent,
/// Some(None) to refuse pushes again.
fn push_auth_of(
    mode: Option<PushMode>,
    user: &Option<String>,
    password: &Option<String>,
    client_id: &Option<String>,
    client_secret: &Option<String>,
) -> Result<Option<Option<PushAuth>>> {
    let given = |flag: &str, v: &Option<String>| -> Result<String> {
        match v {
            Some(v) if !v.is_empty() => Ok(v.clone()),
            _ => bail!("--push-auth {} needs {flag}", mode_name(mode)),
        }
    };
    let unused = |flags: &[(&str, &Option<String>)]| -> Result<()> {
        if let Some((flag, _)) = flags.iter().find(|(_, v)| v.is_some()) {
            bail!("{flag} does not go with --push-auth {}", mode_name(mode));
        }
        Ok(())
    };
    let basic = [("--push-user", user), ("--push-password", password)];
    let oauth = [
        ("--push-client-id", client_id),
        ("--push-client-secret", client_secret),
    ];
    Ok(match mode {
        None => {
            unused(&basic)?;
            unused(&oauth)?;
            None
        }
        Some(PushMode::Off) | Some(PushMode::None) => {
            unused(&basic)?;
            unused(&oauth)?;
            Some((mode == Some(PushMode::None)).then_some(PushAuth::Open))
        }
        Some(PushMode::Basic) => {
            unused(&oauth)?;
            let user = given("--push-user", user)?;
            if user.contains(':') {
                bail!(
                    "--push-user must not contain ':' (HTTP Basic separates user and password with it)"
                );
            }
            Some(Some(PushAuth::Basic {
                user,
                password_hash: hash_secret(&given("--push-password", password)?),
            }))
        }
        Some(PushMode::Oauth2) => {
            unused(&basic)?;
            Some(Some(PushAuth::OAuth2 {
                client_id: given("--push-client-id", client_id)?,
                secret_hash: hash_secret(&given("--push-client-secret", client_secret)?),
            }))
        }
    })
}

fn mode_name(mode: Option<PushMode>) -> &'static str {
    match mode {
        Some(PushMode::Off) => "off",
        Some(PushMode::None) => "none",
        Some(PushMode::Basic) => "basic",
        Some(PushMode::Oauth2) => "oauth2",
        None => "(not given)",
    }
}

/// How `apps show` names an app's push auth (never its secret).
fn push_mode(auth: Option<&PushAuth>) -> String {
    match auth {
        None => "off (pushes refused)".into(),
        Some(PushAuth::Open) => "none (no credentials)".into(),
        Some(PushAuth::Basic { user, .. }) => format!("basic, user {user}"),
        Some(PushAuth::OAuth2 { client_id, .. }) => format!("oauth2, client id {client_id}"),
    }
}

fn print_settings(sdk_app_id: i64, s: &AppSettings, push: Option<&PushAuth>) {
    println!("SdkAppId {sdk_app_id}");
    println!(
        "  number protection  {}",
        if s.number_protection { "on" } else { "off" }
    );
    println!("  keep records       {}", days(s.record_retention_days));
    println!("  keep media         {}", days(s.media_retention_days));
    println!("  data push          {}", push_mode(push));
}
