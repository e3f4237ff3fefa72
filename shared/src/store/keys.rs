//! Every DynamoDB key shape and attribute name, in one place.
//!
//! One table, string keys `pk`/`sk`, TTL attribute `expires_at` (epoch
//! seconds). App ids are `[A-Za-z0-9_-]`, so `#` never occurs inside one and
//! the prefixes below cannot collide.
//!
//! | item              | pk                                   | sk           |
//! |-------------------|--------------------------------------|--------------|
//! | app               | `APP#{app}`                          | `#APP`       |
//! | certificate       | `APP#{app}`                          | `CERT#{id:016}` |
//! | user's bindings   | `USER#{app}#{user}`                  | `#BINDINGS`  |
//! | token owner       | `TOKEN#{app}#{cert}#{sha256(token)}` | `#OWNER`     |
//! | push request      | `PUSH#{app}#{request_id}`            | `#REQUEST`   |
//! | push result part  | `PUSH#{app}#{request_id}`            | `#RESULT#{n:03}` |
//! | vendor auth token | `VENDOR#{vendor}#{account}`          | `#AUTH`      |
//! | vendor pause      | `VENDOR#{vendor}#{account}`          | `PAUSE#{scope}` |
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
/// Atomic counter for certificate ids (UpdateItem ADD).
pub const APP_NEXT_CERT_ID: &str = "next_certificate_id";
pub const CREATED_AT: &str = "created_at";
pub const UPDATED_AT: &str = "updated_at";

// Certificate attributes.
pub const CERT_ID: &str = "certificate_id";
pub const CERT_NAME: &str = "name";
pub const CERT_PLATFORM: &str = "platform";
pub const CERT_VIVO_APP_ID: &str = "vivo_app_id";
pub const CERT_APP_KEY: &str = "vivo_app_key";
pub const CERT_APP_SECRET: &str = "vivo_app_secret";
pub const CERT_CLICK_TYPE: &str = "click_type";
pub const CERT_CLICK_TARGET: &str = "click_target";
pub const CERT_CATEGORY: &str = "category";
pub const CERT_PUSH_MODE: &str = "push_mode";
pub const CERT_DEFAULT_TITLE: &str = "default_title";

pub const APP_SK: &str = "#APP";
pub const CERT_SK_PREFIX: &str = "CERT#";

pub fn app_pk(app: &AppId) -> String {
    format!("APP#{app}")
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

pub const PUSH_SK: &str = "#REQUEST";
pub const PUSH_STATE: &str = "state";
pub const PUSH_RESULT: &str = "result";
pub const PUSH_FINGERPRINT: &str = "fingerprint";
pub const PUSH_CLAIMED_AT: &str = "claimed_at_ms";
pub const PUSH_SENDING_AT: &str = "sending_at_ms";

/// Where a result too large for one item continues (see `pushes`).
pub const PUSH_RESULT_PARTS: &str = "result_parts";

pub fn push_result_part_sk(i: usize) -> String {
    format!("#RESULT#{i:03}")
}

pub fn push_pk(app: &AppId, request_id: &str) -> String {
    format!("PUSH#{app}#{request_id}")
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
pub const VENDOR_AUTH_TOKEN: &str = "auth_token";
pub const VENDOR_AUTH_OBTAINED_AT: &str = "obtained_at";
pub const VENDOR_PAUSE_SK_PREFIX: &str = "PAUSE#";
pub const PAUSE_CODE: &str = "vendor_code";
pub const PAUSE_SET_AT: &str = "set_at";
