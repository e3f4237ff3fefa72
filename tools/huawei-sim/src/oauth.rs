//! `POST /oauth2/v3/token`: the client-credentials grant (§4.1).

use axum::http::Method;
use base64::Engine;
use rand::RngCore;
use serde_json::json;
use sim_kit::{form, Call, Reply};

use crate::Huawei;

type Kit = sim_kit::Core<Huawei>;

/// The token endpoint's JSON content type.
const JSON: &str = "application/json;charset=UTF-8";

/// A fresh opaque access token: Huawei's are base64 text (with `+`, `/` and
/// `=`), which its JSON escapes as `\/` (§4.1).
pub(crate) fn new_access_token() -> String {
    let mut bytes = [0u8; 96];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "DgEDA{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The token endpoint's error: `{"error":..,"sub_error":..,
/// "error_description":..}`.
pub(crate) fn oauth_error(status: u16, error: i64, sub_error: i64, description: &str) -> Reply {
    Reply::Json {
        status,
        body: json!({
            "error": error,
            "sub_error": sub_error,
            "error_description": description,
        }),
    }
}

/// A JSON text with every `/` escaped as `\/`, as Huawei writes it.
fn escape_slashes(text: &str) -> String {
    text.replace('/', "\\/")
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
            400,
            1102,
            0,
            "invalid request: Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let Ok(pairs) = form::decode(&call.body) else {
        return oauth_error(400, 1102, 0, "invalid request: malformed form body");
    };
    let mut fields = std::collections::BTreeMap::new();
    for (name, value) in pairs {
        if fields.insert(name.clone(), value).is_some() {
            return oauth_error(400, 1102, 0, &format!("invalid request: {name} repeated"));
        }
    }
    let field = |name: &str| {
        fields
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    for name in ["grant_type", "client_id", "client_secret"] {
        if field(name).is_none() {
            return oauth_error(
                400,
                1102,
                0,
                &format!("invalid request: missing required parameter {name}"),
            );
        }
    }
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(400, 1102, 0, "unsupported grant_type");
    }
    let client_id = field("client_id").unwrap_or_default();
    let secret = field("client_secret").unwrap_or_default();
    let now = kit.now_ms();
    let mut inner = kit.vendor().lock();
    let Some(app) = inner.apps.get(client_id) else {
        return oauth_error(400, 1101, 20158, "invalid client_id");
    };
    if app.client_secret != secret {
        return oauth_error(400, 1101, 12304, "invalid client_secret");
    }
    let limit = inner.settings.token_limit;
    if inner.tokens_in_window(client_id, now) >= limit {
        return oauth_error(
            503,
            1203,
            0,
            &format!("flow control: more than {limit} access tokens in the window"),
        );
    }
    let token = inner.issue(client_id, now);
    let body = json!({
        "access_token": token,
        "expires_in": inner.settings.token_ttl_secs,
        "token_type": "Bearer",
    });
    Reply::Text {
        status: 200,
        content_type: JSON,
        body: escape_slashes(&body.to_string()),
    }
}
