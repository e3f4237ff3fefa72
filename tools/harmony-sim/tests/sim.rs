//! harmony-sim's integration tests, one test binary: one module per area, in
//! `tests/sim/`.

#[path = "sim/auth.rs"]
mod auth;
#[path = "sim/binary.rs"]
mod binary;
#[path = "sim/category.rs"]
mod category;
#[path = "sim/common.rs"]
mod common;
#[path = "sim/control.rs"]
mod control;
#[path = "sim/fields.rs"]
mod fields;
#[path = "sim/receipts.rs"]
mod receipts;
#[path = "sim/scripting.rs"]
mod scripting;
#[path = "sim/targets.rs"]
mod targets;
