//! The function's IAM policy in template.yaml is exactly what its code
//! sends: every route and outcome is driven through the handler on a
//! recording store, and the DynamoDB actions its requests needed are
//! compared with the policy's (testkit::iam).

use cert_upload::handle;
use serde_json::{json, Value};
use testkit::iam::assert_policy_matches;
use testkit::*;

fn cert_body() -> Value {
    json!({
        "platform": "vivo",
        "name": "vivo production",
        "credentials": {"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY, "app_secret": VIVO_APP_SECRET},
        "click_action": {"type": "open_app"},
        "category": "IM",
    })
}

async fn call(env: &TestEnv, method: &str, uri: &str, body: Option<&Value>) -> u16 {
    let (status, _) = read(
        handle(
            &env.ctx,
            request(method, uri, Some(&env.app.admin_token()), body),
        )
        .await,
    );
    status
}

#[tokio::test]
async fn the_policy_grants_exactly_what_the_routes_send() {
    let env = TestEnv::new("iam-cert-upload").await;
    let cert = cert_body();
    let mut unverified_edit = cert.clone();
    unverified_edit["name"] = json!("renamed");
    let mut kept_secret = cert.clone();
    kept_secret["credentials"]
        .as_object_mut()
        .unwrap()
        .remove("app_secret");
    let mut refused = cert.clone();
    refused["credentials"]["app_secret"] = json!("a-secret-vivo-refuses");
    let mut receipts = cert.clone();
    receipts["receipt_id"] = json!("5001");
    let mut rotate = receipts.clone();
    rotate["rotate_receipt_url"] = json!(true);

    // (method, uri, body, expected status): every route, its refusals and
    // its not-found answers.
    let story: Vec<(&str, &str, Option<&Value>, u16)> = vec![
        ("POST", "/v1/certificates", Some(&cert), 201),
        ("POST", "/v1/certificates?verify=false", Some(&cert), 201),
        ("POST", "/v1/certificates", Some(&refused), 422),
        ("GET", "/v1/certificates", None, 200),
        ("GET", "/v1/certificates/1", None, 200),
        ("GET", "/v1/certificates/99", None, 404),
        ("PUT", "/v1/certificates/1", Some(&kept_secret), 200),
        (
            "PUT",
            "/v1/certificates/2?verify=false",
            Some(&unverified_edit),
            200,
        ),
        ("PUT", "/v1/certificates/99", Some(&cert), 404),
        ("DELETE", "/v1/certificates/2", None, 204),
        ("DELETE", "/v1/certificates/2", None, 404),
        // Receipts: the URL lookup is written, rotated, dropped with the certificate.
        ("POST", "/v1/certificates", Some(&receipts), 201),
        ("PUT", "/v1/certificates/3", Some(&rotate), 200),
        ("PUT", "/v1/certificates/3", Some(&cert), 200),
        ("PUT", "/v1/certificates/3", Some(&receipts), 200),
        ("DELETE", "/v1/certificates/3", None, 204),
    ];
    for (method, uri, body, want) in story {
        assert_eq!(call(&env, method, uri, body).await, want, "{method} {uri}");
    }
    assert_policy_matches("CertUploadFunction", &env.actions.keyed());
    testkit::iam::assert_no_app_writes("CertUploadFunction");
}
