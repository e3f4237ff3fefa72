#!/usr/bin/env bash
# Runs schemathesis (property-based API testing, from PyPI) against the local
# stack for a bounded time, checking that no answer is a 5xx and that every
# answer's status code, content type and body are the ones openapi.yaml
# declares. A script, not a CI gate (docs/testing.md, "Fuzzing").
#
#   1. installs schemathesis (pinned) into the project venv, once;
#   2. starts the local stack natively in the background (scripts/run-local.sh
#      --native --no-wait: DynamoDB emulator, vivo simulator, local-api), in
#      its own directory .local/schemathesis/stack and on free ports;
#   3. mints an admin token and a user token for the demo app (offpush-admin)
#      and uploads one certificate with the simulator's demo vivo app, so
#      that generated requests also reach the success paths;
#   4. pass "user": PUT/DELETE /v1/push-token, user token; then pass "admin":
#      every other operation, admin token. Half the generated certificate_ids
#      are the uploaded certificate's and half the user_ids in paths the
#      user's, so that reports bind devices and device lists are not empty;
#   5. stops the stack, prints a summary per pass; exits non-zero when a
#      check failed in any pass, or local-api's log holds a 5xx or a line
#      with a raw control character.
#
# Usage: scripts/schemathesis.sh [SECONDS]   time budget per pass (default 120)
# Env:   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 200)
#        SCHEMATHESIS_SEED          a seed, to repeat a run
#        SCHEMATHESIS_WORKERS       concurrent workers (default 2)
#        SCHEMATHESIS_CHECKS        checks (default: not_a_server_error,
#                                   status_code_conformance,
#                                   content_type_conformance,
#                                   response_schema_conformance)
#        SCHEMATHESIS_ARGS          more arguments for `schemathesis run`
#                                   (e.g. "--mode positive")
# Reports (JUnit XML, and the log of each pass) land in .local/schemathesis;
# replay a failure there: cd .local/schemathesis && ../../.venv/bin/st replay ID
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

SECS="${1:-120}"
case "$SECS" in '' | *[!0-9]* | 0) log "SECONDS must be a positive integer"; exit 2 ;; esac
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-200}"
WORKERS="${SCHEMATHESIS_WORKERS:-2}"
SCHEMATHESIS_VERSION=4.32.5
CHECKS="${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}"
USER_OPS=(reportPushToken unbindPushToken)
WORK="$LOCAL/schemathesis"
STACK="$WORK/stack"
mkdir -p "$WORK"
need curl curl

ensure_venv
if [ "$("$ROOT/.venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into .venv"
  "$ROOT/.venv/bin/python" -m pip install --disable-pip-version-check -q "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
ST="$ROOT/.venv/bin/schemathesis"

stop_stack() { RUN_LOCAL_DIR="$STACK" "$ROOT/scripts/run-local.sh" stop >&2 || true; }
trap stop_stack EXIT
# A stack an interrupted run of this script left behind.
[ -f "$STACK/run-local.pids" ] && stop_stack
log "starting the local stack (native; log: $STACK)"
RUN_LOCAL_DIR="$STACK" TABLE_NAME=offpush-schemathesis VIVO_SIM_PORT="$(free_port)" \
  "$ROOT/scripts/run-local.sh" --native --no-wait --port "$(free_port)" >"$WORK/run-local.out" 2>&1 ||
  { tail -n 30 "$WORK/run-local.out" >&2; exit 1; }
# shellcheck disable=SC1091
source "$STACK/run-local.env"

admin_tool() {
  "$CARGO_TARGET_DIR/debug/offpush-admin" --table "$TABLE_NAME" --endpoint-url "$DDB_URL" "$@" </dev/null
}
ADMIN_JWT="$(admin_tool token --app "$APP_ID" --sub schemathesis-ops --admin --ttl 3600)"
USER_JWT="$(admin_tool token --app "$APP_ID" --sub schemathesis-user --ttl 3600)"

status="$(curl -sS -o "$WORK/certificate.json" -w '%{http_code}' -X POST "$OFFPUSH_URL/v1/certificates" \
  -H "authorization: Bearer $ADMIN_JWT" -H 'content-type: application/json' \
  -d "{\"platform\":\"vivo\",\"name\":\"schemathesis\",\"credentials\":{\"app_id\":\"$VIVO_APP_ID\",\"app_key\":\"$VIVO_APP_KEY\",\"app_secret\":\"$VIVO_APP_SECRET\"}}")"
[ "$status" = 201 ] || { log "certificate upload answered $status: $(cat "$WORK/certificate.json")"; exit 1; }

CERT_ID="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/certificate.json")"
CONFIG="$WORK/schemathesis.toml"
cat >"$CONFIG" <<EOF
[dictionaries.certificates]
values = [$CERT_ID]

[dictionaries.users]
values = ["schemathesis-user"]

[parameters]
"body.certificate_id" = { dictionary = "certificates", probability = 0.5 }
"path.user_id" = { dictionary = "users", probability = 0.5 }
EOF

# run_pass NAME TOKEN FILTER...: one schemathesis run; sets PASS_RC.
declare -A PASS_RC PASS_LINE
run_pass() {
  local name="$1" token="$2" rc=0
  shift 2
  local args=(--config-file "$CONFIG" run "$ROOT/openapi.yaml" --url "$OFFPUSH_URL" -H "Authorization: Bearer $token"
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --max-time "$SECS" --workers "$WORKERS"
    --request-timeout 30 --suppress-health-check all --no-color
    --report junit --report-junit-path "$WORK/$name.junit.xml" "$@")
  [ -n "${SCHEMATHESIS_SEED:-}" ] && args+=(--seed "$SCHEMATHESIS_SEED")
  # shellcheck disable=SC2206
  [ -n "${SCHEMATHESIS_ARGS:-}" ] && args+=(${SCHEMATHESIS_ARGS})
  log "pass $name: schemathesis, up to $SECS s (log: $WORK/$name.log)"
  # From $WORK: schemathesis keeps its cache (for `st replay`) in ./.schemathesis.
  (cd "$WORK" && "$ST" "${args[@]}") >"$WORK/$name.log" 2>&1 || rc=$?
  PASS_RC[$name]=$rc
  # "974 generated, 974 passed" (and failures, errors) from the summary.
  PASS_LINE[$name]="$(sed -n '/^Test cases:/{n;p;}' "$WORK/$name.log" | tr -s ' ' | sed 's/^ //')"
  sed -n '/^=* *SUMMARY/,$p' "$WORK/$name.log" | head -n 60
}

exclude=()
include=()
for op in "${USER_OPS[@]}"; do
  exclude+=(--exclude-operation-id "$op")
  include+=(--include-operation-id "$op")
done
run_pass user "$USER_JWT" "${include[@]}"
run_pass admin "$ADMIN_JWT" "${exclude[@]}"

# 5xx in the stack's own log, whatever schemathesis made of them (-a: read
# it as text even if a line holds a control character, which is counted too:
# a value from a request must never break or colour a log line).
server_errors="$(grep -a -c '"status":5[0-9][0-9]\|status=5[0-9][0-9]' "$STACK/local-api.log" || true)"
raw_controls="$(LC_ALL=C grep -a -c -P '[\x00-\x09\x0b-\x1f\x7f]' "$STACK/local-api.log" || true)"

echo
echo "schemathesis $SCHEMATHESIS_VERSION, $SECS s per pass, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%M:%SZ):"
failed=0
for name in user admin; do
  printf '  %-6s exit %s  %s\n' "$name" "${PASS_RC[$name]}" "${PASS_LINE[$name]}"
  [ "${PASS_RC[$name]}" = 0 ] || failed=$((failed + 1))
done
echo "  statuses answered (local-api.log): $(grep -a -oE ' status=[0-9]+' "$STACK/local-api.log" | cut -d= -f2 | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')"
echo "  5xx lines in local-api.log: $server_errors"
[ "$server_errors" = 0 ] || failed=$((failed + 1))
echo "  local-api.log lines holding a raw control character: $raw_controls"
[ "$raw_controls" = 0 ] || failed=$((failed + 1))
[ "$failed" = 0 ]
