//! The Apple Push Notification service adapter (token-based, HTTP/2;
//! VENDORS_API.md 6 and 12), behind the vendor port
//! [`offpush::vendor::Vendor`], on the vendor kit:
//!
//! - [`credentials`]: the credential set (parse, stored attributes, masked
//!   view, the team-and-key account tokens are shared under).
//! - [`jwt`]: the ES256 provider token; [`auth`]: its minting, shared and
//!   refreshed through the kit's accounts.
//! - [`client`]: the HTTP/2 client and the call; [`codes`]: the one table
//!   from an answer to what the adapter does.
//! - [`message`]: headers and payload.
//!
//! APNs has no delivery receipts (6): [`ReceiptStyle::None`].

pub mod auth;
pub mod client;
pub mod codes;
pub mod credentials;
pub mod jwt;
pub mod message;

use auth::{ApnsAuth, POLICY};
use client::{ApnsHttp, DEVICE_PATH};
use codes::{Answer, Refusal};
use credentials::ApnsCredentials;
use futures::future::BoxFuture;
use message::{apns_id, is_hex_token, Notification, MIN_TOKEN_HEX};
use offpush::clock::now_secs;
use offpush::domain::input::Obj;
use offpush::domain::{Certificate, ClickAction, Delivery, Platform, PushMode, VendorData};
use offpush::store::Store;
use offpush::vendor::kit::{request_id, Accounts, Session, SessionAuth};
use offpush::vendor::{Batching, Limits, Message, ReceiptStyle, Send, SendReport, Target, Vendor};
use offpush::ServiceError;
use serde_json::Value;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

/// APNs' production host (VENDORS_API.md 6, 12).
pub const DEFAULT_BASE_URL: &str = "https://api.push.apple.com";
/// The sandbox host, for certificates in `push_mode: test` (API.md).
/// (`a2` uses `api.development.push.apple.com`, 12; the spec's own host
/// is kept.)
pub const SANDBOX_BASE_URL: &str = "https://api.sandbox.push.apple.com";
/// The variable that overrides both hosts (a simulator's, in tests and
/// local runs).
pub const BASE_URL_VAR: &str = "APNS_API_BASE_URL";

/// APNs is not known to deduplicate (the `apns-id` only names a
/// notification in answers, 6): a call that may have been written is not
/// sent again.
pub const DEDUPLICATES: bool = false;

/// APNs limits the payload as a whole (4096 bytes, 6), not its fields: the
/// product's limits (title 40, desc 100 characters, ext 1021 bytes) always
/// fit it unless `ext` escapes to several times its length in JSON (control
/// characters), which is refused with a detail, never cut (see
/// [`message::Notification::new`]). One device per request (6, 12: no
/// batch); many requests in flight on one HTTP/2 connection.
pub const LIMITS: Limits = Limits {
    title_chars: offpush::domain::push::MAX_TITLE_CHARS,
    desc_chars: offpush::domain::push::MAX_DESC_CHARS,
    ext_bytes: offpush::domain::push::MAX_EXT_BYTES,
    targets_per_call: 1,
    // APNs publishes no rate (7): 32 streams in flight keep a 1000-device
    // push to about 32 round trips on one connection, within the stream
    // limit Apple's servers announce.
    in_flight: 32,
};

/// The APNs channel of a warm instance: its HTTP/2 client (kept across
/// invocations) and the team-and-key accounts (tokens, pauses).
pub struct Apns {
    http: ApnsHttp,
    production: String,
    sandbox: String,
    accounts: Accounts,
}

impl Apns {
    /// `base_override` (Some): every call, sandbox or production, goes to
    /// that base URL (a simulator).
    pub fn new(store: Store, base_override: Option<&str>, timeout: Duration) -> Self {
        let trim = |s: &str| s.trim_end_matches('/').to_string();
        let (production, sandbox) = match base_override {
            Some(b) => (trim(b), trim(b)),
            None => (DEFAULT_BASE_URL.to_string(), SANDBOX_BASE_URL.to_string()),
        };
        Apns {
            http: ApnsHttp::new(production.starts_with("http://"), timeout),
            production,
            sandbox,
            accounts: Accounts::new(store, "apns", auth::meaning),
        }
    }

    /// The host of a certificate's push mode (API.md: test = sandbox).
    pub fn base_url(&self, mode: PushMode) -> &str {
        match mode {
            PushMode::Production => &self.production,
            PushMode::Test => &self.sandbox,
        }
    }

    async fn send_group(&self, send: Send<'_>) -> SendReport {
        let n = send.targets.len();
        let Some(creds) = ApnsCredentials::from_data(&send.cert.credentials) else {
            return SendReport {
                deliveries: vec![
                    Delivery::failed(
                        "the certificate's APNs credentials cannot be read"
                    );
                    n
                ],
                calls: 0,
            };
        };
        let notification = match Notification::new(&creds.bundle_id, send.message, now_secs()) {
            Ok(notification) => notification,
            Err(size) => {
                let r = Refusal::new(Answer::TooLarge).to_kit();
                let mut d = r.delivery();
                d.detail = Some(format!("{} ({size} bytes; nothing was sent)", r.detail));
                return SendReport {
                    deliveries: vec![d; n],
                    calls: 0,
                };
            }
        };
        let auth = ApnsAuth { creds: &creds };
        let class = if send.message.category.is_service() {
            "service"
        } else {
            "operational"
        };
        let session = Session::new(
            &self.accounts,
            creds.account_key(),
            Some(SessionAuth {
                auth: &auth,
                policy: POLICY,
            }),
            send.budget,
            class,
            DEDUPLICATES,
            LIMITS.in_flight,
        );
        let base = self.base_url(send.cert.push_mode);
        let deliveries = futures::future::join_all(
            send.targets
                .iter()
                .map(|t| self.one(&session, base, t, &notification, &send)),
        )
        .await;
        SendReport {
            deliveries,
            calls: session.calls(),
        }
    }

    async fn one(
        &self,
        session: &Session<'_>,
        base: &str,
        target: &Target,
        n: &Notification,
        send: &Send<'_>,
    ) -> Delivery {
        let token = target.token.expose();
        if !is_hex_token(token) {
            // No APNs environment holds such a token, and it cannot go in
            // the request path as one: dead without a call.
            let mut d = Refusal::new(Answer::MalformedToken).to_kit().delivery();
            d.detail = Some(
                "apns: the token is not an APNs device token (hex digits, whole bytes); not sent"
                    .into(),
            );
            return d;
        }
        let rid = request_id(
            send.message.push_key,
            DEVICE_PATH,
            send.cert.id.get(),
            &[token],
        );
        let id = apns_id(&rid);
        let deadline = send.budget.deadline();
        let got = session
            .call(DEVICE_PATH, |jwt| {
                let id = &id;
                async move {
                    let jwt = jwt.unwrap_or_default();
                    self.http
                        .push(base, token, &jwt, id, n, deadline)
                        .await
                        .map_err(|mut r| {
                            if is_bad_device_token(&r.answer) && token.len() < MIN_TOKEN_HEX {
                                r.answer = Answer::MalformedToken;
                            }
                            r.to_kit()
                        })
                }
            })
            .await;
        match got {
            Ok(answered_id) => Delivery::sent(Some(answered_id.unwrap_or(id))),
            Err(f) => f.delivery,
        }
    }

    /// The credential check at upload: the key must sign (else 422
    /// `credentials.private_key`), and a push to the all-zero device token
    /// (VENDORS_API.md 6: APNs answers BadDeviceToken for a token no device
    /// holds, after checking the provider token and the topic) proves that
    /// APNs takes the team, key and bundle id. The token used is the
    /// account's shared one when there is one (minting a new one per
    /// upload would change the team's token too often, 12).
    pub async fn verify_credentials(
        &self,
        creds: &ApnsCredentials,
        mode: PushMode,
    ) -> Result<(), ServiceError> {
        let auth = ApnsAuth { creds };
        auth.mint()
            .map_err(|why| ServiceError::InvalidCredentials {
                field: Some("credentials.private_key".into()),
                message: format!("credentials.private_key {why}"),
            })?;
        let deadline = Instant::now() + self.http.timeout();
        let key = creds.account_key();
        let calls = AtomicUsize::new(0);
        let probe = Notification {
            topic: creds.bundle_id.clone(),
            priority: message::PRIORITY_OPERATIONAL,
            // 0: APNs tries once and keeps nothing.
            expiration: 0,
            collapse_id: None,
            body: br#"{"aps":{"alert":{"title":"offpush","body":"credential check"}}}"#.to_vec(),
        };
        let zero = "0".repeat(MIN_TOKEN_HEX);
        let probe_id = uuid_of_zero();
        let mut refused = None;
        for _ in 0..2 {
            let token = self
                .accounts
                .token(&key, &auth, &POLICY, refused, deadline, &calls)
                .await
                .map_err(|d| ServiceError::VendorUnavailable {
                    message: d.detail.unwrap_or_else(|| "no APNs provider token".into()),
                    unavailable: false,
                })?;
            let got = self
                .http
                .push(
                    self.base_url(mode),
                    &zero,
                    &token.value,
                    &probe_id,
                    &probe,
                    deadline,
                )
                .await;
            let r = match got {
                Ok(_) => return Ok(()),
                Err(r) if is_bad_device_token(&r.answer) => return Ok(()),
                Err(r) => r,
            };
            let rule = codes::rule(&r.answer);
            if rule.reauth && refused.is_none() {
                refused = Some(token.generation);
                continue;
            }
            return Err(verify_error(&r));
        }
        unreachable!("the loop returns")
    }
}

fn uuid_of_zero() -> String {
    apns_id(&"0".repeat(32))
}

fn is_bad_device_token(a: &Answer) -> bool {
    matches!(a, Answer::Apns { status: 400, reason } if reason == "BadDeviceToken")
}

/// What a refused credential check means for the uploader.
pub fn verify_error(r: &Refusal) -> ServiceError {
    let rule = codes::rule(&r.answer);
    let detail = r.detail();
    match &r.answer {
        // Refused again after a fresh token: the key does not belong to
        // the team or key id (6).
        _ if rule.reauth => ServiceError::InvalidCredentials {
            field: Some("credentials.key_id".into()),
            message: format!("{detail} (refused with a freshly minted token)"),
        },
        _ if rule.credentials => ServiceError::InvalidCredentials {
            field: rule.credential_field.map(str::to_string),
            message: detail,
        },
        Answer::Apns { status: 429, .. } | Answer::Http(429) => ServiceError::RateLimited {
            message: format!("{detail}; try again shortly"),
            retry_after: Duration::from_secs(r.retry_after.unwrap_or(5)),
        },
        Answer::Apns { status: 503, .. } | Answer::Http(503) => ServiceError::VendorUnavailable {
            message: format!("{detail} (use ?verify=false to store the credentials unverified)"),
            unavailable: true,
        },
        _ => ServiceError::VendorUnavailable {
            message: format!("{detail}: the credentials could not be verified (use ?verify=false to store them unverified)"),
            unavailable: false,
        },
    }
}

fn unreadable() -> ServiceError {
    ServiceError::internal(
        "apns credentials",
        "a stored APNs certificate's credentials cannot be read",
    )
}

impl Vendor for Apns {
    fn platform(&self) -> Platform {
        Platform::Apns
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    /// 6: APNs has no delivery receipts.
    fn receipt_style(&self) -> ReceiptStyle {
        ReceiptStyle::None
    }

    fn parse_credentials(
        &self,
        raw: Obj,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(ApnsCredentials::parse(raw, stored)?.to_data())
    }

    /// API.md: iOS opens the app and hands it `ext`; there is no page to
    /// name.
    fn check_click(&self, click: &ClickAction, field: &str) -> Result<(), ServiceError> {
        match click {
            ClickAction::OpenPage { .. } => Err(ServiceError::invalid(
                format!("{field}.type"),
                "open_page is not available for apns: iOS opens the app and hands it ext",
            )),
            _ => Ok(()),
        }
    }

    /// API.md: `push_mode: test` sends through the sandbox host.
    fn has_test_mode(&self) -> bool {
        true
    }

    fn view_credentials(&self, credentials: &VendorData) -> Value {
        ApnsCredentials::from_data(credentials)
            .map(|c| c.view())
            .unwrap_or(Value::Null)
    }

    fn default_name(&self, credentials: &VendorData) -> String {
        match ApnsCredentials::from_data(credentials) {
            Some(c) => format!("apns {}", c.bundle_id),
            None => "apns".into(),
        }
    }

    fn account(&self, cert: &Certificate) -> Option<String> {
        ApnsCredentials::from_data(&cert.credentials).map(|c| c.account_key())
    }

    /// 6, 12: one device per request.
    fn batching(&self, _cert: &Certificate, _message: &Message<'_>) -> Batching {
        Batching {
            min_list: 2,
            max_list: 1,
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move {
            let creds = ApnsCredentials::from_data(&cert.credentials).ok_or_else(unreadable)?;
            self.verify_credentials(&creds, cert.push_mode).await
        })
    }

    fn forget_pauses<'a>(&'a self, account: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.accounts.forget_pauses(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, reason: &str) -> Refusal {
        Refusal::new(Answer::Apns {
            status,
            reason: reason.into(),
        })
    }

    #[test]
    fn refused_checks_name_the_field_and_outages_are_not_blamed_on_credentials() {
        let e = verify_error(&refused(403, "InvalidProviderToken"));
        assert_eq!((e.status(), e.field()), (422, Some("credentials.key_id")));
        let e = verify_error(&refused(400, "TopicDisallowed"));
        assert_eq!(
            (e.status(), e.field()),
            (422, Some("credentials.bundle_id"))
        );
        let e = verify_error(&refused(403, "BadCertificateEnvironment"));
        assert_eq!((e.status(), e.field()), (422, Some("credentials.key_id")));
        assert_eq!(verify_error(&refused(403, "Forbidden")).status(), 422);
        assert_eq!(verify_error(&refused(429, "TooManyRequests")).status(), 429);
        assert_eq!(
            verify_error(&refused(429, "TooManyProviderTokenUpdates")).status(),
            429
        );
        assert_eq!(verify_error(&refused(503, "Shutdown")).status(), 503);
        assert_eq!(
            verify_error(&refused(500, "InternalServerError")).status(),
            502
        );
        assert_eq!(
            verify_error(&Refusal::new(Answer::Unreachable)).status(),
            502
        );
        assert_eq!(verify_error(&Refusal::new(Answer::Http(503))).status(), 503);
    }

    #[test]
    fn the_required_shape() {
        const { assert!(!DEDUPLICATES) };
        assert_eq!(BASE_URL_VAR, "APNS_API_BASE_URL");
        assert_eq!(DEFAULT_BASE_URL, "https://api.push.apple.com");
        assert_eq!(LIMITS.targets_per_call, 1);
        assert_eq!(uuid_of_zero(), "00000000-0000-0000-0000-000000000000");
    }
}
