//! fcm-sim's integration tests, one test binary: one module per area, in
//! `tests/sim/`.

#[path = "sim/auth.rs"]
mod auth;
#[path = "sim/binary.rs"]
mod binary;
#[path = "sim/common.rs"]
mod common;
#[path = "sim/control.rs"]
mod control;
#[path = "sim/fields.rs"]
mod fields;
#[path = "sim/limits.rs"]
mod limits;
#[path = "sim/scripting.rs"]
mod scripting;
#[path = "sim/targets.rs"]
mod targets;
