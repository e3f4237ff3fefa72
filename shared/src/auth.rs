//! JWT (HS256) verification and minting (API.md "Tenancy and auth").
//!
//! Verification is split in two so the caller can look the app up between
//! them: [`peek_issuer`] reads the unverified `iss`, then [`verify`] checks
//! the signature with that app's secret (constant time), the algorithm, and
//! `exp`/`nbf` with 60 s of skew. Nothing else in a token is trusted before
//! `verify` succeeds.

use crate::domain::{AppId, Secret, UserId};
use crate::error::ServiceError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Allowed clock skew for exp and nbf.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// A JWT longer than this is refused unread.
const MAX_JWT_LEN: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
}

/// Who is calling, after verification.
#[derive(Clone, Debug)]
pub struct Caller {
    pub app_id: AppId,
    pub sub: UserId,
    pub role: Role,
}

impl Caller {
    /// The device routes bind to the token's `sub`: an operator's admin
    /// token there would bind a phone to the operator's name.
    pub fn require_user(&self) -> Result<(), ServiceError> {
        match self.role {
            Role::User => Ok(()),
            Role::Admin => Err(ServiceError::PermissionDenied(
                "this route takes a user token (its sub is the IM user)".into(),
            )),
        }
    }

    pub fn require_admin(&self) -> Result<(), ServiceError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::User => Err(ServiceError::PermissionDenied(
                "this route needs an admin token".into(),
            )),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

fn unauth(msg: &str) -> ServiceError {
    ServiceError::Unauthenticated(msg.to_string())
}

/// The one refusal of a token whose signature does not check out, whether
/// the key was wrong or the app does not exist: the two answers are byte
/// for byte the same, so app ids cannot be probed.
pub fn bad_signature() -> ServiceError {
    unauth("bad signature or unknown app")
}

#[cfg(test)]
thread_local! {
    /// HMAC-SHA256 checks made on this thread (tests observe that the
    /// unknown-app path computes one like every other path).
    pub(crate) static MAC_CHECKS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, ServiceError> {
    let h = header.ok_or_else(|| unauth("missing Authorization header"))?;
    let (scheme, token) = h
        .split_once(' ')
        .ok_or_else(|| unauth("Authorization must be 'Bearer <JWT>'"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauth("Authorization must be 'Bearer <JWT>'"));
    }
    Ok(token.trim())
}

fn split(jwt: &str) -> Result<(&str, &str, &str), ServiceError> {
    if jwt.len() > MAX_JWT_LEN {
        return Err(unauth("malformed token"));
    }
    let mut parts = jwt.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() && !s.is_empty() => {
            Ok((h, p, s))
        }
        _ => Err(unauth("malformed token")),
    }
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, ServiceError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| unauth("malformed token"))?;
    serde_json::from_slice(&bytes).map_err(|_| unauth("malformed token"))
}

/// The app the token claims to come from (not yet verified).
pub fn peek_issuer(jwt: &str) -> Result<AppId, ServiceError> {
    let (_, payload, _) = split(jwt)?;
    let claims: Claims = decode_json(payload)?;
    AppId::parse("iss", &claims.iss).map_err(|_| unauth("malformed token"))
}

/// Verifies the token against the app's secret at `now` (unix seconds).
pub fn verify(
    jwt: &str,
    app_id: &AppId,
    secret: &Secret,
    now: i64,
) -> Result<Caller, ServiceError> {
    let (h, p, s) = split(jwt)?;
    let header: Header = decode_json(h)?;
    // Only HS256: "none" or any other algorithm is refused outright.
    if header.alg != "HS256" {
        return Err(unauth("unsupported token algorithm"));
    }
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| unauth("malformed token"))?;
    let mut mac =
        HmacSha256::new_from_slice(secret.expose().as_bytes()).map_err(|_| bad_signature())?;
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(p.as_bytes());
    #[cfg(test)]
    MAC_CHECKS.with(|n| n.set(n.get() + 1));
    // verify_slice compares in constant time.
    mac.verify_slice(&sig).map_err(|_| bad_signature())?;
    let claims: Claims = decode_json(p)?;
    if claims.iss != app_id.as_str() {
        return Err(bad_signature());
    }
    if now > claims.exp.saturating_add(CLOCK_SKEW_SECS) {
        return Err(unauth("token expired"));
    }
    if let Some(nbf) = claims.nbf {
        if now.saturating_add(CLOCK_SKEW_SECS) < nbf {
            return Err(unauth("token not yet valid"));
        }
    }
    let sub =
        UserId::parse("sub", &claims.sub).map_err(|_| unauth("token sub is not a valid id"))?;
    let role = match claims.role.as_deref() {
        None => Role::User,
        Some("admin") => Role::Admin,
        Some(_) => return Err(unauth("unknown token role")),
    };
    Ok(Caller {
        app_id: app_id.clone(),
        sub,
        role,
    })
}

/// Mints an HS256 token (used by the admin tool and by tests).
pub fn mint(secret: &Secret, claims: &Claims) -> String {
    sign(
        secret,
        br#"{"alg":"HS256","typ":"JWT"}"#,
        &serde_json::to_vec(claims).expect("claims serialize"),
    )
}

/// A token of any header and payload bytes, HMAC-SHA256-signed with
/// `secret` (tests build refused tokens with it: other algorithms, missing
/// claims); `verify` still decides what it is worth.
pub fn sign(secret: &Secret, header: &[u8], payload: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(header);
    let payload = URL_SAFE_NO_PAD.encode(payload);
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("any key length");
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{sig}")
}

/// Convenience: a token for `sub` valid `ttl_secs` from `now`.
pub fn mint_for(
    secret: &Secret,
    app: &AppId,
    sub: &str,
    admin: bool,
    now: i64,
    ttl_secs: i64,
) -> String {
    mint(
        secret,
        &Claims {
            iss: app.as_str().to_string(),
            sub: sub.to_string(),
            exp: now + ttl_secs,
            nbf: None,
            iat: Some(now),
            role: admin.then(|| "admin".to_string()),
        },
    )
}

/// A fresh signing secret: 32 random bytes, base64url.
pub fn new_signing_secret() -> Secret {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn app() -> AppId {
        AppId::parse("iss", "demo").unwrap()
    }

    #[test]
    fn a_minted_token_verifies() {
        let s = new_signing_secret();
        let t = mint_for(&s, &app(), "alice", false, NOW, 3600);
        assert_eq!(peek_issuer(&t).unwrap(), app());
        let c = verify(&t, &app(), &s, NOW).unwrap();
        assert_eq!(c.sub.as_str(), "alice");
        assert_eq!(c.role, Role::User);
        let a = verify(&mint_for(&s, &app(), "ops", true, NOW, 60), &app(), &s, NOW).unwrap();
        assert_eq!(a.role, Role::Admin);
    }

    #[test]
    fn another_secret_fails() {
        let t = mint_for(&new_signing_secret(), &app(), "alice", false, NOW, 3600);
        let e = verify(&t, &app(), &new_signing_secret(), NOW).unwrap_err();
        assert_eq!(e.status(), 401);
    }

    #[test]
    fn expiry_honours_sixty_seconds_of_skew() {
        let s = new_signing_secret();
        let t = mint_for(&s, &app(), "alice", false, NOW, 10);
        assert!(verify(&t, &app(), &s, NOW + 70).is_ok());
        assert_eq!(
            verify(&t, &app(), &s, NOW + 71).unwrap_err().to_string(),
            "token expired"
        );
    }

    #[test]
    fn nbf_in_the_future_fails_beyond_skew() {
        let s = new_signing_secret();
        let claims = |nbf| Claims {
            iss: "demo".into(),
            sub: "a".into(),
            exp: NOW + 999,
            nbf: Some(nbf),
            iat: None,
            role: None,
        };
        assert!(verify(&mint(&s, &claims(NOW + 60)), &app(), &s, NOW).is_ok());
        assert!(verify(&mint(&s, &claims(NOW + 61)), &app(), &s, NOW).is_err());
    }

    #[test]
    fn alg_none_and_tampering_fail() {
        let s = new_signing_secret();
        let t = mint_for(&s, &app(), "alice", false, NOW, 3600);
        let (_, p, sig) = split(&t).unwrap();
        let none = format!("{}.{p}.{sig}", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#));
        assert!(verify(&none, &app(), &s, NOW).is_err());
        let forged = URL_SAFE_NO_PAD
            .encode(br#"{"iss":"demo","sub":"bob","exp":9999999999,"role":"admin"}"#);
        let (h, _, _) = split(&t).unwrap();
        assert!(verify(&format!("{h}.{forged}.{sig}"), &app(), &s, NOW).is_err());
        assert!(verify("a.b", &app(), &s, NOW).is_err());
    }

    #[test]
    fn unknown_role_and_bad_header_fail() {
        let s = new_signing_secret();
        let t = mint(
            &s,
            &Claims {
                iss: "demo".into(),
                sub: "a".into(),
                exp: NOW + 60,
                nbf: None,
                iat: None,
                role: Some("root".into()),
            },
        );
        assert!(verify(&t, &app(), &s, NOW).is_err());
        assert!(bearer(None).is_err());
        assert!(bearer(Some("Basic abc")).is_err());
        assert_eq!(bearer(Some("Bearer abc")).unwrap(), "abc");
    }
}
