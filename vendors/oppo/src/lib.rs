//! The OPPO Push (OPUSH / HeyTap push) adapter (VENDORS_API.md section 2,
//! the OPPO rows of 7, 8 and 11), behind the vendor port
//! [`offpush::vendor::Vendor`], on the vendor kit:
//!
//! - [`credentials`]: AppKey, MasterSecret, region (its host), the channel
//!   and template options, the account.
//! - [`auth`]: `/server/v1/auth` and its sign; the kit shares the token
//!   through the table and re-auths once on code 11.
//! - [`codes`]: the answers and the one table from each to what the
//!   adapter does.
//! - [`message`]: the notification and the form bodies of `unicast` and
//!   `unicast_batch`.
//! - [`receipts`]: receipt bodies (a JSON array of events).
//!
//! One target goes through `unicast`; 2..=1000 through `unicast_batch`
//! (2.3). Why not `save_message_content` + `broadcast`: the batch answers a
//! verdict per target (`errorCode` per item, 2.6 [C]), while the
//! broadcast's invalid-target list (`data."10000"`) is known from one
//! client only (2.6 [S/U]); a broadcast takes two calls and a body stored
//! as flattened form fields (2.3 [C/S]); and the unicast rules on
//! categories, private channels and templates (2.4, 2.5) are documented
//! for the message object the batch carries.

pub mod auth;
pub mod codes;
pub mod credentials;
pub mod message;
pub mod receipts;

use auth::{OppoAuth, AUTH_PATH, POLICY};
use codes::{Answer, Refusal};
use credentials::{OppoCredentials, OppoOptions};
use futures::future::BoxFuture;
use message::Notification;
use offpush::domain::input::Obj;
use offpush::domain::{Certificate, ClickAction, Delivery, DeliveryStatus, Platform, VendorData};
use offpush::store::Store;
use offpush::vendor::kit::{Accounts, Failure, Fresh, Session, SessionAuth, VendorHttp};
use offpush::vendor::{
    Batching, Limits, Message, ReceiptBatch, ReceiptStyle, Send, SendReport, Vendor,
};
use offpush::ServiceError;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The variable that overrides every regional host, auth included (a
/// simulator's, in tests and local runs).
pub const BASE_URL_VAR: &str = "OPPO_API_BASE_URL";
/// The China host (2.1 [C]), the default region's.
pub const DEFAULT_BASE_URL: &str = "https://api.push.oppomobile.com";
pub const UNICAST_PATH: &str = "/server/v1/message/notification/unicast";
pub const UNICAST_BATCH_PATH: &str = "/server/v1/message/notification/unicast_batch";
/// 2.3 [C]: at most 1000 messages per `unicast_batch`.
pub const MAX_BATCH: usize = 1000;
/// OPPO deduplicates a unicast only on an `app_message_id` (2.4), whose
/// memory and batch coverage are undocumented: a call that may have been
/// written is not sent again.
pub const DEDUPLICATES: bool = false;

/// 2.4: title 50 characters; content 128 as the adapter sends it (long
/// text past 50, see [`message::MAX_STANDARD_CONTENT_CHARS`]); ext travels
/// as `{"ext": …}` in action_parameters (4000 characters: any ext of the
/// product's 1021 bytes fits unless it holds hundreds of control
/// characters, which JSON writes 6 characters each; such a push is
/// refused per device, never cut).
pub const LIMITS: Limits = Limits {
    title_chars: message::MAX_TITLE_CHARS,
    desc_chars: message::MAX_LONG_TEXT_CHARS,
    ext_bytes: 1024 - 3,
    targets_per_call: MAX_BATCH,
    // 2.8 [U]: 5000 QPS and more per app, shared by every API; a batch
    // carries up to 1000 targets, so a push makes few calls.
    in_flight: 16,
};

/// The OPPO channel of a warm instance.
pub struct Oppo {
    http: VendorHttp,
    /// OPPO_API_BASE_URL: when set, every call (auth included) goes there.
    base_override: Option<String>,
    /// Per OPPO app and region: auth_token and pauses.
    accounts: Accounts,
}

impl Oppo {
    pub fn new(store: Store, base_override: Option<&str>, timeout: Duration) -> Self {
        Oppo {
            http: VendorHttp::new(base_override.unwrap_or(DEFAULT_BASE_URL), timeout),
            base_override: base_override.map(|u| u.trim_end_matches('/').to_string()),
            accounts: Accounts::new(store, "oppo", codes::meaning),
        }
    }

    /// Where a certificate's calls to `path` go: its region's host, unless
    /// overridden.
    pub fn url(&self, creds: &OppoCredentials, path: &str) -> String {
        match &self.base_override {
            Some(base) => format!("{base}{path}"),
            None => format!("{}{path}", creds.region.host()),
        }
    }

    fn authenticator<'a>(&'a self, creds: &'a OppoCredentials) -> OppoAuth<'a> {
        OppoAuth {
            http: &self.http,
            url: self.url(creds, AUTH_PATH),
            creds,
        }
    }

    /// Checks credentials with a real auth call (never a cached token: the
    /// point is to ask OPPO now). The token obtained is shared, so the
    /// first push after an upload needs no auth call of its own.
    pub async fn verify_credentials(&self, creds: &OppoCredentials) -> Result<(), ServiceError> {
        let deadline = Instant::now() + self.http.timeout();
        match self.authenticator(creds).call(deadline).await {
            Ok(value) => Ok(self
                .accounts
                .remember(
                    &creds.account_key(),
                    Fresh {
                        value,
                        valid_secs: auth::AUTH_TOKEN_VALID_SECS,
                    },
                    &POLICY,
                )
                .await?),
            Err(r) => Err(auth::credentials_error(&r)),
        }
    }

    async fn send_group(&self, send: Send<'_>) -> SendReport {
        let n_targets = send.targets.len();
        let Some(creds) = OppoCredentials::from_data(&send.cert.credentials) else {
            return SendReport {
                deliveries: vec![
                    Delivery::failed(
                        "the certificate's OPPO credentials cannot be read"
                    );
                    n_targets
                ],
                calls: 0,
            };
        };
        let options = OppoOptions::from_data(&send.cert.options);
        let n = Notification::new(&options, send.message);
        if let Some(why) = &n.refused {
            return SendReport {
                deliveries: vec![
                    Delivery::new(DeliveryStatus::Rejected, Some(why.clone()));
                    n_targets
                ],
                calls: 0,
            };
        }
        let auth = self.authenticator(&creds);
        // 2.5: OPPO counts service & communication and content & marketing
        // messages apart (33 pauses the class it was answered for).
        let class = if send.message.category.is_service() {
            "service"
        } else {
            "public"
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
        let deadline = send.budget.deadline();
        let mut start = 0;
        let calls = send.chunks.iter().map(|size| {
            let reg_ids: Vec<&str> = send.targets[start..start + size]
                .iter()
                .map(|t| t.token.expose())
                .collect();
            start += size;
            let (session, creds, n) = (&session, &creds, &n);
            async move {
                if reg_ids.len() == 1 {
                    vec![self.unicast(session, creds, n, reg_ids[0], deadline).await]
                } else {
                    self.batch(session, creds, n, &reg_ids, deadline).await
                }
            }
        });
        let deliveries = futures::future::join_all(calls)
            .await
            .concat()
            .into_iter()
            .map(|d| with_notes(d, &n.notes))
            .collect();
        SendReport {
            deliveries,
            calls: session.calls(),
        }
    }

    async fn unicast(
        &self,
        session: &Session<'_>,
        creds: &OppoCredentials,
        n: &Notification,
        reg_id: &str,
        deadline: Instant,
    ) -> Delivery {
        let url = self.url(creds, UNICAST_PATH);
        let got: Result<Value, Failure> = session
            .call(UNICAST_PATH, |token| {
                let body = n.unicast_body(token.as_deref().unwrap_or(""), reg_id);
                let url = &url;
                async move {
                    auth::post(&self.http, url, body, deadline)
                        .await
                        .map_err(|mut r| {
                            r.message = scrub(&r.message, &[reg_id]);
                            r.to_kit()
                        })
                }
            })
            .await;
        match got {
            // 2.6 [C]: `messageId` (camelCase) in unicast answers.
            Ok(data) => Delivery::sent(
                data.get("messageId")
                    .or_else(|| data.get("message_id"))
                    .and_then(codes::text),
            ),
            Err(f) => f.delivery,
        }
    }

    async fn batch(
        &self,
        session: &Session<'_>,
        creds: &OppoCredentials,
        n: &Notification,
        reg_ids: &[&str],
        deadline: Instant,
    ) -> Vec<Delivery> {
        let url = self.url(creds, UNICAST_BATCH_PATH);
        let got: Result<Value, Failure> = session
            .call(UNICAST_BATCH_PATH, |token| {
                let body = n.batch_body(token.as_deref().unwrap_or(""), reg_ids);
                let url = &url;
                async move {
                    auth::post(&self.http, url, body, deadline)
                        .await
                        .map_err(|mut r| {
                            r.message = scrub(&r.message, reg_ids);
                            if r.answer == Answer::Code(10000) {
                                r.answer = Answer::BatchInvalid;
                            }
                            r.to_kit()
                        })
                }
            })
            .await;
        match got {
            Ok(data) => batch_verdicts(&data, reg_ids),
            Err(f) => vec![f.delivery; reg_ids.len()],
        }
    }
}

/// Each target's outcome in an accepted `unicast_batch` (2.6 [C]): `data`
/// is an array of `{messageId, registrationId}`, failed items adding
/// `errorCode` and `errorMessage`. Items are matched by registrationId,
/// else by position (answers are in request order).
pub fn batch_verdicts(data: &Value, reg_ids: &[&str]) -> Vec<Delivery> {
    let items: &[Value] = data.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut used = vec![false; items.len()];
    reg_ids
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let by_id = items.iter().enumerate().position(|(j, it)| {
                !used[j] && it.get("registrationId").and_then(Value::as_str) == Some(*r)
            });
            let at = by_id.or_else(|| {
                items
                    .get(i)
                    .filter(|it| it.get("registrationId").is_none() && !used[i])
                    .map(|_| i)
            });
            let Some(j) = at else {
                let mut d = Delivery::failed(
                    "oppo: the batch was accepted but its answer names no outcome for this target (not sent again)",
                );
                d.vendor_code = Some("unreadable".into());
                return d;
            };
            used[j] = true;
            let item = &items[j];
            match item.get("errorCode").and_then(codes::int) {
                Some(code) if code != 0 => {
                    let msg: String = item
                        .get("errorMessage")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(100)
                        .collect();
                    Refusal::new(Answer::Item(code), scrub(&msg, &[r]))
                        .to_kit()
                        .delivery()
                }
                _ => Delivery::sent(
                    item.get("messageId")
                        .or_else(|| item.get("message_id"))
                        .and_then(codes::text),
                ),
            }
        })
        .collect()
}

/// OPPO's text with every registration id of the call masked: no result
/// ever holds a whole token, whatever OPPO quotes back.
pub fn scrub(text: &str, reg_ids: &[&str]) -> String {
    let mut out = text.to_string();
    for r in reg_ids.iter().filter(|r| r.len() >= 4) {
        if out.contains(r) {
            out = out.replace(r, "****");
        }
    }
    out
}

/// `detail` with what the adapter changed in the message, when it did.
fn with_notes(mut d: Delivery, notes: &[String]) -> Delivery {
    if !notes.is_empty() {
        let note = format!("oppo: {}", notes.join("; "));
        d.detail = Some(match d.detail {
            Some(x) => format!("{x}; {note}"),
            None => note,
        });
    }
    d
}

fn unreadable() -> ServiceError {
    ServiceError::internal(
        "oppo credentials",
        "a stored OPPO certificate's credentials cannot be read",
    )
}

impl Vendor for Oppo {
    fn platform(&self) -> Platform {
        Platform::Oppo
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    fn receipt_style(&self) -> ReceiptStyle {
        ReceiptStyle::PerMessage
    }

    fn max_receipt_url(&self) -> Option<usize> {
        Some(message::MAX_CALLBACK_URL)
    }

    fn parse_credentials(
        &self,
        raw: Obj,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(OppoCredentials::parse(raw, stored)?.to_data())
    }

    fn parse_options(
        &self,
        raw: Option<Obj>,
        _stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(OppoOptions::parse(raw)?.to_data())
    }

    /// 2.4 [CONFLICT]: a URL or intent URI over 500 characters may be
    /// refused by OPPO; it is refused here first, naming the field.
    fn check_click(&self, click: &ClickAction, field: &str) -> Result<(), ServiceError> {
        let (name, text) = match click {
            ClickAction::OpenApp => return Ok(()),
            ClickAction::OpenUrl { url } => ("url", url),
            ClickAction::OpenPage { intent_uri } => ("intent_uri", intent_uri),
        };
        if text.chars().count() > message::MAX_CLICK_URL_CHARS {
            return Err(ServiceError::invalid(
                format!("{field}.{name}"),
                format!(
                    "at most {} characters for OPPO",
                    message::MAX_CLICK_URL_CHARS
                ),
            ));
        }
        Ok(())
    }

    /// 2.9: no API test flag was found (`verify_registration_id` is not one).
    fn has_test_mode(&self) -> bool {
        false
    }

    fn view_credentials(&self, credentials: &VendorData) -> Value {
        OppoCredentials::from_data(credentials)
            .map(|c| c.view())
            .unwrap_or(Value::Null)
    }

    fn default_name(&self, credentials: &VendorData) -> String {
        match OppoCredentials::from_data(credentials) {
            Some(c) => format!("oppo {}", c.app_key),
            None => "oppo".into(),
        }
    }

    fn account(&self, cert: &Certificate) -> Option<String> {
        OppoCredentials::from_data(&cert.credentials).map(|c| c.account_key())
    }

    fn batching(&self, _cert: &Certificate, _message: &Message<'_>) -> Batching {
        Batching {
            min_list: 2,
            max_list: MAX_BATCH,
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move {
            let creds = OppoCredentials::from_data(&cert.credentials).ok_or_else(unreadable)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_RECIPIENTS, MAX_TITLE_CHARS};
    use offpush::domain::DeliveryStatus::*;
    use serde_json::json;

    #[tokio::test]
    async fn the_products_limits_fit_oppos() {
        // As the registry's test holds every channel to it.
        let l = oppo().await.limits();
        assert!(MAX_TITLE_CHARS <= l.title_chars);
        assert!(MAX_DESC_CHARS <= l.desc_chars);
        assert!(MAX_EXT_BYTES <= l.ext_bytes);
        assert!(l.targets_per_call >= 1 && l.targets_per_call <= MAX_RECIPIENTS);
        // OPPO's own limits, as the adapter sends (2.4).
        assert_eq!(
            (l.title_chars, l.desc_chars, l.targets_per_call),
            (50, 128, 1000)
        );
    }

    #[test]
    fn batch_items_end_exactly_the_named_targets() {
        let data = json!([
            {"messageId": "m1", "registrationId": "r1"},
            {"messageId": "m2", "registrationId": "r2", "errorCode": 10000, "errorMessage": "registration_id格式不正确"},
            {"messageId": "m3", "registrationId": "r3", "errorCode": 10004, "errorMessage": "x"},
        ]);
        let d = batch_verdicts(&data, &["r1", "r2", "r3"]);
        assert_eq!(
            d.iter().map(|d| d.status).collect::<Vec<_>>(),
            [Sent, TokenInvalid, Failed]
        );
        assert_eq!(d[0].vendor_task_id.as_deref(), Some("m1"));
        assert_eq!(d[1].vendor_code.as_deref(), Some("10000"));
        assert!(d[1].detail.as_deref().unwrap().starts_with("oppo 10000"));
        assert_eq!(d[2].vendor_code.as_deref(), Some("10004"));
        // Out of order: matched by registrationId.
        let data = json!([
            {"messageId": "m2", "registrationId": "r2", "errorCode": "10000"},
            {"messageId": "m1", "registrationId": "r1"},
        ]);
        let d = batch_verdicts(&data, &["r1", "r2"]);
        assert_eq!((d[0].status, d[1].status), (Sent, TokenInvalid));
        // Without registrationId: by position; a missing item is failed.
        let data = json!([{"messageId": "m1"}]);
        let d = batch_verdicts(&data, &["r1", "r2"]);
        assert_eq!((d[0].status, d[1].status), (Sent, Failed));
        assert_eq!(d[1].vendor_code.as_deref(), Some("unreadable"));
        // OPPO quoting the token back: masked.
        let data = json!([{"registrationId": "CN_abcdef", "errorCode": 10000, "errorMessage": "bad CN_abcdef"}]);
        let d = batch_verdicts(&data, &["CN_abcdef"]);
        assert!(!d[0].detail.as_deref().unwrap().contains("CN_abcdef"));
        assert_eq!(scrub("x CN_abcdef y", &["CN_abcdef", "ab"]), "x **** y");
        // The same regid twice: each item used once.
        let data = json!([
            {"messageId": "a", "registrationId": "r"},
            {"messageId": "b", "registrationId": "r", "errorCode": 10000},
        ]);
        let d = batch_verdicts(&data, &["r", "r"]);
        assert_eq!((d[0].status, d[1].status), (Sent, TokenInvalid));
    }

    async fn oppo() -> Oppo {
        let store = Store::for_endpoint("http://127.0.0.1:9", "us-east-1", "t").await;
        Oppo::new(store, None, Duration::from_secs(1))
    }

    #[tokio::test]
    async fn click_urls_past_the_safer_limit_are_refused_naming_the_field() {
        let o = oppo().await;
        let at = ClickAction::OpenUrl {
            url: format!("https://e.com/{}", "a".repeat(500 - 14)),
        };
        assert!(o.check_click(&at, "click_action").is_ok());
        let past = ClickAction::OpenUrl {
            url: format!("https://e.com/{}", "a".repeat(501 - 14)),
        };
        assert_eq!(
            o.check_click(&past, "click_action").unwrap_err().field(),
            Some("click_action.url")
        );
        let page = ClickAction::OpenPage {
            intent_uri: format!("intent:{};end", "a".repeat(500)),
        };
        let e = o.check_click(&page, "click_action").unwrap_err();
        assert_eq!(
            (e.status(), e.field()),
            (400, Some("click_action.intent_uri"))
        );
        assert!(o.check_click(&ClickAction::OpenApp, "click_action").is_ok());
    }

    #[tokio::test]
    async fn the_vendor_says_what_it_is_and_masks_secrets() {
        let o = oppo().await;
        assert_eq!(o.platform(), Platform::Oppo);
        assert_eq!(o.receipt_style(), ReceiptStyle::PerMessage);
        assert_eq!(o.max_receipt_url(), Some(200));
        assert!(!o.has_test_mode());
        let c = OppoCredentials {
            app_key: "ak".into(),
            master_secret: offpush::domain::Secret::new("a-long-master-secret-xyz"),
            region: credentials::Region::Intl,
        };
        let d = c.to_data();
        let v = o.view_credentials(&d);
        assert_eq!(
            v,
            json!({"app_key": "ak", "master_secret": "****xyz", "region": "intl"})
        );
        assert_eq!(o.default_name(&d), "oppo ak");
        assert_eq!(o.view_options(&VendorData::new()), None);
        assert_eq!(
            o.url(&c, UNICAST_PATH),
            format!("https://api-intl.push.oppomobile.com{UNICAST_PATH}")
        );
        let store = Store::for_endpoint("http://127.0.0.1:9", "us-east-1", "t").await;
        let sim = Oppo::new(
            store,
            Some("http://127.0.0.1:1234/"),
            Duration::from_secs(1),
        );
        assert_eq!(
            sim.url(&c, AUTH_PATH),
            "http://127.0.0.1:1234/server/v1/auth"
        );
    }
}
