//! A strict simulator of vivo Push's server API (`/message/auth`, `/message/send`,
//! `/message/saveListPayload`, `/message/pushToList`), written from
//! `docs/VIVO_API.md` on its own reading. It deliberately shares no code with the
//! `offpush` client, so a misreading of vivo's API is not shared by both sides.
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the `vivo-sim`
//! binary and drive it through the `/_sim/*` control endpoints (listed in
//! `src/control.rs`).
//!
//! It stands on `sim-kit` (`tools/sim-kit`), the simulators' vendor-free
//! plumbing: the in-process server, recording, scripted answers, the settable
//! clock, the receipt POSTs and the common control endpoints behave as its
//! doc says; this doc is vivo's part.
//!
//! # Behaviour
//!
//! Every vivo call is answered HTTP 200 `{"result":<int>,"desc":"<text>",...}`,
//! except for transport-level mistakes (see the HTTP table) and scripted answers
//! ([`CallAction`]). The first failing check answers (order below). For each
//! call, a queued [`Simulator::script_next`] action for that path wins, else
//! the [`Simulator::script_always`] action, else normal behaviour (sim-kit,
//! "Calls"). Scripted `Result`, `HttpStatus`, `Garbage` and `ExpireToken`
//! answers have no other side effects (no token, no task, no delivery;
//! `ExpireToken` forgets the call's token); `Delay` sleeps, holding no lock,
//! and then runs the normal behaviour, checks and side effects included.
//!
//! Order of checks:
//!
//! - every path: HTTP method, then (non-auth) the `authToken` header (10000),
//!   then `Content-Type` and the JSON body;
//! - auth: `appId` (10200), `appKey` (10201), `timestamp` (10203), `sign`
//!   (10204), unknown app (10205), wrong key (10202), timestamp window (10207),
//!   sign value (10206);
//! - send and saveListPayload: `appId` (10200, 10094), the target (send: 10050),
//!   then the fields in this order: `requestId`, `notifyType`, `title`,
//!   `content`, `skipType`/`skipContent`, `timeToLive`, `category`/`classification`,
//!   `clientCustomMap`, `pushMode`, the other optional fields (10063); then the
//!   content rules (10085, 10104); then (send) the time window (10071); then
//!   the daily total (send: 10070/10073; saveListPayload: 10252); then the
//!   target's verdict (send: 10302);
//! - pushToList: `appId` (10200, 10094), `regIds`/`aliases` (10050, 10061),
//!   `taskId` (10062), `requestId` (10052), `pushMode` (10060), the time window
//!   (10071) and the daily total (10070/10073) of the stored message's class,
//!   then each target's verdict.
//!
//! Where vivo's server plausibly coerces a value (a Java server reading JSON
//! scalars leniently), the simulator accepts both forms: `appId` and `timestamp`
//! as digit strings, `networkType` as `"1"`/`"-1"`, `requestId` as a number.
//! Other fields keep their documented JSON types (e.g. `notifyType: "4"` is 10054).
//!
//! # Result codes the simulator returns
//!
//! "vivo" = the code and meaning are documented in VIVO_API.md (§1.2, §1.3,
//! §1.9, §1.10); "sim" = vivo's code for this check is undocumented and the
//! simulator chose one from the undocumented part of the 10050-10069 parameter
//! series (VIVO_API.md §1.9 row "10057.."); "vivo/sim" = vivo documents the
//! codes and the rules together without saying which code answers which rule,
//! so the split is the simulator's.
//!
//! | code  | origin | endpoints | when |
//! |-------|--------|-----------|------|
//! | 0     | vivo | all | success |
//! | 10000 | vivo | send, saveListPayload, pushToList | `authToken` header missing, unknown, older than 24 h, invalidated by [`Simulator::expire_auth_tokens`], or [`CallAction::ExpireToken`] |
//! | 10050 | vivo | send | `regId` and `alias` both missing, empty or not strings |
//! | 10050 | vivo | pushToList | `regIds` and `aliases` both missing (or null) |
//! | 10052 | sim  | send, saveListPayload, pushToList | `requestId` missing, neither a string nor a JSON number, empty, or over 64 characters (a number counts as its decimal text) |
//! | 10053 | sim  | send, saveListPayload | `content` missing, not a string, blank, or over 100 characters |
//! | 10054 | vivo | send, saveListPayload | `notifyType` missing or not an integer in 1..=4 |
//! | 10055 | vivo | send, saveListPayload | `title` missing, not a string, or blank |
//! | 10056 | vivo | send, saveListPayload | `title` over 40 characters (Unicode scalar values) |
//! | 10057 | sim  | send, saveListPayload | `skipType` missing or not in 1..=4; `skipContent` not a string, over 1024 characters, missing/empty for skipType 2 or 4, or not an `http(s)://` URL for skipType 2 |
//! | 10058 | sim  | send, saveListPayload | `timeToLive` present and not an integer in 60..=86400 (send) or 900..=604800 (saveListPayload, VIVO_API.md §1.3 "at least 900 s for other push types", max 7 days); 0 is accepted and means the default |
//! | 10059 | sim  | send, saveListPayload | `clientCustomMap` present and not an object of string values, more than 10 pairs, or keys + values over 1024 characters |
//! | 10060 | sim  | send, saveListPayload, pushToList | `pushMode` present and not 0 or 1 |
//! | 10061 | sim  | pushToList | `regIds` (or `aliases`) not an array of non-empty strings, or fewer than 2, or more than 1000 entries |
//! | 10062 | sim  | pushToList | `taskId` missing, not a string, unknown, or created by another app |
//! | 10063 | sim  | send, saveListPayload | another optional field malformed: `classification` not 0/1, `networkType` not -1/1 (integer or the strings `"-1"`/`"1"`), `notifyId` not in 1..=2147483647, `profileId` not a string or over 64 characters (send), `extra` not an object, or `extra.callback` (over 128), `extra["callback.param"]` (over 192) or `extra["callback.id"]` (over 64, [`MAX_RECEIPT_ID_CHARS`]) not a string or too long, `sendOnline`/`foregroundShow` not booleans |
//! | 10070 | vivo | send, pushToList | operational message ([`MessageClass`]) while the app's operational total for today is used up ([`Simulator::set_quotas`]; default unlimited; test pushes exempt) |
//! | 10071 | vivo | send, pushToList | only with [`Rules::operational_window`] (default off): operational message while vivo's clock is outside 07:00:00.000-22:59:59.999 UTC+8 (test pushes included) |
//! | 10073 | vivo | send, pushToList | system message while the app's system total for today is used up (default unlimited; test pushes exempt) |
//! | 10085 | vivo/sim | send, saveListPayload | only with [`Rules::content_rules`] (default off): `title` or `content` made only of Latin letters, only digits, only symbols, or only symbols and digits (see "Content rules" below) |
//! | 10094 | vivo | send, saveListPayload, pushToList | body `appId` present and differing from the token's app |
//! | 10096 | vivo | send, saveListPayload | `category` present and not one of the ten upper-case values of §1.4 |
//! | 10097 | vivo | send, saveListPayload | `category` and `classification` both present and disagreeing |
//! | 10104 | vivo/sim | send, saveListPayload | only with [`Rules::content_rules`]: `title` or `content` containing "测试" or one of `[ ] { }` |
//! | 10200 | vivo | auth | `appId` missing, or neither a non-negative integer JSON number nor a string of decimal digits (`"10004"` is accepted) |
//! | 10200 | sim  | send, saveListPayload, pushToList | `appId` present and neither a non-negative integer JSON number nor a string of decimal digits (an absent `appId` is accepted: the token names the app) |
//! | 10201 | vivo | auth | `appKey` missing, not a string, or empty |
//! | 10202 | vivo | auth | `appKey` is not the app's key |
//! | 10203 | vivo | auth | `timestamp` missing, or neither an integer JSON number nor a string of decimal digits |
//! | 10204 | vivo | auth | `sign` missing, not a string, or empty |
//! | 10205 | vivo | auth | `appId` unknown |
//! | 10206 | vivo | auth | `sign` is not lowercase hex md5(appId + appKey + timestamp + appSecret) (compared case-sensitively; `appId` and `timestamp` as the decimal text of their values, whether sent as numbers or as digit strings) |
//! | 10207 | vivo | auth | `timestamp` (ms) more than 10 minutes from vivo's clock ([`Simulator::set_clock`]; default the real clock) |
//! | 10252 | vivo | saveListPayload | the app's saveListPayload total for today is used up (default unlimited) |
//! | 10302 | vivo | send | target invalid: `invalidUser: {status, userid}` (userid is a string); status from [`Simulator::set_reg_id`], or 4 for `pushMode: 1` to a non-test device |
//!
//! `pushToList` answers 0 even when some targets are invalid; those are listed in
//! `invalidUsers` (`[{status, userid}]`, omitted when empty) and get no delivery.
//!
//! HTTP-level answers (not vivo result codes):
//!
//! | HTTP | when |
//! |------|------|
//! | 404  | unknown path (plain text) |
//! | 405  | a vivo path called with a method other than POST |
//! | 415  | `Content-Type` is not `application/json` |
//! | 400  | body is not a JSON object |
//! | 413  | body over 4 MiB |
//! | any  | [`CallAction::HttpStatus`]: plain text, 500 with vivo's body `Internet server error!`, others with the reason phrase; a number that is not an HTTP status (outside 100..=999) answers 500 |
//!
//! # Delivery receipts
//!
//! As vivo's console does (VIVO_API.md §1.8), an app registers receipt URLs
//! under receipt ids ([`Simulator::set_receipt_url`], `POST /_sim/receipts`,
//! `--receipt`); unlike vivo, a URL takes effect at once (not after an hour).
//!
//! - Every delivery (see [`Delivery`]: an accepted send, or a pushToList
//!   target not answered as invalid; test pushes only to test devices) queues
//!   one receipt entry (taskId, `callback.param`, regId) when its message's
//!   `extra["callback.id"]` is registered for the sending app: send uses its
//!   own `extra`, pushToList that of the saveListPayload body (under the
//!   list's taskId). An unregistered `callback.id` queues nothing, even with a
//!   `callback` URL (`callback.id` wins). Without `callback.id`, the legacy
//!   `extra.callback` URL is honoured for formal single pushes only (send with
//!   `pushMode` 0), as the older doc says.
//! - The kit's receipt engine sends them (sim-kit, "Receipts": the flush
//!   [`ReceiptSettings::delay`] after the first entry queued, default 1 s;
//!   [`Simulator::flush_receipts`]; retries with doubling backoff,
//!   redelivery, the log of attempts, [`Simulator::shutdown`]): one POST per
//!   URL, `Content-Type: application/json`, in vivo's legacy shape
//!   `{"<taskId>":{"param":"<callback.param>","targets":"r1,r2"}}` (`param`
//!   is `""` when none was sent), at most [`MAX_RECEIPT_TARGETS`] targets
//!   per taskId per POST (more go in further POSTs: the n-th POST of a URL
//!   carries the n-th slice of every taskId).
//!
//! # Content rules
//!
//! With [`Rules::content_rules`] on (default off: a realistic title such as
//! "Alice" is Latin letters only), `title` then `content` are checked, each for
//! 10085 before 10104. Each character of the text is one of: whitespace
//! (ignored); a Latin letter (ASCII `a-z`, `A-Z`); a digit (Unicode numeric,
//! full-width digits included); a symbol (neither alphanumeric nor whitespace:
//! punctuation, emoji, ...); or other (any other letter: CJK, accented Latin,
//! ...). A text with no "other" character whose kinds are exactly {letters},
//! {digits}, {symbols} or {symbols, digits} answers 10085: `"Alice"`, `"2024"`,
//! `"!!!"`, `"12:30"`. Mixtures of letters with digits or symbols pass
//! (`"Bob2"`, `"Hi, are you free?"`), as does any text with an "other"
//! character (`"你好"`). 10104: the text contains `测试`, or one of the ASCII
//! brackets/braces `[ ] { }` (e.g. `"[图片]"`).
//!
//! # Other choices
//!
//! - `alias` / `aliases` targets are accepted and treated like regIds: verdicts,
//!   test devices and [`Delivery::reg_id`] use the alias string. `regId` wins over
//!   `alias`, `regIds` over `aliases` (§1.3, §1.5).
//! - `pushToList` uses its own `pushMode` if present, else the stored payload's.
//! - Duplicate regIds in a `pushToList` get one delivery per occurrence.
//! - No rate limits (auth 10/s, QPS) and no per-device daily caps are simulated.
//! - The operational time window (10071) is enforced only when
//!   [`Rules::operational_window`] is on (default off, so tests pass at any time
//!   of day); set the clock to test it. System messages have no window.
//! - Daily totals ([`Quotas`], per app, default unlimited) count per vivo day,
//!   midnight to midnight UTC+8 by vivo's clock: operational and system
//!   messages one per delivered target of send and pushToList (pushToList: the
//!   class of the stored payload; targets answered as invalid do not count),
//!   saveListPayload one per stored body. A call is refused only once the total
//!   is reached (used >= total), so the call that crosses it is delivered in
//!   full; refusals go on for the rest of vivo's day, then the count restarts
//!   at 0 ([`Simulator::usage`] reads it). Refused calls do not count. Test
//!   pushes (`pushMode: 1`) are neither counted nor refused (VIVO_API.md §1.10);
//!   saveListPayload bodies count whatever their `pushMode`.
//! - The class of a message: `category` if given, else `classification`, else
//!   operational (the older doc's default, VIVO_API.md §1.3).
//! - `requestId` is not deduplicated (VIVO_API.md marks it unconfirmed).
//! - Unknown body fields are ignored; a field whose value is JSON `null` is
//!   treated as absent (as vivo's Java server would), and deliveries keep the
//!   body exactly as received.
//! - "Characters" are Unicode scalar values (an emoji counts 1); `title` and
//!   `content` that are only whitespace count as empty.
//! - vivo's clock ([`SimClock`]) can be set: real (default), offset, or fixed.
//!   It decides the auth timestamp check, vivo's day and the time window; a
//!   token's 24 h lifetime and the recorded request times follow the real
//!   clock. A client that signs with the real time gets 10207 while the
//!   simulator's clock is more than 10 minutes away from it, so obtain tokens
//!   before moving the clock.
//! - Requests are recorded as the kit does (sim-kit, "Calls": arrival order,
//!   `received_ms` / `answered_ms` by the real clock, abandoned calls with
//!   `status` 0, `response` null and no side effects); vivo's
//!   [`RecordedRequest`] shows the `authToken` and `Content-Type` headers as
//!   fields.
//! - [`Simulator::reset`] keeps apps and tokens and clears everything else,
//!   including test devices and stored list payloads (their taskIds become
//!   unknown), sets the clock back to real, turns the opt-in [`Rules`] off, and
//!   drops quotas (unlimited again) and their counters, queued receipts and
//!   the receipt log (receipt POSTs in flight still go, unrecorded). Receipt
//!   URLs and receipt settings are kept, like apps.

mod control;
mod receipts;
mod server;
mod vivo;

pub use receipts::{
    InvalidReceipt, PendingReceipt, ReceiptUrl, MAX_RECEIPT_ID_CHARS, MAX_RECEIPT_TARGETS,
};
pub use sim_kit::{
    http_client, http_client_builder, nodelay, shutdown_signal, ReceiptOutcome, ReceiptPost,
    ReceiptSettings, SimClock,
};

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use sim_kit::Sim;

use server::VivoAction;

/// An app known to the simulator, as registered in the vivo console.
#[derive(Clone, PartialEq, Eq)]
pub struct SimApp {
    pub app_id: u64,
    pub app_key: String,
    pub app_secret: String,
}

impl fmt::Debug for SimApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimApp")
            .field("app_id", &self.app_id)
            .field("app_key", &self.app_key)
            .field("app_secret", &"[redacted]")
            .finish()
    }
}

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub apps: Vec<SimApp>,
}

/// What vivo thinks of a regId. Every regId is [`RegIdVerdict::Valid`] unless set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegIdVerdict {
    Valid,
    /// `status` as in VIVO_API.md §1.3: 1 unknown regId, 2 unsubscribed or
    /// uninstalled, 3 offline 90 days, 4 not a test device.
    Invalid {
        status: u8,
    },
}

/// vivo's two message classes (VIVO_API.md §1.4), which have separate daily totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageClass {
    /// `classification` 1, or a system `category` (IM, ACCOUNT, TODO,
    /// DEVICE_REMINDER, ORDER, SUBSCRIPTION).
    System,
    /// `classification` 0, an operational `category` (NEWS, CONTENT,
    /// MARKETING, SOCIAL), or neither given (the doc's older default).
    Operational,
}

/// An app's daily totals, per vivo day (midnight to midnight, UTC+8) by
/// vivo's clock (VIVO_API.md §1.9, §1.10). `None` is unlimited (the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quotas {
    /// Operational messages delivered (one per target) by send and
    /// pushToList; once reached, operational sends answer 10070.
    pub operational: Option<u64>,
    /// System messages delivered, likewise; once reached, 10073.
    pub system: Option<u64>,
    /// Bodies stored by saveListPayload; once reached, 10252.
    pub list_payloads: Option<u64>,
}

/// vivo rules the simulator enforces only when asked: each is off by default
/// because it would refuse realistic test traffic (a test run at night, a
/// title such as "Alice").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Operational messages sent by send or pushToList outside 07:00-23:00
    /// UTC+8 (by vivo's clock) answer 10071 (VIVO_API.md §1.10).
    pub operational_window: bool,
    /// vivo's content rules for `title` and `content` on send and
    /// saveListPayload (VIVO_API.md §1.9 row "10085, 10104"): 10085 for a
    /// text made only of Latin letters, only digits, only symbols, or only
    /// symbols and digits; 10104 for one containing "测试" or a bracket or
    /// brace. Which rule answers which code is the simulator's choice.
    pub content_rules: bool,
}

/// What counted against an app's [`Quotas`] on vivo's current day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    pub operational: u64,
    pub system: u64,
    pub list_payloads: u64,
}

/// A scripted answer for one call (or every call) to a path.
#[derive(Clone, Debug, PartialEq)]
pub enum CallAction {
    /// HTTP 200 `{"result":code,"desc":desc, ..extra}`.
    Result {
        code: i64,
        desc: String,
        extra: serde_json::Map<String, serde_json::Value>,
    },
    /// That HTTP status; 500 carries vivo's plain-text body `Internet server error!`.
    HttpStatus(u16),
    /// Sleep, then answer normally (all checks and side effects).
    Delay(Duration),
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// The `authToken` sent with this call becomes unknown; the answer is 10000.
    ExpireToken,
}

impl CallAction {
    /// `CallAction::Result` with no extra fields.
    pub fn result(code: i64, desc: impl Into<String>) -> CallAction {
        CallAction::Result {
            code,
            desc: desc.into(),
            extra: serde_json::Map::new(),
        }
    }
}

/// One request received on a vivo path (control calls are not recorded), with
/// its arrival and answer times: sim-kit's record, with the `authToken` and
/// `Content-Type` headers as fields.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub auth_token: Option<String>,
    pub content_type: Option<String>,
    /// Parsed JSON, or `Value::String(raw)` if the body is not JSON.
    pub body: serde_json::Value,
    /// The HTTP status answered; 0 when the client went away before the
    /// answer (an abandoned call).
    pub status: u16,
    /// Parsed JSON, or `Value::String(raw)` if the answer is not JSON.
    pub response: serde_json::Value,
    /// When the request arrived (before its body was read), in ms since the
    /// Unix epoch by the machine's real clock (never the settable simulator clock).
    pub received_ms: i64,
    /// When its answer was ready (after any scripted delay), or when the
    /// client abandoned it; same clock.
    pub answered_ms: i64,
}

/// A notification vivo would show: one per accepted target.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Delivery {
    pub app_id: u64,
    pub reg_id: String,
    pub task_id: String,
    /// The JSON body of the `/message/send` call, or of the
    /// `/message/saveListPayload` call for a list push, as received.
    pub payload: serde_json::Value,
    /// `"send"` or `"pushToList"`.
    pub via: String,
}

/// The md5 `sign` of `/message/auth`: lowercase hex of
/// md5(appId decimal + appKey + timestamp decimal + appSecret) (VIVO_API.md §1.2).
pub fn sign(app_id: u64, app_key: &str, timestamp_ms: i64, app_secret: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(app_id.to_string().as_bytes());
    md5.update(app_key.as_bytes());
    md5.update(timestamp_ms.to_string().as_bytes());
    md5.update(app_secret.as_bytes());
    hex::encode(md5.finalize())
}

impl From<CallAction> for sim_kit::CallAction<serde_json::Value, VivoAction> {
    fn from(action: CallAction) -> Self {
        match action {
            CallAction::Result { code, desc, extra } => {
                let mut body = serde_json::Map::new();
                body.insert("result".to_owned(), code.into());
                body.insert("desc".to_owned(), desc.into());
                body.extend(extra);
                sim_kit::CallAction::Body(serde_json::Value::Object(body))
            }
            CallAction::HttpStatus(status) => sim_kit::CallAction::HttpStatus(status),
            CallAction::Delay(delay) => sim_kit::CallAction::Delay(delay),
            CallAction::Garbage => sim_kit::CallAction::Garbage,
            CallAction::ExpireToken => sim_kit::CallAction::Vendor(VivoAction::ExpireToken),
        }
    }
}

/// A running simulator. Clones share the same server; it stops when the last
/// clone is dropped or on [`Simulator::shutdown`].
#[derive(Clone)]
pub struct Simulator {
    sim: Sim<Vivo>,
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let sim = Sim::start_on(addr, Vivo::new(config)).await?;
        Ok(Simulator { sim })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// The bound address (the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.sim.local_addr()
    }

    /// `http://127.0.0.1:PORT`, no trailing slash. An unspecified bind address
    /// (0.0.0.0 / ::) is reported as 127.0.0.1.
    pub fn base_url(&self) -> String {
        self.sim.base_url()
    }

    /// Registers an app; replaces an app with the same id.
    pub fn add_app(&self, app: SimApp) {
        self.inner().add_app(app);
    }

    /// Registers a test device: `pushMode: 1` to any other regId of that app
    /// answers 10302 with `invalidUser.status` 4.
    pub fn add_test_device(&self, app_id: u64, reg_id: &str) {
        self.inner().add_test_device(app_id, reg_id);
    }

    /// Sets the verdict for a regId (for every app). Default: valid.
    pub fn set_reg_id(&self, reg_id: &str, verdict: RegIdVerdict) {
        self.inner().set_verdict(reg_id, verdict);
    }

    /// Queues an action for the next call to `path` (FIFO, one per call).
    pub fn script_next(&self, path: &str, action: CallAction) {
        self.sim.script_next(path, action.into());
    }

    /// Answers every call to `path` with `action` until set to `None`.
    /// Queued [`Simulator::script_next`] actions take precedence.
    pub fn script_always(&self, path: &str, action: Option<CallAction>) {
        self.sim.script_always(path, action.map(Into::into));
    }

    /// Sets vivo's clock (default [`SimClock::Real`]).
    pub fn set_clock(&self, clock: SimClock) {
        self.sim.set_clock(clock);
    }

    pub fn clock(&self) -> SimClock {
        self.sim.clock()
    }

    /// Now by vivo's clock, ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.sim.now_ms()
    }

    /// Sets an app's daily totals (replacing earlier ones; default unlimited).
    pub fn set_quotas(&self, app_id: u64, quotas: Quotas) {
        self.inner().set_quotas(app_id, quotas);
    }

    pub fn quotas(&self, app_id: u64) -> Quotas {
        self.inner().quotas_of(app_id)
    }

    /// What counted against the app's quotas today (vivo's day, by vivo's
    /// clock), whether or not quotas are set; zero on a new day.
    pub fn usage(&self, app_id: u64) -> Usage {
        let now = self.now_ms();
        self.inner().usage_today(now, app_id)
    }

    /// Turns the opt-in [`Rules`] on or off (default: all off).
    pub fn set_rules(&self, rules: Rules) {
        self.inner().rules = rules;
    }

    pub fn rules(&self) -> Rules {
        self.inner().rules
    }

    /// Every token issued so far becomes unknown (answers 10000).
    pub fn expire_auth_tokens(&self) {
        self.inner().expire_tokens();
    }

    /// Every completed request on a vivo path, in arrival order, rejected and
    /// abandoned ones included (requests still in flight are not listed).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.sim
            .requests()
            .into_iter()
            .map(RecordedRequest::from)
            .collect()
    }

    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        let mut requests = self.requests();
        requests.retain(|r| r.path == path);
        requests
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries().to_vec()
    }

    /// Clears requests, deliveries, scripts, regId verdicts, test devices and
    /// stored list payloads, quotas and their counters, queued receipts and
    /// the receipt log; sets the clock back to real and the opt-in rules off;
    /// keeps apps, auth tokens, receipt URLs and receipt settings.
    pub fn reset(&self) {
        self.sim.reset();
    }

    /// Registers a receipt URL for an app, as vivo's console does: messages
    /// of that app whose `extra["callback.id"]` is `receipt_id` get their
    /// receipts POSTed to `url` (replacing an earlier URL for that id).
    /// `receipt_id`: 1..=[`MAX_RECEIPT_ID_CHARS`] characters; `url`: an
    /// absolute `http(s)://` URL.
    pub fn set_receipt_url(
        &self,
        app_id: u64,
        receipt_id: &str,
        url: &str,
    ) -> Result<(), InvalidReceipt> {
        receipts::check_receipt_id(receipt_id)?;
        receipts::check_url(url)?;
        self.inner().receipt_urls.set(app_id, receipt_id, Some(url));
        Ok(())
    }

    /// Forgets a receipt id of an app (receipts already queued still go).
    pub fn remove_receipt_url(&self, app_id: u64, receipt_id: &str) {
        self.inner().receipt_urls.set(app_id, receipt_id, None);
    }

    /// The registered receipt URLs, by app id then receipt id.
    pub fn receipt_urls(&self) -> Vec<ReceiptUrl> {
        self.inner().receipt_urls.list()
    }

    /// Replaces the receipt settings (default [`ReceiptSettings::default`]).
    pub fn set_receipt_settings(&self, settings: ReceiptSettings) {
        self.sim.set_receipt_settings(settings);
    }

    pub fn receipt_settings(&self) -> ReceiptSettings {
        self.sim.receipt_settings()
    }

    /// Sets only [`ReceiptSettings::delay`] (zero: receipts go at once).
    pub fn set_receipt_delay(&self, delay: Duration) {
        self.sim.set_receipt_delay(delay);
    }

    /// Sets only [`ReceiptSettings::redeliver`].
    pub fn set_receipt_redeliver(&self, redeliver: bool) {
        self.sim.set_receipt_redeliver(redeliver);
    }

    /// Receipts queued and not yet sent, in delivery order.
    pub fn pending_receipts(&self) -> Vec<PendingReceipt> {
        self.sim.pending_receipts()
    }

    /// Every receipt POST attempt so far, in the order they finished.
    pub fn receipt_log(&self) -> Vec<ReceiptPost> {
        self.sim.receipt_log()
    }

    /// Sends the queued receipts now (whatever the delay) and waits until
    /// every receipt POST, retries and redeliveries included, has finished;
    /// returns at once after shutdown.
    pub async fn flush_receipts(&self) {
        self.sim.flush_receipts().await;
    }

    /// Stops the server (for every clone) and waits for it to finish; then
    /// sends the queued receipts once (no retries, no redelivery), waits up
    /// to 5 s for receipt POSTs in flight and drops the rest.
    pub async fn shutdown(self) {
        self.sim.shutdown().await;
    }
}

/// The simulator's state as sim-kit sees it.
pub(crate) type Kit = sim_kit::Core<Vivo>;

/// A token is valid for 24 h (VIVO_API.md §1.2).
const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// vivo's part of the simulator (the kit's [`sim_kit::Vendor`]).
pub(crate) struct Vivo {
    inner: Mutex<Inner>,
}

impl Vivo {
    fn new(config: SimConfig) -> Vivo {
        let mut inner = Inner::default();
        for app in config.apps {
            inner.add_app(app);
        }
        Vivo {
            inner: Mutex::new(inner),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) struct IssuedToken {
    app_id: u64,
    issued: Instant,
}

pub(crate) struct StoredTask {
    app_id: u64,
    payload: serde_json::Value,
}

#[derive(Default)]
pub(crate) struct Inner {
    apps: HashMap<u64, SimApp>,
    tokens: HashMap<String, IssuedToken>,
    test_devices: HashMap<u64, HashSet<String>>,
    verdicts: HashMap<String, RegIdVerdict>,
    deliveries: Vec<Delivery>,
    tasks: HashMap<String, StoredTask>,
    next_task: u64,
    pub(crate) rules: Rules,
    quotas: HashMap<u64, Quotas>,
    usage: HashMap<u64, DayUsage>,
    pub(crate) receipt_urls: receipts::ReceiptUrls,
}

/// An app's usage on one vivo day (days since the epoch, UTC+8).
struct DayUsage {
    day: i64,
    usage: Usage,
}

impl Inner {
    pub(crate) fn add_app(&mut self, app: SimApp) {
        self.apps.insert(app.app_id, app);
    }

    pub(crate) fn set_verdict(&mut self, reg_id: &str, verdict: RegIdVerdict) {
        match verdict {
            RegIdVerdict::Valid => self.verdicts.remove(reg_id),
            RegIdVerdict::Invalid { .. } => self.verdicts.insert(reg_id.to_owned(), verdict),
        };
    }

    pub(crate) fn add_test_device(&mut self, app_id: u64, reg_id: &str) {
        self.test_devices
            .entry(app_id)
            .or_default()
            .insert(reg_id.to_owned());
    }

    pub(crate) fn expire_tokens(&mut self) {
        self.tokens.clear();
    }

    pub(crate) fn deliveries(&self) -> &[Delivery] {
        &self.deliveries
    }

    /// vivo's part of [`Simulator::reset`] (the kit clears requests,
    /// scripts, the clock and the receipt queue and log).
    pub(crate) fn reset(&mut self) {
        self.deliveries.clear();
        self.verdicts.clear();
        self.test_devices.clear();
        self.tasks.clear();
        self.rules = Rules::default();
        self.quotas.clear();
        self.usage.clear();
    }

    pub(crate) fn set_quotas(&mut self, app_id: u64, quotas: Quotas) {
        self.quotas.insert(app_id, quotas);
    }

    pub(crate) fn quotas_of(&self, app_id: u64) -> Quotas {
        self.quotas.get(&app_id).copied().unwrap_or_default()
    }

    pub(crate) fn usage_today(&self, now: i64, app_id: u64) -> Usage {
        let today = vivo::vivo_day(now);
        match self.usage.get(&app_id) {
            Some(counted) if counted.day == today => counted.usage,
            _ => Usage::default(),
        }
    }

    /// Today's counters of an app, started afresh on a new vivo day.
    pub(crate) fn usage_mut(&mut self, now: i64, app_id: u64) -> &mut Usage {
        let today = vivo::vivo_day(now);
        let counted = self.usage.entry(app_id).or_insert(DayUsage {
            day: today,
            usage: Usage::default(),
        });
        if counted.day != today {
            *counted = DayUsage {
                day: today,
                usage: Usage::default(),
            };
        }
        &mut counted.usage
    }

    fn new_task_id(&mut self) -> String {
        self.next_task += 1;
        // Numeric string, like vivo's; the offset keeps ids a realistic length.
        (700_000_000_000_000_000u64 + self.next_task).to_string()
    }
}
