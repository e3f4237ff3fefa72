//! Honor's receipts (VENDORS_API.md 3.6 [S]): the Huawei V1 shape
//! `{"statuses":[{"biTag","appid","token","status","timestamp",
//! "requestId"}]}`, posted to the address registered in the Honor console.

use offpush::domain::receipt::MAX_RECEIPT_TARGETS;
use offpush::vendor::{ReceiptBatch, ReceiptEvent, ReceiptItem};
use offpush::ServiceError;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a receipt status means. 3.6 [U]: Honor's status table is unknown.
/// The delivered status is unconfirmed: 0 is Huawei V1's "delivered"
/// (4.6 [C]), and doopush reads 40000002 as success (3.6 [S]); both are
/// taken as delivered. Every other status is kept as its number and ends
/// no binding: Huawei's dead-token statuses (2, 5, 10) are not known to
/// mean the same for Honor, and a wrong verdict would end a live binding.
pub fn event(status: i64) -> ReceiptEvent {
    match status {
        0 | 40000002 => ReceiptEvent::Delivered,
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

/// Takes a receipt body apart: one item per push reference (`biTag`) and
/// status, its tokens in the order posted.
pub fn parse(body: &[u8]) -> Result<ReceiptBatch, ServiceError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| ServiceError::invalid_body("receipt body: not valid JSON"))?;
    let Some(statuses) = v.get("statuses").and_then(Value::as_array) else {
        return Err(ServiceError::invalid_body(
            "receipt body: a JSON object with a statuses array is required",
        ));
    };
    let mut out = ReceiptBatch::default();
    let mut groups: BTreeMap<(Option<String>, i64), Vec<String>> = BTreeMap::new();
    let mut order: Vec<(Option<String>, i64)> = Vec::new();
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
        let param = s
            .get("biTag")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let key = (param, status);
        let targets = groups.entry(key.clone()).or_default();
        if targets.is_empty() {
            order.push(key);
        }
        targets.push(token.to_string());
        if targets.len() > MAX_RECEIPT_TARGETS {
            return Err(ServiceError::invalid(
                "statuses",
                format!("at most {MAX_RECEIPT_TARGETS} targets per message and status"),
            ));
        }
    }
    for key in order {
        let targets = groups.remove(&key).unwrap_or_default();
        out.items.push(ReceiptItem {
            param: key.0,
            event: event(key.1),
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
    fn statuses_group_by_push_reference_and_status() {
        let body = json!({"statuses": [
            {"biTag": "op2.a", "appid": "1", "token": "t1", "status": 0, "timestamp": 1, "requestId": "r"},
            {"biTag": "op2.a", "appid": "1", "token": "t2", "status": 0, "timestamp": 1, "requestId": "r"},
            {"biTag": "op2.a", "appid": "1", "token": "t3", "status": "40000002", "timestamp": 1, "requestId": "r"},
            {"biTag": "op2.b", "appid": "1", "token": "t4", "status": 2, "timestamp": 1, "requestId": "r2"},
            {"appid": "1", "token": "t5", "status": 0, "requestId": "r3"},
            {"biTag": "op2.a", "status": 0},
            {"biTag": "op2.a", "token": "t6"},
        ]});
        let b = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(b.unreadable, 2);
        assert_eq!(
            b.items,
            vec![
                ReceiptItem {
                    param: Some("op2.a".into()),
                    event: ReceiptEvent::Delivered,
                    targets: vec!["t1".into(), "t2".into()],
                },
                ReceiptItem {
                    param: Some("op2.a".into()),
                    event: ReceiptEvent::Delivered,
                    targets: vec!["t3".into()],
                },
                ReceiptItem {
                    param: Some("op2.b".into()),
                    event: ReceiptEvent::Other("status_2".into()),
                    targets: vec!["t4".into()],
                },
                ReceiptItem {
                    param: None,
                    event: ReceiptEvent::Delivered,
                    targets: vec!["t5".into()],
                },
            ]
        );
    }

    #[test]
    fn both_delivered_readings_are_delivered_and_nothing_ends_a_binding() {
        assert_eq!(event(0), ReceiptEvent::Delivered);
        assert_eq!(event(40000002), ReceiptEvent::Delivered);
        for s in [2, 5, 6, 10, 102, 201] {
            assert_ne!(event(s), ReceiptEvent::TokenDead, "{s}");
            assert_ne!(event(s), ReceiptEvent::Delivered, "{s}");
        }
    }

    #[test]
    fn malformed_bodies_are_400() {
        for body in ["", "[]", "{}", "{\"statuses\":{}}", "{", "data=x"] {
            assert!(parse(body.as_bytes()).is_err(), "{body}");
        }
        let many: Vec<Value> = (0..1001)
            .map(|i| json!({"biTag": "p", "token": format!("t{i}"), "status": 0}))
            .collect();
        let body = json!({ "statuses": many });
        assert_eq!(
            parse(body.to_string().as_bytes()).unwrap_err().field(),
            Some("statuses")
        );
        assert!(parse(br#"{"statuses":[]}"#).unwrap().items.is_empty());
    }
}
