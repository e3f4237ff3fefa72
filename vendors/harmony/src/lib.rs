//! The Huawei Push Kit adapter for HarmonyOS 5 and later (the v3 scenario
//! API, VENDORS_API.md 13, 14, 16, and the HarmonyOS rows of 7, 8 and 11),
//! behind the vendor port [`offpush::vendor::Vendor`], on the vendor kit:
//!
//! - [`credentials`]: the service-account key file (`project_id`,
//!   `key_id`, `sub_account`, `private_key`); the receipt callback user
//!   name and secret; the account.
//! - [`jwt`]: the PS256 service-account JWT, the bearer value itself (no
//!   OAuth), minted about hourly and shared through the table.
//! - [`codes`]: the answers and the one table from each to what the
//!   adapter does.
//! - [`message`]: the JSON body of `messages:send` (push-type 0, Alert).
//! - [`send`]: one certificate's share of a push.
//! - [`receipts`]: V2 receipt bodies and their signature.
//!
//! One call takes 1..=1000 tokens, 1..=10 for a test message (14.4).
//! Android and HarmonyOS up to 4.x are the `huawei` platform, not this one.
//! VENDORS_API.md 14.1 [CONFLICT]: the doc says v3 reaches only HarmonyOS
//! 5+, an earlier reading that it reaches older devices too; the safer
//! reading keeps the two platforms apart, so no token is ever sent to an
//! API that cannot reach it.
//!
//! A send's `calls` count includes each JWT mint: the kit counts every
//! authentication, though minting is local and makes no HTTP call.

pub mod codes;
pub mod credentials;
pub mod jwt;
pub mod message;
pub mod receipts;
pub mod send;

use codes::Answer;
use credentials::{
    HarmonyCredentials, HarmonyOptions, FIELD_PRIVATE_KEY, FIELD_PROJECT_ID, FIELD_SERVICE_ACCOUNT,
};
use futures::future::BoxFuture;
use offpush::domain::input::Obj;
use offpush::domain::{Certificate, ClickAction, Platform, VendorData};
use offpush::store::Store;
use offpush::vendor::kit::{Accounts, Fresh, VendorHttp};
use offpush::vendor::{
    Batching, Limits, Message, ReceiptBatch, ReceiptStyle, Send, SendReport, Vendor,
};
use offpush::ServiceError;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub use receipts::verify_callback;

/// The variable that overrides the push host (a simulator).
pub const BASE_URL_VAR: &str = "HARMONY_API_BASE_URL";
/// The push host (14.1 [C]). There is no auth host: the JWT is self-signed.
pub const DEFAULT_BASE_URL: &str = "https://push-api.cloud.huawei.com";
/// Push Kit is not documented to deduplicate a repeated send: a call that
/// may have been written is not sent again.
pub const DEDUPLICATES: bool = false;

/// The send path of a project (14.1 [C]: `/v3/{projectId}/messages:send`).
pub fn send_path(project_id: &str) -> String {
    format!("/v3/{project_id}/messages:send")
}

/// Push Kit counts no text field on its own: the whole body but the tokens
/// is at most 4096 bytes (14.4 [C]). The product's largest message (40 and
/// 100 characters of 4-byte UTF-8, a 1021-byte JSON ext, the longest click
/// URL, a receipt id and reference) fits (tested in [`message`]); only an
/// ext made mostly of characters JSON escapes can pass 4096, and such a
/// message is answered `rejected` with 80300008 before any call, never
/// sent (nothing is cut: a cut ext would break the app's payload).
pub const LIMITS: Limits = Limits {
    title_chars: 40,
    desc_chars: 100,
    ext_bytes: 1024 - 3,
    targets_per_call: message::MAX_TOKENS,
    // 14.7 [C]: the QPS grows with MAU (Android's formula gives at least
    // 6000, U); each call carries up to 1000 tokens: a push makes few.
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

/// The HarmonyOS channel of a warm instance.
pub struct Harmony {
    /// The push host.
    http: VendorHttp,
    /// Per (project, key) (see [`HarmonyCredentials::account_key`]): the
    /// shared JWT and pauses.
    accounts: Accounts,
}

impl Harmony {
    pub fn new(store: Store, base_override: Option<&str>, timeout: Duration) -> Self {
        Harmony {
            http: VendorHttp::new(base_override.unwrap_or(DEFAULT_BASE_URL), timeout),
            accounts: Accounts::new(store, "harmony", codes::meaning),
        }
    }

    /// Where a certificate's sends go.
    pub fn send_url(&self, creds: &HarmonyCredentials) -> String {
        self.http.url(&send_path(&creds.project_id))
    }

    /// 14.8 [C]: with a callback user name and secret on the certificate,
    /// every receipt must carry a fresh, matching `X-HUAWEI-CALLBACK-ID`
    /// ([`verify_callback`]); without them the receipt URL's secret alone
    /// authenticates Huawei. Refused: 401, and the receipt changes nothing.
    pub fn check_receipt_signature(
        &self,
        cert: &Certificate,
        header: &dyn Fn(&str) -> Option<String>,
        now_ms: i64,
    ) -> Result<(), ServiceError> {
        let options = HarmonyOptions::from_data(&cert.options);
        let Some((user, secret)) = options.callback() else {
            return Ok(());
        };
        let Some(value) = header(receipts::CALLBACK_HEADER) else {
            return Err(ServiceError::Unauthenticated(
                "harmony receipt signature refused: X-HUAWEI-CALLBACK-ID missing".into(),
            ));
        };
        verify_callback(&value, user, secret, now_ms)
    }

    /// The credential check at upload. 14.2 gives no token endpoint and
    /// Push Kit no read-only call, so: (1) the JWT is minted (a key that
    /// cannot sign is 422 naming `private_key`); (2) it is sent with a send
    /// call that has no token at all, which Push Kit must refuse (80300010:
    /// token count 0, 14.5) and which can deliver nothing, so that the JWT
    /// (80200001: key id, sub_account or project refused) and the project
    /// (80300002: Push Kit not enabled) are checked by Huawei itself. Any
    /// other answer with a result code means the JWT was taken. The JWT is
    /// then shared, so the first push needs no mint of its own.
    pub async fn verify_credentials(&self, creds: &HarmonyCredentials) -> Result<(), ServiceError> {
        let value = jwt::mint(creds, offpush::clock::now_secs()).map_err(
            |jwt::MintError::BadKey(why)| ServiceError::InvalidCredentials {
                field: Some(FIELD_PRIVATE_KEY.into()),
                message: format!("the service account's private key cannot sign a JWT: {why}"),
            },
        )?;
        let deadline = Instant::now() + self.http.timeout();
        let probe = json!({
            "payload": {"notification": {
                "category": "IM",
                "title": "credential check",
                "body": "credential check",
                "clickAction": {"actionType": 0},
            }},
            "target": {"token": []},
        });
        match self.post(creds, Some(value.clone()), &probe, deadline).await {
            // Nothing was sent (no token): the JWT and project passed.
            Ok(_) => {}
            Err(r) => match r.answer {
                Answer::Code(80_200_001) => {
                    return Err(ServiceError::InvalidCredentials {
                        field: Some(FIELD_SERVICE_ACCOUNT.into()),
                        message: r.detail(),
                    })
                }
                Answer::Code(80_300_002) => {
                    return Err(ServiceError::InvalidCredentials {
                        field: Some(FIELD_PROJECT_ID.into()),
                        message: r.detail(),
                    })
                }
                // 14.2: a JWT expired the moment it was minted: this
                // clock, not the credentials, is wrong.
                Answer::Code(80_200_005 | 80_300_036) => {
                    return Err(ServiceError::VendorUnavailable {
                        message: format!("{} (check the server clock)", r.detail()),
                        unavailable: false,
                    })
                }
                Answer::Code(c) => {
                    if c == 80_300_037 {
                        tracing::warn!(
                            vendor = "harmony",
                            code = c,
                            "the project is under a Huawei penalty: pushes will fail until it ends"
                        );
                    }
                }
                Answer::Http(s) => {
                    return Err(ServiceError::VendorUnavailable {
                        message: format!(
                            "Huawei Push Kit answered HTTP {s} to the credential check"
                        ),
                        unavailable: s == 503,
                    })
                }
                _ => {
                    return Err(ServiceError::VendorUnavailable {
                        message: "Huawei Push Kit could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
                        unavailable: false,
                    })
                }
            },
        }
        self.accounts
            .remember(
                &creds.account_key(),
                Fresh {
                    value,
                    valid_secs: jwt::valid_secs(),
                },
                &jwt::POLICY,
            )
            .await?;
        Ok(())
    }
}

fn unreadable() -> ServiceError {
    ServiceError::internal(
        "harmony credentials",
        "a stored HarmonyOS certificate's credentials cannot be read",
    )
}

impl Vendor for Harmony {
    fn platform(&self) -> Platform {
        Platform::Harmony
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    /// Receipts go to an address set in AppGallery Connect under a receipt
    /// id, which each message names (14.4 `receiptId`, 14.8).
    fn receipt_style(&self) -> ReceiptStyle {
        ReceiptStyle::Console
    }

    fn parse_credentials(
        &self,
        raw: Obj,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(HarmonyCredentials::parse(raw, stored)?.to_data())
    }

    fn parse_options(
        &self,
        raw: Option<Obj>,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(HarmonyOptions::parse(raw, stored)?.to_data())
    }

    /// Every click action has a form (see [`message::click_action`]: a URL
    /// goes as the `uri` of actionType 1); http and https alike, as the
    /// product takes them.
    fn check_click(&self, _click: &ClickAction, _field: &str) -> Result<(), ServiceError> {
        Ok(())
    }

    /// 14.4, 14.7 [C]: `pushOptions.testMessage`.
    fn has_test_mode(&self) -> bool {
        true
    }

    fn view_credentials(&self, credentials: &VendorData) -> Value {
        HarmonyCredentials::from_data(credentials)
            .map(|c| c.view())
            .unwrap_or(Value::Null)
    }

    fn view_options(&self, options: &VendorData) -> Option<Value> {
        HarmonyOptions::from_data(options).view()
    }

    fn default_name(&self, credentials: &VendorData) -> String {
        match HarmonyCredentials::from_data(credentials) {
            Some(c) => format!("harmony {}", c.project_id),
            None => "harmony".into(),
        }
    }

    fn account(&self, cert: &Certificate) -> Option<String> {
        HarmonyCredentials::from_data(&cert.credentials).map(|c| c.account_key())
    }

    /// 1..=1000 tokens a call; a test message 1..=10 (14.4 [C]).
    fn batching(&self, cert: &Certificate, _message: &Message<'_>) -> Batching {
        Batching {
            min_list: 1,
            max_list: if cert.push_mode == offpush::domain::PushMode::Test {
                message::MAX_TEST_TOKENS
            } else {
                message::MAX_TOKENS
            },
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move {
            let creds = HarmonyCredentials::from_data(&cert.credentials).ok_or_else(unreadable)?;
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
    use offpush::domain::PushMode;

    #[test]
    fn calls_stay_within_push_kits_limits() {
        assert_eq!(LIMITS.targets_per_call, 1000);
        assert_eq!(send_path("388421841221"), "/v3/388421841221/messages:send");
        assert_eq!(BASE_URL_VAR, "HARMONY_API_BASE_URL");
        assert!(DEFAULT_BASE_URL.starts_with("https://push-api.cloud.huawei.com"));
    }

    #[tokio::test]
    async fn batching_says_ten_for_test_messages() {
        let store = Store::for_endpoint("http://127.0.0.1:1", "us-east-1", "unused").await;
        let h = Harmony::new(store, None, Duration::from_secs(1));
        let click = ClickAction::OpenApp;
        let m = message::tests::message(&click, None);
        let prod = message::tests::cert(PushMode::Production);
        let test = message::tests::cert(PushMode::Test);
        assert_eq!(h.batching(&prod, &m).max_list, 1000);
        assert_eq!(h.batching(&test, &m).max_list, 10);
        assert_eq!(
            offpush::vendor::chunk_sizes(11, h.batching(&test, &m)),
            [6, 5]
        );
        assert_eq!(
            offpush::vendor::chunk_sizes(1001, h.batching(&prod, &m)),
            [501, 500]
        );
        assert_eq!(h.platform(), Platform::Harmony);
        assert_eq!(h.receipt_style(), ReceiptStyle::Console);
        assert!(h.has_test_mode());
        assert!(h
            .check_click(
                &ClickAction::OpenUrl {
                    url: "http://e.com".into()
                },
                "click_action"
            )
            .is_ok());
    }
}
