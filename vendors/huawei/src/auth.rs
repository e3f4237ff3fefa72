//! Huawei's OAuth 2.0 client-credentials token (VENDORS_API.md 4.1): a
//! form POST to the token endpoint gives an access token valid 3600 s.
//! Huawei allows 1000 token requests per 5 minutes per app and asks for one
//! token cached and shared across servers: the vendor kit's [`Accounts`]
//! keeps it per OAuth client (this instance, then the table), refreshed
//! ahead by one instance at a time; a send answered 80200003 (token
//! expired) drops it and re-authenticates once.

use super::codes::{self, Answer, Refusal};
use super::credentials::HuaweiCredentials;
use super::Huawei;
use offpush::clock::now_secs;
use offpush::vendor::kit::{self, pause_secs, Authenticator, Fresh, TokenPolicy, VendorHttp};
use offpush::ServiceError;
use std::time::{Duration, Instant};

/// 4.1 [C]: `expires_in` 3600.
pub const TOKEN_VALID_SECS: i64 = 3600;

pub const POLICY: TokenPolicy = TokenPolicy {
    // Refreshed after 50 minutes by one instance, used meanwhile.
    refresh_after_secs: 3000,
    // 4.1: 1000 tokens per 5 minutes is about 3 a second per app; this
    // instance's own auth calls of one app are at least this far apart.
    spacing: Duration::from_millis(300),
    // 4.7 [S]: mizhousoft treats a token as expired 120 s early.
    expiry_margin_secs: 120,
};

/// The token endpoint for one OAuth client.
pub struct HuaweiAuth<'a> {
    pub http: &'a VendorHttp,
    pub url: String,
    pub creds: &'a HuaweiCredentials,
}

impl HuaweiAuth<'_> {
    /// A fresh access token and its lifetime, or Huawei's refusal.
    pub async fn call(&self, deadline: Instant) -> Result<(String, i64), Refusal> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", self.creds.client_id.as_str()),
            ("client_secret", self.creds.client_secret.expose()),
        ])
        .expect("string pairs encode");
        let req = self
            .http
            .post(&self.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        match self.http.call(req, deadline).await {
            Ok(a) => codes::read_token(a.status, &a.body),
            // A token request changes nothing at Huawei but its count: a
            // lost one may be repeated (the kit retries it).
            Err(n) => Err(Refusal::new(Answer::Unreachable, n.why())),
        }
    }
}

impl Authenticator for HuaweiAuth<'_> {
    fn authenticate(
        &self,
        deadline: Instant,
    ) -> futures::future::BoxFuture<'_, Result<Fresh, kit::Refusal>> {
        Box::pin(async move {
            self.call(deadline)
                .await
                .map(|(value, valid_secs)| Fresh { value, valid_secs })
                .map_err(|r| r.to_kit())
        })
    }
}

/// What a refused token request means for the uploader.
pub fn credentials_error(r: &Refusal) -> ServiceError {
    let rule = codes::rule(r.answer);
    match r.answer {
        Answer::AuthClientId | Answer::AuthSecret | Answer::AuthRefused => {
            ServiceError::InvalidCredentials {
                field: rule.credential_field.map(str::to_string),
                message: r.detail(),
            }
        }
        Answer::AuthLimit => ServiceError::RateLimited {
            message: "huawei token flow control (1000 tokens per 5 minutes); try again shortly"
                .into(),
            retry_after: Duration::from_secs(pause_secs(
                rule.until.expect("auth pauses end"),
                now_secs(),
            )),
        },
        Answer::Http(s) => ServiceError::VendorUnavailable {
            message: format!("huawei's token endpoint answered HTTP {s}"),
            unavailable: s == 503,
        },
        _ => ServiceError::VendorUnavailable {
            message: "Huawei could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
            unavailable: false,
        },
    }
}

impl Huawei {
    /// Checks credentials with a real token request (never a cached token:
    /// the point is to ask Huawei now). The token obtained is shared, so
    /// the first push after an upload needs no auth call of its own.
    pub async fn verify_credentials(&self, creds: &HuaweiCredentials) -> Result<(), ServiceError> {
        let deadline = Instant::now() + self.http.timeout();
        let auth = HuaweiAuth {
            http: &self.http,
            url: self.token_url(),
            creds,
        };
        match auth.call(deadline).await {
            Ok((value, valid_secs)) => Ok(self
                .accounts
                .remember(&creds.account_key(), Fresh { value, valid_secs }, &POLICY)
                .await?),
            Err(r) => Err(credentials_error(&r)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(a: Answer) -> ServiceError {
        credentials_error(&Refusal::new(a, "invalid client_secret"))
    }

    #[test]
    fn refused_credentials_are_422_naming_the_field() {
        let e = refused(Answer::AuthSecret);
        assert_eq!(
            (e.status(), e.field()),
            (422, Some("credentials.client_secret"))
        );
        let e = refused(Answer::AuthClientId);
        assert_eq!(
            (e.status(), e.field()),
            (422, Some("credentials.client_id"))
        );
        let e = refused(Answer::AuthRefused);
        assert_eq!((e.status(), e.field()), (422, None));
    }

    #[test]
    fn limits_and_outages_are_not_blamed_on_credentials() {
        assert_eq!(refused(Answer::AuthLimit).status(), 429);
        assert_eq!(refused(Answer::Http(500)).status(), 502);
        assert_eq!(refused(Answer::Unreachable).status(), 502);
        assert_eq!(refused(Answer::Unreadable).status(), 502);
    }
}
