//! HarmonyOS receipts (VENDORS_API.md 14.8, V2 only): a JSON POST
//! `{"statuses":[…]}` of at most 100 items `{token, pushType,
//! appPackageName, biTag, requestId, deliveryStatus{result, timestamp}}`
//! (widgets carry `formStatus` instead), signed with `X-HUAWEI-CALLBACK-ID:
//! timestamp=<ms>;nonce=<uuid>;value=<base64(HmacSHA256(key,
//! timestamp+nonce+username))>` when the receipt configuration has a user
//! name and secret.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use offpush::vendor::{ReceiptBatch, ReceiptEvent, ReceiptItem};
use offpush::ServiceError;
use serde_json::Value;
use sha2::Sha256;

/// The signature header (14.8 [C]), lower-case as the port gives headers.
pub const CALLBACK_HEADER: &str = "x-huawei-callback-id";
/// 14.8 [C]: at most 100 statuses per POST.
pub const MAX_STATUSES: usize = 100;
/// How far a signature's timestamp may be from now, either way: Huawei
/// signs each attempt afresh, so an older one is a replay.
pub const SIGNATURE_FRESH_MS: i64 = 5 * 60 * 1000;

/// What a V2 `deliveryStatus.result` means (14.8 [C]): 0 delivered; 2
/// uninstalled, 5 token mismatch, 10 inactive 30 days: the token is dead
/// (Huawei advises filtering them); 6 notifications off: kept; 102 the
/// device's frequency control and 256 the scenario cap or test quota:
/// words in the push log; the others words of their own.
pub fn event(result: i64) -> ReceiptEvent {
    let word = |w: &str| ReceiptEvent::Other(w.into());
    match result {
        0 => ReceiptEvent::Delivered,
        2 | 5 | 10 => ReceiptEvent::TokenDead,
        6 => word("notifications_off"),
        102 => word("device_cap"),
        256 => word("scenario_cap"),
        259 => word("content_rejected"),
        14 => word("other_error"),
        15 => word("collapsed"),
        22 => word("user_mismatch"),
        27 => word("background_cached"),
        31 => word("page_missing"),
        51 => word("locked_after_boot"),
        144 => word("profile_unknown"),
        188 => word("launch_failed"),
        191 => word("badge_failed"),
        s => ReceiptEvent::Other(format!("status_{s}")),
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Takes a receipt body apart: one item per run of statuses with the same
/// push reference and meaning, in order. Items without a token or a
/// result (widget `formStatus` items among them) are counted unreadable.
pub fn parse(body: &[u8]) -> Result<ReceiptBatch, ServiceError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| ServiceError::invalid_body("receipt body: not valid JSON"))?;
    let statuses = v
        .get("statuses")
        .and_then(Value::as_array)
        .ok_or_else(|| ServiceError::invalid("statuses", "is required (an array)"))?;
    if statuses.len() > MAX_STATUSES {
        return Err(ServiceError::invalid(
            "statuses",
            format!("at most {MAX_STATUSES} per receipt"),
        ));
    }
    let mut out = ReceiptBatch::default();
    for s in statuses {
        let token = s
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        let result = s
            .get("deliveryStatus")
            .and_then(|d| d.get("result"))
            .and_then(int);
        let (Some(token), Some(result)) = (token, result) else {
            out.unreadable += 1;
            continue;
        };
        // 14.8 [C]: biTag is "" when the message had none.
        let param = s
            .get("biTag")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let event = event(result);
        match out.items.last_mut() {
            Some(last) if last.param == param && last.event == event => {
                last.targets.push(token.to_string())
            }
            _ => out.items.push(ReceiptItem {
                param,
                event,
                targets: vec![token.to_string()],
            }),
        }
    }
    Ok(out)
}

/// The HMAC keys a configured secret may stand for. 14.8 [CONFLICT]: new
/// receipt configurations key the HMAC with the base64-decoded secret,
/// legacy ones with its UTF-8 bytes; both are tried, decoded first (the
/// doc's current reading). Either key proves knowledge of the secret, so
/// taking both loses no safety.
pub fn keys(secret: &str) -> Vec<Vec<u8>> {
    let mut keys = Vec::with_capacity(2);
    if let Ok(decoded) = STANDARD.decode(secret.trim()) {
        if !decoded.is_empty() {
            keys.push(decoded);
        }
    }
    keys.push(secret.as_bytes().to_vec());
    keys
}

/// The signature value Huawei computes with `key` (14.8 [C]).
pub fn signature(key: &[u8], timestamp: &str, nonce: &str, user: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(nonce.as_bytes());
    mac.update(user.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks an `X-HUAWEI-CALLBACK-ID` header against the certificate's
/// callback user name and secret: a signature that matches under neither
/// key reading, or whose timestamp is more than [`SIGNATURE_FRESH_MS`]
/// from `now_ms`, is refused (401). Comparisons are constant time.
pub fn verify_callback(
    header: &str,
    user: &str,
    secret: &str,
    now_ms: i64,
) -> Result<(), ServiceError> {
    let refused = |why: &str| {
        ServiceError::Unauthenticated(format!("harmony receipt signature refused: {why}"))
    };
    let mut timestamp = None;
    let mut nonce = None;
    let mut value = None;
    for part in header.split(';') {
        let Some((k, v)) = part.split_once('=') else {
            return Err(refused("malformed header"));
        };
        let slot = match k.trim() {
            "timestamp" => &mut timestamp,
            "nonce" => &mut nonce,
            "value" => &mut value,
            _ => continue,
        };
        if slot.replace(v.trim()).is_some() {
            return Err(refused("a field given twice"));
        }
    }
    let (Some(timestamp), Some(nonce), Some(value)) = (timestamp, nonce, value) else {
        return Err(refused("timestamp, nonce or value missing"));
    };
    let at: i64 = timestamp
        .parse()
        .map_err(|_| refused("timestamp is not a number"))?;
    if (now_ms - at).abs() > SIGNATURE_FRESH_MS {
        return Err(refused("stale timestamp"));
    }
    let given = STANDARD
        .decode(value)
        .map_err(|_| refused("value is not base64"))?;
    let matches = keys(secret).iter().any(|key| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(timestamp.as_bytes());
        mac.update(nonce.as_bytes());
        mac.update(user.as_bytes());
        mac.verify_slice(&given).is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(refused("signature does not match"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_765_000_000_000;
    /// A base64 secret as AppGallery Connect shows new configurations'.
    const SECRET: &str = "c2VjcmV0LWtleS1ieXRlcy0wMTIz";

    fn header(ts: i64, user: &str, key: &[u8]) -> String {
        let nonce = "6f1c1c0e-5d7a-4a53-9d1b-0e3c4f1a2b3c";
        let t = ts.to_string();
        format!(
            "timestamp={t};nonce={nonce};value={}",
            signature(key, &t, nonce, user)
        )
    }

    #[test]
    fn both_key_readings_pass_and_every_bad_signature_is_refused() {
        let decoded = STANDARD.decode(SECRET).unwrap();
        assert!(verify_callback(&header(NOW, "u", &decoded), "u", SECRET, NOW).is_ok());
        assert!(
            verify_callback(&header(NOW, "u", SECRET.as_bytes()), "u", SECRET, NOW).is_ok(),
            "the legacy UTF-8 reading"
        );
        // A secret that is not base64 has only the UTF-8 reading.
        assert!(verify_callback(
            &header(NOW, "u", b"plain secret!"),
            "u",
            "plain secret!",
            NOW
        )
        .is_ok());
        assert_eq!(keys("plain secret!").len(), 1);
        assert!(verify_callback(&header(NOW - 60_000, "u", &decoded), "u", SECRET, NOW).is_ok());
        for (h, why) in [
            (header(NOW, "u", b"other"), "wrong secret"),
            (header(NOW, "someone", &decoded), "wrong user"),
            (header(NOW - SIGNATURE_FRESH_MS - 1, "u", &decoded), "stale"),
            (
                header(NOW + SIGNATURE_FRESH_MS + 1, "u", &decoded),
                "future",
            ),
            ("timestamp=1;nonce=n".to_string(), "no value"),
            ("garbage".to_string(), "malformed"),
            (
                format!("{};value=AAAA", header(NOW, "u", &decoded)),
                "twice",
            ),
            (format!("timestamp={NOW};nonce=n;value=!!"), "not base64"),
        ] {
            let e = verify_callback(&h, "u", SECRET, NOW).unwrap_err();
            assert_eq!(e.status(), 401, "{why}");
            assert!(!e.to_string().contains(SECRET), "{why}");
        }
    }

    #[test]
    fn results_mean_what_the_spec_says() {
        assert_eq!(event(0), ReceiptEvent::Delivered);
        for s in [2, 5, 10] {
            assert_eq!(event(s), ReceiptEvent::TokenDead, "{s}");
        }
        assert_eq!(event(6), ReceiptEvent::Other("notifications_off".into()));
        assert_eq!(event(102), ReceiptEvent::Other("device_cap".into()));
        assert_eq!(event(256), ReceiptEvent::Other("scenario_cap".into()));
        assert_eq!(event(201), ReceiptEvent::Other("status_201".into()));
        for s in [14, 15, 22, 27, 31, 51, 144, 188, 191, 259] {
            assert!(
                matches!(event(s), ReceiptEvent::Other(w) if !w.starts_with("status_")),
                "{s}"
            );
        }
    }

    #[test]
    fn bodies_are_taken_apart_in_order() {
        let st = |token: &str, tag: &str, result: Value| {
            json!({"token": token, "pushType": 0, "appPackageName": "com.example.im", "biTag": tag,
                   "requestId": "1765", "deliveryStatus": {"result": result, "timestamp": NOW}})
        };
        let body = json!({"statuses": [
            st("t1", "p1", json!(0)),
            st("t2", "p1", json!(0)),
            st("t3", "p1", json!(2)),
            st("t4", "p1", json!("6")),
            st("t5", "", json!(102)),
            {"biTag": "p1", "deliveryStatus": {"result": 0}},
            {"token": "w1", "formStatus": {"formId": 1, "result": 0}},
            st("t6", "p1", json!(10)),
        ]});
        let b = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(b.unreadable, 2);
        assert_eq!(b.items.len(), 5);
        assert_eq!(b.items[0].targets, ["t1", "t2"]);
        assert_eq!(b.items[0].param.as_deref(), Some("p1"));
        assert_eq!(b.items[0].event, ReceiptEvent::Delivered);
        assert_eq!(b.items[1].event, ReceiptEvent::TokenDead);
        assert_eq!(
            b.items[2].event,
            ReceiptEvent::Other("notifications_off".into())
        );
        assert_eq!(b.items[3].param, None, "an empty biTag is none");
        assert_eq!(b.items[3].event, ReceiptEvent::Other("device_cap".into()));
        assert_eq!(b.items[4].targets, ["t6"]);
    }

    #[test]
    fn at_most_a_hundred_statuses_and_bad_bodies_are_400() {
        let items = |n: usize| {
            let s: Vec<Value> = (0..n)
                .map(|i| json!({"token": format!("t{i}"), "biTag": "p", "deliveryStatus": {"result": 0}}))
                .collect();
            json!({ "statuses": s }).to_string()
        };
        assert_eq!(
            parse(items(100).as_bytes()).unwrap().items[0].targets.len(),
            100
        );
        assert_eq!(
            parse(items(101).as_bytes()).unwrap_err().field(),
            Some("statuses")
        );
        for bad in ["", "[]", "{}", "{\"statuses\":{}}", "{"] {
            assert_eq!(parse(bad.as_bytes()).unwrap_err().status(), 400, "{bad}");
        }
    }
}
