//! `POST /v3/{projectId}/messages:send`: request checks and answers (the
//! order and the code table are in lib.rs).

use std::collections::BTreeMap;

use axum::http::Method;
use serde_json::{json, Map, Value};
use sim_kit::{form, Call, Reply};

use crate::jwt::{self, JwtError};
use crate::receipts::{queue_receipt, ItemOf};
use crate::{
    harmony_day, push_body, CategoryPolicy, Delivery, DeviceUsage, Harmony, Inner, SimApp,
    StoredMessage, TokenSyntax, TokenVerdict, TtlOverMax, MAX_TEST_TOKENS, MAX_TOKENS,
    OTHER_PUSH_TYPES, SERVICE_CATEGORIES,
};

type Kit = sim_kit::Core<Harmony>;

/// `pushOptions.ttl` at most 15 days, default 1 day (§14.4).
const TTL_MAX: i64 = 1_296_000;
const TTL_DEFAULT: i64 = 86_400;
const TAG_MAX_BYTES: usize = 64;
const PROFILE_ID_MAX_CHARS: usize = 64;
const APP_MESSAGE_ID_MAX_CHARS: usize = 64;
const INBOX_MAX: usize = 3;
const INBOX_LINE_MAX_CHARS: usize = 1024;

/// A refusal: the code and its `msg`.
struct Refusal {
    code: &'static str,
    msg: String,
}

type Checked<T> = Result<T, Refusal>;

fn refuse(code: &'static str, msg: impl Into<String>) -> Refusal {
    Refusal {
        code,
        msg: msg.into(),
    }
}

/// 80100003 with the tips.
fn payload(why: impl AsRef<str>) -> Refusal {
    refuse("80100003", format!("Illegal payload, {}", why.as_ref()))
}

/// What a path is.
enum Route<'a> {
    /// `/v3/{projectId}/messages:send`.
    Send(&'a str),
    /// `/v1/..` or `/v2/{id}/messages:send`: the JWT is not accepted there.
    OldVersion,
}

fn route(path: &str) -> Option<Route<'_>> {
    let single = |s: &str| !s.is_empty() && !s.contains('/');
    for (prefix, old) in [("/v3/", false), ("/v2/", true), ("/v1/", true)] {
        if let Some(id) = path
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("/messages:send"))
        {
            if !single(id) {
                return None;
            }
            return Some(if old {
                Route::OldVersion
            } else {
                Route::Send(id)
            });
        }
    }
    None
}

/// An answer with the HTTP status the settings give the code.
fn reply(inner: &Inner, code: &str, msg: &str, request_id: &str) -> Reply {
    Reply::Json {
        status: inner.settings.http_status_of(code),
        body: push_body(code, msg, request_id),
    }
}

pub(crate) fn answer(kit: &Kit, call: &Call) -> Reply {
    let Some(route) = route(&call.path) else {
        return Reply::text(404, "Not Found");
    };
    if call.method != Method::POST {
        return Reply::text(405, "Method Not Allowed");
    }
    let now = kit.now_ms();
    let mut inner = kit.vendor().lock();
    let request_id = inner.new_request_id(now);
    let refused = |inner: &Inner, refusal: Refusal| {
        tracing::debug!(code = refusal.code, msg = %refusal.msg, "refused");
        reply(inner, refusal.code, &refusal.msg, &request_id)
    };
    let project_id = match route {
        Route::Send(project_id) => project_id,
        Route::OldVersion => {
            return refused(&inner, refuse("80200001", "Authentication Error"));
        }
    };
    let auth = jwt::verify(
        &inner,
        call.header("authorization"),
        project_id,
        now.div_euclid(1000),
    );
    let refusal = match auth {
        Ok(()) => None,
        Err(JwtError::Invalid(why)) => {
            tracing::debug!(why, "JWT refused");
            Some(refuse("80200001", "Authentication Error"))
        }
        Err(JwtError::TooLong) => Some(refuse(
            "80300036",
            "The validity period of the JWT token exceeds one day",
        )),
        Err(JwtError::Expired) => Some(refuse("80200005", "Jwt token expired")),
    };
    if let Some(refusal) = refusal {
        return refused(&inner, refusal);
    }
    let Some(app) = inner.apps.get(project_id).cloned() else {
        // A verified key always names a registered project.
        return refused(&inner, refuse("80200001", "Authentication Error"));
    };
    match inner.send(kit, now, &app, call, &request_id) {
        Ok(reply) => reply,
        Err(Outcome::Refused(refusal)) => refused(&inner, refusal),
        Err(Outcome::FlowControl) => Reply::text(503, "Service Unavailable"),
    }
}

enum Outcome {
    Refused(Refusal),
    FlowControl,
}

impl From<Refusal> for Outcome {
    fn from(refusal: Refusal) -> Outcome {
        Outcome::Refused(refusal)
    }
}

/// `application/json`, no parameter but an optional `charset=UTF-8`.
fn is_json(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let (mime, params) = form::media_type(content_type);
    mime == "application/json"
        && params
            .iter()
            .all(|(name, value)| name == "charset" && value.eq_ignore_ascii_case("utf-8"))
}

/// A JSON object's fields, read with strict types; `null` counts as absent.
#[derive(Clone, Copy)]
struct Fields<'a> {
    map: &'a Map<String, Value>,
    at: &'a str,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn name(&self, name: &str) -> String {
        format!("{}.{name}", self.at)
    }

    fn string(&self, name: &str) -> Checked<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(payload(format!("{} must be a string", self.name(name)))),
        }
    }

    /// A string of at most `max` bytes.
    fn short(&self, name: &str, max: usize) -> Checked<Option<String>> {
        match self.string(name)? {
            Some(text) if text.len() > max => Err(payload(format!(
                "{} must be at most {max} bytes",
                self.name(name)
            ))),
            text => Ok(text.map(str::to_owned)),
        }
    }

    fn int(&self, name: &str, min: i64, max: i64) -> Checked<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => match value.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                Some(_) => Err(payload(format!(
                    "{} value ranges from {min} to {max}",
                    self.name(name)
                ))),
                None => Err(payload(format!("{} must be an integer", self.name(name)))),
            },
        }
    }

    fn boolean(&self, name: &str) -> Checked<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(payload(format!("{} must be a boolean", self.name(name)))),
        }
    }

    fn object(&self, name: &str) -> Checked<Option<&'a Map<String, Value>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(payload(format!("{} must be an object", self.name(name)))),
        }
    }
}

/// An `https://` URL with a host and no whitespace.
fn is_https_url(url: &str) -> bool {
    let Some(rest) = url
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .and(url.get(8..))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !url.chars().any(char::is_whitespace)
}

/// `pushOptions` as checked.
struct Options {
    ttl: i64,
    test_message: bool,
    bi_tag: Option<String>,
    receipt_id: Option<String>,
    collapse_key: Option<i64>,
}

fn check_options(options: Option<Fields<'_>>, ttl_over_max: TtlOverMax) -> Checked<Options> {
    let empty = Map::new();
    let o = options.unwrap_or(Fields {
        map: &empty,
        at: "pushOptions",
    });
    let ttl = match o.get("ttl") {
        None => TTL_DEFAULT,
        Some(value) => match value.as_i64() {
            None => return Err(payload("pushOptions.ttl must be an integer")),
            Some(ttl) if ttl < 1 => return Err(refuse("80100004", "Illegal expire time")),
            Some(ttl) if ttl > TTL_MAX => match ttl_over_max {
                TtlOverMax::Reject => return Err(refuse("80100004", "Illegal expire time")),
                TtlOverMax::Clamp => TTL_MAX,
            },
            Some(ttl) => ttl,
        },
    };
    let test_message = o.boolean("testMessage")?.unwrap_or(false);
    let bi_tag = o.short("biTag", TAG_MAX_BYTES)?;
    let receipt_id = o.short("receiptId", TAG_MAX_BYTES)?;
    let collapse_key = o.int("collapseKey", -1, 100)?;
    if o.get("backgroundMode").is_some() {
        return Err(payload(
            "pushOptions.backgroundMode is for push-type 6 only",
        ));
    }
    Ok(Options {
        ttl,
        test_message,
        bi_tag,
        receipt_id,
        collapse_key,
    })
}

/// `payload.notification` as checked.
struct Notification {
    category: Option<String>,
    title: String,
    body: String,
    click_action: Value,
    notify_id: Option<i64>,
    badge: Option<Value>,
}

fn check_notification(payload_map: Option<&Map<String, Value>>) -> Checked<Notification> {
    let Some(payload_map) = payload_map else {
        return Err(payload("payload is required"));
    };
    let p = Fields {
        map: payload_map,
        at: "payload",
    };
    let Some(notification) = p.object("notification")? else {
        return Err(payload("payload.notification is required"));
    };
    let n = Fields {
        map: notification,
        at: "payload.notification",
    };
    let category = n.string("category")?.map(str::to_owned);
    match category.as_deref() {
        Some("PLAY_VOICE") => {
            return Err(payload("category PLAY_VOICE is for push-type 2 only"));
        }
        Some(c) if c != "MARKETING" && !SERVICE_CATEGORIES.contains(&c) => {
            return Err(payload(format!("category {c} is not a valid category")));
        }
        _ => {}
    }
    let title = n
        .string("title")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| payload("payload.notification.title is required"))?;
    let body = n
        .string("body")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| payload("payload.notification.body is required"))?;
    if n.string("image")?.is_some_and(|url| !is_https_url(url)) {
        return Err(payload("payload.notification.image must be an https URL"));
    }
    if let Some(style) = n.get("style") {
        if !matches!(style.as_i64(), Some(0 | 1 | 3)) {
            return Err(payload("payload.notification.style must be 0, 1 or 3"));
        }
    }
    n.string("bigTitle")?;
    n.string("bigBody")?;
    if let Some(lines) = n.get("inboxContent") {
        let ok = lines.as_array().is_some_and(|lines| {
            lines.len() <= INBOX_MAX
                && lines.iter().all(|line| {
                    line.as_str()
                        .is_some_and(|l| l.chars().count() <= INBOX_LINE_MAX_CHARS)
                })
        });
        if !ok {
            return Err(payload(
                "payload.notification.inboxContent must be at most 3 strings of at most 1024 characters",
            ));
        }
    }
    let notify_id = n.int("notifyId", -1, i64::from(i32::MAX))?;
    if let Some(id) = n.string("appMessageId")? {
        let ok = (1..=APP_MESSAGE_ID_MAX_CHARS).contains(&id.chars().count())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=_- ".contains(c));
        if !ok {
            return Err(payload(
                "payload.notification.appMessageId must be 1..64 of [A-Za-z0-9+/=_- ]",
            ));
        }
    }
    if n.string("profileId")?
        .is_some_and(|id| id.chars().count() > PROFILE_ID_MAX_CHARS)
    {
        return Err(payload(
            "payload.notification.profileId must be at most 64 characters",
        ));
    }
    n.string("sound")?;
    n.int("soundDuration", 1, 60)?;
    n.boolean("foregroundShow")?;
    let badge = match n.object("badge")? {
        None => None,
        Some(badge) => {
            // The texts follow the documented "badge addNum value ranges
            // from 1 to 99".
            for (name, min) in [("addNum", 1), ("setNum", 0)] {
                if let Some(value) = badge.get(name).filter(|v| !v.is_null()) {
                    if !value.as_i64().is_some_and(|n| (min..=99).contains(&n)) {
                        return Err(payload(format!(
                            "badge {name} value ranges from {min} to 99"
                        )));
                    }
                }
            }
            Some(Value::Object(badge.clone()))
        }
    };
    let Some(click) = n.object("clickAction")? else {
        return Err(payload("payload.notification.clickAction is required"));
    };
    check_click_action(click)?;
    Ok(Notification {
        category,
        title: title.to_owned(),
        body: body.to_owned(),
        click_action: Value::Object(click.clone()),
        notify_id,
        badge,
    })
}

/// `{actionType, action?, uri?, data?}`: 0 opens the home page, 1 a page
/// (`action` and/or `uri`); `data` an object or (§14.4 CONFLICT) a string.
fn check_click_action(click: &Map<String, Value>) -> Checked<()> {
    let c = Fields {
        map: click,
        at: "payload.notification.clickAction",
    };
    let action = c.string("action")?.filter(|s| !s.is_empty());
    let uri = c.string("uri")?.filter(|s| !s.is_empty());
    match c.get("data") {
        None | Some(Value::Object(_) | Value::String(_)) => {}
        Some(_) => {
            return Err(payload(
                "payload.notification.clickAction.data must be an object",
            ))
        }
    }
    match c.get("actionType").map(Value::as_i64) {
        None => Err(payload(
            "payload.notification.clickAction.actionType is required",
        )),
        Some(Some(0)) => Ok(()),
        Some(Some(1)) if action.is_some() || uri.is_some() => Ok(()),
        Some(Some(1)) => Err(payload("clickAction actionType 1 needs action or uri")),
        Some(Some(3 | 5)) => Err(payload(
            "clickAction actionType 3 and 5 are for live view only",
        )),
        _ => Err(payload(
            "payload.notification.clickAction.actionType must be 0 or 1",
        )),
    }
}

/// The compact JSON of the body without `target.token`, in bytes.
fn size_without_tokens(body: &Value) -> usize {
    let mut body = body.clone();
    if let Some(target) = body.get_mut("target").and_then(Value::as_object_mut) {
        target.remove("token");
    }
    body.to_string().len()
}

/// Well-formed under `syntax` (an empty token never is).
fn well_formed(token: &str, syntax: TokenSyntax) -> bool {
    match syntax {
        TokenSyntax::Any => !token.is_empty(),
        TokenSyntax::Strict => {
            (32..=512).contains(&token.len())
                && token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+/=_-.:".contains(c))
        }
    }
}

/// The `push-type` header: 0, or one of [`OTHER_PUSH_TYPES`]; `None` if
/// missing or invalid.
fn push_type(call: &Call) -> Option<u8> {
    let value = call.header("push-type")?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u8 = value.parse().ok()?;
    (value == 0 || OTHER_PUSH_TYPES.contains(&value)).then_some(value)
}

impl Inner {
    /// `msg` of 80100000 / 80300007: a JSON string with `illegalTokens`.
    fn illegal_msg(
        &self,
        success: Option<usize>,
        illegal: &BTreeMap<String, Vec<String>>,
    ) -> String {
        let pad = self.settings.pad_illegal_keys;
        let map: Map<String, Value> = illegal
            .iter()
            .map(|(reason, tokens)| {
                let key = if pad {
                    format!(" {reason} ")
                } else {
                    reason.clone()
                };
                (key, json!(tokens))
            })
            .collect();
        let failure: usize = illegal.values().map(Vec::len).sum();
        let mut msg = json!({ "failure": failure, "illegalTokens": map });
        if let Some(success) = success {
            msg["success"] = json!(success);
        }
        msg.to_string()
    }

    /// The checks after authentication, then the delivery.
    fn send(
        &mut self,
        kit: &Kit,
        now: i64,
        app: &SimApp,
        call: &Call,
        request_id: &str,
    ) -> Result<Reply, Outcome> {
        if !app.push_enabled {
            return Err(refuse("80300002", "No permission to send message to these tmIDs").into());
        }
        if app.penalized {
            return Err(refuse("80300037", "Disable send huawei msg because of penalty").into());
        }
        let Some(push_type) = push_type(call) else {
            return Err(refuse(
                "80100003",
                "Illegal payload, The header does not contain valid push-type",
            )
            .into());
        };
        if !is_json(call.content_type()) {
            return Err(refuse(
                "80100001",
                "Illegal parameter, Content-Type must be application/json",
            )
            .into());
        }
        let body: Value = serde_json::from_slice(&call.body)
            .map_err(|_| refuse("80100001", "Illegal parameter, the body is not JSON"))?;
        let Some(top) = body.as_object() else {
            return Err(refuse(
                "80100001",
                "Illegal parameter, the body is not a JSON object",
            )
            .into());
        };
        if size_without_tokens(&body) > self.settings.body_limit {
            return Err(refuse(
                "80300008",
                "The message body size exceeds the default value",
            )
            .into());
        }
        let top = Fields { map: top, at: "" };
        let target = top
            .object("target")
            .map_err(|_| payload("target must be an object"))?
            .ok_or_else(|| payload("target is required"))?;
        let tokens = match target.get("token").filter(|v| !v.is_null()) {
            None => return Err(payload("target.token is required").into()),
            Some(Value::Array(tokens)) => tokens,
            Some(_) => return Err(payload("target.token must be an array").into()),
        };
        if tokens.is_empty() || tokens.len() > MAX_TOKENS {
            return Err(refuse("80300010", "token count should within 1 and 1000").into());
        }
        let tokens: Vec<String> = tokens
            .iter()
            .map(|token| match token {
                Value::String(token) => Ok(token.clone()),
                _ => Err(payload("target.token must be an array of strings")),
            })
            .collect::<Checked<_>>()?;
        if push_type != 0 {
            // Other scenarios are not simulated: the project has no right.
            let illegal = BTreeMap::from([("noPushTypeRight".to_owned(), tokens)]);
            let msg = self.illegal_msg(None, &illegal);
            return Err(refuse("80300007", msg).into());
        }
        let options_map = top
            .object("pushOptions")
            .map_err(|_| payload("pushOptions must be an object"))?;
        let options = check_options(
            options_map.map(|map| Fields {
                map,
                at: "pushOptions",
            }),
            self.settings.ttl_over_max,
        )?;
        if options.test_message && tokens.len() > MAX_TEST_TOKENS {
            return Err(refuse("80300030", "The number of test message tokens exceeds 10").into());
        }
        let payload_map = top
            .object("payload")
            .map_err(|_| payload("payload must be an object"))?;
        let n = check_notification(payload_map)?;
        let effective_category = match n.category.as_deref() {
            None if self.settings.missing_category == CategoryPolicy::Reject => {
                return Err(payload("payload.notification.category is required").into());
            }
            None | Some("MARKETING") => "MARKETING".to_owned(),
            Some(c) if app.approved_categories.iter().any(|a| a == c) => c.to_owned(),
            Some(c) if self.settings.unapproved_category == CategoryPolicy::Reject => {
                return Err(
                    payload(format!("no self-classification right for category {c}")).into(),
                );
            }
            Some(_) => "MARKETING".to_owned(),
        };
        let receipt = match &options.receipt_id {
            Some(id) => Some(
                app.receipts
                    .iter()
                    .find(|config| &config.id == id)
                    .cloned()
                    .ok_or_else(|| payload(format!("receiptId {id} is not configured")))?,
            ),
            None => app.receipts.iter().find(|config| config.default).cloned(),
        };

        self.flow_control(now, app, options.test_message)?;
        let syntax = self.settings.token_syntax;
        let mut illegal: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut accepted: Vec<(String, u32)> = Vec::new();
        for token in tokens {
            let verdict = if well_formed(&token, syntax) {
                self.verdict(&token)
            } else {
                TokenVerdict::Illegal("tokenFormatError".to_owned())
            };
            match verdict {
                TokenVerdict::Illegal(reason) => illegal.entry(reason).or_default().push(token),
                TokenVerdict::Status(status) => accepted.push((token, status)),
                TokenVerdict::Valid => accepted.push((token, 0)),
            }
        }
        if accepted.is_empty() {
            let msg = self.illegal_msg(None, &illegal);
            return Err(refuse("80300007", msg).into());
        }
        // Test messages: over the project's daily quota, the request is
        // still accepted and its targets get receipt 256 (§14.7).
        let over_test_quota = options.test_message && {
            let count = self.tests_today(now, &app.project_id);
            self.tests.insert(
                app.project_id.clone(),
                (harmony_day(now), count.saturating_add(1)),
            );
            count >= self.settings.test_daily_limit
        };
        let marketing = effective_category == "MARKETING";
        let of = ItemOf {
            project_id: &app.project_id,
            package_name: &app.package_name,
            push_type,
            bi_tag: options.bi_tag.as_deref(),
            request_id,
        };
        for (token, verdict) in &accepted {
            let status = if options.test_message {
                if over_test_quota {
                    256
                } else {
                    *verdict
                }
            } else {
                self.device_status(now, app, token, *verdict, marketing)
            };
            self.deliveries.push(Delivery {
                request_id: request_id.to_owned(),
                project_id: app.project_id.clone(),
                token: token.clone(),
                status,
                push_type,
                category: n.category.clone(),
                effective_category: effective_category.clone(),
                title: n.title.clone(),
                body: n.body.clone(),
                click_action: n.click_action.clone(),
                notify_id: n.notify_id,
                badge: n.badge.clone(),
                ttl: options.ttl,
                collapse_key: options.collapse_key,
                bi_tag: options.bi_tag.clone(),
                receipt_id: options.receipt_id.clone(),
                test_message: options.test_message,
                payload: payload_map.cloned().map_or(Value::Null, Value::Object),
                push_options: options_map.cloned().map_or(Value::Null, Value::Object),
            });
            if let Some(config) = &receipt {
                queue_receipt(kit, &self.base_url, config, &of, token, status, now);
            }
        }
        self.messages.insert(
            request_id.to_owned(),
            StoredMessage {
                project_id: app.project_id.clone(),
                receipt,
                bi_tag: options.bi_tag.clone(),
                push_type,
                accepted: accepted.iter().map(|(token, _)| token.clone()).collect(),
            },
        );
        if illegal.is_empty() {
            return Ok(reply(self, "80000000", "Success", request_id));
        }
        let msg = self.illegal_msg(Some(accepted.len()), &illegal);
        Ok(reply(self, "80100000", &msg, request_id))
    }

    /// HTTP 503 when the project's calls this second reach its `qps`;
    /// 80300029 when its test-message calls this second reach
    /// [`crate::Settings::test_rate_per_sec`].
    fn flow_control(&mut self, now: i64, app: &SimApp, test: bool) -> Result<(), Outcome> {
        let second = now.div_euclid(1000);
        let bump = |counters: &mut std::collections::HashMap<String, (i64, u32)>| {
            let calls = match counters.get(&app.project_id) {
                Some(&(at, calls)) if at == second => calls,
                _ => 0,
            };
            counters.insert(app.project_id.clone(), (second, calls.saturating_add(1)));
            calls
        };
        let calls = bump(&mut self.calls);
        if app.qps.is_some_and(|qps| calls >= qps) {
            return Err(Outcome::FlowControl);
        }
        if test {
            let calls = bump(&mut self.test_calls);
            if self
                .settings
                .test_rate_per_sec
                .is_some_and(|max| calls >= max)
            {
                return Err(refuse("80300029", "The test message request rate is too high").into());
            }
        }
        Ok(())
    }

    /// The result of one accepted (non-test) target: 256 over the MARKETING
    /// cap, 102 over the device cap, else the token's verdict; counted when
    /// under the caps.
    fn device_status(
        &mut self,
        now: i64,
        app: &SimApp,
        token: &str,
        verdict: u32,
        marketing: bool,
    ) -> u32 {
        let mut usage: DeviceUsage = self.device_usage(now, &app.project_id, token);
        if marketing {
            if app
                .marketing_daily_cap
                .is_some_and(|cap| usage.marketing >= cap)
            {
                return 256;
            }
            usage.marketing += 1;
        } else {
            if app.device_daily_cap.is_some_and(|cap| usage.service >= cap) {
                return 102;
            }
            usage.service += 1;
        }
        self.devices.insert(
            (app.project_id.clone(), token.to_owned()),
            (harmony_day(now), usage),
        );
        verdict
    }
}
