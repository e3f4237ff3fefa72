//! A strict simulator of OPPO Push (OPUSH / HeyTap push)'s server API
//! (`/server/v1/auth`, `unicast`, `unicast_batch`, `save_message_content`,
//! `broadcast`), written from `docs/VENDORS_API.md` §2 (and the OPPO rows of
//! §7, §8, §11) on its own reading. It shares no code with any OPPO client,
//! so a misreading of the API is not shared by both sides. (§16 has no OPPO
//! entry; the guesses this simulator had to make are listed under "Choices".)
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the
//! `oppo-sim` binary and drive it through the `/_sim/*` control endpoints
//! (listed in `src/control.rs`). It stands on `sim-kit` (`tools/sim-kit`):
//! recording, scripted answers ([`CallAction`]: any body, HTTP status, delay,
//! garbage), the settable clock ([`SimClock`]), the receipt POSTs and the
//! common control endpoints behave as that crate's doc says; the
//! [`Simulator`] dereferences to the kit's [`sim_kit::Sim`] for them
//! (`script_next`, `requests`, `set_clock`, `flush_receipts`, `reset`, ...).
//! This doc is OPPO's part. The simulator serves one host: the China and
//! overseas hosts of §2.1 (and the region in a registration id) are the
//! client's business; the feedback host's `fetch_invalid_regidList` is not
//! simulated.
//!
//! # Behaviour
//!
//! Every call is a `POST` of an `application/x-www-form-urlencoded` UTF-8
//! form; message bodies are JSON strings inside form fields (`message`,
//! `messages`), except `save_message_content`, whose notification fields are
//! flat form fields. Answers are HTTP 200 JSON
//! (`Content-Type: application/json;charset=UTF-8`):
//!
//! - auth: `{"code":0,"message":"success","data":{"auth_token":"<32 hex>",
//!   "create_time":<ms>}}` (`create_time` a number, or a string with
//!   [`Settings::create_time`]);
//! - unicast: `{"code":0,"message":"","data":{"messageId":"<AppID>-1-1-<32 hex>"}}`;
//! - unicast_batch: `{"code":0,"message":"","data":[{"messageId":"..",
//!   "registrationId":".."}, ...]}` in request order, an invalid target's item
//!   with `"errorCode":10000,"errorMessage":"registration_id格式不正确"`;
//! - save_message_content: `{"code":0,"message":"","data":{"message_id":
//!   "<AppID>-1-2-<n>"}}`;
//! - broadcast: `{"code":0,"message":"","data":{"message_id":"..","task_id":
//!   "<32 hex>","10000":["<invalid target>", ...]}}` (`"10000"` only when
//!   some target is invalid);
//! - an error: `{"code":N,"message":"<text>"}` without `data`; 10000 exactly
//!   as §2.6 quotes it: `{"code":10000,"message":"registration_id格式不正确"}`.
//!
//! The first failing check answers, in this order:
//!
//! 1. the path (HTTP 404) and the method (code 12);
//! 2. `Content-Type` must be a form (else HTTP 415); a `charset` other than
//!    UTF-8, or a form that is not UTF-8 once decoded: 25; a malformed `%`
//!    escape: HTTP 400; a field given twice: 41;
//! 3. auth: `app_key` (15), `timestamp` (18), `sign` (17) present; `app_key`
//!    known (14); `timestamp` 13 digits (19) within the window (19); `sign`
//!    right (16); then the per-second limit (55);
//! 4. other paths: `auth_token` present (29, from the form field, else from
//!    an `auth_token` header while [`Settings::header_token`] is on), known,
//!    not invalidated and younger than 24 h (11); then the per-second limit
//!    (55);
//! 5. unicast: `message` (40 missing, 41 not a JSON object); its
//!    `target_type`, `target_value`, `verify_registration_id`, then
//!    `notification` (below); unicast_batch: `messages` (40 missing, 41 not
//!    a JSON array of 1..=1000 objects), every message as unicast's (the
//!    first failing one answers for the whole call, its index in the
//!    message: `messages[3].notification.title`); save_message_content: the
//!    notification fields; broadcast: `message_id` (40; 31 unknown or
//!    another app's), `target_type` (40; 41 not 2, 5 or 6), `target_value`
//!    (40; 41 more than 1000 `;`-joined targets or an empty one);
//! 6. the daily total of each message class in the call (33);
//! 7. the targets' verdicts: unicast 10000; batch and broadcast answer 0 and
//!    list them per message / under `"10000"`, even when all are invalid.
//!
//! Notification fields, in this order (names in messages are prefixed with
//! their place, e.g. `message.notification.title`): `title`, `sub_title`,
//! `style`, `content`, `app_message_id`, `click_action_type` with
//! `click_action_activity` / `click_action_url`, `action_parameters`,
//! `off_line`, `off_line_ttl`, `channel_id`, `category`, `notify_level`, the
//! approved private channel, `private_msg_template_id` with
//! `private_title_parameters` / `private_content_parameters`, `notify_id`,
//! `show_ttl`, `show_time_type` with `show_start_time` / `show_end_time`,
//! `network_type`, `call_back_url`, `call_back_parameter`,
//! `badge_message_count`, `badge_operation_type`, `small_picture_id`,
//! `big_picture_id`; for stored bodies also `push_time_type`,
//! `push_start_time`, `time_zone`, `fix_speed`, `fix_speed_rate`.
//!
//! Types: in a unicast message strings must be JSON strings, integers JSON
//! integers (`"2"` or `2.0` is 41), booleans JSON booleans, and
//! `action_parameters` a *string* holding a JSON object. In a stored body
//! every value is form text: integers are an optional `-` and digits,
//! booleans `true` / `false`. A JSON `null` or an empty string or form value
//! counts as absent. Unknown fields (message, notification or form, e.g.
//! `sdk_version`) are ignored. "Characters" are Unicode scalar values (a CJK
//! character or an emoji counts 1).
//!
//! # Result codes the simulator returns
//!
//! "oppo" = the code and its meaning are in VENDORS_API.md §2.2-§2.7 (OPPO's
//! code table); "sim" = the code exists but the simulator chose which check
//! answers it; "oppo/sim" = OPPO names the code and the rule, the simulator
//! chose how to read the rule.
//!
//! | code  | origin   | when |
//! |-------|----------|------|
//! | 0     | oppo     | success (batch and broadcast: even with invalid targets) |
//! | 11    | oppo     | `auth_token` unknown, older than [`TOKEN_LIFETIME_MS`] (24 h by the simulator's clock from its `create_time`), or invalidated ([`Simulator::invalidate_tokens`], [`Simulator::invalidate_token`], `POST /_sim/tokens/invalidate`) |
//! | 12    | oppo/sim | a simulated path called with a method other than POST |
//! | 14    | oppo     | auth: `app_key` of no registered app |
//! | 15    | oppo     | auth: `app_key` missing or empty |
//! | 16    | oppo     | auth: `sign` is not the lowercase hex SHA-256 of `app_key + timestamp + master_secret` (the texts as sent; compared exactly, so upper-case hex is refused) |
//! | 17    | oppo     | auth: `sign` missing or empty |
//! | 18    | oppo     | auth: `timestamp` missing or empty |
//! | 19    | oppo     | auth: `timestamp` not exactly 13 ASCII digits, more than [`TIMESTAMP_WINDOW_MS`] (10 min) older than the simulator's clock, or ahead of it by more than [`Settings::future_skew_ms`] (default 0) |
//! | 25    | oppo/sim | a `charset` other than UTF-8 in `Content-Type`, or form bytes that are not UTF-8 once decoded |
//! | 29    | oppo     | no `auth_token` (form field, or header while [`Settings::header_token`]) |
//! | 31    | oppo/sim | broadcast: `message_id` not stored by this app's `save_message_content` |
//! | 33    | oppo/sim | the day's total of the message's class ([`Quotas::public`], [`Quotas::service`]) is used up: delivered targets today >= total |
//! | 40    | oppo/sim | a required field missing: `message`, `messages`, `target_type`, `target_value`, `notification`, `title`, `content` (blank counts as missing), `click_action_activity` (click 1, 4), `click_action_url` (click 2, 5), `show_start_time` / `show_end_time` (show_time_type 1), `big_picture_id` (style 3), `push_start_time` (push_time_type 1), `fix_speed_rate` (fix_speed true), broadcast `message_id` / `target_type` / `target_value` |
//! | 41    | oppo/sim | a malformed value or a limit passed: a field given twice; `message` not a JSON object, `messages` not an array of 1..=1000 objects; `target_type` not 2/5 (unicast) or 2/5/6 (broadcast); `target_value` not a string, or (broadcast 2/5) over 1000 targets or an empty one; `verify_registration_id` not a boolean; a wrong type; `title` over 50, `sub_title` over 10, `content` over 200 (style 1), 128 (style 2) or 50 (style 3); `style` not 1/2/3, or 3 outside a stored body; `click_action_type` not 0/1/2/4/5; `click_action_activity` over 500; `click_action_url` over 2000, or not an absolute http(s) URL for click 2; `action_parameters` not a string of a JSON object or over 4000; `off_line_ttl` negative; `notify_id` outside 0..=2147483647; `show_ttl` outside 0..=172800; `show_time_type`, `network_type`, `badge_operation_type`, `push_time_type` not 0/1; `show_end_time` not after `show_start_time`; `badge_message_count` negative; `fix_speed_rate` outside 1000..=10000; `call_back_url` over 200 or not an absolute http(s) URL; `call_back_parameter` over 100; `private_title_parameters` / `private_content_parameters` not a string of a JSON object of strings; `private_msg_template_id` not one of [`SimApp::templates`] (when set) |
//! | 55    | oppo/sim | [`Quotas::per_second`] calls already made in this second of the simulator's clock (every path, auth included, counted once the app is known) |
//! | 67    | oppo/sim | `category` not one of the ten of §2.5 (exact upper case); `notify_level` without `category`, not 1/2/16, or 16 without [`SimApp::strong_reminder`]; a service category whose `channel_id` is missing or not in [`SimApp::service_channels`] (when the app has some); `private_msg_template_id` missing where [`SimApp::template_rule`] requires it |
//! | 10000 | oppo     | unicast: the target is invalid ([`Simulator::set_reg_id`]) or not a registration id at all (empty, whitespace); batch items' `errorCode`; broadcast's `"10000"` list |
//!
//! Codes OPPO has and the simulator only answers when scripted
//! ([`error_action`], or `POST /_sim/script` with `{"error":{..}}`): -1
//! (service unavailable), -2 (flow control), 13 (app call limit), 20-24
//! (method / version), 26 (IP blacklisted), 27 (access denied), 28 (app
//! disabled), 30 (no API push permission), 32 (duplicate), 34 (picture
//! upload limit), 51 (invalid picture), 59 (no permission for secondary
//! link), and the business codes 10001-20000.
//!
//! HTTP-level answers (not OPPO result codes):
//!
//! | HTTP | when |
//! |------|------|
//! | 404  | any other path (plain text) |
//! | 415  | `Content-Type` missing or not `application/x-www-form-urlencoded` (plain text; OPPO's answer is undocumented) |
//! | 400  | the body is not a well-formed form (a bad `%` escape; plain text) |
//! | 413  | body over 4 MiB (the kit's limit; OPPO's is undocumented) |
//! | any  | scripted [`sim_kit::CallAction::HttpStatus`] (plain text, the reason phrase) |
//!
//! # Auth and tokens
//!
//! - A token lives [`TOKEN_LIFETIME_MS`] (24 h) from its `create_time` (the
//!   simulator's clock when issued): valid while now < create_time + 24 h by
//!   the simulator's clock ([`sim_kit::Sim::set_clock`]), so expiry is tested by
//!   moving the clock. A client that signs with the real time gets 19 while
//!   the simulator's clock is far from it: sign with the simulator's clock
//!   ([`sim_kit::Sim::now_ms`]) or obtain tokens before moving it.
//! - Several tokens of one app are valid at once (§2.2 does not say a new
//!   token revokes the old ones); each auth issues a new one.
//! - Tokens are listed by [`Simulator::tokens`] / `GET /_sim/tokens`.
//!
//! # Targets, classes, quotas, deliveries
//!
//! - Every registration id (target_type 2) and alias (5) is valid unless set
//!   invalid ([`Simulator::set_reg_id`], `POST /_sim/regids`, for every
//!   app); an empty one or one with whitespace is always invalid. A tag (6,
//!   broadcast only) has no verdict and is one delivery.
//! - The class of a message: [`MessageClass::Service`] for the categories
//!   IM, ACCOUNT, TODO, DEVICE_REMINDER, ORDER, SUBSCRIPTION;
//!   [`MessageClass::Public`] for NEWS, CONTENT, MARKETING, SOCIAL or no
//!   category.
//! - [`Quotas`] per app (default unlimited; [`Simulator::set_quotas`],
//!   `POST /_sim/quotas`) count per OPPO day, midnight to midnight UTC+8 by
//!   the simulator's clock. Daily totals count delivered targets per class;
//!   a call is refused (33) only once the total is reached, so the call that
//!   crosses it is delivered in full; a batch is refused when any class in
//!   it is used up; refused calls do not count ([`Simulator::usage`]).
//! - [`Quotas::per_device_public`] (§2.5: 2, news apps 5; default off): a
//!   content & marketing message to a device that already got that many
//!   today is answered as usual (code 0, a message id) but not delivered;
//!   with a `call_back_url` it gets a `user_daily_limit` receipt; it does
//!   not count against the daily total.
//! - `app_message_id` (unicast and batch): a message with the same id as an
//!   earlier one of the app to the same target is answered as usual but not
//!   delivered (no count, no receipt).
//! - Every delivered target is one [`Delivery`] ([`Simulator::deliveries`],
//!   `GET /_sim/deliveries`), with the notification's known fields as read.
//!
//! # Receipts
//!
//! A message with `call_back_url` to registration ids (target_type 2; §2.7:
//! "registration-id targets only", so aliases and tags get none) gets
//! receipts, POSTed to that URL by the kit's engine (sim-kit, "Receipts":
//! delay, flush, retries, redelivery, log):
//!
//! - each delivered target queues a `push_arrive` event; each invalid target
//!   of an accepted batch or broadcast a `regid_invalid` event (a unicast
//!   answered 10000 has no message id and sends none); each target stopped
//!   by the per-device cap a `user_daily_limit` event;
//! - [`Simulator::send_receipt`] (`POST /_sim/receipts`) queues any event
//!   type for a unicast `messageId` or broadcast `task_id` on command;
//! - a POST is `Content-Type: application/json`, a JSON array of items
//!   `{"messageId":"..","appId":"..","taskId":"..","registrationIds":"r1,r2",
//!   "eventTime":<ms>,"param":"<call_back_parameter or empty>",
//!   "eventType":".."}`: per URL, the events of one message, task, type and
//!   time are one item (their ids comma-joined, at most
//!   [`Settings::receipt_targets`], default 100, per item; more go in further
//!   POSTs), and all items due for a URL go in one POST. `taskId` is the
//!   broadcast's task id, or the message id for unicasts; `eventTime` is the
//!   simulator's clock when the event was queued, a JSON number.
//!
//! # CONFLICTs and other choices
//!
//! - `auth_token` in the body vs a header (§2.2 CONFLICT): both accepted
//!   while [`Settings::header_token`] is on (default); the form field wins
//!   when both are sent.
//! - `create_time` number vs string (§2.2): [`Settings::create_time`]
//!   (default number).
//! - The timestamp window: "within the last 10 minutes" (§2.2), so by
//!   default a timestamp ahead of the simulator's clock is refused;
//!   [`Settings::future_skew_ms`] allows some skew.
//! - camelCase vs snake_case notification keys (§2.4 CONFLICT): snake_case
//!   is required; with [`Settings::camel_case`] a camelCase key is read where
//!   its snake_case key is absent (default off: camelCase keys are unknown
//!   fields and ignored).
//! - Limits in CONFLICT accept both readings (the wider one): `content`
//!   style 1 up to 200 (vs 50), `click_action_url` up to 2000 (vs 500),
//!   `call_back_parameter` up to 100 (vs 50), `show_ttl` 0..=172800 (vs
//!   21600..=172800 or 0..=12/24 h). The `off_line_ttl` default (3600 vs
//!   86400) does not matter: absent stays absent in the delivery.
//! - `off_line_ttl` over 864000 (10 days) is clamped, as §2.4 says
//!   ([`Delivery::off_line_ttl`]); a negative one is 41.
//! - Broadcast's invalid list is `data."10000"` (§2.6, the only shape
//!   given), omitted when empty.
//! - Which code answers which check where OPPO only names the codes: 40 for
//!   a missing field, 41 for a malformed one, 67 for the classification
//!   rules (including a missing required template), 31 for an unknown
//!   `message_id`, 25 for a non-UTF-8 form, 12 for the method.
//! - Classification rules from unconfirmed sources (§2.5, §11) are per-app
//!   settings, off by default: approved private channels
//!   ([`SimApp::service_channels`]), the strong reminder
//!   ([`SimApp::strong_reminder`], needed for `notify_level` 16), the private
//!   template rule ([`SimApp::template_rule`], [`SimApp::templates`]).
//! - A message without `category` is content & marketing.
//! - `click_action_type` 2 needs an absolute http(s) URL; 5 (intent scheme)
//!   any text.
//! - The per-device cap and `app_message_id` are answered as successes with
//!   no delivery (OPPO filters such messages after accepting them).
//! - The QPS table of §2.8 is not enforced; [`Quotas::per_second`] (default
//!   off) models a limit, and 13 / -2 can be scripted.
//! - No test mode (§2.9: none). Timed display and timed broadcasts
//!   (`show_time_type`, `push_time_type`) are checked but not waited for.
//! - Reset ([`sim_kit::Sim::reset`], `POST /_sim/reset`) keeps apps and
//!   tokens and clears everything else: verdicts, deliveries, sent and stored
//!   messages (their ids become unknown), quotas and counters,
//!   `app_message_id` memory, and sets [`Settings`] back to the start-up
//!   ones ([`SimConfig::settings`]) (and the kit's reset: requests, scripts,
//!   clock, receipt queue and log; receipt settings are kept).

mod control;
mod notification;
mod oppo;
mod receipts;
mod server;

pub use receipts::{OppoReceipts, PendingReceipt, DEFAULT_RECEIPT_TARGETS, MAX_RECEIPT_TARGETS};
pub use sim_kit::{
    http_client, http_client_builder, nodelay, shutdown_signal, ReceiptOutcome, ReceiptPost,
    ReceiptSettings, RecordedRequest, SimClock,
};

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sim_kit::{NoAction, Sim, DAY_MS};

/// `POST /server/v1/auth`: the token exchange.
pub const AUTH_PATH: &str = "/server/v1/auth";
/// One message to one target.
pub const UNICAST_PATH: &str = "/server/v1/message/notification/unicast";
/// Up to [`MAX_BATCH_MESSAGES`] messages, one target each.
pub const UNICAST_BATCH_PATH: &str = "/server/v1/message/notification/unicast_batch";
/// Stores a notification body for [`BROADCAST_PATH`].
pub const SAVE_MESSAGE_PATH: &str = "/server/v1/message/notification/save_message_content";
/// Sends a stored body to up to [`MAX_BROADCAST_TARGETS`] targets.
pub const BROADCAST_PATH: &str = "/server/v1/message/notification/broadcast";

/// At most this many messages in one `unicast_batch` (§2.3).
pub const MAX_BATCH_MESSAGES: usize = 1000;
/// At most this many `;`-joined targets in one `broadcast` (§2.3).
pub const MAX_BROADCAST_TARGETS: usize = 1000;
/// An `auth_token` lives this long from its `create_time` (§2.2).
pub const TOKEN_LIFETIME_MS: i64 = DAY_MS;
/// An auth `timestamp` may be at most this old (§2.2).
pub const TIMESTAMP_WINDOW_MS: i64 = 10 * 60 * 1000;

/// A scripted answer: `Body` is any JSON, answered HTTP 200.
pub type CallAction = sim_kit::CallAction<Value, NoAction>;

/// An app known to the simulator, as registered in the OPUSH console.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimApp {
    /// The AppID: receipts' `appId` and the prefix of message ids.
    pub app_id: String,
    /// The AppKey: `app_key` of the auth call; it identifies the app.
    pub app_key: String,
    /// The MasterSecret the auth `sign` is made with.
    pub master_secret: String,
    /// Approved service & communication ("private") channel ids. Empty
    /// (the default): any `channel_id`, or none, for every category.
    #[serde(default)]
    pub service_channels: Vec<String>,
    /// `notify_level` 16 (strong reminder) was approved for the app.
    #[serde(default)]
    pub strong_reminder: bool,
    /// Which messages must carry `private_msg_template_id`.
    #[serde(default)]
    pub template_rule: TemplateRule,
    /// Private-message template ids of the app. Empty (the default): any id.
    #[serde(default)]
    pub templates: Vec<String>,
}

impl SimApp {
    /// An app with no approved channels, no strong reminder, no template rule.
    pub fn new(
        app_id: impl Into<String>,
        app_key: impl Into<String>,
        master_secret: impl Into<String>,
    ) -> SimApp {
        SimApp {
            app_id: app_id.into(),
            app_key: app_key.into(),
            master_secret: master_secret.into(),
            service_channels: Vec::new(),
            strong_reminder: false,
            template_rule: TemplateRule::Off,
            templates: Vec::new(),
        }
    }
}

impl fmt::Debug for SimApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimApp")
            .field("app_id", &self.app_id)
            .field("app_key", &self.app_key)
            .field("master_secret", &"[redacted]")
            .field("service_channels", &self.service_channels)
            .field("strong_reminder", &self.strong_reminder)
            .field("template_rule", &self.template_rule)
            .field("templates", &self.templates)
            .finish()
    }
}

/// Which messages must carry `private_msg_template_id` (§2.5, §11: the
/// enforcement is unconfirmed, so it is a setting per app).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateRule {
    /// None (the default).
    #[default]
    Off,
    /// Messages with `category` `IM`.
    Im,
    /// Messages of every service & communication category.
    Service,
}

/// OPPO's two message classes (§2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageClass {
    /// Service & communication: `category` IM, ACCOUNT, TODO,
    /// DEVICE_REMINDER, ORDER or SUBSCRIPTION.
    Service,
    /// Content & marketing: `category` NEWS, CONTENT, MARKETING, SOCIAL, or
    /// none (the simulator's choice).
    Public,
}

/// What OPPO thinks of a registration id (or alias). Every one is valid
/// unless set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegIdVerdict {
    Valid,
    /// Uninstalled, unregistered, reflashed, offline 30 days (§2.7).
    Invalid,
}

/// How the auth answer writes `create_time` (§2.2: the doc's example shows a
/// string, clients read a number).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreateTime {
    /// A JSON number of ms (the default).
    #[default]
    Number,
    /// The same number as a JSON string.
    String,
}

/// The readings of the spec's CONFLICTs and guesses the simulator answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// How `create_time` is written.
    pub create_time: CreateTime,
    /// Also take `auth_token` from an HTTP header of that name when the form
    /// has none (§2.2 CONFLICT). Default true.
    pub header_token: bool,
    /// Also read camelCase notification keys (`clickActionType`, ...) where
    /// the snake_case key is absent (§2.4 CONFLICT). Default false.
    pub camel_case: bool,
    /// How far an auth `timestamp` may be ahead of the simulator's clock, ms
    /// (§2.2 says "within the last 10 minutes": default 0).
    pub future_skew_ms: u64,
    /// At most this many registration ids in one receipt item (1..=1000).
    pub receipt_targets: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            create_time: CreateTime::Number,
            header_token: true,
            camel_case: false,
            future_skew_ms: 0,
            receipt_targets: DEFAULT_RECEIPT_TARGETS,
        }
    }
}

impl Settings {
    /// Why the settings cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_RECEIPT_TARGETS).contains(&self.receipt_targets) {
            return Err(format!(
                "receipt_targets must be in 1..={MAX_RECEIPT_TARGETS}"
            ));
        }
        if self.future_skew_ms > TOKEN_LIFETIME_MS as u64 {
            return Err("future_skew_ms must be at most one day".to_owned());
        }
        Ok(())
    }
}

/// An app's limits, per OPPO day (midnight to midnight UTC+8 by the
/// simulator's clock) unless said otherwise. `None` is unlimited (the
/// default for each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// Content & marketing messages delivered (one per target); once
    /// reached, such sends answer 33.
    pub public: Option<u64>,
    /// Service & communication messages delivered; once reached, 33.
    pub service: Option<u64>,
    /// Content & marketing messages one device gets per day (§2.5: 2, news
    /// apps 5); a message past it is not delivered and, with a
    /// `call_back_url`, gets a `user_daily_limit` receipt.
    pub per_device_public: Option<u32>,
    /// Calls per second of the simulator's clock (all paths, auth
    /// included); past it, 55.
    pub per_second: Option<u32>,
}

/// What counted against an app's [`Quotas`] on the current OPPO day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub public: u64,
    pub service: u64,
}

/// One `auth_token` the simulator issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub auth_token: String,
    pub app_key: String,
    /// The simulator's clock when it was issued, ms.
    pub create_time: i64,
    /// Invalidated on command.
    pub invalidated: bool,
}

/// A notification OPPO would deliver: one per delivered target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    /// `unicast`, `unicast_batch` or `broadcast`.
    pub endpoint: String,
    /// The unicast `messageId`, or the stored body's `message_id`.
    pub message_id: String,
    /// The broadcast `task_id`; the message id for unicasts.
    pub task_id: String,
    pub app_key: String,
    /// 2 registration id, 5 alias, 6 tag.
    pub target_type: i64,
    pub target: String,
    pub class: MessageClass,
    pub title: String,
    pub content: String,
    pub category: Option<String>,
    pub channel_id: Option<String>,
    pub notify_level: Option<i64>,
    /// `off_line_ttl` as OPPO applies it (clamped to 864000 s).
    pub off_line_ttl: Option<i64>,
    /// The notification's known fields, by their snake_case names, with
    /// their types (numbers, booleans, strings) as read.
    pub notification: Map<String, Value>,
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

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub apps: Vec<SimApp>,
    /// The settings at start and after every reset.
    pub settings: Settings,
}

/// A scripted OPPO answer: HTTP 200 `{"code":code,"message":message}`.
pub fn error_action(code: i64, message: &str) -> CallAction {
    sim_kit::CallAction::Body(error_body(code, message))
}

/// The body of an OPPO error answer.
pub fn error_body(code: i64, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

/// Lowercase hex SHA-256 of `app_key + timestamp + master_secret` (§2.2).
pub fn sign(app_key: &str, timestamp: &str, master_secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(app_key.as_bytes());
    hasher.update(timestamp.as_bytes());
    hasher.update(master_secret.as_bytes());
    hex::encode(hasher.finalize())
}

/// A running simulator. Clones share the same server; it stops when the last
/// clone is dropped or on `shutdown`. Dereferences to the kit's
/// [`sim_kit::Sim`] for scripting, recording, the clock, receipts and reset.
#[derive(Clone)]
pub struct Simulator {
    sim: Sim<Oppo>,
}

impl Deref for Simulator {
    type Target = Sim<Oppo>;

    fn deref(&self) -> &Sim<Oppo> {
        &self.sim
    }
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        config
            .settings
            .check()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let sim = Sim::start_on(addr, Oppo::new(config)).await?;
        Ok(Simulator { sim })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// Registers an app; replaces an app with the same AppKey.
    pub fn add_app(&self, app: SimApp) {
        self.inner().add_app(app);
    }

    /// Sets the verdict of a registration id or alias (for every app).
    /// Default: valid.
    pub fn set_reg_id(&self, reg_id: &str, verdict: RegIdVerdict) {
        self.inner().set_verdict(reg_id, verdict);
    }

    /// Sets an app's limits (default [`Quotas::default`]: unlimited).
    pub fn set_quotas(&self, app_key: &str, quotas: Quotas) {
        self.inner().quotas.insert(app_key.to_owned(), quotas);
    }

    pub fn quotas(&self, app_key: &str) -> Quotas {
        self.inner()
            .quotas
            .get(app_key)
            .copied()
            .unwrap_or_default()
    }

    /// The app's counts on today's OPPO day (by the simulator's clock).
    pub fn usage(&self, app_key: &str) -> Usage {
        let now = self.now_ms();
        self.inner().usage(now, app_key)
    }

    pub fn settings(&self) -> Settings {
        self.sim.vendor().settings()
    }

    /// Chooses the readings of the CONFLICTs; refused when
    /// [`Settings::check`] fails.
    pub fn set_settings(&self, settings: Settings) -> Result<(), String> {
        settings.check()?;
        self.sim.vendor().set_settings(settings);
        Ok(())
    }

    /// Every delivery so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }

    /// Every token issued (and not dropped by a reset), oldest first.
    pub fn tokens(&self) -> Vec<TokenInfo> {
        self.inner().token_list()
    }

    /// Invalidates every token of `app_key` (every app's when `None`); later
    /// calls with them answer 11. Returns how many were valid.
    pub fn invalidate_tokens(&self, app_key: Option<&str>) -> usize {
        self.inner()
            .invalidate(|token| app_key.is_none_or(|key| token.app_key == key))
    }

    /// Invalidates one token; false when it is unknown or already invalid.
    pub fn invalidate_token(&self, auth_token: &str) -> bool {
        self.inner()
            .invalidate(|token| token.auth_token == auth_token)
            > 0
    }

    /// Queues receipts of `event_type` (`push_arrive`, `regid_invalid`,
    /// `user_daily_limit`, or any text) for a message sent with a
    /// `call_back_url`: `id` is a unicast `messageId` or a broadcast
    /// `task_id`. Targets: `targets`, or by default the message's delivered
    /// ones (its invalid ones for `regid_invalid`; for `user_daily_limit`
    /// those stopped by the per-device cap, else the delivered ones).
    /// Returns how many entries were queued.
    pub fn send_receipt(
        &self,
        id: &str,
        event_type: &str,
        targets: Option<&[&str]>,
    ) -> Result<usize, ReceiptError> {
        let targets = targets.map(|t| t.iter().map(|s| (*s).to_owned()).collect());
        oppo::send_receipt(self.sim.core(), id, event_type, targets)
    }
}

/// OPPO's part of the simulator (the kit's [`sim_kit::Vendor`]).
pub struct Oppo {
    inner: Mutex<Inner>,
    /// [`Settings::receipt_targets`], shared with the receipt format.
    receipt_targets: Arc<AtomicUsize>,
}

impl Oppo {
    fn new(config: SimConfig) -> Oppo {
        let mut inner = Inner::new(config.settings);
        for app in config.apps {
            inner.add_app(app);
        }
        Oppo {
            inner: Mutex::new(inner),
            receipt_targets: Arc::new(AtomicUsize::new(config.settings.receipt_targets)),
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
        self.receipt_targets
            .store(settings.receipt_targets, Ordering::SeqCst);
    }
}

/// An issued token.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) app_key: String,
    pub(crate) create_time: i64,
    pub(crate) invalidated: bool,
    /// Issue order, for listing.
    pub(crate) seq: u64,
}

/// What the simulator keeps of a sent message, for receipts on command.
#[derive(Clone, Debug)]
pub(crate) struct StoredMessage {
    pub(crate) message_id: String,
    pub(crate) task_id: String,
    pub(crate) app_id: String,
    pub(crate) callback: Option<oppo::Callback>,
    pub(crate) delivered: Vec<String>,
    pub(crate) invalid: Vec<String>,
    pub(crate) limited: Vec<String>,
}

/// A body stored by `save_message_content`.
#[derive(Clone, Debug)]
pub(crate) struct SavedMessage {
    pub(crate) app_key: String,
    pub(crate) notification: notification::Notification,
}

pub(crate) struct Inner {
    pub(crate) apps: HashMap<String, SimApp>,
    pub(crate) tokens: HashMap<String, Token>,
    pub(crate) invalid: HashSet<String>,
    pub(crate) deliveries: Vec<Delivery>,
    /// By unicast messageId or broadcast task_id.
    pub(crate) messages: HashMap<String, StoredMessage>,
    pub(crate) saved: HashMap<String, SavedMessage>,
    pub(crate) quotas: HashMap<String, Quotas>,
    /// Per app key: (OPPO day, counts).
    pub(crate) usage: HashMap<String, (i64, Usage)>,
    /// Per (app key, target): (OPPO day, public messages delivered).
    pub(crate) per_device: HashMap<(String, String), (i64, u32)>,
    /// Per app key: (second of the simulator's clock, calls).
    pub(crate) calls: HashMap<String, (i64, u32)>,
    /// (app key, app_message_id, target) already pushed.
    pub(crate) pushed_once: HashSet<(String, String, String)>,
    pub(crate) settings: Settings,
    pub(crate) initial_settings: Settings,
    pub(crate) next_id: u64,
}

impl Inner {
    fn new(settings: Settings) -> Inner {
        Inner {
            apps: HashMap::new(),
            tokens: HashMap::new(),
            invalid: HashSet::new(),
            deliveries: Vec::new(),
            messages: HashMap::new(),
            saved: HashMap::new(),
            quotas: HashMap::new(),
            usage: HashMap::new(),
            per_device: HashMap::new(),
            calls: HashMap::new(),
            pushed_once: HashSet::new(),
            settings,
            initial_settings: settings,
            next_id: 0,
        }
    }

    pub(crate) fn add_app(&mut self, app: SimApp) {
        self.apps.insert(app.app_key.clone(), app);
    }

    pub(crate) fn set_verdict(&mut self, reg_id: &str, verdict: RegIdVerdict) {
        match verdict {
            RegIdVerdict::Valid => self.invalid.remove(reg_id),
            RegIdVerdict::Invalid => self.invalid.insert(reg_id.to_owned()),
        };
    }

    pub(crate) fn usage(&self, now: i64, app_key: &str) -> Usage {
        match self.usage.get(app_key) {
            Some(&(day, usage)) if day == oppo::oppo_day(now) => usage,
            _ => Usage::default(),
        }
    }

    pub(crate) fn token_list(&self) -> Vec<TokenInfo> {
        let mut tokens: Vec<(&String, &Token)> = self.tokens.iter().collect();
        tokens.sort_by_key(|(_, token)| token.seq);
        tokens
            .into_iter()
            .map(|(auth_token, token)| TokenInfo {
                auth_token: auth_token.clone(),
                app_key: token.app_key.clone(),
                create_time: token.create_time,
                invalidated: token.invalidated,
            })
            .collect()
    }

    pub(crate) fn invalidate(&mut self, mut which: impl FnMut(&TokenInfo) -> bool) -> usize {
        let mut count = 0;
        for (auth_token, token) in &mut self.tokens {
            let info = TokenInfo {
                auth_token: auth_token.clone(),
                app_key: token.app_key.clone(),
                create_time: token.create_time,
                invalidated: token.invalidated,
            };
            if !token.invalidated && which(&info) {
                token.invalidated = true;
                count += 1;
            }
        }
        count
    }

    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// OPPO's part of [`sim_kit::Sim::reset`]: keeps apps and tokens.
    pub(crate) fn reset(&mut self) {
        self.invalid.clear();
        self.deliveries.clear();
        self.messages.clear();
        self.saved.clear();
        self.quotas.clear();
        self.usage.clear();
        self.per_device.clear();
        self.calls.clear();
        self.pushed_once.clear();
        self.settings = self.initial_settings;
    }
}
