//! vivo's delivery receipts (VIVO_API.md 1.8): a JSON object keyed by
//! taskId whose values are `{"param": <callback.param>, "targets":
//! "reg1,reg2"}`, each target delivered. Anything else inside a well-formed
//! object (a newer shape) is unreadable, not an error, so vivo is answered
//! 200 and the body kept. Not JSON, or not an object: 400.

use offpush::vendor::{receipt_targets, ReceiptBatch, ReceiptEvent, ReceiptItem};
use offpush::ServiceError;
use serde_json::Value;

pub fn parse(body: &[u8]) -> Result<ReceiptBatch, ServiceError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ServiceError::invalid_body("receipt body: not valid JSON"))?;
    let Value::Object(map) = value else {
        return Err(ServiceError::invalid_body(
            "receipt body: a JSON object keyed by taskId is required",
        ));
    };
    let mut out = ReceiptBatch::default();
    for (task_id, v) in map {
        let param = v.get("param").and_then(Value::as_str);
        let targets = v.get("targets").and_then(Value::as_str);
        let (Some(param), Some(targets)) = (param, targets) else {
            out.unreadable += 1;
            continue;
        };
        let targets = receipt_targets(&task_id, targets)?;
        out.items.push(ReceiptItem {
            param: Some(param.to_string()),
            event: ReceiptEvent::Delivered,
            targets,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn legacy_bodies_split_into_items_and_the_rest_is_unreadable() {
        let body = serde_json::json!({
            "t1": {"param": format!("op1.20251201.{REF}"), "targets": "r1, r2,,r3"},
            "t2": {"param": "someone-else", "targets": "r9"},
            "t3": {"result": 300},
        });
        let p = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(p.unreadable, 1);
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.items[0].targets, ["r1", "r2", "r3"]);
        assert_eq!(p.items[0].event, ReceiptEvent::Delivered);
        assert_eq!(p.items[1].param.as_deref(), Some("someone-else"));
        for bad in ["", "[]", "\"x\"", "{", "null"] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..1001).map(|i| format!("r{i}")).collect();
        let body = serde_json::json!({"t": {"param": format!("op1.20251201.{REF}"), "targets": many.join(",")}});
        let e = parse(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.field(), Some("t.targets"));
    }
}
