//! Authentication of a request: the bearer JWT is checked against its app's
//! signing secret from the table (kept per instance for a few seconds:
//! [`crate::store::cache::APP_CACHE_TTL`]) before anything else is touched.

use crate::auth::{self, Caller};
use crate::domain::{App, AppId, Secret};
use crate::error::ServiceError;
use crate::store::Store;
use std::sync::OnceLock;

pub async fn authenticate(
    store: &Store,
    authorization: Option<&str>,
) -> Result<(Caller, App), ServiceError> {
    let jwt = auth::bearer(authorization)?;
    let app_id = auth::peek_issuer(jwt)?;
    let (app, age) = store.get_app_cached(&app_id).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let caller = match check(jwt, &app_id, app.as_ref(), now) {
        Ok(caller) => caller,
        // What this instance holds may predate a rotated secret or a new
        // app: read the app again (at most once a second per app, however
        // many bad tokens come) and check once more.
        Err(_) if age >= crate::store::cache::APP_REREAD_AFTER => {
            store.forget_cached_app(&app_id);
            let (fresh, _) = store.get_app_cached(&app_id).await?;
            let caller = check(jwt, &app_id, fresh.as_ref(), now)?;
            let app = fresh.ok_or_else(auth::bad_signature)?;
            return Ok((caller, app));
        }
        Err(e) => return Err(e),
    };
    let app = app.ok_or_else(auth::bad_signature)?;
    Ok((caller, app))
}

/// The key the token of an unknown app is checked with: random, fixed for
/// the instance's life and shaped like a real signing secret (a key in the
/// source would be one anyone could sign with).
fn unknown_app_key() -> &'static Secret {
    static KEY: OnceLock<Secret> = OnceLock::new();
    KEY.get_or_init(auth::new_signing_secret)
}

/// Verifies `jwt` against the app the table holds for its issuer, or, when
/// there is none, against [`unknown_app_key`]: an unknown app goes through
/// the very same checks, HMAC included, and fails where a wrong key fails,
/// with the same error. Its answer and its work are those of a bad
/// signature, so neither tells whether the app exists.
fn check(jwt: &str, app_id: &AppId, app: Option<&App>, now: i64) -> Result<Caller, ServiceError> {
    match app {
        Some(app) => auth::verify(jwt, &app.id, &app.signing_secret, now),
        None => {
            auth::verify(jwt, app_id, unknown_app_key(), now)?;
            Err(auth::bad_signature())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{mint, mint_for, new_signing_secret, Claims, MAC_CHECKS};
    use crate::domain::AppSettings;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const NOW: i64 = 1_800_000_000;

    fn app(id: &str) -> App {
        App {
            id: AppId::parse("app", id).unwrap(),
            signing_secret: new_signing_secret(),
            settings: AppSettings::default(),
            created_at: time::OffsetDateTime::now_utc(),
        }
    }

    /// The error and the HMAC checks made while refusing it.
    fn refused(jwt: &str, app: Option<&App>) -> (ServiceError, u32) {
        let before = MAC_CHECKS.with(|n| n.get());
        let iss = auth::peek_issuer(jwt).unwrap();
        let e = check(jwt, &iss, app, NOW).unwrap_err();
        (e, MAC_CHECKS.with(|n| n.get()) - before)
    }

    #[test]
    fn an_unknown_app_is_refused_like_a_bad_signature_after_the_same_hmac() {
        let demo = app("demo");
        let known_bad_sig = mint_for(&new_signing_secret(), &demo.id, "ops", true, NOW, 600);
        let ghost = AppId::parse("iss", "ghost").unwrap();
        let unknown = mint_for(&new_signing_secret(), &ghost, "ops", true, NOW, 600);
        let (a, macs_a) = refused(&known_bad_sig, Some(&demo));
        let (b, macs_b) = refused(&unknown, None);
        assert_eq!((a.status(), a.to_string()), (b.status(), b.to_string()));
        assert_eq!(a.to_string(), auth::bad_signature().to_string());
        assert_eq!(macs_a, 1);
        assert_eq!(
            macs_b, 1,
            "the unknown app's token went through an HMAC check"
        );
        // A token signed with the unknown-app key itself is still refused.
        let forged = mint_for(unknown_app_key(), &ghost, "ops", true, NOW, 600);
        assert_eq!(refused(&forged, None).0.to_string(), b.to_string());
        // The real app's own token passes.
        let good = mint_for(&demo.signing_secret, &demo.id, "ops", true, NOW, 600);
        assert!(check(&good, &demo.id, Some(&demo), NOW).is_ok());
    }

    #[test]
    fn tokens_refused_before_the_signature_are_refused_alike_for_known_and_unknown_apps() {
        let demo = app("demo");
        let claims = |iss: &str| {
            URL_SAFE_NO_PAD.encode(format!(
                r#"{{"iss":"{iss}","sub":"ops","exp":{}}}"#,
                NOW + 600
            ))
        };
        for header in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"RS256"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{}"#,
        ] {
            let h = URL_SAFE_NO_PAD.encode(header);
            let known = format!("{h}.{}.c2ln", claims("demo"));
            let unknown = format!("{h}.{}.c2ln", claims("ghost"));
            let (a, macs_a) = refused(&known, Some(&demo));
            let (b, macs_b) = refused(&unknown, None);
            assert_eq!(a.to_string(), b.to_string(), "{header}");
            assert_eq!(a.status(), 401);
            assert_eq!(
                (macs_a, macs_b),
                (0, 0),
                "{header}: refused before any HMAC"
            );
        }
        // Expired, but signed with a key the caller does not hold: a bad signature.
        let stale = mint(
            &new_signing_secret(),
            &Claims {
                iss: "ghost".into(),
                sub: "ops".into(),
                exp: NOW - 3600,
                nbf: None,
                iat: None,
                role: None,
            },
        );
        assert_eq!(
            refused(&stale, None).0.to_string(),
            auth::bad_signature().to_string()
        );
    }
}
