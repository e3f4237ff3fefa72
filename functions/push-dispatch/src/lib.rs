//! push-dispatch function (in progress).

pub mod handler;

pub use handler::handle;
