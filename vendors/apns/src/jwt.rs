//! The provider token (VENDORS_API.md 6 [C]): a JWT signed ES256 with the
//! team's `.p8` key, header `{"alg":"ES256","kid":<key id>}`, claims
//! `{"iss":<team id>,"iat":<epoch s>}`, sent as `authorization: bearer
//! <jwt>`. Signed with ring (12: the TLS stack's provider already; no new
//! crypto crate).

use crate::credentials::{pem_der, ApnsCredentials};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

/// A signer for one credential set. Its Debug never shows the key.
pub struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    key_id: String,
    team_id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The credentials' key, or why it is not a P-256 PKCS#8 key (never
    /// quoting it).
    pub fn new(creds: &ApnsCredentials) -> Result<Self, &'static str> {
        let der = pem_der(creds.private_key.expose())?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
            .map_err(|_| "is not a P-256 private key in PKCS#8 (an APNs .p8 key)")?;
        Ok(Signer {
            key,
            rng,
            key_id: creds.key_id.clone(),
            team_id: creds.team_id.clone(),
        })
    }

    /// A provider token issued at `iat` (epoch seconds).
    pub fn mint(&self, iat: i64) -> Result<String, &'static str> {
        let header = json!({"alg": "ES256", "kid": self.key_id});
        let claims = json!({"iss": self.team_id, "iat": iat});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // FIXED signing: the 64-byte r||s JWS (RFC 7518 3.4) asks for.
        let sig = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| "signing the provider token failed")?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(sig.as_ref())
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use offpush::domain::Secret;
    use ring::signature::{KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    /// A fresh P-256 key as a `.p8` PEM text.
    pub fn pem() -> String {
        let der =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    pub fn creds(pem: &str) -> ApnsCredentials {
        ApnsCredentials {
            team_id: "TEAM123456".into(),
            key_id: "KEY1234567".into(),
            private_key: Secret::new(pem),
            bundle_id: "com.example.im".into(),
        }
    }

    #[test]
    fn tokens_carry_the_documented_header_and_claims_and_verify() {
        let pem = pem();
        let signer = Signer::new(&creds(&pem)).unwrap();
        let jwt = signer.mint(1_765_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims, json!({"iss": "TEAM123456", "iat": 1_765_000_000}));
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64, "r||s");
        let public = signer.key.public_key().as_ref().to_vec();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .expect("the signature verifies");
        assert!(!format!("{signer:?}").contains("PRIVATE"));
    }

    #[test]
    fn keys_that_are_not_p256_pkcs8_are_refused() {
        // Valid PEM, base64 of garbage.
        let bad = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
        assert!(Signer::new(&creds(bad)).is_err());
        assert!(Signer::new(&creds("nothing")).is_err());
    }
}
