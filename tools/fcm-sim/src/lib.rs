//! A strict simulator of Firebase Cloud Messaging HTTP v1
//! (`POST /v1/projects/{project_id}/messages:send`) and of Google's OAuth2
//! token endpoint for a service account's JWT, written from
//! `docs/VENDORS_API.md` §5 and §12 (and §7, §8, §11) on its own reading. It
//! shares no code with any FCM client, so a misreading of the API is not
//! shared by both sides.
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the
//! `fcm-sim` binary and drive it through the `/_sim/*` control endpoints
//! (listed in `src/control.rs`). It stands on `sim-kit` (`tools/sim-kit`):
//! recording, scripted answers ([`CallAction`]: any body, HTTP status, delay,
//! garbage), the settable clock ([`SimClock`]) and the common control
//! endpoints behave as that crate's doc says; the [`Simulator`] dereferences
//! to the kit's [`sim_kit::Sim`] for them (`script_next`, `requests`,
//! `set_clock`, `reset`, ...). This doc is FCM's part.
//!
//! # Behaviour
//!
//! One port serves two APIs:
//!
//! - the token endpoint, on [`TOKEN_PATH`] (`/token`) and on the path of
//!   every registered app's `token_uri`;
//! - the send endpoint, `POST /v1/projects/{project_id}/messages:send`.
//!
//! Any other path answers 404 (plain text). JSON answers carry
//! `Content-Type: application/json; charset=UTF-8`.
//!
//! ## Token endpoint
//!
//! A [`SimApp`] is a Firebase project's service account: project id,
//! `client_email`, `private_key_id` and its RSA key (the private key PEM of
//! the service-account file, or the public key). A call is a form
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`;
//! success is HTTP 200 `{"access_token":"ya29.c.…","expires_in":3599,
//! "token_type":"Bearer"}`. Refusals are HTTP 400 with Google's OAuth shape
//! `{"error":"..","error_description":".."}`. The first failing check
//! answers, in this order:
//!
//! 1. method POST (else 405, plain text);
//! 2. `Content-Type: application/x-www-form-urlencoded` and a well-formed
//!    form without a repeated field: else `invalid_request`;
//! 3. `grant_type` is the JWT-bearer URN: else `unsupported_grant_type`
//!    (`Invalid grant_type: <value>`);
//! 4. `assertion` present and not empty: else `invalid_request`;
//! 5. the JWT is three base64url parts, the first two JSON objects: else
//!    `invalid_grant`; its header's `alg` must be `RS256`, else
//!    `invalid_grant` `Invalid JWT Signature.`;
//! 6. `iss` is a registered app's `client_email`: else `invalid_grant`
//!    `Invalid grant: account not found`;
//! 7. the header's `kid` is that app's `private_key_id` (a missing `kid`
//!    is refused unless [`Settings::require_kid`] is off): else
//!    `invalid_grant` `Invalid JWT Signature.`;
//! 8. the RS256 signature verifies with the app's key: else `invalid_grant`
//!    `Invalid JWT Signature.`;
//! 9. `aud` is the app's `token_uri`, or, when the app has none, the URL the
//!    assertion was posted to (`http://<Host header><path>`): else
//!    `invalid_grant` `Invalid JWT: Failed audience check.`;
//! 10. `iat` and `exp` are whole seconds, `exp > iat`, `exp - iat <= 3600`,
//!     `iat <= now + skew` ([`Settings::clock_skew_secs`], default 300) and
//!     `exp > now` (the simulator's clock): else `invalid_grant` `Invalid
//!     JWT: Token must be a short-lived token (60 minutes) and in a
//!     reasonable timeframe. …`;
//! 11. `scope` (space-separated) is not empty and, with [`ScopeCheck::Token`]
//!     (the default), includes [`FCM_SCOPE`]: else `invalid_scope` `Invalid
//!     OAuth scope or ID token audience provided.`.
//!
//! An issued access token belongs to the app's project and lives
//! [`Settings::token_ttl_secs`] (default 3599, also `expires_in`) by the
//! simulator's clock; a second exchange gives a second token, both valid.
//!
//! ## Send
//!
//! Success is HTTP 200 `{"name":"projects/{p}/messages/0:<digits>%<hex>"}`.
//! Errors are Google's shape `{"error":{"code":N,"message":"..","status":
//! "..","details":[..]}}`. FCM's own refusals carry the detail
//! `{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError",
//! "errorCode":".."}`; a field refused carries `{"@type":
//! "type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":
//! "message.x","description":".."}]}` too. The first failing check answers:
//!
//! 1. method POST (else 405, plain text);
//! 2. `Authorization`: missing: 401 UNAUTHENTICATED (ErrorInfo reason
//!    `CREDENTIALS_MISSING`); not `Bearer <token>` (scheme in any case) or
//!    a token the simulator did not issue: 401 UNAUTHENTICATED (no
//!    details); expired by the simulator's clock: 401 UNAUTHENTICATED
//!    (ErrorInfo reason `ACCESS_TOKEN_EXPIRED`);
//! 3. the token's project is the path's project: else 403
//!    PERMISSION_DENIED (ErrorInfo `IAM_PERMISSION_DENIED`); with
//!    [`ScopeCheck::Send`], a token without [`FCM_SCOPE`]: 403
//!    PERMISSION_DENIED (`ACCESS_TOKEN_SCOPE_INSUFFICIENT`);
//! 4. `Content-Type: application/json` and a JSON object body: else 400
//!    INVALID_ARGUMENT (BadRequest only);
//! 5. the request's fields. Two kinds of refusal, both 400
//!    INVALID_ARGUMENT: the JSON reader's (a BadRequest only, as
//!    firebase.google.com's example for a non-string data value) and
//!    FCM's (FcmError INVALID_ARGUMENT and a BadRequest). The reader takes
//!    names in snake_case or lowerCamelCase (`validate_only` /
//!    `validateOnly`, `collapse_key` / `collapseKey`, …), reads `null` as
//!    absence, and refuses a name given twice (both spellings), an unknown
//!    name (`Invalid JSON payload received. Unknown name "x" at
//!    'message.notification': Cannot find field.`, field
//!    `message.notification`), a value of the wrong type (`Invalid value at
//!    '<path>' (<type>), <value>`, field `<path>`; `message.data[0].value`
//!    is the first data value in key order) and a second target (`Oneof
//!    field 'target' is already set`, field `message`). The order: the
//!    request's names, `validate_only` (a bool), `message` (missing: FCM's
//!    refusal, field `message`), `message`'s names, the target (its type,
//!    a second one; none: FCM's `Recipient of the message is not set.`),
//!    `name`, `data`, `notification`, `android`, `apns`, `webpush`,
//!    `fcm_options` (each field as listed below, in key order), then the
//!    target's syntax;
//! 6. FCM's refusals among those: a data key that is reserved (`from`,
//!    `notification`, `message_type`, or starting with `google` or `gcm`,
//!    any case) in `message.data` or `message.android.data` (field the
//!    map); `android.ttl` above [`Settings::max_ttl_secs`] (default
//!    2419200 s, 4 weeks); `android.notification.color` not `#rrggbb`; a
//!    token not made of `[A-Za-z0-9_:-]` (or empty): the invalid-token
//!    answer in the table below; a topic not `[A-Za-z0-9-_.~%]+` (after an
//!    optional `/topics/`); a blank condition (not parsed otherwise);
//! 7. the payload size ([`Settings::payload_measure`]) above
//!    [`Settings::payload_limit`] (4096) for a token, above
//!    [`Settings::topic_payload_limit`] (2048) for a topic or condition:
//!    400 INVALID_ARGUMENT (FcmError, BadRequest field `message`);
//! 8. the project's quota ([`Simulator::set_quota`], accepted messages per
//!    [`Settings::quota_window_secs`] window, default unlimited): 429
//!    RESOURCE_EXHAUSTED, QUOTA_EXCEEDED;
//! 9. the token's verdict ([`Simulator::set_token`], default valid): the
//!    code of the table below;
//! 10. `validate_only: true`: HTTP 200 `{"name":"projects/{p}/messages/
//!     fake_message_id"}`, nothing delivered, not counted in the quota;
//!     else the message is delivered.
//!
//! Fields checked: `message.token|topic|condition|name` strings;
//! `notification.title|body|image` strings; `data` string→string;
//! `android.collapse_key|restricted_package_name` strings, `priority`
//! `NORMAL`/`HIGH`, `ttl` a Duration (`"3600s"`, up to 9 fraction digits),
//! `data`, `notification`, `fcm_options.analytics_label`,
//! `direct_boot_ok|bandwidth_constrained_ok|restricted_satellite_ok` bools;
//! `android.notification`: `title body icon color sound tag click_action
//! body_loc_key title_loc_key channel_id ticker image event_time` strings,
//! `sticky local_only default_sound default_vibrate_timings
//! default_light_settings bypass_proxy_notification` bools,
//! `body_loc_args title_loc_args` string arrays, `vibrate_timings`
//! Durations, `notification_priority visibility proxy` enums,
//! `notification_count` int32, `light_settings` an object (not looked
//! into); `apns.headers` string→string, `apns.payload` an object (its
//! content is APNs' and not checked), `apns.fcm_options.analytics_label|
//! image`, `apns.live_activity_token` strings; `webpush` its field names
//! only; `fcm_options.analytics_label` a string.
//!
//! # Result codes the simulator returns
//!
//! "vendor" = the code, its HTTP status and meaning are in VENDORS_API.md
//! §5 (firebase.google.com's ErrorCode page); "sim" = the simulator's
//! choice of when (or with which text) it answers; "vendor/sim" = the code
//! is FCM's, the rule that triggers it is the simulator's reading.
//!
//! | errorCode / status | HTTP | origin | when |
//! |--------------------|------|--------|------|
//! | (success) | 200 | vendor | accepted (`name`), or validated (`fake_message_id`) |
//! | `INVALID_ARGUMENT` | 400 | vendor | a malformed or invalid token ([`TokenVerdict::Invalid`]): message `The registration token is not a valid FCM registration token`, FcmError INVALID_ARGUMENT and (unless [`Settings::token_violation`] is off) a BadRequest naming `message.token` |
//! | `INVALID_ARGUMENT` | 400 | vendor/sim | step 6 and 7 above: FcmError and a BadRequest naming the field |
//! | status `INVALID_ARGUMENT` | 400 | vendor/sim | step 4 and 5 above: a BadRequest only (no FcmError), as Google's own example for a non-string data value |
//! | `UNREGISTERED` | 404 | vendor | [`TokenVerdict::Unregistered`] (status NOT_FOUND, `Requested entity was not found.`) |
//! | `SENDER_ID_MISMATCH` | 403 | vendor | [`TokenVerdict::SenderIdMismatch`] (status PERMISSION_DENIED) |
//! | `QUOTA_EXCEEDED` | 429 | vendor/sim | the project's quota in the window, or [`TokenVerdict::QuotaExceeded`] (the device's rate; status RESOURCE_EXHAUSTED) |
//! | `UNAVAILABLE` | 503 | vendor | [`TokenVerdict::Unavailable`] |
//! | `INTERNAL` | 500 | vendor | [`TokenVerdict::Internal`] |
//! | `THIRD_PARTY_AUTH_ERROR` | 401 | vendor | [`TokenVerdict::ThirdPartyAuthError`] (status UNAUTHENTICATED) |
//! | status `UNAUTHENTICATED` | 401 | vendor/sim | a missing, unknown or expired access token (no FcmError; ErrorInfo reasons are the simulator's) |
//! | status `PERMISSION_DENIED` | 403 | vendor/sim | a token of another project, or (with [`ScopeCheck::Send`]) without the FCM scope |
//!
//! Only answered when scripted ([`error_action`] builds the body, with the
//! code's HTTP status): `UNSPECIFIED_ERROR` (500, a sim choice of status),
//! and any code above with another message.
//!
//! OAuth errors (HTTP 400; vendor/sim: Google's shape and codes, texts as
//! Google is reported to answer them, the split is the simulator's):
//! `invalid_request`, `unsupported_grant_type`, `invalid_grant`,
//! `invalid_scope`.
//!
//! HTTP-level answers:
//!
//! | HTTP | when |
//! |------|------|
//! | 404  | any other path (plain text) |
//! | 405  | a known path with a method other than POST (plain text) |
//! | 502  | the kit's server behind the public port did not answer (plain text; not expected) |
//! | 413  | body over 4 MiB (the kit's limit) |
//! | any  | scripted [`sim_kit::CallAction::HttpStatus`] (plain text, the reason phrase) |
//!
//! `Retry-After: <secs>` ([`Settings::retry_after_secs`], default 60; a
//! sim choice of value) comes with every 429 whose FcmError is
//! QUOTA_EXCEEDED and every 503 whose FcmError is UNAVAILABLE, scripted or
//! not. The kit's replies cannot carry other headers, so the simulator's
//! public port is a pass-through in front of the kit's server
//! (`src/front.rs`) that adds it; recorded requests may show an `accept:
//! */*` the client did not send (the forwarding client adds it), and a body
//! more than one byte over the kit's 4 MiB limit is answered 413 by the
//! front without being recorded.
//!
//! # Targets, quota, deliveries
//!
//! - Every token is valid unless set ([`Simulator::set_token`], for every
//!   project); a verdict other than valid answers its code also with
//!   `validate_only`. Topics and conditions have no verdicts.
//! - The quota counts accepted (delivered) messages of a project in a
//!   sliding window of [`Settings::quota_window_secs`] (default 60) by the
//!   simulator's clock; a call is refused once the count in the window
//!   reaches the quota. Refused and validate-only calls do not count.
//! - Every accepted message is one [`Delivery`] ([`Simulator::deliveries`],
//!   `GET /_sim/deliveries`), with the message as received (names
//!   normalized to snake_case at its top level).
//! - FCM sends no receipts to the sender (§5): the simulator has none; the
//!   kit's receipt endpoints answer with an empty queue and log.
//!
//! # Payload size
//!
//! §5: "payload ≤ 4096 bytes (2048 for topics)". What the payload is is not
//! said; [`PayloadMeasure`] chooses: `Message` (the default) is the compact
//! JSON of `message` without its target field, UTF-8 bytes; `Content` is
//! the bytes of the keys and values of `data` and `android.data` plus the
//! `title` and `body` of `notification` and `android.notification`. The
//! limits themselves are settings.
//!
//! # Choices
//!
//! - `android.priority` (§5's example `"high"`, the API's enum `HIGH`):
//!   both accepted; every enum value is read in any case.
//! - The invalid-token answer: firebase.google.com's example carries only
//!   the FcmError; the simulator adds a BadRequest naming `message.token`
//!   by default ([`Settings::token_violation`]; both covered).
//! - Scope without `firebase.messaging`: refused by the token endpoint
//!   ([`ScopeCheck::Token`], default), or issued and refused by the send
//!   endpoint ([`ScopeCheck::Send`], as Google does for a valid scope of
//!   another API).
//! - `kid` missing: refused by default ([`Settings::require_kid`]).
//! - Clock skew for `iat` in the future: [`Settings::clock_skew_secs`]
//!   (300); `exp` has none.
//! - TTL above 4 weeks: refused by default ([`Settings::max_ttl_secs`];
//!   `None` accepts any).
//! - Token syntax: `[A-Za-z0-9_:-]+`, any length (real tokens are longer;
//!   tests use short ones).
//! - The message id: `0:<ms><4 digits>%<16 hex>`, the legacy id shape
//!   FCM's v1 names still carry.
//! - `apns` and `webpush` are checked for shape only (above); nothing is
//!   sent to Apple.
//! - Unknown field names are refused, as Google's JSON reader does for
//!   every Google API (not ignored); unknown form fields of the token
//!   endpoint are ignored.
//! - `Retry-After` of 429 and 503: 60 s ([`Settings::retry_after_secs`]),
//!   the value FCM sends is not documented.
//! - No per-device collapse or TTL expiry is modelled: a delivery is final.
//! - Reset ([`sim_kit::Sim::reset`], `POST /_sim/reset`) keeps apps and
//!   clears everything else: access tokens, token verdicts, quotas and
//!   counts, deliveries; and sets [`Settings`] back to default.

mod control;
mod fcm;
mod front;
mod keys;
mod oauth;
mod server;

pub use fcm::{google_error, BAD_REQUEST_TYPE, ERROR_INFO_TYPE, FCM_ERROR_TYPE, INVALID_TOKEN};
pub use oauth::{JWT_BEARER, MAX_ASSERTION_SECS};
pub use sim_kit::{http_client, http_client_builder, shutdown_signal, RecordedRequest, SimClock};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_kit::Sim;

/// The token endpoint's path, always served.
pub const TOKEN_PATH: &str = "/token";

/// The OAuth scope a send needs.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The send path of a project.
pub fn send_path(project_id: &str) -> String {
    format!("/v1/projects/{project_id}/messages:send")
}

/// A scripted answer: `Body` is any JSON answered HTTP 200; `Vendor` any
/// JSON with any status ([`error_action`]).
pub type CallAction = sim_kit::CallAction<Value, JsonReply>;

/// A scripted JSON answer with its HTTP status.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonReply {
    pub status: u16,
    pub body: Value,
}

/// A Firebase project's service account, as the simulator knows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimApp {
    pub project_id: String,
    /// The assertion's `iss`; it identifies the service account.
    pub client_email: String,
    /// The assertion header's `kid`.
    pub private_key_id: String,
    /// PEM: the service account's private key (PKCS#8 `PRIVATE KEY`), or
    /// its public key (`PUBLIC KEY` or `RSA PUBLIC KEY`).
    pub key_pem: String,
    /// The service account's `token_uri`: what `aud` must be, and (its
    /// path) where the token endpoint also answers. `None`: `aud` must be
    /// the URL the assertion is posted to.
    #[serde(default)]
    pub token_uri: Option<String>,
}

impl SimApp {
    pub fn new(
        project_id: impl Into<String>,
        client_email: impl Into<String>,
        private_key_id: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> SimApp {
        SimApp {
            project_id: project_id.into(),
            client_email: client_email.into(),
            private_key_id: private_key_id.into(),
            key_pem: key_pem.into(),
            token_uri: None,
        }
    }

    /// The app of a service-account JSON file (`project_id`,
    /// `client_email`, `private_key_id`, `private_key`, and `token_uri` if
    /// present); other fields are ignored.
    pub fn from_service_account_json(text: &str) -> Result<SimApp, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not a JSON service account: {e}"))?;
        SimApp::from_service_account(&value)
    }

    /// [`SimApp::from_service_account_json`] of a parsed value.
    pub fn from_service_account(value: &Value) -> Result<SimApp, String> {
        let field = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("the service account has no {name}"))
        };
        Ok(SimApp {
            project_id: field("project_id")?,
            client_email: field("client_email")?,
            private_key_id: field("private_key_id")?,
            key_pem: field("private_key")?,
            token_uri: field("token_uri").ok(),
        })
    }
}

impl fmt::Debug for SimApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimApp")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("key_pem", &"[redacted]")
            .field("token_uri", &self.token_uri)
            .finish()
    }
}

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub apps: Vec<SimApp>,
}

/// Where a token without the FCM scope is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeCheck {
    /// The token endpoint answers `invalid_scope` (the default).
    #[default]
    Token,
    /// The token is issued; the send answers 403 PERMISSION_DENIED.
    Send,
}

/// What the payload limit measures (lib.rs, "Payload size").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadMeasure {
    /// The compact JSON of `message` without its target (the default).
    #[default]
    Message,
    /// Data keys and values, notification titles and bodies.
    Content,
}

/// The simulator's readings of what the spec leaves open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Lifetime of an access token and its `expires_in` (3599).
    pub token_ttl_secs: u64,
    /// How far in the future an assertion's `iat` may be (300).
    pub clock_skew_secs: u64,
    /// A missing `kid` is refused (true).
    pub require_kid: bool,
    pub scope_check: ScopeCheck,
    /// The invalid-token answer carries a BadRequest for `message.token`
    /// (true).
    pub token_violation: bool,
    pub payload_measure: PayloadMeasure,
    /// For a token target (4096).
    pub payload_limit: usize,
    /// For a topic or condition (2048).
    pub topic_payload_limit: usize,
    /// The longest `android.ttl` (2419200, 4 weeks); `None`: any.
    pub max_ttl_secs: Option<u64>,
    /// The quota window (60).
    pub quota_window_secs: u64,
    /// `Retry-After` of QUOTA_EXCEEDED (429) and UNAVAILABLE (503)
    /// answers (60); `None`: not sent.
    pub retry_after_secs: Option<u64>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            token_ttl_secs: 3599,
            clock_skew_secs: 300,
            require_kid: true,
            scope_check: ScopeCheck::Token,
            token_violation: true,
            payload_measure: PayloadMeasure::Message,
            payload_limit: 4096,
            topic_payload_limit: 2048,
            max_ttl_secs: Some(28 * 24 * 3600),
            quota_window_secs: 60,
            retry_after_secs: Some(60),
        }
    }
}

/// FCM's error codes (`details[].errorCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    UnspecifiedError,
    InvalidArgument,
    Unregistered,
    SenderIdMismatch,
    QuotaExceeded,
    Unavailable,
    Internal,
    ThirdPartyAuthError,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 8] = [
        ErrorCode::UnspecifiedError,
        ErrorCode::InvalidArgument,
        ErrorCode::Unregistered,
        ErrorCode::SenderIdMismatch,
        ErrorCode::QuotaExceeded,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::ThirdPartyAuthError,
    ];

    /// The `errorCode` text.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnspecifiedError => "UNSPECIFIED_ERROR",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::Unregistered => "UNREGISTERED",
            ErrorCode::SenderIdMismatch => "SENDER_ID_MISMATCH",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::ThirdPartyAuthError => "THIRD_PARTY_AUTH_ERROR",
        }
    }

    pub fn parse(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument => 400,
            ErrorCode::Unregistered => 404,
            ErrorCode::SenderIdMismatch => 403,
            ErrorCode::QuotaExceeded => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::UnspecifiedError | ErrorCode::Internal => 500,
            ErrorCode::ThirdPartyAuthError => 401,
        }
    }

    /// Google's `error.status` for the code's HTTP status.
    pub fn status(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::Unregistered => "NOT_FOUND",
            ErrorCode::SenderIdMismatch => "PERMISSION_DENIED",
            ErrorCode::QuotaExceeded => "RESOURCE_EXHAUSTED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::UnspecifiedError | ErrorCode::Internal => "INTERNAL",
            ErrorCode::ThirdPartyAuthError => "UNAUTHENTICATED",
        }
    }

    /// The simulator's default `error.message`.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::UnspecifiedError => "Unknown error.",
            ErrorCode::InvalidArgument => "Request contains an invalid argument.",
            ErrorCode::Unregistered => "Requested entity was not found.",
            ErrorCode::SenderIdMismatch => "SenderId mismatch",
            ErrorCode::QuotaExceeded => "Sending limit exceeded for the message target.",
            ErrorCode::Unavailable => "The service is currently unavailable.",
            ErrorCode::Internal => "Internal error encountered.",
            ErrorCode::ThirdPartyAuthError => "Auth error from APNS or Web Push Service",
        }
    }
}

/// What FCM thinks of a registration token. Default: valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenVerdict {
    Valid,
    /// 400 INVALID_ARGUMENT, `message.token`.
    Invalid,
    /// 404 UNREGISTERED: the app was uninstalled or the token expired.
    Unregistered,
    /// 403 SENDER_ID_MISMATCH: the token belongs to another sender.
    SenderIdMismatch,
    /// 429 QUOTA_EXCEEDED: the device's message rate.
    QuotaExceeded,
    /// 503 UNAVAILABLE.
    Unavailable,
    /// 500 INTERNAL.
    Internal,
    /// 401 THIRD_PARTY_AUTH_ERROR: APNs or web push credentials.
    ThirdPartyAuthError,
}

impl TokenVerdict {
    /// The error a send to such a token answers; `None` for valid.
    pub fn error_code(self) -> Option<ErrorCode> {
        match self {
            TokenVerdict::Valid => None,
            TokenVerdict::Invalid => Some(ErrorCode::InvalidArgument),
            TokenVerdict::Unregistered => Some(ErrorCode::Unregistered),
            TokenVerdict::SenderIdMismatch => Some(ErrorCode::SenderIdMismatch),
            TokenVerdict::QuotaExceeded => Some(ErrorCode::QuotaExceeded),
            TokenVerdict::Unavailable => Some(ErrorCode::Unavailable),
            TokenVerdict::Internal => Some(ErrorCode::Internal),
            TokenVerdict::ThirdPartyAuthError => Some(ErrorCode::ThirdPartyAuthError),
        }
    }
}

/// A message's one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Token(String),
    Topic(String),
    Condition(String),
}

/// A message FCM accepted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    /// `projects/{p}/messages/{id}`, as answered.
    pub name: String,
    pub project_id: String,
    /// The service account whose access token sent it.
    pub client_email: String,
    pub target: Target,
    /// `message.notification.title` / `.body`.
    pub title: Option<String>,
    pub body: Option<String>,
    /// `message.data`.
    pub data: BTreeMap<String, String>,
    /// `message.android` as received.
    pub android: Option<Value>,
    /// `message.apns` as received.
    pub apns: Option<Value>,
    /// The whole message (top-level names in snake_case).
    pub message: Value,
    /// When it was accepted, by the simulator's clock.
    pub at_ms: i64,
}

impl Delivery {
    /// The registration token, for a token message.
    pub fn token(&self) -> Option<&str> {
        match &self.target {
            Target::Token(token) => Some(token),
            _ => None,
        }
    }
}

/// A scripted FCM error: Google's shape with the FcmError detail and the
/// code's HTTP status; `message` or the code's usual one.
pub fn error_action(code: ErrorCode, message: Option<&str>) -> CallAction {
    sim_kit::CallAction::Vendor(JsonReply {
        status: code.http_status(),
        body: error_body(code, message),
    })
}

/// The body of an FCM error answer.
pub fn error_body(code: ErrorCode, message: Option<&str>) -> Value {
    google_error(
        code.http_status(),
        code.status(),
        message.unwrap_or(code.message()),
        vec![serde_json::json!({ "@type": FCM_ERROR_TYPE, "errorCode": code.as_str() })],
    )
}

/// A running simulator. Clones share the same server; it stops when the last
/// clone is dropped or on `shutdown`. Dereferences to the kit's
/// [`sim_kit::Sim`] for scripting, recording, the clock and reset.
#[derive(Clone)]
pub struct Simulator {
    sim: Sim<Fcm>,
    /// The public listener (`src/front.rs`); the kit's server listens on a
    /// private 127.0.0.1 port behind it.
    front: Arc<front::Front>,
}

impl Deref for Simulator {
    type Target = Sim<Fcm>;

    fn deref(&self) -> &Sim<Fcm> {
        &self.sim
    }
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port. An app whose key cannot be read is
    /// an `InvalidInput` error.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let mut inner = Inner::default();
        for app in config.apps {
            inner
                .add_app(app)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        }
        let sim = Sim::start(Fcm {
            inner: Mutex::new(inner),
        })
        .await?;
        let front = Arc::new(front::start(addr, sim.clone()).await?);
        Ok(Simulator { sim, front })
    }

    /// The bound address (the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.front.addr
    }

    /// `http://127.0.0.1:PORT`, no trailing slash (an unspecified bind
    /// address is reported as 127.0.0.1).
    pub fn base_url(&self) -> String {
        let mut addr = self.front.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        format!("http://{addr}")
    }

    /// Stops the public listener (waiting at most 5 s for calls in
    /// flight), then the kit's server ([`sim_kit::Sim::shutdown`]).
    pub async fn shutdown(&self) {
        self.front.shutdown().await;
        self.sim.shutdown().await;
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// Registers an app; replaces an app with the same `client_email`.
    pub fn add_app(&self, app: SimApp) -> Result<(), String> {
        self.inner().add_app(app)
    }

    /// The token endpoint's URL ([`TOKEN_PATH`]), what `aud` is for an app
    /// without `token_uri`.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base_url())
    }

    /// The send URL of a project.
    pub fn send_url(&self, project_id: &str) -> String {
        format!("{}{}", self.base_url(), send_path(project_id))
    }

    /// Issues an access token for a registered service account without an
    /// assertion (the FCM scope, [`Settings::token_ttl_secs`]); `None` for
    /// an unknown `client_email`.
    pub fn issue_access_token(&self, client_email: &str) -> Option<String> {
        let now = self.now_ms();
        self.inner().issue(client_email, now)
    }

    /// Sets the verdict of a registration token (every project).
    pub fn set_token(&self, token: &str, verdict: TokenVerdict) {
        let mut inner = self.inner();
        match verdict {
            TokenVerdict::Valid => inner.verdicts.remove(token),
            verdict => inner.verdicts.insert(token.to_owned(), verdict),
        };
    }

    /// Sets a project's quota: accepted messages per window (`None`:
    /// unlimited, the default).
    pub fn set_quota(&self, project_id: &str, quota: Option<u64>) {
        self.inner().set_quota(project_id, quota);
    }

    pub fn settings(&self) -> Settings {
        self.inner().settings
    }

    pub fn set_settings(&self, settings: Settings) {
        self.inner().settings = settings;
    }

    /// Every delivery so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }
}

/// FCM's part of the simulator (the kit's [`sim_kit::Vendor`]).
pub struct Fcm {
    inner: Mutex<Inner>,
}

impl Fcm {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`TOKEN_PATH`], or the path of a registered app's `token_uri`.
    pub(crate) fn is_token_path(&self, path: &str) -> bool {
        path == TOKEN_PATH
            || self.lock().apps.values().any(|app| {
                app.app
                    .token_uri
                    .as_deref()
                    .and_then(uri_path)
                    .is_some_and(|p| p == path)
            })
    }
}

/// The path of an absolute URL (`/` when it has none).
fn uri_path(uri: &str) -> Option<&str> {
    let rest = &uri[uri.find("://")? + 3..];
    Some(rest.find('/').map_or("/", |at| &rest[at..]))
}

/// A registered app and its public key (PKCS#1 DER).
pub(crate) struct App {
    pub(crate) app: SimApp,
    pub(crate) key: Vec<u8>,
}

/// An issued access token.
pub(crate) struct AccessToken {
    pub(crate) client_email: String,
    pub(crate) project_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_ms: i64,
}

#[derive(Default)]
pub(crate) struct Inner {
    /// By `client_email`.
    pub(crate) apps: HashMap<String, App>,
    pub(crate) access_tokens: HashMap<String, AccessToken>,
    pub(crate) verdicts: HashMap<String, TokenVerdict>,
    pub(crate) quotas: HashMap<String, u64>,
    /// Per project, when each message in the quota window was accepted.
    pub(crate) sends: HashMap<String, VecDeque<i64>>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) settings: Settings,
    pub(crate) seq: u64,
}

impl Inner {
    pub(crate) fn add_app(&mut self, app: SimApp) -> Result<(), String> {
        let key = keys::public_key_der(&app.key_pem)?;
        self.apps.insert(app.client_email.clone(), App { app, key });
        Ok(())
    }

    pub(crate) fn issue(&mut self, client_email: &str, now_ms: i64) -> Option<String> {
        let app = self.apps.get(client_email)?;
        let token = oauth::new_access_token();
        let ttl_ms = self.settings.token_ttl_secs.saturating_mul(1000);
        let access = AccessToken {
            client_email: client_email.to_owned(),
            project_id: app.app.project_id.clone(),
            scopes: vec![FCM_SCOPE.to_owned()],
            expires_ms: now_ms.saturating_add(i64::try_from(ttl_ms).unwrap_or(i64::MAX)),
        };
        self.access_tokens.insert(token.clone(), access);
        Some(token)
    }

    pub(crate) fn set_quota(&mut self, project_id: &str, quota: Option<u64>) {
        match quota {
            Some(quota) => self.quotas.insert(project_id.to_owned(), quota),
            None => self.quotas.remove(project_id),
        };
    }

    /// FCM's part of [`sim_kit::Sim::reset`] (apps stay).
    pub(crate) fn reset(&mut self) {
        self.access_tokens.clear();
        self.verdicts.clear();
        self.quotas.clear();
        self.sends.clear();
        self.deliveries.clear();
    }
}
