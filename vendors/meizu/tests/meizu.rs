//! The Meizu adapter through the `Vendor` trait against the Meizu simulator
//! (in-process) and a `Store` on the DynamoDB emulator
//! (`AWS_ENDPOINT_URL_DYNAMODB`).

use meizu_sim::{
    error_action, CallAction, PushIdVerdict, Quota, ReceiptBody, SimApp, SimConfig, Simulator,
};
use offpush::domain::{
    Category, Certificate, CertificateId, ClickAction, DeliveryStatus, Platform, PushMode,
    PushToken, Receipts, Secret, UserId, VendorData,
};
use offpush::store::Store;
use offpush::vendor::kit::Budget;
use offpush::vendor::{
    chunk_sizes, Message, ReceiptEvent, ReceiptRequest, Send, SendReport, Target, Vendor,
};
use offpush_meizu::credentials::MeizuCredentials;
use offpush_meizu::{Meizu, MAX_PUSH_IDS, SEND_PATH};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const APP_ID: &str = "110001234";
const SECRET: &str = "meizu-app-secret-0001";
const PACKAGE: &str = "com.example.im";

struct Env {
    sim: Simulator,
    store: Store,
    meizu: Meizu,
}

async fn store() -> Store {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("AWS_ENDPOINT_URL_DYNAMODB (the DynamoDB emulator)");
    let table = format!("meizu-test-{}", uuid::Uuid::new_v4());
    let store = Store::for_endpoint(&endpoint, "us-east-1", table).await;
    store.create_table().await.expect("table created");
    store
}

async fn env_with(timeout: Duration) -> Env {
    let sim = Simulator::start(SimConfig {
        apps: vec![SimApp::new(APP_ID, SECRET, PACKAGE)],
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let store = store().await;
    let meizu = Meizu::new(store.clone(), Some(&sim.base_url()), timeout);
    Env { sim, store, meizu }
}

async fn env() -> Env {
    env_with(Duration::from_secs(2)).await
}

fn creds(app_id: &str, secret: &str) -> VendorData {
    MeizuCredentials {
        app_id: app_id.into(),
        app_secret: Secret::new(secret),
    }
    .to_data()
}

fn cert_with(credentials: VendorData) -> Certificate {
    let now = time::OffsetDateTime::now_utc();
    Certificate {
        id: CertificateId::new(9).unwrap(),
        platform: Platform::Meizu,
        name: "meizu".into(),
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

fn cert() -> Certificate {
    cert_with(creds(APP_ID, SECRET))
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

fn push_ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("J0476035d625e{prefix}{i:04}"))
        .collect()
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
    meizu: &Meizu,
    cert: &Certificate,
    m: &Message<'_>,
    ids: &[String],
    deadline: Duration,
) -> SendReport {
    let targets = targets(ids);
    let chunks = chunk_sizes(targets.len(), meizu.batching(cert, m));
    let budget = Budget::new(Instant::now() + deadline, 64);
    meizu
        .send(Send {
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
    push(&e.meizu, &cert(), &m, ids, Duration::from_secs(10)).await
}

fn statuses(r: &SendReport) -> Vec<DeliveryStatus> {
    r.deliveries.iter().map(|d| d.status).collect()
}

#[tokio::test]
async fn one_target_gets_every_field_signed() {
    let e = env().await;
    let ids = push_ids("a", 1);
    let r = push_to(&e, &ids).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    let msg_id = r.deliveries[0].vendor_task_id.clone().expect("msgId");
    assert_eq!(msg_id.len(), 32);
    assert_eq!(r.calls, 1);
    let d = &e.sim.deliveries()[0];
    assert_eq!(d.msg_id, msg_id);
    assert_eq!(
        (d.app_id.as_str(), d.push_id.as_str()),
        (APP_ID, ids[0].as_str())
    );
    assert_eq!(
        (d.title.as_str(), d.content.as_str()),
        ("Alice", "你好，今晚有空吗？")
    );
    assert_eq!((d.notice_msg_type, d.click_type), (1, 0));
    assert_eq!(
        d.parameters,
        serde_json::json!({"ext": "{\"conv\":\"c2c_alice\"}"})
    );
    assert_eq!((d.off_line, d.valid_time), (1, 1));
    assert_eq!(d.notify_key.as_deref(), Some("2a"));
    assert!(d.extra.is_null(), "no receipts asked for");
    // The simulator checked the sign; the form holds exactly the four fields.
    let keys: Vec<&str> = d.fields.keys().map(String::as_str).collect();
    assert_eq!(keys, ["appId", "messageJson", "pushIds", "sign"]);
    let req = &e.sim.requests_to(SEND_PATH)[0];
    assert!(req.headers["content-type"].starts_with("application/x-www-form-urlencoded"));
}

#[tokio::test]
async fn a_call_takes_one_hundred_and_one_more_makes_two() {
    let e = env().await;
    let ids = push_ids("b", MAX_PUSH_IDS);
    let r = push_to(&e, &ids).await;
    assert!(statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent));
    assert_eq!((r.deliveries.len(), r.calls), (100, 1));
    assert_eq!(e.sim.requests_to(SEND_PATH).len(), 1);
    let ids = push_ids("c", MAX_PUSH_IDS + 1);
    let r = push_to(&e, &ids).await;
    assert!(
        statuses(&r).iter().all(|s| *s == DeliveryStatus::Sent),
        "{:?}",
        r.deliveries
    );
    assert_eq!((r.deliveries.len(), r.calls), (101, 2));
    let reqs = e.sim.requests_to(SEND_PATH);
    assert_eq!(reqs.len(), 3);
    // Every target delivered exactly once, in two calls of 51 and 50.
    let mut delivered: Vec<String> = e.sim.deliveries().into_iter().map(|d| d.push_id).collect();
    delivered.sort();
    let mut want: Vec<String> = push_ids("b", 100).into_iter().chain(ids).collect();
    want.sort();
    assert_eq!(delivered, want);
}

#[tokio::test]
async fn verify_tells_good_credentials_from_bad() {
    let e = env().await;
    // Unknown pushIds are "not subscribed" as on Meizu: the check reaches no one.
    let mut s = e.sim.settings();
    s.unknown_push_ids = meizu_sim::UnknownPushIds::NotSubscribed;
    e.sim.set_settings(s);
    e.meizu
        .verify(&cert())
        .await
        .expect("good credentials pass");
    assert!(e.sim.deliveries().is_empty(), "the check reached no device");
    let bad = e
        .meizu
        .verify(&cert_with(creds(APP_ID, "wrong-secret")))
        .await
        .unwrap_err();
    assert_eq!(
        (bad.status(), bad.field()),
        (422, Some("credentials.app_secret"))
    );
    assert!(!bad.to_string().contains("wrong-secret"));
    let unknown = e
        .meizu
        .verify(&cert_with(creds("999", SECRET)))
        .await
        .unwrap_err();
    assert_eq!(
        (unknown.status(), unknown.field()),
        (422, Some("credentials.app_id"))
    );
    e.sim
        .script_next(SEND_PATH, error_action("110033", "appSecret错误"));
    let e33 = e.meizu.verify(&cert()).await.unwrap_err();
    assert_eq!(
        (e33.status(), e33.field()),
        (422, Some("credentials.app_secret"))
    );
    e.sim.script_next(SEND_PATH, CallAction::HttpStatus(500));
    assert_eq!(e.meizu.verify(&cert()).await.unwrap_err().status(), 502);
    e.sim.script_next(SEND_PATH, CallAction::HttpStatus(503));
    assert_eq!(e.meizu.verify(&cert()).await.unwrap_err().status(), 503);
    e.sim
        .script_next(SEND_PATH, error_action("110010", "应用请求频率超过限制"));
    assert_eq!(e.meizu.verify(&cert()).await.unwrap_err().status(), 429);
    e.sim.script_next(SEND_PATH, CallAction::Garbage);
    assert_eq!(e.meizu.verify(&cert()).await.unwrap_err().status(), 502);
}

#[tokio::test]
async fn dead_token_verdicts_end_exactly_the_named_targets() {
    let e = env().await;
    let ids = push_ids("d", 6);
    e.sim.set_push_id(&ids[1], PushIdVerdict::NotSubscribed);
    e.sim.set_push_id(&ids[2], PushIdVerdict::Illegal);
    e.sim.set_push_id(&ids[3], PushIdVerdict::SwitchOff);
    e.sim.set_push_id(&ids[4], PushIdVerdict::PublicCap);
    let r = push_to(&e, &ids).await;
    use DeliveryStatus::*;
    assert_eq!(
        statuses(&r),
        [Sent, TokenInvalid, TokenInvalid, Failed, Throttled, Sent]
    );
    let codes: Vec<Option<&str>> = r
        .deliveries
        .iter()
        .map(|d| d.vendor_code.as_deref())
        .collect();
    assert_eq!(
        codes,
        [
            None,
            Some("110002"),
            Some("110003"),
            Some("110010"),
            Some("110011"),
            None
        ]
    );
    assert!(r.deliveries[4].retry_after_s.unwrap() <= 86_400);
    assert_eq!(r.calls, 1);
    for d in &r.deliveries {
        let text = format!("{d:?}");
        for id in &ids {
            assert!(!text.contains(id.as_str()), "no whole token in {text}");
        }
    }
}

#[tokio::test]
async fn the_rate_limit_pauses_the_app_for_a_second() {
    let e = env().await;
    e.sim
        .script_next(SEND_PATH, error_action("110010", "应用请求频率超过限制"));
    let ids = push_ids("e", 2);
    let r = push_to(&e, &ids).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Throttled; 2]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("110010"));
    assert_eq!(r.deliveries[0].retry_after_s, Some(1));
    // Within the second: refused without a call.
    let r = push_to(&e, &ids).await;
    assert_eq!((statuses(&r)[0], r.calls), (DeliveryStatus::Throttled, 0));
    assert_eq!(e.sim.requests_to(SEND_PATH).len(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = push_to(&e, &ids).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent; 2]);
}

#[tokio::test]
async fn a_daily_quota_pauses_the_app_until_meizus_next_day_through_the_table() {
    let e = env().await;
    e.sim.set_quota(
        APP_ID,
        Quota {
            daily_messages: Some(1),
            ..Quota::default()
        },
    );
    let ids = push_ids("f", 1);
    assert_eq!(statuses(&push_to(&e, &ids).await), [DeliveryStatus::Sent]);
    let r = push_to(&e, &ids).await;
    let d = &r.deliveries[0];
    assert_eq!(
        (d.status, d.vendor_code.as_deref()),
        (DeliveryStatus::Throttled, Some("110051"))
    );
    let wait = d.retry_after_s.unwrap();
    assert!((60..=86_400).contains(&wait), "{wait}");
    assert!(d.detail.as_deref().unwrap().contains("paused (app)"));
    // Another instance on the same table honours the pause without calling.
    let other = Meizu::new(
        e.store.clone(),
        Some(&e.sim.base_url()),
        Duration::from_secs(2),
    );
    let click = ClickAction::OpenApp;
    let m = message(&click, None);
    let r = push(&other, &cert(), &m, &ids, Duration::from_secs(5)).await;
    assert_eq!(
        (r.deliveries[0].status, r.calls),
        (DeliveryStatus::Throttled, 0)
    );
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("110051"));
    assert_eq!(e.sim.requests_to(SEND_PATH).len(), 2);
    // A changed secret is another account: not paused.
    let account = e.meizu.account(&cert()).unwrap();
    assert_ne!(
        Some(account.clone()),
        e.meizu.account(&cert_with(creds(APP_ID, "x")))
    );
    // Lifting the pauses in this instance and the table lets calls through.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(e.store.clear_pauses(&account, None, now).await.unwrap(), 1);
    e.meizu.forget_pauses(&account).await;
    e.sim.set_quota(APP_ID, Quota::default());
    assert_eq!(statuses(&push_to(&e, &ids).await), [DeliveryStatus::Sent]);
}

#[tokio::test]
async fn server_errors_are_retried_and_then_fail() {
    let e = env().await;
    let ids = push_ids("g", 2);
    e.sim.script_next(SEND_PATH, CallAction::HttpStatus(502));
    let r = push_to(&e, &ids).await;
    assert_eq!((statuses(&r), r.calls), (vec![DeliveryStatus::Sent; 2], 2));
    e.sim
        .script_next(SEND_PATH, error_action("1001", "系统错误"));
    let r = push_to(&e, &ids).await;
    assert_eq!((statuses(&r), r.calls), (vec![DeliveryStatus::Sent; 2], 2));
    e.sim
        .script_always(SEND_PATH, Some(CallAction::HttpStatus(500)));
    let r = push_to(&e, &ids).await;
    assert_eq!(
        (statuses(&r), r.calls),
        (vec![DeliveryStatus::Failed; 2], 3)
    );
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("http_500"));
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("after 3 attempts"));
    e.sim.script_always(SEND_PATH, Some(CallAction::Garbage));
    let r = push_to(&e, &ids).await;
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("unreadable"));
    e.sim.script_always(SEND_PATH, None);
    // A parameter error is this message's: rejected, never retried.
    e.sim
        .script_next(SEND_PATH, error_action("1005", "参数错误"));
    let r = push_to(&e, &ids).await;
    assert_eq!(
        (statuses(&r), r.calls),
        (vec![DeliveryStatus::Rejected; 2], 1)
    );
}

#[tokio::test]
async fn a_call_lost_after_it_was_written_is_never_sent_again() {
    let e = env_with(Duration::from_millis(500)).await;
    e.sim
        .script_next(SEND_PATH, CallAction::Delay(Duration::from_millis(1500)));
    let ids = push_ids("h", 2);
    let r = push_to(&e, &ids).await;
    assert_eq!(
        (statuses(&r), r.calls),
        (vec![DeliveryStatus::Failed; 2], 1)
    );
    let d = &r.deliveries[0];
    assert_eq!(d.vendor_code.as_deref(), Some("no_answer"));
    assert!(
        d.detail.as_deref().unwrap().contains("outcome is unknown"),
        "{d:?}"
    );
}

#[tokio::test]
async fn credentials_refused_at_send_fail_and_end_nothing() {
    let e = env().await;
    let click = ClickAction::OpenApp;
    let m = message(&click, None);
    let ids = push_ids("i", 2);
    let r = push(
        &e.meizu,
        &cert_with(creds(APP_ID, "bad-secret-zz9")),
        &m,
        &ids,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed; 2]);
    assert_eq!(
        (r.deliveries[0].vendor_code.as_deref(), r.calls),
        (Some("1006"), 1)
    );
    assert!(!r.deliveries[0].detail.as_deref().unwrap().contains("zz9"));
}

#[tokio::test]
async fn public_messages_meet_the_daily_cap_private_ones_do_not() {
    let e = env().await;
    e.sim.set_quota(
        APP_ID,
        Quota {
            public_per_device: Some(1),
            ..Quota::default()
        },
    );
    let click = ClickAction::OpenApp;
    let mut m = message(&click, None);
    m.category = Category::Marketing;
    m.notify_id = None;
    let ids = push_ids("j", 1);
    let c = cert();
    let first = push(&e.meizu, &c, &m, &ids, Duration::from_secs(5)).await;
    assert_eq!(statuses(&first), [DeliveryStatus::Sent]);
    assert_eq!(e.sim.deliveries()[0].notice_msg_type, 0);
    let second = push(&e.meizu, &c, &m, &ids, Duration::from_secs(5)).await;
    assert_eq!(statuses(&second), [DeliveryStatus::Throttled]);
    assert_eq!(second.deliveries[0].vendor_code.as_deref(), Some("110011"));
    // Only that device's public messages stop: an IM push still goes.
    m.category = Category::Im;
    let im = push(&e.meizu, &c, &m, &ids, Duration::from_secs(5)).await;
    assert_eq!(statuses(&im), [DeliveryStatus::Sent]);
}

#[tokio::test]
async fn the_products_limits_go_through_titles_cut_and_said() {
    let e = env().await;
    let click = ClickAction::OpenUrl {
        url: "https://example.com/chat".into(),
    };
    let title = "标".repeat(offpush::domain::push::MAX_TITLE_CHARS);
    let desc = "字".repeat(offpush::domain::push::MAX_DESC_CHARS);
    let ext = "e".repeat(offpush::domain::push::MAX_EXT_BYTES);
    let mut m = message(&click, None);
    m.title = &title;
    m.desc = &desc;
    m.ext = Some(&ext);
    m.ttl_seconds = 86_400;
    let ids = push_ids("k", 2);
    // A token that cannot travel comma-joined is refused alone.
    let mut with_bad = ids.clone();
    with_bad.insert(1, "a,b".into());
    let r = push(&e.meizu, &cert(), &m, &with_bad, Duration::from_secs(5)).await;
    use DeliveryStatus::*;
    assert_eq!(statuses(&r), [Sent, Rejected, Sent]);
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("title cut to 32"));
    let d = &e.sim.deliveries()[0];
    assert_eq!(d.title.chars().count(), 32);
    assert_eq!(d.content, desc);
    assert_eq!(d.parameters["ext"], ext.as_str());
    assert_eq!((d.click_type, d.valid_time), (2, 24));
    assert_eq!(
        d.message["clickTypeInfo"]["url"],
        "https://example.com/chat"
    );
}

/// A receiver of receipt POSTs: records each body and content type,
/// answers 200.
async fn receiver() -> (String, Arc<Mutex<Vec<(Option<String>, Vec<u8>)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, len, ct) = loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                        let header = |name: &str| {
                            head.lines().find_map(|l| {
                                l.strip_prefix(&format!("{name}:"))
                                    .map(|v| v.trim().to_string())
                            })
                        };
                        let len = header("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        break (p + 4, len, header("content-type"));
                    }
                };
                while buf.len() < head_end + len {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                seen.lock().unwrap().push((ct, buf[head_end..].to_vec()));
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}/v1/receipts/meizu/S"), got)
}

#[tokio::test]
async fn receipts_the_simulator_posts_are_read() {
    let e = env().await;
    e.sim.set_receipt_delay(Duration::ZERO);
    let (url, got) = receiver().await;
    let mut c = cert();
    c.receipt = Some(Receipts {
        receipt_id: None,
        secret_hash: "h".into(),
        secret: Some(Secret::new("S")),
    });
    let click = ClickAction::OpenApp;
    let param = "op2.20261207.0123456789abcdef0123456789abcdef.0123456789abcdef";
    let m = message(&click, None).with_receipt(&c, Some(&url), param);
    let ids = push_ids("r", 3);
    e.sim.set_push_id(&ids[2], PushIdVerdict::NotSubscribed);
    let r = push(&e.meizu, &c, &m, &ids, Duration::from_secs(10)).await;
    use DeliveryStatus::*;
    assert_eq!(statuses(&r), [Sent, Sent, TokenInvalid]);
    let d = &e.sim.deliveries()[0];
    assert_eq!(d.extra["callback"], url.as_str());
    assert_eq!(d.extra["callback.param"], param);
    assert_eq!(d.extra["callback.type"], "1");
    // A click on one, on command.
    let msg_id = r.deliveries[0].vendor_task_id.clone().unwrap();
    e.sim
        .send_receipt(&msg_id, 2, Some(&[ids[0].as_str()]))
        .unwrap();
    e.sim.flush_receipts().await;
    // The JSON reading of the CONFLICT too.
    let mut s = e.sim.settings();
    s.receipt_body = ReceiptBody::Json;
    e.sim.set_settings(s);
    e.sim
        .send_receipt(&msg_id, 1, Some(&[ids[1].as_str()]))
        .unwrap();
    e.sim.flush_receipts().await;
    let posts = got.lock().unwrap().clone();
    assert!(posts.len() >= 2, "{}", posts.len());
    let mut delivered = Vec::new();
    let mut kinds = Vec::new();
    for (ct, body) in &posts {
        kinds.push(ct.clone().unwrap_or_default());
        let batch = e.meizu.parse_receipt(body, ct.as_deref()).unwrap();
        assert_eq!(batch.unreadable, 0);
        for i in batch.items {
            assert_eq!(i.param.as_deref(), Some(param));
            assert_eq!(i.event, ReceiptEvent::Delivered);
            delivered.extend(i.targets);
        }
    }
    assert!(
        kinds[0].starts_with("application/x-www-form-urlencoded"),
        "{kinds:?}"
    );
    assert!(
        kinds.last().unwrap().starts_with("application/json"),
        "{kinds:?}"
    );
    delivered.sort();
    delivered.dedup();
    assert_eq!(
        delivered,
        ids[..2].to_vec(),
        "delivered and clicked devices, not the dead one"
    );
}

#[tokio::test]
async fn the_certificate_side_of_the_port() {
    use offpush::domain::input::parse_body;
    use offpush::vendor::ReceiptStyle;
    let e = env().await;
    let v = &e.meizu as &dyn Vendor;
    assert_eq!(v.platform(), Platform::Meizu);
    assert_eq!(v.receipt_style(), ReceiptStyle::PerMessage);
    assert_eq!(v.max_receipt_url(), Some(128));
    assert!(!v.has_test_mode());
    let mut body =
        parse_body(br#"{"credentials":{"app_id":"110001234","app_secret":"abcdefghijk-S3C"}}"#)
            .unwrap();
    let data = v
        .parse_credentials(body.req_obj("credentials").unwrap(), None)
        .unwrap();
    assert_eq!(
        v.view_credentials(&data),
        serde_json::json!({"app_id": "110001234", "app_secret": "****S3C"})
    );
    assert_eq!(v.default_name(&data), "meizu 110001234");
    // An edit without the secret keeps it.
    let mut edit = parse_body(br#"{"credentials":{"app_id":"110001234"}}"#).unwrap();
    let kept = v
        .parse_credentials(edit.req_obj("credentials").unwrap(), Some(&data))
        .unwrap();
    assert_eq!(kept, data);
    // Meizu takes no options.
    let mut opts = parse_body(br#"{"vendor_options":{"channel_id":"x"}}"#).unwrap();
    let err = v
        .parse_options(opts.opt_obj("vendor_options").unwrap(), None)
        .unwrap_err();
    assert_eq!(err.field(), Some("vendor_options.channel_id"));
    assert!(v.parse_options(None, None).unwrap().is_empty());
    assert!(v.view_options(&VendorData::new()).is_none());
    let c = cert_with(data);
    assert!(v.account(&c).unwrap().contains("110001234"));
    assert_eq!(
        v.batching(&c, &message(&ClickAction::OpenApp, None)),
        offpush::vendor::Batching {
            min_list: 1,
            max_list: 100
        }
    );
}
