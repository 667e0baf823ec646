//! Configuration: compiled defaults, then a TOML file (`--config` /
//! `TELCDR_CONFIG`), then `TELCDR_*` environment variables, then flags.
//! `telcdr config` prints the merged result.
//!
//! Environment variables map onto the TOML tree: strip `TELCDR_`, lower-case,
//! and `__` separates a table from its key, so `TELCDR_RATE_LIMIT__PER_SECOND=5`
//! sets `rate_limit.per_second`. Unknown keys are errors, not silent typos.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use telcdr_media::{MediaUrl, S3Options};
use telcdr_store::postgres::PgOptions;
use telcdr_store::sqlite::SqliteOptions;
use telcdr_store::{StoreOptions, StoreUrl};

/// The merged configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where `serve` listens.
    pub listen: String,
    /// The data directory: the SQLite store (`telcdr.db`) lives in it unless
    /// `store` names another.
    pub data_dir: PathBuf,
    /// The store: empty for `<data_dir>/telcdr.db`, a SQLite file path, or a
    /// PostgreSQL URL (`postgres://user:password@host:port/database`).
    pub store: String,
    /// Where recordings, voicemails and transcripts live: empty for
    /// `<data_dir>/media`, a directory, or `s3://bucket/prefix` (see `[s3]`).
    pub media: String,
    /// Language of error messages when a request names none: en-US or zh-CN.
    pub language: String,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    pub query: QueryConfig,
    pub sqlite: SqliteConfig,
    pub postgres: PostgresConfig,
    pub media_links: MediaLinksConfig,
    pub s3: S3Config,
    pub retention: RetentionConfig,
    pub push: PushConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Attempts to download a pushed recording before giving up.
    pub download_attempts: u32,
    /// Wait before the second attempt, seconds, doubled after each failure
    /// (at most an hour).
    pub download_backoff_seconds: i64,
    /// Timeout of one download, seconds.
    pub download_timeout_seconds: u64,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            download_attempts: 8,
            download_backoff_seconds: 10,
            download_timeout_seconds: 120,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaLinksConfig {
    /// How long a recording or transcript link the API returns stays valid.
    pub ttl_seconds: i64,
    /// Scheme and host links point at (e.g. https://cdr.example.com behind a
    /// proxy); empty: the host the API request came to, over http.
    pub public_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// S3-compatible endpoint (http://127.0.0.1:9000); empty: AWS itself.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Path-style requests (endpoint/bucket/key), as most self-hosted S3
    /// servers want.
    pub path_style: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// How often `serve` applies the apps' retention settings, seconds; 0
    /// turns the job off.
    pub interval_seconds: u64,
}

impl Default for MediaLinksConfig {
    fn default() -> Self {
        MediaLinksConfig {
            ttl_seconds: 86_400,
            public_url: String::new(),
        }
    }
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: String::new(),
            region: "us-east-1".to_owned(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            path_style: true,
        }
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            interval_seconds: 3_600,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Allowed difference between a request's timestamp and the server clock.
    pub max_skew_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Requests per second per (account, action); 0 = unlimited.
    pub per_second: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryConfig {
    /// How far back StartTimeStamp may reach, in days; 0 = unlimited.
    pub max_lookback_days: u32,
    /// EndTimeStamp - StartTimeStamp must be less than this many days.
    pub max_span_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqliteConfig {
    /// Read connections in the pool.
    pub readers: usize,
    /// Page cache per connection, MiB.
    pub cache_mib: u32,
    /// Page size of a new SQLite store, KiB (4 to 64): big pages import
    /// faster, small ones commit small writes (pushes) faster.
    pub page_size_kib: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresConfig {
    /// Read connections at most, per process.
    pub readers: usize,
    /// Apply pending schema migrations on start; when off, an old schema
    /// is an error.
    pub migrate: bool,
    /// Calls of one number in a phone filter's window from which that
    /// number's calls are counted per period (a busy number's totals then
    /// cost the same however many calls it has).
    pub busy_phone_calls: u64,
}

/// The default listen address: loopback only, so a fresh `serve` exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8900";

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.to_owned(),
            data_dir: PathBuf::from("telcdr-data"),
            store: String::new(),
            media: String::new(),
            language: "en-US".to_owned(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            query: QueryConfig::default(),
            sqlite: SqliteConfig::default(),
            postgres: PostgresConfig::default(),
            media_links: MediaLinksConfig::default(),
            s3: S3Config::default(),
            retention: RetentionConfig::default(),
            push: PushConfig::default(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            max_skew_seconds: 300,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig { per_second: 20 }
    }
}

impl Default for QueryConfig {
    fn default() -> Self {
        QueryConfig {
            max_lookback_days: 180,
            max_span_days: 90,
        }
    }
}

impl Default for SqliteConfig {
    fn default() -> Self {
        SqliteConfig {
            readers: 4,
            cache_mib: 64,
            page_size_kib: 16,
        }
    }
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            readers: 8,
            migrate: true,
            busy_phone_calls: telcdr_store::postgres::DEFAULT_BUSY_PHONE_CALLS,
        }
    }
}

/// Overrides given as command-line flags (the last layer).
#[derive(Debug, Default, Clone)]
pub struct FlagOverrides {
    pub data_dir: Option<PathBuf>,
    pub store: Option<String>,
    pub media: Option<String>,
    pub listen: Option<String>,
}

/// Environment variables that are not settings: the config file, the log
/// filter, and where the test and bench scripts keep their installed clients.
const NOT_SETTINGS: &[&str] = &["TELCDR_CONFIG", "TELCDR_LOG", "TELCDR_CACHE"];

impl Config {
    /// Builds the merged configuration from all four layers.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &FlagOverrides,
    ) -> Result<Config> {
        let mut tree = toml::Table::try_from(Config::default())
            .context("serialising the default configuration")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let from_file: toml::Table = text
                .parse()
                .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
            merge(&mut tree, from_file);
        }
        let mut vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("TELCDR_") && !NOT_SETTINGS.contains(&k.as_str()))
            .collect();
        vars.sort();
        for (name, value) in vars {
            set_path(&mut tree, &name, &value)?;
        }
        let mut config: Config = tree.try_into().map_err(|e: toml::de::Error| {
            anyhow::anyhow!("invalid configuration: {}", e.message())
        })?;
        if let Some(dir) = &flags.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(store) = &flags.store {
            config.store = store.clone();
        }
        if let Some(media) = &flags.media {
            config.media = media.clone();
        }
        if let Some(listen) = &flags.listen {
            config.listen = listen.clone();
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        if tcapi::Language::parse(&self.language).is_none() {
            bail!(
                "language must be \"en-US\" or \"zh-CN\", got {:?}",
                self.language
            );
        }
        if self.query.max_span_days == 0 {
            bail!("query.max_span_days must be at least 1");
        }
        if self.auth.max_skew_seconds < 0 {
            bail!("auth.max_skew_seconds must not be negative");
        }
        if !matches!(self.sqlite.page_size_kib, 4 | 8 | 16 | 32 | 64) {
            bail!(
                "sqlite.page_size_kib must be 4, 8, 16, 32 or 64, got {}",
                self.sqlite.page_size_kib
            );
        }
        if self.sqlite.readers == 0 {
            bail!("sqlite.readers must be at least 1");
        }
        if self.postgres.readers == 0 {
            bail!("postgres.readers must be at least 1");
        }
        if self.push.download_attempts == 0 {
            bail!("push.download_attempts must be at least 1");
        }
        if self.push.download_backoff_seconds < 0 {
            bail!("push.download_backoff_seconds must not be negative");
        }
        if self.media_links.ttl_seconds < 1 {
            bail!("media_links.ttl_seconds must be at least 1");
        }
        if !self.media.is_empty() {
            MediaUrl::parse(&self.media).map_err(|e| anyhow::anyhow!("media: {e}"))?;
        }
        Ok(())
    }

    /// The configuration as TOML, as `telcdr config` prints it.
    /// A PostgreSQL password in `store` is masked: secrets are never printed.
    pub fn to_toml(&self) -> Result<String> {
        let mut shown = Config {
            store: self.store_url_for_display(),
            ..self.clone()
        };
        if !shown.s3.secret_access_key.is_empty() {
            shown.s3.secret_access_key = "***".to_owned();
        }
        toml::to_string(&shown).context("serialising the configuration")
    }

    /// `store` as it may be shown: empty stays empty, a password is masked.
    fn store_url_for_display(&self) -> String {
        if self.store.is_empty() {
            String::new()
        } else {
            StoreUrl::parse(&self.store).display()
        }
    }

    /// Where the store lives: `store` when set, else `telcdr.db` in the
    /// data dir.
    pub fn store_url(&self) -> StoreUrl {
        if self.store.is_empty() {
            StoreUrl::Sqlite(self.data_dir.join("telcdr.db"))
        } else {
            StoreUrl::parse(&self.store)
        }
    }

    /// Tuning of the configured backends.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            sqlite: SqliteOptions {
                readers: self.sqlite.readers,
                cache_mib: self.sqlite.cache_mib,
                page_size: self.sqlite.page_size_kib * 1024,
                ..SqliteOptions::default()
            },
            postgres: PgOptions {
                readers: self.postgres.readers,
                migrate: self.postgres.migrate,
                busy_phone_calls: self.postgres.busy_phone_calls,
            },
        }
    }

    /// Where media live: `media` when set, else `media/` in the data dir.
    pub fn media_url(&self) -> Result<MediaUrl> {
        if self.media.is_empty() {
            Ok(MediaUrl::Local(self.data_dir.join("media")))
        } else {
            MediaUrl::parse(&self.media).map_err(|e| anyhow::anyhow!("media: {e}"))
        }
    }

    /// S3 connection settings, for an `s3://` media URL.
    pub fn s3_options(&self) -> S3Options {
        S3Options {
            endpoint: (!self.s3.endpoint.is_empty()).then(|| self.s3.endpoint.clone()),
            region: self.s3.region.clone(),
            access_key_id: self.s3.access_key_id.clone(),
            secret_access_key: self.s3.secret_access_key.clone(),
            path_style: self.s3.path_style,
        }
    }

    /// How `serve` downloads pushed media.
    pub fn download_config(&self) -> telcdr_server::downloads::DownloadConfig {
        telcdr_server::downloads::DownloadConfig {
            max_attempts: self.push.download_attempts,
            backoff_seconds: self.push.download_backoff_seconds,
            timeout_seconds: self.push.download_timeout_seconds,
            ..Default::default()
        }
    }

    pub fn server_config(&self) -> telcdr_server::ServerConfig {
        telcdr_server::ServerConfig {
            default_language: tcapi::Language::parse(&self.language)
                .unwrap_or(tcapi::Language::EnUs),
            max_skew_seconds: self.auth.max_skew_seconds,
            rate_limit_per_second: self.rate_limit.per_second,
            query: telcdr_server::QueryLimits {
                max_lookback_days: self.query.max_lookback_days,
                max_span_days: self.query.max_span_days,
            },
            limits: tcapi::Limits::default(),
            media_link_ttl_seconds: self.media_links.ttl_seconds,
            public_url: (!self.media_links.public_url.is_empty())
                .then(|| self.media_links.public_url.clone()),
        }
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Sets the setting named by environment variable `name` to `raw`, typed
/// like the default it replaces.
fn set_path(tree: &mut toml::Table, name: &str, raw: &str) -> Result<()> {
    let path: Vec<String> = name["TELCDR_".len()..]
        .split("__")
        .map(str::to_ascii_lowercase)
        .collect();
    let (last, tables) = path.split_last().context("empty variable name")?;
    let mut table = tree;
    for part in tables {
        table = match table.get_mut(part) {
            Some(toml::Value::Table(t)) => t,
            _ => bail!("{name} is not a telcdr setting (no table `{part}`)"),
        };
    }
    let value = match table.get(last) {
        Some(toml::Value::Integer(_)) => toml::Value::Integer(
            raw.trim()
                .parse()
                .with_context(|| format!("{name} must be an integer, got {raw:?}"))?,
        ),
        Some(toml::Value::Boolean(_)) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => bail!("{name} must be true or false, got {raw:?}"),
        }),
        Some(toml::Value::String(_)) => toml::Value::String(raw.to_owned()),
        Some(_) => bail!("{name} names a table, not a setting"),
        None => bail!("{name} is not a telcdr setting"),
    };
    table.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_tencent() {
        let c = Config::load(None, env(&[]), &FlagOverrides::default()).unwrap();
        assert_eq!(c.rate_limit.per_second, 20);
        assert_eq!(c.query.max_lookback_days, 180);
        assert_eq!(c.query.max_span_days, 90);
        assert_eq!(c.auth.max_skew_seconds, 300);
        assert!(c.listen.starts_with("127.0.0.1:"));
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("telcdr.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\n[rate_limit]\nper_second = 7\n[query]\nmax_lookback_days = 0\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&file),
            env(&[
                ("TELCDR_RATE_LIMIT__PER_SECOND", "9"),
                ("TELCDR_LISTEN", "127.0.0.1:2"),
                ("HOME", "/root"),
            ]),
            &FlagOverrides {
                listen: Some("127.0.0.1:3".into()),
                data_dir: None,
                store: None,
                media: None,
            },
        )
        .unwrap();
        assert_eq!(c.query.max_lookback_days, 0, "from the file");
        assert_eq!(c.rate_limit.per_second, 9, "env over file");
        assert_eq!(c.listen, "127.0.0.1:3", "flag over env");
        let printed = c.to_toml().unwrap();
        assert!(printed.contains("per_second = 9"), "{printed}");
    }

    #[test]
    fn unknown_and_mistyped_settings_are_errors() {
        let none = FlagOverrides::default();
        let err = Config::load(None, env(&[("TELCDR_RATE_LIMT__PER_SECOND", "1")]), &none);
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("not a telcdr setting")
        );
        for not_a_setting in ["TELCDR_CACHE", "TELCDR_LOG", "TELCDR_CONFIG"] {
            assert!(Config::load(None, env(&[(not_a_setting, "x")]), &none).is_ok());
        }
        let err = Config::load(None, env(&[("TELCDR_RATE_LIMIT__PER_SECOND", "x")]), &none);
        assert!(err.unwrap_err().to_string().contains("must be an integer"));
        let err = Config::load(None, env(&[("TELCDR_LANGUAGE", "fr")]), &none);
        assert!(err.unwrap_err().to_string().contains("en-US"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "[query]\nmax_lookback = 3\n").unwrap();
        let err = Config::load(Some(&file), env(&[]), &none).unwrap_err();
        assert!(format!("{err:#}").contains("max_lookback"), "{err:#}");
    }
}
