//! Helpers shared by the integration tests: they speak HTTP to the simulator
//! the way an FCM client would, signing assertions with the test keys in
//! `tests/fixtures/` (test keys made with `openssl genpkey` for these tests
//! only; they sign nothing real).

#![allow(dead_code)]

use base64::Engine;
use fcm_sim::{SimApp, SimClock, SimConfig, Simulator, FCM_SCOPE, JWT_BEARER};
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::{json, Value};

/// The test service account's private key (a test key).
pub const KEY_PEM: &str = include_str!("../fixtures/test-key.pem");
/// Its public key, SPKI and PKCS#1.
pub const PUBLIC_PEM: &str = include_str!("../fixtures/test-key.pub.pem");
pub const RSA_PUBLIC_PEM: &str = include_str!("../fixtures/test-key.rsa-pub.pem");
/// A second test key, the other app's.
pub const OTHER_KEY_PEM: &str = include_str!("../fixtures/other-test-key.pem");

pub const PROJECT: &str = "offpush-test";
pub const EMAIL: &str = "fcm-sender@offpush-test.iam.gserviceaccount.com";
pub const KID: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
pub const OTHER_PROJECT: &str = "other-project";
pub const OTHER_EMAIL: &str = "sender@other-project.iam.gserviceaccount.com";
pub const OTHER_KID: &str = "aa11bb22";

/// The simulator's clock in most tests (2027-01-15).
pub const NOW_MS: i64 = 1_800_000_000_000;
pub const NOW: i64 = NOW_MS / 1000;

/// A registration token as FCM issues them (shape only).
pub const TOKEN: &str = "dGVzdC10b2tlbi1h:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";

pub fn app() -> SimApp {
    SimApp::new(PROJECT, EMAIL, KID, KEY_PEM)
}

pub fn other_app() -> SimApp {
    SimApp::new(OTHER_PROJECT, OTHER_EMAIL, OTHER_KID, OTHER_KEY_PEM)
}

/// Both apps, the clock fixed at [`NOW_MS`].
pub async fn start() -> Simulator {
    let sim = Simulator::start(SimConfig {
        apps: vec![app(), other_app()],
    })
    .await
    .expect("simulator starts");
    sim.set_clock(SimClock::Fixed(NOW_MS));
    sim
}

/// The DER of a PEM block (text before it skipped).
pub fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An RS256 JWT of `header` and `claims`, signed with `key_pem`.
pub fn sign(key_pem: &str, header: &Value, claims: &Value) -> String {
    let pair = RsaKeyPair::from_pkcs8(&pem_der(key_pem)).unwrap();
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{signed}.{}", b64(&signature))
}

pub fn header() -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": KID})
}

/// The claims a client sends at [`NOW`].
pub fn claims(sim: &Simulator) -> Value {
    json!({
        "iss": EMAIL,
        "scope": FCM_SCOPE,
        "aud": sim.token_url(),
        "iat": NOW,
        "exp": NOW + 3600,
    })
}

/// `claims` with `name` set to `value` (`null` removes it).
pub fn with(mut value: Value, name: &str, new: Value) -> Value {
    let object = value.as_object_mut().unwrap();
    if new.is_null() {
        object.remove(name);
    } else {
        object.insert(name.to_owned(), new);
    }
    value
}

/// A raw call: method, path, headers, body; the status and the body text.
pub async fn raw(
    sim: &Simulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, String) {
    sim_kit::testing::raw_call(&sim.base_url(), method, path, headers, body).await
}

fn json_or_text(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// POST of a form to the token endpoint's `path`.
pub async fn token_form_at(sim: &Simulator, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body = sim_kit::form::encode(form.iter().copied());
    let (status, text) = raw(
        sim,
        "POST",
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        body,
    )
    .await;
    (status, json_or_text(text))
}

/// The JWT-bearer grant of `assertion` at `/token`.
pub async fn grant(sim: &Simulator, assertion: &str) -> (u16, Value) {
    token_form_at(
        sim,
        "/token",
        &[("grant_type", JWT_BEARER), ("assertion", assertion)],
    )
    .await
}

/// The OAuth error of a refused grant: (error, error_description).
pub async fn refused(sim: &Simulator, assertion: &str) -> (String, String) {
    let (status, answer) = grant(sim, assertion).await;
    assert_eq!(status, 400, "{answer}");
    (
        answer["error"].as_str().unwrap().to_owned(),
        answer["error_description"].as_str().unwrap().to_owned(),
    )
}

/// An access token for the test app, through the token endpoint.
pub async fn access_token(sim: &Simulator) -> String {
    let (status, answer) = grant(sim, &sign(KEY_PEM, &header(), &claims(sim))).await;
    assert_eq!(status, 200, "{answer}");
    answer["access_token"].as_str().unwrap().to_owned()
}

/// POST of `body` to `project`'s send path with `Bearer <access>`.
pub async fn send_as(sim: &Simulator, access: &str, project: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {access}");
    let (status, text) = raw(
        sim,
        "POST",
        &fcm_sim::send_path(project),
        &[
            ("authorization", &auth),
            ("content-type", "application/json; charset=UTF-8"),
        ],
        body.to_string(),
    )
    .await;
    (status, json_or_text(text))
}

/// A fresh access token, then [`send_as`] to [`PROJECT`].
pub async fn send(sim: &Simulator, body: &Value) -> (u16, Value) {
    let access = sim.issue_access_token(EMAIL).unwrap();
    send_as(sim, &access, PROJECT, body).await
}

/// A notification message to `token` that FCM accepts.
pub fn message(token: &str) -> Value {
    json!({
        "message": {
            "token": token,
            "notification": {"title": "Alice", "body": "Hi, are you free tonight?"},
            "data": {"conv": "c2c_alice", "ext": "{\"k\":1}"},
            "android": {
                "priority": "HIGH",
                "ttl": "86400s",
                "collapse_key": "c2c_alice",
                "notification": {
                    "channel_id": "im",
                    "click_action": "OPEN_CHAT",
                    "tag": "c2c_alice",
                },
            },
            "apns": {"headers": {"apns-priority": "10"}, "payload": {"aps": {"sound": "default"}}},
        }
    })
}

/// `body` with the JSON pointer `pointer` (into an object) set to `value`
/// (`null` removes the field).
pub fn set(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    let object = body
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{parent}"))
        .as_object_mut()
        .unwrap();
    if value.is_null() {
        object.remove(name);
    } else {
        object.insert(name.to_owned(), value);
    }
    body
}

/// Asserts Google's error shape with this code and status; the body.
pub fn assert_error(answer: &(u16, Value), code: u16, status: &str) -> Value {
    let (http, body) = answer;
    assert_eq!(*http, code, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["status"], status, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body.clone()
}

/// The FcmError `errorCode` of an answer, if any.
pub fn fcm_code(body: &Value) -> Option<String> {
    body["error"]["details"]
        .as_array()?
        .iter()
        .find(|d| d["@type"] == fcm_sim::FCM_ERROR_TYPE)
        .map(|d| d["errorCode"].as_str().unwrap().to_owned())
}

/// The field violations' fields of an answer.
pub fn violation_fields(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["@type"] == fcm_sim::BAD_REQUEST_TYPE)
        .flat_map(|d| d["fieldViolations"].as_array().unwrap().clone())
        .map(|v| v["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}
