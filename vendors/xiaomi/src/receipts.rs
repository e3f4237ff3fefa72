//! Xiaomi's receipts (VENDORS_API.md 1.8): a JSON object keyed by message
//! id whose values are `{"param", "type", "targets": "r1,r2", "jobkey",
//! "barStatus", "timestamp"}`. 1.8 [CONFLICT]: posted as the form field
//! `data` (a handler read it so) or as a raw JSON body (another bound it
//! so): both are taken.

use offpush::vendor::{receipt_targets, ReceiptBatch, ReceiptEvent, ReceiptItem};
use offpush::ServiceError;
use serde_json::Value;

/// What a receipt type means (1.8 [C]: 1 delivered, 2 clicked, 3 either,
/// 16 target invalid, 32 push disabled on the device, 64 filtered, 128 the
/// app's daily total, 1024 TTL expired). A click implies the notification
/// was shown, so 2 and 3 count as delivered too.
pub fn event(kind: i64) -> ReceiptEvent {
    match kind {
        1..=3 => ReceiptEvent::Delivered,
        16 => ReceiptEvent::TokenDead,
        32 => ReceiptEvent::Other("push_disabled".into()),
        64 => ReceiptEvent::Other("filtered".into()),
        128 => ReceiptEvent::Other("daily_cap".into()),
        1024 => ReceiptEvent::Other("ttl_expired".into()),
        _ => ReceiptEvent::Other(format!("type_{kind}")),
    }
}

fn json_of(body: &[u8], content_type: Option<&str>) -> Result<Value, ServiceError> {
    let form = content_type.is_some_and(|c| {
        c.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    let text = std::str::from_utf8(body)
        .map_err(|_| ServiceError::invalid_body("receipt body: not UTF-8"))?;
    let raw = if form || text.trim_start().starts_with("data=") {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text)
            .map_err(|_| ServiceError::invalid_body("receipt body: not a form"))?;
        pairs
            .into_iter()
            .find(|(k, _)| k == "data")
            .map(|(_, v)| v)
            .ok_or_else(|| ServiceError::invalid("data", "is required"))?
    } else {
        text.to_string()
    };
    serde_json::from_str(&raw)
        .map_err(|_| ServiceError::invalid_body("receipt body: data is not valid JSON"))
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<ReceiptBatch, ServiceError> {
    let Value::Object(map) = json_of(body, content_type)? else {
        return Err(ServiceError::invalid_body(
            "receipt body: a JSON object keyed by message id is required",
        ));
    };
    let mut out = ReceiptBatch::default();
    for (msg_id, v) in map {
        let kind = v.get("type").and_then(int);
        let targets = v.get("targets").and_then(Value::as_str);
        let (Some(kind), Some(targets)) = (kind, targets) else {
            out.unreadable += 1;
            continue;
        };
        let targets = receipt_targets(&msg_id, targets)?;
        out.items.push(ReceiptItem {
            param: v.get("param").and_then(Value::as_str).map(str::to_string),
            event: event(kind),
            targets,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=UTF-8");

    fn data() -> Value {
        serde_json::json!({
            "slm1": {"param": "op1.20261207.0123456789abcdef0123456789abcdef", "type": 1, "targets": "r1,r2", "jobkey": "", "barStatus": "Enable", "timestamp": 1_765_000_000_000_i64},
            "slm2": {"param": "p", "type": "16", "targets": "r3"},
            "slm3": {"param": "p", "type": 128, "targets": "r4", "extra": {"ack": "5", "quota": "5"}},
            "slm4": {"param": "p"},
        })
    }

    #[test]
    fn both_encodings_of_the_conflict_are_taken() {
        let form = serde_urlencoded::to_string([("data", data().to_string())]).unwrap();
        let a = parse(form.as_bytes(), FORM).unwrap();
        let b = parse(data().to_string().as_bytes(), Some("application/json")).unwrap();
        let c = parse(form.as_bytes(), None).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.unreadable, 1);
        assert_eq!(a.items.len(), 3);
        let by_event = |e: ReceiptEvent| a.items.iter().find(|i| i.event == e).unwrap();
        assert_eq!(by_event(ReceiptEvent::Delivered).targets, ["r1", "r2"]);
        assert_eq!(by_event(ReceiptEvent::TokenDead).targets, ["r3"]);
        assert_eq!(
            by_event(ReceiptEvent::Other("daily_cap".into())).targets,
            ["r4"]
        );
    }

    #[test]
    fn types_mean_what_the_spec_says() {
        for t in 1..=3 {
            assert_eq!(event(t), ReceiptEvent::Delivered);
        }
        assert_eq!(event(16), ReceiptEvent::TokenDead);
        assert_eq!(event(1024), ReceiptEvent::Other("ttl_expired".into()));
    }

    #[test]
    fn malformed_bodies_are_400() {
        for (body, ct) in [
            ("", None),
            ("[]", None),
            ("data=%7Bnot", FORM),
            ("other=1", FORM),
            ("{", Some("application/json")),
        ] {
            assert!(parse(body.as_bytes(), ct).is_err(), "{body}");
        }
        let many: Vec<String> = (0..1001).map(|i| format!("r{i}")).collect();
        let body = serde_json::json!({"m": {"param": "p", "type": 1, "targets": many.join(",")}});
        assert_eq!(
            parse(body.to_string().as_bytes(), None)
                .unwrap_err()
                .field(),
            Some("m.targets")
        );
    }
}
