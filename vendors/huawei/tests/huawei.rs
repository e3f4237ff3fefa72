//! The Huawei adapter through the vendor port, against the Huawei Push Kit
//! simulator started in-process and a table on the DynamoDB emulator
//! (`AWS_ENDPOINT_URL_DYNAMODB`).

use huawei_sim::{
    error_action, oauth_error_action, send_path, CallAction, ReceiptConfig, SimApp, SimConfig,
    Simulator, TokenVerdict, TOKEN_PATH,
};
use offpush::domain::certificate::Receipts;
use offpush::domain::input::parse_body;
use offpush::domain::{
    Category, Certificate, CertificateId, ClickAction, DeliveryStatus, Platform, PushMode,
    PushToken, UserId, VendorData,
};
use offpush::store::Store;
use offpush::vendor::kit::Budget;
use offpush::vendor::{
    chunk_sizes, Message, ReceiptEvent, ReceiptRequest, Send, SendReport, Target, Vendor,
};
use offpush_huawei::Huawei;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APP: &str = "10086001";
const SECRET: &str = "sim-client-secret-0123456789";
const PARAM: &str = "op2.20261208.0123456789abcdef0123456789abcdef.0123456789abcdef";

async fn store() -> Store {
    let name = format!(
        "t-huawei-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let store = Store::for_endpoint(
        &std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("AWS_ENDPOINT_URL_DYNAMODB"),
        "us-east-1",
        name,
    )
    .await;
    store.create_table().await.expect("create table");
    store
}

struct Env {
    sim: Simulator,
    store: Store,
    huawei: Huawei,
}

async fn env_with(app: SimApp, timeout: Duration) -> Env {
    let sim = Simulator::start(SimConfig { apps: vec![app] })
        .await
        .unwrap();
    let store = store().await;
    let huawei = Huawei::new(store.clone(), Some(&sim.base_url()), timeout);
    Env { sim, store, huawei }
}

async fn env() -> Env {
    env_with(SimApp::new(APP, SECRET), Duration::from_secs(3)).await
}

impl Env {
    fn another_instance(&self) -> Huawei {
        Huawei::new(
            self.store.clone(),
            Some(&self.sim.base_url()),
            Duration::from_secs(3),
        )
    }
    fn sends(&self) -> usize {
        self.sim.requests_to(&send_path(APP)).len()
    }
    fn auths(&self) -> usize {
        self.sim.requests_to(TOKEN_PATH).len()
    }
}

fn credentials(h: &Huawei, client_id: &str, secret: &str) -> VendorData {
    let json = format!(
        r#"{{"credentials":{{"app_id":"{APP}","client_id":"{client_id}","client_secret":"{secret}"}}}}"#
    );
    let mut body = parse_body(json.as_bytes()).unwrap();
    h.parse_credentials(body.req_obj("credentials").unwrap(), None)
        .unwrap()
}

fn cert(h: &Huawei) -> Certificate {
    let now = time::OffsetDateTime::now_utc();
    Certificate {
        id: CertificateId::new(7).unwrap(),
        platform: Platform::Huawei,
        name: "huawei".into(),
        credentials: credentials(h, APP, SECRET),
        options: VendorData::new(),
        click_action: ClickAction::OpenApp,
        category: Category::Im,
        push_mode: PushMode::Production,
        default_title: None,
        receipt: None,
        created_at: now,
        updated_at: now,
    }
}

fn targets(prefix: &str, n: usize) -> Vec<Target> {
    (0..n)
        .map(|i| Target {
            user: UserId::parse("to", &format!("user{i}")).unwrap(),
            device_id: None,
            token: PushToken::parse("token", &format!("{prefix}-token-{i:05}-abcdefgh")).unwrap(),
        })
        .collect()
}

fn message<'a>(click: &'a ClickAction) -> Message<'a> {
    Message {
        push_key: "demo/req-1",
        title: "Alice",
        desc: "Hi, are you free tonight?",
        ext: Some(r#"{"conv":"c2c_alice"}"#),
        category: Category::Im,
        ttl_seconds: 3600,
        click,
        notify_id: Some(42),
        receipt: None,
    }
}

async fn push(h: &Huawei, cert: &Certificate, m: &Message<'_>, targets: &[Target]) -> SendReport {
    let budget = Budget::new(Instant::now() + Duration::from_secs(15), 64);
    let chunks = chunk_sizes(targets.len(), h.batching(cert, m));
    let report = h
        .send(Send {
            cert,
            message: m,
            targets,
            chunks: &chunks,
            budget: &budget,
        })
        .await;
    assert_eq!(report.deliveries.len(), targets.len(), "one per target");
    report
}

fn statuses(r: &SendReport) -> Vec<DeliveryStatus> {
    r.deliveries.iter().map(|d| d.status).collect()
}

fn no_secret_in(r: &SendReport, tokens: &[Target]) {
    for d in &r.deliveries {
        let text = format!("{d:?}");
        assert!(!text.contains(SECRET));
        for t in tokens {
            assert!(!text.contains(t.token.expose()), "{text}");
        }
    }
}

#[tokio::test]
async fn a_push_to_one_target_carries_every_field() {
    let e = env().await;
    let c = cert(&e.huawei);
    let click = ClickAction::OpenUrl {
        url: "https://example.com/chat".into(),
    };
    let ts = targets("one", 1);
    let r = push(&e.huawei, &c, &message(&click), &ts).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert!(r.deliveries[0].vendor_task_id.is_some());
    assert_eq!(r.calls, 2, "one token request, one send");
    let d = &e.sim.deliveries()[0];
    assert_eq!(d.token, ts[0].token.expose());
    assert_eq!(d.title.as_deref(), Some("Alice"));
    assert_eq!(d.body.as_deref(), Some("Hi, are you free tonight?"));
    assert_eq!(d.category.as_deref(), Some("IM"));
    assert_eq!(d.effective_category.as_deref(), Some("IM"));
    assert_eq!(d.importance.as_deref(), Some("NORMAL"));
    assert_eq!(
        d.click_action,
        Some(serde_json::json!({"type": 2, "url": "https://example.com/chat"}))
    );
    assert_eq!(d.notify_id, Some(42));
    assert_eq!(d.ttl_secs, Some(3600.0));
    assert_eq!(d.target_user_type, 0);
    let data: serde_json::Value = serde_json::from_str(d.data.as_deref().unwrap()).unwrap();
    assert_eq!(data["ext"], r#"{"conv":"c2c_alice"}"#);
    let req = &e.sim.requests_to(&send_path(APP))[0];
    assert!(req.header("authorization").unwrap().starts_with("Bearer "));
}

#[tokio::test]
async fn test_mode_and_operational_categories() {
    let e = env().await;
    let mut c = cert(&e.huawei);
    c.push_mode = PushMode::Test;
    let click = ClickAction::OpenPage {
        intent_uri: "intent:#Intent;component=com.example.im/.Chat;end".into(),
    };
    let mut m = message(&click);
    m.category = Category::Marketing;
    let r = push(&e.huawei, &c, &m, &targets("test", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    let d = &e.sim.deliveries()[0];
    assert_eq!(d.target_user_type, 1);
    assert_eq!(d.category.as_deref(), Some("MARKETING"));
    assert_eq!(d.importance.as_deref(), Some("LOW"));
    assert_eq!(d.click_action.as_ref().unwrap()["type"], 1);
}

#[tokio::test]
async fn a_thousand_targets_go_in_one_call_and_one_more_in_two() {
    let e = env().await;
    let c = cert(&e.huawei);
    let click = ClickAction::OpenApp;
    let ts = targets("k", 1000);
    let r = push(&e.huawei, &c, &message(&click), &ts).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent));
    assert_eq!(e.sends(), 1);
    let ts = targets("m", 1001);
    let r = push(&e.huawei, &c, &message(&click), &ts).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent));
    assert_eq!(e.sends(), 3, "1001 targets: two calls");
    for req in e.sim.requests_to(&send_path(APP)) {
        assert!(req.body["message"]["token"].as_array().unwrap().len() <= 1000);
        assert_eq!(req.status, 200);
    }
    assert_eq!(e.auths(), 1, "one token for every call");
    assert_eq!(e.sim.deliveries().len(), 2001);
}

#[tokio::test]
async fn the_token_is_shared_through_the_table_and_renewed_once_when_expired() {
    let e = env().await;
    let c = cert(&e.huawei);
    let click = ClickAction::OpenApp;
    push(&e.huawei, &c, &message(&click), &targets("a", 1)).await;
    assert_eq!(e.auths(), 1);
    // Another instance finds the token in the table.
    let other = e.another_instance();
    let r = push(&other, &c, &message(&click), &targets("b", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(e.auths(), 1, "no second token request");
    // 80200003: re-authenticated once, sent again.
    e.sim
        .script_next(&send_path(APP), error_action("80200003", "token expired"));
    let r = push(&e.huawei, &c, &message(&click), &targets("c", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(e.auths(), 2);
    // Refused again after the refresh: failed, no loop.
    e.sim
        .script_next(&send_path(APP), error_action("80200003", "token expired"));
    e.sim
        .script_next(&send_path(APP), error_action("80200003", "token expired"));
    let before = e.sends();
    let r = push(&e.huawei, &c, &message(&click), &targets("d", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80200003"));
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("again after a refresh"));
    assert_eq!(e.sends() - before, 2);
    assert_eq!(e.auths(), 3);
}

#[tokio::test]
async fn verify_accepts_good_credentials_and_names_the_refused_field() {
    let e = env().await;
    let mut c = cert(&e.huawei);
    e.huawei.verify(&c).await.unwrap();
    assert_eq!(e.auths(), 1);
    // The token of the check is shared: the push needs no token request.
    let click = ClickAction::OpenApp;
    push(&e.huawei, &c, &message(&click), &targets("v", 1)).await;
    assert_eq!(e.auths(), 1);

    c.credentials = credentials(&e.huawei, APP, "wrong-secret");
    let err = e.huawei.verify(&c).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code(), err.field()),
        (
            422,
            "invalid_credentials",
            Some("credentials.client_secret")
        )
    );
    assert!(!err.to_string().contains("wrong-secret"));
    c.credentials = credentials(&e.huawei, "99999", SECRET);
    let err = e.huawei.verify(&c).await.unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.client_id"))
    );
    c.credentials = credentials(&e.huawei, APP, SECRET);
    e.sim
        .script_next(TOKEN_PATH, oauth_error_action(503, 1203, 0, "flow control"));
    assert_eq!(e.huawei.verify(&c).await.unwrap_err().status(), 429);
    e.sim
        .script_always(TOKEN_PATH, Some(CallAction::HttpStatus(500)));
    assert_eq!(e.huawei.verify(&c).await.unwrap_err().status(), 502);
}

#[tokio::test]
async fn illegal_tokens_end_exactly_the_named_targets() {
    let e = env().await;
    let c = cert(&e.huawei);
    let ts = targets("p", 4);
    e.sim.set_token(ts[1].token.expose(), TokenVerdict::Illegal);
    e.sim.set_token(ts[3].token.expose(), TokenVerdict::Illegal);
    let click = ClickAction::OpenApp;
    let r = push(&e.huawei, &c, &message(&click), &ts).await;
    use DeliveryStatus::*;
    assert_eq!(statuses(&r), [Sent, TokenInvalid, Sent, TokenInvalid]);
    assert_eq!(r.deliveries[1].vendor_code.as_deref(), Some("80100000"));
    no_secret_in(&r, &ts);
}

#[tokio::test]
async fn all_tokens_invalid_ends_bindings_only_once_the_app_is_known_good() {
    let e = env().await;
    let c = cert(&e.huawei);
    let click = ClickAction::OpenApp;
    let dead = targets("dead", 1);
    e.sim
        .set_token(dead[0].token.expose(), TokenVerdict::Illegal);
    // No accepted send of this app yet: 80300007 may be a misconfigured
    // app, so the binding is kept.
    let r = push(&e.huawei, &c, &message(&click), &dead).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80300007"));
    // The same push with a good target: the app is good, the verdict stands.
    let mut mixed = targets("good", 1);
    mixed.extend(dead.clone());
    let m = message(&click);
    let budget = Budget::new(Instant::now() + Duration::from_secs(10), 64);
    let r = e
        .huawei
        .send(Send {
            cert: &c,
            message: &m,
            targets: &mixed,
            chunks: &[1, 1],
            budget: &budget,
        })
        .await;
    assert_eq!(
        statuses(&r),
        [DeliveryStatus::Sent, DeliveryStatus::TokenInvalid]
    );
    // Later pushes of this instance are vouched for too.
    let r = push(&e.huawei, &c, &message(&click), &dead).await;
    assert_eq!(statuses(&r), [DeliveryStatus::TokenInvalid]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80300007"));
}

#[tokio::test]
async fn a_misconfigured_or_disabled_app_never_kills_a_token() {
    let mut app = SimApp::new(APP, SECRET);
    app.misconfigured = true;
    let e = env_with(app, Duration::from_secs(3)).await;
    let c = cert(&e.huawei);
    let click = ClickAction::OpenApp;
    let r = push(&e.huawei, &c, &message(&click), &targets("x", 3)).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Failed));
    let mut app = SimApp::new(APP, SECRET);
    app.push_enabled = false;
    e.sim.add_app(app);
    let r = push(&e.huawei, &c, &message(&click), &targets("y", 2)).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Failed));
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80300002"));
    // 80200001 (a token Huawei does not take): failed, configuration.
    e.sim.add_app(SimApp::new(APP, SECRET));
    e.sim.invalidate_access_tokens(APP);
    let r = push(&e.huawei, &c, &message(&click), &targets("z", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80200001"));
}

#[tokio::test]
async fn flow_control_is_retried_then_throttled() {
    let e = env().await;
    let c = cert(&e.huawei);
    let click = ClickAction::OpenApp;
    push(&e.huawei, &c, &message(&click), &targets("w", 1)).await;
    let before = e.sends();
    e.sim
        .script_next(&send_path(APP), CallAction::HttpStatus(503));
    let r = push(&e.huawei, &c, &message(&click), &targets("a", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(e.sends() - before, 2, "one 503, then sent");
    e.sim
        .script_always(&send_path(APP), Some(CallAction::HttpStatus(503)));
    let before = e.sends();
    let r = push(&e.huawei, &c, &message(&click), &targets("b", 2)).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Throttled));
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("http_503"));
    assert!(r.deliveries[0].retry_after_s.is_some());
    assert_eq!(e.sends() - before, 3, "three attempts");
}

#[tokio::test]
async fn server_errors_are_retried_and_silence_is_never_resent() {
    // Room for a loaded machine; the silent call is held 3 s.
    let e = env_with(SimApp::new(APP, SECRET), Duration::from_millis(1000)).await;
    let c = cert(&e.huawei);
    let click = ClickAction::OpenApp;
    push(&e.huawei, &c, &message(&click), &targets("w", 1)).await;
    e.sim
        .script_always(&send_path(APP), Some(error_action("81000001", "internal")));
    let before = e.sends();
    let r = push(&e.huawei, &c, &message(&click), &targets("a", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("81000001"));
    assert_eq!(e.sends() - before, 3);
    e.sim
        .script_always(&send_path(APP), Some(CallAction::HttpStatus(502)));
    let r = push(&e.huawei, &c, &message(&click), &targets("b", 1)).await;
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("http_502"));
    e.sim
        .script_always(&send_path(APP), Some(CallAction::Garbage));
    let r = push(&e.huawei, &c, &message(&click), &targets("g", 1)).await;
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("unreadable"));
    // A call that may have been written is not sent again.
    e.sim.script_always(
        &send_path(APP),
        Some(CallAction::Delay(Duration::from_secs(3))),
    );
    let before = e.sends();
    let r = push(&e.huawei, &c, &message(&click), &targets("t", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("no_answer"));
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("outcome is unknown"));
    e.sim.script_always(&send_path(APP), None);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(e.sends() - before, 1);
}

#[tokio::test]
async fn an_oversize_message_is_never_sent() {
    let e = env().await;
    let c = cert(&e.huawei);
    let click = ClickAction::OpenApp;
    let quotes = "\"".repeat(offpush::domain::push::MAX_EXT_BYTES);
    let mut m = message(&click);
    m.ext = Some(&quotes);
    let r = push(&e.huawei, &c, &m, &targets("o", 2)).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Rejected));
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80300008"));
    assert_eq!((r.calls, e.sends()), (0, 0));
}

/// A receipt receiver: records each POST's headers and body, answers 200.
async fn receiver() -> (String, Arc<Mutex<Vec<(BTreeMap<String, String>, Vec<u8>)>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/v1/receipts/huawei/S",
        listener.local_addr().unwrap()
    );
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let headers: BTreeMap<String, String> = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    let len: usize = headers
                        .get("content-length")
                        .and_then(|l| l.parse().ok())
                        .unwrap_or(0);
                    if buf.len() < end + 4 + len {
                        continue;
                    }
                    let body = buf[end + 4..end + 4 + len].to_vec();
                    sink.lock().unwrap().push((headers, body));
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 31\r\nconnection: close\r\n\r\n{\"errno\":\"0\",\"errmsg\":\"success\"}")
                        .await;
                    return;
                }
            });
        }
    });
    (url, got)
}

#[tokio::test]
async fn receipts_are_signed_verified_and_parsed() {
    let (url, got) = receiver().await;
    let app = SimApp::new(APP, SECRET)
        .with_receipts(ReceiptConfig::new("RCP1", &url).signed("receipt-user", "cb-secret-42"));
    let e = env_with(app, Duration::from_secs(3)).await;
    e.sim.set_receipt_delay(Duration::from_secs(3600));
    let mut c = cert(&e.huawei);
    let mut body = parse_body(
        br#"{"vendor_options":{"callback_user":"receipt-user","callback_secret":"cb-secret-42"}}"#,
    )
    .unwrap();
    c.options = e
        .huawei
        .parse_options(body.opt_obj("vendor_options").unwrap(), None)
        .unwrap();
    c.receipt = Some(Receipts {
        receipt_id: Some("RCP1".into()),
        secret_hash: "h".into(),
        secret: None,
    });
    let ts = targets("r", 4);
    e.sim
        .set_token(ts[1].token.expose(), TokenVerdict::Status(2));
    e.sim
        .set_token(ts[2].token.expose(), TokenVerdict::Status(6));
    e.sim
        .set_token(ts[3].token.expose(), TokenVerdict::Status(10));
    let click = ClickAction::OpenApp;
    let mut m = message(&click);
    m.receipt = Some(ReceiptRequest {
        receipt_id: Some("RCP1"),
        url: None,
        param: PARAM,
    });
    let r = push(&e.huawei, &c, &m, &ts).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent));
    let d = &e.sim.deliveries()[0];
    assert_eq!(
        (d.receipt_id.as_deref(), d.bi_tag.as_deref()),
        (Some("RCP1"), Some(PARAM))
    );
    e.sim.flush_receipts().await;
    let posts = got.lock().unwrap().clone();
    assert!(!posts.is_empty(), "the simulator posted receipts");
    let now = e.sim.now_ms();
    let mut events = Vec::new();
    for (headers, body) in &posts {
        let header = |name: &str| headers.get(name).cloned();
        e.huawei.authenticate_receipt(&c, &header, now).unwrap();
        // Stale or forged: refused.
        let stale = e
            .huawei
            .authenticate_receipt(&c, &header, now + 10 * 60 * 1000)
            .unwrap_err();
        assert_eq!(stale.status(), 401);
        let mut other = c.clone();
        other.options = {
            let mut b = parse_body(
                br#"{"vendor_options":{"callback_user":"receipt-user","callback_secret":"other"}}"#,
            )
            .unwrap();
            e.huawei
                .parse_options(b.opt_obj("vendor_options").unwrap(), None)
                .unwrap()
        };
        assert_eq!(
            e.huawei
                .authenticate_receipt(&other, &header, now)
                .unwrap_err()
                .status(),
            401
        );
        let none = |_: &str| None;
        assert!(e.huawei.authenticate_receipt(&c, &none, now).is_err());
        let batch = e
            .huawei
            .parse_receipt(body, headers.get("content-type").map(String::as_str))
            .unwrap();
        assert_eq!(batch.unreadable, 0);
        for item in batch.items {
            assert_eq!(item.param.as_deref(), Some(PARAM));
            for t in item.targets {
                events.push((t, item.event.clone()));
            }
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = [
        ReceiptEvent::Delivered,
        ReceiptEvent::TokenDead,
        ReceiptEvent::Other("notifications_off".into()),
        ReceiptEvent::TokenDead,
    ];
    assert_eq!(events.len(), 4, "{events:?}");
    for ((t, ev), (target, want)) in events.iter().zip(ts.iter().zip(expected)) {
        assert_eq!(t, target.token.expose());
        assert_eq!(*ev, want, "{t}");
    }
}

#[tokio::test]
async fn daily_caps_come_back_as_a_word() {
    let (url, got) = receiver().await;
    let mut app = SimApp::new(APP, SECRET).with_receipts(ReceiptConfig::new("RCP1", &url));
    app.device_daily_cap = Some(1);
    let e = env_with(app, Duration::from_secs(3)).await;
    e.sim.set_receipt_delay(Duration::from_secs(3600));
    let mut c = cert(&e.huawei);
    c.receipt = Some(Receipts {
        receipt_id: Some("RCP1".into()),
        secret_hash: "h".into(),
        secret: None,
    });
    let ts = targets("cap", 1);
    let click = ClickAction::OpenApp;
    let mut m = message(&click);
    m.receipt = Some(ReceiptRequest {
        receipt_id: Some("RCP1"),
        url: None,
        param: PARAM,
    });
    push(&e.huawei, &c, &m, &ts).await;
    push(&e.huawei, &c, &m, &ts).await;
    e.sim.flush_receipts().await;
    let posts = got.lock().unwrap().clone();
    let mut events = Vec::new();
    for (headers, body) in &posts {
        // No callback secret on either side: no header, nothing to check.
        assert!(!headers.contains_key("x-huawei-callback-id"));
        let header = |name: &str| headers.get(name).cloned();
        e.huawei.authenticate_receipt(&c, &header, 0).unwrap();
        for item in e.huawei.parse_receipt(body, None).unwrap().items {
            events.push(item.event);
        }
    }
    assert!(events.contains(&ReceiptEvent::Delivered), "{events:?}");
    assert!(
        events.contains(&ReceiptEvent::Other("daily_cap".into())),
        "{events:?}"
    );
}

#[test]
fn http_urls_are_refused_at_upload() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(async {
        let store = Store::for_endpoint("http://127.0.0.1:9", "us-east-1", "unused").await;
        Huawei::new(store, None, Duration::from_secs(1))
    });
    let http = ClickAction::OpenUrl {
        url: "http://example.com/x".into(),
    };
    let e = h.check_click(&http, "click_action").unwrap_err();
    assert_eq!((e.status(), e.field()), (400, Some("click_action.url")));
    let https = ClickAction::OpenUrl {
        url: "HTTPS://example.com/x".into(),
    };
    assert!(h.check_click(&https, "click_action").is_ok());
    assert!(h.check_click(&ClickAction::OpenApp, "click_action").is_ok());
    assert_eq!(h.limits(), offpush_huawei::LIMITS);
    assert!(h.has_test_mode());
    assert_eq!(h.receipt_style(), offpush::vendor::ReceiptStyle::Console);
    const { assert!(!offpush_huawei::DEDUPLICATES) };
    assert_eq!(offpush_huawei::BASE_URL_VAR, "HUAWEI_API_BASE_URL");
}

#[tokio::test]
async fn auth_refusals_and_flow_control_during_a_push() {
    let e = env().await;
    let mut c = cert(&e.huawei);
    let click = ClickAction::OpenApp;
    // The token endpoint's flow control: the account's auth pauses, the
    // push is throttled and nothing is sent.
    e.sim
        .script_next(TOKEN_PATH, oauth_error_action(503, 1203, 0, "flow control"));
    let r = push(&e.huawei, &c, &message(&click), &targets("f", 2)).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Throttled));
    assert!(r.deliveries[0].retry_after_s.unwrap() >= 50);
    assert_eq!(e.sends(), 0);
    // Refused credentials: failed, the binding kept, the secret unsaid.
    let other = e.another_instance();
    c.credentials = credentials(&other, APP, "wrong-secret");
    let ts = targets("s", 1);
    let r = push(&other, &c, &message(&click), &ts).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    let detail = r.deliveries[0].detail.as_deref().unwrap();
    assert!(detail.contains("credentials were refused"), "{detail}");
    assert!(!detail.contains("wrong-secret"));
    no_secret_in(&r, &ts);
    assert_eq!(e.sends(), 0);
}
