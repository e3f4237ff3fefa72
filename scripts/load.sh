#!/usr/bin/env bash
# offpush under concurrent load on the local stack, its invariants checked
# afterwards (tools/bench's `load` binary, src/load.rs): starts the DynamoDB
# emulator with its front on a free port, builds and runs the load tool
# (which serves the real HTTP API in-process, with the vivo and Xiaomi
# simulators), prints the Markdown report and stops what it started.
# Exits with the tool's status: 1 when an invariant failed.
#
# Usage: ./scripts/load.sh [LOAD ARGUMENTS]   (e.g. --scenario b --pushes 500)
# Env:   LOAD_SMOKE=1  tiny sizes, debug build (the figures mean nothing)
#        LOAD_OUT      where the report goes (default .local/load/LOAD.md;
#                      it is printed as well)
#        LOAD_*        the tool's settings (LOAD_USERS, LOAD_PUSHES,
#                      LOAD_CONCURRENCY, LOAD_APPS, LOAD_WRITE_RATE, ...;
#                      see tools/bench/src/load.rs)
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
exec </dev/null
T_START="$(now_ms)"
WORK="$LOCAL/load"
mkdir -p "$WORK"
OUT_FILE="${LOAD_OUT:-$WORK/LOAD.md}"
if [ "${LOAD_SMOKE:-0}" = 1 ]; then
  PROFILE_ARGS=() BIN="$CARGO_TARGET_DIR/debug/load"
else
  PROFILE_ARGS=(--release) BIN="$CARGO_TARGET_DIR/release/load"
fi
ensure_venv

log "tools/bench (load): building"
cargo build "${PROFILE_ARGS[@]}" --locked -p bench --bin load >&2
trap 'stop_pids trust moto-front "${MOTO_FRONT_PID:-}"' EXIT
start_moto_front 127.0.0.1 "$(free_port 127.0.0.1)" "$WORK/moto-front.log"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
log "load: running (progress below; the functions' stdout goes to $WORK/load.stdout)"
status=0
"$BIN" --out "$OUT_FILE" "$@" >"$WORK/load.stdout" || status=$?
stop_pids trust moto-front "$MOTO_FRONT_PID"
MOTO_FRONT_PID=""
if [ -s "$OUT_FILE" ]; then
  cat "$OUT_FILE"
  log "wrote $OUT_FILE"
fi
log "done in $(secs_since "$T_START") s (exit status $status)"
exit "$status"
