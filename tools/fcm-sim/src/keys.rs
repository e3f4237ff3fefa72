//! A service account's RSA key as the simulator checks signatures with it:
//! PEM text in, the PKCS#1 `RSAPublicKey` DER ring verifies with out.

use base64::Engine;
use ring::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};

/// Reads the first PEM block of `pem` (text before it, such as a comment,
/// is skipped): a PKCS#8 private key (`PRIVATE KEY`, what a service
/// account's `private_key` holds), an SPKI public key (`PUBLIC KEY`) or a
/// PKCS#1 one (`RSA PUBLIC KEY`). Returns the PKCS#1 public key DER.
pub(crate) fn public_key_der(pem: &str) -> Result<Vec<u8>, String> {
    let (label, der) = pem_block(pem)?;
    match label.as_str() {
        "PRIVATE KEY" => {
            let pair = RsaKeyPair::from_pkcs8(&der)
                .map_err(|e| format!("not an RSA PKCS#8 private key: {e}"))?;
            Ok(pair.public_key().as_ref().to_vec())
        }
        "RSA PUBLIC KEY" => Ok(der),
        "PUBLIC KEY" => spki_rsa_key(&der),
        other => Err(format!(
            "unsupported PEM block {other:?}: expected PRIVATE KEY, PUBLIC KEY or RSA PUBLIC KEY"
        )),
    }
}

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256, 2048 to 8192 bits) of `message`.
pub(crate) fn verify_rs256(public_key_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key_der)
        .verify(message, signature)
        .is_ok()
}

fn pem_block(pem: &str) -> Result<(String, Vec<u8>), String> {
    let mut lines = pem.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|line| {
            line.strip_prefix("-----BEGIN ")
                .and_then(|rest| rest.strip_suffix("-----"))
        })
        .ok_or("no PEM block (-----BEGIN ...-----)")?
        .to_owned();
    let end = format!("-----END {label}-----");
    let mut text = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        text.push_str(line);
    }
    if !ended {
        return Err(format!("the PEM block has no {end} line"));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("the PEM block is not base64: {e}"))?;
    Ok((label, der))
}

/// One DER element: (tag, content, rest).
fn der_element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
/// subjectPublicKey BIT STRING }: the bit string's bytes are the PKCS#1 key.
/// The algorithm is not checked here: a key that is not RSA fails every
/// signature check.
fn spki_rsa_key(der: &[u8]) -> Result<Vec<u8>, String> {
    const SHAPE: &str = "not a SubjectPublicKeyInfo";
    let (tag, spki, _) = der_element(der).ok_or(SHAPE)?;
    if tag != 0x30 {
        return Err(SHAPE.to_owned());
    }
    let (_, _, rest) = der_element(spki).ok_or(SHAPE)?;
    let (tag, bits, _) = der_element(rest).ok_or(SHAPE)?;
    match bits.split_first() {
        Some((0, key)) if tag == 0x03 => Ok(key.to_vec()),
        _ => Err(SHAPE.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_pem_forms_give_the_same_key() {
        let private = public_key_der(include_str!("../tests/fixtures/test-key.pem")).unwrap();
        let spki = public_key_der(include_str!("../tests/fixtures/test-key.pub.pem")).unwrap();
        let pkcs1 = public_key_der(include_str!("../tests/fixtures/test-key.rsa-pub.pem")).unwrap();
        assert_eq!(private, spki);
        assert_eq!(private, pkcs1);
        for bad in [
            "",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        ] {
            assert!(public_key_der(bad).is_err(), "{bad:?}");
        }
    }
}
