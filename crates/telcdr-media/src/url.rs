//! Where media lives: the `--media` URL and the S3 connection settings.

use std::fmt;
use std::path::PathBuf;

use crate::key::check_path;
use crate::{MediaError, excerpt};

/// Where media lives, parsed from `--media URL` / `TELCDR_MEDIA`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaUrl {
    /// A local directory, from `file:///abs/dir` or a plain path.
    Local(PathBuf),
    /// An S3 bucket, from `s3://bucket` or `s3://bucket/some/prefix`.
    S3 {
        /// The bucket's name.
        bucket: String,
        /// Prepended (with a `/`) to every key; empty for none. Follows the
        /// key rules, without leading or trailing `/`.
        prefix: String,
    },
}

impl MediaUrl {
    /// Parses `s3://bucket[/prefix]`, `file:///abs/dir` or a plain path.
    ///
    /// Any other `scheme://` is refused rather than read as a directory
    /// named `http:`, which would silently store media in the wrong place.
    pub fn parse(s: &str) -> Result<MediaUrl, MediaError> {
        let bad = |why: &str| MediaError::InvalidUrl(format!("{:?}: {why}", excerpt(s)));
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.contains('\0') {
            return Err(bad("contains a NUL byte"));
        }
        let Some((scheme, rest)) = s.split_once("://") else {
            return Ok(MediaUrl::Local(PathBuf::from(s)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "s3" => {
                if rest.contains(['?', '#']) {
                    return Err(bad("an s3:// URL takes no query or fragment"));
                }
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                check_bucket(bucket).map_err(|why| bad(&why))?;
                let prefix = prefix.trim_end_matches('/');
                if !prefix.is_empty() {
                    check_path(prefix).map_err(|why| bad(&format!("prefix {prefix:?}: {why}")))?;
                }
                Ok(MediaUrl::S3 {
                    bucket: bucket.to_owned(),
                    prefix: prefix.to_owned(),
                })
            }
            "file" => {
                // file:///abs or file://localhost/abs; the host must be this machine.
                let path = match rest.find('/') {
                    Some(0) => rest,
                    Some(i) if rest[..i].eq_ignore_ascii_case("localhost") => &rest[i..],
                    _ => return Err(bad("a file:// URL needs an absolute path on this host")),
                };
                if path.contains(['?', '#']) {
                    return Err(bad("a file:// URL takes no query or fragment"));
                }
                let path = percent_decode(path).ok_or_else(|| bad("bad %-escape"))?;
                if path.contains('\0') {
                    return Err(bad("contains a NUL byte"));
                }
                Ok(MediaUrl::Local(PathBuf::from(path)))
            }
            _ => Err(bad(
                "unsupported scheme (use s3://, file:// or a plain path)",
            )),
        }
    }
}

impl fmt::Display for MediaUrl {
    /// The form `parse` reads back: the plain path, or `s3://bucket[/prefix]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaUrl::Local(dir) => write!(f, "{}", dir.display()),
            MediaUrl::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            MediaUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Bucket names: S3's alphabet plus the legacy `_`, 1 to 255 bytes; enough
/// that a name can never smuggle a `/`, query or host into a request.
fn check_bucket(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("no bucket name".into());
    }
    if bucket.len() > 255 {
        return Err("bucket name longer than 255 bytes".into());
    }
    if let Some(c) = bucket
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        return Err(format!("character {c:?} in the bucket name"));
    }
    Ok(())
}

/// Decodes `%XX` escapes; None on a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// S3 connection settings, from the `[media.s3]` config section.
///
/// `Debug` shows the secret as `<redacted>`, so the settings may be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Options {
    /// The endpoint, e.g. `http://127.0.0.1:9000` for MinIO or moto; None
    /// for AWS itself (`https://s3.<region>.amazonaws.com`).
    pub endpoint: Option<String>,
    /// Signing region; S3-compatible servers mostly accept `us-east-1`.
    pub region: String,
    /// Access key id (the public half of the credentials).
    pub access_key_id: String,
    /// Secret access key. Never logged, never in an error message.
    pub secret_access_key: String,
    /// Path-style requests (`endpoint/bucket/key`) rather than virtual-hosted
    /// (`bucket.endpoint/key`); most self-hosted S3 servers need path style.
    pub path_style: bool,
}

impl Default for S3Options {
    fn default() -> S3Options {
        S3Options {
            endpoint: None,
            region: "us-east-1".into(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            path_style: true,
        }
    }
}

impl fmt::Debug for S3Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("path_style", &self.path_style)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, prefix: &str) -> MediaUrl {
        MediaUrl::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn parses_s3_urls() {
        assert_eq!(MediaUrl::parse("s3://media").unwrap(), s3("media", ""));
        assert_eq!(MediaUrl::parse("s3://media/").unwrap(), s3("media", ""));
        assert_eq!(
            MediaUrl::parse("S3://media/a/b").unwrap(),
            s3("media", "a/b")
        );
        assert_eq!(
            MediaUrl::parse("s3://my.bucket-1/tel/cdr/").unwrap(),
            s3("my.bucket-1", "tel/cdr")
        );
    }

    #[test]
    fn parses_local_urls() {
        let local = |p: &str| MediaUrl::Local(PathBuf::from(p));
        assert_eq!(
            MediaUrl::parse("/var/lib/telcdr/media").unwrap(),
            local("/var/lib/telcdr/media")
        );
        assert_eq!(MediaUrl::parse("media").unwrap(), local("media"));
        assert_eq!(
            MediaUrl::parse("./data/media").unwrap(),
            local("./data/media")
        );
        assert_eq!(
            MediaUrl::parse("file:///srv/media").unwrap(),
            local("/srv/media")
        );
        assert_eq!(
            MediaUrl::parse("file://localhost/srv/m").unwrap(),
            local("/srv/m")
        );
        assert_eq!(
            MediaUrl::parse("file:///srv/my%20media").unwrap(),
            local("/srv/my media")
        );
    }

    #[test]
    fn refuses_bad_urls() {
        for bad in [
            "",
            "s3://",
            "s3:///prefix",
            "s3://bucket//x",
            "s3://bucket/../x",
            "s3://bucket/a?b",
            "s3://bucket#x",
            "s3://bu/cket/a b",
            "s3://bu:cket",
            "s3://user@bucket",
            "http://example.com/media",
            "gs://bucket",
            "file://host/srv",
            "file://srv",
            "file:///srv/%zz",
            "file:///srv/%ff",
            "file:///srv/%00x",
            "/srv/\0x",
        ] {
            let err = MediaUrl::parse(bad).expect_err(bad);
            assert!(matches!(err, MediaError::InvalidUrl(_)), "{bad:?}: {err:?}");
        }
    }

    #[test]
    fn display_reads_back() {
        for s in ["s3://media", "s3://media/a/b", "/srv/media", "rel/dir"] {
            let url = MediaUrl::parse(s).unwrap();
            assert_eq!(url.to_string(), s);
            assert_eq!(MediaUrl::parse(&url.to_string()).unwrap(), url);
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let opts = S3Options {
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret".into(),
            ..S3Options::default()
        };
        let shown = format!("{opts:?}");
        assert!(
            shown.contains("AKID") && !shown.contains("very-secret"),
            "{shown}"
        );
        assert_eq!(S3Options::default().region, "us-east-1");
        assert!(S3Options::default().path_style);
    }
}
