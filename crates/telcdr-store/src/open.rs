//! Choosing a backend from a store URL: `postgres://...` (or
//! `postgresql://...`) is PostgreSQL; anything else is the path of a SQLite
//! file, with an optional `sqlite:` prefix.

use std::path::PathBuf;
use std::sync::Arc;

use crate::postgres::{PgOptions, PgStore, redact_url};
use crate::sqlite::{SqliteOptions, SqliteStore};
use crate::{Store, StoreError};

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StoreUrl {
    pub fn parse(url: &str) -> StoreUrl {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return StoreUrl::Postgres(url.to_owned());
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        StoreUrl::Sqlite(PathBuf::from(path))
    }

    /// The URL for messages: a PostgreSQL password is masked.
    pub fn display(&self) -> String {
        match self {
            StoreUrl::Sqlite(path) => path.display().to_string(),
            StoreUrl::Postgres(url) => redact_url(url),
        }
    }

    /// The backend's name, as metrics and messages say it.
    pub fn backend(&self) -> &'static str {
        match self {
            StoreUrl::Sqlite(_) => "sqlite",
            StoreUrl::Postgres(_) => "postgres",
        }
    }
}

/// Tuning of every backend; the one opened uses its part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    pub sqlite: SqliteOptions,
    pub postgres: PgOptions,
}

/// Opens the store at `url`, creating a SQLite file's directory if needed.
pub fn open(url: &StoreUrl, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        StoreUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                    path: path.display().to_string(),
                    reason: format!("cannot create directory {}: {e}", dir.display()),
                })?;
            }
            Ok(Arc::new(SqliteStore::open(path, options.sqlite.clone())?))
        }
        StoreUrl::Postgres(url) => Ok(Arc::new(PgStore::open(url, options.postgres.clone())?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds() {
        assert_eq!(
            StoreUrl::parse("postgres://u@h/db"),
            StoreUrl::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(StoreUrl::parse("postgresql://u@h/db").backend(), "postgres");
        assert_eq!(
            StoreUrl::parse("data/telcdr.db"),
            StoreUrl::Sqlite("data/telcdr.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:/var/lib/t.db"),
            StoreUrl::Sqlite("/var/lib/t.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/t.db"),
            StoreUrl::Sqlite("/var/lib/t.db".into())
        );
    }
}
