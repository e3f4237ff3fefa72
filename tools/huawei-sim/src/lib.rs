//! A strict simulator of Huawei Push Kit's server API for Android and
//! HarmonyOS up to 4.x (`POST /oauth2/v3/token`, `POST
//! /v1/{appId}/messages:send`), written from `docs/VENDORS_API.md` §4 (and
//! the Huawei rows of §7, §8, §11 and §16) on its own reading. It shares no
//! code with any Huawei client, so a misreading of the API is not shared by
//! both sides. The HarmonyOS 5+ v3 API (§14) is not simulated.
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the
//! `huawei-sim` binary (default 127.0.0.1:9704) and drive it through the
//! `/_sim/*` control endpoints (listed in `src/control.rs`). Both the OAuth
//! host and the push host of a client point at the one port. It stands on
//! `sim-kit` (`tools/sim-kit`): recording, scripted answers ([`CallAction`]),
//! the settable clock ([`SimClock`]), the receipt POSTs and the common
//! control endpoints behave as that crate's doc says; the [`Simulator`]
//! dereferences to the kit's [`sim_kit::Sim`] for them (`script_next`,
//! `requests`, `set_clock`, `flush_receipts`, `reset`, ...). This doc is
//! Huawei's part.
//!
//! # Token endpoint
//!
//! `POST /oauth2/v3/token`, a form (`application/x-www-form-urlencoded`)
//! with `grant_type=client_credentials`, `client_id` (the app id) and
//! `client_secret`. Success is HTTP 200 `{"access_token":"..","expires_in":
//! 3600,"token_type":"Bearer"}` (`Content-Type:
//! application/json;charset=UTF-8`); the token is base64 text and every `/`
//! of the body is written `\/`, as Huawei does (§4.1). A token expires
//! [`Settings::token_ttl_secs`] after it was issued by the simulator's
//! clock; several tokens of an app are valid at once; invalidated on
//! command ([`Simulator::invalidate_access_tokens`],
//! [`Simulator::invalidate_access_token`]).
//!
//! Errors are `{"error":E,"sub_error":S,"error_description":".."}`. The spec
//! gives no error shape or codes; the shape and 1101/12304 come from a
//! third-party page about Huawei's account OAuth, the rest is the
//! simulator's (all "sim"), first failing check first:
//!
//! | HTTP | error | sub_error | when |
//! |------|-------|-----------|------|
//! | 405  | (text) | | a method other than POST |
//! | 400  | 1102 | 0 | `Content-Type` not a form; a malformed form; a field given twice; `grant_type`, `client_id` or `client_secret` missing or empty; `grant_type` not `client_credentials` |
//! | 400  | 1101 | 20158 | `client_id` not a registered app (`invalid client_id`) |
//! | 400  | 1101 | 12304 | the wrong `client_secret` (`invalid client_secret`) |
//! | 503  | 1203 | 0 | the app got [`Settings::token_limit`] tokens (1000) in the last [`Settings::token_window_secs`] (300 s, a sliding window by the simulator's clock, §4.1, confirmed) |
//!
//! The spec does not say whether Huawei tells a wrong client id from a wrong
//! secret; the simulator does (by `sub_error` and the description). Refused
//! requests are not counted in the window.
//!
//! # Send
//!
//! `POST /v1/{appId}/messages:send`, `Authorization: Bearer <token>`, a JSON
//! body `{"validate_only":bool,"message":{...}}`. Answers are
//! `{"code":"<8 digits>","msg":"..","requestId":"<digits>"}` (`code` a string),
//! with the HTTP status [`Settings::http_status_of`] gives the code (200
//! for 80000000, 80100000, 80300007; 401 for 80200001/3/5; 500 for
//! 81000001; 400 for the rest; each replaceable, §16 guess 1). The first
//! failing check answers, in this order (§16 guess 11, the order is the
//! simulator's):
//!
//! 1. the path (`/v1/<id>/messages:send`, else HTTP 404; `/v2/{projectId}`
//!    is not simulated) and the method (405);
//! 2. the bearer token: `Authorization` exactly `Bearer <token>`, a token
//!    the token endpoint issued for this app id, not invalidated: else
//!    80200001 (a token of another app, or an unknown app id, too); expired
//!    by the simulator's clock: 80200003;
//! 3. the app's Push Kit permission ([`SimApp::push_enabled`]): 80300002;
//! 4. `Content-Type` `application/json` (optional `charset=UTF-8`), a JSON
//!    object, `validate_only` a boolean, `message` an object: else 80100001;
//! 5. the body size: the compact JSON of the body without `message.token`
//!    over [`Settings::body_limit`] (4096, §4.2 "excluding tokens"): 80300008;
//! 6. the message fields (below): 80100003, 80300010, 80100013;
//! 7. the category right, when [`Settings::unapproved_category`] is
//!    `Reject`: 80300011;
//! 8. `android.receipt_id` not a receipt configuration of the app: 80300013;
//! 9. `validate_only: true` answers 80000000 here: nothing delivered, counted
//!    or receipted, token verdicts not consulted;
//! 10. flow control: HTTP 503 (plain text `Service Unavailable`) when the
//!     app's calls this second reach [`SimApp::qps`], or for a test message
//!     when the app's test messages today reached [`Settings::test_daily_limit`];
//! 11. a misconfigured app ([`SimApp::misconfigured`]): 80300007;
//! 12. the token verdicts: every token illegal 80300007; some 80100000 with
//!     `msg` a JSON *string* `{"success":n,"failure":m,"illegal_tokens":[..]}`
//!     (tokens in request order; flat, not nested by reason); else 80000000
//!     `Success`.
//!
//! Message fields (types are strict: a number is not a string, `"1"` is not
//! an integer; `null` counts as absent; unknown fields, `apns`, `webpush`
//! are ignored; every refusal is 80100003 `Illegal payload, <why>` unless
//! said):
//!
//! - exactly one of `token` / `topic` / `condition`; `topic` and `condition`
//!   are not simulated (80100003); `token` an array of 1..=1000 non-empty
//!   strings, more than 1000: 80300010;
//! - `data` and `android.data` strings (`android.data` wins);
//!   `notification` an object of strings `title`, `body`, `image`;
//! - `android.collapse_key` an integer -1 or 0..=100, else 80100013;
//!   `urgency` `HIGH`/`NORMAL`; `category` one of [`CATEGORIES`];
//!   `ttl` a string `"<seconds>s"` (integer, or up to 9 decimals), at most
//!   `"1296000s"` ([`Settings::ttl_over_max`]); `bi_tag`, `receipt_id`
//!   strings; `target_user_type` 0 or 1;
//! - a message with `notification` or `android.notification` is a
//!   notification: it needs `android.notification` with a `click_action`,
//!   and a non-empty title and body (`android.notification`'s, else
//!   `notification`'s); `category` `PLAY_VOICE` is refused on it. Otherwise it
//!   is a data message and needs a non-empty `data`;
//! - `click_action`: `type` 1 (needs a non-empty `intent` or `action`), 2
//!   (needs `url`, an `https://` URL with a host, no whitespace) or 3;
//! - `android.notification`: `importance` `LOW`/`NORMAL`/`HIGH` (§4.2
//!   CONFLICT: both readings accepted; HIGH is recorded as sent);
//!   `notify_id` a 32-bit integer; `tag`, `group`, `image`, `icon`, `color`,
//!   `sound`, `channel_id`, `when`, `big_title`, `big_body`,
//!   `title_loc_key`, `body_loc_key` strings; `profile_id` a string of at
//!   most 64 characters; `visibility` one of `VISIBILITY_UNSPECIFIED`,
//!   `PRIVATE`, `PUBLIC`, `SECRET`; `style` 0, 1 or 3; `inbox_content` at
//!   most 5 strings; `buttons` at most 3 objects; `vibrate_config`,
//!   `title_loc_args`, `body_loc_args` arrays of strings; `foreground_show`,
//!   `default_sound`, `use_default_vibrate`, `use_default_light`,
//!   `auto_cancel` booleans; `auto_clear` a non-negative integer;
//!   `light_settings` an object; `badge` an object with a non-empty
//!   `class`, `add_num` 1..=99, `set_num` 0..=99.
//!
//! # Result codes the simulator returns
//!
//! "vendor" = the code and its meaning are in VENDORS_API.md §4.3; "sim" =
//! Huawei documents the code but not which check answers it (or its text),
//! so the split is the simulator's; "vendor/sim" = Huawei names the code and
//! the rule, the simulator chose how to read the rule. All `msg` texts are
//! the simulator's except `Success` and `All the tokens are invalid`.
//!
//! | code     | origin | when |
//! |----------|--------|------|
//! | 80000000 | vendor | success (also `validate_only`) |
//! | 80100000 | vendor | some tokens illegal ([`TokenVerdict::Illegal`]): `msg` is the JSON string above |
//! | 80100001 | sim    | the envelope (check 4) |
//! | 80100003 | vendor/sim | a message field (check 6) |
//! | 80100013 | vendor | `android.collapse_key` not -1 or 0..=100, or not an integer |
//! | 80200001 | vendor | no, malformed, unknown, invalidated or another app's bearer token |
//! | 80200003 | vendor | the bearer token expired |
//! | 80300002 | vendor | the app has Push Kit disabled ([`SimApp::push_enabled`] false) |
//! | 80300007 | vendor | every token illegal; every send of a misconfigured app ([`SimApp::misconfigured`], §4.3's warning) |
//! | 80300008 | vendor | the body without tokens over 4096 bytes |
//! | 80300010 | vendor | more than 1000 tokens |
//! | 80300011 | vendor/sim | with [`UnapprovedCategory::Reject`]: a notification's `category` other than MARKETING from an app without the self-classification right |
//! | 80300013 | vendor/sim | `android.receipt_id` names no receipt configuration of the app |
//!
//! Codes Huawei has and the simulator only answers when scripted
//! ([`error_action`] builds the body, with the HTTP status of the code):
//! 80100002, 80100004 (TTL earlier than now), 80100016 (sensitive content),
//! 80100017 (too many topic tasks), 80200005 (JWT expired), 80600003 (OAuth
//! service failed), 81000001 (internal error), the 8200000x topic codes, and
//! any other text. [`oauth_error_action`] scripts token-endpoint errors.
//!
//! HTTP-level answers (not Huawei result codes):
//!
//! | HTTP | when |
//! |------|------|
//! | 404  | any other path (plain text) |
//! | 405  | a known path with a method other than POST |
//! | 413  | body over 4 MiB (the kit's limit) |
//! | 503  | flow control (plain text; sim: Huawei documents the status, not the body) |
//! | any  | scripted [`sim_kit::CallAction::HttpStatus`] |
//!
//! # Tokens, categories, caps, deliveries
//!
//! - Every push token is valid unless set ([`Simulator::set_token`], for
//!   every app): [`TokenVerdict::Illegal`] is refused at send,
//!   [`TokenVerdict::Status`] is accepted and later reported with that
//!   receipt status (2, 5, 6, 10, ...). A token given twice is delivered
//!   twice.
//! - The effective category (§4.4, §11) of a notification is its `category`
//!   when the app has the self-classification right
//!   ([`SimApp::self_classification`], default true for [`SimApp::new`]),
//!   else MARKETING; without a `category` it is MARKETING. Data messages
//!   have none. An unapproved category is silently MARKETING by default
//!   (§16 guess 4; [`UnapprovedCategory::Reject`] refuses it with 80300011).
//! - Per app and token per Huawei day (midnight to midnight UTC+8 by the
//!   simulator's clock, a choice): at most [`SimApp::marketing_daily_cap`]
//!   MARKETING notifications (default 2; news apps 5) and
//!   [`SimApp::device_daily_cap`] messages of any kind (default 3000). A
//!   target over a cap is still accepted (the answer does not change) with
//!   status 102 and is not counted. Test messages (`target_user_type` 1) are
//!   exempt and counted per accepted target against
//!   [`Settings::test_daily_limit`] per app per day (500); the call that
//!   crosses it is accepted, later ones get 503.
//! - Every accepted target is one [`Delivery`] ([`Simulator::deliveries`],
//!   `GET /_sim/deliveries`) with its `status` (0 delivered, 102, or the
//!   verdict's) and its `effective_category`. Illegal tokens and
//!   `validate_only` calls make none.
//!
//! # Receipts
//!
//! An app's receipt configurations ([`ReceiptConfig`], as set in AppGallery
//! Connect: id, URL, callback user name and secret) are registered with the
//! app. A message uses the one its `android.receipt_id` names, else the app's
//! default one (`default: true`, a choice), else none. Each accepted target
//! queues one V1 item `{"token","biTag","status","timestamp","appid",
//! "requestId"}` (`biTag` left out without `bi_tag`; `timestamp` the
//! simulator's clock when queued; `status` as its delivery's). The kit's
//! engine sends them (sim-kit, "Receipts": delay, flush, retries,
//! redelivery, log) as `POST <url>` with `Content-Type: application/json`
//! and body `{"statuses":[...]}`, at most [`Settings::receipt_batch`] items
//! per POST (§4.6 CONFLICT: 100 by default, 1000 the other reading; items
//! of several messages to one URL share POSTs).
//!
//! When the configuration has a secret, each POST attempt carries
//! `X-HUAWEI-CALLBACK-ID: timestamp=<ms>;nonce=<uuid>;value=<base64(
//! HmacSHA256(secret, timestamp+nonce+username))>` ([`callback_value`]),
//! `timestamp` being the simulator's clock at the attempt and the nonce
//! fresh each attempt; without a secret no header is sent. The kit's engine
//! cannot add a header, so each entry is queued for this simulator's own
//! relay, `POST /_sim/receipt-relay?app=..&receipt=..&to=<receiver>`
//! ([`RELAY_PATH`]), which signs and forwards the body and answers with the
//! receiver's status (502 when the receiver does not answer within 4 s):
//! the receipt log's `url` is that relay URL, [`PendingReceipt::callback_url`]
//! the receiver. Receipts still queued at shutdown are dropped (the relay
//! stops with the server). http and https receiver URLs are accepted.
//!
//! [`Simulator::send_receipt`] (`POST /_sim/receipts`) queues receipts of
//! any status (2, 5, 6, 10, 14, 102, 201, ...) for a message by its
//! `requestId`, for given tokens or all its accepted targets.
//!
//! # Other choices
//!
//! - The app id is the OAuth client id (Huawei's Android apps share them).
//! - The token endpoint's path is v3 only (`/oauth2/v2/token`: 404).
//! - `requestId` is the simulator's clock in ms followed by 7 digits.
//! - No per-message QPS value is known (§16 guess 6): [`SimApp::qps`] is off
//!   by default.
//! - Reset ([`sim_kit::Sim::reset`], `POST /_sim/reset`) keeps apps and the
//!   access tokens already issued (clients cache them) and clears everything
//!   else: token verdicts, token windows, call and daily counters,
//!   deliveries, messages (their ids become unknown to `send_receipt`), and
//!   sets [`Settings`] back to default (and the kit's reset: requests,
//!   scripts, clock, receipt queue and log; receipt settings are kept).

mod control;
mod oauth;
mod receipts;
mod send;
mod server;

pub use receipts::{callback_value, HuaweiReceipts, PendingReceipt, CALLBACK_HEADER, RELAY_PATH};
pub use sim_kit::{
    http_client, http_client_builder, nodelay, shutdown_signal, ReceiptOutcome, ReceiptPost,
    ReceiptSettings, RecordedRequest, SimClock,
};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sim_kit::Sim;

/// The OAuth 2.0 token path (§4.1).
pub const TOKEN_PATH: &str = "/oauth2/v3/token";

/// The send path of an app: `/v1/{appId}/messages:send` (§4.2).
pub fn send_path(app_id: &str) -> String {
    format!("/v1/{app_id}/messages:send")
}

/// At most this many tokens in `message.token` (§4.2); more answer 80300010.
pub const MAX_TOKENS: usize = 1000;

/// The categories of §4.4 (`SYSTEM_REMINDER` is an unconfirmed Aliyun addition,
/// accepted as well).
pub const CATEGORIES: [&str; 14] = [
    "IM",
    "VOIP",
    "SUBSCRIPTION",
    "TRAVEL",
    "HEALTH",
    "WORK",
    "ACCOUNT",
    "EXPRESS",
    "FINANCE",
    "DEVICE_REMINDER",
    "MAIL",
    "PLAY_VOICE",
    "MARKETING",
    "SYSTEM_REMINDER",
];

/// A scripted answer: `Body` is any JSON answered HTTP 200; `Vendor` is a
/// Huawei-shaped error ([`error_action`], [`oauth_error_action`]).
pub type CallAction = sim_kit::CallAction<Value, HuaweiAction>;

/// Huawei's own scripted answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HuaweiAction {
    /// `{"code":code,"msg":msg,"requestId":".."}` with the HTTP status the
    /// settings give that code ([`Settings::http_status_of`]), or `status`.
    Error {
        code: String,
        msg: String,
        status: Option<u16>,
    },
    /// The token endpoint's error `{"error":..,"sub_error":..,
    /// "error_description":..}` with that HTTP status.
    OAuthError {
        status: u16,
        error: i64,
        sub_error: i64,
        description: String,
    },
}

/// A scripted Push Kit answer with any documented (or undocumented) code:
/// `{"code":code,"msg":msg,"requestId":".."}`, HTTP status by the code
/// ([`Settings::http_status_of`]).
pub fn error_action(code: &str, msg: &str) -> CallAction {
    sim_kit::CallAction::Vendor(HuaweiAction::Error {
        code: code.to_owned(),
        msg: msg.to_owned(),
        status: None,
    })
}

/// A scripted token-endpoint error.
pub fn oauth_error_action(
    status: u16,
    error: i64,
    sub_error: i64,
    description: &str,
) -> CallAction {
    sim_kit::CallAction::Vendor(HuaweiAction::OAuthError {
        status,
        error,
        sub_error,
        description: description.to_owned(),
    })
}

/// A receipt configuration of an app, as set in AppGallery Connect (§4.6).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptConfig {
    /// The id `android.receipt_id` names.
    pub id: String,
    /// Where the receipts are POSTed (http or https).
    pub url: String,
    /// The callback user name signed into `X-HUAWEI-CALLBACK-ID`.
    #[serde(default)]
    pub username: String,
    /// The callback secret; without one (the default) the header is not sent.
    #[serde(default)]
    pub secret: Option<String>,
    /// Used for messages without `receipt_id`.
    #[serde(default)]
    pub default: bool,
}

impl ReceiptConfig {
    /// A configuration with no user name and no secret, not the default.
    pub fn new(id: impl Into<String>, url: impl Into<String>) -> ReceiptConfig {
        ReceiptConfig {
            id: id.into(),
            url: url.into(),
            username: String::new(),
            secret: None,
            default: false,
        }
    }

    /// With a callback user name and secret.
    pub fn signed(mut self, username: &str, secret: &str) -> ReceiptConfig {
        self.username = username.to_owned();
        self.secret = Some(secret.to_owned());
        self
    }

    /// Used for messages that carry no `receipt_id`.
    pub fn as_default(mut self) -> ReceiptConfig {
        self.default = true;
        self
    }
}

impl fmt::Debug for ReceiptConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptConfig")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("default", &self.default)
            .finish()
    }
}

fn yes() -> bool {
    true
}

fn two() -> Option<u32> {
    Some(2)
}

fn three_thousand() -> Option<u32> {
    Some(3000)
}

/// An app known to the simulator, as registered in AppGallery Connect.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimApp {
    /// The app id = OAuth 2.0 client id (`client_id`, `/v1/{appId}/...`).
    pub app_id: String,
    /// The OAuth 2.0 client secret.
    pub client_secret: String,
    /// Push Kit enabled for the app; false answers 80300002.
    #[serde(default = "yes")]
    pub push_enabled: bool,
    /// A misconfigured app (wrong package or app id behind it): every send
    /// answers 80300007, as §4.3 warns.
    #[serde(default)]
    pub misconfigured: bool,
    /// The self-classification right (§4.4); without it notifications count
    /// as MARKETING (or are refused, [`Settings::unapproved_category`]).
    #[serde(default = "yes")]
    pub self_classification: bool,
    /// MARKETING notifications per token per day (2, news apps 5; `None`
    /// unlimited). Beyond it a target is accepted with status 102.
    #[serde(default = "two")]
    pub marketing_daily_cap: Option<u32>,
    /// Messages per token per day, all categories (3000; `None` unlimited).
    /// Beyond it a target is accepted with status 102.
    #[serde(default = "three_thousand")]
    pub device_daily_cap: Option<u32>,
    /// Send calls per second (by the simulator's clock) before HTTP 503;
    /// `None` (the default) unlimited.
    #[serde(default)]
    pub qps: Option<u32>,
    /// Receipt configurations.
    #[serde(default)]
    pub receipts: Vec<ReceiptConfig>,
}

impl SimApp {
    /// An app with Push Kit enabled, the self-classification right, the
    /// default caps and no receipt configuration.
    pub fn new(app_id: impl Into<String>, client_secret: impl Into<String>) -> SimApp {
        SimApp {
            app_id: app_id.into(),
            client_secret: client_secret.into(),
            push_enabled: true,
            misconfigured: false,
            self_classification: true,
            marketing_daily_cap: two(),
            device_daily_cap: three_thousand(),
            qps: None,
            receipts: Vec::new(),
        }
    }

    /// With a receipt configuration added.
    pub fn with_receipts(mut self, config: ReceiptConfig) -> SimApp {
        self.receipts.push(config);
        self
    }
}

impl fmt::Debug for SimApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimApp")
            .field("app_id", &self.app_id)
            .field("client_secret", &"[redacted]")
            .field("push_enabled", &self.push_enabled)
            .field("misconfigured", &self.misconfigured)
            .field("self_classification", &self.self_classification)
            .field("marketing_daily_cap", &self.marketing_daily_cap)
            .field("device_daily_cap", &self.device_daily_cap)
            .field("qps", &self.qps)
            .field("receipts", &self.receipts)
            .finish()
    }
}

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub apps: Vec<SimApp>,
}

/// What Huawei thinks of a push token (for every app). Every token is valid
/// unless set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenVerdict {
    /// Delivered: receipt status 0.
    Valid,
    /// Refused at send: listed in `illegal_tokens` (80100000), or 80300007
    /// when every token is.
    Illegal,
    /// Accepted at send, then reported with this receipt status (2 app not
    /// installed, 5 token not present, 6 notifications off, 10 inactive, ...).
    Status(u32),
}

/// What a notification without the right category becomes (§16 guess 4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnapprovedCategory {
    /// Silently MARKETING (the default; the doc implies it).
    #[default]
    Marketing,
    /// Refused with 80300011.
    Reject,
}

/// What an `android.ttl` above 1296000 s gets (§16 guess 10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TtlOverMax {
    /// Refused with 80100003 (the default).
    #[default]
    Reject,
    /// Accepted, recorded as 1296000 s.
    Clamp,
}

/// The simulator's readings of what the spec leaves open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Receipt items per POST, 1..=1000 (§4.6 CONFLICT: 100 current doc,
    /// 1000 archived doc; default 100).
    pub receipt_batch: usize,
    /// Bytes of the body without `message.token` (compact JSON) before
    /// 80300008 (4096).
    pub body_limit: usize,
    pub ttl_over_max: TtlOverMax,
    pub unapproved_category: UnapprovedCategory,
    /// `expires_in` of access tokens (3600).
    pub token_ttl_secs: u64,
    /// Access tokens per app per window (1000 per 300 s).
    pub token_limit: u32,
    pub token_window_secs: u64,
    /// `target_user_type` 1 messages per app per day (500).
    pub test_daily_limit: u32,
    /// HTTP status per result code, replacing the defaults of
    /// [`Settings::http_status_of`] (§16 guess 1).
    pub http_status: BTreeMap<String, u16>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            receipt_batch: 100,
            body_limit: 4096,
            ttl_over_max: TtlOverMax::Reject,
            unapproved_category: UnapprovedCategory::Marketing,
            token_ttl_secs: 3600,
            token_limit: 1000,
            token_window_secs: 300,
            test_daily_limit: 500,
            http_status: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// The HTTP status a result code is answered with: the override, else
    /// 200 for 80000000, 80100000 and 80300007, 401 for 80200001, 80200003
    /// and 80200005, 500 for 81000001, 400 for every other code.
    pub fn http_status_of(&self, code: &str) -> u16 {
        if let Some(&status) = self.http_status.get(code) {
            return status;
        }
        match code {
            "80000000" | "80100000" | "80300007" => 200,
            "80200001" | "80200003" | "80200005" => 401,
            "81000001" => 500,
            _ => 400,
        }
    }

    /// Why the settings cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.receipt_batch) {
            return Err("receipt_batch must be 1..=1000".to_owned());
        }
        if self.token_ttl_secs == 0 || self.token_window_secs == 0 {
            return Err("token_ttl_secs and token_window_secs must be positive".to_owned());
        }
        if let Some((code, status)) = self
            .http_status
            .iter()
            .find(|(_, s)| !(100..=999).contains(*s))
        {
            return Err(format!(
                "http_status of {code}: {status} is not an HTTP status"
            ));
        }
        Ok(())
    }
}

/// One accepted target of one message: what Huawei would deliver (or report
/// with another status).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    pub request_id: String,
    pub app_id: String,
    pub token: String,
    /// 0 delivered; 102 frequency control (a daily cap); or the token's
    /// [`TokenVerdict::Status`].
    pub status: u32,
    /// `android.category` as sent.
    pub category: Option<String>,
    /// The category the message counts as (§4.4): the sent one with the
    /// self-classification right, else MARKETING; `None` for data messages.
    pub effective_category: Option<String>,
    pub importance: Option<String>,
    /// A notification (else a data message).
    pub notification: bool,
    /// Effective title and body (`android.notification` over
    /// `message.notification`).
    pub title: Option<String>,
    pub body: Option<String>,
    pub click_action: Option<Value>,
    pub notify_id: Option<i64>,
    pub tag: Option<String>,
    pub badge: Option<Value>,
    /// Effective `data` (`android.data` over `message.data`).
    pub data: Option<String>,
    /// `android.ttl` in seconds (clamped when [`TtlOverMax::Clamp`]).
    pub ttl_secs: Option<f64>,
    pub collapse_key: Option<i64>,
    pub urgency: Option<String>,
    pub bi_tag: Option<String>,
    pub receipt_id: Option<String>,
    /// 1 for a test message.
    pub target_user_type: i64,
    /// The whole `message` object as received.
    pub message: Value,
}

/// An app's counters on the simulator's current day (UTC+8) and token window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Access tokens issued within the current window.
    pub tokens_in_window: u32,
    /// Test messages (`target_user_type` 1) today.
    pub test_messages_today: u32,
}

/// A push token's counters today for one app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceUsage {
    /// Messages counted today (delivered or not; test messages excluded).
    pub messages: u32,
    /// Of which MARKETING notifications.
    pub marketing: u32,
}

/// A command the simulator cannot carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimError(pub String);

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SimError {}

/// A running simulator. Clones share the same server; it stops when the last
/// clone is dropped or on `shutdown`. Dereferences to the kit's
/// [`sim_kit::Sim`] for scripting, recording, the clock, receipts and reset.
#[derive(Clone)]
pub struct Simulator {
    sim: Sim<Huawei>,
}

impl Deref for Simulator {
    type Target = Sim<Huawei>;

    fn deref(&self) -> &Sim<Huawei> {
        &self.sim
    }
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let sim = Sim::start_on(addr, Huawei::new(config)).await?;
        sim.vendor().lock().base_url = sim.base_url();
        Ok(Simulator { sim })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// Registers an app; replaces an app with the same id (its access tokens
    /// stay valid).
    pub fn add_app(&self, app: SimApp) {
        self.inner().add_app(app);
    }

    /// The app as registered.
    pub fn app(&self, app_id: &str) -> Option<SimApp> {
        self.inner().apps.get(app_id).cloned()
    }

    /// Sets the verdict of a push token (for every app). Default: valid.
    pub fn set_token(&self, token: &str, verdict: TokenVerdict) {
        self.inner().set_verdict(token, verdict);
    }

    /// Issues an access token for an app as the token endpoint would
    /// (counted in the app's window; the limit is not applied).
    pub fn issue_access_token(&self, app_id: &str) -> Result<String, SimError> {
        let now = self.now_ms();
        let mut inner = self.inner();
        if !inner.apps.contains_key(app_id) {
            return Err(SimError(format!("unknown app {app_id:?}")));
        }
        Ok(inner.issue(app_id, now))
    }

    /// Invalidates every access token of an app (they then answer
    /// 80200001); returns how many were valid.
    pub fn invalidate_access_tokens(&self, app_id: &str) -> usize {
        self.inner().invalidate_app(app_id)
    }

    /// Invalidates one access token; false when it is unknown.
    pub fn invalidate_access_token(&self, access_token: &str) -> bool {
        self.inner().invalidate_token(access_token)
    }

    /// The app's counters now (by the simulator's clock).
    pub fn usage(&self, app_id: &str) -> Usage {
        let now = self.now_ms();
        self.inner().usage(now, app_id)
    }

    /// A push token's counters today for an app.
    pub fn device_usage(&self, app_id: &str, token: &str) -> DeviceUsage {
        let now = self.now_ms();
        self.inner().device_usage(now, app_id, token)
    }

    pub fn settings(&self) -> Settings {
        self.sim.vendor().settings()
    }

    /// Replaces the settings (default [`Settings::default`]).
    pub fn set_settings(&self, settings: Settings) -> Result<(), SimError> {
        self.sim.vendor().set_settings(settings).map_err(SimError)
    }

    /// Every accepted target so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }

    /// Queues receipts with `status` for a message (by its `requestId`) that
    /// has a receipt configuration: for `tokens`, or by default every target
    /// it accepted. Returns how many were queued.
    pub fn send_receipt(
        &self,
        request_id: &str,
        status: u32,
        tokens: Option<&[&str]>,
    ) -> Result<usize, SimError> {
        let tokens = tokens.map(|t| t.iter().map(|s| (*s).to_owned()).collect());
        receipts::send_on_command(self.sim.core(), request_id, status, tokens)
    }
}

/// Huawei's part of the simulator (the kit's [`sim_kit::Vendor`]).
pub struct Huawei {
    inner: Mutex<Inner>,
    /// [`Settings::receipt_batch`], shared with the receipt format.
    receipt_batch: Arc<AtomicUsize>,
}

impl Huawei {
    fn new(config: SimConfig) -> Huawei {
        let mut inner = Inner::default();
        for app in config.apps {
            inner.add_app(app);
        }
        let batch = inner.settings.receipt_batch;
        Huawei {
            inner: Mutex::new(inner),
            receipt_batch: Arc::new(AtomicUsize::new(batch)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn settings(&self) -> Settings {
        self.lock().settings.clone()
    }

    pub(crate) fn set_settings(&self, settings: Settings) -> Result<(), String> {
        settings.check()?;
        self.receipt_batch
            .store(settings.receipt_batch, Ordering::SeqCst);
        self.lock().settings = settings;
        Ok(())
    }
}

/// An issued access token.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub(crate) app_id: String,
    pub(crate) expires_ms: i64,
    pub(crate) revoked: bool,
}

/// What the simulator keeps of an accepted message, for receipts on command.
#[derive(Clone, Debug)]
pub(crate) struct StoredMessage {
    pub(crate) app_id: String,
    pub(crate) receipt: Option<ReceiptConfig>,
    pub(crate) bi_tag: Option<String>,
    pub(crate) accepted: Vec<String>,
}

/// A Huawei day: days since the epoch from midnight UTC+8 (a choice).
pub(crate) fn huawei_day(now_ms: i64) -> i64 {
    sim_kit::day_of(now_ms, sim_kit::UTC8_MS)
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) apps: HashMap<String, SimApp>,
    pub(crate) verdicts: HashMap<String, TokenVerdict>,
    pub(crate) access_tokens: HashMap<String, AccessToken>,
    /// Per app: when its access tokens of the window were issued.
    pub(crate) issued: HashMap<String, VecDeque<i64>>,
    /// Per app: (second, calls that second).
    pub(crate) calls: HashMap<String, (i64, u32)>,
    /// Per app: (day, test messages that day).
    pub(crate) tests: HashMap<String, (i64, u32)>,
    /// Per (app, token): (day, counters that day).
    pub(crate) devices: HashMap<(String, String), (i64, DeviceUsage)>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) messages: HashMap<String, StoredMessage>,
    pub(crate) settings: Settings,
    pub(crate) next_request: u64,
    /// The simulator's own base URL (the receipt relay is on it).
    pub(crate) base_url: String,
}

impl Inner {
    pub(crate) fn add_app(&mut self, app: SimApp) {
        self.apps.insert(app.app_id.clone(), app);
    }

    pub(crate) fn set_verdict(&mut self, token: &str, verdict: TokenVerdict) {
        match verdict {
            TokenVerdict::Valid => self.verdicts.remove(token),
            other => self.verdicts.insert(token.to_owned(), other),
        };
    }

    pub(crate) fn verdict(&self, token: &str) -> TokenVerdict {
        self.verdicts
            .get(token)
            .copied()
            .unwrap_or(TokenVerdict::Valid)
    }

    /// Issues a fresh access token for `app_id` at `now`.
    pub(crate) fn issue(&mut self, app_id: &str, now: i64) -> String {
        let token = oauth::new_access_token();
        let ttl_ms = i64::try_from(self.settings.token_ttl_secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000);
        self.access_tokens.insert(
            token.clone(),
            AccessToken {
                app_id: app_id.to_owned(),
                expires_ms: now.saturating_add(ttl_ms),
                revoked: false,
            },
        );
        self.issued
            .entry(app_id.to_owned())
            .or_default()
            .push_back(now);
        token
    }

    /// Access tokens issued for `app_id` in the window ending at `now`
    /// (older entries are forgotten).
    pub(crate) fn tokens_in_window(&mut self, app_id: &str, now: i64) -> u32 {
        let window_ms = i64::try_from(self.settings.token_window_secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000);
        let Some(times) = self.issued.get_mut(app_id) else {
            return 0;
        };
        times.retain(|&at| at > now.saturating_sub(window_ms));
        u32::try_from(times.len()).unwrap_or(u32::MAX)
    }

    pub(crate) fn invalidate_app(&mut self, app_id: &str) -> usize {
        let mut count = 0;
        for token in self.access_tokens.values_mut() {
            if token.app_id == app_id && !token.revoked {
                token.revoked = true;
                count += 1;
            }
        }
        count
    }

    pub(crate) fn invalidate_token(&mut self, access_token: &str) -> bool {
        match self.access_tokens.get_mut(access_token) {
            Some(token) => {
                token.revoked = true;
                true
            }
            None => false,
        }
    }

    pub(crate) fn tests_today(&self, now: i64, app_id: &str) -> u32 {
        match self.tests.get(app_id) {
            Some(&(day, count)) if day == huawei_day(now) => count,
            _ => 0,
        }
    }

    pub(crate) fn usage(&mut self, now: i64, app_id: &str) -> Usage {
        Usage {
            tokens_in_window: self.tokens_in_window(app_id, now),
            test_messages_today: self.tests_today(now, app_id),
        }
    }

    pub(crate) fn device_usage(&self, now: i64, app_id: &str, token: &str) -> DeviceUsage {
        match self.devices.get(&(app_id.to_owned(), token.to_owned())) {
            Some(&(day, usage)) if day == huawei_day(now) => usage,
            _ => DeviceUsage::default(),
        }
    }

    pub(crate) fn new_request_id(&mut self, now: i64) -> String {
        self.next_request += 1;
        // Digits only, as in Huawei's samples ("157*******006").
        format!("{now}{:07}", self.next_request % 10_000_000)
    }

    /// Huawei's part of [`sim_kit::Sim::reset`]: keeps apps and issued access
    /// tokens, clears the rest.
    pub(crate) fn reset(&mut self) {
        self.verdicts.clear();
        self.issued.clear();
        self.calls.clear();
        self.tests.clear();
        self.devices.clear();
        self.deliveries.clear();
        self.messages.clear();
        self.settings = Settings::default();
    }
}

/// A Push Kit answer body.
pub(crate) fn push_body(code: &str, msg: &str, request_id: &str) -> Value {
    json!({ "code": code, "msg": msg, "requestId": request_id })
}
