//! The Honor Push adapter (VENDORS_API.md section 3 and the Honor rows of
//! 7, 8 and 11), behind the vendor port [`offpush::vendor::Vendor`], on the
//! vendor kit:
//!
//! - [`credentials`]: App ID, client ID, client secret; the account.
//! - [`codes`]: the answers of both response shapes (3.3 CONFLICT) and of
//!   the token endpoint, and the one table from each to what the adapter
//!   does.
//! - [`message`]: the camelCase JSON body of `sendMessage`.
//! - [`receipts`]: receipt bodies (`{"statuses":[..]}`, 3.6).
//!
//! Auth is OAuth2 client credentials (3.2): the bearer token is kept per
//! Honor app by the kit's [`Accounts`] (this instance, then the table,
//! refreshed ahead by one instance at a time), and every send carries it
//! with a `timestamp` header (3.3). One call takes up to 1000 tokens.

pub mod codes;
pub mod credentials;
pub mod message;
pub mod receipts;

use codes::{Answer, Refusal, Reply};
use credentials::HonorCredentials;
use futures::future::BoxFuture;
use message::Body;
use offpush::domain::input::Obj;
use offpush::domain::DeliveryStatus;
use offpush::domain::{Certificate, ClickAction, Delivery, Platform, PushMode, VendorData};
use offpush::store::Store;
use offpush::vendor::kit::{
    self, Accounts, Authenticator, Failure, Fresh, NoAnswer, Session, SessionAuth, TokenPolicy,
    VendorHttp,
};
use offpush::vendor::{
    Batching, Limits, Message, ReceiptBatch, ReceiptStyle, Send, SendReport, Vendor,
};
use offpush::ServiceError;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The variable that overrides both Honor hosts, the token host and the
/// push host (a simulator serves both on one port).
pub const BASE_URL_VAR: &str = "HONOR_API_BASE_URL";
/// 3.1 [CONFLICT]: the same Honor article exists with hihonor.com and with
/// honor.com hosts (Honor renamed its domain). The honor.com form is the
/// later version of Honor's own article and what the client tracking live
/// behaviour (doopush) calls; the push host is this value, and a
/// deployment that needs the other form sets [`BASE_URL_VAR`].
pub const DEFAULT_BASE_URL: &str = "https://push-api.cloud.honor.com";
/// 3.1 [CONFLICT], as for [`DEFAULT_BASE_URL`]: the token host.
pub const DEFAULT_AUTH_URL: &str = "https://iam.developer.honor.com";
/// 3.1 [C]: the token path of Honor's own doc (Keycloak's); the shorter
/// `/auth/token` is only seen in clients (S).
pub const TOKEN_PATH: &str = "/auth/realms/developer/protocol/openid-connect/token";
/// 3.3 [U]: the most tokens of one call is not documented; Huawei's 1000
/// is assumed.
pub const MAX_TOKENS: usize = 1000;
/// Honor is not documented to deduplicate a repeated send: a call that
/// may have been written is not sent again.
pub const DEDUPLICATES: bool = false;
/// 3.2 [U]: the token's lifetime is `expires_in`; presumably 3600 s like
/// Huawei's, which is used when the answer does not say.
pub const DEFAULT_TOKEN_SECS: i64 = 3600;

/// The token policy: refreshed (by one instance) after half an hour, used
/// until five minutes before it expires; Honor's auth rate is not
/// documented (3.2 [U]), so one instance spaces its auth calls of one app.
pub const POLICY: TokenPolicy = TokenPolicy {
    refresh_after_secs: 1800,
    spacing: Duration::from_millis(200),
    expiry_margin_secs: 300,
};

/// 3.3: Honor documents no title or body limit: the product's own (title
/// 40, desc 100 characters, ext 1021 bytes, API.md and docs/api.md) go out
/// unchanged; ext travels as the `data` string.
pub const LIMITS: Limits = Limits {
    title_chars: 40,
    desc_chars: 100,
    ext_bytes: 1021,
    targets_per_call: MAX_TOKENS,
    // 3.5 [U]: 3000 QPS a flat rate; each call carries up to 1000 tokens,
    // so a push makes few calls.
    in_flight: 8,
};

/// The Honor channel of a warm instance.
pub struct Honor {
    /// The push host (or the override).
    http: VendorHttp,
    /// The token URL (the override's when set).
    token_url: String,
    /// Per Honor app and client (see [`HonorCredentials::account_key`]).
    accounts: Accounts,
}

/// `timestamp` header of a send: 3.3 [CONFLICT]: 13-digit ms (Honor's
/// doc) vs seconds (cossim/hipush): ms, as the doc says.
fn timestamp_ms() -> String {
    offpush::clock::now_ms().to_string()
}

impl Honor {
    pub fn new(store: Store, base_override: Option<&str>, timeout: Duration) -> Self {
        let base = base_override.map(|u| u.trim_end_matches('/').to_string());
        let token_url = format!(
            "{}{TOKEN_PATH}",
            base.as_deref().unwrap_or(DEFAULT_AUTH_URL)
        );
        Honor {
            http: VendorHttp::new(base.as_deref().unwrap_or(DEFAULT_BASE_URL), timeout),
            token_url,
            accounts: Accounts::new(store, "honor", codes::meaning),
        }
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The send path of an app (3.3).
    pub fn send_path(app_id: &str) -> String {
        format!("/api/v1/{app_id}/sendMessage")
    }

    /// One token call (3.2 [C]: a form with the client credentials).
    pub async fn token_call(
        &self,
        creds: &HonorCredentials,
        deadline: Instant,
    ) -> Result<Fresh, Refusal> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose()),
        ])
        .expect("string pairs encode");
        let req = self
            .http
            .post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        match self.http.call(req, deadline).await {
            Ok(a) => codes::read_token(a.status, &a.body).map(|(value, secs)| Fresh {
                value,
                valid_secs: secs.filter(|s| *s > 0).unwrap_or(DEFAULT_TOKEN_SECS),
            }),
            Err(n) => Err(no_answer(&n)),
        }
    }

    /// One sendMessage call with `token` (3.3 [C] headers).
    async fn post(
        &self,
        app_id: &str,
        access_token: &str,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<Reply, Refusal> {
        let req = self
            .http
            .post(&Self::send_path(app_id))
            .header("content-type", "application/json; charset=UTF-8")
            .header("authorization", format!("Bearer {access_token}"))
            .header("timestamp", timestamp_ms())
            .body(body);
        match self.http.call(req, deadline).await {
            Ok(a) => codes::read(a.status, &a.body),
            Err(n) => Err(no_answer(&n)),
        }
    }

    /// Checks credentials now: a token call (never a cached token: the
    /// point is to ask Honor now), whose token is then shared, and a
    /// harmless send with that token to no one (`token: []`), which Honor
    /// refuses for its tokens only after it accepted the token for the
    /// URL's App ID: the App ID is checked too, and nothing reaches a
    /// device.
    pub async fn verify_credentials(&self, creds: &HonorCredentials) -> Result<(), ServiceError> {
        let deadline = Instant::now() + self.http.timeout();
        let fresh = self
            .token_call(creds, deadline)
            .await
            .map_err(|r| credentials_error(&r))?;
        let access = fresh.value.clone();
        self.accounts
            .remember(&creds.account_key(), fresh, &POLICY)
            .await?;
        let click = ClickAction::OpenApp;
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
        let body = Body::new(&m, PushMode::Test).json(&[]);
        let deadline = Instant::now() + self.http.timeout();
        match self.post(&creds.app_id, &access, body, deadline).await {
            Ok(_) => Ok(()),
            Err(r) if r.status() == DeliveryStatus::Rejected => Ok(()),
            Err(r) => Err(probe_error(&r)),
        }
    }

    async fn send_group(&self, send: Send<'_>) -> SendReport {
        let Some(creds) = HonorCredentials::from_data(&send.cert.credentials) else {
            return SendReport {
                deliveries: vec![
                    Delivery::failed(
                        "the certificate's Honor credentials cannot be read"
                    );
                    send.targets.len()
                ],
                calls: 0,
            };
        };
        let auth = HonorAuth {
            honor: self,
            creds: &creds,
        };
        let class = match send.cert.push_mode {
            PushMode::Test => "test",
            PushMode::Production if send.message.category.is_service() => "service",
            PushMode::Production => "marketing",
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
        let body = Body::new(send.message, send.cert.push_mode);
        let path = Self::send_path(&creds.app_id);
        let deadline = send.budget.deadline();
        let mut start = 0;
        let calls = send.chunks.iter().map(|size| {
            let targets = &send.targets[start..start + size];
            start += size;
            let tokens: Vec<&str> = targets.iter().map(|t| t.token.expose()).collect();
            let json = body.json(&tokens);
            let (session, creds, path) = (&session, &creds, &path);
            async move {
                let got: Result<Reply, Failure> = session
                    .call(path, |token| {
                        let json = json.clone();
                        async move {
                            let token = token.unwrap_or_default();
                            self.post(&creds.app_id, &token, json, deadline)
                                .await
                                .map_err(|r| r.to_kit())
                        }
                    })
                    .await;
                match got {
                    Ok(reply) => tokens
                        .iter()
                        .map(|t| match reply.verdict(t) {
                            Some(a) => Refusal::new(a, "").to_kit().delivery(),
                            None => Delivery::sent(reply.request_id.clone()),
                        })
                        .collect::<Vec<_>>(),
                    Err(f) => vec![f.delivery; tokens.len()],
                }
            }
        });
        let deliveries = futures::future::join_all(calls).await.concat();
        SendReport {
            deliveries,
            calls: session.calls(),
        }
    }
}

fn no_answer(n: &NoAnswer) -> Refusal {
    Refusal {
        maybe_written: n.maybe_written(),
        ..Refusal::new(Answer::Unreachable, n.why())
    }
}

/// The token call of one credential set, for the kit's [`Accounts`].
struct HonorAuth<'a> {
    honor: &'a Honor,
    creds: &'a HonorCredentials,
}

impl Authenticator for HonorAuth<'_> {
    fn authenticate(&self, deadline: Instant) -> BoxFuture<'_, Result<Fresh, kit::Refusal>> {
        Box::pin(async move {
            self.honor
                .token_call(self.creds, deadline)
                .await
                .map_err(|r| r.to_kit())
        })
    }
}

fn rate_limited(r: &Refusal) -> ServiceError {
    ServiceError::RateLimited {
        message: format!(
            "Honor is limiting calls ({}); try again shortly",
            r.vendor_code()
        ),
        retry_after: Duration::from_secs(1),
    }
}

fn unreachable_error() -> ServiceError {
    ServiceError::VendorUnavailable {
        message: "Honor could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
        unavailable: false,
    }
}

/// What a refused token call means for the uploader.
pub fn credentials_error(r: &Refusal) -> ServiceError {
    let rule = codes::rule(r.answer);
    match r.answer {
        Answer::OAuth(_) if rule.credentials => ServiceError::InvalidCredentials {
            field: rule.credential_field.map(str::to_string),
            message: r.detail(),
        },
        Answer::Http(429) | Answer::Code(429) | Answer::AuthBusy(_) => rate_limited(r),
        Answer::OAuth(_) | Answer::Code(_) => ServiceError::VendorUnavailable {
            message: format!(
                "Honor answered the credential check with {}",
                r.vendor_code()
            ),
            unavailable: false,
        },
        _ => unreachable_error(),
    }
}

/// What the credential check's send to no one means, once a token was
/// issued: an access token refused for the URL's App ID, or an app that
/// may not push, blames the App ID.
pub fn probe_error(r: &Refusal) -> ServiceError {
    match r.answer {
        Answer::Code(401 | 80200001 | 80200003) | Answer::Http(401) => {
            ServiceError::InvalidCredentials {
                field: Some("credentials.app_id".into()),
                message: format!(
                    "{}: the App ID does not belong to this client ID",
                    r.detail()
                ),
            }
        }
        Answer::Code(403 | 80300002) => ServiceError::InvalidCredentials {
            field: Some("credentials.app_id".into()),
            message: r.detail(),
        },
        Answer::Http(429 | 503) | Answer::Code(429) => rate_limited(r),
        Answer::Code(_) => ServiceError::VendorUnavailable {
            message: format!(
                "Honor answered the credential check with {}",
                r.vendor_code()
            ),
            unavailable: false,
        },
        _ => unreachable_error(),
    }
}

fn unreadable() -> ServiceError {
    ServiceError::internal(
        "honor credentials",
        "a stored Honor certificate's credentials cannot be read",
    )
}

impl Vendor for Honor {
    fn platform(&self) -> Platform {
        Platform::Honor
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    /// API.md: Honor registers receipt addresses in its console (3.6).
    fn receipt_style(&self) -> ReceiptStyle {
        ReceiptStyle::Console
    }

    fn parse_credentials(
        &self,
        raw: Obj,
        stored: Option<&VendorData>,
    ) -> Result<VendorData, ServiceError> {
        Ok(HonorCredentials::parse(raw, stored)?.to_data())
    }

    /// 3.3, 8: a URL click opens HTTPS URLs only.
    fn check_click(&self, click: &ClickAction, field: &str) -> Result<(), ServiceError> {
        match click {
            ClickAction::OpenUrl { url } if !url.to_ascii_lowercase().starts_with("https://") => {
                Err(ServiceError::invalid(
                    format!("{field}.url"),
                    "Honor opens https URLs only",
                ))
            }
            _ => Ok(()),
        }
    }

    /// 3.3 [S], 8: test messages (`targetUserType` 1).
    fn has_test_mode(&self) -> bool {
        true
    }

    fn view_credentials(&self, credentials: &VendorData) -> Value {
        HonorCredentials::from_data(credentials)
            .map(|c| c.view())
            .unwrap_or(Value::Null)
    }

    fn default_name(&self, credentials: &VendorData) -> String {
        match HonorCredentials::from_data(credentials) {
            Some(c) => format!("honor {}", c.app_id),
            None => "honor".into(),
        }
    }

    fn account(&self, cert: &Certificate) -> Option<String> {
        HonorCredentials::from_data(&cert.credentials).map(|c| c.account_key())
    }

    fn batching(&self, _cert: &Certificate, _message: &Message<'_>) -> Batching {
        Batching {
            min_list: 1,
            max_list: MAX_TOKENS,
        }
    }

    fn send<'a>(&'a self, send: Send<'a>) -> BoxFuture<'a, SendReport> {
        Box::pin(self.send_group(send))
    }

    fn verify<'a>(&'a self, cert: &'a Certificate) -> BoxFuture<'a, Result<(), ServiceError>> {
        Box::pin(async move {
            let creds = HonorCredentials::from_data(&cert.credentials).ok_or_else(unreadable)?;
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
    use codes::OAuth;

    #[test]
    fn refused_credentials_are_422_naming_the_field() {
        let e = credentials_error(&Refusal::new(
            Answer::OAuth(OAuth::InvalidClient),
            "Invalid client or Invalid client credentials",
        ));
        assert_eq!(
            (e.status(), e.field()),
            (422, Some("credentials.client_secret"))
        );
        let e = probe_error(&Refusal::new(
            Answer::Code(401),
            "Oauth authentication error",
        ));
        assert_eq!((e.status(), e.field()), (422, Some("credentials.app_id")));
        let e = probe_error(&Refusal::new(Answer::Code(80200001), ""));
        assert_eq!((e.status(), e.field()), (422, Some("credentials.app_id")));
        let e = probe_error(&Refusal::new(Answer::Code(403), ""));
        assert_eq!((e.status(), e.field()), (422, Some("credentials.app_id")));
    }

    #[test]
    fn outages_and_rates_are_not_blamed_on_credentials() {
        for a in [
            Answer::Unreachable,
            Answer::Unreadable,
            Answer::Http(500),
            Answer::OAuth(OAuth::Other),
        ] {
            assert_eq!(
                credentials_error(&Refusal::new(a, "")).status(),
                502,
                "{a:?}"
            );
        }
        assert_eq!(
            credentials_error(&Refusal::new(Answer::AuthBusy(503), "")).status(),
            429
        );
        assert_eq!(
            probe_error(&Refusal::new(Answer::Http(503), "")).status(),
            429
        );
        assert_eq!(
            probe_error(&Refusal::new(Answer::Code(500), "")).status(),
            502
        );
        assert_eq!(
            probe_error(&Refusal::new(Answer::Unreachable, "")).status(),
            502
        );
    }

    #[tokio::test]
    async fn the_override_moves_both_hosts() {
        let store =
            offpush::store::Store::for_endpoint("http://127.0.0.1:1", "us-east-1", "t").await;
        let h = Honor::new(store.clone(), None, Duration::from_secs(1));
        assert_eq!(h.base_url(), DEFAULT_BASE_URL);
        assert_eq!(
            h.token_url(),
            "https://iam.developer.honor.com/auth/realms/developer/protocol/openid-connect/token"
        );
        let h = Honor::new(store, Some("http://127.0.0.1:9/"), Duration::from_secs(1));
        assert_eq!(h.base_url(), "http://127.0.0.1:9");
        assert_eq!(h.token_url(), format!("http://127.0.0.1:9{TOKEN_PATH}"));
        assert_eq!(Honor::send_path("104"), "/api/v1/104/sendMessage");
    }

    #[test]
    fn limits_hold_the_products_and_the_documented_batch() {
        use offpush::domain::push::{MAX_DESC_CHARS, MAX_EXT_BYTES, MAX_TITLE_CHARS};
        // Honor documents no text limit below the product's: the
        // product's own go out unchanged.
        assert_eq!(
            (LIMITS.title_chars, LIMITS.desc_chars, LIMITS.ext_bytes),
            (MAX_TITLE_CHARS, MAX_DESC_CHARS, MAX_EXT_BYTES)
        );
        assert_eq!(LIMITS.targets_per_call, 1000);
        let b = offpush::vendor::chunk_sizes(
            1000,
            Batching {
                min_list: 1,
                max_list: MAX_TOKENS,
            },
        );
        assert_eq!(b, [1000]);
        let b = offpush::vendor::chunk_sizes(
            1001,
            Batching {
                min_list: 1,
                max_list: MAX_TOKENS,
            },
        );
        assert_eq!(b, [501, 500]);
    }
}
