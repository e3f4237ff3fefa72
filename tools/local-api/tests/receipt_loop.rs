//! The whole receipt loop over real HTTP, as `./scripts/run-local.sh` runs
//! it: a certificate with receipts on, a push, the simulator posting vivo's
//! receipt to the URL the certificate answer showed, the push record
//! showing the device delivered and the statistics counting it once, also
//! when the simulator delivers the receipt twice.

use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use testkit::*;

async fn serve(env: &TestEnv) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = local_api::router(local_api::handlers(Arc::new(env.ctx.clone())))
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_receipt_from_vivo_shows_the_device_delivered() {
    let env = TestEnv::new("receipt-loop").await;
    let base = serve(&env).await;
    let http = offpush::tls::client();
    let admin = env.app.admin_token();
    let cert = json!({
        "platform": "vivo",
        "credentials": {"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY, "app_secret": VIVO_APP_SECRET},
        "receipt_id": "7001",
    });
    let (s, created) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/v1/certificates"),
        &admin,
        Some(cert),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let receipt_url = created["receipt_url"].as_str().unwrap().to_string();
    assert!(receipt_url.starts_with(&base), "{receipt_url} under {base}");
    // The operator registers the URL in the vivo console.
    env.sim
        .set_receipt_url(VIVO_APP_ID, "7001", &receipt_url)
        .unwrap();
    env.sim.set_receipt_delay(std::time::Duration::ZERO);
    env.sim.set_receipt_redeliver(true);
    for user in ["alice", "bob"] {
        let (s, r) = call(
            &http,
            reqwest::Method::PUT,
            &format!("{base}/v1/push-token"),
            &env.app.user_token(user),
            Some(json!({"certificate_id": 1, "token": format!("regid-{user}")})),
        )
        .await;
        assert_eq!(s, 200, "{r}");
    }
    let (s, r) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/v1/push"),
        &admin,
        Some(json!({"to": ["alice", "bob", "carol"], "desc": "hi", "request_id": "loop-1"})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["summary"]["sent"], 2);
    env.sim.flush_receipts().await;
    let posts = env.sim.receipt_log();
    assert!(
        posts.len() >= 2,
        "delivered, then redelivered: {}",
        posts.len()
    );
    let (s, rec) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/v1/pushes/loop-1"),
        &admin,
        None,
    )
    .await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["summary"]["delivered"], 2, "{rec}");
    let (_, stats) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/v1/stats"),
        &admin,
        None,
    )
    .await;
    let today = stats["days"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&today["sent"], &today["delivered"], &today["no_device"]),
        (&json!(2), &json!(2), &json!(1)),
        "{today}"
    );
    let (_, log) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/v1/users/alice/push-log"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        log["entries"][0]["results"][0]["delivery_state"], "delivered",
        "{log}"
    );
}

/// Xiaomi's messages carry the receipt URL themselves (`receipts: true`):
/// the simulator posts its form-encoded receipts there; a delivered receipt
/// marks the device, a type 16 (target invalid) ends the binding, and a
/// raw JSON body (the spec's other reading) is taken as well.
#[tokio::test]
async fn xiaomi_receipts_mark_delivered_and_end_dead_bindings() {
    let env = TestEnv::new("receipt-loop-xiaomi").await;
    let base = serve(&env).await;
    let http = offpush::tls::client();
    let admin = env.app.admin_token();
    let cert = json!({
        "platform": "xiaomi",
        "credentials": {"app_secret": XIAOMI_APP_SECRET, "package_name": XIAOMI_PACKAGE},
        "vendor_options": {"channel_id": XIAOMI_CHANNEL},
        "receipts": true,
    });
    let (s, created) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/v1/certificates"),
        &admin,
        Some(cert),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["receipts"], true);
    assert!(created.get("receipt_id").is_none());
    let receipt_url = created["receipt_url"].as_str().unwrap().to_string();
    assert!(receipt_url.starts_with(&format!("{base}/v1/receipts/xiaomi/")));
    env.xiaomi.set_receipt_delay(std::time::Duration::ZERO);
    env.xiaomi.set_receipt_redeliver(true);
    for user in ["alice", "bob"] {
        let (s, r) = call(
            &http,
            reqwest::Method::PUT,
            &format!("{base}/v1/push-token"),
            &env.app.user_token(user),
            Some(json!({"certificate_id": 1, "token": format!("xm-regid-{user}")})),
        )
        .await;
        assert_eq!(s, 200, "{r}");
    }
    let (s, r) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/v1/push"),
        &admin,
        Some(json!({"to": ["alice", "bob"], "desc": "hi", "request_id": "xm-loop-1"})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["summary"]["sent"], 2, "{r}");
    let sent = env.xiaomi.deliveries();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].extra.get("callback").map(String::as_str),
        Some(receipt_url.as_str()),
        "the message carries the receipt URL"
    );
    env.xiaomi.flush_receipts().await;
    let posts = env.xiaomi.receipt_log();
    assert!(!posts.is_empty(), "receipts were posted");
    assert!(
        posts.iter().all(|p| p.status == 200),
        "every receipt POST answered 200: {posts:?}"
    );
    let (s, rec) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/v1/pushes/xm-loop-1"),
        &admin,
        None,
    )
    .await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(
        rec["summary"]["delivered"], 2,
        "counted once though redelivered: {rec}"
    );
    // Xiaomi says bob's regid is dead (type 16): his binding ends.
    let msg = sent[0].msg_id.clone();
    env.xiaomi
        .send_receipt(&msg, 16, Some(&["xm-regid-bob"]))
        .unwrap();
    env.xiaomi.flush_receipts().await;
    let (_, devices) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/v1/users/bob/devices"),
        &admin,
        None,
    )
    .await;
    assert_eq!(devices["devices"], json!([]), "{devices}");
    let (_, devices) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/v1/users/alice/devices"),
        &admin,
        None,
    )
    .await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1, "{devices}");
    // The same receipt as a raw JSON body: taken too; a wrong platform in
    // the path is 404 and changes nothing.
    let param = sent[0].extra["callback.param"].clone();
    let body = json!({msg.clone(): {"param": param, "type": 1, "targets": "xm-regid-alice"}});
    let resp = http
        .post(&receipt_url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["delivered"], 0, "already delivered: {answer}");
    let wrong = receipt_url.replace("/xiaomi/", "/vivo/");
    let resp = http
        .post(&wrong)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}
