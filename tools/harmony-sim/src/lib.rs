//! A strict simulator of Huawei Push Kit's HarmonyOS 5+ (HarmonyOS NEXT)
//! scenario API v3 (`POST /v3/{projectId}/messages:send`), written from
//! `docs/VENDORS_API.md` §13 and §14 (and the HarmonyOS rows of §7, §8, §11
//! and §16) on its own reading. It shares no code with any Push Kit client,
//! so a misreading of the API is not shared by both sides. Only the Alert
//! scenario (`push-type: 0`) is simulated; revoke (§14.9) is not.
//!
//! Tests use it in-process ([`Simulator::start`]); local runs use the
//! `harmony-sim` binary (default 127.0.0.1:9708) and drive it through the
//! `/_sim/*` control endpoints (listed in `src/control.rs`). It stands on
//! `sim-kit` (`tools/sim-kit`): recording, scripted answers ([`CallAction`]),
//! the settable clock ([`SimClock`]), the receipt POSTs and the common
//! control endpoints behave as that crate's doc says; the [`Simulator`]
//! dereferences to the kit's [`sim_kit::Sim`] for them (`script_next`,
//! `requests`, `set_clock`, `flush_receipts`, `reset`, ...). This doc is
//! Push Kit's part.
//!
//! # Projects and auth
//!
//! A [`SimApp`] is an AppGallery Connect project (its id is the URL's
//! `projectId`) with its service accounts ([`ServiceAccount`]: `key_id`,
//! `sub_account`, and the PKCS#8 PEM private key of the key file, from which
//! the public key is derived, or the public key alone) and its one app
//! (`package_name`, rights, caps, receipt configurations). There is no token
//! endpoint: the bearer value is a self-signed JWT (§14.2) checked on every
//! call:
//!
//! - `Authorization` exactly `Bearer <jwt>`; three unpadded base64url parts;
//!   header and claims JSON objects;
//! - header `alg` `PS256` (RSASSA-PSS SHA-256, verified with ring's
//!   `RSA_PSS_2048_8192_SHA256`), or `RS256` only with
//!   [`Settings::accept_rs256`] (§14.2 CONFLICT, §16 guess 3; default off);
//!   `typ` absent or `JWT`; `kid` a registered key id of the URL's project
//!   (another project's key is refused);
//! - the signature verifies; `iss` = the account's `sub_account`; `aud` =
//!   [`Settings::audience`] ([`AUDIENCE`]), a string or an array holding it;
//!   `iat` and `exp` integers (seconds), `exp > iat`;
//! - `exp - iat` over [`Settings::max_jwt_lifetime_secs`] (one day):
//!   80300036; now (the simulator's clock) at or after `exp`: 80200005;
//!   `iat` more than [`Settings::jwt_leeway_secs`] (300) ahead of now:
//!   80200001. Every other failure is 80200001.
//!
//! [`sign_jwt`] and [`Simulator::jwt`] (`POST /_sim/jwt`) mint JWTs for
//! tests and smoke scripts.
//!
//! # Send
//!
//! Answers are `{"code":"<8 digits>","msg":"..","requestId":"<digits>"}`
//! (all strings), with the HTTP status [`Settings::http_status_of`] gives
//! the code (200 for 80000000, 80100000 and 80300007; 401 for 80200001,
//! 80200005 and 80300036; 500 for 81000001; 400 for the rest; each
//! replaceable, §16 guess 1). The first failing check answers, in this
//! order (§16 guess 11, the order is the simulator's):
//!
//! 1. the path: `/v3/<projectId>/messages:send`; `/v1/<id>/messages:send`
//!    and `/v2/<id>/messages:send` answer 80200001 (the JWT is not accepted
//!    there, §14.2); any other path HTTP 404; then the method (405);
//! 2. the JWT (above): 80200001, 80300036, 80200005;
//! 3. Push Kit enabled for the project ([`SimApp::push_enabled`]): 80300002;
//!    a project under penalty ([`SimApp::penalized`]): 80300037;
//! 4. the `push-type` header: missing or not one of 0, 1, 2, 6, 7, 10, 11
//!    (decimal digits only): 80100003 `Illegal payload, The header does not
//!    contain valid push-type`;
//! 5. `Content-Type` `application/json` (optional `charset=UTF-8`), a JSON
//!    object: else 80100001;
//! 6. the body size: the compact JSON of the body without `target.token`
//!    over [`Settings::body_limit`] (4096, "excluding tokens"): 80300008;
//! 7. `target` an object with `token` an array (else 80100003) of 1..=1000
//!    entries (else 80300010 `token count should within 1 and 1000`), each a
//!    string (else 80100003);
//! 8. a push-type other than 0 is not simulated: the project has no right
//!    for it, 80300007 with every token under `noPushTypeRight`;
//! 9. `pushOptions` (below): 80100003, 80100004; `testMessage` with more
//!    than 10 tokens: 80300030;
//! 10. `payload.notification` (below): 80100003;
//! 11. the category: missing, with [`Settings::missing_category`] `Reject`,
//!     or not approved for the project with
//!     [`Settings::unapproved_category`] `Reject`: 80100003;
//! 12. `pushOptions.receiptId` not a receipt configuration of the project:
//!     80100003;
//! 13. flow control: HTTP 503 (plain text `Service Unavailable`) when the
//!     project's calls this second reach [`SimApp::qps`]; for a test message,
//!     80300029 when the project's test calls this second reach
//!     [`Settings::test_rate_per_sec`];
//! 14. the tokens: a token not well-formed ([`Settings::token_syntax`]; an
//!     empty string never is) is `tokenFormatError`; else its verdict
//!     ([`TokenVerdict`]). Every token illegal: 80300007 with `msg` the
//!     JSON string `{"failure":n,"illegalTokens":{"<reason>":[..]}}`; some:
//!     80100000 with `{"failure":n,"illegalTokens":{..},"success":m}`; none:
//!     80000000 `Success`. Tokens keep request order under their reason;
//!     each token has one reason (its format first, then its verdict: §16
//!     guess 7). With [`Settings::pad_illegal_keys`] every key is written
//!     with a space each side (` noRight `), as the doc's example has them.
//!
//! Field rules (types are strict: a number is not a string, `"1"` is not an
//! integer; `null` counts as absent; unknown fields are ignored; every
//! refusal is 80100003 `Illegal payload, <tips>` unless said):
//!
//! - `pushOptions`: an object; `ttl` an integer 1..=1296000 (default 86400;
//!   below 1: 80100004 `Illegal expire time`; above: 80100004 or clamped by
//!   [`Settings::ttl_over_max`], §16 guess 10; not an integer: 80100003);
//!   `testMessage` a boolean; `biTag`, `receiptId` strings of at most 64
//!   bytes; `collapseKey` an integer -1..=100 (§14.4 CONFLICT on the meaning
//!   of 0: both readings accepted, the value is recorded as sent);
//!   `backgroundMode` refused (push-type 6 only);
//! - `payload` an object with `notification` an object: `category` a string,
//!   one of [`SERVICE_CATEGORIES`] or `MARKETING` (`PLAY_VOICE` refused on
//!   push-type 0); `title`, `body` non-empty strings (no per-field limit);
//!   `image` an `https://` URL; `style` 0, 1 or 3; `bigTitle`, `bigBody`
//!   strings; `inboxContent` at most 3 strings of at most 1024 characters;
//!   `notifyId` an integer -1..=2147483647; `appMessageId` 1..=64 characters
//!   of `A-Z a-z 0-9 + / = _ -` and space; `profileId` a string of at most
//!   64 characters; `sound` a string; `soundDuration` 1..=60;
//!   `foregroundShow` a boolean; `badge` an object with `addNum` 1..=99
//!   (`badge addNum value ranges from 1 to 99`) and `setNum` 0..=99;
//! - `clickAction` required, an object: `actionType` 0 (home) or 1 (needs a
//!   non-empty `action` or `uri`); 3 and 5 refused (live view only);
//!   `data` an object or a string (§14.4 CONFLICT: both accepted).
//!
//! # Result codes the simulator returns
//!
//! "vendor" = the code and its meaning are in VENDORS_API.md §14.2/§14.5;
//! "sim" = Huawei documents the code but not which check answers it (or its
//! text), so the split is the simulator's; "vendor/sim" = Huawei names the
//! code and the rule, the simulator chose how to read the rule. `msg` texts
//! are the simulator's except `Success`, `Authentication Error`, `Jwt token
//! expired`, `Illegal expire time`, the push-type text, the badge text and
//! `token count should within 1 and 1000`.
//!
//! | code     | origin | when |
//! |----------|--------|------|
//! | 80000000 | vendor | success |
//! | 80100000 | vendor | some tokens illegal: `msg` the JSON string above |
//! | 80100001 | sim    | `Content-Type` or the body not a JSON object (check 5) |
//! | 80100003 | vendor/sim | the push-type header (vendor), a field, the category policy, an unknown `receiptId` (sim) |
//! | 80100004 | vendor/sim | `pushOptions.ttl` below 1 or above 1296000 |
//! | 80200001 | vendor | a missing, malformed, unverifiable, unknown-key, foreign-project JWT; a v1/v2 path |
//! | 80200005 | vendor | the JWT expired |
//! | 80300002 | vendor | Push Kit disabled for the project |
//! | 80300007 | vendor | every token illegal; every push-type other than 0 (`noPushTypeRight`) |
//! | 80300008 | vendor | the body without tokens over 4096 bytes |
//! | 80300010 | vendor | 0 or more than 1000 tokens |
//! | 80300029 | vendor/sim | test calls this second at [`Settings::test_rate_per_sec`] (off by default) |
//! | 80300030 | vendor | a test message with more than 10 tokens |
//! | 80300036 | vendor | a JWT lifetime over one day |
//! | 80300037 | vendor | a project under penalty |
//!
//! Codes Huawei has and the simulator only answers when scripted
//! ([`error_action`] builds the body, with the HTTP status of the code):
//! 80100022 (image not verified), 81000001 (internal error), and any other
//! code or text. 80100000/80300007 with the other `illegalTokens` keys
//! (`appinfoError`, `countryNotSupport`, ...) come from token verdicts.
//!
//! HTTP-level answers (not Push Kit result codes):
//!
//! | HTTP | when |
//! |------|------|
//! | 404  | any other path (plain text) |
//! | 405  | a send path with a method other than POST |
//! | 413  | body over 4 MiB (the kit's limit) |
//! | 503  | flow control (plain text; sim: Huawei documents the status, not the body) |
//! | any  | scripted [`sim_kit::CallAction::HttpStatus`] |
//!
//! # Tokens, categories, caps, deliveries
//!
//! - Every token is valid unless set ([`Simulator::set_token`], for every
//!   project): [`TokenVerdict::Illegal`] with an `illegalTokens` key (one of
//!   [`ILLEGAL_REASONS`]: `tokenFormatError`, `tokenPlatformNotSupport`,
//!   `noRight`, ...) is refused at send; [`TokenVerdict::Status`] is accepted
//!   and later reported with that receipt result (2, 5, 6, 10, ...). A token
//!   given twice is delivered twice.
//! - The effective category (§14.6) is the sent `category` when the project
//!   has its self-classification right ([`SimApp::approved_categories`],
//!   default `["IM"]`), else MARKETING; a missing category is MARKETING.
//!   Both are silent by default (§16 guess 4), or refused by the settings.
//! - Per project and token per Huawei day (midnight to midnight UTC+8 by the
//!   simulator's clock, a choice): at most [`SimApp::marketing_daily_cap`]
//!   MARKETING notifications (default 2; news apps 5), beyond which a
//!   target is accepted with result 256; at most
//!   [`SimApp::device_daily_cap`] service & communication notifications
//!   (§14.6 CONFLICT: default none, "system judgement"; 3000 the other
//!   reading), beyond which a target is accepted with result 102. Targets
//!   over a cap are not counted.
//! - Test messages (`testMessage: true`) are exempt from both caps; each
//!   successful request counts once against [`Settings::test_daily_limit`]
//!   per project per day (1000); the requests beyond it are still accepted
//!   and their targets get result 256 (§14.7).
//! - Every accepted target is one [`Delivery`] ([`Simulator::deliveries`],
//!   `GET /_sim/deliveries`) with its `status` and `effective_category`.
//!   Illegal tokens and refused calls make none.
//!
//! # Receipts
//!
//! A project's receipt configurations ([`ReceiptConfig`], as set in
//! AppGallery Connect for receipt version V2: id, URL, user name, secret)
//! are registered with the project (project level only; app-level
//! configurations are not simulated). A message uses the one its
//! `pushOptions.receiptId` names, else the project's default one
//! (`default: true`), else none. Each accepted target queues one status
//! `{"token","pushType":0,"appPackageName","biTag" ("" without one),
//! "requestId","deliveryStatus":{"result","timestamp"}}` (`timestamp` the
//! simulator's clock when queued, ms; `result` as its delivery's status).
//! The kit's engine sends them (sim-kit, "Receipts": delay, flush, retries,
//! redelivery, log) as `POST <url>`, `Content-Type: application/json`, body
//! `{"statuses":[...]}`, at most [`Settings::receipt_batch`] (100) statuses
//! per POST; statuses of several messages to one URL share POSTs. Any 2xx
//! answer is accepted, whatever its body (the §14.8 CONFLICT on the reply's
//! shape).
//!
//! When the configuration has a secret, each POST attempt carries
//! `X-HUAWEI-CALLBACK-ID: timestamp=<ms>;nonce=<uuid>;value=<base64(
//! HmacSHA256(key, timestamp+nonce+username))>` ([`callback_value`]), the
//! timestamp being the simulator's clock at the attempt and the nonce fresh
//! each attempt. The key is the base64-decoded secret
//! ([`ReceiptKey::Base64Decoded`], new configurations, the default) or the
//! secret's UTF-8 bytes ([`ReceiptKey::Utf8`], legacy ones): §14.8 CONFLICT,
//! chosen per configuration. Without a secret no header is sent. The kit's
//! engine cannot add a header, so each entry is queued for this
//! simulator's own relay, `POST /_sim/receipt-relay?project=..&receipt=..&to=<receiver>`
//! ([`RELAY_PATH`]), which signs and forwards the body and answers with the
//! receiver's status (502 when the receiver does not answer within 4 s):
//! the receipt log's `url` is that relay URL, [`PendingReceipt::callback_url`]
//! the receiver. Receipts still queued at shutdown are dropped (the relay
//! stops with the server). http and https receiver URLs are accepted.
//!
//! [`Simulator::send_receipt`] (`POST /_sim/receipts`) queues receipts of
//! any result (0, 2, 5, 6, 10, 102, 256, ...) for a message by its
//! `requestId`, for given tokens or all its accepted targets.
//!
//! # Other choices
//!
//! - The project id is any non-empty path segment; no id syntax is checked.
//! - A verified JWT is accepted for its whole lifetime; nothing is cached.
//! - `requestId` is the simulator's clock in ms followed by 7 digits.
//! - No QPS value is known (§16 guess 6): [`SimApp::qps`] is off by default.
//! - Badge-only Alerts are not simulated: `title` and `body` are required.
//! - Reset ([`sim_kit::Sim::reset`], `POST /_sim/reset`) keeps projects and
//!   their keys and clears everything else: token verdicts, call and daily
//!   counters, deliveries, messages (their ids become unknown to
//!   `send_receipt`), and sets [`Settings`] back to default (and the kit's
//!   reset: requests, scripts, clock, receipt queue and log; receipt
//!   settings are kept).

mod control;
mod jwt;
mod receipts;
mod send;
mod server;

pub use jwt::{pem_to_der, public_key_of, sign_jwt, JwtAlg, AUDIENCE};
pub use receipts::{callback_value, HarmonyReceipts, PendingReceipt, CALLBACK_HEADER, RELAY_PATH};
pub use sim_kit::{
    http_client, http_client_builder, nodelay, shutdown_signal, ReceiptOutcome, ReceiptPost,
    ReceiptSettings, RecordedRequest, SimClock,
};

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sim_kit::Sim;

/// The send path of a project: `/v3/{projectId}/messages:send` (§14.1).
pub fn send_path(project_id: &str) -> String {
    format!("/v3/{project_id}/messages:send")
}

/// At most this many tokens in `target.token` (§14.4); more answer 80300010.
pub const MAX_TOKENS: usize = 1000;

/// At most this many tokens in a test message (§14.4); more answer 80300030.
pub const MAX_TEST_TOKENS: usize = 10;

/// The service & communication categories of §14.6 (`PLAY_VOICE` is for
/// push-type 2 only and refused on an Alert).
pub const SERVICE_CATEGORIES: [&str; 13] = [
    "IM",
    "VOIP",
    "MISS_CALL",
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
];

/// The `illegalTokens` keys of §14.5 a token verdict may name.
pub const ILLEGAL_REASONS: [&str; 11] = [
    "tokenFormatError",
    "tokenPlatformNotSupport",
    "noRight",
    "noPushTypeRight",
    "noRightToSendThisLiveNotificationEvent",
    "notSupportPlayVoice",
    "appinfoError",
    "countryNotSupport",
    "disableSendHuaweiMsgBecauseOfPenalty",
    "differentImgVerifyPolicy",
    "atomicUnableSendUnsubscribedMsg",
];

/// The `push-type` values of §14.3 other than 0 (Alert): known, not
/// simulated, refused as the project has no right for them.
pub const OTHER_PUSH_TYPES: [u8; 6] = [1, 2, 6, 7, 10, 11];

/// A scripted answer: `Body` is any JSON answered HTTP 200; `Vendor` is a
/// Push Kit-shaped error ([`error_action`]).
pub type CallAction = sim_kit::CallAction<Value, HarmonyAction>;

/// Push Kit's own scripted answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HarmonyAction {
    /// `{"code":code,"msg":msg,"requestId":".."}` with the HTTP status the
    /// settings give that code ([`Settings::http_status_of`]), or `status`.
    Error {
        code: String,
        msg: String,
        status: Option<u16>,
    },
}

/// A scripted Push Kit answer with any documented (or undocumented) code:
/// `{"code":code,"msg":msg,"requestId":".."}`, HTTP status by the code
/// ([`Settings::http_status_of`]).
pub fn error_action(code: &str, msg: &str) -> CallAction {
    sim_kit::CallAction::Vendor(HarmonyAction::Error {
        code: code.to_owned(),
        msg: msg.to_owned(),
        status: None,
    })
}

/// [`error_action`] with an explicit HTTP status.
pub fn error_action_with_status(code: &str, msg: &str, status: u16) -> CallAction {
    sim_kit::CallAction::Vendor(HarmonyAction::Error {
        code: code.to_owned(),
        msg: msg.to_owned(),
        status: Some(status),
    })
}

/// How the receipt secret becomes the HMAC key (§14.8 CONFLICT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKey {
    /// The secret is base64 text; the key is its decoded bytes (new
    /// configurations; the default).
    #[default]
    Base64Decoded,
    /// The key is the secret's UTF-8 bytes (legacy configurations).
    Utf8,
}

/// A receipt configuration of a project, as set in AppGallery Connect
/// (§14.8).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptConfig {
    /// The id `pushOptions.receiptId` names.
    pub id: String,
    /// Where the receipts are POSTed (http or https).
    pub url: String,
    /// The user name signed into `X-HUAWEI-CALLBACK-ID`.
    #[serde(default)]
    pub username: String,
    /// The secret; without one (the default) the header is not sent.
    #[serde(default)]
    pub secret: Option<String>,
    /// How the secret becomes the HMAC key.
    #[serde(default)]
    pub key: ReceiptKey,
    /// Used for messages without `receiptId`.
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
            key: ReceiptKey::default(),
            default: false,
        }
    }

    /// With a user name and secret (base64 text unless [`Self::with_key`]
    /// says otherwise).
    pub fn signed(mut self, username: &str, secret: &str) -> ReceiptConfig {
        self.username = username.to_owned();
        self.secret = Some(secret.to_owned());
        self
    }

    /// With this reading of the secret.
    pub fn with_key(mut self, key: ReceiptKey) -> ReceiptConfig {
        self.key = key;
        self
    }

    /// Used for messages that carry no `receiptId`.
    pub fn as_default(mut self) -> ReceiptConfig {
        self.default = true;
        self
    }

    /// The HMAC key, when a secret is set; an error when a
    /// [`ReceiptKey::Base64Decoded`] secret is not base64.
    pub fn hmac_key(&self) -> Result<Option<Vec<u8>>, SimError> {
        let Some(secret) = &self.secret else {
            return Ok(None);
        };
        match self.key {
            ReceiptKey::Utf8 => Ok(Some(secret.as_bytes().to_vec())),
            ReceiptKey::Base64Decoded => base64::engine::general_purpose::STANDARD
                .decode(secret)
                .map(Some)
                .map_err(|_| {
                    SimError(format!(
                        "the secret of receipt configuration {:?} is not base64",
                        self.id
                    ))
                }),
        }
    }
}

impl fmt::Debug for ReceiptConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptConfig")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("key", &self.key)
            .field("default", &self.default)
            .finish()
    }
}

/// A service account of a project (the key file of §14.2): the simulator
/// checks JWTs against its public key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    /// `key_id`: the JWT header's `kid`.
    pub key_id: String,
    /// `sub_account`: the JWT's `iss`.
    pub sub_account: String,
    /// `private_key`: PKCS#8 PEM (RSA). The public key is derived from it,
    /// and the simulator can mint JWTs ([`Simulator::jwt`]).
    #[serde(default)]
    pub private_key: Option<String>,
    /// The RSA public key as base64 of its DER `RSAPublicKey`, when the
    /// private key is not given.
    #[serde(default)]
    pub public_key: Option<String>,
}

impl ServiceAccount {
    /// An account known by its private key (PKCS#8 PEM).
    pub fn new(key_id: &str, sub_account: &str, private_key_pem: &str) -> ServiceAccount {
        ServiceAccount {
            key_id: key_id.to_owned(),
            sub_account: sub_account.to_owned(),
            private_key: Some(private_key_pem.to_owned()),
            public_key: None,
        }
    }

    /// An account known by its public key (base64 of DER `RSAPublicKey`).
    pub fn with_public_key(
        key_id: &str,
        sub_account: &str,
        public_key_b64: &str,
    ) -> ServiceAccount {
        ServiceAccount {
            key_id: key_id.to_owned(),
            sub_account: sub_account.to_owned(),
            private_key: None,
            public_key: Some(public_key_b64.to_owned()),
        }
    }

    /// The project id and account of a service-account key file (JSON with
    /// `project_id`, `key_id`, `sub_account`, `private_key`; other fields
    /// ignored).
    pub fn from_key_file(text: &str) -> Result<(String, ServiceAccount), SimError> {
        let file: Value = serde_json::from_str(text)
            .map_err(|e| SimError(format!("the key file is not JSON: {e}")))?;
        let field = |name: &str| {
            file.get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| SimError(format!("the key file has no {name}")))
        };
        let project_id = field("project_id")?;
        let account = ServiceAccount::new(
            &field("key_id")?,
            &field("sub_account")?,
            &field("private_key")?,
        );
        Ok((project_id, account))
    }
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("key_id", &self.key_id)
            .field("sub_account", &self.sub_account)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "[redacted]"),
            )
            .field("public_key", &self.public_key)
            .finish()
    }
}

fn yes() -> bool {
    true
}

fn two() -> Option<u32> {
    Some(2)
}

fn im() -> Vec<String> {
    vec!["IM".to_owned()]
}

fn package() -> String {
    "com.example.harmony".to_owned()
}

/// A project known to the simulator, as set up in AppGallery Connect: its
/// service accounts, its (one) HarmonyOS app, rights, caps and receipt
/// configurations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimApp {
    /// The project id of `/v3/{projectId}/messages:send`.
    pub project_id: String,
    /// Service accounts whose JWTs are accepted for this project.
    #[serde(default)]
    pub accounts: Vec<ServiceAccount>,
    /// The app's bundle name, `appPackageName` in receipts.
    #[serde(default = "package")]
    pub package_name: String,
    /// Push Kit enabled for the project; false answers 80300002.
    #[serde(default = "yes")]
    pub push_enabled: bool,
    /// Under penalty: every send answers 80300037.
    #[serde(default)]
    pub penalized: bool,
    /// Categories with the self-classification right (§14.6); others count
    /// as MARKETING (or are refused, [`Settings::unapproved_category`]).
    #[serde(default = "im")]
    pub approved_categories: Vec<String>,
    /// MARKETING notifications per token per day (2, news apps 5; `None`
    /// unlimited). Beyond it a target is accepted with receipt 256.
    #[serde(default = "two")]
    pub marketing_daily_cap: Option<u32>,
    /// Service & communication notifications per token per day before
    /// receipt 102 (`None`, the default: no number, §14.6 CONFLICT; 3000 the
    /// Android reading).
    #[serde(default)]
    pub device_daily_cap: Option<u32>,
    /// Send calls per second (simulator's clock) before HTTP 503; `None`
    /// (the default) unlimited.
    #[serde(default)]
    pub qps: Option<u32>,
    /// Receipt configurations.
    #[serde(default)]
    pub receipts: Vec<ReceiptConfig>,
}

impl SimApp {
    /// A project with Push Kit enabled, the IM right, the default caps, one
    /// service account and no receipt configuration.
    pub fn new(project_id: impl Into<String>, account: ServiceAccount) -> SimApp {
        SimApp {
            project_id: project_id.into(),
            accounts: vec![account],
            package_name: package(),
            push_enabled: true,
            penalized: false,
            approved_categories: im(),
            marketing_daily_cap: two(),
            device_daily_cap: None,
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

/// Start-up configuration.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub apps: Vec<SimApp>,
}

/// What Push Kit thinks of a token (for every project). Every token is
/// valid unless set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenVerdict {
    /// Delivered: receipt result 0.
    Valid,
    /// Refused at send, listed under this `illegalTokens` key (one of
    /// [`ILLEGAL_REASONS`]).
    Illegal(String),
    /// Accepted at send, then reported with this receipt result (2, 5, 6,
    /// 10, ...).
    Status(u32),
}

/// What a notification with a missing or unapproved category gets (§16
/// guess 4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryPolicy {
    /// Silently MARKETING (the default; the doc implies it).
    #[default]
    Marketing,
    /// Refused with 80100003.
    Reject,
}

/// What a `pushOptions.ttl` above 1296000 s gets (§16 guess 10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TtlOverMax {
    /// Refused with 80100004 (the default).
    #[default]
    Reject,
    /// Accepted, recorded as 1296000.
    Clamp,
}

/// Which token strings are well-formed (§16 guess 9); others are
/// `tokenFormatError`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSyntax {
    /// Any non-empty string (the default).
    #[default]
    Any,
    /// 32..=512 characters of `A-Z a-z 0-9 + / = _ - . :`.
    Strict,
}

/// The simulator's readings of what the spec leaves open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Receipt statuses per POST, 1..=100 (100).
    pub receipt_batch: usize,
    /// Bytes of the body without `target.token` (compact JSON) before
    /// 80300008 (4096).
    pub body_limit: usize,
    pub ttl_over_max: TtlOverMax,
    /// A category without the self-classification right.
    pub unapproved_category: CategoryPolicy,
    /// A notification without `category`.
    pub missing_category: CategoryPolicy,
    /// Also accept RS256 JWTs (§14.2 CONFLICT; default false, §16 guess 3).
    pub accept_rs256: bool,
    /// The accepted JWT `aud`.
    pub audience: String,
    /// The longest JWT lifetime (`exp - iat`) before 80300036 (86400 s).
    pub max_jwt_lifetime_secs: i64,
    /// How far in the future `iat` may be (300 s).
    pub jwt_leeway_secs: i64,
    /// Successful test-message requests per project per day before their
    /// targets get receipt 256 (1000).
    pub test_daily_limit: u32,
    /// Test-message calls per project per second before 80300029 (`None`,
    /// the default: no limit).
    pub test_rate_per_sec: Option<u32>,
    pub token_syntax: TokenSyntax,
    /// Write `illegalTokens` keys padded with a space each side, as the
    /// doc's example does (default false).
    pub pad_illegal_keys: bool,
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
            unapproved_category: CategoryPolicy::Marketing,
            missing_category: CategoryPolicy::Marketing,
            accept_rs256: false,
            audience: AUDIENCE.to_owned(),
            max_jwt_lifetime_secs: 86_400,
            jwt_leeway_secs: 300,
            test_daily_limit: 1000,
            test_rate_per_sec: None,
            token_syntax: TokenSyntax::Any,
            pad_illegal_keys: false,
            http_status: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// The HTTP status a result code is answered with: the override, else
    /// 200 for 80000000, 80100000 and 80300007; 401 for 80200001, 80200005
    /// and 80300036; 500 for 81000001; 400 for every other code.
    pub fn http_status_of(&self, code: &str) -> u16 {
        if let Some(&status) = self.http_status.get(code) {
            return status;
        }
        match code {
            "80000000" | "80100000" | "80300007" => 200,
            "80200001" | "80200005" | "80300036" => 401,
            "81000001" => 500,
            _ => 400,
        }
    }

    /// Why the settings cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.receipt_batch) {
            return Err("receipt_batch must be 1..=100".to_owned());
        }
        if self.max_jwt_lifetime_secs <= 0 || self.jwt_leeway_secs < 0 {
            return Err(
                "max_jwt_lifetime_secs must be positive, jwt_leeway_secs not negative".to_owned(),
            );
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

/// One accepted target of one message: what Push Kit would deliver (or
/// report with another result).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    pub request_id: String,
    pub project_id: String,
    pub token: String,
    /// Receipt result: 0 delivered; 256 over the MARKETING cap or the test
    /// quota; 102 over the device cap; or the token's
    /// [`TokenVerdict::Status`].
    pub status: u32,
    pub push_type: u8,
    /// `payload.notification.category` as sent.
    pub category: Option<String>,
    /// The category the message counts as (§14.6): the sent one when
    /// approved, else MARKETING.
    pub effective_category: String,
    pub title: String,
    pub body: String,
    pub click_action: Value,
    pub notify_id: Option<i64>,
    pub badge: Option<Value>,
    /// `pushOptions.ttl` in seconds (default 86400; clamped when
    /// [`TtlOverMax::Clamp`]).
    pub ttl: i64,
    pub collapse_key: Option<i64>,
    pub bi_tag: Option<String>,
    pub receipt_id: Option<String>,
    pub test_message: bool,
    /// The whole `payload` as received.
    pub payload: Value,
    /// The whole `pushOptions` as received (null if absent).
    pub push_options: Value,
}

/// A project's counters on the simulator's current day (UTC+8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Successful test-message requests today.
    pub test_requests_today: u32,
}

/// A token's counters today for one project.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceUsage {
    /// Service & communication notifications counted today.
    pub service: u32,
    /// MARKETING notifications counted today.
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
    sim: Sim<Harmony>,
}

impl Deref for Simulator {
    type Target = Sim<Harmony>;

    fn deref(&self) -> &Sim<Harmony> {
        &self.sim
    }
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port. Fails when an app's key or receipt
    /// secret cannot be read.
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
        let sim = Sim::start_on(addr, Harmony::new(inner)).await?;
        sim.vendor().lock().base_url = sim.base_url();
        Ok(Simulator { sim })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.sim.vendor().lock()
    }

    /// Registers a project; replaces a project with the same id. Fails
    /// (registering nothing) when a key or a receipt secret cannot be read.
    pub fn add_app(&self, app: SimApp) -> Result<(), SimError> {
        self.inner().add_app(app)
    }

    /// The project as registered.
    pub fn app(&self, project_id: &str) -> Option<SimApp> {
        self.inner().apps.get(project_id).cloned()
    }

    /// Sets the verdict of a token (for every project). Default: valid.
    pub fn set_token(&self, token: &str, verdict: TokenVerdict) -> Result<(), SimError> {
        self.inner().set_verdict(token, verdict)
    }

    /// A JWT for the project's first service account with a private key,
    /// `iat` now by the simulator's clock, `exp` `lifetime_secs` later.
    pub fn jwt(&self, project_id: &str, lifetime_secs: i64) -> Result<String, SimError> {
        let now_s = self.now_ms().div_euclid(1000);
        self.inner().mint(project_id, now_s, lifetime_secs)
    }

    /// The project's counters now (by the simulator's clock).
    pub fn usage(&self, project_id: &str) -> Usage {
        let now = self.now_ms();
        self.inner().usage(now, project_id)
    }

    /// A token's counters today for a project.
    pub fn device_usage(&self, project_id: &str, token: &str) -> DeviceUsage {
        let now = self.now_ms();
        self.inner().device_usage(now, project_id, token)
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

    /// Queues receipts with `result` for a message (by its `requestId`)
    /// that has a receipt configuration: for `tokens`, or by default every
    /// target it accepted. Returns how many were queued.
    pub fn send_receipt(
        &self,
        request_id: &str,
        result: u32,
        tokens: Option<&[&str]>,
    ) -> Result<usize, SimError> {
        let tokens = tokens.map(|t| t.iter().map(|s| (*s).to_owned()).collect());
        receipts::send_on_command(self.sim.core(), request_id, result, tokens)
    }
}

/// Push Kit's part of the simulator (the kit's [`sim_kit::Vendor`]).
pub struct Harmony {
    inner: Mutex<Inner>,
    /// [`Settings::receipt_batch`], shared with the receipt format.
    receipt_batch: Arc<AtomicUsize>,
}

impl Harmony {
    fn new(inner: Inner) -> Harmony {
        let batch = inner.settings.receipt_batch;
        Harmony {
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

/// A registered service-account key.
pub(crate) struct KeyEntry {
    pub(crate) project_id: String,
    pub(crate) sub_account: String,
    /// DER `RSAPublicKey`.
    pub(crate) public_key: Vec<u8>,
}

/// What the simulator keeps of an accepted message, for receipts on command.
#[derive(Clone, Debug)]
pub(crate) struct StoredMessage {
    pub(crate) project_id: String,
    pub(crate) receipt: Option<ReceiptConfig>,
    pub(crate) bi_tag: Option<String>,
    pub(crate) push_type: u8,
    pub(crate) accepted: Vec<String>,
}

/// A Push Kit day: days since the epoch from midnight UTC+8 (a choice).
pub(crate) fn harmony_day(now_ms: i64) -> i64 {
    sim_kit::day_of(now_ms, sim_kit::UTC8_MS)
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) apps: HashMap<String, SimApp>,
    /// By key id.
    pub(crate) keys: HashMap<String, KeyEntry>,
    pub(crate) verdicts: HashMap<String, TokenVerdict>,
    /// Per project: (second, calls that second).
    pub(crate) calls: HashMap<String, (i64, u32)>,
    /// Per project: (second, test-message calls that second).
    pub(crate) test_calls: HashMap<String, (i64, u32)>,
    /// Per project: (day, successful test-message requests that day).
    pub(crate) tests: HashMap<String, (i64, u32)>,
    /// Per (project, token): (day, counters that day).
    pub(crate) devices: HashMap<(String, String), (i64, DeviceUsage)>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) messages: HashMap<String, StoredMessage>,
    pub(crate) settings: Settings,
    pub(crate) next_request: u64,
    /// The simulator's own base URL (the receipt relay is on it).
    pub(crate) base_url: String,
}

impl Inner {
    /// Registers a project and its keys; nothing changes on an error.
    pub(crate) fn add_app(&mut self, app: SimApp) -> Result<(), SimError> {
        if app.project_id.is_empty() || app.project_id.contains('/') {
            return Err(SimError(
                "project_id must be non-empty and contain no '/'".to_owned(),
            ));
        }
        let mut keys = Vec::new();
        for account in &app.accounts {
            let public_key = match (&account.private_key, &account.public_key) {
                (Some(pem), None) => public_key_of(pem)?,
                (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| SimError("public_key must be base64 DER".to_owned()))?,
                _ => {
                    return Err(SimError(format!(
                        "account {:?} needs exactly one of private_key, public_key",
                        account.key_id
                    )))
                }
            };
            keys.push((
                account.key_id.clone(),
                KeyEntry {
                    project_id: app.project_id.clone(),
                    sub_account: account.sub_account.clone(),
                    public_key,
                },
            ));
        }
        for config in &app.receipts {
            config.hmac_key()?;
        }
        if let Some(category) = app
            .approved_categories
            .iter()
            .find(|c| !SERVICE_CATEGORIES.contains(&c.as_str()))
        {
            return Err(SimError(format!("{category:?} is not a service category")));
        }
        self.keys.retain(|_, key| key.project_id != app.project_id);
        self.keys.extend(keys);
        self.apps.insert(app.project_id.clone(), app);
        Ok(())
    }

    pub(crate) fn set_verdict(
        &mut self,
        token: &str,
        verdict: TokenVerdict,
    ) -> Result<(), SimError> {
        match verdict {
            TokenVerdict::Valid => {
                self.verdicts.remove(token);
            }
            TokenVerdict::Illegal(reason) if !ILLEGAL_REASONS.contains(&reason.as_str()) => {
                return Err(SimError(format!("unknown illegalTokens reason {reason:?}")))
            }
            other => {
                self.verdicts.insert(token.to_owned(), other);
            }
        }
        Ok(())
    }

    pub(crate) fn verdict(&self, token: &str) -> TokenVerdict {
        self.verdicts
            .get(token)
            .cloned()
            .unwrap_or(TokenVerdict::Valid)
    }

    /// A JWT of the project's first account with a private key.
    pub(crate) fn mint(
        &self,
        project_id: &str,
        now_s: i64,
        lifetime: i64,
    ) -> Result<String, SimError> {
        let app = self
            .apps
            .get(project_id)
            .ok_or_else(|| SimError(format!("unknown project {project_id:?}")))?;
        let account = app
            .accounts
            .iter()
            .find(|a| a.private_key.is_some())
            .ok_or_else(|| SimError(format!("project {project_id} has no private key")))?;
        let pem = account.private_key.as_deref().unwrap_or_default();
        let claims = json!({
            "iss": account.sub_account,
            "aud": self.settings.audience,
            "iat": now_s,
            "exp": now_s.saturating_add(lifetime),
        });
        sign_jwt(pem, &account.key_id, JwtAlg::Ps256, &claims)
    }

    pub(crate) fn tests_today(&self, now: i64, project_id: &str) -> u32 {
        match self.tests.get(project_id) {
            Some(&(day, count)) if day == harmony_day(now) => count,
            _ => 0,
        }
    }

    pub(crate) fn usage(&self, now: i64, project_id: &str) -> Usage {
        Usage {
            test_requests_today: self.tests_today(now, project_id),
        }
    }

    pub(crate) fn device_usage(&self, now: i64, project_id: &str, token: &str) -> DeviceUsage {
        match self.devices.get(&(project_id.to_owned(), token.to_owned())) {
            Some(&(day, usage)) if day == harmony_day(now) => usage,
            _ => DeviceUsage::default(),
        }
    }

    pub(crate) fn new_request_id(&mut self, now: i64) -> String {
        self.next_request += 1;
        // Digits only, as in Huawei's samples.
        format!("{now}{:07}", self.next_request % 10_000_000)
    }

    /// Push Kit's part of [`sim_kit::Sim::reset`]: keeps projects and keys,
    /// clears the rest.
    pub(crate) fn reset(&mut self) {
        self.verdicts.clear();
        self.calls.clear();
        self.test_calls.clear();
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
