//! `telcdr-loadgen`: closed-loop HTTP/1.1 load generator for `bench/run`.
//!
//! Two modes share one measurement loop:
//! - signed: POST DescribeTelCdr bodies to `--url`, each request signed with
//!   TC3-HMAC-SHA256 right before it is sent (the timestamp follows the clock);
//!   a response counts as a success only if it is HTTP 200 and its `Response`
//!   has no `Error`;
//! - raw (`--peer-url` / `--peer-urls`): unsigned GETs of the given URLs (for
//!   Datasette); a success is HTTP 200 with a JSON array body;
//! - push (`--push-url`): CCC data pushes, POSTing the bodies to the URL (e.g.
//!   `http://127.0.0.1:8900/push?action=cdr&version=1`), each with its own
//!   `X-TCCC-PUSH-UUID`; a success is HTTP 200 with `ErrCode` 0.
//!
//! `--concurrency` tasks each own one keep-alive connection and send one
//! request at a time (like `wrk -c`). Requests completing during the warm-up
//! are discarded; the rest, up to the end of `--duration`, are measured.
//! Request bodies / URLs are cycled, each task starting at a different point.
//! Output: one JSON line on stdout and a human line on stderr.
//! `--check N` instead sends the first N bodies/URLs once each, sequentially,
//! and prints one JSON line per answer (total and row count), for comparing
//! servers.

mod tc3;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
#[command(name = "telcdr-loadgen", version, about)]
struct Args {
    /// Signed mode: the API endpoint, e.g. http://127.0.0.1:8900/
    #[arg(long)]
    url: Option<String>,
    #[arg(long, env = "TELCDR_SECRET_ID")]
    secret_id: Option<String>,
    #[arg(long, env = "TELCDR_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Service in the credential scope
    #[arg(long, default_value = "ccc")]
    service: String,
    #[arg(long, default_value = "DescribeTelCdr")]
    action: String,
    #[arg(long, default_value = "2020-02-10")]
    api_version: String,
    /// A JSON request body (repeatable)
    #[arg(long)]
    body: Vec<String>,
    /// A file of JSON request bodies, one per line
    #[arg(long)]
    bodies: Option<PathBuf>,
    /// Push mode: the data-push URL to POST the bodies to
    #[arg(long)]
    push_url: Option<String>,
    /// Raw mode: a URL to GET, unsigned (repeatable)
    #[arg(long)]
    peer_url: Vec<String>,
    /// Raw mode: a file of URLs to GET, one per line
    #[arg(long)]
    peer_urls: Option<PathBuf>,
    /// Open connections, each with one request in flight
    #[arg(long, short = 'c', default_value_t = 16)]
    concurrency: usize,
    /// Measured seconds (after the warm-up)
    #[arg(long, short = 'd', default_value_t = 10.0)]
    duration: f64,
    /// Warm-up seconds (requests completing in it are not counted)
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Tokio worker threads of the generator
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Name of this run in the output
    #[arg(long, default_value = "")]
    label: String,
    /// Instead of a load run: send the first N requests once each and print
    /// what each answered
    #[arg(long)]
    check: Option<usize>,
    /// Give up on a request after this many seconds (counted as an error)
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
}

/// What to send: a list of requests to cycle through.
enum Plan {
    Signed {
        host: String,
        path: String,
        action: String,
        version: String,
        secret_id: String,
        secret_key: String,
        service: String,
        bodies: Vec<Bytes>,
    },
    Raw {
        host: String,
        paths: Vec<String>,
    },
    Push {
        host: String,
        path: String,
        bodies: Vec<Bytes>,
    },
}

/// Push UUIDs: unique across the connections of one run.
static PUSH_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Plan {
    fn len(&self) -> usize {
        match self {
            Plan::Signed { bodies, .. } => bodies.len(),
            Plan::Raw { paths, .. } => paths.len(),
            Plan::Push { bodies, .. } => bodies.len(),
        }
    }
    fn is_signed(&self) -> bool {
        matches!(self, Plan::Signed { .. })
    }
    fn mode(&self) -> &'static str {
        match self {
            Plan::Signed { .. } => "signed",
            Plan::Raw { .. } => "raw",
            Plan::Push { .. } => "push",
        }
    }
    /// A fresh signer for one connection; `None` for raw (peer) requests.
    fn signer(&self) -> Option<tc3::Signer> {
        match self {
            Plan::Signed {
                secret_id,
                secret_key,
                service,
                ..
            } => Some(tc3::Signer::new(secret_id, secret_key, service)),
            Plan::Raw { .. } | Plan::Push { .. } => None,
        }
    }
}

/// Host (with port) and socket address and path of an `http://` URL.
fn parse_url(url: &str) -> Result<(String, SocketAddr, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("only http:// URLs are supported: {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let with_port = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&with_port)
        .with_context(|| format!("cannot resolve {authority}"))?
        .next()
        .ok_or_else(|| anyhow!("no address for {authority}"))?;
    Ok((authority.to_owned(), addr, path.to_owned()))
}

fn read_lines(path: &PathBuf) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

fn build_plan(args: &Args) -> Result<(Plan, SocketAddr)> {
    if let Some(url) = &args.push_url {
        let (host, addr, path) = parse_url(url)?;
        let mut bodies: Vec<String> = args.body.clone();
        if let Some(p) = &args.bodies {
            bodies.extend(read_lines(p)?);
        }
        if bodies.is_empty() {
            bail!("no push bodies: give --body or --bodies");
        }
        return Ok((
            Plan::Push {
                host,
                path,
                bodies: bodies.into_iter().map(Bytes::from).collect(),
            },
            addr,
        ));
    }
    let raw = !args.peer_url.is_empty() || args.peer_urls.is_some();
    if raw {
        let mut urls = args.peer_url.clone();
        if let Some(p) = &args.peer_urls {
            urls.extend(read_lines(p)?);
        }
        let mut host = None;
        let mut addr = None;
        let mut paths = Vec::new();
        for u in &urls {
            let (h, a, p) = parse_url(u)?;
            if host.as_ref().is_some_and(|old| old != &h) {
                bail!("all peer URLs must share one host: {h}");
            }
            host = Some(h);
            addr = Some(a);
            paths.push(p);
        }
        let (Some(host), Some(addr)) = (host, addr) else {
            bail!("no peer URLs given");
        };
        return Ok((Plan::Raw { host, paths }, addr));
    }
    let url = args
        .url
        .as_deref()
        .ok_or_else(|| anyhow!("give --url (signed mode) or --peer-url/--peer-urls (raw mode)"))?;
    let (host, addr, path) = parse_url(url)?;
    let mut bodies: Vec<String> = args.body.clone();
    if let Some(p) = &args.bodies {
        bodies.extend(read_lines(p)?);
    }
    if bodies.is_empty() {
        bail!("no request bodies: give --body or --bodies");
    }
    for b in &bodies {
        serde_json::from_str::<serde_json::Value>(b)
            .with_context(|| format!("request body is not JSON: {b}"))?;
    }
    let secret_id = args
        .secret_id
        .clone()
        .ok_or_else(|| anyhow!("--secret-id is required"))?;
    let secret_key = args
        .secret_key
        .clone()
        .ok_or_else(|| anyhow!("--secret-key is required"))?;
    Ok((
        Plan::Signed {
            host,
            path,
            action: args.action.clone(),
            version: args.api_version.clone(),
            secret_id,
            secret_key,
            service: args.service.clone(),
            bodies: bodies.into_iter().map(Bytes::from).collect(),
        },
        addr,
    ))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Builds request `i` (signing it now, in signed mode).
fn build_request(plan: &Plan, signer: Option<&mut tc3::Signer>, i: usize) -> Request<Full<Bytes>> {
    match plan {
        Plan::Signed {
            host,
            path,
            action,
            version,
            bodies,
            ..
        } => {
            let body = bodies[i % bodies.len()].clone();
            let ts = unix_now();
            let auth = signer.expect("signed mode has a signer").authorization(
                "POST",
                "",
                host,
                "application/json",
                &body,
                ts,
            );
            Request::builder()
                .method("POST")
                .uri(path.as_str())
                .header("host", host.as_str())
                .header("content-type", "application/json")
                .header("x-tc-action", action.as_str())
                .header("x-tc-version", version.as_str())
                .header("x-tc-timestamp", ts.to_string())
                .header("authorization", auth)
                .body(Full::new(body))
                .expect("valid request")
        }
        Plan::Raw { host, paths } => Request::builder()
            .method("GET")
            .uri(paths[i % paths.len()].as_str())
            .header("host", host.as_str())
            .body(Full::new(Bytes::new()))
            .expect("valid request"),
        Plan::Push { host, path, bodies } => {
            let seq = PUSH_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Request::builder()
                .method("POST")
                .uri(path.as_str())
                .header("host", host.as_str())
                .header("content-type", "application/json;charset=utf8")
                .header(
                    "x-tccc-push-uuid",
                    format!("loadgen-{}-{seq}", std::process::id()),
                )
                .body(Full::new(bodies[i % bodies.len()].clone()))
                .expect("valid request")
        }
    }
}

#[derive(Deserialize)]
struct PushAnswer {
    #[serde(rename = "ErrCode")]
    err_code: i64,
    #[serde(rename = "ErrMsg", default)]
    err_msg: String,
}

#[derive(Deserialize)]
struct TcEnvelope {
    #[serde(rename = "Response")]
    response: TcResponse,
}

#[derive(Deserialize)]
struct TcResponse {
    #[serde(rename = "Error")]
    error: Option<TcError>,
    #[serde(rename = "TotalCount")]
    total_count: Option<u64>,
    #[serde(rename = "TelCdrList")]
    tel_cdr_list: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct TcError {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

#[derive(Deserialize)]
struct PeerRow {
    total: Option<u64>,
}

/// What one answer said, once checked.
#[derive(Debug, Clone, Copy)]
struct Answer {
    total: Option<u64>,
    rows: usize,
}

/// Checks an answer: Ok(what it holds) or Err(why it is a failure).
fn verify(plan: &Plan, status: StatusCode, body: &[u8]) -> Result<Answer, String> {
    let short = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    if status != StatusCode::OK {
        return Err(format!("HTTP {status}: {}", short()));
    }
    if let Plan::Push { .. } = plan {
        let answer: PushAnswer =
            serde_json::from_slice(body).map_err(|e| format!("bad JSON ({e}): {}", short()))?;
        if answer.err_code != 0 {
            return Err(format!("ErrCode {}: {}", answer.err_code, answer.err_msg));
        }
        return Ok(Answer {
            total: None,
            rows: 1,
        });
    }
    if plan.is_signed() {
        let env: TcEnvelope =
            serde_json::from_slice(body).map_err(|e| format!("bad JSON ({e}): {}", short()))?;
        if let Some(err) = env.response.error {
            return Err(format!("{}: {}", err.code, err.message));
        }
        let rows = env
            .response
            .tel_cdr_list
            .ok_or_else(|| format!("no TelCdrList: {}", short()))?
            .len();
        Ok(Answer {
            total: env.response.total_count,
            rows,
        })
    } else {
        let rows: Vec<PeerRow> = serde_json::from_slice(body)
            .map_err(|e| format!("not a JSON array of rows ({e}): {}", short()))?;
        Ok(Answer {
            total: rows.first().and_then(|r| r.total),
            rows: rows.len(),
        })
    }
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// One request on an open connection: status and the whole body.
async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes)> {
    sender.ready().await?;
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

#[derive(Default)]
struct TaskResult {
    latencies_us: Vec<u32>,
    errors: u64,
    bytes: u64,
    rows_min: Option<usize>,
    rows_max: usize,
    rows_sum: u64,
    first_error: Option<String>,
    first_answer: Option<Answer>,
}

impl TaskResult {
    fn note_error(&mut self, e: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }
}

async fn worker(
    plan: Arc<Plan>,
    addr: SocketAddr,
    start_index: usize,
    warm_end: Instant,
    end: Instant,
    timeout: Duration,
) -> TaskResult {
    let mut out = TaskResult::default();
    let mut signer = plan.signer();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    let mut i = start_index;
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        if sender.is_none() {
            match connect(addr).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    if t0 >= warm_end {
                        out.note_error(format!("{e:#}"));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        let req = build_request(&plan, signer.as_mut(), i);
        i += 1;
        let s = sender.as_mut().expect("connected");
        let t_send = Instant::now();
        let result = tokio::time::timeout(timeout, exchange(s, req)).await;
        let t_done = Instant::now();
        let counted = t_done >= warm_end && t_done <= end;
        match result {
            Ok(Ok((status, body))) => {
                if counted {
                    out.bytes += body.len() as u64;
                    match verify(&plan, status, &body) {
                        Ok(a) => {
                            let us = (t_done - t_send).as_micros().min(u128::from(u32::MAX)) as u32;
                            out.latencies_us.push(us);
                            out.rows_min = Some(out.rows_min.map_or(a.rows, |m| m.min(a.rows)));
                            out.rows_max = out.rows_max.max(a.rows);
                            out.rows_sum += a.rows as u64;
                            if out.first_answer.is_none() {
                                out.first_answer = Some(a);
                            }
                        }
                        Err(e) => out.note_error(e),
                    }
                }
            }
            Ok(Err(e)) => {
                if counted {
                    out.note_error(format!("transport: {e:#}"));
                }
                sender = None;
            }
            Err(_) => {
                if counted {
                    out.note_error(format!("timeout after {timeout:?}"));
                }
                sender = None;
            }
        }
    }
    out
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64) * p).floor() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn run_load(args: &Args, plan: Plan, addr: SocketAddr) -> Result<()> {
    let plan = Arc::new(plan);
    let n = plan.len();
    let start = Instant::now();
    let warm_end = start + Duration::from_secs_f64(args.warmup);
    let end = warm_end + Duration::from_secs_f64(args.duration);
    let timeout = Duration::from_secs_f64(args.timeout);
    let stride = (n / args.concurrency.max(1)).max(1);
    let mut handles = Vec::new();
    for t in 0..args.concurrency.max(1) {
        handles.push(tokio::spawn(worker(
            plan.clone(),
            addr,
            (t * stride) % n,
            warm_end,
            end,
            timeout,
        )));
    }
    let mut all = TaskResult::default();
    for h in handles {
        let r = h.await?;
        all.latencies_us.extend(r.latencies_us);
        all.errors += r.errors;
        all.bytes += r.bytes;
        all.rows_sum += r.rows_sum;
        all.rows_max = all.rows_max.max(r.rows_max);
        if let Some(m) = r.rows_min {
            all.rows_min = Some(all.rows_min.map_or(m, |x| x.min(m)));
        }
        if all.first_error.is_none() {
            all.first_error = r.first_error;
        }
        if all.first_answer.is_none() {
            all.first_answer = r.first_answer;
        }
    }
    let lat = &mut all.latencies_us;
    lat.sort_unstable();
    let ok = lat.len() as u64;
    let secs = args.duration;
    let rps = ok as f64 / secs;
    let mean = if ok > 0 {
        lat.iter().map(|&x| u64::from(x)).sum::<u64>() as f64 / ok as f64
    } else {
        0.0
    };
    let (p50, p90, p99, max) = (
        percentile(lat, 0.50),
        percentile(lat, 0.90),
        percentile(lat, 0.99),
        lat.last().copied().unwrap_or(0),
    );
    let answered = ok + all.errors;
    let json = serde_json::json!({
        "label": args.label,
        "mode": plan.mode(),
        "concurrency": args.concurrency,
        "threads": args.threads,
        "warmup_s": args.warmup,
        "duration_s": secs,
        "distinct_requests": n,
        "ok": ok,
        "errors": all.errors,
        "rps": (rps * 10.0).round() / 10.0,
        "p50_us": p50,
        "p90_us": p90,
        "p99_us": p99,
        "max_us": max,
        "mean_us": mean.round(),
        "avg_response_bytes": all.bytes.checked_div(answered).unwrap_or(0),
        "rows_min": all.rows_min,
        "rows_max": all.rows_max,
        "rows_avg": if ok > 0 { (all.rows_sum as f64 / ok as f64 * 10.0).round() / 10.0 } else { 0.0 },
        "first_total": all.first_answer.and_then(|a| a.total),
        "first_error": all.first_error,
    });
    println!("{json}");
    eprintln!(
        "{:<24} {:>9.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  ok {}  errors {}  rows/answer {}..{}  {} B/answer",
        if args.label.is_empty() {
            "run"
        } else {
            &args.label
        },
        rps,
        f64::from(p50) / 1000.0,
        f64::from(p99) / 1000.0,
        f64::from(max) / 1000.0,
        ok,
        all.errors,
        all.rows_min.unwrap_or(0),
        all.rows_max,
        all.bytes.checked_div(answered).unwrap_or(0),
    );
    if let Some(e) = &all.first_error {
        eprintln!("  first error: {e}");
    }
    Ok(())
}

async fn run_check(args: &Args, plan: Plan, addr: SocketAddr, n: usize) -> Result<()> {
    let mut signer = plan.signer();
    let mut sender = connect(addr).await?;
    let timeout = Duration::from_secs_f64(args.timeout);
    for i in 0..n.min(plan.len()) {
        let req = build_request(&plan, signer.as_mut(), i);
        let t = Instant::now();
        let (status, body) = tokio::time::timeout(timeout, exchange(&mut sender, req))
            .await
            .map_err(|_| anyhow!("request {i} timed out"))??;
        let us = t.elapsed().as_micros();
        let line = match verify(&plan, status, &body) {
            Ok(a) => {
                serde_json::json!({"i": i, "ok": true, "total": a.total, "rows": a.rows, "us": us, "bytes": body.len()})
            }
            Err(e) => serde_json::json!({"i": i, "ok": false, "error": e, "us": us}),
        };
        println!("{line}");
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let (plan, addr) = build_plan(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match args.check {
            Some(n) => run_check(&args, plan, addr, n).await,
            None => run_load(&args, plan, addr).await,
        }
    })
}
