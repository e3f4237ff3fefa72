//! The OPPO adapter through the `Vendor` trait against the OPPO simulator
//! (in-process) and a `Store` on the DynamoDB emulator
//! (`AWS_ENDPOINT_URL_DYNAMODB`).

use offpush::domain::{
    Category, Certificate, CertificateId, ClickAction, DeliveryStatus, Platform, PushMode,
    PushToken, Receipts, Secret, UserId, VendorData,
};
use offpush::store::Store;
use offpush::vendor::kit::Budget;
use offpush::vendor::{
    chunk_sizes, Message, ReceiptEvent, ReceiptRequest, Send, SendReport, Target, Vendor,
};
use offpush_oppo::credentials::{OppoCredentials, OppoOptions, Region};
use offpush_oppo::{Oppo, UNICAST_BATCH_PATH, UNICAST_PATH};
use oppo_sim::{
    error_action, CallAction, Quotas, RegIdVerdict, SimApp, SimConfig, Simulator, TemplateRule,
};
use std::time::{Duration, Instant};

const APP_ID: &str = "30001";
const APP_KEY: &str = "oppo-app-key-1";
const MASTER: &str = "oppo-master-secret-0001";
const AUTH: &str = "/server/v1/auth";

struct Env {
    sim: Simulator,
    store: Store,
    oppo: Oppo,
}

async fn store() -> Store {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("AWS_ENDPOINT_URL_DYNAMODB (the DynamoDB emulator)");
    let table = format!("oppo-test-{}", uuid::Uuid::new_v4());
    let store = Store::for_endpoint(&endpoint, "us-east-1", table).await;
    store.create_table().await.expect("table created");
    store
}

async fn env_with(app: SimApp, timeout: Duration) -> Env {
    let sim = Simulator::start(SimConfig {
        apps: vec![app],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let store = store().await;
    let oppo = Oppo::new(store.clone(), Some(&sim.base_url()), timeout);
    Env { sim, store, oppo }
}

async fn env() -> Env {
    env_with(SimApp::new(APP_ID, APP_KEY, MASTER), Duration::from_secs(2)).await
}

fn creds(app_key: &str, master: &str) -> VendorData {
    OppoCredentials {
        app_key: app_key.into(),
        master_secret: Secret::new(master),
        region: Region::Cn,
    }
    .to_data()
}

fn cert_with(credentials: VendorData, options: OppoOptions) -> Certificate {
    let now = time::OffsetDateTime::now_utc();
    Certificate {
        id: CertificateId::new(7).unwrap(),
        platform: Platform::Oppo,
        name: "oppo".into(),
        credentials,
        options: options.to_data(),
        click_action: ClickAction::OpenApp,
        category: Category::Im,
        push_mode: PushMode::Production,
        default_title: None,
        receipt: None,
        created_at: now,
        updated_at: now,
    }
}

fn cert() -> Certificate {
    cert_with(creds(APP_KEY, MASTER), OppoOptions::default())
}

fn targets(ids: &[String]) -> Vec<Target> {
    ids.iter()
        .enumerate()
        .map(|(i, t)| Target {
            user: UserId::parse("to", &format!("user{i}")).unwrap(),
            device_id: None,
            token: PushToken::parse("token", t).unwrap(),
        })
        .collect()
}

fn regids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("CN_{prefix}{i:04}")).collect()
}

fn message<'a>(click: &'a ClickAction, receipt: Option<ReceiptRequest<'a>>) -> Message<'a> {
    Message {
        push_key: "app1/req-1",
        title: "Alice",
        desc: "你好，今晚有空吗？",
        ext: Some("{\"conv\":\"c2c_alice\"}"),
        category: Category::Im,
        ttl_seconds: 3600,
        click,
        notify_id: Some(42),
        receipt,
    }
}

async fn push(
    oppo: &Oppo,
    cert: &Certificate,
    m: &Message<'_>,
    ids: &[String],
    deadline: Duration,
) -> SendReport {
    let targets = targets(ids);
    let chunks = chunk_sizes(targets.len(), oppo.batching(cert, m));
    let budget = Budget::new(Instant::now() + deadline, 64);
    oppo.send(Send {
        cert,
        message: m,
        targets: &targets,
        chunks: &chunks,
        budget: &budget,
    })
    .await
}

async fn push_to(e: &Env, ids: &[String]) -> SendReport {
    let click = ClickAction::OpenApp;
    let m = message(&click, None);
    push(&e.oppo, &cert(), &m, ids, Duration::from_secs(10)).await
}

fn statuses(r: &SendReport) -> Vec<DeliveryStatus> {
    r.deliveries.iter().map(|d| d.status).collect()
}

#[tokio::test]
async fn one_target_goes_by_unicast_with_every_mapped_field() {
    let e = env().await;
    let ids = regids("one", 1);
    let r = push_to(&e, &ids).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert!(r.deliveries[0]
        .vendor_task_id
        .as_deref()
        .unwrap()
        .starts_with(APP_ID));
    assert_eq!(r.calls, 2, "auth + unicast");
    assert_eq!(e.sim.requests_to(AUTH).len(), 1);
    let sent = e.sim.requests_to(UNICAST_PATH);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, 200);
    // 2.2: the token goes in the form body, never a header.
    assert!(sent[0].header("auth_token").is_none());
    let d = e.sim.deliveries();
    assert_eq!(d.len(), 1);
    let d = &d[0];
    assert_eq!(
        (d.endpoint.as_str(), d.target.as_str()),
        ("unicast", ids[0].as_str())
    );
    assert_eq!(
        (d.title.as_str(), d.content.as_str()),
        ("Alice", "你好，今晚有空吗？")
    );
    assert_eq!(d.category.as_deref(), Some("IM"));
    assert_eq!(d.off_line_ttl, Some(3600));
    assert_eq!(d.notification["notify_id"], 42);
    assert_eq!(d.notification["click_action_type"], 0);
    assert_eq!(
        d.notification["action_parameters"],
        "{\"ext\":\"{\\\"conv\\\":\\\"c2c_alice\\\"}\"}"
    );
}

#[tokio::test]
async fn a_thousand_targets_are_one_batch_and_one_more_makes_two() {
    let e = env().await;
    let ids = regids("many", 1000);
    let r = push_to(&e, &ids).await;
    assert_eq!(r.deliveries.len(), 1000);
    assert!(r
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Sent));
    assert_eq!(e.sim.requests_to(UNICAST_BATCH_PATH).len(), 1);
    assert_eq!(e.sim.deliveries().len(), 1000);
    let ids = regids("more", 1001);
    let r = push_to(&e, &ids).await;
    assert_eq!(r.deliveries.len(), 1001);
    assert!(r
        .deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Sent));
    let batches = e.sim.requests_to(UNICAST_BATCH_PATH);
    assert_eq!(batches.len(), 3);
    assert!(batches.iter().all(|b| b.status == 200));
    // Each delivery answered in order: the sim's delivered targets are ours.
    let delivered: std::collections::HashSet<String> =
        e.sim.deliveries().into_iter().map(|d| d.target).collect();
    assert!(ids.iter().all(|i| delivered.contains(i)));
    assert_eq!(e.sim.requests_to(AUTH).len(), 1, "one token for every call");
}

#[tokio::test]
async fn the_token_is_shared_through_the_table_and_refreshed_once_on_code_11() {
    let e = env().await;
    push_to(&e, &regids("a", 1)).await;
    assert_eq!(e.sim.requests_to(AUTH).len(), 1);
    // Another instance on the same table: no auth call of its own.
    let other = Oppo::new(
        e.store.clone(),
        Some(&e.sim.base_url()),
        Duration::from_secs(2),
    );
    let click = ClickAction::OpenApp;
    let m = message(&click, None);
    let r = push(
        &other,
        &cert(),
        &m,
        &regids("b", 2),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent; 2]);
    assert_eq!(e.sim.requests_to(AUTH).len(), 1);
    // OPPO drops the token: 11, one re-auth, the call repeated.
    assert_eq!(e.sim.invalidate_tokens(Some(APP_KEY)), 1);
    let r = push_to(&e, &regids("c", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(e.sim.requests_to(AUTH).len(), 2);
    let calls = e.sim.requests_to(UNICAST_PATH);
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[1].response["code"], 11);
    assert_eq!(calls[2].response["code"], 0);
    // 11 again after the refresh: failed, and no third auth loop.
    e.sim
        .script_next(UNICAST_PATH, error_action(11, "invalid auth_token"));
    e.sim
        .script_next(UNICAST_PATH, error_action(11, "invalid auth_token"));
    let r = push_to(&e, &regids("d", 1)).await;
    let d = &r.deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.vendor_code.as_deref(), Some("11"));
    assert!(d
        .detail
        .as_deref()
        .unwrap()
        .contains("again after a refresh"));
    assert_eq!(e.sim.requests_to(AUTH).len(), 3);
}

#[tokio::test]
async fn verify_accepts_good_credentials_and_names_the_refused_field() {
    let e = env().await;
    e.oppo.verify(&cert()).await.expect("good credentials");
    assert_eq!(e.sim.requests_to(AUTH).len(), 1);
    // The token the check obtained serves the first push.
    push_to(&e, &regids("v", 1)).await;
    assert_eq!(e.sim.requests_to(AUTH).len(), 1);
    let wrong_secret = cert_with(
        creds(APP_KEY, "not-the-master-secret"),
        OppoOptions::default(),
    );
    let err = e.oppo.verify(&wrong_secret).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code(), err.field()),
        (
            422,
            "invalid_credentials",
            Some("credentials.master_secret")
        )
    );
    assert!(!err.to_string().contains("not-the-master-secret"));
    let unknown = cert_with(creds("no-such-app", MASTER), OppoOptions::default());
    let err = e.oppo.verify(&unknown).await.unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.app_key"))
    );
    // OPPO down: 502, never blamed on the credentials.
    e.sim.script_next(AUTH, CallAction::HttpStatus(500));
    let err = e.oppo.verify(&cert()).await.unwrap_err();
    assert_eq!((err.status(), err.field()), (502, None));
    e.sim
        .script_next(AUTH, error_action(-1, "service unavailable"));
    assert_eq!(e.oppo.verify(&cert()).await.unwrap_err().status(), 503);
    e.sim.script_next(AUTH, error_action(55, "frequency"));
    assert_eq!(e.oppo.verify(&cert()).await.unwrap_err().status(), 429);
}

#[tokio::test]
async fn dead_tokens_end_exactly_the_named_targets() {
    let e = env().await;
    let ids = regids("dead", 5);
    e.sim.set_reg_id(&ids[1], RegIdVerdict::Invalid);
    e.sim.set_reg_id(&ids[3], RegIdVerdict::Invalid);
    let r = push_to(&e, &ids).await;
    use DeliveryStatus::*;
    assert_eq!(statuses(&r), [Sent, TokenInvalid, Sent, TokenInvalid, Sent]);
    assert_eq!(r.deliveries[1].vendor_code.as_deref(), Some("10000"));
    assert!(!r.deliveries[1].detail.as_deref().unwrap().contains(&ids[1]));
    // One target: unicast answered 10000.
    let r = push_to(&e, &ids[1..2]).await;
    assert_eq!(statuses(&r), [TokenInvalid]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("10000"));
    // A whole batch refused with 10000 names no target: nothing ends.
    e.sim.script_next(
        UNICAST_BATCH_PATH,
        error_action(10000, "registration_id格式不正确"),
    );
    let r = push_to(&e, &ids[..2]).await;
    assert_eq!(statuses(&r), [Failed, Failed]);
}

#[tokio::test]
async fn the_daily_total_pauses_the_class_until_oppos_next_day() {
    let e = env().await;
    e.sim.set_quotas(
        APP_KEY,
        Quotas {
            service: Some(0),
            ..Quotas::default()
        },
    );
    let r = push_to(&e, &regids("q", 2)).await;
    let d = &r.deliveries[0];
    assert_eq!(statuses(&r), [DeliveryStatus::Throttled; 2]);
    assert_eq!(d.vendor_code.as_deref(), Some("33"));
    let after = d.retry_after_s.unwrap();
    assert!((1..=86_400).contains(&after), "{after}");
    assert!(d.detail.as_deref().unwrap().contains("class:service"));
    // Paused: the next push of the class makes no call.
    let before = e.sim.requests().len();
    let r = push_to(&e, &regids("q2", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Throttled]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("33"));
    assert_eq!(e.sim.requests().len(), before);
    // Another class still goes.
    let click = ClickAction::OpenApp;
    let mut m = message(&click, None);
    m.category = Category::News;
    let r = push(
        &e.oppo,
        &cert(),
        &m,
        &regids("n", 1),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
}

#[tokio::test]
async fn rate_limits_5xx_and_silence_follow_the_kits_rules() {
    let e = env_with(
        SimApp::new(APP_ID, APP_KEY, MASTER),
        // Room for a loaded machine; the silent call is held 3 s.
        Duration::from_millis(1000),
    )
    .await;
    e.oppo.verify(&cert()).await.unwrap();
    // 5xx twice, then OPPO answers: retried within bounds.
    e.sim.script_next(UNICAST_PATH, CallAction::HttpStatus(502));
    e.sim.script_next(UNICAST_PATH, CallAction::HttpStatus(503));
    let r = push_to(&e, &regids("r", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(e.sim.requests_to(UNICAST_PATH).len(), 3);
    // Always 5xx: failed after three attempts, binding kept.
    e.sim
        .script_always(UNICAST_PATH, Some(CallAction::HttpStatus(500)));
    let r = push_to(&e, &regids("s", 1)).await;
    let d = &r.deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.vendor_code.as_deref(), Some("http_500"));
    assert!(d.detail.as_deref().unwrap().contains("after 3 attempts"));
    assert_eq!(e.sim.requests_to(UNICAST_PATH).len(), 6);
    e.sim.script_always(UNICAST_PATH, None);
    // -1 service unavailable: retried too.
    e.sim.script_next(UNICAST_PATH, error_action(-1, "busy"));
    let r = push_to(&e, &regids("t", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    // No answer after the request was written: never sent again.
    let before = e.sim.requests_to(UNICAST_PATH).len();
    e.sim
        .script_next(UNICAST_PATH, CallAction::Delay(Duration::from_millis(3000)));
    let r = push_to(&e, &regids("u", 1)).await;
    let d = &r.deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.vendor_code.as_deref(), Some("no_answer"));
    assert!(d.detail.as_deref().unwrap().contains("outcome is unknown"));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(e.sim.requests_to(UNICAST_PATH).len(), before + 1);
    // Frequency limit (55): throttled, the app paused a second.
    e.sim
        .script_next(UNICAST_PATH, error_action(55, "frequency"));
    let r = push_to(&e, &regids("w", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Throttled]);
    assert_eq!(r.deliveries[0].retry_after_s, Some(1));
    // Still paused: no call; lifted by forget_pauses, the next goes at once.
    let before = e.sim.requests().len();
    let r = push_to(&e, &regids("w2", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Throttled]);
    assert_eq!(e.sim.requests().len(), before);
    let account = e.oppo.account(&cert()).unwrap();
    e.oppo.forget_pauses(&account).await;
    // Parameters refused (41): rejected with the code, not retried.
    e.sim
        .script_next(UNICAST_PATH, error_action(41, "title too long"));
    let r = push_to(&e, &regids("x", 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Rejected]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("41"));
    assert_eq!(e.sim.requests().len(), before + 1, "41 is not retried");
}

#[tokio::test]
async fn the_im_private_channel_and_its_template_reach_oppo() {
    let mut app = SimApp::new(APP_ID, APP_KEY, MASTER);
    app.service_channels = vec!["im_private".into()];
    app.template_rule = TemplateRule::Im;
    app.templates = vec!["tpl-1".into()];
    let e = env_with(app, Duration::from_secs(2)).await;
    let click = ClickAction::OpenUrl {
        url: "https://example.com/chat?c=1".into(),
    };
    let m = message(&click, None);
    let with_template = cert_with(
        creds(APP_KEY, MASTER),
        OppoOptions {
            channel_id: Some("im_private".into()),
            private_template_id: Some("tpl-1".into()),
        },
    );
    let r = push(
        &e.oppo,
        &with_template,
        &m,
        &regids("p", 2),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent; 2]);
    let d = &e.sim.deliveries()[0];
    assert_eq!(d.channel_id.as_deref(), Some("im_private"));
    assert_eq!(d.notify_level, Some(2));
    assert_eq!(d.notification["private_msg_template_id"], "tpl-1");
    assert_eq!(d.notification["click_action_type"], 2);
    assert_eq!(
        d.notification["click_action_url"],
        "https://example.com/chat?c=1"
    );
    // Without the template OPPO refuses the classification (67): failed,
    // pointing at the certificate's options.
    let without = cert_with(
        creds(APP_KEY, MASTER),
        OppoOptions {
            channel_id: Some("im_private".into()),
            private_template_id: None,
        },
    );
    let r = push(
        &e.oppo,
        &without,
        &m,
        &regids("p", 1),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("67"));
    // A long content goes as long text, whole.
    let long = "字".repeat(100);
    let mut m = message(&click, None);
    m.desc = &long;
    let r = push(
        &e.oppo,
        &with_template,
        &m,
        &regids("l", 1),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    let d = e.sim.deliveries().pop().unwrap();
    assert_eq!(
        (d.content.chars().count(), d.notification["style"].clone()),
        (100, serde_json::json!(2))
    );
}

#[tokio::test]
async fn receipts_the_simulator_posts_are_read() {
    let e = env().await;
    e.sim.set_receipt_settings(oppo_sim::ReceiptSettings {
        delay: Duration::ZERO,
        redeliver: false,
        retries: 0,
        retry_backoff: Duration::from_millis(10),
    });
    let mut c = cert();
    c.receipt = Some(Receipts {
        receipt_id: None,
        secret_hash: "h".into(),
        secret: Some(Secret::new("S")),
    });
    let click = ClickAction::OpenApp;
    // Nothing listens there: the POST fails, and the kit logs its body.
    let url = "http://127.0.0.1:9/v1/receipts/oppo/S";
    let param = "op2.20261207.0123456789abcdef0123456789abcdef.0123456789abcdef";
    let m = message(&click, None).with_receipt(&c, Some(url), param);
    let ids = regids("rc", 3);
    e.sim.set_reg_id(&ids[2], RegIdVerdict::Invalid);
    let r = push(&e.oppo, &c, &m, &ids, Duration::from_secs(10)).await;
    use DeliveryStatus::*;
    assert_eq!(statuses(&r), [Sent, Sent, TokenInvalid]);
    let d = &e.sim.deliveries()[0];
    assert_eq!(d.notification["call_back_url"], url);
    assert_eq!(d.notification["call_back_parameter"], param);
    let task = r.deliveries[0].vendor_task_id.clone().unwrap();
    e.sim
        .send_receipt(&task, "user_daily_limit", Some(&[ids[0].as_str()]))
        .unwrap();
    e.sim.flush_receipts().await;
    let mut items = Vec::new();
    for post in e.sim.receipt_log() {
        assert_eq!(post.url, url);
        let body = serde_json::to_vec(&post.body).unwrap();
        let batch = e
            .oppo
            .parse_receipt(&body, Some("application/json"))
            .unwrap();
        assert_eq!(batch.unreadable, 0);
        items.extend(batch.items);
    }
    let targets_of = |ev: ReceiptEvent| -> Vec<String> {
        let mut t: Vec<String> = items
            .iter()
            .filter(|i| i.event == ev)
            .flat_map(|i| i.targets.clone())
            .collect();
        t.sort();
        t
    };
    assert_eq!(targets_of(ReceiptEvent::Delivered), ids[..2].to_vec());
    assert_eq!(targets_of(ReceiptEvent::TokenDead), ids[2..].to_vec());
    assert_eq!(
        targets_of(ReceiptEvent::Other("daily_cap".into())),
        ids[..1].to_vec()
    );
    assert!(items.iter().all(|i| i.param.as_deref() == Some(param)));
}
