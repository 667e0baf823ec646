//! API key material: SecretId and SecretKey generation in Tencent's shapes
//! (`AKID` + 32 characters; 32-character key) from the OS random source.

/// A freshly generated key pair.
#[derive(Clone)]
pub struct KeyPair {
    pub secret_id: String,
    pub secret_key: String,
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Generates a key pair. Each character carries log2(62) bits of entropy
/// (rejection sampling keeps the distribution uniform).
pub fn generate_key_pair() -> KeyPair {
    KeyPair {
        secret_id: format!("AKID{}", random_string(32)),
        secret_key: random_string(32),
    }
}

pub(crate) fn random_string(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        // uuid v4 draws its bytes from the OS random source.
        for byte in uuid::Uuid::new_v4().into_bytes() {
            // 248 = 4 * 62: bytes at or above it would bias the alphabet.
            if byte < 248 && out.len() < len {
                out.push(ALPHABET[usize::from(byte) % ALPHABET.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_uniqueness() {
        let a = generate_key_pair();
        let b = generate_key_pair();
        assert!(a.secret_id.starts_with("AKID") && a.secret_id.len() == 36);
        assert_eq!(a.secret_key.len(), 32);
        assert!(a.secret_key.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.secret_id, b.secret_id);
        assert_ne!(a.secret_key, b.secret_key);
    }
}
