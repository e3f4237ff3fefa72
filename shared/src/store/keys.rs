//! Every DynamoDB key shape and attribute name, in one place.
//!
//! One table, string keys `pk`/`sk`, TTL attribute `expires_at` (epoch
//! seconds). App ids are `[A-Za-z0-9_-]`, so `#` never occurs inside one and
//! the prefixes below cannot collide.
//!
//! | item              | pk                                   | sk           |
//! |-------------------|--------------------------------------|--------------|
//! | app               | `APP#{app}`                          | `#APP`       |
//! | certificate       | `CERT#{app}`                         | `CERT#{id:016}` |
//! | certificate ids   | `CERT#{app}`                         | `#COUNTER`   |
//! | user's bindings   | `USER#{app}#{user}`                  | `#BINDINGS`  |
//! | token owner       | `TOKEN#{app}#{cert}#{sha256(token)}` | `#OWNER`     |
//! | push record       | `PUSH#{app}#{push_ref}`              | `#REQUEST`   |
//! | push result part  | `PUSH#{app}#{push_ref}`              | `#RESULT#{n:03}` |
//! | user's push log   | `USER#{app}#{user}`                  | `LOG#{ms:013}#{push_ref[..8]}` |
//! | large push's log  | `LOGS#{app}#{bucket:02}`             | `LOG#{ms:013}#{push_ref[..8]}` |
//! | daily statistics  | `STATS#{app}`                        | `{YYYY-MM-DD}#ALL`, `{YYYY-MM-DD}#C{cert:016}` |
//! | raw receipt       | `RECEIPTS#{app}`                     | `RAW#{sha256(body)[..32]}` |
//! | receipt URL       | `RECEIPT#{sha256(secret)}`           | `#RECEIPT`   |
//! | vendor auth token | `VENDOR#{vendor}#{account}`          | `#AUTH`      |
//! | vendor pause      | `VENDOR#{vendor}#{account}`          | `PAUSE#{scope}` |
//! | app's push count  | `RATE#{app}`                         | `{unix second}` |
//!
//! A vendor account is what the vendor counts quotas and tokens against:
//! for vivo one AppID with one credential set (see [`vendor_pk`]).

use crate::domain::{AppId, CertificateId, UserId};
use sha2::{Digest, Sha256};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// The table's TTL attribute (epoch seconds). DynamoDB deletes lazily, so
/// every read of an item that carries it also checks it.
pub const EXPIRES_AT: &str = "expires_at";

// App attributes.
pub const APP_SECRET: &str = "signing_secret";
pub const APP_MAX_DEVICES: &str = "max_devices_per_user";
pub const APP_TTL_DAYS: &str = "binding_ttl_days";
pub const APP_PUSH_RATE_LIMIT: &str = "push_rate_limit";
/// Atomic counter for certificate ids (UpdateItem ADD), on its own item
/// under the certificates' partition: the app item (its signing secret)
/// is written by the operator only, so no function's IAM policy reaches
/// the `APP#` partition with a write (dynamodb:LeadingKeys).
pub const APP_NEXT_CERT_ID: &str = "next_certificate_id";
pub const CERT_COUNTER_SK: &str = "#COUNTER";
/// Bumped by every certificate write, in the same request: a cached
/// certificate set of another version is stale.
pub const CERT_VERSION_SK: &str = "#VERSION";
pub const CERT_VERSION: &str = "version";
pub const CREATED_AT: &str = "created_at";
pub const UPDATED_AT: &str = "updated_at";

// Certificate attributes.
pub const CERT_ID: &str = "certificate_id";
pub const CERT_NAME: &str = "name";
pub const CERT_PLATFORM: &str = "platform";
// A certificate's credentials are attributes named by its platform's
// adapter, each starting with the platform's name and `_` (`vivo_app_id`,
// `xiaomi_package_name`): see `domain::VendorData`.
/// `vendor_options`: a map of the adapter's option attributes.
pub const CERT_VENDOR_OPTIONS: &str = "vendor_options";
pub const CERT_CLICK_TYPE: &str = "click_type";
pub const CERT_CLICK_TARGET: &str = "click_target";
pub const CERT_CATEGORY: &str = "category";
pub const CERT_PUSH_MODE: &str = "push_mode";
pub const CERT_DEFAULT_TITLE: &str = "default_title";
pub const CERT_RECEIPT_ID: &str = "receipt_id";
/// SHA-256 of the receipt URL's secret (the secret itself is never stored).
pub const CERT_RECEIPT_HASH: &str = "receipt_secret_hash";
/// The receipt URL's secret itself, for vendors whose messages carry the URL.
pub const CERT_RECEIPT_SECRET: &str = "receipt_secret";
/// A deleted certificate leaves a tombstone (id and time only, no
/// credentials) for the push log's `certificate_deleted` reason.
pub const CERT_DELETED_AT: &str = "deleted_at_ms";
/// How long a tombstone is kept: the longest push record retention.
pub const CERT_TOMBSTONE_SECS: i64 = 31 * 86_400;

/// The receipt route's lookup: the secret's hash names the app and
/// certificate (`RECEIPT#{sha256(secret)}`, sk `#RECEIPT`).
pub const RECEIPT_SK: &str = "#RECEIPT";
pub const RECEIPT_APP: &str = "app_id";
/// Set on a rotated URL's lookup: it answers until then (epoch seconds).
pub const RECEIPT_GRACE_UNTIL: &str = "grace_until";

pub fn receipt_pk(secret_hash: &str) -> String {
    format!("RECEIPT#{secret_hash}")
}

pub const APP_SK: &str = "#APP";
pub const CERT_SK_PREFIX: &str = "CERT#";

pub fn app_pk(app: &AppId) -> String {
    format!("APP#{app}")
}

/// The partition of an app's certificates (and their id counter).
pub fn certs_pk(app: &AppId) -> String {
    format!("CERT#{app}")
}

pub fn cert_sk(id: CertificateId) -> String {
    format!("{CERT_SK_PREFIX}{:016}", id.get())
}

// Binding attributes (one item per user; see store::bindings).
pub const USER_SK: &str = "#BINDINGS";
pub const USER_DEVICES: &str = "devices";
pub const USER_VERSION: &str = "version";
pub const USER_LOGGED_OUT_AT: &str = "logged_out_at_ms";
pub const USER_DEVICE_LOGOUTS: &str = "device_logouts";
pub const USER_LOGOUTS_FLOOR: &str = "logouts_floor_ms";
pub const USER_ID: &str = "user_id";
/// The user's remembered binding endings (a list, bounded).
pub const USER_ENDED: &str = "ended";
// Names inside one ending.
pub const E_CERT: &str = "c";
pub const E_DEVICE: &str = "d";
pub const E_WHY: &str = "w";
pub const E_BY_DEVICE: &str = "b";
pub const E_AT: &str = "a";

// Names inside one entry of the `devices` map (short: a user item holds up
// to 10 entries and is read 100 at a time).
pub const D_CERT: &str = "c";
pub const D_TOKEN: &str = "t";
pub const D_DEVICE: &str = "d";
pub const D_REPORTED: &str = "r";
pub const D_EXPIRES: &str = "e";

pub fn user_pk(app: &AppId, user: &UserId) -> String {
    format!("USER#{app}#{user}")
}

pub const OWNER_SK: &str = "#OWNER";
pub const OWNER_USER: &str = "owner";

/// The token appears hashed in the key: keys end up in metrics and
/// exports, and a hash keeps them short and free of whole tokens.
pub fn token_pk(app: &AppId, cert: CertificateId, token: &str) -> String {
    let digest = hex::encode(Sha256::digest(token.as_bytes()));
    format!("TOKEN#{app}#{}#{digest}", cert.get())
}

/// A push's reference: the first 128 bits of SHA-256 of its request id, in
/// hex. Keys hold it instead of the request id (bounded length, any
/// characters), and vivo receipts bring it back in `callback.param`.
pub fn push_ref(request_id: &str) -> String {
    hex::encode(Sha256::digest(request_id.as_bytes()))[..32].to_string()
}

/// A device's reference in a push record: the first 64 bits of SHA-256 of
/// its token, in hex. Receipts name tokens (regIds); records never hold
/// whole tokens.
pub fn token_ref(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))[..16].to_string()
}

pub const PUSH_SK: &str = "#REQUEST";
pub const PUSH_REQUEST_ID: &str = "request_id";
pub const PUSH_AT: &str = "pushed_at_ms";
/// Until when (epoch seconds) the request id makes a repeat a duplicate
/// (24 h); the record itself lives until `expires_at` (the retention).
pub const PUSH_IDEM_UNTIL: &str = "idempotent_until";
/// String set of the token refs vivo's receipts reported delivered.
pub const PUSH_DELIVERED: &str = "delivered";
pub const PUSH_LAST_RECEIPT: &str = "last_receipt_at_ms";

pub const LOG_SK_PREFIX: &str = "LOG#";
pub const LOG_OUTCOMES: &str = "outcomes";
pub const LOG_PUSH_REF: &str = "push_ref";

/// Map attribute of a large push's log item: user id -> that user's lines.
pub const LOG_USERS: &str = "users";

/// The partition of one bucket of large pushes' logs (see `pushlog`).
pub fn log_bucket_pk(app: &AppId, bucket: u32) -> String {
    format!("LOGS#{app}#{bucket:02}")
}

pub fn log_sk(pushed_at_ms: i64, push_ref: &str) -> String {
    format!("{LOG_SK_PREFIX}{pushed_at_ms:013}#{}", &push_ref[..8])
}

pub fn stats_pk(app: &AppId) -> String {
    format!("STATS#{app}")
}

/// `date` is `YYYY-MM-DD`; None: the app's whole row for the day.
pub fn stats_sk(date: &str, cert: Option<CertificateId>) -> String {
    match cert {
        None => format!("{date}#ALL"),
        Some(c) => format!("{date}#C{:016}", c.get()),
    }
}

/// Row `shard` of a day's write-sharded statistics (see `stats`).
pub fn stats_shard_sk(date: &str, shard: u32) -> String {
    format!("{date}#S{shard:02}")
}

/// Statistics a write could not add in time, one item each (see
/// `pushes::settle_due_stats`).
pub fn stats_due_pk(app: &AppId) -> String {
    format!("STATSDUE#{app}")
}
pub const STATS_DUE: &str = "adds";

/// A push's delivered set, spread over small items beside its record.
pub const DELIVERED_SK_PREFIX: &str = "#DLV#";
/// The version of a delivered-set item (its writes are conditioned on it).
pub const DLV_VERSION: &str = "v";

pub fn delivered_sk(shard: u32) -> String {
    format!("{DELIVERED_SK_PREFIX}{shard:02}")
}

pub fn raw_receipts_pk(app: &AppId) -> String {
    format!("RECEIPTS#{app}")
}
pub const RAW_RECEIPT_SK_PREFIX: &str = "RAW#";
pub const RAW_RECEIPT_BODY: &str = "body";
pub const RECEIVED_AT: &str = "received_at_ms";
pub const PUSH_STATE: &str = "state";
pub const PUSH_RESULT: &str = "result";
pub const PUSH_FINGERPRINT: &str = "fingerprint";
pub const PUSH_CLAIMED_AT: &str = "claimed_at_ms";
/// A random id of the claim that wrote the record: a claim whose answer
/// was lost recognises itself when it is sent again.
pub const PUSH_CLAIM_ID: &str = "claim_id";
pub const PUSH_SENDING_AT: &str = "sending_at_ms";

/// Where a result too large for one item continues (see `pushes`).
pub const PUSH_RESULT_PARTS: &str = "result_parts";

pub fn push_result_part_sk(i: usize) -> String {
    format!("#RESULT#{i:03}")
}

/// `push_ref`: see [`push_ref`].
pub fn push_pk(app: &AppId, push_ref: &str) -> String {
    format!("PUSH#{app}#{push_ref}")
}

/// One partition per vendor account. `account` is the vendor's own
/// account id plus a digest of the credential set (see
/// [`credential_digest`]), so a changed key or secret starts from a clean
/// slate: no token obtained with the old one, no pause vivo imposed on it.
pub fn vendor_pk(vendor: &str, account: &str) -> String {
    format!("VENDOR#{vendor}#{account}")
}

/// A short, non-reversible digest of a credential set (key, secret).
pub fn credential_digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..16].to_string()
}

pub const VENDOR_AUTH_SK: &str = "#AUTH";
/// The lease of the one instance refreshing the account's token.
pub const VENDOR_REFRESH_SK: &str = "#REFRESH";
pub const VENDOR_AUTH_TOKEN: &str = "auth_token";
pub const VENDOR_AUTH_OBTAINED_AT: &str = "obtained_at";
pub const VENDOR_PAUSE_SK_PREFIX: &str = "PAUSE#";
pub const PAUSE_CODE: &str = "vendor_code";
pub const PAUSE_SET_AT: &str = "set_at";

/// The per-app push rate limit's counters: one item per app and second
/// ([`crate::ratelimit`]).
pub fn rate_pk(app: &AppId) -> String {
    format!("RATE#{app}")
}
pub const RATE_ADMITTED: &str = "admitted";
