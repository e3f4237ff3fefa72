//! The Meizu Flyme Push adapter (VENDORS_API.md sections 13, 15 and 16,
//! with 7, 8 and 11), behind the vendor port [`offpush::vendor::Vendor`],
//! on the vendor kit:
//!
//! - [`credentials`]: appId and appSecret, the account.
//! - [`message`]: the signed form of `varnished/pushByPushId` and its
//!   `messageJson`.
//! - [`codes`]: the answers and the one table from each to what the
//!   adapter does.
//! - [`receipts`]: receipt bodies (form `cb=` or raw JSON).
//!
//! Auth is the `sign` field of every call, an MD5 over the sorted
//! parameters and the appSecret (15.2): no token, no auth calls, nothing
//! shared through the table but the account's pauses. One call takes
//! 1..=100 pushIds (15.3, 15.8).

pub mod codes;
pub mod credentials;
pub mod message;
pub mod receipts;

use codes::{Answer, Refusal, Reply};
use credentials::MeizuCredentials;
use futures::future::BoxFuture;
use message::Form;
use offpush::clock::now_secs;
use offpush::domain::input::Obj;
use offpush::domain::{Certificate, Delivery, DeliveryStatus, Platform, VendorData};
use offpush::store::Store;
use offpush::vendor::kit::Accounts;
use offpush::vendor::kit::{pause_secs, Failure, NoAnswer, Session, VendorHttp};
use offpush::vendor::{
    Batching, Limits, Message, ReceiptBatch, ReceiptStyle, Send, SendReport, Vendor,
};
use offpush::ServiceError;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The variable that overrides Meizu's host (a simulator's, in tests and
/// local runs).
pub const BASE_URL_VAR: &str = "MEIZU_API_BASE_URL";
/// VENDORS_API.md 15.1 [CONFLICT]: the README's examples use `http://` and
/// older SDKs `api-push.meizu.com`; the official JavaSdk (2025-04) says
/// https only, on `server-api-push.meizu.com`. HTTPS is the safer reading
/// (the secret-derived sign and the message never travel in clear).
pub const DEFAULT_BASE_URL: &str = "https://server-api-push.meizu.com";
pub const SEND_PATH: &str = "/garcia/api/server/push/varnished/pushByPushId";
/// VENDORS_API.md 15.8 [CONFLICT]: 100 pushIds per call since 2023-08-21
/// (README, JavaSdk), 1000 before and in most community clients: the lower
/// limit is safer (a call of 1000 would be refused whole today).
pub const MAX_PUSH_IDS: usize = 100;
/// The pushId a credential check sends to: no device has it (Meizu issues
/// pushIds), so the check reaches no one.
pub const CREDENTIAL_CHECK_PUSH_ID: &str = "OFFPUSHCREDENTIALCHECK0000000000000000000000";
/// Meizu's send takes no request id and is not documented to deduplicate
/// (15.2: requests are replayable): a call that may have been written is
/// not sent again.
pub const DEDUPLICATES: bool = false;

/// 15.4, 15.8 [C]: title 1-32 characters, content 1-100. The product's
/// title (40) is longer: the adapter takes it and cuts it to 32, saying so
/// in the device's detail (as Xiaomi's template parameters are cut), so
/// that nothing the API accepts is refused. ext travels as the entry
/// `ext` of `clickTypeInfo.parameters`, which has no documented limit.
pub const LIMITS: Limits = Limits {
    title_chars: offpush::domain::push::MAX_TITLE_CHARS,
    desc_chars: message::MAX_CONTENT_CHARS,
    ext_bytes: 1024 - 3,
    targets_per_call: MAX_PUSH_IDS,
    // 15.8 [U]: 200 QPS per app; each call carries up to 100 pushIds.
    in_flight: 8,
};

// The product's limits fit as the adapter sends (checked when the crate
// builds; the registry tests the same over every channel).
const _: () = {
    use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_RECIPIENTS, MAX_TITLE_CHARS};
    assert!(MAX_TITLE_CHARS <= LIMITS.title_chars);
    assert!(MAX_DESC_CHARS <= LIMITS.desc_chars);
    assert!(MAX_EXT_BYTES <= LIMITS.ext_bytes);
    assert!(LIMITS.targets_per_call <= MAX_RECIPIENTS);
};

/// The Meizu channel of a warm instance.
pub struct Meizu {
    http: VendorHttp,
    accounts: Accounts,
}

impl Meizu {
    /// `base_override` (MEIZU_API_BASE_URL): every call goes there.
    pub fn new(store: Store, base_override: Option<&str>, timeout: Duration) -> Self {
        Meizu {
            http: VendorHttp::new(base_override.unwrap_or(DEFAULT_BASE_URL), timeout),
            accounts: Accounts::new(store, "meizu", codes::meaning),
        }
    }

    /// One `varnished/pushByPushId` call.
    async fn post(&self, body: String, deadline: Instant) -> Result<Reply, Refusal> {
        let req = self
            .http
            .post(SEND_PATH)
            .header(
                "content-type",
                "application/x-www-form-urlencoded;charset=UTF-8",
            )
            .body(body);
        match self.http.call(req, deadline).await {
            Ok(a) => codes::read(a.status, &a.body),
            Err(n) => Err(Refusal {
                maybe_written: matches!(n, NoAnswer::Lost(_)),
                ..Refusal::new(Answer::Unreachable, n.why())
            }),
        }
    }

    /// Checks credentials with a harmless signed call: a send to a pushId
    /// no device has. Meizu checks the appId and the sign before the
    /// targets (110000, 1006, 110033: refused, 422), then answers 200 with
    /// the pushId in its failure map: nothing reaches any device. Chosen
    /// over a malformed message, whose checks may come before the sign's
    /// (the order is undocumented, 16 guess 1), and over the statistics
    /// API, a different endpoint than the one pushes need.
    pub async fn verify_credentials(&self, creds: &MeizuCredentials) -> Result<(), ServiceError> {
        let deadline = Instant::now() + self.http.timeout();
        let click = offpush::domain::ClickAction::OpenApp;
        let m = Message {
            push_key: "credential-check",
            title: "offpush credential check",
            desc: "offpush credential check",
            ext: None,
            category: offpush::domain::Category::Im,
            ttl_seconds: 60,
            click: &click,
            notify_id: None,
            receipt: None,
        };
        let body =
            Form::new(creds, &m).body(&[CREDENTIAL_CHECK_PUSH_ID], creds.app_secret.expose());
        match self.post(body, deadline).await {
            Ok(_) => Ok(()),
            Err(r) => Err(credentials_error(&r)),
        }
    }
}

/// What a refused credential check means for the uploader.
pub fn credentials_error(r: &Refusal) -> ServiceError {
    let rule = codes::rule(r.answer);
    match r.answer {
        Answer::Code(_) if rule.credentials => ServiceError::InvalidCredentials {
            field: rule.credential_field.map(str::to_string),
            message: r.detail(),
        },
        // The credentials passed (the sign is checked first) but the app
        // may not send at all.
        Answer::Code(110009) => ServiceError::InvalidCredentials {
            field: None,
            message: r.detail(),
        },
        Answer::Code(code) if rule.until.is_some() => ServiceError::RateLimited {
            message: format!("meizu answered {code} to the credential check: {}", rule.meaning),
            retry_after: Duration::from_secs(pause_secs(rule.until.expect("some"), now_secs())),
        },
        Answer::Code(code) => ServiceError::VendorUnavailable {
            message: format!("meizu answered {code} to the credential check: {}", rule.meaning),
            unavailable: false,
        },
        Answer::Http(503) => ServiceError::VendorUnavailable {
            message: "Meizu is unavailable (HTTP 503); use ?verify=false to store the credentials unverified".into(),
            unavailable: true,
        },
        _ => ServiceError::VendorUnavailable {
            message: "Meizu could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
            unavailable: false,
        },
    }
}

fn unreadable() -> ServiceError {
    ServiceError::internal(
        "meizu credentials",
        "a stored Meizu certificate's credentials cannot be read",
    )
}

/// `detail` with what the adapter changed in the message, when it did.
fn with_notes(mut d: Delivery, notes: &[String]) -> Delivery {
    if !notes.is_empty() {
        let note = format!("meizu: {}", notes.join("; "));
        d.detail = Some(match d.detail {
            Some(x) => format!("{x}; {note}"),
            None => note,
        });
    }
    d
}

/// The delivery of one target of an accepted call.
fn target_delivery(reply: &Reply, push_id: &str) -> Delivery {
    let Some(code) = reply.code_of(push_id) else {
        return Delivery::sent(reply.msg_id.clone());
    };
    let refusal = Refusal::new(Answer::Target(code), "");
    let rule = codes::rule(refusal.answer);
    if rule.status == DeliveryStatus::Sent {
        // 520: shown (collapsed with newer ones); said, not a failure.
        let mut d = Delivery::sent(reply.msg_id.clone());
        d.detail = Some(refusal.detail());
        return d;
    }
    let mut d = refusal.to_kit().delivery();
    if let Some(until) = rule.until {
        d.retry_after_s = Some(pause_secs(until, now_secs()).max(1));
    }
    d
}

impl Meizu {
    async fn send_group(&self, send: Send<'_>) -> SendReport {
        let Some(creds) = MeizuCredentials::from_data(&send.cert.credentials) else {
            return SendReport {
                deliveries: vec![
                    Delivery::failed(
                        "the certificate's Meizu credentials cannot be read"
                    );
                    send.targets.len()
                ],
                calls: 0,
            };
        };
        let form = Form::new(&creds, send.message);
        // 15.7: Meizu caps public messages per device and day, private
        // ones not: the class names the pauses of a class.
        let class = if form.notice_msg_type == 1 {
            "private"
        } else {
            "public"
        };
        let session = Session::new(
            &self.accounts,
            creds.account_key(),
            None,
            send.budget,
            class,
            DEDUPLICATES,
            LIMITS.in_flight,
        );
        let deadline = send.budget.deadline();
        let mut start = 0;
        let calls = send.chunks.iter().map(|size| {
            let targets = &send.targets[start..start + size];
            start += size;
            // pushIds travel comma-joined (15.3): a token holding a comma
            // (or blank) cannot be one, and would name other targets.
            let ids: Vec<&str> = targets.iter().map(|t| t.token.expose()).collect();
            let sendable: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|t| is_push_id(t))
                .collect();
            let body = (!sendable.is_empty())
                .then(|| form.body(&sendable, creds.app_secret.expose()));
            let (session, form) = (&session, &form);
            async move {
                let got: Option<Result<Reply, Failure>> = match body {
                    Some(body) => Some(
                        session
                            .call(SEND_PATH, |_| {
                                let body = body.clone();
                                async move {
                                    self.post(body, deadline).await.map_err(|r| r.to_kit())
                                }
                            })
                            .await,
                    ),
                    None => None,
                };
                ids.iter()
                    .map(|id| {
                        let d = if !is_push_id(id) {
                            Delivery::new(
                                DeliveryStatus::Rejected,
                                Some("not a Meizu pushId (blank, or holds a comma or space); not sent".into()),
                            )
                        } else {
                            match &got {
                                Some(Ok(reply)) => target_delivery(reply, id),
                                Some(Err(f)) => f.delivery.clone(),
                                // Not reached: a sendable id makes a call.
                                None => Delivery::failed("no Meizu call was made"),
                            }
                        };
                        with_notes(d, &form.notes)
                    })
                    .collect::<Vec<_>>()
            }
        });
        let deliveries = futures::future::join_all(calls).await.concat();
        SendReport {
            deliveries,
            calls: session.calls(),
        }
    }
}

/// Whether a token can travel in the comma-joined `pushIds` field.
fn is_push_id(t: &str) -> bool {
    !t.is_empty()
        && !t
            .chars()
            .any(|c| c == ',' || c.is_whitespace() || c.is_control())
}

impl Vendor for Meizu {
    fn platform(&self) -> Platform {
        Platform::Meizu
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    /// 15.4, 15.6 [C]: each message names its receipt URL
    /// (`extra.callback`; Meizu also wants it registered in its console).
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
        Ok(MeizuCredentials::parse(raw, stored)?.to_data())
    }

    /// 15.8 [U]: no test mode was found.
    fn has_test_mode(&self) -> bool {
        false
    }

    fn view_credentials(&self, credentials: &VendorData) -> Value {
        MeizuCredentials::from_data(credentials)
            .map(|c| c.view())
            .unwrap_or(Value::Null)
    }

    fn default_name(&self, credentials: &VendorData) -> String {
        match MeizuCredentials::from_data(credentials) {
            Some(c) => format!("meizu {}", c.app_id),
            None => "meizu".into(),
        }
    }

    fn account(&self, cert: &Certificate) -> Option<String> {
        MeizuCredentials::from_data(&cert.credentials).map(|c| c.account_key())
    }

    fn batching(&self, _cert: &Certificate, _message: &Message<'_>) -> Batching {
        Batching {
            min_list: 1,
            max_list: MAX_PUSH_IDS,
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move {
            let creds = MeizuCredentials::from_data(&cert.credentials).ok_or_else(unreadable)?;
            self.verify_credentials(&creds).await
        })
    }

    fn parse_receipt(
        &self,
        body: &[u8],
        content_type: Option<&str>,
    ) -> Result<ReceiptBatch, ServiceError> {
        receipts::parse(body, content_type)
    }

    fn forget_pauses<'a>(&'a self, account: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.accounts.forget_pauses(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_RECIPIENTS, MAX_TITLE_CHARS};

    #[test]
    fn the_products_limits_fit_meizus_as_the_adapter_sends() {
        // As the registry's test holds every channel to it.
        assert!(DEFAULT_BASE_URL.starts_with("https://server-api-push.meizu.com"));
        let l = std::hint::black_box(LIMITS);
        assert!(MAX_TITLE_CHARS <= l.title_chars);
        assert!(MAX_DESC_CHARS <= l.desc_chars);
        assert!(MAX_EXT_BYTES <= l.ext_bytes);
        assert!(l.targets_per_call >= 1 && l.targets_per_call <= MAX_RECIPIENTS);
        assert_eq!(
            (
                LIMITS.title_chars,
                LIMITS.desc_chars,
                LIMITS.targets_per_call
            ),
            (40, 100, 100)
        );
    }

    #[test]
    fn refused_credentials_are_422_naming_the_field() {
        for (code, field) in [
            (1006, Some("credentials.app_secret")),
            (110000, Some("credentials.app_id")),
            (110001, Some("credentials.app_secret")),
            (110033, Some("credentials.app_secret")),
            (110009, None),
        ] {
            let e = credentials_error(&Refusal::new(Answer::Code(code), "x"));
            assert_eq!((e.status(), e.field()), (422, field), "{code}");
        }
        assert_eq!(
            credentials_error(&Refusal::new(Answer::Code(110010), "")).status(),
            429
        );
        assert_eq!(
            credentials_error(&Refusal::new(Answer::Code(110019), "")).status(),
            429
        );
        for a in [
            Answer::Code(1001),
            Answer::Code(1005),
            Answer::Code(110031),
            Answer::Http(500),
            Answer::Unreachable,
            Answer::Unreadable,
        ] {
            assert_eq!(
                credentials_error(&Refusal::new(a, "")).status(),
                502,
                "{a:?}"
            );
        }
        assert_eq!(
            credentials_error(&Refusal::new(Answer::Http(503), "")).status(),
            503
        );
    }

    #[test]
    fn targets_of_an_accepted_call_get_their_own_verdicts() {
        let reply = Reply {
            msg_id: Some("m1".into()),
            failed: vec![
                (110002, vec!["a".into()]),
                (110011, vec!["b".into()]),
                (520, vec!["c".into()]),
            ],
        };
        let a = target_delivery(&reply, "a");
        assert_eq!(a.status, DeliveryStatus::TokenInvalid);
        assert_eq!(a.vendor_code.as_deref(), Some("110002"));
        let b = target_delivery(&reply, "b");
        assert_eq!(b.status, DeliveryStatus::Throttled);
        assert!((1..=86_400).contains(&b.retry_after_s.unwrap()));
        let c = target_delivery(&reply, "c");
        assert_eq!(c.status, DeliveryStatus::Sent);
        assert!(c.detail.unwrap().starts_with("meizu 520"));
        let d = target_delivery(&reply, "d");
        assert_eq!(
            (d.status, d.vendor_task_id.as_deref()),
            (DeliveryStatus::Sent, Some("m1"))
        );
    }

    #[test]
    fn only_tokens_that_can_travel_comma_joined_are_sent() {
        assert!(is_push_id("J0476035d625e4f6a7b5c"));
        for bad in ["", "a,b", "a b", "a\nb"] {
            assert!(!is_push_id(bad), "{bad:?}");
        }
    }
}
