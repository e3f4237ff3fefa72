//! The vendor port ([`port`]: what every push service's adapter does for
//! the product) and the vendor kit ([`kit`]: what adapters stand on:
//! account state with shared tokens and pauses, the call budget, the retry
//! session, the deadline-bounded HTTP call, the neutral code-table row).
//! No vendor is named here: each lives in its crate under `vendors/`, and
//! `vendors/registry` is the one place naming them all.

pub mod kit;
pub mod port;

pub use port::*;
