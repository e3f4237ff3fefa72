//! Push dispatch's tests, one binary (one link) for the whole area:
//! `conformance` runs the port-conformance suite against every channel,
//! `vivo`, `xiaomi`, `oppo`, `honor`, `huawei` and `meizu` are each vendor's fault matrix, the
//! rest the push's own behaviour; `common` holds their helpers.

mod auth;
mod common;
mod completion;
mod conformance;
mod deadline;
mod exactly_once;
mod honor;
mod huawei;
mod iam;
mod limits;
mod meizu;
mod oppo;
mod outcomes;
mod pauses;
mod push;
mod request_count;
mod requests;
mod stack;
mod storms;
mod visibility;
mod vivo;
mod xiaomi;
