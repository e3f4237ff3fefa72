//! offpush shared library: the nouns and adapters the three functions
//! (certificate upload, token reporting, push dispatch) stand on.
//!
//! # Layout
//!
//! - [`domain`]: newtypes parsed at the edge (ids, certificates, apps, push
//!   requests); no I/O.
//! - [`store`]: DynamoDB: every key and attribute name ([`store::keys`]), the
//!   table shape ([`store::schema`]) and the one adapter ([`store::Store`]).
//! - [`vendor`]: the vendor port (what every push service's adapter does
//!   for the product) and the vendor kit adapters stand on; the adapters
//!   themselves are crates under `vendors/`.
//! - [`auth`]: JWT HS256 verify/mint; [`access`]: a request's caller.
//! - [`http`]: lambda_http glue and the error-to-response mapping.
//! - [`visibility`]: the delivery visibility answers (push records,
//!   statistics, push log, receipts kept raw), for the API and the operator.
//! - [`config`]: environment read once per cold start; [`error`]: the
//!   service error; [`logs`]: the log filter, with noisy dependencies pinned.

pub mod access;
pub mod auth;
pub mod bindings;
pub mod clock;
pub mod config;
pub mod context;
pub mod domain;
pub mod error;
pub mod http;
pub mod logs;
pub mod ratelimit;
pub mod store;
pub mod tls;
pub mod vendor;
pub mod visibility;

pub use context::Context;
pub use error::ServiceError;
