//! vivo's auth (VIVO_API.md 1.2): `/message/auth` with the MD5 sign
//! gives an authToken valid 24 h; vivo asks for a refresh every 1-2 h, a
//! central cache, and caps auth at 10 calls/s per app. The vendor kit keeps
//! the token per vivo app (instance cache, table, refreshed ahead by one
//! instance at a time); this module makes the call and reads refusals for
//! an uploader.

use super::client::{self, Refusal, AUTH};
use super::codes::{self, Answer, Scope};
use super::credentials::VivoCredentials;
use offpush::clock::now_secs;
use offpush::vendor::kit::{self, pause_secs, Authenticator, Fresh, TokenPolicy, VendorHttp};
use offpush::ServiceError;
use serde_json::json;
use std::time::{Duration, Instant};

/// An authToken is valid 24 h (VIVO_API.md 1.2).
pub const AUTH_TOKEN_VALID_SECS: i64 = 86_400;
/// vivo asks for a refresh every 1-2 h: a token is refreshed after one
/// hour (by one instance), and used meanwhile until it expires.
pub const AUTH_TOKEN_REFRESH_SECS: i64 = 3600;

pub const POLICY: TokenPolicy = TokenPolicy {
    refresh_after_secs: AUTH_TOKEN_REFRESH_SECS,
    // vivo allows 10 auth calls a second per app (VIVO_API.md 1.2): this
    // instance spaces its own auth calls of one app at least this far apart.
    spacing: Duration::from_millis(150),
    expiry_margin_secs: 600,
};

/// `/message/auth` for one credential set.
pub struct VivoAuth<'a> {
    pub http: &'a VendorHttp,
    pub creds: &'a VivoCredentials,
}

impl VivoAuth<'_> {
    /// A fresh authToken, or vivo's refusal.
    pub async fn call(&self, deadline: Instant) -> Result<String, Refusal> {
        let creds = self.creds;
        let now_ms = offpush::clock::now_ms();
        let body = json!({
            // appId goes as a JSON number: the doc types it int (VIVO_API.md 1.2).
            "appId": creds.app_id,
            "appKey": creds.app_key,
            "timestamp": now_ms,
            "sign": super::sign::sign(creds.app_id, &creds.app_key, now_ms, creds.app_secret.expose()),
        });
        let reply = client::post(self.http, AUTH, None, &body, deadline).await?;
        reply
            .auth_token
            .ok_or_else(|| Refusal::new(Answer::Unreadable, ""))
    }
}

impl Authenticator for VivoAuth<'_> {
    fn authenticate(
        &self,
        deadline: Instant,
    ) -> futures::future::BoxFuture<'_, Result<Fresh, kit::Refusal>> {
        Box::pin(async move {
            self.call(deadline)
                .await
                .map(|value| Fresh {
                    value,
                    valid_secs: AUTH_TOKEN_VALID_SECS,
                })
                .map_err(|r| r.to_kit())
        })
    }
}

/// What a failed auth call means for the uploader.
pub fn credentials_error(r: &Refusal) -> ServiceError {
    let rule = codes::rule(r.answer);
    match r.answer {
        Answer::Code(code @ (10200..=10206)) => ServiceError::InvalidCredentials {
            field: rule.credential_field.map(str::to_string),
            message: format!("{} (vivo {code}: {})", rule.meaning, r.desc),
        },
        Answer::Code(code) if rule.pause == Scope::Auth => ServiceError::RateLimited {
            message: format!("vivo auth rate limit ({code}); try again shortly"),
            retry_after: Duration::from_secs(pause_secs(
                rule.until.expect("auth pauses end"),
                now_secs(),
            )),
        },
        Answer::Code(code) => ServiceError::VendorUnavailable {
            message: format!("vivo auth answered {code}: {}", rule.meaning),
            unavailable: false,
        },
        _ => ServiceError::VendorUnavailable {
            message: "vivo could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
            unavailable: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: i64) -> Refusal {
        Refusal::new(Answer::Code(code), "x")
    }

    #[test]
    fn refused_credentials_are_422_naming_the_field() {
        let e = credentials_error(&refused(10206));
        assert_eq!(e.status(), 422);
        assert_eq!(e.field(), Some("credentials.app_secret"));
        assert_eq!(
            credentials_error(&refused(10205)).field(),
            Some("credentials.app_id")
        );
        assert_eq!(credentials_error(&refused(10202)).status(), 422);
        assert_eq!(credentials_error(&refused(10204)).status(), 422);
        assert_eq!(credentials_error(&refused(10204)).field(), None);
    }

    #[test]
    fn rate_limits_and_outages_are_not_blamed_on_credentials() {
        assert_eq!(credentials_error(&refused(10093)).status(), 429);
        assert_eq!(credentials_error(&refused(10250)).status(), 429);
        assert_eq!(credentials_error(&refused(10207)).status(), 502);
        let http = Refusal::new(Answer::Http(500), "");
        assert_eq!(credentials_error(&http).status(), 502);
    }
}
