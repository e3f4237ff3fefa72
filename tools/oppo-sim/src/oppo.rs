//! The OPPO paths: request checks and answers (the order and the code table
//! are in lib.rs).

use std::collections::{BTreeMap, BTreeSet};

use axum::http::Method;
use serde_json::{json, Map, Value};
use sim_kit::{form, Call, Reply, UTC8_MS};

use crate::notification::{self, Notification, Reader, Source};
use crate::receipts::PendingReceipt;
use crate::{
    error_body, sign, Delivery, Inner, MessageClass, Oppo, ReceiptError, SavedMessage, SimApp,
    StoredMessage, Token, AUTH_PATH, BROADCAST_PATH, MAX_BATCH_MESSAGES, MAX_BROADCAST_TARGETS,
    SAVE_MESSAGE_PATH, TIMESTAMP_WINDOW_MS, TOKEN_LIFETIME_MS, UNICAST_BATCH_PATH, UNICAST_PATH,
};

type Kit = sim_kit::Core<Oppo>;

pub(crate) type Checked<T = ()> = Result<T, Reply>;

/// The message of a unicast to an invalid target, as §2.6 quotes it.
pub(crate) const INVALID_REGID_MESSAGE: &str = "registration_id格式不正确";

/// OPPO's day of an instant: days since the epoch from midnight UTC+8.
pub(crate) fn oppo_day(now_ms: i64) -> i64 {
    sim_kit::day_of(now_ms, UTC8_MS)
}

/// An OPPO error answer, HTTP 200.
pub(crate) fn error(code: i64, message: impl AsRef<str>) -> Reply {
    Reply::json(error_body(code, message.as_ref()))
}

/// 40: a required field is missing.
pub(crate) fn missing(field: &str) -> Reply {
    error(40, format!("Missing Required Arguments: {field}"))
}

/// 41: a field is malformed or out of its limits.
pub(crate) fn invalid(field: &str, why: impl AsRef<str>) -> Reply {
    error(41, format!("Invalid Arguments: {field} {}", why.as_ref()))
}

fn success(data: Value) -> Reply {
    Reply::json(json!({ "code": 0, "message": "", "data": data }))
}

/// Where a message's receipts go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Callback {
    pub(crate) url: String,
    pub(crate) param: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Auth,
    Unicast,
    UnicastBatch,
    Save,
    Broadcast,
}

impl Endpoint {
    fn of(path: &str) -> Option<Endpoint> {
        Some(match path {
            AUTH_PATH => Endpoint::Auth,
            UNICAST_PATH => Endpoint::Unicast,
            UNICAST_BATCH_PATH => Endpoint::UnicastBatch,
            SAVE_MESSAGE_PATH => Endpoint::Save,
            BROADCAST_PATH => Endpoint::Broadcast,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Endpoint::Auth => "auth",
            Endpoint::Unicast => "unicast",
            Endpoint::UnicastBatch => "unicast_batch",
            Endpoint::Save => "save_message_content",
            Endpoint::Broadcast => "broadcast",
        }
    }
}

/// The form's fields, each given once.
pub(crate) struct Fields(BTreeMap<String, String>);

impl Fields {
    fn new(pairs: Vec<(String, String)>) -> Checked<Fields> {
        let mut fields = BTreeMap::new();
        for (name, value) in pairs {
            if fields.contains_key(&name) {
                return Err(invalid(&name, "given more than once"));
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

/// The media type is a form's (else HTTP 415); a charset other than UTF-8
/// is code 25.
fn check_content_type(content_type: Option<&str>) -> Checked {
    let unsupported = || {
        Reply::text(
            415,
            "Content-Type must be application/x-www-form-urlencoded",
        )
    };
    let Some(content_type) = content_type else {
        return Err(unsupported());
    };
    let (mime, params) = form::media_type(content_type);
    if mime != "application/x-www-form-urlencoded" {
        return Err(unsupported());
    }
    match params.iter().find(|(name, _)| name == "charset") {
        Some((_, charset)) if !charset.eq_ignore_ascii_case("utf-8") => {
            Err(error(25, "Invalid Encoding: only UTF-8 is supported"))
        }
        _ => Ok(()),
    }
}

/// OPPO's normal behaviour for one call.
pub(crate) fn answer(kit: &Kit, call: &Call) -> Reply {
    let Some(endpoint) = Endpoint::of(&call.path) else {
        return Reply::text(404, "Not Found");
    };
    if call.method != Method::POST {
        return error(12, "Http Action Not Allowed");
    }
    handle(kit, endpoint, call).unwrap_or_else(|reply| reply)
}

fn handle(kit: &Kit, endpoint: Endpoint, call: &Call) -> Checked<Reply> {
    check_content_type(call.content_type())?;
    let pairs = match form::decode(&call.body) {
        Ok(pairs) => pairs,
        Err(form::FormError::NotUtf8) => {
            return Err(error(25, "Invalid Encoding: the form is not UTF-8"))
        }
        Err(error) => {
            return Err(Reply::text(
                400,
                format!("the body is not a valid form: {error}"),
            ))
        }
    };
    let fields = Fields::new(pairs)?;
    let now = kit.now_ms();
    let mut inner = kit.vendor().lock();
    let app = match endpoint {
        Endpoint::Auth => return inner.auth(now, &fields),
        _ => inner.token_app(now, call, &fields)?,
    };
    inner.count_call(now, &app.app_key)?;
    match endpoint {
        Endpoint::Auth => inner.auth(now, &fields),
        Endpoint::Unicast => inner.unicast(kit, now, &app, &fields),
        Endpoint::UnicastBatch => inner.unicast_batch(kit, now, &app, &fields),
        Endpoint::Save => inner.save(&app, &fields),
        Endpoint::Broadcast => inner.broadcast(kit, now, &app, &fields),
    }
}

/// A unicast message's target and notification.
struct Message {
    target_type: i64,
    target: String,
    notification: Notification,
}

/// What became of one target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// Set invalid, or not a registration id at all.
    Invalid,
    /// The per-device daily cap of content & marketing messages.
    Limited,
    /// `app_message_id` already pushed to this target.
    Duplicate,
}

/// A registration id or alias OPPO could not deliver to: set invalid, or
/// empty or containing whitespace.
fn is_invalid(inner: &Inner, target: &str) -> bool {
    target.trim().is_empty()
        || target.chars().any(char::is_whitespace)
        || inner.invalid.contains(target)
}

impl Inner {
    fn auth(&mut self, now: i64, f: &Fields) -> Checked<Reply> {
        let app_key = f
            .get("app_key")
            .ok_or_else(|| error(15, "Missing AppKey"))?;
        let timestamp = f
            .get("timestamp")
            .ok_or_else(|| error(18, "Missing Timestamp"))?;
        let signature = f
            .get("sign")
            .ok_or_else(|| error(17, "Missing Signature"))?;
        let app = self
            .apps
            .get(app_key)
            .cloned()
            .ok_or_else(|| error(14, "Invalid AppKey"))?;
        let stamp = (timestamp.len() == 13 && timestamp.bytes().all(|b| b.is_ascii_digit()))
            .then(|| timestamp.parse::<i64>().ok())
            .flatten()
            .ok_or_else(|| error(19, "Invalid Timestamp: 13 digits of ms expected"))?;
        let ahead = i64::try_from(self.settings.future_skew_ms).unwrap_or(i64::MAX);
        if stamp < now - TIMESTAMP_WINDOW_MS || stamp > now.saturating_add(ahead) {
            return Err(error(
                19,
                "Invalid Timestamp: not within the last 10 minutes",
            ));
        }
        if signature != sign(app_key, timestamp, &app.master_secret) {
            return Err(error(16, "Invalid Signature"));
        }
        self.count_call(now, app_key)?;
        let auth_token = format!("{}", uuid::Uuid::new_v4().simple());
        let seq = self.next_id();
        self.tokens.insert(
            auth_token.clone(),
            Token {
                app_key: app_key.to_owned(),
                create_time: now,
                invalidated: false,
                seq,
            },
        );
        let create_time = match self.settings.create_time {
            crate::CreateTime::Number => Value::from(now),
            crate::CreateTime::String => Value::from(now.to_string()),
        };
        Ok(Reply::json(json!({
            "code": 0,
            "message": "success",
            "data": { "auth_token": auth_token, "create_time": create_time },
        })))
    }

    /// The app of the call's `auth_token` (form field, else header).
    fn token_app(&self, now: i64, call: &Call, f: &Fields) -> Checked<SimApp> {
        let token = f.get("auth_token").or_else(|| {
            self.settings
                .header_token
                .then(|| call.header("auth_token").filter(|t| !t.is_empty()))
                .flatten()
        });
        let Some(token) = token else {
            return Err(error(29, "Missing auth_token"));
        };
        self.tokens
            .get(token)
            .filter(|t| !t.invalidated && now < t.create_time.saturating_add(TOKEN_LIFETIME_MS))
            .and_then(|t| self.apps.get(&t.app_key))
            .cloned()
            .ok_or_else(|| error(11, "Invalid AuthToken"))
    }

    /// Counts a call against the app's per-second limit (55 past it).
    fn count_call(&mut self, now: i64, app_key: &str) -> Checked {
        let Some(limit) = self.quotas.get(app_key).and_then(|q| q.per_second) else {
            return Ok(());
        };
        let second = now.div_euclid(1000);
        let calls = self.calls.entry(app_key.to_owned()).or_insert((second, 0));
        if calls.0 != second {
            *calls = (second, 0);
        }
        if calls.1 >= limit {
            return Err(error(55, "App Call Frequency Limit"));
        }
        calls.1 += 1;
        Ok(())
    }

    /// 33 when the daily total of one of `classes` is used up.
    fn check_quota(
        &self,
        now: i64,
        app_key: &str,
        classes: impl IntoIterator<Item = MessageClass>,
    ) -> Checked {
        let quotas = self.quotas.get(app_key).copied().unwrap_or_default();
        let usage = self.usage(now, app_key);
        for class in classes {
            let (used, quota) = match class {
                MessageClass::Public => (usage.public, quotas.public),
                MessageClass::Service => (usage.service, quotas.service),
            };
            if quota.is_some_and(|quota| used >= quota) {
                return Err(error(33, "Exceed Daily Message Limit"));
            }
        }
        Ok(())
    }

    fn new_message_id(&mut self, app: &SimApp) -> String {
        // The shape §2.6 quotes: "<AppID>-1-1-<uuid>".
        let _ = self.next_id();
        format!("{}-1-1-{}", app.app_id, uuid::Uuid::new_v4().simple())
    }

    /// One target of an accepted message: delivered, capped, or a duplicate.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        now: i64,
        app: &SimApp,
        endpoint: Endpoint,
        message_id: &str,
        task_id: &str,
        target_type: i64,
        target: &str,
        n: &Notification,
    ) -> Outcome {
        let once_key = n
            .app_message_id
            .as_ref()
            .filter(|_| endpoint != Endpoint::Broadcast)
            .map(|id| (app.app_key.clone(), id.clone(), target.to_owned()));
        if once_key
            .as_ref()
            .is_some_and(|key| self.pushed_once.contains(key))
        {
            return Outcome::Duplicate;
        }
        let today = oppo_day(now);
        let device_key = (app.app_key.clone(), target.to_owned());
        if n.class == MessageClass::Public {
            let cap = self
                .quotas
                .get(&app.app_key)
                .and_then(|q| q.per_device_public);
            let got = match self.per_device.get(&device_key) {
                Some(&(day, got)) if day == today => got,
                _ => 0,
            };
            if cap.is_some_and(|cap| got >= cap) {
                return Outcome::Limited;
            }
            self.per_device.insert(device_key, (today, got + 1));
        }
        if let Some(key) = once_key {
            self.pushed_once.insert(key);
        }
        let mut usage = self.usage(now, &app.app_key);
        match n.class {
            MessageClass::Public => usage.public += 1,
            MessageClass::Service => usage.service += 1,
        }
        self.usage.insert(app.app_key.clone(), (today, usage));
        self.deliveries.push(Delivery {
            endpoint: endpoint.name().to_owned(),
            message_id: message_id.to_owned(),
            task_id: task_id.to_owned(),
            app_key: app.app_key.clone(),
            target_type,
            target: target.to_owned(),
            class: n.class,
            title: n.title.clone(),
            content: n.content.clone(),
            category: n.category.clone(),
            channel_id: n.channel_id.clone(),
            notify_level: n.notify_level,
            off_line_ttl: n.off_line_ttl,
            notification: n.fields.clone(),
        });
        Outcome::Delivered
    }

    /// Keeps a sent message for receipts on command and queues its receipts
    /// (registration-id targets only).
    #[allow(clippy::too_many_arguments)]
    fn record_message(
        &mut self,
        kit: &Kit,
        now: i64,
        app: &SimApp,
        message_id: &str,
        task_id: &str,
        target_type: i64,
        callback: Option<&Callback>,
        outcomes: &[(String, Outcome)],
    ) {
        let pick = |wanted: Outcome| -> Vec<String> {
            outcomes
                .iter()
                .filter(|(_, outcome)| *outcome == wanted)
                .map(|(target, _)| target.clone())
                .collect()
        };
        let stored = StoredMessage {
            message_id: message_id.to_owned(),
            task_id: task_id.to_owned(),
            app_id: app.app_id.clone(),
            callback: callback.filter(|_| target_type == 2).cloned(),
            delivered: pick(Outcome::Delivered),
            invalid: pick(Outcome::Invalid),
            limited: pick(Outcome::Limited),
        };
        for (event, targets) in [
            ("push_arrive", &stored.delivered),
            ("regid_invalid", &stored.invalid),
            ("user_daily_limit", &stored.limited),
        ] {
            queue_receipts(kit, now, &stored, event, targets);
        }
        self.messages.insert(task_id.to_owned(), stored);
    }

    fn unicast(&mut self, kit: &Kit, now: i64, app: &SimApp, f: &Fields) -> Checked<Reply> {
        let Some(text) = f.get("message") else {
            return Err(missing("message"));
        };
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
            return Err(invalid("message", "not a JSON object"));
        };
        let message = self.read_message(&object, app, "message")?;
        self.check_quota(now, &app.app_key, [message.notification.class])?;
        if is_invalid(self, &message.target) {
            return Err(error(10000, INVALID_REGID_MESSAGE));
        }
        let message_id = self.new_message_id(app);
        let outcome = self.deliver(
            now,
            app,
            Endpoint::Unicast,
            &message_id,
            &message_id,
            message.target_type,
            &message.target,
            &message.notification,
        );
        self.record_message(
            kit,
            now,
            app,
            &message_id,
            &message_id,
            message.target_type,
            message.notification.callback.as_ref(),
            &[(message.target, outcome)],
        );
        Ok(success(json!({ "messageId": message_id })))
    }

    fn unicast_batch(&mut self, kit: &Kit, now: i64, app: &SimApp, f: &Fields) -> Checked<Reply> {
        let Some(text) = f.get("messages") else {
            return Err(missing("messages"));
        };
        let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
            return Err(invalid("messages", "not a JSON array"));
        };
        if items.is_empty() || items.len() > MAX_BATCH_MESSAGES {
            return Err(invalid(
                "messages",
                format!(
                    "has {} messages, 1..={MAX_BATCH_MESSAGES} allowed",
                    items.len()
                ),
            ));
        }
        let mut messages = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let place = format!("messages[{i}]");
            let Value::Object(object) = item else {
                return Err(invalid(&place, "not a JSON object"));
            };
            messages.push(self.read_message(object, app, &place)?);
        }
        let classes: BTreeSet<u8> = messages
            .iter()
            .map(|m| u8::from(m.notification.class == MessageClass::Service))
            .collect();
        self.check_quota(
            now,
            &app.app_key,
            classes.into_iter().map(|service| {
                if service == 1 {
                    MessageClass::Service
                } else {
                    MessageClass::Public
                }
            }),
        )?;
        let mut data = Vec::with_capacity(messages.len());
        for message in messages {
            let message_id = self.new_message_id(app);
            let outcome = if is_invalid(self, &message.target) {
                Outcome::Invalid
            } else {
                self.deliver(
                    now,
                    app,
                    Endpoint::UnicastBatch,
                    &message_id,
                    &message_id,
                    message.target_type,
                    &message.target,
                    &message.notification,
                )
            };
            let mut item = json!({
                "messageId": message_id,
                "registrationId": message.target,
            });
            if outcome == Outcome::Invalid {
                item["errorCode"] = Value::from(10000);
                item["errorMessage"] = Value::from(INVALID_REGID_MESSAGE);
            }
            data.push(item);
            self.record_message(
                kit,
                now,
                app,
                &message_id,
                &message_id,
                message.target_type,
                message.notification.callback.as_ref(),
                &[(message.target, outcome)],
            );
        }
        Ok(success(Value::Array(data)))
    }

    /// `target_type` (2 or 5), `target_value`, `verify_registration_id`,
    /// `notification` of one unicast message.
    fn read_message(
        &self,
        object: &Map<String, Value>,
        app: &SimApp,
        place: &str,
    ) -> Checked<Message> {
        let field = |name: &str| format!("{place}.{name}");
        let present = |name: &str| object.get(name).filter(|v| !v.is_null());
        let target_type = match present("target_type") {
            None => return Err(missing(&field("target_type"))),
            Some(value) => match value.as_i64() {
                Some(n @ (2 | 5)) => n,
                _ => {
                    return Err(invalid(
                        &field("target_type"),
                        "must be 2 (registration id) or 5 (alias)",
                    ))
                }
            },
        };
        let target = match present("target_value") {
            None => return Err(missing(&field("target_value"))),
            Some(Value::String(text)) if text.is_empty() => {
                return Err(missing(&field("target_value")))
            }
            Some(Value::String(text)) => text.clone(),
            Some(_) => return Err(invalid(&field("target_value"), "must be a string")),
        };
        if present("verify_registration_id").is_some_and(|v| !v.is_boolean()) {
            return Err(invalid(
                &field("verify_registration_id"),
                "must be true or false",
            ));
        }
        let notification = match present("notification") {
            None => return Err(missing(&field("notification"))),
            Some(Value::Object(map)) => {
                let reader = Reader::new(
                    Source::Json(map),
                    self.settings.camel_case,
                    &field("notification"),
                );
                notification::check(&reader, app, false)?
            }
            Some(_) => return Err(invalid(&field("notification"), "not a JSON object")),
        };
        Ok(Message {
            target_type,
            target,
            notification,
        })
    }

    fn save(&mut self, app: &SimApp, f: &Fields) -> Checked<Reply> {
        let reader = Reader::new(Source::Form(&f.0), self.settings.camel_case, "");
        let notification = notification::check(&reader, app, true)?;
        let n = self.next_id();
        let message_id = format!("{}-1-2-{n}", app.app_id);
        self.saved.insert(
            message_id.clone(),
            SavedMessage {
                app_key: app.app_key.clone(),
                notification,
            },
        );
        Ok(success(json!({ "message_id": message_id })))
    }

    fn broadcast(&mut self, kit: &Kit, now: i64, app: &SimApp, f: &Fields) -> Checked<Reply> {
        let Some(message_id) = f.get("message_id") else {
            return Err(missing("message_id"));
        };
        let Some(saved) = self
            .saved
            .get(message_id)
            .filter(|saved| saved.app_key == app.app_key)
            .cloned()
        else {
            return Err(error(31, "Data Not Exist: unknown message_id"));
        };
        let target_type = match f.get("target_type") {
            None => return Err(missing("target_type")),
            Some(text) => match text.parse::<i64>() {
                Ok(n @ (2 | 5 | 6)) if !text.starts_with('+') => n,
                _ => {
                    return Err(invalid(
                        "target_type",
                        "must be 2 (registration ids), 5 (aliases) or 6 (tag)",
                    ))
                }
            },
        };
        let Some(value) = f.get("target_value") else {
            return Err(missing("target_value"));
        };
        let targets: Vec<String> = if target_type == 6 {
            vec![value.to_owned()]
        } else {
            let targets: Vec<String> = value.split(';').map(str::to_owned).collect();
            if targets.len() > MAX_BROADCAST_TARGETS {
                return Err(invalid(
                    "target_value",
                    format!(
                        "has {} targets, at most {MAX_BROADCAST_TARGETS}",
                        targets.len()
                    ),
                ));
            }
            if targets.iter().any(String::is_empty) {
                return Err(invalid("target_value", "has an empty target"));
            }
            targets
        };
        let n = &saved.notification;
        self.check_quota(now, &app.app_key, [n.class])?;
        let task_id = format!("{}", uuid::Uuid::new_v4().simple());
        let mut outcomes = Vec::with_capacity(targets.len());
        for target in targets {
            let outcome = if target_type != 6 && is_invalid(self, &target) {
                Outcome::Invalid
            } else {
                self.deliver(
                    now,
                    app,
                    Endpoint::Broadcast,
                    message_id,
                    &task_id,
                    target_type,
                    &target,
                    n,
                )
            };
            outcomes.push((target, outcome));
        }
        let invalid: Vec<&String> = outcomes
            .iter()
            .filter(|(_, outcome)| *outcome == Outcome::Invalid)
            .map(|(target, _)| target)
            .collect();
        let mut data = json!({ "message_id": message_id, "task_id": task_id });
        if !invalid.is_empty() {
            data["10000"] = json!(invalid);
        }
        self.record_message(
            kit,
            now,
            app,
            message_id,
            &task_id,
            target_type,
            n.callback.as_ref(),
            &outcomes,
        );
        Ok(success(data))
    }
}

/// One entry per target, stamped `now`.
fn queue_receipts(kit: &Kit, now: i64, message: &StoredMessage, event: &str, targets: &[String]) {
    let Some(callback) = &message.callback else {
        return;
    };
    for target in targets {
        kit.receipts().queue(PendingReceipt {
            url: callback.url.clone(),
            message_id: message.message_id.clone(),
            app_id: message.app_id.clone(),
            task_id: message.task_id.clone(),
            param: callback.param.clone(),
            event_type: event.to_owned(),
            event_time: now,
            registration_id: target.clone(),
        });
    }
}

/// Queues receipts on command (`Simulator::send_receipt`, `POST /_sim/receipts`).
pub(crate) fn send_receipt(
    kit: &Kit,
    id: &str,
    event_type: &str,
    targets: Option<Vec<String>>,
) -> Result<usize, ReceiptError> {
    if event_type.is_empty() {
        return Err(ReceiptError("event_type must not be empty".to_owned()));
    }
    if targets
        .as_ref()
        .is_some_and(|targets| targets.iter().any(String::is_empty))
    {
        return Err(ReceiptError("targets must not be empty strings".to_owned()));
    }
    let now = kit.now_ms();
    let inner = kit.vendor().lock();
    let Some(message) = inner.messages.get(id) else {
        return Err(ReceiptError(format!("unknown messageId or task_id {id:?}")));
    };
    if message.callback.is_none() {
        return Err(ReceiptError(format!(
            "{id} was sent without a call_back_url to registration ids"
        )));
    }
    let targets = targets.unwrap_or_else(|| match event_type {
        "regid_invalid" => message.invalid.clone(),
        "user_daily_limit" if !message.limited.is_empty() => message.limited.clone(),
        _ => message.delivered.clone(),
    });
    queue_receipts(kit, now, message, event_type, &targets);
    Ok(targets.len())
}
