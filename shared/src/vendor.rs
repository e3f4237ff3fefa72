//! vivo credentials in use: verification at upload, and the authToken that
//! every send needs, shared by warm instances through the table (vivo caps
//! auth at 10 calls/s per app and asks for a central cache, VIVO_API.md 1.2).

use crate::domain::VivoCredentials;
use crate::error::ServiceError;
use crate::store::{keys, Store};
use crate::vivo::client::AUTH_TOKEN_REUSE_SECS;
use crate::vivo::{VivoClient, VivoError};
use std::time::Duration;

use crate::clock::now_ms;

fn cache_key(creds: &VivoCredentials) -> String {
    keys::vivo_auth_pk(creds.app_id, &creds.app_key, creds.app_secret.expose())
}

/// Where an authToken came from, for tests and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    Instance,
    Table,
    Vivo,
}

/// An authToken for these credentials: this instance's cache, else the
/// table's, else a fresh `/message/auth` call whose token is then shared.
pub async fn auth_token(
    store: &Store,
    vivo: &VivoClient,
    creds: &VivoCredentials,
) -> Result<(String, TokenSource), VivoAuthError> {
    let key = cache_key(creds);
    let now = now_ms() / 1000;
    if let Some(t) = vivo.cached_token(&key, now) {
        return Ok((t, TokenSource::Instance));
    }
    if let Some((t, obtained)) = store
        .get_vivo_auth(&key, now)
        .await
        .map_err(VivoAuthError::Store)?
    {
        vivo.remember_token(&key, &t, obtained);
        return Ok((t, TokenSource::Table));
    }
    let token = vivo
        .authenticate(creds, now_ms())
        .await
        .map_err(VivoAuthError::Vivo)?;
    share(store, vivo, &key, &token, now)
        .await
        .map_err(VivoAuthError::Store)?;
    Ok((token, TokenSource::Vivo))
}

async fn share(
    store: &Store,
    vivo: &VivoClient,
    key: &str,
    token: &str,
    now: i64,
) -> Result<(), crate::store::StoreError> {
    vivo.remember_token(key, token, now);
    store
        .put_vivo_auth(key, token, now, now + AUTH_TOKEN_REUSE_SECS)
        .await
}

/// vivo refused `token` (result 10000): forget it everywhere.
pub async fn drop_token(
    store: &Store,
    vivo: &VivoClient,
    creds: &VivoCredentials,
    token: &str,
) -> Result<(), ServiceError> {
    let key = cache_key(creds);
    vivo.forget_token(&key, token);
    store.drop_vivo_auth(&key, token).await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum VivoAuthError {
    #[error("vivo auth failed")]
    Vivo(#[source] VivoError),
    #[error("auth token cache failed")]
    Store(#[source] crate::store::StoreError),
}

/// Checks credentials with a real `/message/auth` call (never a cached
/// token: the point is to ask vivo now). The token obtained is shared, so
/// the first push after an upload needs no auth call of its own.
pub async fn verify_credentials(
    store: &Store,
    vivo: &VivoClient,
    creds: &VivoCredentials,
) -> Result<(), ServiceError> {
    match vivo.authenticate(creds, now_ms()).await {
        Ok(token) => {
            share(store, vivo, &cache_key(creds), &token, now_ms() / 1000).await?;
            Ok(())
        }
        Err(e) => Err(credentials_error(e)),
    }
}

/// What a failed auth call means for the uploader.
pub fn credentials_error(e: VivoError) -> ServiceError {
    match e {
        VivoError::Refused { code, desc, .. } => {
            let (field, what) = match code {
                10205 => (Some("credentials.app_id"), "vivo does not know this AppID"),
                10202 | 10201 => (Some("credentials.app_key"), "vivo refused the AppKey"),
                10206 => (Some("credentials.app_secret"), "vivo refused the sign: the AppSecret (or AppKey) is wrong"),
                10200 | 10203 | 10204 => (None, "vivo refused the credentials"),
                // Auth call frequency (new 10/s cap, 10093) or the old daily
                // cap (10250): not the credentials' fault, try again later.
                10093 | 10250 => {
                    return ServiceError::RateLimited {
                        message: format!("vivo auth rate limit ({code}); try again shortly"),
                        retry_after: Duration::from_secs(if code == 10250 { 3600 } else { 1 }),
                    }
                }
                // Our clock is off by more than 10 minutes: not the credentials' fault.
                10207 => {
                    return ServiceError::VendorUnavailable {
                        message: "vivo refused the request timestamp (10207): the server clock is off".into(),
                        unavailable: false,
                    }
                }
                _ => {
                    return ServiceError::VendorUnavailable {
                        message: format!("vivo auth answered result {code}"),
                        unavailable: false,
                    }
                }
            };
            // vivo's desc is its own text about our request; it never holds the secret.
            let desc: String = desc.chars().take(80).collect();
            ServiceError::InvalidCredentials {
                field: field.map(str::to_string),
                message: format!("{what} (vivo {code}: {desc})"),
            }
        }
        VivoError::Transport(_) | VivoError::Http(_) | VivoError::Unreadable => ServiceError::VendorUnavailable {
            message: "vivo could not be reached to verify the credentials (use ?verify=false to store them unverified)".into(),
            unavailable: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: i64) -> VivoError {
        VivoError::Refused {
            code,
            desc: "x".into(),
            body: serde_json::Value::Null,
        }
    }

    #[test]
    fn refused_credentials_are_422_naming_the_field() {
        let e = credentials_error(refused(10206));
        assert_eq!(e.status(), 422);
        assert_eq!(e.field(), Some("credentials.app_secret"));
        assert_eq!(
            credentials_error(refused(10205)).field(),
            Some("credentials.app_id")
        );
        assert_eq!(credentials_error(refused(10202)).status(), 422);
    }

    #[test]
    fn rate_limits_and_outages_are_not_blamed_on_credentials() {
        assert_eq!(credentials_error(refused(10093)).status(), 429);
        assert_eq!(credentials_error(refused(10207)).status(), 502);
        assert_eq!(credentials_error(VivoError::Http(500)).status(), 502);
        assert_eq!(credentials_error(VivoError::Unreadable).status(), 502);
    }
}
