//! `telcdr serve`: the API and the data-push receiver on the configured
//! address until Ctrl-C or SIGTERM, with the download worker and the
//! retention job in the background. With `--demo`, a fresh
//! data dir is first seeded with a few weeks of realistic calls (recent ones
//! with recordings and transcripts) and a key, and the SDK snippet to try is
//! printed.

use std::process::ExitCode;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use telcdr_media::MediaStore;
use telcdr_server::{App, ServerSecrets};
use telcdr_store::Store;
use tracing::{info, warn};

use crate::config::Config;
use crate::demo;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [env: TELCDR_LISTEN] [default: 127.0.0.1:8900]
    #[arg(long)]
    pub listen: Option<String>,
    /// Seed a fresh data dir with demo calls and a key, and print how to query them
    #[arg(long)]
    pub demo: bool,
    /// Where recordings and transcripts live: a directory or s3://bucket/prefix
    /// [env: TELCDR_MEDIA] [default: DATA_DIR/media]
    #[arg(long, value_name = "URL")]
    pub media: Option<String>,
}

pub fn run(config: &Config, args: &ServeArgs) -> Result<ExitCode> {
    let store = super::open_store(config)?;
    let media = super::open_media(config)?;
    let demo = if args.demo {
        Some(demo::seed(
            store.as_ref(),
            &media,
            &config.data_dir,
            super::unix_now(),
        )?)
    } else {
        None
    };
    // Store calls block; make them before the async runtime starts.
    let has_keys = demo.is_some() || !store.list_keys()?.is_empty();
    let secrets = ServerSecrets::load_or_create(store.as_ref())?;
    spawn_retention(
        store.clone(),
        media.clone(),
        config.retention.interval_seconds,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        // The first line is a contract: tests and scripts read the address from it.
        println!("telcdr listening on http://{addr}/");
        match &demo {
            Some(key) => demo::print_instructions(key, addr),
            None if !has_keys => println!(
                "No API keys yet: create one with `telcdr keys create --sdk-app-id <SdkAppId>`."
            ),
            None => {}
        }
        let app = App::new(
            store.clone(),
            media.clone(),
            &secrets,
            config.server_config(),
        );
        app.spawn_download_worker(config.download_config())
            .context("starting the download worker")?;
        telcdr_server::serve(listener, app, shutdown_signal())
            .await
            .context("serving")?;
        eprintln!("telcdr stopped");
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Applies the apps' retention settings every `interval` seconds (0: never)
/// on a thread of its own: store and media calls block.
fn spawn_retention(store: Arc<dyn Store>, media: Arc<MediaStore>, interval: u64) {
    if interval == 0 {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("telcdr-retention".into())
        .spawn(move || {
            loop {
                match super::retention::run_once(store.as_ref(), &media, super::unix_now()) {
                    Ok(report) => {
                        for r in report {
                            info!(
                                sdk_app_id = r.sdk_app_id,
                                records = r.records,
                                media = r.media,
                                "retention removed expired records and media"
                            );
                        }
                    }
                    Err(e) => warn!(error = %format!("{e:#}"), "retention pass failed"),
                }
                std::thread::sleep(Duration::from_secs(interval));
            }
        });
    if let Err(e) = spawned {
        warn!(error = %e, "cannot start the retention job");
    }
}
