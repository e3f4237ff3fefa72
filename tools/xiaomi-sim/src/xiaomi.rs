//! `/v3/message/regid`: request checks and answers (the code table is in
//! lib.rs).

use std::collections::{BTreeMap, BTreeSet};

use axum::http::Method;
use serde_json::{json, Value};
use sim_kit::{form, Call, Reply, DAY_MS, UTC8_MS};

use crate::receipts::PendingReceipt;
use crate::{
    error_body, Channel, Delivery, Inner, ReceiptError, SimApp, StoredMessage, TemplateRule,
    Xiaomi, MAX_REGIDS, PATH,
};

type Kit = sim_kit::Core<Xiaomi>;

type Checked<T = ()> = Result<T, Reply>;

/// `time_to_live` up to 14 days: both readings of the §1.4 CONFLICT.
const TTL_MAX_MS: i64 = 14 * DAY_MS;
/// `time_to_send` at most 7 days ahead (§1.4).
const SCHEDULE_MAX_MS: i64 = 7 * DAY_MS;
const TITLE_LIMIT: usize = 50;
const DESCRIPTION_LIMIT: usize = 128;
const PAYLOAD_MAX_BYTES: usize = 4096;
const CALLBACK_URL_MAX_BYTES: usize = 128;
/// Both readings of the §1.8 CONFLICT (64 vs 256 bytes).
const CALLBACK_PARAM_MAX_BYTES: usize = 256;
/// The receipt bits of §1.8 and §11 (1024, TTL expired).
const CALLBACK_BITS: u64 = 1 | 2 | 16 | 32 | 64 | 128 | 1024;
const CUSTOM_EXTRAS_MAX: usize = 10;
const CUSTOM_EXTRA_MAX_CHARS: usize = 1024;
const TEMPLATE_VARIABLES_MAX: usize = 9;
const TEMPLATE_VALUE_MAX_CHARS: usize = 128;
const JOBKEY_MAX_CHARS: usize = 20;

/// The `extra.*` fields Xiaomi defines (§1.4); every other one is a custom pair.
const KNOWN_EXTRAS: [&str; 19] = [
    "notify_effect",
    "intent_uri",
    "web_uri",
    "notify_foreground",
    "only_send_once",
    "jobkey",
    "callback",
    "callback.param",
    "callback.type",
    "channel_id",
    "template_id",
    "template_param",
    "sound_uri",
    "ticker",
    "locale",
    "model",
    "app_version",
    "connpt",
    "flow_control",
];

/// Xiaomi's day of an instant: days since the epoch from midnight UTC+8.
pub(crate) fn xiaomi_day(now_ms: i64) -> i64 {
    sim_kit::day_of(now_ms, UTC8_MS)
}

/// A trace id in the style of §1.7's `"Xlm…"`.
pub(crate) fn trace_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("Xlm{}", &id[..20])
}

fn error(code: i64, description: &str, reason: impl AsRef<str>) -> Reply {
    Reply::json(error_body(code, description, reason.as_ref()))
}

/// 21301, exactly as §1.2 quotes it (no `trace_id`).
fn auth_failed() -> Reply {
    Reply::json(json!({
        "result": "error",
        "code": 21301,
        "description": "认证失败",
        "reason": "Invalid application secret.",
    }))
}

/// 21305: a field every call needs.
fn missing_required(field: &str) -> Reply {
    error(
        21305,
        "缺失必选参数",
        format!("Missing required parameter: {field}"),
    )
}

/// 10016: a field another field makes necessary.
fn missing(field: &str) -> Reply {
    error(10016, "缺失参数", format!("Missing parameter: {field}"))
}

/// 10017: a malformed value.
fn illegal(field: &str, why: impl AsRef<str>) -> Reply {
    error(
        10017,
        "非法参数值",
        format!("Illegal value of parameter {field}: {}", why.as_ref()),
    )
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The form's fields, each given once.
pub(crate) struct Fields(BTreeMap<String, String>);

impl Fields {
    fn new(pairs: Vec<(String, String)>) -> Checked<Fields> {
        let mut fields = BTreeMap::new();
        for (name, value) in pairs {
            if fields.contains_key(&name) {
                return Err(illegal(&name, "given more than once"));
            }
            fields.insert(name, value);
        }
        Ok(Fields(fields))
    }

    /// A field's value; an empty value counts as absent.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// `application/x-www-form-urlencoded`, no parameter but `charset=UTF-8`.
pub(crate) fn is_form(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let (mime, params) = form::media_type(content_type);
    mime == "application/x-www-form-urlencoded"
        && params
            .iter()
            .all(|(name, value)| name == "charset" && value.eq_ignore_ascii_case("utf-8"))
}

/// Xiaomi's normal behaviour for one call.
pub(crate) fn answer(kit: &Kit, call: &Call) -> Reply {
    if call.path != PATH {
        return Reply::text(404, "Not Found");
    }
    if call.method != Method::POST {
        return Reply::text(405, "Method Not Allowed");
    }
    let mut inner = kit.vendor().lock();
    let secret = call
        .header("authorization")
        .and_then(|value| value.strip_prefix("key="));
    let Some(app) = secret.and_then(|secret| inner.apps.get(secret)).cloned() else {
        return auth_failed();
    };
    if !is_form(call.content_type()) {
        return Reply::text(
            415,
            "Content-Type must be application/x-www-form-urlencoded; charset=UTF-8",
        );
    }
    let pairs = match form::decode(&call.body) {
        Ok(pairs) => pairs,
        Err(error) => return Reply::text(400, format!("the body is not a valid form: {error}")),
    };
    let now = kit.now_ms();
    let sent = Fields::new(pairs).and_then(|fields| inner.send(kit, now, &app, &fields));
    sent.unwrap_or_else(|reply| reply)
}

/// Where and how a message's receipts go.
#[derive(Clone, Debug)]
pub(crate) struct Callback {
    url: String,
    param: String,
    types: u64,
    jobkey: String,
}

impl Callback {
    /// One entry per target, stamped `now`.
    fn queue(
        &self,
        kit: &Kit,
        now: i64,
        msg_id: &str,
        receipt_type: u32,
        targets: &[String],
        extra: Option<&Value>,
    ) {
        let bar_status = if matches!(receipt_type, 1 | 2) {
            "Enable"
        } else {
            "Unknown"
        };
        for target in targets {
            kit.receipts().queue(PendingReceipt {
                url: self.url.clone(),
                msg_id: msg_id.to_owned(),
                receipt_type,
                param: self.param.clone(),
                jobkey: self.jobkey.clone(),
                bar_status: bar_status.to_owned(),
                timestamp: now,
                reg_id: target.clone(),
                extra: extra.cloned(),
            });
        }
    }
}

impl Inner {
    /// The checks in lib.rs's order, then the quota, the targets, the
    /// deliveries and the receipts.
    fn send(&mut self, kit: &Kit, now: i64, app: &SimApp, f: &Fields) -> Checked<Reply> {
        let targets = registration_ids(f)?;
        check_package(f, app)?;
        let pass_through = match f.get("pass_through") {
            None => return Err(missing_required("pass_through")),
            Some("0") => 0,
            Some("1") => 1,
            Some(_) => return Err(illegal("pass_through", "must be 0 or 1")),
        };
        let notification = pass_through == 0;
        check_text(f, "title", TITLE_LIMIT, notification)?;
        check_text(f, "description", DESCRIPTION_LIMIT, notification)?;
        check_payload(f)?;
        let notify_type = integer(f, "notify_type", -1, 7)?;
        let time_to_live = integer(f, "time_to_live", 1, TTL_MAX_MS)?;
        integer(
            f,
            "time_to_send",
            i64::MIN,
            now.saturating_add(SCHEDULE_MAX_MS),
        )?;
        let notify_id = integer(f, "notify_id", 0, 2_147_483_647)?;
        check_click(f, notification)?;
        flag(f, "extra.notify_foreground")?;
        flag(f, "extra.only_send_once")?;
        check_jobkey(f)?;
        let callback = check_callback(f)?;
        check_custom_extras(f)?;
        let channel = check_channel(f, app)?;
        check_template(f, app, channel)?;

        let secret = app.app_secret.as_str();
        let quota = self.quotas.get(secret).copied();
        let acked = self.acked_today(now, secret);
        if let Some(quota) = quota.filter(|&quota| acked >= quota) {
            return Err(error(
                200001,
                "超过当日推送总量限制",
                format!("exceed quota, quota: {quota}, have acked: {acked}"),
            ));
        }
        let (valid, invalid): (Vec<String>, Vec<String>) = targets
            .iter()
            .cloned()
            .partition(|target| !self.invalid.contains(target));
        if valid.is_empty() {
            return Err(Reply::json(json!({
                "result": "error",
                "reason": "No valid targets!",
                "code": 20301,
                "description": "发送消息失败",
                "trace_id": trace_id(),
            })));
        }

        let msg_id = self.new_msg_id();
        let text = |name: &str| f.get(name).map(str::to_owned);
        let extra: BTreeMap<String, String> =
            f.0.iter()
                .filter(|(_, value)| !value.is_empty())
                .filter_map(|(name, value)| {
                    name.strip_prefix("extra.")
                        .map(|name| (name.to_owned(), value.clone()))
                })
                .collect();
        for target in &valid {
            self.deliveries.push(Delivery {
                msg_id: msg_id.clone(),
                reg_id: target.clone(),
                package_name: app.package_name.clone(),
                pass_through,
                title: text("title"),
                description: text("description"),
                payload: text("payload"),
                notify_type,
                notify_id,
                time_to_live,
                notify_effect: text("extra.notify_effect"),
                channel_id: text("extra.channel_id"),
                template_id: text("extra.template_id"),
                template_param: text("extra.template_param"),
                extra: extra.clone(),
                fields: f.0.clone(),
            });
        }
        if let Some(callback) = &callback {
            if callback.types & 1 != 0 {
                callback.queue(kit, now, &msg_id, 1, &valid, None);
            }
            if callback.types & 16 != 0 {
                callback.queue(kit, now, &msg_id, 16, &invalid, None);
            }
        }
        let today = xiaomi_day(now);
        let delivered = u64::try_from(valid.len()).unwrap_or(u64::MAX);
        self.acked
            .insert(secret.to_owned(), (today, acked.saturating_add(delivered)));

        let mut data = json!({
            "id": msg_id,
            "day_quota": quota.map_or_else(|| i64::MAX.to_string(), |q| q.to_string()),
            "day_acked": acked.to_string(),
        });
        if !invalid.is_empty() {
            data[self.settings.bad_regids_key.as_str()] = Value::from(invalid.join(","));
        }
        self.messages.insert(
            msg_id,
            StoredMessage {
                app_secret: secret.to_owned(),
                callback,
                delivered: valid,
                invalid,
            },
        );
        Ok(Reply::json(json!({
            "result": "ok",
            "trace_id": trace_id(),
            "code": 0,
            "data": data,
            "description": "成功",
            "info": format!("Received push messages for {} REGID", targets.len()),
        })))
    }

    fn new_msg_id(&mut self) -> String {
        self.next_msg += 1;
        // An opaque id of a realistic length.
        format!("slm{}", 4_000_000_000_000_000_000u64 + self.next_msg)
    }
}

/// Queues receipts on command (`Simulator::send_receipt`, `POST /_sim/receipts`).
pub(crate) fn send_receipt(
    kit: &Kit,
    msg_id: &str,
    receipt_type: u32,
    targets: Option<Vec<String>>,
    extra: Option<Value>,
) -> Result<usize, ReceiptError> {
    if receipt_type == 0 {
        return Err(ReceiptError("type must be a positive integer".to_owned()));
    }
    if targets
        .as_ref()
        .is_some_and(|targets| targets.iter().any(String::is_empty))
    {
        return Err(ReceiptError("targets must not be empty strings".to_owned()));
    }
    let now = kit.now_ms();
    let inner = kit.vendor().lock();
    let Some(message) = inner.messages.get(msg_id) else {
        return Err(ReceiptError(format!("unknown message id {msg_id:?}")));
    };
    let Some(callback) = &message.callback else {
        return Err(ReceiptError(format!(
            "message {msg_id} was sent without extra.callback"
        )));
    };
    let targets = targets.unwrap_or_else(|| {
        if receipt_type == 16 {
            message.invalid.clone()
        } else {
            message.delivered.clone()
        }
    });
    let extra = extra.or_else(|| {
        (receipt_type == 128).then(|| {
            let usage = inner.usage(now, &message.app_secret);
            let quota = usage
                .day_quota
                .map_or_else(|| i64::MAX.to_string(), |q| q.to_string());
            json!({ "ack": usage.day_acked.to_string(), "quota": quota })
        })
    });
    callback.queue(kit, now, msg_id, receipt_type, &targets, extra.as_ref());
    Ok(targets.len())
}

/// 1..=1000 regIds joined by `,`, none empty or with whitespace.
fn registration_ids(f: &Fields) -> Checked<Vec<String>> {
    let Some(list) = f.get("registration_id") else {
        return Err(missing_required("registration_id"));
    };
    let targets: Vec<String> = list.split(',').map(str::to_owned).collect();
    if targets.len() > MAX_REGIDS {
        return Err(illegal(
            "registration_id",
            format!("{} regids, at most {MAX_REGIDS}", targets.len()),
        ));
    }
    if targets
        .iter()
        .any(|t| t.is_empty() || t.chars().any(char::is_whitespace))
    {
        return Err(illegal(
            "registration_id",
            "an empty regid, or one with whitespace",
        ));
    }
    Ok(targets)
}

/// The app's package, alone or in a comma list of it.
fn check_package(f: &Fields, app: &SimApp) -> Checked {
    let Some(names) = f.get("restricted_package_name") else {
        return Err(missing_required("restricted_package_name"));
    };
    match names.split(',').find(|name| *name != app.package_name) {
        None => Ok(()),
        Some(name) => Err(error(
            22022,
            "非法的包名",
            format!("Invalid package name: {name}"),
        )),
    }
}

/// `title` / `description`: required and not blank for notifications;
/// shorter than `limit` characters whenever given.
fn check_text(f: &Fields, field: &str, limit: usize, notification: bool) -> Checked {
    match f.get(field) {
        None if notification => Err(missing(field)),
        None => Ok(()),
        Some(text) if notification && text.trim().is_empty() => Err(illegal(field, "blank")),
        Some(text) if chars(text) >= limit => Err(illegal(
            field,
            format!("must be shorter than {limit} characters"),
        )),
        Some(_) => Ok(()),
    }
}

/// At most 4 KB (65009), URL-encoded (10017).
fn check_payload(f: &Fields) -> Checked {
    let Some(payload) = f.get("payload") else {
        return Ok(());
    };
    if payload.len() > PAYLOAD_MAX_BYTES {
        return Err(error(
            65009,
            "消息内容太长",
            format!(
                "payload is {} bytes, at most {PAYLOAD_MAX_BYTES}",
                payload.len()
            ),
        ));
    }
    if !is_url_encoded(payload) {
        return Err(illegal("payload", "must be URL-encoded"));
    }
    Ok(())
}

/// Only unreserved characters, `+` and `%XX` escapes (what Java's
/// `URLEncoder` and JavaScript's `encodeURIComponent` write).
fn is_url_encoded(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
                continue;
            }
            b if b.is_ascii_alphanumeric() => {}
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' | b'+' => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// An optional integer field within `min..=max`.
fn integer(f: &Fields, field: &str, min: i64, max: i64) -> Checked<Option<i64>> {
    match f.get(field) {
        None => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(illegal(field, "out of range or not an integer")),
        },
    }
}

/// An optional `0` / `1`.
fn flag(f: &Fields, field: &str) -> Checked {
    match f.get(field) {
        None | Some("0" | "1") => Ok(()),
        Some(_) => Err(illegal(field, "must be 0 or 1")),
    }
}

/// `extra.notify_effect` 1/2/3 (required for notifications) and what 2 and 3
/// need.
fn check_click(f: &Fields, notification: bool) -> Checked {
    match f.get("extra.notify_effect") {
        None if notification => Err(missing("extra.notify_effect")),
        None | Some("1") => Ok(()),
        Some("2") => match f.get("extra.intent_uri") {
            None => Err(missing("extra.intent_uri")),
            Some(_) => Ok(()),
        },
        Some("3") => match f.get("extra.web_uri") {
            None => Err(missing("extra.web_uri")),
            Some(url) if is_http_url(url) => Ok(()),
            Some(_) => Err(illegal("extra.web_uri", "not an http(s) URL")),
        },
        Some(_) => Err(illegal("extra.notify_effect", "must be 1, 2 or 3")),
    }
}

/// 1..=20 of `[0-9a-zA-Z_-]`, not starting with `_`.
fn check_jobkey(f: &Fields) -> Checked {
    let Some(jobkey) = f.get("extra.jobkey") else {
        return Ok(());
    };
    let valid = chars(jobkey) <= JOBKEY_MAX_CHARS
        && !jobkey.starts_with('_')
        && jobkey
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(illegal(
            "extra.jobkey",
            "1..=20 of [0-9a-zA-Z_-], not starting with _",
        ))
    }
}

/// An absolute `http://` or `https://` URL with a host.
fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.has_host())
}

/// `extra.callback` (65038, 65037), `extra.callback.param` (65036),
/// `extra.callback.type` (10017).
fn check_callback(f: &Fields) -> Checked<Option<Callback>> {
    let url = f.get("extra.callback");
    if let Some(url) = url {
        if !is_http_url(url) {
            return Err(error(65038, "callback地址非法", "Illegal callback url"));
        }
        if url.len() > CALLBACK_URL_MAX_BYTES {
            return Err(error(
                65037,
                "callback地址过长",
                format!("callback url is at most {CALLBACK_URL_MAX_BYTES} bytes"),
            ));
        }
    }
    let param = f.get("extra.callback.param").unwrap_or("");
    if param.len() > CALLBACK_PARAM_MAX_BYTES {
        return Err(error(
            65036,
            "callback参数过长",
            format!("callback param is at most {CALLBACK_PARAM_MAX_BYTES} bytes"),
        ));
    }
    let types = match f.get("extra.callback.type") {
        None => 3,
        Some(text) => match text.parse::<u64>() {
            Ok(types) if types > 0 && types & !CALLBACK_BITS == 0 => types,
            _ => {
                return Err(illegal(
                    "extra.callback.type",
                    "a sum of 1, 2, 16, 32, 64, 128, 1024",
                ))
            }
        },
    };
    Ok(url.map(|url| Callback {
        url: url.to_owned(),
        param: param.to_owned(),
        types,
        jobkey: f.get("extra.jobkey").unwrap_or("").to_owned(),
    }))
}

/// At most 10 custom pairs (65014), each key + value at most 1024
/// characters (65015).
fn check_custom_extras(f: &Fields) -> Checked {
    let custom: Vec<(&str, &str)> =
        f.0.iter()
            .filter(|(_, value)| !value.is_empty())
            .filter_map(|(name, value)| {
                name.strip_prefix("extra.")
                    .filter(|name| !KNOWN_EXTRAS.contains(name))
                    .map(|name| (name, value.as_str()))
            })
            .collect();
    if custom.len() > CUSTOM_EXTRAS_MAX {
        return Err(error(
            65014,
            "extra键值对过多",
            format!(
                "{} custom extra pairs, at most {CUSTOM_EXTRAS_MAX}",
                custom.len()
            ),
        ));
    }
    if let Some((name, _)) = custom
        .iter()
        .find(|(name, value)| chars(name) + chars(value) > CUSTOM_EXTRA_MAX_CHARS)
    {
        return Err(error(
            65015,
            "extra键值对过长",
            format!("extra.{name}: key and value over {CUSTOM_EXTRA_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// With channels registered, `extra.channel_id` must name one (27001).
fn check_channel<'a>(f: &Fields, app: &'a SimApp) -> Checked<Option<&'a Channel>> {
    if app.channels.is_empty() {
        return Ok(None);
    }
    let mismatch = |why: String| Err(error(27001, "channel相关信息不匹配", why));
    match f.get("extra.channel_id") {
        None => mismatch("extra.channel_id is missing".to_owned()),
        Some(id) => match app.channels.iter().find(|channel| channel.id == id) {
            Some(channel) => Ok(Some(channel)),
            None => mismatch(format!("unknown channel {id}")),
        },
    }
}

/// `extra.template_id` + `extra.template_param`: both or neither; required
/// by the app's rule; the variables' rules (§1.6).
fn check_template(f: &Fields, app: &SimApp, channel: Option<&Channel>) -> Checked {
    let required = match app.template_rule {
        TemplateRule::Off => false,
        TemplateRule::Always => true,
        TemplateRule::PrivateChannels => channel.is_some_and(|channel| channel.private),
    };
    let (id, param) = match (f.get("extra.template_id"), f.get("extra.template_param")) {
        (None, None) if !required => return Ok(()),
        (None, _) => return Err(missing("extra.template_id")),
        (_, None) => return Err(missing("extra.template_param")),
        (Some(id), Some(param)) => (id, param),
    };
    const FIELD: &str = "extra.template_param";
    let Ok(Value::Object(variables)) = serde_json::from_str::<Value>(param) else {
        return Err(illegal(FIELD, "not a JSON object"));
    };
    if variables.len() > TEMPLATE_VARIABLES_MAX {
        return Err(illegal(
            FIELD,
            format!("at most {TEMPLATE_VARIABLES_MAX} variables"),
        ));
    }
    for (name, value) in &variables {
        let Value::String(value) = value else {
            return Err(illegal(FIELD, format!("{name} is not a string")));
        };
        if value.trim().is_empty() || chars(value) > TEMPLATE_VALUE_MAX_CHARS {
            return Err(illegal(
                FIELD,
                format!("{name} must be 1..={TEMPLATE_VALUE_MAX_CHARS} characters, not blank"),
            ));
        }
        if value.chars().any(is_symbol) {
            return Err(illegal(
                FIELD,
                format!("{name} has an emoji or a symbol (Unicode So)"),
            ));
        }
    }
    if app.templates.is_empty() {
        return Ok(());
    }
    let Some(template) = app.templates.iter().find(|template| template.id == id) else {
        return Err(illegal(
            "extra.template_id",
            format!("unknown template {id}"),
        ));
    };
    let expected: BTreeSet<&str> = template.variables.iter().map(String::as_str).collect();
    let given: BTreeSet<&str> = variables.keys().map(String::as_str).collect();
    if expected != given {
        return Err(illegal(
            FIELD,
            format!("the variables of template {id} are {expected:?}"),
        ));
    }
    Ok(())
}

/// An emoji, a Unicode So symbol, an emoji component or a noncharacter: an
/// approximation by blocks (no Unicode tables), see lib.rs.
pub(crate) fn is_symbol(c: char) -> bool {
    let n = u32::from(c);
    // Noncharacters.
    if (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE {
        return true;
    }
    const RANGES: &[(u32, u32)] = &[
        // Latin-1 So: ¦ © ® °.
        (0x00A6, 0x00A6),
        (0x00A9, 0x00A9),
        (0x00AE, 0x00AE),
        (0x00B0, 0x00B0),
        // Emoji that are punctuation or letters: ‼ ⁉ ™ ℹ.
        (0x203C, 0x203C),
        (0x2049, 0x2049),
        (0x20E3, 0x20E3),
        (0x2100, 0x2101),
        (0x2103, 0x2106),
        (0x2108, 0x2109),
        (0x2114, 0x2114),
        (0x2116, 0x2117),
        (0x211E, 0x2123),
        (0x2125, 0x2125),
        (0x2127, 0x2127),
        (0x2129, 0x2129),
        (0x212E, 0x212E),
        (0x2139, 0x2139),
        (0x213A, 0x213B),
        (0x214A, 0x214A),
        (0x214C, 0x214D),
        (0x214F, 0x214F),
        // Arrows (the So ones, and the emoji ↔ ↕ ...).
        (0x2194, 0x21FF),
        // Miscellaneous Technical (So parts: ⌚ ⌛ ⏰ ...).
        (0x2300, 0x2307),
        (0x230C, 0x231F),
        (0x2322, 0x2328),
        (0x232B, 0x237B),
        (0x237D, 0x239A),
        (0x23B4, 0x23DB),
        (0x23E2, 0x23FF),
        // Control Pictures, OCR, circled letters.
        (0x2400, 0x244A),
        (0x249C, 0x24E9),
        // Box drawing, blocks, geometric shapes (So parts).
        (0x2500, 0x25B6),
        (0x25B8, 0x25C0),
        (0x25C2, 0x25F7),
        // Miscellaneous Symbols (☀ ☎ ♥ ...), Dingbats (✂ ✈ ❤ ...).
        (0x2600, 0x266E),
        (0x2670, 0x2767),
        (0x2794, 0x27BF),
        // Braille; Miscellaneous Symbols and Arrows (⬆ ⭐ ⭕ ...).
        (0x2800, 0x28FF),
        (0x2B00, 0x2B2F),
        (0x2B45, 0x2B46),
        (0x2B4D, 0x2BFF),
        // CJK symbols that are So: radicals, 〄 〒 〓 〠 〰 〽 ㊗ ㊙ ...
        (0x2E80, 0x2FFF),
        (0x3004, 0x3004),
        (0x3012, 0x3013),
        (0x3020, 0x3020),
        (0x3030, 0x3030),
        (0x3036, 0x3037),
        (0x303D, 0x303F),
        (0x3190, 0x3191),
        (0x3196, 0x319F),
        (0x31C0, 0x31EF),
        (0x3200, 0x321E),
        (0x322A, 0x3247),
        (0x3250, 0x3250),
        (0x3260, 0x327F),
        (0x328A, 0x32B0),
        (0x32C0, 0x33FF),
        (0x4DC0, 0x4DFF),
        // Variation selector 16 (emoji presentation), ￤ ￨ ￭ ￮ ￼ �.
        (0xFE0F, 0xFE0F),
        (0xFFE4, 0xFFE4),
        (0xFFE8, 0xFFE8),
        (0xFFED, 0xFFEE),
        (0xFFFC, 0xFFFD),
        // Musical and other SMP symbols.
        (0x1D000, 0x1D24F),
        (0x1D300, 0x1D35F),
        // Mahjong ... Symbols and Pictographs Extended-A: the emoji planes.
        (0x1F000, 0x1FBFF),
        // Tags (flag sequences).
        (0xE0020, 0xE007F),
    ];
    RANGES.iter().any(|&(low, high)| (low..=high).contains(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_emoji_are_caught_and_text_is_not() {
        for c in [
            '😀', '❤', '☎', '©', '™', '↔', '⭐', '\u{FE0F}', '🇨', '⌚', '㊙', '\u{FFFF}',
        ] {
            assert!(is_symbol(c), "{c:?}");
        }
        for c in [
            'a', 'Z', '9', '你', '，', '。', '！', 'é', ' ', '-', '¥', '+', '€',
        ] {
            assert!(!is_symbol(c), "{c:?}");
        }
    }

    #[test]
    fn url_encoded_text_is_told_apart() {
        for ok in ["", "abc", "%7B%22a%22%3A1%7D", "a+b", "A-_.!~*'()"] {
            assert!(is_url_encoded(ok), "{ok}");
        }
        for bad in ["{\"a\":1}", "a b", "%", "%4", "%zz", "a&b", "你"] {
            assert!(!is_url_encoded(bad), "{bad}");
        }
    }

    #[test]
    fn form_content_types() {
        for ok in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "Application/X-WWW-Form-Urlencoded;charset=\"utf-8\"",
        ] {
            assert!(is_form(Some(ok)), "{ok}");
        }
        for bad in [
            None,
            Some("application/json"),
            Some("multipart/form-data"),
            Some("application/x-www-form-urlencoded; charset=GBK"),
            Some("application/x-www-form-urlencoded; boundary=x"),
        ] {
            assert!(!is_form(bad), "{bad:?}");
        }
    }
}
