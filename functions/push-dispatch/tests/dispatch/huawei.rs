//! Huawei's fault matrix: how a push through a Huawei certificate answers
//! each code of the adapter's table (VENDORS_API.md 4.3), the shared OAuth
//! token and its one re-auth on 80200003, 80100000's illegal_tokens, the
//! gate of 80300007, flow control, timeouts, malformed bodies, partial
//! success at 1000 tokens and signed receipts through the product's
//! receipt route, through the real handler against the Huawei simulator.
//! Every row asserts the outcome, the calls made, and that a binding ends
//! only on a dead-token verdict.

use crate::common::*;
use huawei_sim::{
    callback_value, error_action, ReceiptConfig, SimApp, TokenVerdict, CALLBACK_HEADER, TOKEN_PATH,
};
use offpush::domain::{ClickAction, PushMode, ReceiptSecret};
use offpush::vendor::kit::session::MAX_ATTEMPTS;
use serde_json::{json, Value};
use std::time::Duration;

type WAction = huawei_sim::CallAction;

fn send() -> String {
    huawei_sim::send_path(HUAWEI_APP_ID)
}

fn account() -> String {
    huawei_credentials().account_key()
}

fn sim_app() -> SimApp {
    SimApp::new(HUAWEI_APP_ID, HUAWEI_CLIENT_SECRET)
}

/// A Huawei certificate (id 1) and `users` bound as `hw-<user>`.
async fn wsetup(label: &str, users: &[&str]) -> TestEnv {
    let env = TestEnv::new(label).await;
    env.add_huawei_certificate(ClickAction::OpenApp, None, None)
        .await;
    for u in users {
        env.bind(1, u, &format!("hw-{u}"), None).await;
    }
    env
}

async fn push_users(env: &TestEnv, users: &[&str]) -> Value {
    let (s, r) = push(env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    r
}

fn line<'a>(r: &'a Value, user: &str) -> &'a Value {
    let lines = results_of(r, user);
    assert_eq!(lines.len(), 1, "{r}");
    lines[0]
}

fn calls(env: &TestEnv) -> usize {
    env.huawei.requests_to(&send()).len()
}

fn token_calls(env: &TestEnv) -> usize {
    env.huawei.requests_to(TOKEN_PATH).len()
}

async fn forget_pauses(env: &TestEnv) {
    env.store.clear_pauses(&account(), None, 0).await.unwrap();
    env.ctx
        .vendor(offpush::domain::Platform::Huawei)
        .unwrap()
        .forget_pauses(&account())
        .await;
}

async fn settled(env: &TestEnv) -> Vec<sim_kit::RecordedRequest> {
    let mut last = env.huawei.requests_to(&send());
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = env.huawei.requests_to(&send());
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
    last
}

#[tokio::test]
async fn a_push_reaches_huawei_as_its_api_documents() {
    let env = wsetup("hw-shape", &["alice"]).await;
    let (s, r) = push(
        &env,
        &json!({"to": ["alice"], "title": "Alice", "desc": "Hi", "ext": "{\"c\":1}", "notify_id": 9,
                "ttl_seconds": 3600, "category": "IM",
                "click_action": {"type": "open_url", "url": "https://example.com/x"}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let l = line(&r, "alice");
    assert_eq!(l["status"], "sent", "{r}");
    let d = &env.huawei.deliveries()[0];
    assert_eq!(l["vendor_task_id"].as_str(), Some(d.request_id.as_str()));
    assert_eq!((d.token.as_str(), d.status), ("hw-alice", 0));
    assert_eq!(
        (d.title.as_deref(), d.body.as_deref()),
        (Some("Alice"), Some("Hi"))
    );
    assert_eq!(
        d.click_action,
        Some(json!({"type": 2, "url": "https://example.com/x"}))
    );
    assert_eq!(d.category.as_deref(), Some("IM"));
    assert_eq!(d.effective_category.as_deref(), Some("IM"));
    assert_eq!(d.importance.as_deref(), Some("NORMAL"));
    assert_eq!(d.ttl_secs, Some(3600.0));
    assert_eq!(d.notify_id, Some(9));
    let data: Value = serde_json::from_str(d.data.as_deref().unwrap()).unwrap();
    assert_eq!(data["ext"], "{\"c\":1}");
    assert_eq!(d.target_user_type, 0);
    assert!(d.bi_tag.is_none() && d.receipt_id.is_none(), "receipts off");
    let req = &env.huawei.requests_to(&send())[0];
    assert_eq!(req.body["validate_only"], false);
    assert_eq!(req.body["message"]["token"], json!(["hw-alice"]));
    let auth = req.header("authorization").unwrap();
    assert!(auth.starts_with("Bearer ") && auth.len() > 20, "{auth}");
    assert_eq!(token_calls(&env), 1);
    // An operational category goes MARKETING, LOW.
    let r = push_to(&env, "alice", "sale", json!({"category": "MARKETING"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let d = &env.huawei.deliveries()[1];
    assert_eq!(
        (d.category.as_deref(), d.importance.as_deref()),
        (Some("MARKETING"), Some("LOW"))
    );
    assert_eq!(d.click_action, Some(json!({"type": 3})));
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
}

#[tokio::test]
async fn one_token_serves_several_pushes_and_80200003_renews_it_once() {
    let env = wsetup("hw-token", &["alice", "bob"]).await;
    for u in ["alice", "bob", "alice"] {
        let r = push_users(&env, &[u]).await;
        assert_eq!(line(&r, u)["status"], "sent", "{r}");
    }
    assert_eq!((token_calls(&env), calls(&env)), (1, 3), "one token call");
    let sent = env.huawei.requests_to(&send());
    assert!(sent
        .windows(2)
        .all(|w| w[0].header("authorization") == w[1].header("authorization")));
    // 80200003 (expired): one fresh token, the same call again, sent.
    env.huawei
        .script_next(&send(), error_action("80200003", "token expired"));
    let r = push_users(&env, &["bob"]).await;
    assert_eq!(line(&r, "bob")["status"], "sent", "{r}");
    assert_eq!((token_calls(&env), calls(&env)), (2, 5));
    let sent = env.huawei.requests_to(&send());
    assert_eq!(sent[3].status, 401);
    assert_eq!(sent[3].body, sent[4].body, "the same call again");
    assert_ne!(
        sent[3].header("authorization"),
        sent[4].header("authorization")
    );
    // Still expired after the refresh: failed, once only.
    env.huawei
        .script_always(&send(), Some(error_action("80200003", "token expired")));
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("80200003")),
        "{r}"
    );
    assert!(
        l["detail"]
            .as_str()
            .unwrap()
            .contains("again after a refresh"),
        "{r}"
    );
    assert_eq!((token_calls(&env), calls(&env)), (3, 7));
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
    assert_eq!(live_tokens(&env, "bob").await, ["hw-bob"]);
}

/// Rows: every code of the table (80300007 has its own test), scripted,
/// one push to alice.
#[tokio::test]
async fn every_code_of_the_table_answers_its_row_and_keeps_the_binding() {
    let n = MAX_ATTEMPTS as usize;
    // (code, status, send calls, token calls)
    let rows: &[(&str, &str, usize, usize)] = &[
        ("80100001", "rejected", 1, 0),
        ("80100002", "rejected", 1, 0),
        ("80100003", "rejected", 1, 0),
        ("80100004", "rejected", 1, 0),
        ("80100013", "rejected", 1, 0),
        ("80100016", "rejected", 1, 0),
        ("80100017", "failed", 1, 0),
        ("80200001", "failed", 1, 0),
        ("80200003", "failed", 2, 1),
        ("80200005", "failed", 1, 0),
        ("80300002", "failed", 1, 0),
        ("80300008", "rejected", 1, 0),
        ("80300010", "rejected", 1, 0),
        ("80300011", "failed", 1, 0),
        ("80300013", "failed", 1, 0),
        ("80600003", "failed", n, 0),
        ("81000001", "failed", n, 0),
        ("80999999", "failed", 1, 0),
    ];
    let env = wsetup("hw-codes", &["alice"]).await;
    // The token first, so each row's token calls are its own.
    assert_eq!(
        line(&push_users(&env, &["alice"]).await, "alice")["status"],
        "sent"
    );
    for &(code, status, sends, tokens) in rows {
        env.huawei.reset();
        forget_pauses(&env).await;
        env.huawei
            .script_always(&send(), Some(error_action(code, "scripted")));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], status, "{code}: {r}");
        assert_eq!(l["vendor_code"], code, "{code}: {r}");
        assert!(
            l["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("huawei {code}")),
            "{code}: {r}"
        );
        assert_eq!(calls(&env), sends, "{code}: send calls");
        assert_eq!(token_calls(&env), tokens, "{code}: token calls");
        let sent = env.huawei.requests_to(&send());
        assert!(sent.windows(2).all(|w| w[0].body == w[1].body), "{code}");
        assert!(l.get("retry_after_s").is_none(), "{code}: {r}");
        assert_eq!(
            live_tokens(&env, "alice").await,
            ["hw-alice"],
            "{code}: kept"
        );
    }
    // 80100000 whose msg cannot be read: which tokens is unknown; kept.
    env.huawei.reset();
    env.huawei.script_always(
        &send(),
        Some(WAction::Body(
            json!({"code": "80100000", "msg": "not json", "requestId": "1"}),
        )),
    );
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("80100000")),
        "{r}"
    );
    assert_eq!(calls(&env), 1);
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
}

#[tokio::test]
async fn illegal_tokens_of_80100000_end_exactly_those_bindings() {
    let env = wsetup("hw-80100000", &["alice", "bob", "carol"]).await;
    env.huawei.set_token("hw-bob", TokenVerdict::Illegal);
    let r = push_users(&env, &["alice", "bob", "carol"]).await;
    assert_eq!(calls(&env), 1);
    let resp = &env.huawei.requests_to(&send())[0].response;
    assert_eq!(resp["code"], "80100000", "{resp}");
    for u in ["alice", "carol"] {
        assert_eq!(line(&r, u)["status"], "sent", "{r}");
    }
    let b = line(&r, "bob");
    assert_eq!(
        (b["status"].as_str(), b["vendor_code"].as_str()),
        (Some("token_invalid"), Some("80100000")),
        "{r}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(live_tokens(&env, "bob").await.is_empty(), "bob ended");
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
    assert_eq!(live_tokens(&env, "carol").await, ["hw-carol"]);
    assert_eq!(env.huawei.deliveries().len(), 2);
}

/// 80300007 ends bindings only once a send through the same Huawei app was
/// accepted (send.rs: a misconfigured app answers it to every send).
#[tokio::test]
async fn all_tokens_invalid_is_gated_on_an_accepted_send() {
    let env = wsetup("hw-80300007", &["alice", "bob"]).await;
    // A misconfigured app, nothing accepted yet: failed, bindings kept.
    env.huawei.add_app(SimApp {
        misconfigured: true,
        ..sim_app()
    });
    let r = push_users(&env, &["alice", "bob"]).await;
    for u in ["alice", "bob"] {
        let l = line(&r, u);
        assert_eq!(
            (l["status"].as_str(), l["vendor_code"].as_str()),
            (Some("failed"), Some("80300007")),
            "{r}"
        );
        assert!(
            l["detail"].as_str().unwrap().contains("bindings kept"),
            "{r}"
        );
    }
    assert_eq!(calls(&env), 1, "not retried");
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
    assert_eq!(live_tokens(&env, "bob").await, ["hw-bob"]);
    // Configured: a send is accepted, which vouches for the app; then every
    // token of a call illegal is a dead-token verdict.
    env.huawei.add_app(sim_app());
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    env.huawei.set_token("hw-bob", TokenVerdict::Illegal);
    let r = push_users(&env, &["bob"]).await;
    let l = line(&r, "bob");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("token_invalid"), Some("80300007")),
        "{r}"
    );
    assert_eq!(
        env.huawei.requests_to(&send()).last().unwrap().response["code"],
        "80300007"
    );
    assert_eq!(calls(&env), 3);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(live_tokens(&env, "bob").await.is_empty(), "bob ended");
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
}

#[tokio::test]
async fn credentials_refused_on_a_push_fail_and_never_end_a_binding() {
    let env = wsetup("hw-creds", &["alice"]).await;
    env.edit_certificate(1, |c| {
        c.credentials.set_s("huawei_client_secret", "wrong-secret")
    })
    .await;
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("oauth")),
        "{r}"
    );
    assert!(
        l["detail"].as_str().unwrap().contains("client secret"),
        "{r}"
    );
    assert_eq!(token_calls(&env), 1);
    assert_eq!(env.huawei.requests_to(TOKEN_PATH)[0].status, 400);
    assert_eq!(calls(&env), 0, "no send without a token");
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
}

/// The token endpoint's refusals (codes.rs): the client id or secret
/// refused fail, its flow control pauses auth; never a send, never a
/// binding ended.
#[tokio::test]
async fn token_endpoint_refusals_answer_their_rows() {
    let env = wsetup("hw-oauth", &["alice"]).await;
    // (answer, status, detail words, paused)
    let rows: Vec<(WAction, &str, &str, bool)> = vec![
        (
            huawei_sim::oauth_error_action(400, 1101, 20158, "invalid client_id"),
            "failed",
            "client id",
            false,
        ),
        (
            huawei_sim::oauth_error_action(400, 1101, 12304, "invalid client_secret"),
            "failed",
            "client secret",
            false,
        ),
        (WAction::HttpStatus(403), "failed", "token request", false),
        (
            huawei_sim::oauth_error_action(503, 1203, 0, "flow control"),
            "throttled",
            "flow control",
            true,
        ),
    ];
    for (action, status, words, paused) in rows {
        env.huawei.reset();
        forget_pauses(&env).await;
        env.huawei.script_always(TOKEN_PATH, Some(action.clone()));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], status, "{action:?}: {r}");
        assert!(
            l["detail"].as_str().unwrap().contains(words),
            "{action:?}: {r}"
        );
        if paused {
            let s = l["retry_after_s"].as_u64().unwrap();
            assert!((1..=60).contains(&s), "{r}");
        } else {
            assert_eq!(l["vendor_code"], "oauth", "{action:?}: {r}");
        }
        assert_eq!(token_calls(&env), 1, "{action:?}");
        assert_eq!(calls(&env), 0, "{action:?}: no send without a token");
        assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
    }
}

#[tokio::test]
async fn flow_control_503_is_retried_then_throttled() {
    let env = wsetup("hw-503", &["alice"]).await;
    // Scripted, and the simulator's own (the app's QPS reached).
    for round in 0..2 {
        env.huawei.reset();
        forget_pauses(&env).await;
        if round == 0 {
            env.huawei
                .script_always(&send(), Some(WAction::HttpStatus(503)));
        } else {
            env.huawei.add_app(SimApp {
                qps: Some(0),
                ..sim_app()
            });
        }
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(
            (l["status"].as_str(), l["vendor_code"].as_str()),
            (Some("throttled"), Some("http_503")),
            "{round}: {r}"
        );
        assert!(
            l["detail"].as_str().unwrap().contains("flow control"),
            "{r}"
        );
        assert_eq!(l["retry_after_s"].as_u64(), Some(1), "{r}");
        let sent = env.huawei.requests_to(&send());
        assert_eq!(sent.len(), MAX_ATTEMPTS as usize, "{round}");
        assert!(sent.iter().all(|q| q.status == 503));
        assert!(sent.windows(2).all(|w| w[0].body == w[1].body));
        assert!(env.huawei.deliveries().is_empty());
        assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
    }
}

#[tokio::test]
async fn server_errors_and_garbage_are_retried_with_the_same_call_then_failed() {
    let env = wsetup("hw-5xx", &["alice"]).await;
    for action in [
        WAction::HttpStatus(500),
        WAction::HttpStatus(502),
        WAction::Garbage,
    ] {
        env.huawei.reset();
        env.huawei.script_always(&send(), Some(action.clone()));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], "failed", "{action:?}: {r}");
        assert!(
            l["detail"]
                .as_str()
                .unwrap()
                .ends_with(&format!("(after {MAX_ATTEMPTS} attempts)")),
            "{r}"
        );
        let sent = env.huawei.requests_to(&send());
        assert_eq!(sent.len(), MAX_ATTEMPTS as usize);
        assert!(
            sent.windows(2).all(|w| w[0].body == w[1].body),
            "one call, repeated"
        );
        assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
    }
}

#[tokio::test]
async fn a_timeout_is_not_sent_again_and_answers_outcome_unknown() {
    let mut env = wsetup("hw-timeout", &["alice"]).await;
    let mut cfg = env.config();
    // The token call comes first and must not time out on a loaded
    // machine: a call timeout of 1 s, against a send held 3 s.
    cfg.vendor_timeout = Duration::from_millis(1000);
    cfg.push_deadline = Duration::from_secs(8);
    env.ctx = testkit::context(env.store.clone(), &cfg);
    env.huawei
        .script_always(&send(), Some(WAction::Delay(Duration::from_secs(3))));
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(l["status"], "failed", "{r}");
    assert!(
        l["detail"].as_str().unwrap().contains("outcome is unknown"),
        "{r}"
    );
    let sent = settled(&env).await;
    assert_eq!(sent.len(), 1, "written once, never again");
    assert_eq!(sent[0].status, 0, "abandoned at the call timeout");
    assert!(env.huawei.deliveries().is_empty());
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
}

#[tokio::test]
async fn a_test_certificate_sends_test_messages() {
    let env = wsetup("hw-test-mode", &["alice"]).await;
    env.edit_certificate(1, |c| c.push_mode = PushMode::Test)
        .await;
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let d = &env.huawei.deliveries()[0];
    assert_eq!(d.target_user_type, 1);
    assert_eq!(d.message["android"]["target_user_type"], 1);
    assert_eq!(env.huawei.usage(HUAWEI_APP_ID).test_messages_today, 1);
}

#[tokio::test]
async fn partial_success_at_a_thousand_tokens_ends_only_the_bad_ones() {
    let env = TestEnv::new("hw-1000").await;
    env.add_huawei_certificate(ClickAction::OpenApp, None, None)
        .await;
    let users = env.seed_users(1000, "u", 1).await;
    let bad: Vec<String> = users.iter().step_by(97).cloned().collect();
    for u in &bad {
        env.huawei
            .set_token(&format!("regid-{u}-0"), TokenVerdict::Illegal);
    }
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(s, 200);
    assert_eq!(calls(&env), 1, "1000 tokens in one call");
    assert_eq!(
        env.huawei.requests_to(&send())[0].body["message"]["token"]
            .as_array()
            .unwrap()
            .len(),
        1000
    );
    let dead: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "token_invalid")
        .map(|l| l["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(dead, bad.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r["summary"]["sent"], (1000 - bad.len()) as u64);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for u in &bad {
        assert!(live_tokens(&env, u).await.is_empty(), "{u}");
    }
    assert_eq!(live_tokens(&env, &users[1]).await.len(), 1);
    // Again: the ended ones are no_device, no call names them.
    let (_, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(r["summary"]["no_device"], bad.len() as u64);
    assert_eq!(r["summary"]["sent"], (1000 - bad.len()) as u64);
    assert_eq!(calls(&env), 2);
}

#[tokio::test]
async fn a_thousand_and_one_devices_go_in_two_calls() {
    let env = TestEnv::new("hw-1001").await;
    env.add_huawei_certificate(ClickAction::OpenApp, None, None)
        .await;
    let users = env.seed_users(1000, "u", 2).await;
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(
        (s, r["summary"]["sent"].as_u64()),
        (200, Some(1001)),
        "{}",
        r["summary"]
    );
    let sent = env.huawei.requests_to(&send());
    assert_eq!(sent.len(), 2, "at most 1000 tokens a call");
    let sizes: Vec<usize> = sent
        .iter()
        .map(|q| q.body["message"]["token"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 1001);
    assert!(sizes.iter().all(|n| *n <= 1000), "{sizes:?}");
    assert_eq!(token_calls(&env), 1, "one token for both calls");
}

const CB_USER: &str = "offpush-cb";
const CB_SECRET: &str = "huawei-callback-secret-0123";

/// The receipt route's request as the simulator's relay would post it.
fn receipt_request(path: &str, body: &str, header: Option<String>) -> lambda_http::Request {
    let mut b = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("https://api.local{path}"))
        .header("content-type", "application/json");
    if let Some(h) = header {
        b = b.header(CALLBACK_HEADER, h);
    }
    b.body(lambda_http::Body::Text(body.to_string())).unwrap()
}

#[tokio::test]
async fn a_signed_receipt_through_the_route_marks_delivered_and_a_bad_one_changes_nothing() {
    let env = TestEnv::new("hw-receipts").await;
    env.add_huawei_certificate(
        ClickAction::OpenApp,
        Some("RCP1"),
        Some((CB_USER, CB_SECRET)),
    )
    .await;
    // The receipt URL's secret, known to the test (the receipt id kept).
    let secret = ReceiptSecret::generate();
    let hash = secret.hash();
    env.edit_certificate(1, |c| c.receipt.as_mut().unwrap().secret_hash = hash)
        .await;
    let route = format!("/v1/receipts/huawei/{}", secret.expose());
    env.huawei.add_app(sim_app().with_receipts(
        ReceiptConfig::new("RCP1", format!("https://api.local{route}")).signed(CB_USER, CB_SECRET),
    ));
    // Held in the simulator's queue: the test posts them itself.
    env.huawei.set_receipt_delay(Duration::from_secs(3600));
    for u in ["alice", "bob", "carol"] {
        env.bind(1, u, &format!("hw-{u}"), None).await;
    }
    env.huawei.set_token("hw-bob", TokenVerdict::Status(2));
    env.huawei.set_token("hw-carol", TokenVerdict::Status(6));
    let r = push_to(&env, "alice", "hi", json!({"request_id": "w-1"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let (s, r) = push(
        &env,
        &json!({"to": ["bob", "carol"], "desc": "hi", "request_id": "w-2"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(status_of(&r, "bob"), "sent");
    assert_eq!(status_of(&r, "carol"), "sent");
    // The receipt id and push reference travel with every send.
    for q in env.huawei.requests_to(&send()) {
        let a = &q.body["message"]["android"];
        assert_eq!(a["receipt_id"], "RCP1");
        assert!(a["bi_tag"].as_str().is_some_and(|t| !t.is_empty()), "{a}");
    }
    let pending = env.huawei.pending_receipts();
    assert_eq!(pending.len(), 3, "{pending:?}");
    assert!(pending.iter().all(|p| p.callback_url.ends_with(&route)));
    let body_of = |tokens: &[&str]| {
        let items: Vec<Value> = pending
            .iter()
            .filter(|p| tokens.contains(&p.token.as_str()))
            .map(|p| serde_json::from_str(&p.item).unwrap())
            .collect();
        json!({ "statuses": items }).to_string()
    };
    let body = body_of(&["hw-alice", "hw-bob", "hw-carol"]);
    let nonce = uuid::Uuid::new_v4().to_string();
    let post = |header: Option<String>| {
        let req = receipt_request(&route, &body, header);
        async { read(push_dispatch::handle(&env.ctx, req).await) }
    };

    // Refused: no header, a wrong secret, another user, a stale timestamp.
    let before = env.table_items().await;
    let now = now_ms();
    for (why, header) in [
        ("missing", None),
        (
            "wrong secret",
            Some(callback_value("not-the-secret", CB_USER, now, &nonce)),
        ),
        (
            "wrong user",
            Some(callback_value(CB_SECRET, "someone", now, &nonce)),
        ),
        (
            "stale",
            Some(callback_value(
                CB_SECRET,
                CB_USER,
                now - 10 * 60 * 1000,
                &nonce,
            )),
        ),
        ("garbled", Some("timestamp=1;nonce".to_string())),
    ] {
        let (s, ack) = post(header).await;
        assert_eq!(s, 401, "{why}: {ack}");
        assert!(ack["error"]["code"].is_string(), "{why}: {ack}");
    }
    assert_eq!(env.table_items().await, before, "refused: nothing changed");
    assert_eq!(live_tokens(&env, "bob").await, ["hw-bob"]);

    // Signed as the simulator signs: alice delivered, bob's status 2 ends
    // his binding, carol's 6 (notifications off) keeps hers.
    let (s, ack) = post(Some(callback_value(CB_SECRET, CB_USER, now_ms(), &nonce))).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(
        (
            ack["delivered"].as_u64(),
            ack["ended"].as_u64(),
            ack["unmatched"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{ack}"
    );
    let (s, rec) = admin_get(&env, "/v1/pushes/w-1").await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["summary"]["delivered"], 1, "{rec}");
    let (_, rec) = admin_get(&env, "/v1/pushes/w-2").await;
    assert_eq!(rec["summary"]["delivered"], 0, "{rec}");
    assert!(
        live_tokens(&env, "bob").await.is_empty(),
        "status 2 ends bob"
    );
    assert_eq!(live_tokens(&env, "carol").await, ["hw-carol"], "6 keeps");
    assert_eq!(live_tokens(&env, "alice").await, ["hw-alice"]);
    // A fresh signature on the same body again: counted once.
    let nonce2 = uuid::Uuid::new_v4().to_string();
    let req = receipt_request(
        &route,
        &body_of(&["hw-alice"]),
        Some(callback_value(CB_SECRET, CB_USER, now_ms(), &nonce2)),
    );
    let (s, ack) = read(push_dispatch::handle(&env.ctx, req).await);
    assert_eq!((s, ack["delivered"].as_u64()), (200, Some(0)), "{ack}");
    assert_eq!((calls(&env), token_calls(&env)), (2, 1));
}
