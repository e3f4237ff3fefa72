//! Token reporting's tests, one binary for the whole area.

mod bindings;
mod iam;
mod lifecycle;
mod routes;
mod storms;
