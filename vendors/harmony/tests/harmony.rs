//! The HarmonyOS adapter through the vendor port, against the Push Kit v3
//! simulator started in-process and a table on the DynamoDB emulator
//! (`AWS_ENDPOINT_URL_DYNAMODB`).

use harmony_sim::{
    error_action, send_path, CallAction, ReceiptConfig, ReceiptKey, ServiceAccount, SimApp,
    SimConfig, Simulator, TokenVerdict,
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
use offpush_harmony::Harmony;
use serde_json::json;
use sim_kit::testing::ReceiptReceiver;
use std::time::{Duration, Instant};

const PROJECT: &str = "388421841221";
const KEY_ID: &str = "kid-0001";
const SUB: &str = "118079";
const KEY: &str = include_str!("harmony/test_key.pem");
const OTHER_KEY: &str = include_str!("harmony/other_key.pem");
const PARAM: &str = "op2.20261208.0123456789abcdef0123456789abcdef.0123456789abcdef";
/// A base64 receipt secret, as new AppGallery Connect configurations have.
const CB_SECRET: &str = "c2VjcmV0LWtleS1ieXRlcy0wMTIz";

async fn store() -> Store {
    let name = format!(
        "t-harmony-{}",
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
    harmony: Harmony,
}

fn app() -> SimApp {
    SimApp::new(PROJECT, ServiceAccount::new(KEY_ID, SUB, KEY))
}

async fn env_with(app: SimApp, timeout: Duration) -> Env {
    let sim = Simulator::start(SimConfig { apps: vec![app] })
        .await
        .unwrap();
    let store = store().await;
    let harmony = Harmony::new(store.clone(), Some(&sim.base_url()), timeout);
    Env {
        sim,
        store,
        harmony,
    }
}

async fn env() -> Env {
    env_with(app(), Duration::from_secs(3)).await
}

impl Env {
    fn another_instance(&self) -> Harmony {
        Harmony::new(
            self.store.clone(),
            Some(&self.sim.base_url()),
            Duration::from_secs(3),
        )
    }
    fn sends(&self) -> Vec<sim_kit::RecordedRequest> {
        self.sim.requests_to(&send_path(PROJECT))
    }
}

fn credentials_of(h: &Harmony, project: &str, key_id: &str, key: &str) -> VendorData {
    let body = json!({"credentials": {"service_account": {
        "project_id": project,
        "key_id": key_id,
        "sub_account": SUB,
        "private_key": key,
        "token_uri": "https://oauth-login.cloud.huawei.com/oauth2/v3/token",
        "auth_uri": "https://oauth-login.cloud.huawei.com/oauth2/v3/authorize",
    }}});
    let mut body = parse_body(body.to_string().as_bytes()).unwrap();
    h.parse_credentials(body.req_obj("credentials").unwrap(), None)
        .unwrap()
}

fn cert_with(credentials: VendorData) -> Certificate {
    let now = time::OffsetDateTime::now_utc();
    Certificate {
        id: CertificateId::new(7).unwrap(),
        platform: Platform::Harmony,
        name: "harmony".into(),
        credentials,
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

fn cert(h: &Harmony) -> Certificate {
    cert_with(credentials_of(h, PROJECT, KEY_ID, KEY))
}

fn targets(prefix: &str, n: usize) -> Vec<Target> {
    (0..n)
        .map(|i| Target {
            user: UserId::parse("to", &format!("user{i}")).unwrap(),
            device_id: None,
            token: PushToken::parse("token", &format!("MAAA{prefix}-token-{i:05}-abcdefgh"))
                .unwrap(),
        })
        .collect()
}

fn message(click: &ClickAction) -> Message<'_> {
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

async fn push(h: &Harmony, cert: &Certificate, m: &Message<'_>, targets: &[Target]) -> SendReport {
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
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        assert!(!text.contains("Bearer"), "{text}");
        for t in tokens {
            assert!(!text.contains(t.token.expose()), "{text}");
        }
    }
}

fn bearer(r: &sim_kit::RecordedRequest) -> String {
    r.header("authorization").unwrap().to_string()
}

#[tokio::test]
async fn a_push_to_one_target_carries_every_field() {
    let e = env().await;
    let c = cert(&e.harmony);
    let click = ClickAction::OpenPage {
        intent_uri: "myim://chat/alice".into(),
    };
    let ts = targets("one", 1);
    let r = push(&e.harmony, &c, &message(&click), &ts).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert!(r.deliveries[0].vendor_task_id.is_some());
    let d = &e.sim.deliveries()[0];
    assert_eq!(d.token, ts[0].token.expose());
    assert_eq!(d.title, "Alice");
    assert_eq!(d.body, "Hi, are you free tonight?");
    assert_eq!(d.category.as_deref(), Some("IM"));
    assert_eq!(d.effective_category, "IM");
    assert_eq!(d.push_type, 0);
    assert_eq!(
        d.click_action,
        json!({"actionType": 1, "uri": "myim://chat/alice", "data": {"ext": r#"{"conv":"c2c_alice"}"#}})
    );
    assert_eq!(d.notify_id, Some(42));
    assert_eq!(d.ttl, 3600);
    assert!(!d.test_message);
    assert_eq!(Some(d.request_id.clone()), r.deliveries[0].vendor_task_id);
    let req = &e.sends()[0];
    assert_eq!(req.header("push-type"), Some("0"));
    assert!(bearer(req).starts_with("Bearer ey"));
    no_secret_in(&r, &ts);
}

#[tokio::test]
async fn a_thousand_targets_go_in_one_call_and_one_more_in_two() {
    let e = env().await;
    let c = cert(&e.harmony);
    let click = ClickAction::OpenApp;
    let ts = targets("k", 1000);
    let r = push(&e.harmony, &c, &message(&click), &ts).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent));
    assert_eq!(e.sends().len(), 1);
    let ts = targets("l", 1001);
    let r = push(&e.harmony, &c, &message(&click), &ts).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent));
    let sends = e.sends();
    assert_eq!(sends.len(), 3);
    let sizes: Vec<usize> = sends[1..]
        .iter()
        .map(|s| s.body["target"]["token"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [501, 500]);
    assert_eq!(e.sim.deliveries().len(), 2001);
}

#[tokio::test]
async fn test_messages_go_ten_tokens_a_call() {
    let e = env().await;
    let mut c = cert(&e.harmony);
    c.push_mode = PushMode::Test;
    let click = ClickAction::OpenUrl {
        url: "https://example.com/chat".into(),
    };
    let mut m = message(&click);
    m.category = Category::Marketing;
    let ts = targets("t", 11);
    let r = push(&e.harmony, &c, &m, &ts).await;
    assert!(
        statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent),
        "{r:?}"
    );
    let sends = e.sends();
    assert_eq!(sends.len(), 2);
    for s in &sends {
        assert!(s.body["target"]["token"].as_array().unwrap().len() <= 10);
        assert_eq!(s.body["pushOptions"]["testMessage"], true);
    }
    let d = &e.sim.deliveries()[0];
    assert!(d.test_message);
    assert_eq!(d.category.as_deref(), Some("MARKETING"));
    assert_eq!(d.click_action["uri"], "https://example.com/chat");
    // Exactly ten: one call.
    let r = push(&e.harmony, &c, &m, &targets("u", 10)).await;
    assert_eq!(r.deliveries.len(), 10);
    assert_eq!(e.sends().len(), 3);
}

#[tokio::test]
async fn the_jwt_is_shared_through_the_table_and_minted_again_once_when_expired() {
    let e = env().await;
    let c = cert(&e.harmony);
    let click = ClickAction::OpenApp;
    let ts = targets("s", 2);
    push(&e.harmony, &c, &message(&click), &ts).await;
    // Another instance takes the same JWT from the table.
    let other = e.another_instance();
    push(&other, &c, &message(&click), &ts).await;
    let sends = e.sends();
    assert_eq!(bearer(&sends[0]), bearer(&sends[1]));
    // 80200005: a new JWT, the call once more.
    e.sim.script_next(
        &send_path(PROJECT),
        error_action("80200005", "Jwt token expired"),
    );
    let r = push(&e.harmony, &c, &message(&click), &ts).await;
    assert_eq!(
        statuses(&r),
        [DeliveryStatus::Sent, DeliveryStatus::Sent],
        "{r:?}"
    );
    let sends = e.sends();
    assert_eq!(sends.len(), 4);
    assert_eq!(bearer(&sends[2]), bearer(&sends[1]), "the old one refused");
    assert_ne!(bearer(&sends[3]), bearer(&sends[2]), "a new one");
    // Refused again after the new one: failed, no loop.
    e.sim.script_next(
        &send_path(PROJECT),
        error_action("80200005", "Jwt token expired"),
    );
    e.sim.script_next(
        &send_path(PROJECT),
        error_action("80200005", "Jwt token expired"),
    );
    let r = push(&e.harmony, &c, &message(&click), &ts).await;
    assert_eq!(
        statuses(&r),
        [DeliveryStatus::Failed, DeliveryStatus::Failed]
    );
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("again after a refresh"));
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80200005"));
    assert_eq!(e.sends().len(), 6);
}

#[tokio::test]
async fn verify_accepts_good_credentials_and_names_the_refused_field() {
    let e = env().await;
    let c = cert(&e.harmony);
    e.harmony.verify(&c).await.unwrap();
    let probe = &e.sends()[0];
    assert_eq!(
        probe.body["target"]["token"],
        json!([]),
        "nothing to deliver"
    );
    assert_eq!(probe.response["code"], "80300010");
    assert!(e.sim.deliveries().is_empty());
    // The verified JWT is shared: the next push mints none.
    push(
        &e.harmony,
        &c,
        &message(&ClickAction::OpenApp),
        &targets("v", 1),
    )
    .await;
    assert_eq!(bearer(&e.sends()[1]), bearer(probe));

    // Another key under a registered key id: Huawei refuses the JWT.
    let wrong = cert_with(credentials_of(&e.harmony, PROJECT, KEY_ID, OTHER_KEY));
    let err = e.harmony.verify(&wrong).await.unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.service_account"))
    );
    assert!(!err.to_string().contains("PRIVATE KEY"));
    // A key that is PEM but no RSA key: refused before any call.
    let before = e.sim.requests().len();
    let junk = "-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n";
    let bad = cert_with(credentials_of(&e.harmony, PROJECT, KEY_ID, junk));
    let err = e.harmony.verify(&bad).await.unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.service_account.private_key"))
    );
    assert_eq!(e.sim.requests().len(), before);
    // Push Kit off for the project.
    let mut off = app();
    off.push_enabled = false;
    off.project_id = "999".into();
    off.accounts = vec![ServiceAccount::new("kid-off", SUB, KEY)];
    e.sim.add_app(off).unwrap();
    let disabled = cert_with(credentials_of(&e.harmony, "999", "kid-off", KEY));
    let err = e.harmony.verify(&disabled).await.unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.service_account.project_id"))
    );
    // Vendor down: 503 / 502, not the credentials' fault.
    e.sim
        .script_always(&send_path(PROJECT), Some(CallAction::HttpStatus(503)));
    assert_eq!(e.harmony.verify(&c).await.unwrap_err().status(), 503);
    e.sim
        .script_always(&send_path(PROJECT), Some(CallAction::HttpStatus(500)));
    assert_eq!(e.harmony.verify(&c).await.unwrap_err().status(), 502);
    e.sim.script_always(&send_path(PROJECT), None);
    let nowhere = Harmony::new(
        e.store.clone(),
        Some("http://127.0.0.1:9"),
        Duration::from_secs(1),
    );
    assert_eq!(nowhere.verify(&c).await.unwrap_err().status(), 502);
}

#[tokio::test]
async fn illegal_tokens_end_exactly_the_named_targets() {
    let e = env().await;
    let c = cert(&e.harmony);
    e.sim
        .set_settings(harmony_sim::Settings {
            pad_illegal_keys: true,
            ..Default::default()
        })
        .unwrap();
    let ts = targets("d", 5);
    for (i, reason) in [
        (1, "tokenFormatError"),
        (2, "noRight"),
        (3, "appinfoError"),
        (4, "tokenPlatformNotSupport"),
    ] {
        e.sim
            .set_token(ts[i].token.expose(), TokenVerdict::Illegal(reason.into()))
            .unwrap();
    }
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts).await;
    use DeliveryStatus::*;
    assert_eq!(
        statuses(&r),
        [Sent, TokenInvalid, TokenInvalid, Failed, TokenInvalid],
        "{r:?}"
    );
    assert_eq!(e.sends()[0].response["code"], "80100000");
    assert_eq!(r.deliveries[1].vendor_code.as_deref(), Some("80100000"));
    assert!(r.deliveries[3]
        .detail
        .as_deref()
        .unwrap()
        .contains("appinfoError"));
    no_secret_in(&r, &ts);
    // Every token refused, some of them dead: 80300007, each as listed.
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts[1..4]).await;
    assert_eq!(statuses(&r), [TokenInvalid, TokenInvalid, Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80300007"));
}

#[tokio::test]
async fn every_token_no_right_is_a_configuration_error_and_ends_nothing() {
    let e = env().await;
    let c = cert(&e.harmony);
    let ts = targets("n", 3);
    for t in &ts {
        e.sim
            .set_token(t.token.expose(), TokenVerdict::Illegal("noRight".into()))
            .unwrap();
    }
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts).await;
    assert!(
        statuses(&r).iter().all(|s| *s == DeliveryStatus::Failed),
        "{r:?}"
    );
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("bindings kept"));
    // Rights and penalties: failed with the code, never a dead token.
    for (code, text) in [
        ("80300002", "No permission to send message to these tmIDs"),
        ("80300037", "Disable send huawei msg"),
        ("80100003", "Illegal payload, x"),
    ] {
        e.sim
            .script_next(&send_path(PROJECT), error_action(code, text));
        let r = push(
            &e.harmony,
            &c,
            &message(&ClickAction::OpenApp),
            &targets("x", 2),
        )
        .await;
        assert!(
            r.deliveries
                .iter()
                .all(|d| d.status != DeliveryStatus::TokenInvalid
                    && d.vendor_code.as_deref() == Some(code)),
            "{code}: {r:?}"
        );
    }
}

#[tokio::test]
async fn flow_control_is_retried_then_throttled() {
    let e = env().await;
    let c = cert(&e.harmony);
    let ts = targets("f", 2);
    e.sim
        .script_next(&send_path(PROJECT), CallAction::HttpStatus(503));
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent, DeliveryStatus::Sent]);
    assert_eq!(e.sends().len(), 2, "retried once");
    e.sim
        .script_always(&send_path(PROJECT), Some(CallAction::HttpStatus(503)));
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts).await;
    assert_eq!(
        statuses(&r),
        [DeliveryStatus::Throttled, DeliveryStatus::Throttled]
    );
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("http_503"));
    assert_eq!(e.sends().len(), 5, "three attempts");
}

#[tokio::test]
async fn server_errors_are_retried_and_silence_is_never_resent() {
    let e = env_with(app(), Duration::from_millis(800)).await;
    let c = cert(&e.harmony);
    let ts = targets("g", 1);
    e.sim
        .script_next(&send_path(PROJECT), error_action("81000001", "Inner Error"));
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    e.sim
        .script_always(&send_path(PROJECT), Some(CallAction::HttpStatus(502)));
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("after 3 attempts"));
    e.sim.script_always(
        &send_path(PROJECT),
        Some(CallAction::Delay(Duration::from_secs(2))),
    );
    let before = e.sends().len();
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("no_answer"));
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("not sent again"));
    // The simulator records a delayed call when its delay ends (with room
    // for a loaded machine).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        e.sends().len(),
        before + 1,
        "a call that may have been written goes once"
    );
}

#[tokio::test]
async fn a_key_that_cannot_sign_fails_the_push_without_a_call() {
    let e = env().await;
    let junk = "-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n";
    let c = cert_with(credentials_of(&e.harmony, PROJECT, KEY_ID, junk));
    let ts = targets("b", 2);
    let r = push(&e.harmony, &c, &message(&ClickAction::OpenApp), &ts).await;
    assert_eq!(
        statuses(&r),
        [DeliveryStatus::Failed, DeliveryStatus::Failed]
    );
    let d = &r.deliveries[0];
    assert_eq!(d.vendor_code.as_deref(), Some("jwt"));
    assert!(
        d.detail
            .as_deref()
            .unwrap()
            .contains("credentials were refused"),
        "{d:?}"
    );
    assert!(e.sends().is_empty());
    no_secret_in(&r, &ts);
}

#[tokio::test]
async fn an_oversize_message_is_never_sent() {
    let e = env().await;
    let c = cert(&e.harmony);
    let ext = "\u{1}".repeat(1021);
    let click = ClickAction::OpenApp;
    let mut m = message(&click);
    m.ext = Some(&ext);
    let r = push(&e.harmony, &c, &m, &targets("o", 2)).await;
    assert_eq!(
        statuses(&r),
        [DeliveryStatus::Rejected, DeliveryStatus::Rejected]
    );
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("80300008"));
    assert_eq!((r.calls, e.sends().len()), (0, 0));
}

type Seen = (Option<String>, Vec<u8>);

fn read_receipt(h: &http::HeaderMap, body: &[u8]) -> Seen {
    (
        h.get("x-huawei-callback-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body.to_vec(),
    )
}

async fn receipts_round_trip(key: ReceiptKey) {
    let rx: ReceiptReceiver<Seen> =
        ReceiptReceiver::start("/v1/receipts/harmony/S", read_receipt).await;
    let config = ReceiptConfig::new("RCP1", &rx.url)
        .signed("receipt-user", CB_SECRET)
        .with_key(key);
    let e = env_with(app().with_receipts(config), Duration::from_secs(3)).await;
    e.sim.set_receipt_delay(Duration::from_secs(3600));
    let mut c = cert(&e.harmony);
    let options =
        json!({"vendor_options": {"callback_user": "receipt-user", "callback_secret": CB_SECRET}});
    let mut body = parse_body(options.to_string().as_bytes()).unwrap();
    c.options = e
        .harmony
        .parse_options(body.opt_obj("vendor_options").unwrap(), None)
        .unwrap();
    c.receipt = Some(Receipts {
        receipt_id: Some("RCP1".into()),
        secret_hash: "h".into(),
        secret: None,
    });
    let click = ClickAction::OpenApp;
    let mut m = message(&click);
    m.receipt = Some(ReceiptRequest {
        receipt_id: Some("RCP1"),
        url: None,
        param: PARAM,
    });
    let ts = targets("r", 4);
    let r = push(&e.harmony, &c, &m, &ts).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent));
    let d = &e.sim.deliveries()[0];
    assert_eq!(
        (d.receipt_id.as_deref(), d.bi_tag.as_deref()),
        (Some("RCP1"), Some(PARAM))
    );
    let request_id = r.deliveries[0].vendor_task_id.clone().unwrap();
    let dead = [ts[1].token.expose(), ts[2].token.expose()];
    e.sim.send_receipt(&request_id, 2, Some(&dead)).unwrap();
    e.sim
        .send_receipt(&request_id, 102, Some(&[ts[3].token.expose()]))
        .unwrap();
    e.sim.flush_receipts().await;
    let seen = rx.seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the simulator posted receipts");
    let now = e.sim.now_ms();
    let mut delivered = Vec::new();
    let mut ended = Vec::new();
    let mut words = Vec::new();
    for (header, body) in &seen {
        let value = header.clone().expect("signed");
        let h = |name: &str| (name == "x-huawei-callback-id").then(|| value.clone());
        e.harmony.authenticate_receipt(&c, &h, now).unwrap();
        // A stale or foreign signature changes nothing.
        assert_eq!(
            e.harmony
                .authenticate_receipt(&c, &h, now + 10 * 60 * 1000)
                .unwrap_err()
                .status(),
            401
        );
        let none = |_: &str| None;
        assert_eq!(
            e.harmony
                .authenticate_receipt(&c, &none, now)
                .unwrap_err()
                .status(),
            401
        );
        for item in e
            .harmony
            .parse_receipt(body, Some("application/json"))
            .unwrap()
            .items
        {
            assert_eq!(item.param.as_deref(), Some(PARAM));
            match item.event {
                ReceiptEvent::Delivered => delivered.extend(item.targets),
                ReceiptEvent::TokenDead => ended.extend(item.targets),
                ReceiptEvent::Other(w) => words.push((w, item.targets)),
            }
        }
    }
    delivered.sort();
    ended.sort();
    let all: Vec<String> = ts.iter().map(|t| t.token.expose().to_string()).collect();
    assert_eq!(delivered, all, "every accepted target delivered");
    assert_eq!(ended, [dead[0].to_string(), dead[1].to_string()]);
    assert_eq!(words, [("device_cap".to_string(), vec![all[3].clone()])]);
    // Another secret on the certificate: refused.
    let mut other = c.clone();
    let options =
        json!({"vendor_options": {"callback_user": "receipt-user", "callback_secret": "b3RoZXI="}});
    let mut body = parse_body(options.to_string().as_bytes()).unwrap();
    other.options = e
        .harmony
        .parse_options(body.opt_obj("vendor_options").unwrap(), None)
        .unwrap();
    let value = seen[0].0.clone().unwrap();
    let h = |name: &str| (name == "x-huawei-callback-id").then(|| value.clone());
    assert_eq!(
        e.harmony
            .authenticate_receipt(&other, &h, now)
            .unwrap_err()
            .status(),
        401
    );
}

#[tokio::test]
async fn receipts_signed_with_the_decoded_secret_are_verified_and_parsed() {
    receipts_round_trip(ReceiptKey::Base64Decoded).await;
}

#[tokio::test]
async fn receipts_signed_with_the_legacy_utf8_secret_are_verified_too() {
    receipts_round_trip(ReceiptKey::Utf8).await;
}
