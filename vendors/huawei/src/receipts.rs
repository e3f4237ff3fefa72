//! Huawei's receipts (VENDORS_API.md 4.6): a JSON POST `{"statuses":[…]}`
//! of V1 items `{token, biTag, status, timestamp, appid, requestId}`,
//! signed with `X-HUAWEI-CALLBACK-ID: timestamp=<ms>;nonce=<uuid>;value=
//! <base64(HmacSHA256(secret, timestamp+nonce+username))>` when the
//! AppGallery Connect receipt configuration has a callback secret.

use base64::Engine;
use hmac::{Hmac, Mac};
use offpush::vendor::{ReceiptBatch, ReceiptEvent, ReceiptItem};
use offpush::ServiceError;
use serde_json::Value;
use sha2::Sha256;

/// The signature header (4.6 [C]), lower-case as the port gives headers.
pub const CALLBACK_HEADER: &str = "x-huawei-callback-id";
/// 4.6 [CONFLICT]: receipts are merged up to 1000 per request (archived
/// doc) or up to 100 (current doc). Both are taken: refusing a 1000-item
/// body that Huawei may send would lose its receipts, and a smaller one is
/// within it.
pub const MAX_STATUSES: usize = 1000;
/// How far a signature's timestamp may be from now, either way: Huawei
/// signs each attempt afresh, so an older one is a replay.
pub const SIGNATURE_FRESH_MS: i64 = 5 * 60 * 1000;

/// What a receipt status means (4.6 [C]): 0 delivered; 2 app not
/// installed, 5 token not present for the device user, 10 device inactive
/// 30 days: the token is dead (Huawei's advice is to filter them); 6
/// notifications off: kept, a word in the push log; 102 the device's daily
/// cap (3000 a day, 4.4); the others words of their own.
pub fn event(status: i64) -> ReceiptEvent {
    match status {
        0 => ReceiptEvent::Delivered,
        2 | 5 | 10 => ReceiptEvent::TokenDead,
        6 => ReceiptEvent::Other("notifications_off".into()),
        102 => ReceiptEvent::Other("daily_cap".into()),
        14 => ReceiptEvent::Other("other_error".into()),
        15 => ReceiptEvent::Other("overwritten".into()),
        22 => ReceiptEvent::Other("user_mismatch".into()),
        27 => ReceiptEvent::Other("data_cached".into()),
        31 => ReceiptEvent::Other("not_supported".into()),
        51 => ReceiptEvent::Other("device_locked".into()),
        144 => ReceiptEvent::Other("profile_missing".into()),
        201 => ReceiptEvent::Other("send_controlled".into()),
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
/// push reference and meaning, in order. Items that are not V1 items
/// (no token or no status) are counted unreadable.
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
        let status = s.get("status").and_then(int);
        let (Some(token), Some(status)) = (token, status) else {
            out.unreadable += 1;
            continue;
        };
        let param = s.get("biTag").and_then(Value::as_str).map(str::to_string);
        let event = event(status);
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

/// The signature value Huawei computes (4.6 [C]).
pub fn signature(secret: &str, timestamp: &str, nonce: &str, user: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(nonce.as_bytes());
    mac.update(user.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks an `X-HUAWEI-CALLBACK-ID` header against the certificate's
/// callback user name and secret: a signature that does not match, or
/// whose timestamp is more than [`SIGNATURE_FRESH_MS`] from `now_ms`, is
/// refused (401) and the receipt changes nothing. The comparison is
/// constant time.
pub fn verify_callback(
    header: &str,
    user: &str,
    secret: &str,
    now_ms: i64,
) -> Result<(), ServiceError> {
    let refused = |why: &str| {
        ServiceError::Unauthenticated(format!("huawei receipt signature refused: {why}"))
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
    let given = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| refused("value is not base64"))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(nonce.as_bytes());
    mac.update(user.as_bytes());
    mac.verify_slice(&given)
        .map_err(|_| refused("signature does not match"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_765_000_000_000;

    fn header(ts: i64, user: &str, secret: &str) -> String {
        let nonce = "6f1c1c0e-5d7a-4a53-9d1b-0e3c4f1a2b3c";
        let t = ts.to_string();
        format!(
            "timestamp={t};nonce={nonce};value={}",
            signature(secret, &t, nonce, user)
        )
    }

    #[test]
    fn a_good_signature_passes_and_every_bad_one_is_refused() {
        assert!(verify_callback(&header(NOW, "u", "s3cret"), "u", "s3cret", NOW).is_ok());
        assert!(verify_callback(&header(NOW - 60_000, "u", "s3cret"), "u", "s3cret", NOW).is_ok());
        for (h, why) in [
            (header(NOW, "u", "other"), "wrong secret"),
            (header(NOW, "someone", "s3cret"), "wrong user"),
            (header(NOW - SIGNATURE_FRESH_MS - 1, "u", "s3cret"), "stale"),
            (
                header(NOW + SIGNATURE_FRESH_MS + 1, "u", "s3cret"),
                "future",
            ),
            ("timestamp=1;nonce=n".to_string(), "no value"),
            ("garbage".to_string(), "malformed"),
            (
                format!("{};value=AAAA", header(NOW, "u", "s3cret")),
                "twice",
            ),
        ] {
            let e = verify_callback(&h, "u", "s3cret", NOW).unwrap_err();
            assert_eq!(e.status(), 401, "{why}");
            assert!(!e.to_string().contains("s3cret"), "{why}");
        }
        // A signature for another timestamp than the header's.
        let h = header(NOW, "u", "s3cret").replace(&NOW.to_string(), &(NOW + 1).to_string());
        assert!(verify_callback(&h, "u", "s3cret", NOW).is_err());
    }

    #[test]
    fn statuses_mean_what_the_spec_says() {
        assert_eq!(event(0), ReceiptEvent::Delivered);
        for s in [2, 5, 10] {
            assert_eq!(event(s), ReceiptEvent::TokenDead, "{s}");
        }
        assert_eq!(event(6), ReceiptEvent::Other("notifications_off".into()));
        assert_eq!(event(102), ReceiptEvent::Other("daily_cap".into()));
        assert_eq!(event(201), ReceiptEvent::Other("send_controlled".into()));
        assert_eq!(event(999), ReceiptEvent::Other("status_999".into()));
    }

    #[test]
    fn bodies_are_taken_apart_in_order() {
        let body = json!({"statuses": [
            {"token": "t1", "biTag": "p1", "status": 0, "timestamp": NOW, "appid": "1", "requestId": "r"},
            {"token": "t2", "biTag": "p1", "status": 0, "timestamp": NOW, "appid": "1", "requestId": "r"},
            {"token": "t3", "biTag": "p1", "status": 2},
            {"token": "t4", "biTag": "p1", "status": "6"},
            {"token": "t5", "status": 102},
            {"biTag": "p1", "status": 0},
            {"token": "t6", "deliveryStatus": {"result": 0}},
        ]});
        let b = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(b.unreadable, 2);
        assert_eq!(b.items.len(), 4);
        assert_eq!(b.items[0].targets, ["t1", "t2"]);
        assert_eq!(b.items[0].param.as_deref(), Some("p1"));
        assert_eq!(b.items[1].event, ReceiptEvent::TokenDead);
        assert_eq!(
            b.items[2].event,
            ReceiptEvent::Other("notifications_off".into())
        );
        assert_eq!(b.items[3].param, None);
    }

    #[test]
    fn both_batch_sizes_of_the_conflict_are_taken_and_more_is_refused() {
        let items = |n: usize| {
            let s: Vec<Value> = (0..n)
                .map(|i| json!({"token": format!("t{i}"), "biTag": "p", "status": 0}))
                .collect();
            json!({ "statuses": s }).to_string()
        };
        assert_eq!(
            parse(items(100).as_bytes()).unwrap().items[0].targets.len(),
            100
        );
        assert_eq!(
            parse(items(1000).as_bytes()).unwrap().items[0]
                .targets
                .len(),
            1000
        );
        assert_eq!(
            parse(items(1001).as_bytes()).unwrap_err().field(),
            Some("statuses")
        );
        for bad in ["", "[]", "{}", "{\"statuses\":{}}", "{"] {
            assert_eq!(parse(bad.as_bytes()).unwrap_err().status(), 400, "{bad}");
        }
    }
}
