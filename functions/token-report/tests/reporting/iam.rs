//! The function's IAM policy in template.yaml is exactly what its code
//! sends: every route and binding rule (first report, refresh, a token
//! moving to another user, removal by empty token, by device and by token,
//! logout, device list, kick-outs past the device limit, unknown
//! certificates, unrouted requests) is driven through the handler on a
//! recording store, and the DynamoDB actions its requests needed are
//! compared with the policy's (testkit::iam).

use offpush::domain::{ClickAction, PushMode};
use serde_json::{json, Value};
use testkit::iam::assert_policy_matches;
use testkit::*;
use token_report::handle;

async fn call(env: &TestEnv, method: &str, uri: &str, bearer: &str, body: Option<&Value>) -> u16 {
    read(handle(&env.ctx, request(method, uri, Some(bearer), body)).await).0
}

#[tokio::test]
async fn the_policy_grants_exactly_what_the_routes_send() {
    let env = TestEnv::new("iam-token-report").await;
    env.add_certificate(ClickAction::OpenApp, PushMode::Production)
        .await;
    // A device limit of 2 makes a third device kick the oldest out.
    assert!(env
        .store
        .update_app_settings(&env.app.id, Some(2), None)
        .await
        .unwrap());
    let admin = env.app.admin_token();
    let alice = env.app.user_token("alice");
    let bob = env.app.user_token("bob");
    let report = |token: &str, device: &str| json!({"certificate_id": 1, "token": token, "device_id": device});
    let t1 = report("regid-token-one-0001", "phone");
    let t2 = report("regid-token-two-0002", "tablet");
    let t3 = report("regid-token-three-03", "laptop");
    let empty = report("", "tablet");
    let unknown_cert = json!({"certificate_id": 9, "token": "regid-token-nine-09"});

    let story: Vec<(&str, String, &str, Option<&Value>, u16)> = vec![
        ("PUT", "/v1/push-token".into(), &alice, Some(&t1), 200),
        // The same report again: a refresh.
        ("PUT", "/v1/push-token".into(), &alice, Some(&t1), 200),
        ("PUT", "/v1/push-token".into(), &alice, Some(&t2), 200),
        // A third device past the limit of 2: the oldest is kicked out.
        ("PUT", "/v1/push-token".into(), &alice, Some(&t3), 200),
        // Bob's phone now reports alice's laptop token: it moves to him.
        ("PUT", "/v1/push-token".into(), &bob, Some(&t3), 200),
        (
            "PUT",
            "/v1/push-token".into(),
            &alice,
            Some(&unknown_cert),
            404,
        ),
        // An empty token ends the device's binding.
        ("PUT", "/v1/push-token".into(), &alice, Some(&empty), 204),
        ("PUT", "/v1/push-token".into(), &alice, Some(&t2), 200),
        (
            "DELETE",
            "/v1/push-token?device_id=tablet".into(),
            &alice,
            None,
            204,
        ),
        ("PUT", "/v1/push-token".into(), &alice, Some(&t1), 200),
        (
            "DELETE",
            "/v1/push-token?token=regid-token-one-0001".into(),
            &alice,
            None,
            204,
        ),
        ("GET", "/v1/users/bob/devices".into(), &admin, None, 200),
        ("GET", "/v1/users/nobody/devices".into(), &admin, None, 200),
        ("POST", "/v1/users/bob/logout".into(), &admin, None, 204),
        ("POST", "/v1/users/nobody/logout".into(), &admin, None, 204),
        ("GET", "/v1/unknown".into(), &admin, None, 404),
    ];
    for (method, uri, bearer, body, want) in story {
        assert_eq!(
            call(&env, method, &uri, bearer, body).await,
            want,
            "{method} {uri}"
        );
    }
    assert_policy_matches("TokenReportFunction", &env.actions.keyed());
    testkit::iam::assert_no_app_writes("TokenReportFunction");
}
