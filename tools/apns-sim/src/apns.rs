//! APNs' checks and answers (the order is in lib.rs, "Behaviour").

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use serde_json::{json, Map, Value};
use sim_kit::{Call, Core, Reply};

use crate::front::{CONNECTION_HEADER, GENERATED_ID_HEADER, VERSION_HEADER};
use crate::{Apns, Delivery, Inner, TokenScope, Verdict, PATH_PREFIX};

/// A fresh `apns-id`: an upper-case UUID, as APNs generates them.
pub(crate) fn generate_apns_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

/// The public key (uncompressed point) of a P-256 PKCS#8 private key in PEM
/// (`-----BEGIN PRIVATE KEY-----`, an App Store Connect `.p8` file).
pub(crate) fn public_key_of_pem(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let start = pem
        .find(BEGIN)
        .ok_or("no -----BEGIN PRIVATE KEY----- line")?
        + BEGIN.len();
    let end = pem[start..]
        .find(END)
        .ok_or("no -----END PRIVATE KEY----- line")?
        + start;
    let text: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD
        .decode(text)
        .map_err(|e| format!("the key is not base64: {e}"))?;
    let pair = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &der,
        &SystemRandom::new(),
    )
    .map_err(|e| format!("not a P-256 PKCS#8 private key: {e}"))?;
    Ok(pair.public_key().as_ref().to_vec())
}

/// An APNs error answer: `{"reason":..}` (and `timestamp` for 410).
pub(crate) fn error_reply(status: u16, reason: &str, timestamp: Option<i64>) -> Reply {
    let mut body = json!({ "reason": reason });
    if let Some(timestamp) = timestamp {
        body["timestamp"] = json!(timestamp);
    }
    Reply::Json { status, body }
}

fn reason(reason: &str) -> Reply {
    error_reply(crate::reason_status(reason).unwrap_or(400), reason, None)
}

/// A verified provider token.
struct Provider {
    team_id: String,
    key_id: String,
}

/// Checks a JWT: shape, header, key, signature, claims, age.
fn verify_jwt(inner: &Inner, jwt: &str, now_ms: i64) -> Result<Provider, &'static str> {
    const INVALID: &str = "InvalidProviderToken";
    let mut parts = jwt.split('.');
    let (Some(header), Some(claims), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID);
    };
    let decode_object = |part: &str| -> Result<Map<String, Value>, &'static str> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| INVALID)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(object)) => Ok(object),
            _ => Err(INVALID),
        }
    };
    let header_json = decode_object(header)?;
    if header_json.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(INVALID);
    }
    let key_id = header_json
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(INVALID)?;
    let key = inner.keys.get(key_id).ok_or(INVALID)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| INVALID)?;
    let signed = &jwt[..header.len() + 1 + claims.len()];
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &key.public_key)
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| INVALID)?;
    let claims_json = decode_object(claims)?;
    if claims_json.get("iss").and_then(Value::as_str) != Some(key.team_id.as_str()) {
        return Err(INVALID);
    }
    // An integer number of seconds; a float or a string is refused.
    let iat = claims_json
        .get("iat")
        .and_then(|v| if v.is_f64() { None } else { v.as_i64() })
        .ok_or(INVALID)?;
    let now = now_ms.div_euclid(1000);
    let settings = &inner.settings;
    if iat > now.saturating_add(settings.iat_future_leeway_secs) {
        return Err(INVALID);
    }
    if now.saturating_sub(iat) > settings.token_max_age_secs {
        return Err("ExpiredProviderToken");
    }
    Ok(Provider {
        team_id: key.team_id.clone(),
        key_id: key_id.to_owned(),
    })
}

/// The suffix a topic carries for a push type (Apple's topic rules).
fn topic_suffix(push_type: Option<&str>) -> &'static str {
    match push_type {
        Some("voip") => ".voip",
        Some("complication") => ".complication",
        Some("fileprovider") => ".pushkit.fileprovider",
        Some("liveactivity") => ".push-type.liveactivity",
        Some("location") => ".location-query",
        Some("pushtotalk") => ".voip-ptt",
        Some("widgets") => ".push-type.widgets",
        Some("controls") => ".push-type.controls",
        _ => "",
    }
}

/// The push types the simulator knows.
pub const PUSH_TYPES: [&str; 11] = [
    "alert",
    "background",
    "location",
    "voip",
    "complication",
    "fileprovider",
    "mdm",
    "liveactivity",
    "pushtotalk",
    "widgets",
    "controls",
];

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The value of a single-valued header: `Err` when given more than once,
/// `Ok(None)` when absent, a non-text value as `Some("\u{fffd}")`.
fn single<'a>(call: &'a Call, name: &str) -> Result<Option<&'a str>, ()> {
    let mut values = call.headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => Ok(Some(value.to_str().unwrap_or("\u{fffd}"))),
        (Some(_), Some(_)) => Err(()),
    }
}

const CHECKED_HEADERS: [&str; 7] = [
    "authorization",
    "apns-topic",
    "apns-push-type",
    "apns-priority",
    "apns-expiration",
    "apns-collapse-id",
    "apns-id",
];

fn is_int_01(value: &Value) -> bool {
    value.as_u64().is_some_and(|n| n <= 1) && !value.is_f64()
}

fn is_string_array(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

/// The `aps` dictionary's types; unknown keys pass.
fn aps_types_ok(aps: &Map<String, Value>) -> bool {
    let alert_ok = match aps.get("alert") {
        None | Some(Value::String(_)) => true,
        Some(Value::Object(alert)) => alert.iter().all(|(key, value)| match key.as_str() {
            "title" | "subtitle" | "body" | "launch-image" | "title-loc-key"
            | "subtitle-loc-key" | "loc-key" => value.is_string(),
            "title-loc-args" | "subtitle-loc-args" | "loc-args" => is_string_array(value),
            _ => true,
        }),
        Some(_) => false,
    };
    let sound_ok = match aps.get("sound") {
        None | Some(Value::String(_)) => true,
        Some(Value::Object(sound)) => {
            sound.get("name").is_some_and(Value::is_string)
                && sound.get("critical").is_none_or(is_int_01)
                && sound
                    .get("volume")
                    .is_none_or(|v| v.as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)))
        }
        Some(_) => false,
    };
    let badge_ok = aps
        .get("badge")
        .is_none_or(|v| v.as_u64().is_some() && !v.is_f64());
    let strings_ok = ["thread-id", "category", "target-content-id"]
        .iter()
        .all(|key| aps.get(*key).is_none_or(Value::is_string));
    let flags_ok = ["mutable-content", "content-available"]
        .iter()
        .all(|key| aps.get(*key).is_none_or(is_int_01));
    let level_ok = aps.get("interruption-level").is_none_or(|v| {
        matches!(
            v.as_str(),
            Some("passive" | "active" | "time-sensitive" | "critical")
        )
    });
    let score_ok = aps.get("relevance-score").is_none_or(Value::is_number);
    alert_ok && sound_ok && badge_ok && strings_ok && flags_ok && level_ok && score_ok
}

/// The normal behaviour of a call (every check, then the delivery).
pub(crate) fn answer(core: &Core<Apns>, call: &Call) -> Reply {
    let now = core.now_ms();
    let mut inner = core.vendor().lock();
    let settings = inner.settings.clone();

    // 0. HTTP/2 only.
    if settings.refuse_http1 && call.header(VERSION_HEADER).is_some_and(|v| v != "HTTP/2.0") {
        return Reply::text(505, "HTTP Version Not Supported: APNs speaks HTTP/2 only");
    }
    // 1-2. Path and method.
    let Some(device_token) = call.path.strip_prefix(PATH_PREFIX) else {
        return reason("BadPath");
    };
    if call.method != axum::http::Method::POST {
        return reason("MethodNotAllowed");
    }
    if device_token.is_empty() {
        return reason("MissingDeviceToken");
    }
    // 3. Repeated headers.
    if CHECKED_HEADERS
        .iter()
        .any(|name| single(call, name).is_err())
    {
        return reason("DuplicateHeaders");
    }
    let header = |name: &str| single(call, name).ok().flatten();

    // 4. The provider token.
    let Some(authorization) = header("authorization") else {
        return reason("MissingProviderToken");
    };
    let jwt = match authorization.split_once(' ') {
        Some((scheme, jwt)) if scheme.eq_ignore_ascii_case("bearer") => jwt.trim(),
        _ => return reason("InvalidProviderToken"),
    };
    let provider = match verify_jwt(&inner, jwt, now) {
        Ok(provider) => provider,
        Err(why) => return reason(why),
    };
    // 5. Token changes per connection (or team, or key).
    let connection = call.header(CONNECTION_HEADER).and_then(|c| c.parse().ok());
    let scope = match settings.token_update_scope {
        TokenScope::Connection => format!(
            "connection:{}",
            connection.map_or_else(|| "direct".to_owned(), |c: u64| c.to_string())
        ),
        TokenScope::Team => format!("team:{}", provider.team_id),
        TokenScope::TeamKey => format!("key:{}:{}", provider.team_id, provider.key_id),
    };
    match inner.tokens.get(&scope) {
        Some((current, _)) if current == jwt => {}
        Some((_, adopted))
            if now.saturating_sub(*adopted)
                < settings.min_token_refresh_secs.saturating_mul(1000) =>
        {
            return reason("TooManyProviderTokenUpdates");
        }
        _ => {
            inner.tokens.insert(scope, (jwt.to_owned(), now));
        }
    }

    // 6. apns-push-type.
    let push_type = header("apns-push-type");
    match push_type {
        None if settings.require_push_type => return reason("InvalidPushType"),
        Some(kind) if !PUSH_TYPES.contains(&kind) => return reason("InvalidPushType"),
        _ => {}
    }
    // 7. apns-topic.
    let Some(topic) = header("apns-topic") else {
        return reason("MissingTopic");
    };
    if topic.is_empty()
        || !topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return reason("BadTopic");
    }
    let bundle_id = topic.strip_suffix(topic_suffix(push_type)).unwrap_or("");
    let allowed = inner
        .apps
        .get(&provider.team_id)
        .is_some_and(|bundles| bundles.contains(bundle_id));
    if !allowed {
        return reason("TopicDisallowed");
    }
    // 8. apns-priority.
    let priority = match header("apns-priority") {
        None => None,
        Some("10") => Some(10u8),
        Some("5") => Some(5),
        Some("1") if settings.allow_priority_1 => Some(1),
        Some(_) => return reason("BadPriority"),
    };
    // 9. apns-expiration: epoch seconds, 0 = at most once.
    let expiration = match header("apns-expiration") {
        None => None,
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            match text.parse::<i64>() {
                Ok(value) => Some(value),
                Err(_) => return reason("BadExpirationDate"),
            }
        }
        Some(_) => return reason("BadExpirationDate"),
    };
    // 10. apns-collapse-id: at most 64 bytes.
    let collapse_id = header("apns-collapse-id");
    if collapse_id.is_some_and(|id| id.len() > crate::MAX_COLLAPSE_ID_BYTES) {
        return reason("BadCollapseId");
    }
    // 11. apns-id: a UUID.
    let given_id = header("apns-id");
    if given_id.is_some_and(|id| !is_uuid(id)) {
        return reason("BadMessageId");
    }
    // 12. The device token's syntax.
    let syntax_ok = device_token.len() % 2 == 0
        && (crate::MIN_TOKEN_HEX..=crate::MAX_TOKEN_HEX).contains(&device_token.len())
        && device_token.bytes().all(|b| b.is_ascii_hexdigit());
    if !syntax_ok {
        return reason("BadDeviceToken");
    }
    // 13. The payload.
    if call.body.is_empty() {
        return reason("PayloadEmpty");
    }
    let limit = if push_type == Some("voip") {
        settings.max_voip_payload_bytes
    } else {
        settings.max_payload_bytes
    };
    if call.body.len() > limit {
        return reason("PayloadTooLarge");
    }
    let payload: Value = match serde_json::from_slice(&call.body) {
        Ok(payload @ Value::Object(_)) => payload,
        _ => return reason(crate::BAD_PAYLOAD),
    };
    let Some(aps) = payload.get("aps").and_then(Value::as_object) else {
        return reason(crate::BAD_PAYLOAD);
    };
    if !aps_types_ok(aps) {
        return reason(crate::BAD_PAYLOAD);
    }
    let visible = ["alert", "badge", "sound"]
        .iter()
        .any(|key| aps.contains_key(*key));
    if aps.contains_key("alert") && push_type.is_some_and(|t| t != "alert") {
        return reason("InvalidPushType");
    }
    if push_type == Some("background") {
        if visible || aps.get("content-available").and_then(Value::as_u64) != Some(1) {
            return reason("InvalidPushType");
        }
        if priority == Some(10) {
            return reason("BadPriority");
        }
    }
    // 14. The device as APNs knows it.
    if let Some(device) = inner.devices.get(&device_token.to_ascii_lowercase()) {
        if device
            .environment
            .is_some_and(|env| env != settings.environment)
        {
            return reason("BadDeviceToken");
        }
        match device.verdict {
            Verdict::Valid => {}
            Verdict::BadDeviceToken => return reason("BadDeviceToken"),
            Verdict::DeviceTokenNotForTopic => return reason("DeviceTokenNotForTopic"),
            Verdict::Unregistered => {
                return error_reply(410, "Unregistered", Some(device.unregistered_ms));
            }
        }
        if device.bundle_id.as_deref().is_some_and(|b| b != bundle_id) {
            return reason("DeviceTokenNotForTopic");
        }
    }
    // 15. The per-device rate.
    if let Some(limit) = settings.rate_limit {
        let window = i64::try_from(limit.window_ms).unwrap_or(i64::MAX);
        let sends = inner
            .sends
            .entry(device_token.to_ascii_lowercase())
            .or_default();
        while sends
            .front()
            .is_some_and(|&at| now.saturating_sub(at) >= window)
        {
            sends.pop_front();
        }
        if sends.len() >= usize::try_from(limit.max).unwrap_or(usize::MAX) {
            return reason("TooManyRequests");
        }
        sends.push_back(now);
    }

    let apns_id = given_id
        .or_else(|| call.header(GENERATED_ID_HEADER))
        .map_or_else(generate_apns_id, str::to_owned);
    inner.deliveries.push(Delivery {
        apns_id,
        device_token: device_token.to_owned(),
        topic: topic.to_owned(),
        bundle_id: bundle_id.to_owned(),
        push_type: push_type.map(str::to_owned),
        priority,
        expiration,
        collapse_id: collapse_id.map(str::to_owned),
        team_id: provider.team_id,
        key_id: provider.key_id,
        environment: settings.environment,
        connection,
        payload,
        accepted_ms: now,
    });
    Reply::Text {
        status: 200,
        content_type: "text/plain; charset=utf-8",
        body: String::new(),
    }
}
