//! vivo Push server API client (VIVO_API.md section 1): the auth sign, the
//! authToken call and cache, and (see `client`) the send calls.

pub mod client;
pub mod sign;

pub use client::{VivoClient, VivoError};
