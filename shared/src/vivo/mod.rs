//! vivo Push server API client (VIVO_API.md section 1): the auth sign, the
//! authToken call and cache, message bodies, and the result-code table.

pub mod client;
pub mod codes;
pub mod message;
pub mod sign;

pub use client::{VivoClient, VivoError};
