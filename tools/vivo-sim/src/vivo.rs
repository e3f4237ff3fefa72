//! vivo's endpoints: request checks and answers (the code table is in lib.rs).

use serde_json::{json, Map, Value};
use sim_kit::{Reply, UTC8_MS};

use crate::{
    sign, Delivery, Inner, IssuedToken, Kit, MessageClass, RegIdVerdict, StoredTask,
    MAX_RECEIPT_ID_CHARS, TOKEN_LIFETIME,
};

pub(crate) const AUTH: &str = "/message/auth";
pub(crate) const SEND: &str = "/message/send";
pub(crate) const SAVE_LIST_PAYLOAD: &str = "/message/saveListPayload";
pub(crate) const PUSH_TO_LIST: &str = "/message/pushToList";

pub(crate) const PATHS: [&str; 4] = [AUTH, SEND, SAVE_LIST_PAYLOAD, PUSH_TO_LIST];

/// vivo's body for HTTP 500 (VIVO_API.md §1.1).
pub(crate) const SERVER_ERROR_TEXT: &str = "Internet server error!";

/// ±10 minutes (VIVO_API.md §1.2).
const TIMESTAMP_WINDOW_MS: i128 = 10 * 60 * 1000;

const OK_DESC: &str = "请求成功";

/// Operational messages: from 07:00 until 23:00 UTC+8 (VIVO_API.md §1.10).
const WINDOW_OPENS_MS: i64 = 7 * 60 * 60 * 1000;
const WINDOW_CLOSES_MS: i64 = 23 * 60 * 60 * 1000;

/// vivo's day of an instant: days since the epoch, counted from midnight UTC+8
/// (vivo's days and time window are China Standard Time).
pub(crate) fn vivo_day(now_ms: i64) -> i64 {
    sim_kit::day_of(now_ms, UTC8_MS)
}

/// System categories (classification 1), then operational ones (0); §1.4.
const SYSTEM_CATEGORIES: [&str; 6] = [
    "IM",
    "ACCOUNT",
    "TODO",
    "DEVICE_REMINDER",
    "ORDER",
    "SUBSCRIPTION",
];
const OPERATIONAL_CATEGORIES: [&str; 4] = ["NEWS", "CONTENT", "MARKETING", "SOCIAL"];

/// HTTP 200 `{"result":result,"desc":desc}`.
pub(crate) fn code_reply(result: i64, desc: &str) -> Reply {
    Reply::json(json!({ "result": result, "desc": desc }))
}

/// HTTP 200 `{"result":0,"desc":"请求成功",..fields}`.
fn ok_reply(fields: Value) -> Reply {
    let mut body = json!({ "result": 0, "desc": OK_DESC });
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
    Reply::json(body)
}

/// 10000: the `authToken` is missing, unknown or expired.
pub(crate) fn token_rejected() -> Reply {
    code_reply(10000, "鉴权失败")
}

type Checked<T = ()> = Result<T, Reply>;

fn fail<T>(code: i64, desc: &str) -> Checked<T> {
    Err(code_reply(code, desc))
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Which endpoint stores the message: bounds differ for single and list push.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Single,
    List,
}

impl Inner {
    /// vivo's answer on one of its paths, once the call passed the transport
    /// checks; `token_app` is the app of the call's token (none for auth).
    pub(crate) fn answer(
        &mut self,
        kit: &Kit,
        path: &str,
        token_app: Option<u64>,
        body: &Map<String, Value>,
        raw: &Value,
    ) -> Reply {
        let now = kit.now_ms();
        let checked = match (path, token_app) {
            (AUTH, _) => self.auth(now, body),
            (SEND, Some(app)) => self.send(kit, now, app, body, raw),
            (SAVE_LIST_PAYLOAD, Some(app)) => self.save_list_payload(now, app, body, raw),
            (PUSH_TO_LIST, Some(app)) => self.push_to_list(kit, now, app, body),
            _ => Ok(Reply::text(404, "Not Found")),
        };
        checked.unwrap_or_else(|reply| reply)
    }

    /// `/message/auth` (VIVO_API.md §1.2).
    fn auth(&mut self, now: i64, body: &Map<String, Value>) -> Checked<Reply> {
        let Some(app_id) = body.get("appId").and_then(decimal_u64) else {
            return fail(10200, "appId不能为空");
        };
        let app_key = match body.get("appKey") {
            Some(Value::String(key)) if !key.is_empty() => key,
            _ => return fail(10201, "appKey不能为空"),
        };
        let Some(timestamp) = body.get("timestamp").and_then(decimal_i64) else {
            return fail(10203, "timestamp不能为空");
        };
        let signature = match body.get("sign") {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => return fail(10204, "sign不能为空"),
        };
        let Some(app) = self.apps.get(&app_id) else {
            return fail(10205, "appId不存在");
        };
        if app.app_key != *app_key {
            return fail(10202, "appKey不合法");
        }
        if (i128::from(now) - i128::from(timestamp)).abs() > TIMESTAMP_WINDOW_MS {
            return fail(10207, "timestamp不合法");
        }
        // Case-sensitive on purpose: vivo's sign is lowercase hex.
        if *signature != sign(app_id, app_key, timestamp, &app.app_secret) {
            return fail(10206, "sign不正确");
        }
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                app_id,
                issued: std::time::Instant::now(),
            },
        );
        Ok(ok_reply(json!({ "authToken": token })))
    }

    /// The app of a live token, or 10000.
    pub(crate) fn token_app(&mut self, token: Option<&str>) -> Checked<u64> {
        let Some(token) = token else {
            return Err(token_rejected());
        };
        let Some(issued) = self.tokens.get(token) else {
            return Err(token_rejected());
        };
        if issued.issued.elapsed() > TOKEN_LIFETIME {
            self.tokens.remove(token);
            return Err(token_rejected());
        }
        Ok(issued.app_id)
    }

    pub(crate) fn forget_token(&mut self, token: &str) {
        self.tokens.remove(token);
    }

    /// `/message/send` (VIVO_API.md §1.3).
    fn send(
        &mut self,
        kit: &Kit,
        now: i64,
        token_app: u64,
        body: &Map<String, Value>,
        raw: &Value,
    ) -> Checked<Reply> {
        check_app_id(body, token_app)?;
        let target = single_target(body)?;
        check_message(body, Kind::Single)?;
        self.check_content_rules(body)?;
        let push_mode = push_mode(body).unwrap_or(0);
        let class = message_class(body);
        self.check_window(now, class)?;
        self.check_quota(now, token_app, class, push_mode)?;
        if let Some(status) = self.invalid_status(token_app, &target, push_mode) {
            return Ok(Reply::json(json!({
                "result": 10302,
                "desc": "regId不合法",
                "invalidUser": { "status": status, "userid": target },
            })));
        }
        let task_id = self.new_task_id();
        // The legacy per-message `callback` serves formal single pushes only
        // (VIVO_API.md §1.8).
        self.queue_receipt(
            kit.receipts(),
            token_app,
            body,
            &task_id,
            &target,
            push_mode == 0,
        );
        self.deliveries.push(Delivery {
            app_id: token_app,
            reg_id: target,
            task_id: task_id.clone(),
            payload: raw.clone(),
            via: "send".to_owned(),
        });
        self.count_delivered(now, token_app, class, push_mode, 1);
        Ok(ok_reply(json!({ "taskId": task_id })))
    }

    /// `/message/saveListPayload` (VIVO_API.md §1.5 step 1).
    fn save_list_payload(
        &mut self,
        now: i64,
        token_app: u64,
        body: &Map<String, Value>,
        raw: &Value,
    ) -> Checked<Reply> {
        check_app_id(body, token_app)?;
        check_message(body, Kind::List)?;
        self.check_content_rules(body)?;
        let limit = self.quotas_of(token_app).list_payloads;
        let usage = self.usage_mut(now, token_app);
        if limit.is_some_and(|limit| usage.list_payloads >= limit) {
            return fail(10252, "超过当日saveListPayload次数限制");
        }
        usage.list_payloads += 1;
        let task_id = self.new_task_id();
        self.tasks.insert(
            task_id.clone(),
            StoredTask {
                app_id: token_app,
                payload: raw.clone(),
            },
        );
        Ok(ok_reply(json!({ "taskId": task_id })))
    }

    /// `/message/pushToList` (VIVO_API.md §1.5 step 2).
    fn push_to_list(
        &mut self,
        kit: &Kit,
        now: i64,
        token_app: u64,
        body: &Map<String, Value>,
    ) -> Checked<Reply> {
        check_app_id(body, token_app)?;
        let targets = list_targets(body)?;
        let task_id = match body.get("taskId") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => return fail(10062, "taskId不能为空"),
        };
        let stored_payload = match self.tasks.get(&task_id) {
            Some(task) if task.app_id == token_app => task.payload.clone(),
            _ => return fail(10062, "taskId不存在"),
        };
        let request_id = check_request_id(body)?;
        check_push_mode(body)?;
        let stored_fields = stored_payload.as_object().cloned().unwrap_or_default();
        let push_mode = push_mode(body)
            .or_else(|| push_mode(&stored_fields))
            .unwrap_or(0);
        let class = message_class(&stored_fields);
        self.check_window(now, class)?;
        self.check_quota(now, token_app, class, push_mode)?;

        let mut invalid_users = Vec::new();
        let mut delivered = 0;
        for target in targets {
            match self.invalid_status(token_app, &target, push_mode) {
                Some(status) => invalid_users.push(json!({ "status": status, "userid": target })),
                None => {
                    delivered += 1;
                    // List pushes: `callback.id` receipts only (VIVO_API.md §1.8).
                    self.queue_receipt(
                        kit.receipts(),
                        token_app,
                        &stored_fields,
                        &task_id,
                        &target,
                        false,
                    );
                    self.deliveries.push(Delivery {
                        app_id: token_app,
                        reg_id: target,
                        task_id: task_id.clone(),
                        payload: stored_payload.clone(),
                        via: "pushToList".to_owned(),
                    });
                }
            }
        }
        self.count_delivered(now, token_app, class, push_mode, delivered);
        let mut fields = json!({ "requestId": request_id });
        if !invalid_users.is_empty() {
            fields["invalidUsers"] = Value::Array(invalid_users);
        }
        Ok(ok_reply(fields))
    }

    /// 10085 / 10104 for `title` then `content`, when enforced.
    fn check_content_rules(&self, body: &Map<String, Value>) -> Checked {
        if !self.rules.content_rules {
            return Ok(());
        }
        for field in ["title", "content"] {
            let text = body.get(field).and_then(Value::as_str).unwrap_or("");
            if is_only_letters_digits_or_symbols(text) {
                return fail(10085, "标题或内容不能只包含数字、字母或符号");
            }
            if text.contains("测试") || text.contains(['[', ']', '{', '}']) {
                return fail(10104, "标题或内容包含不允许的字符");
            }
        }
        Ok(())
    }

    /// 10071 for an operational message outside 07:00-23:00 UTC+8, when enforced.
    fn check_window(&self, now: i64, class: MessageClass) -> Checked {
        if !self.rules.operational_window || class != MessageClass::Operational {
            return Ok(());
        }
        let time_of_day = sim_kit::time_of_day(now, UTC8_MS);
        if (WINDOW_OPENS_MS..WINDOW_CLOSES_MS).contains(&time_of_day) {
            Ok(())
        } else {
            fail(10071, "运营消息只能在7:00-23:00之间发送")
        }
    }

    /// 10070 / 10073 once today's total of that class is used up. Test pushes
    /// are not subject to quotas (VIVO_API.md §1.10).
    fn check_quota(
        &mut self,
        now: i64,
        app_id: u64,
        class: MessageClass,
        push_mode: i64,
    ) -> Checked {
        if push_mode == 1 {
            return Ok(());
        }
        let quotas = self.quotas_of(app_id);
        let usage = self.usage_today(now, app_id);
        match class {
            MessageClass::Operational
                if quotas.operational.is_some_and(|q| usage.operational >= q) =>
            {
                fail(10070, "超过当日运营消息总量限制")
            }
            MessageClass::System if quotas.system.is_some_and(|q| usage.system >= q) => {
                fail(10073, "超过当日系统消息总量限制")
            }
            _ => Ok(()),
        }
    }

    fn count_delivered(
        &mut self,
        now: i64,
        app_id: u64,
        class: MessageClass,
        push_mode: i64,
        n: u64,
    ) {
        if push_mode == 1 || n == 0 {
            return;
        }
        let usage = self.usage_mut(now, app_id);
        match class {
            MessageClass::Operational => usage.operational += n,
            MessageClass::System => usage.system += n,
        }
    }

    /// `invalidUser.status` for a target, if vivo would refuse it.
    fn invalid_status(&self, app_id: u64, target: &str, push_mode: i64) -> Option<u8> {
        if let Some(RegIdVerdict::Invalid { status }) = self.verdicts.get(target) {
            return Some(*status);
        }
        let is_test_device = self
            .test_devices
            .get(&app_id)
            .is_some_and(|devices| devices.contains(target));
        (push_mode == 1 && !is_test_device).then_some(4)
    }
}

/// A non-negative integer sent as a JSON number or as a string of decimal
/// digits (`"10004"`), as a Java server coercing scalars would read it.
fn decimal_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// An integer JSON number, or a string of decimal digits.
fn decimal_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(_) => decimal_u64(value).and_then(|n| i64::try_from(n).ok()),
        _ => None,
    }
}

/// `appId` may be absent (the token names the app); if present it must be a
/// non-negative integer or digit string (10200) equal to the token's app (10094).
fn check_app_id(body: &Map<String, Value>, token_app: u64) -> Checked {
    let Some(app_id) = body.get("appId") else {
        return Ok(());
    };
    match decimal_u64(app_id) {
        None => fail(10200, "appId不合法"),
        Some(app_id) if app_id != token_app => fail(10094, "appId与authToken不匹配"),
        Some(_) => Ok(()),
    }
}

/// `regId` wins over `alias`; both must be non-empty strings to count.
fn single_target(body: &Map<String, Value>) -> Checked<String> {
    for field in ["regId", "alias"] {
        if let Some(Value::String(target)) = body.get(field) {
            if !target.is_empty() {
                return Ok(target.clone());
            }
        }
    }
    fail(10050, "alias和regId不能同时为空")
}

/// `regIds` wins over `aliases`; 2..=1000 non-empty strings.
fn list_targets(body: &Map<String, Value>) -> Checked<Vec<String>> {
    let list = match (body.get("regIds"), body.get("aliases")) {
        (Some(list), _) if !list.is_null() => list,
        (_, Some(list)) if !list.is_null() => list,
        _ => return fail(10050, "aliases和regIds不能同时为空"),
    };
    let Some(list) = list.as_array() else {
        return fail(10061, "regIds必须是字符串数组");
    };
    if !(2..=1000).contains(&list.len()) {
        return fail(10061, "regIds个数必须在2到1000之间");
    }
    list.iter()
        .map(|item| match item {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => fail(10061, "regIds必须是非空字符串数组"),
        })
        .collect()
}

/// `requestId` as text: a string, or a JSON number read as its decimal text.
fn check_request_id(body: &Map<String, Value>) -> Checked<String> {
    let id = match body.get("requestId") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return fail(10052, "requestId不能为空"),
    };
    if chars(&id) > 64 {
        return fail(10052, "requestId长度不能超过64");
    }
    Ok(id)
}

fn push_mode(body: &Map<String, Value>) -> Option<i64> {
    body.get("pushMode").and_then(Value::as_i64)
}

fn check_push_mode(body: &Map<String, Value>) -> Checked {
    match body.get("pushMode") {
        None => Ok(()),
        Some(mode) if matches!(mode.as_i64(), Some(0 | 1)) => Ok(()),
        Some(_) => fail(10060, "pushMode不合法"),
    }
}

/// The content checks shared by `send` and `saveListPayload`, in table order.
fn check_message(body: &Map<String, Value>, kind: Kind) -> Checked {
    check_request_id(body)?;

    if !matches!(body.get("notifyType").and_then(Value::as_i64), Some(1..=4)) {
        return fail(10054, "notifyType不合法");
    }

    let title = match body.get("title") {
        Some(Value::String(title)) if !title.trim().is_empty() => title,
        _ => return fail(10055, "title不能为空"),
    };
    if chars(title) > 40 {
        return fail(10056, "title长度不能超过40");
    }

    match body.get("content") {
        Some(Value::String(content)) if content.trim().is_empty() => {
            return fail(10053, "content不能为空")
        }
        Some(Value::String(content)) if chars(content) > 100 => {
            return fail(10053, "content长度不能超过100")
        }
        Some(Value::String(_)) => {}
        _ => return fail(10053, "content不能为空"),
    }

    check_skip(body)?;
    check_time_to_live(body, kind)?;
    check_category(body)?;
    check_client_custom_map(body)?;
    check_push_mode(body)?;
    check_other_fields(body, kind)
}

fn check_skip(body: &Map<String, Value>) -> Checked {
    let skip_type = match body.get("skipType").and_then(Value::as_i64) {
        Some(t @ 1..=4) => t,
        _ => return fail(10057, "skipType不合法"),
    };
    let skip_content = match body.get("skipContent") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return fail(10057, "skipContent不合法"),
    };
    if skip_content.is_some_and(|s| chars(s) > 1024) {
        return fail(10057, "skipContent长度不能超过1024");
    }
    let needs_content = matches!(skip_type, 2 | 4);
    if needs_content && skip_content.is_none_or(str::is_empty) {
        return fail(10057, "skipContent不能为空");
    }
    if skip_type == 2 && !skip_content.is_some_and(is_http_url) {
        return fail(10057, "skipContent必须是http(s)链接");
    }
    Ok(())
}

fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !url.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn check_time_to_live(body: &Map<String, Value>, kind: Kind) -> Checked {
    // Single push: 60 s..1 day (§1.3 newer text). Other push types: at least
    // 900 s, at most 7 days (§1.3, official Java SDK constants).
    let bounds = match kind {
        Kind::Single => 60..=86_400,
        Kind::List => 900..=604_800,
    };
    // 0 means "use the default", like an absent field.
    match body.get("timeToLive") {
        None => Ok(()),
        Some(ttl)
            if ttl
                .as_i64()
                .is_some_and(|ttl| ttl == 0 || bounds.contains(&ttl)) =>
        {
            Ok(())
        }
        Some(_) => fail(10058, "timeToLive不合法"),
    }
}

/// Only Latin letters, only digits, only symbols, or only symbols and digits
/// (whitespace ignored); see "Content rules" in lib.rs.
fn is_only_letters_digits_or_symbols(text: &str) -> bool {
    let (mut letters, mut digits, mut symbols) = (false, false, false);
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_alphabetic() {
            letters = true;
        } else if c.is_numeric() {
            digits = true;
        } else if !c.is_alphanumeric() {
            symbols = true;
        } else {
            return false;
        }
    }
    matches!(
        (letters, digits, symbols),
        (true, false, false) | (false, true, false) | (false, false, true) | (false, true, true)
    )
}

/// The class of a (checked) message: `category` first, then `classification`,
/// else operational (the older doc's default for an omitted classification).
fn message_class(body: &Map<String, Value>) -> MessageClass {
    let category = body.get("category").and_then(Value::as_str);
    if category.is_some_and(|c| SYSTEM_CATEGORIES.contains(&c)) {
        return MessageClass::System;
    }
    if category.is_some_and(|c| OPERATIONAL_CATEGORIES.contains(&c)) {
        return MessageClass::Operational;
    }
    match body.get("classification").and_then(Value::as_i64) {
        Some(1) => MessageClass::System,
        _ => MessageClass::Operational,
    }
}

fn check_category(body: &Map<String, Value>) -> Checked {
    let category_class = match body.get("category") {
        None => None,
        Some(Value::String(c)) if SYSTEM_CATEGORIES.contains(&c.as_str()) => Some(1),
        Some(Value::String(c)) if OPERATIONAL_CATEGORIES.contains(&c.as_str()) => Some(0),
        Some(_) => return fail(10096, "category不合法"),
    };
    let classification = match body.get("classification") {
        None => None,
        Some(c) => match c.as_i64() {
            Some(c @ (0 | 1)) => Some(c),
            _ => return fail(10063, "classification不合法"),
        },
    };
    match (category_class, classification) {
        (Some(expected), Some(given)) if expected != given => {
            fail(10097, "category与classification不匹配")
        }
        _ => Ok(()),
    }
}

fn check_client_custom_map(body: &Map<String, Value>) -> Checked {
    let Some(map) = body.get("clientCustomMap") else {
        return Ok(());
    };
    let Some(map) = map.as_object() else {
        return fail(10059, "clientCustomMap不合法");
    };
    if map.len() > 10 {
        return fail(10059, "clientCustomMap不能超过10个");
    }
    let mut total = 0;
    for (key, value) in map {
        let Value::String(value) = value else {
            return fail(10059, "clientCustomMap的值必须是字符串");
        };
        total += chars(key) + chars(value);
    }
    if total > 1024 {
        return fail(10059, "clientCustomMap长度不能超过1024");
    }
    Ok(())
}

/// Optional fields whose codes vivo does not document; all answer 10063.
fn check_other_fields(body: &Map<String, Value>, kind: Kind) -> Checked {
    let bad = |desc| fail(10063, desc);
    // An integer, or the string form the doc's own JSON example shows ("1").
    if let Some(network) = body.get("networkType") {
        let valid = match network {
            Value::String(s) => matches!(s.as_str(), "1" | "-1"),
            other => matches!(other.as_i64(), Some(-1 | 1)),
        };
        if !valid {
            return bad("networkType不合法");
        }
    }
    if let Some(notify_id) = body.get("notifyId") {
        if !notify_id
            .as_i64()
            .is_some_and(|id| (1..=2_147_483_647).contains(&id))
        {
            return bad("notifyId不合法");
        }
    }
    if kind == Kind::Single {
        match body.get("profileId") {
            None => {}
            Some(Value::String(p)) if chars(p) <= 64 => {}
            Some(_) => return bad("profileId不合法"),
        }
    }
    if let Some(extra) = body.get("extra") {
        let Some(extra) = extra.as_object() else {
            return bad("extra不合法");
        };
        // `callback` at most 128 and `callback.param` at most 192 (the newer
        // limit, VIVO_API.md §1.3); `callback.id` is the simulator's bound.
        for (field, max) in [
            ("callback", 128),
            ("callback.param", 192),
            ("callback.id", MAX_RECEIPT_ID_CHARS),
        ] {
            match extra.get(field) {
                None => {}
                Some(Value::String(s)) if chars(s) <= max => {}
                Some(_) => return bad("extra不合法"),
            }
        }
    }
    for field in ["sendOnline", "foregroundShow"] {
        if body.get(field).is_some_and(|v| !v.is_boolean()) {
            return bad("参数不合法");
        }
    }
    Ok(())
}
