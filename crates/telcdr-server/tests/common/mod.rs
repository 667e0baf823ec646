//! Test harness: a real telcdr server on 127.0.0.1:0 over a fresh store, a
//! pinned clock, and a client that signs like the official SDKs.
//!
//! The store is SQLite, or a fresh PostgreSQL database when
//! `TEST_TELCDR_SERVER_BACKEND=postgres` (then `TEST_TELCDR_POSTGRES` names
//! the server's admin URL); `scripts/test` runs this suite both ways. Media
//! live in a local directory, or under a fresh prefix of an S3 bucket when
//! `TEST_TELCDR_MEDIA_BACKEND=s3` (then `TEST_TELCDR_S3` names the
//! endpoint, as `scripts/s3-server` prints it).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tcapi::SignatureMethod;
use tcapi::sign::{Tc3Request, tc3_authorization, v1_signature, v1_string_to_sign};
use telcdr_media::{MediaStore, MediaUrl, S3Options};
use telcdr_model::{GenerateOptions, generate};
use telcdr_server::{App, FixedClock, ServerConfig, ServerSecrets};
use telcdr_store::{NewRecord, Store, StoreOptions, StoreUrl};

pub const APP: i64 = 1_400_000_000;
pub const OTHER_APP: i64 = 1_400_000_099;
/// "Now" for every test: records are generated up to here.
pub const NOW: i64 = 1_795_000_000;

pub struct Key {
    pub id: String,
    pub secret: String,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub app: App,
    pub store: Arc<dyn Store>,
    pub media: Arc<MediaStore>,
    pub clock: Arc<FixedClock>,
    pub key: Key,
    pub other_key: Key,
    _dir: tempfile::TempDir,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A reply: HTTP status, Content-Type, headers, and the parsed body.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn response(&self) -> &Value {
        &self.body["Response"]
    }
    /// The error code, or "" on success.
    pub fn code(&self) -> &str {
        self.body["Response"]["Error"]["Code"]
            .as_str()
            .unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["Response"]["Error"]["Message"]
            .as_str()
            .unwrap_or("")
    }
    pub fn total(&self) -> i64 {
        self.body["Response"]["TotalCount"]
            .as_i64()
            .expect("TotalCount")
    }
    pub fn sessions(&self) -> Vec<String> {
        self.body["Response"]["TelCdrList"]
            .as_array()
            .expect("TelCdrList")
            .iter()
            .map(|r| r["SessionId"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Starts a server with `records` generated records for APP (and 200 for
/// OTHER_APP, owned by another account).
pub async fn start(records: u64, config: ServerConfig) -> TestServer {
    start_at(None, records, config).await
}

/// [`start`] on the store at `url` (None: the backend the environment picks).
pub async fn start_at(url: Option<StoreUrl>, records: u64, config: ServerConfig) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telcdr.db");
    // Store calls block (PostgreSQL's client runs its own runtime): keep
    // them off the test's async thread.
    let media_dir = dir.path().join("media");
    let (store, media, secrets) = tokio::task::spawn_blocking(move || {
        let store = seed_store(&url.unwrap_or_else(|| store_url(path)), records);
        let secrets = ServerSecrets::load_or_create(store.as_ref()).unwrap();
        (store, Arc::new(media_store(media_dir)), secrets)
    })
    .await
    .unwrap();
    let key = Key {
        id: KEY_ID.into(),
        secret: KEY_SECRET.into(),
    };
    let other_key = Key {
        id: OTHER_KEY_ID.into(),
        secret: OTHER_KEY_SECRET.into(),
    };
    let clock = Arc::new(FixedClock::new(NOW));
    let app = App::with_clock(
        store.clone(),
        media.clone(),
        &secrets,
        config,
        clock.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(telcdr_server::serve(
        listener,
        app.clone(),
        std::future::pending(),
    ));
    TestServer {
        addr,
        app,
        store,
        media,
        clock,
        key,
        other_key,
        _dir: dir,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

const KEY_ID: &str = "AKIDtesttesttesttesttesttesttest0001";
const KEY_SECRET: &str = "testsecretkeytestsecretkey000001";
const OTHER_KEY_ID: &str = "AKIDtesttesttesttesttesttesttest0002";
const OTHER_KEY_SECRET: &str = "testsecretkeytestsecretkey000002";

/// The store under test: SQLite at `path`, or a fresh PostgreSQL database.
fn store_url(path: std::path::PathBuf) -> StoreUrl {
    match std::env::var("TEST_TELCDR_SERVER_BACKEND").as_deref() {
        Ok("postgres") => {
            let admin = std::env::var("TEST_TELCDR_POSTGRES")
                .expect("TEST_TELCDR_SERVER_BACKEND=postgres needs TEST_TELCDR_POSTGRES");
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let name = format!(
                "api_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            );
            StoreUrl::Postgres(telcdr_store::postgres::create_database(&admin, &name).unwrap())
        }
        Ok("sqlite") | Err(_) => StoreUrl::Sqlite(path),
        Ok(other) => panic!("TEST_TELCDR_SERVER_BACKEND must be sqlite or postgres, got {other}"),
    }
}

/// The media store under test: a directory, or a fresh prefix of this
/// process's S3 bucket.
fn media_store(dir: std::path::PathBuf) -> MediaStore {
    match std::env::var("TEST_TELCDR_MEDIA_BACKEND").as_deref() {
        Ok("s3") => {
            let endpoint = std::env::var("TEST_TELCDR_S3")
                .expect("TEST_TELCDR_MEDIA_BACKEND=s3 needs TEST_TELCDR_S3");
            let bucket = s3_bucket(&endpoint);
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let prefix = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let url = MediaUrl::parse(&format!("s3://{bucket}/server-{prefix}")).unwrap();
            let options = S3Options {
                endpoint: Some(endpoint),
                region: "us-east-1".into(),
                access_key_id: "test".into(),
                secret_access_key: "test".into(),
                path_style: true,
            };
            MediaStore::open(&url, Some(&options)).unwrap()
        }
        Ok("local") | Err(_) => MediaStore::open(&MediaUrl::Local(dir), None).unwrap(),
        Ok(other) => panic!("TEST_TELCDR_MEDIA_BACKEND must be local or s3, got {other}"),
    }
}

/// This test process's bucket, created on first use with an unsigned
/// `PUT /bucket` (the loopback S3 server accepts it).
fn s3_bucket(endpoint: &str) -> &'static str {
    use std::io::{Read, Write};
    static BUCKET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BUCKET.get_or_init(|| {
        let bucket = format!("telcdr-server-{}", std::process::id());
        let host = endpoint
            .strip_prefix("http://")
            .expect("TEST_TELCDR_S3 must be an http:// URL");
        let mut conn = std::net::TcpStream::connect(host)
            .unwrap_or_else(|e| panic!("cannot reach {endpoint}: {e}"));
        write!(
            conn,
            "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "creating {bucket}: {answer}");
        bucket
    })
}

/// The records `start(count, ..)` seeds for APP, in ascending time.
pub fn generated(count: u64) -> Vec<telcdr_model::ImportedRecord> {
    generate(&GenerateOptions {
        count,
        sdk_app_id: APP,
        days: 20,
        seed: 7,
        until: NOW,
    })
    .collect()
}

/// Opens the store with the records and the two keys every test expects.
fn seed_store(url: &StoreUrl, records: u64) -> Arc<dyn Store> {
    let store = telcdr_store::open(url, &StoreOptions::default()).unwrap();
    for (app, count, seed) in [(APP, records, 7), (OTHER_APP, 200, 8)] {
        let batch: Vec<NewRecord> = generate(&GenerateOptions {
            count,
            sdk_app_id: app,
            days: 20,
            seed,
            until: NOW,
        })
        .map(|r| NewRecord::from_imported(&r))
        .collect();
        if !batch.is_empty() {
            store.put_records(batch).unwrap();
        }
    }
    store.create_key(&[APP], KEY_ID, KEY_SECRET, NOW).unwrap();
    store
        .create_key(&[OTHER_APP], OTHER_KEY_ID, OTHER_KEY_SECRET, NOW)
        .unwrap();
    store
}

/// How a request is signed and sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Form {
    /// TC3, POST application/json (the SDKs' default).
    Tc3Json,
    /// TC3, GET with flattened parameters in the query.
    Tc3Get,
    /// v1 HmacSHA256, POST form body.
    V1Post,
    /// v1 HmacSHA1, GET query.
    V1Get,
}

/// A request under construction; defaults are a valid DescribeTelCdr.
pub struct Call<'a> {
    pub server: &'a TestServer,
    pub action: String,
    pub version: String,
    pub params: Value,
    pub form: Form,
    pub secret_id: String,
    pub secret_key: String,
    pub timestamp: i64,
    pub language: Option<&'static str>,
    pub method: http::Method,
    pub tamper: bool,
    /// `X-TC-Token` of temporary credentials.
    pub token: Option<String>,
}

impl TestServer {
    pub fn call(&self, params: Value) -> Call<'_> {
        Call {
            server: self,
            action: "DescribeTelCdr".into(),
            version: "2020-02-10".into(),
            params,
            form: Form::Tc3Json,
            secret_id: self.key.id.clone(),
            secret_key: self.key.secret.clone(),
            timestamp: self.clock_now(),
            language: None,
            method: http::Method::POST,
            tamper: false,
            token: None,
        }
    }

    pub fn clock_now(&self) -> i64 {
        use telcdr_server::Clock;
        self.clock.now()
    }

    /// Sends a raw request and parses the reply.
    pub async fn send(&self, request: http::Request<Full<Bytes>>) -> Reply {
        let response = self.client.request(request).await.expect("transport");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        Reply {
            status,
            content_type,
            headers,
            body,
        }
    }
}

/// A plain HTTP answer (the media route's): status, headers, bytes.
pub struct RawReply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub bytes: Bytes,
}

impl RawReply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

impl TestServer {
    /// Sends a request as built and returns the plain answer.
    pub async fn send_raw(&self, request: http::Request<Full<Bytes>>) -> RawReply {
        let response = self.client.request(request).await.expect("transport");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        RawReply {
            status,
            headers,
            bytes,
        }
    }

    /// GETs `url` (absolute), with a `Range` header when given.
    pub async fn fetch(&self, url: &str, range: Option<&str>) -> RawReply {
        let mut request = http::Request::get(url);
        if let Some(range) = range {
            request = request.header("Range", range);
        }
        self.send_raw(request.body(Full::new(Bytes::new())).unwrap())
            .await
    }
}

impl TestServer {
    /// POSTs `body` to `path` (with its query) and the given headers.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawReply {
        let mut request = http::Request::post(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send_raw(request.body(Full::new(Bytes::from(body.to_vec()))).unwrap())
            .await
    }
}

impl RawReply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }
}

/// Runs store or media calls (which block) off the test's async thread.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// Flattens JSON parameters the way the SDKs do (`Phones.0=...`).
pub fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}.{i}"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

impl Call<'_> {
    pub fn form(mut self, form: Form) -> Self {
        self.form = form;
        self
    }
    pub fn action(mut self, action: &str) -> Self {
        self.action = action.into();
        self
    }
    pub fn version(mut self, version: &str) -> Self {
        self.version = version.into();
        self
    }
    pub fn key(mut self, key: &Key) -> Self {
        self.secret_id = key.id.clone();
        self.secret_key = key.secret.clone();
        self
    }
    pub fn secret(mut self, secret_id: &str, secret_key: &str) -> Self {
        self.secret_id = secret_id.into();
        self.secret_key = secret_key.into();
        self
    }
    pub fn timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = timestamp;
        self
    }
    pub fn language(mut self, language: &'static str) -> Self {
        self.language = Some(language);
        self
    }
    pub fn method(mut self, method: http::Method) -> Self {
        self.method = method;
        self
    }
    /// Changes the body after signing.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    pub fn tampered(mut self) -> Self {
        self.tamper = true;
        self
    }

    pub fn build(&self) -> http::Request<Full<Bytes>> {
        let host = self.server.addr.to_string();
        let uri_base = format!("http://{host}/");
        match self.form {
            Form::Tc3Json | Form::Tc3Get => {
                let (query, content_type, payload) = if self.form == Form::Tc3Json {
                    (
                        String::new(),
                        "application/json",
                        serde_json::to_vec(&self.params).unwrap(),
                    )
                } else {
                    let mut pairs = Vec::new();
                    flatten("", &self.params, &mut pairs);
                    (
                        encode(&pairs),
                        "application/x-www-form-urlencoded",
                        Vec::new(),
                    )
                };
                let method = if self.form == Form::Tc3Json {
                    self.method.as_str().to_owned()
                } else {
                    "GET".to_owned()
                };
                let authorization = tc3_authorization(
                    &self.secret_id,
                    &self.secret_key,
                    &Tc3Request {
                        method: &method,
                        host: &host,
                        query: &query,
                        content_type,
                        payload: &payload,
                        service: "ccc",
                        timestamp: self.timestamp,
                        unsigned_payload: false,
                    },
                );
                let mut payload = payload;
                if self.tamper {
                    payload.extend_from_slice(b" ");
                }
                let uri = if query.is_empty() {
                    uri_base
                } else {
                    format!("{uri_base}?{query}")
                };
                let mut builder = http::Request::builder()
                    .method(method.as_str())
                    .uri(uri)
                    .header("Host", &host)
                    .header("Content-Type", content_type)
                    .header("Authorization", authorization)
                    .header("X-TC-Action", &self.action)
                    .header("X-TC-Version", &self.version)
                    .header("X-TC-Timestamp", self.timestamp.to_string())
                    .header("X-TC-TraceId", "trace-0001");
                if let Some(token) = &self.token {
                    builder = builder.header("X-TC-Token", token);
                }
                if let Some(language) = self.language {
                    builder = builder.header("X-TC-Language", language);
                }
                builder.body(Full::new(Bytes::from(payload))).unwrap()
            }
            Form::V1Post | Form::V1Get => {
                let (verb, method) = if self.form == Form::V1Post {
                    ("POST", SignatureMethod::HmacSha256)
                } else {
                    ("GET", SignatureMethod::HmacSha1)
                };
                let mut pairs = Vec::new();
                flatten("", &self.params, &mut pairs);
                pairs.push(("Action".into(), self.action.clone()));
                pairs.push(("Version".into(), self.version.clone()));
                pairs.push(("Timestamp".into(), self.timestamp.to_string()));
                pairs.push(("Nonce".into(), "11886".into()));
                pairs.push(("SecretId".into(), self.secret_id.clone()));
                pairs.push(("RequestClient".into(), "telcdr-tests".into()));
                if self.form == Form::V1Post {
                    pairs.push(("SignatureMethod".into(), "HmacSHA256".into()));
                }
                if let Some(language) = self.language {
                    pairs.push(("Language".into(), language.into()));
                }
                let sts = v1_string_to_sign(verb, &host, &pairs);
                pairs.push((
                    "Signature".into(),
                    v1_signature(&self.secret_key, &method, &sts),
                ));
                if self.tamper {
                    pairs.push(("PageSize".into(), "1".into()));
                }
                let encoded = encode(&pairs);
                let builder = http::Request::builder()
                    .header("Host", &host)
                    .header("Content-Type", "application/x-www-form-urlencoded");
                if self.form == Form::V1Post {
                    builder
                        .method("POST")
                        .uri(uri_base)
                        .body(Full::new(Bytes::from(encoded)))
                        .unwrap()
                } else {
                    builder
                        .method("GET")
                        .uri(format!("{uri_base}?{encoded}"))
                        .body(Full::new(Bytes::new()))
                        .unwrap()
                }
            }
        }
    }

    pub async fn send(self) -> Reply {
        let request = self.build();
        self.server.send(request).await
    }
}

/// A valid DescribeTelCdr over the last `days` days.
pub fn query(days: i64, page_size: i64, page_number: i64) -> Value {
    serde_json::json!({
        "SdkAppId": APP,
        "StartTimeStamp": NOW - days * 86_400 + 1,
        "EndTimeStamp": NOW,
        "PageSize": page_size,
        "PageNumber": page_number,
    })
}
