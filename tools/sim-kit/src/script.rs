//! Scripted answers per path: a queue of "next" actions and a sticky
//! "always" action.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde_json::Value;

/// A scripted answer for one call (or every call) to a path.
///
/// `B` is the vendor's scripted body (rendered by
/// [`crate::Vendor::body_reply`]; usually a JSON value answered with HTTP
/// 200), `X` the vendor's own actions ([`NoAction`] when it has none).
#[derive(Clone, Debug, PartialEq)]
pub enum CallAction<B = Value, X = NoAction> {
    /// The vendor's body, as the vendor renders it. No side effects.
    Body(B),
    /// That HTTP status with a plain-text body (the vendor may choose the
    /// text, [`crate::Vendor::status_reply`]). No side effects.
    HttpStatus(u16),
    /// Sleep (holding no lock), then answer normally: every check and side
    /// effect of the vendor's normal behaviour.
    Delay(Duration),
    /// HTTP 200 with a body that is not JSON (an HTML error page). No side
    /// effects.
    Garbage,
    /// A vendor-specific action ([`crate::Vendor::action_reply`]).
    Vendor(X),
}

/// The vendor-specific action of a vendor that has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoAction {}

/// Reads the kit's own action kinds from a `/_sim/script` action object's
/// one field: `{"http_status":N}` (100..=999), `{"delay_ms":N}`,
/// `{"garbage":true}`. `None` when `kind` is none of them (a vendor kind, or
/// unknown).
pub fn common_action<B, X>(kind: &str, value: &Value) -> Option<Result<CallAction<B, X>, String>> {
    let action = match kind {
        "http_status" => value
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..=999).contains(s))
            .map(CallAction::HttpStatus)
            .ok_or_else(|| "http_status must be an HTTP status code".to_owned()),
        "delay_ms" => value
            .as_u64()
            .map(|ms| CallAction::Delay(Duration::from_millis(ms)))
            .ok_or_else(|| "delay_ms must be a non-negative integer".to_owned()),
        "garbage" => match value {
            Value::Bool(true) => Ok(CallAction::Garbage),
            _ => Err("garbage must be true".to_owned()),
        },
        _ => return None,
    };
    Some(action)
}

/// The scripts of a simulator.
pub(crate) struct Scripts<A> {
    next: HashMap<String, VecDeque<A>>,
    always: HashMap<String, A>,
}

impl<A> Default for Scripts<A> {
    fn default() -> Self {
        Scripts {
            next: HashMap::new(),
            always: HashMap::new(),
        }
    }
}

impl<A: Clone> Scripts<A> {
    /// `next`: queue `action` (a `None` is ignored); else set (or with
    /// `None` clear) the sticky action.
    pub(crate) fn set(&mut self, path: &str, next: bool, action: Option<A>) {
        match (next, action) {
            (true, Some(action)) => self
                .next
                .entry(path.to_owned())
                .or_default()
                .push_back(action),
            (true, None) => {}
            (false, Some(action)) => {
                self.always.insert(path.to_owned(), action);
            }
            (false, None) => {
                self.always.remove(path);
            }
        }
    }

    /// The scripted action for this call, if any (queue first, then sticky).
    pub(crate) fn take(&mut self, path: &str) -> Option<A> {
        if let Some(queue) = self.next.get_mut(path) {
            if let Some(action) = queue.pop_front() {
                if queue.is_empty() {
                    self.next.remove(path);
                }
                return Some(action);
            }
        }
        self.always.get(path).cloned()
    }

    pub(crate) fn clear(&mut self) {
        self.next.clear();
        self.always.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type Action = CallAction<Value, NoAction>;

    #[test]
    fn the_queue_goes_first_then_the_sticky_action() {
        let mut scripts = Scripts::<u8>::default();
        scripts.set("/p", false, Some(9));
        scripts.set("/p", true, Some(1));
        scripts.set("/p", true, None);
        scripts.set("/p", true, Some(2));
        let taken: Vec<_> = (0..4).map(|_| scripts.take("/p")).collect();
        assert_eq!(taken, [Some(1), Some(2), Some(9), Some(9)]);
        assert_eq!(scripts.take("/q"), None);
        scripts.set("/p", false, None);
        assert_eq!(scripts.take("/p"), None);
    }

    #[test]
    fn common_kinds_are_read_and_others_left_to_the_vendor() {
        let read = |kind: &str, value: Value| common_action::<Value, NoAction>(kind, &value);
        assert_eq!(
            read("http_status", json!(503)),
            Some(Ok::<Action, String>(CallAction::HttpStatus(503)))
        );
        assert_eq!(
            read("delay_ms", json!(5)),
            Some(Ok(CallAction::Delay(Duration::from_millis(5))))
        );
        assert_eq!(read("garbage", json!(true)), Some(Ok(CallAction::Garbage)));
        for (kind, value) in [
            ("http_status", json!(99)),
            ("http_status", json!(1000)),
            ("http_status", json!("500")),
            ("delay_ms", json!(-1)),
            ("garbage", json!(false)),
        ] {
            assert!(matches!(read(kind, value), Some(Err(_))), "{kind}");
        }
        assert_eq!(read("result", json!(1)), None);
    }
}
