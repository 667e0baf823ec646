//! Client-side TC3-HMAC-SHA256 signing with `tcapi::sign` (the functions the
//! server's verifier uses, pinned there to the spec's vectors and re-checked
//! here against T1 and C1).
//!
//! The derived signing key depends only on the SecretKey, the UTC date and the
//! service, so it is cached per date; each request then costs two SHA-256
//! (payload, canonical request) and one HMAC.

use tcapi::sign::{Tc3Request, tc3_authorization_with_key, tc3_signing_key};

pub use tcapi::sign::utc_date;

pub struct Signer {
    secret_id: String,
    secret_key: String,
    service: String,
    cached: Option<(String, [u8; 32])>,
}

impl Signer {
    pub fn new(secret_id: &str, secret_key: &str, service: &str) -> Self {
        Self {
            secret_id: secret_id.to_owned(),
            secret_key: secret_key.to_owned(),
            service: service.to_owned(),
            cached: None,
        }
    }

    fn signing_key(&mut self, date: &str) -> [u8; 32] {
        if let Some((d, k)) = &self.cached
            && d == date
        {
            return *k;
        }
        let key = tc3_signing_key(&self.secret_key, date, &self.service);
        self.cached = Some((date.to_owned(), key));
        key
    }

    /// The `Authorization` header value for a request signed with
    /// `SignedHeaders=content-type;host`.
    pub fn authorization(
        &mut self,
        method: &str,
        query: &str,
        host: &str,
        content_type: &str,
        body: &[u8],
        timestamp: i64,
    ) -> String {
        let key = self.signing_key(&utc_date(timestamp));
        let request = Tc3Request {
            method,
            host,
            query,
            content_type,
            payload: body,
            service: &self.service,
            timestamp,
            unsigned_payload: false,
        };
        tc3_authorization_with_key(&self.secret_id, &key, &request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_551_113_065), "2019-02-25");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
    }

    #[test]
    fn official_post_vector_t1() {
        let body = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        let mut s = Signer::new(ID, KEY, "cvm");
        let auth = s.authorization(
            "POST",
            "",
            "cvm.tencentcloudapi.com",
            "application/json; charset=utf-8",
            body,
            1_551_113_065,
        );
        assert!(auth.ends_with(
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        ));
        assert!(auth.starts_with(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, "
        ));
    }

    #[test]
    fn describe_tel_cdr_vector_c1() {
        let body = br#"{"StartTimeStamp": 1699900000, "EndTimeStamp": 1700000000, "SdkAppId": 1400000000, "PageSize": 10, "PageNumber": 0, "Phones": ["008613012345678"]}"#;
        let mut s = Signer::new(ID, KEY, "ccc");
        let auth = s.authorization(
            "POST",
            "",
            "ccc.tencentcloudapi.com",
            "application/json",
            body,
            1_700_000_000,
        );
        assert!(auth.ends_with(
            "Signature=fb856e23b0eb1e5909c927866dffc348e35c498e80f0a1e43dacba3ffb3bdc47"
        ));
        // The cached key gives the same answer.
        let again = s.authorization(
            "POST",
            "",
            "ccc.tencentcloudapi.com",
            "application/json",
            body,
            1_700_000_000,
        );
        assert_eq!(auth, again);
    }
}
