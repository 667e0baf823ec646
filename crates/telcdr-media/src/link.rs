//! Signed media links: `/media/<key>?Expires=<unix>&Signature=<hex>`.
//!
//! A link carries its own permission: an HMAC-SHA256, under a secret only the
//! server knows, over the path and the expiry. Whoever holds the link may
//! fetch that one object until it expires; changing either the path or the
//! expiry breaks the signature. No state is kept per link, so links survive
//! restarts and work across servers that share the secret.
//!
//! The signed message is exactly `"{path}\n{expires}"`, where `path` is the
//! percent-decoded request path as the server routes it. The newline cannot
//! occur in a media path, so no (path, expiry) pair signs like another.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Signs and checks `/media/...` links with HMAC-SHA256 over the path and the
/// expiry, keyed by a server secret.
#[derive(Clone)]
pub struct LinkSigner {
    secret: Vec<u8>,
}

/// Why a media link was refused. Each answers HTTP 403; the kinds exist for
/// the log line and the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// `Expires` or `Signature` is missing, empty, repeated or unparsable.
    #[error("the link is not signed (Expires and Signature are required)")]
    Unsigned,
    /// The signature does not match the path and expiry.
    #[error("the link's signature does not match")]
    Tampered,
    /// The signature is good but the link's time is up.
    #[error("the link expired at {expired_at}")]
    Expired {
        /// The link's `Expires`, Unix seconds.
        expired_at: i64,
    },
}

impl LinkSigner {
    /// A signer with the server's link secret (any length; 32 random bytes
    /// is plenty).
    pub fn new(secret: &[u8]) -> LinkSigner {
        LinkSigner {
            secret: secret.to_vec(),
        }
    }

    /// The query string that makes `path` (e.g.
    /// `/media/1400000000/2026/11/20/abc.mp3`) fetchable until `expires`
    /// (Unix seconds, inclusive): `Expires=<n>&Signature=<hex>`.
    pub fn sign(&self, path: &str, expires: i64) -> String {
        let signature = hex::encode(self.mac(path, expires).finalize().into_bytes());
        format!("Expires={expires}&Signature={signature}")
    }

    /// Checks a request's path and raw query at time `now` (Unix seconds).
    ///
    /// Other query parameters are ignored, so players may add their own.
    /// The signature is checked before the expiry, so only a genuine link
    /// learns that it has expired.
    pub fn verify(&self, path: &str, query: Option<&str>, now: i64) -> Result<(), LinkError> {
        let (mut expires, mut signature) = (None, None);
        for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match name.as_ref() {
                "Expires" => &mut expires,
                "Signature" => &mut signature,
                _ => continue,
            };
            // Two values would let a proxy and the server disagree on which counts.
            if slot.replace(value).is_some() {
                return Err(LinkError::Unsigned);
            }
        }
        let expires: i64 = expires
            .and_then(|e| parse_decimal(&e))
            .ok_or(LinkError::Unsigned)?;
        let signature = signature
            .filter(|s| !s.is_empty())
            .and_then(|s| hex::decode(s.as_bytes()).ok().map(|bytes| (bytes, s)))
            .ok_or(LinkError::Unsigned)?;
        // Only the lower-case hex `sign` writes: upper case decodes to the
        // same bytes but names a different URL, which caches would keep as a
        // different object, and a "changed" link that still works surprises.
        let (signature, written) = signature;
        if written.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(LinkError::Tampered);
        }
        self.mac(path, expires)
            .verify_slice(&signature)
            .map_err(|_| LinkError::Tampered)?;
        if now > expires {
            return Err(LinkError::Expired {
                expired_at: expires,
            });
        }
        Ok(())
    }

    fn mac(&self, path: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }
}

/// Only the canonical form `sign` writes: an optional `-`, then digits. A
/// `+` or leading zeros would still verify (same i64) but name a different
/// URL, which caches would treat as a different object.
fn parse_decimal(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0";
    if canonical { s.parse().ok() } else { None }
}

impl fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkSigner { secret: <redacted> }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/media/1400000000/2026/11/20/abc.mp3";
    const NOW: i64 = 1_795_176_000;

    fn signer() -> LinkSigner {
        LinkSigner::new(b"0123456789abcdef0123456789abcdef")
    }

    fn signature_of(query: &str) -> &str {
        query.split_once("&Signature=").unwrap().1
    }

    #[test]
    fn round_trip() {
        let q = signer().sign(PATH, NOW + 600);
        assert!(
            q.starts_with(&format!("Expires={}&Signature=", NOW + 600)),
            "{q}"
        );
        assert_eq!(signature_of(&q).len(), 64);
        assert_eq!(signer().verify(PATH, Some(&q), NOW), Ok(()));
        // Valid up to and including the expiry second.
        assert_eq!(signer().verify(PATH, Some(&q), NOW + 600), Ok(()));
    }

    #[test]
    fn signs_the_documented_message() {
        // An independent HMAC over "{path}\n{expires}" must give the same hex.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"k").unwrap();
        mac.update(b"/media/a.mp3\n42");
        let want = hex::encode(mac.finalize().into_bytes());
        assert_eq!(
            LinkSigner::new(b"k").sign("/media/a.mp3", 42),
            format!("Expires=42&Signature={want}")
        );
    }

    #[test]
    fn tampered_path() {
        let q = signer().sign(PATH, NOW + 600);
        let other = "/media/1400000000/2026/11/20/abd.mp3";
        assert_eq!(
            signer().verify(other, Some(&q), NOW),
            Err(LinkError::Tampered)
        );
        assert_eq!(
            signer().verify(&format!("{PATH}x"), Some(&q), NOW),
            Err(LinkError::Tampered)
        );
    }

    #[test]
    fn tampered_expiry() {
        let q = signer().sign(PATH, NOW + 600);
        let later = q.replace(
            &format!("Expires={}", NOW + 600),
            &format!("Expires={}", NOW + 6000),
        );
        assert_ne!(q, later);
        assert_eq!(
            signer().verify(PATH, Some(&later), NOW),
            Err(LinkError::Tampered)
        );
    }

    #[test]
    fn tampered_signature() {
        let q = signer().sign(PATH, NOW + 600);
        let sig = signature_of(&q);
        let flipped = format!(
            "{}{}",
            if sig.starts_with('0') { '1' } else { '0' },
            &sig[1..]
        );
        let bad = q.replace(sig, &flipped);
        assert_eq!(
            signer().verify(PATH, Some(&bad), NOW),
            Err(LinkError::Tampered)
        );
        // Truncated, and signed with another secret.
        let short = q.replace(sig, &sig[..62]);
        assert_eq!(
            signer().verify(PATH, Some(&short), NOW),
            Err(LinkError::Tampered)
        );
        let foreign = LinkSigner::new(b"another secret").sign(PATH, NOW + 600);
        assert_eq!(
            signer().verify(PATH, Some(&foreign), NOW),
            Err(LinkError::Tampered)
        );
        // Upper-case hex of the right signature decodes to the same bytes,
        // but is not the link that was handed out.
        let upper = q.replace(sig, &sig.to_ascii_uppercase());
        assert_eq!(
            signer().verify(PATH, Some(&upper), NOW),
            Err(LinkError::Tampered)
        );
        let last_upper = format!("{}{}", &sig[..63], sig[63..].to_ascii_uppercase());
        if last_upper != sig {
            let one = q.replace(sig, &last_upper);
            assert_eq!(
                signer().verify(PATH, Some(&one), NOW),
                Err(LinkError::Tampered)
            );
        }
    }

    #[test]
    fn expired() {
        let q = signer().sign(PATH, NOW - 1);
        assert_eq!(
            signer().verify(PATH, Some(&q), NOW),
            Err(LinkError::Expired {
                expired_at: NOW - 1
            })
        );
        // Tampering outranks expiry: a forged old link learns nothing.
        let other = "/media/x.mp3";
        assert_eq!(
            signer().verify(other, Some(&q), NOW),
            Err(LinkError::Tampered)
        );
    }

    #[test]
    fn missing_or_unparsable_params() {
        let q = signer().sign(PATH, NOW + 600);
        let sig = signature_of(&q).to_owned();
        for bad in [
            None,
            Some(""),
            Some("Expires=1795176600"),
            Some(&*format!("Signature={sig}")),
            Some(&*format!("Expires=&Signature={sig}")),
            Some(&*format!("Expires=soon&Signature={sig}")),
            Some(&*format!("Expires=+1795176600&Signature={sig}")),
            Some(&*format!("Expires=01795176600&Signature={sig}")),
            Some(&*format!("Expires=99999999999999999999&Signature={sig}")),
            Some("Expires=1795176600&Signature=zz"),
            Some("Expires=1795176600&Signature="),
            Some(&*format!("expires=1795176600&signature={sig}")),
            Some(&*format!("{q}&Expires=1")),
            Some(&*format!("{q}&Signature={sig}")),
        ] {
            assert_eq!(
                signer().verify(PATH, bad, NOW),
                Err(LinkError::Unsigned),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn unrelated_params_are_ignored() {
        let q = signer().sign(PATH, NOW + 600);
        let (e, s) = q.split_once('&').unwrap();
        for extra in [
            format!("{q}&t=30"),
            format!("download=1&{q}"),
            format!("{s}&x=%20y&{e}"),
            format!("{q}&"),
        ] {
            assert_eq!(signer().verify(PATH, Some(&extra), NOW), Ok(()), "{extra}");
        }
    }

    #[test]
    fn negative_and_zero_expiry_round_trip() {
        for expires in [0, -5] {
            let q = signer().sign(PATH, expires);
            assert_eq!(signer().verify(PATH, Some(&q), expires), Ok(()));
            assert_eq!(
                signer().verify(PATH, Some(&q), expires + 1),
                Err(LinkError::Expired {
                    expired_at: expires
                })
            );
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", signer()).contains("0123456789"));
    }
}
