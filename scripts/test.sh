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

# Two emulators: the plain one (AWS_ENDPOINT_URL_DYNAMODB, every test) and
# one with its test front (AWS_ENDPOINT_URL_DYNAMODB_FRONT: DynamoDB's
# conflicts, throttling, lost responses and idempotency; tools/testkit/
# tests/dynamo_front.rs), started side by side.
trap 'stop_pids trust moto "${MOTO_PID:-}" moto-front "${MOTO_FRONT_PID:-}"' EXIT
front_port="$(free_port 127.0.0.1)"
plain_port="$(free_port 127.0.0.1)"
while [ "$plain_port" = "$front_port" ]; do plain_port="$(free_port 127.0.0.1)"; done
t0="$(now_ms)"
spawn_moto_front 127.0.0.1 "$front_port"
start_moto 127.0.0.1 "$plain_port"
wait_moto_front
log "emulators up in $(secs_since "$t0") s"

log "cargo test"
# I/O-bound tests: more threads than cores keeps the emulator busy.
cargo test --workspace --locked --no-fail-fast -- --test-threads="${TEST_THREADS:-8}" "$@"
stop_pids trust moto "$MOTO_PID" moto-front "$MOTO_FRONT_PID"

# A smoke-size load run (scripts/load.sh): concurrent pushes, token reports
# and receipts through the HTTP API on the emulator's front (conflicts, lost
# answers), then its invariants: every push answered 200 has its record,
# statistics equal the answers, receipts count once, no binding lost.
log "load run (smoke size)"
mkdir -p "$LOCAL/load"
LOAD_SMOKE=1 LOAD_OUT="$LOCAL/load/LOAD.smoke.md" "$ROOT/scripts/load.sh" >"$LOCAL/load/smoke.out" || {
  cat "$LOCAL/load/smoke.out"
  log "FAIL: the smoke-size load run (report above)"
  exit 1
}
grep -E '^\| (PASS|FAIL) ' "$LOCAL/load/LOAD.smoke.md" | sed 's/^/[test.sh] load: /' >&2 || true

# The SAM path: sam validate --lint, sam build, every event through
# `sam local invoke`, and the whole story through `sam local start-api`
# (Docker engine, base image, emulator and simulator set up through
# run-local.sh --sam --no-wait).
if [ "${SKIP_SAM_E2E:-0}" != 1 ]; then
  log "SAM end to end"
  "$ROOT/scripts/sam-e2e.sh"
fi
