//! The Honor adapter through the vendor port, against the Honor simulator
//! (in-process) and a store on the DynamoDB emulator
//! (`AWS_ENDPOINT_URL_DYNAMODB`).

use honor_sim::{
    error_action, oauth_error_action, send_path, CallAction, ResponseShape, SimApp, SimConfig,
    Simulator, TokenVerdict, TOKEN_PATH,
};
use offpush::domain::{
    Category, Certificate, CertificateId, ClickAction, DeliveryStatus, Platform, PushMode,
    PushToken, UserId, VendorData,
};
use offpush::store::Store;
use offpush::vendor::kit::Budget;
use offpush::vendor::{
    chunk_sizes, Message, ReceiptEvent, ReceiptRequest, Send, SendReport, Target, Vendor,
};
use offpush_honor::credentials::HonorCredentials;
use offpush_honor::Honor;
use sim_kit::ReceiptSettings;
use std::time::{Duration, Instant};

const APP: &str = "104400001";
const CLIENT: &str = "client-1";
const SECRET: &str = "client-secret-value-1";
const PARAM: &str = "op2.20261208.0123456789abcdef0123456789abcdef.0123456789abcdef";

struct Env {
    sim: Simulator,
    store: Store,
    honor: Honor,
}

async fn store() -> Store {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("AWS_ENDPOINT_URL_DYNAMODB (the DynamoDB emulator)");
    let table = format!("honor-test-{}", uuid::Uuid::new_v4().simple());
    let store = Store::for_endpoint(&endpoint, "us-east-1", table).await;
    store.create_table().await.expect("table created");
    store
}

async fn env_with(settings: honor_sim::Settings, timeout: Duration) -> Env {
    let sim = Simulator::start(SimConfig {
        apps: vec![SimApp::new(APP, CLIENT, SECRET)],
        settings,
    })
    .await
    .expect("simulator starts");
    let store = store().await;
    let honor = Honor::new(store.clone(), Some(&sim.base_url()), timeout);
    Env { sim, store, honor }
}

async fn env() -> Env {
    env_with(honor_sim::Settings::default(), Duration::from_secs(3)).await
}

fn creds(app_id: &str, client_id: &str, secret: &str) -> VendorData {
    HonorCredentials {
        app_id: app_id.into(),
        client_id: client_id.into(),
        client_secret: offpush::domain::Secret::new(secret),
    }
    .to_data()
}

fn cert_with(credentials: VendorData, push_mode: PushMode) -> Certificate {
    let now = time::OffsetDateTime::now_utc();
    Certificate {
        id: CertificateId::new(7).unwrap(),
        platform: Platform::Honor,
        name: "honor".into(),
        credentials,
        options: VendorData::new(),
        click_action: ClickAction::OpenApp,
        category: Category::Im,
        push_mode,
        default_title: None,
        receipt: None,
        created_at: now,
        updated_at: now,
    }
}

fn cert() -> Certificate {
    cert_with(creds(APP, CLIENT, SECRET), PushMode::Production)
}

fn targets(names: &[String]) -> Vec<Target> {
    names
        .iter()
        .enumerate()
        .map(|(i, t)| Target {
            user: UserId::parse("user", &format!("u{i}")).unwrap(),
            device_id: None,
            token: PushToken::parse("token", t).unwrap(),
        })
        .collect()
}

fn tokens(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}-{i:04}-honor-push-token"))
        .collect()
}

async fn send_with(
    honor: &Honor,
    cert: &Certificate,
    tokens: &[String],
    receipt: Option<ReceiptRequest<'_>>,
) -> SendReport {
    let click = cert.click_action.clone();
    let m = Message {
        push_key: "app-1/req-1",
        title: "Alice",
        desc: "Hi, are you free tonight?",
        ext: Some("{\"conv\":\"c2c_alice\"}"),
        category: cert.category,
        ttl_seconds: 3600,
        click: &click,
        notify_id: Some(42),
        receipt,
    };
    let targets = targets(tokens);
    let chunks = chunk_sizes(targets.len(), honor.batching(cert, &m));
    let budget = Budget::new(Instant::now() + Duration::from_secs(10), 64);
    let report = honor
        .send(Send {
            cert,
            message: &m,
            targets: &targets,
            chunks: &chunks,
            budget: &budget,
        })
        .await;
    assert_eq!(
        report.deliveries.len(),
        tokens.len(),
        "one delivery per target"
    );
    report
}

async fn send(honor: &Honor, cert: &Certificate, tokens: &[String]) -> SendReport {
    send_with(honor, cert, tokens, None).await
}

fn statuses(r: &SendReport) -> Vec<DeliveryStatus> {
    r.deliveries.iter().map(|d| d.status).collect()
}

fn token_calls(sim: &Simulator) -> usize {
    sim.requests_to(TOKEN_PATH).len()
}

fn send_calls(sim: &Simulator) -> usize {
    sim.requests_to(&send_path(APP)).len()
}

#[tokio::test]
async fn one_target_goes_out_as_honor_documents_it() {
    let e = env().await;
    let r = send(&e.honor, &cert(), &tokens("one", 1)).await;
    let d = &r.deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Sent, "{d:?}");
    assert!(d.vendor_task_id.is_some(), "Honor's requestId");
    assert_eq!(r.calls, 2, "one token call, one send");
    let got = e.sim.deliveries();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(Some(&g.request_id), d.vendor_task_id.as_ref());
    assert_eq!(g.title.as_deref(), Some("Alice"));
    assert_eq!(g.body.as_deref(), Some("Hi, are you free tonight?"));
    assert_eq!(g.click_type, Some(3));
    assert_eq!(g.importance.as_deref(), Some("NORMAL"));
    assert_eq!(g.classification.as_deref(), Some("service"));
    assert_eq!(g.ttl.as_deref(), Some("3600s"));
    assert_eq!(g.data.as_deref(), Some("{\"conv\":\"c2c_alice\"}"));
    assert_eq!(g.notify_id, Some(42));
    assert!(!g.test);
    let req = &e.sim.requests_to(&send_path(APP))[0];
    let ts = req.header("timestamp").unwrap();
    assert!(
        ts.len() == 13 && ts.bytes().all(|b| b.is_ascii_digit()),
        "{ts}"
    );
    assert!(req.header("authorization").unwrap().starts_with("Bearer "));
    assert_eq!(token_calls(&e.sim), 1);
}

#[tokio::test]
async fn operational_categories_are_low_and_clicks_map() {
    let e = env().await;
    let mut c = cert();
    c.category = Category::Marketing;
    c.click_action = ClickAction::OpenUrl {
        url: "https://example.com/x".into(),
    };
    send(&e.honor, &c, &tokens("op", 1)).await;
    c.category = Category::Order;
    c.click_action = ClickAction::OpenPage {
        intent_uri: "intent:#Intent;component=com.example.im/.Chat;end".into(),
    };
    send(&e.honor, &c, &tokens("page", 1)).await;
    let got = e.sim.deliveries();
    assert_eq!(got[0].importance.as_deref(), Some("LOW"));
    assert_eq!(got[0].classification.as_deref(), Some("marketing"));
    assert_eq!(got[0].click_type, Some(2));
    assert_eq!(got[1].importance.as_deref(), Some("NORMAL"));
    assert_eq!(got[1].click_type, Some(1));
    // http URLs are refused at upload: Honor opens https only.
    let http = ClickAction::OpenUrl {
        url: "http://example.com".into(),
    };
    let err = e.honor.check_click(&http, "click_action").unwrap_err();
    assert_eq!(err.field(), Some("click_action.url"));
}

#[tokio::test]
async fn a_thousand_targets_are_one_call_and_one_more_splits() {
    let e = env().await;
    let r = send(&e.honor, &cert(), &tokens("k", 1000)).await;
    assert!(r
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Sent));
    assert_eq!(send_calls(&e.sim), 1);
    let r = send(&e.honor, &cert(), &tokens("m", 1001)).await;
    assert!(r
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Sent));
    let calls = e.sim.requests_to(&send_path(APP));
    assert_eq!(calls.len(), 3);
    let mut sizes: Vec<usize> = calls[1..]
        .iter()
        .map(|c| c.body["token"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [500, 501]);
    assert_eq!(e.sim.deliveries().len(), 2001);
    assert_eq!(token_calls(&e.sim), 1, "one token for every call");
}

#[tokio::test]
async fn the_token_is_shared_through_the_table() {
    let e = env().await;
    send(&e.honor, &cert(), &tokens("a", 1)).await;
    assert_eq!(token_calls(&e.sim), 1);
    // Another instance on the same table: no token call of its own.
    let other = Honor::new(
        e.store.clone(),
        Some(&e.sim.base_url()),
        Duration::from_secs(3),
    );
    let r = send(&other, &cert(), &tokens("b", 1)).await;
    assert_eq!(r.deliveries[0].status, DeliveryStatus::Sent);
    assert_eq!(r.calls, 1);
    assert_eq!(token_calls(&e.sim), 1);
    // A credential check's token is shared too.
    let e2 = env().await;
    e2.honor.verify(&cert()).await.unwrap();
    let third = Honor::new(
        e2.store.clone(),
        Some(&e2.sim.base_url()),
        Duration::from_secs(3),
    );
    let r = send(&third, &cert(), &tokens("c", 1)).await;
    assert_eq!((r.calls, token_calls(&e2.sim)), (1, 1));
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_in_either_shape() {
    for shape in [ResponseShape::Code200, ResponseShape::Huawei] {
        let e = env_with(
            honor_sim::Settings {
                response_shape: shape,
                ..Default::default()
            },
            Duration::from_secs(3),
        )
        .await;
        send(&e.honor, &cert(), &tokens("a", 1)).await;
        assert_eq!(e.sim.invalidate_access_tokens(None), 1);
        let r = send(&e.honor, &cert(), &tokens("b", 1)).await;
        assert_eq!(r.deliveries[0].status, DeliveryStatus::Sent, "{shape:?}");
        assert_eq!(token_calls(&e.sim), 2, "{shape:?}");
        assert_eq!(r.calls, 3, "refused send, token call, send again");
        // Refused again after the renewal: failed, and no third token.
        e.sim.script_always(
            &send_path(APP),
            Some(match shape {
                ResponseShape::Code200 => error_action(401, "Oauth Token expired"),
                ResponseShape::Huawei => error_action("80200003", "Oauth Token expired"),
            }),
        );
        let r = send(&e.honor, &cert(), &tokens("c", 1)).await;
        let d = &r.deliveries[0];
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert!(
            d.detail
                .as_deref()
                .unwrap()
                .contains("again after a refresh"),
            "{d:?}"
        );
        assert_eq!(token_calls(&e.sim), 3, "{shape:?}: one renewal only");
    }
}

#[tokio::test]
async fn verify_accepts_good_credentials_and_names_refused_fields() {
    let e = env().await;
    e.honor.verify(&cert()).await.expect("good credentials");
    assert!(e.sim.deliveries().is_empty(), "the check reaches no device");
    let bad_secret = cert_with(creds(APP, CLIENT, "wrong-secret"), PushMode::Production);
    let err = e.honor.verify(&bad_secret).await.unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.client_secret"))
    );
    assert!(!err.to_string().contains("wrong-secret"));
    let unknown_client = cert_with(creds(APP, "nobody", SECRET), PushMode::Production);
    let err = e.honor.verify(&unknown_client).await.unwrap_err();
    assert_eq!(err.status(), 422);
    // A client of another app: the App ID is refused.
    e.sim
        .add_app(SimApp::new("104400002", "client-2", "secret-2"));
    let mixed = cert_with(creds("104400002", CLIENT, SECRET), PushMode::Production);
    let err = e.honor.verify(&mixed).await.unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.app_id"))
    );
    // Honor down: 502, never blamed on the credentials.
    e.sim.script_next(TOKEN_PATH, CallAction::HttpStatus(500));
    let err = e.honor.verify(&cert()).await.unwrap_err();
    assert_eq!(err.status(), 502);
    e.sim.script_next(
        TOKEN_PATH,
        oauth_error_action(400, "unsupported_grant_type", "x"),
    );
    assert_eq!(e.honor.verify(&cert()).await.unwrap_err().status(), 502);
}

#[tokio::test]
async fn dead_token_verdicts_end_exactly_the_named_targets() {
    let e = env().await;
    e.sim.set_token("dead-1", TokenVerdict::Expired);
    e.sim.set_token("fail-1", TokenVerdict::Failed);
    let names: Vec<String> = ["ok-1", "dead-1", "fail-1", "ok-2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let r = send(&e.honor, &cert(), &names).await;
    assert_eq!(
        statuses(&r),
        [
            DeliveryStatus::Sent,
            DeliveryStatus::TokenInvalid,
            DeliveryStatus::Failed,
            DeliveryStatus::Sent
        ]
    );
    assert_eq!(r.deliveries[1].vendor_code.as_deref(), Some("expireTokens"));
    assert_eq!(r.deliveries[2].vendor_code.as_deref(), Some("failTokens"));
    for d in &r.deliveries {
        assert!(!d.detail.as_deref().unwrap_or("").contains("dead-1"));
    }
    // Every token dead: sendResult false, each its own verdict.
    let r = send(&e.honor, &cert(), &["dead-1".to_string()]).await;
    assert_eq!(statuses(&r), [DeliveryStatus::TokenInvalid]);
}

#[tokio::test]
async fn the_huawei_shape_verdicts_are_read_too() {
    let e = env_with(
        honor_sim::Settings {
            response_shape: ResponseShape::Huawei,
            ..Default::default()
        },
        Duration::from_secs(3),
    )
    .await;
    e.sim.set_token("dead-1", TokenVerdict::Expired);
    let names: Vec<String> = ["ok-1", "dead-1", "ok-2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let r = send(&e.honor, &cert(), &names).await;
    assert_eq!(
        statuses(&r),
        [
            DeliveryStatus::Sent,
            DeliveryStatus::TokenInvalid,
            DeliveryStatus::Sent
        ]
    );
    assert_eq!(r.deliveries[1].vendor_code.as_deref(), Some("80100000"));
    // Every token dead: 80300007.
    let r = send(&e.honor, &cert(), &["dead-1".to_string()]).await;
    assert_eq!(statuses(&r), [DeliveryStatus::TokenInvalid]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80300007"));
    let r = send(&e.honor, &cert(), &tokens("fine", 2)).await;
    assert!(r
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Sent));
}

#[tokio::test]
async fn rate_limits_pause_the_app_and_server_errors_are_retried() {
    let e = env().await;
    let c = cert();
    e.sim
        .script_next(&send_path(APP), error_action(429, "quota exceeded"));
    let r = send(&e.honor, &c, &tokens("a", 2)).await;
    for d in &r.deliveries {
        assert_eq!(d.status, DeliveryStatus::Throttled);
        assert_eq!(d.vendor_code.as_deref(), Some("429"));
        assert!(d.retry_after_s.is_some());
    }
    // Paused: the next push does not call Honor.
    let before = send_calls(&e.sim);
    let r = send(&e.honor, &c, &tokens("b", 1)).await;
    assert_eq!(r.deliveries[0].status, DeliveryStatus::Throttled);
    assert_eq!(send_calls(&e.sim), before);
    e.honor.forget_pauses(&e.honor.account(&c).unwrap()).await;
    assert_eq!(
        send(&e.honor, &c, &tokens("c", 1)).await.deliveries[0].status,
        DeliveryStatus::Sent
    );
    // Flow control (HTTP 503 without a code): throttled too.
    e.sim
        .script_next(&send_path(APP), CallAction::HttpStatus(503));
    let r = send(&e.honor, &c, &tokens("d", 1)).await;
    assert_eq!(r.deliveries[0].status, DeliveryStatus::Throttled);
    // A pause's delivery carries the pause's code (the kit's rule): the
    // HTTP status stands for it.
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("503"));
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("flow control"));
    e.honor.forget_pauses(&e.honor.account(&c).unwrap()).await;
    // One 500: retried, then sent.
    let before = send_calls(&e.sim);
    e.sim
        .script_next(&send_path(APP), CallAction::HttpStatus(500));
    let r = send(&e.honor, &c, &tokens("e", 1)).await;
    assert_eq!(r.deliveries[0].status, DeliveryStatus::Sent);
    assert_eq!(send_calls(&e.sim) - before, 2);
    // 5xx every time: failed after the attempt limit, binding kept.
    let before = send_calls(&e.sim);
    e.sim
        .script_always(&send_path(APP), Some(error_action(502, "bad gateway")));
    let r = send(&e.honor, &c, &tokens("f", 1)).await;
    let d = &r.deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.vendor_code.as_deref(), Some("502"));
    assert!(
        d.detail.as_deref().unwrap().contains("after 3 attempts"),
        "{d:?}"
    );
    assert_eq!(send_calls(&e.sim) - before, 3);
    // An answer that is not JSON: retried like a 5xx.
    e.sim.script_always(&send_path(APP), None);
    e.sim.script_next(&send_path(APP), CallAction::Garbage);
    assert_eq!(
        send(&e.honor, &c, &tokens("g", 1)).await.deliveries[0].status,
        DeliveryStatus::Sent
    );
}

#[tokio::test]
async fn a_call_that_may_have_been_written_is_not_sent_again() {
    // Room for a loaded machine; the silent call is held 3 s.
    let e = env_with(honor_sim::Settings::default(), Duration::from_millis(1000)).await;
    let c = cert();
    // Warm the token first, so only the send times out.
    send(&e.honor, &c, &tokens("warm", 1)).await;
    e.sim.script_next(
        &send_path(APP),
        CallAction::Delay(Duration::from_millis(3000)),
    );
    let r = send(&e.honor, &c, &tokens("slow", 1)).await;
    let d = &r.deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.vendor_code.as_deref(), Some("no_answer"));
    assert!(
        d.detail.as_deref().unwrap().contains("outcome is unknown"),
        "{d:?}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(send_calls(&e.sim), 2, "the timed-out call was not repeated");
    // The token endpoint silent: retried, then failed; nothing sent.
    let e = env_with(honor_sim::Settings::default(), Duration::from_millis(300)).await;
    e.sim
        .script_always(TOKEN_PATH, Some(CallAction::HttpStatus(503)));
    let r = send(&e.honor, &c, &tokens("x", 1)).await;
    assert_eq!(r.deliveries[0].status, DeliveryStatus::Throttled);
    assert_eq!(send_calls(&e.sim), 0);
}

#[tokio::test]
async fn test_mode_sends_test_messages() {
    let e = env().await;
    let c = cert_with(creds(APP, CLIENT, SECRET), PushMode::Test);
    let r = send(&e.honor, &c, &tokens("t", 2)).await;
    assert!(r
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Sent));
    let got = e.sim.deliveries();
    assert!(got.iter().all(|d| d.test));
    assert_eq!(e.sim.usage(APP).test_delivered, 2);
    assert!(e.honor.has_test_mode());
}

#[tokio::test]
async fn receipts_from_the_simulator_are_parsed() {
    for delivered in [0, 40000002] {
        let e = env_with(
            honor_sim::Settings {
                receipt_delivered_status: delivered,
                ..Default::default()
            },
            Duration::from_secs(3),
        )
        .await;
        // Nothing listens there: the POST is logged with its body and dropped.
        e.sim
            .set_receipt_url(APP, Some("http://127.0.0.1:9/v1/receipts/honor/S"))
            .unwrap();
        e.sim.set_receipt_settings(ReceiptSettings {
            delay: Duration::ZERO,
            redeliver: false,
            retries: 0,
            retry_backoff: Duration::from_millis(10),
        });
        let receipt = ReceiptRequest {
            receipt_id: Some("rid-1"),
            url: None,
            param: PARAM,
        };
        let names = tokens("r", 3);
        let r = send_with(&e.honor, &cert(), &names, Some(receipt)).await;
        let request_id = r.deliveries[0].vendor_task_id.clone().unwrap();
        e.sim.flush_receipts().await;
        e.sim
            .send_receipt(&request_id, 2, Some(&[names[0].as_str()]))
            .unwrap();
        e.sim.flush_receipts().await;
        let log = e.sim.receipt_log();
        assert!(!log.is_empty());
        let mut delivered_targets = Vec::new();
        let mut others = Vec::new();
        for post in &log {
            let body = serde_json::to_vec(&post.body).unwrap();
            let batch = e
                .honor
                .parse_receipt(&body, Some("application/json"))
                .unwrap();
            assert_eq!(batch.unreadable, 0);
            for item in batch.items {
                assert_eq!(item.param.as_deref(), Some(PARAM), "biTag comes back");
                match item.event {
                    ReceiptEvent::Delivered => delivered_targets.extend(item.targets),
                    ReceiptEvent::Other(word) => others.push((word, item.targets)),
                    ReceiptEvent::TokenDead => panic!("no status ends a binding"),
                }
            }
        }
        delivered_targets.sort();
        assert_eq!(delivered_targets, names, "status {delivered}");
        assert_eq!(others, [("status_2".to_string(), vec![names[0].clone()])]);
    }
}

#[tokio::test]
async fn the_products_longest_message_is_taken_unchanged() {
    let e = env().await;
    let c = cert();
    let title = "字".repeat(40);
    let desc = "消".repeat(100);
    // 1021 bytes of ext, quotes included (JSON escapes them).
    let ext = format!(
        "{{\"q\":\"{}\"}}",
        "\\\"".repeat(100) + &"x".repeat(1021 - 8 - 200)
    );
    assert_eq!(ext.len(), 1021);
    let click = ClickAction::OpenUrl {
        url: format!("https://example.com/{}", "p".repeat(980)),
    };
    let m = Message {
        push_key: "app-1/long",
        title: &title,
        desc: &desc,
        ext: Some(&ext),
        category: Category::Im,
        ttl_seconds: 86_400,
        click: &click,
        notify_id: Some(i32::MAX as u32),
        receipt: Some(ReceiptRequest {
            receipt_id: Some("rid"),
            url: None,
            param: PARAM,
        }),
    };
    let targets = targets(&tokens("long", 3));
    let chunks = chunk_sizes(targets.len(), e.honor.batching(&c, &m));
    let budget = Budget::new(Instant::now() + Duration::from_secs(10), 64);
    let r = e
        .honor
        .send(Send {
            cert: &c,
            message: &m,
            targets: &targets,
            chunks: &chunks,
            budget: &budget,
        })
        .await;
    assert!(
        r.deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Sent),
        "{:?}",
        r.deliveries
    );
    let got = &e.sim.deliveries()[0];
    assert_eq!(got.title.as_deref(), Some(title.as_str()));
    assert_eq!(got.body.as_deref(), Some(desc.as_str()));
    assert_eq!(got.data.as_deref(), Some(ext.as_str()));
    assert_eq!(got.ttl.as_deref(), Some("86400s"));
    assert_eq!(got.bi_tag.as_deref(), Some(PARAM));
    assert_eq!(got.notify_id, Some(i64::from(i32::MAX)));
}
