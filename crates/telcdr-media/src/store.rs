//! [`MediaStore`]: one interface over the local and S3 backends.

use std::fmt;

use crate::local::LocalStore;
use crate::s3::S3Store;
use crate::{MediaError, MediaUrl, ObjectKey, S3Options};

/// The media object store: a local directory or an S3 bucket (and prefix).
///
/// Every method blocks; run them on plain threads or in `spawn_blocking`.
/// `Send + Sync`, meant to be shared as an `Arc`. Both backends answer the
/// same way (`tests/stores.rs` runs one contract suite over both), except
/// that a local directory cannot hold both an object `a` and an object
/// `a/b`; the deterministic media keys never ask it to.
pub struct MediaStore {
    url: MediaUrl,
    backend: Backend,
}

enum Backend {
    Local(LocalStore),
    S3(S3Store),
}

impl MediaStore {
    /// Opens the store at `url`. A local directory is created if missing and
    /// must be writable. An S3 bucket needs `s3` settings and must answer a
    /// listing of the prefix: a wrong endpoint, bucket or key fails here with
    /// an error naming the URL (never the secret).
    pub fn open(url: &MediaUrl, s3: Option<&S3Options>) -> Result<MediaStore, MediaError> {
        let backend = match url {
            MediaUrl::Local(dir) => Backend::Local(LocalStore::open(dir)?),
            MediaUrl::S3 { bucket, prefix } => {
                let opts = s3.ok_or_else(|| {
                    MediaError::Config(format!("{url} needs S3 settings (the [media.s3] section)"))
                })?;
                Backend::S3(S3Store::open(bucket, prefix, opts, &url.to_string())?)
            }
        };
        Ok(MediaStore {
            url: url.clone(),
            backend,
        })
    }

    /// Stores an object atomically, replacing any object under `key`:
    /// readers see the old object or the whole new one, never a part. When
    /// it returns, the object is durable (fsynced locally, acknowledged by S3).
    pub fn put(&self, key: &ObjectKey, bytes: Vec<u8>) -> Result<(), MediaError> {
        match &self.backend {
            Backend::Local(store) => store.put(key, &bytes),
            Backend::S3(store) => store.put(key, bytes),
        }
    }

    /// The object's size in bytes, or None if there is no such object.
    pub fn size(&self, key: &ObjectKey) -> Result<Option<u64>, MediaError> {
        match &self.backend {
            Backend::Local(store) => store.size(key),
            Backend::S3(store) => store.size(key),
        }
    }

    /// Up to `len` bytes from offset `start`, cut short at the object's end
    /// (so empty when `start` is at or past it); None if there is no such
    /// object. This is what an HTTP `Range` request is served from.
    pub fn read_range(
        &self,
        key: &ObjectKey,
        start: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, MediaError> {
        match &self.backend {
            Backend::Local(store) => store.read_range(key, start, len),
            Backend::S3(store) => store.read_range(key, start, len),
        }
    }

    /// The whole object, or None if there is no such object.
    pub fn read(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, MediaError> {
        match &self.backend {
            Backend::Local(store) => store.read_range(key, 0, u64::MAX),
            Backend::S3(store) => store.read(key),
        }
    }

    /// Removes an object. Removing a missing object is not an error, so a
    /// retried cleanup is harmless.
    pub fn delete(&self, key: &ObjectKey) -> Result<(), MediaError> {
        match &self.backend {
            Backend::Local(store) => store.delete(key),
            Backend::S3(store) => store.delete(key),
        }
    }

    /// Moves an object to a new key, replacing any object there; used to
    /// file a pending upload under its final key once its record arrives.
    /// [`MediaError::NotFound`] if `from` does not exist.
    ///
    /// Locally this is one atomic rename. On S3 it is a copy then a delete:
    /// a crash between them leaves both keys, and repeating the rename then
    /// finishes the job (the copy is repeated, the delete tolerates absence).
    pub fn rename(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), MediaError> {
        match &self.backend {
            Backend::Local(store) => store.rename(from, to),
            Backend::S3(store) => store.rename(from, to),
        }
    }

    /// Where this store lives.
    pub fn url(&self) -> &MediaUrl {
        &self.url
    }
}

impl fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaStore")
            .field("url", &self.url.to_string())
            .finish()
    }
}
