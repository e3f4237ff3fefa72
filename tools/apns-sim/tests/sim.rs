//! apns-sim's integration tests, one test binary: one module per area, in
//! `tests/sim/`.

#[path = "sim/auth.rs"]
mod auth;
#[path = "sim/binary.rs"]
mod binary;
#[path = "sim/common.rs"]
mod common;
#[path = "sim/control.rs"]
mod control;
#[path = "sim/devices.rs"]
mod devices;
#[path = "sim/headers.rs"]
mod headers;
#[path = "sim/payload.rs"]
mod payload;
#[path = "sim/scripting.rs"]
mod scripting;
#[path = "sim/transport.rs"]
mod transport;
