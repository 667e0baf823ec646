//! One module per subcommand.

pub mod generate;
pub mod import;
pub mod keys;
pub mod serve;

use std::sync::Arc;

use anyhow::{Context, Result};
use telcdr_store::sqlite::{SqliteOptions, SqliteStore};

use crate::config::Config;

/// Opens (creating if needed) the store of the configured data dir.
pub fn open_store(config: &Config) -> Result<Arc<SqliteStore>> {
    let path = config.store_path();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data dir {}", dir.display()))?;
    }
    let options = SqliteOptions {
        readers: config.sqlite.readers,
        cache_mib: config.sqlite.cache_mib,
        ..SqliteOptions::default()
    };
    // StoreError already names the path.
    let store = SqliteStore::open(&path, options)?;
    Ok(Arc::new(store))
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    use telcdr_server::Clock;
    telcdr_server::SystemClock.now()
}
