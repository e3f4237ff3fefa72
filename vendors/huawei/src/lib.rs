//! The Huawei Push Kit adapter for Android and HarmonyOS up to 4.x
//! (VENDORS_API.md section 4, and the Huawei rows of 7, 8 and 11), behind
//! the vendor port [`offpush::vendor::Vendor`], on the vendor kit:
//!
//! - [`credentials`]: app id, OAuth client id and secret; the receipt
//!   callback user name and secret; the account.
//! - [`codes`]: the answers and the one table from each to what the
//!   adapter does.
//! - [`message`]: the JSON body of `messages:send`.
//! - [`auth`]: the OAuth 2.0 token, shared through the table.
//! - [`send`]: one certificate's share of a push.
//! - [`receipts`]: receipt bodies and their signature.
//!
//! One call takes 1..=1000 tokens (4.2). The HarmonyOS 5+ v3 API (14) is
//! another platform (`harmony`), not this one.

pub mod auth;
pub mod codes;
pub mod credentials;
pub mod message;
pub mod receipts;
pub mod send;

use credentials::{HuaweiCredentials, HuaweiOptions};
use futures::future::BoxFuture;
use offpush::domain::input::Obj;
use offpush::domain::{Certificate, ClickAction, Platform, VendorData};
use offpush::store::Store;
use offpush::vendor::kit::{Accounts, VendorHttp};
use offpush::vendor::{
    Batching, Limits, Message, ReceiptBatch, ReceiptStyle, Send, SendReport, Vendor,
};
use offpush::ServiceError;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub use receipts::verify_callback;

/// The variable that overrides both the OAuth host and the push host (a
/// simulator serves both on one port).
pub const BASE_URL_VAR: &str = "HUAWEI_API_BASE_URL";
/// The push host (4.2 [C]).
pub const DEFAULT_BASE_URL: &str = "https://push-api.cloud.huawei.com";
/// The OAuth host (4.1 [C]).
pub const DEFAULT_AUTH_BASE_URL: &str = "https://oauth-login.cloud.huawei.com";
/// 4.1 [C]: the v3 token endpoint (v2 is older).
pub const TOKEN_PATH: &str = "/oauth2/v3/token";
/// Huawei is not documented to deduplicate a repeated send: a call that
/// may have been written is not sent again.
pub const DEDUPLICATES: bool = false;

/// The send path of an OAuth client (4.2 [C]: `/v1/{clientId}/messages:send`).
pub fn send_path(client_id: &str) -> String {
    format!("/v1/{client_id}/messages:send")
}

/// Huawei counts no text field on its own: the whole body but the tokens
/// is at most 4096 bytes (4.2 [C]). The product's largest message (40 and
/// 100 characters of 4-byte UTF-8, a 1021-byte JSON ext, the longest click
/// URL, a receipt id and reference) fits (tested in [`message`]); only an
/// ext made mostly of characters JSON escapes (quotes, backslashes,
/// control characters: 2 to 7 bytes each once inside `data`) can pass
/// 4096, and such a message is answered `rejected` with 80300008 before
/// any call, never sent (nothing is cut: a cut ext would break the app's
/// payload).
pub const LIMITS: Limits = Limits {
    title_chars: 40,
    desc_chars: 100,
    ext_bytes: 1024 - 3,
    targets_per_call: message::MAX_TOKENS,
    // 4.5 [U]: at least 6000 QPS per app, and each call carries up to 1000
    // tokens: a push makes few calls.
    in_flight: 16,
};

// The product's limits fit (checked when the crate builds; the registry
// tests the same over every channel).
const _: () = {
    use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_RECIPIENTS, MAX_TITLE_CHARS};
    assert!(MAX_TITLE_CHARS <= LIMITS.title_chars);
    assert!(MAX_DESC_CHARS <= LIMITS.desc_chars);
    assert!(MAX_EXT_BYTES <= LIMITS.ext_bytes);
    assert!(LIMITS.targets_per_call <= MAX_RECIPIENTS);
};

/// The Huawei channel of a warm instance.
pub struct Huawei {
    /// The push host.
    http: VendorHttp,
    /// The OAuth host (the same client; whole URLs).
    auth_base: String,
    /// Per OAuth client (see [`HuaweiCredentials::account_key`]): the
    /// shared access token and pauses.
    accounts: Accounts,
    /// When each account last had a send accepted in this instance (epoch
    /// seconds): the gate of 80300007 (see [`send`]).
    accepted: Mutex<HashMap<String, i64>>,
}

impl Huawei {
    pub fn new(store: Store, base_override: Option<&str>, timeout: Duration) -> Self {
        let base = base_override.map(|u| u.trim_end_matches('/').to_string());
        Huawei {
            http: VendorHttp::new(base.as_deref().unwrap_or(DEFAULT_BASE_URL), timeout),
            auth_base: base.unwrap_or_else(|| DEFAULT_AUTH_BASE_URL.to_string()),
            accounts: Accounts::new(store, "huawei", codes::meaning),
            accepted: Mutex::new(HashMap::new()),
        }
    }

    /// Where tokens come from.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.auth_base)
    }

    /// Where a certificate's sends go.
    pub fn send_url(&self, creds: &HuaweiCredentials) -> String {
        self.http.url(&send_path(&creds.client_id))
    }

    /// 4.6 [C]: with a callback user name and secret on the certificate,
    /// every receipt must carry a fresh, matching `X-HUAWEI-CALLBACK-ID`
    /// ([`verify_callback`]); without them the receipt URL's secret alone
    /// authenticates Huawei. Refused: 401, and the receipt changes nothing.
    pub fn check_receipt_signature(
        &self,
        cert: &Certificate,
        header: &dyn Fn(&str) -> Option<String>,
        now_ms: i64,
    ) -> Result<(), ServiceError> {
        let options = HuaweiOptions::from_data(&cert.options);
        let Some((user, secret)) = options.callback() else {
            return Ok(());
        };
        let Some(value) = header(receipts::CALLBACK_HEADER) else {
            return Err(ServiceError::Unauthenticated(
                "huawei receipt signature refused: X-HUAWEI-CALLBACK-ID missing".into(),
            ));
        };
        verify_callback(&value, user, secret, now_ms)
    }
}

fn unreadable() -> ServiceError {
    ServiceError::internal(
        "huawei credentials",
        "a stored Huawei certificate's credentials cannot be read",
    )
}

impl Vendor for Huawei {
    fn platform(&self) -> Platform {
        Platform::Huawei
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    /// Receipts go to an address set in AppGallery Connect under a receipt
    /// id, which each message names (4.2 `receipt_id`, 4.6).
    fn receipt_style(&self) -> ReceiptStyle {
        ReceiptStyle::Console
    }

    fn parse_credentials(
        &self,
        raw: Obj,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(HuaweiCredentials::parse(raw, stored)?.to_data())
    }

    fn parse_options(
        &self,
        raw: Option<Obj>,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(HuaweiOptions::parse(raw, stored)?.to_data())
    }

    /// 4.2, 8 [C]: a URL click (type 2) must be HTTPS.
    fn check_click(&self, click: &ClickAction, field: &str) -> Result<(), ServiceError> {
        match click {
            ClickAction::OpenUrl { url } if !url.to_ascii_lowercase().starts_with("https://") => {
                Err(ServiceError::invalid(
                    format!("{field}.url"),
                    "Huawei opens https URLs only",
                ))
            }
            _ => Ok(()),
        }
    }

    /// 4.2 [C]: `target_user_type` 1 is a test message.
    fn has_test_mode(&self) -> bool {
        true
    }

    fn view_credentials(&self, credentials: &VendorData) -> Value {
        HuaweiCredentials::from_data(credentials)
            .map(|c| c.view())
            .unwrap_or(Value::Null)
    }

    fn view_options(&self, options: &VendorData) -> Option<Value> {
        HuaweiOptions::from_data(options).view()
    }

    fn default_name(&self, credentials: &VendorData) -> String {
        match HuaweiCredentials::from_data(credentials) {
            Some(c) => format!("huawei {}", c.app_id),
            None => "huawei".into(),
        }
    }

    fn account(&self, cert: &Certificate) -> Option<String> {
        HuaweiCredentials::from_data(&cert.credentials).map(|c| c.account_key())
    }

    fn batching(&self, _cert: &Certificate, _message: &Message<'_>) -> Batching {
        Batching {
            min_list: 1,
            max_list: message::MAX_TOKENS,
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move {
            let creds = HuaweiCredentials::from_data(&cert.credentials).ok_or_else(unreadable)?;
            self.verify_credentials(&creds).await
        })
    }

    fn authenticate_receipt(
        &self,
        cert: &Certificate,
        header: &dyn Fn(&str) -> Option<String>,
        now_ms: i64,
    ) -> Result<(), ServiceError> {
        self.check_receipt_signature(cert, header, now_ms)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_stay_within_huaweis_limits() {
        assert_eq!(LIMITS.targets_per_call, message::MAX_TOKENS);
        assert_eq!(message::MAX_TOKENS, 1000);
        assert_eq!(send_path("10086"), "/v1/10086/messages:send");
    }
}
