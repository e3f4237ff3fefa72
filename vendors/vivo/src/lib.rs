//! The vivo Push adapter (VIVO_API.md section 1), behind the vendor port
//! [`offpush::vendor::Vendor`], on the vendor kit:
//!
//! - [`credentials`]: the credential set (parse, stored attributes, masked
//!   view, the vivo app's account key).
//! - [`client`]: endpoint paths, the HTTP call, and the parsing of every
//!   answer (result, desc, taskId, authToken, invalidUser, invalidUsers).
//! - [`codes`]: the one table from an answer to what the adapter does.
//! - [`auth`]: `/message/auth` (the kit shares and refreshes the token);
//!   credential checks at upload.
//! - [`send`]: single and list sends on the kit's session.
//! - [`message`]: request bodies and vivo's classification, skip types and
//!   push modes; [`sign`]: the auth sign; [`receipts`]: receipt bodies.

pub mod auth;
pub mod client;
pub mod codes;
pub mod credentials;
pub mod message;
pub mod receipts;
pub mod send;
pub mod sign;

use credentials::VivoCredentials;
use futures::future::BoxFuture;
use offpush::domain::input::Obj;
use offpush::domain::{Certificate, Platform, VendorData};
use offpush::store::Store;
use offpush::vendor::kit::{Accounts, Fresh, VendorHttp};
use offpush::vendor::{
    Batching, Limits, Message, ReceiptBatch, ReceiptStyle, Send, SendReport, Vendor,
};
use offpush::ServiceError;
use serde_json::Value;
use std::time::{Duration, Instant};

/// vivo's production host (VIVO_API.md 1.1).
pub const DEFAULT_BASE_URL: &str = "https://api-push.vivo.com.cn";
/// The variable that overrides it (a simulator's, in tests and local runs).
pub const BASE_URL_VAR: &str = "VIVO_API_BASE_URL";

/// Most regIds in one pushToList (VIVO_API.md 1.5: 2..=1000).
pub const MAX_LIST: usize = 1000;
/// vivo's official SDK requires timeToLive >= 900 s for every push type but
/// single push; newer text speaks of single push only (VIVO_API.md 1.3,
/// CONFLICT). The safer reading keeps the caller's TTL exact: a push whose
/// TTL is below 900 s goes device by device through /message/send rather
/// than live longer than asked (a stale call invitation is worse than a
/// few more calls).
pub const LIST_MIN_TTL_SECS: u32 = 900;

/// vivo's message limits (VIVO_API.md 1.3): title 40 characters (the newer
/// of two readings), content 100, clientCustomMap keys plus values 1024
/// (ext travels under the 3-character key "ext").
pub const LIMITS: Limits = Limits {
    title_chars: 40,
    desc_chars: 100,
    ext_bytes: 1024 - 3,
    targets_per_call: MAX_LIST,
    // vivo serves 3000 calls a second per app and more (VIVO_API.md 1.10):
    // 32 in flight at ~100 ms a call is about 320/s for one push, so ten
    // pushes of one app at once stay near that floor; a 1000-device push
    // of single sends (TTL under 900 s) then takes about 1000 / 32 round
    // trips, not 1000 / 8.
    in_flight: 32,
};

/// The vivo channel of a warm instance.
pub struct Vivo {
    http: VendorHttp,
    /// Per vivo app (see [`VivoCredentials::account_key`]): token and pauses.
    accounts: Accounts,
}

impl Vivo {
    pub fn new(store: Store, base_url: &str, timeout: Duration) -> Self {
        Vivo {
            http: VendorHttp::new(base_url, timeout),
            accounts: Accounts::new(store, "vivo", codes::meaning),
        }
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// Checks credentials with a real `/message/auth` call (never a cached
    /// token: the point is to ask vivo now). The token obtained is shared,
    /// so the first push after an upload needs no auth call of its own.
    pub async fn verify_credentials(&self, creds: &VivoCredentials) -> Result<(), ServiceError> {
        let deadline = Instant::now() + self.http.timeout();
        let auth = auth::VivoAuth {
            http: &self.http,
            creds,
        };
        match auth.call(deadline).await {
            Ok(value) => Ok(self
                .accounts
                .remember(
                    &creds.account_key(),
                    Fresh {
                        value,
                        valid_secs: auth::AUTH_TOKEN_VALID_SECS,
                    },
                    &auth::POLICY,
                )
                .await?),
            Err(r) => Err(auth::credentials_error(&r)),
        }
    }
}

fn unreadable() -> ServiceError {
    ServiceError::internal(
        "vivo credentials",
        "a stored vivo certificate's credentials cannot be read",
    )
}

impl Vendor for Vivo {
    fn platform(&self) -> Platform {
        Platform::Vivo
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    fn receipt_style(&self) -> ReceiptStyle {
        ReceiptStyle::Console
    }

    fn parse_credentials(
        &self,
        raw: Obj,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(VivoCredentials::parse(raw, stored)?.to_data())
    }

    fn view_credentials(&self, credentials: &VendorData) -> Value {
        VivoCredentials::from_data(credentials)
            .map(|c| c.view())
            .unwrap_or(Value::Null)
    }

    fn default_name(&self, credentials: &VendorData) -> String {
        match VivoCredentials::from_data(credentials) {
            Some(c) => format!("vivo {}", c.app_id),
            None => "vivo".into(),
        }
    }

    fn account(&self, cert: &Certificate) -> Option<String> {
        VivoCredentials::from_data(&cert.credentials).map(|c| c.account_key())
    }

    fn batching(&self, _cert: &Certificate, message: &Message<'_>) -> Batching {
        Batching {
            min_list: 2,
            max_list: if message.ttl_seconds < LIST_MIN_TTL_SECS {
                1
            } else {
                MAX_LIST
            },
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move {
            let creds = VivoCredentials::from_data(&cert.credentials).ok_or_else(unreadable)?;
            self.verify_credentials(&creds).await
        })
    }

    fn parse_receipt(
        &self,
        body: &[u8],
        _content_type: Option<&str>,
    ) -> Result<ReceiptBatch, ServiceError> {
        receipts::parse(body)
    }

    fn forget_pauses<'a>(&'a self, account: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.accounts.forget_pauses(account))
    }
}
