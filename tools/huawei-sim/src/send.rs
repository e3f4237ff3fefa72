//! `POST /v1/{appId}/messages:send`: request checks and answers (the order
//! and the code table are in lib.rs).

use axum::http::Method;
use serde_json::{json, Map, Value};
use sim_kit::{form, Call, Reply};

use crate::receipts::queue_receipt;
use crate::{
    huawei_day, push_body, Delivery, DeviceUsage, Huawei, Inner, SimApp, StoredMessage,
    TokenVerdict, TtlOverMax, UnapprovedCategory, CATEGORIES, MAX_TOKENS,
};

type Kit = sim_kit::Core<Huawei>;

/// `android.ttl` at most 15 days (§4.2).
const TTL_MAX_SECS: f64 = 1_296_000.0;
const PROFILE_ID_MAX_CHARS: usize = 64;
const BUTTONS_MAX: usize = 3;
const INBOX_MAX: usize = 5;

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

/// 80100003 with the field and why.
fn payload(why: impl AsRef<str>) -> Refusal {
    refuse("80100003", format!("Illegal payload, {}", why.as_ref()))
}

/// The app id of a send path, if it is one.
pub(crate) fn app_of_path(path: &str) -> Option<&str> {
    let app = path.strip_prefix("/v1/")?.strip_suffix("/messages:send")?;
    (!app.is_empty() && !app.contains('/')).then_some(app)
}

/// An answer with the HTTP status the settings give the code.
fn reply(inner: &Inner, code: &str, msg: &str, request_id: &str) -> Reply {
    Reply::Json {
        status: inner.settings.http_status_of(code),
        body: push_body(code, msg, request_id),
    }
}

pub(crate) fn answer(kit: &Kit, call: &Call) -> Reply {
    let Some(app_id) = app_of_path(&call.path) else {
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
    let app = match authenticate(&inner, call, app_id, now) {
        Ok(app) => app,
        Err(refusal) => return refused(&inner, refusal),
    };
    if !app.push_enabled {
        let refusal = refuse(
            "80300002",
            format!("[appid:{app_id}]The APP is forbidden to send"),
        );
        return refused(&inner, refusal);
    }
    match inner.send(kit, now, &app, call, &request_id) {
        Ok(reply) => reply,
        Err(Outcome::Refused(refusal)) => refused(&inner, refusal),
        Err(Outcome::FlowControl) => Reply::text(503, "Service Unavailable"),
    }
}

/// `Authorization: Bearer <access token>` of an unexpired, valid token of
/// this app.
fn authenticate(inner: &Inner, call: &Call, app_id: &str, now: i64) -> Checked<SimApp> {
    let oauth_error = || refuse("80200001", "Oauth authentication error");
    let token = call
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .filter(|token| !token.is_empty())
        .ok_or_else(oauth_error)?;
    let issued = inner.access_tokens.get(token).ok_or_else(oauth_error)?;
    if issued.revoked || issued.app_id != app_id {
        return Err(oauth_error());
    }
    let app = inner.apps.get(app_id).ok_or_else(oauth_error)?;
    if now >= issued.expires_ms {
        return Err(refuse("80200003", "Oauth Token expired"));
    }
    Ok(app.clone())
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
        if self.at.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.at)
        }
    }

    fn string(&self, name: &str) -> Checked<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(payload(format!("{} must be a string", self.name(name)))),
        }
    }

    fn text(&self, name: &str) -> Checked<Option<String>> {
        Ok(self.string(name)?.map(str::to_owned))
    }

    fn int(&self, name: &str, min: i64, max: i64) -> Checked<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => match value.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                Some(_) => Err(payload(format!(
                    "{} must be in {min}..={max}",
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

    fn array(&self, name: &str) -> Checked<Option<&'a Vec<Value>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(payload(format!("{} must be an array", self.name(name)))),
        }
    }

    fn strings(&self, name: &str, max: usize) -> Checked<()> {
        if let Some(items) = self.array(name)? {
            if items.len() > max {
                return Err(payload(format!(
                    "{} has more than {max} items",
                    self.name(name)
                )));
            }
            if !items.iter().all(Value::is_string) {
                return Err(payload(format!(
                    "{} must be an array of strings",
                    self.name(name)
                )));
            }
        }
        Ok(())
    }

    fn one_of(&self, name: &str, allowed: &[&str]) -> Checked<Option<String>> {
        match self.string(name)? {
            Some(value) if !allowed.contains(&value) => Err(payload(format!(
                "{} must be one of {}",
                self.name(name),
                allowed.join(", ")
            ))),
            value => Ok(value.map(str::to_owned)),
        }
    }
}

/// An `https://` URL with a host and no whitespace.
fn is_https_url(url: &str) -> bool {
    let Some(scheme) = url.get(..8) else {
        return false;
    };
    let rest = &url[8..];
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    scheme.eq_ignore_ascii_case("https://")
        && !host.is_empty()
        && !url.chars().any(char::is_whitespace)
}

/// `"<seconds>s"`, the seconds an integer or a decimal with up to 9
/// fraction digits.
fn parse_ttl(text: &str) -> Option<f64> {
    let number = text.strip_suffix('s')?;
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f) || f.len() > 9) {
        return None;
    }
    number.parse().ok()
}

/// A message as checked.
struct Message {
    tokens: Vec<String>,
    notification: bool,
    title: Option<String>,
    body: Option<String>,
    click_action: Option<Value>,
    category: Option<String>,
    importance: Option<String>,
    notify_id: Option<i64>,
    tag: Option<String>,
    badge: Option<Value>,
    data: Option<String>,
    ttl_secs: Option<f64>,
    collapse_key: Option<i64>,
    urgency: Option<String>,
    bi_tag: Option<String>,
    receipt_id: Option<String>,
    target_user_type: i64,
}

/// The checks of `message`, in lib.rs's order.
fn check_message(message: Fields<'_>, ttl_over_max: TtlOverMax) -> Checked<Message> {
    let tokens = message.array("token")?;
    let targets = ["token", "topic", "condition"]
        .iter()
        .filter(|name| message.get(name).is_some())
        .count();
    if targets != 1 {
        return Err(payload(
            "exactly one of token, topic, condition is required",
        ));
    }
    let Some(tokens) = tokens else {
        return Err(payload(
            "only token targets are simulated (topic, condition)",
        ));
    };
    if tokens.is_empty() {
        return Err(payload("token must not be empty"));
    }
    if tokens.len() > MAX_TOKENS {
        return Err(refuse(
            "80300010",
            "The number of tokens in the message body exceeds the default value",
        ));
    }
    let tokens: Vec<String> = tokens
        .iter()
        .map(|token| match token {
            Value::String(token) if !token.is_empty() => Ok(token.clone()),
            _ => Err(payload("token must be an array of non-empty strings")),
        })
        .collect::<Checked<_>>()?;
    let data = message.text("data")?;
    let common = match message.object("notification")? {
        Some(map) => {
            let common = Fields {
                map,
                at: "message.notification",
            };
            for name in ["title", "body", "image"] {
                common.string(name)?;
            }
            Some(common)
        }
        None => None,
    };
    let android = message.object("android")?.map(|map| Fields {
        map,
        at: "message.android",
    });
    let empty = Map::new();
    let a = android.unwrap_or(Fields {
        map: &empty,
        at: "message.android",
    });
    let collapse_key = match a.get("collapse_key") {
        None => None,
        Some(value) => match value.as_i64() {
            Some(n) if n == -1 || (0..=100).contains(&n) => Some(n),
            _ => {
                return Err(refuse(
                    "80100013",
                    "collapse_key must be -1 or an integer in 0..=100",
                ))
            }
        },
    };
    let urgency = a.one_of("urgency", &["HIGH", "NORMAL"])?;
    let category = a.one_of("category", &CATEGORIES)?;
    let ttl_secs = match a.string("ttl")? {
        None => None,
        Some(text) => {
            let secs = parse_ttl(text)
                .ok_or_else(|| payload("message.android.ttl must be like \"86400s\""))?;
            if secs > TTL_MAX_SECS {
                match ttl_over_max {
                    TtlOverMax::Reject => {
                        return Err(payload("message.android.ttl must be at most 1296000s"))
                    }
                    TtlOverMax::Clamp => Some(TTL_MAX_SECS),
                }
            } else {
                Some(secs)
            }
        }
    };
    let bi_tag = a.text("bi_tag")?;
    let receipt_id = a.text("receipt_id")?;
    let target_user_type = a.int("target_user_type", 0, 1)?.unwrap_or(0);
    let data = a.text("data")?.or(data);
    let n = a.object("notification")?.map(|map| Fields {
        map,
        at: "message.android.notification",
    });

    let mut checked = Message {
        tokens,
        notification: common.is_some() || n.is_some(),
        title: None,
        body: None,
        click_action: None,
        category,
        importance: None,
        notify_id: None,
        tag: None,
        badge: None,
        data,
        ttl_secs,
        collapse_key,
        urgency,
        bi_tag,
        receipt_id,
        target_user_type,
    };
    if !checked.notification {
        if checked.data.as_deref().is_none_or(str::is_empty) {
            return Err(payload("a message needs a notification or data"));
        }
        return Ok(checked);
    }
    if checked.category.as_deref() == Some("PLAY_VOICE") {
        return Err(payload("category PLAY_VOICE is for data messages only"));
    }
    let Some(n) = n else {
        return Err(payload(
            "message.android.notification.click_action is required",
        ));
    };
    let pick = |name: &str| -> Checked<Option<String>> {
        match n.text(name)? {
            Some(text) => Ok(Some(text)),
            None => common.map_or(Ok(None), |c| c.text(name)),
        }
    };
    checked.title = pick("title")?.filter(|t| !t.is_empty());
    checked.body = pick("body")?.filter(|t| !t.is_empty());
    if checked.title.is_none() {
        return Err(payload("notification title is required"));
    }
    if checked.body.is_none() {
        return Err(payload("notification body is required"));
    }
    for name in [
        "image",
        "icon",
        "color",
        "sound",
        "channel_id",
        "group",
        "when",
        "big_title",
        "big_body",
        "title_loc_key",
        "body_loc_key",
    ] {
        n.string(name)?;
    }
    checked.tag = n.text("tag")?;
    checked.importance = n.one_of("importance", &["LOW", "NORMAL", "HIGH"])?;
    checked.notify_id = n.int("notify_id", i64::from(i32::MIN), i64::from(i32::MAX))?;
    if n.string("profile_id")?
        .is_some_and(|p| p.chars().count() > PROFILE_ID_MAX_CHARS)
    {
        return Err(payload(
            "message.android.notification.profile_id is over 64 characters",
        ));
    }
    n.one_of(
        "visibility",
        &["VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET"],
    )?;
    if let Some(style) = n.get("style") {
        if !matches!(style.as_i64(), Some(0 | 1 | 3)) {
            return Err(payload(
                "message.android.notification.style must be 0, 1 or 3",
            ));
        }
    }
    n.strings("inbox_content", INBOX_MAX)?;
    n.strings("vibrate_config", usize::MAX)?;
    n.strings("title_loc_args", usize::MAX)?;
    n.strings("body_loc_args", usize::MAX)?;
    for name in [
        "foreground_show",
        "default_sound",
        "use_default_vibrate",
        "use_default_light",
        "auto_cancel",
    ] {
        n.boolean(name)?;
    }
    n.int("auto_clear", 0, i64::MAX)?;
    n.object("light_settings")?;
    if let Some(buttons) = n.array("buttons")? {
        if buttons.len() > BUTTONS_MAX || !buttons.iter().all(Value::is_object) {
            return Err(payload(
                "message.android.notification.buttons must be at most 3 objects",
            ));
        }
    }
    if let Some(badge) = n.object("badge")? {
        let b = Fields {
            map: badge,
            at: "message.android.notification.badge",
        };
        b.int("add_num", 1, 99)?;
        b.int("set_num", 0, 99)?;
        if b.string("class")?.is_none_or(str::is_empty) {
            return Err(payload(
                "message.android.notification.badge.class is required",
            ));
        }
        checked.badge = Some(Value::Object(badge.clone()));
    }
    let Some(click) = n.object("click_action")? else {
        return Err(payload(
            "message.android.notification.click_action is required",
        ));
    };
    check_click_action(click)?;
    checked.click_action = Some(Value::Object(click.clone()));
    Ok(checked)
}

/// `{type, intent?, action?, url?}`: type 1 needs intent or action, 2 an
/// https url, 3 nothing.
fn check_click_action(click: &Map<String, Value>) -> Checked<()> {
    let c = Fields {
        map: click,
        at: "message.android.notification.click_action",
    };
    let intent = c.string("intent")?.filter(|s| !s.is_empty());
    let action = c.string("action")?.filter(|s| !s.is_empty());
    let url = c.string("url")?;
    match c.get("type").and_then(Value::as_i64) {
        None if c.get("type").is_none() => Err(payload(
            "message.android.notification.click_action.type is required",
        )),
        Some(1) if intent.is_none() && action.is_none() => {
            Err(payload("click_action type 1 needs intent or action"))
        }
        Some(1) | Some(3) => Ok(()),
        Some(2) => match url {
            Some(url) if is_https_url(url) => Ok(()),
            Some(_) => Err(payload("click_action url must be an https URL")),
            None => Err(payload("click_action type 2 needs url")),
        },
        _ => Err(payload(
            "message.android.notification.click_action.type must be 1, 2 or 3",
        )),
    }
}

/// The compact JSON of the body without `message.token`, in bytes.
fn size_without_tokens(body: &Value) -> usize {
    let mut body = body.clone();
    if let Some(message) = body.get_mut("message").and_then(Value::as_object_mut) {
        message.remove("token");
    }
    body.to_string().len()
}

impl Inner {
    /// The checks after authentication, then the delivery.
    fn send(
        &mut self,
        kit: &Kit,
        now: i64,
        app: &SimApp,
        call: &Call,
        request_id: &str,
    ) -> Result<Reply, Outcome> {
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
        let top = Fields { map: top, at: "" };
        let validate_only = top
            .boolean("validate_only")
            .map_err(|_| {
                refuse(
                    "80100001",
                    "Illegal parameter, validate_only must be a boolean",
                )
            })?
            .unwrap_or(false);
        let Some(message_map) = top
            .object("message")
            .map_err(|_| refuse("80100001", "Illegal parameter, message must be an object"))?
        else {
            return Err(refuse("80100001", "Illegal parameter, message is required").into());
        };
        let limit = self.settings.body_limit;
        if size_without_tokens(&body) > limit {
            return Err(refuse(
                "80300008",
                "The message body size exceeds the default value",
            )
            .into());
        }
        let message = Fields {
            map: message_map,
            at: "message",
        };
        let m = check_message(message, self.settings.ttl_over_max)?;
        let approved = app.self_classification;
        let effective_category = m.notification.then(|| match &m.category {
            Some(category) if approved => category.clone(),
            _ => "MARKETING".to_owned(),
        });
        if !approved
            && self.settings.unapproved_category == UnapprovedCategory::Reject
            && m.notification
            && m.category.as_deref().is_some_and(|c| c != "MARKETING")
        {
            return Err(refuse(
                "80300011",
                "No permission to send high-level notification messages",
            )
            .into());
        }
        let receipt = match &m.receipt_id {
            Some(id) => Some(
                app.receipts
                    .iter()
                    .find(|config| &config.id == id)
                    .cloned()
                    .ok_or_else(|| refuse("80300013", "Invalid receipt ID or receipt URL"))?,
            ),
            None => app.receipts.iter().find(|config| config.default).cloned(),
        };
        if validate_only {
            return Ok(reply(self, "80000000", "Success", request_id));
        }

        self.flow_control(now, app, &m)?;
        if app.misconfigured {
            return Err(refuse("80300007", "All the tokens are invalid").into());
        }
        let (illegal, accepted): (Vec<String>, Vec<String>) = m
            .tokens
            .iter()
            .cloned()
            .partition(|token| self.verdict(token) == TokenVerdict::Illegal);
        if accepted.is_empty() {
            return Err(refuse("80300007", "All the tokens are invalid").into());
        }
        if m.target_user_type == 1 {
            let day = huawei_day(now);
            let count = self.tests_today(now, &app.app_id);
            let added = u32::try_from(accepted.len()).unwrap_or(u32::MAX);
            self.tests
                .insert(app.app_id.clone(), (day, count.saturating_add(added)));
        }
        let marketing = effective_category.as_deref() == Some("MARKETING");
        for token in &accepted {
            let status = self.device_status(now, app, token, m.target_user_type == 1, marketing);
            self.deliveries.push(Delivery {
                request_id: request_id.to_owned(),
                app_id: app.app_id.clone(),
                token: token.clone(),
                status,
                category: m.category.clone(),
                effective_category: effective_category.clone(),
                importance: m.importance.clone(),
                notification: m.notification,
                title: m.title.clone(),
                body: m.body.clone(),
                click_action: m.click_action.clone(),
                notify_id: m.notify_id,
                tag: m.tag.clone(),
                badge: m.badge.clone(),
                data: m.data.clone(),
                ttl_secs: m.ttl_secs,
                collapse_key: m.collapse_key,
                urgency: m.urgency.clone(),
                bi_tag: m.bi_tag.clone(),
                receipt_id: m.receipt_id.clone(),
                target_user_type: m.target_user_type,
                message: Value::Object(message_map.clone()),
            });
            if let Some(config) = &receipt {
                queue_receipt(
                    kit,
                    &self.base_url,
                    &app.app_id,
                    config,
                    token,
                    m.bi_tag.as_deref(),
                    status,
                    now,
                    request_id,
                );
            }
        }
        self.messages.insert(
            request_id.to_owned(),
            StoredMessage {
                app_id: app.app_id.clone(),
                receipt,
                bi_tag: m.bi_tag.clone(),
                accepted: accepted.clone(),
            },
        );
        if illegal.is_empty() {
            return Ok(reply(self, "80000000", "Success", request_id));
        }
        let msg = json!({
            "success": accepted.len(),
            "failure": illegal.len(),
            "illegal_tokens": illegal,
        });
        Ok(reply(self, "80100000", &msg.to_string(), request_id))
    }

    /// HTTP 503: the app's calls this second over its `qps`, or its test
    /// messages today at the daily limit.
    fn flow_control(&mut self, now: i64, app: &SimApp, m: &Message) -> Result<(), Outcome> {
        let second = now.div_euclid(1000);
        let calls = match self.calls.get(&app.app_id) {
            Some(&(at, calls)) if at == second => calls,
            _ => 0,
        };
        self.calls
            .insert(app.app_id.clone(), (second, calls.saturating_add(1)));
        if app.qps.is_some_and(|qps| calls >= qps) {
            return Err(Outcome::FlowControl);
        }
        if m.target_user_type == 1
            && self.tests_today(now, &app.app_id) >= self.settings.test_daily_limit
        {
            return Err(Outcome::FlowControl);
        }
        Ok(())
    }

    /// The status of one accepted target: 102 over a daily cap (test
    /// messages are exempt), else the token's verdict; counted when under
    /// the caps.
    fn device_status(
        &mut self,
        now: i64,
        app: &SimApp,
        token: &str,
        test: bool,
        marketing: bool,
    ) -> u32 {
        let verdict = match self.verdict(token) {
            TokenVerdict::Status(status) => status,
            _ => 0,
        };
        if test {
            return verdict;
        }
        let mut usage: DeviceUsage = self.device_usage(now, &app.app_id, token);
        let over_device = app
            .device_daily_cap
            .is_some_and(|cap| usage.messages >= cap);
        let over_marketing = marketing
            && app
                .marketing_daily_cap
                .is_some_and(|cap| usage.marketing >= cap);
        if over_device || over_marketing {
            return 102;
        }
        usage.messages += 1;
        if marketing {
            usage.marketing += 1;
        }
        self.devices.insert(
            (app.app_id.clone(), token.to_owned()),
            (huawei_day(now), usage),
        );
        verdict
    }
}
