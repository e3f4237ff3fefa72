//! A request for a method and path this function has no route for is
//! answered 404 `not_found` with the API's error body, authenticated or not:
//! the body API Gateway answers unknown routes with (template.yaml's
//! gateway responses, checked in shared/tests/template_stack.rs).

use serde_json::{json, Value};
use testkit::*;
use token_report::handle;

fn manifest_entry(event: &str) -> Value {
    let path = repo_root().join("events/manifest.json");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    manifest["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == event)
        .unwrap_or_else(|| panic!("{event} is not in events/manifest.json"))
        .clone()
}

#[tokio::test]
async fn the_default_route_event_is_answered_as_the_manifest_says() {
    let env = TestEnv::new("default-route-event").await;
    let name = "token-report-unknown-route.json";
    let entry = manifest_entry(name);
    assert_eq!(entry["function"], "TokenReportFunction");
    let req = event(name, &env.app, &[]);
    let got = read(handle(&env.ctx, req).await);
    assert_eq!(Some(got.0 as u64), entry["status"].as_u64());
    assert_error(&got, 404, "not_found", None);
    assert_eq!(got.1["error"]["message"], "no such route");
}

#[tokio::test]
async fn unrouted_requests_are_404_whoever_asks() {
    let env = TestEnv::new("default-route").await;
    let admin = env.app.admin_token();
    let user = env.app.user_token("alice");
    let unrouted = [
        ("GET", "/"),
        ("GET", "/v1"),
        ("GET", "/v1/pushes"),
        ("GET", "/v1/push"),
        ("POST", "/v1/push-token"),
        ("GET", "/v1/push-token"),
        ("PATCH", "/v1/certificates/1"),
        ("GET", "/v1/users/alice"),
        ("POST", "/v1/users/alice/devices"),
        ("DELETE", "/v1/users/alice/logout"),
        ("GET", "/v1/users/alice/devices/extra"),
    ];
    for (method, path) in unrouted {
        for bearer in [
            None,
            Some("not-a-jwt"),
            Some(user.as_str()),
            Some(admin.as_str()),
        ] {
            let body = json!({"certificate_id": 1, "token": "regid-0123456789"});
            let got = read(handle(&env.ctx, request(method, path, bearer, Some(&body))).await);
            assert_error(&got, 404, "not_found", None);
            assert!(
                got.1.as_object().unwrap().len() == 1,
                "{method} {path}: only the error object: {}",
                got.1
            );
        }
    }
}

#[tokio::test]
async fn the_functions_own_routes_still_authenticate_first() {
    let env = TestEnv::new("routes-auth").await;
    for (method, path) in [
        ("PUT", "/v1/push-token"),
        ("DELETE", "/v1/push-token"),
        ("POST", "/v1/users/alice/logout"),
        ("GET", "/v1/users/alice/devices"),
        ("GET", "/v1/users/alice/devices/"),
    ] {
        let got = read(handle(&env.ctx, request(method, path, None, None)).await);
        assert_error(&got, 401, "unauthenticated", None);
    }
}
