//! Token reporting: the `/v1/push-token` and `/v1/users/{user_id}/…` routes
//! (API.md "Token reporting"). `handler` translates HTTP; `service` holds
//! the binding rules and their race-safety.

pub mod handler;
pub mod service;

pub use handler::handle;
