#!/usr/bin/env bash
# Runs every check and test of the project on a fresh machine or a warm one:
#   formatting, clippy (-D warnings), then all unit, service and handler
#   tests against a real DynamoDB emulator (moto server, started here on
#   loopback and stopped on exit) and the project's vivo simulator; then the
#   SAM end to end run (scripts/sam-e2e.sh; SKIP_SAM_E2E=1 skips it).
# Installs what it needs itself (a project-local venv under .venv).
# Extra arguments go to `cargo test` (e.g. a test name filter).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

command -v cargo >/dev/null || { log "cargo is required"; exit 1; }
need curl curl
ensure_venv

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

trap 'stop_pids trust moto "${MOTO_PID:-}"' EXIT
start_moto 127.0.0.1 "$(free_port 127.0.0.1)"

log "cargo test"
# I/O-bound tests: more threads than cores keeps the emulator busy.
cargo test --workspace --locked --no-fail-fast -- --test-threads="${TEST_THREADS:-8}" "$@"
stop_pids trust moto "$MOTO_PID"

# The SAM path: sam validate --lint, sam build, every event through
# `sam local invoke`, and the whole story through `sam local start-api`
# (Docker engine, base image, emulator and simulator set up through
# run-local.sh --sam --no-wait).
if [ "${SKIP_SAM_E2E:-0}" != 1 ]; then
  log "SAM end to end"
  "$ROOT/scripts/sam-e2e.sh"
fi
