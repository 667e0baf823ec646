//! The server's own secrets, kept in the store so every process sharing it
//! signs and masks alike: the key that signs `/media` links, the key of
//! the number-protection hash and the keys of push bearer tokens and of temporary credentials. Made once, on first start.

use telcdr_store::{Store, StoreError};

use crate::keys::random_string;

const LINK_SETTING: &str = "secret.media_links";
const PROTECTION_SETTING: &str = "secret.number_protection";
const PUSH_TOKEN_SETTING: &str = "secret.push_tokens";
const TEMP_CREDENTIALS_SETTING: &str = "secret.temp_credentials";

/// Key material of one server.
#[derive(Clone)]
pub struct ServerSecrets {
    /// HMAC key of `/media` links.
    pub media_links: Vec<u8>,
    /// HMAC key of ProtectedCaller / ProtectedCallee.
    pub number_protection: Vec<u8>,
    /// HMAC key of the data push's OAuth 2.0 bearer tokens.
    pub push_tokens: Vec<u8>,
    /// HMAC key of temporary credentials (the console's).
    pub temp_credentials: Vec<u8>,
}

impl std::fmt::Debug for ServerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecrets(<redacted>)")
    }
}

impl ServerSecrets {
    /// Reads the secrets from the store, making any that are missing. Blocks
    /// (a store call): run it before the async runtime or on a blocking
    /// thread.
    pub fn load_or_create(store: &dyn Store) -> Result<ServerSecrets, StoreError> {
        Ok(ServerSecrets {
            media_links: store
                .ensure_setting(LINK_SETTING, &random_string(43))?
                .into_bytes(),
            number_protection: store
                .ensure_setting(PROTECTION_SETTING, &random_string(43))?
                .into_bytes(),
            push_tokens: store
                .ensure_setting(PUSH_TOKEN_SETTING, &random_string(43))?
                .into_bytes(),
            temp_credentials: store
                .ensure_setting(TEMP_CREDENTIALS_SETTING, &random_string(43))?
                .into_bytes(),
        })
    }
}
