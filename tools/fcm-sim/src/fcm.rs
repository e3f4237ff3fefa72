//! `POST /v1/projects/{project_id}/messages:send` (the order of checks and
//! the answers are in lib.rs, "Send").

use std::collections::BTreeMap;

use axum::http::{header, Method};
use serde_json::{json, Map, Value};
use sim_kit::{form, Call, Reply};

use crate::{
    Delivery, ErrorCode, Fcm, PayloadMeasure, ScopeCheck, Target, TokenVerdict, FCM_SCOPE,
};

type Kit = sim_kit::Core<Fcm>;

/// The `@type` of FCM's own error detail.
pub const FCM_ERROR_TYPE: &str = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
/// The `@type` of a field violation detail.
pub const BAD_REQUEST_TYPE: &str = "type.googleapis.com/google.rpc.BadRequest";
/// The `@type` of an auth failure's reason detail.
pub const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// The message of an invalid registration token (Google's words).
pub const INVALID_TOKEN: &str = "The registration token is not a valid FCM registration token";

/// The project id of `/v1/projects/{project_id}/messages:send`.
pub(crate) fn project_of(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/projects/")?
        .strip_suffix("/messages:send")
        .filter(|p| !p.is_empty() && !p.contains('/'))
}

/// Google's error body: `{"error":{"code","message","status","details"}}`.
pub fn google_error(code: u16, status: &str, message: &str, details: Vec<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message, "status": status });
    if !details.is_empty() {
        error["details"] = Value::Array(details);
    }
    json!({ "error": error })
}

fn fcm_detail(code: ErrorCode) -> Value {
    json!({ "@type": FCM_ERROR_TYPE, "errorCode": code.as_str() })
}

fn violation(field: &str, description: &str) -> Value {
    let mut violation = json!({ "description": description });
    if !field.is_empty() {
        violation["field"] = json!(field);
    }
    json!({ "@type": BAD_REQUEST_TYPE, "fieldViolations": [violation] })
}

/// The answer of an FCM error code with its FcmError detail (and any
/// further details), with `message` or the code's usual message.
pub(crate) fn fcm_error(code: ErrorCode, message: Option<&str>, more: Vec<Value>) -> Reply {
    let mut details = vec![fcm_detail(code)];
    details.extend(more);
    Reply::Json {
        status: code.http_status(),
        body: google_error(
            code.http_status(),
            code.status(),
            message.unwrap_or(code.message()),
            details,
        ),
    }
}

/// 400 INVALID_ARGUMENT of a malformed request: a BadRequest detail only,
/// as Google answers a value its JSON reader refuses.
fn invalid(field: &str, description: String) -> Reply {
    Reply::Json {
        status: 400,
        body: google_error(
            400,
            "INVALID_ARGUMENT",
            &description,
            vec![violation(field, &description)],
        ),
    }
}

/// 400 INVALID_ARGUMENT that FCM itself refuses: FcmError and BadRequest.
fn fcm_invalid(field: &str, description: &str) -> Reply {
    fcm_error(
        ErrorCode::InvalidArgument,
        Some(description),
        vec![violation(field, description)],
    )
}

fn unauthenticated(message: &str, reason: Option<&str>) -> Reply {
    let details = reason
        .map(|reason| {
            vec![json!({
                "@type": ERROR_INFO_TYPE,
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {
                    "service": "fcm.googleapis.com",
                    "method": "google.firebase.fcm.v1.FcmService.SendMessage",
                },
            })]
        })
        .unwrap_or_default();
    Reply::Json {
        status: 401,
        body: google_error(401, "UNAUTHENTICATED", message, details),
    }
}

fn permission_denied(message: &str, reason: &str) -> Reply {
    Reply::Json {
        status: 403,
        body: google_error(
            403,
            "PERMISSION_DENIED",
            message,
            vec![json!({
                "@type": ERROR_INFO_TYPE,
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": { "service": "fcm.googleapis.com" },
            })],
        ),
    }
}

const INVALID_CREDENTIALS: &str = "Request had invalid authentication credentials. Expected \
OAuth 2 access token, login cookie or other valid authentication credential. See \
https://developers.google.com/identity/sign-in/web/devconsole-project.";
const MISSING_CREDENTIALS: &str = "Request is missing required authentication credential. \
Expected OAuth 2 access token, login cookie or other valid authentication credential. See \
https://developers.google.com/identity/sign-in/web/devconsole-project.";

pub(crate) fn answer(kit: &Kit, call: &Call, project: &str) -> Reply {
    if call.method != Method::POST {
        return Reply::text(405, "Method Not Allowed");
    }
    let now = kit.now_ms();

    // Auth: a Bearer access token the token endpoint issued, not expired,
    // of this project.
    let Some(authorization) = call.header(header::AUTHORIZATION.as_str()) else {
        return unauthenticated(MISSING_CREDENTIALS, Some("CREDENTIALS_MISSING"));
    };
    let token = match authorization.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            token
        }
        _ => return unauthenticated(INVALID_CREDENTIALS, None),
    };
    let (token_project, client_email, scopes_ok, settings) = {
        let inner = kit.vendor().lock();
        let Some(access) = inner.access_tokens.get(token) else {
            return unauthenticated(INVALID_CREDENTIALS, None);
        };
        if now >= access.expires_ms {
            return unauthenticated(INVALID_CREDENTIALS, Some("ACCESS_TOKEN_EXPIRED"));
        }
        (
            access.project_id.clone(),
            access.client_email.clone(),
            access.scopes.iter().any(|s| s == FCM_SCOPE),
            inner.settings,
        )
    };
    if token_project != project {
        return permission_denied(
            &format!(
                "Permission 'cloudmessaging.messages.create' denied on resource \
                 '//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
            ),
            "IAM_PERMISSION_DENIED",
        );
    }
    if !scopes_ok && settings.scope_check == ScopeCheck::Send {
        return permission_denied(
            "Request had insufficient authentication scopes.",
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        );
    }

    // The body: JSON, then the request's fields.
    let is_json = call
        .content_type()
        .is_some_and(|ct| form::media_type(ct).0 == "application/json");
    if !is_json {
        return invalid(
            "",
            "Invalid JSON payload received. Content-Type must be application/json.".to_owned(),
        );
    }
    let body = match serde_json::from_slice::<Value>(&call.body) {
        Ok(Value::Object(body)) => body,
        Ok(_) => {
            return invalid(
                "",
                "Invalid JSON payload received. The request must be a JSON object.".to_owned(),
            )
        }
        Err(error) => {
            return invalid(
                "",
                format!("Invalid JSON payload received. Unexpected token: {error}."),
            )
        }
    };
    let request = match fields(&body, "", &["validate_only", "message"]) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    let validate_only = match request.get("validate_only") {
        None => false,
        Some(value) => match boolean(value, "validate_only") {
            Ok(value) => value,
            Err(reply) => return reply,
        },
    };
    let Some(message) = request.get("message") else {
        return fcm_invalid("message", "Request contains an invalid argument.");
    };
    let checked = match check_message(message, &settings) {
        Ok(checked) => checked,
        Err(reply) => return reply,
    };

    // Size, quota, the target's verdict, then the answer.
    let limit = match checked.target {
        Target::Token(_) => settings.payload_limit,
        Target::Topic(_) | Target::Condition(_) => settings.topic_payload_limit,
    };
    let size = payload_size(&checked.message, settings.payload_measure);
    if size > limit {
        return fcm_invalid(
            "message",
            &format!("Message is too big: {size} bytes of payload, at most {limit}."),
        );
    }

    let mut inner = kit.vendor().lock();
    let window_ms =
        i64::try_from(settings.quota_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    if let Some(&quota) = inner.quotas.get(project) {
        let sent = inner.sends.entry(project.to_owned()).or_default();
        while sent
            .front()
            .is_some_and(|&at| at <= now.saturating_sub(window_ms))
        {
            sent.pop_front();
        }
        if sent.len() as u64 >= quota {
            return fcm_error(ErrorCode::QuotaExceeded, None, vec![]);
        }
    }
    if let Target::Token(token) = &checked.target {
        let verdict = inner
            .verdicts
            .get(token)
            .copied()
            .unwrap_or(TokenVerdict::Valid);
        if let Some(code) = verdict.error_code() {
            return match code {
                ErrorCode::InvalidArgument => token_invalid(&settings),
                code => fcm_error(code, None, vec![]),
            };
        }
    }
    if validate_only {
        return Reply::json(
            json!({ "name": format!("projects/{project}/messages/fake_message_id") }),
        );
    }
    inner
        .sends
        .entry(project.to_owned())
        .or_default()
        .push_back(now);
    inner.seq += 1;
    let id = format!(
        "0:{}{:04}%{:016x}",
        now,
        inner.seq % 10_000,
        rand::random::<u64>()
    );
    let name = format!("projects/{project}/messages/{id}");
    let delivery = Delivery {
        name: name.clone(),
        project_id: project.to_owned(),
        client_email,
        target: checked.target,
        title: checked.title,
        body: checked.body,
        data: checked.data,
        android: checked.message.get("android").cloned(),
        apns: checked.message.get("apns").cloned(),
        message: Value::Object(checked.message),
        at_ms: now,
    };
    inner.deliveries.push(delivery);
    Reply::json(json!({ "name": name }))
}

/// 400 for a malformed or invalid registration token: FcmError
/// INVALID_ARGUMENT, and a BadRequest naming `message.token` unless
/// [`crate::Settings::token_violation`] is off.
fn token_invalid(settings: &crate::Settings) -> Reply {
    let more = if settings.token_violation {
        vec![violation("message.token", INVALID_TOKEN)]
    } else {
        vec![]
    };
    fcm_error(ErrorCode::InvalidArgument, Some(INVALID_TOKEN), more)
}

/// A message that passed every field check.
struct Checked {
    /// Normalized: snake_case names, nulls dropped.
    message: Map<String, Value>,
    target: Target,
    title: Option<String>,
    body: Option<String>,
    data: BTreeMap<String, String>,
}

type Checking<T> = Result<T, Reply>;

/// lowerCamelCase to snake_case (proto JSON takes either name).
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The fields of an object at `path`, by their snake_case names, nulls
/// dropped; an unknown name or a name given twice (in both spellings) is
/// refused as Google's JSON reader does.
fn fields(object: &Map<String, Value>, path: &str, known: &[&str]) -> Checking<Map<String, Value>> {
    let mut out = Map::new();
    for (name, value) in object {
        let key = snake(name);
        if !known.contains(&key.as_str()) {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" at '{path}'")
            };
            return Err(invalid(
                path,
                format!("Invalid JSON payload received. Unknown name \"{name}\"{at}: Cannot find field."),
            ));
        }
        if value.is_null() {
            continue;
        }
        if out.insert(key.clone(), value.clone()).is_some() {
            return Err(invalid(
                path,
                format!(
                    "Invalid JSON payload received. Duplicate field \"{}\".",
                    join(path, &key)
                ),
            ));
        }
    }
    Ok(out)
}

fn type_error(path: &str, kind: &str, value: &Value) -> Reply {
    invalid(path, format!("Invalid value at '{path}' ({kind}), {value}"))
}

fn object<'a>(value: &'a Value, path: &str, kind: &str) -> Checking<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| type_error(path, kind, value))
}

fn string<'a>(value: &'a Value, path: &str) -> Checking<&'a str> {
    value
        .as_str()
        .ok_or_else(|| type_error(path, "TYPE_STRING", value))
}

fn boolean(value: &Value, path: &str) -> Checking<bool> {
    value
        .as_bool()
        .ok_or_else(|| type_error(path, "TYPE_BOOL", value))
}

/// An int32: a JSON integer, or a string holding one (proto JSON).
fn int32(value: &Value, path: &str) -> Checking<i32> {
    let parsed = match value {
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        Value::String(s) => s.parse::<i32>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| type_error(path, "TYPE_INT32", value))
}

/// An enum value by name, in any case (a sim choice; see lib.rs).
fn enumeration(value: &Value, path: &str, kind: &str, names: &[&str]) -> Checking<()> {
    match value.as_str() {
        Some(text) if names.iter().any(|n| n.eq_ignore_ascii_case(text)) => Ok(()),
        _ => Err(type_error(
            path,
            &format!("type.googleapis.com/{kind}"),
            value,
        )),
    }
}

/// A map<string,string> (`data`, `headers`): every value a string; the
/// index in the message is the key's position in key order.
fn string_map(value: &Value, path: &str) -> Checking<BTreeMap<String, String>> {
    let map = object(value, path, "TYPE_MESSAGE")?;
    let mut out = BTreeMap::new();
    for (i, (key, value)) in map.iter().enumerate() {
        let text = string(value, &format!("{path}[{i}].value"))?;
        out.insert(key.clone(), text.to_owned());
    }
    Ok(out)
}

/// A data payload: string values, no reserved key.
fn data_map(value: &Value, path: &str) -> Checking<BTreeMap<String, String>> {
    let data = string_map(value, path)?;
    if let Some(key) = data.keys().find(|key| {
        let lower = key.to_ascii_lowercase();
        matches!(lower.as_str(), "from" | "notification" | "message_type")
            || lower.starts_with("google")
            || lower.starts_with("gcm")
    }) {
        return Err(fcm_invalid(
            path,
            &format!("Invalid data payload key: {key}"),
        ));
    }
    Ok(data)
}

/// A google.protobuf.Duration in JSON: `<seconds>[.<1-9 digits>]s`.
fn duration_secs(text: &str) -> Option<u64> {
    let number = text.strip_suffix('s')?;
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f) || f.len() > 9) {
        return None;
    }
    whole.parse().ok()
}

fn duration(value: &Value, path: &str) -> Checking<u64> {
    value
        .as_str()
        .and_then(duration_secs)
        .ok_or_else(|| type_error(path, "type.googleapis.com/google.protobuf.Duration", value))
}

fn is_token_text(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
}

fn is_topic_text(topic: &str) -> bool {
    let topic = topic.strip_prefix("/topics/").unwrap_or(topic);
    !topic.is_empty()
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%'))
}

const MESSAGE_FIELDS: &[&str] = &[
    "name",
    "data",
    "notification",
    "android",
    "webpush",
    "apns",
    "fcm_options",
    "token",
    "topic",
    "condition",
];
const NOTIFICATION_FIELDS: &[&str] = &["title", "body", "image"];
const ANDROID_FIELDS: &[&str] = &[
    "collapse_key",
    "priority",
    "ttl",
    "restricted_package_name",
    "data",
    "notification",
    "fcm_options",
    "direct_boot_ok",
    "bandwidth_constrained_ok",
    "restricted_satellite_ok",
];
const ANDROID_NOTIFICATION_STRINGS: &[&str] = &[
    "title",
    "body",
    "icon",
    "color",
    "sound",
    "tag",
    "click_action",
    "body_loc_key",
    "title_loc_key",
    "channel_id",
    "ticker",
    "image",
    "event_time",
];
const ANDROID_NOTIFICATION_BOOLS: &[&str] = &[
    "sticky",
    "local_only",
    "default_sound",
    "default_vibrate_timings",
    "default_light_settings",
    "bypass_proxy_notification",
];
const ANDROID_NOTIFICATION_OTHERS: &[&str] = &[
    "body_loc_args",
    "title_loc_args",
    "vibrate_timings",
    "notification_priority",
    "visibility",
    "notification_count",
    "light_settings",
    "proxy",
];
const APNS_FIELDS: &[&str] = &["headers", "payload", "fcm_options", "live_activity_token"];
const WEBPUSH_FIELDS: &[&str] = &["headers", "data", "notification", "fcm_options"];
const FCM_OPTIONS_FIELDS: &[&str] = &["analytics_label"];

fn check_message(value: &Value, settings: &crate::Settings) -> Checking<Checked> {
    let message = fields(
        object(value, "message", "TYPE_MESSAGE")?,
        "message",
        MESSAGE_FIELDS,
    )?;

    // Exactly one target: a second one is refused as a oneof set twice.
    let mut target = None;
    for kind in ["token", "topic", "condition"] {
        let Some(value) = message.get(kind) else {
            continue;
        };
        let path = format!("message.{kind}");
        let text = string(value, &path)?.to_owned();
        if target.is_some() {
            return Err(invalid(
                "message",
                format!(
                    "Invalid JSON payload received. Oneof field 'target' is already set. Cannot set '{kind}'"
                ),
            ));
        }
        target = Some(match kind {
            "token" => Target::Token(text),
            "topic" => Target::Topic(text),
            _ => Target::Condition(text),
        });
    }
    let target =
        target.ok_or_else(|| fcm_invalid("message", "Recipient of the message is not set."))?;

    if let Some(name) = message.get("name") {
        string(name, "message.name")?;
    }
    let data = match message.get("data") {
        Some(value) => data_map(value, "message.data")?,
        None => BTreeMap::new(),
    };
    let (mut title, mut body) = (None, None);
    if let Some(value) = message.get("notification") {
        let path = "message.notification";
        let notification = fields(
            object(value, path, "TYPE_MESSAGE")?,
            path,
            NOTIFICATION_FIELDS,
        )?;
        for (name, value) in &notification {
            let text = string(value, &join(path, name))?.to_owned();
            match name.as_str() {
                "title" => title = Some(text),
                "body" => body = Some(text),
                _ => {}
            }
        }
    }
    if let Some(value) = message.get("android") {
        check_android(value, settings)?;
    }
    if let Some(value) = message.get("apns") {
        let path = "message.apns";
        let apns = fields(object(value, path, "TYPE_MESSAGE")?, path, APNS_FIELDS)?;
        if let Some(value) = apns.get("headers") {
            string_map(value, "message.apns.headers")?;
        }
        if let Some(value) = apns.get("payload") {
            object(
                value,
                "message.apns.payload",
                "type.googleapis.com/google.protobuf.Struct",
            )?;
        }
        if let Some(value) = apns.get("fcm_options") {
            let path = "message.apns.fcm_options";
            let options = fields(
                object(value, path, "TYPE_MESSAGE")?,
                path,
                &["analytics_label", "image"],
            )?;
            for (name, value) in &options {
                string(value, &join(path, name))?;
            }
        }
        if let Some(value) = apns.get("live_activity_token") {
            string(value, "message.apns.live_activity_token")?;
        }
    }
    if let Some(value) = message.get("webpush") {
        let path = "message.webpush";
        fields(object(value, path, "TYPE_MESSAGE")?, path, WEBPUSH_FIELDS)?;
    }
    if let Some(value) = message.get("fcm_options") {
        fcm_options(value, "message.fcm_options")?;
    }

    match &target {
        Target::Token(token) if !is_token_text(token) => return Err(token_invalid(settings)),
        Target::Topic(topic) if !is_topic_text(topic) => {
            return Err(fcm_invalid("message.topic", "Invalid topic name."))
        }
        Target::Condition(condition) if condition.trim().is_empty() => {
            return Err(fcm_invalid(
                "message.condition",
                "Invalid condition expression.",
            ))
        }
        _ => {}
    }
    Ok(Checked {
        message,
        target,
        title,
        body,
        data,
    })
}

fn fcm_options(value: &Value, path: &str) -> Checking<()> {
    let options = fields(
        object(value, path, "TYPE_MESSAGE")?,
        path,
        FCM_OPTIONS_FIELDS,
    )?;
    if let Some(label) = options.get("analytics_label") {
        string(label, &join(path, "analytics_label"))?;
    }
    Ok(())
}

fn check_android(value: &Value, settings: &crate::Settings) -> Checking<()> {
    let path = "message.android";
    let android = fields(object(value, path, "TYPE_MESSAGE")?, path, ANDROID_FIELDS)?;
    for (name, value) in &android {
        let at = join(path, name);
        match name.as_str() {
            "collapse_key" | "restricted_package_name" => {
                string(value, &at)?;
            }
            "priority" => enumeration(
                value,
                &at,
                "google.firebase.fcm.v1.AndroidMessagePriority",
                &["NORMAL", "HIGH"],
            )?,
            "ttl" => {
                let secs = duration(value, &at)?;
                if settings.max_ttl_secs.is_some_and(|max| secs > max) {
                    return Err(fcm_invalid(
                        &at,
                        &format!(
                            "TTL {secs}s is longer than the maximum of {}s.",
                            settings.max_ttl_secs.unwrap_or(0)
                        ),
                    ));
                }
            }
            "data" => {
                data_map(value, &at)?;
            }
            "notification" => check_android_notification(value, &at)?,
            "fcm_options" => fcm_options(value, &at)?,
            _ => {
                boolean(value, &at)?;
            }
        }
    }
    Ok(())
}

fn check_android_notification(value: &Value, path: &str) -> Checking<()> {
    let known: Vec<&str> = ANDROID_NOTIFICATION_STRINGS
        .iter()
        .chain(ANDROID_NOTIFICATION_BOOLS)
        .chain(ANDROID_NOTIFICATION_OTHERS)
        .copied()
        .collect();
    let notification = fields(object(value, path, "TYPE_MESSAGE")?, path, &known)?;
    for (name, value) in &notification {
        let at = join(path, name);
        let name = name.as_str();
        if ANDROID_NOTIFICATION_STRINGS.contains(&name) {
            let text = string(value, &at)?;
            let is_color = text.len() == 7
                && text.starts_with('#')
                && text[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if name == "color" && !is_color {
                return Err(fcm_invalid(&at, "Invalid color format: expected #rrggbb."));
            }
        } else if ANDROID_NOTIFICATION_BOOLS.contains(&name) {
            boolean(value, &at)?;
        } else {
            match name {
                "body_loc_args" | "title_loc_args" | "vibrate_timings" => {
                    let items = value
                        .as_array()
                        .ok_or_else(|| type_error(&at, "TYPE_STRING", value))?;
                    for (i, item) in items.iter().enumerate() {
                        let item_path = format!("{at}[{i}]");
                        if name == "vibrate_timings" {
                            duration(item, &item_path)?;
                        } else {
                            string(item, &item_path)?;
                        }
                    }
                }
                "notification_priority" => enumeration(
                    value,
                    &at,
                    "google.firebase.fcm.v1.AndroidNotification.NotificationPriority",
                    &[
                        "PRIORITY_UNSPECIFIED",
                        "PRIORITY_MIN",
                        "PRIORITY_LOW",
                        "PRIORITY_DEFAULT",
                        "PRIORITY_HIGH",
                        "PRIORITY_MAX",
                    ],
                )?,
                "visibility" => enumeration(
                    value,
                    &at,
                    "google.firebase.fcm.v1.AndroidNotification.Visibility",
                    &["VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET"],
                )?,
                "proxy" => enumeration(
                    value,
                    &at,
                    "google.firebase.fcm.v1.AndroidNotification.Proxy",
                    &["PROXY_UNSPECIFIED", "ALLOW", "DENY", "IF_PRIORITY_LOWERED"],
                )?,
                "notification_count" => {
                    int32(value, &at)?;
                }
                // light_settings: an object, its content not checked.
                _ => {
                    object(value, &at, "TYPE_MESSAGE")?;
                }
            }
        }
    }
    Ok(())
}

/// The payload size by the chosen measure (lib.rs, "Payload size").
pub(crate) fn payload_size(message: &Map<String, Value>, measure: PayloadMeasure) -> usize {
    match measure {
        PayloadMeasure::Message => {
            let mut rest = message.clone();
            for target in ["token", "topic", "condition"] {
                rest.remove(target);
            }
            Value::Object(rest).to_string().len()
        }
        PayloadMeasure::Content => {
            let map_bytes = |value: Option<&Value>| {
                value
                    .and_then(Value::as_object)
                    .map(|map| {
                        map.iter()
                            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
                            .sum::<usize>()
                    })
                    .unwrap_or(0)
            };
            let text_bytes = |value: Option<&Value>| {
                value
                    .and_then(Value::as_object)
                    .map(|map| {
                        ["title", "body"]
                            .iter()
                            .filter_map(|k| map.get(*k).and_then(Value::as_str))
                            .map(str::len)
                            .sum::<usize>()
                    })
                    .unwrap_or(0)
            };
            let android = message.get("android").and_then(Value::as_object);
            // The android block's names may be in either spelling: read
            // both.
            let android_field = |snake: &str, camel: &str| {
                android.and_then(|a| a.get(snake).or_else(|| a.get(camel)))
            };
            map_bytes(message.get("data"))
                + text_bytes(message.get("notification"))
                + map_bytes(android_field("data", "data"))
                + text_bytes(android_field("notification", "notification"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_paths_are_read_strictly() {
        assert_eq!(duration_secs("3600s"), Some(3600));
        assert_eq!(duration_secs("0.5s"), Some(0));
        assert_eq!(duration_secs("1.123456789s"), Some(1));
        for bad in ["3600", "s", "-1s", "1.s", "1.1234567890s", " 1s", "1e3s"] {
            assert_eq!(duration_secs(bad), None, "{bad}");
        }
        assert_eq!(project_of("/v1/projects/p-1/messages:send"), Some("p-1"));
        assert_eq!(project_of("/v1/projects//messages:send"), None);
        assert_eq!(project_of("/v1/projects/a/b/messages:send"), None);
        assert_eq!(snake("collapseKey"), "collapse_key");
        assert_eq!(snake("channel_id"), "channel_id");
    }
}
