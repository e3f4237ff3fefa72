#!/usr/bin/env bash
# Every benchmark figure, in one run, into BENCHMARKS.md (nothing is asserted):
#   - tools/bench (release build), against a DynamoDB emulator started here
#     and the in-process vivo simulator: DynamoDB requests and request units
#     per push, fan-out with 20 ms of vivo latency beside a one-send-per-device
#     baseline, warm latency through the handlers and the native runner, the
#     cost model;
#   - scripts/bench-lambda.sh: the sam build artefacts beside a hello-world
#     (sizes, cold starts under the Lambda Runtime Interface Emulator, max RSS
#     after warm invocations, latency through sam local start-api);
#   - docs/benchmarks/release-profile.md, appended as it is: the release
#     profile and dependency choices, measured once per step by hand;
#   - docs/benchmarks/load.md, appended as it is: the last full load run
#     (LOAD_OUT=docs/benchmarks/load.md ./scripts/load.sh).
#
# Usage: ./scripts/bench.sh
# Env:   BENCH_SMOKE=1  every part at a tiny size, debug build, written to
#                       .local/bench/BENCHMARKS.smoke.md instead (CI runs it so
#                       the command keeps working; its figures mean nothing)
#        BENCH_OUT      where the report goes (default BENCHMARKS.md)
#        and scripts/bench-lambda.sh's (BUILD_DIR, COLD_STARTS, ...)
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
exec </dev/null
T_START="$(now_ms)"
WORK="$LOCAL/bench"
mkdir -p "$WORK"
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
  OUT_FILE="${BENCH_OUT:-$WORK/BENCHMARKS.smoke.md}"
  export COLD_STARTS="${COLD_STARTS:-2}" WARM_INVOCATIONS="${WARM_INVOCATIONS:-10}"
  export START_API_REQUESTS="${START_API_REQUESTS:-5}"
  PROFILE_ARGS=() BIN="$CARGO_TARGET_DIR/debug/bench"
else
  OUT_FILE="${BENCH_OUT:-$ROOT/BENCHMARKS.md}"
  PROFILE_ARGS=(--release) BIN="$CARGO_TARGET_DIR/release/bench"
fi
ensure_venv

log "tools/bench: building"
cargo build "${PROFILE_ARGS[@]}" --locked -p bench >&2
trap 'stop_pids trust moto "${MOTO_PID:-}"' EXIT
start_moto 127.0.0.1 "$(free_port 127.0.0.1)"
log "tools/bench: running (requests per push, fan-out, warm latency, cost)"
RUST_LOG=warn "$BIN" "$WORK/handlers.md" >"$WORK/handlers.stdout" 2>"$WORK/handlers.log"
stop_pids trust moto "$MOTO_PID"
MOTO_PID=""

log "scripts/bench-lambda.sh: running (artefacts, cold starts, RSS, start-api)"
"$ROOT/scripts/bench-lambda.sh" >"$WORK/lambda.md"

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty=""
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=" (with uncommitted changes)"
{
  echo "# offpush benchmarks"
  echo
  echo "Written by \`./scripts/bench.sh\`$([ "${BENCH_SMOKE:-0}" = 1 ] && echo ' with BENCH_SMOKE=1 (tiny sizes: the figures mean nothing)'). Figures, not assertions: this machine is"
  echo "noisy, and the emulator (moto) and the vivo simulator stand in for DynamoDB and vivo, so compare"
  echo "the rows of one run with each other (offpush against its baselines), not with AWS."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
  echo "| commit | \`$commit\`$dirty |"
  echo "| machine | $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, $(uname -sr) |"
  echo "| toolchain | $(rustc --version) |"
  echo "| command | \`./scripts/bench.sh\`$([ "${BENCH_SMOKE:-0}" = 1 ] && echo ' (BENCH_SMOKE=1)') |"
  echo "| run time | $(secs_since "$T_START") s |"
  echo
  cat "$WORK/lambda.md"
  echo
  cat "$WORK/handlers.md"
  echo
  # Measured once by hand (each row a commit or a profile): not re-run here.
  cat "$ROOT/docs/benchmarks/release-profile.md"
  # The last full load run (./scripts/load.sh, about 17 minutes here): not
  # re-run here either.
  if [ -f "$ROOT/docs/benchmarks/load.md" ]; then
    echo
    cat "$ROOT/docs/benchmarks/load.md"
  fi
} >"$OUT_FILE"
log "wrote $OUT_FILE ($(secs_since "$T_START") s)"
