//! offpush figures, printed (never asserted): how many vivo and DynamoDB
//! requests a push to 1000 recipients costs, and request latencies through
//! the real handlers against the local DynamoDB emulator and the vivo
//! simulator. Run with scripts/bench.sh (it starts the emulator).
//!
//! Latencies here are of this machine's emulator, not of AWS: they compare
//! versions of offpush with each other, not with production.

use offpush::domain::UserId;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use testkit::*;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn time_it<F, Fut>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i).await;
        out.push(t.elapsed());
    }
    out.sort();
    out
}

fn row(name: &str, samples: &[Duration]) {
    println!(
        "| {name:<44} | {:>4} | {:>8.1} | {:>8.1} | {:>8.1} |",
        samples.len(),
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.95)),
        ms(*samples.last().unwrap())
    );
}

async fn call(h: lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    read(h)
}

#[tokio::main]
async fn main() {
    let env = TestEnv::new("bench").await;
    let admin = env.app.admin_token();
    let cert = json!({"platform": "vivo", "credentials": {"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY, "app_secret": VIVO_APP_SECRET}});

    // Token reports first, on a small table: the emulator copies the whole
    // table for every TransactWriteItems (its rollback), a cost DynamoDB
    // does not have, so a table full of bench users would measure moto.
    let (s, _) = call(
        cert_upload::handle(
            &env.ctx,
            request(
                "POST",
                "/v1/certificates?verify=false",
                Some(&admin),
                Some(&cert),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let mut token_rows = Vec::new();
    let user = env.app.user_token("bench-user");
    let samples = time_it(50, |i| {
        let body =
            json!({"certificate_id": 1, "token": format!("regid-bench-{i}"), "device_id": "phone"});
        let req = request("PUT", "/v1/push-token", Some(&user), Some(&body));
        let ctx = &env.ctx;
        async move {
            assert_eq!(read(token_report::handle(ctx, req).await).0, 200);
        }
    })
    .await;
    token_rows.push(samples);

    println!("## Calls per push (1000 recipients, one device each)\n");
    let users = env.seed_users(1000, "u", 1).await;
    let ids: Vec<UserId> = users
        .iter()
        .map(|u| UserId::parse("u", u).unwrap())
        .collect();
    let (_, batch_requests) = env
        .store
        .get_many_user_bindings(&env.app.id, &ids)
        .await
        .unwrap();
    println!("| scenario | vivo calls | of which auth | DynamoDB reads of bindings | sent |");
    println!("|---|---|---|---|---|");
    for (label, ttl) in [
        ("ttl 86400 (list push)", 86_400),
        ("ttl 60 (single sends, exact TTL)", 60),
    ] {
        env.sim.reset();
        let body = json!({"to": users, "desc": "bench", "ttl_seconds": ttl});
        let (s, r) = call(
            push_dispatch::handle(
                &env.ctx,
                request("POST", "/v1/push", Some(&admin), Some(&body)),
            )
            .await,
        )
        .await;
        assert_eq!(s, 200);
        let reqs = env.sim.requests();
        let auth = reqs.iter().filter(|r| r.path == "/message/auth").count();
        println!(
            "| {label} | {} | {auth} | {batch_requests} BatchGetItem | {} |",
            reqs.len(),
            r["summary"]["sent"]
        );
    }

    println!("\n## Latency through the handlers (local emulator + simulator), ms\n");
    println!(
        "| {:<44} | {:>4} | {:>8} | {:>8} | {:>8} |",
        "request", "n", "p50", "p95", "max"
    );
    println!(
        "|{}|------|----------|----------|----------|",
        "-".repeat(46)
    );
    row("PUT /v1/push-token (re-report, kick-out)", &token_rows[0]);
    let samples = time_it(50, |_| {
        let body = json!({"to": ["bench-user"], "desc": "hi"});
        let req = request("POST", "/v1/push", Some(&admin), Some(&body));
        let ctx = &env.ctx;
        async move {
            assert_eq!(read(push_dispatch::handle(ctx, req).await).0, 200);
        }
    })
    .await;
    row("POST /v1/push, 1 recipient", &samples);
    let hundred: Vec<String> = users[..100].to_vec();
    let samples = time_it(10, |_| {
        let body = json!({"to": hundred, "desc": "hi"});
        let req = request("POST", "/v1/push", Some(&admin), Some(&body));
        let ctx = &env.ctx;
        async move {
            assert_eq!(read(push_dispatch::handle(ctx, req).await).0, 200);
        }
    })
    .await;
    row("POST /v1/push, 100 recipients", &samples);
    let samples = time_it(5, |_| {
        let body = json!({"to": users, "desc": "hi"});
        let req = request("POST", "/v1/push", Some(&admin), Some(&body));
        let ctx = &env.ctx;
        async move {
            assert_eq!(read(push_dispatch::handle(ctx, req).await).0, 200);
        }
    })
    .await;
    row("POST /v1/push, 1000 recipients", &samples);
    let samples = time_it(20, |_| {
        let req = request(
            "POST",
            "/v1/certificates?verify=false",
            Some(&admin),
            Some(&cert),
        );
        let ctx = &env.ctx;
        async move {
            assert_eq!(read(cert_upload::handle(ctx, req).await).0, 201);
        }
    })
    .await;
    row("POST /v1/certificates?verify=false", &samples);
    let _ = env.store.delete_table().await;
}
