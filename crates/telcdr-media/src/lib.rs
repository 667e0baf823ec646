//! Media for telcdr: recordings, voicemails and transcripts behind one object
//! store, and the signed links that serve them.
//!
//! The crate knows objects, keys, content types and signed links; it knows
//! nothing of call records, SQL or HTTP. Its parts:
//!
//! - [`MediaUrl`] and [`S3Options`]: where media lives (`--media URL`, the
//!   `[media.s3]` config section);
//! - [`ObjectKey`]: a validated key, and the deterministic layout of design.md
//!   §5 (`{sdk_app_id}/{yyyy}/{mm}/{dd}/{name}`);
//! - [`MediaStore`]: put, read, ranged read, size, delete and rename over a
//!   local directory or S3-compatible storage;
//! - [`content_type`] and [`check_audio`]: what a file is served as, and
//!   whether its bytes are the audio its name claims;
//! - [`link`]: HMAC-signed, expiring `/media/...` links.
//!
//! Every [`MediaStore`] method is blocking. Callers on an async runtime run
//! them inside `spawn_blocking`: the S3 backend drives its requests on a
//! runtime of its own, like the `postgres` client does.
//!
//! Nothing here panics on bad input: keys, URLs and audio bytes from outside
//! are checked and refused with an error that says why.

mod audio;
mod key;
pub mod link;
mod local;
mod s3;
mod store;
mod url;

pub use audio::check_audio;
pub use key::ObjectKey;
pub use link::{LinkError, LinkSigner};
pub use store::MediaStore;
pub use url::{MediaUrl, S3Options};

/// Why a media operation failed. Messages name the key or URL involved and
/// never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// A key (or a name that goes into one) breaks the key rules.
    #[error("invalid media key: {0}")]
    InvalidKey(String),
    /// A `--media` URL that cannot be understood.
    #[error("invalid media URL: {0}")]
    InvalidUrl(String),
    /// S3 settings that cannot work (no credentials, a malformed endpoint).
    #[error("invalid S3 settings: {0}")]
    Config(String),
    /// The source of a rename does not exist.
    #[error("no such media object: {0}")]
    NotFound(String),
    /// Reading or writing an object failed.
    #[error("media I/O error: {0}")]
    Io(String),
    /// The store could not be reached or refused us when it was opened.
    #[error("media store unreachable: {0}")]
    Unreachable(String),
}

/// The `Content-Type` a media file is served with, chosen by the extension of
/// `name` (case-insensitive). Unknown extensions are served as opaque bytes
/// rather than guessed, so a browser never sniffs them into something active.
pub fn content_type(name: &str) -> &'static str {
    let Some((_, ext)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    match ext.to_ascii_lowercase().as_str() {
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "json" => "application/json",
        "ogg" => "audio/ogg",
        "m4a" => "audio/mp4",
        _ => "application/octet-stream",
    }
}

/// Shortens untrusted input for an error message, so a megabyte of junk does
/// not become a megabyte of log line. `{:?}` at the call site escapes it.
pub(crate) fn excerpt(s: &str) -> &str {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return s;
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("abc.mp3"), "audio/mpeg");
        assert_eq!(content_type("abc.MP3"), "audio/mpeg");
        assert_eq!(content_type("voicemail.wav"), "audio/wav");
        assert_eq!(content_type("s-1.asr.json"), "application/json");
        assert_eq!(content_type("a.ogg"), "audio/ogg");
        assert_eq!(content_type("a.m4a"), "audio/mp4");
        assert_eq!(content_type("a.mp4"), "application/octet-stream");
        assert_eq!(content_type("mp3"), "application/octet-stream");
        assert_eq!(content_type(""), "application/octet-stream");
        assert_eq!(content_type("a.mp3.exe"), "application/octet-stream");
        assert_eq!(content_type("a."), "application/octet-stream");
    }

    #[test]
    fn excerpt_cuts_on_a_char_boundary() {
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert!(cut.len() <= 80 && long.starts_with(cut));
        assert_eq!(excerpt("short"), "short");
    }
}
