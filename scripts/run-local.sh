#!/usr/bin/env bash
# Runs the whole offpush service on this machine with no AWS account: a
# DynamoDB emulator (moto server), a simulator per vendor (vivo, Xiaomi, OPPO, Honor,
# Huawei), and the API on 127.0.0.1, served either
#   - by `sam local start-api` (the functions as `sam build` built them, in
#     Docker containers), when a Docker engine answers and .aws-sam/build
#     exists, or with --sam (which installs/starts Docker and builds if needed);
#   - or by local-api (the functions' own handlers behind one native
#     HTTP server, no Docker), otherwise or with --native.
# Creates the table and a demo app, mints an admin and a user token, and
# prints them with curl lines to paste. Ctrl-C stops everything it started
# (the emulator, the simulators, local-api or sam local and its containers).
#
# Usage: scripts/run-local.sh [--sam | --native] [--build] [--port N] [--no-wait]
#        scripts/run-local.sh stop
#        scripts/run-local.sh --help
# (full help: --help)
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/run-local.sh [--sam | --native] [--build] [--port N] [--no-wait]
       scripts/run-local.sh stop

Runs offpush locally in the foreground (no AWS account):
  - a DynamoDB emulator (moto server, in memory),
  - a simulator per vendor, each with one demo app: vivo (unless
    VIVO_API_BASE_URL is set), Xiaomi (unless XIAOMI_API_BASE_URL is set),
    OPPO (unless OPPO_API_BASE_URL is set), Honor (unless HONOR_API_BASE_URL
    is set) and Huawei (unless HUAWEI_API_BASE_URL is set),
  - the API on 127.0.0.1, served by one of:
      sam mode     `sam local start-api`: the four Lambda functions as built
                   by `sam build` (.aws-sam/build), in Docker containers
                   (warm, one per function);
      native mode  local-api: the same handlers behind one native HTTP
                   server, no Docker;
then creates the table and the app "demo", mints an admin token and user
tokens (alice, bob, carol, dave, erin), and prints them with curl lines to paste. Ctrl-C stops
everything it started.

Mode (default: auto):
  auto         sam mode when a Docker engine already answers (`docker info`)
               and .aws-sam/build holds a build (or --build is given);
               otherwise native mode, saying why
  --sam        sam mode; without a Docker engine, scripts/sam/docker-up.sh
               installs and starts one (root), and without a build, runs
               `sam build` first
  --native     native mode
  --build      run `sam build` first (sam mode; a cold build takes many
               minutes: about 18 on a 2-core machine)

Options:
  --port N     API port (default: $API_PORT, else 3000, else a free port)
  --no-wait    start everything, print the block, write the PIDs to
               .local/run-local.pids and exit, leaving the services running
               (also: RUN_LOCAL_DETACH=1). .local/run-local.env (source it)
               has the printed exports, then, for scripts: RUN_MODE,
               HOST_ADDR, API_PORT, DDB_URL, TABLE_NAME, APP_ID, APP_SECRET,
               VIVO_APP_ID/KEY/SECRET, XIAOMI_*, OPPO_*, HONOR_*, HUAWEI_*
               (the demo apps' credentials and URLs), PIDS and (sam mode)
               SAM_ENV_VARS
               (the --env-vars file), SAM_BUILD_SECS, API_START_SECS.
  stop         stop the services a --no-wait run left running (and, in sam
               mode, the Lambda containers its sam local started)
  -h, --help   this help

Environment:
  API_PORT           API port (as --port)
  DYNAMODB_PORT      emulator port (default: a free one). If a moto server
                     already answers there, it is used (and left running).
  VIVO_API_BASE_URL  use this vivo host as is and start no simulator (in sam
                     mode the function containers must reach it: not
                     127.0.0.1, which is the container itself)
  VIVO_SIM_PORT      simulator port (default 9701, else a free one)
  XIAOMI_API_BASE_URL, XIAOMI_SIM_PORT
                     the same for Xiaomi (simulator port default 9702)
  OPPO_API_BASE_URL, OPPO_SIM_PORT
                     the same for OPPO (simulator port default 9703)
  HONOR_API_BASE_URL, HONOR_SIM_PORT
                     the same for Honor (simulator port default 9705)
  HUAWEI_API_BASE_URL, HUAWEI_SIM_PORT
                     the same for Huawei (simulator port default 9704)
  TABLE_NAME         DynamoDB table (default offpush-local)
  RUST_LOG           local-api's / the functions' log filter (default info)
  KEEP_DOCKER=1      leave a Docker engine this run started running (sam mode)
  RUN_LOCAL_DIR      where the pid and env files and the logs go (default
                     .local; `stop` needs the same value)
  RUN_LOCAL_PREBUILT=1
                     use the binaries already in target/debug as they are
                     (no cargo build)
In sam mode the emulator and the simulators listen on the Docker bridge address
(e.g. 172.17.0.1), which both the containers and this machine reach.
Logs (in .local or RUN_LOCAL_DIR): local-api.log or sam-local.log, vivo-sim.log, xiaomi-sim.log,
oppo-sim.log, honor-sim.log, huawei-sim.log, moto-PORT.log
EOF
}

# ---- arguments ---------------------------------------------------------------
MODE=run
RUN_MODE=auto # auto | sam | native
DO_BUILD=0
DETACH="${RUN_LOCAL_DETACH:-0}"
[ "$DETACH" = 1 ] || DETACH=0
PORT_ARG=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    stop) MODE=stop ;;
    --no-wait | --detach) DETACH=1 ;;
    --sam) RUN_MODE=sam ;;
    --native) RUN_MODE=native ;;
    --build) DO_BUILD=1 ;;
    --port) [ $# -ge 2 ] || { echo "run-local.sh: --port needs a value" >&2; exit 2; }
            PORT_ARG="$2"; shift ;;
    --port=*) PORT_ARG="${1#--port=}" ;;
    *) echo "run-local.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/sam_local.sh
source "$(dirname "$0")/lib/sam_local.sh"
cd "$ROOT"
T_START="$(now_ms)"

RUN_DIR="${RUN_LOCAL_DIR:-$LOCAL}"
mkdir -p "$RUN_DIR"
PIDFILE="$RUN_DIR/run-local.pids"
ENVFILE="$RUN_DIR/run-local.env"
SAMSTATE="$RUN_DIR/run-local.sam" # sam mode: DDB_URL=... (finds its containers), DOCKERD_PID=...
SAM_ENVJSON="$RUN_DIR/run-local.env.json"
BIN="$CARGO_TARGET_DIR/debug"
BUILD_DIR="$ROOT/.aws-sam/build"

# The pid file holds one pid per line; as NAME PID pairs for stop_pids,
# newest first.
pidfile_pairs() {
  local pid name
  [ -f "$PIDFILE" ] || return 0
  # tac: local-api / sam first, the emulator last.
  tac "$PIDFILE" | while read -r pid; do
    case "$pid" in '' | *[!0-9]*) continue ;; esac
    name="$(cmdline "$pid")"
    case "$name" in
      *dynamodb_emulator* | *moto_server*) name=moto ;;
      *" local start-api "*) name=sam-local-start-api ;;
      *) name="$(basename -- "${name%% *}")" ;;
    esac
    printf '%s %s\n' "${name:-process}" "$pid"
  done
}

# state_get KEY: a value a sam-mode run recorded in $SAMSTATE.
state_get() {
  [ -f "$SAMSTATE" ] || return 0
  sed -n "s/^$1=//p" "$SAMSTATE" | tail -n 1
}

if [ "$MODE" = stop ]; then
  if [ ! -s "$PIDFILE" ] && [ ! -s "$SAMSTATE" ]; then
    log "nothing to stop (no $PIDFILE)"
    rm -f "$PIDFILE" "$ENVFILE"
    exit 0
  fi
  ddb_url="$(state_get DDB_URL)"
  # The containers first: sam local would stop them one by one (3 s each).
  sam_remove_containers "$ddb_url" || true
  # shellcheck disable=SC2046
  stop_pids verify $(pidfile_pairs)
  sam_remove_containers_settled "$ddb_url" # any it created meanwhile
  stop_engine "$(state_get DOCKERD_PID)"
  rm -f "$PIDFILE" "$ENVFILE" "$SAMSTATE" "$SAM_ENVJSON"
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
# A sam-mode run that died without cleaning up: its containers.
if [ -f "$SAMSTATE" ]; then
  sam_remove_containers "$(state_get DDB_URL)" || true
  rm -f "$SAMSTATE"
fi

# port_free PORT [HOST]: nothing listens on HOST:PORT (default 127.0.0.1).
port_free() {
  python3 - "$1" "${2:-127.0.0.1}" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((sys.argv[2], int(sys.argv[1])))
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

# pick_port WHAT EXPLICIT DEFAULT [HOST]: EXPLICIT if given (must be free on
# HOST, default 127.0.0.1), else DEFAULT if free, else any free port.
pick_port() {
  local what="$1" explicit="$2" default="$3" host="${4:-127.0.0.1}"
  if [ -n "$explicit" ]; then
    check_port "$what" "$explicit"
    if ! port_free "$explicit" "$host"; then
      log "$what $explicit: port $host:$explicit is in use"
      exit 1
    fi
    echo "$explicit"
  elif port_free "$default" "$host"; then
    echo "$default"
  else
    local p
    p="$(free_port "$host")"
    log "port $default is in use; $what uses $p instead"
    echo "$p"
  fi
}

# ---- what this run started, stopped on exit ----------------------------------
STARTED=() # NAME PID NAME PID ...
MOTO_PID=""
KEEP_RUNNING=0
SLEEP_PID=""
SAM_DDB_URL="" # sam mode: the emulator URL its containers are found by
ENGINE_PID="" # sam mode: a dockerd this run started (stopped unless KEEP_DOCKER=1)
SAM_ENV_VARS="" SAM_BUILD_SECS="" API_START_SECS="" # sam mode: for the env file

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
  stop_sam_build
  # Interrupted while start_moto waited for the emulator: not remembered yet.
  if [ -n "${MOTO_PID:-}" ] && [[ " ${STARTED[*]-} " != *" $MOTO_PID "* ]]; then
    STARTED=(moto "$MOTO_PID" ${STARTED[@]+"${STARTED[@]}"})
  fi
  # sam mode: the containers first (sam local would stop them one by one).
  sam_remove_containers "$SAM_DDB_URL"
  if [ "${#STARTED[@]}" -gt 0 ]; then
    # Reverse order: local-api / sam local, then the simulator, then the emulator.
    local -a rev=()
    local i
    for ((i = ${#STARTED[@]} - 2; i >= 0; i -= 2)); do
      rev+=("${STARTED[i]}" "${STARTED[i + 1]}")
    done
    stop_pids trust "${rev[@]}"
  fi
  sam_remove_containers_settled "$SAM_DDB_URL"
  stop_engine "$ENGINE_PID"
  if [ "${#STARTED[@]}" -gt 0 ] || [ -n "$ENGINE_PID" ]; then
    log "stopped everything this run started"
  fi
  rm -f "$PIDFILE" "$PIDFILE.tmp" "$ENVFILE" "$SAMSTATE" "$SAM_ENVJSON"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- tools ---------------------------------------------------------------------
command -v python3 >/dev/null || { log "python3 is required"; exit 1; }
if [ "${RUN_LOCAL_PREBUILT:-0}" != 1 ]; then
  command -v cargo >/dev/null || { log "cargo is required (https://rustup.rs)"; exit 1; }
fi
need curl curl

# ---- mode ------------------------------------------------------------------------
if [ "$RUN_MODE" = auto ]; then
  if ! docker_answers; then
    RUN_MODE=native
    log "no Docker engine: native runner (same handlers); --sam to use sam local start-api (installs and starts Docker)"
  elif ! sam_build_ready "$BUILD_DIR" && [ "$DO_BUILD" = 0 ]; then
    RUN_MODE=native
    log "no SAM build in .aws-sam/build: native runner (same handlers); --build (or --sam) to run sam build first (many minutes cold) and use sam local start-api"
  elif [ "$(id -u)" != 0 ]; then
    RUN_MODE=native
    log "not root (sam mode's scripts/sam/docker-up.sh needs root): native runner (same handlers)"
  else
    RUN_MODE=sam
    log "Docker engine answers and .aws-sam/build exists: sam local start-api; --native for the native runner"
  fi
fi
if [ "$RUN_MODE" = native ] && [ "$DO_BUILD" = 1 ]; then
  log "--build ignored: the native runner needs no sam build"
fi
if [ "$RUN_MODE" = sam ] && [ "$(id -u)" != 0 ]; then
  log "--sam needs root (scripts/sam/docker-up.sh installs and starts Docker and the offline Lambda base image)"
  exit 1
fi

API_PORT="$(pick_port "API port" "${PORT_ARG:-${API_PORT:-}}" 3000)"
TABLE_NAME="${TABLE_NAME:-offpush-local}"
APP=demo
VIVO_APP_ID=105123456
VIVO_APP_KEY=demo-vivo-app-key
VIVO_APP_SECRET=demo-vivo-app-secret-0123456789
XIAOMI_APP_SECRET=demo-xiaomi-app-secret-0123456789
XIAOMI_PACKAGE=com.example.offpushdemo
OPPO_APP_ID=30012345
OPPO_APP_KEY=demo-oppo-app-key
OPPO_MASTER_SECRET=demo-oppo-master-secret-0123456789
OPPO_CHANNEL=im_private
HONOR_APP_ID=104400001
HONOR_CLIENT_ID=demo-honor-client
HONOR_CLIENT_SECRET=demo-honor-client-secret-0123456789
HUAWEI_APP_ID=104400002 # also its OAuth client id
HUAWEI_CLIENT_SECRET=demo-huawei-client-secret-0123456789
HUAWEI_CALLBACK_USER=demo-callback-user
HUAWEI_CALLBACK_SECRET=demo-callback-secret-0123456789

if [ "$RUN_MODE" = sam ]; then
  log "python venv (moto server, SAM CLI)"
else
  log "python venv (moto server)"
fi
ensure_venv
set -euo pipefail # again: venv.sh restores its caller's options without errexit

# ---- sam mode: Docker engine, base image, build -------------------------------------
# Host services the containers reach listen on the Docker bridge address.
HOST_ADDR=127.0.0.1
if [ "$RUN_MODE" = sam ]; then
  command -v sam >/dev/null || { log "no sam in the venv ($ROOT/.venv)"; exit 1; }
  engine_was_up=1
  if ! docker_answers; then
    engine_was_up=0
    log "no Docker engine answers: scripts/sam/docker-up.sh installs (if needed) and starts one"
  fi
  gw="$(scripts/sam/docker-up.sh </dev/null | tail -n 1)" || gw=""
  if [ "$engine_was_up" = 0 ] && [ -s "$LOCAL/dockerd.pid" ] && [ "${KEEP_DOCKER:-0}" != 1 ]; then
    ENGINE_PID="$(cat "$LOCAL/dockerd.pid")"
    echo "DOCKERD_PID=$ENGINE_PID" >>"$SAMSTATE"
  fi
  if ! [[ "$gw" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    log "scripts/sam/docker-up.sh gave no Docker bridge address (got '$gw')"
    exit 1
  fi
  HOST_ADDR="$gw"
  log "Docker bridge address (the containers reach the host there): $HOST_ADDR"

  if [ "$DO_BUILD" = 1 ] || ! sam_build_ready "$BUILD_DIR"; then
    [ "$DO_BUILD" = 1 ] || log "no complete SAM build in .aws-sam/build: running sam build"
    run_sam_build "$RUN_DIR/run-local.sam-build.log" || exit 1
  else
    newer="$(sam_build_newer_source "$BUILD_DIR")"
    if [ -n "$newer" ]; then
      log "note: .aws-sam/build is older than $newer; the functions run as last built (--build rebuilds)"
    fi
  fi
fi

# ---- host binaries ---------------------------------------------------------------
if [ "$RUN_MODE" = sam ]; then
  HOST_TOOLS=(vivo-sim xiaomi-sim oppo-sim honor-sim huawei-sim offpush-admin)
else
  HOST_TOOLS=(local-api vivo-sim xiaomi-sim oppo-sim honor-sim huawei-sim offpush-admin)
fi
if [ "${RUN_LOCAL_PREBUILT:-0}" = 1 ]; then
  for tool in "${HOST_TOOLS[@]}"; do
    [ -x "$BIN/$tool" ] || { log "RUN_LOCAL_PREBUILT=1 but there is no $BIN/$tool"; exit 1; }
  done
  log "using ${HOST_TOOLS[*]} in $BIN as they are (RUN_LOCAL_PREBUILT=1: no cargo build)"
else
  log "cargo build --locked$(printf ' -p %s' "${HOST_TOOLS[@]}")"
  # shellcheck disable=SC2046
  cargo build --locked $(printf ' -p %s' "${HOST_TOOLS[@]}") >&2
fi

# ---- DynamoDB emulator -----------------------------------------------------------
if [ -n "${DYNAMODB_PORT:-}" ] && { check_port DYNAMODB_PORT "$DYNAMODB_PORT"; ! port_free "$DYNAMODB_PORT" "$HOST_ADDR"; }; then
  if curl -sf -o /dev/null --max-time 2 "http://$HOST_ADDR:$DYNAMODB_PORT/moto-api/"; then
    log "using the DynamoDB emulator already on $HOST_ADDR:$DYNAMODB_PORT (left running on exit)"
    use_emulator "http://$HOST_ADDR:$DYNAMODB_PORT"
    MOTO_LOG="(not started here)"
  else
    log "DYNAMODB_PORT $DYNAMODB_PORT is in use on $HOST_ADDR by something that is not a moto server"
    exit 1
  fi
else
  port="${DYNAMODB_PORT:-$(free_port "$HOST_ADDR")}"
  MOTO_LOG="$RUN_DIR/moto-$port.log"
  start_moto "$HOST_ADDR" "$port" "$MOTO_LOG" </dev/null
  remember moto "$MOTO_PID"
  alive "$MOTO_PID" || { log "moto server did not start (log: $MOTO_LOG)"; exit 1; }
fi
if [ "$RUN_MODE" = sam ]; then
  # The functions' containers are found (and removed) by this emulator URL.
  SAM_DDB_URL="$AWS_ENDPOINT_URL_DYNAMODB"
  echo "DDB_URL=$SAM_DDB_URL" >>"$SAMSTATE"
fi

# ---- vivo ------------------------------------------------------------------------
SIM_URL=""
if [ -n "${VIVO_API_BASE_URL:-}" ]; then
  log "vivo: $VIVO_API_BASE_URL (VIVO_API_BASE_URL is set; no simulator started)"
  if [ "$RUN_MODE" = sam ]; then
    case "$VIVO_API_BASE_URL" in
      *://localhost* | *://127.* | *://\[::1\]* | *://0.0.0.0*)
        log "warning: the function containers cannot reach $VIVO_API_BASE_URL (there it is the container itself);" \
          "use an address they reach, e.g. the bridge address $HOST_ADDR, or --native" ;;
      *) log "(the function containers must be able to reach it)" ;;
    esac
  fi
else
  sim_port="$(pick_port VIVO_SIM_PORT "${VIVO_SIM_PORT:-}" 9701 "$HOST_ADDR")"
  SIM_URL="http://$HOST_ADDR:$sim_port"
  NO_COLOR=1 "$BIN/vivo-sim" --listen "$HOST_ADDR:$sim_port" \
    --app "$VIVO_APP_ID:$VIVO_APP_KEY:$VIVO_APP_SECRET" \
    </dev/null >"$RUN_DIR/vivo-sim.log" 2>&1 &
  sim_pid=$!
  remember vivo-sim "$sim_pid"
  wait_up vivo-sim "$sim_pid" "$SIM_URL/_sim/health" 30 "$RUN_DIR/vivo-sim.log"
  log "vivo simulator on $SIM_URL (pid $sim_pid)"
  export VIVO_API_BASE_URL="$SIM_URL"
fi

# ---- xiaomi ----------------------------------------------------------------------
XIAOMI_SIM_URL=""
if [ -n "${XIAOMI_API_BASE_URL:-}" ]; then
  log "xiaomi: $XIAOMI_API_BASE_URL (XIAOMI_API_BASE_URL is set; no simulator started)"
else
  xsim_port="$(pick_port XIAOMI_SIM_PORT "${XIAOMI_SIM_PORT:-}" 9702 "$HOST_ADDR")"
  XIAOMI_SIM_URL="http://$HOST_ADDR:$xsim_port"
  NO_COLOR=1 "$BIN/xiaomi-sim" --listen "$HOST_ADDR:$xsim_port" \
    --app "$XIAOMI_PACKAGE:$XIAOMI_APP_SECRET" \
    </dev/null >"$RUN_DIR/xiaomi-sim.log" 2>&1 &
  xsim_pid=$!
  remember xiaomi-sim "$xsim_pid"
  wait_up xiaomi-sim "$xsim_pid" "$XIAOMI_SIM_URL/_sim/health" 30 "$RUN_DIR/xiaomi-sim.log"
  # As at Xiaomi, the credential check's made-up regid is no device's.
  curl -sf -o /dev/null -X POST "$XIAOMI_SIM_URL/_sim/regids" \
    -d '{"reg_id":"offpush-credential-check","valid":false}' ||
    { log "xiaomi-sim refused its set-up (log: $RUN_DIR/xiaomi-sim.log)"; exit 1; }
  log "Xiaomi simulator on $XIAOMI_SIM_URL (pid $xsim_pid)"
  export XIAOMI_API_BASE_URL="$XIAOMI_SIM_URL"
fi

# ---- oppo ------------------------------------------------------------------------
OPPO_SIM_URL=""
if [ -n "${OPPO_API_BASE_URL:-}" ]; then
  log "oppo: $OPPO_API_BASE_URL (OPPO_API_BASE_URL is set; no simulator started)"
else
  osim_port="$(pick_port OPPO_SIM_PORT "${OPPO_SIM_PORT:-}" 9703 "$HOST_ADDR")"
  OPPO_SIM_URL="http://$HOST_ADDR:$osim_port"
  NO_COLOR=1 "$BIN/oppo-sim" --listen "$HOST_ADDR:$osim_port" \
    --app "$OPPO_APP_ID:$OPPO_APP_KEY:$OPPO_MASTER_SECRET" \
    </dev/null >"$RUN_DIR/oppo-sim.log" 2>&1 &
  osim_pid=$!
  remember oppo-sim "$osim_pid"
  wait_up oppo-sim "$osim_pid" "$OPPO_SIM_URL/_sim/health" 30 "$RUN_DIR/oppo-sim.log"
  # As in the OPUSH console: the demo app's IM private channel is approved
  # (--app registers an app with none).
  curl -sf -o /dev/null -X POST "$OPPO_SIM_URL/_sim/apps" \
    -d "{\"app_id\":\"$OPPO_APP_ID\",\"app_key\":\"$OPPO_APP_KEY\",\"master_secret\":\"$OPPO_MASTER_SECRET\",\"service_channels\":[\"$OPPO_CHANNEL\"]}" ||
    { log "oppo-sim refused its set-up (log: $RUN_DIR/oppo-sim.log)"; exit 1; }
  log "OPPO simulator on $OPPO_SIM_URL (pid $osim_pid)"
  export OPPO_API_BASE_URL="$OPPO_SIM_URL"
fi

# ---- honor -----------------------------------------------------------------------
HONOR_SIM_URL=""
if [ -n "${HONOR_API_BASE_URL:-}" ]; then
  log "honor: $HONOR_API_BASE_URL (HONOR_API_BASE_URL is set; no simulator started)"
else
  hsim_port="$(pick_port HONOR_SIM_PORT "${HONOR_SIM_PORT:-}" 9705 "$HOST_ADDR")"
  HONOR_SIM_URL="http://$HOST_ADDR:$hsim_port"
  NO_COLOR=1 "$BIN/honor-sim" --listen "$HOST_ADDR:$hsim_port" \
    --app "$HONOR_APP_ID:$HONOR_CLIENT_ID:$HONOR_CLIENT_SECRET" \
    </dev/null >"$RUN_DIR/honor-sim.log" 2>&1 &
  hsim_pid=$!
  remember honor-sim "$hsim_pid"
  wait_up honor-sim "$hsim_pid" "$HONOR_SIM_URL/_sim/health" 30 "$RUN_DIR/honor-sim.log"
  log "Honor simulator on $HONOR_SIM_URL (pid $hsim_pid)"
  export HONOR_API_BASE_URL="$HONOR_SIM_URL"
fi

# ---- huawei ----------------------------------------------------------------------
HUAWEI_SIM_URL=""
if [ -n "${HUAWEI_API_BASE_URL:-}" ]; then
  log "huawei: $HUAWEI_API_BASE_URL (HUAWEI_API_BASE_URL is set; no simulator started)"
else
  wsim_port="$(pick_port HUAWEI_SIM_PORT "${HUAWEI_SIM_PORT:-}" 9704 "$HOST_ADDR")"
  HUAWEI_SIM_URL="http://$HOST_ADDR:$wsim_port"
  NO_COLOR=1 "$BIN/huawei-sim" --listen "$HOST_ADDR:$wsim_port" \
    --app "$HUAWEI_APP_ID:$HUAWEI_CLIENT_SECRET" \
    </dev/null >"$RUN_DIR/huawei-sim.log" 2>&1 &
  wsim_pid=$!
  remember huawei-sim "$wsim_pid"
  wait_up huawei-sim "$wsim_pid" "$HUAWEI_SIM_URL/_sim/health" 30 "$RUN_DIR/huawei-sim.log"
  log "Huawei simulator on $HUAWEI_SIM_URL (pid $wsim_pid)"
  export HUAWEI_API_BASE_URL="$HUAWEI_SIM_URL"
fi

# ---- table, app, tokens ----------------------------------------------------------
admin() {
  "$BIN/offpush-admin" --table "$TABLE_NAME" --endpoint-url "$AWS_ENDPOINT_URL_DYNAMODB" "$@"
}
admin table create </dev/null >/dev/null
SECRET=""
if app_out="$(admin app create --app "$APP" </dev/null 2>"$RUN_DIR/run-local.admin.err")"; then
  SECRET="$(printf '%s' "$app_out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["signing_secret"])')"
  log "app $APP created in table $TABLE_NAME"
elif grep -q "already exists" "$RUN_DIR/run-local.admin.err"; then
  log "app $APP already exists in table $TABLE_NAME (emulator $AWS_ENDPOINT_URL_DYNAMODB): its signing secret is not shown again; continuing"
else
  log "offpush-admin app create failed: $(cat "$RUN_DIR/run-local.admin.err")"
  exit 1
fi
rm -f "$RUN_DIR/run-local.admin.err"
ADMIN="$(admin token --app "$APP" --sub ops --admin --ttl 86400 </dev/null)"
USER_TOKEN="$(admin token --app "$APP" --sub alice --ttl 86400 </dev/null)"
BOB_TOKEN="$(admin token --app "$APP" --sub bob --ttl 86400 </dev/null)"
# One user per vendor phone (an app allows one device per user by default).
CAROL_TOKEN="$(admin token --app "$APP" --sub carol --ttl 86400 </dev/null)"
DAVE_TOKEN="$(admin token --app "$APP" --sub dave --ttl 86400 </dev/null)"
ERIN_TOKEN="$(admin token --app "$APP" --sub erin --ttl 86400 </dev/null)"

# ---- the API: local-api or sam local start-api ---------------------------------------
export TABLE_NAME VIVO_API_BASE_URL XIAOMI_API_BASE_URL OPPO_API_BASE_URL HONOR_API_BASE_URL HUAWEI_API_BASE_URL
export RUST_LOG="${RUST_LOG:-info}"
OFFPUSH_URL="http://127.0.0.1:$API_PORT"
if [ "$RUN_MODE" = sam ]; then
  API_LOG="$RUN_DIR/sam-local.log"
  # What the functions get, through --env-vars: every variable the template
  # declares, so that no stray export with a declared name leaks in.
  SAM_ENV_VARS="$SAM_ENVJSON"
  sam_env_json "$SAM_ENVJSON" "TABLE_NAME=$TABLE_NAME" "RUST_LOG=$RUST_LOG" \
    "VIVO_API_BASE_URL=$VIVO_API_BASE_URL" "XIAOMI_API_BASE_URL=$XIAOMI_API_BASE_URL" \
    "OPPO_API_BASE_URL=$OPPO_API_BASE_URL" "HONOR_API_BASE_URL=$HONOR_API_BASE_URL" \
    "HUAWEI_API_BASE_URL=$HUAWEI_API_BASE_URL" \
    "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" \
    "DEFAULT_BINDING_TTL_DAYS=${DEFAULT_BINDING_TTL_DAYS:-30}" "PUSH_DEADLINE_MS=${PUSH_DEADLINE_MS:-20000}"
  log "sam local start-api on $OFFPUSH_URL (four warm containers; log: $API_LOG)"
  t_api="$(now_ms)"
  # AWS_ENDPOINT_URL_STS: sam local asks STS for an account id first; the
  # emulator answers at once instead of ~8 s of connect retries offline.
  AWS_ENDPOINT_URL_STS="$AWS_ENDPOINT_URL_DYNAMODB" \
    sam local start-api --skip-pull-image -t "$BUILD_DIR/template.yaml" \
    --env-vars "$SAM_ENVJSON" --parameter-overrides "VivoApiBaseUrl=$VIVO_API_BASE_URL XiaomiApiBaseUrl=$XIAOMI_API_BASE_URL OppoApiBaseUrl=$OPPO_API_BASE_URL HonorApiBaseUrl=$HONOR_API_BASE_URL HuaweiApiBaseUrl=$HUAWEI_API_BASE_URL" \
    --warm-containers EAGER --host 127.0.0.1 -p "$API_PORT" \
    </dev/null >"$API_LOG" 2>&1 &
  api_pid=$!
  remember sam-local-start-api "$api_pid"
  # Up when a function answers: a request without a token gets 401.
  wait_up "sam local start-api" "$api_pid" "$OFFPUSH_URL/v1/certificates" 240 "$API_LOG" 401
  API_START_SECS="$(secs_since "$t_api")"
  log "sam local start-api serving on $OFFPUSH_URL after $API_START_SECS s (pid $api_pid)"
  MODE_LINE="sam local start-api (the functions from .aws-sam/build, in Docker containers)"
else
  API_LOG="$RUN_DIR/local-api.log"
  NO_COLOR=1 "$BIN/local-api" --listen "127.0.0.1:$API_PORT" </dev/null >"$API_LOG" 2>&1 &
  api_pid=$!
  remember local-api "$api_pid"
  wait_up local-api "$api_pid" "$OFFPUSH_URL/" 30 "$API_LOG"
  log "local-api on $OFFPUSH_URL (pid $api_pid)"
  MODE_LINE="native runner (local-api: the functions' handlers in one process)"
fi
log "up in $(secs_since "$T_START") s"

# ---- the block -------------------------------------------------------------------
EXPORTS="$(
  printf 'export OFFPUSH_URL=%s' "$OFFPUSH_URL"
  [ -n "$SIM_URL" ] && printf ' SIM_URL=%s' "$SIM_URL"
  [ -n "$XIAOMI_SIM_URL" ] && printf ' XIAOMI_SIM_URL=%s' "$XIAOMI_SIM_URL"
  [ -n "$OPPO_SIM_URL" ] && printf ' OPPO_SIM_URL=%s' "$OPPO_SIM_URL"
  [ -n "$HONOR_SIM_URL" ] && printf ' HONOR_SIM_URL=%s' "$HONOR_SIM_URL"
  [ -n "$HUAWEI_SIM_URL" ] && printf ' HUAWEI_SIM_URL=%s' "$HUAWEI_SIM_URL"
  printf '\nexport ADMIN=%s USER_TOKEN=%s BOB_TOKEN=%s' "$ADMIN" "$USER_TOKEN" "$BOB_TOKEN"
  printf '\nexport CAROL_TOKEN=%s DAVE_TOKEN=%s ERIN_TOKEN=%s' "$CAROL_TOKEN" "$DAVE_TOKEN" "$ERIN_TOKEN"
)"
{
  printf '%s\n# for scripts (not exported)\n' "$EXPORTS"
  for kv in "RUN_MODE=$RUN_MODE" "HOST_ADDR=$HOST_ADDR" "API_PORT=$API_PORT" \
    "DDB_URL=$AWS_ENDPOINT_URL_DYNAMODB" "TABLE_NAME=$TABLE_NAME" "APP_ID=$APP" "APP_SECRET=$SECRET" \
    "VIVO_APP_ID=$VIVO_APP_ID" "VIVO_APP_KEY=$VIVO_APP_KEY" "VIVO_APP_SECRET=$VIVO_APP_SECRET" \
    "XIAOMI_APP_SECRET=$XIAOMI_APP_SECRET" "XIAOMI_PACKAGE=$XIAOMI_PACKAGE" "XIAOMI_URL=$XIAOMI_API_BASE_URL" \
    "OPPO_APP_ID=$OPPO_APP_ID" "OPPO_APP_KEY=$OPPO_APP_KEY" "OPPO_MASTER_SECRET=$OPPO_MASTER_SECRET" \
    "OPPO_CHANNEL=$OPPO_CHANNEL" "OPPO_URL=$OPPO_API_BASE_URL" \
    "HONOR_APP_ID=$HONOR_APP_ID" "HONOR_CLIENT_ID=$HONOR_CLIENT_ID" "HONOR_CLIENT_SECRET=$HONOR_CLIENT_SECRET" \
    "HONOR_URL=$HONOR_API_BASE_URL" \
    "HUAWEI_APP_ID=$HUAWEI_APP_ID" "HUAWEI_CLIENT_SECRET=$HUAWEI_CLIENT_SECRET" \
    "HUAWEI_CALLBACK_USER=$HUAWEI_CALLBACK_USER" "HUAWEI_CALLBACK_SECRET=$HUAWEI_CALLBACK_SECRET" \
    "HUAWEI_URL=$HUAWEI_API_BASE_URL" \
    "PIDS=$(paste -sd " " "$PIDFILE")" \
    "SAM_ENV_VARS=$SAM_ENV_VARS" "SAM_BUILD_SECS=$SAM_BUILD_SECS" "API_START_SECS=$API_START_SECS"; do
    printf '%s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
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

  mode            $MODE_LINE
  API             $OFFPUSH_URL
  app id          $APP
  signing secret  $secret_line
  admin token     $ADMIN
                  (sub ops, role admin, valid 24 h)
  user tokens     $USER_TOKEN
                  (sub alice, valid 24 h)
                  $BOB_TOKEN
                  (sub bob, valid 24 h)
                  CAROL_TOKEN, DAVE_TOKEN, ERIN_TOKEN below
                  (subs carol, dave, erin, valid 24 h)
EOF
if [ -n "$SIM_URL" ]; then
  cat <<EOF
  vivo simulator  $SIM_URL   (what vivo received: $SIM_URL/_sim/deliveries)
                  demo vivo app: app_id $VIVO_APP_ID, app_key $VIVO_APP_KEY, app_secret $VIVO_APP_SECRET
EOF
elif [ "$RUN_MODE" = sam ]; then
  cat <<EOF
  vivo            $VIVO_API_BASE_URL   (VIVO_API_BASE_URL; no simulator; the function containers must reach it)
EOF
else
  cat <<EOF
  vivo            $VIVO_API_BASE_URL   (VIVO_API_BASE_URL; no simulator)
EOF
fi
if [ -n "$XIAOMI_SIM_URL" ]; then
  cat <<EOF
  Xiaomi sim      $XIAOMI_SIM_URL   (what Xiaomi received: $XIAOMI_SIM_URL/_sim/deliveries)
                  demo Xiaomi app: app_secret $XIAOMI_APP_SECRET, package_name $XIAOMI_PACKAGE
EOF
else
  cat <<EOF
  xiaomi          $XIAOMI_API_BASE_URL   (XIAOMI_API_BASE_URL; no simulator)
EOF
fi
if [ -n "$OPPO_SIM_URL" ]; then
  cat <<EOF
  OPPO sim        $OPPO_SIM_URL   (what OPPO received: $OPPO_SIM_URL/_sim/deliveries)
                  demo OPPO app: app id $OPPO_APP_ID, app_key $OPPO_APP_KEY, master_secret $OPPO_MASTER_SECRET,
                  private channel $OPPO_CHANNEL
EOF
else
  cat <<EOF
  oppo            $OPPO_API_BASE_URL   (OPPO_API_BASE_URL; no simulator)
EOF
fi
if [ -n "$HONOR_SIM_URL" ]; then
  cat <<EOF
  Honor sim       $HONOR_SIM_URL   (what Honor received: $HONOR_SIM_URL/_sim/deliveries)
                  demo Honor app: app_id $HONOR_APP_ID, client_id $HONOR_CLIENT_ID, client_secret $HONOR_CLIENT_SECRET
EOF
else
  cat <<EOF
  honor           $HONOR_API_BASE_URL   (HONOR_API_BASE_URL; no simulator)
EOF
fi
if [ -n "$HUAWEI_SIM_URL" ]; then
  cat <<EOF
  Huawei sim      $HUAWEI_SIM_URL   (what Huawei received: $HUAWEI_SIM_URL/_sim/deliveries)
                  demo Huawei app: app_id = client_id $HUAWEI_APP_ID, client_secret $HUAWEI_CLIENT_SECRET,
                  receipt callback user $HUAWEI_CALLBACK_USER, secret $HUAWEI_CALLBACK_SECRET
EOF
else
  cat <<EOF
  huawei          $HUAWEI_API_BASE_URL   (HUAWEI_API_BASE_URL; no simulator)
EOF
fi
cat <<EOF
  DynamoDB        $AWS_ENDPOINT_URL_DYNAMODB   table $TABLE_NAME (moto, in memory)
  logs            $API_LOG${SIM_URL:+
                  $RUN_DIR/vivo-sim.log}${XIAOMI_SIM_URL:+
                  $RUN_DIR/xiaomi-sim.log}${OPPO_SIM_URL:+
                  $RUN_DIR/oppo-sim.log}${HONOR_SIM_URL:+
                  $RUN_DIR/honor-sim.log}${HUAWEI_SIM_URL:+
                  $RUN_DIR/huawei-sim.log}
                  $MOTO_LOG
  more tokens     $BIN/offpush-admin --table $TABLE_NAME --endpoint-url $AWS_ENDPOINT_URL_DYNAMODB token --app $APP --sub bob [--admin] --ttl 86400

Paste into a shell (also in $ENVFILE):

$EXPORTS

EOF
if [ -n "$SIM_URL" ]; then
  cat <<'EOF'
# 1. Create a certificate per platform (admin) -> 201; each "id" is a certificate_id below
# 1a. vivo (the simulator's demo vivo app) -> id 1
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"vivo","name":"vivo demo","credentials":{"app_id":"105123456","app_key":"demo-vivo-app-key","app_secret":"demo-vivo-app-secret-0123456789"},"click_action":{"type":"open_app"},"category":"IM"}'
EOF
else
  cat <<'EOF'
# 1. Create a certificate per platform (admin) -> 201; each "id" is a certificate_id below
# 1a. vivo (your vivo app's credentials) -> id 1
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"vivo","name":"vivo","credentials":{"app_id":"YOUR_VIVO_APP_ID","app_key":"YOUR_APP_KEY","app_secret":"YOUR_APP_SECRET"},"click_action":{"type":"open_app"},"category":"IM"}'
EOF
fi
if [ -n "$XIAOMI_SIM_URL" ]; then
  cat <<'EOF'
# 1b. Xiaomi (the simulator's demo app; receipts on: messages carry the receipt URL) -> id 2
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"xiaomi","name":"xiaomi demo","credentials":{"app_secret":"demo-xiaomi-app-secret-0123456789","package_name":"com.example.offpushdemo"},"vendor_options":{"channel_id":"im_private"},"receipts":true,"category":"IM"}'
EOF
else
  cat <<'EOF'
# 1b. Xiaomi (your Xiaomi app's AppSecret, package name, region and private channel) -> id 2
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"xiaomi","name":"xiaomi","credentials":{"app_secret":"YOUR_APP_SECRET","package_name":"YOUR.PACKAGE.NAME","region":"cn"},"vendor_options":{"channel_id":"YOUR_PRIVATE_CHANNEL_ID"},"category":"IM"}'
EOF
fi
if [ -n "$OPPO_SIM_URL" ]; then
  cat <<'EOF'
# 1c. OPPO (the simulator's demo app, its IM private channel; receipts on: messages carry the receipt URL) -> id 3
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"oppo","name":"oppo demo","credentials":{"app_key":"demo-oppo-app-key","master_secret":"demo-oppo-master-secret-0123456789"},"vendor_options":{"channel_id":"im_private"},"receipts":true,"category":"IM"}'
EOF
else
  cat <<'EOF'
# 1c. OPPO (your OPPO app's AppKey, MasterSecret, region and IM private channel) -> id 3
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"oppo","name":"oppo","credentials":{"app_key":"YOUR_APP_KEY","master_secret":"YOUR_MASTER_SECRET","region":"cn"},"vendor_options":{"channel_id":"YOUR_PRIVATE_CHANNEL_ID"},"category":"IM"}'
EOF
fi
if [ -n "$HONOR_SIM_URL" ]; then
  cat <<'EOF'
# 1d. Honor (the simulator's demo app) -> id 4
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"honor","name":"honor demo","credentials":{"app_id":"104400001","client_id":"demo-honor-client","client_secret":"demo-honor-client-secret-0123456789"},"category":"IM"}'
EOF
else
  cat <<'EOF'
# 1d. Honor (your Honor app's App ID, client ID and client secret) -> id 4
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"honor","name":"honor","credentials":{"app_id":"YOUR_APP_ID","client_id":"YOUR_CLIENT_ID","client_secret":"YOUR_CLIENT_SECRET"},"category":"IM"}'
EOF
fi
if [ -n "$HUAWEI_SIM_URL" ]; then
  cat <<'EOF'
# 1e. Huawei (the simulator's demo app; receipts on under receipt id demo-receipt, signed with
#     the demo callback user and secret) -> id 5
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"huawei","name":"huawei demo","credentials":{"app_id":"104400002","client_id":"104400002","client_secret":"demo-huawei-client-secret-0123456789"},"vendor_options":{"callback_user":"demo-callback-user","callback_secret":"demo-callback-secret-0123456789"},"receipt_id":"demo-receipt","category":"IM"}'
#     then register its receipt address in the simulator, as in AppGallery Connect (a push
#     through certificate 5 is refused until then):
export HUAWEI_RECEIPT_URL='<the "receipt_url" of that answer (shown once)>'
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$HUAWEI_SIM_URL/_sim/apps" \
  -d '{"app_id":"104400002","client_secret":"demo-huawei-client-secret-0123456789","receipts":[{"id":"demo-receipt","url":"'"$HUAWEI_RECEIPT_URL"'","username":"demo-callback-user","secret":"demo-callback-secret-0123456789","default":true}]}'
EOF
else
  cat <<'EOF'
# 1e. Huawei (your AppGallery Connect app id, OAuth client id and secret) -> id 5
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"platform":"huawei","name":"huawei","credentials":{"app_id":"YOUR_APP_ID","client_id":"YOUR_CLIENT_ID","client_secret":"YOUR_CLIENT_SECRET"},"category":"IM"}'
EOF
fi
cat <<'EOF'

# 2. Each user reports the token of their phone's push service (as that user) -> 200
# 2a. alice, a vivo phone: her vivo regId with certificate 1
curl -sS -w '  -> HTTP %{http_code}\n' -X PUT "$OFFPUSH_URL/v1/push-token" \
  -H "authorization: Bearer $USER_TOKEN" -H 'content-type: application/json' \
  -d '{"certificate_id":1,"token":"demo-reg-id-0001","device_id":"phone-1"}'
# 2b. bob, a Xiaomi phone: his Xiaomi regid with certificate 2
curl -sS -w '  -> HTTP %{http_code}\n' -X PUT "$OFFPUSH_URL/v1/push-token" \
  -H "authorization: Bearer $BOB_TOKEN" -H 'content-type: application/json' \
  -d '{"certificate_id":2,"token":"demo-xiaomi-regid-0001","device_id":"phone-2"}'
# 2c. carol, an OPPO phone: her OPPO registration id with certificate 3
curl -sS -w '  -> HTTP %{http_code}\n' -X PUT "$OFFPUSH_URL/v1/push-token" \
  -H "authorization: Bearer $CAROL_TOKEN" -H 'content-type: application/json' \
  -d '{"certificate_id":3,"token":"demo-oppo-regid-0001","device_id":"phone-3"}'
# 2d. dave, an Honor phone: his Honor push token with certificate 4
curl -sS -w '  -> HTTP %{http_code}\n' -X PUT "$OFFPUSH_URL/v1/push-token" \
  -H "authorization: Bearer $DAVE_TOKEN" -H 'content-type: application/json' \
  -d '{"certificate_id":4,"token":"demo-honor-token-0001","device_id":"phone-4"}'
# 2e. erin, a Huawei phone: her Huawei push token with certificate 5
curl -sS -w '  -> HTTP %{http_code}\n' -X PUT "$OFFPUSH_URL/v1/push-token" \
  -H "authorization: Bearer $ERIN_TOKEN" -H 'content-type: application/json' \
  -d '{"certificate_id":5,"token":"demo-huawei-token-0001","device_id":"phone-5"}'

# 3. Push to all of them (admin) -> 200 with per-recipient results: alice through vivo, bob
#    through Xiaomi, carol through OPPO, dave through Honor, erin through Huawei
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/push" \
  -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"to":["alice","bob","carol","dave","erin"],"title":"Alice","desc":"Hi, are you free tonight?"}'
EOF
if [ -n "$SIM_URL$XIAOMI_SIM_URL$OPPO_SIM_URL$HONOR_SIM_URL$HUAWEI_SIM_URL" ]; then
  printf '\n# 4. What the simulators delivered\n'
  if [ -n "$SIM_URL" ]; then
    cat <<'EOF'
curl -sS -w '\n' "$SIM_URL/_sim/deliveries"
EOF
  fi
  if [ -n "$XIAOMI_SIM_URL" ]; then
    cat <<'EOF'
curl -sS -w '\n' "$XIAOMI_SIM_URL/_sim/deliveries"
EOF
  fi
  if [ -n "$OPPO_SIM_URL" ]; then
    cat <<'EOF'
curl -sS -w '\n' "$OPPO_SIM_URL/_sim/deliveries"
EOF
  fi
  if [ -n "$HONOR_SIM_URL" ]; then
    cat <<'EOF'
curl -sS -w '\n' "$HONOR_SIM_URL/_sim/deliveries"
EOF
  fi
  if [ -n "$HUAWEI_SIM_URL" ]; then
    cat <<'EOF'
curl -sS -w '\n' "$HUAWEI_SIM_URL/_sim/deliveries"
EOF
  fi
fi
cat <<'EOF'

# 5. Log alice out everywhere (admin) -> 204; a push to her now answers no_device
curl -sS -w '  -> HTTP %{http_code}\n' -X POST "$OFFPUSH_URL/v1/users/alice/logout" \
  -H "authorization: Bearer $ADMIN"
EOF

if [ "$DETACH" = 1 ]; then
  cat <<EOF

Running in the background (pids in $PIDFILE).
Stop with: ${RUN_LOCAL_DIR:+RUN_LOCAL_DIR=$RUN_LOCAL_DIR }scripts/run-local.sh stop
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
      log "${STARTED[i]} (pid ${STARTED[i + 1]}) exited; stopping the rest (logs in $RUN_DIR)"
      exit 1
    fi
  done
  sleep 1 &
  SLEEP_PID=$!
  wait "$SLEEP_PID" || true
  SLEEP_PID=""
done
