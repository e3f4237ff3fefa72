//! A strict simulator of Honor Push's server API (the OAuth2 token endpoint
//! and `POST /api/v1/{appId}/sendMessage`), written from
//! `docs/VENDORS_API.md` §3 (and the Honor rows of §7, §8 and §11) on its own
//! reading. It shares no code with any Honor client, so a misreading of the
//! API is not shared by both sides.
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the
//! `honor-sim` binary and drive it through the `/_sim/*` control endpoints
//! (listed in `src/control.rs`). It stands on `sim-kit` (`tools/sim-kit`):
//! recording, scripted answers ([`CallAction`]: any body, HTTP status, delay,
//! garbage, and Honor's [`HonorAction`]), the settable clock ([`SimClock`]),
//! the receipt POSTs and the common control endpoints behave as that crate's
//! doc says; the [`Simulator`] dereferences to the kit's [`sim_kit::Sim`] for
//! them (`script_next`, `requests`, `set_clock`, `flush_receipts`, `reset`,
//! ...). This doc is Honor's part.
//!
//! One port serves both hosts of §3.1 (the IAM host and the push host, in
//! either the hihonor.com or the honor.com form): the `Host` header is not
//! looked at, so a client points both base URLs at `Simulator::base_url` (the kit's `Sim::base_url`).
//!
//! # Token endpoint
//!
//! `POST` [`TOKEN_PATH`] (`/auth/realms/developer/protocol/openid-connect/token`,
//! Honor's doc) and [`TOKEN_PATH_SHORT`] (`/auth/token`, the other clients of
//! §3.1) behave the same. First failing check answers:
//!
//! 1. method: not POST, HTTP 405 (plain text);
//! 2. `Content-Type` `application/x-www-form-urlencoded` (optional
//!    `charset=UTF-8`), a well-formed form, no field given twice: else HTTP
//!    400 `{"error":"invalid_request","error_description":".."}`;
//! 3. `grant_type`: missing, 400 `invalid_request`; not
//!    `client_credentials`, 400 `unsupported_grant_type`;
//! 4. `client_id` of a registered app and its `client_secret`: else HTTP 401
//!    `{"error":"invalid_client","error_description":"Invalid client or Invalid
//!    client credentials"}`.
//!
//! Success: HTTP 200 `{"access_token":"<base64, 44 chars>","expires_in":3600,
//! "token_type":"Bearer"}` (exactly these fields, §3.2). Each call issues a new
//! token; earlier ones stay valid. A token belongs to the app of its client
//! id, is issued at the simulator's clock and stops working when that clock
//! reaches issue + `expires_in` ([`Settings::token_ttl_secs`], default 3600).
//! [`Simulator::invalidate_access_tokens`] (`POST
//! /_sim/access-tokens/invalidate`) forgets tokens on command. The error
//! bodies are OAuth2's (RFC 6749 §5.2) as Keycloak, the server behind
//! Honor's `/auth/realms/...` path, writes them: the spec gives none (sim).
//!
//! # sendMessage
//!
//! `POST /api/v1/{appId}/sendMessage` ([`send_path`]). First failing check
//! answers, in this order:
//!
//! 1. the path (anything else, Huawei's `/v1/{appId}/messages:send`
//!    included: HTTP 404) and the method (HTTP 405);
//! 2. `Authorization: Bearer <access token>` (exactly `Bearer` and one
//!    space): missing, malformed or unknown → auth invalid; expired by the
//!    simulator's clock → auth expired; issued to another app than the URL's
//!    `appId` (or the app is no longer registered) → auth invalid;
//! 3. the `timestamp` header (below) → parameter error;
//! 4. `Content-Type` `application/json` (optional `charset=UTF-8`, any case):
//!    else HTTP 415; the body a JSON object: else HTTP 400 (plain text);
//! 5. the app's push is enabled ([`SimApp::push_enabled`]) → not permitted;
//! 6. the message size: the body without `token`, re-serialized as compact
//!    JSON, at most [`Settings::max_message_bytes`] (4096, as Huawei's
//!    "4096 bytes excluding tokens") → too large;
//! 7. `token` → token count / type / parameter errors;
//! 8. the fields, in this order: `data`, `notification` (`image`, `title`,
//!    `body`), `android.ttl`, `android.biTag`, `android.data`,
//!    `android.targetUserType`, `android.notification` (title/body, then
//!    `clickAction`, `importance`, `style` with `bigTitle`/`bigBody`,
//!    `notifyId`, `tag`, `group`, `when`, `image`, `buttons`, `badge`), then
//!    "a message needs a notification or data";
//! 9. the app's QPS limit, then its daily quota (test messages: the test
//!    quota) → quota error;
//! 10. each token's verdict (expired / failed / delivered).
//!
//! A field whose value is JSON `null` counts as absent; unknown fields are
//! ignored (kept in [`Delivery::request`]), `android.category` included.
//!
//! ## The `timestamp` header
//!
//! Required, ASCII digits only. [`Settings::timestamp_unit`] (§3.3
//! CONFLICT: 13-digit ms in Honor's doc, seconds in cossim/hipush):
//! `Either` (default: 13 digits are ms, 10 digits seconds), `Millis` (13
//! digits) or `Seconds` (10 digits); any other length is refused. The spec
//! gives no window; the simulator refuses a value more than
//! [`Settings::timestamp_window_ms`] (default 600000 ms, either side) from its
//! clock, the boundary itself accepted; `None` turns the window off.
//!
//! ## Fields and their rules
//!
//! Types are strict: a field of the wrong JSON type is a structure error
//! (`notifyId: "5"`, `targetUserType: "1"`, `ttl: 86400`, `token: "t"`).
//! Value rules are parameter errors. "Characters" are Unicode scalar values.
//!
//! - `token`: an array of 1..=[`Settings::max_tokens`] (1000, §3.3 \[U\])
//!   strings, none blank. Missing, `[]` or too many: token count error. The
//!   body is not wrapped in `message` (Honor's example is flat): a
//!   Huawei-style `{"message":{..}}` has no `token`.
//! - `data`: a string, any text (Honor's own example is not JSON:
//!   `"{'param1':'value1'}"`); `android.data` overrides it.
//! - `notification`: `{title, body, image}` strings; its title and body are
//!   the defaults of `android.notification`'s.
//! - `android.ttl`: `"<seconds>s"`, the seconds an integer or a decimal
//!   (`"86400s"`, `"0.5s"`), at most `"1296000s"` (15 days). Over that:
//!   refused, or clamped to `"1296000s"` with [`Settings::clamp_ttl`].
//! - `android.biTag`: a string, echoed in receipts. `android.targetUserType`:
//!   0 or 1 (1 = test message).
//! - `android.notification` (or a top-level `notification`) makes the message
//!   a notification; then a non-blank `title` and `body` are required (here
//!   or top-level), and `clickAction` is required: `type` 1 needs a
//!   non-empty `intent` or `action`, 2 a `url` that is an `https://` URL, 3
//!   nothing; any other type is refused.
//! - `importance`: `NORMAL` or `LOW` (exact case). `style`: 0 or 1; 1 needs
//!   non-empty `bigTitle` and `bigBody`. `notifyId`: 0..=2147483647. `tag`,
//!   `group`, `when`, `image`: strings.
//! - `buttons`: at most 3, each `{name (1..=40 characters), actionType 0..=2,
//!   intentType 0/1, intent, data (<= 1024 characters)}`; `name` and
//!   `actionType` required; `actionType` 1 and 2 need an `intent`.
//! - `badge`: `addNum` 1..=99, `setNum` 0..=99, `badgeClass` required (non-empty)
//!   with either.
//! - Without a notification, `data` (or `android.data`) is required.
//!
//! # Result codes the simulator returns
//!
//! The answer's shape is [`Settings::response_shape`] (§3.3 CONFLICT): the
//! `code:200` shape (default, the reading of doopush and cossim/hipush) or
//! the Huawei-style shape (the Rust provider's reading). Each refusal has a
//! code in both.
//!
//! - `Code200` success: `{"code":200,"message":"Success","data":{"sendResult":
//!   B,"requestId":"..","failTokens":[..],"expireTokens":[..]}}` (both lists
//!   always present, in request order; `sendResult` is true when at least one
//!   token was delivered). Errors: `{"code":N,"message":".."}` (no `data`).
//! - `Huawei` success: `{"code":"80000000","msg":"Success","requestId":".."}`;
//!   some tokens not delivered: `{"code":"80100000","msg":"{\"success\":S,
//!   \"failure\":F,\"illegal_tokens\":[..]}","requestId":".."}` (`msg` is a
//!   JSON string, as Huawei's; `illegal_tokens` lists the expired tokens
//!   only, `failure` counts expired and failed); errors `{"code":"..",
//!   "msg":"..","requestId":".."}`.
//!
//! Origins: "honor" = §3 gives the code and its meaning; "honor/sim" = a
//! client of §3 reads the code so (doopush's HTTP-like codes, \[S\]), the
//! simulator chose which check answers it; "huawei/sim" = Huawei's code of
//! §4.3 for the same meaning, used by the Huawei-style reading of §3.3; "sim"
//! = the simulator's choice.
//!
//! | code200 | Huawei shape | HTTP | origin | when |
//! |---------|--------------|------|--------|------|
//! | 200 | `80000000` | 200 | honor | every token delivered (code200: also when some or all were not; see the lists) |
//! | 200 | `80100000` | 200 | huawei/sim | some tokens expired or failed (Huawei shape) |
//! | 200 | `80300007` | 400 | honor (Huawei shape: §3.3 names it "invalid token") | every token expired (Huawei shape; code200 answers 200 with `sendResult:false`) |
//! | 400 | `80100001` | 400 | honor/sim, huawei/sim | a parameter error: `timestamp` missing, malformed or out of the window; a blank token; a value out of its rule (see "Fields") |
//! | 400 | `80100003` | 400 | honor/sim, huawei/sim | a field of the wrong JSON type |
//! | 400 | `80300008` | 400 | honor/sim, huawei/sim | the message over [`Settings::max_message_bytes`] |
//! | 400 | `80300010` | 400 | honor/sim, huawei/sim | `token` missing, empty, or over [`Settings::max_tokens`] |
//! | 401 | `80200001` | 401 | honor/sim, huawei/sim | no, a malformed, an unknown, an invalidated, or another app's access token |
//! | 401 | `80200003` | 401 | honor/sim, huawei/sim | an expired access token (code200 tells it from 80200001 only by `message`: `Oauth Token expired` vs `Oauth authentication error`) |
//! | 403 | `80300002` | 403 | honor/sim, huawei/sim | the app's push is disabled ([`SimApp::push_enabled`]) |
//! | 429 | — (HTTP 503, plain `Service Unavailable`) | 429 / 503 | honor/sim; Huawei: flow control is HTTP 503 (§4.3) | the app's daily quota, test quota or QPS limit ([`Quotas`]) |
//!
//! HTTP status of errors: the code200 shape answers the code itself as the
//! HTTP status; the Huawei shape the status of the table (8020000x 401,
//! 80300002 403, 81000001 and 80600003 500, other error codes 400). With
//! [`Settings::errors_http_200`] every error answer is HTTP 200 (the code
//! only in the body; the spec does not say which, so both are covered);
//! flow control in the Huawei shape stays HTTP 503.
//!
//! Codes only answered when scripted ([`error_action`], `{"error":{..}}` of
//! `/_sim/script`; a number renders the code200 shape, a string the Huawei
//! shape): code200 404 (doopush: invalid token), 500, 502, 503, 504 (§3.4);
//! Huawei shape 80100004, 80100013, 80100016, 80100017, 80200005, 80300011,
//! 80300013, 80600003, 81000001 (§4.3). [`oauth_error_action`] scripts any
//! OAuth2 error of the token endpoint.
//!
//! HTTP-level answers (not result codes):
//!
//! | HTTP | when |
//! |------|------|
//! | 404  | any other path (plain text) |
//! | 405  | a token or send path with a method other than POST |
//! | 415  | send: `Content-Type` not `application/json` (or another charset or parameter) |
//! | 400  | send: the body is not a JSON object (plain text); token endpoint: OAuth2 `invalid_request` / `unsupported_grant_type` |
//! | 401  | token endpoint: OAuth2 `invalid_client` |
//! | 413  | body over 4 MiB (the kit's limit) |
//! | any  | scripted [`sim_kit::CallAction::HttpStatus`] (plain text, the reason phrase) |
//!
//! # Targets, quotas, deliveries
//!
//! - Every push token is valid unless set ([`Simulator::set_token`],
//!   `POST /_sim/targets`, for every app): [`TokenVerdict::Expired`] goes
//!   to `expireTokens` (dead, §3.4), [`TokenVerdict::Failed`] to
//!   `failTokens`; neither is delivered. A token given twice is delivered
//!   (and counted) twice.
//! - [`Quotas`] per app ([`Simulator::set_quotas`], `POST /_sim/quotas`):
//!   `daily` (delivered tokens of formal messages per Honor day, midnight to
//!   midnight UTC+8 by the simulator's clock; default unlimited),
//!   `test_daily` (the same for `targetUserType` 1; default 1000, §3.3
//!   \[S\]), `qps` (send calls per second of the simulator's clock that got
//!   past the field checks; default unlimited: §3.5's 3000 is \[U\]). A call is
//!   refused once the count has reached the quota, so the call that crosses
//!   it is delivered in full; refused calls do not count.
//! - Every delivered token of an accepted call is one [`Delivery`]
//!   ([`Simulator::deliveries`], `GET /_sim/deliveries`), with its
//!   `classification`: `service` when `importance` is `NORMAL` and the app
//!   has the self-classification right ([`SimApp::self_classification`]),
//!   else `marketing` (§3.5, §11: unadapted apps are marketing by default;
//!   the simulator does not refuse, it records).
//!
//! # Receipts
//!
//! As in the Honor console (§3.6), an app has one receipt address
//! ([`SimApp::receipt_url`], [`Simulator::set_receipt_url`], `POST
//! /_sim/receipt-url`, `--receipt-url`); an app without one gets no receipts.
//!
//! - Each delivered token of an accepted call queues one receipt of status
//!   [`Settings::receipt_delivered_status`] (default 0, Huawei V1's
//!   "delivered"; doopush reads 40000002 as success, so that is a setting).
//!   Expired and failed tokens queue none.
//! - [`Simulator::send_receipt`] (`POST /_sim/receipts`) queues any status for
//!   a `requestId`, for its delivered tokens or the tokens given.
//! - The kit's engine sends them (sim-kit, "Receipts": delay, flush, retries,
//!   redelivery, log) as `POST`, `Content-Type: application/json`,
//!   `{"statuses":[{"biTag":"..","appid":"<appId>","token":"..","status":N,
//!   "timestamp":<ms>,"requestId":".."}]}` (the Huawei V1 shape doopush
//!   parses; `biTag` only when the message had one; `timestamp` is the
//!   simulator's clock when the receipt was queued).
//! - Batching: one POST per URL per flush, several messages merged; at most
//!   [`Settings::receipt_max_statuses`] (default 100, Huawei's current doc;
//!   1..=1000) statuses of one message and status per POST, the rest in
//!   further POSTs.
//! - No signature: the spec gives none for Honor (Huawei's
//!   `X-HUAWEI-CALLBACK-ID` is Huawei's), and the kit's receipt engine sends
//!   no custom headers.
//!
//! # Other choices
//!
//! - Reset ([`sim_kit::Sim::reset`], `POST /_sim/reset`) keeps apps (their
//!   receipt addresses included) and access tokens, clears verdicts, quotas
//!   and counters, deliveries and messages (their `requestId`s become unknown
//!   to `send_receipt`), and sets [`Settings`] back to the ones the
//!   simulator started with ([`SimConfig::settings`]); plus the kit's reset
//!   (requests, scripts, clock, receipt queue and log; receipt settings
//!   kept).
//! - [`SimApp`]s are keyed by app id; registering one replaces any app with
//!   the same app id or client id.
//! - No per-device daily caps (§3.5's 2/5 marketing messages) and no 00:00
//!   to 06:00 hold: the simulator does not model devices.
//! - `requestId`s are the simulator's clock in ms followed by a 6-digit
//!   counter.
//! - The token endpoint reads the client credentials from the form only
//!   (§3.2 \[C\]); HTTP Basic client authentication is not accepted.

mod control;
mod honor;
mod receipts;
mod server;

pub use receipts::{HonorReceipts, PendingReceipt};
pub use sim_kit::{
    http_client, http_client_builder, nodelay, shutdown_signal, ReceiptOutcome, ReceiptPost,
    ReceiptSettings, RecordedRequest, SimClock,
};

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_kit::Sim;

/// The token path of Honor's own doc (Keycloak's OpenID Connect path).
pub const TOKEN_PATH: &str = "/auth/realms/developer/protocol/openid-connect/token";

/// The short token path some clients use (VENDORS_API.md §3.1).
pub const TOKEN_PATH_SHORT: &str = "/auth/token";

/// Every token path the simulator serves.
pub const TOKEN_PATHS: [&str; 2] = [TOKEN_PATH, TOKEN_PATH_SHORT];

/// The send path of an app: `/api/v1/{appId}/sendMessage`.
pub fn send_path(app_id: &str) -> String {
    format!("/api/v1/{app_id}/sendMessage")
}

/// Default: at most this many tokens in one call ([`Settings::max_tokens`]).
pub const MAX_TOKENS: usize = 1000;

/// Default: at most this many bytes of message ([`Settings::max_message_bytes`]).
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// The longest `android.ttl`: 15 days, in seconds.
pub const MAX_TTL_SECS: u64 = 1_296_000;

/// Default access token lifetime, seconds ([`Settings::token_ttl_secs`]).
pub const TOKEN_TTL_SECS: u64 = 3600;

/// Default `timestamp` window, ms either side of the simulator's clock.
pub const TIMESTAMP_WINDOW_MS: u64 = 600_000;

/// Default test messages per app per day (`targetUserType` 1).
pub const TEST_DAILY: u64 = 1000;

/// Default receipt statuses per message and status in one POST.
pub const RECEIPT_MAX_STATUSES: usize = 100;

/// A scripted answer: `Body` is any JSON, answered HTTP 200.
pub type CallAction = sim_kit::CallAction<Value, HonorAction>;

/// Honor's scripted actions.
#[derive(Clone, Debug, PartialEq)]
pub enum HonorAction {
    /// A send error body: a JSON number `code` renders the `code:200`
    /// shape `{"code":N,"message":..}`, a JSON string the Huawei-style
    /// shape `{"code":"S","msg":..,"requestId":..}`. The HTTP status is
    /// `status`, else as the simulator answers that code (lib.rs,
    /// "HTTP status of errors").
    Error {
        code: Value,
        message: String,
        status: Option<u16>,
    },
    /// An OAuth2 error of the token endpoint: `{"error":..,
    /// "error_description":..}` with that HTTP status.
    OAuthError {
        status: u16,
        error: String,
        description: String,
    },
}

/// A scripted send error in either shape ([`HonorAction::Error`]): `code`
/// a number (`401`) or a string (`"80200003"`).
pub fn error_action(code: impl Into<Value>, message: &str) -> CallAction {
    sim_kit::CallAction::Vendor(HonorAction::Error {
        code: code.into(),
        message: message.to_owned(),
        status: None,
    })
}

/// [`error_action`] with an explicit HTTP status.
pub fn error_action_with_status(code: impl Into<Value>, message: &str, status: u16) -> CallAction {
    sim_kit::CallAction::Vendor(HonorAction::Error {
        code: code.into(),
        message: message.to_owned(),
        status: Some(status),
    })
}

/// A scripted OAuth2 error of the token endpoint.
pub fn oauth_error_action(status: u16, error: &str, description: &str) -> CallAction {
    sim_kit::CallAction::Vendor(HonorAction::OAuthError {
        status,
        error: error.to_owned(),
        description: description.to_owned(),
    })
}

/// An app registered in the Honor developer console.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimApp {
    /// The App ID of the send URL.
    pub app_id: String,
    /// The OAuth2 client id.
    pub client_id: String,
    /// The OAuth2 client secret.
    pub client_secret: String,
    /// The receipt address configured in the console; none: no receipts.
    #[serde(default)]
    pub receipt_url: Option<String>,
    /// Honor granted the self-classification right: `importance` NORMAL
    /// makes a service message. Default true.
    #[serde(default = "yes")]
    pub self_classification: bool,
    /// Push is enabled for the app. Default true; false answers 403 /
    /// 80300002.
    #[serde(default = "yes")]
    pub push_enabled: bool,
}

fn yes() -> bool {
    true
}

impl SimApp {
    /// An app with push enabled, the self-classification right and no
    /// receipt address.
    pub fn new(
        app_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> SimApp {
        SimApp {
            app_id: app_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            receipt_url: None,
            self_classification: true,
            push_enabled: true,
        }
    }

    pub fn with_receipt_url(mut self, url: impl Into<String>) -> SimApp {
        self.receipt_url = Some(url.into());
        self
    }
}

impl fmt::Debug for SimApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimApp")
            .field("app_id", &self.app_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("receipt_url", &self.receipt_url)
            .field("self_classification", &self.self_classification)
            .field("push_enabled", &self.push_enabled)
            .finish()
    }
}

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub apps: Vec<SimApp>,
    pub settings: Settings,
}

/// What Honor thinks of a push token. Every token is valid unless set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenVerdict {
    #[default]
    Valid,
    /// Dead: listed in `expireTokens` (the sender deletes it).
    Expired,
    /// Not delivered for another reason: listed in `failTokens`.
    Failed,
}

/// The send answer's shape (§3.3 CONFLICT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseShape {
    /// `{"code":200,"message":..,"data":{"sendResult":..,"requestId":..,
    /// "failTokens":[..],"expireTokens":[..]}}`, int codes (the default).
    #[default]
    Code200,
    /// `{"code":"80000000","msg":"Success","requestId":..}`, string codes.
    Huawei,
}

/// How the `timestamp` header is read (§3.3 CONFLICT: ms vs seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampUnit {
    /// 13 digits are ms, 10 digits seconds (the default).
    #[default]
    Either,
    /// 13 digits, ms.
    Millis,
    /// 10 digits, seconds.
    Seconds,
}

/// The readings of the spec's CONFLICTs and the guessed values the
/// simulator answers with ([`Simulator::set_settings`], `/_sim/settings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub response_shape: ResponseShape,
    /// Errors answered HTTP 200 (the code only in the body) instead of the
    /// HTTP status of the table.
    pub errors_http_200: bool,
    pub timestamp_unit: TimestampUnit,
    /// The `timestamp` may be this far from the simulator's clock, ms;
    /// `None`: any value.
    pub timestamp_window_ms: Option<u64>,
    /// `expires_in` of new access tokens.
    pub token_ttl_secs: u64,
    pub max_tokens: usize,
    /// The body without `token`, compact JSON, at most this many bytes.
    pub max_message_bytes: usize,
    /// An `android.ttl` over 15 days is clamped to 15 days instead of
    /// refused.
    pub clamp_ttl: bool,
    /// The `status` of the automatic receipt of a delivered token.
    pub receipt_delivered_status: i64,
    /// At most this many statuses of one message and status per receipt
    /// POST (1..=1000).
    pub receipt_max_statuses: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            response_shape: ResponseShape::Code200,
            errors_http_200: false,
            timestamp_unit: TimestampUnit::Either,
            timestamp_window_ms: Some(TIMESTAMP_WINDOW_MS),
            token_ttl_secs: TOKEN_TTL_SECS,
            max_tokens: MAX_TOKENS,
            max_message_bytes: MAX_MESSAGE_BYTES,
            clamp_ttl: false,
            receipt_delivered_status: 0,
            receipt_max_statuses: RECEIPT_MAX_STATUSES,
        }
    }
}

impl Settings {
    /// Refuses values that make no sense.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_tokens == 0 {
            return Err("max_tokens must be at least 1".to_owned());
        }
        if self.token_ttl_secs == 0 {
            return Err("token_ttl_secs must be at least 1".to_owned());
        }
        if !(1..=1000).contains(&self.receipt_max_statuses) {
            return Err("receipt_max_statuses must be in 1..=1000".to_owned());
        }
        Ok(())
    }
}

/// An app's limits. Default: no daily quota, 1000 test messages a day, no
/// QPS limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// Delivered tokens per Honor day (UTC+8) of formal messages.
    pub daily: Option<u64>,
    /// Delivered tokens per Honor day of test messages (`targetUserType` 1).
    pub test_daily: Option<u64>,
    /// Send calls per second of the simulator's clock.
    pub qps: Option<u32>,
}

impl Default for Quotas {
    fn default() -> Quotas {
        Quotas {
            daily: None,
            test_daily: Some(TEST_DAILY),
            qps: None,
        }
    }
}

/// An app's counts on the simulator's current Honor day, and its limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub delivered: u64,
    pub test_delivered: u64,
    pub quotas: Quotas,
}

/// A message Honor would show (or pass through): one per delivered token
/// of an accepted call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    pub request_id: String,
    pub app_id: String,
    pub token: String,
    /// `android.targetUserType` 1.
    pub test: bool,
    /// A notification; else a data (pass-through) message.
    pub notification: bool,
    pub title: Option<String>,
    pub body: Option<String>,
    /// `clickAction.type`.
    pub click_type: Option<i64>,
    /// `importance` as sent.
    pub importance: Option<String>,
    /// `service` (NORMAL with the self-classification right) or `marketing`,
    /// for notifications.
    pub classification: Option<String>,
    /// The effective `android.ttl` (clamped when [`Settings::clamp_ttl`]).
    pub ttl: Option<String>,
    pub bi_tag: Option<String>,
    /// `android.data`, else `data`.
    pub data: Option<String>,
    pub notify_id: Option<i64>,
    /// The request body as received.
    pub request: Value,
}

/// A receipt that cannot be sent on command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptError(String);

impl fmt::Display for ReceiptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReceiptError {}

/// A running simulator. Clones share the same server; it stops when the last
/// clone is dropped or on `shutdown`. Dereferences to the kit's
/// [`sim_kit::Sim`] for scripting, recording, the clock, receipts and reset.
#[derive(Clone)]
pub struct Simulator {
    sim: Sim<Honor>,
}

impl Deref for Simulator {
    type Target = Sim<Honor>;

    fn deref(&self) -> &Sim<Honor> {
        &self.sim
    }
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let sim = Sim::start_on(addr, Honor::new(config)).await?;
        Ok(Simulator { sim })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// Registers an app; replaces an app with the same app id or client id.
    pub fn add_app(&self, app: SimApp) {
        self.inner().add_app(app);
    }

    /// Sets (or with `None` removes) an app's receipt address.
    pub fn set_receipt_url(&self, app_id: &str, url: Option<&str>) -> Result<(), String> {
        self.inner().set_receipt_url(app_id, url.map(str::to_owned))
    }

    /// Sets a push token's verdict (for every app). Default: valid.
    pub fn set_token(&self, token: &str, verdict: TokenVerdict) {
        self.inner().set_verdict(token, verdict);
    }

    /// Sets an app's quotas (default [`Quotas::default`]).
    pub fn set_quotas(&self, app_id: &str, quotas: Quotas) {
        self.inner().quotas.insert(app_id.to_owned(), quotas);
    }

    /// The app's counts on today's Honor day, by the simulator's clock.
    pub fn usage(&self, app_id: &str) -> Usage {
        let now = self.now_ms();
        self.inner().usage(now, app_id)
    }

    /// Invalidates the access tokens of one app (or all); how many.
    pub fn invalidate_access_tokens(&self, app_id: Option<&str>) -> usize {
        self.inner().invalidate_tokens(app_id)
    }

    /// The live and expired access tokens not invalidated, with their app.
    pub fn access_tokens(&self) -> Vec<AccessToken> {
        let mut tokens: Vec<AccessToken> = self.inner().tokens.values().cloned().collect();
        tokens.sort_by_key(|t| t.issued_ms);
        tokens
    }

    pub fn settings(&self) -> Settings {
        self.sim.vendor().settings()
    }

    /// Chooses the readings of the CONFLICTs and the guessed values.
    pub fn set_settings(&self, settings: Settings) -> Result<(), String> {
        self.sim.vendor().set_settings(settings)
    }

    /// Every delivery so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }

    /// Queues receipts of `status` for a message (by its `requestId`): for
    /// `targets`, or by default its delivered tokens. Posted to the app's
    /// receipt address; returns how many were queued.
    pub fn send_receipt(
        &self,
        request_id: &str,
        status: i64,
        targets: Option<&[&str]>,
    ) -> Result<usize, ReceiptError> {
        let targets = targets.map(|t| t.iter().map(|s| (*s).to_owned()).collect());
        honor::send_receipt(self.sim.core(), request_id, status, targets)
    }
}

/// An access token issued by the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessToken {
    pub access_token: String,
    pub app_id: String,
    /// The simulator's clock when issued, and when it stops working, ms.
    pub issued_ms: i64,
    pub expires_ms: i64,
}

/// Honor's part of the simulator (the kit's [`sim_kit::Vendor`]).
pub struct Honor {
    inner: Mutex<Inner>,
    /// [`Settings::receipt_max_statuses`], shared with the receipt format.
    receipt_max: Arc<AtomicUsize>,
    /// The settings of [`SimConfig`] (valid ones), which reset restores.
    initial: Settings,
}

impl Honor {
    fn new(config: SimConfig) -> Honor {
        let mut inner = Inner::default();
        for app in config.apps {
            inner.add_app(app);
        }
        let initial = match config.settings.validate() {
            Ok(()) => config.settings,
            Err(error) => {
                tracing::warn!(%error, "settings refused, defaults kept");
                Settings::default()
            }
        };
        inner.settings = initial;
        Honor {
            inner: Mutex::new(inner),
            receipt_max: Arc::new(AtomicUsize::new(initial.receipt_max_statuses)),
            initial,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn settings(&self) -> Settings {
        self.lock().settings
    }

    /// The settings the simulator started with (what reset restores).
    pub(crate) fn initial_settings(&self) -> Settings {
        self.initial
    }

    pub(crate) fn set_settings(&self, settings: Settings) -> Result<(), String> {
        settings.validate()?;
        self.lock().settings = settings;
        self.receipt_max
            .store(settings.receipt_max_statuses, Ordering::SeqCst);
        Ok(())
    }
}

/// What the simulator keeps of an accepted message, for receipts on command.
#[derive(Clone, Debug)]
pub(crate) struct StoredMessage {
    pub(crate) app_id: String,
    pub(crate) bi_tag: Option<String>,
    pub(crate) delivered: Vec<String>,
}

/// Per app: the Honor day and the delivered formal and test tokens that day.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DayCount {
    pub(crate) day: i64,
    pub(crate) delivered: u64,
    pub(crate) test_delivered: u64,
}

#[derive(Default)]
pub(crate) struct Inner {
    /// By app id.
    pub(crate) apps: HashMap<String, SimApp>,
    /// By access token.
    pub(crate) tokens: HashMap<String, AccessToken>,
    pub(crate) verdicts: HashMap<String, TokenVerdict>,
    pub(crate) quotas: HashMap<String, Quotas>,
    pub(crate) counts: HashMap<String, DayCount>,
    /// Per app: the second (of the simulator's clock) and the calls in it.
    pub(crate) calls: HashMap<String, (i64, u32)>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) messages: HashMap<String, StoredMessage>,
    pub(crate) settings: Settings,
    pub(crate) next_request: u64,
}

impl Inner {
    pub(crate) fn add_app(&mut self, app: SimApp) {
        self.apps
            .retain(|id, old| *id != app.app_id && old.client_id != app.client_id);
        self.apps.insert(app.app_id.clone(), app);
    }

    pub(crate) fn set_receipt_url(
        &mut self,
        app_id: &str,
        url: Option<String>,
    ) -> Result<(), String> {
        if let Some(url) = &url {
            if !honor::is_http_url(url) {
                return Err(format!("{url:?} is not an http(s) URL"));
            }
        }
        match self.apps.get_mut(app_id) {
            Some(app) => {
                app.receipt_url = url;
                Ok(())
            }
            None => Err(format!("unknown app {app_id:?}")),
        }
    }

    pub(crate) fn set_verdict(&mut self, token: &str, verdict: TokenVerdict) {
        match verdict {
            TokenVerdict::Valid => self.verdicts.remove(token),
            other => self.verdicts.insert(token.to_owned(), other),
        };
    }

    pub(crate) fn quotas_of(&self, app_id: &str) -> Quotas {
        self.quotas.get(app_id).copied().unwrap_or_default()
    }

    /// The app's counts on the Honor day of `now`.
    pub(crate) fn count_today(&self, now: i64, app_id: &str) -> DayCount {
        let today = honor::honor_day(now);
        match self.counts.get(app_id) {
            Some(count) if count.day == today => *count,
            _ => DayCount {
                day: today,
                ..DayCount::default()
            },
        }
    }

    pub(crate) fn usage(&self, now: i64, app_id: &str) -> Usage {
        let count = self.count_today(now, app_id);
        Usage {
            delivered: count.delivered,
            test_delivered: count.test_delivered,
            quotas: self.quotas_of(app_id),
        }
    }

    pub(crate) fn invalidate_tokens(&mut self, app_id: Option<&str>) -> usize {
        let before = self.tokens.len();
        match app_id {
            Some(app_id) => self.tokens.retain(|_, token| token.app_id != app_id),
            None => self.tokens.clear(),
        }
        before - self.tokens.len()
    }

    /// Honor's part of [`sim_kit::Sim::reset`]: apps and access tokens stay.
    pub(crate) fn reset(&mut self) {
        self.verdicts.clear();
        self.quotas.clear();
        self.counts.clear();
        self.calls.clear();
        self.deliveries.clear();
        self.messages.clear();
    }
}
