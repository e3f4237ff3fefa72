//! The service-account JWT (VENDORS_API.md 14.2): HarmonyOS 5+ takes no
//! OAuth token; the self-signed JWT itself is the `Authorization: Bearer`
//! value. Header `{"kid","typ":"JWT","alg":"PS256"}`, claims `iss` =
//! `sub_account`, `aud` = Huawei's fixed token URI, `iat`/`exp` in seconds
//! an hour apart; signed RSASSA-PSS SHA-256 (ring's `RSA_PSS_SHA256`:
//! MGF1-SHA-256, 32-byte salt).
//!
//! VENDORS_API.md 14.2 [CONFLICT]: wildfirechat signs RS256, and whether
//! Huawei takes it is unknown; the doc calls PS256 fixed, so PS256 is the
//! safer reading and the only one minted.
//!
//! Minting needs no call: the JWT is the account's "token" in the vendor
//! kit's [`offpush::vendor::kit::Accounts`], minted about hourly per
//! (project, key), shared through the table, and minted again once when a
//! send is answered 80200005 (expired).

use super::codes::{Answer, Refusal};
use super::credentials::HarmonyCredentials;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use offpush::vendor::kit::{self, Authenticator, Fresh, TokenPolicy};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PSS_SHA256};
use serde_json::json;
use std::time::{Duration, Instant};

/// 14.2 [C]: `aud` is fixed to the key file's `token_uri`, which is this.
pub const AUDIENCE: &str = "https://oauth-login.cloud.huawei.com/oauth2/v3/token";
/// 14.2 [C]: `exp = iat + 3600` is recommended, and a JWT may be reused
/// until it expires; more than a day is refused (80300036), so the
/// adapter never mints one longer than this.
pub const LIFETIME_SECS: i64 = 3600;
/// A JWT longer than a day is refused with 80300036 (14.2 [C]).
pub const MAX_LIFETIME_SECS: i64 = 86_400;
/// `iat` is set this far in the past, so that a Huawei clock slightly
/// behind ours never sees a JWT issued in its future (80200001).
pub const CLOCK_SKEW_SECS: i64 = 60;

/// The JWT is used for its hour: refreshed after 50 minutes by one
/// instance, treated as expired two minutes early.
pub const POLICY: TokenPolicy = TokenPolicy {
    refresh_after_secs: 3000,
    // Minting is local: no vendor limit to space it for; a little spacing
    // keeps a burst of refusals from minting in a loop.
    spacing: Duration::from_millis(50),
    expiry_margin_secs: 120,
};

/// Why a JWT could not be minted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MintError {
    /// The private key is not PEM, not PKCS#8, or not an RSA key ring
    /// takes.
    BadKey(&'static str),
}

/// The DER bytes of a PEM block (the key file's `private_key`).
pub fn pem_der(pem: &str) -> Result<Vec<u8>, MintError> {
    let begin = pem
        .find("-----BEGIN PRIVATE KEY-----")
        .ok_or(MintError::BadKey("not a PKCS#8 PEM key"))?;
    let rest = &pem[begin + "-----BEGIN PRIVATE KEY-----".len()..];
    let end = rest
        .find("-----END PRIVATE KEY-----")
        .ok_or(MintError::BadKey("the PEM key has no END line"))?;
    let b64: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(b64)
        .map_err(|_| MintError::BadKey("the PEM key is not base64"))
}

/// The key pair of a key file's private key.
pub fn key_pair(pem: &str) -> Result<RsaKeyPair, MintError> {
    let der = pem_der(pem)?;
    RsaKeyPair::from_pkcs8(&der).map_err(|_| {
        MintError::BadKey("not an RSA private key ring accepts (PKCS#8, 2048 to 8192 bits)")
    })
}

/// A JWT for `creds`, issued at `now` (epoch seconds) minus the skew,
/// valid [`LIFETIME_SECS`].
pub fn mint(creds: &HarmonyCredentials, now: i64) -> Result<String, MintError> {
    let pair = key_pair(creds.private_key.expose())?;
    let iat = now - CLOCK_SKEW_SECS;
    let exp = iat + LIFETIME_SECS;
    debug_assert!(exp - iat <= MAX_LIFETIME_SECS);
    let header = json!({"kid": creds.key_id, "typ": "JWT", "alg": "PS256"});
    let claims = json!({
        "iss": creds.sub_account,
        "aud": AUDIENCE,
        "iat": iat,
        "exp": exp,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PSS_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| MintError::BadKey("signing failed"))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// Seconds a freshly minted JWT stays valid from now.
pub fn valid_secs() -> i64 {
    LIFETIME_SECS - CLOCK_SKEW_SECS
}

/// The account's JWT source for the kit.
pub struct JwtAuth<'a> {
    pub creds: &'a HarmonyCredentials,
}

impl Authenticator for JwtAuth<'_> {
    fn authenticate(
        &self,
        _deadline: Instant,
    ) -> futures::future::BoxFuture<'_, Result<Fresh, kit::Refusal>> {
        let got = mint(self.creds, offpush::clock::now_secs())
            .map(|value| Fresh {
                value,
                valid_secs: valid_secs(),
            })
            .map_err(|MintError::BadKey(why)| Refusal::new(Answer::BadKey, why).to_kit());
        Box::pin(async move { got })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use offpush::domain::Secret;
    use ring::signature::{UnparsedPublicKey, RSA_PSS_2048_8192_SHA256};

    /// A 2048-bit test key (PKCS#8), made for these tests only.
    pub(crate) const TEST_KEY: &str = include_str!("../tests/harmony/test_key.pem");

    pub(crate) fn creds() -> HarmonyCredentials {
        HarmonyCredentials {
            project_id: "388421841221".into(),
            key_id: "kid-1".into(),
            sub_account: "118079".into(),
            private_key: Secret::new(TEST_KEY),
            token_uri: None,
        }
    }

    #[test]
    fn a_jwt_is_ps256_with_the_documented_claims() {
        let now = 1_765_000_000;
        let jwt = mint(&creds(), now).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            header,
            json!({"kid": "kid-1", "typ": "JWT", "alg": "PS256"})
        );
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "118079");
        assert_eq!(claims["aud"], AUDIENCE);
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap(),
            claims["exp"].as_i64().unwrap(),
        );
        assert_eq!(iat, now - CLOCK_SKEW_SECS);
        assert_eq!(exp - iat, 3600);
        assert!(exp - iat <= MAX_LIFETIME_SECS, "never longer than a day");
        // The signature verifies as RSASSA-PSS SHA-256 with the public key.
        let pair = key_pair(TEST_KEY).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, pair.public().as_ref());
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        public.verify(input.as_bytes(), &sig).unwrap();
        assert!(public.verify(b"other", &sig).is_err());
    }

    #[test]
    fn bad_keys_are_refused_without_showing_them() {
        for key in [
            "no pem at all",
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQ",
        ] {
            let c = HarmonyCredentials {
                private_key: Secret::new(key),
                ..creds()
            };
            let MintError::BadKey(why) = mint(&c, 0).unwrap_err();
            assert!(!why.contains("AAAA") && !why.contains("MIIE"), "{why}");
        }
        assert_eq!(valid_secs(), 3540);
        const {
            assert!(
                POLICY.refresh_after_secs
                    < LIFETIME_SECS - CLOCK_SKEW_SECS - POLICY.expiry_margin_secs
            )
        };
    }
}
