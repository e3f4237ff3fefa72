//! The service-account JWT (§14.2) and the path.

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use harmony_sim::{
    public_key_of, send_path, sign_jwt, JwtAlg, ServiceAccount, Settings, SimApp, SimClock,
    AUDIENCE,
};
use serde_json::{json, Value};

use crate::common::*;

/// The answer to a send with this bearer value.
async fn with_bearer(sim: &harmony_sim::Simulator, bearer: &str) -> (u16, String) {
    let (status, answer) = post(sim, PROJECT, bearer, &message(&["t1"])).await;
    (status, code_of(&answer))
}

fn expect(got: (u16, String), status: u16, code: &str, what: &str) {
    assert_eq!(got, (status, code.to_owned()), "{what}");
}

#[tokio::test]
async fn a_ps256_jwt_of_the_projects_key_is_accepted() {
    let sim = start().await;
    let (status, answer) = send(&sim, &message(&["t1"])).await;
    assert_eq!(status, 200);
    assert_eq!(answer["code"], "80000000");
    assert_eq!(answer["msg"], "Success");
    assert!(answer["requestId"]
        .as_str()
        .unwrap()
        .bytes()
        .all(|b| b.is_ascii_digit()));
    assert_eq!(sim.deliveries().len(), 1);
}

#[tokio::test]
async fn a_missing_or_malformed_bearer_value_is_80200001() {
    let sim = start().await;
    let good = jwt(&sim);
    let (status, text) = raw(
        &sim,
        "POST",
        &send_path(PROJECT),
        &[("push-type", "0"), ("content-type", "application/json")],
        message(&["t1"]).to_string(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(parse(text)["code"], "80200001");
    let parts: Vec<&str> = good.split('.').collect();
    let padded = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE.encode(URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
    );
    for bearer in [
        String::new(),
        "not-a-jwt".to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.x"),
        padded,
    ] {
        expect(with_bearer(&sim, &bearer).await, 401, "80200001", &bearer);
    }
    // The scheme is `Bearer ` exactly.
    let (_, answer) = raw(
        &sim,
        "POST",
        &send_path(PROJECT),
        &[
            ("authorization", &format!("bearer {good}")),
            ("push-type", "0"),
            ("content-type", "application/json"),
        ],
        message(&["t1"]).to_string(),
    )
    .await;
    assert_eq!(parse(answer)["code"], "80200001");
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn rs256_is_refused_unless_configured() {
    let sim = start().await;
    let rs256 = sign_jwt(KEY_A, KEY_ID, JwtAlg::Rs256, &claims(now_s(&sim))).unwrap();
    expect(
        with_bearer(&sim, &rs256).await,
        401,
        "80200001",
        "RS256 off",
    );
    sim.set_settings(Settings {
        accept_rs256: true,
        ..Settings::default()
    })
    .unwrap();
    expect(with_bearer(&sim, &rs256).await, 200, "80000000", "RS256 on");
    // PS256 is still accepted, and an RS256 signature under a PS256 header
    // is not.
    expect(
        with_bearer(&sim, &jwt(&sim)).await,
        200,
        "80000000",
        "PS256",
    );
    let parts: Vec<&str> = rs256.split('.').collect();
    let ps_header =
        URL_SAFE_NO_PAD.encode(json!({"kid":KEY_ID,"typ":"JWT","alg":"PS256"}).to_string());
    let mixed = format!("{ps_header}.{}.{}", parts[1], parts[2]);
    expect(with_bearer(&sim, &mixed).await, 401, "80200001", "mixed");
}

/// A JWT with this header, the claims of now, signed PS256 with key A.
fn with_header(sim: &harmony_sim::Simulator, header: &Value) -> String {
    let jwt = jwt(sim);
    let (_, rest) = jwt.split_once('.').unwrap();
    let claims = rest.split('.').next().unwrap();
    // Re-sign over the new header: build by hand with the kit's signer.
    let input = format!("{}.{claims}", URL_SAFE_NO_PAD.encode(header.to_string()));
    let der = harmony_sim::pem_to_der(KEY_A).unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PSS_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[tokio::test]
async fn the_header_needs_ps256_a_known_kid_and_typ_jwt() {
    let sim = start().await;
    let ok = with_header(&sim, &json!({"kid": KEY_ID, "alg": "PS256"}));
    expect(with_bearer(&sim, &ok).await, 200, "80000000", "no typ");
    for header in [
        json!({"kid": KEY_ID, "typ": "JWT", "alg": "none"}),
        json!({"kid": KEY_ID, "typ": "JWT", "alg": "HS256"}),
        json!({"kid": KEY_ID, "typ": "JWT"}),
        json!({"kid": KEY_ID, "typ": "JWS", "alg": "PS256"}),
        json!({"kid": "unknown", "typ": "JWT", "alg": "PS256"}),
        json!({"typ": "JWT", "alg": "PS256"}),
        json!({"kid": 1, "typ": "JWT", "alg": "PS256"}),
    ] {
        let bearer = with_header(&sim, &header);
        expect(
            with_bearer(&sim, &bearer).await,
            401,
            "80200001",
            &header.to_string(),
        );
    }
}

#[tokio::test]
async fn a_key_of_another_project_or_a_wrong_signature_is_80200001() {
    let sim = start().await;
    let now = now_s(&sim);
    let other = json!({ "iss": OTHER_SUB, "aud": AUDIENCE, "iat": now, "exp": now + 3600 });
    let foreign = sign_jwt(KEY_B, OTHER_KEY_ID, JwtAlg::Ps256, &other).unwrap();
    expect(
        with_bearer(&sim, &foreign).await,
        401,
        "80200001",
        "foreign project",
    );
    // The same JWT is good for its own project.
    let (_, answer) = post(&sim, OTHER_PROJECT, &foreign, &message(&["t1"])).await;
    assert_eq!(answer["code"], "80000000");
    // Key B's signature under key A's id.
    let forged = sign_jwt(KEY_B, KEY_ID, JwtAlg::Ps256, &claims(now)).unwrap();
    expect(with_bearer(&sim, &forged).await, 401, "80200001", "forged");
    // A changed claim breaks the signature.
    let good = jwt(&sim);
    let parts: Vec<&str> = good.split('.').collect();
    let mut changed = claims(now);
    changed["exp"] = json!(now + 3000);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(changed.to_string()),
        parts[2]
    );
    expect(
        with_bearer(&sim, &tampered).await,
        401,
        "80200001",
        "tampered",
    );
    // An unregistered project.
    let (status, answer) = post(&sim, "999", &good, &message(&["t1"])).await;
    assert_eq!((status, code_of(&answer)), (401, "80200001".to_owned()));
}

#[tokio::test]
async fn the_claims_are_checked() {
    let sim = start().await;
    let now = now_s(&sim);
    let base = claims(now);
    let mut cases = Vec::new();
    for (name, value) in [
        ("iss", json!("someone-else")),
        ("iss", json!(1001001)),
        (
            "aud",
            json!("https://oauth-login.cloud.huawei.com/oauth2/v2/token"),
        ),
        ("aud", json!(["https://example.com"])),
        ("iat", json!(now.to_string())),
        ("iat", json!(now as f64 + 0.5)),
        ("exp", json!(null)),
        ("exp", json!(now)),
        ("exp", json!(now - 1)),
    ] {
        cases.push((set(base.clone(), &format!("/{name}"), Some(value)), name));
    }
    cases.push((set(base.clone(), "/iss", None), "no iss"));
    cases.push((set(base.clone(), "/aud", None), "no aud"));
    for (claims, what) in cases {
        expect(
            with_bearer(&sim, &jwt_with(&claims)).await,
            401,
            "80200001",
            &format!("{what}: {claims}"),
        );
    }
    // `aud` as an array holding the audience is accepted.
    let array = set(base, "/aud", Some(json!([AUDIENCE, "x"])));
    expect(
        with_bearer(&sim, &jwt_with(&array)).await,
        200,
        "80000000",
        "aud array",
    );
}

#[tokio::test]
async fn a_lifetime_over_one_day_is_80300036() {
    let sim = start().await;
    let now = now_s(&sim);
    let day = json!({ "iss": SUB, "aud": AUDIENCE, "iat": now, "exp": now + 86_400 });
    expect(
        with_bearer(&sim, &jwt_with(&day)).await,
        200,
        "80000000",
        "one day",
    );
    let over = json!({ "iss": SUB, "aud": AUDIENCE, "iat": now, "exp": now + 86_401 });
    expect(
        with_bearer(&sim, &jwt_with(&over)).await,
        401,
        "80300036",
        "one day and 1 s",
    );
}

#[tokio::test]
async fn a_jwt_expires_by_the_simulators_clock() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    let iat = NOON / 1000;
    let bearer = jwt_with(&json!({ "iss": SUB, "aud": AUDIENCE, "iat": iat, "exp": iat + 3600 }));
    expect(with_bearer(&sim, &bearer).await, 200, "80000000", "fresh");
    sim.set_clock(SimClock::Fixed(NOON + 3_599_999));
    expect(with_bearer(&sim, &bearer).await, 200, "80000000", "last ms");
    sim.set_clock(SimClock::Fixed(NOON + 3_600_000));
    expect(with_bearer(&sim, &bearer).await, 401, "80200005", "at exp");
    let (_, answer) = post(&sim, PROJECT, &bearer, &message(&["t1"])).await;
    assert_eq!(answer["msg"], "Jwt token expired");
}

#[tokio::test]
async fn an_iat_in_the_future_is_refused_beyond_the_leeway() {
    let sim = start().await;
    sim.set_clock(SimClock::Fixed(NOON));
    let now = NOON / 1000;
    let at =
        |iat: i64| jwt_with(&json!({ "iss": SUB, "aud": AUDIENCE, "iat": iat, "exp": iat + 3600 }));
    expect(
        with_bearer(&sim, &at(now + 300)).await,
        200,
        "80000000",
        "300 s ahead",
    );
    expect(
        with_bearer(&sim, &at(now + 301)).await,
        401,
        "80200001",
        "301 s ahead",
    );
}

#[tokio::test]
async fn old_versions_and_other_paths_are_refused() {
    let sim = start().await;
    let bearer = format!("Bearer {}", jwt(&sim));
    let headers = [
        ("authorization", bearer.as_str()),
        ("push-type", "0"),
        ("content-type", "application/json"),
    ];
    let body = message(&["t1"]).to_string();
    for path in [
        format!("/v1/{PROJECT}/messages:send"),
        format!("/v2/{PROJECT}/messages:send"),
    ] {
        let (status, text) = raw(&sim, "POST", &path, &headers, body.clone()).await;
        assert_eq!(
            (status, parse(text)["code"].clone()),
            (401, json!("80200001")),
            "{path}"
        );
    }
    for path in [
        "/v3/messages:send".to_owned(),
        format!("/v3/{PROJECT}/messages:revoke"),
        format!("/v3/{PROJECT}/a/messages:send"),
        "/".to_owned(),
    ] {
        let (status, _) = raw(&sim, "POST", &path, &headers, body.clone()).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = raw(&sim, "GET", &send_path(PROJECT), &headers, String::new()).await;
    assert_eq!(status, 405);
    assert!(sim.deliveries().is_empty());
}

#[tokio::test]
async fn an_account_known_by_its_public_key_verifies_and_the_simulator_mints() {
    let public = STANDARD.encode(public_key_of(KEY_A).unwrap());
    let sim = start_with(SimApp::new(
        PROJECT,
        ServiceAccount::with_public_key(KEY_ID, SUB, &public),
    ))
    .await;
    expect(
        with_bearer(&sim, &jwt(&sim)).await,
        200,
        "80000000",
        "public key",
    );
    assert!(
        sim.jwt(PROJECT, 3600).is_err(),
        "no private key to mint with"
    );
    let minted = sim.jwt(OTHER_PROJECT, 3600).unwrap();
    let (_, answer) = post(&sim, OTHER_PROJECT, &minted, &message(&["t1"])).await;
    assert_eq!(answer["code"], "80000000");
    let long = sim.jwt(OTHER_PROJECT, 86_401).unwrap();
    let (_, answer) = post(&sim, OTHER_PROJECT, &long, &message(&["t1"])).await;
    assert_eq!(answer["code"], "80300036");
}

#[tokio::test]
async fn a_key_file_reads_into_an_account() {
    let file = json!({
        "project_id": PROJECT,
        "key_id": KEY_ID,
        "private_key": KEY_A,
        "sub_account": SUB,
        "auth_uri": "https://oauth-login.cloud.huawei.com/oauth2/v3/authorize",
        "token_uri": AUDIENCE,
    });
    let (project, account) = ServiceAccount::from_key_file(&file.to_string()).unwrap();
    assert_eq!(project, PROJECT);
    assert_eq!(account, ServiceAccount::new(KEY_ID, SUB, KEY_A));
    assert!(ServiceAccount::from_key_file("{}").is_err());
    assert!(
        !format!("{account:?}").contains("PRIVATE"),
        "the key is redacted"
    );
}
