//! The neutral row of a vendor's code table: what an answer makes the
//! adapter do (the delivery status, retry, re-auth, a dead token, which
//! scope the vendor stops serving and until when). Each vendor's crate has
//! one table from its answers to these rows, a comment per row citing its
//! spec, tested row by row.

use crate::domain::DeliveryStatus;

/// What a vendor stops serving after an answer. Every scope is one vendor
/// account (see [`super::Accounts`]): vendors count quotas, rates and
/// tokens per their own app, never per offpush certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Nothing: the next call may go at once.
    None,
    /// Every send call of the account.
    App,
    /// Send calls of the message class of the refused call (a vendor's
    /// system or operational class, see [`super::Session::class`]).
    Class,
    /// The endpoint that answered: other endpoints still serve.
    Endpoint,
    /// The auth endpoint.
    Auth,
}

/// When a pause ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// This many seconds from now.
    Secs(u64),
    /// The vendor's next midnight, in its time zone (hours east of UTC),
    /// when its daily quotas reset.
    NextDay { utc_offset_h: i64 },
    /// The next time the vendor's clock (hours east of UTC) shows `hour`:00.
    DailyAt { utc_offset_h: i64, hour: i64 },
}

/// Seconds from `now` (epoch seconds) to when a pause ends.
pub fn pause_secs(until: Until, now: i64) -> u64 {
    match until {
        Until::Secs(s) => s,
        Until::NextDay { utc_offset_h } => {
            let local = (now + utc_offset_h * 3600).rem_euclid(86_400);
            (86_400 - local) as u64
        }
        Until::DailyAt { utc_offset_h, hour } => {
            let local = (now + utc_offset_h * 3600).rem_euclid(86_400);
            match (hour * 3600 - local).rem_euclid(86_400) {
                0 => 86_400,
                s => s as u64,
            }
        }
    }
}

/// One row of a vendor's code table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub status: DeliveryStatus,
    /// Try the same call again (same body and request id) with backoff,
    /// inside the deadline and the attempt limit.
    pub retry: bool,
    /// Drop the account's token, obtain a new one (once) and repeat the call.
    pub reauth: bool,
    /// The token is dead: its binding ends.
    pub token_dead: bool,
    pub pause: Scope,
    pub until: Option<Until>,
    /// The vendor refused the certificate's credentials (auth codes).
    pub credentials: bool,
    /// The certificate field an uploader must fix, when one is to blame.
    pub credential_field: Option<&'static str>,
    /// What the answer means, for the outcome's detail.
    pub meaning: &'static str,
}

/// A row with nothing but a status and a meaning.
pub const fn row(status: DeliveryStatus, meaning: &'static str) -> Rule {
    Rule {
        status,
        retry: false,
        reauth: false,
        token_dead: false,
        pause: Scope::None,
        until: None,
        credentials: false,
        credential_field: None,
        meaning,
    }
}

/// Throttled, and `scope` of the account paused until `until`.
pub const fn paused(scope: Scope, until: Until, meaning: &'static str) -> Rule {
    Rule {
        pause: scope,
        until: Some(until),
        ..row(DeliveryStatus::Throttled, meaning)
    }
}

/// The certificate's credentials were refused: failed, never a dead token.
pub const fn credentials(field: Option<&'static str>, meaning: &'static str) -> Rule {
    Rule {
        credentials: true,
        credential_field: field,
        ..row(DeliveryStatus::Failed, meaning)
    }
}

/// A passing fault: retried within bounds, failed after.
pub const fn retried(meaning: &'static str) -> Rule {
    Rule {
        retry: true,
        ..row(DeliveryStatus::Failed, meaning)
    }
}

/// The vendor's verdict that the token is dead.
pub const fn dead(meaning: &'static str) -> Rule {
    Rule {
        token_dead: true,
        ..row(DeliveryStatus::TokenInvalid, meaning)
    }
}

/// The token went stale: re-authenticate once and repeat the call.
pub const fn reauth(meaning: &'static str) -> Rule {
    Rule {
        reauth: true,
        ..row(DeliveryStatus::Failed, meaning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_end_at_the_vendors_day_boundaries() {
        const CN: i64 = 8;
        // 2026-11-26T15:59:59Z is 23:59:59 in UTC+8.
        let t = time::macros::datetime!(2026-11-26 15:59:59 UTC).unix_timestamp();
        assert_eq!(pause_secs(Until::NextDay { utc_offset_h: CN }, t), 1);
        assert_eq!(
            pause_secs(Until::NextDay { utc_offset_h: 0 }, t),
            8 * 3600 + 1
        );
        // 23:00Z is 07:00 UTC+8: the window just opened, so a refusal now
        // means the next opening, in 24 h.
        let seven = time::macros::datetime!(2026-11-26 23:00:00 UTC).unix_timestamp();
        let at_seven = Until::DailyAt {
            utc_offset_h: CN,
            hour: 7,
        };
        assert_eq!(pause_secs(at_seven, seven - 60), 60);
        assert_eq!(pause_secs(at_seven, seven), 86_400);
        assert_eq!(pause_secs(Until::Secs(5), seven), 5);
    }

    #[test]
    fn constructors_set_what_they_name() {
        assert!(retried("x").retry && retried("x").status == DeliveryStatus::Failed);
        assert!(dead("x").token_dead && dead("x").status == DeliveryStatus::TokenInvalid);
        assert!(reauth("x").reauth && !reauth("x").token_dead);
        let c = credentials(Some("credentials.app_secret"), "x");
        assert!(c.credentials && !c.token_dead && c.status == DeliveryStatus::Failed);
        let p = paused(Scope::Auth, Until::Secs(1), "x");
        assert_eq!(
            (p.status, p.pause, p.until),
            (DeliveryStatus::Throttled, Scope::Auth, Some(Until::Secs(1)))
        );
    }
}
