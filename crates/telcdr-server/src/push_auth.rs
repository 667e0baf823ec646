//! Credentials of the data push (spec 7.2): how a push proves it comes from
//! the app's CCC. Passwords and client secrets are stored as salted
//! SHA-256 hashes (`sha256$<salt>$<hash>`); OAuth 2.0 bearer tokens are
//! issued by telcdr itself and carry their app and expiry, signed with a
//! server secret and bound to the client secret they were issued for, so
//! any process sharing the store checks them and changing the secret
//! revokes them.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::keys::random_string;

/// How long an issued bearer token is valid, seconds.
pub const TOKEN_TTL_SECONDS: i64 = 7_200;

/// The stored form of a password or client secret.
pub fn hash_secret(secret: &str) -> String {
    let salt = random_string(16);
    format!("sha256${salt}${}", digest(&salt, secret))
}

/// Whether `presented` is the secret `stored` was made from.
pub fn secret_matches(stored: &str, presented: &str) -> bool {
    let mut parts = stored.splitn(3, '$');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("sha256"), Some(salt), Some(hash)) => digest(salt, presented)
            .as_bytes()
            .ct_eq(hash.as_bytes())
            .into(),
        _ => false,
    }
}

fn digest(salt: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b"\n");
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// Issues and checks bearer tokens.
#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

impl TokenSigner {
    pub fn new(key: &[u8]) -> TokenSigner {
        TokenSigner { key: key.to_vec() }
    }

    fn mac(&self, sdk_app_id: i64, expires: i64, secret_hash: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(format!("{sdk_app_id}.{expires}.{secret_hash}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A token for `sdk_app_id`, valid until `expires`, bound to the
    /// client secret's stored hash.
    pub fn issue(&self, sdk_app_id: i64, expires: i64, secret_hash: &str) -> String {
        format!(
            "{sdk_app_id}.{expires}.{}",
            self.mac(sdk_app_id, expires, secret_hash)
        )
    }

    /// Whether `token` is valid at `now` for `sdk_app_id` and the client
    /// secret whose hash is `secret_hash`.
    pub fn verify(&self, token: &str, sdk_app_id: i64, secret_hash: &str, now: i64) -> bool {
        let mut parts = token.split('.');
        let (Some(app), Some(expires), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let (Ok(app), Ok(expires)) = (app.parse::<i64>(), expires.parse::<i64>()) else {
            return false;
        };
        app == sdk_app_id
            && expires >= now
            && bool::from(
                self.mac(app, expires, secret_hash)
                    .as_bytes()
                    .ct_eq(mac.as_bytes()),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_only_their_secret() {
        let stored = hash_secret("s3cret");
        assert!(stored.starts_with("sha256$"));
        assert!(!stored.contains("s3cret"));
        assert!(secret_matches(&stored, "s3cret"));
        assert!(!secret_matches(&stored, "s3cret "));
        assert!(!secret_matches("plain", "plain"));
        assert_ne!(hash_secret("s3cret"), stored, "salted");
    }

    #[test]
    fn tokens_carry_app_expiry_and_secret() {
        let signer = TokenSigner::new(b"k");
        let token = signer.issue(7, 100, "h1");
        assert!(signer.verify(&token, 7, "h1", 100));
        assert!(!signer.verify(&token, 7, "h1", 101), "expired");
        assert!(!signer.verify(&token, 8, "h1", 50), "another app");
        assert!(!signer.verify(&token, 7, "h2", 50), "secret changed");
        assert!(!TokenSigner::new(b"x").verify(&token, 7, "h1", 50));
        assert!(!signer.verify(&token.replace("7.100", "7.999"), 7, "h1", 50));
        assert!(!signer.verify("garbage", 7, "h1", 50));
    }
}
