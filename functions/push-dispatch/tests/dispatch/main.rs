//! Push dispatch's tests, one binary (one link) for the whole area: each
//! module was a test file of its own; `common` holds their helpers.

mod auth;
mod common;
mod deadline;
mod exactly_once;
mod faults;
mod iam;
mod outcomes;
mod pauses;
mod push;
mod request_count;
mod requests;
mod stack;
mod storms;
mod visibility;
mod xiaomi;
