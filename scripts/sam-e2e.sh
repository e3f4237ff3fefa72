#!/usr/bin/env bash
# End-to-end check of the AWS SAM path, from a fresh machine (root, no stdin) or a warm one:
#
#   1. the project venv (aws-sam-cli, cargo-lambda, zig, moto) and sam validate --lint;
#   2. scripts/run-local.sh --sam --no-wait --build: a Docker engine with an offline Lambda
#      base image (scripts/sam/docker-up.sh), sam build (release, x86_64, through cargo-lambda
#      + zig; timed), the DynamoDB emulator (moto) and the vendor simulators (vivo, Xiaomi,
#      OPPO, Honor, Huawei) on the docker bridge address, so the function containers reach them, a table, an app and tokens made with
#      offpush-admin, and sam local start-api serving the built functions;
#   3. the artefact check (scripts/check-artifacts.sh: ELF arch, glibc <= 2.34, stripped);
#   4. every events/*.json through `sam local invoke`, in the order of events/manifest.json,
#      each answer's statusCode checked against the manifest;
#   5. scripts/smoke-api.sh driving the whole story through start-api (certificate, token,
#      push, simulator delivery, logout, no_device; then Xiaomi, OPPO, Honor and Huawei,
#      Huawei's signed receipt included).
# Prints figures: sam build seconds, bootstrap sizes, per-invoke times, start-api start time.
# Stops everything it started on exit (scripts/run-local.sh stop: also the Docker engine if
# it started it).
#
# Usage: scripts/sam-e2e.sh [--skip-build] [--no-invoke] [--no-smoke]
#   --skip-build   reuse .aws-sam/build from an earlier run (still validates and checks it)
# Env:   ALLOW_MISSING_EVENTS=1  a manifest entry whose file is missing is skipped with a
#                                warning instead of failing the run
#        CARGO_BUILD_JOBS        cargo parallelism for sam build (default: one job per CPU)
#        KEEP_DOCKER=1           leave a Docker engine this script started running
#        E2E_MANIFEST=FILE       another manifest (e.g. a subset while developing); only the
#                                default one must list every events/*.json
# Logs and the filled events: .local/sam-e2e/
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/sam_local.sh
source "$(dirname "$0")/lib/sam_local.sh"
cd "$ROOT"
T_START="$(now_ms)"

SKIP_BUILD=0 DO_INVOKE=1 DO_SMOKE=1
for arg in "$@"; do
  case "$arg" in
    --skip-build) SKIP_BUILD=1 ;;
    --no-invoke) DO_INVOKE=0 ;;
    --no-smoke) DO_SMOKE=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown argument $arg"; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { log "must run as root (docker-up installs and starts the engine)"; exit 1; }
exec </dev/null

OUT="$LOCAL/sam-e2e"
# The services of an earlier run that could not clean up (their pid file is in $OUT).
[ -s "$OUT/run-local.pids" ] && RUN_LOCAL_DIR="$OUT" scripts/run-local.sh stop
rm -rf "$OUT"; mkdir -p "$OUT/events"
BUILD_DIR="$ROOT/.aws-sam/build"
BUILT_TEMPLATE="$BUILD_DIR/template.yaml"
TABLE="offpush-e2e"
FIGURES=()
figure() { FIGURES+=("$*"); log "$*"; }

STARTED=0
cleanup() {
  local rc=$?
  set +e
  [ "$STARTED" = 1 ] && RUN_LOCAL_DIR="$OUT" scripts/run-local.sh stop
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. tools, lint --------------------------------------------------------------------------------
ensure_venv
log "sam $(sam --version 2>/dev/null | awk '{print $NF}'), cargo-lambda $(cargo-lambda lambda --version 2>/dev/null | awk '{print $2}'), $(rustc --version)"
t0="$(now_ms)"
sam validate --lint >"$OUT/validate.log" 2>&1 || { cat "$OUT/validate.log" >&2; log "FAIL: sam validate --lint"; exit 1; }
log "sam validate --lint: clean ($(secs_since "$t0") s)"

# --- 2. engine, base image, build, emulator, simulator, tenant, start-api ----------------------------
run_local=(--sam --no-wait --port "$(free_port)")
if [ "$SKIP_BUILD" = 1 ]; then
  sam_build_ready "$BUILD_DIR" || { log "--skip-build but no complete build in $BUILD_DIR"; exit 1; }
  log "sam build skipped: reusing $BUILD_DIR"
else
  run_local+=(--build)
fi
log "scripts/run-local.sh ${run_local[*]} (CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-default}; logs: $OUT)"
STARTED=1
# The simulators, a fresh emulator, and the template's defaults, whatever this shell exports.
env -u VIVO_API_BASE_URL -u XIAOMI_API_BASE_URL -u DYNAMODB_PORT -u VIVO_SIM_PORT -u XIAOMI_SIM_PORT \
  -u OPPO_API_BASE_URL -u HONOR_API_BASE_URL -u HUAWEI_API_BASE_URL \
  -u OPPO_SIM_PORT -u HONOR_SIM_PORT -u HUAWEI_SIM_PORT \
  -u RUN_LOCAL_PREBUILT RUN_LOCAL_DIR="$OUT" \
  TABLE_NAME="$TABLE" RUST_LOG=info DEFAULT_BINDING_TTL_DAYS=30 PUSH_DEADLINE_MS=20000 \
  scripts/run-local.sh "${run_local[@]}" >"$OUT/run-local.out" || { log "FAIL: scripts/run-local.sh"; exit 1; }
# shellcheck source=/dev/null
source "$OUT/run-local.env"
[ -n "$SAM_BUILD_SECS" ] && figure "sam build: $SAM_BUILD_SECS s"
figure "sam local start-api: serving after $API_START_SECS s (${#SAM_FUNCTIONS[@]} warm containers)"

# --- 3. artefacts ------------------------------------------------------------------------------------
if ! ARCH=x86_64 scripts/check-artifacts.sh "$BUILD_DIR" >"$OUT/artifacts.log" 2>&1; then
  cat "$OUT/artifacts.log" >&2; log "FAIL: artefact check"; exit 1
fi
cat "$OUT/artifacts.log" >&2
for fn in "${SAM_FUNCTIONS[@]}"; do
  figure "bootstrap $fn: $(stat -c %s "$BUILD_DIR/$fn/bootstrap" | awk '{ printf "%.2f MiB", $1 / 1048576 }')"
done

[ "$DO_INVOKE$DO_SMOKE" = 00 ] && { log "PASS (build and artefacts only)"; exit 0; }

# The functions' environment is run-local.sh's --env-vars file: every variable the template
# declares is pinned there (sam local lets a variable exported in this shell beat the
# template's value, and --env-vars beat both), AWS_ENDPOINT_URL_DYNAMODB through its
# AWS::NoValue declaration in template.yaml. SAM hands the container this shell's
# AWS_ACCESS_KEY_ID/SECRET/REGION: use_emulator's dummies.
use_emulator "$DDB_URL"
# Each sam local command first asks STS for the account id; with the dummy credentials that
# either goes to AWS for nothing or, offline, spends ~8 s in connect retries. The emulator
# answers (or refuses) at once.
export AWS_ENDPOINT_URL_STS="$DDB_URL"
SAM_LOCAL=(--skip-pull-image -t "$BUILT_TEMPLATE" --env-vars "$SAM_ENV_VARS")

# --- 4. every event through sam local invoke ------------------------------------------------------------
invoke_failures=0 invoke_passed=0 invoke_skipped=0
if [ "$DO_INVOKE" = 1 ]; then
  python3 - "$OUT/vars.json" <<PY
import json, sys
json.dump({"ADMIN_JWT": "$ADMIN", "USER_JWT": "$USER_TOKEN", "BOB_JWT": "$BOB_TOKEN",
           "VIVO_APP_ID": "$VIVO_APP_ID",
           "VIVO_APP_KEY": "$VIVO_APP_KEY", "VIVO_APP_SECRET": "$VIVO_APP_SECRET",
           "XIAOMI_APP_SECRET": "$XIAOMI_APP_SECRET", "XIAOMI_PACKAGE": "$XIAOMI_PACKAGE",
           "XIAOMI_CHANNEL": "im_private", "XIAOMI_REG_ID": "e2e-xm-regid-$(date +%s)-0123456789abcdef",
           "CAROL_JWT": "$CAROL_TOKEN", "DAVE_JWT": "$DAVE_TOKEN", "ERIN_JWT": "$ERIN_TOKEN",
           "OPPO_APP_KEY": "$OPPO_APP_KEY", "OPPO_MASTER_SECRET": "$OPPO_MASTER_SECRET",
           "OPPO_CHANNEL": "$OPPO_CHANNEL", "OPPO_REG_ID": "e2e-op-regid-$(date +%s)-0123456789abcdef",
           "HONOR_APP_ID": "$HONOR_APP_ID", "HONOR_CLIENT_ID": "$HONOR_CLIENT_ID",
           "HONOR_CLIENT_SECRET": "$HONOR_CLIENT_SECRET", "HONOR_REG_ID": "e2e-hn-token-$(date +%s)-0123456789abcdef",
           "HUAWEI_APP_ID": "$HUAWEI_APP_ID", "HUAWEI_CLIENT_SECRET": "$HUAWEI_CLIENT_SECRET",
           "HUAWEI_CALLBACK_USER": "$HUAWEI_CALLBACK_USER", "HUAWEI_CALLBACK_SECRET": "$HUAWEI_CALLBACK_SECRET",
           "HUAWEI_REG_ID": "e2e-hw-token-$(date +%s)-0123456789abcdef",
           "REG_ID": "e2e-regid-$(date +%s)-0123456789abcdef", "RUN_ID": "e2e-$(date +%s)"},
          open(sys.argv[1], "w"))
PY
  # manifest -> "index<TAB>event<TAB>function<TAB>status<TAB>capture-json"; also every
  # events/*.json must be listed, so a new event file cannot be forgotten.
  python3 - "${E2E_MANIFEST:-events/manifest.json}" events "${E2E_MANIFEST:+subset}" "${SAM_FUNCTIONS[*]}" >"$OUT/plan.tsv" <<'PY' || exit 1
import json, os, re, sys
m = json.load(open(sys.argv[1]))
functions = sys.argv[4].split()
listed = {e["event"] for e in m["events"]}
on_disk = {f for f in os.listdir(sys.argv[2]) if f.endswith(".json") and f != "manifest.json"}
unlisted = set() if sys.argv[3] == "subset" else on_disk - listed
for f in sorted(unlisted):
    print(f"events/{f} is not in events/manifest.json", file=sys.stderr)
if unlisted:
    sys.exit(1)
# template.yaml's routes: (method, path) -> the function whose Api event it is.
routes, current = {}, None
for line in open("template.yaml"):
    top = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
    if top:
        current = top.group(1)
    route = re.search(r'Method: ([A-Z]+), Path: (?:"([^"]+)"|([^,}\s]+))', line)
    if route:
        routes[(route.group(1), route.group(2) or route.group(3))] = current
bad = False
for i, e in enumerate(m["events"], 1):
    assert e["function"] in functions, (e, functions)
    # An event of a route goes to that route's function (an event of no route,
    # the default-route 404, to the function it names).
    if e["event"] in on_disk:
        ev = json.load(open(os.path.join(sys.argv[2], e["event"])))
        owner = routes.get((ev.get("httpMethod"), ev.get("resource")))
        if owner and owner != e["function"]:
            print(f'{e["event"]}: {ev["httpMethod"]} {ev["resource"]} is {owner}\'s route, not {e["function"]}\'s', file=sys.stderr)
            bad = True
if bad:
    sys.exit(1)
for i, e in enumerate(m["events"], 1):
    print(f'{i}\t{e["event"]}\t{e["function"]}\t{int(e["status"])}\t{json.dumps(e.get("capture", {}))}')
PY
  log "sam local invoke: $(wc -l <"$OUT/plan.tsv") manifest entries (logs: $OUT/invoke-*.log)"
  printf '%s\n' "result | # | event | function | want | got | wall ms | init ms | handler ms" >"$OUT/invoke-table.txt"
  while IFS=$'\t' read -r idx ev fn want capture; do
    src="events/$ev"
    tag="$(printf '%02d' "$idx")-${ev%.json}"
    if [ ! -f "$src" ]; then
      if [ "${ALLOW_MISSING_EVENTS:-0}" = 1 ]; then
        log "WARN #$idx $ev: file missing, skipped (ALLOW_MISSING_EVENTS=1)"
        invoke_skipped=$((invoke_skipped + 1))
        echo "SKIP | $idx | $ev | $fn | $want | missing | - | - | -" >>"$OUT/invoke-table.txt"
      else
        log "FAIL #$idx $ev: events/$ev does not exist (set ALLOW_MISSING_EVENTS=1 to skip missing files)"
        invoke_failures=$((invoke_failures + 1))
        echo "FAIL | $idx | $ev | $fn | $want | missing | - | - | -" >>"$OUT/invoke-table.txt"
      fi
      continue
    fi
    filled="$OUT/events/$tag.json"
    if ! python3 - "$src" "$OUT/vars.json" "$filled" <<'PY'
import json, re, sys
text, values = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
text = re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: values.get(m.group(1), m.group(0)), text)
left = sorted(set(re.findall(r"\{\{([A-Z_]+)\}\}", text)))
if left:
    sys.exit(f"unfilled placeholders {left} (not captured by an earlier entry?)")
json.loads(text)
open(sys.argv[3], "w").write(text)
PY
    then
      log "FAIL #$idx $ev: could not fill the event"
      invoke_failures=$((invoke_failures + 1))
      echo "FAIL | $idx | $ev | $fn | $want | unfilled | - | - | -" >>"$OUT/invoke-table.txt"
      continue
    fi
    t0="$(now_ms)"
    sam local invoke "$fn" -e "$filled" "${SAM_LOCAL[@]}" >"$OUT/invoke-$tag.out" 2>"$OUT/invoke-$tag.log" || true
    wall=$(( $(now_ms) - t0 ))
    # The response is the last stdout line; RIE's REPORT line carries the timings.
    read -r got init dur < <(python3 - "$OUT/invoke-$tag.out" "$OUT/invoke-$tag.log" "$OUT/vars.json" "$capture" <<'PY'
import base64, json, re, sys
out, log, vars_path, capture = sys.argv[1:]
status, body = "no-response", None
for line in reversed(open(out).read().strip().splitlines()):
    try:
        resp = json.loads(line)
    except ValueError:
        continue
    if isinstance(resp, dict) and "statusCode" in resp:
        status = str(resp["statusCode"])
        body = resp.get("body") or ""
        if resp.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
    elif isinstance(resp, dict) and "errorMessage" in resp:
        status = "error:" + resp.get("errorType", "?")
    break
text = open(log, errors="replace").read()
init = re.search(r"Init Duration: ([0-9.]+) ms", text)
dur = re.search(r"\tDuration: ([0-9.]+) ms|[^t] Duration: ([0-9.]+) ms", text)
cap = json.loads(capture)
if cap and body is not None:
    try:
        b = json.loads(body)
        values = json.load(open(vars_path))
        for name, field in cap.items():
            values[name] = str(b[field])
        json.dump(values, open(vars_path, "w"))
    except (ValueError, KeyError, TypeError):
        pass
d = next((g for g in (dur.groups() if dur else ()) if g), None)
print(status, init.group(1) if init else "-", d or "-")
PY
)
    if [ "$got" = "$want" ]; then
      invoke_passed=$((invoke_passed + 1)); verdict=PASS
    else
      invoke_failures=$((invoke_failures + 1)); verdict=FAIL
    fi
    echo "$verdict | $idx | $ev | $fn | $want | $got | $wall | $init | $dur" >>"$OUT/invoke-table.txt"
    log "$verdict #$idx $ev -> $fn: $got (want $want), wall ${wall} ms, init ${init} ms, handler ${dur} ms"
    if [ "$verdict" = FAIL ]; then
      log "  response: $(tail -c 600 "$OUT/invoke-$tag.out" | tr '\n' ' ')"
      grep -v '^\s*$' "$OUT/invoke-$tag.log" | grep -iv "mounting\|^Invoking\|Building image\|Using local image\|skip pull" | tail -n 8 | sed 's/^/  | /' >&2
    fi
  done <"$OUT/plan.tsv"
  column -t -s '|' "$OUT/invoke-table.txt" >&2 2>/dev/null || cat "$OUT/invoke-table.txt" >&2
  walls="$(awk -F' [|] ' 'NR > 1 && $7 ~ /^[0-9]+$/ { print $7 }' "$OUT/invoke-table.txt" | sort -n)"
  if [ -n "$walls" ]; then
    figure "sam local invoke (cold container each): $(echo "$walls" | wc -l) runs, wall median $(echo "$walls" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }') ms, max $(echo "$walls" | tail -n1) ms"
  fi
  figure "events: $invoke_passed passed, $invoke_failures failed, $invoke_skipped skipped"
fi

# --- 5. smoke through start-api ------------------------------------------------------------------------
smoke_rc=0
if [ "$DO_SMOKE" = 1 ]; then
  set +e
  API_URL="$OFFPUSH_URL" TABLE_NAME="$TABLE" VIVO_SIM_URL="$SIM_URL" XIAOMI_SIM_URL="${XIAOMI_SIM_URL:-}" \
    OPPO_SIM_URL="${OPPO_SIM_URL:-}" HONOR_SIM_URL="${HONOR_SIM_URL:-}" HUAWEI_SIM_URL="${HUAWEI_SIM_URL:-}" \
    VIVO_APP_ID="$VIVO_APP_ID" VIVO_APP_KEY="$VIVO_APP_KEY" VIVO_APP_SECRET="$VIVO_APP_SECRET" \
    XIAOMI_APP_SECRET="$XIAOMI_APP_SECRET" XIAOMI_PACKAGE="$XIAOMI_PACKAGE" \
    OPPO_APP_KEY="$OPPO_APP_KEY" OPPO_MASTER_SECRET="$OPPO_MASTER_SECRET" OPPO_CHANNEL="$OPPO_CHANNEL" \
    HONOR_APP_ID="$HONOR_APP_ID" HONOR_CLIENT_ID="$HONOR_CLIENT_ID" HONOR_CLIENT_SECRET="$HONOR_CLIENT_SECRET" \
    HUAWEI_APP_ID="$HUAWEI_APP_ID" HUAWEI_CLIENT_SECRET="$HUAWEI_CLIENT_SECRET" \
    HUAWEI_CALLBACK_USER="$HUAWEI_CALLBACK_USER" HUAWEI_CALLBACK_SECRET="$HUAWEI_CALLBACK_SECRET" \
    scripts/smoke-api.sh 2>&1 | tee "$OUT/smoke.log" >&2
  smoke_rc="${PIPESTATUS[0]}"
  set -e
  if [ "$smoke_rc" = 0 ]; then
    figure "smoke through start-api: PASS"
  else
    figure "smoke through start-api: FAIL (log: $OUT/smoke.log, function logs: $OUT/sam-local.log)"
  fi
fi

# --- summary ---------------------------------------------------------------------------------------------
log "---- figures ----"
for f in "${FIGURES[@]}"; do log "$f"; done
log "total: $(secs_since "$T_START") s"
if [ "$invoke_failures" -gt 0 ] || [ "$smoke_rc" != 0 ]; then
  log "FAIL"
  exit 1
fi
log "PASS"
