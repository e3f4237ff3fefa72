//! The certificate routes through the real handler, on the DynamoDB
//! emulator, with the vivo simulator answering the credential checks.

use cert_upload::handle;
use offpush::auth;
use offpush::domain::Secret;
use serde_json::{json, Value};
use testkit::*;

fn cert_body() -> Value {
    json!({
        "platform": "vivo",
        "name": "vivo production",
        "credentials": {"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY, "app_secret": VIVO_APP_SECRET},
        "click_action": {"type": "open_app"},
        "category": "IM",
        "push_mode": "production"
    })
}

async fn call(env: &TestEnv, method: &str, uri: &str, body: Option<&Value>) -> (u16, Value) {
    read(
        handle(
            &env.ctx,
            request(method, uri, Some(&env.app.admin_token()), body),
        )
        .await,
    )
}

async fn create(env: &TestEnv, body: &Value) -> (u16, Value) {
    call(env, "POST", "/v1/certificates", Some(body)).await
}

async fn count(env: &TestEnv) -> usize {
    env.store
        .list_certificates(&env.app.id)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn create_verifies_with_vivo_and_returns_a_masked_certificate() {
    let env = TestEnv::new("create").await;
    let (status, body) = create(&env, &cert_body()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], 1);
    assert_eq!(body["platform"], "vivo");
    assert_eq!(body["name"], "vivo production");
    assert_eq!(body["credentials"]["app_id"], "10004");
    assert_eq!(body["credentials"]["app_key"], VIVO_APP_KEY);
    assert_eq!(body["credentials"]["app_secret"], "****c21");
    assert_eq!(body["click_action"], json!({"type": "open_app"}));
    assert_eq!(body["category"], "IM");
    assert_eq!(body["push_mode"], "production");
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(!body.to_string().contains(VIVO_APP_SECRET));

    // Exactly one auth call, shaped as vivo documents it.
    let auths = env.sim.requests_to("/message/auth");
    assert_eq!(auths.len(), 1);
    let sent = &auths[0].body;
    assert!(
        sent["appId"].is_u64(),
        "appId must be a JSON number: {sent}"
    );
    assert_eq!(sent["appId"], VIVO_APP_ID);
    assert_eq!(sent["appKey"], VIVO_APP_KEY);
    let ts = sent["timestamp"].as_i64().unwrap();
    assert!(
        (ts - now() * 1000).abs() < 60_000,
        "millisecond timestamp expected, got {ts}"
    );
    assert_eq!(sent["sign"].as_str().unwrap().len(), 32);
    assert_eq!(
        auths[0].response["result"], 0,
        "simulator accepted the sign"
    );

    let stored = env
        .store
        .get_certificate(&env.app.id, offpush::domain::CertificateId::new(1).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.credentials.s("vivo_app_secret"),
        Some(VIVO_APP_SECRET)
    );
}

#[tokio::test]
async fn ids_are_positive_and_increase_per_app() {
    let env = TestEnv::new("ids").await;
    let mut body = cert_body();
    for expected in 1..=3 {
        let (s, b) = create(&env, &body).await;
        assert_eq!(s, 201);
        assert_eq!(b["id"], expected);
    }
    // Another app starts from 1 of its own.
    let other = env.other_app("other").await;
    body["name"] = json!("theirs");
    let (s, b) = read(
        handle(
            &env.ctx,
            request(
                "POST",
                "/v1/certificates",
                Some(&other.admin_token()),
                Some(&body),
            ),
        )
        .await,
    );
    assert_eq!(s, 201);
    assert_eq!(b["id"], 1);
    // A deleted id is never handed out again.
    assert_eq!(
        call(&env, "DELETE", "/v1/certificates/3", None).await.0,
        204
    );
    assert_eq!(create(&env, &cert_body()).await.1["id"], 4);
}

#[tokio::test]
async fn concurrent_creates_never_share_an_id() {
    let env = TestEnv::new("concurrent").await;
    let token = env.app.admin_token();
    let body = cert_body();
    let calls = (0..16).map(|_| {
        let req = request(
            "POST",
            "/v1/certificates?verify=false",
            Some(&token),
            Some(&body),
        );
        handle(&env.ctx, req)
    });
    let results = futures::future::join_all(calls).await;
    let mut ids: Vec<u64> = results
        .into_iter()
        .map(|r| {
            let (s, b) = read(r);
            assert_eq!(s, 201, "{b}");
            b["id"].as_u64().unwrap()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, (1..=16).collect::<Vec<u64>>());
    assert_eq!(count(&env).await, 16);
}

#[tokio::test]
async fn refused_credentials_are_422_and_store_nothing() {
    let env = TestEnv::new("refused").await;
    let mut body = cert_body();
    body["credentials"]["app_secret"] = json!("wrong-secret-000000000000");
    let got = create(&env, &body).await;
    assert_error(
        &got,
        422,
        "invalid_credentials",
        Some("credentials.app_secret"),
    );
    assert!(got.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("10206"));

    let mut body = cert_body();
    body["credentials"]["app_id"] = json!("999999");
    assert_error(
        &create(&env, &body).await,
        422,
        "invalid_credentials",
        Some("credentials.app_id"),
    );

    let mut body = cert_body();
    body["credentials"]["app_key"] = json!("not-the-key");
    assert_error(
        &create(&env, &body).await,
        422,
        "invalid_credentials",
        Some("credentials.app_key"),
    );

    assert_eq!(count(&env).await, 0);
    // No id was consumed by the refusals.
    assert_eq!(create(&env, &cert_body()).await.1["id"], 1);
}

#[tokio::test]
async fn vivo_unreachable_is_502_and_verify_false_skips_the_check() {
    let mut env = TestEnv::new("unreachable").await;
    // A port nothing listens on.
    let (url, _held) = refused_url();
    env.ctx = testkit::context(env.store.clone(), &config(env.store.table(), &url));
    let got = create(&env, &cert_body()).await;
    assert_error(&got, 502, "vendor_unavailable", None);
    assert_eq!(count(&env).await, 0);

    let (s, b) = call(
        &env,
        "POST",
        "/v1/certificates?verify=false",
        Some(&cert_body()),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(count(&env).await, 1);
}

#[tokio::test]
async fn vivo_errors_other_than_refusal_are_not_blamed_on_the_credentials() {
    let env = TestEnv::new("vivo5xx").await;
    env.sim
        .script_next("/message/auth", CallAction::HttpStatus(500));
    assert_error(
        &create(&env, &cert_body()).await,
        502,
        "vendor_unavailable",
        None,
    );
    env.sim.script_next("/message/auth", CallAction::Garbage);
    assert_error(
        &create(&env, &cert_body()).await,
        502,
        "vendor_unavailable",
        None,
    );
    env.sim.script_next(
        "/message/auth",
        CallAction::Result {
            code: 10093,
            desc: "too frequent".into(),
            extra: Default::default(),
        },
    );
    let got = create(&env, &cert_body()).await;
    assert_error(&got, 429, "rate_limited", None);
    assert_eq!(count(&env).await, 0);
}

#[tokio::test]
async fn verify_false_sends_nothing_to_vivo() {
    let env = TestEnv::new("noverify").await;
    let mut body = cert_body();
    body["credentials"]["app_secret"] = json!("unchecked-secret");
    let (s, _) = call(&env, "POST", "/v1/certificates?verify=false", Some(&body)).await;
    assert_eq!(s, 201);
    assert!(env.sim.requests().is_empty());
    assert_error(
        &call(&env, "POST", "/v1/certificates?verify=maybe", Some(&body)).await,
        400,
        "invalid_argument",
        Some("verify"),
    );
    assert_error(
        &call(&env, "POST", "/v1/certificates?verfy=false", Some(&body)).await,
        400,
        "invalid_argument",
        Some("verfy"),
    );
}

#[tokio::test]
async fn list_get_edit_delete() {
    let env = TestEnv::new("crud").await;
    create(&env, &cert_body()).await;
    let mut second = cert_body();
    second["name"] = json!("vivo test");
    second["push_mode"] = json!("test");
    second["category"] = json!("ORDER");
    second["click_action"] = json!({"type": "open_url", "url": "https://example.com/x?y=1"});
    create(&env, &second).await;

    let (s, list) = call(&env, "GET", "/v1/certificates", None).await;
    assert_eq!(s, 200);
    let certs = list["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0]["id"], 1);
    assert_eq!(certs[1]["name"], "vivo test");
    assert_eq!(certs[1]["push_mode"], "test");
    assert_eq!(certs[1]["category"], "ORDER");
    assert_eq!(certs[1]["click_action"]["url"], "https://example.com/x?y=1");
    assert!(!list.to_string().contains(VIVO_APP_SECRET));

    let (s, one) = call(&env, "GET", "/v1/certificates/2", None).await;
    assert_eq!(s, 200);
    assert_eq!(one, certs[1]);

    // Edit without app_secret: the stored one is kept and used for the check.
    env.sim.reset();
    let edit = json!({
        "platform": "vivo",
        "name": "renamed",
        "credentials": {"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY},
        "click_action": {"type": "open_page", "intent_uri": "intent://chat#Intent;scheme=im;end"}
    });
    let (s, edited) = call(&env, "PUT", "/v1/certificates/2", Some(&edit)).await;
    assert_eq!(s, 200, "{edited}");
    assert_eq!(edited["name"], "renamed");
    assert_eq!(edited["credentials"]["app_secret"], "****c21");
    assert_eq!(
        edited["category"], "IM",
        "PUT replaces: omitted fields take defaults"
    );
    assert_eq!(edited["push_mode"], "production");
    assert_eq!(edited["created_at"], one["created_at"]);
    assert_eq!(
        env.sim.requests_to("/message/auth")[0].response["result"],
        0
    );
    let stored = env
        .store
        .get_certificate(&env.app.id, offpush::domain::CertificateId::new(2).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.credentials.s("vivo_app_secret"),
        Some(VIVO_APP_SECRET)
    );

    // Edit with a wrong new secret: 422, the stored certificate is unchanged.
    let mut bad = edit.clone();
    bad["credentials"]["app_secret"] = json!("bad-bad-bad-bad");
    bad["name"] = json!("must not be saved");
    assert_error(
        &call(&env, "PUT", "/v1/certificates/2", Some(&bad)).await,
        422,
        "invalid_credentials",
        Some("credentials.app_secret"),
    );
    assert_eq!(
        call(&env, "GET", "/v1/certificates/2", None).await.1["name"],
        "renamed"
    );

    assert_eq!(
        call(&env, "DELETE", "/v1/certificates/2", None).await.0,
        204
    );
    assert_error(
        &call(&env, "GET", "/v1/certificates/2", None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&env, "DELETE", "/v1/certificates/2", None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&env, "PUT", "/v1/certificates/2", Some(&edit)).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&env, "GET", "/v1/certificates/0", None).await,
        400,
        "invalid_argument",
        Some("id"),
    );
    assert_error(
        &call(&env, "GET", "/v1/certificates/abc", None).await,
        400,
        "invalid_argument",
        Some("id"),
    );
    assert_eq!(count(&env).await, 1);
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field_and_change_nothing() {
    let env = TestEnv::new("badbody").await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "extra": 1}),
            "extra",
        ),
        (
            json!({"credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}}),
            "platform",
        ),
        (
            json!({"platform": "harmony", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}}),
            "platform",
        ),
        (
            json!({"platform": "huawei", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}}),
            "credentials.app_key",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": 10004, "app_key": "k", "app_secret": "s"}}),
            "credentials.app_id",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k"}}),
            "credentials.app_secret",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "category": "CHAT"}),
            "category",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "push_mode": 1}),
            "push_mode",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "click_action": {"type": "open_url", "url": "javascript:alert(1)"}}),
            "click_action.url",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "click_action": "open_app"}),
            "click_action",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "name": "x".repeat(129)}),
            "name",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "default_title": "新".repeat(41)}),
            "default_title",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "default_title": " "}),
            "default_title",
        ),
        (
            json!({"platform": "vivo", "credentials": {"app_id": "10004", "app_key": "k", "app_secret": "s"}, "default_title": "a\u{0}"}),
            "default_title",
        ),
    ];
    for (body, field) in cases {
        let got = create(&env, &body).await;
        assert_error(&got, 400, "invalid_argument", Some(field));
        assert!(
            got.1["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{}",
            got.1
        );
    }
    let token = env.app.admin_token();
    for raw in ["", "{", "[1,2]", "null", "{\"platform\":\"vivo\",}"] {
        let got = read(
            handle(
                &env.ctx,
                request_raw("POST", "/v1/certificates", Some(&token), raw),
            )
            .await,
        );
        assert_error(&got, 400, "invalid_argument", None);
    }
    let huge = format!("{{\"name\":\"{}\"}}", "x".repeat(300 * 1024));
    let got = read(
        handle(
            &env.ctx,
            request_raw("POST", "/v1/certificates", Some(&token), &huge),
        )
        .await,
    );
    assert_error(&got, 413, "payload_too_large", None);
    assert_eq!(count(&env).await, 0);
    assert!(
        env.sim.requests().is_empty(),
        "nothing reaches vivo for a bad body"
    );
}

#[tokio::test]
async fn auth_is_checked_before_anything_else() {
    let env = TestEnv::new("auth").await;
    let body = cert_body();
    let uri = "/v1/certificates?verify=false";
    let send = |req| handle(&env.ctx, req);

    // No header, not a bearer, garbage.
    assert_error(
        &read(send(request("POST", uri, None, Some(&body))).await),
        401,
        "unauthenticated",
        None,
    );
    assert_error(
        &read(send(request("POST", uri, Some("not.a.jwt"), Some(&body))).await),
        401,
        "unauthenticated",
        None,
    );
    // Bad signature: signed with another secret.
    let forged = auth::mint_for(
        &Secret::new("some-other-secret-of-32-bytes!!!"),
        &env.app.id,
        "ops",
        true,
        now(),
        600,
    );
    assert_error(
        &read(send(request("POST", uri, Some(&forged), Some(&body))).await),
        401,
        "unauthenticated",
        None,
    );
    // Expired beyond the 60 s skew.
    let expired = auth::mint_for(&env.app.secret, &env.app.id, "ops", true, now() - 700, 600);
    let got = read(send(request("POST", uri, Some(&expired), Some(&body))).await);
    assert_error(&got, 401, "unauthenticated", None);
    assert_eq!(got.1["error"]["message"], "token expired");
    // Unknown app.
    let ghost = offpush::domain::AppId::parse("iss", "ghost").unwrap();
    let unknown = auth::mint_for(&env.app.secret, &ghost, "ops", true, now(), 600);
    assert_error(
        &read(send(request("POST", uri, Some(&unknown), Some(&body))).await),
        401,
        "unauthenticated",
        None,
    );
    // A user token on an admin route.
    let user = env.app.user_token("alice");
    assert_error(
        &read(send(request("POST", uri, Some(&user), Some(&body))).await),
        403,
        "permission_denied",
        None,
    );
    assert_error(
        &read(send(request("GET", "/v1/certificates", Some(&user), None)).await),
        403,
        "permission_denied",
        None,
    );
    // Unauthenticated requests to unknown routes learn nothing either.
    assert_error(
        &read(send(request("GET", "/v1/nothing", None, None)).await),
        401,
        "unauthenticated",
        None,
    );

    assert_eq!(count(&env).await, 0);
    assert!(env.sim.requests().is_empty());
    // The JWT never shows in an error body.
    let got = read(send(request("POST", uri, Some(&expired), Some(&body))).await);
    assert!(!got.1.to_string().contains(&expired));
}

#[tokio::test]
async fn one_app_never_sees_or_touches_another_apps_certificates() {
    let env = TestEnv::new("tenancy").await;
    create(&env, &cert_body()).await;
    let other = env.other_app("rival").await;
    let token = other.admin_token();
    let theirs =
        |m: &str, uri: &str, b: Option<&Value>| handle(&env.ctx, request(m, uri, Some(&token), b));
    let (s, list) = read(theirs("GET", "/v1/certificates", None).await);
    assert_eq!(s, 200);
    assert_eq!(list["certificates"], json!([]));
    assert_error(
        &read(theirs("GET", "/v1/certificates/1", None).await),
        404,
        "not_found",
        None,
    );
    let mut edit = cert_body();
    edit["name"] = json!("hijacked");
    assert_error(
        &read(theirs("PUT", "/v1/certificates/1?verify=false", Some(&edit)).await),
        404,
        "not_found",
        None,
    );
    assert_error(
        &read(theirs("DELETE", "/v1/certificates/1", None).await),
        404,
        "not_found",
        None,
    );
    // Still there, unchanged, for its owner.
    let (s, mine) = call(&env, "GET", "/v1/certificates/1", None).await;
    assert_eq!(s, 200);
    assert_eq!(mine["name"], "vivo production");
    // A token whose iss names the other app but is signed with our secret fails.
    let cross = auth::mint_for(&env.app.secret, &other.id, "ops", true, now(), 600);
    assert_error(
        &read(
            handle(
                &env.ctx,
                request("GET", "/v1/certificates", Some(&cross), None),
            )
            .await,
        ),
        401,
        "unauthenticated",
        None,
    );
}

#[tokio::test]
async fn the_event_files_drive_the_handler() {
    let env = TestEnv::new("events").await;
    let app = &env.app;
    let (s, created) = read(handle(&env.ctx, event("cert-upload-create.json", app, &[])).await);
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["click_action"]["type"], "open_page");
    let (s, xiaomi) =
        read(handle(&env.ctx, event("cert-upload-create-xiaomi.json", app, &[])).await);
    assert_eq!(s, 201, "{xiaomi}");
    assert_eq!(xiaomi["platform"], "xiaomi");
    assert_eq!(xiaomi["receipts"], true);
    let (s, _) = read(
        handle(
            &env.ctx,
            event("cert-upload-create-unverified.json", app, &[]),
        )
        .await,
    );
    assert_eq!(s, 201);
    let (s, list) = read(handle(&env.ctx, event("cert-upload-list.json", app, &[])).await);
    assert_eq!(s, 200);
    assert_eq!(list["certificates"].as_array().unwrap().len(), 3);
    let id = [("CERT_ID", "1")];
    assert_eq!(
        read(handle(&env.ctx, event("cert-upload-get.json", app, &id)).await).0,
        200
    );
    let (s, edited) = read(handle(&env.ctx, event("cert-upload-edit.json", app, &id)).await);
    assert_eq!(s, 200, "{edited}");
    assert_eq!(edited["click_action"]["type"], "open_url");
    assert_eq!(edited["credentials"]["app_secret"], "****c21");
    assert_eq!(
        read(handle(&env.ctx, event("cert-upload-delete.json", app, &id)).await).0,
        204
    );
    assert_eq!(
        read(handle(&env.ctx, event("cert-upload-get.json", app, &id)).await).0,
        404
    );
}

#[tokio::test]
async fn a_default_title_is_stored_shown_and_replaced() {
    let env = TestEnv::new("default-title").await;
    let mut body = cert_body();
    body["default_title"] = json!("新".repeat(40));
    let (s, created) = create(&env, &body).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["default_title"], "新".repeat(40));
    let id = created["id"].as_u64().unwrap();
    let (_, got) = call(&env, "GET", &format!("/v1/certificates/{id}"), None).await;
    assert_eq!(got["default_title"], "新".repeat(40));
    // An edit is a replace: without the field, the default title is gone.
    let (s, edited) = call(
        &env,
        "PUT",
        &format!("/v1/certificates/{id}"),
        Some(&cert_body()),
    )
    .await;
    assert_eq!(s, 200, "{edited}");
    assert!(edited.get("default_title").is_none(), "{edited}");
}

/// The secret at the end of a receipt URL.
fn url_secret(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn a_receipt_url_is_shown_once_kept_rotated_and_dropped() {
    let env = TestEnv::new("receipt-url").await;
    let mut body = cert_body();
    body["receipt_id"] = json!("5001");
    let (s, created) = create(&env, &body).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["receipt_id"], "5001");
    let url = created["receipt_url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("http") && url.contains("/v1/receipts/vivo/"),
        "{url}"
    );
    let secret = url_secret(&url);
    assert_eq!(secret.len(), 43);
    let hash = offpush::domain::ReceiptSecret::from_path(&secret)
        .unwrap()
        .hash();
    let id = created["id"].as_u64().unwrap();
    let found = env.store.receipt_target(&hash).await.unwrap().unwrap();
    assert_eq!(found.1.id.get(), id);
    // Read and list never show it again.
    let (_, got) = call(&env, "GET", &format!("/v1/certificates/{id}"), None).await;
    assert!(got.get("receipt_url").is_none(), "{got}");
    assert_eq!(got["receipt_id"], "5001");
    let (_, list) = call(&env, "GET", "/v1/certificates", None).await;
    assert!(!list.to_string().contains(&secret));
    // An edit that keeps receipt_id keeps the URL, and does not show it.
    let (s, edited) = call(&env, "PUT", &format!("/v1/certificates/{id}"), Some(&body)).await;
    assert_eq!(s, 200, "{edited}");
    assert!(edited.get("receipt_url").is_none(), "{edited}");
    assert!(env.store.receipt_target(&hash).await.unwrap().is_some());
    // Rotation: a new URL; the old one keeps answering for the vendor's
    // propagation time (an hour), then stops.
    let mut rotate = body.clone();
    rotate["rotate_receipt_url"] = json!(true);
    let (s, rotated) = call(
        &env,
        "PUT",
        &format!("/v1/certificates/{id}"),
        Some(&rotate),
    )
    .await;
    assert_eq!(s, 200, "{rotated}");
    let new_secret = url_secret(rotated["receipt_url"].as_str().unwrap());
    assert_ne!(new_secret, secret);
    assert!(env.store.receipt_target(&hash).await.unwrap().is_some());
    let grace_ends = |at: i64| {
        let hash = hash.clone();
        let table = env.store.table().to_string();
        async move {
            use aws_sdk_dynamodb::types::AttributeValue as A;
            raw_client()
                .await
                .update_item()
                .table_name(table)
                .key("pk", A::S(offpush::store::keys::receipt_pk(&hash)))
                .key("sk", A::S(offpush::store::keys::RECEIPT_SK.into()))
                .update_expression("SET grace_until = :at")
                .expression_attribute_values(":at", A::N(at.to_string()))
                .send()
                .await
                .unwrap();
        }
    };
    let now = offpush::clock::now_ms() / 1000;
    grace_ends(now + 60).await;
    assert!(env.store.receipt_target(&hash).await.unwrap().is_some());
    grace_ends(now - 1).await;
    assert!(env.store.receipt_target(&hash).await.unwrap().is_none());
    let new_hash = offpush::domain::ReceiptSecret::from_path(&new_secret)
        .unwrap()
        .hash();
    assert!(env.store.receipt_target(&new_hash).await.unwrap().is_some());
    // Receipts off: the URL goes.
    let (s, off) = call(
        &env,
        "PUT",
        &format!("/v1/certificates/{id}"),
        Some(&cert_body()),
    )
    .await;
    assert_eq!(s, 200, "{off}");
    assert!(off.get("receipt_id").is_none() && off.get("receipt_url").is_none());
    assert!(env.store.receipt_target(&new_hash).await.unwrap().is_none());
    // On again, then the certificate is deleted: its URL goes with it.
    let (_, on) = call(&env, "PUT", &format!("/v1/certificates/{id}"), Some(&body)).await;
    let last =
        offpush::domain::ReceiptSecret::from_path(&url_secret(on["receipt_url"].as_str().unwrap()))
            .unwrap()
            .hash();
    let (s, _) = call(&env, "DELETE", &format!("/v1/certificates/{id}"), None).await;
    assert_eq!(s, 204);
    assert!(env.store.receipt_target(&last).await.unwrap().is_none());
    let (s, _) = call(&env, "GET", &format!("/v1/certificates/{id}"), None).await;
    assert_eq!(s, 404, "a tombstone reads as not found");
    let (s, _) = call(&env, "PUT", &format!("/v1/certificates/{id}"), Some(&body)).await;
    assert_eq!(s, 404, "an edit never resurrects a deleted id");
    let (s, _) = call(&env, "DELETE", &format!("/v1/certificates/{id}"), None).await;
    assert_eq!(s, 404);
    let (_, list) = call(&env, "GET", "/v1/certificates", None).await;
    assert_eq!(list["certificates"], json!([]));
}

#[tokio::test]
async fn receipt_settings_are_checked() {
    let env = TestEnv::new("receipt-input").await;
    for (extra, field) in [
        (json!({"receipt_id": ""}), "receipt_id"),
        (json!({"receipt_id": "a b"}), "receipt_id"),
        (json!({"receipt_id": "x".repeat(65)}), "receipt_id"),
        (json!({"receipt_id": 5001}), "receipt_id"),
        (json!({"rotate_receipt_url": true}), "rotate_receipt_url"),
        (
            json!({"receipt_id": "5001", "rotate_receipt_url": "yes"}),
            "rotate_receipt_url",
        ),
    ] {
        let mut body = cert_body();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let got = create(&env, &body).await;
        assert_error(&got, 400, "invalid_argument", Some(field));
    }
    assert_eq!(count(&env).await, 0);
}

/// A certificate item exactly as the service stored it before the vendor
/// port (vivo's attributes, no `vendor_options`), written raw.
async fn put_pre_port_item(env: &TestEnv, id: u64) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let s = |v: &str| A::S(v.to_string());
    let n = |v: u64| A::N(v.to_string());
    raw_client()
        .await
        .put_item()
        .table_name(env.store.table())
        .item("pk", s(&format!("CERT#{}", env.app.id.as_str())))
        .item("sk", s(&format!("CERT#{id:016}")))
        .item("certificate_id", n(id))
        .item("platform", s("vivo"))
        .item("name", s("stored long ago"))
        .item("vivo_app_id", n(VIVO_APP_ID))
        .item("vivo_app_key", s(VIVO_APP_KEY))
        .item("vivo_app_secret", s(VIVO_APP_SECRET))
        .item("click_type", s("open_url"))
        .item("click_target", s("https://example.com/chat"))
        .item("category", s("IM"))
        .item("push_mode", s("production"))
        .item("receipt_id", s("5001"))
        .item("receipt_secret_hash", s(&"ab".repeat(32)))
        .item("created_at", n(1_764_547_200))
        .item("updated_at", n(1_764_547_200))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn certificates_stored_before_the_vendor_port_read_and_edit_unchanged() {
    let env = TestEnv::new("pre-port").await;
    let certs_pk = offpush::store::keys::certs_pk(&env.app.id);
    assert_eq!(
        certs_pk,
        format!("CERT#{}", env.app.id.as_str()),
        "the key shape the raw item uses"
    );
    put_pre_port_item(&env, 1).await;
    let (s, b) = call(&env, "GET", "/v1/certificates/1", None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["platform"], "vivo");
    assert_eq!(b["name"], "stored long ago");
    assert_eq!(
        b["credentials"],
        json!({"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY, "app_secret": "****c21"})
    );
    assert_eq!(
        b["click_action"],
        json!({"type": "open_url", "url": "https://example.com/chat"})
    );
    assert_eq!(
        (b["receipt_id"].as_str(), b["receipts"].as_bool()),
        (Some("5001"), Some(true))
    );
    assert!(b.get("vendor_options").is_none());
    // An edit that omits the secret keeps the stored one, and the item
    // keeps vivo's attribute names.
    let edit = json!({
        "platform": "vivo",
        "credentials": {"app_id": VIVO_APP_ID.to_string(), "app_key": VIVO_APP_KEY},
        "receipt_id": "5001",
    });
    let (s, b) = call(&env, "PUT", "/v1/certificates/1", Some(&edit)).await;
    assert_eq!(s, 200, "{b}");
    let item = env
        .raw_item(&certs_pk, &format!("CERT#{:016}", 1))
        .await
        .unwrap();
    assert_eq!(
        item["vivo_app_secret"].as_s().unwrap(),
        VIVO_APP_SECRET,
        "the kept secret, under its old name"
    );
    assert_eq!(
        item["receipt_secret_hash"].as_s().unwrap(),
        &"ab".repeat(32)
    );
    // A different platform on PUT is refused, naming it, and changes nothing.
    let before = env.table_items().await;
    let mut other = edit.clone();
    other["platform"] = json!("xiaomi");
    let (s, b) = call(&env, "PUT", "/v1/certificates/1", Some(&other)).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["field"], "platform");
    assert_eq!(env.table_items().await, before);
}

#[tokio::test]
async fn a_platform_not_implemented_is_refused_first_whatever_else_the_body_holds() {
    let env = TestEnv::new("platforms").await;
    for body in [
        json!({"platform": "apns", "credentials": {"team_id": "T"}, "colour": 1}),
        json!({"platform": "harmony"}),
        json!({"platform": "nokia", "credentials": {}}),
    ] {
        let (s, b) = create(&env, &body).await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["error"]["field"], "platform", "{body}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains("vivo"),
            "{b}"
        );
    }
    assert_eq!(count(&env).await, 0);
    assert!(env.sim.requests_to("/message/auth").is_empty());
}

#[tokio::test]
async fn receipt_settings_follow_the_platforms_receipt_style() {
    let env = TestEnv::new("receipt-style").await;
    let mut body = cert_body();
    body["receipts"] = json!(true);
    let (s, b) = create(&env, &body).await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (400, Some("receipts")),
        "{b}"
    );
    body["receipt_id"] = json!("5001");
    body["receipts"] = json!(false);
    let (s, b) = create(&env, &body).await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (400, Some("receipts")),
        "{b}"
    );
    body.as_object_mut().unwrap().remove("receipts");
    let (s, b) = create(&env, &body).await;
    assert_eq!(s, 201, "{b}");
    assert!(b["receipt_url"]
        .as_str()
        .unwrap()
        .contains("/v1/receipts/vivo/"));
    assert_eq!(b["receipts"], true);
}

fn xiaomi_body() -> Value {
    json!({
        "platform": "xiaomi",
        "credentials": {"app_secret": XIAOMI_APP_SECRET, "package_name": XIAOMI_PACKAGE, "region": "global"},
        "vendor_options": {"channel_id": XIAOMI_CHANNEL},
        "receipts": true,
    })
}

#[tokio::test]
async fn a_xiaomi_certificate_is_checked_with_xiaomi_and_masked() {
    let env = TestEnv::new("xiaomi-create").await;
    let (s, b) = create(&env, &xiaomi_body()).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["platform"], "xiaomi");
    assert_eq!(b["name"], format!("xiaomi {XIAOMI_PACKAGE}"));
    assert_eq!(b["credentials"]["package_name"], XIAOMI_PACKAGE);
    assert_eq!(b["credentials"]["region"], "global");
    assert_eq!(b["credentials"]["app_secret"], "****789");
    assert_eq!(b["vendor_options"], json!({"channel_id": XIAOMI_CHANNEL}));
    assert!(b["receipt_url"]
        .as_str()
        .unwrap()
        .contains("/v1/receipts/xiaomi/"));
    assert!(!b.to_string().contains(XIAOMI_APP_SECRET));
    // The check was one authenticated call that reached no device.
    let calls = env.xiaomi.requests_to(xiaomi_sim::PATH);
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].response["code"], 20301,
        "no valid target: {}",
        calls[0].response
    );
    assert!(env.xiaomi.deliveries().is_empty());
    // An edit may omit the secret.
    let mut edit = xiaomi_body();
    edit["credentials"]
        .as_object_mut()
        .unwrap()
        .remove("app_secret");
    let (s, b) = call(&env, "PUT", "/v1/certificates/1", Some(&edit)).await;
    assert_eq!(s, 200, "{b}");
    let stored = env
        .store
        .get_certificate(&env.app.id, offpush::domain::CertificateId::new(1).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.credentials.s("xiaomi_app_secret"),
        Some(XIAOMI_APP_SECRET)
    );
}

#[tokio::test]
async fn xiaomi_refusals_are_422_naming_the_field_and_store_nothing() {
    let env = TestEnv::new("xiaomi-refused").await;
    let cases = [
        (
            "/credentials/app_secret",
            json!("wrong-secret"),
            "credentials.app_secret",
        ),
        (
            "/credentials/package_name",
            json!("com.other.app"),
            "credentials.package_name",
        ),
        (
            "/vendor_options/channel_id",
            json!("not-a-channel"),
            "vendor_options.channel_id",
        ),
    ];
    for (ptr, value, field) in cases {
        let mut body = xiaomi_body();
        *body.pointer_mut(ptr).unwrap() = value;
        let (s, b) = create(&env, &body).await;
        assert_eq!(s, 422, "{ptr}: {b}");
        assert_eq!(b["error"]["code"], "invalid_credentials");
        assert_eq!(b["error"]["field"], field, "{b}");
        assert!(!b.to_string().contains("wrong-secret"));
    }
    assert_eq!(count(&env).await, 0);
}

#[tokio::test]
async fn xiaomi_bodies_are_checked_for_what_xiaomi_cannot_do() {
    let env = TestEnv::new("xiaomi-bad").await;
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut b = xiaomi_body();
    b["push_mode"] = json!("test");
    cases.push((b, "push_mode"));
    let mut b = xiaomi_body();
    b["receipt_id"] = json!("7001");
    cases.push((b, "receipt_id"));
    let mut b = xiaomi_body();
    b["vendor_options"] = json!({"template_id": "t1"});
    cases.push((b, "vendor_options.channel_id"));
    let mut b = xiaomi_body();
    b["credentials"]["region"] = json!("us");
    cases.push((b, "credentials.region"));
    let mut b = xiaomi_body();
    b["credentials"]["app_key"] = json!("k");
    cases.push((b, "credentials.app_key"));
    for (body, field) in cases {
        let (s, b) = create(&env, &body).await;
        assert_eq!(
            (s, b["error"]["field"].as_str()),
            (400, Some(field)),
            "{body}: {b}"
        );
    }
    assert_eq!(count(&env).await, 0);
    assert!(
        env.xiaomi.requests().is_empty(),
        "nothing sent for a refused body"
    );
}

#[tokio::test]
async fn a_carried_receipt_url_too_long_for_xiaomi_is_400_and_stores_nothing() {
    let env = TestEnv::new("xiaomi-long-url").await;
    let host = format!("{}.example.com", "h".repeat(70));
    let mut req = request(
        "POST",
        "/v1/certificates",
        Some(&env.app.admin_token()),
        Some(&xiaomi_body()),
    );
    req.headers_mut()
        .insert("host", host.parse().expect("a valid host header"));
    let (s, b) = read(handle(&env.ctx, req).await);
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (400, Some("receipts")),
        "{b}"
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("over the 128"),
        "{b}"
    );
    assert_eq!(count(&env).await, 0);
    // The same body from a short host is taken.
    let (s, b) = create(&env, &xiaomi_body()).await;
    assert_eq!(s, 201, "{b}");
}

fn oppo_body() -> Value {
    json!({
        "platform": "oppo",
        "credentials": {"app_key": OPPO_APP_KEY, "master_secret": OPPO_MASTER_SECRET},
        "vendor_options": {"channel_id": OPPO_CHANNEL},
        "receipts": true,
    })
}

fn honor_body() -> Value {
    json!({
        "platform": "honor",
        "credentials": {"app_id": HONOR_APP_ID, "client_id": HONOR_CLIENT_ID, "client_secret": HONOR_CLIENT_SECRET},
        "receipt_id": "honor-r1",
    })
}

fn huawei_body() -> Value {
    json!({
        "platform": "huawei",
        "credentials": {"app_id": HUAWEI_APP_ID, "client_id": HUAWEI_APP_ID, "client_secret": HUAWEI_CLIENT_SECRET},
        "vendor_options": {"callback_user": "receipts-user", "callback_secret": "receipts-callback-secret-0123"},
        "receipt_id": "huawei-r1",
    })
}

#[tokio::test]
async fn oppo_honor_and_huawei_certificates_are_checked_with_their_vendors_and_masked() {
    let env = TestEnv::new("new-vendors-create").await;
    for (body, secrets, platform) in [
        (oppo_body(), vec![OPPO_MASTER_SECRET], "oppo"),
        (honor_body(), vec![HONOR_CLIENT_SECRET], "honor"),
        (
            huawei_body(),
            vec![
                HUAWEI_CLIENT_SECRET,
                "receipts-callback-secret-0123",
                "receipts-user",
            ],
            "huawei",
        ),
    ] {
        let (s, b) = create(&env, &body).await;
        assert_eq!(s, 201, "{platform}: {b}");
        assert_eq!(b["platform"], platform);
        assert_eq!(b["receipts"], true, "{b}");
        assert!(
            b["receipt_url"]
                .as_str()
                .unwrap()
                .contains(&format!("/v1/receipts/{platform}/")),
            "{b}"
        );
        for secret in secrets {
            assert!(!b.to_string().contains(secret), "{platform}: shown: {b}");
            let id = b["id"].as_u64().unwrap();
            let (_, read) = call(&env, "GET", &format!("/v1/certificates/{id}"), None).await;
            assert!(!read.to_string().contains(secret), "{platform}: {read}");
        }
    }
    // Each check reached its vendor: OPPO's auth, Honor's and Huawei's tokens.
    assert!(!env.oppo.requests_to(oppo_sim::AUTH_PATH).is_empty());
    assert!(!env.honor.requests().is_empty());
    assert!(!env.huawei.requests_to(huawei_sim::TOKEN_PATH).is_empty());
    assert_eq!(count(&env).await, 3);
}

#[tokio::test]
async fn oppo_honor_and_huawei_bodies_are_checked_for_what_their_vendors_cannot_do() {
    let env = TestEnv::new("new-vendors-bad").await;
    let mut cases: Vec<(Value, &str)> = Vec::new();
    // OPPO has no test push; its receipts are carried, never registered.
    let mut b = oppo_body();
    b["push_mode"] = json!("test");
    cases.push((b, "push_mode"));
    let mut b = oppo_body();
    b["receipt_id"] = json!("7001");
    cases.push((b, "receipt_id"));
    let mut b = oppo_body();
    b["vendor_options"] = json!({"private_template_id": "t1"});
    cases.push((b, "vendor_options.channel_id"));
    let mut b = oppo_body();
    b["credentials"]["region"] = json!("eu");
    cases.push((b, "credentials.region"));
    // Honor and Huawei open https pages only; their receipts are registered.
    for mut b in [honor_body(), huawei_body()] {
        let mut http = b.clone();
        http["click_action"] = json!({"type": "open_url", "url": "http://example.com/chat"});
        cases.push((http, "click_action.url"));
        b.as_object_mut().unwrap().remove("receipt_id");
        b["receipts"] = json!(true);
        cases.push((b, "receipts"));
    }
    // Huawei's receipt callback needs both its user name and its secret.
    let mut b = huawei_body();
    b["vendor_options"] = json!({"callback_user": "receipts-user"});
    cases.push((b, "vendor_options.callback_secret"));
    for (body, field) in cases {
        let (s, b) = create(&env, &body).await;
        assert_eq!(
            (s, b["error"]["field"].as_str()),
            (400, Some(field)),
            "{body}: {b}"
        );
    }
    assert_eq!(count(&env).await, 0);
    assert!(
        env.oppo.requests().is_empty(),
        "nothing sent for a refused body"
    );
    assert!(env.honor.requests().is_empty());
    assert!(env.huawei.requests().is_empty());
}

#[tokio::test]
async fn a_meizu_certificate_is_checked_with_meizu_and_what_meizu_cannot_do_is_refused() {
    let env = TestEnv::new("meizu-create").await;
    let body = json!({
        "platform": "meizu",
        "credentials": {"app_id": MEIZU_APP_ID, "app_secret": MEIZU_APP_SECRET},
        "receipts": true,
    });
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut b = body.clone();
    b["push_mode"] = json!("test");
    cases.push((b, "push_mode"));
    let mut b = body.clone();
    b["receipt_id"] = json!("7001");
    cases.push((b, "receipt_id"));
    let mut b = body.clone();
    b["vendor_options"] = json!({"channel_id": "x"});
    cases.push((b, "vendor_options.channel_id"));
    for (bad, field) in cases {
        let (s, b) = create(&env, &bad).await;
        assert_eq!(
            (s, b["error"]["field"].as_str()),
            (400, Some(field)),
            "{bad}: {b}"
        );
    }
    assert!(
        env.meizu.requests().is_empty(),
        "nothing sent for a refused body"
    );
    // A wrong secret is refused by Meizu's sign check, naming the field.
    let mut wrong = body.clone();
    wrong["credentials"]["app_secret"] = json!("not-the-secret");
    let (s, b) = create(&env, &wrong).await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (422, Some("credentials.app_secret")),
        "{b}"
    );
    assert!(!b.to_string().contains("not-the-secret"));
    assert_eq!(count(&env).await, 0);
    let (s, b) = create(&env, &body).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["platform"], "meizu");
    assert!(b["receipt_url"]
        .as_str()
        .unwrap()
        .contains("/v1/receipts/meizu/"));
    assert!(!b.to_string().contains(MEIZU_APP_SECRET), "{b}");
    assert_eq!(
        env.meizu.requests_to(meizu_sim::PATH).len(),
        2,
        "one check each"
    );
}
