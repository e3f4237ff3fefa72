//! Helpers shared by the integration tests: they generate P-256 keys, sign
//! provider tokens and speak HTTP/2 to the simulator as an APNs client would.

#![allow(dead_code)]

use std::sync::OnceLock;

use apns_sim::{SimApp, SimConfig, SimKey, Simulator};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

pub const KID: &str = "KEY1234567";
pub const TEAM: &str = "TEAM123456";
pub const BUNDLE: &str = "com.example.im";
/// A second key of the same team.
pub const KID2: &str = "KEY2222222";
pub const OTHER_KID: &str = "KEY7654321";
pub const OTHER_TEAM: &str = "TEAM654321";
pub const OTHER_BUNDLE: &str = "com.example.other";

/// A fresh P-256 key, PKCS#8 DER.
pub fn generate_pkcs8() -> Vec<u8> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .unwrap()
        .as_ref()
        .to_vec()
}

/// PKCS#8 DER as a `.p8` file's text.
pub fn pem(der: &[u8]) -> String {
    let text = STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

fn cached(cell: &'static OnceLock<Vec<u8>>) -> &'static [u8] {
    cell.get_or_init(generate_pkcs8)
}

/// The keys of the tests: [`KID`], [`KID2`], [`OTHER_KID`].
pub fn key() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    cached(&KEY)
}

pub fn key2() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    cached(&KEY)
}

pub fn other_key() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    cached(&KEY)
}

/// Signs `header.claims` (JSON values) with `der`: a JWT.
pub fn sign(header: &Value, claims: &Value, der: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new())
            .unwrap();
    let sig = pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// A provider token of `kid` for `team` issued at `iat` (seconds).
pub fn jwt_of(kid: &str, team: &str, iat: i64, der: &[u8]) -> String {
    sign(
        &json!({"alg": "ES256", "kid": kid}),
        &json!({"iss": team, "iat": iat}),
        der,
    )
}

/// The tests' provider token issued at `iat`.
pub fn jwt(iat: i64) -> String {
    jwt_of(KID, TEAM, iat, key())
}

pub fn config() -> SimConfig {
    SimConfig {
        keys: vec![
            SimKey::new(KID, TEAM, pem(key())),
            SimKey::new(KID2, TEAM, pem(key2())),
            SimKey::new(OTHER_KID, OTHER_TEAM, pem(other_key())),
        ],
        apps: vec![
            SimApp::new(TEAM, BUNDLE),
            SimApp::new(OTHER_TEAM, OTHER_BUNDLE),
        ],
        settings: Default::default(),
    }
}

pub async fn start() -> Simulator {
    Simulator::start(config()).await.expect("simulator starts")
}

/// A device token: 32 bytes of `n`, as 64 hex digits.
pub fn token(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

pub fn path(token: &str) -> String {
    format!("/3/device/{token}")
}

/// An HTTP/2 (prior knowledge) client: one connection.
pub fn h2() -> reqwest::Client {
    apns_sim::http_client_builder()
        .http2_prior_knowledge()
        .no_proxy()
        .build()
        .unwrap()
}

/// An HTTP/1.1 client.
pub fn h1() -> reqwest::Client {
    apns_sim::http_client_builder()
        .http1_only()
        .no_proxy()
        .build()
        .unwrap()
}

/// A simulator, one HTTP/2 connection to it and one provider token.
pub struct Ctx {
    pub sim: Simulator,
    pub client: reqwest::Client,
    pub jwt: String,
}

pub async fn ctx() -> Ctx {
    let sim = start().await;
    let jwt = jwt(sim.now_ms() / 1000);
    Ctx {
        sim,
        client: h2(),
        jwt,
    }
}

/// A push request: headers (in order, repeats allowed) and a body.
#[derive(Clone, Debug)]
pub struct Push {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Push {
    pub fn with(mut self, name: &str, value: &str) -> Push {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a header, keeping any of the same name.
    pub fn also(mut self, name: &str, value: &str) -> Push {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> Push {
        self.headers.retain(|(n, _)| n != name);
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Push {
        self.body = body.into();
        self
    }

    pub fn json(self, body: Value) -> Push {
        self.body(body.to_string())
    }

    pub fn to(mut self, token: &str) -> Push {
        self.path = path(token);
        self
    }

    pub fn method(mut self, method: &str) -> Push {
        self.method = method.to_owned();
        self
    }

    pub fn path(mut self, path: &str) -> Push {
        self.path = path.to_owned();
        self
    }
}

/// The alert payload the tests send.
pub fn alert_payload() -> Value {
    json!({
        "aps": {
            "alert": {"title": "Alice", "body": "Hi, are you free tonight?"},
            "sound": "default",
            "badge": 3,
            "thread-id": "c2c_alice",
            "mutable-content": 1
        },
        "conv": "c2c_alice"
    })
}

/// An answer: status, the `apns-id` header, the body (JSON, else text),
/// the HTTP version.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub apns_id: Option<String>,
    pub body: Value,
    pub text: String,
    pub version: reqwest::Version,
    pub content_type: Option<String>,
}

impl Answer {
    pub fn reason(&self) -> &str {
        self.body["reason"].as_str().unwrap_or("")
    }
}

impl Ctx {
    /// An accepted alert to [`token`]`(1)` with the context's token.
    pub fn push(&self) -> Push {
        Push {
            method: "POST".to_owned(),
            path: path(&token(1)),
            headers: vec![
                ("authorization".to_owned(), format!("bearer {}", self.jwt)),
                ("apns-topic".to_owned(), BUNDLE.to_owned()),
                ("apns-push-type".to_owned(), "alert".to_owned()),
                ("apns-priority".to_owned(), "10".to_owned()),
                ("apns-expiration".to_owned(), "0".to_owned()),
                ("apns-collapse-id".to_owned(), "c2c_alice".to_owned()),
            ],
            body: alert_payload().to_string(),
        }
    }

    pub async fn send(&self, push: &Push) -> Answer {
        send_with(&self.client, &self.sim.base_url(), push).await
    }

    /// The status and reason of `push`; a refusal must be `{"reason":..}`
    /// alone (with `timestamp` for 410), and an `apns-id` is always answered.
    pub async fn outcome(&self, push: &Push) -> (u16, String) {
        let answer = self.send(push).await;
        assert!(answer.apns_id.is_some(), "{answer:?}");
        if answer.status == 200 {
            assert_eq!(answer.text, "", "{answer:?}");
        } else {
            let object = answer.body.as_object().expect("a JSON object");
            let keys: Vec<&str> = object.keys().map(String::as_str).collect();
            let expected: &[&str] = if answer.status == 410 {
                &["reason", "timestamp"]
            } else {
                &["reason"]
            };
            assert_eq!(keys, expected, "{answer:?}");
            assert_eq!(
                apns_sim::reason_status(answer.reason()),
                Some(answer.status),
                "{answer:?}"
            );
        }
        (answer.status, answer.reason().to_owned())
    }

    /// The reason of a refused `push` (its status checked against the table).
    pub async fn reason(&self, push: &Push) -> String {
        let (status, reason) = self.outcome(push).await;
        assert_ne!(status, 200, "accepted");
        reason
    }

    /// `push` must be accepted.
    pub async fn accepted(&self, push: &Push) {
        let (status, reason) = self.outcome(push).await;
        assert_eq!((status, reason.as_str()), (200, ""));
    }
}

pub async fn send_with(client: &reqwest::Client, base: &str, push: &Push) -> Answer {
    let method = reqwest::Method::from_bytes(push.method.as_bytes()).unwrap();
    let mut request = client
        .request(method, format!("{base}{}", push.path))
        .body(push.body.clone());
    for (name, value) in &push.headers {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let version = response.version();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let apns_id = header("apns-id");
    let content_type = header("content-type");
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    Answer {
        status,
        apns_id,
        body,
        text,
        version,
        content_type,
    }
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}
