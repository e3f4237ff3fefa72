//! Push dispatch: `POST /v1/push` (API.md "Push dispatch"). `handler`
//! translates HTTP; `service` claims the request id and reports; `fanout`
//! plans the recipients and hands each certificate's share to its channel.

pub mod fanout;
pub mod handler;
pub mod record;
pub mod service;
pub mod visibility;

pub use handler::handle;
