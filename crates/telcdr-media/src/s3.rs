//! The S3 backend: `object_store`'s S3 client, driven from blocking callers.
//!
//! `object_store` is async. Each [`S3Store`] owns a small tokio runtime and
//! hands every request to it, waiting on a plain channel for the answer. So a
//! caller needs no runtime of its own, and a call made by mistake from an
//! async worker thread blocks that thread rather than panicking the way a
//! nested `block_on` would.

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt,
    PutOptions, RetryConfig,
};
use tokio::runtime::Runtime;

use crate::{MediaError, ObjectKey, S3Options, content_type};

pub(crate) struct S3Store {
    client: Arc<AmazonS3>,
    /// Taken in `Drop`, which must not block (see there).
    runtime: Option<Runtime>,
    /// The URL's prefix, with its trailing `/`, or empty.
    prefix: String,
    /// `s3://bucket/prefix` at the endpoint, for messages.
    place: String,
}

type Answer<T> = Result<T, object_store::Error>;

impl S3Store {
    /// Builds the client and lists the prefix once, so a wrong endpoint,
    /// bucket or credential fails here, at startup, not at the first upload.
    pub(crate) fn open(
        bucket: &str,
        prefix: &str,
        opts: &S3Options,
        shown: &str,
    ) -> Result<S3Store, MediaError> {
        let endpoint = opts.endpoint.as_deref().map(|e| e.trim_end_matches('/'));
        let place = match endpoint {
            Some(e) => format!("{shown} at {e}"),
            None => format!("{shown} at AWS region {}", opts.region),
        };
        if let Some(e) = endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err(MediaError::Config(format!(
                "endpoint {e:?} must start with http:// or https://"
            )));
        }
        if opts.access_key_id.is_empty() || opts.secret_access_key.is_empty() {
            return Err(MediaError::Config(format!(
                "{place}: access_key_id and secret_access_key are required"
            )));
        }
        let client = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&opts.region)
            .with_access_key_id(&opts.access_key_id)
            .with_secret_access_key(&opts.secret_access_key)
            .with_virtual_hosted_style_request(!opts.path_style)
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(endpoint.is_some_and(|e| e.starts_with("http://")))
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            )
            // A few quick retries ride out a restart; the default (10 over
            // three minutes) would hang startup against a wrong endpoint.
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(20),
                ..RetryConfig::default()
            });
        let client = match endpoint {
            Some(e) => client.with_endpoint(e),
            None => client,
        };
        let client = client
            .build()
            .map_err(|e| MediaError::Config(format!("{place}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("telcdr-media-s3")
            .enable_all()
            .build()
            .map_err(|e| MediaError::Io(format!("cannot start the S3 client's runtime: {e}")))?;
        let store = S3Store {
            client: Arc::new(client),
            runtime: Some(runtime),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            place,
        };
        let client = store.client.clone();
        let listed = match prefix {
            "" => None,
            p => Some(Path::from(p)),
        };
        store
            .run(async move { client.list_with_delimiter(listed.as_ref()).await })
            .map_err(|e| MediaError::Unreachable(format!("{}: {e}", store.place)))?;
        Ok(store)
    }

    /// Runs one request on the store's runtime and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        request: impl Future<Output = Answer<T>> + Send + 'static,
    ) -> Answer<T> {
        let gone = || object_store::Error::Generic {
            store: "S3",
            source: "the S3 client's runtime stopped before answering".into(),
        };
        let runtime = self.runtime.as_ref().ok_or_else(gone)?;
        let (tx, rx) = mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(request.await);
        });
        rx.recv().map_err(|_| gone())?
    }

    fn path(&self, key: &ObjectKey) -> Result<Path, MediaError> {
        Path::parse(format!("{}{key}", self.prefix))
            .map_err(|e| MediaError::InvalidKey(format!("{key}: {e}")))
    }

    fn err(&self, what: &str, key: &ObjectKey, e: object_store::Error) -> MediaError {
        MediaError::Io(format!("cannot {what} {key} in {}: {e}", self.place))
    }

    pub(crate) fn put(&self, key: &ObjectKey, bytes: Vec<u8>) -> Result<(), MediaError> {
        let (client, path) = (self.client.clone(), self.path(key)?);
        // Stored with the object, so a presigned or direct S3 download gets it right too.
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type(key.as_str()).into());
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        // A single PUT is atomic in S3: readers see the old object or the new one.
        self.run(async move { client.put_opts(&path, bytes.into(), opts).await })
            .map(drop)
            .map_err(|e| self.err("store", key, e))
    }

    pub(crate) fn size(&self, key: &ObjectKey) -> Result<Option<u64>, MediaError> {
        let (client, path) = (self.client.clone(), self.path(key)?);
        match self.run(async move { client.head(&path).await }) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("stat", key, e)),
        }
    }

    pub(crate) fn read_range(
        &self,
        key: &ObjectKey,
        start: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, MediaError> {
        let end = start.saturating_add(len);
        if start < end {
            // The common case in one request: S3 trims a range past the end.
            let (client, path) = (self.client.clone(), self.path(key)?);
            let opts = GetOptions::new().with_range(Some(GetRange::Bounded(start..end)));
            let got = self.run(async move { client.get_opts(&path, opts).await?.bytes().await });
            match got {
                Ok(bytes) => return Ok(Some(Vec::from(bytes))),
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                // Most likely a start at or past the end (416); the size tells.
                Err(e) => match self.size(key)? {
                    None => return Ok(None),
                    Some(size) if size > start => return Err(self.err("read", key, e)),
                    Some(_) => {}
                },
            }
        } else if self.size(key)?.is_none() {
            return Ok(None);
        }
        Ok(Some(Vec::new()))
    }

    pub(crate) fn read(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, MediaError> {
        let (client, path) = (self.client.clone(), self.path(key)?);
        match self.run(async move { client.get(&path).await?.bytes().await }) {
            Ok(bytes) => Ok(Some(Vec::from(bytes))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("read", key, e)),
        }
    }

    pub(crate) fn delete(&self, key: &ObjectKey) -> Result<(), MediaError> {
        let (client, path) = (self.client.clone(), self.path(key)?);
        match self.run(async move { client.delete(&path).await }) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("delete", key, e)),
        }
    }

    pub(crate) fn rename(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), MediaError> {
        if from == to {
            return match self.size(from)? {
                Some(_) => Ok(()),
                None => Err(MediaError::NotFound(from.to_string())),
            };
        }
        let (client, source, target) = (self.client.clone(), self.path(from)?, self.path(to)?);
        // S3 has no rename: a server-side copy, then the delete.
        match self.run(async move { client.copy(&source, &target).await }) {
            Ok(()) => {}
            Err(object_store::Error::NotFound { .. }) => {
                return Err(MediaError::NotFound(from.to_string()));
            }
            Err(e) => return Err(self.err(&format!("copy {from} to"), to, e)),
        }
        self.delete(from)
    }
}

impl Drop for S3Store {
    /// Dropping a runtime blocks until its workers stop, which panics on an
    /// async thread; the last `Arc<MediaStore>` may well be dropped on one.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
