//! Pure signing functions for TC3-HMAC-SHA256 (spec 2) and v1 HmacSHA1 /
//! HmacSHA256 (spec 3).
//!
//! The verifier, the integration tests and the load generator all sign with
//! these, and the unit tests pin them to every published and captured vector,
//! so "our client agrees with our server" cannot hide a shared mistake.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The v1 signature algorithms (`SignatureMethod` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMethod {
    /// v1, the default when `SignatureMethod` is absent.
    HmacSha1,
    /// v1 with `SignatureMethod=HmacSHA256`.
    HmacSha256,
    /// API 3.0's TC3-HMAC-SHA256.
    Tc3HmacSha256,
}

impl SignatureMethod {
    /// The name the SDKs use.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha1 => "HmacSHA1",
            SignatureMethod::HmacSha256 => "HmacSHA256",
            SignatureMethod::Tc3HmacSha256 => "TC3-HMAC-SHA256",
        }
    }
}

/// SHA-256 of the 16 ASCII bytes `UNSIGNED-PAYLOAD` (spec 2.2).
pub const UNSIGNED_PAYLOAD_HASH: &str =
    "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96";

/// What a TC3 signature covers when the signed headers are the SDKs'
/// `content-type;host`.
#[derive(Debug, Clone, Copy)]
pub struct Tc3Request<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The Host header value as signed (Node signs it without the port).
    pub host: &'a str,
    /// The raw query string for GET; empty for POST.
    pub query: &'a str,
    pub content_type: &'a str,
    pub payload: &'a [u8],
    /// The service of the credential scope, normally `ccc`.
    pub service: &'a str,
    /// Unix seconds (`X-TC-Timestamp`).
    pub timestamp: i64,
    /// `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` is sent.
    pub unsigned_payload: bool,
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The payload hash of the canonical request.
pub fn hashed_payload(payload: &[u8], unsigned_payload: bool) -> String {
    if unsigned_payload {
        UNSIGNED_PAYLOAD_HASH.to_owned()
    } else {
        sha256_hex(payload)
    }
}

/// `YYYY-MM-DD`, the UTC date of a Unix time (the credential scope's date).
pub fn utc_date(timestamp: i64) -> String {
    // Howard Hinnant's civil-from-days.
    let z = timestamp.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The canonical request from its parts (spec 2.2). `canonical_headers`
/// is the `name:value\n` block, already ending in a newline.
pub fn canonical_request(
    method: &str,
    query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    hashed_payload: &str,
) -> String {
    format!("{method}\n/\n{query}\n{canonical_headers}\n{signed_headers}\n{hashed_payload}")
}

/// The string to sign (spec 2.3).
pub fn tc3_string_to_sign(timestamp: i64, date: &str, service: &str, canonical: &str) -> String {
    format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        sha256_hex(canonical.as_bytes())
    )
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// kSigning of spec 2.4; it depends only on the key, date and service, so
/// callers may cache it.
pub fn tc3_signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    hmac_sha256(&k_service, b"tc3_request")
}

/// Lower-case hex HMAC-SHA256 of the string to sign.
pub fn tc3_signature_with_key(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

impl Tc3Request<'_> {
    /// The canonical request with signed headers `content-type;host`.
    pub fn canonical_request(&self) -> String {
        canonical_request(
            self.method,
            self.query,
            &format!("content-type:{}\nhost:{}\n", self.content_type, self.host),
            "content-type;host",
            &hashed_payload(self.payload, self.unsigned_payload),
        )
    }

    pub fn string_to_sign(&self) -> String {
        tc3_string_to_sign(
            self.timestamp,
            &utc_date(self.timestamp),
            self.service,
            &self.canonical_request(),
        )
    }
}

/// The hex signature of a request.
pub fn tc3_signature(secret_key: &str, request: &Tc3Request) -> String {
    let key = tc3_signing_key(secret_key, &utc_date(request.timestamp), request.service);
    tc3_signature_with_key(&key, &request.string_to_sign())
}

/// The whole `Authorization` header value, as the SDKs format it.
pub fn tc3_authorization(secret_id: &str, secret_key: &str, request: &Tc3Request) -> String {
    let key = tc3_signing_key(secret_key, &utc_date(request.timestamp), request.service);
    tc3_authorization_with_key(secret_id, &key, request)
}

/// [`tc3_authorization`] with a signing key the caller derived (and may
/// cache: it changes only with the UTC date).
pub fn tc3_authorization_with_key(
    secret_id: &str,
    signing_key: &[u8; 32],
    request: &Tc3Request,
) -> String {
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{}/{}/tc3_request, SignedHeaders=content-type;host, Signature={}",
        utc_date(request.timestamp),
        request.service,
        tc3_signature_with_key(signing_key, &request.string_to_sign())
    )
}

/// The v1 string to sign (spec 3.1): method, host with port, `/?`, then the
/// decoded parameters except `Signature`, sorted by key in byte order.
pub fn v1_string_to_sign(method: &str, host: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> =
        params.iter().filter(|(k, _)| k != "Signature").collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = format!("{method}{host}/?");
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Base64 HMAC of the v1 string to sign; TC3 is not a v1 method and signs
/// with SHA-256 like HmacSHA256.
pub fn v1_signature(secret_key: &str, method: &SignatureMethod, string_to_sign: &str) -> String {
    let raw: Vec<u8> = match method {
        SignatureMethod::HmacSha1 => {
            let mut mac =
                Hmac::<Sha1>::new_from_slice(secret_key.as_bytes()).expect("any key length");
            mac.update(string_to_sign.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha256 | SignatureMethod::Tc3HmacSha256 => {
            hmac_sha256(secret_key.as_bytes(), string_to_sign.as_bytes()).to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(raw)
}

#[cfg(test)]
mod tests {
    //! Every vector of spec sections 2.6 and 3.3.
    use super::*;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    fn cvm_post(content_type: &'static str, payload: &'static [u8]) -> Tc3Request<'static> {
        Tc3Request {
            method: "POST",
            host: "cvm.tencentcloudapi.com",
            query: "",
            content_type,
            payload,
            service: "cvm",
            timestamp: 1_551_113_065,
            unsigned_payload: false,
        }
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(1_551_113_065), "2019-02-25");
        assert_eq!(utc_date(1_539_084_154), "2018-10-09");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14");
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(-1), "1969-12-31");
    }

    #[test]
    fn t1_official_post() {
        let r = cvm_post(
            "application/json; charset=utf-8",
            br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
        );
        assert_eq!(
            hashed_payload(r.payload, false),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            sha256_hex(r.canonical_request().as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            tc3_signature(KEY, &r),
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        let no_charset = Tc3Request {
            content_type: "application/json",
            ..r
        };
        assert_eq!(
            tc3_signature(KEY, &no_charset),
            "683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8"
        );
    }

    #[test]
    fn t2_official_get() {
        let r = Tc3Request {
            method: "GET",
            host: "cvm.tencentcloudapi.com",
            query: "Limit=10&Offset=0",
            content_type: "application/x-www-form-urlencoded",
            payload: b"",
            service: "cvm",
            timestamp: 1_539_084_154,
            unsigned_payload: false,
        };
        assert_eq!(
            hashed_payload(b"", false),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(r.canonical_request().as_bytes()),
            "91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7"
        );
        assert_eq!(
            tc3_signature(KEY, &r),
            "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474"
        );
    }

    #[test]
    fn t3_current_doc_text() {
        let r = cvm_post(
            "application/json; charset=utf-8",
            br#"{"Limit": 1, "Filters": [{"Values": ["unnamed"], "Name": "instance-name"}]}"#,
        );
        assert_eq!(
            hashed_payload(r.payload, false),
            "99d58dfbc6745f6747f36bfca17dee5e6881dc0428a0a36f96199342bc5b4907"
        );
        assert_eq!(
            sha256_hex(r.canonical_request().as_bytes()),
            "2815843035062fffda5fd6f2a44ea8a34818b0dc46f024b8b3786976a3adda7a"
        );
        assert_eq!(
            tc3_signature(KEY, &r),
            "63eae8f4b793c20564dafd5a5f62817d6e8de7ce5d4fb2d38f7babf1531c493c"
        );
    }

    const C1_BODY: &[u8] = br#"{"StartTimeStamp": 1699900000, "EndTimeStamp": 1700000000, "SdkAppId": 1400000000, "PageSize": 10, "PageNumber": 0, "Phones": ["008613012345678"]}"#;

    fn c1() -> Tc3Request<'static> {
        Tc3Request {
            method: "POST",
            host: "ccc.tencentcloudapi.com",
            query: "",
            content_type: "application/json",
            payload: C1_BODY,
            service: "ccc",
            timestamp: 1_700_000_000,
            unsigned_payload: false,
        }
    }

    #[test]
    fn c1_python_post_json() {
        let r = c1();
        assert_eq!(
            hashed_payload(r.payload, false),
            "380649becc0c6c5b95a1adde4b8c45b1d178a6c71f6970a765a67b588d10684e"
        );
        assert_eq!(
            sha256_hex(r.canonical_request().as_bytes()),
            "84cbdb3f77397dc442ea3ccbf2c1cee7df5eb19717ed8cc41afd2cfb000374cb"
        );
        assert_eq!(
            tc3_authorization(ID, KEY, &r),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/ccc/tc3_request, SignedHeaders=content-type;host, Signature=fb856e23b0eb1e5909c927866dffc348e35c498e80f0a1e43dacba3ffb3bdc47"
        );
    }

    #[test]
    fn c2_python_get() {
        let r = Tc3Request {
            method: "GET",
            query: "StartTimeStamp=1699900000&EndTimeStamp=1700000000&SdkAppId=1400000000&PageSize=10&PageNumber=0&Phones.0=008613012345678",
            content_type: "application/x-www-form-urlencoded",
            payload: b"",
            ..c1()
        };
        assert_eq!(
            sha256_hex(r.canonical_request().as_bytes()),
            "b1b08bb828b9fb7d28e964aa5b8a08f83555f66f397a7f311718dbd38edf72c8"
        );
        assert_eq!(
            tc3_signature(KEY, &r),
            "4268c05de1e5974528f0b0c7a6082682efc87a885c4cf7bac3d0908f32cf3e3d"
        );
    }

    #[test]
    fn c3_unsigned_payload() {
        let r = Tc3Request {
            unsigned_payload: true,
            ..c1()
        };
        assert_eq!(
            hashed_payload(r.payload, true),
            sha256_hex(b"UNSIGNED-PAYLOAD"),
            "the constant is the hash of the literal"
        );
        assert_eq!(
            sha256_hex(r.canonical_request().as_bytes()),
            "eb851ebf11a06d60209a7d6604772994c3eb2ee9f9afbe040856de120b77f091"
        );
        assert_eq!(
            tc3_signature(KEY, &r),
            "23128a47af659dc0d799c6131c3043a330e346d8774394c569f6251a70076047"
        );
    }

    #[test]
    fn n1_node_signs_host_without_port_and_service_from_endpoint() {
        let r = Tc3Request {
            method: "POST",
            host: "localhost",
            query: "",
            content_type: "application/json",
            payload: br#"{"SdkAppId":1400000000,"StartTimeStamp":1699900000,"EndTimeStamp":1700000000,"PageSize":10,"PageNumber":0,"Phones":["008613012345678"]}"#,
            service: "localhost:28417",
            timestamp: 1_700_000_000,
            unsigned_payload: false,
        };
        assert_eq!(
            hashed_payload(r.payload, false),
            "716aa467b2c46042ec498b9bb4263c9c7258d2ff756053f97fc4be1bf52df597"
        );
        assert_eq!(
            sha256_hex(r.canonical_request().as_bytes()),
            "767b940a8d5e96319dc627e542e79c75aca9bc30d7606c35ea5a4175f81aeefb"
        );
        assert_eq!(
            tc3_signature(KEY, &r),
            "436512a7d1656e8d3ceb9b68a5cd80a4c272209f3699ace0d98740051a67d330"
        );
    }

    fn pairs(s: &str) -> Vec<(String, String)> {
        s.split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    #[test]
    fn v1_a_official() {
        // Given unsorted, as a client might send them.
        let params = pairs(
            "Version=2017-03-12&Action=DescribeInstances&Offset=0&Limit=20&InstanceIds.0=ins-09dx96dg&Nonce=11886&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Signature=ignored",
        );
        let sts = v1_string_to_sign("GET", "cvm.tencentcloudapi.com", &params);
        assert_eq!(
            sts,
            "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12"
        );
        assert_eq!(
            v1_signature(KEY, &SignatureMethod::HmacSha1, &sts),
            "EliP9YW3pW28FpsEdkXt/+WcGeI="
        );
        assert_eq!(
            v1_signature(KEY, &SignatureMethod::HmacSha256, &sts),
            "bR/zQ3QqOmcEYeRv71IzG/NxfisUDgy9cqRMQC+UB5g="
        );
    }

    const V1_CCC: &str = "Action=DescribeTelCdr&EndTimeStamp=1700000000&Language=en-US&Nonce=11886&PageNumber=0&PageSize=10&Phones.0=008613012345678&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.195&SdkAppId=1400000000&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&StartTimeStamp=1699900000&Timestamp=1700000000&Version=2020-02-10";

    #[test]
    fn v1_b_python_post_hmac_sha256() {
        let sts = v1_string_to_sign("POST", "ccc.tencentcloudapi.com", &pairs(V1_CCC));
        assert_eq!(sts, format!("POSTccc.tencentcloudapi.com/?{V1_CCC}"));
        assert_eq!(
            v1_signature(KEY, &SignatureMethod::HmacSha256, &sts),
            "/UwuAuPvyayJmc3cAKZogulqls39z424P4ZZAroobMY="
        );
    }

    #[test]
    fn v1_c_python_get_hmac_sha1() {
        let query = V1_CCC.replace("SignatureMethod=HmacSHA256", "SignatureMethod=HmacSHA1");
        let sts = v1_string_to_sign("GET", "ccc.tencentcloudapi.com", &pairs(&query));
        assert_eq!(
            v1_signature(KEY, &SignatureMethod::HmacSha1, &sts),
            "KXGcyJmkd5MTvW48N1sIA5rkNPQ="
        );
    }
}
