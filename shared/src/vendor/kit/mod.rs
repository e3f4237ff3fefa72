//! What every vendor adapter stands on.
//!
//! - [`account`]: a vendor account's token (real expiry, refreshed ahead by
//!   one instance at a time through a conditional write, the current token
//!   served meanwhile and whenever a refresh fails) and its pauses by scope.
//! - [`session`]: the push's call [`Budget`] (deadline + in-flight slots)
//!   and the retry session (attempts, backoff, one request id across
//!   attempts, re-auth once, no resend of a call that may have been written
//!   unless the vendor deduplicates).
//! - [`http`]: the vendor's HTTP client and the deadline-bounded call.
//! - [`rules`]: the neutral row of a vendor's code table.

pub mod account;
pub mod http;
pub mod rules;
pub mod session;

pub use account::{Accounts, Authenticator, Fresh, Paused, Token, TokenPolicy};
pub use http::{Answered, NoAnswer, VendorHttp};
pub use rules::{pause_secs, Rule, Scope, Until};
pub use session::{backoff_before, request_id, Budget, Failure, Refusal, Session, SessionAuth};
