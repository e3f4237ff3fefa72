//! The checks behind offpush's fuzz targets. Each entry point takes the
//! fuzzer's bytes and panics (a finding) when a parser panics or breaks one
//! of its properties:
//!
//! - [`jwt`]: `auth::{bearer, peek_issuer, verify}` on arbitrary strings,
//!   mutated valid tokens, and correctly signed tokens of arbitrary claims:
//!   an error, or exactly the claims the token carries; never a forgery.
//! - [`body_bytes`] / [`body_structured`]: `parse_body` and every body
//!   parser (push; certificate create and edit: the shared fields, then
//!   vivo's credentials with and without a stored set; token report) on
//!   arbitrary bytes and on generated JSON near the real shapes: Ok with
//!   the documented limits kept, or `invalid_argument` naming a field.
//! - [`query_path`]: the query string and path segment parsers.
//! - [`vivo_reply`]: the vivo answer parser (HTTP status and body) and the
//!   result-code table (`offpush_vivo`), for arbitrary answers.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use offpush::auth::{self, Claims, Role, CLOCK_SKEW_SECS};
use offpush::domain::binding::Report;
use offpush::domain::certificate::{
    PushMode, MAX_CREDENTIAL_LEN, MAX_NAME_LEN, MAX_RECEIPT_ID_LEN,
};
use offpush::domain::ids::MAX_CERTIFICATE_ID;
use offpush::domain::input::{parse_body, Obj, MAX_BODY_BYTES};
use offpush::domain::push;
use offpush::domain::{
    AppId, Category, CertificateId, CertificateInput, ClickAction, DeviceId, Platform, PushRequest,
    PushToken, Secret, UserId, VendorData,
};
use offpush::error::ServiceError;
use offpush::http::{self as oh, Body};
use offpush::vendor::kit::pause_secs;
use offpush_vivo::client::{self, Refusal};
use offpush_vivo::codes::{self, Answer, Scope, Until, NEXT_VIVO_DAY, VIVO_SEVEN_AM};
use offpush_vivo::credentials::{VivoCredentials, ATTR_APP_SECRET};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

// ---- shared oracles ---------------------------------------------------------

/// A value no error message may repeat unless the caller put it in a key
/// (unknown-field errors name the key): secrets and tokens in values are
/// never echoed.
pub const CANARY: &str = "~Canary~";

/// A 400 that names its field: `field` present and not empty, and the
/// message starts with it.
fn assert_names_field(e: &ServiceError, what: &str) {
    match e {
        ServiceError::InvalidArgument {
            field: Some(f),
            message,
        } => {
            assert!(!f.is_empty(), "{what}: empty field name: {message:?}");
            assert!(
                message.starts_with(&format!("{f}: ")),
                "{what}: message {message:?} does not start with its field {f:?}"
            );
        }
        other => panic!("{what}: not an invalid_argument naming a field: {other:?}"),
    }
    assert_eq!(e.status(), 400, "{what}");
}

/// A body parser's refusal: a 400 naming its field, but for a nameless key
/// at the top level, which is the body's fault as a whole.
fn assert_parser_error(e: &ServiceError, body: &Value, what: &str) {
    if e.field().is_none() && body.as_object().is_some_and(|m| m.contains_key("")) {
        assert!(
            matches!(e, ServiceError::InvalidArgument { .. }),
            "{what}: {e:?}"
        );
    } else {
        assert_names_field(e, what);
    }
    assert_no_echo(e, Some(body), what);
}

fn keys_contain(v: &Value, needle: &str) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| k.contains(needle) || keys_contain(v, needle)),
        Value::Array(a) => a.iter().any(|v| keys_contain(v, needle)),
        _ => false,
    }
}

fn assert_no_echo(e: &ServiceError, body: Option<&Value>, what: &str) {
    let msg = e.public_message();
    if msg.contains(CANARY) {
        assert!(
            body.is_some_and(|b| keys_contain(b, CANARY)),
            "{what}: an error message repeats a value: {msg:?}"
        );
    }
}

// ---- JWT ----------------------------------------------------------------------

const JWT_NOW: i64 = 1_800_000_000;

fn demo_app() -> AppId {
    AppId::parse("iss", "demo").expect("valid app id")
}

fn demo_secret() -> Secret {
    Secret::new("fuzz-signing-secret-0123456789abcdef")
}

fn sign(secret: &Secret, header: &[u8], payload: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(header);
    let p = URL_SAFE_NO_PAD.encode(payload);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.expose().as_bytes()).expect("key");
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(p.as_bytes());
    let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h}.{p}.{s}")
}

/// A verification failure: a 401 that does not repeat the token.
fn assert_refused(r: &Result<auth::Caller, ServiceError>, token: &str, what: &str) {
    match r {
        Ok(c) => panic!("{what}: accepted: {c:?}"),
        Err(e) => {
            assert_eq!(e.status(), 401, "{what}: {e:?}");
            if token.contains('.') {
                assert!(
                    !e.public_message().contains(token),
                    "{what}: message repeats the token"
                );
            }
        }
    }
}

fn short_string(u: &mut Unstructured, pool: &[&str]) -> ArbResult<String> {
    if u.ratio(2, 3)? {
        Ok(u.choose(pool)?.to_string())
    } else {
        u.arbitrary::<String>()
    }
}

fn timestamp(u: &mut Unstructured, now: i64) -> ArbResult<i64> {
    Ok(match u.choose_index(3)? {
        0 => now + i64::from(u.int_in_range(-200i16..=200)?),
        1 => now + i64::from(u.arbitrary::<i32>()?),
        _ => u.arbitrary::<i64>()?,
    })
}

/// The verifier on arbitrary input: never a panic; a token is accepted
/// only when it is exactly what the secret signed, with claims in force.
pub fn jwt(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let (app, secret) = (demo_app(), demo_secret());
    match u.choose_index(4).unwrap_or(0) {
        // Arbitrary header values and tokens.
        0 => {
            let raw = String::from_utf8_lossy(u.take_rest()).into_owned();
            let _ = auth::bearer(Some(&raw));
            let token = auth::bearer(Some(&raw)).unwrap_or(&raw);
            let _ = auth::peek_issuer(token);
            assert_refused(
                &auth::verify(token, &app, &secret, JWT_NOW),
                token,
                "arbitrary token",
            );
        }
        // A valid token, mutated: accepted only while it is unchanged.
        1 => {
            let Ok(sub) = short_string(&mut u, &["alice", "bob", "ops"]) else {
                return;
            };
            let admin = u.arbitrary::<bool>().unwrap_or(false);
            let original = auth::mint_for(&secret, &app, &sub, admin, JWT_NOW, 3600);
            let mut bytes = original.clone().into_bytes();
            let edits = u.int_in_range(0..=4u8).unwrap_or(0);
            for _ in 0..edits {
                let Ok(op) = u.choose_index(3) else { break };
                let pos = u.choose_index(bytes.len() + 1).unwrap_or(0);
                let b = u.arbitrary::<u8>().unwrap_or(b'A');
                match op {
                    0 if pos < bytes.len() => bytes[pos] = b,
                    1 => bytes.insert(pos, b),
                    _ if pos < bytes.len() => {
                        bytes.remove(pos);
                    }
                    _ => {}
                }
            }
            let token = String::from_utf8_lossy(&bytes).into_owned();
            let r = auth::verify(&token, &app, &secret, JWT_NOW);
            if token == original {
                let valid_sub = UserId::parse("sub", &sub).is_ok();
                match r {
                    Ok(c) => {
                        assert!(valid_sub, "accepted an invalid sub {sub:?}");
                        assert_eq!(c.sub.as_str(), sub);
                        assert_eq!(c.role == Role::Admin, admin);
                        assert_eq!(c.app_id, app);
                    }
                    Err(e) => assert!(!valid_sub, "a valid token was refused: {e:?}"),
                }
                if token.len() <= 4096 {
                    assert_eq!(auth::peek_issuer(&token).ok(), Some(app.clone()));
                }
            } else {
                assert_refused(&r, &token, "mutated token");
            }
        }
        // Correctly signed typed claims: the verdict is exactly the rules.
        2 => {
            let Ok(claims) = typed_claims(&mut u) else {
                return;
            };
            let now = if u.ratio(1, 8).unwrap_or(false) {
                u.arbitrary::<i64>().unwrap_or(JWT_NOW)
            } else {
                JWT_NOW
            };
            let token = auth::mint(&secret, &claims);
            let expect_ok = claims.iss == "demo"
                && now <= claims.exp.saturating_add(CLOCK_SKEW_SECS)
                && claims
                    .nbf
                    .is_none_or(|nbf| now.saturating_add(CLOCK_SKEW_SECS) >= nbf)
                && UserId::parse("sub", &claims.sub).is_ok()
                && matches!(claims.role.as_deref(), None | Some("admin"));
            let r = auth::verify(&token, &app, &secret, now);
            if expect_ok {
                let c = r.unwrap_or_else(|e| panic!("refused a valid token: {e:?}"));
                assert_eq!(c.sub.as_str(), claims.sub);
                assert_eq!(c.role == Role::Admin, claims.role.is_some());
            } else {
                assert_refused(&r, &token, "typed claims");
            }
            // Another app's secret never verifies it.
            let other = Secret::new("another-secret-of-another-app-0000");
            assert_refused(
                &auth::verify(&token, &app, &other, now),
                &token,
                "other secret",
            );
        }
        // Correctly signed arbitrary header and payload bytes: accepted
        // only when they read as the documented claims.
        _ => {
            let Ok(header) = signed_part(&mut u, true) else {
                return;
            };
            let Ok(payload) = signed_part(&mut u, false) else {
                return;
            };
            let token = sign(&secret, &header, &payload);
            let _ = auth::peek_issuer(&token);
            match auth::verify(&token, &app, &secret, JWT_NOW) {
                Ok(c) => {
                    let h: Value =
                        serde_json::from_slice(&header).expect("accepted header is JSON");
                    assert_eq!(h["alg"], "HS256");
                    let p: Value =
                        serde_json::from_slice(&payload).expect("accepted payload is JSON");
                    assert_eq!(p["iss"], "demo");
                    assert_eq!(p["sub"].as_str(), Some(c.sub.as_str()));
                    let exp = p["exp"].as_i64().expect("accepted exp is an integer");
                    assert!(JWT_NOW <= exp.saturating_add(CLOCK_SKEW_SECS));
                    if let Some(nbf) = p.get("nbf").and_then(Value::as_i64) {
                        assert!(JWT_NOW + CLOCK_SKEW_SECS >= nbf);
                    }
                    match p.get("role") {
                        None | Some(Value::Null) => assert_eq!(c.role, Role::User),
                        Some(r) => {
                            assert_eq!(r, "admin");
                            assert_eq!(c.role, Role::Admin);
                        }
                    }
                }
                Err(e) => assert_refused(&Err(e), &token, "signed bytes"),
            }
        }
    }
}

fn typed_claims(u: &mut Unstructured) -> ArbResult<Claims> {
    let iss = short_string(u, &["demo", "other", ""])?;
    let sub = short_string(u, &["alice", "", "a\u{7}b", &"x".repeat(129)])?;
    let exp = timestamp(u, JWT_NOW)?;
    let nbf = if u.arbitrary()? {
        Some(timestamp(u, JWT_NOW)?)
    } else {
        None
    };
    let iat = if u.arbitrary()? {
        Some(u.arbitrary()?)
    } else {
        None
    };
    let role = match u.choose_index(4)? {
        0 => None,
        1 => Some("admin".to_string()),
        2 => Some("user".to_string()),
        _ => Some(u.arbitrary::<String>()?),
    };
    Ok(Claims {
        iss,
        sub,
        exp,
        nbf,
        iat,
        role,
    })
}

/// A JWT part: arbitrary bytes, or a JSON object of the claim (or header)
/// keys with values of any type.
fn signed_part(u: &mut Unstructured, header: bool) -> ArbResult<Vec<u8>> {
    if u.ratio(1, 4)? {
        let n = u.int_in_range(0..=64usize)?;
        return Ok(u.bytes(n)?.to_vec());
    }
    let keys: &[&str] = if header {
        &["alg", "typ", "kid"]
    } else {
        &["iss", "sub", "exp", "nbf", "iat", "role"]
    };
    let pool: &[&str] = &["HS256", "none", "RS256", "JWT", "demo", "alice", "admin"];
    let mut m = Map::new();
    for k in keys {
        if u.ratio(4, 5)? {
            let v = match u.choose_index(7)? {
                0 => Value::String(u.choose(pool)?.to_string()),
                1 => json!(timestamp(u, JWT_NOW)?),
                2 => json!(u.arbitrary::<f64>()?),
                3 => Value::Null,
                4 => json!(u.arbitrary::<bool>()?),
                5 => json!([u.arbitrary::<String>()?]),
                _ => Value::String(u.arbitrary()?),
            };
            m.insert((*k).to_string(), v);
        }
    }
    let mut bytes = serde_json::to_vec(&Value::Object(m)).expect("serializes");
    if u.ratio(1, 8)? {
        // A duplicated key, which serde and a map read differently.
        let dup = format!(r#","{}":"admin"}}"#, u.choose(keys)?);
        bytes.pop();
        bytes.extend_from_slice(dup.as_bytes());
    }
    Ok(bytes)
}

// ---- request bodies ---------------------------------------------------------

/// Every body parser on one body: never a panic; a body-level refusal
/// before any parser, else Ok with the limits kept, or a 400 naming a field.
pub fn body_bytes(data: &[u8]) {
    let parsed_json: Option<Value> = serde_json::from_slice(data).ok();
    let first = match parse_body(data) {
        Ok(obj) => obj,
        Err(e) => {
            match &e {
                ServiceError::PayloadTooLarge(_) => assert!(data.len() > MAX_BODY_BYTES),
                // Not JSON, not an object, or (its key given twice, which
                // serde_json reads as once) an object with a nameless key.
                ServiceError::InvalidArgument { field: None, .. } => assert!(
                    !matches!(&parsed_json, Some(Value::Object(m)) if !m.contains_key("")),
                    "parse_body: {e:?}"
                ),
                // A key given twice (serde_json keeps the last silently),
                // refused where it is met, whatever follows: named by its
                // dotted path, or a nameless one by the object holding it;
                // the message holds that name and nothing else of the body.
                ServiceError::InvalidArgument {
                    field: Some(f),
                    message,
                } => {
                    assert!(!f.is_empty(), "parse_body: {e:?}");
                    assert!(
                        *message == format!("{f}: given more than once")
                            || *message == format!("{f}: a field with an empty name"),
                        "parse_body: {e:?}"
                    );
                }
                other => panic!("parse_body: {other:?}"),
            }
            return;
        }
    };
    let body = parsed_json.expect("parse_body accepted JSON");
    assert!(body.is_object());
    let obj = || parse_body(data).expect("parsed once");

    match PushRequest::parse(first) {
        Ok(p) => check_push(&p),
        Err(e) => {
            assert_parser_error(&e, &body, "push");
        }
    }
    certificate(&body, obj);
    match Report::parse(obj()) {
        Ok(r) => {
            assert!((1..=MAX_CERTIFICATE_ID).contains(&r.certificate_id.get()));
            match &r.token {
                None => assert_eq!(body["token"], ""),
                Some(t) => assert_eq!(body["token"].as_str(), Some(t.expose())),
            }
        }
        Err(e) => {
            assert_parser_error(&e, &body, "token report");
        }
    }
    if let Some(Value::Object(ca)) = body.get("click_action") {
        let v = Value::Object(ca.clone());
        let bytes = serde_json::to_vec(&v).expect("serializes");
        match ClickAction::parse(parse_body(&bytes).expect("an object")) {
            Ok(a) => round_trip_click_action(&a),
            Err(e) => {
                assert_parser_error(&e, &v, "click_action");
            }
        }
    }
}

fn round_trip_click_action(a: &ClickAction) {
    let bytes = serde_json::to_vec(a).expect("serializes");
    let back = ClickAction::parse(parse_body(&bytes).expect("an object"))
        .unwrap_or_else(|e| panic!("a parsed click action does not parse back: {e:?}"));
    assert_eq!(&back, a);
}

fn check_push(p: &PushRequest) {
    assert!((1..=push::MAX_RECIPIENTS).contains(&p.to.len()));
    let unique: HashSet<&UserId> = p.to.iter().collect();
    assert_eq!(unique.len(), p.to.len(), "duplicate recipients accepted");
    assert!(!p.desc.trim().is_empty() && p.desc.chars().count() <= push::MAX_DESC_CHARS);
    assert!(!p.desc.chars().any(char::is_control));
    if let Some(t) = &p.title {
        assert!(!t.trim().is_empty() && t.chars().count() <= push::MAX_TITLE_CHARS);
        assert!(!t.chars().any(char::is_control));
    }
    if let Some(e) = &p.ext {
        assert!(e.len() <= push::MAX_EXT_BYTES);
    }
    assert!(
        (push::MIN_TTL_SECS..=push::MAX_TTL_SECS).contains(&i64::from(p.ttl_seconds)),
        "ttl {}",
        p.ttl_seconds
    );
    if let Some(r) = &p.request_id {
        assert!(!r.is_empty() && r.chars().count() <= push::MAX_REQUEST_ID_CHARS);
    }
    if let Some(n) = p.notify_id {
        assert!(n >= 1 && n <= i32::MAX as u32);
    }
    if let Some(a) = &p.click_action {
        round_trip_click_action(a);
    }
    if let Some(c) = p.category {
        assert_eq!(Category::parse("category", c.as_str()).ok(), Some(c));
    }
}

/// The platforms the certificate parser is given: what the registry
/// implements today.
const IMPLEMENTED: &[Platform] = &[Platform::Vivo];

/// The fields a certificate refusal may name without the body holding
/// them: the ones refused for their absence.
const CERTIFICATE_REQUIRED: &[&str] = &[
    "platform",
    "credentials",
    "credentials.app_id",
    "credentials.app_key",
    "credentials.app_secret",
    "click_action.type",
    "click_action.url",
    "click_action.intent_uri",
];

/// The stored vivo credential set an edit is parsed against. Its secret
/// holds the canary: an error repeating it is a finding.
fn stored_vivo() -> VendorData {
    VivoCredentials {
        app_id: 105_123_456,
        app_key: "stored-app-key".into(),
        app_secret: Secret::new(format!("stored-secret-{CANARY}")),
    }
    .to_data()
}

/// Whether `path` (dotted, as errors name fields) leads to a value of
/// `v`. Keys may hold dots themselves, so every split is tried.
fn holds_path(v: &Value, path: &str) -> bool {
    let Value::Object(m) = v else {
        return false;
    };
    m.iter().any(|(k, child)| {
        path == k
            || path
                .strip_prefix(k.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| holds_path(child, rest))
    })
}

/// A certificate refusal: a 400 naming its field, and that field is one
/// the body holds, or one refused for its absence.
fn assert_certificate_error(e: &ServiceError, body: &Value, what: &str) {
    assert_parser_error(e, body, what);
    if let Some(f) = e.field() {
        assert!(
            CERTIFICATE_REQUIRED.contains(&f) || holds_path(body, f),
            "{what}: {f:?} is neither in the body nor a required field: {e:?}"
        );
    }
}

/// A certificate create and edit body: the shared fields (platform first),
/// then vivo's credentials, for a create (no stored set: the secret is
/// required) and for an edit (a stored set, whose secret an omitted one
/// keeps).
fn certificate(body: &Value, obj: impl Fn() -> Obj) {
    let input = match CertificateInput::parse(obj(), IMPLEMENTED) {
        Ok(input) => input,
        Err(e) => {
            assert_certificate_error(&e, body, "certificate");
            return;
        }
    };
    check_certificate(&input, body);
    // Each vendor parse takes its credentials object: a second one.
    let again = CertificateInput::parse(obj(), IMPLEMENTED).expect("the same body parses again");
    assert_eq!(again.platform, input.platform);
    match input.platform {
        Platform::Vivo => {}
        other => panic!("a platform not implemented was accepted: {other}"),
    }
    let stored = stored_vivo();
    let create = VivoCredentials::parse(input.credentials, None);
    let edit = VivoCredentials::parse(again.credentials, Some(&stored));
    let raw = &body["credentials"];
    assert!(raw.is_object(), "credentials accepted as {raw:?}");
    // JSON null counts as absent.
    let given_secret = raw.get("app_secret").and_then(Value::as_str);
    match &create {
        Ok(c) => {
            check_vivo_credentials(c, raw);
            assert_eq!(
                Some(c.app_secret.expose()),
                given_secret,
                "create without the body's secret"
            );
            let e = edit.as_ref().expect("a valid create body is a valid edit");
            assert_eq!(e, c, "an edit reads a create body otherwise");
        }
        Err(e) => assert_certificate_error(e, body, "vivo credentials create"),
    }
    match &edit {
        Ok(c) => {
            check_vivo_credentials(c, raw);
            match given_secret {
                Some(s) => assert_eq!(c.app_secret.expose(), s),
                None => assert_eq!(
                    Some(c.app_secret.expose()),
                    stored.s(ATTR_APP_SECRET),
                    "an edit without a secret does not keep the stored one"
                ),
            }
            if let Err(ce) = &create {
                // Only the secret an edit may omit tells them apart.
                assert!(given_secret.is_none(), "create refused: {ce:?}");
                assert_eq!(ce.field(), Some("credentials.app_secret"), "{ce:?}");
            }
        }
        Err(e) => {
            assert_certificate_error(e, body, "vivo credentials edit");
            let ce = create
                .as_ref()
                .expect_err("an edit body refused that a create accepts");
            assert_eq!(
                (ce.field(), ce.public_message()),
                (e.field(), e.public_message()),
                "create and edit refuse the same credentials differently"
            );
        }
    }
}

/// The shared fields of an accepted certificate body.
fn check_certificate(c: &CertificateInput, body: &Value) {
    assert_eq!(body["platform"].as_str(), Some(c.platform.as_str()));
    assert!(IMPLEMENTED.contains(&c.platform));
    match &c.name {
        None => assert!(body.get("name").is_none_or(Value::is_null)),
        Some(n) => {
            assert_eq!(body["name"].as_str(), Some(n.as_str()));
            assert!(!n.trim().is_empty() && n.chars().count() <= MAX_NAME_LEN);
            assert!(!n.chars().any(char::is_control));
        }
    }
    round_trip_click_action(&c.click_action);
    assert_eq!(
        Category::parse("c", c.category.as_str()).ok(),
        Some(c.category)
    );
    assert_eq!(
        PushMode::parse("m", c.push_mode.as_str()).ok(),
        Some(c.push_mode)
    );
    if let Some(t) = &c.default_title {
        assert!(!t.trim().is_empty() && t.chars().count() <= push::MAX_TITLE_CHARS);
        assert!(!t.chars().any(char::is_control));
    }
    if let Some(r) = &c.receipt_id {
        assert!((1..=MAX_RECEIPT_ID_LEN).contains(&r.len()), "{r:?}");
        assert!(r
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
    if c.rotate_receipt_url {
        assert!(c.receipt_id.is_some() || c.receipts == Some(true));
    }
    assert_eq!(
        c.vendor_options.is_some(),
        body.get("vendor_options").is_some_and(Value::is_object)
    );
}

/// A credential text as vivo's parser keeps it.
fn check_credential_text(s: &str, what: &str) {
    assert!(
        !s.is_empty() && s.len() <= MAX_CREDENTIAL_LEN,
        "{what}: {} bytes",
        s.len()
    );
    assert_eq!(s.trim(), s, "{what}: surrounding spaces");
    assert!(
        !s.chars().any(char::is_control),
        "{what}: a control character"
    );
}

/// An accepted vivo credential set, against the body's `credentials`.
fn check_vivo_credentials(c: &VivoCredentials, raw: &Value) {
    assert!(c.app_id > 0);
    let id = raw["app_id"].as_str().expect("app_id accepted as a string");
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "app_id {id:?}");
    assert_eq!(id.parse::<u64>().ok(), Some(c.app_id));
    assert_eq!(raw["app_key"].as_str(), Some(c.app_key.as_str()));
    check_credential_text(&c.app_key, "app_key");
    check_credential_text(c.app_secret.expose(), "app_secret");
    // Stored under vivo's own attribute names, and read back unchanged.
    let data = c.to_data();
    assert!(data.iter().all(|(k, _)| k.starts_with("vivo_")), "{data:?}");
    assert_eq!(VivoCredentials::from_data(&data).as_ref(), Some(c));
    // The view masks the secret; the account key never holds it.
    let view = c.view();
    assert_eq!(view["app_id"], c.app_id.to_string());
    assert_eq!(view["app_key"].as_str(), Some(c.app_key.as_str()));
    assert_eq!(view["app_secret"], c.app_secret.masked());
    if c.app_secret.expose().contains(CANARY) {
        assert!(!view["app_secret"].to_string().contains(CANARY));
        assert!(!c.account_key().contains(CANARY));
    }
    if c.app_secret.expose().contains(CANARY) && !c.app_key.contains(CANARY) {
        assert!(!format!("{c:?}").contains(CANARY), "Debug shows the secret");
    }
}

const BODY_KEYS: &[&str] = &[
    "to",
    "title",
    "desc",
    "ext",
    "category",
    "ttl_seconds",
    "request_id",
    "click_action",
    "notify_id",
    "platform",
    "name",
    "credentials",
    "vendor_options",
    "receipt_id",
    "receipts",
    "rotate_receipt_url",
    "app_id",
    "app_key",
    "app_secret",
    "push_mode",
    "default_title",
    "type",
    "url",
    "intent_uri",
    "certificate_id",
    "token",
    "device_id",
];

const BODY_STRINGS: &[&str] = &[
    "vivo",
    "xiaomi",
    "IM",
    "NEWS",
    "MARKETING",
    "im",
    "production",
    "test",
    "open_app",
    "open_url",
    "open_page",
    "https://example.com/chat?id=1",
    "http://x",
    "https://",
    "ftp://x",
    "intent://chat#Intent;scheme=im;end",
    "intent:;end",
    "105123456",
    "0",
    "007",
    "999999999999999999",
    "demo-vivo-app-key",
    "alice",
    "bob",
    "",
    " ",
    " k ",
    "你",
    "😀",
    "a\u{0}b",
    "ring\u{7}",
    "\u{200b}",
    "regid-0123456789abcdef",
];

/// Generated JSON: objects of the fields the parsers know (and others),
/// with values of every type, near-valid strings and numbers at the limits.
pub fn body_structured(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(v) = gen_object(&mut u, 0) else {
        return;
    };
    body_bytes(&serde_json::to_vec(&v).expect("serializes"));
}

fn gen_object(u: &mut Unstructured, depth: u32) -> ArbResult<Value> {
    let mut m = Map::new();
    let n = u.int_in_range(0..=10usize)?;
    for _ in 0..n {
        let key = if u.ratio(7, 8)? {
            u.choose(BODY_KEYS)?.to_string()
        } else {
            u.arbitrary::<String>()?
        };
        let v = gen_value(u, depth + 1)?;
        m.insert(key, v);
    }
    Ok(Value::Object(m))
}

fn gen_string(u: &mut Unstructured) -> ArbResult<String> {
    Ok(match u.choose_index(6)? {
        0 | 1 => u.choose(BODY_STRINGS)?.to_string(),
        2 => format!("{CANARY}{}", u.arbitrary::<u16>()?),
        3 => {
            let s = u.choose(BODY_STRINGS)?;
            let n = u.choose(&[2usize, 39, 40, 41, 64, 65, 100, 101, 128, 129, 200, 513])?;
            s.repeat(*n)
        }
        _ => u.arbitrary::<String>()?,
    })
}

fn gen_number(u: &mut Unstructured) -> ArbResult<Value> {
    const EDGES: &[i64] = &[
        0,
        1,
        -1,
        59,
        60,
        900,
        86_400,
        86_401,
        2_147_483_647,
        2_147_483_648,
        (1 << 53) - 1,
        1 << 53,
        i64::MAX,
        i64::MIN,
    ];
    Ok(match u.choose_index(4)? {
        0 | 1 => json!(*u.choose(EDGES)?),
        2 => json!(u.arbitrary::<i64>()?),
        _ => match serde_json::Number::from_f64(u.arbitrary::<f64>()?) {
            Some(n) => Value::Number(n),
            None => json!(u64::MAX),
        },
    })
}

fn gen_value(u: &mut Unstructured, depth: u32) -> ArbResult<Value> {
    let kinds = if depth > 3 { 5 } else { 8 };
    Ok(match u.choose_index(kinds)? {
        0 => Value::Null,
        1 => json!(u.arbitrary::<bool>()?),
        2 => gen_number(u)?,
        3 | 4 => Value::String(gen_string(u)?),
        5 => {
            let n = u.int_in_range(0..=4usize)?;
            let mut a = Vec::with_capacity(n);
            for _ in 0..n {
                a.push(gen_value(u, depth + 1)?);
            }
            Value::Array(a)
        }
        // Recipient lists around the limit of 1000.
        6 => {
            let n = *u.choose(&[1usize, 2, 999, 1000, 1001])?;
            let dup = u.arbitrary::<bool>()?;
            Value::Array(
                (0..n)
                    .map(|i| {
                        let i = if dup && i + 1 == n { 0 } else { i };
                        json!(format!("u{i}"))
                    })
                    .collect(),
            )
        }
        _ => gen_object(u, depth)?,
    })
}

// ---- query strings and path segments -----------------------------------------

/// The query string and path parsers: never a panic; a refusal names the
/// parameter; decoding undoes encoding; ids print as they parse.
pub fn query_path(data: &[u8]) {
    // One control byte, then the query string and a path segment,
    // separated by a 0xFF byte (never part of UTF-8).
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let allowed_sets: [&[&str]; 4] = [&[], &["verify"], &["device_id", "token"], &["token"]];
    let allowed = allowed_sets[usize::from(ctl % 4)];
    let upper = ctl & 4 != 0;
    let mut parts = rest.splitn(2, |b| *b == 0xFF);
    let q = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let segment = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();

    if let Ok(req) = http::Request::builder()
        .uri(format!("https://x/v1/push-token?{q}"))
        .body(Body::Empty)
    {
        match oh::query_params(&req, allowed) {
            Ok(params) => {
                let mut seen = HashSet::new();
                for (k, _) in &params {
                    assert!(allowed.contains(&k.as_str()), "{k:?} not allowed");
                    assert!(seen.insert(k.clone()), "{k:?} twice");
                }
                match oh::query_bool(&params, "verify", true) {
                    Ok(b) => {
                        let given = oh::query_param(&params, "verify");
                        assert!(given.is_none() || given == Some(b.to_string()));
                    }
                    Err(e) => assert_names_field(&e, "verify"),
                }
                if let Some(d) = oh::query_param(&params, "device_id") {
                    if let Err(e) = DeviceId::parse("device_id", &d) {
                        assert_names_field(&e, "device_id");
                    }
                }
                if let Some(t) = oh::query_param(&params, "token") {
                    if let Err(e) = PushToken::parse("token", &t) {
                        assert_names_field(&e, "token");
                    }
                }
            }
            Err(e) => match &e {
                ServiceError::InvalidArgument { field: None, .. } => {}
                _ => assert_names_field(&e, "query"),
            },
        }
    }

    match CertificateId::parse_path("id", &segment) {
        Ok(id) => {
            assert!((1..=MAX_CERTIFICATE_ID).contains(&id.get()));
            assert_eq!(segment.trim_start_matches('0'), id.to_string());
            assert_eq!(
                CertificateId::parse_path("id", &id.to_string()).ok(),
                Some(id)
            );
        }
        Err(e) => assert_names_field(&e, "certificate id"),
    }
    match oh::path_segment("user_id", &segment) {
        Ok(decoded) => {
            if let Err(e) = UserId::parse("user_id", &decoded) {
                assert_names_field(&e, "user_id");
            }
        }
        Err(e) => assert_names_field(&e, "user_id segment"),
    }
    // Decoding undoes a full percent-encoding (either case of hex digits).
    let encoded: String = segment
        .bytes()
        .map(|b| {
            if upper {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            }
        })
        .collect();
    assert_eq!(
        oh::percent_decode_with(&encoded, true).as_deref(),
        Some(segment.as_str())
    );
    if let Err(e) = Category::parse("category", &segment) {
        assert_names_field(&e, "category");
    }
    if let Err(e) = PushMode::parse("push_mode", &segment) {
        assert_names_field(&e, "push_mode");
    }
}

// ---- vivo answers -------------------------------------------------------------

/// vivo's answer parser and its result-code table: never a panic; every
/// verdict agrees with a plain reading of the JSON; every row of the table
/// keeps the table's own rules.
pub fn vivo_reply(data: &[u8]) {
    // Four control bytes (the HTTP status, another answer for the table),
    // then the body.
    if data.len() < 4 {
        return;
    }
    let (ctl, body) = data.split_at(4);
    let mut u = Unstructured::new(ctl);
    let status = if u.ratio(3, 4).unwrap_or(true) {
        200
    } else {
        u.arbitrary::<u16>().unwrap_or(500)
    };
    let Ok(extra) = any_answer(&mut u) else {
        return;
    };
    let r = client::read(status, body);
    if status != 200 {
        assert_eq!(r, Err(Refusal::new(Answer::Http(status), "")));
    } else {
        assert_eq!(r, client::parse(body));
        let v: Option<Value> = serde_json::from_slice(body).ok();
        let result = v
            .as_ref()
            .and_then(|v| v.get("result"))
            .and_then(Value::as_i64);
        match &r {
            Ok(reply) => {
                assert_eq!(result, Some(0));
                assert!(reply.task_id.as_ref().is_none_or(|t| !t.is_empty()));
                assert!(reply.auth_token.as_ref().is_none_or(|t| !t.is_empty()));
                assert!(reply.invalid_users.iter().all(|(id, _)| !id.is_empty()));
            }
            Err(refusal) => {
                let want_desc: String = v
                    .as_ref()
                    .and_then(|v| v.get("desc"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .chars()
                    .take(100)
                    .collect();
                match refusal.answer {
                    Answer::Unreadable => assert_eq!(result, None),
                    Answer::InvalidUser(_) => assert_eq!(result, Some(10302)),
                    Answer::Code(c) => {
                        assert_eq!(result, Some(c));
                        assert!(c != 0 && c != 10302);
                    }
                    other => panic!("a 200 body read as {other:?}"),
                }
                if refusal.answer != Answer::Unreadable {
                    assert_eq!(refusal.desc, want_desc);
                }
            }
        }
    }
    if let Err(refusal) = &r {
        // An answer came: nothing may have been written unanswered.
        assert!(!refusal.maybe_written, "{refusal:?}");
        check_rule(refusal.answer);
        check_detail(refusal);
    }
    check_rule(extra);
}

fn any_answer(u: &mut Unstructured) -> ArbResult<Answer> {
    Ok(match u.choose_index(5)? {
        0 => Answer::Code(if u.arbitrary()? {
            u.int_in_range(9_990..=10_400)?
        } else {
            u.arbitrary()?
        }),
        1 => Answer::InvalidUser(if u.arbitrary()? {
            u.int_in_range(-1..=6)?
        } else {
            u.arbitrary()?
        }),
        2 => Answer::Http(u.arbitrary()?),
        3 => Answer::Unreachable,
        _ => Answer::Unreadable,
    })
}

/// A refusal's text for an outcome's detail: the code and the table's
/// meaning, and vivo's desc only where vivo answered one.
fn check_detail(refusal: &Refusal) {
    let detail = refusal.detail();
    let meaning = codes::rule(refusal.answer).meaning;
    assert!(detail.contains(meaning), "{detail:?}");
    match refusal.answer {
        Answer::Code(c) => assert!(detail.starts_with(&format!("vivo {c}: ")), "{detail:?}"),
        Answer::InvalidUser(s) => assert!(
            detail.starts_with(&format!("vivo 10302 invalidUser.status={s}: ")),
            "{detail:?}"
        ),
        _ => {}
    }
    // As the kit's session takes it: the same row and text, and the
    // vendor_code a delivery carries (the code itself for a result code).
    let kit = refusal.to_kit();
    assert_eq!(kit.rule, codes::rule(refusal.answer));
    assert_eq!(kit.detail, detail);
    assert_eq!(kit.maybe_written, refusal.maybe_written);
    let vendor_code = kit.vendor_code.as_deref().unwrap_or("");
    assert!(!vendor_code.is_empty(), "{refusal:?}");
    match refusal.answer {
        Answer::Code(c) => {
            assert_eq!(kit.code, Some(c));
            assert_eq!(vendor_code, c.to_string());
        }
        Answer::InvalidUser(_) => assert_eq!(vendor_code, "10302"),
        Answer::Http(s) => assert_eq!(vendor_code, format!("http_{s}")),
        _ => assert!(kit.code.is_none()),
    }
    let d = kit.delivery();
    assert_eq!(d.status, kit.rule.status);
    assert_eq!(d.vendor_code, kit.vendor_code);
}

fn check_rule(answer: Answer) {
    use offpush::domain::DeliveryStatus::*;
    let r = codes::rule(answer);
    assert!(!r.meaning.is_empty(), "{answer:?}");
    assert_eq!(r.pause == Scope::None, r.until.is_none(), "{answer:?}");
    assert_eq!(r.status == Throttled, r.pause != Scope::None, "{answer:?}");
    if r.token_dead {
        assert_eq!(r.status, TokenInvalid, "{answer:?}");
        assert!(matches!(answer, Answer::InvalidUser(1..=3)), "{answer:?}");
    }
    assert_eq!(r.status == TokenInvalid, r.token_dead, "{answer:?}");
    if r.retry {
        assert_eq!(r.status, Failed, "{answer:?}");
        assert!(!r.reauth && r.pause == Scope::None, "{answer:?}");
    }
    if r.reauth {
        assert_eq!(answer, Answer::Code(10000));
    }
    // Only vivo's auth codes blame the credentials, and then the
    // certificate field named is one vivo's credentials have.
    if let Some(f) = r.credential_field {
        assert!(
            matches!(
                f,
                "credentials.app_id" | "credentials.app_key" | "credentials.app_secret"
            ),
            "{answer:?}: {f}"
        );
        assert!(r.credentials, "{answer:?}");
    }
    if r.credentials {
        assert_eq!(r.status, Failed, "{answer:?}");
        assert!(!r.retry && !r.token_dead, "{answer:?}");
        assert!(matches!(answer, Answer::Code(10200..=10207)), "{answer:?}");
    }
    // A pause ends within a day, and never at once; the daily ones are
    // vivo's days and hours (UTC+8).
    if let Some(until) = r.until {
        assert!(
            matches!(until, Until::Secs(_)) || until == NEXT_VIVO_DAY || until == VIVO_SEVEN_AM,
            "{answer:?}: {until:?}"
        );
    }
    for now in [0, 1_800_000_000, 4_102_444_800] {
        if let Some(until) = r.until {
            let s = pause_secs(until, now);
            match until {
                Until::Secs(n) => assert_eq!(s, n),
                _ => assert!((1..=86_400).contains(&s), "{until:?} at {now}: {s}"),
            }
        }
    }
    match answer {
        Answer::Http(s) => assert_eq!(r.retry, s >= 500 || s == 429),
        Answer::Unreachable | Answer::Unreadable => assert!(r.retry),
        _ => {}
    }
}

// ---- a replay of the seeds and a short deterministic smoke -----------------------

/// `cargo test --lib` (no libFuzzer run): every seed passes its target, and
/// a few thousand deterministic pseudo-random inputs (seeds mutated, and
/// certificate bodies edited field by field) find nothing, so a property
/// that is wrong about the parsers shows before a fuzzing run reports it.
#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("seeds")
            .join(target);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no seeds in {}", dir.display());
        paths
            .iter()
            .map(|p| std::fs::read(p).expect("seed"))
            .collect()
    }

    /// xorshift64*: the same inputs on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    /// A seed with a few bytes changed, inserted or removed.
    fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
        let mut b = seed.to_vec();
        for _ in 0..=rng.below(4) {
            let pos = rng.below(b.len() + 1);
            let byte = rng.next() as u8;
            match rng.below(3) {
                0 if pos < b.len() => b[pos] = byte,
                1 => b.insert(pos, byte),
                _ if pos < b.len() => {
                    b.remove(pos);
                }
                _ => {}
            }
        }
        b
    }

    #[test]
    fn every_seed_passes_its_target() {
        for s in seeds("jwt") {
            jwt(&s);
        }
        for s in seeds("body_bytes") {
            body_bytes(&s);
            body_structured(&s);
        }
        for s in seeds("query_path") {
            query_path(&s);
        }
        for s in seeds("vivo_reply") {
            vivo_reply(&s);
        }
    }

    #[test]
    fn certificate_bodies_keep_their_properties() {
        let bodies = [
            // A create, an edit keeping the stored secret.
            r#"{"platform":"vivo","credentials":{"app_id":"105123456","app_key":"k","app_secret":"s-~Canary~1"}}"#,
            r#"{"platform":"vivo","credentials":{"app_id":"105123456","app_key":"k"}}"#,
            r#"{"platform":"vivo","credentials":{"app_id":"105123456","app_key":"k","app_secret":null},"name":null}"#,
            // Refused by the shared parser, for its platform first.
            r#"{"platform":"xiaomi","credentials":{}}"#,
            r#"{"platform":"nokia","colour":1}"#,
            r#"{"credentials":{}}"#,
            r#"{"platform":"vivo","credentials":{},"vendor_options":{"x":1}}"#,
            r#"{"platform":"vivo","credentials":{},"rotate_receipt_url":true}"#,
            r#"{"platform":"vivo","credentials":{},"click_action":{"type":"open_url"}}"#,
            r#"{"platform":"vivo","credentials":{"":1}}"#,
            // Refused by vivo's credentials parser.
            r#"{"platform":"vivo","credentials":{}}"#,
            r#"{"platform":"vivo","credentials":{"app_id":"0","app_key":"k"}}"#,
            r#"{"platform":"vivo","credentials":{"app_id":"+1","app_key":"k","app_secret":"s"}}"#,
            r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":" k","app_secret":"s"}}"#,
            r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","app_secret":"~Canary~ "}}"#,
            r#"{"platform":"vivo","credentials":{"app_id":"1","app_key":"k","a.b":1}}"#,
            r#"{"platform":"vivo","credentials":{"app_id":1,"app_key":"k","app_secret":"s"}}"#,
        ];
        for b in bodies {
            body_bytes(b.as_bytes());
        }
    }

    /// The keys a certificate body edit touches, by the object holding them.
    const CERT_PATHS: &[(&str, &[&str])] = &[
        (
            "",
            &[
                "platform",
                "name",
                "credentials",
                "vendor_options",
                "click_action",
                "category",
                "push_mode",
                "default_title",
                "receipt_id",
                "receipts",
                "rotate_receipt_url",
                "colour",
            ],
        ),
        (
            "credentials",
            &["app_id", "app_key", "app_secret", "", "app.id"],
        ),
        ("click_action", &["type", "url", "intent_uri"]),
    ];

    #[test]
    fn pseudo_random_inputs_find_nothing() {
        let mut rng = Rng(0x5eed_0ff5_0000_0001);
        for (target, run) in [
            ("jwt", jwt as fn(&[u8])),
            ("body_bytes", body_bytes),
            ("query_path", query_path),
            ("vivo_reply", vivo_reply),
        ] {
            let seeds = seeds(target);
            for i in 0..1500 {
                let input = if i % 3 == 0 {
                    let n = rng.below(256);
                    rng.bytes(n)
                } else {
                    let seed = &seeds[rng.below(seeds.len())];
                    mutate(&mut rng, seed)
                };
                run(&input);
            }
        }
        for _ in 0..1500 {
            let n = rng.below(512);
            body_structured(&rng.bytes(n));
        }
        // Certificate bodies, edited a field at a time from a valid create.
        let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds/body_bytes/cert-create");
        let valid: Value =
            serde_json::from_slice(&std::fs::read(seed).expect("seed")).expect("cert-create");
        for _ in 0..3000 {
            let raw = rng.bytes(64);
            let mut u = Unstructured::new(&raw);
            let mut body = valid.clone();
            for _ in 0..=rng.below(3) {
                let (holder, keys) = CERT_PATHS[rng.below(CERT_PATHS.len())];
                let key = keys[rng.below(keys.len())];
                let obj = if holder.is_empty() {
                    body.as_object_mut()
                } else {
                    body.get_mut(holder).and_then(Value::as_object_mut)
                };
                let Some(obj) = obj else { continue };
                match rng.below(4) {
                    0 => {
                        obj.remove(key);
                    }
                    1 => {
                        let v = Value::String(gen_string(&mut u).unwrap_or_default());
                        obj.insert(key.to_string(), v);
                    }
                    _ => {
                        let v = gen_value(&mut u, 2).unwrap_or(Value::Null);
                        obj.insert(key.to_string(), v);
                    }
                }
            }
            body_bytes(&serde_json::to_vec(&body).expect("serializes"));
        }
    }
}
