//! The telcdr HTTP server: Tencent Cloud API 3.0 at `/`, one module per
//! action, keys, tenancy and rate limits; signed media links at `/media/`;
//! CCC's data push at `/push` (with its download worker); the web console
//! at `/console/`; `/healthz`.
//!
//! The entry point [`serve`] takes a bound listener and a shutdown future, so
//! tests run the real server on `127.0.0.1:0` in-process and the binary runs
//! it on the configured address. [`router`] gives the bare axum router for
//! socket-less tests.
//!
//! Layering: the protocol (decoding, signatures, envelope) is `tcapi`; the
//! actions in [`actions`] see typed parameters and a [`Store`], never HTTP or
//! SQL; the store never sees Tencent's envelope.

pub mod actions;
mod api;
mod clock;
mod console;
pub mod downloads;
pub mod keys;
mod media_route;
mod present;
pub mod protect;
mod push;
pub mod push_auth;
mod rate_limit;
pub mod relocate;
mod secrets;
pub mod temp_credentials;

pub use clock::{Clock, FixedClock, SystemClock};
pub use secrets::ServerSecrets;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get, post};
use tcapi::Language;
use telcdr_media::{LinkSigner, MediaStore};
use telcdr_store::Store;

use crate::downloads::DownloadWaker;
use crate::protect::NumberProtector;
use crate::push_auth::TokenSigner;
use crate::rate_limit::RateLimiter;

/// Limits on DescribeTelCdr-style windows; Tencent's values by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLimits {
    /// How far back `StartTimeStamp` may reach, in days; 0 = unlimited.
    pub max_lookback_days: u32,
    /// `EndTimeStamp - StartTimeStamp` must be below this many days.
    pub max_span_days: u32,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_lookback_days: 180,
            max_span_days: 90,
        }
    }
}

/// Everything the server needs that comes from configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Language of error messages when a request names none.
    pub default_language: Language,
    /// Allowed clock skew of a signed request, seconds.
    pub max_skew_seconds: i64,
    /// Requests per second per (account, action); 0 = unlimited.
    pub rate_limit_per_second: u32,
    pub query: QueryLimits,
    pub limits: tcapi::Limits,
    /// How long a `/media` link the API mints stays valid, seconds.
    pub media_link_ttl_seconds: i64,
    /// Scheme and authority of links (`https://cdr.example.com`), for a
    /// server behind a proxy; None: the Host the request came to, over http.
    pub public_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            default_language: Language::EnUs,
            max_skew_seconds: 300,
            rate_limit_per_second: 20,
            query: QueryLimits::default(),
            limits: tcapi::Limits::default(),
            media_link_ttl_seconds: 86_400,
            public_url: None,
        }
    }
}

/// Shared state of one server.
#[derive(Clone)]
pub struct App {
    inner: Arc<AppInner>,
}

struct AppInner {
    store: Arc<dyn Store>,
    media: Arc<MediaStore>,
    config: ServerConfig,
    clock: Arc<dyn Clock>,
    limiter: RateLimiter,
    signer: LinkSigner,
    protector: NumberProtector,
    tokens: TokenSigner,
    downloads: DownloadWaker,
    pushes: push::PushBatcher,
    temp_credentials: temp_credentials::TempCredentials,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        media: Arc<MediaStore>,
        secrets: &ServerSecrets,
        config: ServerConfig,
    ) -> App {
        App::with_clock(store, media, secrets, config, Arc::new(SystemClock))
    }

    /// Like [`App::new`] with an injected clock (signature skew, look-back,
    /// link expiry).
    pub fn with_clock(
        store: Arc<dyn Store>,
        media: Arc<MediaStore>,
        secrets: &ServerSecrets,
        config: ServerConfig,
        clock: Arc<dyn Clock>,
    ) -> App {
        let limiter = RateLimiter::new(config.rate_limit_per_second);
        let tokens = TokenSigner::new(&secrets.push_tokens);
        let downloads = DownloadWaker::default();
        let pushes = push::PushBatcher::spawn(
            store.clone(),
            tokens.clone(),
            clock.clone(),
            downloads.clone(),
        );
        App {
            inner: Arc::new(AppInner {
                pushes,
                store,
                media,
                config,
                clock,
                limiter,
                signer: LinkSigner::new(&secrets.media_links),
                protector: NumberProtector::new(&secrets.number_protection),
                tokens,
                downloads,
                temp_credentials: temp_credentials::TempCredentials::new(&secrets.temp_credentials),
            }),
        }
    }

    /// Starts the worker that downloads the media pushes announce; pushes
    /// received by this app wake it.
    pub fn spawn_download_worker(
        &self,
        config: downloads::DownloadConfig,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let inner = &self.inner;
        downloads::spawn(
            inner.store.clone(),
            inner.media.clone(),
            inner.clock.clone(),
            inner.downloads.clone(),
            config,
        )
    }
}

/// The router: the API at `/`, media links at `/media/`, health at
/// `/healthz`.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", any(api::handle))
        .route("/console", get(console::redirect))
        .route("/console/", get(console::index))
        .route("/console/{name}", get(console::asset))
        .route("/media/{*key}", get(media_route::handle))
        .route("/push", post(push::handle))
        .route("/push/oauth2/token", post(push::token))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(app)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains
/// in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
}
