//! Number protection: a tenant that asked for it sees no caller or callee
//! numbers, only a stable opaque id per number and SdkAppId, so calls of one
//! customer can still be grouped. The id is a keyed hash (HMAC-SHA256 with a
//! server secret), not reversible without that secret, and different in
//! every SdkAppId.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use telcdr_model::normalize_phone;

/// Makes ProtectedCaller / ProtectedCallee ids.
#[derive(Clone)]
pub struct NumberProtector {
    key: Vec<u8>,
}

impl NumberProtector {
    pub fn new(key: &[u8]) -> NumberProtector {
        NumberProtector { key: key.to_vec() }
    }

    /// The protected id of `number` in `sdk_app_id`: 32 hex characters, the
    /// same for every spelling of the number (`+86...`, `0086...`). An empty
    /// number stays empty.
    pub fn protect(&self, sdk_app_id: i64, number: &str) -> String {
        let normalized = normalize_phone(number);
        if normalized.is_empty() {
            return String::new();
        }
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(sdk_app_id.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(normalized.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_per_number_and_app_and_key() {
        let p = NumberProtector::new(b"k1");
        let a = p.protect(1400000000, "+8613012345678");
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, p.protect(1400000000, "008613012345678"));
        assert_ne!(a, p.protect(1400000001, "+8613012345678"));
        assert_ne!(a, p.protect(1400000000, "+8613012345679"));
        assert_ne!(
            a,
            NumberProtector::new(b"k2").protect(1400000000, "+8613012345678")
        );
        assert!(!a.contains("13012345678"));
        assert_eq!(p.protect(1400000000, ""), "");
    }
}
