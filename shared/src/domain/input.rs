//! Reading a JSON request body field by field, so that every error names the
//! field at fault (`credentials.app_id: ...`) and unknown fields are refused.

use crate::error::ServiceError;
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

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
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Strict {
        path: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    let value = parsed.map_err(|e| match duplicate.take() {
        Some(refused) => refused,
        None => ServiceError::invalid_body(format!(
            "request body: not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        )),
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

/// A JSON value like `serde_json::Value`'s, except that an object naming a
/// key twice is refused: serde_json keeps the last one silently, so
/// `{"title": "a", "title": "b"}` would pass one of two intended values.
/// The refusal naming the repeated key lands in `duplicate`.
struct Strict<'a> {
    path: String,
    duplicate: &'a RefCell<Option<ServiceError>>,
}

impl Strict<'_> {
    fn child(&self, path: String) -> Self {
        Strict {
            path,
            duplicate: self.duplicate,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) =
            seq.next_element_seed(self.child(format!("{}[{}]", self.path, out.len())))?
        {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let name = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if out.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(if key.is_empty() {
                    nameless_field(&self.path)
                } else {
                    ServiceError::invalid(name, "given more than once")
                });
                return Err(A::Error::custom("duplicate key"));
            }
            let v = map.next_value_seed(self.child(name))?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// A nameless key has no field to name: the object holding it is at fault
/// (the body, at the top level), once or given twice.
fn nameless_field(holder: &str) -> ServiceError {
    if holder.is_empty() {
        ServiceError::invalid_body("request body: a field with an empty name")
    } else {
        ServiceError::invalid(holder, "a field with an empty name")
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
            Some(k) if k.is_empty() => Err(nameless_field(&self.path)),
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

    pub fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, ServiceError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(ServiceError::invalid(
                self.name(key),
                format!("must be a boolean, not {}", type_name(&other)),
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

    fn err(body: &str) -> ServiceError {
        parse_body(body.as_bytes()).err().expect("refused")
    }

    #[test]
    fn a_key_given_twice_is_refused_by_its_dotted_name() {
        let e = err(r#"{"title": "a", "desc": "d", "title": "b"}"#);
        assert_eq!(e.field(), Some("title"));
        assert_eq!(e.to_string(), "title: given more than once");
        let e = err(r#"{"credentials": {"app_id": "1", "app_id": "2"}}"#);
        assert_eq!(e.field(), Some("credentials.app_id"));
        let e = err(r#"{"to": [{"a": 1, "a": 2}]}"#);
        assert_eq!(e.field(), Some("to[0].a"));
        // The same key in two different objects is no repeat.
        assert!(parse_body(br#"{"a": {"x": 1}, "b": {"x": 1}}"#).is_ok());
    }

    #[test]
    fn values_read_as_serde_json_reads_them() {
        let body = br#"{"s": "x\u00e9", "i": -5, "u": 18446744073709551615, "f": 1.5, "b": true, "n": null, "a": [1, [2]], "o": {}}"#;
        let mut obj = parse_body(body).unwrap();
        let plain: Value = serde_json::from_slice(body).unwrap();
        for k in ["s", "i", "u", "f", "b", "a", "o"] {
            assert_eq!(obj.take(k).unwrap(), plain[k], "{k}");
        }
        assert!(obj.take("n").is_none());
    }

    #[test]
    fn malformed_bodies_name_no_field() {
        for body in [
            "{",
            r#"{"a": 1} x"#,
            "[1]",
            "\"text\"",
            "null",
            "",
            "  \n",
            "\u{feff}{}",
            r#"{"a": "\ud800"}"#,
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
        ] {
            let e = err(body);
            assert_eq!(e.status(), 400, "{body:?}");
            assert_eq!(e.field(), None, "{body:?}");
            assert!(e.to_string().starts_with("request body: "), "{e}");
        }
        let big = format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(err(&big).status(), 413);
    }

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

    #[test]
    fn a_nameless_field_given_twice_is_refused_like_one_given_once() {
        for body in [r#"{"": 1, "": 2}"#, r#"{"to": [], "": 1, "": 2}"#] {
            let e = err(body);
            assert_eq!((e.status(), e.field()), (400, None), "{body}");
            assert_eq!(e.to_string(), "request body: a field with an empty name");
        }
        let e = err(r#"{"credentials": {"": "x", "app_id": "1", "": "y"}}"#);
        assert_eq!(e.field(), Some("credentials"));
        assert_eq!(e.to_string(), "credentials: a field with an empty name");
        let e = err(r#"{"to": [{"": 1, "": 2}]}"#);
        assert_eq!(e.field(), Some("to[0]"));
    }
}
