//! The Xiaomi MiPush adapter (VENDORS_API.md sections 1 and 11), behind
//! the vendor port [`offpush::vendor::Vendor`], on the vendor kit:
//!
//! - [`credentials`]: AppSecret, package name, region (its host), the
//!   channel and template options, the account.
//! - [`codes`]: the answers and the one table from each to what the
//!   adapter does.
//! - [`message`]: the form body of `/v3/message/regid`.
//! - [`receipts`]: receipt bodies (form `data=` or raw JSON).
//!
//! Auth is the static header `Authorization: key=<AppSecret>` on every call
//! (1.2): no token, no auth calls. One call takes 1..=1000 regids (1.3).

pub mod codes;
pub mod credentials;
pub mod message;
pub mod receipts;

use codes::{Answer, Refusal, Reply};
use credentials::{XiaomiCredentials, XiaomiOptions};
use futures::future::BoxFuture;
use message::Form;
use offpush::domain::input::Obj;
use offpush::domain::{Certificate, Delivery, Platform, VendorData};
use offpush::store::Store;
use offpush::vendor::kit::{Accounts, Failure, NoAnswer, Session, VendorHttp};
use offpush::vendor::{
    Batching, Limits, Message, ReceiptBatch, ReceiptStyle, Send, SendReport, Vendor,
};
use offpush::ServiceError;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The variable that overrides every regional host (a simulator's, in
/// tests and local runs).
pub const BASE_URL_VAR: &str = "XIAOMI_API_BASE_URL";
pub const DEFAULT_BASE_URL: &str = "https://api.xmpush.xiaomi.com";
pub const SEND_PATH: &str = "/v3/message/regid";
/// 1.3: at most 1000 regids per request.
pub const MAX_REGIDS: usize = 1000;
/// The regid a credential check sends to: no device has it (Xiaomi issues
/// regids), so the check reaches no one.
pub const CREDENTIAL_CHECK_REGID: &str = "offpush-credential-check";
/// Xiaomi is not documented to deduplicate a repeated send: a call that
/// may have been written is not sent again.
pub const DEDUPLICATES: bool = false;

/// 1.4 [C]: title under 50 characters, description under 128; an extra
/// key plus value at most 1024 (ext travels as `extra.ext`).
pub const LIMITS: Limits = Limits {
    title_chars: 49,
    desc_chars: 127,
    ext_bytes: 1024 - 3,
    targets_per_call: MAX_REGIDS,
    // 1.9 [U]: 500 QPS for the smallest apps, and each call carries up to
    // 1000 regids: a push makes few calls.
    in_flight: 8,
};

/// The Xiaomi channel of a warm instance.
pub struct Xiaomi {
    http: VendorHttp,
    /// XIAOMI_API_BASE_URL: when set, every region's calls go there.
    base_override: Option<String>,
    accounts: Accounts,
}

impl Xiaomi {
    pub fn new(store: Store, base_override: Option<&str>, timeout: Duration) -> Self {
        Xiaomi {
            http: VendorHttp::new(base_override.unwrap_or(DEFAULT_BASE_URL), timeout),
            base_override: base_override.map(|u| u.trim_end_matches('/').to_string()),
            accounts: Accounts::new(store, "xiaomi", codes::meaning),
        }
    }

    /// Where a certificate's calls go: its region's host, unless overridden.
    pub fn url(&self, creds: &XiaomiCredentials) -> String {
        match &self.base_override {
            Some(base) => format!("{base}{SEND_PATH}"),
            None => format!("{}{SEND_PATH}", creds.region.host()),
        }
    }

    /// One `/v3/message/regid` call.
    async fn post(
        &self,
        creds: &XiaomiCredentials,
        body: String,
        deadline: Instant,
    ) -> Result<Reply, Refusal> {
        let req = self
            .http
            .post(&self.url(creds))
            // 1.2 [C]: the word `key` is lowercase.
            .header(
                "authorization",
                format!("key={}", creds.app_secret.expose()),
            )
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=UTF-8",
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

    /// Checks credentials with a harmless authenticated call: a send to a
    /// regid no device has. Xiaomi checks the AppSecret and package first
    /// (21301, 22022: refused, 422) and then finds no valid target (20301):
    /// nothing reaches any device, nothing is counted.
    pub async fn verify_credentials(
        &self,
        creds: &XiaomiCredentials,
        options: &XiaomiOptions,
    ) -> Result<(), ServiceError> {
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
        let body = Form::new(creds, options, &m).body(&[CREDENTIAL_CHECK_REGID]);
        match self.post(creds, body, deadline).await {
            Ok(_) => Ok(()),
            Err(r) if r.answer == Answer::NoValidTargets => Ok(()),
            Err(r) => Err(credentials_error(&r)),
        }
    }
}

/// What a refused credential check means for the uploader.
pub fn credentials_error(r: &Refusal) -> ServiceError {
    let rule = codes::rule(r.answer);
    match r.answer {
        Answer::Code(_) if rule.credentials || rule.credential_field.is_some() => {
            ServiceError::InvalidCredentials {
                field: rule.credential_field.map(str::to_string),
                message: r.detail(),
            }
        }
        Answer::Code(code) => ServiceError::VendorUnavailable {
            message: format!("xiaomi answered {code} to the credential check: {}", rule.meaning),
            unavailable: false,
        },
        _ => ServiceError::VendorUnavailable {
            message: "Xiaomi could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
            unavailable: false,
        },
    }
}

fn unreadable() -> ServiceError {
    ServiceError::internal(
        "xiaomi credentials",
        "a stored Xiaomi certificate's credentials cannot be read",
    )
}

/// `detail` with what the adapter changed in the message, when it did.
fn with_notes(mut d: Delivery, notes: &[String]) -> Delivery {
    if !notes.is_empty() {
        let note = format!("xiaomi: {}", notes.join("; "));
        d.detail = Some(match d.detail {
            Some(x) => format!("{x}; {note}"),
            None => note,
        });
    }
    d
}

impl Xiaomi {
    async fn send_group(&self, send: Send<'_>) -> SendReport {
        let Some(creds) = XiaomiCredentials::from_data(&send.cert.credentials) else {
            return SendReport {
                deliveries: vec![
                    Delivery::failed(
                        "the certificate's Xiaomi credentials cannot be read"
                    );
                    send.targets.len()
                ],
                calls: 0,
            };
        };
        let options = XiaomiOptions::from_data(&send.cert.options);
        let form = Form::new(&creds, &options, send.message);
        // 1.6: Xiaomi counts private (service and communication, through a
        // private channel) and public messages apart.
        let class = if options.channel_id.is_some() && send.message.category.is_service() {
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
            let reg_ids: Vec<&str> = targets.iter().map(|t| t.token.expose()).collect();
            let body = form.body(&reg_ids);
            let (session, creds, form) = (&session, &creds, &form);
            async move {
                let got: Result<Reply, Failure> = session
                    .call(SEND_PATH, |_| {
                        let body = body.clone();
                        async move {
                            self.post(creds, body, deadline)
                                .await
                                .map_err(|r| r.to_kit())
                        }
                    })
                    .await;
                let deliveries: Vec<Delivery> = match got {
                    Ok(reply) => reg_ids
                        .iter()
                        .map(|r| {
                            if reply.bad_regids.iter().any(|b| b == r) {
                                Refusal::new(Answer::BadRegid, "").to_kit().delivery()
                            } else {
                                Delivery::sent(reply.msg_id.clone())
                            }
                        })
                        .collect(),
                    Err(f) => vec![f.delivery; reg_ids.len()],
                };
                deliveries
                    .into_iter()
                    .map(|d| with_notes(d, &form.notes))
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

impl Vendor for Xiaomi {
    fn platform(&self) -> Platform {
        Platform::Xiaomi
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
        Ok(XiaomiCredentials::parse(raw, stored)?.to_data())
    }

    fn parse_options(
        &self,
        raw: Option<Obj>,
        _stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(XiaomiOptions::parse(raw)?.to_data())
    }

    /// 1.10 [C]: Xiaomi's sandbox is iOS only; Android has no test mode.
    fn has_test_mode(&self) -> bool {
        false
    }

    fn view_credentials(&self, credentials: &VendorData) -> Value {
        XiaomiCredentials::from_data(credentials)
            .map(|c| c.view())
            .unwrap_or(Value::Null)
    }

    fn default_name(&self, credentials: &VendorData) -> String {
        match XiaomiCredentials::from_data(credentials) {
            Some(c) => format!("xiaomi {}", c.package_name),
            None => "xiaomi".into(),
        }
    }

    fn account(&self, cert: &Certificate) -> Option<String> {
        XiaomiCredentials::from_data(&cert.credentials).map(|c| c.account_key())
    }

    fn batching(&self, _cert: &Certificate, _message: &Message<'_>) -> Batching {
        Batching {
            min_list: 1,
            max_list: MAX_REGIDS,
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move {
            let creds = XiaomiCredentials::from_data(&cert.credentials).ok_or_else(unreadable)?;
            let options = XiaomiOptions::from_data(&cert.options);
            self.verify_credentials(&creds, &options).await
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

    #[test]
    fn refused_credentials_are_422_naming_the_field() {
        let e = credentials_error(&Refusal::new(
            Answer::Code(21301),
            "Invalid application secret.",
        ));
        assert_eq!(
            (e.status(), e.field()),
            (422, Some("credentials.app_secret"))
        );
        let e = credentials_error(&Refusal::new(Answer::Code(22022), ""));
        assert_eq!(
            (e.status(), e.field()),
            (422, Some("credentials.package_name"))
        );
        let e = credentials_error(&Refusal::new(Answer::Code(27001), ""));
        assert_eq!(
            (e.status(), e.field()),
            (422, Some("vendor_options.channel_id"))
        );
        assert_eq!(
            credentials_error(&Refusal::new(Answer::Code(10002), "")).status(),
            502
        );
        assert_eq!(
            credentials_error(&Refusal::new(Answer::Unreachable, "")).status(),
            502
        );
    }
}
