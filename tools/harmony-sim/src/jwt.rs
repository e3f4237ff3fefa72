//! The service-account JWT of §14.2: verification of the `Authorization`
//! header of a send, and signing (for tests and `POST /_sim/jwt`).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};
use serde_json::Value;

use crate::{Inner, SimError};

/// The fixed JWT `aud` (= the key file's `token_uri`).
pub const AUDIENCE: &str = "https://oauth-login.cloud.huawei.com/oauth2/v3/token";

/// A JWT signing algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtAlg {
    /// RSASSA-PSS, SHA-256, 32-byte salt (the documented one).
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (one open-source client's).
    Rs256,
}

impl JwtAlg {
    fn name(self) -> &'static str {
        match self {
            JwtAlg::Ps256 => "PS256",
            JwtAlg::Rs256 => "RS256",
        }
    }
}

/// The DER bytes of a PEM block (the first one; headers ignored).
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, SimError> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|line| !line.starts_with("-----BEGIN "))
        .skip(1)
        .take_while(|line| !line.starts_with("-----END "))
        .collect();
    if body.is_empty() {
        return Err(SimError("not a PEM block".to_owned()));
    }
    STANDARD
        .decode(body)
        .map_err(|_| SimError("the PEM block is not base64".to_owned()))
}

fn key_pair(private_key_pem: &str) -> Result<RsaKeyPair, SimError> {
    let der = pem_to_der(private_key_pem)?;
    RsaKeyPair::from_pkcs8(&der).map_err(|e| SimError(format!("not a PKCS#8 RSA private key: {e}")))
}

/// The DER `RSAPublicKey` of a PKCS#8 PEM private key.
pub fn public_key_of(private_key_pem: &str) -> Result<Vec<u8>, SimError> {
    Ok(key_pair(private_key_pem)?.public_key().as_ref().to_vec())
}

/// `header.claims.signature` with header `{"kid","typ":"JWT","alg"}`.
pub fn sign_jwt(
    private_key_pem: &str,
    key_id: &str,
    alg: JwtAlg,
    claims: &Value,
) -> Result<String, SimError> {
    let pair = key_pair(private_key_pem)?;
    let header = serde_json::json!({ "kid": key_id, "typ": "JWT", "alg": alg.name() });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; pair.public().modulus_len()];
    let encoding: &dyn signature::RsaEncoding = match alg {
        JwtAlg::Ps256 => &signature::RSA_PSS_SHA256,
        JwtAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
    };
    pair.sign(
        encoding,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| SimError("signing failed".to_owned()))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// Why a JWT is refused.
pub(crate) enum JwtError {
    /// 80200001, with the simulator's reason (logged, not answered).
    Invalid(&'static str),
    /// 80300036: `exp - iat` over the limit.
    TooLong,
    /// 80200005.
    Expired,
}

fn part(text: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JwtError::Invalid("a JWT part is not unpadded base64url"))
}

fn object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, JwtError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Invalid("a JWT part is not a JSON object")),
    }
}

/// Checks `Authorization: Bearer <JWT>` for `project_id` at `now_s`
/// (seconds), in lib.rs's order.
pub(crate) fn verify(
    inner: &Inner,
    authorization: Option<&str>,
    project_id: &str,
    now_s: i64,
) -> Result<(), JwtError> {
    let jwt = authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .filter(|jwt| !jwt.is_empty())
        .ok_or(JwtError::Invalid("no Bearer JWT"))?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(JwtError::Invalid("a JWT has three parts"));
    };
    let head = object(&part(header)?)?;
    let algorithm: &dyn signature::VerificationAlgorithm =
        match head.get("alg").and_then(Value::as_str) {
            Some("PS256") => &signature::RSA_PSS_2048_8192_SHA256,
            Some("RS256") if inner.settings.accept_rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            _ => return Err(JwtError::Invalid("alg is not accepted")),
        };
    if head.get("typ").is_some_and(|typ| typ != "JWT") {
        return Err(JwtError::Invalid("typ is not JWT"));
    }
    let key = head
        .get("kid")
        .and_then(Value::as_str)
        .and_then(|kid| inner.keys.get(kid))
        .ok_or(JwtError::Invalid("kid is not a known key"))?;
    if key.project_id != project_id {
        return Err(JwtError::Invalid("the key belongs to another project"));
    }
    let input = &jwt[..header.len() + 1 + claims.len()];
    UnparsedPublicKey::new(algorithm, &key.public_key)
        .verify(input.as_bytes(), &part(signature)?)
        .map_err(|_| JwtError::Invalid("the signature does not verify"))?;
    let claims = object(&part(claims)?)?;
    if claims.get("iss").and_then(Value::as_str) != Some(key.sub_account.as_str()) {
        return Err(JwtError::Invalid("iss is not the sub_account"));
    }
    let audience = inner.settings.audience.as_str();
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud == audience),
        _ => false,
    };
    if !aud_ok {
        return Err(JwtError::Invalid("aud is not accepted"));
    }
    let (Some(iat), Some(exp)) = (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    ) else {
        return Err(JwtError::Invalid("iat and exp must be integers"));
    };
    if exp <= iat {
        return Err(JwtError::Invalid("exp is not after iat"));
    }
    if exp.saturating_sub(iat) > inner.settings.max_jwt_lifetime_secs {
        return Err(JwtError::TooLong);
    }
    if now_s >= exp {
        return Err(JwtError::Expired);
    }
    if iat > now_s.saturating_add(inner.settings.jwt_leeway_secs) {
        return Err(JwtError::Invalid("iat is in the future"));
    }
    Ok(())
}
