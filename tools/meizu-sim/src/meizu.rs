//! `pushByPushId`: request checks and answers (the order and the code table
//! are in lib.rs).

use std::collections::{BTreeMap, HashSet};
use std::ops::RangeInclusive;

use axum::http::Method;
use serde_json::{json, Map, Value};
use sim_kit::{form, Call, Reply, UTC8_MS};
use time::macros::format_description;
use time::PrimitiveDateTime;

use crate::receipts::PendingReceipt;
use crate::{
    codes, error_body, sign, Delivery, Inner, PushIdVerdict, ReceiptError, Settings, SimApp,
    StoredMessage, UnknownPushIds, MAX_RESTRICTED_PACKAGES, PATH,
};

type Kit = sim_kit::Core<crate::Meizu>;

type Checked<T = ()> = Result<T, Reply>;

const TITLE_MAX_CHARS: usize = 32;
const CONTENT_MAX_CHARS: usize = 100;
const CUSTOM_ATTRIBUTE_MAX_BYTES: usize = 1000;
const CALLBACK_URL_MAX_BYTES: usize = 128;
const CALLBACK_PARAM_MAX_BYTES: usize = 64;
const NOTIFY_KEY_MAX_CHARS: usize = 8;
const SUBTITLE_MAX_CHARS: usize = 16;
const MINUTE_MS: i64 = 60_000;

/// The keys Meizu defines in each object of `messageJson` (§15.4); the
/// others are unknown ([`Settings::reject_unknown_keys`]). The end time's
/// key is also accepted with the doc's stray trailing space.
const TOP_KEYS: &[&str] = &[
    "noticeBarInfo",
    "noticeExpandInfo",
    "clickTypeInfo",
    "pushTimeInfo",
    "advanceInfo",
    "vipInfo",
    "extra",
];
const BAR_KEYS: &[&str] = &["noticeMsgType", "noticeBarType", "title", "content"];
const EXPAND_KEYS: &[&str] = &[
    "noticeExpandType",
    "noticeExpandContent",
    "noticeExpandImgUrl",
];
const CLICK_KEYS: &[&str] = &[
    "clickType",
    "url",
    "parameters",
    "activity",
    "customAttribute",
];
const TIME_KEYS: &[&str] = &["offLine", "validTime"];
const ADVANCE_KEYS: &[&str] = &[
    "suspend",
    "clearNoticeBar",
    "notificationType",
    "fixDisplay",
    "fixStartDisplayTime",
    "fixEndDisplayTime",
    "fixEndDisplayTime ",
    "notifyKey",
];
const NOTIFICATION_TYPE_KEYS: &[&str] = &["vibrate", "lights", "sound"];
const VIP_KEYS: &[&str] = &[
    "subtitle",
    "pullDownTop",
    "timeTop",
    "notGroup",
    "titleColor",
    "backgroundImgUrl",
    "smallIconUrl",
    "bigIconUrl",
];

/// Meizu's day of an instant: days since the epoch from midnight UTC+8.
pub(crate) fn meizu_day(now_ms: i64) -> i64 {
    sim_kit::day_of(now_ms, UTC8_MS)
}

fn fail(code: &str, message: impl AsRef<str>) -> Reply {
    Reply::json(error_body(code, message.as_ref()))
}

/// 1005: a malformed value.
fn param_error(what: impl AsRef<str>) -> Reply {
    fail("1005", format!("参数错误：{}", what.as_ref()))
}

/// 110004: a required value missing or empty.
fn empty(field: &str) -> Reply {
    fail("110004", format!("参数不能为空：{field}"))
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The code of an app's daily push count and of a bad package name, as
/// [`Settings::swap_110019_110031`] reads the §15.5 CONFLICT.
fn daily_count_code(settings: &Settings) -> &'static str {
    if settings.swap_110019_110031 {
        "110031"
    } else {
        "110019"
    }
}

fn package_code(settings: &Settings) -> &'static str {
    if settings.swap_110019_110031 {
        "110019"
    } else {
        "110031"
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

/// Meizu's normal behaviour for one call.
pub(crate) fn answer(kit: &Kit, call: &Call) -> Reply {
    if call.path != PATH {
        return Reply::text(404, "Not Found");
    }
    if call.method != Method::POST {
        return Reply::text(405, "Method Not Allowed");
    }
    if !is_form(call.content_type()) {
        return Reply::text(
            415,
            "Content-Type must be application/x-www-form-urlencoded;charset=UTF-8",
        );
    }
    let pairs = match form::decode(&call.body) {
        Ok(pairs) => pairs,
        Err(error) => return Reply::text(400, format!("the body is not a valid form: {error}")),
    };
    let now = kit.now_ms();
    let mut inner = kit.vendor().lock();
    inner.send(kit, now, pairs).unwrap_or_else(|reply| reply)
}

/// Where and how a message's receipts go.
#[derive(Clone, Debug)]
pub(crate) struct Callback {
    url: String,
    param: String,
    /// 1 delivered, 2 clicked, 3 both.
    types: u8,
    access_token: String,
}

impl Callback {
    fn queue(&self, kit: &Kit, msg_id: &str, receipt_type: u32, targets: &[String]) {
        for target in targets {
            kit.receipts().queue(PendingReceipt {
                url: self.url.clone(),
                msg_id: msg_id.to_owned(),
                receipt_type,
                param: self.param.clone(),
                access_token: self.access_token.clone(),
                push_id: target.clone(),
            });
        }
    }
}

/// What the checks keep of `messageJson`.
struct Message {
    value: Value,
    title: String,
    content: String,
    notice_msg_type: i64,
    click_type: i64,
    parameters: Value,
    extra: Value,
    notify_key: Option<String>,
    off_line: i64,
    valid_time: i64,
    callback: Option<Callback>,
}

impl Inner {
    /// The checks in lib.rs's order, then the quotas, the targets, the
    /// deliveries and the receipts.
    fn send(&mut self, kit: &Kit, now: i64, pairs: Vec<(String, String)>) -> Checked<Reply> {
        let mut fields = BTreeMap::new();
        for (name, value) in &pairs {
            if fields.insert(name.clone(), value.clone()).is_some() {
                return Err(param_error(format!("{name} is given more than once")));
            }
        }
        let get = |name: &str| {
            fields
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let settings = self.settings.clone();

        let Some(app_id) = get("appId") else {
            return Err(empty("appId"));
        };
        let Some(app) = self.apps.get(app_id).cloned() else {
            return Err(fail("110000", "appId不合法"));
        };
        let Some(given) = get("sign") else {
            return Err(empty("sign"));
        };
        let expected = sign(
            pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &app.app_secret,
        );
        let signed = if settings.sign_any_case {
            given.eq_ignore_ascii_case(&expected)
        } else {
            given == expected
        };
        if !signed {
            return Err(fail("1006", "签名认证失败"));
        }
        if app.blacklisted {
            return Err(fail("110009", "应用已被列入黑名单"));
        }
        let quota = self.quotas.get(&app.app_id).copied().unwrap_or_default();
        if let Some(qps) = quota.qps {
            let second = now.div_euclid(1000);
            let calls = self.calls.entry(app.app_id.clone()).or_insert((second, 0));
            if calls.0 != second {
                *calls = (second, 0);
            }
            if calls.1 >= qps {
                return Err(fail("110010", "应用请求频率超过限制"));
            }
            calls.1 += 1;
        }
        check_packages(get("restrictedPackageNames"), &app, &settings)?;
        let targets = push_ids(get("pushIds"), &settings)?;
        let Some(message_json) = get("messageJson") else {
            return Err(empty("messageJson"));
        };
        let message = check_message(message_json, &app, &settings)?;

        let today = self.today(now, &app.app_id).clone();
        if quota.daily_targets.is_some_and(|max| today.targets >= max) {
            return Err(fail(
                daily_count_code(&settings),
                "超过该应用的当天推送总数限制",
            ));
        }
        if quota
            .daily_messages
            .is_some_and(|max| today.messages >= max)
        {
            return Err(fail("110051", "超过该应用的推送次数限制"));
        }

        // Each distinct pushId once, in request order.
        let mut seen = HashSet::new();
        let mut failed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut delivered = Vec::new();
        for target in targets {
            if !seen.insert(target.clone()) {
                continue;
            }
            match self.target_code(&app, &target, &message, now, &today) {
                Some(code) => failed.entry(code).or_default().push(target),
                None => delivered.push(target),
            }
        }

        let msg_id = uuid::Uuid::new_v4().simple().to_string();
        for target in &delivered {
            self.deliveries.push(Delivery {
                msg_id: msg_id.clone(),
                app_id: app.app_id.clone(),
                push_id: target.clone(),
                title: message.title.clone(),
                content: message.content.clone(),
                notice_msg_type: message.notice_msg_type,
                click_type: message.click_type,
                parameters: message.parameters.clone(),
                extra: message.extra.clone(),
                notify_key: message.notify_key.clone(),
                off_line: message.off_line,
                valid_time: message.valid_time,
                message: message.value.clone(),
                fields: fields.clone(),
                delivered_ms: now,
            });
            self.recent
                .entry((app.app_id.clone(), target.clone()))
                .or_default()
                .push(now);
        }
        let count = self.today(now, &app.app_id);
        count.messages += 1;
        count.targets += u64::try_from(delivered.len()).unwrap_or(u64::MAX);
        if message.notice_msg_type == 0 {
            for target in &delivered {
                *count.public.entry(target.clone()).or_default() += 1;
            }
        }
        if let Some(callback) = &message.callback {
            if callback.types & 1 != 0 {
                callback.queue(kit, &msg_id, 1, &delivered);
            }
        }
        self.messages.insert(
            msg_id.clone(),
            StoredMessage {
                callback: message.callback,
                delivered,
            },
        );
        let value: Map<String, Value> = failed
            .into_iter()
            .map(|(code, ids)| (code, Value::from(ids)))
            .collect();
        Ok(Reply::json(json!({
            "code": "200",
            "message": "",
            "value": value,
            "redirect": "",
            "msgId": msg_id,
        })))
    }

    /// Why a target is not delivered, if it is not: its verdict (or the
    /// settings for unset pushIds), then the per-minute collapse (520), then
    /// the daily public cap (110011).
    fn target_code(
        &mut self,
        app: &SimApp,
        target: &str,
        message: &Message,
        now: i64,
        today: &crate::DayCount,
    ) -> Option<String> {
        let verdict = match self.verdicts.get(target) {
            Some(verdict) => verdict.clone(),
            None => self.unset_verdict(target),
        };
        if let Some(code) = verdict.code() {
            return Some(code.to_owned());
        }
        if let Some(limit) = self.settings.per_device_per_minute {
            let key = (app.app_id.clone(), target.to_owned());
            let recent = self.recent.entry(key).or_default();
            recent.retain(|&at| at > now - MINUTE_MS && at <= now);
            if recent.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
                return Some(codes::COLLAPSED.to_owned());
            }
        }
        let cap = self
            .quotas
            .get(&app.app_id)
            .and_then(|quota| quota.public_per_device);
        if let (Some(cap), 0) = (cap, message.notice_msg_type) {
            if today.public.get(target).copied().unwrap_or(0) >= cap {
                return Some(codes::PUBLIC_CAP.to_owned());
            }
        }
        None
    }

    fn unset_verdict(&self, target: &str) -> PushIdVerdict {
        if let Some(syntax) = self.settings.push_id_syntax {
            let fits = (syntax.min_len..=syntax.max_len).contains(&target.len())
                && target.bytes().all(|b| b.is_ascii_alphanumeric());
            if !fits {
                return PushIdVerdict::Illegal;
            }
        }
        match self.settings.unknown_push_ids {
            UnknownPushIds::Valid => PushIdVerdict::Valid,
            UnknownPushIds::NotSubscribed => PushIdVerdict::NotSubscribed,
            UnknownPushIds::Illegal => PushIdVerdict::Illegal,
        }
    }
}

/// Queues receipts on command (`Simulator::send_receipt`, `POST /_sim/receipts`).
pub(crate) fn send_receipt(
    kit: &Kit,
    msg_id: &str,
    receipt_type: u32,
    targets: Option<Vec<String>>,
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
    let inner = kit.vendor().lock();
    let Some(message) = inner.messages.get(msg_id) else {
        return Err(ReceiptError(format!("unknown message id {msg_id:?}")));
    };
    let Some(callback) = &message.callback else {
        return Err(ReceiptError(format!(
            "message {msg_id} was sent without extra.callback"
        )));
    };
    let targets = targets.unwrap_or_else(|| message.delivered.clone());
    callback.queue(kit, msg_id, receipt_type, &targets);
    Ok(targets.len())
}

/// `restrictedPackageNames`: optional, at most 50 comma-joined packages of
/// the app.
fn check_packages(list: Option<&str>, app: &SimApp, settings: &Settings) -> Checked {
    let Some(list) = list else {
        return Ok(());
    };
    let packages: Vec<&str> = list.split(',').collect();
    if packages.len() > MAX_RESTRICTED_PACKAGES {
        return Err(param_error(format!(
            "restrictedPackageNames has {} packages, at most {MAX_RESTRICTED_PACKAGES}",
            packages.len()
        )));
    }
    if packages.iter().any(|p| p.is_empty()) {
        return Err(param_error("restrictedPackageNames has an empty entry"));
    }
    let unknown = packages
        .iter()
        .find(|p| !app.package_names.is_empty() && !app.package_names.iter().any(|a| a == *p));
    match unknown {
        Some(package) => Err(fail(
            package_code(settings),
            format!("包名不合法：{package}"),
        )),
        None => Ok(()),
    }
}

/// `pushIds`: 1..=max comma-joined ids, none empty or with whitespace.
fn push_ids(list: Option<&str>, settings: &Settings) -> Checked<Vec<String>> {
    let Some(list) = list else {
        return Err(empty("pushIds"));
    };
    let targets: Vec<String> = list.split(',').map(str::to_owned).collect();
    if targets.len() > settings.max_push_ids {
        return Err(fail(
            &settings.too_many_targets_code,
            &settings.too_many_targets_message,
        ));
    }
    if targets
        .iter()
        .any(|t| t.is_empty() || t.chars().any(char::is_whitespace))
    {
        return Err(param_error("pushIds has an empty entry or whitespace"));
    }
    Ok(targets)
}

/// The readers of `messageJson`'s values, with the settings they follow.
struct Reader<'a> {
    settings: &'a Settings,
}

impl Reader<'_> {
    /// An optional object (null is absent); `keys` are its known keys.
    fn object<'v>(
        &self,
        parent: &'v Map<String, Value>,
        name: &str,
        keys: &[&str],
    ) -> Checked<Option<&'v Map<String, Value>>> {
        match parent.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => {
                self.known_keys(object, name, keys)?;
                Ok(Some(object))
            }
            Some(_) => Err(param_error(format!("{name} must be a JSON object"))),
        }
    }

    fn known_keys(&self, object: &Map<String, Value>, name: &str, keys: &[&str]) -> Checked {
        if !self.settings.reject_unknown_keys {
            return Ok(());
        }
        match object.keys().find(|key| !keys.contains(&key.as_str())) {
            Some(key) => Err(param_error(format!("unknown key {name}.{key}"))),
            None => Ok(()),
        }
    }

    /// An optional integer in `range` (default `default`): a JSON integer,
    /// or a digit string when [`Settings::numeric_strings`] allows it.
    fn int(
        &self,
        object: Option<&Map<String, Value>>,
        name: &str,
        range: RangeInclusive<i64>,
        default: i64,
    ) -> Checked<i64> {
        let value = match object.and_then(|o| o.get(name)) {
            None | Some(Value::Null) => return Ok(default),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if self.settings.numeric_strings => s.parse().ok(),
            Some(_) => None,
        };
        match value {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(param_error(format!(
                "{name} must be an integer in {}..={}",
                range.start(),
                range.end()
            ))),
        }
    }

    /// An optional string (null and `""` are absent).
    fn text<'v>(
        &self,
        object: Option<&'v Map<String, Value>>,
        name: &str,
    ) -> Checked<Option<&'v str>> {
        match object.and_then(|o| o.get(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(param_error(format!("{name} must be a string"))),
        }
    }

    /// A required string (110004 when absent or empty).
    fn required<'v>(&self, object: Option<&'v Map<String, Value>>, name: &str) -> Checked<&'v str> {
        self.text(object, name)?.ok_or_else(|| empty(name))
    }
}

fn check_message(text: &str, app: &SimApp, settings: &Settings) -> Checked<Message> {
    let value: Value = serde_json::from_str(text)
        .map_err(|error| param_error(format!("messageJson is not JSON: {error}")))?;
    let Some(top) = value.as_object() else {
        return Err(param_error("messageJson must be a JSON object"));
    };
    let r = Reader { settings };
    r.known_keys(top, "messageJson", TOP_KEYS)?;

    // noticeBarInfo
    let Some(bar) = r.object(top, "noticeBarInfo", BAR_KEYS)? else {
        return Err(empty("noticeBarInfo"));
    };
    let bar = Some(bar);
    let notice_msg_type = r.int(bar, "noticeMsgType", 0..=1, 0)?;
    let notice_bar_type = r.int(bar, "noticeBarType", 0..=2, 0)?;
    let title = r.required(bar, "title")?;
    let content = r.required(bar, "content")?;
    if chars(title) > TITLE_MAX_CHARS || chars(content) > CONTENT_MAX_CHARS {
        return Err(fail(
            &settings.text_too_long_code,
            &settings.text_too_long_message,
        ));
    }

    // noticeExpandInfo
    let expand = r.object(top, "noticeExpandInfo", EXPAND_KEYS)?;
    match r.int(expand, "noticeExpandType", 0..=2, 0)? {
        1 => {
            r.required(expand, "noticeExpandContent")?;
        }
        2 => {
            r.required(expand, "noticeExpandImgUrl")?;
            if !app.vip {
                return Err(param_error(
                    "noticeExpandType 2 (big image) is for VIP apps",
                ));
            }
        }
        _ => {}
    }
    // Image notifications (noticeBarType 1, JavaSdk) are not VIP-gated:
    // nothing in the spec says so.
    let _ = notice_bar_type;

    // clickTypeInfo
    let click = r.object(top, "clickTypeInfo", CLICK_KEYS)?;
    let click_type = r.int(click, "clickType", 0..=3, 0)?;
    match click_type {
        1 => {
            let activity = r.required(click, "activity")?;
            let shaped = activity.contains('.')
                && !activity.starts_with('.')
                && !activity.ends_with('.')
                && !activity.chars().any(char::is_whitespace);
            if !shaped {
                return Err(param_error("activity must be pkg.Activity"));
            }
        }
        2 => {
            let url = r.required(click, "url")?;
            if !has_scheme(url) || url.chars().any(char::is_whitespace) {
                return Err(param_error("url must be a URI with a scheme"));
            }
        }
        3 => {
            if settings.refuse_custom_click {
                return Err(param_error("clickType 3 (custom) is no longer supported"));
            }
            let custom = r.required(click, "customAttribute")?;
            if custom.len() > CUSTOM_ATTRIBUTE_MAX_BYTES {
                return Err(param_error("customAttribute over 1000 bytes"));
            }
        }
        _ => {}
    }
    let parameters = match click.and_then(|c| c.get("parameters")) {
        None | Some(Value::Null) => Value::Null,
        Some(object @ Value::Object(_)) => object.clone(),
        Some(_) => return Err(param_error("parameters must be a JSON object")),
    };

    // pushTimeInfo
    let time = r.object(top, "pushTimeInfo", TIME_KEYS)?;
    let off_line = r.int(time, "offLine", 0..=1, 1)?;
    let valid_time = r.int(time, "validTime", 1..=72, 24)?;

    // advanceInfo
    let advance = r.object(top, "advanceInfo", ADVANCE_KEYS)?;
    r.int(advance, "suspend", 0..=1, 1)?;
    r.int(advance, "clearNoticeBar", 0..=1, 1)?;
    let kinds = match advance {
        Some(advance) => r.object(advance, "notificationType", NOTIFICATION_TYPE_KEYS)?,
        None => None,
    };
    for kind in NOTIFICATION_TYPE_KEYS {
        r.int(kinds, kind, 0..=1, 1)?;
    }
    let fix_display = r.int(advance, "fixDisplay", 0..=1, 0)?;
    let start = display_time(&r, advance, "fixStartDisplayTime")?;
    let end = match display_time(&r, advance, "fixEndDisplayTime")? {
        Some(end) => Some(end),
        None => display_time(&r, advance, "fixEndDisplayTime ")?,
    };
    if fix_display == 1 {
        match (start, end) {
            (None, _) => return Err(empty("fixStartDisplayTime")),
            (_, None) => return Err(empty("fixEndDisplayTime")),
            (Some(start), Some(end)) if start >= end => {
                return Err(param_error(
                    "fixStartDisplayTime must be before fixEndDisplayTime",
                ))
            }
            _ => {}
        }
    }
    let notify_key = r.text(advance, "notifyKey")?;
    if let Some(key) = notify_key {
        let shaped = chars(key) <= NOTIFY_KEY_MAX_CHARS
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !shaped {
            return Err(param_error("notifyKey must be 1..=8 of [0-9A-Za-z_-]"));
        }
    }

    // vipInfo
    let vip = r.object(top, "vipInfo", VIP_KEYS)?;
    if vip.is_some() {
        if !app.vip {
            return Err(param_error("vipInfo is for VIP apps"));
        }
        if r.text(vip, "subtitle")?
            .is_some_and(|s| chars(s) > SUBTITLE_MAX_CHARS)
        {
            return Err(param_error("subtitle over 16 characters"));
        }
        r.int(vip, "pullDownTop", 0..=1, 0)?;
        r.int(vip, "notGroup", 0..=1, 0)?;
        if vip.is_some_and(|v| v.get("timeTop").is_some_and(|t| !t.is_null())) {
            r.int(vip, "timeTop", 1800..=7200, 1800)?;
        }
        for name in [
            "titleColor",
            "backgroundImgUrl",
            "smallIconUrl",
            "bigIconUrl",
        ] {
            r.text(vip, name)?;
        }
    }

    // extra: the callback fields; other keys are the app's and pass.
    let extra_object = match top.get("extra") {
        None | Some(Value::Null) => None,
        Some(Value::Object(extra)) => Some(extra),
        Some(_) => return Err(param_error("extra must be a JSON object")),
    };
    let callback = check_callback(&r, extra_object, app)?;

    Ok(Message {
        title: title.to_owned(),
        content: content.to_owned(),
        notice_msg_type,
        click_type,
        parameters,
        extra: extra_object.map_or(Value::Null, |e| Value::Object(e.clone())),
        notify_key: notify_key.map(str::to_owned),
        off_line,
        valid_time,
        callback,
        value,
    })
}

/// `scheme:` at the start (RFC 3986: a letter, then letters, digits, `+-.`).
fn has_scheme(uri: &str) -> bool {
    let Some((scheme, _)) = uri.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// An optional `yyyy-MM-dd HH:mm:ss` time.
fn display_time(
    r: &Reader<'_>,
    advance: Option<&Map<String, Value>>,
    name: &str,
) -> Checked<Option<PrimitiveDateTime>> {
    let Some(text) = r.text(advance, name)? else {
        return Ok(None);
    };
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text, format)
        .map(Some)
        .map_err(|_| param_error(format!("{} must be yyyy-MM-dd HH:mm:ss", name.trim())))
}

/// `extra.callback` (an absolute http(s) URL of at most 128 bytes, one of
/// the app's registered URLs when it has any), `callback.param` (at most 64
/// bytes) and `callback.type` (1, 2 or 3, a number or a digit string;
/// default 3).
fn check_callback(
    r: &Reader<'_>,
    extra: Option<&Map<String, Value>>,
    app: &SimApp,
) -> Checked<Option<Callback>> {
    let param = r.text(extra, "callback.param")?.unwrap_or("");
    if param.len() > CALLBACK_PARAM_MAX_BYTES {
        return Err(param_error("callback.param over 64 bytes"));
    }
    let types = match extra.and_then(|e| e.get("callback.type")) {
        None | Some(Value::Null) => 3,
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(_) => 0,
    };
    let types = match types {
        1 => 1,
        2 => 2,
        3 => 3,
        _ => return Err(param_error("callback.type must be 1, 2 or 3")),
    };
    let Some(url) = r.text(extra, "callback")? else {
        return Ok(None);
    };
    if url.len() > CALLBACK_URL_MAX_BYTES {
        return Err(param_error("callback over 128 bytes"));
    }
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    if host.is_none_or(str::is_empty) || url.chars().any(char::is_whitespace) {
        return Err(param_error("callback must be an absolute http(s) URL"));
    }
    if !app.callback_urls.is_empty() && !app.callback_urls.iter().any(|u| u == url) {
        return Err(param_error("callback is not a registered receipt URL"));
    }
    Ok(Some(Callback {
        url: url.to_owned(),
        param: param.to_owned(),
        types,
        access_token: app.access_token.clone(),
    }))
}
