//! Reading a JSON request body field by field, so that every error names the
//! field at fault (`credentials.app_id: ...`) and unknown fields are refused.

use crate::error::ServiceError;
use serde_json::{Map, Value};

/// Largest request body any route accepts (API Gateway's own cap is 10 MB;
/// the largest legitimate body, a 1000-recipient push, is far below this).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON object being taken apart; `path` is the dotted prefix for names.
pub struct Obj {
    path: String,
    map: Map<String, Value>,
}

pub fn parse_body(body: &[u8]) -> Result<Obj, ServiceError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ServiceError::PayloadTooLarge(format!(
            "request body is over {MAX_BODY_BYTES} bytes"
        )));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ServiceError::invalid_body(
            "request body: a JSON object is required",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ServiceError::invalid_body(format!(
            "request body: not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    match value {
        Value::Object(map) => Ok(Obj {
            path: String::new(),
            map,
        }),
        _ => Err(ServiceError::invalid_body(
            "request body: a JSON object is required",
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Obj {
    pub fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Refuses any key not in `allowed` (API.md: typos never pass silently).
    pub fn deny_unknown(&self, allowed: &[&str]) -> Result<(), ServiceError> {
        let mut unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        unknown.sort();
        match unknown.first() {
            // A nameless key has no field to name: the object holding it
            // is at fault (the body, at the top level).
            Some(k) if k.is_empty() => Err(if self.path.is_empty() {
                ServiceError::invalid_body("request body: a field with an empty name")
            } else {
                ServiceError::invalid(&self.path, "a field with an empty name")
            }),
            Some(k) => Err(ServiceError::invalid(
                self.name(k),
                format!("unknown field (allowed: {})", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The raw value; JSON `null` counts as absent.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        match self.map.remove(key) {
            Some(Value::Null) | None => None,
            Some(v) => Some(v),
        }
    }

    pub fn opt_str(&mut self, key: &str) -> Result<Option<String>, ServiceError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ServiceError::invalid(
                self.name(key),
                format!("must be a string, not {}", type_name(&other)),
            )),
        }
    }

    pub fn req_str(&mut self, key: &str) -> Result<String, ServiceError> {
        self.opt_str(key)?
            .ok_or_else(|| ServiceError::invalid(self.name(key), "is required"))
    }

    /// An integer within `min..=max`.
    pub fn opt_int(&mut self, key: &str, min: i64, max: i64) -> Result<Option<i64>, ServiceError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => Ok(Some(i)),
                _ => Err(ServiceError::invalid(
                    self.name(key),
                    format!("must be an integer from {min} to {max}"),
                )),
            },
            Some(other) => Err(ServiceError::invalid(
                self.name(key),
                format!("must be an integer, not {}", type_name(&other)),
            )),
        }
    }

    pub fn opt_obj(&mut self, key: &str) -> Result<Option<Obj>, ServiceError> {
        let name = self.name(key);
        match self.take(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj { path: name, map })),
            Some(other) => Err(ServiceError::invalid(
                name,
                format!("must be an object, not {}", type_name(&other)),
            )),
        }
    }

    pub fn req_obj(&mut self, key: &str) -> Result<Obj, ServiceError> {
        self.opt_obj(key)?
            .ok_or_else(|| ServiceError::invalid(self.name(key), "is required"))
    }

    pub fn opt_array(&mut self, key: &str) -> Result<Option<Vec<Value>>, ServiceError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(ServiceError::invalid(
                self.name(key),
                format!("must be an array, not {}", type_name(&other)),
            )),
        }
    }
}

/// Text meant for people: no control characters.
pub fn check_printable(field: &str, s: &str) -> Result<(), ServiceError> {
    if s.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Length in Unicode scalar values, as vivo counts title and content.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_is_named() {
        let e = parse_body(br#"{"to": [], "colour": 1}"#)
            .unwrap()
            .deny_unknown(&["to"])
            .unwrap_err();
        assert_eq!(e.field(), Some("colour"));
        assert!(e.to_string().starts_with("colour: unknown field"));
    }

    #[test]
    fn a_nameless_field_is_refused_by_the_object_that_holds_it() {
        // At the top level no field is at fault: the body as a whole is.
        let e = parse_body(br#"{"": 1, "to": []}"#)
            .unwrap()
            .deny_unknown(&["to"])
            .unwrap_err();
        assert_eq!((e.status(), e.field()), (400, None));
        assert!(e.to_string().contains("empty name"), "{e}");
        // Within an object, that object is.
        let mut body = parse_body(br#"{"credentials": {"": "x", "app_id": "1"}}"#).unwrap();
        let creds = body.req_obj("credentials").unwrap();
        let e = creds.deny_unknown(&["app_id"]).unwrap_err();
        assert_eq!(e.field(), Some("credentials"));
        assert!(e.to_string().starts_with("credentials: "), "{e}");
    }
}
