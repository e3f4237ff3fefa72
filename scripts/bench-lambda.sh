#!/usr/bin/env bash
# Prints the Lambda artefacts' figures as markdown sections on stdout (logs on
# stderr); nothing is asserted. The other half of the benchmarks (requests per
# push, handler latencies) is scripts/bench.sh.
#
#   1. Artefacts: per function and a hello-world (tools/hello, lambda_http +
#      tokio only), the stripped bootstrap's size and the deployment zip's
#      (zip -9 -X of the function's build directory, as sam deploy uploads it).
#   2. Cold starts under the Lambda Runtime Interface Emulator that ships in
#      aws-sam-cli, run on this host (no Docker): a fresh RIE per start,
#      timed from spawning it to the full response of one invoke; RIE's own
#      Init Duration besides. Case (a): a request answered before any
#      DynamoDB call (no Authorization header: 401); case (b): one that makes
#      the instance's first DynamoDB round trips (an admin token on one of
#      the function's routes, a GET, or for push dispatch a push to a user
#      without devices: the app's GetItem, then the route's requests), against
#      a moto server started here.
#   3. Max RSS (VmHWM) and VmRSS of the bootstrap process after WARM_INVOCATIONS
#      sequential warm invokes of case (b) through one RIE, and their p50/p99.
#   4. Warm latency through `sam local start-api` (Docker) of PUT /v1/push-token
#      and a one-recipient POST /v1/push, when a Docker engine answers.
#
# The functions' artefacts are the `sam build` output in BUILD_DIR; `sam build`
# runs only when BUILD_DIR is the default and holds no build. hello is built
# here with `cargo lambda build --release -p hello` (the same profile and
# cargo-lambda settings as sam build gives the functions).
#
# Usage: scripts/bench-lambda.sh
# Env:   BUILD_DIR           a sam build output (default .aws-sam/build); read only
#        COLD_STARTS         cold starts per binary and case (default 20)
#        WARM_INVOCATIONS    warm invokes per binary for section 3 (default 1000)
#        START_API_REQUESTS  requests per route for section 4 (default 200)
#        CARGO_BUILD_JOBS    cargo parallelism (hello's build, sam build)
# Logs, events and raw results (JSON): .local/bench-lambda/
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/sam_local.sh
source "$(dirname "$0")/lib/sam_local.sh"
cd "$ROOT"
exec </dev/null
T_START="$(now_ms)"

BUILD_DIR="${BUILD_DIR:-$ROOT/.aws-sam/build}"
COLD_STARTS="${COLD_STARTS:-20}"
WARM_INVOCATIONS="${WARM_INVOCATIONS:-1000}"
START_API_REQUESTS="${START_API_REQUESTS:-200}"
for v in COLD_STARTS WARM_INVOCATIONS START_API_REQUESTS; do
  case "${!v}" in '' | *[!0-9]* | 0) log "$v must be a positive number (got '${!v}')"; exit 2 ;; esac
done
OUT="$LOCAL/bench-lambda"
DRIVER="$ROOT/scripts/lib/lambda_bench.py"
TABLE=offpush-bench
APP=bench

# ---- what this run started, stopped on exit ----------------------------------------
MOTO_PID="" DRIVER_PID="" RUN_LOCAL_UP=0
cleanup() {
  local rc=$?
  trap '' INT TERM
  set +e
  stop_sam_build
  stop_pids trust lambda_bench "$DRIVER_PID" moto "$MOTO_PID"
  [ "$RUN_LOCAL_UP" = 1 ] && RUN_LOCAL_DIR="$OUT/run-local" scripts/run-local.sh stop
  [ "$rc" = 0 ] || log "FAILED (exit $rc; logs in $OUT)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# driver OUTFILE ARGS...: the timing driver in the background (so that a signal
# reaches the cleanup, which stops it and its RIE), its JSON into OUTFILE.
# DRIVER_ENV: env(1) arguments for it (-i and the function's environment for RIE).
DRIVER_ENV=()
driver() {
  local outf="$1"
  shift
  env ${DRIVER_ENV[@]+"${DRIVER_ENV[@]}"} "$PY" "$DRIVER" "$@" >"$outf" &
  DRIVER_PID=$!
  wait "$DRIVER_PID" || { DRIVER_PID=""; log "FAIL: lambda_bench.py $1 (see above; logs in $OUT)"; return 1; }
  DRIVER_PID=""
}

# ---- tools, builds --------------------------------------------------------------------
rm -rf "$OUT"
mkdir -p "$OUT/results" "$OUT/events"
need zip zip
need curl curl
ensure_venv
set -euo pipefail # again: venv.sh restores its caller's options without errexit

if ! sam_build_ready "$BUILD_DIR"; then
  if [ "$BUILD_DIR" != "$ROOT/.aws-sam/build" ]; then
    log "BUILD_DIR=$BUILD_DIR holds no complete sam build (template.yaml and ${SAM_FUNCTIONS[*]}/bootstrap)"
    exit 1
  fi
  log "no complete sam build in $BUILD_DIR: running sam build"
  run_sam_build "$OUT/sam-build.log"
else
  newer="$(sam_build_newer_source "$BUILD_DIR")"
  [ -z "$newer" ] || log "note: $BUILD_DIR is older than $newer; measuring the functions as last built"
fi

log "cargo lambda build --release -p hello (log: $OUT/hello-build.log)"
t0="$(now_ms)"
cargo lambda build --release --locked -p hello >"$OUT/hello-build.log" 2>&1 || {
  tail -n 30 "$OUT/hello-build.log" >&2
  log "FAIL: cargo lambda build -p hello"
  exit 1
}
HELLO_DIR="$CARGO_TARGET_DIR/lambda/hello"
[ -x "$HELLO_DIR/bootstrap" ] || { log "no $HELLO_DIR/bootstrap after cargo lambda build"; exit 1; }
log "hello built in $(secs_since "$t0") s"

log "cargo build --locked -p offpush-admin"
cargo build --locked -p offpush-admin >"$OUT/admin-build.log" 2>&1 || {
  tail -n 30 "$OUT/admin-build.log" >&2
  log "FAIL: cargo build -p offpush-admin"
  exit 1
}

RIE="$(rie_binary)"
# The interpreter itself (not a pyenv shim: the driver runs under env -i).
PY="$(python3 -c 'import sys; print(sys.executable)')"
log "RIE: $RIE"

# binary_dir NAME: the directory holding NAME's bootstrap.
binary_dir() {
  if [ "$1" = hello ]; then echo "$HELLO_DIR"; else echo "$BUILD_DIR/$1"; fi
}
BINARIES=("${SAM_FUNCTIONS[@]}" hello)

echo "# Lambda artefacts: sizes, cold starts, memory"
echo
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPU(s) ($(uname -m), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(rustc --version)."
echo "Functions: \`sam build\` output in \`${BUILD_DIR/#$ROOT\//}\`; hello: \`cargo lambda build --release -p hello\` (tools/hello)."
echo

# ---- 1. artefacts ------------------------------------------------------------------------
echo "## Artefacts"
echo
echo "The bootstrap as built (release profile: strip = \"symbols\") and the deployment zip \`sam deploy\` would upload (\`zip -9 -X\` of the build directory's contents)."
echo
echo "| binary | bootstrap bytes | bootstrap MiB | stripped | zip bytes | zip MiB | bootstrap x hello | zip x hello |"
echo "|---|---:|---:|---|---:|---:|---:|---:|"
hello_size="$(stat -c %s "$HELLO_DIR/bootstrap")"
(cd "$HELLO_DIR" && zip -9 -X -q -r "$OUT/hello.zip" .)
hello_zip="$(stat -c %s "$OUT/hello.zip")"
for name in "${BINARIES[@]}"; do
  dir="$(binary_dir "$name")"
  size="$(stat -c %s "$dir/bootstrap")"
  rm -f "$OUT/$name.zip"
  (cd "$dir" && zip -9 -X -q -r "$OUT/$name.zip" .)
  zsize="$(stat -c %s "$OUT/$name.zip")"
  if readelf -S "$dir/bootstrap" | grep -q ' \.symtab '; then stripped=no; else stripped=yes; fi
  awk -v n="$name" -v s="$size" -v z="$zsize" -v hs="$hello_size" -v hz="$hello_zip" -v st="$stripped" \
    'BEGIN { printf "| %s | %d | %.2f | %s | %d | %.2f | %.2f | %.2f |\n", n, s, s / 1048576, st, z, z / 1048576, s / hs, z / hz }'
done
echo

# ---- table, app, token: the DynamoDB state case (b) reads ---------------------------------------
start_moto 127.0.0.1 "$(free_port)" "$OUT/moto.log"
admin() {
  "$CARGO_TARGET_DIR/debug/offpush-admin" --table "$TABLE" --endpoint-url "$AWS_ENDPOINT_URL_DYNAMODB" "$@"
}
admin table create >/dev/null
admin app create --app "$APP" >/dev/null
ADMIN_JWT="$(admin token --app "$APP" --sub ops --admin --ttl 86400)"
log "table $TABLE, app $APP and an admin token in the emulator"

# The functions' environment under RIE: template.yaml's variables (with its
# defaults), the emulator, dummy credentials, vivo on a closed port (no route
# measured here calls vivo), and what Lambda sets for a 256 MB function. Nothing
# else of this shell's environment.
FN_ENV=(
  "PATH=/usr/bin:/bin" "HOME=$OUT" "LANG=C.UTF-8"
  "TABLE_NAME=$TABLE" "RUST_LOG=info" "DEFAULT_BINDING_TTL_DAYS=30"
  "VIVO_API_BASE_URL=http://127.0.0.1:$(free_port)"
  "PUSH_DEADLINE_MS=20000" "PUSH_RECORD_RETENTION_DAYS=7"
  "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" "AWS_REGION=$AWS_REGION" "AWS_DEFAULT_REGION=$AWS_REGION"
  "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256" "AWS_LAMBDA_FUNCTION_TIMEOUT=29"
)
# rie_driver OUTFILE cold|warm NAME CASE EVENT STATUS N: lambda_bench.py under FN_ENV.
rie_driver() {
  local outf="$1" cmd="$2" name="$3" case="$4" event="$5" status="$6" n="$7"
  DRIVER_ENV=(-i "${FN_ENV[@]}")
  driver "$outf" "$cmd" --rie "$RIE" --bootstrap "$(binary_dir "$name")/bootstrap" --event "$event" \
    --status "$status" --n "$n" --log "$OUT/rie-$cmd-$name-$case.log" --name "$name" --case "$case"
  DRIVER_ENV=()
}

# Events: case (a) one of the function's own routes without a token, case (b) with the
# admin token. route_of NAME: the method and the path; body_of NAME: the body, if any.
# PushDispatchFunction serves POST /v1/push alone: a push to a user with no device (no
# vendor call; its reads, then the push record and statistics written).
route_of() {
  case "$1" in
    CertUploadFunction) echo "GET /v1/certificates" ;;
    TokenReportFunction) echo "GET /v1/users/alice/devices" ;;
    PushDispatchFunction) echo "POST /v1/push" ;;
    PushVisibilityFunction) echo "GET /v1/stats" ;;
    hello) echo "GET /" ;;
  esac
}
body_of() {
  case "$1" in
    PushDispatchFunction) echo '{"to":["alice"],"desc":"bench"}' ;;
  esac
}
for name in "${BINARIES[@]}"; do
  read -r method path < <(route_of "$name")
  body="$(body_of "$name")"
  "$PY" "$DRIVER" event "$method" "$path" ${body:+--body "$body"} >"$OUT/events/$name-a.json"
  "$PY" "$DRIVER" event "$method" "$path" ${body:+--body "$body"} --header "authorization:Bearer $ADMIN_JWT" >"$OUT/events/$name-b.json"
done
status_a() { if [ "$1" = hello ]; then echo 200; else echo 401; fi; }

# ddb_requests: requests the emulator has logged so far.
ddb_requests() { grep -c '"POST / HTTP' "$OUT/moto.log" || true; }

# ---- 2. cold starts -------------------------------------------------------------------------
log "cold starts: $COLD_STARTS per binary and case (RIE logs: $OUT/rie-cold-*.log)"
cold_files=()
before="$(ddb_requests)"
for name in "${BINARIES[@]}"; do
  log "cold (a): $name"
  rie_driver "$OUT/results/cold-$name-a.json" cold "$name" a "$OUT/events/$name-a.json" "$(status_a "$name")" "$COLD_STARTS"
  cold_files+=("$OUT/results/cold-$name-a.json")
done
ddb_a=$(($(ddb_requests) - before))
before="$(ddb_requests)"
for name in "${SAM_FUNCTIONS[@]}"; do
  log "cold (b): $name"
  rie_driver "$OUT/results/cold-$name-b.json" cold "$name" b "$OUT/events/$name-b.json" 200 "$COLD_STARTS"
  cold_files+=("$OUT/results/cold-$name-b.json")
done
ddb_b=$(($(ddb_requests) - before))

echo "## Cold start under the Lambda Runtime Interface Emulator"
echo
echo "Each start spawns a fresh \`$(basename "$RIE")\` (from aws-sam-cli $(sam --version 2>/dev/null | awk '{ print $NF }')) on this host with the bootstrap as its runtime, and times spawning it to the full HTTP response of one \`POST /2015-03-31/functions/function/invocations\` (API Gateway REST API event, Lambda proxy payload 1.0; connection refused retried every ~1 ms; the invoke is sent once RIE's runtime API listens too, as on Lambda). One more start per binary and case comes first, not counted (it loads the binaries into the page cache). init median: RIE's \`INIT REPORT(durationMs)\`, the runtime's exec to its first \`/next\` (configuration, logging, the AWS SDK's setup); the \`REPORT ... Init Duration\` of this RIE does not time the on-demand init (it shows ~0.03 ms) and is printed as read. Environment: template.yaml's variables and defaults, 256 MB, dummy credentials, DynamoDB = a moto server on 127.0.0.1 (a local round trip: no TLS handshake, no network)."
echo
echo "- case (a): a route of the function's own without an Authorization header, answered 401 before any DynamoDB call (hello: its 200). DynamoDB requests the emulator received during all case (a) starts (the uncounted ones included): $ddb_a."
echo "- case (b): the same route with an admin token (cert-upload \`GET /v1/certificates\`, token-report \`GET /v1/users/alice/devices\`, push-dispatch \`POST /v1/push\` to a user without devices, push-visibility \`GET /v1/stats\`; the last two are one binary): the instance's first DynamoDB round trips (the app's GetItem, then the route's reads, and for the push its record and statistics written), answered 200. DynamoDB requests during all case (b) starts: $ddb_b ($(awk -v d="$ddb_b" -v n="$(((COLD_STARTS + 1) * ${#SAM_FUNCTIONS[@]}))" 'BEGIN { printf "%.1f", d / n }') per start)."
echo
"$PY" "$DRIVER" table "${cold_files[@]}"
echo

# ---- 3. memory after warm invokes ------------------------------------------------------------
log "warm: $WARM_INVOCATIONS invokes per binary through one RIE each"
warm_files=()
for name in "${BINARIES[@]}"; do
  if [ "$name" = hello ]; then c=a; st=200; else c=b; st=200; fi
  log "warm ($c): $name"
  rie_driver "$OUT/results/warm-$name.json" warm "$name" "$c" "$OUT/events/$name-$c.json" "$st" "$WARM_INVOCATIONS"
  warm_files+=("$OUT/results/warm-$name.json")
done
echo "## Memory after $WARM_INVOCATIONS warm invocations"
echo
echo "One RIE per binary: one first invoke, then $WARM_INVOCATIONS sequential invokes of case (b) (hello: its request) on one keep-alive connection; then VmHWM (peak resident set) and VmRSS of the bootstrap process (RIE's child) from /proc. The warm latencies are measured through RIE (its HTTP hop and its runtime API included), with DynamoDB on local moto."
echo
"$PY" "$DRIVER" warmtable "${warm_files[@]}"
echo
stop_pids trust moto "$MOTO_PID"
MOTO_PID=""

# ---- 4. warm latency through sam local start-api -------------------------------------------------
echo "## Warm latency through sam local start-api"
echo
skip=""
if ! docker_answers; then
  skip="no Docker engine answers (\`docker info\`; scripts/sam/docker-up.sh starts one, as root)"
elif [ "$BUILD_DIR" != "$ROOT/.aws-sam/build" ]; then
  skip="BUILD_DIR is not this checkout's .aws-sam/build (scripts/run-local.sh serves that one)"
fi
if [ -n "$skip" ]; then
  log "section 4 skipped: $skip"
  echo "Skipped: $skip."
  echo
else
  log "scripts/run-local.sh --sam --no-wait (logs: $OUT/run-local)"
  RUN_LOCAL_UP=1
  env -u VIVO_API_BASE_URL -u DYNAMODB_PORT -u VIVO_SIM_PORT -u RUN_LOCAL_PREBUILT RUN_LOCAL_DIR="$OUT/run-local" \
    TABLE_NAME="$TABLE-api" RUST_LOG=info scripts/run-local.sh --sam --no-wait --port "$(free_port)" \
    >"$OUT/run-local.out" || { log "FAIL: scripts/run-local.sh --sam"; exit 1; }
  # shellcheck source=/dev/null
  source "$OUT/run-local/run-local.env"
  admin_h="authorization:Bearer $ADMIN"
  user_h="authorization:Bearer $USER_TOKEN"
  cert_body="{\"platform\":\"vivo\",\"name\":\"bench\",\"credentials\":{\"app_id\":\"$VIVO_APP_ID\",\"app_key\":\"$VIVO_APP_KEY\",\"app_secret\":\"$VIVO_APP_SECRET\"},\"click_action\":{\"type\":\"open_app\"},\"category\":\"IM\"}"
  cert_id="$(curl -sS -X POST "$OFFPUSH_URL/v1/certificates" -H "${admin_h/:/: }" -H 'content-type: application/json' -d "$cert_body" |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')" || { log "FAIL: could not create a certificate"; exit 1; }
  token_body="{\"certificate_id\":$cert_id,\"token\":\"bench-reg-id-0123456789abcdef\",\"device_id\":\"phone-1\"}"
  log "PUT /v1/push-token x $START_API_REQUESTS"
  driver "$OUT/results/api-token.json" http --url "$OFFPUSH_URL" --method PUT --path /v1/push-token \
    --header "$user_h" --body "$token_body" --status 200 --n "$START_API_REQUESTS"
  log "POST /v1/push x $START_API_REQUESTS"
  # A fresh request_id each time would need the driver to vary the body; the same body without
  # request_id is a new push each time (idempotency needs a request_id).
  driver "$OUT/results/api-push.json" http --url "$OFFPUSH_URL" --method POST --path /v1/push \
    --header "$admin_h" --body '{"to":["alice"],"title":"bench","desc":"one recipient"}' --status 200 --n "$START_API_REQUESTS"
  echo "\`sam local start-api\` (warm containers, Docker), vivo = the simulator, DynamoDB = moto, both on the Docker bridge; $START_API_REQUESTS sequential requests per route on one keep-alive connection after one untimed request."
  echo
  "$PY" "$DRIVER" apitable "$OUT/results/api-token.json" "$OUT/results/api-push.json"
  echo
fi

log "done in $(secs_since "$T_START") s"
