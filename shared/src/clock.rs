//! Wall-clock time, in the units the table and vivo use.

/// Milliseconds since the epoch (UTC).
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Seconds since the epoch (UTC).
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
