//! OPPO's auth (VENDORS_API.md 2.2): `POST /server/v1/auth` with the
//! lowercase hex SHA-256 of AppKey + millisecond timestamp + MasterSecret
//! gives an `auth_token` valid 24 h, sent as the form field `auth_token` on
//! every later call. The vendor kit keeps the token per OPPO app (instance
//! cache, table, refreshed ahead by one instance at a time) and re-auths
//! once on code 11; this module makes the call and reads refusals for an
//! uploader.

use super::codes::{self, Answer, Refusal};
use super::credentials::OppoCredentials;
use super::message::form;
use offpush::vendor::kit::{self, Authenticator, Fresh, NoAnswer, Scope, TokenPolicy, VendorHttp};
use offpush::ServiceError;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

pub const AUTH_PATH: &str = "/server/v1/auth";
/// 2.2 [C]: an auth_token lives 24 h.
pub const AUTH_TOKEN_VALID_SECS: i64 = 86_400;

/// 2.2: clients refresh anywhere from hourly (modood) to 2 minutes before
/// expiry (mizhousoft); the spec recommends about an hour before expiry,
/// from a central cache.
pub const POLICY: TokenPolicy = TokenPolicy {
    refresh_after_secs: 23 * 3600,
    // 2.2 [U]: no auth rate limit is documented; this instance's auth calls
    // of one app are spaced anyway.
    spacing: Duration::from_millis(200),
    expiry_margin_secs: 600,
};

/// 2.2 [C; S every client]: lowercase hex SHA-256 of the plain
/// concatenation AppKey + timestamp + MasterSecret.
pub fn sign(app_key: &str, timestamp_ms: i64, master_secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(app_key.as_bytes());
    h.update(timestamp_ms.to_string().as_bytes());
    h.update(master_secret.as_bytes());
    hex::encode(h.finalize())
}

/// `/server/v1/auth` for one credential set, at `url`.
pub struct OppoAuth<'a> {
    pub http: &'a VendorHttp,
    pub url: String,
    pub creds: &'a OppoCredentials,
}

impl OppoAuth<'_> {
    /// A fresh auth_token, or OPPO's refusal.
    pub async fn call(&self, deadline: Instant) -> Result<String, Refusal> {
        let creds = self.creds;
        // 2.2 [C]: 13-digit milliseconds (an instant: the same in GMT+8).
        let now_ms = offpush::clock::now_ms();
        let body = form(&[
            ("app_key", &creds.app_key),
            ("timestamp", &now_ms.to_string()),
            (
                "sign",
                &sign(&creds.app_key, now_ms, creds.master_secret.expose()),
            ),
        ]);
        let data = post(self.http, &self.url, body, deadline).await?;
        data.get("auth_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Refusal::new(Answer::Unreadable, ""))
    }
}

/// POSTs a form to `url`, ending by `deadline` whatever OPPO does.
pub async fn post(
    http: &VendorHttp,
    url: &str,
    body: String,
    deadline: Instant,
) -> Result<Value, Refusal> {
    let req = http
        .post(url)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body(body);
    match http.call(req, deadline).await {
        Ok(a) => codes::read(a.status, &a.body),
        Err(n) => Err(Refusal {
            maybe_written: matches!(n, NoAnswer::Lost(_)),
            ..Refusal::new(Answer::Unreachable, n.why())
        }),
    }
}

impl Authenticator for OppoAuth<'_> {
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
                .map_err(|r| {
                    let mut k = r.to_kit();
                    // A rate limit answered to the auth call pauses auth
                    // calls of the app (the kit honours auth pauses there).
                    if k.rule.pause == Scope::App {
                        k.rule.pause = Scope::Auth;
                    }
                    k
                })
        })
    }
}

/// What a failed auth call means for the uploader.
pub fn credentials_error(r: &Refusal) -> ServiceError {
    let rule = codes::rule(r.answer);
    match r.answer {
        Answer::Code(_) if rule.credentials => ServiceError::InvalidCredentials {
            field: rule.credential_field.map(str::to_string),
            message: r.detail(),
        },
        Answer::Code(code) if rule.until.is_some() => ServiceError::RateLimited {
            message: format!("OPPO auth rate limit ({code}); try again shortly"),
            retry_after: Duration::from_secs(1),
        },
        Answer::Code(-1) | Answer::Http(503) => ServiceError::VendorUnavailable {
            message: "OPPO is unavailable; try again later (or use ?verify=false to store the credentials unverified)".into(),
            unavailable: true,
        },
        Answer::Code(code) => ServiceError::VendorUnavailable {
            message: format!("oppo auth answered {code}: {}", rule.meaning),
            unavailable: false,
        },
        _ => ServiceError::VendorUnavailable {
            message: "OPPO could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
            unavailable: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_is_lowercase_hex_sha256_of_the_concatenation() {
        let s = sign("key", 1_700_000_000_000, "secret");
        let mut h = Sha256::new();
        h.update(b"key1700000000000secret");
        assert_eq!(s, hex::encode(h.finalize()));
        assert_eq!(s.len(), 64);
        assert!(s
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    }

    fn refused(code: i64) -> Refusal {
        Refusal::new(Answer::Code(code), "x")
    }

    #[test]
    fn refused_credentials_are_422_naming_the_field() {
        for (code, field) in [
            (14, Some("credentials.app_key")),
            (15, Some("credentials.app_key")),
            (16, Some("credentials.master_secret")),
            (17, Some("credentials.master_secret")),
            (28, None),
        ] {
            let e = credentials_error(&refused(code));
            assert_eq!((e.status(), e.field()), (422, field), "{code}");
        }
    }

    #[test]
    fn limits_outages_and_clocks_are_not_blamed_on_credentials() {
        assert_eq!(credentials_error(&refused(55)).status(), 429);
        assert_eq!(credentials_error(&refused(13)).status(), 429);
        assert_eq!(credentials_error(&refused(-2)).status(), 429);
        assert_eq!(credentials_error(&refused(-1)).status(), 503);
        assert_eq!(credentials_error(&refused(19)).status(), 502);
        assert_eq!(
            credentials_error(&Refusal::new(Answer::Http(500), "")).status(),
            502
        );
        assert_eq!(
            credentials_error(&Refusal::new(Answer::Unreachable, "")).status(),
            502
        );
        let e = credentials_error(&refused(16));
        assert!(!e.to_string().contains("secret-value"));
    }
}
