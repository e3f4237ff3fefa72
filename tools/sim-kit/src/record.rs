//! Recorded requests.

use std::collections::BTreeMap;

use serde_json::Value;

/// One request received on a vendor path (control calls are not recorded),
/// with its arrival and answer times.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Every header, by lower-case name; a repeated header's values joined
    /// by `", "`; values that are not UTF-8 read lossily.
    pub headers: BTreeMap<String, String>,
    /// The body as the vendor reads it ([`crate::Vendor::record_body`]; by
    /// default parsed JSON, or `Value::String(raw)` if it is not JSON).
    pub body: Value,
    /// The HTTP status answered; 0 when the client went away before the
    /// answer (an abandoned call).
    pub status: u16,
    /// Parsed JSON, or `Value::String(raw)` if the answer is not JSON;
    /// null for an abandoned call.
    pub response: Value,
    /// When the request arrived (before its body was read), in ms since the
    /// Unix epoch by the machine's real clock (never the settable simulator
    /// clock).
    pub received_ms: i64,
    /// When its answer was ready (after any scripted delay), or when the
    /// client abandoned it; same clock.
    pub answered_ms: i64,
}

impl RecordedRequest {
    /// A header's value, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// The requests of a simulator, in arrival order.
#[derive(Default)]
pub(crate) struct Recorder {
    /// Slots reserved at arrival (so the order is arrival order even when a
    /// delayed call finishes last); `None` while the call is in flight.
    slots: BTreeMap<u64, Option<RecordedRequest>>,
    next_seq: u64,
}

impl Recorder {
    pub(crate) fn reserve(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.slots.insert(seq, None);
        seq
    }

    /// Fills a reserved slot; a slot cleared by `clear` meanwhile stays gone.
    pub(crate) fn complete(&mut self, seq: u64, request: RecordedRequest) {
        if let Some(slot) = self.slots.get_mut(&seq) {
            *slot = Some(request);
        }
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.slots.values().flatten().cloned().collect()
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
    }
}

/// A JSON body parsed, or its text (read lossily) as a JSON string.
pub fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}
