//! The function's IAM policy in template.yaml is exactly what its code
//! sends: pushes through the handler on a recording store cover a first
//! push (vivo auth shared through the table), its duplicate and a
//! conflicting reuse of its request_id, a list push, a dead token and its
//! cleanup, a refused authToken (dropped, re-auth), a vivo quota pause, a
//! push to more users than one transaction logs, the
//! take-over of a stale claim that never sent and of one that died while
//! sending, a user without devices and a refused caller. The DynamoDB
//! actions their requests needed are compared with the policy's
//! (testkit::iam).

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue as A;
use offpush::domain::{DeliveryOutcome, UserId};
use offpush::store::keys;
use offpush::store::pushlog::LogEntry;
use serde_json::{json, Value};
use testkit::iam::assert_policy_matches;
use vivo_sim::CallAction;

const SEND: &str = "/message/send";

fn code(c: i64) -> CallAction {
    CallAction::Result {
        code: c,
        desc: format!("scripted {c}"),
        extra: serde_json::Map::new(),
    }
}

fn body(to: &[&str], request_id: &str) -> Value {
    json!({"to": to, "desc": "hi", "request_id": request_id})
}

async fn ok(env: &TestEnv, body: &Value) -> Value {
    let (s, r) = push(env, body).await;
    assert_eq!(s, 200, "{body}: {r}");
    r
}

#[tokio::test]
async fn the_policy_grants_exactly_what_the_pushes_send() {
    let (env, app) = setup("iam-push-dispatch").await;
    for (user, token) in [
        ("alice", "regid-a"),
        ("bob", "regid-b"),
        ("carol", "regid-c"),
    ] {
        bind(&env, &app, user, token, None).await;
    }
    // The bindings went through token reporting's rules: not this function.
    env.actions.clear();

    let r = ok(&env, &body(&["alice"], "r1")).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let r = ok(&env, &body(&["alice"], "r1")).await;
    assert_eq!(r["duplicate"], true);
    let (s, _) = push(&env, &body(&["bob"], "r1")).await;
    assert_eq!(s, 409, "a request_id reused for another push");

    let r = ok(&env, &body(&["alice", "bob"], "r2")).await;
    assert_eq!(r["summary"]["sent"], 2, "{r}");

    env.sim
        .set_reg_id("regid-c", RegIdVerdict::Invalid { status: 2 });
    let r = ok(&env, &body(&["carol"], "r3")).await;
    assert_eq!(status_of(&r, "carol"), "token_invalid");
    assert!(live_tokens(&env, "carol").await.is_empty(), "cleaned up");

    env.sim.script_next(SEND, code(10000));
    let r = ok(&env, &body(&["alice"], "r4")).await;
    assert_eq!(status_of(&r, "alice"), "sent", "after a re-auth");

    let r = ok(&env, &body(&["nobody"], "r5")).await;
    assert_eq!(status_of(&r, "nobody"), "no_device");

    ok(&env, &body(&["bob"], "r6")).await;
    make_stale(&env, "r6", false).await;
    let r = ok(&env, &body(&["bob"], "r6")).await;
    assert_eq!(status_of(&r, "bob"), "sent", "taken over and sent");
    ok(&env, &body(&["bob"], "r7")).await;
    make_stale(&env, "r7", true).await;
    ok(&env, &body(&["bob"], "r7")).await;

    // More named users than the completion's transaction holds: the rest
    // of the push log goes in batches.
    let many = env.seed_users(120, "many", 1).await;
    let r = ok(&env, &json!({"to": many, "desc": "hi"})).await;
    assert_eq!(r["summary"]["sent"], 120, "{}", r["summary"]);
    // A large push's log whose bucket would pass the item limit (one user
    // with a very long report) writes that bucket's users one item each.
    let users: Vec<UserId> = (0..30)
        .map(|i| UserId::parse("u", &format!("heavy-{i}")).unwrap())
        .collect();
    let entries = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let lines = if i == 0 { 4500 } else { 1 };
            let outcomes: Vec<DeliveryOutcome> = (0..lines)
                .map(|d| DeliveryOutcome {
                    device_id: Some(format!("device-{d}")),
                    ..DeliveryOutcome::no_device(u)
                })
                .collect();
            let entry = LogEntry {
                request_id: "heavy".into(),
                push_ref: keys::push_ref("heavy"),
                pushed_at_ms: offpush::clock::now_ms(),
                refs: vec![None; outcomes.len()],
                outcomes,
            };
            (u.clone(), entry)
        })
        .collect();
    env.ctx
        .store
        .put_push_log(&env.app.id, entries, 3600, 4)
        .await
        .unwrap();

    env.sim.script_next(SEND, code(10070));
    let r = ok(&env, &body(&["alice"], "r8")).await;
    assert_eq!(status_of(&r, "alice"), "throttled");
    assert!(!env.stored_pauses().await.is_empty(), "the pause is stored");

    let bad = format!("{}x", env.app.admin_token());
    let (s, _) = read(
        push_dispatch::handle(
            &env.ctx,
            request("POST", "/v1/push", Some(&bad), Some(&body(&["a"], "r9"))),
        )
        .await,
    );
    assert_eq!(s, 401);

    Box::pin(visibility_story(&env)).await;

    assert_policy_matches("PushDispatchFunction", &env.actions.keyed());
    testkit::iam::assert_no_app_writes("PushDispatchFunction");
}

/// Delivery visibility: a receipt (matched and kept raw), the push record,
/// statistics and the push log. (Its own future: the story's is large.)
async fn visibility_story(env: &TestEnv) {
    // A push that fails before sending (a user record the store cannot
    // read) gives its claim back.
    let pk = keys::user_pk(
        &env.app.id,
        &offpush::domain::UserId::parse("u", "zed").unwrap(),
    );
    raw_client()
        .await
        .put_item()
        .table_name(env.store.table())
        .item("pk", A::S(pk))
        .item("sk", A::S(keys::USER_SK.into()))
        .item(keys::USER_VERSION, A::S("not a number".into()))
        .send()
        .await
        .unwrap();
    let (s, _) = read(
        Box::pin(push_dispatch::handle(
            &env.ctx,
            request(
                "POST",
                "/v1/push",
                Some(&env.app.admin_token()),
                Some(&body(&["zed"], "r11")),
            ),
        ))
        .await,
    );
    assert_eq!(s, 500);

    let secret = offpush::domain::ReceiptSecret::generate();
    let hash = secret.hash();
    env.edit_certificate(1, |c| {
        c.receipt = Some(offpush::domain::Receipts {
            receipt_id: Some("5001".into()),
            secret: None,
            secret_hash: hash,
        })
    })
    .await;
    Box::pin(ok(env, &body(&["bob"], "r10"))).await;
    let tag = offpush::domain::receipt::receipt_tag(
        &env.app.id,
        offpush::domain::CertificateId::new(1).unwrap(),
    );
    let param = offpush::domain::receipt::receipt_param(now_ms(), &keys::push_ref("r10"), &tag);
    let receipt = json!({"t": {"param": param, "targets": "regid-b"}, "odd": 1}).to_string();
    let (s, ack) = read(
        Box::pin(push_dispatch::handle(
            &env.ctx,
            request_raw(
                "POST",
                &format!("/v1/receipts/vivo/{}", secret.expose()),
                None,
                &receipt,
            ),
        ))
        .await,
    );
    assert_eq!(s, 200, "{ack}");
    // Statistics a completion could not add in time are kept due (the
    // completion's fallback, as the function writes it) and added by the
    // next statistics read.
    let mut due = offpush::store::stats::StatsAdd::new(
        &offpush::domain::utc_date(offpush::clock::now_ms()),
        None,
    );
    due.add("pushes", 1);
    env.ctx
        .store
        .keep_due_stats(&env.app.id, &keys::push_ref("r-due"), &[due], 3600)
        .await
        .unwrap();
    for uri in ["/v1/pushes/r10", "/v1/stats", "/v1/users/bob/push-log"] {
        let (s, r) = read(
            Box::pin(push_dispatch::handle(
                &env.ctx,
                request("GET", uri, Some(&env.app.admin_token()), None),
            ))
            .await,
        );
        assert_eq!(s, 200, "{uri}: {r}");
    }
}
