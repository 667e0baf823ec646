//! Signature verification (spec 2.5 and 3.2), in the check order's
//! sequence: clock skew, then the signature, then the token.
//!
//! The clients disagree on what they sign (spec 1.6): the Node SDK signs the
//! host without its port and puts the endpoint's first label in the scope;
//! tccli sends `Host: http://...` and signs that. So the service is taken
//! from the scope as sent, and the host is tried as received and without its
//! port. Each variant is a full HMAC; there are at most four.

use http::Method;
use subtle::ConstantTimeEq;

use crate::request::header_str;
use crate::sign::{
    canonical_request, hashed_payload, tc3_signature_with_key, tc3_signing_key, tc3_string_to_sign,
    utc_date, v1_signature, v1_string_to_sign,
};
use crate::{ApiError, Auth, Envelope, RawRequest};

/// Verifies the envelope's signature with the caller's SecretKey, for a
/// permanent key: a Token is refused.
pub fn verify(
    envelope: &Envelope,
    raw: &RawRequest,
    secret_key: &str,
    now: i64,
    max_skew_seconds: i64,
) -> Result<(), ApiError> {
    verify_with_token(envelope, raw, secret_key, None, now, max_skew_seconds)
}

/// Verifies the envelope's signature, then its Token: `expected_token` is
/// the Token of temporary credentials (which must come with it), None for
/// a permanent key (which must come without).
pub fn verify_with_token(
    envelope: &Envelope,
    raw: &RawRequest,
    secret_key: &str,
    expected_token: Option<&str>,
    now: i64,
    max_skew_seconds: i64,
) -> Result<(), ApiError> {
    if (now - envelope.timestamp).abs() > max_skew_seconds {
        return Err(ApiError::signature_expire(
            envelope.timestamp,
            now,
            max_skew_seconds,
        ));
    }
    let ok = match &envelope.auth {
        Auth::Tc3 {
            date,
            service,
            signed_headers,
            signature,
        } => verify_tc3(
            envelope.timestamp,
            date,
            service,
            signed_headers,
            signature,
            raw,
            secret_key,
        ),
        Auth::V1 {
            method,
            params,
            signature,
        } => {
            let host = header_str(raw.headers, "host").unwrap_or("");
            host_variants(host).iter().any(|host| {
                let sts = v1_string_to_sign(raw.method.as_str(), host, params);
                let expected = v1_signature(secret_key, method, &sts);
                bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
            })
        }
    };
    if !ok {
        return Err(ApiError::signature_failure());
    }
    match (expected_token, envelope.token.as_deref()) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(ApiError::token_failure(
            "A permanent key takes no Token; send the Token only with the temporary credentials it was issued with.",
            "永久密钥不需要 Token；Token 只能与签发它的临时凭证一起使用。",
        )),
        (Some(_), None) => Err(ApiError::token_failure(
            "Temporary credentials need their Token (X-TC-Token).",
            "临时凭证需要携带其 Token（X-TC-Token）。",
        )),
        (Some(expected), Some(got)) => {
            if bool::from(expected.as_bytes().ct_eq(got.as_bytes())) {
                Ok(())
            } else {
                Err(ApiError::token_failure(
                    "The Token does not belong to these temporary credentials.",
                    "Token 与该临时凭证不匹配。",
                ))
            }
        }
    }
}

/// The Host header as received, then without its `:port`.
fn host_variants(host: &str) -> Vec<&str> {
    let mut out = vec![host];
    if let Some((base, port)) = host.rsplit_once(':')
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && !base.ends_with("//")
        && !base.is_empty()
    {
        out.push(base);
    }
    out
}

fn verify_tc3(
    timestamp: i64,
    date: &str,
    service: &str,
    signed_headers: &[String],
    signature: &str,
    raw: &RawRequest,
    secret_key: &str,
) -> bool {
    // The scope's date must be the timestamp's UTC date (spec 2.5 step 4).
    if date != utc_date(timestamp) {
        return false;
    }
    let query = if raw.method == Method::GET {
        raw.query
    } else {
        ""
    };
    let unsigned = header_str(raw.headers, "x-tc-content-sha256")
        .is_some_and(|v| v.trim() == "UNSIGNED-PAYLOAD");
    let payload_hash = hashed_payload(raw.body, unsigned);
    let signed = signed_headers.join(";");
    let key = tc3_signing_key(secret_key, date, service);

    let host = header_str(raw.headers, "host").unwrap_or("");
    let mut attempts = 0;
    for host in host_variants(host) {
        for lower in [false, true] {
            let mut block = String::new();
            for name in signed_headers {
                let value = if name == "host" {
                    host.to_owned()
                } else {
                    raw.headers
                        .get_all(name.as_str())
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .map(str::trim)
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let value = if lower {
                    value.to_ascii_lowercase()
                } else {
                    value
                };
                block.push_str(name);
                block.push(':');
                block.push_str(&value);
                block.push('\n');
            }
            let canonical =
                canonical_request(raw.method.as_str(), query, &block, &signed, &payload_hash);
            let sts = tc3_string_to_sign(timestamp, date, service, &canonical);
            let expected = tc3_signature_with_key(&key, &sts);
            if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
                return true;
            }
            attempts += 1;
            if !lower && block == block.to_ascii_lowercase() {
                // Lower-casing changes nothing: skip the duplicate HMAC.
                break;
            }
        }
    }
    debug_assert!(attempts <= 4);
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::{Tc3Request, tc3_authorization};
    use crate::{SignatureMethod, codes, decode};
    use http::{HeaderMap, HeaderValue};

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const NOW: i64 = 1_700_000_000;

    fn tc3_headers(host: &str, authorization: &str, extra: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_str(host).unwrap());
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert(
            "authorization",
            HeaderValue::from_str(authorization).unwrap(),
        );
        h.insert("x-tc-action", HeaderValue::from_static("DescribeTelCdr"));
        h.insert("x-tc-version", HeaderValue::from_static("2020-02-10"));
        h.insert("x-tc-timestamp", HeaderValue::from_static("1700000000"));
        for (k, v) in extra {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn check(h: &HeaderMap, body: &[u8], now: i64) -> Result<(), ApiError> {
        let raw = RawRequest {
            method: &Method::POST,
            query: "",
            headers: h,
            body,
        };
        let env = decode(&raw)?;
        verify(&env, &raw, KEY, now, 300)
    }

    const BODY: &[u8] = br#"{"SdkAppId":1400000000,"StartTimeStamp":1699900000,"EndTimeStamp":1700000000,"PageSize":10,"PageNumber":0,"Phones":["008613012345678"]}"#;

    fn signed(host: &str, service: &str, unsigned_payload: bool) -> String {
        tc3_authorization(
            ID,
            KEY,
            &Tc3Request {
                method: "POST",
                host,
                query: "",
                content_type: "application/json",
                payload: BODY,
                service,
                timestamp: NOW,
                unsigned_payload,
            },
        )
    }

    #[test]
    fn python_style_request_verifies_and_tampering_fails() {
        let auth = signed("127.0.0.1:8900", "ccc", false);
        let h = tc3_headers("127.0.0.1:8900", &auth, &[]);
        assert_eq!(check(&h, BODY, NOW), Ok(()));
        let mut body = BODY.to_vec();
        body.push(b' ');
        assert_eq!(
            check(&h, &body, NOW).unwrap_err().code,
            codes::SIGNATURE_FAILURE
        );
        assert!(check(&h, BODY, NOW).is_ok());
        let wrong_key = RawRequest {
            method: &Method::POST,
            query: "",
            headers: &h,
            body: BODY,
        };
        let env = decode(&wrong_key).unwrap();
        assert_eq!(
            verify(&env, &wrong_key, "other", NOW, 300)
                .unwrap_err()
                .code,
            codes::SIGNATURE_FAILURE
        );
    }

    #[test]
    fn node_vector_n1_verifies() {
        // Wire Host with port, signed without it, service "localhost:28417".
        let auth = "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/localhost:28417/tc3_request, SignedHeaders=content-type;host, Signature=436512a7d1656e8d3ceb9b68a5cd80a4c272209f3699ace0d98740051a67d330";
        let h = tc3_headers("localhost:28417", auth, &[]);
        assert_eq!(check(&h, BODY, NOW), Ok(()));
    }

    #[test]
    fn tccli_host_with_scheme_verifies() {
        let host = "http://127.0.0.1:8900";
        let auth = signed(host, "ccc", false);
        assert_eq!(check(&tc3_headers(host, &auth, &[]), BODY, NOW), Ok(()));
        assert_eq!(host_variants(host), vec![host, "http://127.0.0.1"]);
        assert_eq!(host_variants("http://x"), vec!["http://x"]);
    }

    #[test]
    fn unsigned_payload_ignores_the_body() {
        let auth = signed("h", "ccc", true);
        let h = tc3_headers("h", &auth, &[("x-tc-content-sha256", "UNSIGNED-PAYLOAD")]);
        assert_eq!(check(&h, b"anything at all", NOW), Ok(()));
        let without = tc3_headers("h", &auth, &[]);
        assert!(check(&without, BODY, NOW).is_err());
    }

    #[test]
    fn skew_is_checked_first_and_both_ways() {
        let auth = signed("h", "ccc", false);
        let h = tc3_headers("h", &auth, &[]);
        assert!(check(&h, BODY, NOW + 300).is_ok());
        assert!(check(&h, BODY, NOW - 300).is_ok());
        for now in [NOW + 301, NOW - 301] {
            let e = check(&h, b"tampered", now).unwrap_err();
            assert_eq!(
                e.code,
                codes::SIGNATURE_EXPIRE,
                "expiry wins over a bad body"
            );
            assert!(e.en.contains("301") && e.en.contains("300"), "{}", e.en);
        }
    }

    #[test]
    fn scope_date_must_match_the_timestamp() {
        let auth = signed("h", "ccc", false).replace("2023-11-14", "2023-11-15");
        assert_eq!(
            check(&tc3_headers("h", &auth, &[]), BODY, NOW)
                .unwrap_err()
                .code,
            codes::SIGNATURE_FAILURE
        );
    }

    #[test]
    fn extra_signed_headers_are_supported() {
        // A client that signs x-tc-action too, as the docs allow.
        let canonical = canonical_request(
            "POST",
            "",
            "content-type:application/json\nhost:h\nx-tc-action:describetelcdr\n",
            "content-type;host;x-tc-action",
            &hashed_payload(BODY, false),
        );
        let key = tc3_signing_key(KEY, "2023-11-14", "ccc");
        let sig = tc3_signature_with_key(
            &key,
            &tc3_string_to_sign(NOW, "2023-11-14", "ccc", &canonical),
        );
        let auth = format!(
            "TC3-HMAC-SHA256 Credential={ID}/2023-11-14/ccc/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature={sig}"
        );
        assert_eq!(check(&tc3_headers("h", &auth, &[]), BODY, NOW), Ok(()));
    }

    #[test]
    fn token_is_refused_after_the_signature() {
        let auth = signed("h", "ccc", false);
        let h = tc3_headers("h", &auth, &[("x-tc-token", "sometoken")]);
        assert_eq!(check(&h, BODY, NOW).unwrap_err().code, codes::TOKEN_FAILURE);
    }

    #[test]
    fn v1_post_and_get_verify() {
        let mut params: Vec<(String, String)> = [
            ("Action", "DescribeTelCdr"),
            ("Version", "2020-02-10"),
            ("SecretId", ID),
            ("Timestamp", "1700000000"),
            ("Nonce", "11886"),
            ("Phones.0", "0086 130+x/é"),
            ("SignatureMethod", "HmacSHA256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sts = v1_string_to_sign("POST", "127.0.0.1:8900", &params);
        params.push((
            "Signature".into(),
            v1_signature(KEY, &SignatureMethod::HmacSha256, &sts),
        ));
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("127.0.0.1:8900"));
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let raw = RawRequest {
            method: &Method::POST,
            query: "",
            headers: &h,
            body: body.as_bytes(),
        };
        let env = decode(&raw).unwrap();
        assert_eq!(verify(&env, &raw, KEY, NOW, 300), Ok(()));
        // The same parameters over GET were signed for POST: refused.
        let get = RawRequest {
            method: &Method::GET,
            query: &body,
            headers: &h,
            body: b"",
        };
        let env = decode(&get).unwrap();
        assert_eq!(
            verify(&env, &get, KEY, NOW, 300).unwrap_err().code,
            codes::SIGNATURE_FAILURE
        );
    }
}
