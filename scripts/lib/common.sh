# shellcheck shell=bash
# Shared shell helpers for the project's scripts (sourced, not run).
# ROOT: the repository root; LOCAL: scratch space for logs and pids.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
mkdir -p "$LOCAL"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# need COMMAND PACKAGE: installs Debian's PACKAGE when COMMAND is missing.
need() {
  command -v "$1" >/dev/null && return 0
  log "installing $2"
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" </dev/null) >&2
}

# now_ms: the clock in milliseconds; secs_since MS: seconds since then.
now_ms() { date +%s%3N; }
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# free_port [HOST]: a free TCP port on HOST (default 127.0.0.1).
# shellcheck disable=SC2120
free_port() {
  python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1]); s.close()' "${1:-127.0.0.1}"
}

# ---- processes -----------------------------------------------------------------
# alive PID: the process exists and is not a zombie.
alive() {
  local st
  case "$1" in '' | *[!0-9]*) return 1 ;; esac
  st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  st="${st##*) }"
  case "${st%% *}" in Z | X | '') return 1 ;; esac
}

# cmdline PID: the process's command line, arguments separated by spaces.
cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }

# is_ours PID: a live process this checkout's tooling started (its command
# line names a path under the repository or the cargo target dir), not a
# recycled pid.
is_ours() {
  alive "$1" || return 1
  case "$(cmdline "$1")" in *"$ROOT/"* | *"$CARGO_TARGET_DIR/"*) return 0 ;; esac
  return 1
}

# stop_pids trust|verify NAME PID [NAME PID ...]: SIGTERM, up to STOP_TIMEOUT
# seconds (default 10), then SIGKILL. `trust` is for this shell's own children
# (an unreaped child's pid cannot be reused) and pids checked otherwise;
# `verify` checks is_ours first (pids from a pid file).
stop_pids() {
  local how="$1" pid left
  local -a pids=()
  shift
  while [ $# -ge 2 ]; do
    if { [ "$how" = trust ] && alive "$2"; } || { [ "$how" = verify ] && is_ours "$2"; }; then
      log "stopping $1 (pid $2)"
      kill -TERM "$2" 2>/dev/null || true
      pids+=("$2")
    fi
    shift 2
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  for _ in $(seq 1 $((${STOP_TIMEOUT:-10} * 10))); do
    left=0
    for pid in "${pids[@]}"; do alive "$pid" && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if alive "$pid"; then
      log "pid $pid ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  # Reap this shell's children; others' (a --no-wait run's) are reaped by
  # init: give it a moment so that pgrep no longer lists them as <defunct>.
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    left=0
    for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
}

# wait_up NAME PID URL SECONDS LOG [STATUS]: until URL answers (with HTTP
# STATUS if given), failing fast if PID dies.
wait_up() {
  local name="$1" pid="$2" url="$3" limit="$4" logf="$5" want="${6:-}" i=0 code
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url" || true)"
    if [ -n "$want" ]; then [ "$code" = "$want" ] && break; else [ "$code" != 000 ] && break; fi
    if ! alive "$pid"; then
      log "$name exited while starting; last lines of $logf:"
      tail -n 20 "$logf" >&2 || true
      return 1
    fi
    i=$((i + 1))
    if [ "$i" -gt $((limit * 10)) ]; then
      log "timed out waiting for $name at $url${want:+ to answer $want (last: $code)} (log: $logf)"
      return 1
    fi
    sleep 0.1
  done
}

# ---- DynamoDB emulator ---------------------------------------------------------
# use_emulator URL: exports the AWS_* variables that point the SDK (and sam
# local) at the DynamoDB emulator at URL, with dummy credentials.
use_emulator() {
  export AWS_ENDPOINT_URL_DYNAMODB="$1"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_DEFAULT_REGION="$AWS_REGION"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
}

# start_moto HOST PORT [LOG]: the DynamoDB emulator (moto, requests serialised:
# see scripts/lib/dynamodb_emulator.py) in the background, logging to LOG
# (default .local/moto-PORT.log). Sets MOTO_PID; calls use_emulator.
start_moto() {
  local host="$1" port="$2" logf="${3:-$LOCAL/moto-$2.log}"
  "$ROOT/.venv/bin/python" "$ROOT/scripts/lib/dynamodb_emulator.py" "$host" "$port" >"$logf" 2>&1 &
  MOTO_PID=$!
  wait_up moto "$MOTO_PID" "http://$host:$port/moto-api/" 60 "$logf"
  use_emulator "http://$host:$port"
  log "DynamoDB emulator on $AWS_ENDPOINT_URL_DYNAMODB (pid $MOTO_PID)"
}

# start_moto_front HOST PORT [LOG]: a second DynamoDB emulator, with its test
# front on (dynamodb_emulator.py --front: transaction conflicts, per-item
# throttling, lost responses, ClientRequestToken idempotency, latency; each
# off until a test turns it on for its table at /_front/config), logging to
# LOG (default .local/moto-front-PORT.log). Sets MOTO_FRONT_PID; exports
# AWS_ENDPOINT_URL_DYNAMODB_FRONT. AWS_ENDPOINT_URL_DYNAMODB stays as it is.
# Its two halves, spawn_moto_front then wait_moto_front, let a caller start
# the plain emulator meanwhile (both start in about 0.4 s).
start_moto_front() {
  spawn_moto_front "$@"
  wait_moto_front
}

spawn_moto_front() {
  local host="$1" port="$2" logf="${3:-$LOCAL/moto-front-$2.log}"
  "$ROOT/.venv/bin/python" "$ROOT/scripts/lib/dynamodb_emulator.py" "$host" "$port" --front >"$logf" 2>&1 &
  MOTO_FRONT_PID=$!
  MOTO_FRONT_URL="http://$host:$port"
  MOTO_FRONT_LOG="$logf"
}

wait_moto_front() {
  wait_up moto-front "$MOTO_FRONT_PID" "$MOTO_FRONT_URL/_front/stats" 60 "$MOTO_FRONT_LOG" 200
  export AWS_ENDPOINT_URL_DYNAMODB_FRONT="$MOTO_FRONT_URL"
  log "DynamoDB emulator with its test front on $AWS_ENDPOINT_URL_DYNAMODB_FRONT (pid $MOTO_FRONT_PID)"
}

# The project venv (moto, aws-sam-cli, cargo-lambda, ziglang), quietly.
ensure_venv() {
  # shellcheck source=scripts/sam/venv.sh
  VENV_QUIET=1 source "$ROOT/scripts/sam/venv.sh"
}
