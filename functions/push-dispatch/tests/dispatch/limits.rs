//! Per-app push rate limits (`offpush::ratelimit`) through the handler, on
//! the emulator: what an app over its limit gets, what it leaves behind
//! (nothing), and that other apps push on. No test here depends on timing:
//! each bound is counted against the seconds the pushes actually spanned.

use crate::common::*;
use offpush::Context;
use serde_json::{json, Value};

/// The seconds (by the wall clock) a run from `start_ms` to `end_ms` touched.
fn seconds_spanned(start_ms: i64, end_ms: i64) -> u64 {
    (end_ms.div_euclid(1000) - start_ms.div_euclid(1000) + 1) as u64
}

/// A push as `app`'s backend sends it, through `ctx`: status, Retry-After
/// and body.
async fn push_as(ctx: &Context, app: &TestApp, body: &Value) -> (u16, Option<String>, Value) {
    let resp = push_dispatch::handle(
        ctx,
        request("POST", "/v1/push", Some(&app.admin_token()), Some(body)),
    )
    .await;
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = read(resp);
    (status, retry_after, body)
}

fn body(request_id: &str) -> Value {
    json!({"to": ["alice"], "title": "t", "desc": "d", "request_id": request_id})
}

/// Sends `n` pushes of `app` through `contexts` in turn, `at_once` at a
/// time: (admitted request ids, refused answers, the seconds spanned).
async fn flood(
    contexts: &[&Context],
    app: &TestApp,
    n: usize,
    at_once: usize,
    label: &str,
) -> (Vec<String>, Vec<(u16, Option<String>, Value)>, u64) {
    let start = now_ms();
    let mut admitted = Vec::new();
    let mut refused = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(at_once) {
        let answers = futures::future::join_all(chunk.iter().map(|&i| {
            let ctx = contexts[i % contexts.len()];
            let id = format!("{label}-{i}");
            async move { (id.clone(), push_as(ctx, app, &body(&id)).await) }
        }))
        .await;
        for (id, answer) in answers {
            if answer.0 == 200 {
                admitted.push(id);
            } else {
                refused.push(answer);
            }
        }
    }
    (admitted, refused, seconds_spanned(start, now_ms()))
}

#[tokio::test]
async fn an_app_over_its_limit_gets_429_leaves_nothing_behind_and_other_apps_push_on() {
    let (env, app) = setup("rate-limited").await;
    bind(&env, &app, "alice", "tok-alice", None).await;
    let limit = 3u32;
    assert!(env
        .store
        .set_app_push_rate_limit(&env.app.id, Some(limit))
        .await
        .unwrap());
    env.store.forget_cached_app(&env.app.id);
    // Another app of the same stack, with no limit: its pushes reach no
    // device (no certificate) but are answered and counted all the same.
    let quiet = env.other_app("quiet-app").await;

    let pushes = 30;
    let one = [&env.ctx];
    let (limited, quiet_run) = tokio::join!(
        flood(&one, &env.app, pushes, 6, "limited"),
        flood(&one, &quiet, pushes, 6, "quiet"),
    );
    let (admitted, refused, spanned) = limited;
    // Never more than the limit in any second.
    assert!(
        admitted.len() as u64 <= u64::from(limit) * spanned,
        "{} admitted in {spanned} s",
        admitted.len()
    );
    assert!(!admitted.is_empty());
    assert_eq!(admitted.len() + refused.len(), pushes);
    assert!(
        refused.len() as u64 >= (pushes as u64).saturating_sub(u64::from(limit) * spanned),
        "{} refused in {spanned} s",
        refused.len()
    );
    for (status, retry_after, body) in &refused {
        assert_error(&(*status, body.clone()), 429, "rate_limited", None);
        assert_eq!(retry_after.as_deref(), Some("1"));
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("push rate limit of 3"), "{message}");
    }
    let (quiet_admitted, quiet_refused, _) = quiet_run;
    assert_eq!(quiet_admitted.len(), pushes, "{quiet_refused:?}");

    // A refused push left nothing: no record, no statistics, no send.
    for i in 0..pushes {
        let id = format!("limited-{i}");
        let (status, _) = admin_get(&env, &format!("/v1/pushes/{id}")).await;
        let expected = if admitted.contains(&id) { 200 } else { 404 };
        assert_eq!(status, expected, "{id}");
    }
    let day = day_stats(&env, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(day["pushes"], admitted.len() as u64, "{day}");
    assert_eq!(day["sent"], admitted.len() as u64, "{day}");
    assert_eq!(env.sim.deliveries().len(), admitted.len());

    // A repeat after its Retry-After, in a second of its own, goes through.
    let second = now_ms().div_euclid(1000);
    while now_ms().div_euclid(1000) == second {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (status, _, report) = push_as(&env.ctx, &env.app, &body("after")).await;
    assert_eq!(status, 200, "{report}");
}

#[tokio::test]
async fn the_deployment_limit_applies_to_apps_without_their_own_and_zero_lifts_it() {
    let (env, app) = setup("rate-default").await;
    bind(&env, &app, "alice", "tok-alice", None).await;
    let mut cfg = env.config();
    cfg.config.app_push_rate_limit = 2;
    let ctx = testkit::context(env.store.clone(), &cfg);

    let (admitted, refused, spanned) = flood(&[&ctx], &env.app, 20, 5, "default").await;
    assert!(
        admitted.len() as u64 <= 2 * spanned,
        "{} in {spanned} s",
        admitted.len()
    );
    assert!(refused.len() as u64 >= 20u64.saturating_sub(2 * spanned));

    // The app's own 0: no limit, whatever the deployment's.
    assert!(env
        .store
        .set_app_push_rate_limit(&env.app.id, Some(0))
        .await
        .unwrap());
    env.store.forget_cached_app(&env.app.id);
    let ctx = testkit::context(env.store.clone(), &cfg);
    let (admitted, refused, _) = flood(&[&ctx], &env.app, 20, 5, "lifted").await;
    assert_eq!(admitted.len(), 20, "{refused:?}");
}

#[tokio::test]
async fn instances_share_one_limit_through_the_table() {
    let (env, app) = setup("rate-shared").await;
    bind(&env, &app, "alice", "tok-alice", None).await;
    let limit = 4u32;
    assert!(env
        .store
        .set_app_push_rate_limit(&env.app.id, Some(limit))
        .await
        .unwrap());
    env.store.forget_cached_app(&env.app.id);
    // Three instances: each its own memory, one table.
    let cfg = env.config();
    let instances: Vec<Context> = (0..3)
        .map(|_| testkit::context(env.store.clone(), &cfg))
        .collect();
    let refs: Vec<&Context> = instances.iter().collect();
    let (admitted, refused, spanned) = flood(&refs, &env.app, 36, 9, "shared").await;
    // Each instance alone would admit the limit every second: together they
    // admit it once.
    assert!(
        admitted.len() as u64 <= u64::from(limit) * spanned,
        "{} admitted in {spanned} s",
        admitted.len()
    );
    assert!(refused.len() as u64 >= 36u64.saturating_sub(u64::from(limit) * spanned));
    // The leases written are the table's record of it: no second over the limit.
    let counters: Vec<u64> = env
        .table_items()
        .await
        .iter()
        .filter(|item| item_pk(item) == format!("RATE#{}", env.app.id))
        .map(|item| item["admitted"].as_n().unwrap().parse().unwrap())
        .collect();
    assert!(!counters.is_empty());
    assert!(
        counters.iter().all(|&n| n <= u64::from(limit)),
        "{counters:?}"
    );
    assert!(counters.iter().sum::<u64>() >= admitted.len() as u64);
}
