//! The IAM policies in template.yaml are exactly what the code sends, per
//! function: push-dispatch's binary runs as two functions, and each one's
//! policy is compared with what its own routes send (testkit::iam), both
//! ways, and neither may write an app item.
//!
//! PushDispatchFunction (POST /v1/push): pushes through the handler on a
//! recording store cover a first push (vivo auth shared through the table),
//! its duplicate and a conflicting reuse of its request_id, a list push, a
//! dead token and its cleanup, a refused authToken (dropped, re-auth), a vivo
//! quota pause, a push to more users than one transaction logs, the
//! take-over of a stale claim that never sent and of one that died while
//! sending, a user without devices, a refused caller, a push that fails
//! before sending (its claim given back), pushes through certificates with
//! receipts on (vivo, and Xiaomi, whose messages carry the receipt URL) and
//! statistics a completion could not add in time (kept due), all under a
//! per-app push rate limit (its leases).
//!
//! PushVisibilityFunction (the visibility routes), on a context of its own
//! (another function's instance: nothing cached from the pushes): vendors'
//! receipts (vivo delivered, kept raw; Xiaomi type 16, a dead token whose
//! binding ends), the push record, statistics (adding those kept due) and the
//! push log.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue as A;
use offpush::domain::{
    CertificateId, ClickAction, DeliveryOutcome, ReceiptSecret, Receipts, Secret, UserId,
};
use offpush::store::keys;
use offpush::store::pushlog::LogEntry;
use offpush::store::Store;
use offpush::Context;
use serde_json::{json, Value};
use testkit::iam::{assert_no_app_writes, assert_policy_matches};
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

/// The receipt secrets of the two certificates with receipts on.
struct ReceiptUrls {
    vivo: ReceiptSecret,
    xiaomi: ReceiptSecret,
}

#[tokio::test]
async fn each_policy_grants_exactly_what_its_routes_send() {
    let (env, app) = setup("iam-push-dispatch").await;
    for (user, token) in [
        ("alice", "regid-a"),
        ("bob", "regid-b"),
        ("carol", "regid-c"),
    ] {
        bind(&env, &app, user, token, None).await;
    }
    // A Xiaomi certificate with receipts on (its messages carry the
    // receipt URL), and dave bound through it.
    let xiaomi = env
        .add_xiaomi_certificate(ClickAction::OpenApp, false)
        .await;
    assert_eq!(xiaomi.get(), 2);
    let xiaomi_secret = ReceiptSecret::generate();
    env.edit_certificate(2, |c| {
        c.receipt = Some(Receipts {
            receipt_id: None,
            secret_hash: xiaomi_secret.hash(),
            secret: Some(Secret::new(xiaomi_secret.expose())),
        })
    })
    .await;
    env.bind(2, "dave", "xm-dave", None).await;
    // A per-app push rate limit: every push takes its admission from the
    // app's counter (high enough never to refuse one here).
    assert!(env
        .store
        .set_app_push_rate_limit(&env.app.id, Some(1000))
        .await
        .unwrap());
    env.store.forget_cached_app(&env.app.id);
    // The bindings went through token reporting's rules, the limit is the
    // operator's: not this function.
    env.actions.clear();

    let vivo_secret = Box::pin(push_story(&env)).await;
    assert_policy_matches("PushDispatchFunction", &env.actions.keyed());
    assert_no_app_writes("PushDispatchFunction");

    // The visibility routes run in another function: its own instances,
    // which share nothing cached with the pushes' (a store of its own: the
    // app is read again).
    env.actions.clear();
    let cold = Store::for_endpoint(&endpoint(), "us-east-1", env.store.table()).await;
    let visibility = context(cold.recording(&env.actions), &env.config());
    let secrets = ReceiptUrls {
        vivo: vivo_secret,
        xiaomi: xiaomi_secret,
    };
    Box::pin(visibility_story(&env, &visibility, &secrets)).await;
    assert_policy_matches("PushVisibilityFunction", &env.actions.keyed());
    assert_no_app_writes("PushVisibilityFunction");
}

/// Every path of POST /v1/push; the secret of the vivo certificate's
/// receipt URL it turned receipts on for.
async fn push_story(env: &TestEnv) -> ReceiptSecret {
    let r = ok(env, &body(&["alice"], "r1")).await;
    assert_eq!(status_of(&r, "alice"), "sent");
    let r = ok(env, &body(&["alice"], "r1")).await;
    assert_eq!(r["duplicate"], true);
    let (s, _) = push(env, &body(&["bob"], "r1")).await;
    assert_eq!(s, 409, "a request_id reused for another push");

    let r = ok(env, &body(&["alice", "bob"], "r2")).await;
    assert_eq!(r["summary"]["sent"], 2, "{r}");

    env.sim
        .set_reg_id("regid-c", RegIdVerdict::Invalid { status: 2 });
    let r = ok(env, &body(&["carol"], "r3")).await;
    assert_eq!(status_of(&r, "carol"), "token_invalid");
    assert!(live_tokens(env, "carol").await.is_empty(), "cleaned up");

    env.sim.script_next(SEND, code(10000));
    let r = ok(env, &body(&["alice"], "r4")).await;
    assert_eq!(status_of(&r, "alice"), "sent", "after a re-auth");

    let r = ok(env, &body(&["nobody"], "r5")).await;
    assert_eq!(status_of(&r, "nobody"), "no_device");

    ok(env, &body(&["bob"], "r6")).await;
    make_stale(env, "r6", false).await;
    let r = ok(env, &body(&["bob"], "r6")).await;
    assert_eq!(status_of(&r, "bob"), "sent", "taken over and sent");
    ok(env, &body(&["bob"], "r7")).await;
    make_stale(env, "r7", true).await;
    ok(env, &body(&["bob"], "r7")).await;

    // More named users than the completion's transaction holds: the rest
    // of the push log goes in batches.
    let many = env.seed_users(120, "many", 1).await;
    let r = ok(env, &json!({"to": many, "desc": "hi"})).await;
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
    let r = ok(env, &body(&["alice"], "r8")).await;
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

    // A push that fails before sending (a user record the store cannot
    // read) gives its claim back.
    let pk = keys::user_pk(&env.app.id, &UserId::parse("u", "zed").unwrap());
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

    // Receipts on for the vivo certificate, then pushes the receipts of the
    // visibility story name: bob's through vivo, dave's through Xiaomi.
    let secret = env.enable_vivo_receipts(1).await;
    Box::pin(ok(env, &body(&["bob"], "r10"))).await;
    let r = Box::pin(ok(env, &body(&["dave"], "r12"))).await;
    assert_eq!(status_of(&r, "dave"), "sent", "{r}");

    // A push whose statistics rows refuse the write: its record is stored
    // with the statistics kept due (the completion's fallback); the next
    // statistics read adds them (the visibility story).
    break_counters(env, &["pushes"], true).await;
    Box::pin(ok(env, &body(&["bob"], "r-due"))).await;
    break_counters(env, &["pushes"], false).await;
    secret
}

/// Delivery visibility on `ctx` (push-visibility's instance): receipts (a
/// vivo one matched and kept raw, a Xiaomi dead token that ends dave's
/// binding), the push record, statistics and the push log. (Its own
/// future: the test's is large.)
async fn visibility_story(env: &TestEnv, ctx: &Context, secrets: &ReceiptUrls) {
    let receipt = |platform: &'static str, secret: &ReceiptSecret, body: String| {
        let req = request_raw(
            "POST",
            &format!("/v1/receipts/{platform}/{}", secret.expose()),
            None,
            &body,
        );
        async move { read(Box::pin(push_dispatch::handle(ctx, req)).await) }
    };

    let param = |cert: u64, request_id: &str| {
        let tag =
            offpush::domain::receipt::receipt_tag(&env.app.id, CertificateId::new(cert).unwrap());
        offpush::domain::receipt::receipt_param(now_ms(), &keys::push_ref(request_id), &tag)
    };
    // vivo: bob delivered; the odd entry is kept raw.
    let vivo = json!({"t": {"param": param(1, "r10"), "targets": "regid-b"}, "odd": 1});
    let (s, ack) = receipt("vivo", &secrets.vivo, vivo.to_string()).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(ack["delivered"], 1, "{ack}");
    assert_eq!(ack["unmatched"], 1, "{ack}");
    // Xiaomi type 16: dave's regid is dead, his binding (reported before
    // the push) ends.
    let xiaomi = json!({"m-1": {"param": param(2, "r12"), "type": 16, "targets": "xm-dave"}});
    let (s, ack) = receipt("xiaomi", &secrets.xiaomi, xiaomi.to_string()).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(ack["ended"], 1, "{ack}");
    assert!(live_tokens(env, "dave").await.is_empty(), "dave unbound");

    for uri in ["/v1/pushes/r10", "/v1/stats", "/v1/users/bob/push-log"] {
        let (s, r) = read(
            Box::pin(push_dispatch::handle(
                ctx,
                request("GET", uri, Some(&env.app.admin_token()), None),
            ))
            .await,
        );
        assert_eq!(s, 200, "{uri}: {r}");
    }
}
