//! A strict simulator of Apple Push Notification service's provider API with
//! token-based (JWT) authentication over HTTP/2 (`POST /3/device/<token>`),
//! written from `docs/VENDORS_API.md` §6 and §12 (and §7, §8, §11) on its own
//! reading. It shares no code with any APNs client, so a misreading of the
//! API is not shared by both sides.
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the
//! `apns-sim` binary and drive it through the `/_sim/*` control endpoints
//! (listed in `src/control.rs`). It stands on `sim-kit` (`tools/sim-kit`):
//! recording, scripted answers ([`CallAction`]: any body, HTTP status, delay,
//! garbage, an APNs error), the settable clock ([`SimClock`]) and the common
//! control endpoints behave as that crate's doc says; the [`Simulator`]
//! dereferences to the kit's [`sim_kit::Sim`] for them (`script_next`,
//! `requests`, `set_clock`, `reset`, ...). This doc is APNs' part.
//!
//! # Transport
//!
//! [`Simulator::base_url`] is a front server that speaks cleartext HTTP/2
//! with prior knowledge (h2c, as a client configured with
//! `http2_prior_knowledge()` speaks it) and HTTP/1.1. It forwards every
//! request to the kit's own server on an internal port, adding three
//! request headers ([`CONNECTION_HEADER`]: the number of the client's
//! connection, [`VERSION_HEADER`]: its HTTP version, and, on a vendor path
//! without `apns-id`, [`GENERATED_ID_HEADER`]: the id generated for it), and
//! adds the `apns-id` response header to every answer on a vendor path (the
//! request's, else the generated one). Those request headers show in the
//! recorded requests. The front exists because sim-kit's `Call` carries
//! neither the HTTP version nor the connection, and its `Reply` cannot set
//! response headers.
//!
//! # Behaviour
//!
//! Only `POST /3/device/<device token>` exists. Success is HTTP 200 with an
//! empty body (no `Content-Type`) and the `apns-id` header; an error is
//! `{"reason":"<Reason>"}` (`Content-Type: application/json`), with
//! `"timestamp"` (ms since the epoch) for 410 `Unregistered`. The first
//! failing check answers, in this order:
//!
//! 0. HTTP/1.x when [`Settings::refuse_http1`] (the default): HTTP 505,
//!    plain text;
//! 1. the path: not under `/3/device/`: 404 `BadPath`;
//! 2. the method: not POST: 405 `MethodNotAllowed`; then an empty token
//!    (`/3/device/`): 400 `MissingDeviceToken`;
//! 3. `authorization` or an `apns-*` header given twice: 400 `DuplicateHeaders`;
//! 4. the provider token: `authorization` missing: 403 `MissingProviderToken`;
//!    not `bearer <JWT>` (scheme in any case), not three base64url parts
//!    without padding, header or claims not JSON objects, `alg` not `ES256`,
//!    `kid` not a registered key ([`SimKey`]), the ES256 signature (64 bytes
//!    r‖s) not verified by that key, `iss` not the key's team, `iat` not an
//!    integer or more than [`Settings::iat_future_leeway_secs`] ahead of the
//!    clock: 403 `InvalidProviderToken`; `iat` more than
//!    [`Settings::token_max_age_secs`] (3600) before the clock: 403
//!    `ExpiredProviderToken` (exactly 3600 s old still passes);
//! 5. a token other than the current one of its scope
//!    ([`Settings::token_update_scope`]: the connection by default) less than
//!    [`Settings::min_token_refresh_secs`] (1200) after the current one was
//!    first used: 429 `TooManyProviderTokenUpdates`; the current token stays
//!    and keeps working; at or past that age the new token replaces it;
//! 6. `apns-push-type` missing (when [`Settings::require_push_type`], the
//!    default) or not one of [`PUSH_TYPES`]: 400 `InvalidPushType`;
//! 7. `apns-topic` missing: 400 `MissingTopic`; empty or not made of ASCII
//!    letters, digits, `.` and `-`: 400 `BadTopic`; not a bundle id of the
//!    token's team ([`SimApp`]) followed by the suffix its push type needs
//!    (`.voip`, `.complication`, `.pushkit.fileprovider`,
//!    `.push-type.liveactivity`, `.location-query`, `.voip-ptt`,
//!    `.push-type.widgets`, `.push-type.controls`; none for alert,
//!    background, mdm): 400 `TopicDisallowed`;
//! 8. `apns-priority` not `10` or `5` (or `1` with
//!    [`Settings::allow_priority_1`]): 400 `BadPriority`;
//! 9. `apns-expiration` not a non-negative integer of decimal digits: 400
//!    `BadExpirationDate`;
//! 10. `apns-collapse-id` over [`MAX_COLLAPSE_ID_BYTES`] (64) bytes: 400
//!     `BadCollapseId`;
//! 11. `apns-id` not a UUID (8-4-4-4-12 hex digits, any case): 400 `BadMessageId`;
//! 12. the device token not an even number of hex digits (any case),
//!     [`MIN_TOKEN_HEX`]..=[`MAX_TOKEN_HEX`] long: 400 `BadDeviceToken`;
//! 13. the payload: empty: 400 `PayloadEmpty`; over
//!     [`Settings::max_payload_bytes`] (4096; [`Settings::max_voip_payload_bytes`],
//!     5120, for voip): 413 `PayloadTooLarge`; not a JSON object, no `aps`
//!     object, or a wrongly typed `aps` key: 400 [`BAD_PAYLOAD`]; `aps.alert`
//!     with a push type other than `alert`, or a `background` push with
//!     `alert`/`badge`/`sound` or without `content-available: 1`: 400
//!     `InvalidPushType`; a `background` push with priority 10: 400
//!     `BadPriority`;
//! 14. the device ([`SimDevice`]; a token never set is valid everywhere):
//!     registered for the other environment ([`Settings::environment`]): 400
//!     `BadDeviceToken`; its verdict `BadDeviceToken` / `DeviceTokenNotForTopic`
//!     (400) or `Unregistered` (410 with its `timestamp`); bound to another
//!     bundle id: 400 `DeviceTokenNotForTopic`;
//! 15. the device's rate ([`Settings::rate_limit`], default none): 429
//!     `TooManyRequests`;
//! 16. accepted: one [`Delivery`].
//!
//! `aps` types: `alert` a string or an object whose `title`, `subtitle`,
//! `body`, `launch-image`, `*-loc-key` are strings and `*-loc-args` arrays of
//! strings; `badge` a non-negative integer; `sound` a string or an object
//! with a string `name`, `critical` 0/1, `volume` 0..=1; `thread-id`,
//! `category`, `target-content-id` strings; `mutable-content` and
//! `content-available` the integers 0 or 1; `interruption-level` one of
//! `passive`, `active`, `time-sensitive`, `critical`; `relevance-score` a
//! number. Unknown keys (in `aps`, its dictionaries and the payload) are
//! ignored.
//!
//! # Reasons the simulator returns
//!
//! "vendor" = the reason and its status are in VENDORS_API.md §6; "apple" =
//! not in the spec but in Apple's reason list (as client libraries repeat
//! it); "sim" = the simulator's choice of when (or, for [`BAD_PAYLOAD`],
//! which reason) APNs answers it.
//!
//! | status | reason | origin | when |
//! |--------|--------|--------|------|
//! | 200 | (empty body) | vendor | accepted |
//! | 400 | `BadCollapseId` | vendor | `apns-collapse-id` over 64 bytes |
//! | 400 | `BadDeviceToken` | vendor | token not hex of the right length; set so; registered for the other environment |
//! | 400 | `BadExpirationDate` | apple/sim | `apns-expiration` not digits |
//! | 400 | `BadMessageId` | apple/sim | `apns-id` not a UUID |
//! | 400 | `BadPriority` | apple/sim | priority not 10/5; background with 10 |
//! | 400 | `BadTopic` | apple/sim | topic empty or with other characters |
//! | 400 | `DeviceTokenNotForTopic` | vendor | set so; device bound to another bundle id |
//! | 400 | `DuplicateHeaders` | apple/sim | a checked header repeated |
//! | 400 | `InvalidPushType` | apple/sim | push type missing or unknown; payload not matching it |
//! | 400 | `MissingDeviceToken` | apple | `/3/device/` |
//! | 400 | `MissingTopic` | vendor | no `apns-topic` |
//! | 400 | `PayloadEmpty` | vendor | empty body |
//! | 400 | `BadPayload` | sim | payload not a JSON object, no `aps` object, wrong `aps` types |
//! | 400 | `TopicDisallowed` | apple/sim | topic not a bundle id of the team (with its suffix) |
//! | 403 | `ExpiredProviderToken` | vendor | `iat` older than 1 hour |
//! | 403 | `InvalidProviderToken` | vendor | see check 4 |
//! | 403 | `MissingProviderToken` | apple | no `authorization` |
//! | 404 | `BadPath` | apple | another path |
//! | 405 | `MethodNotAllowed` | vendor | not POST |
//! | 410 | `Unregistered` + `timestamp` | vendor | set so |
//! | 413 | `PayloadTooLarge` | vendor | payload over the limit |
//! | 429 | `TooManyProviderTokenUpdates` | vendor/sim | token changed too soon in its scope |
//! | 429 | `TooManyRequests` | vendor/sim | the device's rate limit |
//!
//! Reasons only answered when scripted ([`error_action`], [`REASONS`] has
//! every reason and its status): 403 `BadCertificate`,
//! `BadCertificateEnvironment`, `Forbidden`, `UnrelatedKeyIdInToken`,
//! `BadEnvironmentKeyIdInToken`; 400 `IdleTimeout`; 410 `ExpiredToken`; 500
//! `InternalServerError`; 503 `ServiceUnavailable`, `Shutdown`. A scripted
//! error has no side effects; its `apns-id` header is still answered.
//!
//! HTTP-level answers (not APNs reasons):
//!
//! | HTTP | when |
//! |------|------|
//! | 505 | HTTP/1.x on a vendor path with [`Settings::refuse_http1`] (plain text; sim: real APNs offers only HTTP/2 through TLS ALPN) |
//! | 413 | body over 4 MiB (the kit's limit, plain text) |
//! | 502 | the front could not reach the kit's server (only while shutting down) |
//! | any | scripted [`sim_kit::CallAction::HttpStatus`] (plain text) |
//!
//! # Keys, apps, devices, deliveries
//!
//! - A [`SimKey`] is a signing key of a team: its key id and the `.p8`
//!   (PKCS#8 PEM of a P-256 private key) from which the simulator derives
//!   the public key it verifies with. A [`SimApp`] is a bundle id of a team.
//! - Devices ([`Simulator::set_device`], `POST /_sim/devices`) carry a
//!   [`Verdict`], an optional environment and an optional bundle id; tokens
//!   are compared without regard to case. An `Unregistered` device answers
//!   the `timestamp` it was given, else the clock when it was set.
//! - Every accepted call is one [`Delivery`] ([`Simulator::deliveries`],
//!   `GET /_sim/deliveries`), with the `apns-id` answered.
//! - Quota: APNs publishes none. [`Settings::rate_limit`] (off by default)
//!   refuses a device's call once `max` calls to it were accepted within the
//!   last `window_ms` (by the simulator's clock): 429 `TooManyRequests`.
//!
//! # Receipts
//!
//! None: APNs has no delivery receipts (§6). The kit's receipt endpoints
//! exist and stay empty.
//!
//! # Choices (where the spec is unsure)
//!
//! - HTTP/1.1: refused with 505 by default ([`Settings::refuse_http1`]);
//!   control calls (`/_sim/*`) are served on both.
//! - Sandbox vs production: one simulator is one host
//!   ([`Settings::environment`], default production). Tokens never set are
//!   valid in both; a device registered for one environment is
//!   `BadDeviceToken` on the other (§6).
//! - Token updates (§6, §12): counted per connection by default;
//!   [`TokenScope::Team`] (§12's "token scope is the Team ID") and
//!   [`TokenScope::TeamKey`] are settings. "No more than every 20 min" is
//!   read as: a new token within 20 min of the current token's first use in
//!   that scope is refused. The connection stays usable with the current
//!   token (the spec says the connection is unusable for a while; a choice).
//!   A token of another team on the same connection counts as a change.
//! - A token whose `iat` is more than 60 s in the future is invalid
//!   ([`Settings::iat_future_leeway_secs`]).
//! - `apns-push-type` is required by default (§6 lists it among the headers
//!   sent; Apple requires it on watchOS and recommends it elsewhere).
//! - `apns-priority`: 10 and 5 (§6); 1 with a setting.
//! - The device token's length: 32 to 100 bytes (64 to 200 hex digits);
//!   APNs tokens are 32 bytes today and Apple says they may grow.
//! - The payload limit is on the body as sent (bytes); 5120 for voip (Apple's
//!   documented voip limit), both settings.
//! - Invalid JSON or a missing `aps`: the spec names no reason; the
//!   simulator answers 400 [`BAD_PAYLOAD`].
//! - Reset ([`sim_kit::Sim::reset`], `POST /_sim/reset`) keeps keys and apps
//!   and clears devices, deliveries, token and rate state, and sets
//!   [`Settings`] back to those the simulator was started with (and the
//!   kit's reset: requests, scripts, clock).

mod apns;
mod control;
mod front;
mod server;

pub use apns::PUSH_TYPES;
pub use front::{CONNECTION_HEADER, GENERATED_ID_HEADER, VERSION_HEADER};
pub use sim_kit::{
    http_client, http_client_builder, nodelay, shutdown_signal, RecordedRequest, SimClock,
};

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_kit::Sim;

use front::Front;

/// The send path, followed by the device token.
pub const PATH_PREFIX: &str = "/3/device/";

/// `apns-collapse-id` may have at most this many bytes.
pub const MAX_COLLAPSE_ID_BYTES: usize = 64;

/// The shortest device token, in hex digits (32 bytes).
pub const MIN_TOKEN_HEX: usize = 64;

/// The longest device token, in hex digits (100 bytes).
pub const MAX_TOKEN_HEX: usize = 200;

/// The reason answered for a payload that is not a JSON object with an
/// `aps` object of the right types (the spec names none).
pub const BAD_PAYLOAD: &str = "BadPayload";

/// Every reason the simulator knows, with its HTTP status.
pub const REASONS: [(&str, u16); 33] = [
    ("BadCollapseId", 400),
    ("BadDeviceToken", 400),
    ("BadExpirationDate", 400),
    ("BadMessageId", 400),
    ("BadPriority", 400),
    ("BadTopic", 400),
    ("DeviceTokenNotForTopic", 400),
    ("DuplicateHeaders", 400),
    ("IdleTimeout", 400),
    ("InvalidPushType", 400),
    ("MissingDeviceToken", 400),
    ("MissingTopic", 400),
    ("PayloadEmpty", 400),
    ("TopicDisallowed", 400),
    (BAD_PAYLOAD, 400),
    ("BadCertificate", 403),
    ("BadCertificateEnvironment", 403),
    ("ExpiredProviderToken", 403),
    ("Forbidden", 403),
    ("InvalidProviderToken", 403),
    ("MissingProviderToken", 403),
    ("UnrelatedKeyIdInToken", 403),
    ("BadEnvironmentKeyIdInToken", 403),
    ("BadPath", 404),
    ("MethodNotAllowed", 405),
    ("ExpiredToken", 410),
    ("Unregistered", 410),
    ("PayloadTooLarge", 413),
    ("TooManyProviderTokenUpdates", 429),
    ("TooManyRequests", 429),
    ("InternalServerError", 500),
    ("ServiceUnavailable", 503),
    ("Shutdown", 503),
];

/// The HTTP status of a reason of [`REASONS`].
pub fn reason_status(reason: &str) -> Option<u16> {
    REASONS
        .iter()
        .find(|(known, _)| *known == reason)
        .map(|&(_, status)| status)
}

/// A scripted APNs error: the status and `{"reason":..}` (and `timestamp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApnsError {
    pub status: u16,
    pub reason: String,
    pub timestamp: Option<i64>,
}

/// A scripted answer: `Body` is any JSON, answered HTTP 200.
pub type CallAction = sim_kit::CallAction<Value, ApnsError>;

/// A scripted error answer with `status` and `{"reason":reason}` (any
/// status and reason; [`reason_status`] gives APNs' own status).
pub fn error_action(status: u16, reason: &str) -> CallAction {
    sim_kit::CallAction::Vendor(ApnsError {
        status,
        reason: reason.to_owned(),
        timestamp: None,
    })
}

/// A scripted 410 `{"reason":"Unregistered","timestamp":timestamp_ms}`.
pub fn unregistered_action(timestamp_ms: i64) -> CallAction {
    sim_kit::CallAction::Vendor(ApnsError {
        status: 410,
        reason: "Unregistered".to_owned(),
        timestamp: Some(timestamp_ms),
    })
}

/// A signing key of a team, as created in the developer account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimKey {
    /// The 10-character Key ID: the JWT header's `kid`.
    pub key_id: String,
    /// The Team ID: the JWT's `iss`.
    pub team_id: String,
    /// The `.p8` file's text: a P-256 private key, PKCS#8 PEM.
    pub private_key_pem: String,
}

impl SimKey {
    pub fn new(
        key_id: impl Into<String>,
        team_id: impl Into<String>,
        private_key_pem: impl Into<String>,
    ) -> SimKey {
        SimKey {
            key_id: key_id.into(),
            team_id: team_id.into(),
            private_key_pem: private_key_pem.into(),
        }
    }
}

impl fmt::Debug for SimKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimKey")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("private_key_pem", &"[redacted]")
            .finish()
    }
}

/// An app of a team: its bundle id, the `apns-topic` it is pushed with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimApp {
    pub team_id: String,
    pub bundle_id: String,
}

impl SimApp {
    pub fn new(team_id: impl Into<String>, bundle_id: impl Into<String>) -> SimApp {
        SimApp {
            team_id: team_id.into(),
            bundle_id: bundle_id.into(),
        }
    }
}

/// Which APNs host the simulator is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// `api.push.apple.com` (the default).
    #[default]
    Production,
    /// `api.sandbox.push.apple.com`.
    Sandbox,
}

/// What APNs thinks of a device token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    #[default]
    Valid,
    /// 410 `Unregistered` with a timestamp.
    Unregistered,
    /// 400 `BadDeviceToken`.
    BadDeviceToken,
    /// 400 `DeviceTokenNotForTopic`.
    DeviceTokenNotForTopic,
}

/// A device token as APNs knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimDevice {
    #[serde(default)]
    pub verdict: Verdict,
    /// The environment that issued the token; `None`: valid in both.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// The app the token belongs to; `None`: any of the team's.
    #[serde(default)]
    pub bundle_id: Option<String>,
    /// For `Unregistered`: the `timestamp` answered (ms); `None`: the clock
    /// when set.
    #[serde(default)]
    pub unregistered_ms: Option<i64>,
}

impl SimDevice {
    /// A device with this verdict, in any environment, for any app.
    pub fn verdict(verdict: Verdict) -> SimDevice {
        SimDevice {
            verdict,
            ..SimDevice::default()
        }
    }

    /// A valid device issued by one environment.
    pub fn in_environment(environment: Environment) -> SimDevice {
        SimDevice {
            environment: Some(environment),
            ..SimDevice::default()
        }
    }
}

/// Where provider-token changes are counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Per HTTP connection (the default).
    #[default]
    Connection,
    /// Per Team ID, whatever the connection or key.
    Team,
    /// Per Team ID and Key ID.
    TeamKey,
}

/// At most `max` accepted calls per device token within `window_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub max: u32,
    pub window_ms: u64,
}

/// The simulator's readings of what the spec leaves open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The host simulated.
    pub environment: Environment,
    /// Answer HTTP/1.x vendor calls with 505.
    pub refuse_http1: bool,
    pub token_update_scope: TokenScope,
    /// A new token is refused this soon after the current one (s).
    pub min_token_refresh_secs: i64,
    /// A token whose `iat` is older than this is expired (s).
    pub token_max_age_secs: i64,
    /// How far `iat` may be ahead of the clock (s).
    pub iat_future_leeway_secs: i64,
    /// `apns-push-type` must be given.
    pub require_push_type: bool,
    /// Also accept `apns-priority: 1`.
    pub allow_priority_1: bool,
    pub max_payload_bytes: usize,
    pub max_voip_payload_bytes: usize,
    /// Per-device rate; `None`: unlimited.
    pub rate_limit: Option<RateLimit>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            environment: Environment::Production,
            refuse_http1: true,
            token_update_scope: TokenScope::Connection,
            min_token_refresh_secs: 20 * 60,
            token_max_age_secs: 60 * 60,
            iat_future_leeway_secs: 60,
            require_push_type: true,
            allow_priority_1: false,
            max_payload_bytes: 4096,
            max_voip_payload_bytes: 5120,
            rate_limit: None,
        }
    }
}

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub keys: Vec<SimKey>,
    pub apps: Vec<SimApp>,
    pub settings: Settings,
}

/// A notification APNs accepted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    /// The `apns-id` answered.
    pub apns_id: String,
    /// As in the path.
    pub device_token: String,
    pub topic: String,
    /// The topic without its push-type suffix.
    pub bundle_id: String,
    pub push_type: Option<String>,
    pub priority: Option<u8>,
    pub expiration: Option<i64>,
    pub collapse_id: Option<String>,
    pub team_id: String,
    pub key_id: String,
    pub environment: Environment,
    /// The client connection's number (see [`CONNECTION_HEADER`]).
    pub connection: Option<u64>,
    pub payload: Value,
    /// The simulator's clock when accepted (ms).
    pub accepted_ms: i64,
}

/// A running simulator. Clones share the same server; it stops when the
/// last clone is dropped or on [`Simulator::shutdown`]. Dereferences to the
/// kit's [`sim_kit::Sim`] for scripting, recording, the clock and reset.
#[derive(Clone)]
pub struct Simulator {
    sim: Sim<Apns>,
    front: Arc<Front>,
}

impl Deref for Simulator {
    type Target = Sim<Apns>;

    fn deref(&self) -> &Sim<Apns> {
        &self.sim
    }
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Binds `addr` (the front; the kit's server takes a free port on
    /// 127.0.0.1). A key whose PEM is not a P-256 PKCS#8 key fails with
    /// `InvalidInput`.
    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let apns = Apns::new(config)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let sim = Sim::start(apns).await?;
        let front = Front::start(addr, sim.base_url()).await?;
        Ok(Simulator {
            sim,
            front: Arc::new(front),
        })
    }

    /// `http://127.0.0.1:PORT` of the front server, no trailing slash.
    pub fn base_url(&self) -> String {
        let mut addr = self.front.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        format!("http://{addr}")
    }

    /// The front server's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.front.addr
    }

    /// Stops the front server, then the kit's.
    pub async fn shutdown(&self) {
        self.front.stop().await;
        self.sim.shutdown().await;
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// Registers a signing key; replaces one with the same key id.
    pub fn add_key(&self, key: SimKey) -> Result<(), String> {
        self.inner().add_key(&key)
    }

    /// Registers a bundle id for a team.
    pub fn add_app(&self, app: SimApp) {
        self.inner().add_app(app);
    }

    /// Sets what APNs thinks of a device token (default: valid everywhere).
    pub fn set_device(&self, token: &str, device: SimDevice) {
        let now = self.now_ms();
        self.inner().set_device(token, device, now);
    }

    pub fn settings(&self) -> Settings {
        self.inner().settings.clone()
    }

    pub fn set_settings(&self, settings: Settings) {
        self.inner().settings = settings;
    }

    /// Sets only [`Settings::environment`].
    pub fn set_environment(&self, environment: Environment) {
        self.inner().settings.environment = environment;
    }

    /// Sets only [`Settings::rate_limit`].
    pub fn set_rate_limit(&self, rate_limit: Option<RateLimit>) {
        self.inner().settings.rate_limit = rate_limit;
    }

    /// Every accepted notification so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }
}

/// APNs' part of the simulator (the kit's [`sim_kit::Vendor`]).
pub struct Apns {
    inner: Mutex<Inner>,
}

impl Apns {
    fn new(config: SimConfig) -> Result<Apns, String> {
        let mut inner = Inner {
            settings: config.settings.clone(),
            start_settings: config.settings,
            ..Inner::default()
        };
        for key in &config.keys {
            inner.add_key(key)?;
        }
        for app in config.apps {
            inner.add_app(app);
        }
        Ok(Apns {
            inner: Mutex::new(inner),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) struct KeyEntry {
    pub(crate) team_id: String,
    pub(crate) public_key: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct Inner {
    /// By key id.
    pub(crate) keys: HashMap<String, KeyEntry>,
    /// Bundle ids by team id.
    pub(crate) apps: HashMap<String, BTreeSet<String>>,
    /// By lower-case token.
    pub(crate) devices: HashMap<String, StoredDevice>,
    pub(crate) deliveries: Vec<Delivery>,
    /// The current provider token of each scope and when it was first used.
    pub(crate) tokens: HashMap<String, (String, i64)>,
    /// Accepted calls per lower-case device token (clock ms), for the rate.
    pub(crate) sends: HashMap<String, VecDeque<i64>>,
    pub(crate) settings: Settings,
    pub(crate) start_settings: Settings,
}

pub(crate) struct StoredDevice {
    pub(crate) verdict: Verdict,
    pub(crate) environment: Option<Environment>,
    pub(crate) bundle_id: Option<String>,
    pub(crate) unregistered_ms: i64,
}

impl Inner {
    pub(crate) fn add_key(&mut self, key: &SimKey) -> Result<(), String> {
        let public_key = apns::public_key_of_pem(&key.private_key_pem)?;
        self.keys.insert(
            key.key_id.clone(),
            KeyEntry {
                team_id: key.team_id.clone(),
                public_key,
            },
        );
        Ok(())
    }

    pub(crate) fn add_app(&mut self, app: SimApp) {
        self.apps
            .entry(app.team_id)
            .or_default()
            .insert(app.bundle_id);
    }

    pub(crate) fn set_device(&mut self, token: &str, device: SimDevice, now_ms: i64) {
        self.devices.insert(
            token.to_ascii_lowercase(),
            StoredDevice {
                verdict: device.verdict,
                environment: device.environment,
                bundle_id: device.bundle_id,
                unregistered_ms: device.unregistered_ms.unwrap_or(now_ms),
            },
        );
    }

    /// APNs' part of [`sim_kit::Sim::reset`].
    pub(crate) fn reset(&mut self) {
        self.devices.clear();
        self.deliveries.clear();
        self.tokens.clear();
        self.sends.clear();
        self.settings = self.start_settings.clone();
    }
}
