//! `load`: offpush under concurrent load on the local stack, with the
//! invariants checked afterwards and the figures printed as Markdown.
//!
//! The stack, all on loopback: the real HTTP API (tools/local-api's server,
//! in-process, the three functions' handlers sharing one context), a fresh
//! table per scenario on the DynamoDB emulator's front
//! (`AWS_ENDPOINT_URL_DYNAMODB_FRONT`, scripts/lib/dynamodb_emulator.py)
//! configured for that table with transaction conflicts, latency, responses
//! lost after the write committed, ClientRequestToken idempotency and,
//! when asked, per-item throttling; and in-process vivo and Xiaomi
//! simulators answering every call some milliseconds late, which post
//! delivery receipts back to the API when told to flush.
//!
//! Scenarios:
//! - a: one app, one vivo certificate, U users each binding a device with
//!   `PUT /v1/push-token`, then P pushes, C at a time, each to 1-3 random
//!   users, each with a `request_id`.
//! - b: N apps, each with a vivo certificate with receipts (every other app
//!   a Xiaomi one with receipts too, half its users on it), P pushes spread
//!   over the apps, C at a time; meanwhile one reporter per app sends token
//!   reports (the same token again, a new token for the user's device, a
//!   user reporting another user's token: the token moves), the simulators
//!   post their receipts 300 ms after the first one queued (during every
//!   other second, and in the last flush after the pushes, they redeliver
//!   each receipt POST the API accepted), and a few tokens are dead at the
//!   vendor.
//!
//! Checked afterwards (each printed PASS or FAIL with its counts; the exit
//! status is 1 when any fails):
//! - every push answered 200 has `GET /v1/pushes/{request_id}` answering its
//!   summary and its lines' statuses;
//! - `GET /v1/stats` over the run's days equals, counter by counter, the sum
//!   of the 200 answers, app-wide and per certificate;
//! - `delivered` (app-wide, per certificate) equals the number of distinct
//!   (vendor message, device) pairs in receipt POSTs the API accepted;
//! - every binding the run made and did not end (moved to another user, or
//!   its token dead at the vendor) is listed by
//!   `GET /v1/users/{user_id}/devices`, and a moved token is not listed
//!   under the user it moved away from.
//!
//! Non-200 answers are counted and printed, never retried (except while
//! binding the users before the pushes: up to 5 attempts).
//!
//! Usage: `load [--scenario a|b|all] [--users N] [--pushes N]
//! [--concurrency N] [--apps N] [--users-per-app N] [--reports N]
//! [--write-rate N] [--latency-ms N] [--transaction-latency-ms N]
//! [--lose-probability P] [--no-idempotency] [--sim-latency-ms N]
//! [--seed N] [--out FILE]`; the same settings from `LOAD_*` variables
//! (`LOAD_USERS`, `LOAD_WRITE_RATE`, ...); `LOAD_SMOKE=1` makes every size
//! tiny. The report goes to FILE (else stdout, after the functions' metric
//! lines, which go to stdout as on Lambda); progress goes to stderr.
//! scripts/load.sh starts the emulator and runs it.

use axum::serve::ListenerExt;
use futures::StreamExt;
use offpush::domain::AppSettings;
use offpush::store::Store;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::xiaomi_sim;
use testkit::{
    TestApp, VIVO_APP_KEY, VIVO_APP_SECRET, XIAOMI_CHANNEL, XIAOMI_CHECK_REGID, XIAOMI_PACKAGE,
};

/// vivo app ids of the simulator's apps: one per load app.
const VIVO_APP_BASE: u64 = 30_000;

/// DynamoDB's documented throughput limit of one partition, and so of any
/// single item, in write units per second.
const ITEM_WRITE_UNITS_PER_S: f64 = 1000.0;

/// The simulators' receipt flush delay.
const RECEIPT_FLUSH_MS: u64 = 300;

/// The push rate per app the hot-item arithmetic is done for.
const TARGET_PUSHES_PER_S: f64 = 1000.0;

// ---- settings -------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    A,
    B,
}

#[derive(Clone, Debug)]
struct Settings {
    scenarios: Vec<Scenario>,
    users: usize,
    pushes: usize,
    concurrency: usize,
    apps: usize,
    users_per_app: usize,
    reports: usize,
    write_rate: Option<u64>,
    latency_ms: u64,
    transaction_latency_ms: u64,
    lose_probability: f64,
    idempotency: bool,
    sim_latency_ms: u64,
    /// The share of scenario b's users whose token the vendor declares dead.
    dead_share: f64,
    seed: u64,
    out: Option<String>,
    smoke: bool,
}

impl Settings {
    fn defaults(smoke: bool) -> Settings {
        Settings {
            scenarios: vec![Scenario::A, Scenario::B],
            users: if smoke { 10 } else { 200 },
            pushes: if smoke { 40 } else { 2000 },
            concurrency: if smoke { 4 } else { 32 },
            apps: if smoke { 2 } else { 10 },
            users_per_app: if smoke { 10 } else { 50 },
            reports: if smoke { 10 } else { 400 },
            write_rate: None,
            latency_ms: 5,
            transaction_latency_ms: 10,
            lose_probability: 0.01,
            idempotency: true,
            sim_latency_ms: 20,
            dead_share: 0.02,
            seed: 1,
            out: None,
            smoke,
        }
    }

    /// `LOAD_*` variables, then the command line.
    fn parse() -> Result<Settings, String> {
        let smoke = std::env::var("LOAD_SMOKE").is_ok_and(|v| v == "1");
        let mut s = Settings::defaults(smoke);
        let mut pairs: Vec<(String, String)> = Vec::new();
        for name in [
            "scenario",
            "users",
            "pushes",
            "concurrency",
            "apps",
            "users-per-app",
            "reports",
            "write-rate",
            "latency-ms",
            "transaction-latency-ms",
            "lose-probability",
            "sim-latency-ms",
            "seed",
            "out",
        ] {
            let var = format!("LOAD_{}", name.replace('-', "_").to_uppercase());
            if let Ok(v) = std::env::var(&var) {
                if !v.trim().is_empty() {
                    pairs.push((name.to_string(), v.trim().to_string()));
                }
            }
        }
        if std::env::var("LOAD_NO_IDEMPOTENCY").is_ok_and(|v| v == "1") {
            s.idempotency = false;
        }
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--no-idempotency" => s.idempotency = false,
                "-h" | "--help" => return Err(usage()),
                flag if flag.starts_with("--") => {
                    let v = args
                        .next()
                        .ok_or_else(|| format!("{flag}: a value is expected"))?;
                    pairs.push((flag[2..].to_string(), v));
                }
                other => return Err(format!("unexpected argument {other:?}\n{}", usage())),
            }
        }
        for (name, v) in pairs {
            let num = |v: &str| {
                v.parse::<u64>()
                    .map_err(|_| format!("--{name}: a non-negative integer, got {v:?}"))
            };
            match name.as_str() {
                "scenario" => {
                    s.scenarios = match v.as_str() {
                        "a" => vec![Scenario::A],
                        "b" => vec![Scenario::B],
                        "all" => vec![Scenario::A, Scenario::B],
                        _ => return Err(format!("--scenario: a, b or all, got {v:?}")),
                    }
                }
                "users" => s.users = num(&v)? as usize,
                "pushes" => s.pushes = num(&v)? as usize,
                "concurrency" => s.concurrency = (num(&v)? as usize).max(1),
                "apps" => s.apps = (num(&v)? as usize).max(1),
                "users-per-app" => s.users_per_app = num(&v)? as usize,
                "reports" => s.reports = num(&v)? as usize,
                "write-rate" => s.write_rate = Some(num(&v)?).filter(|r| *r > 0),
                "latency-ms" => s.latency_ms = num(&v)?,
                "transaction-latency-ms" => s.transaction_latency_ms = num(&v)?,
                "sim-latency-ms" => s.sim_latency_ms = num(&v)?,
                "seed" => s.seed = num(&v)?,
                "lose-probability" => {
                    s.lose_probability =
                        v.parse::<f64>()
                            .ok()
                            .filter(|p| (0.0..=1.0).contains(p))
                            .ok_or_else(|| format!("--lose-probability: 0 to 1, got {v:?}"))?
                }
                "out" => s.out = Some(v),
                _ => return Err(format!("unknown setting --{name}\n{}", usage())),
            }
        }
        if s.users < 2 || s.users_per_app < 2 {
            return Err("--users and --users-per-app: at least 2".into());
        }
        Ok(s)
    }
}

fn usage() -> String {
    "usage: load [--scenario a|b|all] [--users N] [--pushes N] [--concurrency N] [--apps N] \
     [--users-per-app N] [--reports N] [--write-rate N] [--latency-ms N] \
     [--transaction-latency-ms N] [--lose-probability P] [--no-idempotency] \
     [--sim-latency-ms N] [--seed N] [--out FILE]   (LOAD_SMOKE=1: tiny sizes)"
        .into()
}

// ---- small helpers ------------------------------------------------------------------

/// splitmix64: a reproducible sequence from `--seed`, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// `k` distinct indexes below `n`.
    fn distinct(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut out = Vec::new();
        while out.len() < k.min(n) {
            let i = self.below(n);
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }
}

fn progress(msg: impl std::fmt::Display) {
    eprintln!("[load] {msg}");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// Status counts of one kind of request, shown as `200 ×n, 409 ×m`
/// (0 is "no answer").
#[derive(Default)]
struct Statuses(BTreeMap<String, BTreeMap<u16, usize>>);

impl Statuses {
    fn add(&mut self, kind: &str, status: u16) {
        *self
            .0
            .entry(kind.to_string())
            .or_default()
            .entry(status)
            .or_default() += 1;
    }

    /// Answers outside 2xx.
    fn failed(&self, kind: &str) -> usize {
        self.0.get(kind).map_or(0, |m| {
            m.iter()
                .filter(|(s, _)| !(200..300).contains(*s))
                .map(|(_, n)| n)
                .sum()
        })
    }
}

/// A unique token for a user: its last 4 characters (all a masked token
/// shows) are the sequence number's.
fn new_token(platform: &str, app: usize, user: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{platform}-regid-{app:02}-{user}-{n:06}")
}

fn device_of(user: &str) -> String {
    format!("dev-{user}")
}

fn mask_tail(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

// ---- the stack ---------------------------------------------------------------------

struct Stack {
    front: String,
    table: String,
    store: Store,
    base: String,
    http: reqwest::Client,
    vivo: vivo_sim::Simulator,
    xiaomi: xiaomi_sim::Simulator,
    server: tokio::task::JoinHandle<()>,
}

fn front_url() -> Result<String, String> {
    match std::env::var("AWS_ENDPOINT_URL_DYNAMODB_FRONT") {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().trim_end_matches('/').to_string()),
        _ => Err(
            "AWS_ENDPOINT_URL_DYNAMODB_FRONT is not set: run scripts/load.sh, which \
                  starts the DynamoDB emulator with its front"
                .into(),
        ),
    }
}

impl Stack {
    async fn start(label: &str, settings: &Settings, apps: usize) -> Result<Stack, String> {
        let front = front_url()?;
        let http = offpush::tls::client_builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| e.to_string())?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let table = format!("load-{label}-{}-{stamp}", std::process::id());
        let store = Store::for_endpoint(&front, "us-east-1", table.clone()).await;
        store
            .create_table()
            .await
            .map_err(|e| format!("creating table {table} on {front}: {e}"))?;

        let vivo = vivo_sim::Simulator::start(vivo_sim::SimConfig {
            apps: (0..apps)
                .map(|i| vivo_sim::SimApp {
                    app_id: VIVO_APP_BASE + i as u64,
                    app_key: VIVO_APP_KEY.to_string(),
                    app_secret: VIVO_APP_SECRET.to_string(),
                })
                .collect(),
        })
        .await
        .map_err(|e| format!("vivo simulator: {e}"))?;
        let xiaomi = xiaomi_sim::Simulator::start(xiaomi_sim::SimConfig {
            apps: (0..apps)
                .map(|i| xiaomi_sim::SimApp {
                    channels: vec![
                        xiaomi_sim::Channel::private(XIAOMI_CHANNEL),
                        xiaomi_sim::Channel::public("news"),
                    ],
                    ..xiaomi_sim::SimApp::new(xiaomi_secret(i), XIAOMI_PACKAGE)
                })
                .collect(),
        })
        .await
        .map_err(|e| format!("Xiaomi simulator: {e}"))?;
        xiaomi.set_reg_id(XIAOMI_CHECK_REGID, xiaomi_sim::RegIdVerdict::Invalid);
        let delay =
            (settings.sim_latency_ms > 0).then(|| Duration::from_millis(settings.sim_latency_ms));
        for path in [
            "/message/auth",
            "/message/send",
            "/message/saveListPayload",
            "/message/pushToList",
        ] {
            vivo.script_always(path, delay.map(vivo_sim::CallAction::Delay));
        }
        xiaomi.script_always(
            "/v3/message/regid",
            delay.map(xiaomi_sim::CallAction::Delay),
        );
        // Each simulator posts its receipts 300 ms after the first one
        // queued. (An explicit flush waits for an empty queue, which never
        // comes while pushes go on queueing.)
        let receipts = vivo_sim::ReceiptSettings {
            delay: Duration::from_millis(RECEIPT_FLUSH_MS),
            ..vivo_sim::ReceiptSettings::default()
        };
        vivo.set_receipt_settings(receipts);
        xiaomi.set_receipt_settings(receipts);

        // The functions' own defaults (template.yaml), vendors at the simulators.
        let mut cfg = testkit::config(&table, &vivo.base_url());
        cfg.vendor_urls
            .push((offpush::domain::Platform::Xiaomi, xiaomi.base_url()));
        cfg.config.vendor_timeout = Duration::from_secs(5);
        cfg.config.push_deadline = Duration::from_secs(20);
        cfg.config.push_concurrency = 64;
        let ctx = testkit::context(store.clone(), &cfg);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let app = local_api::router(local_api::handlers(Arc::new(ctx)))
            .into_make_service_with_connect_info::<SocketAddr>();
        let listener = listener.tap_io(vivo_sim::nodelay);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Stack {
            front,
            table,
            store,
            base: format!("http://{addr}"),
            http,
            vivo,
            xiaomi,
            server,
        })
    }

    async fn front_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.front));
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(e) => {
                progress(format!("front {path}: {e}"));
                Value::Null
            }
        }
    }

    async fn configure_front(&self, settings: Value) {
        let mut body = settings;
        body["table"] = json!(self.table);
        let answer = self
            .front_call(reqwest::Method::POST, "/_front/config", Some(body))
            .await;
        progress(format!(
            "front settings for {}: {}",
            self.table, answer["settings"]
        ));
    }

    async fn front_stats(&self) -> Value {
        self.front_call(
            reqwest::Method::GET,
            &format!("/_front/stats?table={}&top=10", self.table),
            None,
        )
        .await
    }

    /// One API call: status (0 when no answer came) and JSON body.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(bearer);
        if let Some(b) = body {
            req = req.json(b);
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({"error": e.to_string()})),
        }
    }

    async fn flush_receipts(&self, redeliver: bool) {
        self.vivo.set_receipt_redeliver(redeliver);
        self.xiaomi.set_receipt_redeliver(redeliver);
        futures::join!(self.vivo.flush_receipts(), self.xiaomi.flush_receipts());
    }

    async fn stop(self) {
        let _ = self
            .front_call(
                reqwest::Method::POST,
                "/_front/reset",
                Some(json!({"table": self.table})),
            )
            .await;
        if let Err(e) = self.store.delete_table().await {
            progress(format!("deleting {}: {e}", self.table));
        }
        self.server.abort();
        self.vivo.shutdown().await;
        self.xiaomi.shutdown().await;
    }
}

fn xiaomi_secret(app: usize) -> String {
    format!("{}-{app:02}", testkit::XIAOMI_APP_SECRET)
}

// ---- apps, certificates, users -------------------------------------------------------

struct LoadApp {
    app: TestApp,
    name: String,
    vivo_cert: u64,
    xiaomi_cert: Option<u64>,
    /// Receipt URL -> certificate id.
    receipt_urls: HashMap<String, u64>,
    users: Vec<String>,
    /// The certificate each user binds through first.
    home: HashMap<String, u64>,
}

impl LoadApp {
    fn platform_of(&self, cert: u64) -> &'static str {
        if Some(cert) == self.xiaomi_cert {
            "xm"
        } else {
            "vivo"
        }
    }

    fn certs(&self) -> Vec<u64> {
        std::iter::once(self.vivo_cert)
            .chain(self.xiaomi_cert)
            .collect()
    }
}

/// What the run expects of the users' bindings: each user's device holds
/// at most one binding (the apps keep the default of one device per user).
#[derive(Default)]
struct Expected {
    /// user -> (certificate, token) the device last reported; None once the
    /// token moved to another user.
    current: HashMap<String, Option<(u64, String)>>,
    /// Users whose last change was not answered 200: either state is right.
    uncertain: HashSet<String>,
    /// (user, token) pairs moved away from that user.
    moved_away: Vec<(String, String)>,
}

async fn create_app(
    stack: &Stack,
    statuses: &mut Statuses,
    idx: usize,
    name: &str,
    receipts: bool,
    with_xiaomi: bool,
    users: usize,
) -> Result<LoadApp, String> {
    let app = testkit::create_app(&stack.store, name, AppSettings::default()).await;
    let admin = app.admin_token();
    let vivo_app_id = VIVO_APP_BASE + idx as u64;
    let mut body = json!({
        "platform": "vivo",
        "name": format!("vivo {name}"),
        "credentials": {"app_id": vivo_app_id.to_string(), "app_key": VIVO_APP_KEY, "app_secret": VIVO_APP_SECRET},
    });
    let receipt_id = format!("70{idx:02}");
    if receipts {
        body["receipt_id"] = json!(receipt_id);
    }
    let created = create_certificate(stack, &admin, &body, statuses)
        .await
        .map_err(|e| format!("vivo certificate for {name}: {e}"))?;
    let vivo_cert = created["id"].as_u64().unwrap_or(1);
    let mut receipt_urls = HashMap::new();
    if let Some(url) = created["receipt_url"].as_str() {
        stack
            .vivo
            .set_receipt_url(vivo_app_id, &receipt_id, url)
            .map_err(|e| e.to_string())?;
        receipt_urls.insert(url.to_string(), vivo_cert);
    }
    let mut xiaomi_cert = None;
    if with_xiaomi {
        let body = json!({
            "platform": "xiaomi",
            "name": format!("xiaomi {name}"),
            "credentials": {"app_secret": xiaomi_secret(idx), "package_name": XIAOMI_PACKAGE},
            "vendor_options": {"channel_id": XIAOMI_CHANNEL},
            "receipts": receipts,
        });
        let created = create_certificate(stack, &admin, &body, statuses)
            .await
            .map_err(|e| format!("Xiaomi certificate for {name}: {e}"))?;
        let id = created["id"].as_u64().unwrap_or(2);
        if let Some(url) = created["receipt_url"].as_str() {
            receipt_urls.insert(url.to_string(), id);
        }
        xiaomi_cert = Some(id);
    }
    let users: Vec<String> = (0..users).map(|u| format!("u{u:05}")).collect();
    let home = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let cert = match xiaomi_cert {
                Some(x) if i % 2 == 1 => x,
                _ => vivo_cert,
            };
            (u.clone(), cert)
        })
        .collect();
    Ok(LoadApp {
        app,
        name: name.to_string(),
        vivo_cert,
        xiaomi_cert,
        receipt_urls,
        users,
        home,
    })
}

/// `PUT /v1/push-token` for `user`'s device.
/// `POST /v1/certificates`: the created certificate, or the answer.
async fn create_certificate(
    stack: &Stack,
    admin: &str,
    body: &Value,
    statuses: &mut Statuses,
) -> Result<Value, String> {
    let (s, created) = stack
        .call(reqwest::Method::POST, "/v1/certificates", admin, Some(body))
        .await;
    statuses.add("certificate create", s);
    if s == 201 {
        Ok(created)
    } else {
        Err(format!("HTTP {s} {created}"))
    }
}

async fn report(stack: &Stack, app: &LoadApp, user: &str, cert: u64, token: &str) -> (u16, Value) {
    let body = json!({"certificate_id": cert, "token": token, "device_id": device_of(user)});
    stack
        .call(
            reqwest::Method::PUT,
            "/v1/push-token",
            &app.app.user_token(user),
            Some(&body),
        )
        .await
}

/// Every user of every app binds its device (up to 5 attempts each).
async fn bind_users(
    stack: &Stack,
    apps: &[LoadApp],
    concurrency: usize,
    statuses: &mut Statuses,
) -> Vec<Expected> {
    let jobs: Vec<(usize, String)> = apps
        .iter()
        .enumerate()
        .flat_map(|(a, app)| app.users.iter().map(move |u| (a, u.clone())))
        .collect();
    let results: Vec<(usize, String, u64, String, Vec<u16>)> = futures::stream::iter(jobs)
        .map(|(a, user)| async move {
            let app = &apps[a];
            let cert = app.home[&user];
            let token = new_token(app.platform_of(cert), a, &user);
            let mut seen = Vec::new();
            for _ in 0..5 {
                let (s, _) = report(stack, app, &user, cert, &token).await;
                seen.push(s);
                if s == 200 {
                    break;
                }
            }
            (a, user, cert, token, seen)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut expected: Vec<Expected> = apps.iter().map(|_| Expected::default()).collect();
    for (a, user, cert, token, seen) in results {
        for s in &seen {
            statuses.add("token report (binding the users)", *s);
        }
        if seen.last() == Some(&200) {
            expected[a].current.insert(user, Some((cert, token)));
        } else {
            expected[a].current.insert(user.clone(), None);
            expected[a].uncertain.insert(user);
        }
    }
    expected
}

// ---- the push phase ------------------------------------------------------------------

struct PushOutcome {
    app: usize,
    request_id: String,
    to: Vec<String>,
    status: u16,
    body: Value,
    latency: Duration,
}

struct Plan {
    app: usize,
    request_id: String,
    to: Vec<String>,
}

fn plan_pushes(label: &str, apps: &[LoadApp], n: usize, rng: &mut Rng) -> Vec<Plan> {
    (0..n)
        .map(|i| {
            let a = rng.below(apps.len());
            let k = 1 + rng.below(3);
            let to = rng
                .distinct(apps[a].users.len(), k)
                .into_iter()
                .map(|u| apps[a].users[u].clone())
                .collect();
            Plan {
                app: a,
                request_id: format!("load-{label}-{i:06}"),
                to,
            }
        })
        .collect()
}

async fn push(stack: &Stack, apps: &[LoadApp], plan: Plan) -> PushOutcome {
    let body = json!({
        "to": plan.to,
        "title": "你好",
        "desc": format!("第{}条消息", plan.request_id),
        "request_id": plan.request_id,
    });
    let admin = apps[plan.app].app.admin_token();
    let t = Instant::now();
    let (status, answer) = stack
        .call(reqwest::Method::POST, "/v1/push", &admin, Some(&body))
        .await;
    PushOutcome {
        app: plan.app,
        request_id: plan.request_id,
        to: plan.to,
        status,
        body: answer,
        latency: t.elapsed(),
    }
}

/// One app's token reports during the pushes, one at a time so that the
/// expected bindings follow exactly: the same token again, a new token for
/// the user's device, or a user reporting another user's token (it moves).
async fn reporter(
    stack: &Stack,
    apps: &[LoadApp],
    a: usize,
    count: usize,
    seed: u64,
    expected: &Mutex<Vec<Expected>>,
    statuses: &Mutex<Statuses>,
) {
    let app = &apps[a];
    let mut rng = Rng::new(seed ^ (a as u64 + 1).wrapping_mul(0x1000_0001));
    for _ in 0..count {
        tokio::time::sleep(Duration::from_millis(5 + rng.below(40) as u64)).await;
        let roll = rng.below(100);
        let user = app.users[rng.below(app.users.len())].clone();
        let held = expected.lock().unwrap()[a]
            .current
            .get(&user)
            .cloned()
            .flatten();
        let (kind, reporter, cert, token, from) = match (roll, held) {
            (0..=39, Some((cert, token))) => ("same token again", user, cert, token, None),
            (40..=74, held) => {
                let cert = held.map_or(app.home[&user], |(c, _)| c);
                let token = new_token(app.platform_of(cert), a, &user);
                ("new token", user, cert, token, None)
            }
            (_, Some((cert, token))) => {
                let mut other = user.clone();
                while other == user {
                    other = app.users[rng.below(app.users.len())].clone();
                }
                ("token moved", other, cert, token, Some(user))
            }
            (_, None) => {
                let cert = app.home[&user];
                let token = new_token(app.platform_of(cert), a, &user);
                ("new token", user, cert, token, None)
            }
        };
        let (s, _) = report(stack, app, &reporter, cert, &token).await;
        statuses
            .lock()
            .unwrap()
            .add(&format!("token report during the pushes: {kind}"), s);
        let mut all = expected.lock().unwrap();
        let e = &mut all[a];
        if s == 200 {
            if let Some(prev) = &from {
                e.current.insert(prev.clone(), None);
                e.moved_away.push((prev.clone(), token.clone()));
            }
            // A move also takes the token from whoever else held it.
            for (u, held) in e.current.iter_mut() {
                if *u != reporter && held.as_ref().is_some_and(|(_, t)| *t == token) {
                    *held = None;
                }
            }
            e.current.insert(reporter.clone(), Some((cert, token)));
            e.uncertain.remove(&reporter);
        } else {
            e.uncertain.insert(reporter.clone());
            if let Some(prev) = from {
                e.uncertain.insert(prev);
            }
        }
    }
}

// ---- checks --------------------------------------------------------------------------

#[derive(Default)]
struct Verdicts {
    /// One table row per invariant.
    lines: Vec<String>,
    /// Markdown shown after the table.
    details: Vec<String>,
    failed: usize,
}

impl Verdicts {
    fn add(&mut self, ok: bool, name: &str, counts: String) {
        if !ok {
            self.failed += 1;
        }
        self.lines.push(format!(
            "| {} | {name} | {counts} |",
            if ok { "PASS" } else { "**FAIL**" }
        ));
    }
}

/// The statuses an answer's summary counts.
fn summary_keys() -> [&'static str; 6] {
    offpush::domain::DeliveryStatus::ALL.map(|s| s.as_str())
}

/// The counters `GET /v1/stats` shows that the push answers sum to (all
/// but `delivered`, which receipts add).
fn stats_keys() -> Vec<&'static str> {
    offpush::store::stats::COUNTERS
        .into_iter()
        .filter(|c| *c != "delivered")
        .collect()
}

/// A push answer's or record's lines: (user, certificate, device, status).
fn lines_of(v: &Value) -> Vec<(String, u64, String, String)> {
    v["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    (
                        l["user_id"].as_str().unwrap_or("").to_string(),
                        l["certificate_id"].as_u64().unwrap_or(0),
                        l["device_id"].as_str().unwrap_or("").to_string(),
                        l["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every push answered 200 against `GET /v1/pushes/{request_id}`.
async fn check_records(
    stack: &Stack,
    apps: &[LoadApp],
    outcomes: &[PushOutcome],
    statuses: &mut Statuses,
    v: &mut Verdicts,
) {
    let ok: Vec<&PushOutcome> = outcomes.iter().filter(|o| o.status == 200).collect();
    let got: Vec<(u16, Value)> = futures::stream::iter(ok.iter())
        .map(|o| async move {
            stack
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/pushes/{}", o.request_id),
                    &apps[o.app].app.admin_token(),
                    None,
                )
                .await
        })
        .buffered(16)
        .collect()
        .await;
    let (mut missing, mut not_done, mut summary_differs, mut lines_differ) = (0, 0, 0, 0);
    let mut examples = Vec::new();
    for (o, (s, rec)) in ok.iter().zip(&got) {
        statuses.add("GET /v1/pushes/{id} (check)", *s);
        if *s != 200 {
            missing += 1;
            if examples.len() < 3 {
                examples.push(format!("`{}`: HTTP {s}", o.request_id));
            }
            continue;
        }
        if rec["state"] != "done" {
            not_done += 1;
        }
        let differs = summary_keys().iter().any(|k| {
            rec["summary"][k].as_u64().unwrap_or(0) != o.body["summary"][k].as_u64().unwrap_or(0)
        });
        if differs {
            summary_differs += 1;
            if examples.len() < 3 {
                examples.push(format!(
                    "`{}`: answered {} stored {}",
                    o.request_id, o.body["summary"], rec["summary"]
                ));
            }
        }
        if lines_of(rec) != lines_of(&o.body) {
            lines_differ += 1;
        }
    }
    let bad = missing + summary_differs + lines_differ;
    v.add(
        bad == 0,
        "every push answered 200 has its record (`GET /v1/pushes/{request_id}`): same summary, same lines' statuses",
        format!(
            "{} pushes checked; record missing {missing}, summary differs {summary_differs}, \
             lines differ {lines_differ}, state not done {not_done}{}",
            ok.len(),
            if examples.is_empty() {
                String::new()
            } else {
                format!("; e.g. {}", examples.join("; "))
            }
        ),
    );
}

/// The key under which [`stats_sum`] keeps a status other than 200.
const UNREAD: &str = "http_status";

/// Sums of the counters over `GET /v1/stats`'s days.
async fn stats_sum(
    stack: &Stack,
    app: &LoadApp,
    from: &str,
    to: &str,
    cert: Option<u64>,
    statuses: &mut Statuses,
) -> BTreeMap<String, u64> {
    let mut path = format!("/v1/stats?from={from}&to={to}");
    if let Some(c) = cert {
        path.push_str(&format!("&certificate_id={c}"));
    }
    let (s, v) = stack
        .call(reqwest::Method::GET, &path, &app.app.admin_token(), None)
        .await;
    statuses.add("GET /v1/stats (check)", s);
    let mut out = BTreeMap::new();
    if s != 200 {
        // Unreadable: every counter then differs from the answers'.
        out.insert(UNREAD.to_string(), u64::from(s));
    }
    for day in v["days"].as_array().into_iter().flatten() {
        for k in stats_keys().iter().chain(["delivered"].iter()) {
            *out.entry(k.to_string()).or_default() += day[*k].as_u64().unwrap_or(0);
        }
    }
    out
}

/// The counters the 200 answers add up to: app-wide, and per certificate.
fn answered_counts(
    outcomes: &[PushOutcome],
    app: usize,
) -> (BTreeMap<String, u64>, BTreeMap<u64, BTreeMap<String, u64>>) {
    let mut all: BTreeMap<String, u64> = BTreeMap::new();
    let mut per: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
    for o in outcomes
        .iter()
        .filter(|o| o.app == app && o.status == 200 && o.body["duplicate"] != true)
    {
        *all.entry("pushes".into()).or_default() += 1;
        *all.entry("recipients".into()).or_default() += o.to.len() as u64;
        let mut users: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        for (user, cert, _, status) in lines_of(&o.body) {
            *all.entry(status.clone()).or_default() += 1;
            if cert != 0 {
                *per.entry(cert).or_default().entry(status).or_default() += 1;
                users.entry(cert).or_default().insert(user);
            }
        }
        for (cert, users) in users {
            let row = per.entry(cert).or_default();
            *row.entry("pushes".into()).or_default() += 1;
            *row.entry("recipients".into()).or_default() += users.len() as u64;
        }
    }
    (all, per)
}

/// (vendor message id, regid) pairs of delivered receipts in POSTs the API
/// accepted, and in every POST sent, per receipt URL.
type Pairs = HashMap<String, HashSet<(String, String)>>;

fn receipt_pairs(log: &[vivo_sim::ReceiptPost], xiaomi: bool) -> (Pairs, Pairs) {
    let (mut accepted, mut sent): (Pairs, Pairs) = Default::default();
    for post in log {
        let body = if xiaomi {
            match &post.body["data"] {
                Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                _ => post.body.clone(),
            }
        } else {
            post.body.clone()
        };
        let Some(entries) = body.as_object() else {
            continue;
        };
        for (msg, entry) in entries {
            if xiaomi && !matches!(entry["type"].as_u64(), Some(1..=3)) {
                continue;
            }
            let targets = entry["targets"].as_str().unwrap_or("");
            for t in targets.split(',').filter(|t| !t.is_empty()) {
                let pair = (msg.clone(), t.to_string());
                sent.entry(post.url.clone())
                    .or_default()
                    .insert(pair.clone());
                if (200..300).contains(&post.status) {
                    accepted.entry(post.url.clone()).or_default().insert(pair);
                }
            }
        }
    }
    (accepted, sent)
}

/// What the checks and the report read back, per app.
struct Counted {
    stats_all: BTreeMap<String, u64>,
    stats_cert: BTreeMap<u64, BTreeMap<String, u64>>,
}

async fn check_stats_and_delivered(
    stack: &Stack,
    apps: &[LoadApp],
    outcomes: &[PushOutcome],
    days: (&str, &str),
    statuses: &mut Statuses,
    v: &mut Verdicts,
) -> Vec<Counted> {
    let mut counted = Vec::new();
    for app in apps {
        let stats_all = stats_sum(stack, app, days.0, days.1, None, statuses).await;
        let mut stats_cert = BTreeMap::new();
        for c in app.certs() {
            stats_cert.insert(
                c,
                stats_sum(stack, app, days.0, days.1, Some(c), statuses).await,
            );
        }
        counted.push(Counted {
            stats_all,
            stats_cert,
        });
    }

    // Reads not answered 200 count as zeros, and are named.
    let mut unreadable = Vec::new();
    for (app, c) in apps.iter().zip(&counted) {
        if let Some(st) = c.stats_all.get(UNREAD) {
            unreadable.push(format!("{} app-wide HTTP {st}", app.name));
        }
        for (cert, m) in &c.stats_cert {
            if let Some(st) = m.get(UNREAD) {
                unreadable.push(format!("{} certificate {cert} HTTP {st}", app.name));
            }
        }
    }
    let unread_note = if unreadable.is_empty() {
        String::new()
    } else {
        format!(
            "; {} `GET /v1/stats` reads not answered 200, their counters taken as 0: {}",
            unreadable.len(),
            unreadable.join(", ")
        )
    };

    // Statistics against the 200 answers, counter by counter.
    let mut rows = Vec::new();
    let (mut compared, mut differing) = (0usize, 0usize);
    let mut totals: BTreeMap<&str, [i64; 4]> = BTreeMap::new();
    let mut examples = Vec::new();
    for (a, app) in apps.iter().enumerate() {
        let (all, per) = answered_counts(outcomes, a);
        for k in stats_keys() {
            let want = all.get(k).copied().unwrap_or(0);
            let got = counted[a].stats_all.get(k).copied().unwrap_or(0);
            compared += 1;
            let t = totals.entry(k).or_default();
            t[0] += want as i64;
            t[1] += got as i64;
            if want != got {
                differing += 1;
                if examples.len() < 4 {
                    examples.push(format!("{} {k}: answers {want}, stats {got}", app.name));
                }
            }
            for c in app.certs() {
                let want = per.get(&c).and_then(|m| m.get(k)).copied().unwrap_or(0);
                let got = counted[a].stats_cert[&c].get(k).copied().unwrap_or(0);
                compared += 1;
                t[2] += want as i64;
                t[3] += got as i64;
                if want != got {
                    differing += 1;
                    if examples.len() < 4 {
                        examples.push(format!(
                            "{} certificate {c} {k}: answers {want}, stats {got}",
                            app.name
                        ));
                    }
                }
            }
        }
    }
    for (k, t) in &totals {
        rows.push(format!(
            "| {k} | {} | {} | {:+} | {} | {} | {:+} |",
            t[0],
            t[1],
            t[1] - t[0],
            t[2],
            t[3],
            t[3] - t[2]
        ));
    }
    v.add(
        differing == 0 && unreadable.is_empty(),
        "`GET /v1/stats` equals the sum of the 200 answers, each counter, app-wide and per certificate",
        format!(
            "{compared} (row, counter) pairs compared over {} app(s), {differing} differ{}{unread_note}",
            apps.len(),
            if examples.is_empty() {
                String::new()
            } else {
                format!("; e.g. {}", examples.join("; "))
            }
        ),
    );
    v.details.push(
        "Statistics against the 200 answers, summed over the apps (\"per certificate\": over \
         every certificate's rows):\n"
            .into(),
    );
    v.details.push(
        "| counter | answers (app rows) | stats (app rows) | diff | answers (certificate rows) | stats (certificate rows) | diff |"
            .into(),
    );
    v.details.push("|---|---|---|---|---|---|---|".into());
    v.details.extend(rows);

    // Delivered against the receipts the API accepted.
    let (vivo_ok, vivo_sent) = receipt_pairs(&stack.vivo.receipt_log(), false);
    let (xm_ok, xm_sent) = receipt_pairs(&stack.xiaomi.receipt_log(), true);
    let (mut want_total, mut got_total, mut sent_total, mut differing) = (0, 0, 0, 0);
    let mut examples = Vec::new();
    for (a, app) in apps.iter().enumerate() {
        let mut want_app = 0;
        for c in app.certs() {
            let urls: Vec<&String> = app
                .receipt_urls
                .iter()
                .filter(|(_, id)| **id == c)
                .map(|(u, _)| u)
                .collect();
            let count = |p: &Pairs| -> usize {
                urls.iter().map(|u| p.get(*u).map_or(0, HashSet::len)).sum()
            };
            let want = count(&vivo_ok) + count(&xm_ok);
            sent_total += count(&vivo_sent) + count(&xm_sent);
            let got = counted[a].stats_cert[&c]
                .get("delivered")
                .copied()
                .unwrap_or(0) as usize;
            want_app += want;
            if want != got {
                differing += 1;
                if examples.len() < 4 {
                    examples.push(format!(
                        "{} certificate {c}: receipts {want}, stats {got}",
                        app.name
                    ));
                }
            }
        }
        let got = counted[a].stats_all.get("delivered").copied().unwrap_or(0) as usize;
        want_total += want_app;
        got_total += got;
        if want_app != got {
            differing += 1;
            if examples.len() < 4 {
                examples.push(format!("{}: receipts {want_app}, stats {got}", app.name));
            }
        }
    }
    let posts = stack.vivo.receipt_log().len() + stack.xiaomi.receipt_log().len();
    let redelivered = stack
        .vivo
        .receipt_log()
        .iter()
        .chain(stack.xiaomi.receipt_log().iter())
        .filter(|p| p.redelivery)
        .count();
    v.add(
        differing == 0 && unreadable.is_empty(),
        "`delivered` (app-wide and per certificate) equals the distinct (message, device) pairs of receipts the API accepted",
        format!(
            "receipts accepted for {want_total} pairs ({sent_total} in every POST sent), stats \
             delivered {got_total}; {posts} receipt POSTs, {redelivered} of them redeliveries; \
             {differing} rows differ{}{unread_note}",
            if examples.is_empty() {
                String::new()
            } else {
                format!("; e.g. {}", examples.join("; "))
            }
        ),
    );
    counted
}

async fn check_bindings(
    stack: &Stack,
    apps: &[LoadApp],
    expected: &[Expected],
    dead: &HashSet<String>,
    statuses: &mut Statuses,
    v: &mut Verdicts,
) {
    let jobs: Vec<(usize, String)> = apps
        .iter()
        .enumerate()
        .flat_map(|(a, app)| app.users.iter().map(move |u| (a, u.clone())))
        .collect();
    let listed: Vec<(usize, String, u16, Value)> = futures::stream::iter(jobs)
        .map(|(a, user)| async move {
            let (s, body) = stack
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/users/{user}/devices"),
                    &apps[a].app.admin_token(),
                    None,
                )
                .await;
            (a, user, s, body)
        })
        .buffered(16)
        .collect()
        .await;
    let (mut checked, mut missing, mut stale, mut ended_ok, mut uncertain) = (0, 0, 0, 0, 0);
    let mut examples = Vec::new();
    let mut still_listed = 0;
    let mut moved_checked = 0;
    for (a, user, s, body) in &listed {
        statuses.add("GET /v1/users/{id}/devices (check)", *s);
        let e = &expected[*a];
        let devices: Vec<(u64, String)> = body["devices"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                (
                    d["certificate_id"].as_u64().unwrap_or(0),
                    d["token"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        if e.uncertain.contains(user) {
            uncertain += 1;
            continue;
        }
        for (_, token) in e.moved_away.iter().filter(|(u, _)| u == user) {
            // Unless the token came back to this user since.
            let back = e
                .current
                .get(user)
                .cloned()
                .flatten()
                .is_some_and(|(_, t)| t == *token);
            if back || dead.contains(token) {
                continue;
            }
            moved_checked += 1;
            let mask = format!("****{}", mask_tail(token));
            if devices.iter().any(|(_, t)| *t == mask) {
                still_listed += 1;
                if examples.len() < 3 {
                    examples.push(format!(
                        "{} {user}: moved token {mask} still listed",
                        apps[*a].name
                    ));
                }
            }
        }
        match e.current.get(user).cloned().flatten() {
            None => ended_ok += 1,
            Some((_, token)) if dead.contains(&token) => ended_ok += 1,
            Some((cert, token)) => {
                checked += 1;
                let mask = format!("****{}", mask_tail(&token));
                if *s != 200 || devices.is_empty() {
                    missing += 1;
                    if examples.len() < 3 {
                        examples.push(format!(
                            "{} {user}: {mask} through certificate {cert} not listed (HTTP {s})",
                            apps[*a].name
                        ));
                    }
                } else if !devices.iter().any(|(c, t)| *c == cert && *t == mask) {
                    stale += 1;
                    if examples.len() < 3 {
                        examples.push(format!(
                            "{} {user}: expected {mask} through certificate {cert}, listed {devices:?}",
                            apps[*a].name
                        ));
                    }
                }
            }
        }
    }
    v.add(
        missing + stale == 0,
        "every binding not legitimately ended is listed by `GET /v1/users/{user_id}/devices`",
        format!(
            "{checked} bindings checked: {missing} not listed, {stale} listed with another token; \
             {ended_ok} users skipped (token moved away or dead at the vendor), {uncertain} \
             skipped (their last report was not answered 200){}",
            if examples.is_empty() {
                String::new()
            } else {
                format!("; e.g. {}", examples.join("; "))
            }
        ),
    );
    v.add(
        still_listed == 0,
        "a token that moved to another user is no longer listed under the user it left",
        format!("{moved_checked} moves checked, {still_listed} still listed under the old user"),
    );
}

// ---- one scenario ----------------------------------------------------------------------

struct RunReport {
    markdown: String,
    failed: usize,
}

async fn run(scenario: Scenario, s: &Settings) -> Result<RunReport, String> {
    let (label, n_apps, users_per_app, receipts) = match scenario {
        Scenario::A => ("a", 1, s.users, false),
        Scenario::B => ("b", s.apps, s.users_per_app, true),
    };
    let mut md = String::new();
    let started = Instant::now();
    let stack = Stack::start(label, s, n_apps).await?;
    let mut statuses = Statuses::default();
    progress(format!(
        "scenario {label}: table {} on {}, API at {}",
        stack.table, stack.front, stack.base
    ));

    // Apps and certificates, before the front's faults are on.
    let mut apps = Vec::new();
    for i in 0..n_apps {
        let name = format!("load-{label}{i:02}");
        let with_xiaomi = scenario == Scenario::B && i % 2 == 1;
        apps.push(
            create_app(
                &stack,
                &mut statuses,
                i,
                &name,
                receipts,
                with_xiaomi,
                users_per_app,
            )
            .await?,
        );
    }
    let mut front = json!({
        "conflicts": true,
        "latency_ms": s.latency_ms,
        "transaction_latency_ms": s.transaction_latency_ms,
        "lose_probability": s.lose_probability,
        "lose_mode": "close",
        "idempotency": s.idempotency,
    });
    if let Some(rate) = s.write_rate {
        front["write_rate"] = json!(rate);
    }
    stack.configure_front(front.clone()).await;

    let t = Instant::now();
    let expected = bind_users(&stack, &apps, s.concurrency, &mut statuses).await;
    let bind_time = t.elapsed();
    progress(format!(
        "bound {} users in {:.1} s",
        apps.iter().map(|a| a.users.len()).sum::<usize>(),
        bind_time.as_secs_f64()
    ));

    // Dead tokens (scenario b): the vendors say so from now on.
    let mut rng = Rng::new(s.seed.wrapping_add(label.len() as u64 * 7919));
    let mut dead = HashSet::new();
    if scenario == Scenario::B {
        for (a, app) in apps.iter().enumerate() {
            for user in &app.users {
                if !rng.chance(s.dead_share) {
                    continue;
                }
                if let Some((cert, token)) = expected[a].current.get(user).cloned().flatten() {
                    if Some(cert) == app.xiaomi_cert {
                        stack
                            .xiaomi
                            .set_reg_id(&token, xiaomi_sim::RegIdVerdict::Invalid);
                    } else {
                        stack
                            .vivo
                            .set_reg_id(&token, vivo_sim::RegIdVerdict::Invalid { status: 1 });
                    }
                    dead.insert(token);
                }
            }
        }
    }

    let plans = plan_pushes(label, &apps, s.pushes, &mut rng);
    let expected = Mutex::new(expected);
    let shared_statuses = Mutex::new(Statuses::default());
    let pushing = AtomicBool::new(true);
    let day_from = today();
    let t = Instant::now();
    let reports_per_app = if scenario == Scenario::B {
        s.reports.div_ceil(n_apps)
    } else {
        0
    };
    let pushes = async {
        let out: Vec<PushOutcome> = futures::stream::iter(plans)
            .map(|p| push(&stack, &apps, p))
            .buffer_unordered(s.concurrency)
            .collect()
            .await;
        pushing.store(false, Ordering::Relaxed);
        out
    };
    let reporters = futures::future::join_all((0..n_apps).map(|a| {
        reporter(
            &stack,
            &apps,
            a,
            reports_per_app,
            s.seed,
            &expected,
            &shared_statuses,
        )
    }));
    // Every other second, the simulators redeliver each receipt POST the
    // API accepts.
    let redeliveries = async {
        let mut turns = 0u32;
        while receipts && pushing.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            turns += 1;
            let on = (turns / 10) % 2 == 1;
            stack.vivo.set_receipt_redeliver(on);
            stack.xiaomi.set_receipt_redeliver(on);
        }
    };
    let (outcomes, _, _) = futures::join!(pushes, reporters, redeliveries);
    let push_time = t.elapsed();
    // The last receipts: every delivery's, each POST redelivered once more.
    if receipts {
        stack.flush_receipts(true).await;
    }
    let day_to = today();
    progress(format!(
        "{} pushes in {:.1} s; checking",
        outcomes.len(),
        push_time.as_secs_f64()
    ));
    let front_stats = stack.front_stats().await;
    // The checks read at full speed.
    stack
        .configure_front(
            json!({"latency_ms": 0, "transaction_latency_ms": null, "lose_probability": 0.0}),
        )
        .await;
    let expected = expected.into_inner().unwrap();
    for (kind, m) in shared_statuses.into_inner().unwrap().0 {
        for (status, n) in m {
            for _ in 0..n {
                statuses.add(&kind, status);
            }
        }
    }
    for o in &outcomes {
        statuses.add("POST /v1/push", o.status);
    }
    for p in stack.vivo.receipt_log() {
        statuses.add("receipt POST (vivo simulator)", p.status);
    }
    for p in stack.xiaomi.receipt_log() {
        statuses.add("receipt POST (Xiaomi simulator)", p.status);
    }

    let mut verdicts = Verdicts::default();
    check_records(&stack, &apps, &outcomes, &mut statuses, &mut verdicts).await;
    let counted = check_stats_and_delivered(
        &stack,
        &apps,
        &outcomes,
        (&day_from, &day_to),
        &mut statuses,
        &mut verdicts,
    )
    .await;
    check_bindings(
        &stack,
        &apps,
        &expected,
        &dead,
        &mut statuses,
        &mut verdicts,
    )
    .await;

    // ---- the report ----
    let title = match scenario {
        Scenario::A => format!(
            "Scenario a: one app, one vivo certificate, {} users, {} pushes, {} at a time",
            s.users, s.pushes, s.concurrency
        ),
        Scenario::B => format!(
            "Scenario b: {n_apps} apps (vivo with receipts; Xiaomi with receipts on every other \
             app), {users_per_app} users each, {} pushes, {} at a time, {} token reports, \
             receipts posted {RECEIPT_FLUSH_MS} ms after the first queued",
            s.pushes,
            s.concurrency,
            reports_per_app * n_apps
        ),
    };
    let _ = writeln!(md, "## {title}\n");
    let _ = writeln!(
        md,
        "DynamoDB emulator front, table `{}`: {front}. Simulators answer {} ms late. \
         {} of the users' tokens dead at the vendor. Binding the users: {:.1} s. Pushes: \
         {:.1} s. Whole scenario: {:.1} s.\n",
        stack.table,
        s.sim_latency_ms,
        dead.len(),
        bind_time.as_secs_f64(),
        push_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    report_throughput(&mut md, &apps, &outcomes, push_time);
    report_statuses(&mut md, &statuses);
    report_refused_pushes(&mut md, &outcomes);
    report_front(&mut md, &apps, &outcomes, &front_stats);
    report_totals(&mut md, &apps, &counted);
    let _ = writeln!(md, "### Invariants\n");
    let _ = writeln!(md, "| result | invariant | counts |");
    let _ = writeln!(md, "|---|---|---|");
    for l in &verdicts.lines {
        let _ = writeln!(md, "{l}");
    }
    let _ = writeln!(md);
    for l in &verdicts.details {
        let _ = writeln!(md, "{l}");
    }
    let _ = writeln!(md);
    let failed = verdicts.failed;
    stack.stop().await;
    Ok(RunReport {
        markdown: md,
        failed,
    })
}

fn report_throughput(md: &mut String, apps: &[LoadApp], outcomes: &[PushOutcome], took: Duration) {
    let secs = took.as_secs_f64().max(1e-9);
    let _ = writeln!(md, "### Throughput and push latency\n");
    let _ = writeln!(
        md,
        "Client-side, request sent to answer read; pushes/s counts the pushes answered 200 over \
         the push phase's wall time.\n"
    );
    let _ = writeln!(
        md,
        "| | pushes | answered 200 | pushes/s | p50 ms | p99 ms | max ms |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    let row = |md: &mut String, name: &str, of: Vec<&PushOutcome>| {
        let ok = of.iter().filter(|o| o.status == 200).count();
        let mut lat: Vec<Duration> = of.iter().map(|o| o.latency).collect();
        lat.sort();
        let _ = writeln!(
            md,
            "| {name} | {} | {ok} | {:.1} | {:.0} | {:.0} | {:.0} |",
            of.len(),
            ok as f64 / secs,
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(lat.last().copied().unwrap_or_default())
        );
    };
    row(md, "**whole stack**", outcomes.iter().collect());
    for (a, app) in apps.iter().enumerate() {
        row(
            md,
            &format!("app `{}`", app.name),
            outcomes.iter().filter(|o| o.app == a).collect(),
        );
    }
    let _ = writeln!(md);
}

/// The pushes not answered 200, by status and error code, with examples.
/// Each request id was sent once, so no answer is a repeat's.
fn report_refused_pushes(md: &mut String, outcomes: &[PushOutcome]) {
    let mut by: BTreeMap<(u16, String), Vec<&PushOutcome>> = BTreeMap::new();
    for o in outcomes.iter().filter(|o| o.status != 200) {
        let code = o.body["error"]["code"]
            .as_str()
            .map_or_else(|| o.body["error"].to_string(), str::to_string);
        by.entry((o.status, code)).or_default().push(o);
    }
    if by.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "Pushes not answered 200 (each `request_id` was sent once):\n"
    );
    let _ = writeln!(
        md,
        "| status | error code | pushes | latency p50 ms | e.g. |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    for ((status, code), of) in &by {
        let mut lat: Vec<Duration> = of.iter().map(|o| o.latency).collect();
        lat.sort();
        let first = of[0];
        let message = first.body["error"]["message"].as_str().unwrap_or("");
        let _ = writeln!(
            md,
            "| {status} | {code} | {} | {:.0} | `{}`: {} |",
            of.len(),
            ms(percentile(&lat, 0.5)),
            first.request_id,
            message.replace('|', "\\|")
        );
    }
    let _ = writeln!(md);
}

fn report_statuses(md: &mut String, statuses: &Statuses) {
    let _ = writeln!(md, "### Answers by status code\n");
    let _ = writeln!(
        md,
        "0 is no answer (connection error or the client's 60 s timeout).\n"
    );
    let _ = writeln!(md, "| requests | answers | not 2xx |");
    let _ = writeln!(md, "|---|---|---|");
    for (kind, m) in &statuses.0 {
        let parts: Vec<String> = m.iter().map(|(s, n)| format!("{s} ×{n}")).collect();
        let _ = writeln!(
            md,
            "| {kind} | {} | {} |",
            parts.join(", "),
            statuses.failed(kind)
        );
    }
    let _ = writeln!(md);
}

fn report_front(md: &mut String, apps: &[LoadApp], outcomes: &[PushOutcome], stats: &Value) {
    let n = |k: &str| stats[k].as_u64().unwrap_or(0);
    let ops = |k: &str| {
        stats[k]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(op, v)| format!("{op} {}", v.as_u64().unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let _ = writeln!(md, "### The DynamoDB front\n");
    let _ = writeln!(md, "| counter | value |");
    let _ = writeln!(md, "|---|---|");
    let _ = writeln!(md, "| requests | {} |", ops("requests"));
    let _ = writeln!(md, "| applied (moto answered 2xx) | {} |", ops("applied"));
    for k in [
        "conflicts",
        "throttles",
        "unprocessed_entries",
        "lost_responses",
        "idempotent_replays",
        "idempotent_mismatches",
        "transactions_in_progress",
    ] {
        let _ = writeln!(md, "| {k} | {} |", n(k));
    }
    let _ = writeln!(md);

    // Pushes sent per app, to put an app's item's writes per push.
    let mut per_app: HashMap<&str, usize> = HashMap::new();
    for o in outcomes {
        *per_app.entry(apps[o.app].name.as_str()).or_default() += 1;
    }
    let pushes_for = |key: &Value| -> (usize, String) {
        let pk = key["pk"].as_str().unwrap_or("");
        for seg in pk.split('#') {
            if let Some(n) = per_app.get(seg) {
                return (*n, format!("app `{seg}`'s pushes"));
            }
        }
        (outcomes.len(), "all pushes".into())
    };
    let hot = stats["hot_items"]["by_writes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let _ = writeln!(
        md,
        "### Hottest items by writes (front's trace, top {})\n",
        hot.len()
    );
    let _ = writeln!(
        md,
        "Writes the front admitted (each TransactWriteItems item, each batch entry, each single \
         write; retries of a lost response included), of them transactional, reads, and writes \
         per push sent (through the item's app when its key names one).\n"
    );
    let _ = writeln!(
        md,
        "| item (pk / sk) | writes | transactional | reads | writes per push |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    for e in &hot {
        let (pushes, _) = pushes_for(&e["key"]);
        let _ = writeln!(
            md,
            "| `{}` / `{}` | {} | {} | {} | {:.2} |",
            e["key"]["pk"].as_str().unwrap_or(""),
            e["key"]["sk"].as_str().unwrap_or(""),
            e["writes"],
            e["transactional_writes"],
            e["reads"],
            e["writes"].as_f64().unwrap_or(0.0) / pushes.max(1) as f64
        );
    }
    let _ = writeln!(md);
    if let Some(top) = hot.first() {
        let (pushes, over) = pushes_for(&top["key"]);
        let writes = top["writes"].as_f64().unwrap_or(0.0);
        let txn = top["transactional_writes"].as_f64().unwrap_or(0.0);
        let per_push = writes / pushes.max(1) as f64;
        let units_per_push = (2.0 * txn + (writes - txn)) / pushes.max(1) as f64;
        let units_per_s = units_per_push * TARGET_PUSHES_PER_S;
        let _ = writeln!(
            md,
            "**Hottest item:** `{}` / `{}`: {writes:.0} writes over {pushes} pushes ({over}), \
             {per_push:.2} writes per push, {txn:.0} of them transactional. At {:.0} pushes/s \
             per app that is {:.0} writes/s on this one item, {units_per_s:.0} write units/s \
             (a transactional write costs 2 units, any other 1, for an item up to 1 KB) against \
             DynamoDB's documented {:.0} write units/s for one partition, and so for one \
             item: {}.\n",
            top["key"]["pk"].as_str().unwrap_or(""),
            top["key"]["sk"].as_str().unwrap_or(""),
            TARGET_PUSHES_PER_S,
            per_push * TARGET_PUSHES_PER_S,
            ITEM_WRITE_UNITS_PER_S,
            if units_per_s > ITEM_WRITE_UNITS_PER_S {
                format!(
                    "{:.1}x the limit, so DynamoDB would throttle it (the most one item allows is \
                     about {:.0} pushes/s per app)",
                    units_per_s / ITEM_WRITE_UNITS_PER_S,
                    ITEM_WRITE_UNITS_PER_S / units_per_push.max(1e-9)
                )
            } else {
                format!(
                    "{:.0}% of the limit",
                    100.0 * units_per_s / ITEM_WRITE_UNITS_PER_S
                )
            }
        );
    }
}

fn report_totals(md: &mut String, apps: &[LoadApp], counted: &[Counted]) {
    let _ = writeln!(md, "### `GET /v1/stats` over the run's days\n");
    let _ = writeln!(md, "| app | {} | delivered |", stats_keys().join(" | "));
    let _ = writeln!(md, "|---|{}---|", "---|".repeat(stats_keys().len()));
    for (app, c) in apps.iter().zip(counted) {
        let cells: Vec<String> = stats_keys()
            .iter()
            .map(|k| c.stats_all.get(*k).copied().unwrap_or(0).to_string())
            .collect();
        let _ = writeln!(
            md,
            "| `{}`{} | {} | {} |",
            app.name,
            c.stats_all
                .get(UNREAD)
                .map_or_else(String::new, |st| format!(" (answered HTTP {st})")),
            cells.join(" | "),
            c.stats_all.get("delivered").copied().unwrap_or(0)
        );
    }
    let _ = writeln!(md);
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::parse() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# offpush under load (local stack)\n\n`{}`{}: the real HTTP API (tools/local-api, in \
         process) on the DynamoDB emulator's front and the vivo and Xiaomi simulators, all on \
         loopback on this machine. Figures compare runs of this tool with each other, not with \
         AWS; the invariants hold or not whatever the machine.\n",
        std::env::args().collect::<Vec<_>>().join(" "),
        if settings.smoke {
            " with LOAD_SMOKE=1 (tiny sizes: the figures mean nothing)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        md,
        "Front settings per table: conflicts on, latency {} ms ({} ms for transactions), \
         responses of writes lost with probability {} (connection closed after the write \
         committed), ClientRequestToken idempotency {}, throttling {}.\n",
        settings.latency_ms,
        settings.transaction_latency_ms,
        settings.lose_probability,
        if settings.idempotency { "on" } else { "off" },
        match settings.write_rate {
            Some(r) => format!("at {r} writes/s per item"),
            None => "off".into(),
        }
    );
    let mut failed = 0;
    for scenario in settings.scenarios.clone() {
        match run(scenario, &settings).await {
            Ok(r) => {
                md.push_str(&r.markdown);
                failed += r.failed;
            }
            Err(e) => {
                eprintln!("load: scenario {scenario:?}: {e}");
                let _ = writeln!(md, "## Scenario {scenario:?}: could not run: {e}\n");
                failed += 1;
            }
        }
    }
    let _ = writeln!(
        md,
        "{} invariant{} failed.",
        if failed == 0 {
            "No".to_string()
        } else {
            failed.to_string()
        },
        if failed == 1 { "" } else { "s" }
    );
    match &settings.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &md) {
                eprintln!("load: writing {path}: {e}");
                return ExitCode::from(2);
            }
        }
        None => print!("{md}"),
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
