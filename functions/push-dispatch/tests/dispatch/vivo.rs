//! vivo's fault matrix: how a push answers when vivo misbehaves, one
//! test per row, driven through the real handler against the simulator.
//! Every row asserts the per-recipient outcome (status and detail), that
//! retries are bounded (the calls the simulator recorded, per path, abandoned
//! ones included) and that a binding ends only on a dead-token verdict.
//!
//! | # | fault | test | expected outcome |
//! |---|-------|------|------------------|
//! | 1 | HTTP 500 on /message/send | `http_500_on_send_is_retried_with_one_request_id_then_failed` | failed "vivo answered an HTTP error (500) (after 3 attempts)"; 3 sends, one requestId; kept |
//! | 2 | HTTP 502 on /message/send | `http_502_on_send_is_retried_with_one_request_id_then_failed` | same, (502) |
//! | 3 | HTTP 503 on /message/send | `http_503_on_send_is_retried_with_one_request_id_then_failed` | same, (503) |
//! | 4 | HTTP 500 on pushToList | `http_500_on_push_to_list_is_retried_with_one_request_id_then_failed` | every target of the chunk failed (500) after 3 attempts; 1 saveListPayload, 3 pushToList, one requestId; kept |
//! | 5 | HTTP 502 on pushToList | `http_502_on_push_to_list_is_retried_with_one_request_id_then_failed` | same, (502) |
//! | 6 | HTTP 503 on pushToList | `http_503_on_push_to_list_is_retried_with_one_request_id_then_failed` | same, (503) |
//! | 7 | no answer within the call timeout, /message/send | `a_send_timeout_is_not_sent_again_and_answers_outcome_unknown` | failed "no answer in time ... the outcome is unknown", vendor_code no_answer; 1 abandoned send (written: vivo does not deduplicate on requestId, so never sent again); kept |
//! | 8 | no answer within the call timeout, pushToList | `a_push_to_list_timeout_is_not_sent_again_and_answers_outcome_unknown` | every target failed, outcome unknown; 1 abandoned pushToList; kept |
//! | 9 | connection refused, token cached | `connection_refused_on_send_is_retried_then_failed` | failed "connection failed" after 3 attempts; kept |
//! | 10 | connection refused at auth | `connection_refused_at_auth_fails_and_keeps_the_binding` | failed "connection failed ... (auth)"; kept |
//! | 11 | HTTP 503 on /message/auth | `http_503_on_auth_fails_with_bounded_auth_calls` | failed "(503) (auth)"; at most 3 auth calls; no send; kept |
//! | 12 | HTTP 503 on /message/auth, 20 single sends | `an_auth_outage_costs_one_push_a_bounded_number_of_auth_calls` | every target failed "(auth)"; at most 3 auth calls for the whole push; kept |
//! | 13 | malformed body on /message/send | `a_malformed_send_answer_is_retried_then_failed` | failed "unreadable body" after 3 attempts; 3 sends, one requestId; kept |
//! | 14 | malformed body on saveListPayload | `a_malformed_save_list_payload_answer_is_retried_then_fails_the_list` | every target failed "unreadable body" after 3 attempts; 3 saveListPayload, one requestId; no pushToList; kept |
//! | 15 | authToken expires in the middle of a 2500-device batch | `an_auth_token_expiring_mid_batch_is_refreshed_once_and_the_refused_chunks_retried_once` | all 2500 sent once; exactly one re-auth; each refused chunk retried once with the new token and the same requestId |
//! | 16 | invalidUser.status 0 on send | `invalid_user_status_0_on_send_fails_and_keeps_the_binding` | failed "invalidUser.status=0"; 1 send; kept |
//! | 17 | invalidUser.status 1 on send | `invalid_user_status_1_on_send_is_token_invalid_and_unbinds` | token_invalid; 1 send; binding and owner item removed |
//! | 18 | invalidUser.status 2 on send | `invalid_user_status_2_on_send_is_token_invalid_and_unbinds` | same |
//! | 19 | invalidUser.status 3 on send | `invalid_user_status_3_on_send_is_token_invalid_and_unbinds` | same |
//! | 20 | invalidUser.status 4 on send | `invalid_user_status_4_on_send_fails_and_keeps_the_binding` | failed "invalidUser.status=4"; 1 send; kept |
//! | 21 | invalidUser.status 5 on send | `invalid_user_status_5_on_send_fails_and_keeps_the_binding` | failed "invalidUser.status=5"; 1 send; kept |
//! | 22 | some invalidUsers in pushToList (statuses 1-5) | `partial_invalid_users_in_push_to_list_touch_only_those_targets` | 1-3 token_invalid + removed, 4-5 failed + kept, the rest sent + kept; 1 pushToList |
//! | 23 | 10070 on /message/send | covered by `outcomes.rs::rate_and_quota_codes_are_throttled` | throttled, retry_after_s, 1 send, kept, pause stored |
//! | 24 | 10071 on /message/send | `code_10071_on_send_is_throttled_until_seven` | throttled, retry_after_s = until 07:00 UTC+8; 1 send; kept |
//! | 25 | 10072 on /message/send | covered by `outcomes.rs::rate_and_quota_codes_are_throttled` | throttled, retry_after_s, 1 send, kept, not stored |
//! | 26 | 10073 on /message/send | covered by `outcomes.rs::rate_and_quota_codes_are_throttled` | throttled, retry_after_s, 1 send, kept, pause stored |
//! | 27 | 10093 on /message/send | covered by `outcomes.rs::rate_and_quota_codes_are_throttled` | throttled, retry_after_s, 1 send, kept, not stored |
//! | 28 | 10070 on pushToList | `code_10070_on_push_to_list_is_throttled_and_not_retried` | every target throttled, retry_after_s; 1 pushToList, no single-send fallback; kept; pause stored |
//! | 29 | 10071 on pushToList | `code_10071_on_push_to_list_is_throttled_and_not_retried` | same (pause until 07:00 UTC+8) |
//! | 30 | 10072 on pushToList | `code_10072_on_push_to_list_is_throttled_and_not_retried` | same; pause of 1 s, not stored |
//! | 31 | 10073 on pushToList | `code_10073_on_push_to_list_is_throttled_and_not_retried` | same; pause stored |
//! | 32 | 10093 on pushToList | `code_10093_on_push_to_list_is_throttled_and_not_retried` | same; pause of 1 s, not stored |
//! | 33 | 10093 on /message/auth | `code_10093_on_auth_is_throttled_and_sends_nothing` | throttled, retry_after_s; 1 auth call, no send; kept |
//! | 34 | 10252 on saveListPayload | covered by `outcomes.rs::the_list_body_quota_pauses_list_pushes_only_and_single_sends_still_go` | not throttled: the endpoint is paused for vivo's day and the targets go one by one through /message/send (sent) |
//! | 35 | answers slower than the push deadline | covered by `deadline.rs::sixty_slow_single_sends_end_by_the_deadline_and_none_starts_late` | calls in flight cut by the deadline, queued ones failed naming it; answered within deadline + 2 s; no call arrives after the deadline |
//!
//! 35 rows: 29 tests here, 5 rows covered by outcomes.rs, 1 by deadline.rs.

use crate::common::*;
use offpush::domain::{CertificateId, PushToken, UserId};
use offpush::vendor::kit::session::MAX_ATTEMPTS;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const AUTH: &str = "/message/auth";
const SEND: &str = "/message/send";
const SAVE_LIST: &str = "/message/saveListPayload";
const PUSH_TO_LIST: &str = "/message/pushToList";

fn code(c: i64) -> CallAction {
    CallAction::Result {
        code: c,
        desc: format!("scripted {c}"),
        extra: Map::new(),
    }
}

/// The push environment with its own call timeout and push deadline.
async fn setup_limits(
    label: &str,
    timeout: Duration,
    deadline: Duration,
) -> (TestEnv, offpush::domain::App) {
    let (mut env, app) = setup(label).await;
    let mut cfg = config(env.store.table(), &env.sim.base_url());
    cfg.vendor_timeout = timeout;
    cfg.push_deadline = deadline;
    env.ctx = testkit::context(env.store.clone(), &cfg);
    (env, app)
}

/// One push to alice (a single send).
async fn one(env: &TestEnv) -> Value {
    one_of(env, "alice").await
}

async fn one_of(env: &TestEnv, user: &str) -> Value {
    let (s, r) = push(env, &json!({"to": [user], "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    r
}

/// One push to alice and bob (a list push: saveListPayload, then one
/// pushToList of both).
async fn pair(env: &TestEnv) -> Value {
    let (s, r) = push(env, &json!({"to": ["alice", "bob"], "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    r
}

async fn bind_pair(env: &TestEnv, app: &offpush::domain::App) {
    bind(env, app, "alice", "regid-a", None).await;
    bind(env, app, "bob", "regid-b", None).await;
}

/// Waits until the simulator has recorded every call it got: a call the
/// client abandoned is recorded once the server notices the closed
/// connection, a moment after the push answered.
async fn settled(env: &TestEnv) -> Vec<vivo_sim::RecordedRequest> {
    let mut last = env.sim.requests();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = env.sim.requests();
        if now.len() == last.len() {
            return now;
        }
        last = now;
    }
    last
}

fn on(reqs: &[vivo_sim::RecordedRequest], path: &str) -> Vec<vivo_sim::RecordedRequest> {
    reqs.iter().filter(|r| r.path == path).cloned().collect()
}

/// Every call is the same call: one non-empty requestId and one body.
#[track_caller]
fn assert_same_call(calls: &[vivo_sim::RecordedRequest]) {
    let first = &calls[0];
    let rid = first.body["requestId"].as_str().unwrap_or_default();
    assert!(!rid.is_empty(), "a requestId: {}", first.body);
    for c in calls {
        assert_eq!(
            c.body["requestId"], rid,
            "a retry carries the same requestId"
        );
        assert_eq!(c.body, first.body, "a retry is the same call");
    }
}

#[track_caller]
fn result<'a>(r: &'a Value, user: &str) -> &'a Value {
    let rs = results_of(r, user);
    assert_eq!(rs.len(), 1, "one result for {user}: {r}");
    rs[0]
}

#[track_caller]
fn detail(res: &Value) -> &str {
    res["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("a detail: {res}"))
}

/// The token's owner item (the authority on who holds it).
async fn owner(env: &TestEnv, token: &str) -> Option<String> {
    env.store
        .get_token_owner(
            &env.app.id,
            CertificateId::new(1).unwrap(),
            &PushToken::parse("t", token).unwrap(),
        )
        .await
        .unwrap()
        .map(|o| o.user.as_str().to_string())
}

/// The binding and its owner item are both still there.
async fn assert_kept(env: &TestEnv, user: &str, token: &str) {
    assert_eq!(
        live_tokens(env, user).await,
        [token],
        "{user}: binding kept"
    );
    assert_eq!(
        owner(env, token).await.as_deref(),
        Some(user),
        "{token}: owner kept"
    );
}

/// The binding and its owner item are both gone.
async fn assert_removed(env: &TestEnv, user: &str, token: &str) {
    assert!(
        live_tokens(env, user).await.is_empty(),
        "{user}: binding removed"
    );
    assert_eq!(owner(env, token).await, None, "{token}: owner item removed");
}

// ---- rows 1-3: 5xx on /message/send ----

async fn server_error_on_send(status: u16) {
    let (env, app) = setup(&format!("send{status}")).await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim
        .script_always(SEND, Some(CallAction::HttpStatus(status)));
    let r = one(&env).await;
    let res = result(&r, "alice");
    assert_eq!(res["status"], "failed", "{r}");
    assert_eq!(
        detail(res),
        format!("vivo answered an HTTP error ({status}) (after {MAX_ATTEMPTS} attempts)")
    );
    let sends = env.sim.requests_to(SEND);
    assert_eq!(sends.len(), MAX_ATTEMPTS as usize, "bounded retries");
    assert!(sends.iter().all(|s| s.status == status));
    assert_same_call(&sends);
    assert!(env.sim.deliveries().is_empty());
    assert!(
        env.stored_pauses().await.is_empty(),
        "a server error pauses nothing"
    );
    assert_kept(&env, "alice", "regid-a").await;
}

#[tokio::test]
async fn http_500_on_send_is_retried_with_one_request_id_then_failed() {
    server_error_on_send(500).await;
}

#[tokio::test]
async fn http_502_on_send_is_retried_with_one_request_id_then_failed() {
    server_error_on_send(502).await;
}

#[tokio::test]
async fn http_503_on_send_is_retried_with_one_request_id_then_failed() {
    server_error_on_send(503).await;
}

// ---- rows 4-6: 5xx on pushToList ----

async fn server_error_on_push_to_list(status: u16) {
    let (env, app) = setup(&format!("list{status}")).await;
    bind_pair(&env, &app).await;
    env.sim
        .script_always(PUSH_TO_LIST, Some(CallAction::HttpStatus(status)));
    let r = pair(&env).await;
    for user in ["alice", "bob"] {
        let res = result(&r, user);
        assert_eq!(res["status"], "failed", "{r}");
        assert_eq!(
            detail(res),
            format!("vivo answered an HTTP error ({status}) (after {MAX_ATTEMPTS} attempts)")
        );
    }
    assert_eq!(
        env.sim.requests_to(SAVE_LIST).len(),
        1,
        "the body is stored once"
    );
    let lists = env.sim.requests_to(PUSH_TO_LIST);
    assert_eq!(lists.len(), MAX_ATTEMPTS as usize, "bounded retries");
    assert_same_call(&lists);
    assert!(
        env.sim.requests_to(SEND).is_empty(),
        "no single-send fallback"
    );
    assert!(env.sim.deliveries().is_empty());
    assert_kept(&env, "alice", "regid-a").await;
    assert_kept(&env, "bob", "regid-b").await;
}

#[tokio::test]
async fn http_500_on_push_to_list_is_retried_with_one_request_id_then_failed() {
    server_error_on_push_to_list(500).await;
}

#[tokio::test]
async fn http_502_on_push_to_list_is_retried_with_one_request_id_then_failed() {
    server_error_on_push_to_list(502).await;
}

#[tokio::test]
async fn http_503_on_push_to_list_is_retried_with_one_request_id_then_failed() {
    server_error_on_push_to_list(503).await;
}

// ---- rows 7-8: call timeouts ----

/// Calls time out after 300 ms; the push has 6 s, room for every attempt.
const SHORT_TIMEOUT: Duration = Duration::from_millis(300);

/// What a call that may have been written and then got no answer says:
/// vivo is not known to deduplicate on requestId (VIVO_API.md 1.3), so the
/// call is not sent again (a device must not show the push twice).
const OUTCOME_UNKNOWN: &str = "vivo did not answer (no answer in time): the outcome is unknown (the request may have reached vivo, which does not deduplicate it, so it was not sent again)";

#[tokio::test]
async fn a_send_timeout_is_not_sent_again_and_answers_outcome_unknown() {
    let (env, app) = setup_limits("send-timeout", SHORT_TIMEOUT, Duration::from_secs(6)).await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim
        .script_always(SEND, Some(CallAction::Delay(Duration::from_secs(3))));
    let r = one(&env).await;
    let res = result(&r, "alice");
    assert_eq!(res["status"], "failed", "{r}");
    assert_eq!(detail(res), OUTCOME_UNKNOWN);
    assert_eq!(res["vendor_code"], "no_answer");
    let sends = on(&settled(&env).await, SEND);
    assert_eq!(sends.len(), 1, "written once, never again: {sends:?}");
    assert_eq!(sends[0].status, 0, "abandoned at the call timeout");
    assert!(env.sim.deliveries().is_empty());
    assert_kept(&env, "alice", "regid-a").await;
}

#[tokio::test]
async fn a_push_to_list_timeout_is_not_sent_again_and_answers_outcome_unknown() {
    let (env, app) = setup_limits("list-timeout", SHORT_TIMEOUT, Duration::from_secs(6)).await;
    bind_pair(&env, &app).await;
    env.sim.script_always(
        PUSH_TO_LIST,
        Some(CallAction::Delay(Duration::from_secs(3))),
    );
    let r = pair(&env).await;
    for user in ["alice", "bob"] {
        let res = result(&r, user);
        assert_eq!(res["status"], "failed", "{r}");
        assert_eq!(detail(res), OUTCOME_UNKNOWN);
    }
    let all = settled(&env).await;
    assert_eq!(on(&all, SAVE_LIST).len(), 1);
    let lists = on(&all, PUSH_TO_LIST);
    assert_eq!(lists.len(), 1, "written once, never again: {lists:?}");
    assert!(env.sim.deliveries().is_empty());
    assert_kept(&env, "alice", "regid-a").await;
    assert_kept(&env, "bob", "regid-b").await;
}

// ---- rows 9-12: vivo unreachable ----

/// A loopback address where nothing listens: bound, then closed.

#[tokio::test]
async fn connection_refused_on_send_is_retried_then_failed() {
    let (mut env, app) = setup("refused").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    // A first push obtains an authToken and shares it through the table.
    assert_eq!(status_of(&one(&env).await, "alice"), "sent");
    let seen = env.sim.requests().len();
    // Another instance, whose vivo address refuses connections: it reads
    // the token from the table, so only the send itself fails.
    let (closed, _held) = refused_url();
    let cfg = config(env.store.table(), &closed);
    env.ctx = testkit::context(env.store.clone(), &cfg);
    let r = one(&env).await;
    let res = result(&r, "alice");
    assert_eq!(res["status"], "failed", "{r}");
    assert_eq!(
        detail(res),
        format!("vivo did not answer (connection failed) (after {MAX_ATTEMPTS} attempts)")
    );
    assert_eq!(
        env.sim.requests().len(),
        seen,
        "nothing reached the simulator"
    );
    assert_kept(&env, "alice", "regid-a").await;
}

#[tokio::test]
async fn connection_refused_at_auth_fails_and_keeps_the_binding() {
    let (mut env, app) = setup("refused-auth").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let (closed, _held) = refused_url();
    let cfg = config(env.store.table(), &closed);
    env.ctx = testkit::context(env.store.clone(), &cfg);
    let r = one(&env).await;
    let res = result(&r, "alice");
    assert_eq!(res["status"], "failed", "{r}");
    assert!(
        detail(res).starts_with("vivo did not answer (connection failed)")
            && detail(res).ends_with("(auth, after 3 attempts)"),
        "{r}"
    );
    assert!(env.sim.requests().is_empty());
    assert_kept(&env, "alice", "regid-a").await;
}

#[tokio::test]
async fn http_503_on_auth_fails_with_bounded_auth_calls() {
    let (env, app) = setup("auth503").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim
        .script_always(AUTH, Some(CallAction::HttpStatus(503)));
    let r = one(&env).await;
    let res = result(&r, "alice");
    assert_eq!(res["status"], "failed", "{r}");
    assert!(
        detail(res).starts_with("vivo answered an HTTP error (503)")
            && detail(res).ends_with("(auth, after 3 attempts)"),
        "{r}"
    );
    assert_eq!(
        env.sim.requests_to(AUTH).len(),
        MAX_ATTEMPTS as usize,
        "retried like any call, bounded"
    );
    assert!(
        env.sim.requests_to(SEND).is_empty(),
        "no send without a token"
    );
    assert_kept(&env, "alice", "regid-a").await;
}

/// With auth down, the auth call is retried like any call (bounded), and
/// the other calls of the vivo app take its failure as theirs for a
/// moment instead of each asking vivo again (vivo caps auth at 10/s).
#[tokio::test]
async fn an_auth_outage_costs_one_push_a_bounded_number_of_auth_calls() {
    let (env, app) = setup("auth-outage").await;
    let users: Vec<String> = (0..20).map(|i| format!("u{i:02}")).collect();
    for u in &users {
        bind(&env, &app, u, &format!("regid-{u}"), None).await;
    }
    env.sim
        .script_always(AUTH, Some(CallAction::HttpStatus(503)));
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi", "ttl_seconds": 60})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["summary"]["failed"], 20, "{}", r["summary"]);
    for u in &users {
        assert!(
            detail(result(&r, u)).contains("(auth, after 3 attempts)"),
            "{r}"
        );
    }
    let auths = env.sim.requests_to(AUTH).len();
    assert!(
        auths <= MAX_ATTEMPTS as usize,
        "{auths} auth calls for one push while vivo's auth answers 503"
    );
    assert!(env.sim.requests_to(SEND).is_empty());
    for u in &users {
        assert_kept(&env, u, &format!("regid-{u}")).await;
    }
}

// ---- rows 13-14: malformed answers ----

#[tokio::test]
async fn a_malformed_send_answer_is_retried_then_failed() {
    let (env, app) = setup("garbage-send").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.script_always(SEND, Some(CallAction::Garbage));
    let r = one(&env).await;
    let res = result(&r, "alice");
    assert_eq!(res["status"], "failed", "{r}");
    assert_eq!(
        detail(res),
        format!("vivo answered an unreadable body (after {MAX_ATTEMPTS} attempts)")
    );
    let sends = env.sim.requests_to(SEND);
    assert_eq!(sends.len(), MAX_ATTEMPTS as usize, "bounded retries");
    assert_same_call(&sends);
    assert_kept(&env, "alice", "regid-a").await;
}

#[tokio::test]
async fn a_malformed_save_list_payload_answer_is_retried_then_fails_the_list() {
    let (env, app) = setup("garbage-save").await;
    bind_pair(&env, &app).await;
    env.sim.script_always(SAVE_LIST, Some(CallAction::Garbage));
    let r = pair(&env).await;
    for user in ["alice", "bob"] {
        let res = result(&r, user);
        assert_eq!(res["status"], "failed", "{r}");
        assert_eq!(
            detail(res),
            format!("vivo answered an unreadable body (after {MAX_ATTEMPTS} attempts)")
        );
    }
    let saves = env.sim.requests_to(SAVE_LIST);
    assert_eq!(saves.len(), MAX_ATTEMPTS as usize, "bounded retries");
    assert_same_call(&saves);
    assert!(
        env.sim.requests_to(PUSH_TO_LIST).is_empty(),
        "no taskId, no list push"
    );
    assert!(env.sim.requests_to(SEND).is_empty());
    assert_kept(&env, "alice", "regid-a").await;
    assert_kept(&env, "bob", "regid-b").await;
}

// ---- row 15: the authToken expires in the middle of a batch ----

#[tokio::test]
async fn an_auth_token_expiring_mid_batch_is_refreshed_once_and_the_refused_chunks_retried_once() {
    // Generous limits: this row is about the token, not about time (reading
    // 1000 users from a busy emulator can take seconds).
    let (env, _app) = setup_limits(
        "expire-mid-batch",
        Duration::from_secs(10),
        Duration::from_secs(25),
    )
    .await;
    // 1000 users, the first with 1501 devices: 2500 targets, 3 chunks.
    let users = env.seed_users(1000, "u", 1501).await;
    env.sim.script_next(PUSH_TO_LIST, CallAction::ExpireToken);
    let (s, r) = push(&env, &json!({"to": users, "desc": "hi"})).await;
    assert_eq!(s, 200, "{}", r["summary"]);
    assert_eq!(r["summary"]["sent"], 2500, "{}", r["summary"]);

    let auths = env.sim.requests_to(AUTH);
    assert_eq!(auths.len(), 2, "the first token and exactly one re-auth");
    let fresh = auths[1].response["authToken"].as_str().unwrap().to_string();
    assert_eq!(env.sim.requests_to(SAVE_LIST).len(), 1);
    let lists = env.sim.requests_to(PUSH_TO_LIST);
    let mut by_rid: HashMap<String, Vec<&vivo_sim::RecordedRequest>> = HashMap::new();
    for l in &lists {
        by_rid
            .entry(l.body["requestId"].as_str().unwrap().to_string())
            .or_default()
            .push(l);
    }
    assert_eq!(by_rid.len(), 3, "three chunks");
    let mut refused = 0;
    for (rid, calls) in &by_rid {
        let sizes: HashSet<usize> = calls
            .iter()
            .map(|c| c.body["regIds"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes.len(), 1, "{rid}: the same chunk each time");
        match calls.as_slice() {
            [ok] => assert_eq!(ok.response["result"], 0, "{rid}"),
            [first, retry] => {
                refused += 1;
                assert_eq!(first.response["result"], 10000, "{rid}");
                assert_eq!(retry.response["result"], 0, "{rid}");
                assert_eq!(
                    retry.auth_token.as_deref(),
                    Some(fresh.as_str()),
                    "{rid}: the new token"
                );
                assert_eq!(retry.body, first.body, "{rid}: the same call");
            }
            more => panic!("{rid}: {} calls, at most one retry", more.len()),
        }
    }
    assert!(refused >= 1, "the scripted expiry refused a chunk");
    assert_eq!(lists.len(), 3 + refused);

    let delivered: HashSet<String> = env.sim.deliveries().into_iter().map(|d| d.reg_id).collect();
    assert_eq!(env.sim.deliveries().len(), 2500, "each device once");
    assert_eq!(delivered.len(), 2500);
    // Nothing was unbound.
    let ids: Vec<UserId> = users
        .iter()
        .map(|u| UserId::parse("u", u).unwrap())
        .collect();
    let (states, _) = env
        .store
        .get_many_user_bindings(&env.app.id, &ids)
        .await
        .unwrap();
    let live: usize = states.values().map(|s| s.live(now()).count()).sum();
    assert_eq!(live, 2500);
}

// ---- rows 16-21: invalidUser on /message/send ----

async fn invalid_user_on_send(status: u8) {
    let (env, app) = setup(&format!("invalid{status}")).await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim
        .set_reg_id("regid-a", RegIdVerdict::Invalid { status });
    let r = one(&env).await;
    let res = result(&r, "alice");
    let dead = (1..=3).contains(&status);
    assert_eq!(
        res["status"],
        if dead { "token_invalid" } else { "failed" },
        "{r}"
    );
    assert!(
        detail(res).starts_with(&format!("vivo 10302 invalidUser.status={status}: ")),
        "{r}"
    );
    assert_eq!(
        env.sim.requests_to(SEND).len(),
        1,
        "a verdict is not retried"
    );
    if dead {
        assert_removed(&env, "alice", "regid-a").await;
    } else {
        assert_kept(&env, "alice", "regid-a").await;
    }
}

#[tokio::test]
async fn invalid_user_status_0_on_send_fails_and_keeps_the_binding() {
    invalid_user_on_send(0).await;
}

#[tokio::test]
async fn invalid_user_status_1_on_send_is_token_invalid_and_unbinds() {
    invalid_user_on_send(1).await;
}

#[tokio::test]
async fn invalid_user_status_2_on_send_is_token_invalid_and_unbinds() {
    invalid_user_on_send(2).await;
}

#[tokio::test]
async fn invalid_user_status_3_on_send_is_token_invalid_and_unbinds() {
    invalid_user_on_send(3).await;
}

#[tokio::test]
async fn invalid_user_status_4_on_send_fails_and_keeps_the_binding() {
    invalid_user_on_send(4).await;
}

#[tokio::test]
async fn invalid_user_status_5_on_send_fails_and_keeps_the_binding() {
    invalid_user_on_send(5).await;
}

// ---- row 22: some invalidUsers in one pushToList ----

#[tokio::test]
async fn partial_invalid_users_in_push_to_list_touch_only_those_targets() {
    let (env, app) = setup("partial-invalid").await;
    // user -> (token, invalidUser status; 0: valid)
    let cases = [
        ("u1", "regid-1", 1u8),
        ("u2", "regid-2", 2),
        ("u3", "regid-3", 3),
        ("u4", "regid-4", 4),
        ("u5", "regid-5", 5),
        ("u6", "regid-6", 0),
        ("u7", "regid-7", 0),
    ];
    for (u, t, s) in cases {
        bind(&env, &app, u, t, None).await;
        if s > 0 {
            env.sim.set_reg_id(t, RegIdVerdict::Invalid { status: s });
        }
    }
    let to: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let (s, r) = push(&env, &json!({"to": to, "desc": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    let lists = env.sim.requests_to(PUSH_TO_LIST);
    assert_eq!(lists.len(), 1, "one list call, not retried");
    assert_eq!(
        lists[0].response["invalidUsers"].as_array().unwrap().len(),
        5
    );
    for (u, t, status) in cases {
        let res = result(&r, u);
        match status {
            0 => {
                assert_eq!(res["status"], "sent", "{u}: {r}");
                assert!(res["vendor_task_id"].is_string());
                assert_kept(&env, u, t).await;
            }
            1..=3 => {
                assert_eq!(res["status"], "token_invalid", "{u}: {r}");
                assert!(
                    detail(res).starts_with(&format!("vivo 10302 invalidUser.status={status}: "))
                );
                assert_removed(&env, u, t).await;
            }
            _ => {
                assert_eq!(res["status"], "failed", "{u}: {r}");
                assert!(
                    detail(res).starts_with(&format!("vivo 10302 invalidUser.status={status}: "))
                );
                assert_kept(&env, u, t).await;
            }
        }
    }
    assert_eq!(r["summary"]["sent"], 2);
    assert_eq!(r["summary"]["token_invalid"], 3);
    assert_eq!(r["summary"]["failed"], 2);
    let delivered: HashSet<String> = env.sim.deliveries().into_iter().map(|d| d.reg_id).collect();
    assert_eq!(
        delivered,
        HashSet::from(["regid-6".to_string(), "regid-7".to_string()])
    );
}

// ---- rows 24, 28-33: throttling and quota codes ----

/// Asserts a throttled outcome naming the code, with a retry_after_s in
/// (0, 24 h].
#[track_caller]
fn assert_throttled(res: &Value, c: i64) {
    assert_eq!(res["status"], "throttled", "{c}: {res}");
    let after = res["retry_after_s"]
        .as_u64()
        .unwrap_or_else(|| panic!("{c}: retry_after_s: {res}"));
    assert!((1..=86_400).contains(&after), "{c}: {after}");
    assert!(
        detail(res).starts_with(&format!("vivo {c}: ")),
        "{c}: {res}"
    );
    assert!(detail(res).contains("paused"), "{c}: {res}");
}

#[tokio::test]
async fn code_10071_on_send_is_throttled_until_seven() {
    let (env, app) = setup("send10071").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.script_next(SEND, code(10071));
    let r = one(&env).await;
    let res = result(&r, "alice");
    assert_throttled(res, 10071);
    let until = now() + res["retry_after_s"].as_i64().unwrap();
    // 07:00 UTC+8 is 23:00 UTC (to the minute).
    assert_eq!((until % 86_400) / 60, 23 * 60, "ends at 07:00 UTC+8");
    assert_eq!(env.sim.requests_to(SEND).len(), 1, "not retried");
    assert_kept(&env, "alice", "regid-a").await;
}

async fn throttle_on_push_to_list(c: i64) {
    let (env, app) = setup(&format!("list{c}")).await;
    bind_pair(&env, &app).await;
    env.sim.script_next(PUSH_TO_LIST, code(c));
    let r = pair(&env).await;
    for user in ["alice", "bob"] {
        assert_throttled(result(&r, user), c);
    }
    assert_eq!(env.sim.requests_to(SAVE_LIST).len(), 1);
    assert_eq!(
        env.sim.requests_to(PUSH_TO_LIST).len(),
        1,
        "{c}: not retried"
    );
    assert!(
        env.sim.requests_to(SEND).is_empty(),
        "{c}: a paused app or class is not worked around with single sends"
    );
    assert!(env.sim.deliveries().is_empty());
    let stored = env.stored_pauses().await;
    match c {
        10070 | 10073 => assert_eq!(stored, [("class:system".to_string(), c)], "{c}"),
        10072 | 10093 => assert!(
            stored.is_empty(),
            "{c}: a 1 s pause stays in the instance: {stored:?}"
        ),
        _ => {}
    }
    assert_kept(&env, "alice", "regid-a").await;
    assert_kept(&env, "bob", "regid-b").await;
}

#[tokio::test]
async fn code_10070_on_push_to_list_is_throttled_and_not_retried() {
    throttle_on_push_to_list(10070).await;
}

#[tokio::test]
async fn code_10071_on_push_to_list_is_throttled_and_not_retried() {
    throttle_on_push_to_list(10071).await;
}

#[tokio::test]
async fn code_10072_on_push_to_list_is_throttled_and_not_retried() {
    throttle_on_push_to_list(10072).await;
}

#[tokio::test]
async fn code_10073_on_push_to_list_is_throttled_and_not_retried() {
    throttle_on_push_to_list(10073).await;
}

#[tokio::test]
async fn code_10093_on_push_to_list_is_throttled_and_not_retried() {
    throttle_on_push_to_list(10093).await;
}

#[tokio::test]
async fn code_10093_on_auth_is_throttled_and_sends_nothing() {
    let (env, app) = setup("auth10093").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    env.sim.script_next(AUTH, code(10093));
    let r = one(&env).await;
    assert_throttled(result(&r, "alice"), 10093);
    assert_eq!(
        env.sim.requests_to(AUTH).len(),
        1,
        "auth not retried while paused"
    );
    assert!(env.sim.requests_to(SEND).is_empty());
    assert_kept(&env, "alice", "regid-a").await;
}
