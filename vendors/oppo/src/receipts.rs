//! OPPO's receipts (VENDORS_API.md 2.7 [C]): a POST of `application/json`,
//! a JSON array of items `{"messageId", "appId", "taskId",
//! "registrationIds": "r1,r2", "eventTime", "param", "eventType"}` (events
//! for one URL may be merged into one body).

use offpush::vendor::{receipt_targets, ReceiptBatch, ReceiptEvent, ReceiptItem};
use offpush::ServiceError;
use serde_json::Value;

/// What an event type means (2.7 [C]).
pub fn event(kind: &str) -> ReceiptEvent {
    match kind {
        // Reached the device (not displayed or clicked): delivered.
        "push_arrive" => ReceiptEvent::Delivered,
        // Uninstalled, unregistered, reflashed, offline 30 days: the
        // registration id is dead.
        "regid_invalid" => ReceiptEvent::TokenDead,
        // The per-app per-device daily cap: kept in the record, counted
        // nowhere (the word Xiaomi's daily-cap receipts get too).
        "user_daily_limit" => ReceiptEvent::Other("daily_cap".into()),
        // Anything else, kept as a short word of its own.
        other => {
            let word: String = other
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(32)
                .collect::<String>()
                .to_ascii_lowercase();
            ReceiptEvent::Other(if word.is_empty() {
                "unknown".into()
            } else {
                word
            })
        }
    }
}

/// `registrationIds` as documented (a comma-joined string), or an array of
/// strings (a shape some receivers were written for).
fn joined(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        _ => None,
    }
}

pub fn parse(body: &[u8]) -> Result<ReceiptBatch, ServiceError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ServiceError::invalid_body("receipt body: not UTF-8"))?;
    let v: Value = serde_json::from_str(text)
        .map_err(|_| ServiceError::invalid_body("receipt body: not valid JSON"))?;
    let items = match v {
        Value::Array(items) => items,
        // One event not wrapped in an array: taken as one item.
        Value::Object(_) => vec![v],
        _ => {
            return Err(ServiceError::invalid_body(
                "receipt body: a JSON array of receipt items is required",
            ))
        }
    };
    let mut out = ReceiptBatch::default();
    for (i, item) in items.iter().enumerate() {
        let kind = item.get("eventType").and_then(Value::as_str);
        let targets = item.get("registrationIds").and_then(joined);
        let (Some(kind), Some(targets)) = (kind, targets) else {
            out.unreadable += 1;
            continue;
        };
        let name = item
            .get("messageId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| i.to_string());
        let targets = receipt_targets(&name, &targets)?;
        out.items.push(ReceiptItem {
            param: item
                .get("param")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            event: event(kind),
            targets,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_event_type_means_what_the_spec_says() {
        let body = json!([
            {"messageId": "m1", "appId": "1", "taskId": "m1", "registrationIds": "r1,r2", "eventTime": 1_765_000_000_000_i64, "param": "op2.x", "eventType": "push_arrive"},
            {"messageId": "m2", "appId": "1", "taskId": "t2", "registrationIds": "r3", "eventTime": "1765000000000", "param": "op2.x", "eventType": "regid_invalid"},
            {"messageId": "m3", "registrationIds": ["r4"], "param": "", "eventType": "user_daily_limit"},
            {"messageId": "m4", "registrationIds": "r5", "eventType": "Push-Click!"},
            {"messageId": "m5", "param": "p"},
        ]);
        let b = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(b.unreadable, 1);
        assert_eq!(b.items.len(), 4);
        assert_eq!(
            b.items[0],
            ReceiptItem {
                param: Some("op2.x".into()),
                event: ReceiptEvent::Delivered,
                targets: vec!["r1".into(), "r2".into()],
            }
        );
        assert_eq!(b.items[1].event, ReceiptEvent::TokenDead);
        assert_eq!(b.items[1].targets, ["r3"]);
        assert_eq!(b.items[2].event, ReceiptEvent::Other("daily_cap".into()));
        assert_eq!(b.items[2].param, None);
        assert_eq!(b.items[3].event, ReceiptEvent::Other("pushclick".into()));
    }

    #[test]
    fn one_unwrapped_item_is_taken() {
        let body = json!({"registrationIds": "r1", "param": "p", "eventType": "push_arrive"});
        let b = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(b.items.len(), 1);
    }

    #[test]
    fn malformed_bodies_are_400() {
        for body in ["", "[", "42", "\"x\"", "data=%7B%7D"] {
            assert_eq!(parse(body.as_bytes()).unwrap_err().status(), 400, "{body}");
        }
        assert_eq!(parse(&[0xff, 0xfe]).unwrap_err().status(), 400);
        let many: Vec<String> = (0..1001).map(|i| format!("r{i}")).collect();
        let body = json!([{"messageId": "m", "param": "p", "eventType": "push_arrive", "registrationIds": many.join(",")}]);
        assert_eq!(
            parse(body.to_string().as_bytes()).unwrap_err().field(),
            Some("m.targets")
        );
        let body = json!([{"messageId": "m", "param": "p", "eventType": "push_arrive", "registrationIds": many[..1000].join(",")}]);
        assert_eq!(
            parse(body.to_string().as_bytes()).unwrap().items[0]
                .targets
                .len(),
            1000
        );
    }
}
