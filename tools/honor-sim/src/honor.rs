//! The token endpoint and `sendMessage`: request checks and answers (the
//! code table is in lib.rs).

use axum::http::Method;
use base64::Engine;
use serde_json::{json, Map, Value};
use sim_kit::{form, Call, Reply, UTC8_MS};

use crate::receipts::PendingReceipt;
use crate::{
    AccessToken, Delivery, Honor, HonorAction, Inner, ReceiptError, ResponseShape, Settings,
    SimApp, StoredMessage, TimestampUnit, TokenVerdict, MAX_TTL_SECS, TOKEN_PATHS,
};

type Kit = sim_kit::Core<Honor>;

/// Why a send call is refused (lib.rs, "Result codes").
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Fault {
    /// A value out of its rules, a missing field, a bad `timestamp`:
    /// 400 / 80100001.
    Param(String),
    /// A field of the wrong JSON type: 400 / 80100003.
    Structure(String),
    /// The message over [`Settings::max_message_bytes`]: 400 / 80300008.
    TooLarge(String),
    /// No tokens, or too many: 400 / 80300010.
    TokenCount(String),
    /// No, an unknown, or another app's access token: 401 / 80200001.
    AuthInvalid,
    /// An expired access token: 401 / 80200003.
    AuthExpired,
    /// Push not enabled for the app: 403 / 80300002.
    NotPermitted,
    /// A daily quota or the QPS limit: 429 / HTTP 503.
    Quota(String),
    /// An HTTP-level answer (plain text).
    Http(Reply),
}

type Checked<T = ()> = Result<T, Fault>;

impl Fault {
    /// The `code:200` shape's code, the Huawei shape's code, the text.
    fn parts(&self) -> (i64, &'static str, String) {
        match self {
            Fault::Param(why) => (400, "80100001", format!("Illegal parameter: {why}")),
            Fault::Structure(why) => (400, "80100003", format!("Illegal payload: {why}")),
            Fault::TooLarge(why) => (400, "80300008", format!("Message body too large: {why}")),
            Fault::TokenCount(why) => (400, "80300010", format!("Illegal token count: {why}")),
            Fault::AuthInvalid => (401, "80200001", "Oauth authentication error".to_owned()),
            Fault::AuthExpired => (401, "80200003", "Oauth Token expired".to_owned()),
            Fault::NotPermitted => (
                403,
                "80300002",
                "The app is not permitted to send messages".to_owned(),
            ),
            Fault::Quota(why) => (429, "", format!("Flow control: {why}")),
            Fault::Http(_) => (0, "", String::new()),
        }
    }

    pub(crate) fn reply(self, settings: &Settings) -> Reply {
        if let Fault::Http(reply) = self {
            return reply;
        }
        let (code, huawei_code, message) = self.parts();
        match settings.response_shape {
            ResponseShape::Code200 => int_error(code, &message, None, settings),
            // Huawei documents flow control as HTTP 503 only (VENDORS_API.md
            // §4.3); its body is unknown, so it is plain text.
            ResponseShape::Huawei if matches!(self, Fault::Quota(_)) => {
                Reply::text(503, "Service Unavailable")
            }
            ResponseShape::Huawei => {
                huawei_error(huawei_code, &message, &request_id_now(), None, settings)
            }
        }
    }
}

/// `{"code":N,"message":..}`, HTTP N (or 200, see lib.rs).
pub(crate) fn int_error(
    code: i64,
    message: &str,
    status: Option<u16>,
    settings: &Settings,
) -> Reply {
    let status = status.unwrap_or_else(|| int_status(code, settings));
    Reply::Json {
        status,
        body: json!({ "code": code, "message": message }),
    }
}

/// The HTTP status of an int code: the code itself when it is an HTTP error
/// status, else 200; always 200 with [`Settings::errors_http_200`].
fn int_status(code: i64, settings: &Settings) -> u16 {
    match u16::try_from(code) {
        Ok(status) if (400..=599).contains(&status) && !settings.errors_http_200 => status,
        _ => 200,
    }
}

/// `{"code":"S","msg":..,"requestId":..}` with the status of the code.
pub(crate) fn huawei_error(
    code: &str,
    message: &str,
    request_id: &str,
    status: Option<u16>,
    settings: &Settings,
) -> Reply {
    let status = status.unwrap_or_else(|| huawei_status(code, settings));
    Reply::Json {
        status,
        body: json!({ "code": code, "msg": message, "requestId": request_id }),
    }
}

/// Huawei's statuses (VENDORS_API.md §4.3): success codes 200, OAuth codes
/// 401, 80300002 403, internal errors 500, other codes 400.
fn huawei_status(code: &str, settings: &Settings) -> u16 {
    let status = match code {
        "80000000" | "80100000" => 200,
        "80200001" | "80200003" | "80200005" => 401,
        "80300002" => 403,
        "81000001" | "80600003" => 500,
        _ => 400,
    };
    if settings.errors_http_200 {
        200
    } else {
        status
    }
}

/// A scripted [`HonorAction`].
pub(crate) fn action_reply(settings: &Settings, action: HonorAction) -> Reply {
    match action {
        HonorAction::Error {
            code: Value::String(code),
            message,
            status,
        } => huawei_error(&code, &message, &request_id_now(), status, settings),
        HonorAction::Error {
            code,
            message,
            status,
        } => {
            let status =
                status.unwrap_or_else(|| code.as_i64().map_or(200, |c| int_status(c, settings)));
            Reply::Json {
                status,
                body: json!({ "code": code, "message": message }),
            }
        }
        HonorAction::OAuthError {
            status,
            error,
            description,
        } => oauth_error(status, &error, &description),
    }
}

/// An OAuth2 error (RFC 6749 §5.2, as Keycloak answers it).
fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::Json {
        status,
        body: json!({ "error": error, "error_description": description }),
    }
}

/// Honor's day of an instant: days since the epoch from midnight UTC+8.
pub(crate) fn honor_day(now_ms: i64) -> i64 {
    sim_kit::day_of(now_ms, UTC8_MS)
}

/// A request id for answers that make no message.
fn request_id_now() -> String {
    let id = uuid::Uuid::new_v4().as_u128() % 10u128.pow(18);
    format!("{id:018}")
}

/// The app id of a send path `/api/v1/{appId}/sendMessage`.
fn send_app_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/")
        .and_then(|rest| rest.strip_suffix("/sendMessage"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// An absolute `http://` or `https://` URL with a host.
pub(crate) fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.has_host())
}

fn is_https_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|parsed| parsed.scheme() == "https" && parsed.has_host())
}

/// `media` with no parameter but an optional `charset=UTF-8` (any case).
fn is_media(content_type: Option<&str>, media: &str) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let (mime, params) = form::media_type(content_type);
    mime == media
        && params
            .iter()
            .all(|(name, value)| name == "charset" && value.eq_ignore_ascii_case("utf-8"))
}

/// Honor's normal behaviour for one call.
pub(crate) fn answer(kit: &Kit, call: &Call) -> Reply {
    let path = call.path.as_str();
    let is_token = TOKEN_PATHS.contains(&path);
    let app_id = send_app_id(path);
    if !is_token && app_id.is_none() {
        return Reply::text(404, "Not Found");
    }
    if call.method != Method::POST {
        return Reply::text(405, "Method Not Allowed");
    }
    let now = kit.now_ms();
    let mut inner = kit.vendor().lock();
    match app_id {
        None => inner.token(now, call),
        Some(app_id) => {
            let settings = inner.settings;
            inner
                .send(kit, now, app_id, call)
                .unwrap_or_else(|fault| fault.reply(&settings))
        }
    }
}

/// A new opaque access token (base64 of 32 random bytes, like the `…==`
/// sample of §3.3).
fn new_access_token() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A JSON field, `null` read as absent.
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn opt_str<'a>(object: &'a Map<String, Value>, name: &str, at: &str) -> Checked<Option<&'a str>> {
    match field(object, name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(Fault::Structure(format!("{at}{name} must be a string"))),
    }
}

/// A non-empty string if present.
fn opt_text<'a>(object: &'a Map<String, Value>, name: &str, at: &str) -> Checked<Option<&'a str>> {
    match opt_str(object, name, at)? {
        Some(text) if text.trim().is_empty() => {
            Err(Fault::Param(format!("{at}{name} must not be empty")))
        }
        other => Ok(other),
    }
}

fn opt_int(object: &Map<String, Value>, name: &str, at: &str) -> Checked<Option<i64>> {
    match field(object, name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| Fault::Structure(format!("{at}{name} must be an integer"))),
    }
}

fn opt_int_in(
    object: &Map<String, Value>,
    name: &str,
    at: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Checked<Option<i64>> {
    let value = opt_int(object, name, at)?;
    match value {
        Some(n) if !range.contains(&n) => Err(Fault::Param(format!(
            "{at}{name} must be in {}..={}",
            range.start(),
            range.end()
        ))),
        other => Ok(other),
    }
}

fn opt_object<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    at: &str,
) -> Checked<Option<&'a Map<String, Value>>> {
    match field(object, name) {
        None => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(_) => Err(Fault::Structure(format!("{at}{name} must be an object"))),
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The checked message of a send call.
struct Message {
    tokens: Vec<String>,
    test: bool,
    data: Option<String>,
    ttl: Option<String>,
    bi_tag: Option<String>,
    notification: Option<Notification>,
}

struct Notification {
    title: String,
    body: String,
    click_type: i64,
    importance: Option<String>,
    notify_id: Option<i64>,
}

impl Inner {
    /// The token endpoint (§3.2): a form, then the grant type, then the
    /// client.
    fn token(&mut self, now: i64, call: &Call) -> Reply {
        let invalid_request = |why: &str| oauth_error(400, "invalid_request", why);
        if !is_media(call.content_type(), "application/x-www-form-urlencoded") {
            return invalid_request("Content-Type must be application/x-www-form-urlencoded");
        }
        let Ok(pairs) = form::decode(&call.body) else {
            return invalid_request("Malformed form body");
        };
        let mut fields: Map<String, Value> = Map::new();
        for (name, value) in pairs {
            if fields.insert(name.clone(), Value::String(value)).is_some() {
                return invalid_request(&format!("duplicated parameter: {name}"));
            }
        }
        let get = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        match get("grant_type") {
            None => return invalid_request("Missing form parameter: grant_type"),
            Some("client_credentials") => {}
            Some(_) => return oauth_error(400, "unsupported_grant_type", "Unsupported grant_type"),
        }
        let app = get("client_id").and_then(|id| self.apps.values().find(|a| a.client_id == id));
        let Some(app) = app.filter(|app| get("client_secret") == Some(app.client_secret.as_str()))
        else {
            return oauth_error(
                401,
                "invalid_client",
                "Invalid client or Invalid client credentials",
            );
        };
        let ttl = self.settings.token_ttl_secs;
        let token = AccessToken {
            access_token: new_access_token(),
            app_id: app.app_id.clone(),
            issued_ms: now,
            expires_ms: now
                .saturating_add(i64::try_from(ttl.saturating_mul(1000)).unwrap_or(i64::MAX)),
        };
        tracing::info!(app_id = %token.app_id, "access token issued");
        let access_token = token.access_token.clone();
        self.tokens.insert(access_token.clone(), token);
        Reply::json(json!({
            "access_token": access_token,
            "expires_in": ttl,
            "token_type": "Bearer",
        }))
    }

    /// `sendMessage`, checks in lib.rs's order.
    fn send(&mut self, kit: &Kit, now: i64, app_id: &str, call: &Call) -> Checked<Reply> {
        let settings = self.settings;
        let app = self.authorize(now, app_id, call)?;
        check_timestamp(call.header("timestamp"), now, &settings)?;
        if !is_media(call.content_type(), "application/json") {
            return Err(Fault::Http(Reply::text(
                415,
                "Content-Type must be application/json; charset=UTF-8",
            )));
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&call.body) else {
            return Err(Fault::Http(Reply::text(
                400,
                "the body is not a JSON object",
            )));
        };
        if !app.push_enabled {
            return Err(Fault::NotPermitted);
        }
        check_size(&body, &settings)?;
        let message = check_message(&body, &settings)?;
        self.check_rate(now, &app.app_id)?;
        self.check_quota(now, &app.app_id, message.test)?;

        let mut delivered = Vec::new();
        let mut expired = Vec::new();
        let mut failed = Vec::new();
        for token in &message.tokens {
            match self.verdicts.get(token).copied().unwrap_or_default() {
                TokenVerdict::Valid => delivered.push(token.clone()),
                TokenVerdict::Expired => expired.push(token.clone()),
                TokenVerdict::Failed => failed.push(token.clone()),
            }
        }
        let request_id = self.new_request_id(now);
        self.record(now, &app, &request_id, &message, &delivered, &body);
        if let Some(url) = &app.receipt_url {
            for token in &delivered {
                kit.receipts().queue(PendingReceipt {
                    url: url.clone(),
                    app_id: app.app_id.clone(),
                    request_id: request_id.clone(),
                    bi_tag: message.bi_tag.clone(),
                    status: settings.receipt_delivered_status,
                    timestamp: now,
                    token: token.clone(),
                });
            }
        }
        Ok(success(
            &settings,
            &request_id,
            &delivered,
            &expired,
            &failed,
        ))
    }

    /// The `Authorization: Bearer <token>` of the URL's app.
    fn authorize(&self, now: i64, app_id: &str, call: &Call) -> Checked<SimApp> {
        let token = call
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .filter(|token| !token.is_empty());
        let Some(issued) = token.and_then(|token| self.tokens.get(token)) else {
            return Err(Fault::AuthInvalid);
        };
        if now >= issued.expires_ms {
            return Err(Fault::AuthExpired);
        }
        if issued.app_id != app_id {
            return Err(Fault::AuthInvalid);
        }
        self.apps.get(app_id).cloned().ok_or(Fault::AuthInvalid)
    }

    /// Calls per second of the simulator's clock (every call that passed the
    /// field checks counts, refused or not by the quota).
    fn check_rate(&mut self, now: i64, app_id: &str) -> Checked {
        let limit = self.quotas_of(app_id).qps;
        let second = now.div_euclid(1000);
        let entry = self.calls.entry(app_id.to_owned()).or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        if let Some(limit) = limit {
            if entry.1 >= limit {
                return Err(Fault::Quota(format!("more than {limit} calls per second")));
            }
        }
        entry.1 += 1;
        Ok(())
    }

    /// Refused once the day's count has reached the quota.
    fn check_quota(&self, now: i64, app_id: &str, test: bool) -> Checked {
        let quotas = self.quotas_of(app_id);
        let count = self.count_today(now, app_id);
        let (used, quota, what) = if test {
            (count.test_delivered, quotas.test_daily, "test messages")
        } else {
            (count.delivered, quotas.daily, "messages")
        };
        match quota {
            Some(quota) if used >= quota => Err(Fault::Quota(format!(
                "daily quota of {quota} {what} used up"
            ))),
            _ => Ok(()),
        }
    }

    fn new_request_id(&mut self, now: i64) -> String {
        self.next_request += 1;
        format!("{now}{:06}", self.next_request % 1_000_000)
    }

    /// Deliveries, day counts and the stored message of an accepted call.
    fn record(
        &mut self,
        now: i64,
        app: &SimApp,
        request_id: &str,
        message: &Message,
        delivered: &[String],
        body: &Map<String, Value>,
    ) {
        let note = message.notification.as_ref();
        let classification = note.map(|note| {
            let service = app.self_classification && note.importance.as_deref() == Some("NORMAL");
            if service { "service" } else { "marketing" }.to_owned()
        });
        let request = Value::Object(body.clone());
        for token in delivered {
            self.deliveries.push(Delivery {
                request_id: request_id.to_owned(),
                app_id: app.app_id.clone(),
                token: token.clone(),
                test: message.test,
                notification: note.is_some(),
                title: note.map(|n| n.title.clone()),
                body: note.map(|n| n.body.clone()),
                click_type: note.map(|n| n.click_type),
                importance: note.and_then(|n| n.importance.clone()),
                classification: classification.clone(),
                ttl: message.ttl.clone(),
                bi_tag: message.bi_tag.clone(),
                data: message.data.clone(),
                notify_id: note.and_then(|n| n.notify_id),
                request: request.clone(),
            });
        }
        let mut count = self.count_today(now, &app.app_id);
        let n = u64::try_from(delivered.len()).unwrap_or(u64::MAX);
        if message.test {
            count.test_delivered = count.test_delivered.saturating_add(n);
        } else {
            count.delivered = count.delivered.saturating_add(n);
        }
        self.counts.insert(app.app_id.clone(), count);
        self.messages.insert(
            request_id.to_owned(),
            StoredMessage {
                app_id: app.app_id.clone(),
                bi_tag: message.bi_tag.clone(),
                delivered: delivered.to_vec(),
            },
        );
    }
}

/// The answer of an accepted call, in the configured shape.
fn success(
    settings: &Settings,
    request_id: &str,
    delivered: &[String],
    expired: &[String],
    failed: &[String],
) -> Reply {
    match settings.response_shape {
        ResponseShape::Code200 => Reply::json(json!({
            "code": 200,
            "message": "Success",
            "data": {
                "sendResult": !delivered.is_empty(),
                "requestId": request_id,
                "failTokens": failed,
                "expireTokens": expired,
            },
        })),
        ResponseShape::Huawei if expired.is_empty() && failed.is_empty() => Reply::json(json!({
            "code": "80000000",
            "msg": "Success",
            "requestId": request_id,
        })),
        ResponseShape::Huawei if delivered.is_empty() && failed.is_empty() => huawei_error(
            "80300007",
            "All the tokens are invalid",
            request_id,
            None,
            settings,
        ),
        ResponseShape::Huawei => {
            let detail = json!({
                "success": delivered.len(),
                "failure": expired.len() + failed.len(),
                "illegal_tokens": expired,
            });
            Reply::json(json!({
                "code": "80100000",
                "msg": detail.to_string(),
                "requestId": request_id,
            }))
        }
    }
}

/// The `timestamp` header: digits of the configured unit, within the window.
fn check_timestamp(value: Option<&str>, now: i64, settings: &Settings) -> Checked {
    let Some(text) = value else {
        return Err(Fault::Param("the timestamp header is missing".to_owned()));
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fault::Param("timestamp must be decimal digits".to_owned()));
    }
    let unit_ms = match (settings.timestamp_unit, text.len()) {
        (TimestampUnit::Either | TimestampUnit::Millis, 13) => 1,
        (TimestampUnit::Either | TimestampUnit::Seconds, 10) => 1000,
        (TimestampUnit::Millis, _) => {
            return Err(Fault::Param("timestamp must be 13 digits (ms)".to_owned()))
        }
        (TimestampUnit::Seconds, _) => {
            return Err(Fault::Param("timestamp must be 10 digits (s)".to_owned()))
        }
        (TimestampUnit::Either, _) => {
            return Err(Fault::Param(
                "timestamp must be 13 digits (ms) or 10 digits (s)".to_owned(),
            ))
        }
    };
    let Some(ms) = text
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_ms))
    else {
        return Err(Fault::Param("timestamp out of range".to_owned()));
    };
    if let Some(window) = settings.timestamp_window_ms {
        let window = i64::try_from(window).unwrap_or(i64::MAX);
        if ms.abs_diff(now) > window.unsigned_abs() {
            return Err(Fault::Param(format!(
                "timestamp {text} is more than {window} ms from the server's clock"
            )));
        }
    }
    Ok(())
}

/// The body without `token`, compact JSON, at most `max_message_bytes`.
fn check_size(body: &Map<String, Value>, settings: &Settings) -> Checked {
    let mut message = body.clone();
    message.remove("token");
    let size = serde_json::to_vec(&Value::Object(message))
        .map(|bytes| bytes.len())
        .unwrap_or(usize::MAX);
    if size > settings.max_message_bytes {
        return Err(Fault::TooLarge(format!(
            "{size} bytes without token, at most {}",
            settings.max_message_bytes
        )));
    }
    Ok(())
}

/// `token`: an array of 1..=max non-empty strings.
fn check_tokens(body: &Map<String, Value>, settings: &Settings) -> Checked<Vec<String>> {
    let list = match field(body, "token") {
        None => return Err(Fault::TokenCount("token is missing".to_owned())),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(Fault::Structure("token must be an array".to_owned())),
    };
    if list.is_empty() || list.len() > settings.max_tokens {
        return Err(Fault::TokenCount(format!(
            "{} tokens, 1..={} allowed",
            list.len(),
            settings.max_tokens
        )));
    }
    list.iter()
        .map(|token| match token {
            Value::String(token) if token.trim().is_empty() => {
                Err(Fault::Param("a token is empty".to_owned()))
            }
            Value::String(token) => Ok(token.clone()),
            _ => Err(Fault::Structure("token must hold strings".to_owned())),
        })
        .collect()
}

/// `android.ttl`: `<seconds>s`, the seconds an integer or a decimal,
/// at most 15 days (or clamped to it).
fn check_ttl(text: &str, settings: &Settings) -> Checked<String> {
    let bad = || Fault::Param(format!("android.ttl {text:?} must be like \"86400s\""));
    let number = text.strip_suffix('s').ok_or_else(bad)?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || number.ends_with('.') {
        return Err(bad());
    }
    let seconds: u64 = whole.parse().unwrap_or(u64::MAX);
    let over =
        seconds > MAX_TTL_SECS || (seconds == MAX_TTL_SECS && fraction.bytes().any(|b| b != b'0'));
    match (over, settings.clamp_ttl) {
        (false, _) => Ok(text.to_owned()),
        (true, true) => Ok(format!("{MAX_TTL_SECS}s")),
        (true, false) => Err(Fault::Param(format!(
            "android.ttl {text} is over {MAX_TTL_SECS}s (15 days)"
        ))),
    }
}

/// The whole message: tokens, then `data`, `notification`, `android` and
/// its fields in lib.rs's order.
fn check_message(body: &Map<String, Value>, settings: &Settings) -> Checked<Message> {
    let tokens = check_tokens(body, settings)?;
    let data = opt_str(body, "data", "")?;
    let top = opt_object(body, "notification", "")?;
    let (top_title, top_body) = match top {
        Some(top) => {
            opt_str(top, "image", "notification.")?;
            (
                opt_str(top, "title", "notification.")?,
                opt_str(top, "body", "notification.")?,
            )
        }
        None => (None, None),
    };
    let android = opt_object(body, "android", "")?;
    let empty = Map::new();
    let android = android.unwrap_or(&empty);
    const A: &str = "android.";
    let ttl = opt_str(android, "ttl", A)?
        .map(|ttl| check_ttl(ttl, settings))
        .transpose()?;
    let bi_tag = opt_str(android, "biTag", A)?;
    let android_data = opt_str(android, "data", A)?;
    let test = opt_int_in(android, "targetUserType", A, 0..=1)? == Some(1);
    let note = opt_object(android, "notification", A)?;
    let notification = if note.is_some() || top.is_some() {
        Some(check_notification(
            note.unwrap_or(&empty),
            top_title,
            top_body,
        )?)
    } else {
        None
    };
    let data = android_data.or(data);
    if notification.is_none() && data.is_none() {
        return Err(Fault::Param(
            "a message needs a notification or data".to_owned(),
        ));
    }
    Ok(Message {
        tokens,
        test,
        data: data.map(str::to_owned),
        ttl,
        bi_tag: bi_tag.map(str::to_owned),
        notification,
    })
}

/// `android.notification` (with the top-level `notification`'s title and
/// body as defaults).
fn check_notification(
    note: &Map<String, Value>,
    top_title: Option<&str>,
    top_body: Option<&str>,
) -> Checked<Notification> {
    const N: &str = "android.notification.";
    let title = opt_str(note, "title", N)?.or(top_title);
    let body = opt_str(note, "body", N)?.or(top_body);
    let (title, body) = match (title, body) {
        (Some(title), Some(body)) if !title.trim().is_empty() && !body.trim().is_empty() => {
            (title, body)
        }
        _ => {
            return Err(Fault::Param(
                "a notification needs a non-empty title and body".to_owned(),
            ))
        }
    };
    let click = opt_object(note, "clickAction", N)?
        .ok_or_else(|| Fault::Param(format!("{N}clickAction is missing")))?;
    let click_type = check_click(click)?;
    let importance = opt_str(note, "importance", N)?;
    if let Some(value) = importance {
        if !matches!(value, "NORMAL" | "LOW") {
            return Err(Fault::Param(format!("{N}importance must be NORMAL or LOW")));
        }
    }
    let style = opt_int_in(note, "style", N, 0..=1)?;
    let big_title = opt_text(note, "bigTitle", N)?;
    let big_body = opt_text(note, "bigBody", N)?;
    if style == Some(1) && (big_title.is_none() || big_body.is_none()) {
        return Err(Fault::Param(format!(
            "{N}style 1 needs bigTitle and bigBody"
        )));
    }
    let notify_id = opt_int_in(note, "notifyId", N, 0..=2_147_483_647)?;
    for name in ["tag", "group", "when", "image"] {
        opt_str(note, name, N)?;
    }
    check_buttons(note)?;
    check_badge(note)?;
    Ok(Notification {
        title: title.to_owned(),
        body: body.to_owned(),
        click_type,
        importance: importance.map(str::to_owned),
        notify_id,
    })
}

/// `clickAction`: type 1 needs `intent` or `action`, 2 an `https://` `url`,
/// 3 nothing.
fn check_click(click: &Map<String, Value>) -> Checked<i64> {
    const C: &str = "android.notification.clickAction.";
    let Some(kind) = opt_int(click, "type", C)? else {
        return Err(Fault::Param(format!("{C}type is missing")));
    };
    let intent = opt_text(click, "intent", C)?;
    let action = opt_text(click, "action", C)?;
    let url = opt_text(click, "url", C)?;
    match kind {
        1 if intent.is_none() && action.is_none() => {
            Err(Fault::Param(format!("{C}type 1 needs intent or action")))
        }
        2 => match url {
            None => Err(Fault::Param(format!("{C}type 2 needs url"))),
            Some(url) if !is_https_url(url) => {
                Err(Fault::Param(format!("{C}url must be an https:// URL")))
            }
            Some(_) => Ok(2),
        },
        1 | 3 => Ok(kind),
        _ => Err(Fault::Param(format!("{C}type must be 1, 2 or 3"))),
    }
}

/// `buttons`: at most 3 of `{name <= 40, actionType 0..=2, intentType 0/1,
/// intent, data <= 1024}`; actionType 1 and 2 need an intent.
fn check_buttons(note: &Map<String, Value>) -> Checked {
    const B: &str = "android.notification.buttons";
    let buttons = match field(note, "buttons") {
        None => return Ok(()),
        Some(Value::Array(buttons)) => buttons,
        Some(_) => return Err(Fault::Structure(format!("{B} must be an array"))),
    };
    if buttons.len() > 3 {
        return Err(Fault::Param(format!("{B}: at most 3 buttons")));
    }
    for button in buttons {
        let Value::Object(button) = button else {
            return Err(Fault::Structure(format!("{B} must hold objects")));
        };
        let at = "android.notification.buttons[].";
        let Some(name) = opt_text(button, "name", at)? else {
            return Err(Fault::Param(format!("{at}name is missing")));
        };
        if chars(name) > 40 {
            return Err(Fault::Param(format!("{at}name over 40 characters")));
        }
        let Some(action_type) = opt_int_in(button, "actionType", at, 0..=2)? else {
            return Err(Fault::Param(format!("{at}actionType is missing")));
        };
        opt_int_in(button, "intentType", at, 0..=1)?;
        let intent = opt_text(button, "intent", at)?;
        if action_type != 0 && intent.is_none() {
            return Err(Fault::Param(format!(
                "{at}actionType {action_type} needs an intent"
            )));
        }
        if opt_str(button, "data", at)?.is_some_and(|data| chars(data) > 1024) {
            return Err(Fault::Param(format!("{at}data over 1024 characters")));
        }
    }
    Ok(())
}

/// `badge`: `addNum` 1..=99, `setNum` 0..=99, `badgeClass` required with
/// either.
fn check_badge(note: &Map<String, Value>) -> Checked {
    const G: &str = "android.notification.badge.";
    let Some(badge) = opt_object(note, "badge", "android.notification.")? else {
        return Ok(());
    };
    let add = opt_int_in(badge, "addNum", G, 1..=99)?;
    let set = opt_int_in(badge, "setNum", G, 0..=99)?;
    let class = opt_text(badge, "badgeClass", G)?;
    if (add.is_some() || set.is_some()) && class.is_none() {
        return Err(Fault::Param(format!("{G}badgeClass is missing")));
    }
    Ok(())
}

/// Queues receipts on command (`Simulator::send_receipt`, `POST /_sim/receipts`).
pub(crate) fn send_receipt(
    kit: &Kit,
    request_id: &str,
    status: i64,
    targets: Option<Vec<String>>,
) -> Result<usize, ReceiptError> {
    if targets
        .as_ref()
        .is_some_and(|targets| targets.iter().any(String::is_empty))
    {
        return Err(ReceiptError("targets must not be empty strings".to_owned()));
    }
    let now = kit.now_ms();
    let inner = kit.vendor().lock();
    let Some(message) = inner.messages.get(request_id) else {
        return Err(ReceiptError(format!("unknown requestId {request_id:?}")));
    };
    let Some(url) = inner
        .apps
        .get(&message.app_id)
        .and_then(|app| app.receipt_url.clone())
    else {
        return Err(ReceiptError(format!(
            "app {} has no receipt address",
            message.app_id
        )));
    };
    let targets = targets.unwrap_or_else(|| message.delivered.clone());
    for token in &targets {
        kit.receipts().queue(PendingReceipt {
            url: url.clone(),
            app_id: message.app_id.clone(),
            request_id: request_id.to_owned(),
            bi_tag: message.bi_tag.clone(),
            status,
            timestamp: now,
            token: token.clone(),
        });
    }
    Ok(targets.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_forms() {
        let s = Settings::default();
        for ok in ["0s", "86400s", "1296000s", "1296000.000s", "1.5s"] {
            assert_eq!(check_ttl(ok, &s), Ok(ok.to_owned()), "{ok}");
        }
        for bad in [
            "86400",
            "s",
            ".5s",
            "1.s",
            "-1s",
            "1296001s",
            "1296000.1s",
            "1 s",
        ] {
            assert!(check_ttl(bad, &s).is_err(), "{bad}");
        }
        let clamp = Settings {
            clamp_ttl: true,
            ..Settings::default()
        };
        assert_eq!(check_ttl("2000000s", &clamp), Ok("1296000s".to_owned()));
    }

    #[test]
    fn send_paths() {
        assert_eq!(send_app_id("/api/v1/104/sendMessage"), Some("104"));
        for bad in [
            "/api/v1//sendMessage",
            "/api/v1/1/2/sendMessage",
            "/v1/104/messages:send",
            "/api/v1/104/sendMessage/",
        ] {
            assert_eq!(send_app_id(bad), None, "{bad}");
        }
    }
}
