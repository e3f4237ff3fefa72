//! OPPO's fault matrix: how a push through an OPPO certificate answers each
//! documented code (VENDORS_API.md 2.2-2.7), re-auth, the daily totals,
//! timeouts, malformed bodies and per-target verdicts of `unicast_batch`,
//! through the real handler against the OPPO simulator. Every row asserts
//! the outcome, the calls made, and that a binding ends only on a
//! dead-token verdict.
//!
//! | row | what | test |
//! |-----|------|------|
//! | 1 | one device: `unicast`, fields as 2.3/2.4 document, auth sign | `a_push_reaches_oppo_as_its_api_documents` |
//! | 2 | one device `unicast`, several `unicast_batch` | `one_device_goes_by_unicast_and_several_by_unicast_batch` |
//! | 3 | every code of the adapter's table (10000 apart) | `every_documented_code_answers_its_row_and_keeps_the_binding` |
//! | 4 | code 11: one re-auth, the call repeated | `code_11_reauthenticates_once_and_repeats_the_call` |
//! | 5 | code 33: the class paused until OPPO's next day | `the_daily_total_pauses_the_class_until_oppos_next_day` |
//! | 6 | unicast 10000: the binding ends | `unicast_10000_ends_the_binding` |
//! | 7 | batch item errorCode 10000: only those bindings end | `batch_items_answered_10000_end_only_those_bindings` |
//! | 8 | a whole batch answered 10000: no binding ends | `a_whole_batch_answered_10000_ends_no_binding` |
//! | 9 | credentials refused (auth 16) | `credentials_refused_on_a_push_fail_and_never_end_a_binding` |
//! | 10 | 5xx, 429, garbage retried as one call; 404 not | `server_errors_and_garbage_are_retried_with_the_same_call_then_failed` |
//! | 11 | timeout: not sent again | `a_timeout_is_not_sent_again_and_answers_outcome_unknown` |
//! | 12 | 1000 targets, some invalid | `partial_success_at_a_thousand_targets_ends_only_the_bad_ones` |
//! | 13 | 1001 devices: two batches | `a_thousand_and_one_devices_go_in_two_calls` |
//! | 14 | IM private channel, receipts carried | `the_im_private_channel_and_receipts_are_carried` |

use crate::common::*;
use offpush::domain::{ClickAction, Platform};
use offpush::vendor::kit::session::MAX_ATTEMPTS;
use oppo_sim::{error_action, Quotas, RegIdVerdict, AUTH_PATH};
use serde_json::{json, Value};
use std::time::Duration;

type OAction = oppo_sim::CallAction;

const UNICAST: &str = oppo_sim::UNICAST_PATH;
const BATCH: &str = oppo_sim::UNICAST_BATCH_PATH;

/// The table partition of the simulator's OPPO app (its token, its pauses).
fn oppo_account() -> String {
    oppo_credentials().account_key()
}

/// An OPPO certificate (id 1) and `users` bound as `op-<user>`.
async fn osetup(label: &str, users: &[&str]) -> TestEnv {
    osetup_with(label, users, false).await
}

async fn osetup_with(label: &str, users: &[&str], receipts: bool) -> TestEnv {
    let env = TestEnv::new(label).await;
    env.add_oppo_certificate(ClickAction::OpenApp, receipts)
        .await;
    for u in users {
        env.bind(1, u, &format!("op-{u}"), None).await;
    }
    env
}

/// The same, with its own call timeout and push deadline.
async fn osetup_limits(
    label: &str,
    users: &[&str],
    timeout: Duration,
    deadline: Duration,
) -> TestEnv {
    let mut env = osetup(label, users).await;
    let mut cfg = env.config();
    cfg.vendor_timeout = timeout;
    cfg.push_deadline = deadline;
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

fn detail(l: &Value) -> &str {
    l["detail"].as_str().unwrap_or("")
}

fn calls(env: &TestEnv, path: &str) -> usize {
    env.oppo.requests_to(path).len()
}

/// The `message` of a recorded `unicast` form.
fn message_of(q: &oppo_sim::RecordedRequest) -> Value {
    serde_json::from_str(q.body["message"].as_str().expect("a message field")).unwrap()
}

/// The `messages` of a recorded `unicast_batch` form.
fn messages_of(q: &oppo_sim::RecordedRequest) -> Vec<Value> {
    let v: Value =
        serde_json::from_str(q.body["messages"].as_str().expect("a messages field")).unwrap();
    v.as_array().unwrap().clone()
}

async fn settled(env: &TestEnv, path: &str) -> Vec<oppo_sim::RecordedRequest> {
    let mut last = env.oppo.requests_to(path);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = env.oppo.requests_to(path);
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
    last
}

/// Ends every pause of the simulator's app, in the table and in the
/// instance's memory.
async fn clear_pauses(env: &TestEnv) {
    env.store
        .clear_pauses(&oppo_account(), None, 0)
        .await
        .unwrap();
    env.ctx
        .vendor(Platform::Oppo)
        .unwrap()
        .forget_pauses(&oppo_account())
        .await;
}

#[tokio::test]
async fn a_push_reaches_oppo_as_its_api_documents() {
    let env = osetup("op-shape", &["alice"]).await;
    let (s, r) = push(
        &env,
        &json!({"to": ["alice"], "title": "Alice", "desc": "Hi", "ext": "{\"c\":1}", "notify_id": 9,
                "ttl_seconds": 3600,
                "click_action": {"type": "open_url", "url": "https://example.com/x"}}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let l = line(&r, "alice");
    assert_eq!(l["status"], "sent", "{r}");
    // One auth (2.2), one unicast (2.3), no batch.
    let auths = env.oppo.requests_to(AUTH_PATH);
    assert_eq!(auths.len(), 1);
    let a = &auths[0].body;
    assert_eq!(a["app_key"], OPPO_APP_KEY);
    let ts = a["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 13, "milliseconds");
    assert_eq!(
        a["sign"].as_str(),
        Some(oppo_sim::sign(OPPO_APP_KEY, ts, OPPO_MASTER_SECRET).as_str())
    );
    assert!(
        auths[0]
            .header("content-type")
            .unwrap()
            .starts_with("application/x-www-form-urlencoded"),
        "a form"
    );
    let sent = env.oppo.requests_to(UNICAST);
    assert_eq!((sent.len(), calls(&env, BATCH)), (1, 0));
    let token = env.oppo.tokens()[0].auth_token.clone();
    assert_eq!(sent[0].body["auth_token"].as_str(), Some(token.as_str()));
    let m = message_of(&sent[0]);
    assert_eq!(m["target_type"], 2, "a registration id");
    assert_eq!(m["target_value"], "op-alice");
    let f = &m["notification"];
    assert_eq!(
        (f["title"].as_str(), f["content"].as_str()),
        (Some("Alice"), Some("Hi"))
    );
    assert_eq!(f["style"], 1);
    assert_eq!(f["click_action_type"], 2, "open URL");
    assert_eq!(f["click_action_url"], "https://example.com/x");
    assert_eq!(f["off_line"], true);
    assert_eq!(f["off_line_ttl"], 3600);
    assert_eq!(f["notify_id"], 9);
    assert_eq!(f["category"], "IM");
    assert_eq!(f["channel_id"], OPPO_CHANNEL);
    assert_eq!(f["notify_level"], 2);
    let params: Value = serde_json::from_str(f["action_parameters"].as_str().unwrap()).unwrap();
    assert_eq!(params, json!({"ext": "{\"c\":1}"}));
    assert!(
        f.get("call_back_url").is_none() && f.get("call_back_parameter").is_none(),
        "receipts off: no callback"
    );
    // As OPPO delivered it.
    let d = &env.oppo.deliveries()[0];
    assert_eq!(l["vendor_task_id"].as_str(), Some(d.message_id.as_str()));
    assert_eq!(d.endpoint, "unicast");
    assert_eq!(d.target, "op-alice");
    assert_eq!(d.app_key, OPPO_APP_KEY);
    assert_eq!((d.title.as_str(), d.content.as_str()), ("Alice", "Hi"));
    assert_eq!(d.class, oppo_sim::MessageClass::Service);
    assert_eq!(d.off_line_ttl, Some(3600));
    assert_eq!(live_tokens(&env, "alice").await, ["op-alice"]);
}

#[tokio::test]
async fn one_device_goes_by_unicast_and_several_by_unicast_batch() {
    let env = osetup("op-paths", &["alice", "bob", "carol"]).await;
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    assert_eq!((calls(&env, UNICAST), calls(&env, BATCH)), (1, 0));
    let r = push_users(&env, &["alice", "bob", "carol"]).await;
    let batches = env.oppo.requests_to(BATCH);
    assert_eq!((calls(&env, UNICAST), batches.len()), (1, 1), "one batch");
    let msgs = messages_of(&batches[0]);
    let mut targets: Vec<&str> = msgs
        .iter()
        .map(|m| m["target_value"].as_str().unwrap())
        .collect();
    targets.sort();
    assert_eq!(targets, ["op-alice", "op-bob", "op-carol"]);
    assert!(msgs.iter().all(|m| m["target_type"] == 2
        && m["notification"]["content"] == "hi"
        && m["notification"]["channel_id"] == OPPO_CHANNEL));
    assert!(batches[0].body.get("message").is_none());
    let ds = env.oppo.deliveries();
    for u in ["alice", "bob", "carol"] {
        let l = line(&r, u);
        assert_eq!(l["status"], "sent", "{r}");
        // Each target's own messageId from the batch's answer.
        let d = ds
            .iter()
            .find(|d| d.endpoint == "unicast_batch" && d.target == format!("op-{u}"))
            .unwrap();
        assert_eq!(l["vendor_task_id"].as_str(), Some(d.message_id.as_str()));
        assert_eq!(live_tokens(&env, u).await, [format!("op-{u}")]);
    }
    // The token obtained by the first push served the second.
    assert_eq!(calls(&env, AUTH_PATH), 1);
}

/// Rows: every code of the adapter's table (2.2, 2.5, 2.6), scripted on
/// `unicast`, one push to alice.
#[tokio::test]
async fn every_documented_code_answers_its_row_and_keeps_the_binding() {
    // (code, status, unicast calls, retry_after_s)
    let m = MAX_ATTEMPTS as usize;
    let rows: &[(i64, &str, usize, Option<i64>)] = &[
        (-1, "failed", m, None),
        (-2, "throttled", 1, Some(1)),
        // Re-auth once, the call repeated once, still 11: failed.
        (11, "failed", 2, None),
        (12, "failed", 1, None),
        (13, "throttled", 1, Some(1)),
        (14, "failed", 1, None),
        (15, "failed", 1, None),
        (16, "failed", 1, None),
        (17, "failed", 1, None),
        (18, "failed", 1, None),
        (19, "failed", 1, None),
        (20, "failed", 1, None),
        (21, "failed", 1, None),
        (22, "failed", 1, None),
        (23, "failed", 1, None),
        (24, "failed", 1, None),
        (25, "failed", 1, None),
        (26, "failed", 1, None),
        (27, "failed", 1, None),
        (28, "failed", 1, None),
        (29, "failed", 1, None),
        (30, "failed", 1, None),
        (31, "failed", 1, None),
        (32, "failed", 1, None),
        (33, "throttled", 1, None),
        (34, "failed", 1, None),
        (40, "rejected", 1, None),
        (41, "rejected", 1, None),
        (51, "rejected", 1, None),
        (55, "throttled", 1, Some(1)),
        (59, "failed", 1, None),
        (67, "failed", 1, None),
        (10001, "failed", 1, None),
        (10004, "failed", 1, None),
        (20000, "failed", 1, None),
        (99, "failed", 1, None),
        (77777, "failed", 1, None),
    ];
    let env = osetup("op-codes", &["alice"]).await;
    for &(code, status, want, retry) in rows {
        env.oppo.reset();
        clear_pauses(&env).await;
        env.oppo
            .script_always(UNICAST, Some(error_action(code, "scripted")));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], status, "{code}: {r}");
        assert_eq!(l["vendor_code"], code.to_string(), "{code}: {r}");
        assert!(
            detail(l).starts_with(&format!("oppo {code}")),
            "{code}: {r}"
        );
        assert_eq!(calls(&env, UNICAST), want, "{code}: calls");
        assert_eq!(calls(&env, BATCH), 0, "{code}: no batch");
        let sent = env.oppo.requests_to(UNICAST);
        assert!(
            sent.iter().all(|q| message_of(q) == message_of(&sent[0])),
            "{code}: one message"
        );
        match retry {
            Some(s) => assert_eq!(l["retry_after_s"].as_i64(), Some(s), "{code}: {r}"),
            None if code == 33 => {
                assert!(l["retry_after_s"].as_i64().unwrap() >= 1, "{code}: {r}")
            }
            None => assert!(l.get("retry_after_s").is_none(), "{code}: {r}"),
        }
        if code == 11 {
            assert!(detail(l).contains("again after a refresh"), "{r}");
            assert_eq!(calls(&env, AUTH_PATH), 1, "exactly one re-auth");
        }
        if code == -1 {
            assert!(
                detail(l).ends_with(&format!("(after {MAX_ATTEMPTS} attempts)")),
                "{r}"
            );
        }
        assert_eq!(
            live_tokens(&env, "alice").await,
            ["op-alice"],
            "{code}: kept"
        );
    }
    env.oppo.script_always(UNICAST, None);
}

#[tokio::test]
async fn code_11_reauthenticates_once_and_repeats_the_call() {
    let env = osetup("op-11", &["alice", "bob"]).await;
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    assert_eq!(calls(&env, AUTH_PATH), 1);
    // OPPO forgets the token (2.2): the next call answers 11.
    assert_eq!(env.oppo.invalidate_tokens(None), 1);
    let r = push_users(&env, &["bob"]).await;
    let l = line(&r, "bob");
    assert_eq!(l["status"], "sent", "{r}");
    let auths = env.oppo.requests_to(AUTH_PATH);
    assert_eq!(auths.len(), 2, "the first token and exactly one re-auth");
    let sent = env.oppo.requests_to(UNICAST);
    assert_eq!(sent.len(), 3, "alice's; bob's refused, then repeated");
    assert_eq!(sent[1].response["code"], 11);
    let fresh = auths[1].response["data"]["auth_token"].as_str().unwrap();
    assert_ne!(sent[1].body["auth_token"], sent[2].body["auth_token"]);
    assert_eq!(sent[2].body["auth_token"].as_str(), Some(fresh));
    assert_eq!(message_of(&sent[1]), message_of(&sent[2]), "the same call");
    assert_eq!(env.oppo.deliveries().len(), 2);
    assert_eq!(live_tokens(&env, "bob").await, ["op-bob"]);
    // The fresh token is kept: the next push needs no auth.
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    assert_eq!(calls(&env, AUTH_PATH), 2);
}

#[tokio::test]
async fn the_daily_total_pauses_the_class_until_oppos_next_day() {
    let env = osetup("op-33", &["alice", "bob"]).await;
    env.oppo.set_quotas(
        OPPO_APP_KEY,
        Quotas {
            service: Some(1),
            ..Default::default()
        },
    );
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "sent", "{r}");
    let r = push_users(&env, &["bob"]).await;
    let l = line(&r, "bob");
    assert_eq!(l["status"], "throttled", "{r}");
    assert_eq!(l["vendor_code"], "33");
    assert!(detail(l).starts_with("oppo 33"), "{r}");
    assert_eq!(calls(&env, UNICAST), 2);
    let retry = l["retry_after_s"].as_i64().unwrap();
    assert!((1..=86_400).contains(&retry));
    // Midnight UTC+8, give or take the seconds this test took since.
    let off = (now() + retry + 8 * 3600).rem_euclid(86_400);
    assert!(
        off <= 5 || off >= 86_395,
        "ends at midnight UTC+8: {off} s off"
    );
    let stored = env
        .store
        .vendor_state(&oppo_account(), now())
        .await
        .unwrap();
    assert_eq!(stored.pauses.len(), 1, "shared with every instance");
    assert_eq!(stored.pauses[0].scope, "class:service");
    assert_eq!(stored.pauses[0].code, 33);
    // Paused: the next push of that class makes no call.
    let before = calls(&env, UNICAST);
    let r = push_users(&env, &["alice"]).await;
    assert_eq!(line(&r, "alice")["status"], "throttled", "{r}");
    assert_eq!(calls(&env, UNICAST), before);
    // The other class still goes (2.5: counted apart), without the
    // private channel.
    let (s, r) = push(
        &env,
        &json!({"to": ["bob"], "desc": "news", "category": "NEWS"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(line(&r, "bob")["status"], "sent", "{r}");
    let sent = env.oppo.requests_to(UNICAST);
    assert_eq!(sent.len(), before + 1);
    let f = &message_of(sent.last().unwrap())["notification"];
    assert_eq!(f["category"], "NEWS");
    assert!(f.get("channel_id").is_none() && f.get("notify_level").is_none());
    assert_eq!(live_tokens(&env, "alice").await, ["op-alice"]);
    assert_eq!(live_tokens(&env, "bob").await, ["op-bob"]);
}

#[tokio::test]
async fn unicast_10000_ends_the_binding() {
    let env = osetup("op-10000", &["alice"]).await;
    env.oppo.set_reg_id("op-alice", RegIdVerdict::Invalid);
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(l["status"], "token_invalid", "{r}");
    assert_eq!(l["vendor_code"], "10000");
    assert!(detail(l).starts_with("oppo 10000"), "{r}");
    assert!(!detail(l).contains("op-alice"), "no token in the detail");
    let sent = env.oppo.requests_to(UNICAST);
    assert_eq!(sent.len(), 1, "not retried");
    assert_eq!(sent[0].response["code"], 10000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(live_tokens(&env, "alice").await.is_empty());
}

#[tokio::test]
async fn batch_items_answered_10000_end_only_those_bindings() {
    let env = osetup("op-items", &["alice", "bob", "carol"]).await;
    env.oppo.set_reg_id("op-bob", RegIdVerdict::Invalid);
    let r = push_users(&env, &["alice", "bob", "carol"]).await;
    let batches = env.oppo.requests_to(BATCH);
    assert_eq!((batches.len(), calls(&env, UNICAST)), (1, 0));
    assert_eq!(batches[0].response["code"], 0, "accepted");
    let bob = line(&r, "bob");
    assert_eq!(bob["status"], "token_invalid", "{r}");
    assert_eq!(bob["vendor_code"], "10000");
    assert!(detail(bob).starts_with("oppo 10000"), "{r}");
    for u in ["alice", "carol"] {
        assert_eq!(line(&r, u)["status"], "sent", "{r}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(live_tokens(&env, "bob").await.is_empty());
    assert_eq!(live_tokens(&env, "alice").await, ["op-alice"]);
    assert_eq!(live_tokens(&env, "carol").await, ["op-carol"]);
}

#[tokio::test]
async fn a_whole_batch_answered_10000_ends_no_binding() {
    let env = osetup("op-b10000", &["alice", "bob"]).await;
    // OPPO names no target (2.10): no binding may end on it.
    env.oppo.script_always(
        BATCH,
        Some(error_action(10000, "registration_id格式不正确")),
    );
    let r = push_users(&env, &["alice", "bob"]).await;
    for u in ["alice", "bob"] {
        let l = line(&r, u);
        assert_eq!(l["status"], "failed", "{r}");
        assert_eq!(l["vendor_code"], "10000");
    }
    assert_eq!((calls(&env, BATCH), calls(&env, UNICAST)), (1, 0));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(live_tokens(&env, "alice").await, ["op-alice"]);
    assert_eq!(live_tokens(&env, "bob").await, ["op-bob"]);
}

#[tokio::test]
async fn credentials_refused_on_a_push_fail_and_never_end_a_binding() {
    let env = osetup("op-16", &["alice"]).await;
    // The certificate's MasterSecret is not the app's (changed in OPPO's
    // console): the simulator's own 16 at auth.
    env.edit_certificate(1, |c| {
        c.credentials
            .set_s("oppo_master_secret", "wrong-master-secret")
    })
    .await;
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(
        (l["status"].as_str(), l["vendor_code"].as_str()),
        (Some("failed"), Some("16")),
        "{r}"
    );
    assert!(detail(l).contains("auth"), "{r}");
    assert!(!detail(l).contains("wrong-master-secret"), "{r}");
    let auths = env.oppo.requests_to(AUTH_PATH);
    assert_eq!(auths.len(), 1, "not retried");
    assert_eq!(auths[0].response["code"], 16);
    assert_eq!(calls(&env, UNICAST), 0, "nothing sent without a token");
    assert_eq!(live_tokens(&env, "alice").await, ["op-alice"]);
}

#[tokio::test]
async fn server_errors_and_garbage_are_retried_with_the_same_call_then_failed() {
    let env = osetup("op-5xx", &["alice"]).await;
    // (action, vendor_code, retried)
    let rows = [
        (OAction::HttpStatus(500), "http_500", true),
        (OAction::HttpStatus(503), "http_503", true),
        (OAction::HttpStatus(429), "http_429", true),
        (OAction::Garbage, "unreadable", true),
        (OAction::HttpStatus(404), "http_404", false),
    ];
    for (action, code, retried) in rows {
        env.oppo.reset();
        env.oppo.script_always(UNICAST, Some(action.clone()));
        let r = push_users(&env, &["alice"]).await;
        let l = line(&r, "alice");
        assert_eq!(l["status"], "failed", "{action:?}: {r}");
        assert_eq!(l["vendor_code"], code, "{action:?}: {r}");
        let sent = env.oppo.requests_to(UNICAST);
        if retried {
            assert!(
                detail(l).ends_with(&format!("(after {MAX_ATTEMPTS} attempts)")),
                "{r}"
            );
            assert_eq!(sent.len(), MAX_ATTEMPTS as usize, "{action:?}");
        } else {
            assert_eq!(sent.len(), 1, "{action:?}");
        }
        assert!(
            sent.windows(2).all(|w| w[0].body == w[1].body),
            "one call, repeated"
        );
        assert!(env.oppo.deliveries().is_empty());
        assert_eq!(live_tokens(&env, "alice").await, ["op-alice"]);
    }
    env.oppo.script_always(UNICAST, None);
}

#[tokio::test]
async fn a_timeout_is_not_sent_again_and_answers_outcome_unknown() {
    // The auth call comes first and must not time out on a loaded machine:
    // a call timeout of 1 s, against a send held 3 s.
    let env = osetup_limits(
        "op-timeout",
        &["alice"],
        Duration::from_millis(1000),
        Duration::from_secs(8),
    )
    .await;
    env.oppo
        .script_always(UNICAST, Some(OAction::Delay(Duration::from_secs(3))));
    let r = push_users(&env, &["alice"]).await;
    let l = line(&r, "alice");
    assert_eq!(l["status"], "failed", "{r}");
    assert!(detail(l).contains("outcome is unknown"), "{r}");
    let sent = settled(&env, UNICAST).await;
    assert_eq!(sent.len(), 1, "written once, never again");
    assert_eq!(sent[0].status, 0, "abandoned at the call timeout");
    assert_eq!(live_tokens(&env, "alice").await, ["op-alice"]);
}

#[tokio::test]
async fn partial_success_at_a_thousand_targets_ends_only_the_bad_ones() {
    let env = TestEnv::new("op-1000").await;
    env.add_oppo_certificate(ClickAction::OpenApp, false).await;
    let users = env.seed_users(1000, "u", 1).await;
    let bad: Vec<String> = users.iter().step_by(97).cloned().collect();
    for u in &bad {
        env.oppo
            .set_reg_id(&format!("regid-{u}-0"), RegIdVerdict::Invalid);
    }
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(s, 200);
    let batches = env.oppo.requests_to(BATCH);
    assert_eq!(batches.len(), 1, "1000 targets in one call");
    assert_eq!(messages_of(&batches[0]).len(), 1000);
    assert_eq!(calls(&env, UNICAST), 0);
    let items = batches[0].response["data"].as_array().unwrap();
    assert_eq!(
        items.iter().filter(|i| i["errorCode"] == 10000).count(),
        bad.len()
    );
    let results = r["results"].as_array().unwrap();
    let dead: Vec<&str> = results
        .iter()
        .filter(|l| l["status"] == "token_invalid")
        .map(|l| l["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(dead, bad.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(results
        .iter()
        .filter(|l| l["status"] == "token_invalid")
        .all(|l| l["vendor_code"] == "10000"));
    assert_eq!(r["summary"]["sent"], 1000 - bad.len() as u64);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for u in &bad {
        assert!(live_tokens(&env, u).await.is_empty(), "{u}");
    }
    assert_eq!(live_tokens(&env, &users[1]).await.len(), 1);
    assert_eq!(live_tokens(&env, &users[998]).await.len(), 1);
}

#[tokio::test]
async fn a_thousand_and_one_devices_go_in_two_calls() {
    let env = TestEnv::new("op-1001").await;
    env.add_oppo_certificate(ClickAction::OpenApp, false).await;
    // 1000 users, the first with two devices: 1001 registration ids.
    let users = env.seed_users(1000, "u", 2).await;
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(
        (s, r["summary"]["sent"].as_u64()),
        (200, Some(1001)),
        "{}",
        r["summary"]
    );
    let sent = env.oppo.requests_to(BATCH);
    assert_eq!(sent.len(), 2, "at most 1000 messages a call");
    assert_eq!(calls(&env, UNICAST), 0);
    let mut sizes: Vec<usize> = sent.iter().map(|q| messages_of(q).len()).collect();
    sizes.sort();
    assert_eq!(sizes, [500, 501]);
    assert_eq!(env.oppo.deliveries().len(), 1001);
}

#[tokio::test]
async fn the_im_private_channel_and_receipts_are_carried() {
    let env = osetup_with("op-receipts", &["alice", "bob"], true).await;
    // One device (unicast) and two (unicast_batch): both carry them.
    for to in [&["alice"][..], &["alice", "bob"][..]] {
        env.oppo.reset();
        let r = push_users(&env, to).await;
        for u in to {
            let l = line(&r, u);
            assert_eq!(l["status"], "sent", "{r}");
            assert!(l.get("detail").is_none_or(Value::is_null), "{r}");
        }
        let msgs: Vec<Value> = if to.len() == 1 {
            env.oppo
                .requests_to(UNICAST)
                .iter()
                .map(message_of)
                .collect()
        } else {
            env.oppo
                .requests_to(BATCH)
                .iter()
                .flat_map(messages_of)
                .collect()
        };
        assert_eq!(msgs.len(), to.len());
        let tag = offpush::domain::receipt::receipt_tag(
            &env.app.id,
            offpush::domain::CertificateId::new(1).unwrap(),
        );
        for m in &msgs {
            let f = &m["notification"];
            assert_eq!(f["category"], "IM");
            assert_eq!(f["channel_id"], OPPO_CHANNEL);
            assert_eq!(f["notify_level"], 2);
            let url = f["call_back_url"].as_str().unwrap();
            assert!(url.contains("/v1/receipts/oppo/"), "{url}");
            assert!(url.chars().count() <= 200);
            let param = f["call_back_parameter"].as_str().unwrap();
            assert!(
                param.starts_with(&format!("op2.{}.", today().replace('-', ""))),
                "{param}"
            );
            assert!(param.ends_with(&tag), "{param}");
            assert!(param.chars().count() <= 100);
        }
        let ds = env.oppo.deliveries();
        assert_eq!(ds.len(), to.len());
        for d in &ds {
            assert_eq!(d.channel_id.as_deref(), Some(OPPO_CHANNEL));
            assert_eq!(d.notify_level, Some(2));
            assert!(d.notification.contains_key("call_back_url"));
        }
    }
    assert_eq!(live_tokens(&env, "alice").await, ["op-alice"]);
    assert_eq!(live_tokens(&env, "bob").await, ["op-bob"]);
}
