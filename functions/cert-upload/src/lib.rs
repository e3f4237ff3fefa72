//! Certificate upload: the `/v1/certificates` routes (API.md "Certificates").
//! `handler` translates HTTP; `service` is the use case.

pub mod handler;
pub mod service;

pub use handler::handle;
