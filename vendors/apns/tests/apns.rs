//! The APNs adapter through the vendor port, against the APNs simulator
//! (in-process, HTTP/2 cleartext) and a store on the DynamoDB emulator
//! (`AWS_ENDPOINT_URL_DYNAMODB`).

use apns_sim::{
    error_action, CallAction, Environment, RateLimit, SimApp, SimConfig, SimDevice, SimKey,
    Simulator, Verdict, VERSION_HEADER,
};
use base64::Engine;
use offpush::domain::{
    Category, Certificate, CertificateId, ClickAction, DeliveryStatus, Platform, PushMode,
    PushToken, UserId, VendorData,
};
use offpush::store::Store;
use offpush::vendor::kit::Budget;
use offpush::vendor::{chunk_sizes, Message, ReceiptStyle, Send, SendReport, Target, Vendor};
use offpush_apns::credentials::ApnsCredentials;
use offpush_apns::Apns;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const TEAM: &str = "TEAM123456";
const KEY_ID: &str = "KEY1234567";
const BUNDLE: &str = "com.example.im";

/// A fresh P-256 key as a `.p8` PEM text.
fn pem() -> String {
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

struct Env {
    sim: Simulator,
    store: Store,
    apns: Apns,
    pem: String,
}

async fn store() -> Store {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("AWS_ENDPOINT_URL_DYNAMODB (the DynamoDB emulator)");
    let table = format!("apns-test-{}", uuid::Uuid::new_v4().simple());
    let store = Store::for_endpoint(&endpoint, "us-east-1", table).await;
    store.create_table().await.expect("table created");
    store
}

async fn env_with(settings: apns_sim::Settings, timeout: Duration) -> Env {
    let pem = pem();
    let sim = Simulator::start(SimConfig {
        keys: vec![SimKey::new(KEY_ID, TEAM, pem.clone())],
        apps: vec![SimApp::new(TEAM, BUNDLE)],
        settings,
    })
    .await
    .expect("simulator starts");
    let store = store().await;
    let apns = Apns::new(store.clone(), Some(&sim.base_url()), timeout);
    Env {
        sim,
        store,
        apns,
        pem,
    }
}

async fn env() -> Env {
    env_with(apns_sim::Settings::default(), Duration::from_secs(3)).await
}

fn creds(pem: &str, bundle: &str) -> VendorData {
    ApnsCredentials {
        team_id: TEAM.into(),
        key_id: KEY_ID.into(),
        private_key: offpush::domain::Secret::new(pem),
        bundle_id: bundle.into(),
    }
    .to_data()
}

fn cert_with(credentials: VendorData, push_mode: PushMode) -> Certificate {
    let now = time::OffsetDateTime::now_utc();
    Certificate {
        id: CertificateId::new(7).unwrap(),
        platform: Platform::Apns,
        name: "apns".into(),
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

fn cert(e: &Env) -> Certificate {
    cert_with(creds(&e.pem, BUNDLE), PushMode::Production)
}

/// `n` distinct 32-byte device tokens in hex.
fn tokens(seed: u8, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{seed:02x}{}{i:08x}", "ab".repeat(27)))
        .collect()
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

async fn send_as(
    apns: &Apns,
    cert: &Certificate,
    tokens: &[String],
    category: Category,
    deadline: Duration,
) -> SendReport {
    let click = cert.click_action.clone();
    let m = Message {
        push_key: "app-1/req-1",
        title: "Alice",
        desc: "Hi, are you free tonight?",
        ext: Some("{\"conv\":\"c2c_alice\"}"),
        category,
        ttl_seconds: 3600,
        click: &click,
        notify_id: Some(42),
        receipt: None,
    };
    let targets = targets(tokens);
    let chunks = chunk_sizes(targets.len(), apns.batching(cert, &m));
    assert!(chunks.iter().all(|c| *c == 1), "one device per call");
    let budget = Budget::new(Instant::now() + deadline, 64);
    let report = apns
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

async fn send(apns: &Apns, cert: &Certificate, tokens: &[String]) -> SendReport {
    send_as(apns, cert, tokens, Category::Im, Duration::from_secs(10)).await
}

fn statuses(r: &SendReport) -> Vec<DeliveryStatus> {
    r.deliveries.iter().map(|d| d.status).collect()
}

fn path(token: &str) -> String {
    format!("/3/device/{token}")
}

fn auth_headers(sim: &Simulator) -> BTreeSet<String> {
    sim.requests()
        .iter()
        .filter(|r| r.path.starts_with("/3/device/"))
        .filter_map(|r| r.headers.get("authorization").cloned())
        .collect()
}

fn no_token_in(r: &SendReport, tokens: &[String]) {
    for d in &r.deliveries {
        let text = format!("{d:?}");
        for t in tokens {
            assert!(!text.contains(t.as_str()), "a whole token in {text}");
        }
    }
}

#[tokio::test]
async fn one_device_is_one_http2_request_with_every_header_and_the_payload() {
    let e = env().await;
    let c = cert(&e);
    let t = tokens(1, 1);
    let r = send(&e.apns, &c, &t).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(
        r.calls,
        1 + 1,
        "one mint (counted as the auth call) and one push"
    );
    let got = e.sim.deliveries();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(
        r.deliveries[0].vendor_task_id.as_deref(),
        Some(d.apns_id.as_str())
    );
    assert_eq!(d.device_token, t[0]);
    assert_eq!(d.topic, BUNDLE);
    assert_eq!((d.team_id.as_str(), d.key_id.as_str()), (TEAM, KEY_ID));
    assert_eq!(d.push_type.as_deref(), Some("alert"));
    assert_eq!(d.priority, Some(10));
    assert_eq!(d.collapse_id.as_deref(), Some("42"));
    let exp = d.expiration.unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now + 3590..=now + 3610).contains(&exp), "ttl 3600 s");
    assert_eq!(
        d.payload,
        serde_json::json!({
            "aps": {
                "alert": {"title": "Alice", "body": "Hi, are you free tonight?"},
                "sound": "default",
                "mutable-content": 1,
                "thread-id": "42",
            },
            "ext": "{\"conv\":\"c2c_alice\"}",
        })
    );
    let req = &e.sim.requests_to(&path(&t[0]))[0];
    assert_eq!(
        req.headers.get(VERSION_HEADER).map(String::as_str),
        Some("HTTP/2.0")
    );
    assert!(req.headers["authorization"].starts_with("bearer "));
}

#[tokio::test]
async fn many_devices_go_one_request_each_on_one_connection_in_order() {
    let e = env().await;
    let c = cert(&e);
    // The per-call maximum (1) and one past it.
    for n in [1, 2] {
        e.sim.reset();
        let t = tokens(2, n);
        let r = send(&e.apns, &c, &t).await;
        assert_eq!(statuses(&r), vec![DeliveryStatus::Sent; n]);
        assert_eq!(e.sim.deliveries().len(), n);
    }
    e.sim.reset();
    let t = tokens(3, 100);
    let r = send(&e.apns, &c, &t).await;
    assert_eq!(statuses(&r), vec![DeliveryStatus::Sent; 100]);
    let got = e.sim.deliveries();
    assert_eq!(got.len(), 100);
    let sent: BTreeSet<&str> = got.iter().map(|d| d.device_token.as_str()).collect();
    assert_eq!(sent, t.iter().map(String::as_str).collect());
    // Deliveries in target order: each names its own apns-id.
    for (token, d) in t.iter().zip(&r.deliveries) {
        let rec = got.iter().find(|g| &g.device_token == token).unwrap();
        assert_eq!(d.vendor_task_id.as_deref(), Some(rec.apns_id.as_str()));
    }
    let connections: BTreeSet<Option<u64>> = got.iter().map(|d| d.connection).collect();
    assert_eq!(
        connections.len(),
        1,
        "one HTTP/2 connection: {connections:?}"
    );
    assert_eq!(auth_headers(&e.sim).len(), 1, "one provider token");
}

#[tokio::test]
async fn operational_categories_go_at_priority_5_and_test_mode_to_the_sandbox() {
    let e = env().await;
    let t = tokens(4, 1);
    let r = send_as(
        &e.apns,
        &cert(&e),
        &t,
        Category::Marketing,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(e.sim.deliveries()[0].priority, Some(5));
    // With the base overridden both hosts are the simulator's.
    assert_eq!(
        e.apns.base_url(PushMode::Test),
        e.apns.base_url(PushMode::Production)
    );
    assert_eq!(
        e.apns.base_url(PushMode::Test),
        e.sim.base_url().trim_end_matches('/')
    );
    let real = Apns::new(e.store.clone(), None, Duration::from_secs(1));
    assert_eq!(
        real.base_url(PushMode::Production),
        "https://api.push.apple.com"
    );
    assert_eq!(
        real.base_url(PushMode::Test),
        "https://api.sandbox.push.apple.com"
    );
}

#[tokio::test]
async fn dead_token_verdicts_end_exactly_the_named_targets() {
    let e = env().await;
    let c = cert(&e);
    let mut t = tokens(5, 6);
    e.sim
        .set_device(&t[1], SimDevice::verdict(Verdict::Unregistered));
    e.sim
        .set_device(&t[2], SimDevice::verdict(Verdict::DeviceTokenNotForTopic));
    // A well-formed token refused as BadDeviceToken: maybe the other
    // environment's: kept.
    e.sim
        .set_device(&t[3], SimDevice::in_environment(Environment::Sandbox));
    // Too short for any APNs environment: APNs says BadDeviceToken: dead.
    t[4] = "abcd".repeat(4);
    // Not hex at all: dead without a call.
    t[5] = "not-an-apns-token/../x".into();
    let r = send(&e.apns, &c, &t).await;
    use DeliveryStatus::*;
    assert_eq!(
        statuses(&r),
        [
            Sent,
            TokenInvalid,
            TokenInvalid,
            Failed,
            TokenInvalid,
            TokenInvalid
        ]
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
            Some("Unregistered"),
            Some("DeviceTokenNotForTopic"),
            Some("BadDeviceToken"),
            Some("BadDeviceToken"),
            Some("BadDeviceToken"),
        ]
    );
    let env_detail = r.deliveries[3].detail.as_deref().unwrap();
    assert!(env_detail.contains("push_mode"), "{env_detail}");
    assert!(e
        .sim
        .requests()
        .iter()
        .all(|q| !q.path.contains("not-an-apns")));
    no_token_in(&r, &t);
}

#[tokio::test]
async fn the_token_is_shared_through_the_table_across_instances() {
    let e = env().await;
    let c = cert(&e);
    let first = send(&e.apns, &c, &tokens(6, 3)).await;
    assert_eq!(statuses(&first), vec![DeliveryStatus::Sent; 3]);
    // A second instance (its own client and connection, the same table).
    let other = Apns::new(
        e.store.clone(),
        Some(&e.sim.base_url()),
        Duration::from_secs(3),
    );
    let second = send(&other, &c, &tokens(7, 3)).await;
    assert_eq!(statuses(&second), vec![DeliveryStatus::Sent; 3]);
    assert_eq!(second.calls, 3, "no mint: the table's token");
    assert_eq!(
        auth_headers(&e.sim).len(),
        1,
        "one token for the team and key"
    );
    // The account is the team and key: another bundle id shares it.
    let mut c2 = cert_with(creds(&e.pem, BUNDLE), PushMode::Test);
    c2.id = CertificateId::new(8).unwrap();
    assert_eq!(e.apns.account(&c2), e.apns.account(&c));
}

#[tokio::test]
async fn a_stale_token_is_reminted_once_and_the_call_repeated() {
    // A scripted refusal of a fresh token: the simulator must take the
    // re-minted one at once on the same connection.
    let settings = apns_sim::Settings {
        min_token_refresh_secs: 0,
        ..Default::default()
    };
    let e = env_with(settings, Duration::from_secs(3)).await;
    let c = cert(&e);
    let t = tokens(8, 1);
    assert_eq!(
        statuses(&send(&e.apns, &c, &t).await),
        [DeliveryStatus::Sent]
    );
    // The token is due again for a new one only in about 50 minutes; make
    // the next iat differ (one second later) and refuse the current one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    e.sim
        .script_next(&path(&t[0]), error_action(403, "ExpiredProviderToken"));
    let r = send(&e.apns, &c, &t).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(e.sim.requests_to(&path(&t[0])).len(), 3);
    assert_eq!(auth_headers(&e.sim).len(), 2, "re-minted once");
    // Refused again after the refresh: failed, not a third token.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    e.sim
        .script_next(&path(&t[0]), error_action(403, "InvalidProviderToken"));
    e.sim
        .script_next(&path(&t[0]), error_action(403, "InvalidProviderToken"));
    let r = send(&e.apns, &c, &t).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    let d = r.deliveries[0].detail.as_deref().unwrap();
    assert!(d.contains("again after a refresh"), "{d}");
    assert_eq!(
        r.deliveries[0].vendor_code.as_deref(),
        Some("InvalidProviderToken")
    );
    assert_eq!(auth_headers(&e.sim).len(), 3);
}

#[tokio::test]
async fn throttling_is_throttled_per_device_and_token_updates_pause_the_account() {
    let e = env().await;
    let c = cert(&e);
    e.sim.set_rate_limit(Some(RateLimit {
        max: 1,
        window_ms: 60_000,
    }));
    let t = tokens(9, 2);
    assert_eq!(
        statuses(&send(&e.apns, &c, &t[..1]).await),
        [DeliveryStatus::Sent]
    );
    // The first device is over its rate; the second is not.
    let r = send(&e.apns, &c, &t).await;
    assert_eq!(
        statuses(&r),
        [DeliveryStatus::Throttled, DeliveryStatus::Sent]
    );
    assert_eq!(
        r.deliveries[0].vendor_code.as_deref(),
        Some("TooManyRequests")
    );
    assert_eq!(e.sim.requests_to(&path(&t[0])).len(), 2, "not retried");
    e.sim.set_rate_limit(None);
    // A refused token change: this instance pauses the team's calls a moment.
    let u = tokens(10, 2);
    e.sim.script_next(
        &path(&u[0]),
        error_action(429, "TooManyProviderTokenUpdates"),
    );
    let r = send(&e.apns, &c, &u[..1]).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Throttled]);
    assert!(r.deliveries[0].retry_after_s.is_some());
    let r = send(&e.apns, &c, &u[1..]).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Throttled]);
    assert!(
        e.sim.requests_to(&path(&u[1])).is_empty(),
        "paused: not called"
    );
    assert!(r.deliveries[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("TooManyProviderTokenUpdates"));
    e.apns.forget_pauses(&e.apns.account(&c).unwrap()).await;
    assert_eq!(
        statuses(&send(&e.apns, &c, &u[1..]).await),
        [DeliveryStatus::Sent]
    );
}

#[tokio::test]
async fn server_errors_are_retried_within_bounds() {
    let e = env().await;
    let c = cert(&e);
    let t = tokens(11, 2);
    e.sim
        .script_next(&path(&t[0]), error_action(503, "ServiceUnavailable"));
    e.sim
        .script_next(&path(&t[0]), error_action(500, "InternalServerError"));
    e.sim
        .script_always(&path(&t[1]), Some(error_action(503, "Shutdown")));
    let r = send(&e.apns, &c, &t).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent, DeliveryStatus::Failed]);
    assert_eq!(e.sim.requests_to(&path(&t[0])).len(), 3);
    assert_eq!(
        e.sim.requests_to(&path(&t[1])).len(),
        3,
        "at most 3 attempts"
    );
    let d = r.deliveries[1].detail.as_deref().unwrap();
    assert!(d.contains("after 3 attempts"), "{d}");
    assert_eq!(r.deliveries[1].vendor_code.as_deref(), Some("Shutdown"));
    // A plain HTTP error without a reason.
    let u = tokens(12, 1);
    e.sim
        .script_always(&path(&u[0]), Some(CallAction::HttpStatus(502)));
    let r = send(&e.apns, &c, &u).await;
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("http_502"));
    assert_eq!(e.sim.requests_to(&path(&u[0])).len(), 3);
}

#[tokio::test]
async fn a_call_without_an_answer_is_not_sent_again_and_deadlines_hold() {
    let e = env_with(apns_sim::Settings::default(), Duration::from_millis(500)).await;
    let c = cert(&e);
    let t = tokens(13, 1);
    e.sim
        .script_next(&path(&t[0]), CallAction::Delay(Duration::from_secs(2)));
    let started = Instant::now();
    let r = send(&e.apns, &c, &t).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    assert_eq!(r.deliveries[0].vendor_code.as_deref(), Some("no_answer"));
    let d = r.deliveries[0].detail.as_deref().unwrap();
    assert!(d.contains("outcome is unknown"), "{d}");
    // The simulator records an abandoned call once its delay is over
    // (with room for a loaded machine).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(e.sim.requests_to(&path(&t[0])).len(), 1, "never resent");
    // The push's deadline bounds a slow call, whatever the timeout.
    let slow = Apns::new(
        e.store.clone(),
        Some(&e.sim.base_url()),
        Duration::from_secs(30),
    );
    let u = tokens(14, 1);
    e.sim
        .script_next(&path(&u[0]), CallAction::Delay(Duration::from_secs(5)));
    let started = Instant::now();
    let r = send_as(&slow, &c, &u, Category::Im, Duration::from_millis(800)).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(statuses(&r), [DeliveryStatus::Failed]);
    // A deadline already passed: nothing starts.
    let v = tokens(15, 2);
    let r = send_as(&slow, &c, &v, Category::Im, Duration::ZERO).await;
    assert_eq!(statuses(&r), vec![DeliveryStatus::Failed; 2]);
    assert!(e.sim.requests_to(&path(&v[0])).is_empty());
}

#[tokio::test]
async fn a_payload_past_4096_bytes_is_rejected_unsent() {
    let e = env().await;
    let c = cert(&e);
    let click = ClickAction::OpenApp;
    let ext = "\u{1}".repeat(offpush::domain::push::MAX_EXT_BYTES);
    let m = Message {
        push_key: "app-1/req-2",
        title: "Alice",
        desc: "Hi",
        ext: Some(&ext),
        category: Category::Im,
        ttl_seconds: 60,
        click: &click,
        notify_id: None,
        receipt: None,
    };
    let t = targets(&tokens(16, 2));
    let budget = Budget::new(Instant::now() + Duration::from_secs(5), 8);
    let r = e
        .apns
        .send(Send {
            cert: &c,
            message: &m,
            targets: &t,
            chunks: &[1, 1],
            budget: &budget,
        })
        .await;
    assert_eq!(statuses(&r), vec![DeliveryStatus::Rejected; 2]);
    assert_eq!(r.calls, 0);
    assert!(r.deliveries[0].detail.as_deref().unwrap().contains("4096"));
    assert!(e.sim.requests().is_empty());
}

#[tokio::test]
async fn verify_accepts_good_credentials_and_names_the_refused_field() {
    let e = env().await;
    // Apple answers the all-zero token BadDeviceToken.
    e.sim
        .set_device(&"0".repeat(64), SimDevice::verdict(Verdict::BadDeviceToken));
    e.apns.verify(&cert(&e)).await.expect("accepted");
    // The token minted at upload is the one pushes use.
    let r = send(&e.apns, &cert(&e), &tokens(17, 1)).await;
    assert_eq!(statuses(&r), [DeliveryStatus::Sent]);
    assert_eq!(r.calls, 1, "no second mint");
    assert_eq!(auth_headers(&e.sim).len(), 1);
    // Test mode: the sandbox host (here the same simulator).
    e.apns
        .verify(&cert_with(creds(&e.pem, BUNDLE), PushMode::Test))
        .await
        .expect("accepted in test mode");

    // A P-256 key APNs does not know for this key id.
    let err = e
        .apns
        .verify(&cert_with(creds(&pem(), BUNDLE), PushMode::Production))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.key_id"))
    );
    // Not a P-256 PKCS#8 key at all.
    let junk = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
    let err = e
        .apns
        .verify(&cert_with(creds(junk, BUNDLE), PushMode::Production))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.private_key"))
    );
    assert!(!err.to_string().contains("AAAA"));
    // A bundle id that is not the team's.
    let err = e
        .apns
        .verify(&cert_with(
            creds(&e.pem, "com.example.other"),
            PushMode::Production,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (422, Some("credentials.bundle_id"))
    );
    // APNs down: not the credentials' fault.
    let zero = path(&"0".repeat(64));
    e.sim
        .script_next(&zero, error_action(503, "ServiceUnavailable"));
    let err = e.apns.verify(&cert(&e)).await.unwrap_err();
    assert_eq!(err.status(), 503);
    e.sim
        .script_next(&zero, error_action(500, "InternalServerError"));
    assert_eq!(e.apns.verify(&cert(&e)).await.unwrap_err().status(), 502);
}

#[tokio::test]
async fn credentials_views_clicks_and_receipts_through_the_port() {
    let e = env().await;
    let a = &e.apns;
    assert_eq!(a.platform(), Platform::Apns);
    assert_eq!(a.receipt_style(), ReceiptStyle::None);
    assert!(a.has_test_mode());
    assert_eq!(a.limits(), offpush_apns::LIMITS);
    assert_eq!(a.limits().targets_per_call, 1);
    // APNs posts no receipts: any body is refused.
    let err = a
        .parse_receipt(b"{}", Some("application/json"))
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(e.sim.requests().is_empty());
    let body = serde_json::json!({"credentials": {
        "team_id": TEAM, "key_id": KEY_ID, "private_key": e.pem, "bundle_id": BUNDLE,
    }});
    let mut obj = offpush::domain::input::parse_body(body.to_string().as_bytes()).unwrap();
    let data = a
        .parse_credentials(obj.req_obj("credentials").unwrap(), None)
        .unwrap();
    let view = a.view_credentials(&data);
    assert_eq!(view["private_key"], "****---");
    assert!(!view.to_string().contains("PRIVATE KEY"));
    assert_eq!(a.default_name(&data), "apns com.example.im");
    assert!(a.parse_options(None, None).unwrap().is_empty());
    let page = ClickAction::OpenPage {
        intent_uri: "intent:#Intent;component=a/.B;end".into(),
    };
    let err = a.check_click(&page, "click_action").unwrap_err();
    assert_eq!(
        (err.status(), err.field()),
        (400, Some("click_action.type"))
    );
    assert!(a
        .check_click(
            &ClickAction::OpenUrl {
                url: "https://example.com".into()
            },
            "click_action"
        )
        .is_ok());
    assert!(a.check_click(&ClickAction::OpenApp, "click_action").is_ok());
}
