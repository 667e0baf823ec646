//! `telcdr`: keep a contact center's call records and serve them through
//! Tencent Cloud CCC's call-record API.
//!
//! Every command reads its data dir from `--data-dir` / `TELCDR_DATA_DIR`
//! (default `./telcdr-data`) and its settings from the layered configuration
//! in [`config`]. Exit codes: 0 success, 1 error, 2 an import rejected lines.

mod commands;
mod config;
mod demo;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, FlagOverrides};

#[derive(Parser)]
#[command(name = "telcdr", version, about, long_about = None)]
struct Cli {
    /// Data directory (the SQLite store lives in it) [env: TELCDR_DATA_DIR]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// The store: a SQLite file, or postgres://user:password@host:port/db
    /// [env: TELCDR_STORE] [default: DATA_DIR/telcdr.db]
    #[arg(long, global = true)]
    store: Option<String>,
    /// TOML configuration file
    #[arg(long, global = true, env = "TELCDR_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Tencent Cloud CCC call-record API
    Serve(commands::serve::ServeArgs),
    /// Import call records from JSON Lines files ("-" reads standard input)
    Import(commands::import::ImportArgs),
    /// Export an app's records as JSON Lines (which import reads back) or CSV
    Export(commands::export::ExportArgs),
    /// Write realistic synthetic call records as JSON Lines
    Generate(commands::generate::GenerateArgs),
    /// Manage API keys (SecretId/SecretKey) and the SdkAppIds they reach
    Keys {
        #[command(subcommand)]
        command: commands::keys::KeysCommand,
    },
    /// Copy every account, key, setting and record from one store to another
    Migrate(commands::migrate::MigrateArgs),
    /// Show and change per-SdkAppId settings (number protection, retention)
    Apps {
        #[command(subcommand)]
        command: commands::apps::AppsCommand,
    },
    /// Remove every record and media object involving a phone number
    Erase(commands::erase::EraseArgs),
    /// Apply the apps' retention settings now and print what was removed
    /// (`serve` does this in the background every retention.interval_seconds)
    Retention(commands::retention::RetentionArgs),
    /// Pull an app's records, recordings and transcripts from Tencent Cloud
    /// CCC (or another telcdr) into this store, resumably
    Sync(commands::sync::SyncArgs),
    /// Print the merged configuration (defaults, file, environment, flags)
    Config,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let listen = match &cli.command {
        Command::Serve(args) => args.listen.clone(),
        _ => None,
    };
    // `import --media DIR` names files to read; the media store of the
    // other commands is `--media URL`.
    let media = match &cli.command {
        Command::Serve(args) => args.media.clone(),
        Command::Erase(args) => args.media.clone(),
        Command::Retention(args) => args.media.clone(),
        Command::Sync(args) => args.media.clone(),
        _ => None,
    };
    let flags = FlagOverrides {
        data_dir: cli.data_dir.clone(),
        store: cli.store.clone(),
        media,
        listen,
    };
    let config = Config::load(cli.config.as_deref(), std::env::vars(), &flags)?;
    match cli.command {
        Command::Serve(args) => commands::serve::run(&config, &args),
        Command::Import(args) => commands::import::run(&config, &args),
        Command::Export(args) => commands::export::run(&config, &args),
        Command::Generate(args) => commands::generate::run(&args),
        Command::Keys { command } => commands::keys::run(&config, &command),
        Command::Migrate(args) => commands::migrate::run(&config, &args),
        Command::Apps { command } => commands::apps::run(&config, &command),
        Command::Erase(args) => commands::erase::run(&config, &args),
        Command::Retention(_) => commands::retention::run(&config),
        Command::Sync(args) => commands::sync::run(&config, &args),
        Command::Config => {
            print!("{}", config.to_toml()?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Logs go to stderr; `TELCDR_LOG` (or `RUST_LOG`) sets the filter, `info` by
/// default (one line per API request).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("TELCDR_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        // object_store logs each retry of an S3 request at info.
        .unwrap_or_else(|_| "info,object_store=warn".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
