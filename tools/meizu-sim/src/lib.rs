//! A strict simulator of Meizu Flyme Push's server API (`POST
//! /garcia/api/server/push/varnished/pushByPushId` and its receipts),
//! written from `docs/VENDORS_API.md` §13, §15 and §16 (and §7, §8, §11) on
//! its own reading. It shares no code with any Meizu client, so a
//! misreading of the API is not shared by both sides.
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the
//! `meizu-sim` binary and drive it through the `/_sim/*` control endpoints
//! (listed in `src/control.rs`). It stands on `sim-kit` (`tools/sim-kit`):
//! recording, scripted answers ([`CallAction`]: any body, HTTP status, delay,
//! garbage), the settable clock ([`SimClock`]), the receipt POSTs and the
//! common control endpoints behave as that crate's doc says; the
//! [`Simulator`] dereferences to the kit's [`sim_kit::Sim`] for them
//! (`script_next`, `requests`, `set_clock`, `flush_receipts`, `reset`, ...).
//! This doc is Meizu's part.
//!
//! # Behaviour
//!
//! Only `POST /garcia/api/server/push/varnished/pushByPushId` exists. The
//! body is a form: `appId`, `pushIds` (comma-joined), `messageJson` (a JSON
//! object as text), `sign`, and optionally `restrictedPackageNames`. A call
//! is answered HTTP 200 with Meizu's envelope (`Content-Type:
//! application/json;charset=UTF-8`), `code` always a string:
//!
//! - accepted: `{"code":"200","message":"","value":{<code>:[pushIds]},
//!   "redirect":"","msgId":"<32 lowercase hex>"}`; `value` is `{}` when every
//!   target was delivered, else maps each per-target code to its pushIds
//!   (request order). A call whose every target failed is still code 200.
//! - refused: `{"code":"<code>","message":"<中文>","value":"","redirect":""}`
//!   (no `msgId`). Rate limiting is `{"code":"110010","message":
//!   "应用请求频率超过限制","value":"","redirect":""}` (§15.5's text).
//!
//! The first failing check answers, in this order:
//!
//! 1. the path (404) and the method (405);
//! 2. `Content-Type` must be `application/x-www-form-urlencoded` (any case),
//!    with no parameter but an optional `charset=UTF-8`: else HTTP 415;
//! 3. the body must be a well-formed form (`%` followed by two hex digits,
//!    UTF-8 once decoded): else HTTP 400; a field given twice: 1005;
//! 4. `appId` missing or empty: 110004; not a registered app: 110000;
//! 5. `sign` missing or empty: 110004; not the [`sign`] of the received
//!    fields with the app's secret: 1006;
//! 6. the app is blacklisted ([`SimApp::blacklisted`]): 110009;
//! 7. the app's rate ([`Quota::qps`]): 110010;
//! 8. `restrictedPackageNames` (optional): more than 50 entries or an empty
//!    one: 1005; a package that is not the app's: 110031;
//! 9. `pushIds`: missing 110004; more than [`Settings::max_push_ids`]:
//!    [`Settings::too_many_targets_code`]; an empty entry or whitespace: 1005;
//! 10. `messageJson` (below);
//! 11. the app's daily counts: targets ([`Quota::daily_targets`], 110019),
//!     then calls ([`Quota::daily_messages`], 110051);
//! 12. each distinct target: its verdict, then the per-minute collapse (520),
//!     then the daily public cap (110011); the rest are delivered.
//!
//! `messageJson` is checked object by object, in this order; JSON `null` and
//! `""` count as absent; an integer is a JSON integer (a digit string too
//! with [`Settings::numeric_strings`]):
//!
//! - the text must be a JSON object (1005);
//! - `noticeBarInfo`: required (110004), an object; `noticeMsgType` 0/1
//!   (default 0); `noticeBarType` 0/1/2; `title` and `content` required
//!   strings (110004; another type 1005); more than 32 / 100 characters
//!   (Unicode scalar values): [`Settings::text_too_long_code`];
//! - `noticeExpandInfo.noticeExpandType` 0/1/2: 1 needs
//!   `noticeExpandContent` (110004), 2 needs `noticeExpandImgUrl` (110004)
//!   and a VIP app (1005);
//! - `clickTypeInfo.clickType` 0..=3 (default 0): 1 needs `activity`
//!   (110004) shaped `pkg.Activity` (1005); 2 needs `url` (110004) with a
//!   URI scheme (`https:`, `intent:`, ...; 1005); 3 needs `customAttribute`
//!   (110004) of at most 1000 bytes (1005), and is refused (1005) with
//!   [`Settings::refuse_custom_click`]; `parameters` must be an object;
//! - `pushTimeInfo.offLine` 0/1 (default 1), `validTime` 1..=72 (default 24);
//! - `advanceInfo`: `suspend`, `clearNoticeBar`, `fixDisplay` and
//!   `notificationType.{vibrate,lights,sound}` 0/1; the display times
//!   `yyyy-MM-dd HH:mm:ss` (checked whenever given; the end key is read
//!   with or without the doc's trailing space); with `fixDisplay` 1 both are
//!   required (110004) and the start must be before the end (1005);
//!   `notifyKey` 1..=8 of `[0-9A-Za-z_-]`;
//! - `vipInfo`: a VIP app only (1005); `subtitle` at most 16 characters,
//!   `pullDownTop`/`notGroup` 0/1, `timeTop` 1800..=7200, the colour and
//!   image fields strings;
//! - `extra` (an object; keys other than the callback's are the app's and
//!   pass): `callback.param` at most 64 bytes; `callback.type` 1, 2 or 3 as
//!   a number or a digit string (default 3); `callback` an absolute
//!   `http(s)://` URL with a host, at most 128 bytes, and one of
//!   [`SimApp::callback_urls`] when the app registered any.
//!
//! Every value error answers 1005 with `参数错误：<what>` as the message (the
//! detail names the field); every missing value 110004 with
//! `参数不能为空：<field>`.
//!
//! # Result codes the simulator returns
//!
//! "vendor" = the code and its meaning are in VENDORS_API.md §15.5; "sim" =
//! the rule is the simulator's (Meizu documents no check for it);
//! "vendor/sim" = Meizu names the code, the simulator chose which check
//! answers it.
//!
//! Top level (`code`):
//!
//! | code   | origin | when |
//! |--------|--------|------|
//! | 200    | vendor | accepted (inspect `value`) |
//! | 1005   | vendor/sim | a malformed value (above), a field given twice, `restrictedPackageNames` over 50 or with an empty entry, a VIP field from a non-VIP app, an unregistered callback URL; by default also too many `pushIds` and over-long text |
//! | 1006   | vendor | `sign` wrong |
//! | 110000 | vendor | `appId` unknown |
//! | 110004 | vendor/sim | a required field missing or empty (`appId`, `sign`, `pushIds`, `messageJson`, `noticeBarInfo`, `title`, `content`, a click type's field, the display times) |
//! | 110009 | vendor | the app is blacklisted |
//! | 110010 | vendor | more calls in one second (simulator clock) than [`Quota::qps`] |
//! | 110019 | vendor | the app's targets delivered today >= [`Quota::daily_targets`] (110031 with [`Settings::swap_110019_110031`]) |
//! | 110031 | vendor | a `restrictedPackageNames` entry is not the app's (110019 when swapped) |
//! | 110051 | vendor/sim | the app's accepted calls today >= [`Quota::daily_messages`] (§15.5 says "app count limit"; the simulator reads it as calls) |
//! | any    | sim    | [`Settings::too_many_targets_code`] / [`Settings::text_too_long_code`] (default 1005, §16 guess 1) |
//!
//! Per target (keys of `value`):
//!
//! | code   | origin | when |
//! |--------|--------|------|
//! | 110002 | vendor | verdict [`PushIdVerdict::NotSubscribed`], or an unset pushId with [`Settings::unknown_push_ids`] = not subscribed |
//! | 110003 | vendor | verdict [`PushIdVerdict::Illegal`], an unset pushId outside [`Settings::push_id_syntax`], or with [`Settings::unknown_push_ids`] = illegal |
//! | 110010 | vendor | verdict [`PushIdVerdict::SwitchOff`] |
//! | 110011 | vendor | verdict [`PushIdVerdict::PublicCap`], or a public message (`noticeMsgType` 0) to a device that got [`Quota::public_per_device`] public messages of this app today |
//! | 520    | vendor | the device got [`Settings::per_device_per_minute`] (default 5) messages of this app in the last 60 s |
//! | any    | vendor/sim | verdict [`PushIdVerdict::Code`] (201, 501, 513, 518, 519, ...) |
//!
//! Codes Meizu has and the simulator only answers when scripted
//! ([`error_action`] builds the body): 500, 1001, 1003, 110001, 110032,
//! 110033, 110053.
//!
//! HTTP-level answers (not Meizu codes):
//!
//! | HTTP | when |
//! |------|------|
//! | 404  | any other path (plain text) |
//! | 405  | the send path with a method other than POST |
//! | 415  | `Content-Type` missing, not a form, or with another charset or parameter (a choice: Meizu's answer is undocumented) |
//! | 400  | the body is not a well-formed form (plain text) |
//! | 413  | body over 4 MiB (the kit's limit) |
//! | any  | scripted [`sim_kit::CallAction::HttpStatus`] (plain text) |
//!
//! # Targets, quota, deliveries
//!
//! - Apps ([`SimApp`]) are known by `appId`; the secret signs, the packages
//!   bound `restrictedPackageNames` (none registered: any passes).
//! - Every pushId is valid unless set ([`Simulator::set_push_id`], for every
//!   app) or judged by [`Settings::unknown_push_ids`] /
//!   [`Settings::push_id_syntax`]. A pushId given twice in one call is
//!   handled once; the count limit applies to the list as sent.
//! - Quotas ([`Quota`], per app, default unlimited) count per Meizu day,
//!   midnight to midnight UTC+8 by the simulator's clock. A call is refused
//!   only once a count has reached its quota, so the call that crosses it
//!   goes through in full. Refused calls count for nothing except the rate
//!   (every call past the sign counts toward [`Quota::qps`] until refused).
//!   [`Simulator::usage`] shows today's counts.
//! - Every delivered target of an accepted call is one [`Delivery`]
//!   ([`Simulator::deliveries`], `GET /_sim/deliveries`).
//!
//! # Receipts
//!
//! A message whose `extra.callback` is set gets receipts, POSTed to that URL
//! by the kit's engine (sim-kit, "Receipts": delay, default 1 s as §15.6's
//! "about every 1 s"; flush, retries, redelivery, log):
//!
//! - each delivered target queues a type 1 (delivered) receipt when
//!   `callback.type` is 1 or 3 (default 3); clicks are never simulated on
//!   their own;
//! - [`Simulator::send_receipt`] (`POST /_sim/receipts`) queues any type
//!   (2 clicked, or any number) for a message id on command, for given
//!   targets or its delivered ones, whatever its `callback.type`;
//! - a POST's `cb` is a JSON object keyed `"<msgId>-<type>"`, each entry
//!   `{"param":"<callback.param or empty>","type":N,"targets":[pushIds]}`,
//!   at most [`Settings::receipt_max_targets`] targets per entry (more go in
//!   further POSTs); each batch holds only new events;
//! - the body (§15.6 CONFLICT) is form-encoded `cb=<json>&access_token=<the
//!   app's SimApp::access_token>` (the default, the 2023 doc), or the raw
//!   `cb` object as `application/json` with [`Settings::receipt_body`] =
//!   [`ReceiptBody::Json`] (the 2017 doc). The receipt log shows a form as
//!   `{"cb":"<json text>","access_token":".."}`.
//! - Any 2xx answer is success; other answers are retried as the kit's
//!   settings say (§16 guess 3: Meizu's retry policy is undocumented).
//!
//! # CONFLICTs and other choices
//!
//! - Targets per call (§15.8 CONFLICT, 100 since 2023-08 vs 1000):
//!   [`Settings::max_push_ids`], default 100 ([`OLD_MAX_PUSH_IDS`] for the
//!   older reading).
//! - 110019 vs 110031 (§15.5 CONFLICT, commit 2b84cb4 swapped them):
//!   [`Settings::swap_110019_110031`], default the a39667d/JavaSdk mapping.
//! - Receipt body, form `cb=` vs raw JSON (§15.6 CONFLICT):
//!   [`Settings::receipt_body`], default form.
//! - HTTPS only vs `http://` in the README (§15.1 CONFLICT), and
//!   `server-api-push` vs `api-push` hosts: the simulator serves plain HTTP
//!   and answers whatever `Host` the client names; the scheme and host are
//!   the client's configuration, not something the simulator can check.
//! - `callback.type` as `"3"` or `3` (§15.4): both accepted.
//! - `fixEndDisplayTime` with or without the doc's trailing space: both.
//! - §16 guess 1 (code for too many targets or over-long text):
//!   [`Settings::too_many_targets_code`] / `_message` and
//!   [`Settings::text_too_long_code`] / `_message`, default 1005.
//! - §16 guess 2 (QPS, 110019/110051 quotas): [`Quota`], default unlimited.
//! - §16 guess 3 (`access_token`, reply, retries): [`SimApp::access_token`]
//!   (default empty); the kit's receipt settings.
//! - §16 guess 4 (unknown JSON keys): ignored by default,
//!   [`Settings::reject_unknown_keys`] refuses them (1005) in the objects
//!   Meizu defines (`extra` and `parameters` are the app's and take any key).
//!   Unknown form fields are ignored (but signed, as every field is).
//! - §16 guess 5 (private approval, public caps): private messages need no
//!   approval; [`Quota::public_per_device`] (default unlimited; Tencent
//!   says 3, or 5 for news apps).
//! - §16 guess 6 (110002 vs 110003): verdicts, [`Settings::unknown_push_ids`]
//!   and [`Settings::push_id_syntax`] (ASCII letters and digits within the
//!   length bounds).
//! - The sign is compared as lowercase hex ([`Settings::sign_any_case`]
//!   accepts any case); it is made over every form field as received
//!   (empty ones included, the query string not); there is no timestamp, so
//!   requests never expire and can be replayed (§15.2).
//! - Integer fields are JSON integers by default
//!   ([`Settings::numeric_strings`]).
//! - Display times are not waited for and `validTime` is not modelled: every
//!   delivery happens at once.
//! - Reset ([`sim_kit::Sim::reset`], `POST /_sim/reset`) keeps apps, sets
//!   [`Settings`] back to those the simulator was started with, and clears
//!   everything else: verdicts, quotas, counts, deliveries, messages (their
//!   ids become unknown to `send_receipt`) (and the kit's reset: requests,
//!   scripts, clock, receipt queue and log; receipt settings are kept).

mod control;
mod meizu;
mod receipts;
mod server;

pub use receipts::{MeizuReceipts, PendingReceipt};
pub use sim_kit::{
    http_client, http_client_builder, nodelay, shutdown_signal, ReceiptOutcome, ReceiptPost,
    ReceiptSettings, RecordedRequest, SimClock,
};

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sim_kit::{NoAction, Sim};

/// The one send path (§13, §15.3).
pub const PATH: &str = "/garcia/api/server/push/varnished/pushByPushId";

/// `pushIds` per call since 2023-08-21 (§15.8); [`Settings::max_push_ids`].
pub const MAX_PUSH_IDS: usize = 100;

/// `pushIds` per call in the pre-2023 reading of the §15.8 CONFLICT.
pub const OLD_MAX_PUSH_IDS: usize = 1000;

/// At most this many entries in `restrictedPackageNames` (§15.3).
pub const MAX_RESTRICTED_PACKAGES: usize = 50;

/// A scripted answer: `Body` is any JSON, answered HTTP 200.
pub type CallAction = sim_kit::CallAction<Value, NoAction>;

/// The per-target codes of §15.5, as the failure map keys them.
pub mod codes {
    /// pushId not subscribed.
    pub const NOT_SUBSCRIBED: &str = "110002";
    /// pushId illegal.
    pub const ILLEGAL: &str = "110003";
    /// The device's notification switch is off (per target).
    pub const SWITCH_OFF: &str = "110010";
    /// The device's daily public-message cap is reached.
    pub const PUBLIC_CAP: &str = "110011";
    /// Collapsed: too many messages to one device in one minute.
    pub const COLLAPSED: &str = "520";
}

/// An app known to the simulator, as registered in Meizu's console.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimApp {
    /// The numeric appId the form carries.
    pub app_id: String,
    /// The appSecret the `sign` is made with.
    pub app_secret: String,
    /// The app's packages: `restrictedPackageNames` may name only these.
    /// Empty: any package passes.
    #[serde(default)]
    pub package_names: Vec<String>,
    /// A VIP app: `vipInfo` and big-image notifications are allowed.
    #[serde(default)]
    pub vip: bool,
    /// Blacklisted by Meizu: every call answers 110009.
    #[serde(default)]
    pub blacklisted: bool,
    /// Receipt URLs registered in the console (回执管理). Empty: any
    /// `extra.callback` URL passes.
    #[serde(default)]
    pub callback_urls: Vec<String>,
    /// The `access_token` every receipt POST carries (set in the console
    /// with the callback address; its content is undocumented).
    #[serde(default)]
    pub access_token: String,
}

impl SimApp {
    /// An app with one package, not VIP, any callback URL, an empty
    /// `access_token`.
    pub fn new(
        app_id: impl Into<String>,
        app_secret: impl Into<String>,
        package_name: impl Into<String>,
    ) -> SimApp {
        SimApp {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            package_names: vec![package_name.into()],
            vip: false,
            blacklisted: false,
            callback_urls: Vec::new(),
            access_token: String::new(),
        }
    }
}

impl fmt::Debug for SimApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimApp")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
            .field("package_names", &self.package_names)
            .field("vip", &self.vip)
            .field("blacklisted", &self.blacklisted)
            .field("callback_urls", &self.callback_urls)
            .field("access_token", &"[redacted]")
            .finish()
    }
}

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub apps: Vec<SimApp>,
    pub settings: Settings,
}

/// What Meizu thinks of a pushId (for every app). Unset pushIds follow
/// [`Settings::unknown_push_ids`] and [`Settings::push_id_syntax`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushIdVerdict {
    /// Delivered.
    Valid,
    /// 110002.
    NotSubscribed,
    /// 110003.
    Illegal,
    /// 110010 (per target): the notification switch is off.
    SwitchOff,
    /// 110011: the daily public cap is reached, whatever the count.
    PublicCap,
    /// Any other per-target code (201, 501, 513, 518, 519, 520, ...).
    Code(String),
}

impl PushIdVerdict {
    /// The code the failure map keys it under; `None` when delivered.
    pub fn code(&self) -> Option<&str> {
        match self {
            PushIdVerdict::Valid => None,
            PushIdVerdict::NotSubscribed => Some(codes::NOT_SUBSCRIBED),
            PushIdVerdict::Illegal => Some(codes::ILLEGAL),
            PushIdVerdict::SwitchOff => Some(codes::SWITCH_OFF),
            PushIdVerdict::PublicCap => Some(codes::PUBLIC_CAP),
            PushIdVerdict::Code(code) => Some(code),
        }
    }
}

/// How an unset pushId is judged (§16 guess 6: how 110002 and 110003 are told apart).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownPushIds {
    /// Delivered (the default).
    #[default]
    Valid,
    /// 110002.
    NotSubscribed,
    /// 110003.
    Illegal,
}

/// A pushId syntax: ids outside it are 110003 unless set otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushIdSyntax {
    /// Inclusive length bounds, in ASCII characters.
    pub min_len: usize,
    pub max_len: usize,
}

/// How receipt POSTs carry `cb` (§15.6 CONFLICT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptBody {
    /// `application/x-www-form-urlencoded`: `cb=<json>&access_token=..`
    /// (the 2023 doc; the default).
    #[default]
    Form,
    /// `application/json`: the `cb` object itself (the 2017 doc).
    Json,
}

/// The simulator's readings of what the spec leaves open (§16) or gives
/// twice (CONFLICT). Every field has a default; `POST /_sim/settings` sets
/// any of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `pushIds` per call: 100 (default) or 1000 (§15.8 CONFLICT).
    pub max_push_ids: usize,
    /// The code and message of too many `pushIds` (§16 guess 1).
    pub too_many_targets_code: String,
    pub too_many_targets_message: String,
    /// The code and message of a title or content over its limit (§16 guess 1).
    pub text_too_long_code: String,
    pub text_too_long_message: String,
    /// The daily-count code reads 110019 and the bad-package code 110031
    /// (false, the default: a39667d and JavaSdk), or the two swapped (true:
    /// commit 2b84cb4) (§15.5 CONFLICT).
    pub swap_110019_110031: bool,
    /// Unknown keys in `messageJson` answer 1005 (true) or are ignored
    /// (false, the default) (§16 guess 4).
    pub reject_unknown_keys: bool,
    /// Integer fields of `messageJson` may also be digit strings (`"1"`).
    /// Default false: JSON integers only. `extra["callback.type"]` takes
    /// both whatever this says (§15.4).
    pub numeric_strings: bool,
    /// `sign` compared case-insensitively. Default false: lowercase only.
    pub sign_any_case: bool,
    /// `clickType` 3 (custom, deprecated) answers 1005. Default false.
    pub refuse_custom_click: bool,
    /// Unset pushIds: valid (default), 110002 or 110003 (§16 guess 6).
    pub unknown_push_ids: UnknownPushIds,
    /// When set, unset pushIds outside it are 110003 (§16 guess 6).
    pub push_id_syntax: Option<PushIdSyntax>,
    /// More than this many delivered messages to one device of one app in
    /// the last 60 s (by the simulator's clock) answer 520 for it; `None`
    /// turns it off. Default 5 (§15.5).
    pub per_device_per_minute: Option<u32>,
    /// The receipt body (§15.6 CONFLICT): form (default) or JSON.
    pub receipt_body: ReceiptBody,
    /// At most this many targets per `cb` entry in one POST (default 1000;
    /// Meizu's batch size is undocumented). At least 1.
    pub receipt_max_targets: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_push_ids: MAX_PUSH_IDS,
            too_many_targets_code: "1005".to_owned(),
            too_many_targets_message: "参数错误：推送目标数超过限制".to_owned(),
            text_too_long_code: "1005".to_owned(),
            text_too_long_message: "参数错误：标题或内容长度超过限制".to_owned(),
            swap_110019_110031: false,
            reject_unknown_keys: false,
            numeric_strings: false,
            sign_any_case: false,
            refuse_custom_click: false,
            unknown_push_ids: UnknownPushIds::Valid,
            push_id_syntax: None,
            per_device_per_minute: Some(5),
            receipt_body: ReceiptBody::Form,
            receipt_max_targets: 1000,
        }
    }
}

/// An app's limits (§15.5, §15.7, §15.8). `None` is unlimited (the default
/// for all of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quota {
    /// Calls per second of the simulator's clock (110010; Aliyun says 200).
    pub qps: Option<u32>,
    /// Targets delivered per Meizu day (110019, "app daily push count").
    pub daily_targets: Option<u64>,
    /// Accepted calls per Meizu day (110051, "app count limit").
    pub daily_messages: Option<u64>,
    /// Public messages (`noticeMsgType` 0) per device per Meizu day
    /// (per-target 110011; Tencent says 3, or 5 for news apps).
    pub public_per_device: Option<u32>,
}

/// An app's counts on the simulator's current Meizu day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Targets delivered today.
    pub targets: u64,
    /// Calls accepted today.
    pub messages: u64,
    pub quota: Quota,
}

/// A notification Meizu would show: one per delivered target of an
/// accepted call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    /// 32 hex, as the answer's `msgId`.
    pub msg_id: String,
    pub app_id: String,
    pub push_id: String,
    pub title: String,
    pub content: String,
    /// 0 public, 1 private.
    pub notice_msg_type: i64,
    pub click_type: i64,
    /// `clickTypeInfo.parameters` (null when absent).
    pub parameters: Value,
    /// `extra` (null when absent).
    pub extra: Value,
    /// `advanceInfo.notifyKey`, when given.
    pub notify_key: Option<String>,
    /// `pushTimeInfo`: offline delivery and its hours.
    pub off_line: i64,
    pub valid_time: i64,
    /// The whole `messageJson` as parsed.
    pub message: Value,
    /// Every form field as received.
    pub fields: BTreeMap<String, String>,
    /// The simulator's clock at delivery, ms.
    pub delivered_ms: i64,
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

/// A scripted Meizu error: `{"code":"<code>","message":..,"value":"","redirect":""}`.
pub fn error_action(code: &str, message: &str) -> CallAction {
    sim_kit::CallAction::Body(error_body(code, message))
}

/// The body of a Meizu error answer (code as a string, `value` empty).
pub fn error_body(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message, "value": "", "redirect": "" })
}

/// The `sign` of a form (§15.2): the lowercase hex MD5 of every field but
/// `sign`, sorted by name, written `name=value` with no separator over raw
/// values, followed by the appSecret.
pub fn sign<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>, app_secret: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = fields.into_iter().filter(|(n, _)| *n != "sign").collect();
    // A stable sort keeps repeated names in their order; repeats are refused
    // before a sign is checked anyway.
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut md5 = Md5::new();
    for (name, value) in pairs {
        md5.update(name.as_bytes());
        md5.update(b"=");
        md5.update(value.as_bytes());
    }
    md5.update(app_secret.as_bytes());
    hex::encode(md5.finalize())
}

/// A running simulator. Clones share the same server; it stops when the last
/// clone is dropped or on `shutdown`. Dereferences to the kit's
/// [`sim_kit::Sim`] for scripting, recording, the clock, receipts and reset.
#[derive(Clone)]
pub struct Simulator {
    sim: Sim<Meizu>,
}

impl Deref for Simulator {
    type Target = Sim<Meizu>;

    fn deref(&self) -> &Sim<Meizu> {
        &self.sim
    }
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let sim = Sim::start_on(addr, Meizu::new(config)).await?;
        Ok(Simulator { sim })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// Registers an app; replaces an app with the same appId.
    pub fn add_app(&self, app: SimApp) {
        self.inner().add_app(app);
    }

    /// Sets the verdict of a pushId (for every app).
    pub fn set_push_id(&self, push_id: &str, verdict: PushIdVerdict) {
        self.inner().set_verdict(push_id, verdict);
    }

    /// Sets an app's limits (default: all unlimited).
    pub fn set_quota(&self, app_id: &str, quota: Quota) {
        self.inner().quotas.insert(app_id.to_owned(), quota);
    }

    /// The app's counts on today's Meizu day (by the simulator's clock).
    pub fn usage(&self, app_id: &str) -> Usage {
        let now = self.now_ms();
        self.inner().usage(now, app_id)
    }

    pub fn settings(&self) -> Settings {
        self.inner().settings.clone()
    }

    /// Chooses the readings of the guesses and CONFLICTs.
    pub fn set_settings(&self, settings: Settings) {
        self.sim.vendor().set_settings(settings);
    }

    /// Every delivery so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }

    /// Queues receipts of `receipt_type` for a message sent with
    /// `extra.callback`, whatever its `callback.type`: for `targets`, or by
    /// default its delivered targets. Returns how many entries were queued.
    pub fn send_receipt(
        &self,
        msg_id: &str,
        receipt_type: u32,
        targets: Option<&[&str]>,
    ) -> Result<usize, ReceiptError> {
        let targets = targets.map(|t| t.iter().map(|s| (*s).to_owned()).collect());
        meizu::send_receipt(self.sim.core(), msg_id, receipt_type, targets)
    }
}

/// Meizu's part of the simulator (the kit's [`sim_kit::Vendor`]).
pub struct Meizu {
    inner: Mutex<Inner>,
    /// Shared with the receipt format, which reads them when a POST is made.
    json_receipts: Arc<AtomicBool>,
    receipt_max_targets: Arc<AtomicUsize>,
    /// What a reset sets the settings back to.
    initial_settings: Settings,
}

impl Meizu {
    fn new(config: SimConfig) -> Meizu {
        let mut inner = Inner::default();
        for app in config.apps {
            inner.add_app(app);
        }
        let meizu = Meizu {
            inner: Mutex::new(inner),
            json_receipts: Arc::new(AtomicBool::new(false)),
            receipt_max_targets: Arc::new(AtomicUsize::new(1)),
            initial_settings: config.settings.clone(),
        };
        meizu.set_settings(config.settings);
        meizu
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_settings(&self, settings: Settings) {
        self.json_receipts
            .store(settings.receipt_body == ReceiptBody::Json, Ordering::SeqCst);
        self.receipt_max_targets
            .store(settings.receipt_max_targets.max(1), Ordering::SeqCst);
        self.lock().settings = settings;
    }
}

/// What the simulator keeps of an accepted message, for receipts on command.
#[derive(Clone, Debug)]
pub(crate) struct StoredMessage {
    pub(crate) callback: Option<meizu::Callback>,
    pub(crate) delivered: Vec<String>,
}

/// One app's counts on one Meizu day.
#[derive(Clone, Debug, Default)]
pub(crate) struct DayCount {
    pub(crate) day: i64,
    pub(crate) targets: u64,
    pub(crate) messages: u64,
    /// Public messages delivered today, per pushId.
    pub(crate) public: HashMap<String, u32>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) apps: HashMap<String, SimApp>,
    pub(crate) verdicts: HashMap<String, PushIdVerdict>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) messages: HashMap<String, StoredMessage>,
    pub(crate) quotas: HashMap<String, Quota>,
    pub(crate) counts: HashMap<String, DayCount>,
    /// Per (appId, pushId): delivery times in the last minute.
    pub(crate) recent: HashMap<(String, String), Vec<i64>>,
    /// Per appId: (second of the simulator's clock, calls in it).
    pub(crate) calls: HashMap<String, (i64, u32)>,
    pub(crate) settings: Settings,
}

impl Inner {
    pub(crate) fn add_app(&mut self, app: SimApp) {
        self.apps.insert(app.app_id.clone(), app);
    }

    pub(crate) fn set_verdict(&mut self, push_id: &str, verdict: PushIdVerdict) {
        self.verdicts.insert(push_id.to_owned(), verdict);
    }

    /// The app's counts of Meizu's day of `now` (zero on a new day).
    pub(crate) fn today(&mut self, now: i64, app_id: &str) -> &mut DayCount {
        let day = meizu::meizu_day(now);
        let count = self.counts.entry(app_id.to_owned()).or_default();
        if count.day != day {
            *count = DayCount {
                day,
                ..DayCount::default()
            };
        }
        count
    }

    pub(crate) fn usage(&mut self, now: i64, app_id: &str) -> Usage {
        let quota = self.quotas.get(app_id).copied().unwrap_or_default();
        let today = self.today(now, app_id);
        Usage {
            targets: today.targets,
            messages: today.messages,
            quota,
        }
    }

    /// Meizu's part of [`sim_kit::Sim::reset`]: everything but the apps.
    pub(crate) fn reset(&mut self) {
        self.verdicts.clear();
        self.deliveries.clear();
        self.messages.clear();
        self.quotas.clear();
        self.counts.clear();
        self.recent.clear();
        self.calls.clear();
    }
}
