//! A strict simulator of Xiaomi MiPush's server API (`POST /v3/message/regid`),
//! written from `docs/VENDORS_API.md` §1 (and the Xiaomi rows of §11) on its
//! own reading. It shares no code with any Xiaomi client, so a misreading of
//! the API is not shared by both sides.
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the
//! `xiaomi-sim` binary and drive it through the `/_sim/*` control endpoints
//! (listed in `src/control.rs`). It stands on `sim-kit` (`tools/sim-kit`):
//! recording, scripted answers ([`CallAction`]: any body, HTTP status, delay,
//! garbage), the settable clock ([`SimClock`]), the receipt POSTs and the
//! common control endpoints behave as that crate's doc says; the
//! [`Simulator`] dereferences to the kit's [`sim_kit::Sim`] for them
//! (`script_next`, `requests`, `set_clock`, `flush_receipts`, `reset`, ...).
//! This doc is Xiaomi's part.
//!
//! # Behaviour
//!
//! Only `POST /v3/message/regid` exists. A call is answered HTTP 200 with
//! Xiaomi's JSON (`Content-Type: application/json;charset=UTF-8`):
//!
//! - success: `{"result":"ok","trace_id":"Xlm…","code":0,"data":{"id":"<msgId>",
//!   "day_quota":"N","day_acked":"M"},"description":"成功","info":"Received push
//!   messages for N REGID"}`, with `data.bad_regids` (comma-joined, in request
//!   order) when some targets are invalid;
//! - an error: `{"result":"error","code":N,"description":"<中文>","reason":"<English
//!   text naming the field>","trace_id":"Xlm…"}`; 21301 exactly as §1.2 quotes
//!   it, without `trace_id`: `{"result":"error","code":21301,"description":"认证失败",
//!   "reason":"Invalid application secret."}`; 20301 with the reason
//!   `No valid targets!` and 200001 with `exceed quota, quota: N, have acked: M`.
//!
//! The first failing check answers, in this order:
//!
//! 1. the path (404) and the method (405);
//! 2. `Authorization` must be exactly `key=<AppSecret>` of a registered app
//!    (lower-case `key=`, no spaces; the secret identifies the app): else
//!    21301;
//! 3. `Content-Type` must be `application/x-www-form-urlencoded` (any case),
//!    with no parameter but an optional `charset=UTF-8` (any case, quoted or
//!    not): else HTTP 415;
//! 4. the body must be a well-formed form (`%` followed by two hex digits,
//!    UTF-8 once decoded): else HTTP 400; a field given twice: 10017;
//! 5. the fields, in this order: `registration_id`, `restricted_package_name`,
//!    `pass_through`, `title`, `description`, `payload`, `notify_type`,
//!    `time_to_live`, `time_to_send`, `notify_id`, `extra.notify_effect` (with
//!    `extra.intent_uri` / `extra.web_uri`), `extra.notify_foreground`,
//!    `extra.only_send_once`, `extra.jobkey`, `extra.callback`,
//!    `extra.callback.param`, `extra.callback.type`, the custom `extra.*`
//!    pairs, `extra.channel_id`, `extra.template_id` / `extra.template_param`;
//! 6. the app's daily quota (200001);
//! 7. the targets' verdicts: all invalid 20301, else success (the invalid ones
//!    in `bad_regids`).
//!
//! A field whose value is empty (`title=`) is treated as absent; unknown
//! fields are ignored and kept in [`Delivery::fields`].
//!
//! # Result codes the simulator returns
//!
//! "xiaomi" = the code and its meaning are in VENDORS_API.md §1.2/§1.6/§1.7
//! (pId=1560); "sim" = Xiaomi documents the code but not which check answers
//! it, so the split is the simulator's; "xiaomi/sim" = Xiaomi names the code
//! and the rule, the simulator chose how to read the rule. Of the three parameter codes, the
//! simulator answers 21305 ("missing required parameter") for the three
//! fields every call needs, 10016 ("missing") for a field another field makes
//! necessary, and 10017 ("illegal value") for a malformed value. "Characters"
//! are Unicode scalar values (a CJK or Latin character counts 1, §1.4);
//! "bytes" are UTF-8 bytes.
//!
//! | code   | origin | when |
//! |--------|--------|------|
//! | 0      | xiaomi | success, some targets possibly invalid (`data.bad_regids`) |
//! | 10016  | sim    | a conditionally required field missing: `title` or `description` of a notification (`pass_through` 0); `extra.notify_effect` of a notification; `extra.intent_uri` for `notify_effect` 2; `extra.web_uri` for 3; `extra.template_id` or `extra.template_param` when the app's [`TemplateRule`] requires a template, or when the other one of the pair is given |
//! | 10017  | sim    | a malformed value: a field given twice; `registration_id` with more than [`MAX_REGIDS`] (1000) regIds, or an empty regId (`a,,b`, a trailing comma) or one containing whitespace; `pass_through` not `0`/`1`; `title` only whitespace or 50+ characters, `description` only whitespace or 128+ characters (pass-through messages: only the lengths, when given); `payload` not URL-encoded (see below); `notify_type` not an integer in -1..=7; `time_to_live` not an integer in 1..=1209600000 ms (14 days); `time_to_send` not an integer, or more than 7 days after the simulator's clock; `notify_id` not an integer in 0..=2147483647; `extra.notify_effect` not `1`/`2`/`3`; `extra.web_uri` not an absolute `http(s)://` URL; `extra.notify_foreground` or `extra.only_send_once` not `0`/`1`; `extra.jobkey` not 1..=20 of `[0-9a-zA-Z_-]` or starting with `_`; `extra.callback.type` not a positive integer made of the bits 1, 2, 16, 32, 64, 128, 1024 (246 has bit 4: refused); `extra.template_param` not a JSON object of at most 9 string values, each 1..=128 characters, not blank, without emoji, Unicode So symbols or noncharacters; with [`SimApp::templates`] set, an unknown `extra.template_id` or variables other than the template's |
//! | 20301  | xiaomi | every target invalid ([`Simulator::set_reg_id`]), reason `No valid targets!`, description `发送消息失败` |
//! | 21301  | xiaomi | `Authorization` missing, not `key=<secret>`, or an unknown secret |
//! | 21305  | sim    | `registration_id`, `restricted_package_name` or `pass_through` missing (or empty) |
//! | 22022  | xiaomi | `restricted_package_name` (or an entry of its comma list) is not the app's package name |
//! | 27001  | xiaomi/sim | the app has channels ([`SimApp::channels`]) and `extra.channel_id` is missing or not one of them (§1.6 names the code, not the rule) |
//! | 65009  | xiaomi | `payload` over 4096 bytes (as sent, i.e. URL-encoded) |
//! | 65014  | xiaomi | more than 10 custom `extra.*` pairs (the `extra.` fields not listed under "Other choices") |
//! | 65015  | xiaomi/sim | a custom pair whose key (without `extra.`) and value together exceed 1024 characters |
//! | 65036  | xiaomi | `extra.callback.param` over 256 bytes |
//! | 65037  | xiaomi | `extra.callback` over 128 bytes |
//! | 65038  | xiaomi | `extra.callback` not an absolute `http(s)://` URL with a host |
//! | 200001 | xiaomi | the app's daily quota ([`Simulator::set_quota`], default unlimited) is used up: delivered targets today >= quota |
//!
//! Codes Xiaomi has and the simulator only answers when scripted: -1, 1,
//! 10001-10003, 10008, 10027, 10031, 10034, 10036, 10037, 21302, 21303,
//! 22000, 22006, 22007, 26004, 65003 ([`error_action`] builds the body).
//!
//! HTTP-level answers (not Xiaomi result codes):
//!
//! | HTTP | when |
//! |------|------|
//! | 404  | any other path (plain text) |
//! | 405  | `/v3/message/regid` with a method other than POST |
//! | 415  | `Content-Type` missing, not `application/x-www-form-urlencoded`, or with another charset or parameter (a choice: Xiaomi's answer is undocumented, and a servlet would see no fields) |
//! | 400  | the body is not a well-formed form (plain text) |
//! | 413  | body over 4 MiB (the kit's limit) |
//! | any  | scripted [`sim_kit::CallAction::HttpStatus`] (plain text, the reason phrase) |
//!
//! # Targets, quota, deliveries
//!
//! - `registration_id` is 1..=1000 regIds joined by `,`. Each is valid unless
//!   set invalid ([`Simulator::set_reg_id`], for every app). A regId given
//!   twice is delivered (and counted) twice.
//! - `restricted_package_name` may be a comma list (v3, §1.4); every entry
//!   must be the app's package.
//! - The daily quota counts delivered targets (one per valid regId) per
//!   Xiaomi day, midnight to midnight UTC+8 by the simulator's clock. A call
//!   is refused only once the quota is reached (acked >= quota), so the call
//!   that crosses it is delivered in full. `data.day_quota` is the quota
//!   (`"9223372036854775807"` when unlimited: a choice) and `data.day_acked`
//!   the targets delivered today *before* this call (the sample in §1.7 shows
//!   `"0"` for a first message: acks come after the answer); both strings.
//!   Refused calls do not count.
//! - Every valid target of an accepted call is one [`Delivery`]
//!   ([`Simulator::deliveries`], `GET /_sim/deliveries`).
//! - `info` counts the regIds of the request, valid or not.
//!
//! # Receipts
//!
//! A message with `extra.callback` gets receipts, POSTed to that URL by the
//! kit's engine (sim-kit, "Receipts": delay, flush, retries, redelivery, log):
//!
//! - each delivered target queues a type 1 receipt when bit 1 is in
//!   `extra.callback.type` (default 3); each invalid target of an accepted
//!   call a type 16 receipt when bit 16 is set (a call answered 20301 has no
//!   message id and sends none);
//! - [`Simulator::send_receipt`] (`POST /_sim/receipts`) queues any type for a
//!   message id on command (e.g. 2 clicked, 16, 128 daily cap, 1024 TTL
//!   expired), whatever its `callback.type`; for type 128 the entry carries
//!   `extra: {"ack":"M","quota":"N"}` (the app's counts, as strings) unless
//!   told otherwise;
//! - a POST carries, per message id, `{"param":"<callback.param or empty>",
//!   "type":N,"targets":"r1,r2","jobkey":"<extra.jobkey or empty>",
//!   "barStatus":"Enable"|"Unknown","timestamp":ms}` (`barStatus` is the
//!   simulator's choice: `Enable` for types 1 and 2, `Unknown` otherwise;
//!   `timestamp` is the simulator's clock when the receipt was queued), at
//!   most [`MAX_RECEIPT_TARGETS`] targets per entry; receipts of two types
//!   for one message go in separate POSTs (the body is keyed by message id);
//! - the body (§1.8 CONFLICT) is form-encoded with one field `data` holding
//!   that JSON object (`Content-Type: application/x-www-form-urlencoded`;
//!   the default), or the raw JSON object (`application/json`) with
//!   [`Settings::receipt_body`] = [`ReceiptBody::Json`]. The receipt log
//!   shows a form body as `{"data":"<json text>"}`.
//!
//! # CONFLICTs and other choices
//!
//! - `time_to_live` (§1.4 CONFLICT, 1 day public / 10 days private vs two
//!   weeks): both readings are accepted, up to 14 days; nothing is clamped
//!   (the simulator does not model offline devices).
//! - `extra.callback.param` (§1.8 CONFLICT, 64 vs 256 bytes): up to 256.
//! - `bad_regids` vs `bad_regIds` (§1.7 CONFLICT): [`Settings::bad_regids_key`]
//!   (default `bad_regids`).
//! - Receipt body, form `data=` vs raw JSON (§1.8 CONFLICT):
//!   [`Settings::receipt_body`] (default form).
//! - `extra.notify_effect` is required for notifications (§11: custom effects
//!   are off since 2024-09-30); optional for pass-through messages.
//! - `payload` must be URL-encoded (§1.4): only ASCII letters, digits,
//!   `-_.!~*'()+` and `%XX` escapes; the 4 KB limit is on that text.
//! - `extra.channel_id`: with no channels registered for the app, any value
//!   (or none) passes; with channels, it must name one (27001).
//! - Templates ([`TemplateRule`], default off): required for every message
//!   (`always`), or for messages on a private channel (`private_channels`,
//!   the 2026 rule). Given templates are checked whatever the rule.
//! - Known `extra.*` fields (not custom pairs): `notify_effect`,
//!   `intent_uri`, `web_uri`, `notify_foreground`, `only_send_once`,
//!   `jobkey`, `callback`, `callback.param`, `callback.type`, `channel_id`,
//!   `template_id`, `template_param`, `sound_uri`, `ticker`, `locale`,
//!   `model`, `app_version`, `connpt`, `flow_control`.
//! - `extra.intent_uri` is not parsed (any non-empty text).
//! - Emoji and So: an approximation without Unicode tables (`src/xiaomi.rs`,
//!   `is_symbol`): the symbol, pictograph and emoji blocks, emoji that are not
//!   So (‼ ⁉ ℹ ↔ 〰 〽 …), emoji components (U+20E3, U+FE0F, tags
//!   U+E0020..U+E007F) and noncharacters; other unassigned code points are
//!   not detected.
//! - `time_to_send` is checked but not waited for: the message is delivered
//!   at once.
//! - No QPS limit, no per-device daily caps, no test mode (§1.10: none).
//! - Reset ([`sim_kit::Sim::reset`], `POST /_sim/reset`) keeps apps and
//!   clears everything else: regId verdicts, deliveries, messages (their ids
//!   become unknown to `send_receipt`), quotas and counters, and sets
//!   [`Settings`] back to default (and the kit's reset: requests, scripts,
//!   clock, receipt queue and log; receipt settings are kept).

mod control;
mod receipts;
mod server;
mod xiaomi;

pub use receipts::{PendingReceipt, XiaomiReceipts, MAX_RECEIPT_TARGETS};
pub use sim_kit::{
    http_client, http_client_builder, nodelay, shutdown_signal, ReceiptOutcome, ReceiptPost,
    ReceiptSettings, RecordedRequest, SimClock,
};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sim_kit::{NoAction, Sim};

/// The one send path.
pub const PATH: &str = "/v3/message/regid";

/// At most this many regIds in one `registration_id`.
pub const MAX_REGIDS: usize = 1000;

/// A scripted answer: `Body` is any JSON, answered HTTP 200.
pub type CallAction = sim_kit::CallAction<Value, NoAction>;

/// An app known to the simulator, as registered in Xiaomi's console.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimApp {
    /// The AppSecret: `Authorization: key=<app_secret>`; it identifies the app.
    pub app_secret: String,
    /// The package `restricted_package_name` must name.
    pub package_name: String,
    /// Channels applied for in the console. Empty (the default): any
    /// `extra.channel_id` passes, or none.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// When a message must carry a template.
    #[serde(default)]
    pub template_rule: TemplateRule,
    /// Templates of the app. Empty (the default): any template id, any
    /// variables.
    #[serde(default)]
    pub templates: Vec<Template>,
}

impl SimApp {
    /// An app with no channels, no template rule, no templates.
    pub fn new(app_secret: impl Into<String>, package_name: impl Into<String>) -> SimApp {
        SimApp {
            app_secret: app_secret.into(),
            package_name: package_name.into(),
            channels: Vec::new(),
            template_rule: TemplateRule::Off,
            templates: Vec::new(),
        }
    }
}

impl fmt::Debug for SimApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimApp")
            .field("app_secret", &"[redacted]")
            .field("package_name", &self.package_name)
            .field("channels", &self.channels)
            .field("template_rule", &self.template_rule)
            .field("templates", &self.templates)
            .finish()
    }
}

/// A notification channel of an app (§1.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub id: String,
    /// A private (私信) channel; else public (公信).
    #[serde(default)]
    pub private: bool,
}

impl Channel {
    pub fn public(id: impl Into<String>) -> Channel {
        Channel {
            id: id.into(),
            private: false,
        }
    }

    pub fn private(id: impl Into<String>) -> Channel {
        Channel {
            id: id.into(),
            private: true,
        }
    }
}

/// Which messages must carry `extra.template_id` and `extra.template_param`
/// (§1.6, pId=2314; the enforcement date is unknown, so it is a setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateRule {
    /// None (the default).
    #[default]
    Off,
    /// Messages whose `extra.channel_id` is a private channel of the app.
    PrivateChannels,
    /// Every message.
    Always,
}

/// A message template and its variables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    /// The names `extra.template_param` must have, exactly.
    pub variables: Vec<String>,
}

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub apps: Vec<SimApp>,
}

/// What Xiaomi thinks of a regId. Every regId is valid unless set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegIdVerdict {
    Valid,
    /// Offline 90 days, unregistered, uninstalled, wrong region (§1.8 bit 16).
    Invalid,
}

/// The spelling of the invalid-regId list in a partial success (§1.7 CONFLICT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BadRegIdsKey {
    /// `data.bad_regids` (the default).
    #[default]
    #[serde(rename = "bad_regids")]
    Lower,
    /// `data.bad_regIds`.
    #[serde(rename = "bad_regIds")]
    Camel,
}

impl BadRegIdsKey {
    pub fn as_str(self) -> &'static str {
        match self {
            BadRegIdsKey::Lower => "bad_regids",
            BadRegIdsKey::Camel => "bad_regIds",
        }
    }
}

/// How receipt POSTs carry their JSON (§1.8 CONFLICT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptBody {
    /// `application/x-www-form-urlencoded`, one field `data` (the default).
    #[default]
    Form,
    /// `application/json`, the object itself.
    Json,
}

/// The readings of the spec's CONFLICTs the simulator answers with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub bad_regids_key: BadRegIdsKey,
    pub receipt_body: ReceiptBody,
}

/// An app's daily count and quota, on the simulator's current Xiaomi day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Targets delivered today.
    pub day_acked: u64,
    /// The quota; `None` is unlimited.
    pub day_quota: Option<u64>,
}

/// A notification (or pass-through message) Xiaomi would deliver: one per
/// valid target of an accepted call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub msg_id: String,
    pub reg_id: String,
    /// The app's package.
    pub package_name: String,
    /// 0 notification, 1 pass-through.
    pub pass_through: u8,
    pub title: Option<String>,
    pub description: Option<String>,
    /// As sent (URL-encoded).
    pub payload: Option<String>,
    pub notify_type: Option<i64>,
    pub notify_id: Option<i64>,
    pub time_to_live: Option<i64>,
    pub notify_effect: Option<String>,
    pub channel_id: Option<String>,
    pub template_id: Option<String>,
    pub template_param: Option<String>,
    /// Every `extra.*` field, by its name without `extra.`.
    pub extra: BTreeMap<String, String>,
    /// Every field of the form as received (empty ones included).
    pub fields: BTreeMap<String, String>,
}

/// A receipt the simulator cannot send on command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptError(String);

impl fmt::Display for ReceiptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReceiptError {}

/// A scripted Xiaomi error: `{"result":"error","code":code,"description":..,
/// "reason":..,"trace_id":"Xlm…"}`.
pub fn error_action(code: i64, description: &str, reason: &str) -> CallAction {
    sim_kit::CallAction::Body(error_body(code, description, reason))
}

/// The body of a Xiaomi error answer, with a fresh `trace_id`.
pub fn error_body(code: i64, description: &str, reason: &str) -> Value {
    json!({
        "result": "error",
        "code": code,
        "description": description,
        "reason": reason,
        "trace_id": xiaomi::trace_id(),
    })
}

/// A running simulator. Clones share the same server; it stops when the last
/// clone is dropped or on `shutdown`. Dereferences to the kit's
/// [`sim_kit::Sim`] for scripting, recording, the clock, receipts and reset.
#[derive(Clone)]
pub struct Simulator {
    sim: Sim<Xiaomi>,
}

impl Deref for Simulator {
    type Target = Sim<Xiaomi>;

    fn deref(&self) -> &Sim<Xiaomi> {
        &self.sim
    }
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let sim = Sim::start_on(addr, Xiaomi::new(config)).await?;
        Ok(Simulator { sim })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// Registers an app; replaces an app with the same secret.
    pub fn add_app(&self, app: SimApp) {
        self.inner().add_app(app);
    }

    /// Sets the verdict of a regId (for every app). Default: valid.
    pub fn set_reg_id(&self, reg_id: &str, verdict: RegIdVerdict) {
        self.inner().set_verdict(reg_id, verdict);
    }

    /// Sets an app's daily quota (`None`: unlimited, the default).
    pub fn set_quota(&self, app_secret: &str, quota: Option<u64>) {
        self.inner().set_quota(app_secret, quota);
    }

    /// The app's count and quota on today's Xiaomi day (by the simulator's
    /// clock); zero on a new day.
    pub fn usage(&self, app_secret: &str) -> Usage {
        let now = self.now_ms();
        self.inner().usage(now, app_secret)
    }

    pub fn settings(&self) -> Settings {
        self.sim.vendor().settings()
    }

    /// Chooses the readings of the CONFLICTs (default [`Settings::default`]).
    pub fn set_settings(&self, settings: Settings) {
        self.sim.vendor().set_settings(settings);
    }

    /// Every delivery so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }

    /// Queues receipts of type `receipt_type` for a message sent with
    /// `extra.callback`, whatever its `callback.type`: for `targets`, or by
    /// default its delivered targets (its invalid ones for type 16). Returns
    /// how many entries were queued. Type 128 carries `extra:
    /// {"ack":"M","quota":"N"}`.
    pub fn send_receipt(
        &self,
        msg_id: &str,
        receipt_type: u32,
        targets: Option<&[&str]>,
    ) -> Result<usize, ReceiptError> {
        let targets = targets.map(|t| t.iter().map(|s| (*s).to_owned()).collect());
        xiaomi::send_receipt(self.sim.core(), msg_id, receipt_type, targets, None)
    }
}

/// Xiaomi's part of the simulator (the kit's [`sim_kit::Vendor`]).
pub struct Xiaomi {
    inner: Mutex<Inner>,
    /// [`Settings::receipt_body`] is JSON; shared with the receipt format.
    json_receipts: Arc<AtomicBool>,
}

impl Xiaomi {
    fn new(config: SimConfig) -> Xiaomi {
        let mut inner = Inner::default();
        for app in config.apps {
            inner.add_app(app);
        }
        Xiaomi {
            inner: Mutex::new(inner),
            json_receipts: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn settings(&self) -> Settings {
        self.lock().settings
    }

    pub(crate) fn set_settings(&self, settings: Settings) {
        let mut inner = self.lock();
        inner.settings = settings;
        self.json_receipts
            .store(settings.receipt_body == ReceiptBody::Json, Ordering::SeqCst);
    }
}

/// What the simulator keeps of an accepted message, for receipts on command.
#[derive(Clone, Debug)]
pub(crate) struct StoredMessage {
    pub(crate) app_secret: String,
    pub(crate) callback: Option<xiaomi::Callback>,
    pub(crate) delivered: Vec<String>,
    pub(crate) invalid: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) apps: HashMap<String, SimApp>,
    pub(crate) invalid: HashSet<String>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) messages: HashMap<String, StoredMessage>,
    pub(crate) quotas: HashMap<String, u64>,
    /// Per app secret: (Xiaomi day, targets delivered that day).
    pub(crate) acked: HashMap<String, (i64, u64)>,
    pub(crate) settings: Settings,
    pub(crate) next_msg: u64,
}

impl Inner {
    pub(crate) fn add_app(&mut self, app: SimApp) {
        self.apps.insert(app.app_secret.clone(), app);
    }

    pub(crate) fn set_verdict(&mut self, reg_id: &str, verdict: RegIdVerdict) {
        match verdict {
            RegIdVerdict::Valid => self.invalid.remove(reg_id),
            RegIdVerdict::Invalid => self.invalid.insert(reg_id.to_owned()),
        };
    }

    pub(crate) fn set_quota(&mut self, app_secret: &str, quota: Option<u64>) {
        match quota {
            Some(quota) => self.quotas.insert(app_secret.to_owned(), quota),
            None => self.quotas.remove(app_secret),
        };
    }

    /// Targets delivered today (Xiaomi's day of `now`).
    pub(crate) fn acked_today(&self, now: i64, app_secret: &str) -> u64 {
        match self.acked.get(app_secret) {
            Some(&(day, acked)) if day == xiaomi::xiaomi_day(now) => acked,
            _ => 0,
        }
    }

    pub(crate) fn usage(&self, now: i64, app_secret: &str) -> Usage {
        Usage {
            day_acked: self.acked_today(now, app_secret),
            day_quota: self.quotas.get(app_secret).copied(),
        }
    }

    /// Xiaomi's part of [`sim_kit::Sim::reset`].
    pub(crate) fn reset(&mut self) {
        self.invalid.clear();
        self.deliveries.clear();
        self.messages.clear();
        self.quotas.clear();
        self.acked.clear();
        self.settings = Settings::default();
    }
}
