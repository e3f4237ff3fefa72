//! offpush figures, printed as markdown (never asserted): DynamoDB requests
//! and request units per push, fan-out with injected vivo latency against a
//! one-send-per-device baseline, and warm latencies through the handlers and
//! through the native runner (tools/local-api over loopback HTTP). Against
//! the local DynamoDB emulator and the vivo simulator, release build. Run by
//! scripts/bench.sh (it starts the emulator and writes BENCHMARKS.md).
//!
//! Latencies here are of this machine's emulator, not of AWS: they compare
//! versions of offpush with each other and with the baseline of the same run.
//!
//! `BENCH_SMOKE=1` runs every section at a tiny size (CI keeps the command
//! working; its figures mean nothing).

use offpush::domain::{ClickAction, PushMode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::*;
use vivo_sim::CallAction;

/// The markdown written so far (stdout also carries the functions' metric
/// lines, so the report goes to its own file).
static OUT: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

macro_rules! md {
    ($($arg:tt)*) => {{
        use std::fmt::Write as _;
        let mut out = OUT.lock().unwrap();
        writeln!(out, $($arg)*).unwrap();
    }};
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn smoke() -> bool {
    std::env::var("BENCH_SMOKE").is_ok_and(|v| v == "1")
}

/// `n`, or a tiny stand-in in a smoke run.
fn size(n: usize) -> usize {
    if smoke() {
        n.clamp(1, 3)
    } else {
        n
    }
}

async fn push_ok(env: &TestEnv, body: &Value) -> Value {
    let (s, r) = read(
        push_dispatch::handle(
            &env.ctx,
            request("POST", "/v1/push", Some(&env.app.admin_token()), Some(body)),
        )
        .await,
    );
    assert_eq!(s, 200, "{r}");
    r
}

/// The push's DynamoDB requests, by operation, and their number.
async fn counted(env: &TestEnv, body: &Value) -> (Value, Vec<String>) {
    env.actions.clear();
    let r = push_ok(env, body).await;
    (r, env.actions.requests())
}

fn breakdown(requests: &[String]) -> String {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for r in requests {
        *by.entry(r.as_str()).or_default() += 1;
    }
    by.iter()
        .map(|(op, n)| format!("{n} {op}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// DynamoDB's item size: attribute names plus values (numbers about one
/// byte per two digits plus one).
fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &aws_sdk_dynamodb::types::AttributeValue) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    match v {
        A::S(s) => s.len(),
        A::N(n) => n.len().div_ceil(2) + 1,
        A::B(b) => b.as_ref().len(),
        A::Ss(v) => v.iter().map(String::len).sum(),
        A::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        A::Bool(_) | A::Null(_) => 1,
        A::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| k.len() + value_size(v) + 1)
                .sum::<usize>()
        }
        A::L(l) => 3 + l.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        _ => 0,
    }
}

struct Units {
    read: f64,
    write: f64,
    lines: Vec<String>,
}

/// Request units of one warm one-recipient push, computed from the sizes
/// of the items it read and wrote (the emulator's ConsumedCapacity is not
/// DynamoDB's): strongly consistent reads, 4 KB per read unit (a Query sums
/// its items first); writes 1 KB per unit, doubled inside a transaction.
async fn units_of_one_push(
    env: &TestEnv,
    before: &[std::collections::BTreeMap<String, aws_sdk_dynamodb::types::AttributeValue>],
    request_id: &str,
) -> Units {
    let after = env.table_items().await;
    let app_id = env.app.id.as_str().to_string();
    let push_pk = format!(
        "PUSH#{app_id}#{}",
        offpush::store::keys::push_ref(request_id)
    );
    let mut u = Units {
        read: 0.0,
        write: 0.0,
        lines: Vec::new(),
    };
    let old: std::collections::HashMap<(String, String), &std::collections::BTreeMap<_, _>> =
        before.iter().map(|i| (item_key(i), i)).collect();
    for item in &after {
        let (pk, sk) = item_key(item);
        let bytes = item_size(item);
        let mut read = |what: &str| {
            let r = bytes.div_ceil(4096) as f64;
            u.read += r;
            u.lines
                .push(format!("| {what} | read | {bytes} B | {r} RRU |"));
        };
        if pk == format!("USER#{app_id}#bench-user") && sk == "#BINDINGS" {
            read("user's bindings (BatchGetItem)");
        } else if pk == format!("CERT#{app_id}") && sk == offpush::store::keys::CERT_VERSION_SK {
            read("certificate set's version (GetItem; the set itself is cached while it is unchanged)");
        }
        // What the push wrote: the items it created or changed. An update
        // is billed on the larger of the item's sizes before and after.
        let was = old.get(&(pk.clone(), sk.clone()));
        if was.is_some_and(|w| *w == item) {
            continue;
        }
        let billed = bytes.max(was.map_or(0, |w| item_size(w)));
        let (what, factor) = if pk == push_pk {
            ("push record (transaction)", 2.0)
        } else if pk.starts_with("STATS#") {
            ("one statistics row of 32 (transaction)", 2.0)
        } else if pk == format!("USER#{app_id}#bench-user") && sk.starts_with("LOG#") {
            ("push log entry (BatchWriteItem)", 1.0)
        } else {
            ("other item written", 1.0)
        };
        let w = factor * billed.div_ceil(1024) as f64;
        u.write += w;
        u.lines
            .push(format!("| {what} | write | {billed} B | {w} WRU |"));
    }
    u.lines
        .push("| app item | read | (cached per instance for 10 s) | 0 RRU |".to_string());
    u
}

async fn section_requests(env: &TestEnv) -> Units {
    md!("## DynamoDB requests per push (counted)\n");
    md!(
        "Counted through a recording client: every request the code sent (an SDK retry of one is \
         not another). Warm: the instance already holds the vivo authToken and its vendor-state \
         read is under 5 s old. Goals: at most 4 for one recipient, at most 15 for 1000.\n"
    );
    md!("| push | requests | of which |");
    md!("|---|---|---|");
    env.bind(1, "bench-user", "regid-bench-user", None).await;
    let one = json!({"to": ["bench-user"], "desc": "bench"});
    let (_, cold) = counted(env, &one).await;
    md!(
        "| 1 recipient, first push of an instance | {} | {} |",
        cold.len(),
        breakdown(&cold)
    );
    let before = env.table_items().await;
    let (r, warm) = counted(env, &one).await;
    md!(
        "| 1 recipient, warm | {} | {} |",
        warm.len(),
        breakdown(&warm)
    );
    let units = units_of_one_push(env, &before, r["request_id"].as_str().unwrap()).await;
    let with_id = json!({"to": ["bench-user"], "desc": "bench", "request_id": "bench-req-1"});
    let (_, given) = counted(env, &with_id).await;
    md!(
        "| 1 recipient, warm, caller's request_id | {} | {} |",
        given.len(),
        breakdown(&given)
    );
    let n = size(1000);
    let users = env.seed_users(n, "u", 1).await;
    let many = json!({"to": users, "desc": "bench"});
    push_ok(env, &many).await;
    let (_, thousand) = counted(env, &many).await;
    let log = thousand.iter().filter(|r| *r == "BatchWriteItem").count();
    md!(
        "| {n} recipients, warm | {} | {} |",
        thousand.len(),
        breakdown(&thousand)
    );
    md!(
        "| {n} recipients, warm, without the push log's batch | {} | the push log: {log} BatchWriteItem of its bucket items (25 buckets, users hashed to them) |",
        thousand.len() - log,
    );
    md!("\n### Request units of a warm one-recipient push (computed)\n");
    md!(
        "The emulator's ConsumedCapacity is not DynamoDB's, so units are computed from the sizes of \
         the items the push read and the items it created or changed (compared before and after): \
         strongly consistent reads at 4 KB per read unit, writes at 1 KB per write unit (an \
         update on the larger of the item's sizes), doubled in a transaction.\n"
    );
    md!("| item | kind | size | units |");
    md!("|---|---|---|---|");
    for l in &units.lines {
        md!("{l}");
    }
    md!(
        "| **total** | | | **{} RRU, {} WRU** |\n",
        units.read,
        units.write
    );
    units
}

/// Every vivo path answers `delay` later (a sticky action), or at once.
fn vivo_latency(env: &TestEnv, delay: Option<Duration>) {
    for path in [
        "/message/auth",
        "/message/send",
        "/message/saveListPayload",
        "/message/pushToList",
    ] {
        env.sim.script_always(path, delay.map(CallAction::Delay));
    }
}

/// A table of its own with the bench's certificate and `n` users.
async fn fresh_env(label: &str, users: usize) -> (TestEnv, Vec<String>) {
    let mut env = TestEnv::new(label).await;
    env.ctx.push_concurrency = PUSH_CONCURRENCY;
    env.add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    let users = env.seed_users(users, "f", 1).await;
    (env, users)
}

async fn section_fanout() {
    md!("## Fan-out with 20 ms of vivo latency\n");
    md!(
        "Every vivo call answers 20 ms late (the simulator's sticky delay). Batched: offpush as \
         shipped (`ttl_seconds` 86400: one saveListPayload and one pushToList per 1000 devices). \
         Baseline, batching off: `ttl_seconds` 600, which offpush sends device by device through \
         `/message/send` (vivo lists cannot carry a TTL under 900 s), i.e. what a per-endpoint \
         service such as SNS mobile push does, at offpush's default bound of {PUSH_CONCURRENCY} \
         calls in flight. Each size runs on a table of its own holding its users (the emulator's \
         Query sorts a whole table, a cost DynamoDB does not have); 10 000 \
         recipients are ten 1000-user calls in a row over the same 1000 users. DynamoDB requests \
         include the push log (one BatchWriteItem of bucket items for a push to more than 97 users). Goals: 1000 recipients under 1 s \
         end to end, at most 3 vivo calls per 1000.\n"
    );
    md!("| recipients | mode | vivo calls | DynamoDB requests | wall ms | vivo calls per 1000 | wall vs batched |");
    md!("|---|---|---|---|---|---|---|");
    for (n, calls) in [(1usize, 1usize), (100, 1), (1000, 1), (10_000, 10)] {
        let per_call = size(n / calls);
        let (env, users) = fresh_env(&format!("bench-fanout-{n}"), per_call).await;
        // One push first, so neither mode pays the authToken fetch.
        push_ok(&env, &json!({"to": [users[0]], "desc": "warm"})).await;
        let mut batched_ms = 0.0;
        for (mode, ttl) in [("batched", 86_400), ("batching off", 600)] {
            env.sim.reset();
            vivo_latency(&env, Some(Duration::from_millis(20)));
            env.actions.clear();
            let started = Instant::now();
            let mut sent = 0;
            for _ in 0..size(calls) {
                let body = json!({"to": users, "desc": "bench", "ttl_seconds": ttl});
                sent += push_ok(&env, &body).await["summary"]["sent"]
                    .as_u64()
                    .unwrap();
            }
            let wall = ms(started.elapsed());
            let vivo = env
                .sim
                .requests()
                .iter()
                .filter(|r| r.path.starts_with("/message/"))
                .count();
            let total = per_call * size(calls);
            assert_eq!(sent as usize, total, "every device sent");
            if mode == "batched" {
                batched_ms = wall;
            }
            md!(
                "| {total} | {mode} | {vivo} | {} | {wall:.0} | {:.1} | {:.1}x |",
                env.actions.requests().len(),
                vivo as f64 * 1000.0 / total as f64,
                wall / batched_ms
            );
        }
        let _ = env.store.delete_table().await;
    }
    md!("");
}

fn row(name: &str, samples: &mut [Duration]) {
    samples.sort();
    md!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} |",
        samples.len(),
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.99)),
        ms(*samples.last().unwrap())
    );
}

/// One request through the native runner, answered 200, body read: its time.
async fn timed(req: reqwest::RequestBuilder) -> Duration {
    let t = Instant::now();
    let r = req.send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.bytes().await.unwrap();
    t.elapsed()
}

async fn serve_native(env: &TestEnv) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = local_api::router(local_api::handlers(Arc::new(env.ctx.clone())));
    let listener = axum::serve::ListenerExt::tap_io(listener, vivo_sim::nodelay);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Warm latencies; answers the one-recipient push's p50 through the native
/// runner (the cost model's duration).
async fn section_latency(env: &TestEnv) -> Duration {
    let n = size(200);
    md!("## Warm latency, ms\n");
    md!(
        "{n} sequential requests each, after 10 unmeasured ones. Token report: a re-report with a \
         new token (the kick-out path: the heaviest report). Push: one recipient with one device, \
         no request_id. \"handler\": the function's handler called in-process; \"native runner\": \
         tools/local-api (what ./scripts/run-local.sh serves without Docker) over loopback HTTP \
         with a keep-alive client; the four kinds of request alternate. `sam local start-api` figures are in the Lambda section.\n"
    );
    md!("| request | n | p50 | p99 | max |");
    md!("|---|---|---|---|---|");
    let user = env.app.user_token("lat-user");
    let admin = env.app.admin_token();
    let report = |i: usize| json!({"certificate_id": 1, "token": format!("regid-lat-{i}"), "device_id": "phone"});
    let push_body = json!({"to": ["lat-user"], "desc": "hi"});
    let base = serve_native(env).await;
    let http = offpush::tls::client();
    let (mut token_h, mut push_h, mut token_n, mut push_n) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Handler and native runner requests alternate: every push and report
    // adds items, and the emulator's cost grows with its table, so both
    // paths are measured over the same table sizes.
    for i in 0..n + 10 {
        let t = Instant::now();
        let req = request("PUT", "/v1/push-token", Some(&user), Some(&report(2 * i)));
        assert_eq!(read(token_report::handle(&env.ctx, req).await).0, 200);
        let token = t.elapsed();
        let t = Instant::now();
        push_ok(env, &push_body).await;
        let push = t.elapsed();
        let report = http
            .put(format!("{base}/v1/push-token"))
            .bearer_auth(&user)
            .json(&report(2 * i + 1));
        let native_token = timed(report).await;
        let native_push = timed(
            http.post(format!("{base}/v1/push"))
                .bearer_auth(&admin)
                .json(&push_body),
        )
        .await;
        if i >= 10 {
            token_h.push(token);
            push_h.push(push);
            token_n.push(native_token);
            push_n.push(native_push);
        }
    }
    row("PUT /v1/push-token, handler", &mut token_h);
    row("POST /v1/push (1 recipient), handler", &mut push_h);
    row("PUT /v1/push-token, native runner", &mut token_n);
    row("POST /v1/push (1 recipient), native runner", &mut push_n);
    md!("");
    push_n.sort();
    percentile(&push_n, 0.5)
}

/// AWS list prices (us-east-1, on-demand, as published in 2025) the cost
/// model uses; BENCHMARKS.md prints them with the arithmetic.
/// REST API requests (the first 333 M a month); an HTTP API would be $1.00, but it
/// has no gateway responses (template.yaml).
const API_GW_REST_PER_M: f64 = 3.50;
const LAMBDA_REQ_PER_M: f64 = 0.20;
const LAMBDA_GB_S_X86: f64 = 0.000_016_666_7;
const LAMBDA_GB_S_ARM: f64 = 0.000_013_333_4;
const DDB_WRU_PER_M: f64 = 0.625;
const DDB_RRU_PER_M: f64 = 0.125;
const SNS_MOBILE_PER_M: f64 = 0.50;
/// template.yaml's MemorySize.
const MEMORY_MB: f64 = 256.0;
/// offpush's default `PUSH_CONCURRENCY` (the tests' context uses fewer).
const PUSH_CONCURRENCY: usize = 8;

fn section_cost(units: &Units, push_p50: Duration) {
    let duration_ms = ms(push_p50).ceil();
    let gb_s = MEMORY_MB / 1024.0 * duration_ms / 1000.0;
    let lambda_x86 = LAMBDA_REQ_PER_M + gb_s * 1e6 * LAMBDA_GB_S_X86;
    let lambda_arm = LAMBDA_REQ_PER_M + gb_s * 1e6 * LAMBDA_GB_S_ARM;
    let ddb = units.write * DDB_WRU_PER_M + units.read * DDB_RRU_PER_M;
    let total_x86 = API_GW_REST_PER_M + lambda_x86 + ddb;
    let total_arm = API_GW_REST_PER_M + lambda_arm + ddb;
    md!("## Cost model: dollars per million one-recipient pushes\n");
    md!(
        "AWS list prices, us-east-1, on-demand (2025): API Gateway REST API ${API_GW_REST_PER_M:.2} \
         per million requests (first 333 M a month); Lambda ${LAMBDA_REQ_PER_M:.2} per million \
         requests plus ${LAMBDA_GB_S_X86} per GB-second on x86_64 (${LAMBDA_GB_S_ARM} on arm64); \
         DynamoDB on-demand ${DDB_WRU_PER_M} per million write request units and \
         ${DDB_RRU_PER_M} per million read request units. Duration: the warm one-recipient push's \
         p50 through the native runner above, {duration_ms:.0} ms (this machine's emulator and \
         simulator stand in for DynamoDB and vivo; on AWS the round trips are shorter), billed at \
         the template's {MEMORY_MB:.0} MB. Units: the computed ones above. Free tiers, data \
         transfer and CloudWatch Logs are left out.\n"
    );
    md!("| part | arithmetic | $ per million pushes |");
    md!("|---|---|---|");
    md!("| API Gateway REST API | 1 request x ${API_GW_REST_PER_M:.2} | {API_GW_REST_PER_M:.3} |");
    md!(
        "| Lambda x86_64 | ${LAMBDA_REQ_PER_M:.2} + {MEMORY_MB:.0}/1024 GB x {:.3} s x 10^6 x ${LAMBDA_GB_S_X86} | {lambda_x86:.3} |",
        duration_ms / 1000.0
    );
    md!(
        "| DynamoDB | {} WRU x ${DDB_WRU_PER_M} + {} RRU x ${DDB_RRU_PER_M} | {ddb:.3} |",
        units.write,
        units.read
    );
    md!("| **offpush, x86_64** | sum | **{total_x86:.3}** |");
    md!(
        "| offpush, arm64 (Lambda at ${LAMBDA_GB_S_ARM} per GB-s: {lambda_arm:.3}) | sum | {total_arm:.3} |"
    );
    md!("| SNS mobile push | 1 publish x ${SNS_MOBILE_PER_M:.2} | {SNS_MOBILE_PER_M:.3} |");
    md!(
        "\nRatio offpush (x86_64) / SNS: {:.1}x. SNS's price is its publishes alone: an app \
         using SNS still runs its own token registry (DynamoDB or similar) and its own API in \
         front, and SNS sends device by device (see the fan-out baseline); offpush's price \
         includes all of that, and a 1000-recipient push is one API call.\n",
        total_x86 / SNS_MOBILE_PER_M
    );
}

#[tokio::main]
async fn main() {
    // Latencies first, on a table of their own: the emulator's Query
    // sorts the whole table, a cost DynamoDB does not have, so a table
    // full of bench users would measure the emulator.
    let mut lat = TestEnv::new("bench-latency").await;
    lat.ctx.push_concurrency = PUSH_CONCURRENCY;
    lat.add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    let push_p50 = section_latency(&lat).await;
    let _ = lat.store.delete_table().await;
    let mut env = TestEnv::new("bench").await;
    env.ctx.push_concurrency = PUSH_CONCURRENCY;
    env.add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    let units = section_requests(&env).await;
    let _ = env.store.delete_table().await;
    section_fanout().await;
    section_cost(&units, push_p50);
    let report = OUT.lock().unwrap().clone();
    match std::env::args().nth(1) {
        Some(path) => std::fs::write(&path, report).expect("writes the report"),
        None => print!("{report}"),
    }
}
