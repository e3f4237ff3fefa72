//! Meizu's receipts (VENDORS_API.md 15.6): `cb`, a JSON object keyed
//! `"<msgId>-<type>"` whose values are `{"param", "type", "targets":
//! [pushIds]}`. 15.6 [CONFLICT]: posted as the form fields `cb=<json>` and
//! `access_token` (the 2023 doc) or as the raw JSON object (the 2017 doc):
//! both are taken. `access_token` is not checked: its content is
//! undocumented (16 guess 3), and the URL's secret authenticates Meizu.

use offpush::domain::receipt::MAX_RECEIPT_TARGETS;
use offpush::vendor::{ReceiptBatch, ReceiptEvent, ReceiptItem};
use offpush::ServiceError;
use serde_json::Value;

/// What a receipt type means (15.4, 15.6 [C]: 1 delivered, 2 clicked). A
/// click implies the notification was shown, so it counts as delivered.
/// Meizu has no failure or invalid-target receipts (15.6).
pub fn event(kind: i64) -> ReceiptEvent {
    match kind {
        1 | 2 => ReceiptEvent::Delivered,
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
    let trimmed = text.trim_start();
    let raw = if form || (!trimmed.starts_with('{') && trimmed.contains("cb=")) {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text)
            .map_err(|_| ServiceError::invalid_body("receipt body: not a form"))?;
        pairs
            .into_iter()
            .find(|(k, _)| k == "cb")
            .map(|(_, v)| v)
            .ok_or_else(|| ServiceError::invalid("cb", "is required"))?
    } else {
        text.to_string()
    };
    serde_json::from_str(&raw)
        .map_err(|_| ServiceError::invalid_body("receipt body: cb is not valid JSON"))
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The targets of an entry: a JSON array of pushIds (15.6 [C]) or, should
/// Meizu write one, a comma-joined string; at most
/// [`MAX_RECEIPT_TARGETS`] (more: 400 naming `<key>.targets`).
fn targets(key: &str, v: &Value) -> Result<Option<Vec<String>>, ServiceError> {
    let list: Vec<String> = match v {
        Value::Array(a) => {
            let Some(ids) = a
                .iter()
                .map(|i| i.as_str().map(str::trim).map(str::to_string))
                .collect::<Option<Vec<_>>>()
            else {
                return Ok(None);
            };
            ids.into_iter().filter(|t| !t.is_empty()).collect()
        }
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        _ => return Ok(None),
    };
    if list.len() > MAX_RECEIPT_TARGETS {
        return Err(ServiceError::invalid(
            format!("{key}.targets"),
            format!("at most {MAX_RECEIPT_TARGETS} targets per entry"),
        ));
    }
    Ok(Some(list))
}

pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<ReceiptBatch, ServiceError> {
    let Value::Object(map) = json_of(body, content_type)? else {
        return Err(ServiceError::invalid_body(
            "receipt body: a JSON object keyed by \"<msgId>-<type>\" is required",
        ));
    };
    let mut out = ReceiptBatch::default();
    for (key, v) in map {
        // The entry's own type, else the key's suffix.
        let kind = v.get("type").and_then(int).or_else(|| {
            key.rsplit_once('-')
                .and_then(|(_, t)| t.trim().parse().ok())
        });
        let listed = match v.get("targets") {
            Some(t) => targets(&key, t)?,
            None => None,
        };
        let (Some(kind), Some(targets)) = (kind, listed) else {
            out.unreadable += 1;
            continue;
        };
        out.items.push(ReceiptItem {
            param: v
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

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded;charset=UTF-8");

    fn cb() -> Value {
        serde_json::json!({
            "0123456789abcdef0123456789abcdef-1": {"param": "op2.20261207.x.y", "type": 1, "targets": ["p1", "p2"]},
            "0123456789abcdef0123456789abcdef-2": {"param": "op2.20261207.x.y", "type": 2, "targets": ["p1"]},
            "m3-7": {"param": "", "type": "7", "targets": ["p3"]},
            "m4-1": {"param": "p"},
            "m5-1": {"param": "p", "targets": "p5, p6"},
        })
    }

    #[test]
    fn both_encodings_of_the_conflict_are_taken() {
        let form =
            serde_urlencoded::to_string([("cb", cb().to_string()), ("access_token", "t".into())])
                .unwrap();
        let a = parse(form.as_bytes(), FORM).unwrap();
        let b = parse(cb().to_string().as_bytes(), Some("application/json")).unwrap();
        let c = parse(form.as_bytes(), None).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.unreadable, 1, "the entry without targets");
        assert_eq!(a.items.len(), 4);
        let delivered: Vec<&ReceiptItem> = a
            .items
            .iter()
            .filter(|i| i.event == ReceiptEvent::Delivered)
            .collect();
        assert_eq!(delivered.len(), 3);
        assert_eq!(delivered[0].targets, ["p1", "p2"]);
        assert_eq!(delivered[0].param.as_deref(), Some("op2.20261207.x.y"));
        // The key's type when the entry has none; a joined string read too.
        assert!(a
            .items
            .iter()
            .any(|i| i.targets == ["p5", "p6"] && i.event == ReceiptEvent::Delivered));
        let other = a.items.iter().find(|i| i.targets == ["p3"]).unwrap();
        assert_eq!(other.event, ReceiptEvent::Other("type_7".into()));
        assert_eq!(other.param, None, "an empty param is none");
    }

    #[test]
    fn types_mean_what_the_spec_says() {
        assert_eq!(event(1), ReceiptEvent::Delivered);
        assert_eq!(event(2), ReceiptEvent::Delivered);
        assert_eq!(event(3), ReceiptEvent::Other("type_3".into()));
        assert_eq!(
            event(16),
            ReceiptEvent::Other("type_16".into()),
            "no dead-token receipts"
        );
    }

    #[test]
    fn malformed_bodies_are_400() {
        for (body, ct) in [
            ("", None),
            ("[]", None),
            ("cb=%7Bnot", FORM),
            ("access_token=x", FORM),
            ("{", Some("application/json")),
            ("\"text\"", None),
        ] {
            let e = parse(body.as_bytes(), ct).unwrap_err();
            assert_eq!(e.status(), 400, "{body}");
        }
        assert_eq!(parse(b"\xff\xfe", None).unwrap_err().status(), 400);
        let many: Vec<String> = (0..1001).map(|i| format!("p{i}")).collect();
        let body = serde_json::json!({"m-1": {"param": "p", "type": 1, "targets": many}});
        assert_eq!(
            parse(body.to_string().as_bytes(), None)
                .unwrap_err()
                .field(),
            Some("m-1.targets")
        );
    }
}
