//! The push request as a whole: idempotency, validation, auth, events.

use crate::common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_repeated_request_id_returns_the_stored_result_and_sends_nothing() {
    let (env, app) = setup("dup").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let body = json!({"to": ["alice", "bob"], "desc": "hi", "request_id": "msg-1"});
    let (s1, first) = push(&env, &body).await;
    assert_eq!(s1, 200);
    assert_eq!(first["duplicate"], false);
    let (s2, second) = push(&env, &body).await;
    assert_eq!(s2, 200);
    assert_eq!(second["duplicate"], true);
    assert_eq!(second["results"], first["results"]);
    assert_eq!(second["summary"], first["summary"]);
    assert_eq!(second["request_id"], "msg-1");
    assert_eq!(
        env.sim.requests_to("/message/send").len(),
        1,
        "the repeat sent nothing"
    );
    // The same id with another body is a conflict, not someone else's result.
    let other = json!({"to": ["alice"], "desc": "different", "request_id": "msg-1"});
    assert_error(&push(&env, &other).await, 409, "conflict", None);
    // Without a request_id every call is new, and gets a generated id.
    let (_, a) = push(&env, &json!({"to": ["alice"], "desc": "x"})).await;
    let (_, b) = push(&env, &json!({"to": ["alice"], "desc": "x"})).await;
    assert_ne!(a["request_id"], b["request_id"]);
    assert_eq!(env.sim.requests_to("/message/send").len(), 3);
    // Another app's identical request id is its own.
    let rival = env.other_app("rival").await;
    let (s, r) = read(
        push_dispatch::handle(
            &env.ctx,
            request("POST", "/v1/push", Some(&rival.admin_token()), Some(&body)),
        )
        .await,
    );
    assert_eq!(s, 200);
    assert_eq!(r["duplicate"], false);
}

#[tokio::test]
async fn two_concurrent_identical_requests_send_once() {
    let (env, app) = setup("dup-race").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    // Slow vivo, so the twin arrives while the first is in flight.
    env.sim.script_next(
        "/message/send",
        CallAction::Delay(std::time::Duration::from_millis(400)),
    );
    let body = json!({"to": ["alice"], "desc": "hi", "request_id": "race-1"});
    let (a, b) = futures::join!(push(&env, &body), push(&env, &body));
    assert_eq!((a.0, b.0), (200, 200));
    let dups: Vec<bool> = [&a.1, &b.1]
        .iter()
        .map(|r| r["duplicate"].as_bool().unwrap())
        .collect();
    assert_eq!(
        dups.iter().filter(|d| **d).count(),
        1,
        "exactly one answer is the duplicate"
    );
    assert_eq!(a.1["results"], b.1["results"]);
    assert_eq!(env.sim.requests_to("/message/send").len(), 1, "sent once");
}

#[tokio::test]
async fn bad_requests_are_400_naming_the_field_and_send_nothing() {
    let (env, app) = setup("bad").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"desc": "d"}), "to"),
        (json!({"to": [], "desc": "d"}), "to"),
        (json!({"to": ["alice", "alice"], "desc": "d"}), "to[1]"),
        (json!({"to": ["alice"]}), "desc"),
        (
            json!({"to": ["alice"], "desc": "d", "title": "t".repeat(41)}),
            "title",
        ),
        (json!({"to": ["alice"], "desc": "好".repeat(101)}), "desc"),
        (
            json!({"to": ["alice"], "desc": "d", "ext": "e".repeat(1025)}),
            "ext",
        ),
        (
            json!({"to": ["alice"], "desc": "d", "ttl_seconds": 30}),
            "ttl_seconds",
        ),
        (
            json!({"to": ["alice"], "desc": "d", "ttl_seconds": "60"}),
            "ttl_seconds",
        ),
        (
            json!({"to": ["alice"], "desc": "d", "request_id": "r".repeat(65)}),
            "request_id",
        ),
        (
            json!({"to": ["alice"], "desc": "d", "category": "CHAT"}),
            "category",
        ),
        (
            json!({"to": ["alice"], "desc": "d", "click_action": {"type": "open_page", "intent_uri": "x"}}),
            "click_action.intent_uri",
        ),
        (
            json!({"to": ["alice"], "desc": "d", "sound": "ding"}),
            "sound",
        ),
    ];
    for (body, field) in cases {
        assert_error(
            &push(&env, &body).await,
            400,
            "invalid_argument",
            Some(field),
        );
    }
    let token = env.app.admin_token();
    let got = read(
        push_dispatch::handle(
            &env.ctx,
            request_raw("POST", "/v1/push", Some(&token), "{\"to\":"),
        )
        .await,
    );
    assert_error(&got, 400, "invalid_argument", None);
    assert!(env.sim.requests().is_empty(), "nothing reached vivo");
    // A refused request claimed nothing: the id is still free.
    let body = json!({"to": ["alice"], "desc": "d", "request_id": "r".repeat(64)});
    assert_eq!(push(&env, &body).await.1["duplicate"], false);
}

#[tokio::test]
async fn push_needs_an_admin_token() {
    let (env, _app) = setup("auth").await;
    let body = json!({"to": ["alice"], "desc": "hi"});
    let call = |tok: Option<String>| {
        push_dispatch::handle(
            &env.ctx,
            request("POST", "/v1/push", tok.as_deref(), Some(&body)),
        )
    };
    assert_error(&read(call(None).await), 401, "unauthenticated", None);
    assert_error(
        &read(call(Some(env.app.user_token("alice"))).await),
        403,
        "permission_denied",
        None,
    );
    let expired =
        offpush::auth::mint_for(&env.app.secret, &env.app.id, "ops", true, now() - 4000, 60);
    assert_error(
        &read(call(Some(expired)).await),
        401,
        "unauthenticated",
        None,
    );
    assert!(env.sim.requests().is_empty());
}

#[tokio::test]
async fn the_event_files_drive_the_handler() {
    let (env, app) = setup("events").await;
    bind(&env, &app, "alice", "regid-a", None).await;
    bind(&env, &app, "bob", "regid-b", None).await;
    let vars = [("RUN_ID", "t1")];
    let (s, single) = read(
        push_dispatch::handle(
            &env.ctx,
            event("push-dispatch-single.json", &env.app, &vars),
        )
        .await,
    );
    assert_eq!(s, 200, "{single}");
    assert_eq!(single["summary"]["sent"], 1);
    assert_eq!(single["duplicate"], false);
    let (s, dup) = read(
        push_dispatch::handle(
            &env.ctx,
            event("push-dispatch-duplicate.json", &env.app, &vars),
        )
        .await,
    );
    assert_eq!(s, 200);
    assert_eq!(dup["duplicate"], true);
    let (s, many) = read(
        push_dispatch::handle(&env.ctx, event("push-dispatch-many.json", &env.app, &vars)).await,
    );
    assert_eq!(s, 200);
    assert_eq!(many["summary"]["sent"], 2);
    assert_eq!(many["summary"]["no_device"], 1);
    assert_eq!(env.sim.requests_to("/message/send").len(), 1);
    assert_eq!(env.sim.requests_to("/message/pushToList").len(), 1);
    let send = &env.sim.requests_to("/message/send")[0].body;
    assert_eq!(send["clientCustomMap"]["ext"], "{\"conv\":\"c2c_alice\"}");
    assert_eq!(send["notifyId"], 42);
    let vars = [("RUN_ID", "t1"), ("CERT_ID", "1")];
    let (s, record) = read(
        push_dispatch::handle(
            &env.ctx,
            event("push-dispatch-record.json", &env.app, &vars),
        )
        .await,
    );
    assert_eq!(s, 200, "{record}");
    assert_eq!(record["request_id"], "evt-single-t1");
    let (s, stats) = read(
        push_dispatch::handle(&env.ctx, event("push-dispatch-stats.json", &env.app, &vars)).await,
    );
    assert_eq!(s, 200, "{stats}");
    assert_eq!(stats["certificate_id"], 1);
    assert_eq!(stats["days"][6]["sent"], 3);
    let (s, log) = read(
        push_dispatch::handle(
            &env.ctx,
            event("push-dispatch-push-log.json", &env.app, &vars),
        )
        .await,
    );
    assert_eq!(s, 200, "{log}");
    assert_eq!(log["entries"].as_array().unwrap().len(), 2, "{log}");
}
