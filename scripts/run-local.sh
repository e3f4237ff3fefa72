#!/usr/bin/env bash
# Runs the whole offpush service on this machine, with no AWS account and no
# Docker: a DynamoDB emulator (moto server), the vivo simulator, and local-api
# (the three Lambda functions' own handlers behind one HTTP server). Creates
# the table and a demo app, mints an admin and a user token, and prints them
# with curl lines to paste. Ctrl-C stops everything it started.
#
# Usage: scripts/run-local.sh [--port N] [--no-wait]
#        scripts/run-local.sh stop
#        scripts/run-local.sh --help
# (full help: --help)
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/run-local.sh [--port N] [--no-wait]
       scripts/run-local.sh stop

Runs offpush locally in the foreground (no AWS account, no Docker):
  - a DynamoDB emulator (moto server, in memory),
  - the vivo simulator with one demo vivo app (unless VIVO_API_BASE_URL is set),
  - local-api: the three Lambda functions' handlers behind one HTTP server,
then creates the table and the app "demo", mints an admin token and a user
token (alice), and prints them with curl lines to paste. Ctrl-C stops
everything it started.

Options:
  --port N     API port (default: $API_PORT, else 3000, else a free port)
  --no-wait    start everything, print the block, write the PIDs to
               .local/run-local.pids and exit, leaving the services running
               (also: RUN_LOCAL_DETACH=1). The printed exports are also in
               .local/run-local.env (source it).
  stop         stop the services a --no-wait run left running
  -h, --help   this help

Environment:
  API_PORT           API port (as --port)
  DYNAMODB_PORT      emulator port (default: a free one). If a moto server
                     already answers there, it is used (and left running).
  VIVO_API_BASE_URL  use this vivo host as is and start no simulator
  VIVO_SIM_PORT      simulator port (default 9701, else a free one)
  TABLE_NAME         DynamoDB table (default offpush-local)
  RUST_LOG           local-api log filter (default info)
Logs: .local/local-api.log, .local/vivo-sim.log, .local/moto-PORT.log
EOF
}

# ---- arguments ---------------------------------------------------------------
MODE=run
DETACH="${RUN_LOCAL_DETACH:-0}"
[ "$DETACH" = 1 ] || DETACH=0
PORT_ARG=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    stop) MODE=stop ;;
    --no-wait | --detach) DETACH=1 ;;
    --port) [ $# -ge 2 ] || { echo "run-local.sh: --port needs a value" >&2; exit 2; }
            PORT_ARG="$2"; shift ;;
    --port=*) PORT_ARG="${1#--port=}" ;;
    *) echo "run-local.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

PIDFILE="$LOCAL/run-local.pids"
ENVFILE="$LOCAL/run-local.env"
BIN="$CARGO_TARGET_DIR/debug"

# ---- process helpers ---------------------------------------------------------
# alive PID: the process exists and is not a zombie.
alive() {
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  case "$st" in Z*) return 1 ;; esac
  return 0
}

# is_ours PID: a live process this checkout's tooling started (its command
# line names a path under the repository or the cargo target dir), not a
# recycled pid.
is_ours() {
  local args
  alive "$1" || return 1
  args="$(ps -o args= -p "$1" 2>/dev/null)" || return 1
  case "$args" in
    *"$ROOT/"* | *"$BIN/"*) return 0 ;;
  esac
  return 1
}

# stop_pids trust|verify NAME PID [NAME PID ...]: SIGTERM, up to 10 s, then
# SIGKILL. `trust` is for this shell's own children (an unreaped child's pid
# cannot be reused); `verify` checks is_ours first (pids from the pid file).
stop_pids() {
  local how="$1"
  shift
  local -a pids=()
  while [ $# -ge 2 ]; do
    if { [ "$how" = trust ] && alive "$2"; } || { [ "$how" = verify ] && is_ours "$2"; }; then
      log "stopping $1 (pid $2)"
      kill -TERM "$2" 2>/dev/null || true
      pids+=("$2")
    fi
    shift 2
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  local i pid left
  for i in $(seq 1 100); do
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
  # Reap our own children; others' (a --no-wait run's) are reaped by init:
  # give it a moment so that pgrep no longer lists them as <defunct>.
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for i in $(seq 1 50); do
    left=0
    for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
}

# The pid file holds one pid per line; as NAME PID pairs for stop_pids,
# newest first.
pidfile_pairs() {
  local pid name
  [ -f "$PIDFILE" ] || return 0
  # tac: local-api first, the emulator last.
  tac "$PIDFILE" | while read -r pid; do
    case "$pid" in '' | *[!0-9]*) continue ;; esac
    name="$(ps -o args= -p "$pid" 2>/dev/null || true)"
    case "$name" in
      *dynamodb_emulator* | *moto_server*) name=moto ;;
      *) name="$(basename -- "${name%% *}")" ;;
    esac
    printf '%s %s\n' "${name:-process}" "$pid"
  done
}

if [ "$MODE" = stop ]; then
  if [ ! -s "$PIDFILE" ]; then
    log "nothing to stop (no $PIDFILE)"
    rm -f "$PIDFILE" "$ENVFILE"
    exit 0
  fi
  # shellcheck disable=SC2046
  stop_pids verify $(pidfile_pairs)
  rm -f "$PIDFILE" "$ENVFILE"
  log "stopped"
  exit 0
fi

# A previous --no-wait run still up? Its ports and table would collide.
if [ -s "$PIDFILE" ]; then
  running=""
  while read -r pid; do
    case "$pid" in '' | *[!0-9]*) continue ;; esac
    if is_ours "$pid"; then running="$running $pid"; fi
  done <"$PIDFILE"
  if [ -n "$running" ]; then
    log "already running (pids$running); stop it first: scripts/run-local.sh stop"
    exit 1
  fi
  rm -f "$PIDFILE"
fi

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

check_port() {
  case "$2" in
    '' | *[!0-9]*) log "$1 must be a port number (got '$2')"; exit 2 ;;
  esac
  if [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then log "$1 must be 1-65535 (got $2)"; exit 2; fi
}

# pick_port WHAT EXPLICIT DEFAULT: EXPLICIT if given (must be free), else
# DEFAULT if free, else any free port.
pick_port() {
  local what="$1" explicit="$2" default="$3"
  if [ -n "$explicit" ]; then
    check_port "$what" "$explicit"
    if ! port_free "$explicit"; then
      log "$what $explicit: port 127.0.0.1:$explicit is in use"
      exit 1
    fi
    echo "$explicit"
  elif port_free "$default"; then
    echo "$default"
  else
    local p
    p="$(free_port)"
    log "port $default is in use; $what uses $p instead"
    echo "$p"
  fi
}

# wait_up NAME PID URL SECONDS LOG: until URL answers, failing fast if PID dies.
wait_up() {
  local name="$1" pid="$2" url="$3" limit="$4" logf="$5" i=0
  until curl -s -o /dev/null --max-time 2 "$url"; do
    if ! alive "$pid"; then
      log "$name exited while starting; last lines of $logf:"
      tail -n 20 "$logf" >&2 || true
      return 1
    fi
    i=$((i + 1))
    if [ "$i" -gt $((limit * 10)) ]; then
      log "timed out waiting for $name at $url (log: $logf)"
      return 1
    fi
    sleep 0.1
  done
}

# ---- what this run started, stopped on exit ----------------------------------
STARTED=() # NAME PID NAME PID ...
MOTO_PID=""
KEEP_RUNNING=0
SLEEP_PID=""

remember() {
  STARTED+=("$1" "$2")
  local i
  for ((i = 1; i < ${#STARTED[@]}; i += 2)); do echo "${STARTED[i]}"; done >"$PIDFILE.tmp"
  mv "$PIDFILE.tmp" "$PIDFILE"
}

cleanup() {
  local rc=$?
  # Finish the cleanup whatever happens: a second Ctrl-C, or a closed
  # stdout/stderr (e.g. `| tee` killed by the same Ctrl-C).
  trap '' INT TERM PIPE
  trap - EXIT
  set +e
  [ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
  if [ "$KEEP_RUNNING" = 1 ]; then
    exit "$rc"
  fi
  # Interrupted while start_moto waited for the emulator: not remembered yet.
  if [ -n "${MOTO_PID:-}" ] && [[ " ${STARTED[*]-} " != *" $MOTO_PID "* ]]; then
    STARTED=(moto "$MOTO_PID" ${STARTED[@]+"${STARTED[@]}"})
  fi
  if [ "${#STARTED[@]}" -gt 0 ]; then
    # Reverse order: local-api, then the simulator, then the emulator.
    local -a rev=()
    local i
    for ((i = ${#STARTED[@]} - 2; i >= 0; i -= 2)); do
      rev+=("${STARTED[i]}" "${STARTED[i + 1]}")
    done
    stop_pids trust "${rev[@]}"
    log "stopped everything this run started"
  fi
  rm -f "$PIDFILE" "$PIDFILE.tmp" "$ENVFILE"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- tools ---------------------------------------------------------------------
command -v cargo >/dev/null || { log "cargo is required (https://rustup.rs)"; exit 1; }
command -v python3 >/dev/null || { log "python3 is required"; exit 1; }
if ! command -v curl >/dev/null; then
  log "installing curl"
  (apt-get update -q && apt-get install -y -q curl) >&2
fi
if ! command -v ps >/dev/null; then
  log "installing procps"
  (apt-get update -q && apt-get install -y -q procps) >&2
fi

API_PORT="$(pick_port "API port" "${PORT_ARG:-${API_PORT:-}}" 3000)"
TABLE_NAME="${TABLE_NAME:-offpush-local}"
APP=demo
VIVO_APP_ID=105123456
VIVO_APP_KEY=demo-vivo-app-key
VIVO_APP_SECRET=demo-vivo-app-secret-0123456789

log "python venv (moto server)"
ensure_venv
set -euo pipefail # again: venv.sh restores its caller's options without errexit
log "cargo build --locked -p local-api -p vivo-sim -p offpush-admin"
cargo build --locked -p local-api -p vivo-sim -p offpush-admin >&2

# ---- DynamoDB emulator -----------------------------------------------------------
if [ -n "${DYNAMODB_PORT:-}" ] && { check_port DYNAMODB_PORT "$DYNAMODB_PORT"; ! port_free "$DYNAMODB_PORT"; }; then
  if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$DYNAMODB_PORT/moto-api/"; then
    log "using the DynamoDB emulator already on 127.0.0.1:$DYNAMODB_PORT (left running on exit)"
    export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
    export AWS_REGION="${AWS_REGION:-us-east-1}"
    export AWS_DEFAULT_REGION="$AWS_REGION"
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
    export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
    MOTO_LOG="(not started here)"
  else
    log "DYNAMODB_PORT $DYNAMODB_PORT is in use by something that is not a moto server"
    exit 1
  fi
else
  port="${DYNAMODB_PORT:-$(free_port)}"
  start_moto 127.0.0.1 "$port" </dev/null
  remember moto "$MOTO_PID"
  MOTO_LOG="$LOCAL/moto-$port.log"
  alive "$MOTO_PID" || { log "moto server did not start (log: $MOTO_LOG)"; exit 1; }
fi

# ---- vivo ------------------------------------------------------------------------
SIM_URL=""
if [ -n "${VIVO_API_BASE_URL:-}" ]; then
  log "vivo: $VIVO_API_BASE_URL (VIVO_API_BASE_URL is set; no simulator started)"
else
  sim_port="$(pick_port VIVO_SIM_PORT "${VIVO_SIM_PORT:-}" 9701)"
  SIM_URL="http://127.0.0.1:$sim_port"
  NO_COLOR=1 "$BIN/vivo-sim" --listen "127.0.0.1:$sim_port" \
    --app "$VIVO_APP_ID:$VIVO_APP_KEY:$VIVO_APP_SECRET" \
    </dev/null >"$LOCAL/vivo-sim.log" 2>&1 &
  sim_pid=$!
  remember vivo-sim "$sim_pid"
  wait_up vivo-sim "$sim_pid" "$SIM_URL/_sim/health" 30 "$LOCAL/vivo-sim.log"
  log "vivo simulator on $SIM_URL (pid $sim_pid)"
  export VIVO_API_BASE_URL="$SIM_URL"
fi

# ---- table, app, tokens ----------------------------------------------------------
admin() {
  "$BIN/offpush-admin" --table "$TABLE_NAME" --endpoint-url "$AWS_ENDPOINT_URL_DYNAMODB" "$@"
}
admin table create </dev/null >/dev/null
SECRET=""
if app_out="$(admin app create --app "$APP" </dev/null 2>"$LOCAL/run-local.admin.err")"; then
  SECRET="$(printf '%s' "$app_out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["signing_secret"])')"
  log "app $APP created in table $TABLE_NAME"
elif grep -q "already exists" "$LOCAL/run-local.admin.err"; then
  log "app $APP already exists in table $TABLE_NAME (emulator $AWS_ENDPOINT_URL_DYNAMODB): its signing secret is not shown again; continuing"
else
  log "offpush-admin app create failed: $(cat "$LOCAL/run-local.admin.err")"
  exit 1
fi
rm -f "$LOCAL/run-local.admin.err"
ADMIN="$(admin token --app "$APP" --sub ops --admin --ttl 86400 </dev/null)"
USER_TOKEN="$(admin token --app "$APP" --sub alice --ttl 86400 </dev/null)"

# ---- local-api ---------------------------------------------------------------------
export TABLE_NAME VIVO_API_BASE_URL
export RUST_LOG="${RUST_LOG:-info}"
OFFPUSH_URL="http://127.0.0.1:$API_PORT"
NO_COLOR=1 "$BIN/local-api" --listen "127.0.0.1:$API_PORT" </dev/null >"$LOCAL/local-api.log" 2>&1 &
api_pid=$!
remember local-api "$api_pid"
wait_up local-api "$api_pid" "$OFFPUSH_URL/" 30 "$LOCAL/local-api.log"
log "local-api on $OFFPUSH_URL (pid $api_pid)"

# ---- the block -------------------------------------------------------------------
{
  printf 'export OFFPUSH_URL=%s' "$OFFPUSH_URL"
  [ -n "$SIM_URL" ] && printf ' SIM_URL=%s' "$SIM_URL"
  printf '\nexport ADMIN=%s USER_TOKEN=%s\n' "$ADMIN" "$USER_TOKEN"
} >"$ENVFILE.tmp"
chmod 600 "$ENVFILE.tmp"
mv "$ENVFILE.tmp" "$ENVFILE"

if [ -n "$SECRET" ]; then
  secret_line="$SECRET"
else
  secret_line="(not shown: app $APP already existed in this table; its secret is unchanged)"
fi
cat <<EOF

================================================================================
offpush is running locally (no AWS account involved)

  API             $OFFPUSH_URL
  app id          $APP
  signing secret  $secret_line
  admin token     $ADMIN
                  (sub ops, role admin, valid 24 h)
  user token      $USER_TOKEN
                  (sub alice, valid 24 h)
EOF
if [ -n "$SIM_URL" ]; then
  cat <<EOF
  vivo simulator  $SIM_URL   (what vivo received: $SIM_URL/_sim/deliveries)
                  demo vivo app: app_id $VIVO_APP_ID, app_key $VIVO_APP_KEY, app_secret $VIVO_APP_SECRET
EOF
else
  cat <<EOF
  vivo            $VIVO_API_BASE_URL   (VIVO_API_BASE_URL; no simulator)
EOF
fi
cat <<EOF
  DynamoDB        $AWS_ENDPOINT_URL_DYNAMODB   table $TABLE_NAME (moto, in memory)
  logs            $LOCAL/local-api.log${SIM_URL:+
                  $LOCAL/vivo-sim.log}
                  $MOTO_LOG
  more tokens     $BIN/offpush-admin --table $TABLE_NAME --endpoint-url $AWS_ENDPOINT_URL_DYNAMODB token --app $APP --sub bob [--admin] --ttl 86400

Paste into a shell (also in $ENVFILE):

$(cat "$ENVFILE")

EOF
if [ -n "$SIM_URL" ]; then
  cat <<'EOF'
# 1. Create a vivo certificate (admin) -> 201; its "id" is the certificate_id below
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"vivo","name":"vivo demo","credentials":{"app_id":"105123456","app_key":"demo-vivo-app-key","app_secret":"demo-vivo-app-secret-0123456789"},"click_action":{"type":"open_app"},"category":"IM"}'
EOF
else
  cat <<'EOF'
# 1. Create a vivo certificate (admin) -> 201 (your vivo app's credentials); its "id" is the certificate_id below
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"vivo","name":"vivo","credentials":{"app_id":"YOUR_VIVO_APP_ID","app_key":"YOUR_APP_KEY","app_secret":"YOUR_APP_SECRET"},"click_action":{"type":"open_app"},"category":"IM"}'
EOF
fi
cat <<'EOF'

# 2. Report alice's vivo regId (as alice, from her phone) -> 200
curl -sS -w '  -> HTTP %{http_code}\n' -X PUT "$OFFPUSH_URL/v1/push-token" \
  -H "authorization: Bearer $USER_TOKEN" -H 'content-type: application/json' \
  -d '{"certificate_id":1,"token":"demo-reg-id-0001","device_id":"phone-1"}'

# 3. Push to alice (admin) -> 200 with per-recipient results
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/push" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"to":["alice"],"title":"Alice","desc":"Hi, are you free tonight?"}'
EOF
if [ -n "$SIM_URL" ]; then
  cat <<'EOF'

# 4. What the vivo simulator delivered
curl -sS -w '\n' "$SIM_URL/_sim/deliveries"
EOF
fi
cat <<'EOF'

# 5. Log alice out everywhere (admin) -> 204; a push now answers no_device
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/users/alice/logout" \
  -H "authorization: Bearer $ADMIN"
EOF

if [ "$DETACH" = 1 ]; then
  cat <<EOF

Running in the background (pids in $PIDFILE). Stop with: scripts/run-local.sh stop
================================================================================
EOF
  KEEP_RUNNING=1
  exit 0
fi
cat <<EOF

Press Ctrl-C to stop everything.
================================================================================
EOF

# ---- foreground: until Ctrl-C, or until a service dies ------------------------------
while :; do
  for ((i = 0; i < ${#STARTED[@]}; i += 2)); do
    if ! alive "${STARTED[i + 1]}"; then
      log "${STARTED[i]} (pid ${STARTED[i + 1]}) exited; stopping the rest (logs in $LOCAL)"
      exit 1
    fi
  done
  sleep 1 &
  SLEEP_PID=$!
  wait "$SLEEP_PID" || true
  SLEEP_PID=""
done
