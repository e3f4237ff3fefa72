//! Google's OAuth2 token endpoint, for the JWT-bearer grant of a service
//! account (the order of checks and the answers are in lib.rs, "Token
//! endpoint").

use std::collections::BTreeMap;

use axum::http::{header, Method};
use base64::Engine;
use rand::RngCore;
use serde_json::{json, Map, Value};
use sim_kit::{form, Call, Reply};

use crate::{keys, AccessToken, Fcm, ScopeCheck, FCM_SCOPE};

type Kit = sim_kit::Core<Fcm>;

/// The grant type of a service account's assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The longest an assertion may live (`exp - iat`), in seconds.
pub const MAX_ASSERTION_SECS: i64 = 3600;

const TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a \
reasonable timeframe. Check your iat and exp values in the JWT claim.";
const BAD_SIGNATURE: &str = "Invalid JWT Signature.";
const BAD_SCOPE: &str = "Invalid OAuth scope or ID token audience provided.";

/// Google's OAuth error: HTTP 400 `{"error":..,"error_description":..}`.
pub fn oauth_error(error: &str, description: &str) -> Reply {
    Reply::Json {
        status: 400,
        body: json!({ "error": error, "error_description": description }),
    }
}

fn invalid_grant(description: &str) -> Reply {
    oauth_error("invalid_grant", description)
}

/// A fresh opaque access token, shaped like Google's (`ya29.` and
/// base64url text).
pub(crate) fn new_access_token() -> String {
    let mut bytes = [0u8; 96];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "ya29.c.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The URL a request was posted to, as `aud` names it when the app has no
/// `token_uri`: `http://<Host><path>`.
fn posted_url(call: &Call) -> Option<String> {
    let host = call.header(header::HOST.as_str())?;
    Some(format!("http://{host}{}", call.path))
}

fn b64url(part: &str) -> Option<Vec<u8>> {
    // JWTs are unpadded base64url; a padded part is tolerated (a sim choice).
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()
}

fn json_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// A whole number of seconds (a JSON integer, or a float with no fraction).
fn seconds(value: Option<&Value>) -> Option<i64> {
    let value = value?;
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

pub(crate) fn answer(kit: &Kit, call: &Call) -> Reply {
    if call.method != Method::POST {
        return Reply::text(405, "Method Not Allowed");
    }
    let is_form = call
        .content_type()
        .is_some_and(|ct| form::media_type(ct).0 == "application/x-www-form-urlencoded");
    if !is_form {
        return oauth_error(
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let Ok(pairs) = form::decode(&call.body) else {
        return oauth_error("invalid_request", "Malformed form body.");
    };
    let mut fields = BTreeMap::new();
    for (name, value) in pairs {
        if fields.contains_key(&name) {
            return oauth_error("invalid_request", &format!("Duplicate parameter: {name}"));
        }
        fields.insert(name, value);
    }
    let grant_type = fields.get("grant_type").map(String::as_str).unwrap_or("");
    if grant_type != JWT_BEARER {
        return oauth_error(
            "unsupported_grant_type",
            &format!("Invalid grant_type: {grant_type}"),
        );
    }
    let Some(assertion) = fields.get("assertion").filter(|a| !a.is_empty()) else {
        return oauth_error("invalid_request", "Missing required parameter: assertion");
    };

    // The JWT: header.claims.signature, each base64url.
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_part, claims_part, signature_part] = parts[..] else {
        return invalid_grant("Invalid JWT: not three dot-separated parts.");
    };
    let (Some(jwt_header), Some(claims), Some(signature)) = (
        b64url(header_part).and_then(|b| json_object(&b)),
        b64url(claims_part).and_then(|b| json_object(&b)),
        b64url(signature_part),
    ) else {
        return invalid_grant("Invalid JWT: a part is not base64url JSON.");
    };
    if jwt_header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return invalid_grant(BAD_SIGNATURE);
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or("");

    let now_ms = kit.now_ms();
    let mut inner = kit.vendor().lock();
    let settings = inner.settings;
    let Some(app) = inner.apps.get(text("iss")) else {
        return invalid_grant("Invalid grant: account not found");
    };
    match jwt_header.get("kid") {
        None if !settings.require_kid => {}
        Some(Value::String(kid)) if *kid == app.app.private_key_id => {}
        _ => return invalid_grant(BAD_SIGNATURE),
    }
    let signed = format!("{header_part}.{claims_part}");
    if !keys::verify_rs256(&app.key, signed.as_bytes(), &signature) {
        return invalid_grant(BAD_SIGNATURE);
    }
    let expected_aud = app.app.token_uri.clone().or_else(|| posted_url(call));
    if expected_aud.as_deref() != Some(text("aud")) || text("aud").is_empty() {
        return invalid_grant("Invalid JWT: Failed audience check.");
    }
    let (Some(iat), Some(exp)) = (seconds(claims.get("iat")), seconds(claims.get("exp"))) else {
        return invalid_grant(TIMEFRAME);
    };
    let now = now_ms.div_euclid(1000);
    let skew = i64::try_from(settings.clock_skew_secs).unwrap_or(i64::MAX);
    if exp <= iat || exp - iat > MAX_ASSERTION_SECS || iat > now.saturating_add(skew) || exp <= now
    {
        return invalid_grant(TIMEFRAME);
    }
    let scopes: Vec<String> = text("scope")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let has_fcm_scope = scopes.iter().any(|s| s == FCM_SCOPE);
    if scopes.is_empty() || (!has_fcm_scope && settings.scope_check == ScopeCheck::Token) {
        return oauth_error("invalid_scope", BAD_SCOPE);
    }

    let client_email = app.app.client_email.clone();
    let project_id = app.app.project_id.clone();
    let token = new_access_token();
    let ttl = settings.token_ttl_secs;
    inner.access_tokens.insert(
        token.clone(),
        AccessToken {
            client_email,
            project_id,
            scopes,
            expires_ms: now_ms
                .saturating_add(i64::try_from(ttl.saturating_mul(1000)).unwrap_or(i64::MAX)),
        },
    );
    Reply::json(json!({
        "access_token": token,
        "expires_in": ttl,
        "token_type": "Bearer",
    }))
}
