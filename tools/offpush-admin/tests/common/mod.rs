//! The admin tool run as an operator runs it: a process against the
//! emulator's table.

#![allow(dead_code)]

use serde_json::Value;
use std::process::{Command, Output};

pub fn admin(table: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_offpush-admin"))
        .args(["--table", table, "--endpoint-url", &testkit::endpoint()])
        .args(args)
        .output()
        .expect("offpush-admin runs")
}

#[track_caller]
pub fn refused(table: &str, args: &[&str]) {
    let out = admin(table, args);
    assert!(!out.status.success(), "{args:?} must fail");
}

pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json on stdout")
}
