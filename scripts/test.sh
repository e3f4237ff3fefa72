#!/usr/bin/env bash
# Runs every check and test of the project on a fresh machine or a warm one:
#   formatting, clippy (-D warnings), then all unit, service and handler
#   tests against a real DynamoDB emulator (moto server, started here on
#   loopback and stopped on exit) and the project's vivo simulator; then the
#   SAM end to end run (scripts/sam-e2e.sh; SKIP_SAM_E2E=1 skips it).
# Installs what it needs itself (a project-local venv under .venv).
# Extra arguments go to `cargo test` (e.g. a test name filter).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

command -v cargo >/dev/null || { log "cargo is required"; exit 1; }
if ! command -v curl >/dev/null; then
  log "installing curl"
  (apt-get update -q && apt-get install -y -q curl) >&2
fi
ensure_venv

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

port="$(free_port)"
start_moto 127.0.0.1 "$port"
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT

log "cargo test"
# I/O-bound tests: more threads than cores keeps the emulator busy.
cargo test --workspace --locked -- --test-threads="${TEST_THREADS:-8}" "$@"
kill "$MOTO_PID" 2>/dev/null || true

# The SAM path: sam validate --lint, sam build, every event through
# `sam local invoke`, and the whole story through `sam local start-api`
# (Docker engine, base image and emulator set up by the script itself).
if [ "${SKIP_SAM_E2E:-0}" != 1 ]; then
  log "SAM end to end"
  "$ROOT/scripts/sam-e2e.sh"
fi
