//! The vendor's clock as a simulator sees it, and the machine's real clock.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// One day in ms.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// China Standard Time (UTC+8), the time zone of the Chinese vendors' days.
pub const UTC8_MS: i64 = 8 * 60 * 60 * 1000;

/// The vendor's clock: what a simulator calls "now" for the checks that
/// depend on the time (timestamps, the vendor's day for daily quotas, time
/// windows). Recorded request times use the real clock instead
/// ([`wall_clock_ms`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SimClock {
    /// The machine's clock.
    #[default]
    Real,
    /// The machine's clock plus this many ms (negative: behind).
    Offset(i64),
    /// Always this instant (ms since the Unix epoch); it does not advance.
    Fixed(i64),
}

impl SimClock {
    /// Now by this clock, ms since the Unix epoch.
    pub fn now_ms(self) -> i64 {
        match self {
            SimClock::Real => wall_clock_ms(),
            SimClock::Offset(offset) => wall_clock_ms().saturating_add(offset),
            SimClock::Fixed(now) => now,
        }
    }

    /// The wire form of `/_sim/clock`: `{"real":true}`, `{"offset_ms":N}` or
    /// `{"fixed_ms":N}`.
    pub fn to_json(self) -> Value {
        match self {
            SimClock::Real => json!({ "real": true }),
            SimClock::Offset(offset) => json!({ "offset_ms": offset }),
            SimClock::Fixed(now) => json!({ "fixed_ms": now }),
        }
    }

    /// Reads the wire form ([`SimClock::to_json`]): an object with exactly
    /// one of those fields.
    pub fn from_json(value: &Value) -> Option<SimClock> {
        let only = value
            .as_object()
            .filter(|fields| fields.len() == 1)
            .and_then(|fields| fields.iter().next());
        only.and_then(|(kind, value)| match (kind.as_str(), value) {
            ("real", Value::Bool(true)) => Some(SimClock::Real),
            ("offset_ms", ms) => ms.as_i64().map(SimClock::Offset),
            ("fixed_ms", ms) => ms.as_i64().map(SimClock::Fixed),
            _ => None,
        })
    }
}

/// The machine's real clock, ms since the Unix epoch.
pub fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The day of an instant in a time zone `utc_offset_ms` east of UTC: days
/// since the epoch, counted from that zone's midnight (vivo's and Xiaomi's
/// day: `day_of(now, UTC8_MS)`).
pub fn day_of(now_ms: i64, utc_offset_ms: i64) -> i64 {
    now_ms.saturating_add(utc_offset_ms).div_euclid(DAY_MS)
}

/// Ms since that zone's midnight.
pub fn time_of_day(now_ms: i64, utc_offset_ms: i64) -> i64 {
    now_ms.saturating_add(utc_offset_ms).rem_euclid(DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_start_at_the_zones_midnight() {
        // 2024-06-01 00:00 UTC+8 = 2024-05-31 16:00 UTC.
        let midnight = 1_717_171_200_000;
        assert_eq!(day_of(midnight, UTC8_MS), day_of(midnight - 1, UTC8_MS) + 1);
        assert_eq!(time_of_day(midnight + 5, UTC8_MS), 5);
        assert_eq!(day_of(-1, 0), -1);
    }

    #[test]
    fn the_wire_form_round_trips() {
        for clock in [SimClock::Real, SimClock::Offset(-5), SimClock::Fixed(7)] {
            assert_eq!(SimClock::from_json(&clock.to_json()), Some(clock));
        }
        for bad in [
            json!({}),
            json!({"real": false}),
            json!({"offset_ms": "1"}),
            json!({"fixed_ms": 1, "real": true}),
            json!([1]),
        ] {
            assert_eq!(SimClock::from_json(&bad), None, "{bad}");
        }
    }
}
