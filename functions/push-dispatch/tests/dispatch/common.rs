//! Shared set-up of the push tests: a certificate the simulator accepts,
//! bindings made through the shared binding rules (testkit), push calls
//! through the real handler.

#![allow(dead_code)]

use offpush::domain::{App, CertificateId, ClickAction, PushMode, UserId};
use serde_json::Value;
pub use testkit::*;

pub async fn setup(label: &str) -> (TestEnv, App) {
    with_cert(TestEnv::new(label).await).await
}

/// As [`setup`], with the table on the emulator's test front.
pub async fn setup_on_front(label: &str) -> (TestEnv, App) {
    with_cert(TestEnv::on_front(label).await).await
}

async fn with_cert(env: TestEnv) -> (TestEnv, App) {
    add_cert(&env, ClickAction::OpenApp, PushMode::Production).await;
    let app = env.app_record().await;
    (env, app)
}

/// Today (UTC), as statistics name days.
pub fn today() -> String {
    offpush::domain::utc_date(now_ms())
}

/// The last day `GET /v1/stats?{query}` answers (200 asserted).
pub async fn day_stats(env: &TestEnv, query: &str) -> Value {
    let (s, r) = admin_get(env, &format!("/v1/stats?{query}")).await;
    assert_eq!(s, 200, "{r}");
    r["days"].as_array().unwrap().last().unwrap().clone()
}

pub async fn add_cert(env: &TestEnv, click: ClickAction, mode: PushMode) -> CertificateId {
    env.add_certificate(click, mode).await
}

pub async fn bind(env: &TestEnv, app: &App, user: &str, token: &str, device: Option<&str>) {
    bind_cert(env, app, 1, user, token, device).await
}

pub async fn bind_cert(
    env: &TestEnv,
    _app: &App,
    cert: u64,
    user: &str,
    token: &str,
    device: Option<&str>,
) {
    env.bind(cert, user, token, device).await
}

pub async fn push(env: &TestEnv, body: &Value) -> (u16, Value) {
    read(
        push_dispatch::handle(
            &env.ctx,
            request("POST", "/v1/push", Some(&env.app.admin_token()), Some(body)),
        )
        .await,
    )
}

pub async fn live_tokens(env: &TestEnv, user: &str) -> Vec<String> {
    let state = env
        .store
        .get_user_bindings(&env.app.id, &UserId::parse("u", user).unwrap())
        .await
        .unwrap();
    state
        .live(now())
        .map(|(_, b)| b.token.expose().to_string())
        .collect()
}

/// The results of one user, in order.
pub fn results_of<'a>(report: &'a Value, user: &str) -> Vec<&'a Value> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["user_id"] == user)
        .collect()
}

pub fn status_of(report: &Value, user: &str) -> String {
    let r = results_of(report, user);
    assert_eq!(r.len(), 1, "one result for {user}: {report}");
    r[0]["status"].as_str().unwrap().to_string()
}

/// A push test's usual start: a certificate, and alice bound as `regid-a`.
pub async fn with_alice(label: &str) -> (TestEnv, App) {
    let (env, app) = setup(label).await;
    bind(&env, &app, "alice", "regid-a", None).await;
    (env, app)
}

/// Pushes `desc` to one user, with `fields` added to the body; the report
/// (the call must answer 200).
pub async fn push_to(env: &TestEnv, user: &str, desc: &str, fields: Value) -> Value {
    let mut body = serde_json::json!({"to": [user], "desc": desc});
    if let Value::Object(m) = fields {
        body.as_object_mut().unwrap().extend(m);
    }
    let (s, r) = push(env, &body).await;
    assert_eq!(s, 200, "{r}");
    r
}

/// Turns a done push record into the claim a call that died leaves: pending,
/// claimed two minutes ago, no result; `sending`: it had begun sending.
pub async fn make_stale(env: &TestEnv, request_id: &str, sending: bool) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let stale = A::N(((now() - 120) * 1000).to_string());
    let (set, remove) = if sending {
        ("SET #st = :p, #at = :at, #send = :at", "REMOVE #res")
    } else {
        ("SET #st = :p, #at = :at", "REMOVE #res, #send")
    };
    raw_client()
        .await
        .update_item()
        .table_name(env.store.table())
        .key(
            "pk",
            A::S(offpush::store::keys::push_pk(
                &env.app.id,
                &offpush::store::keys::push_ref(request_id),
            )),
        )
        .key("sk", A::S(offpush::store::keys::PUSH_SK.into()))
        .update_expression(format!("{set} {remove}"))
        .expression_attribute_names("#st", offpush::store::keys::PUSH_STATE)
        .expression_attribute_names("#at", offpush::store::keys::PUSH_CLAIMED_AT)
        .expression_attribute_names("#send", offpush::store::keys::PUSH_SENDING_AT)
        .expression_attribute_names("#res", offpush::store::keys::PUSH_RESULT)
        .expression_attribute_values(":p", A::S("pending".into()))
        .expression_attribute_values(":at", stale)
        .send()
        .await
        .unwrap();
}

/// A GET through the handler with the app's admin token.
pub async fn admin_get(env: &TestEnv, uri: &str) -> (u16, Value) {
    read(
        push_dispatch::handle(
            &env.ctx,
            request("GET", uri, Some(&env.app.admin_token()), None),
        )
        .await,
    )
}

/// Puts (or removes) `counters` of the wrong type on every statistics row
/// of today (the 32 shards and the unsharded rows of earlier versions), so
/// any write adding to them fails.
pub async fn break_counters(env: &TestEnv, counters: &[&str], broken: bool) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    use offpush::store::keys;
    let today = today();
    let pk = keys::stats_pk(&env.app.id);
    let mut rows: Vec<String> = (0..offpush::store::stats::STATS_SHARDS)
        .map(|s| keys::stats_shard_sk(&today, s))
        .collect();
    rows.push(keys::stats_sk(&today, None));
    rows.push(keys::stats_sk(&today, CertificateId::new(1)));
    let names: Vec<String> = (0..counters.len()).map(|i| format!("#c{i}")).collect();
    let expr = if broken {
        let sets: Vec<String> = names.iter().map(|n| format!("{n} = :bad")).collect();
        format!("SET {}", sets.join(", "))
    } else {
        format!("REMOVE {}", names.join(", "))
    };
    for sk in rows {
        let mut u = raw_client()
            .await
            .update_item()
            .table_name(env.store.table())
            .key("pk", A::S(pk.clone()))
            .key("sk", A::S(sk))
            .update_expression(&expr);
        for (n, c) in names.iter().zip(counters) {
            u = u.expression_attribute_names(n, *c);
        }
        if broken {
            u = u.expression_attribute_values(":bad", A::S("not a number".into()));
        }
        u.send().await.unwrap();
    }
}
