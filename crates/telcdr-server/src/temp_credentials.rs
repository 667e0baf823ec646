//! Temporary credentials (the `X-TC-Token` mechanism of Tencent's STS), for
//! the web console: a browser signs with them and never keeps the
//! long-term SecretKey.
//!
//! They are self-contained: the TmpSecretId carries the account and the
//! expiry, and the TmpSecretKey and Token are HMACs of it under a server
//! secret kept in the store, so every process sharing the store accepts
//! them and nothing is stored per credential.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Every TmpSecretId starts so; a permanent SecretId never does.
pub const PREFIX: &str = "AKIDtmp";

/// Issues and resolves temporary credentials.
#[derive(Clone)]
pub struct TempCredentials {
    key: Vec<u8>,
}

/// One set of temporary credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub secret_id: String,
    pub secret_key: String,
    pub token: String,
    /// Unix seconds.
    pub expires: i64,
}

impl TempCredentials {
    pub fn new(key: &[u8]) -> TempCredentials {
        TempCredentials { key: key.to_vec() }
    }

    fn mac(&self, purpose: &str, secret_id: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\n");
        mac.update(secret_id.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Credentials for `account_id`, valid until `expires`.
    pub fn issue(&self, account_id: i64, expires: i64) -> Issued {
        // Lower-case hex: never the separator `Z`.
        let nonce = &uuid::Uuid::new_v4().simple().to_string()[..12];
        let secret_id = format!("{PREFIX}{account_id}Z{expires}Z{nonce}");
        Issued {
            secret_key: self.mac("key", &secret_id)[..32].to_owned(),
            token: self.mac("token", &secret_id),
            secret_id,
            expires,
        }
    }

    /// The account, expiry, SecretKey and Token of a TmpSecretId this
    /// server could have issued; None for anything else.
    pub fn resolve(&self, secret_id: &str) -> Option<Issued> {
        let rest = secret_id.strip_prefix(PREFIX)?;
        let mut parts = rest.split('Z');
        let account: i64 = parts.next()?.parse().ok()?;
        let expires: i64 = parts.next()?.parse().ok()?;
        let nonce = parts.next()?;
        let hex_nonce = nonce.len() == 12 && nonce.bytes().all(|b| b.is_ascii_hexdigit());
        if parts.next().is_some() || account <= 0 || !hex_nonce {
            return None;
        }
        Some(Issued {
            secret_id: secret_id.to_owned(),
            secret_key: self.mac("key", secret_id)[..32].to_owned(),
            token: self.mac("token", secret_id),
            expires,
        })
    }

    /// The account a resolved TmpSecretId belongs to.
    pub fn account_of(secret_id: &str) -> Option<i64> {
        secret_id
            .strip_prefix(PREFIX)?
            .split('Z')
            .next()?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_credentials_resolve_to_themselves_only() {
        let creds = TempCredentials::new(b"server");
        let issued = creds.issue(42, 1_000);
        assert!(issued.secret_id.starts_with(PREFIX));
        assert_eq!(creds.resolve(&issued.secret_id), Some(issued.clone()));
        assert_eq!(TempCredentials::account_of(&issued.secret_id), Some(42));
        assert_ne!(creds.issue(42, 1_000).secret_key, issued.secret_key);
        // Another server's secret derives other keys.
        let other = TempCredentials::new(b"other")
            .resolve(&issued.secret_id)
            .unwrap();
        assert_ne!(other.secret_key, issued.secret_key);
        assert_ne!(other.token, issued.token);
        // An altered id (another account or expiry) gets other keys too.
        let forged = issued.secret_id.replacen("42Z", "43Z", 1);
        assert_ne!(
            creds.resolve(&forged).unwrap().secret_key,
            issued.secret_key
        );
        for bad in [
            "AKIDabc",
            "AKIDtmpxZ1Zabcdefabcdef",
            "AKIDtmp1Z1Zshort",
            "AKIDtmp1Z1Zabcdefabcdef Z",
        ] {
            assert!(creds.resolve(bad).is_none(), "{bad}");
        }
    }
}
