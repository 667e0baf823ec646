//! One module per subcommand.

pub mod apps;
pub mod erase;
pub mod export;
pub mod generate;
pub mod import;
pub mod keys;
pub mod media;
pub mod migrate;
pub mod retention;
pub mod serve;
pub mod sync;

use std::sync::Arc;

use anyhow::Result;
use telcdr_media::MediaStore;
use telcdr_store::Store;

use crate::config::Config;

/// Opens (creating if needed) the configured store: SQLite in the data dir
/// by default, or the file or PostgreSQL database `store` names.
pub fn open_store(config: &Config) -> Result<Arc<dyn Store>> {
    // StoreError already names the store and the reason.
    Ok(telcdr_store::open(
        &config.store_url(),
        &config.store_options(),
    )?)
}

/// Opens the configured store for a bulk load (`import`, a one-off `sync`): a SQLite store
/// no other process has open writes through a rollback journal meanwhile
/// (see `SqliteOptions::bulk_load`).
pub fn open_store_for_bulk_load(config: &Config) -> Result<Arc<dyn Store>> {
    let mut options = config.store_options();
    options.sqlite.bulk_load = true;
    Ok(telcdr_store::open(&config.store_url(), &options)?)
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    use telcdr_server::Clock;
    telcdr_server::SystemClock.now()
}

/// Opens the configured media store: `media/` in the data dir by default, or
/// the directory or S3 bucket `media` names.
pub fn open_media(config: &Config) -> Result<Arc<MediaStore>> {
    let url = config.media_url()?;
    let s3 = config.s3_options();
    Ok(Arc::new(MediaStore::open(&url, Some(&s3))?))
}
