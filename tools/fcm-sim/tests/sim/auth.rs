//! The token endpoint (the JWT-bearer grant) and the send path's auth.

use fcm_sim::{ScopeCheck, Settings, SimApp, SimClock, FCM_SCOPE, JWT_BEARER};
use serde_json::{json, Value};

use crate::common::*;

const SIGNATURE: (&str, &str) = ("invalid_grant", "Invalid JWT Signature.");

#[tokio::test]
async fn a_signed_assertion_gets_an_access_token_that_sends() {
    let sim = start().await;
    let (status, answer) = grant(&sim, &sign(KEY_PEM, &header(), &claims(&sim))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["expires_in"], 3599);
    assert_eq!(answer["token_type"], "Bearer");
    let access = answer["access_token"].as_str().unwrap();
    assert!(access.starts_with("ya29."), "{access}");
    assert_eq!(answer.as_object().unwrap().len(), 3, "{answer}");
    let (status, sent) = send_as(&sim, access, PROJECT, &message(TOKEN)).await;
    assert_eq!(status, 200, "{sent}");
    let second = access_token(&sim).await;
    assert_ne!(second, access, "every exchange issues a new token");
    assert_eq!(send_as(&sim, access, PROJECT, &message(TOKEN)).await.0, 200);
    assert_eq!(sim.deliveries()[0].client_email, EMAIL);
}

#[tokio::test]
async fn access_tokens_expire_by_the_simulators_clock() {
    let sim = start().await;
    let access = access_token(&sim).await;
    sim.set_clock(SimClock::Fixed(NOW_MS + 3_599_000 - 1));
    assert_eq!(
        send_as(&sim, &access, PROJECT, &message(TOKEN)).await.0,
        200
    );
    sim.set_clock(SimClock::Fixed(NOW_MS + 3_599_000));
    let answer = send_as(&sim, &access, PROJECT, &message(TOKEN)).await;
    let body = assert_error(&answer, 401, "UNAUTHENTICATED");
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_EXPIRED"
    );
    assert_eq!(fcm_code(&body), None);

    // A shorter lifetime is a setting, and `expires_in` follows it.
    sim.set_settings(Settings {
        token_ttl_secs: 10,
        ..Settings::default()
    });
    sim.set_clock(SimClock::Fixed(NOW_MS));
    let (_, answer) = grant(&sim, &sign(KEY_PEM, &header(), &claims(&sim))).await;
    assert_eq!(answer["expires_in"], 10);
    let access = answer["access_token"].as_str().unwrap();
    sim.set_clock(SimClock::Fixed(NOW_MS + 10_000));
    assert_eq!(send_as(&sim, access, PROJECT, &message(TOKEN)).await.0, 401);
}

#[tokio::test]
async fn the_request_itself_is_checked_first() {
    let sim = start().await;
    let assertion = sign(KEY_PEM, &header(), &claims(&sim));
    let (status, _) = raw(&sim, "GET", "/token", &[], String::new()).await;
    assert_eq!(status, 405);

    let body = sim_kit::form::encode([
        ("grant_type", JWT_BEARER),
        ("assertion", assertion.as_str()),
    ]);
    let (status, text) = raw(
        &sim,
        "POST",
        "/token",
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("\"invalid_request\""), "{text}");

    for (form, error) in [
        (
            vec![
                ("grant_type", JWT_BEARER),
                ("assertion", assertion.as_str()),
                ("assertion", "x"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("assertion", assertion.as_str()),
            ],
            "unsupported_grant_type",
        ),
        (
            vec![("assertion", assertion.as_str())],
            "unsupported_grant_type",
        ),
        (vec![("grant_type", JWT_BEARER)], "invalid_request"),
        (
            vec![("grant_type", JWT_BEARER), ("assertion", "")],
            "invalid_request",
        ),
        (
            vec![("grant_type", JWT_BEARER), ("assertion", "a.b")],
            "invalid_grant",
        ),
        (
            vec![("grant_type", JWT_BEARER), ("assertion", "a.b.c")],
            "invalid_grant",
        ),
    ] {
        let (status, answer) = token_form_at(&sim, "/token", &form).await;
        assert_eq!(status, 400, "{form:?}");
        assert_eq!(answer["error"], error, "{form:?}: {answer}");
        assert!(answer["error_description"].is_string());
    }
    let (_, answer) = token_form_at(&sim, "/token", &[("grant_type", "password")]).await;
    assert_eq!(answer["error_description"], "Invalid grant_type: password");
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn the_signature_key_and_algorithm_are_checked() {
    let sim = start().await;
    let claims = claims(&sim);
    let assert_signature = |got: (String, String)| {
        assert_eq!((got.0.as_str(), got.1.as_str()), SIGNATURE);
    };
    // Signed by a key the account does not have.
    assert_signature(refused(&sim, &sign(OTHER_KEY_PEM, &header(), &claims)).await);
    // Claims changed after signing.
    let good = sign(KEY_PEM, &header(), &claims);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = b64(with(claims.clone(), "exp", json!(NOW + 3000))
        .to_string()
        .as_bytes());
    assert_signature(refused(&sim, &parts.join(".")).await);
    // Another algorithm, another kid, no kid.
    assert_signature(
        refused(
            &sim,
            &sign(KEY_PEM, &with(header(), "alg", json!("HS256")), &claims),
        )
        .await,
    );
    assert_signature(
        refused(
            &sim,
            &sign(KEY_PEM, &with(header(), "kid", json!("other")), &claims),
        )
        .await,
    );
    assert_signature(
        refused(
            &sim,
            &sign(KEY_PEM, &with(header(), "kid", Value::Null), &claims),
        )
        .await,
    );
    // The other account's kid with this account's claims.
    assert_signature(
        refused(
            &sim,
            &sign(KEY_PEM, &with(header(), "kid", json!(OTHER_KID)), &claims),
        )
        .await,
    );

    // Without require_kid, a missing kid passes; a wrong one still fails.
    sim.set_settings(Settings {
        require_kid: false,
        ..Settings::default()
    });
    let (status, _) = grant(
        &sim,
        &sign(KEY_PEM, &with(header(), "kid", Value::Null), &claims),
    )
    .await;
    assert_eq!(status, 200);
    assert_signature(
        refused(
            &sim,
            &sign(KEY_PEM, &with(header(), "kid", json!("other")), &claims),
        )
        .await,
    );
}

#[tokio::test]
async fn the_issuer_and_audience_are_checked() {
    let sim = start().await;
    let claims = claims(&sim);
    let (error, description) = refused(
        &sim,
        &sign(
            KEY_PEM,
            &header(),
            &with(
                claims.clone(),
                "iss",
                json!("nobody@x.iam.gserviceaccount.com"),
            ),
        ),
    )
    .await;
    assert_eq!(
        (error.as_str(), description.as_str()),
        ("invalid_grant", "Invalid grant: account not found")
    );
    for aud in [
        json!("https://oauth2.googleapis.com/token"),
        json!(format!("{}/other", sim.base_url())),
        Value::Null,
    ] {
        let (error, description) = refused(
            &sim,
            &sign(
                KEY_PEM,
                &header(),
                &with(claims.clone(), "aud", aud.clone()),
            ),
        )
        .await;
        assert_eq!(error, "invalid_grant", "{aud}");
        assert_eq!(description, "Invalid JWT: Failed audience check.", "{aud}");
    }
    // The other account signs with its own key and kid.
    let other = json!({
        "iss": OTHER_EMAIL, "scope": FCM_SCOPE, "aud": sim.token_url(), "iat": NOW, "exp": NOW + 60,
    });
    let (status, answer) = grant(
        &sim,
        &sign(
            OTHER_KEY_PEM,
            &json!({"alg": "RS256", "kid": OTHER_KID}),
            &other,
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn a_token_uri_is_the_audience_and_a_path_of_the_token_endpoint() {
    let sim = start().await;
    let uri = "https://oauth2.googleapis.com/oauth2/v4/token";
    let service_account = json!({
        "type": "service_account",
        "project_id": "sa-project",
        "private_key_id": "sa-kid",
        "private_key": KEY_PEM,
        "client_email": "sa@sa-project.iam.gserviceaccount.com",
        "client_id": "1234",
        "token_uri": uri,
    });
    let app = SimApp::from_service_account_json(&service_account.to_string()).unwrap();
    assert_eq!(app.token_uri.as_deref(), Some(uri));
    sim.add_app(app).unwrap();
    let claims = json!({
        "iss": "sa@sa-project.iam.gserviceaccount.com", "scope": FCM_SCOPE, "aud": uri,
        "iat": NOW, "exp": NOW + 3600,
    });
    let assertion = sign(KEY_PEM, &json!({"alg": "RS256", "kid": "sa-kid"}), &claims);
    let form = [
        ("grant_type", JWT_BEARER),
        ("assertion", assertion.as_str()),
    ];
    for path in ["/oauth2/v4/token", "/token"] {
        let (status, answer) = token_form_at(&sim, path, &form).await;
        assert_eq!(status, 200, "{path}: {answer}");
    }
    let (status, _) = token_form_at(&sim, "/oauth2/v3/token", &form).await;
    assert_eq!(status, 404, "not a token path");
    // The posted URL is no longer the audience for this account.
    let posted = with(claims, "aud", json!(sim.token_url()));
    let (_, description) = refused(
        &sim,
        &sign(KEY_PEM, &json!({"alg": "RS256", "kid": "sa-kid"}), &posted),
    )
    .await;
    assert_eq!(description, "Invalid JWT: Failed audience check.");
    assert!(SimApp::from_service_account_json("{\"project_id\":\"p\"}").is_err());
    assert!(sim
        .add_app(SimApp::new("p", "e", "k", "not a key"))
        .is_err());
}

#[tokio::test]
async fn public_keys_in_both_forms_verify() {
    let sim = start().await;
    for (n, pem) in [PUBLIC_PEM, RSA_PUBLIC_PEM].into_iter().enumerate() {
        let email = format!("pub{n}@offpush-test.iam.gserviceaccount.com");
        sim.add_app(SimApp::new(PROJECT, &email, "pub-kid", pem))
            .unwrap();
        let claims = with(claims(&sim), "iss", json!(email));
        let (status, answer) = grant(
            &sim,
            &sign(KEY_PEM, &with(header(), "kid", json!("pub-kid")), &claims),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let (error, _) = refused(
            &sim,
            &sign(
                OTHER_KEY_PEM,
                &with(header(), "kid", json!("pub-kid")),
                &claims,
            ),
        )
        .await;
        assert_eq!(error, "invalid_grant");
    }
}

#[tokio::test]
async fn iat_and_exp_are_checked_at_their_limits() {
    let sim = start().await;
    let timed = |iat: Value, exp: Value| {
        let claims = with(with(claims(&sim), "iat", iat), "exp", exp);
        sign(KEY_PEM, &header(), &claims)
    };
    let accepted = [
        (json!(NOW), json!(NOW + 3600)),
        (json!(NOW - 3599), json!(NOW + 1)),
        (json!(NOW + 300), json!(NOW + 3900)),
        (json!(NOW), json!(NOW + 1)),
        (json!(NOW as f64), json!((NOW + 60) as f64)),
    ];
    for (iat, exp) in accepted {
        let (status, answer) = grant(&sim, &timed(iat.clone(), exp.clone())).await;
        assert_eq!(status, 200, "iat {iat} exp {exp}: {answer}");
    }
    let refused_times = [
        (json!(NOW), json!(NOW + 3601)),
        (json!(NOW - 3600), json!(NOW)),
        (json!(NOW + 301), json!(NOW + 3901)),
        (json!(NOW), json!(NOW)),
        (json!(NOW + 10), json!(NOW + 5)),
        (json!(NOW.to_string()), json!(NOW + 60)),
        (json!(NOW), Value::Null),
        (Value::Null, json!(NOW + 60)),
        (json!(NOW as f64 + 0.5), json!(NOW + 60)),
    ];
    for (iat, exp) in refused_times {
        let (error, description) = refused(&sim, &timed(iat.clone(), exp.clone())).await;
        assert_eq!(error, "invalid_grant", "iat {iat} exp {exp}");
        assert!(
            description.starts_with("Invalid JWT: Token must be a short-lived token (60 minutes)"),
            "{description}"
        );
    }
    // The skew is a setting.
    sim.set_settings(Settings {
        clock_skew_secs: 0,
        ..Settings::default()
    });
    assert_eq!(
        grant(&sim, &timed(json!(NOW + 1), json!(NOW + 60))).await.0,
        400
    );
    assert_eq!(
        grant(&sim, &timed(json!(NOW), json!(NOW + 60))).await.0,
        200
    );
}

#[tokio::test]
async fn the_scope_must_include_firebase_messaging() {
    let sim = start().await;
    let scoped = |scope: Value| sign(KEY_PEM, &header(), &with(claims(&sim), "scope", scope));
    for scope in [
        Value::Null,
        json!(""),
        json!("https://www.googleapis.com/auth/cloud-platform"),
    ] {
        let (error, description) = refused(&sim, &scoped(scope.clone())).await;
        assert_eq!(error, "invalid_scope", "{scope}");
        assert_eq!(
            description,
            "Invalid OAuth scope or ID token audience provided."
        );
    }
    let both = format!("https://www.googleapis.com/auth/cloud-platform {FCM_SCOPE}");
    assert_eq!(grant(&sim, &scoped(json!(both))).await.0, 200);

    // The other reading: the token is issued, the send is refused.
    sim.set_settings(Settings {
        scope_check: ScopeCheck::Send,
        ..Settings::default()
    });
    let (status, answer) = grant(
        &sim,
        &scoped(json!("https://www.googleapis.com/auth/cloud-platform")),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let access = answer["access_token"].as_str().unwrap();
    let sent = send_as(&sim, access, PROJECT, &message(TOKEN)).await;
    let body = assert_error(&sent, 403, "PERMISSION_DENIED");
    assert_eq!(
        body["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    );
    assert_eq!(refused(&sim, &scoped(Value::Null)).await.0, "invalid_scope");
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn the_send_path_needs_a_bearer_token_of_its_project() {
    let sim = start().await;
    let path = fcm_sim::send_path(PROJECT);
    let body = message(TOKEN).to_string();
    let json = ("content-type", "application/json");
    let (status, text) = raw(&sim, "POST", &path, &[json], body.clone()).await;
    let missing = assert_error(
        &(status, serde_json::from_str(&text).unwrap()),
        401,
        "UNAUTHENTICATED",
    );
    assert_eq!(
        missing["error"]["details"][0]["reason"],
        "CREDENTIALS_MISSING"
    );
    let access = sim.issue_access_token(EMAIL).unwrap();
    for auth in [
        format!("Basic {access}"),
        format!("Bearer{access}"),
        "Bearer ".to_owned(),
        "Bearer ya29.unknown".to_owned(),
    ] {
        let (status, text) = raw(
            &sim,
            "POST",
            &path,
            &[json, ("authorization", &auth)],
            body.clone(),
        )
        .await;
        let answer = assert_error(
            &(status, serde_json::from_str(&text).unwrap()),
            401,
            "UNAUTHENTICATED",
        );
        assert!(answer["error"].get("details").is_none(), "{auth}: {answer}");
    }
    let lower = format!("bearer {access}");
    let (status, _) = raw(
        &sim,
        "POST",
        &path,
        &[json, ("authorization", &lower)],
        body.clone(),
    )
    .await;
    assert_eq!(status, 200, "the scheme is read in any case");

    for project in [OTHER_PROJECT, "unknown-project"] {
        let answer = send_as(&sim, &access, project, &message(TOKEN)).await;
        let denied = assert_error(&answer, 403, "PERMISSION_DENIED");
        assert!(
            denied["error"]["message"]
                .as_str()
                .unwrap()
                .contains(project),
            "{denied}"
        );
        assert_eq!(
            denied["error"]["details"][0]["reason"],
            "IAM_PERMISSION_DENIED"
        );
    }
    let other = sim.issue_access_token(OTHER_EMAIL).unwrap();
    assert_eq!(
        send_as(&sim, &other, OTHER_PROJECT, &message(TOKEN))
            .await
            .0,
        200
    );
    assert!(sim.issue_access_token("nobody@x").is_none());
    let (status, _) = raw(&sim, "GET", &path, &[], String::new()).await;
    assert_eq!(status, 405);
    let (status, _) = raw(
        &sim,
        "POST",
        "/v1/projects/p/messages:batchSend",
        &[],
        String::new(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(sim.deliveries().len(), 2);
}
