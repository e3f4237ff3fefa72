//! Honor's fault matrix: how a push through an Honor certificate answers
//! each code of the adapter's table (VENDORS_API.md 3.3, 3.4) in both
//! response shapes, the shared OAuth token and its one re-auth, timeouts,
//! malformed bodies, partial success at 1000 tokens and receipts through
//! the product's receipt route, through the real handler against the Honor
//! simulator. Every row asserts the outcome, the calls made, and that a
//! binding ends only on a dead-token verdict.

use crate::common::*;
use honor_sim::{error_action, ResponseShape, Settings, TokenVerdict, TOKEN_PATH};
use offpush::domain::{ClickAction, PushMode, ReceiptSecret};
use offpush::vendor::kit::session::MAX_ATTEMPTS;
use serde_json::{json, Value};
use std::time::Duration;

type HAction = honor_sim::CallAction;

fn send() -> String {
    honor_sim::send_path(HONOR_APP_ID)
}

fn account() -> String {
    honor_credentials().account_key()
}

/// An Honor certificate (id 1) and `users` bound as `hn-<user>`.
async fn hsetup(label: &str, users: &[&str]) -> TestEnv {
    let env = TestEnv::new(label).await;
    env.add_honor_certificate(ClickAction::OpenApp, None).await;
    for u in users {
        env.bind(1, u, &format!("hn-{u}"), None).await;
    }
    env
}

async fn hsetup_limits(label: &str, users: &[&str], timeout: Duration) -> TestEnv {
    let mut env = hsetup(label, users).await;
    let mut cfg = env.config();
    cfg.vendor_timeout = timeout;
    cfg.push_deadline = Duration::from_secs(6);
    env.ctx = testkit::context(env.store.clone(), &cfg);
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
    env.honor.requests_to(&send()).len()
}

fn token_calls(env: &TestEnv) -> usize {
    env.honor.requests_to(TOKEN_PATH).len()
}

fn shape(env: &TestEnv, response_shape: ResponseShape) {
    env.honor
        .set_settings(Settings {
            response_shape,
            ..Settings::default()
        })
        .unwrap();
}

async fn forget_pauses(env: &TestEnv) {
    env.store.clear_pauses(&account(), None, 0).await.unwrap();
    env.ctx
        .vendor(offpush::domain::Platform::Honor)
        .unwrap()
        .forget_pauses(&account())
        .await;
}

async fn settled(env: &TestEnv) -> Vec<sim_kit::RecordedRequest> {
    let mut last = env.honor.requests_to(&send());
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = env.honor.requests_to(&send());
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
    last
}

#[tokio::test]
async fn a_push_reaches_honor_as_its_api_documents() {
    let env = hsetup("hn-shape", &["alice"]).await;
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
    let d = &env.honor.deliveries()[0];
    assert_eq!(l["vendor_task_id"].as_str(), Some(d.request_id.as_str()));
    assert_eq!(d.token, "hn-alice");
    assert_eq!(
        (d.title.as_deref(), d.body.as_deref()),
        (Some("Alice"), Some("Hi"))
    );
    assert_eq!(d.click_type, Some(2));
    assert_eq!(
        d.request["android"]["notification"]["clickAction"]["url"],
        "https://example.com/x"
    );
    assert_eq!(d.importance.as_deref(), Some("NORMAL"));
    assert_eq!(d.classification.as_deref(), Some("service"));
    assert_eq!(d.ttl.as_deref(), Some("3600s"));
    assert_eq!(d.notify_id, Some(9));
    assert_eq!(d.data.as_deref(), Some("{\"c\":1}"));
    assert!(!d.test, "production: no targetUserType");
    assert!(d.request["android"].get("targetUserType").is_none());
    let req = &env.honor.requests_to(&send())[0];
    assert_eq!(req.body["token"], json!(["hn-alice"]));
    let token = &env.honor.access_tokens()[0].access_token;
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    // 3.3: the `timestamp` header, 13-digit ms.
    let ts = req.header("timestamp").expect("timestamp header");
    assert_eq!(ts.len(), 13, "{ts}");
    assert!(
        (ts.parse::<i64>().unwrap() - now_ms()).abs() < 60_000,
        "{ts}"
    );
    assert!(req
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    // The token call: client credentials as a form.
    let t = &env.honor.requests_to(TOKEN_PATH)[0];
    assert_eq!(t.method, "POST");
    assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);
    // An operational category goes LOW (marketing).
    let r = push_to(&env, "alice", "sale", json!({"category": "MARKETING"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let d = &env.honor.deliveries()[1];
    assert_eq!(d.importance.as_deref(), Some("LOW"));
    assert_eq!(d.classification.as_deref(), Some("marketing"));
    assert_eq!(d.click_type, Some(3), "the certificate's open_app");
}

#[tokio::test]
async fn one_token_serves_several_pushes_and_a_refused_one_is_renewed_once() {
    let env = hsetup("hn-token", &["alice", "bob"]).await;
    for u in ["alice", "bob", "alice"] {
        let r = push_users(&env, &[u]).await;
        assert_eq!(line(&r, u)["status"], "sent", "{r}");
    }
    assert_eq!((token_calls(&env), calls(&env)), (1, 3), "one token call");
    let first = env.honor.access_tokens()[0].access_token.clone();
    let auths: Vec<String> = env
        .honor
        .requests_to(&send())
        .iter()
        .map(|q| q.header("authorization").unwrap().to_string())
        .collect();
    assert!(auths.iter().all(|a| *a == format!("Bearer {first}")));
    // Honor forgets the token: 401 / 80200001, one fresh token, sent again.
    env.honor.invalidate_access_tokens(None);
    let r = push_users(&env, &["bob"]).await;
    assert_eq!(line(&r, "bob")["status"], "sent", "{r}");
    assert_eq!((token_calls(&env), calls(&env)), (2, 5));
    let sent = env.honor.requests_to(&send());
    assert_eq!(sent[3].status, 401);
    assert_ne!(
        sent[3].header("authorization"),
        sent[4].header("authorization")
    );
    assert_eq!(sent[3].body, sent[4].body, "the same call again");
    // Refused again after the refresh: failed, not a third time.
    env.honor
        .script_always(&send(), Some(error_action(401, "Oauth Token expired")));
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("401")),
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
    assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);
    assert_eq!(live_tokens(&env, "bob").await, ["hn-bob"]);
}

/// Rows: every code of the table, scripted in its shape, one push to alice.
#[tokio::test]
async fn every_code_of_the_table_answers_its_row() {
    // (code as scripted, status, send calls, token calls, paused, dead)
    let n = MAX_ATTEMPTS as usize;
    let rows: &[(Value, &str, usize, usize, bool, bool)] = &[
        (json!(400), "rejected", 1, 0, false, false),
        (json!(401), "failed", 2, 1, false, false),
        (json!(403), "failed", 1, 0, false, false),
        (json!(404), "failed", 1, 0, false, false),
        (json!(429), "throttled", 1, 0, true, false),
        (json!(500), "failed", n, 0, false, false),
        (json!(502), "failed", n, 0, false, false),
        (json!(503), "failed", n, 0, false, false),
        (json!(504), "failed", n, 0, false, false),
        (json!(4711), "failed", 1, 0, false, false),
        (json!("80100001"), "rejected", 1, 0, false, false),
        (json!("80100003"), "rejected", 1, 0, false, false),
        (json!("80100004"), "rejected", 1, 0, false, false),
        (json!("80100013"), "rejected", 1, 0, false, false),
        (json!("80100016"), "rejected", 1, 0, false, false),
        (json!("80100017"), "failed", 1, 0, false, false),
        (json!("80200001"), "failed", 2, 1, false, false),
        (json!("80200003"), "failed", 2, 1, false, false),
        (json!("80200005"), "failed", 2, 1, false, false),
        (json!("80300002"), "failed", 1, 0, false, false),
        (json!("80300007"), "token_invalid", 1, 0, false, true),
        (json!("80300008"), "rejected", 1, 0, false, false),
        (json!("80300010"), "rejected", 1, 0, false, false),
        (json!("80300011"), "failed", 1, 0, false, false),
        (json!("80300013"), "failed", 1, 0, false, false),
        (json!("80600003"), "failed", n, 0, false, false),
        (json!("81000001"), "failed", n, 0, false, false),
        (json!("80999999"), "failed", 1, 0, false, false),
    ];
    let env = hsetup("hn-codes", &["alice"]).await;
    // The token first, so each row's token calls are its own.
    assert_eq!(
        line(&push_users(&env, &["alice"]).await, "alice")["status"],
        "sent"
    );
    for (code, status, sends, tokens, paused, dead) in rows {
        let c = match code {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        env.honor.reset();
        forget_pauses(&env).await;
        env.honor
            .script_always(&send(), Some(error_action(code.clone(), "scripted")));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], *status, "{c}: {r}");
        assert_eq!(l["vendor_code"], c.as_str(), "{c}: {r}");
        assert!(
            l["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("honor {c}")),
            "{c}: {r}"
        );
        assert_eq!(calls(&env), *sends, "{c}: send calls");
        assert_eq!(token_calls(&env), *tokens, "{c}: token calls");
        let sent = env.honor.requests_to(&send());
        assert!(sent.windows(2).all(|w| w[0].body == w[1].body), "{c}");
        assert_eq!(l.get("retry_after_s").is_some(), *paused, "{c}: {r}");
        if *dead {
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(live_tokens(&env, "alice").await.is_empty(), "{c}: ended");
            env.bind(1, "alice", "hn-alice", None).await;
        } else {
            assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"], "{c}: kept");
        }
    }
}

#[tokio::test]
async fn expire_tokens_end_and_fail_tokens_keep_in_both_shapes() {
    let env = hsetup("hn-verdicts", &["alice", "bob", "carol"]).await;
    env.honor.set_token("hn-bob", TokenVerdict::Expired);
    env.honor.set_token("hn-carol", TokenVerdict::Failed);
    // code:200: both lists in `data`.
    let r = push_users(&env, &["alice", "bob", "carol"]).await;
    assert_eq!(calls(&env), 1);
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let b = line(&r, "bob");
    assert_eq!(
        (b["status"].as_str(), b["vendor_code"].as_str()),
        (Some("token_invalid"), Some("expireTokens")),
        "{r}"
    );
    let c = line(&r, "carol");
    assert_eq!(
        (c["status"].as_str(), c["vendor_code"].as_str()),
        (Some("failed"), Some("failTokens")),
        "{r}"
    );
    let resp = &env.honor.requests_to(&send())[0].response;
    assert_eq!(resp["data"]["expireTokens"], json!(["hn-bob"]));
    assert_eq!(resp["data"]["failTokens"], json!(["hn-carol"]));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(live_tokens(&env, "bob").await.is_empty(), "bob ended");
    assert_eq!(live_tokens(&env, "carol").await, ["hn-carol"], "kept");
    assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);

    // The Huawei-style shape: 80100000 lists the expired as illegal_tokens.
    env.bind(1, "bob", "hn-bob", None).await;
    shape(&env, ResponseShape::Huawei);
    let r = push_users(&env, &["alice", "bob", "carol"]).await;
    assert_eq!(calls(&env), 2);
    let resp = &env.honor.requests_to(&send())[1].response;
    assert_eq!(resp["code"], "80100000", "{resp}");
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let b = line(&r, "bob");
    assert_eq!(
        (b["status"].as_str(), b["vendor_code"].as_str()),
        (Some("token_invalid"), Some("80100000")),
        "{r}"
    );
    // Carol is not in illegal_tokens: the shape does not tell her apart.
    assert_eq!(line(&r, "carol")["status"], "sent", "{r}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(live_tokens(&env, "bob").await.is_empty());
    assert_eq!(live_tokens(&env, "carol").await, ["hn-carol"]);
    assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);

    // Every token expired: code:200 answers sendResult false with the list,
    // the Huawei shape 80300007.
    for (round, s) in [ResponseShape::Code200, ResponseShape::Huawei]
        .into_iter()
        .enumerate()
    {
        shape(&env, s);
        env.honor.set_token("hn-alice", TokenVerdict::Expired);
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        let want = if round == 0 {
            "expireTokens"
        } else {
            "80300007"
        };
        assert_eq!(
            (l["status"].as_str(), l["vendor_code"].as_str()),
            (Some("token_invalid"), Some(want)),
            "{r}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(live_tokens(&env, "alice").await.is_empty());
        env.bind(1, "alice", "hn-alice", None).await;
    }
    assert_eq!(calls(&env), 4);
}

#[tokio::test]
async fn both_shapes_of_success_answer_sent_with_the_request_id() {
    let env = hsetup("hn-shapes", &["alice"]).await;
    for s in [ResponseShape::Code200, ResponseShape::Huawei] {
        shape(&env, s);
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], "sent", "{s:?}: {r}");
        let resp = env
            .honor
            .requests_to(&send())
            .last()
            .unwrap()
            .response
            .clone();
        let id = resp["data"]["requestId"]
            .as_str()
            .or(resp["requestId"].as_str())
            .unwrap()
            .to_string();
        assert_eq!(l["vendor_task_id"], id.as_str(), "{s:?}: {resp}");
    }
    assert_eq!((calls(&env), token_calls(&env)), (2, 1));
}

/// Errors answered HTTP 200 (the code only in the body) read the same, in
/// both shapes: an app whose push is disabled.
#[tokio::test]
async fn errors_in_a_200_answer_are_read_from_the_body() {
    let env = hsetup("hn-200", &["alice"]).await;
    let mut app = honor_sim::SimApp::new(HONOR_APP_ID, HONOR_CLIENT_ID, HONOR_CLIENT_SECRET);
    app.push_enabled = false;
    env.honor.add_app(app);
    for (s, code) in [
        (ResponseShape::Code200, "403"),
        (ResponseShape::Huawei, "80300002"),
    ] {
        env.honor
            .set_settings(Settings {
                response_shape: s,
                errors_http_200: true,
                ..Settings::default()
            })
            .unwrap();
        let before = calls(&env);
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(
            (l["status"].as_str(), l["vendor_code"].as_str()),
            (Some("failed"), Some(code)),
            "{s:?}: {r}"
        );
        let sent = env.honor.requests_to(&send());
        assert_eq!(sent.len() - before, 1, "{s:?}: not retried");
        assert_eq!(sent.last().unwrap().status, 200);
        assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);
    }
}

#[tokio::test]
async fn credentials_refused_on_a_push_fail_and_never_end_a_binding() {
    let env = hsetup("hn-creds", &["alice"]).await;
    env.edit_certificate(1, |c| {
        c.credentials.set_s("honor_client_secret", "wrong-secret")
    })
    .await;
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("invalid_client")),
        "{r}"
    );
    assert!(
        l["detail"].as_str().unwrap().starts_with("honor auth"),
        "{r}"
    );
    assert_eq!(token_calls(&env), 1);
    assert_eq!(env.honor.requests_to(TOKEN_PATH)[0].status, 401);
    assert_eq!(calls(&env), 0, "no send without a token");
    assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);
}

/// The token endpoint's refusals (codes.rs, "The token endpoint"): failed
/// or paused, never a send, never a binding ended.
#[tokio::test]
async fn token_endpoint_refusals_answer_their_rows() {
    let env = hsetup("hn-oauth", &["alice"]).await;
    // (answer, status, vendor_code when not a pause)
    let rows: Vec<(HAction, &str, Option<&str>)> = vec![
        (
            honor_sim::oauth_error_action(400, "unauthorized_client", "no"),
            "failed",
            Some("unauthorized_client"),
        ),
        (
            honor_sim::oauth_error_action(400, "invalid_request", "no"),
            "failed",
            Some("oauth_error"),
        ),
        (HAction::HttpStatus(503), "throttled", None),
        (HAction::HttpStatus(429), "throttled", None),
    ];
    for (action, status, code) in rows {
        env.honor.reset();
        forget_pauses(&env).await;
        env.honor.script_always(TOKEN_PATH, Some(action.clone()));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], status, "{action:?}: {r}");
        match code {
            Some(c) => assert_eq!(l["vendor_code"], c, "{action:?}: {r}"),
            None => assert!(l["retry_after_s"].as_u64().is_some(), "{action:?}: {r}"),
        }
        assert_eq!(token_calls(&env), 1, "{action:?}");
        assert_eq!(calls(&env), 0, "{action:?}: no send without a token");
        assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);
    }
    // sendResult false with the token in neither list: not known delivered.
    env.honor.reset();
    forget_pauses(&env).await;
    env.honor.script_always(TOKEN_PATH, None);
    env.honor.script_always(
        &send(),
        Some(HAction::Body(json!({"code": 200, "message": "Success",
            "data": {"sendResult": false, "requestId": "1", "failTokens": [], "expireTokens": []}}))),
    );
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("sendResult_false")),
        "{r}"
    );
    assert_eq!(calls(&env), 1);
    assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);
}

#[tokio::test]
async fn the_quota_pauses_the_app_with_a_retry_after() {
    let env = hsetup("hn-quota", &["alice", "bob"]).await;
    env.honor.set_quotas(
        HONOR_APP_ID,
        honor_sim::Quotas {
            daily: Some(1),
            ..Default::default()
        },
    );
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let r = push_users(&env, &["bob"]).await;
    let l = line(&r, "bob");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("throttled"), Some("429")),
        "{r}"
    );
    let retry = l["retry_after_s"].as_i64().unwrap();
    assert!((0..=2).contains(&retry), "{r}");
    assert_eq!(calls(&env), 2);
    assert_eq!(env.honor.requests_to(&send())[1].status, 429);
    assert_eq!(live_tokens(&env, "bob").await, ["hn-bob"]);
    // The Huawei shape's flow control: a bare HTTP 503 pauses the same way.
    forget_pauses(&env).await;
    shape(&env, ResponseShape::Huawei);
    env.honor.set_quotas(
        HONOR_APP_ID,
        honor_sim::Quotas {
            daily: Some(0),
            ..Default::default()
        },
    );
    let r = push_users(&env, &["bob"]).await;
    let l = line(&r, "bob");
    assert_eq!(l["status"], "throttled", "{r}");
    assert!(l.get("retry_after_s").is_some(), "{r}");
    assert_eq!(calls(&env), 3, "not retried");
    assert_eq!(env.honor.requests_to(&send())[2].status, 503);
    assert_eq!(live_tokens(&env, "bob").await, ["hn-bob"]);
}

#[tokio::test]
async fn server_errors_and_garbage_are_retried_with_the_same_call_then_failed() {
    let env = hsetup("hn-5xx", &["alice"]).await;
    for action in [
        HAction::HttpStatus(500),
        HAction::HttpStatus(502),
        HAction::Garbage,
    ] {
        env.honor.reset();
        env.honor.script_always(&send(), Some(action.clone()));
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
        let sent = env.honor.requests_to(&send());
        assert_eq!(sent.len(), MAX_ATTEMPTS as usize);
        assert!(
            sent.windows(2).all(|w| w[0].body == w[1].body),
            "one call, repeated"
        );
        assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);
    }
}

#[tokio::test]
async fn a_timeout_is_not_sent_again_and_answers_outcome_unknown() {
    // The token call comes first and must not time out on a loaded
    // machine: a call timeout of 1 s, against a send held 3 s.
    let env = hsetup_limits("hn-timeout", &["alice"], Duration::from_millis(1000)).await;
    env.honor
        .script_always(&send(), Some(HAction::Delay(Duration::from_secs(3))));
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
    assert!(env.honor.deliveries().is_empty());
    assert_eq!(live_tokens(&env, "alice").await, ["hn-alice"]);
}

#[tokio::test]
async fn a_test_certificate_sends_test_messages() {
    let env = hsetup("hn-test-mode", &["alice"]).await;
    env.edit_certificate(1, |c| c.push_mode = PushMode::Test)
        .await;
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let d = &env.honor.deliveries()[0];
    assert!(d.test, "targetUserType 1");
    assert_eq!(d.request["android"]["targetUserType"], 1);
    assert_eq!(env.honor.usage(HONOR_APP_ID).test_delivered, 1);
    assert_eq!(env.honor.usage(HONOR_APP_ID).delivered, 0);
}

#[tokio::test]
async fn partial_success_at_a_thousand_tokens_ends_only_the_bad_ones() {
    let env = TestEnv::new("hn-1000").await;
    env.add_honor_certificate(ClickAction::OpenApp, None).await;
    let users = env.seed_users(1000, "u", 1).await;
    // Round 0 (code:200, expireTokens) ends one set, round 1 (Huawei
    // shape, illegal_tokens) another; the first set is then no_device.
    let first: Vec<String> = users.iter().step_by(97).cloned().collect();
    let second: Vec<String> = users.iter().skip(50).step_by(97).cloned().collect();
    let fail: Vec<String> = users.iter().skip(20).step_by(211).cloned().collect();
    for u in &fail {
        env.honor
            .set_token(&format!("regid-{u}-0"), TokenVerdict::Failed);
    }
    for (round, (s, bad)) in [
        (ResponseShape::Code200, &first),
        (ResponseShape::Huawei, &second),
    ]
    .into_iter()
    .enumerate()
    {
        shape(&env, s);
        for u in bad {
            env.honor
                .set_token(&format!("regid-{u}-0"), TokenVerdict::Expired);
        }
        let before = calls(&env);
        let (st, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
        assert_eq!(st, 200);
        assert_eq!(calls(&env) - before, 1, "1000 tokens in one call");
        let results = r["results"].as_array().unwrap();
        let dead: Vec<&str> = results
            .iter()
            .filter(|l| l["status"] == "token_invalid")
            .map(|l| l["user_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            dead,
            bad.iter().map(String::as_str).collect::<Vec<_>>(),
            "{s:?}"
        );
        if round == 0 {
            assert_eq!(
                r["summary"]["failed"],
                fail.len() as u64,
                "{}",
                r["summary"]
            );
            assert_eq!(r["summary"]["sent"], (1000 - bad.len() - fail.len()) as u64);
        } else {
            assert_eq!(r["summary"]["no_device"], first.len() as u64);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(live_tokens(&env, &bad[0]).await.is_empty());
    }
    assert_eq!(
        live_tokens(&env, &fail[0]).await.len(),
        1,
        "failTokens kept"
    );
    assert_eq!(live_tokens(&env, &users[1]).await.len(), 1);
}

#[tokio::test]
async fn a_thousand_and_one_devices_go_in_two_calls() {
    let env = TestEnv::new("hn-1001").await;
    env.add_honor_certificate(ClickAction::OpenApp, None).await;
    let users = env.seed_users(1000, "u", 2).await;
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(
        (s, r["summary"]["sent"].as_u64()),
        (200, Some(1001)),
        "{}",
        r["summary"]
    );
    let sent = env.honor.requests_to(&send());
    assert_eq!(sent.len(), 2, "at most 1000 tokens a call");
    let sizes: Vec<usize> = sent
        .iter()
        .map(|q| q.body["token"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 1001);
    assert!(sizes.iter().all(|n| *n <= 1000), "{sizes:?}");
    assert_eq!(token_calls(&env), 1, "one token for both calls");
}

/// Turns receipts on for certificate 1 with a secret the test knows.
async fn receipts_on(env: &TestEnv) -> ReceiptSecret {
    let secret = ReceiptSecret::generate();
    let hash = secret.hash();
    env.edit_certificate(1, |c| {
        c.receipt = Some(offpush::domain::Receipts {
            receipt_id: None,
            secret: None,
            secret_hash: hash,
        })
    })
    .await;
    secret
}

async fn post_receipt(env: &TestEnv, secret: &ReceiptSecret, body: &Value) -> (u16, Value) {
    read(
        push_dispatch::handle(
            &env.ctx,
            request_raw(
                "POST",
                &format!("/v1/receipts/honor/{}", secret.expose()),
                None,
                &body.to_string(),
            ),
        )
        .await,
    )
}

/// A receipt item as the simulator posts it (lib.rs, "Receipts").
fn status_item(d: &honor_sim::Delivery, status: Value) -> Value {
    json!({"biTag": d.bi_tag, "appid": HONOR_APP_ID, "token": d.token, "status": status,
           "timestamp": now_ms(), "requestId": d.request_id})
}

#[tokio::test]
async fn receipts_are_parsed_through_the_route() {
    let env = hsetup("hn-receipts", &["alice", "bob", "carol"]).await;
    let secret = receipts_on(&env).await;
    let r = push_to(&env, "alice", "hi", json!({"request_id": "h-1"})).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let r = push_to(&env, "bob", "hi", json!({"request_id": "h-2"})).await;
    assert_eq!(status_of(&r, "bob"), "sent");
    let r = push_to(&env, "carol", "hi", json!({"request_id": "h-3"})).await;
    assert_eq!(status_of(&r, "carol"), "sent");
    let ds = env.honor.deliveries();
    assert_eq!(ds.len(), 3);
    assert!(ds.iter().all(|d| d.bi_tag.is_some()), "biTag on every send");
    // 0 and 40000002 are delivered; 2 is a word only, ending nothing.
    let body = json!({"statuses": [
        status_item(&ds[0], json!(0)),
        status_item(&ds[1], json!("40000002")),
        status_item(&ds[2], json!(2)),
        {"appid": HONOR_APP_ID, "status": 0},
    ]});
    let (s, ack) = post_receipt(&env, &secret, &body).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(
        (
            ack["delivered"].as_u64(),
            ack["ended"].as_u64(),
            ack["unmatched"].as_u64()
        ),
        (Some(2), Some(0), Some(1)),
        "{ack}"
    );
    for (id, want) in [("h-1", 1), ("h-2", 1), ("h-3", 0)] {
        let (s, rec) = admin_get(&env, &format!("/v1/pushes/{id}")).await;
        assert_eq!(s, 200, "{rec}");
        assert_eq!(rec["summary"]["delivered"], want, "{id}: {rec}");
    }
    // Redelivered: counted once.
    let (s, ack) = post_receipt(&env, &secret, &body).await;
    assert_eq!((s, ack["delivered"].as_u64()), (200, Some(0)), "{ack}");
    assert_eq!(live_tokens(&env, "carol").await, ["hn-carol"]);
    // Not the honor route's body: 400.
    let (s, _) = post_receipt(&env, &secret, &json!({"t": 1})).await;
    assert_eq!(s, 400);
    // Sends made no extra calls.
    assert_eq!((calls(&env), token_calls(&env)), (3, 1));
}
