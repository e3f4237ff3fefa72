//! vivo-sim's integration tests, one test binary: one module per area, in
//! `tests/sim/`.

#[path = "sim/auth.rs"]
mod auth;
#[path = "sim/clock.rs"]
mod clock;
#[path = "sim/common/mod.rs"]
mod common;
#[path = "sim/control.rs"]
mod control;
#[path = "sim/list.rs"]
mod list;
#[path = "sim/quotas.rs"]
mod quotas;
#[path = "sim/receipts.rs"]
mod receipts;
#[path = "sim/rules.rs"]
mod rules;
#[path = "sim/scripting.rs"]
mod scripting;
#[path = "sim/send.rs"]
mod send;
