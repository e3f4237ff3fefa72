#!/usr/bin/env bash
# Drives the whole offpush story through a running API (sam local start-api, the
# local runner, or a deployed stack):
#   1. create an app with offpush-admin (straight into the table) and mint an admin token
#      and a user token for alice;
#   2. upload a vivo certificate (checked against vivo / the simulator)            -> 201
#   3. report alice's device token                                                   -> 200
#   4. push to alice                                             -> 200, alice: "sent"
#   5. the vivo simulator received that notification: regId, title, content, skipType,
#      category, and the vendor task id the API reported; with receipts on (the
#      certificate's receipt_id, its receipt URL registered at the simulator), the
#      simulator's receipt (sent twice) marks the device delivered in the push record
#      and the day's statistics count it once (skipped without VIVO_SIM_URL)
#   6. log alice out (admin kick)                                                    -> 204
#   7. her device list is empty, a second push answers "no_device" and sends nothing,
#      and her push log says why (logged out by an admin);
#   8. Xiaomi (with XIAOMI_SIM_URL): a Xiaomi certificate with receipts on -> 201, bob
#      reports his Xiaomi regid -> 200, a push to bob -> "sent", the Xiaomi simulator
#      received it (regid, title, channel, the receipt URL), and its receipt marks the
#      device delivered in the push record;
#   9. OPPO (with OPPO_SIM_URL): an OPPO certificate on the demo app's IM private channel
#      -> 201 (the master secret never shown), carol reports her OPPO registration id -> 200,
#      a push to carol -> "sent", and the OPPO simulator received it (registration id,
#      title, channel);
#  10. Honor (with HONOR_SIM_URL): an Honor certificate -> 201 (the client secret never
#      shown), dave reports his Honor token -> 200, a push to dave -> "sent", and the Honor
#      simulator received it (token, app id, title);
#  11. Huawei (with HUAWEI_SIM_URL): a Huawei certificate with a receipt_id and the receipt
#      callback user and secret -> 201 (the secrets never shown), its receipt URL registered
#      at the simulator under that receipt id with that user and secret, erin reports her
#      Huawei token -> 200, a push to erin -> "sent", the Huawei simulator received it
#      (token, title, receipt id), and its signed receipt marks the device delivered in the
#      push record.
# Every step prints its status and time; the first unexpected answer stops the script
# with the request, the status and the body.
#
# Env (required): API_URL      base URL, e.g. http://127.0.0.1:3000 or the stack's ApiUrl
#                 TABLE_NAME   the table offpush-admin writes the app into
# Env (optional): AWS_ENDPOINT_URL_DYNAMODB   the DynamoDB emulator (else real AWS credentials)
#                 VIVO_SIM_URL  the vivo simulator's base URL (enables step 5)
#                 XIAOMI_SIM_URL  the Xiaomi simulator's base URL (enables step 8)
#                 XIAOMI_APP_SECRET / XIAOMI_PACKAGE   Xiaomi credentials to upload
#                               (default: the simulator's demo app)
#                 OPPO_SIM_URL / HONOR_SIM_URL / HUAWEI_SIM_URL   the OPPO, Honor and
#                               Huawei simulators' base URLs (enable steps 9, 10, 11)
#                 OPPO_APP_KEY / OPPO_MASTER_SECRET / OPPO_CHANNEL   OPPO credentials and
#                               IM private channel to upload (default: the simulator's demo app)
#                 HONOR_APP_ID / HONOR_CLIENT_ID / HONOR_CLIENT_SECRET   Honor credentials
#                               (default: the simulator's demo app)
#                 HUAWEI_APP_ID / HUAWEI_CLIENT_SECRET / HUAWEI_CALLBACK_USER /
#                 HUAWEI_CALLBACK_SECRET   Huawei credentials (the app id is the client id)
#                               and receipt callback user and secret (default: the demo app)
#                 VIVO_APP_ID / VIVO_APP_KEY / VIVO_APP_SECRET   vivo credentials to upload
#                               (default: the simulator's demo app 105123456)
#                 OFFPUSH_ADMIN path to the offpush-admin binary (default: target/debug's,
#                               else `cargo run -p offpush-admin`)
#                 SMOKE_APP     app id to create (default: smoke-<random>; must be new)
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

: "${API_URL:?set API_URL (e.g. http://127.0.0.1:3000)}"
: "${TABLE_NAME:?set TABLE_NAME (the stack table or the local one)}"
API_URL="${API_URL%/}"
VIVO_APP_ID="${VIVO_APP_ID:-105123456}"
VIVO_APP_KEY="${VIVO_APP_KEY:-demo-vivo-app-key}"
VIVO_APP_SECRET="${VIVO_APP_SECRET:-demo-vivo-app-secret-0123456789}"
XIAOMI_APP_SECRET="${XIAOMI_APP_SECRET:-demo-xiaomi-app-secret-0123456789}"
XIAOMI_PACKAGE="${XIAOMI_PACKAGE:-com.example.offpushdemo}"
OPPO_APP_KEY="${OPPO_APP_KEY:-demo-oppo-app-key}"
OPPO_MASTER_SECRET="${OPPO_MASTER_SECRET:-demo-oppo-master-secret-0123456789}"
OPPO_CHANNEL="${OPPO_CHANNEL:-im_private}"
HONOR_APP_ID="${HONOR_APP_ID:-104400001}"
HONOR_CLIENT_ID="${HONOR_CLIENT_ID:-demo-honor-client}"
HONOR_CLIENT_SECRET="${HONOR_CLIENT_SECRET:-demo-honor-client-secret-0123456789}"
HUAWEI_APP_ID="${HUAWEI_APP_ID:-104400002}"
HUAWEI_CLIENT_SECRET="${HUAWEI_CLIENT_SECRET:-demo-huawei-client-secret-0123456789}"
HUAWEI_CALLBACK_USER="${HUAWEI_CALLBACK_USER:-demo-callback-user}"
HUAWEI_CALLBACK_SECRET="${HUAWEI_CALLBACK_SECRET:-demo-callback-secret-0123456789}"
RUN="$(date +%s)-$RANDOM"
APP="${SMOKE_APP:-smoke-$RUN}"
REG_ID="smoke-regid-$RUN-0123456789abcdef"
DEVICE="smoke-device-$RUN"
TMP="$(mktemp -d /tmp/offpush-smoke.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

admin() {
  if [ -n "${OFFPUSH_ADMIN:-}" ]; then "$OFFPUSH_ADMIN" "$@"
  elif [ -x "$CARGO_TARGET_DIR/debug/offpush-admin" ]; then "$CARGO_TARGET_DIR/debug/offpush-admin" "$@"
  else cargo run -q -p offpush-admin -- "$@"
  fi
}

step_no=0
STATUS=""
# call LABEL METHOD PATH TOKEN [JSON_BODY]: the response body lands in $TMP/body, the
# status in STATUS; prints the step line.
call() {
  local label="$1" method="$2" path="$3" token="$4" body="${5:-}" t0 t1 args
  step_no=$((step_no + 1))
  args=(-sS -o "$TMP/body" -w '%{http_code}' -X "$method" "$API_URL$path" --max-time 60
        -H 'accept: application/json')
  [ -n "$token" ] && args+=(-H "authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'content-type: application/json' --data-binary "$body")
  t0="$(now_ms)"
  STATUS="$(curl "${args[@]}")" || STATUS="curl-failed"
  t1="$(now_ms)"
  LAST="$method $path"
  log "step $step_no: $label: $method $path -> $STATUS ($((t1 - t0)) ms)"
}
fail() {
  log "FAIL at step $step_no ($LAST): $*"
  [ -s "$TMP/body" ] && log "response body: $(head -c 2000 "$TMP/body")"
  exit 1
}
expect_status() { [ "$STATUS" = "$1" ] || fail "status $STATUS, expected $1"; }
# check 'PYTHON EXPRESSION over b (the parsed body)' 'what it means'
check() {
  python3 - "$TMP/body" "$1" <<'PY' || fail "$2"
import json, sys
b = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"b": b})
sys.exit(0 if ok else 1)
PY
}
# field DOTTED.PATH: one value of the last response body (list indexes as numbers).
field() {
  python3 - "$TMP/body" "$1" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if k.isdigit() else v[k]
print(v)
PY
}

# --- 1. tenant and tokens --------------------------------------------------------------------
log "API $API_URL, table $TABLE_NAME${AWS_ENDPOINT_URL_DYNAMODB:+ on $AWS_ENDPOINT_URL_DYNAMODB}, app $APP"
admin --table "$TABLE_NAME" app create --app "$APP" >"$TMP/app.json" || { log "FAIL: offpush-admin app create"; exit 1; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["app_id"]==sys.argv[2] and len(d["signing_secret"])>=32' \
  "$TMP/app.json" "$APP" || { log "FAIL: app create printed no app id/secret"; exit 1; }
ADMIN_JWT="$(admin --table "$TABLE_NAME" token --app "$APP" --sub smoke-ops --admin --ttl 900)"
USER_JWT="$(admin --table "$TABLE_NAME" token --app "$APP" --sub alice --ttl 900)"
BOB_JWT="$(admin --table "$TABLE_NAME" token --app "$APP" --sub bob --ttl 900)"
# One user per vendor phone: an app allows one device per user by default.
CAROL_JWT="$(admin --table "$TABLE_NAME" token --app "$APP" --sub carol --ttl 900)"
DAVE_JWT="$(admin --table "$TABLE_NAME" token --app "$APP" --sub dave --ttl 900)"
ERIN_JWT="$(admin --table "$TABLE_NAME" token --app "$APP" --sub erin --ttl 900)"
log "step 0: app $APP created, admin and user tokens (alice, bob, carol, dave, erin) minted"

call "no token is refused" GET /v1/certificates ""
expect_status 401
check 'b["error"]["code"] == "unauthenticated"' "401 without the error body of API.md"

# --- 2. certificate ------------------------------------------------------------------------
# With the simulator, receipts are on: the certificate gets a receipt ID, and the
# receipt URL its answer shows is registered at the simulator as in vivo's console.
RECEIPT_FIELD=""
[ -n "${VIVO_SIM_URL:-}" ] && RECEIPT_FIELD=",\"receipt_id\":\"smoke-$RUN\""
call "upload a vivo certificate" POST /v1/certificates "$ADMIN_JWT" "$(cat <<JSON
{"platform":"vivo","name":"smoke vivo","credentials":{"app_id":"$VIVO_APP_ID","app_key":"$VIVO_APP_KEY","app_secret":"$VIVO_APP_SECRET"},"click_action":{"type":"open_app"},"category":"IM","push_mode":"production"$RECEIPT_FIELD}
JSON
)"
expect_status 201
if [ -n "${VIVO_SIM_URL:-}" ]; then
  check "b['receipt_id'] == 'smoke-$RUN' and '/v1/receipts/vivo/' in b['receipt_url']" "no receipt URL in the create answer"
  RECEIPT_URL="$(field receipt_url)"
  curl -fsS -X POST "${VIVO_SIM_URL%/}/_sim/receipts" -H 'content-type: application/json' \
    --data-binary "{\"app_id\":$VIVO_APP_ID,\"receipt_id\":\"smoke-$RUN\",\"url\":\"$RECEIPT_URL\"}" >/dev/null \
    || fail "registering the receipt URL at the simulator"
  curl -fsS -X POST "${VIVO_SIM_URL%/}/_sim/receipt-settings" -H 'content-type: application/json' \
    --data-binary '{"delay_ms":0,"redeliver":true}' >/dev/null || fail "simulator receipt settings"
fi
check 'isinstance(b["id"], int) and b["id"] > 0' "no positive integer id"
check "'$VIVO_APP_SECRET' not in str(b) and b['credentials']['app_secret'].startswith('****')" "app_secret not masked"
CERT_ID="$(field id)"

# --- 3. token report -------------------------------------------------------------------------
call "alice reports her device token" PUT /v1/push-token "$USER_JWT" \
  "{\"certificate_id\":$CERT_ID,\"token\":\"$REG_ID\",\"device_id\":\"$DEVICE\"}"
expect_status 200
check "b['certificate_id'] == $CERT_ID and b['device_id'] == '$DEVICE'" "binding does not echo certificate/device"
check "'$REG_ID' not in str(b) and b['token'].endswith('$REG_ID'[-4:])" "token not masked to its last 4 characters"

# --- 4. push ---------------------------------------------------------------------------------
TITLE="offpush smoke"
DESC="Hello alice, run $RUN"
call "push to alice" POST /v1/push "$ADMIN_JWT" \
  "{\"to\":[\"alice\"],\"title\":\"$TITLE\",\"desc\":\"$DESC\",\"category\":\"IM\",\"request_id\":\"smoke-$RUN-1\"}"
expect_status 200
check 'b["duplicate"] is False and len(b["results"]) == 1' "expected one result, duplicate false"
check 'b["results"][0]["user_id"] == "alice" and b["results"][0]["status"] == "sent"' "alice's result is not \"sent\""
check "b['results'][0]['certificate_id'] == $CERT_ID and b['results'][0]['device_id'] == '$DEVICE'" "result names the wrong certificate/device"
check 'bool(b["results"][0].get("vendor_task_id")) and b["summary"]["sent"] == 1' "no vendor_task_id or summary.sent != 1"
TASK_ID="$(field results.0.vendor_task_id)"

# --- 5. what vivo received -------------------------------------------------------------------
if [ -n "${VIVO_SIM_URL:-}" ]; then
  step_no=$((step_no + 1)); LAST="GET $VIVO_SIM_URL/_sim/deliveries"
  curl -fsS "${VIVO_SIM_URL%/}/_sim/deliveries" -o "$TMP/body" || fail "simulator not reachable"
  check "len([d for d in b if d['reg_id'] == '$REG_ID']) == 1" "simulator has not exactly one delivery to alice's regId"
  python3 - "$TMP/body" "$REG_ID" "$TASK_ID" "$TITLE" "$DESC" "$VIVO_APP_ID" <<'PY' || fail "delivery fields differ from the push"
import json, sys
deliveries, reg, task, title, desc, app_id = json.load(open(sys.argv[1])), *sys.argv[2:]
d = next(d for d in deliveries if d["reg_id"] == reg)
p = d["payload"]
want = {"app_id": (d["app_id"], int(app_id)), "task_id": (d["task_id"], task),
        "title": (p.get("title"), title), "content": (p.get("content"), desc),
        "skipType": (p.get("skipType"), 1), "category": (p.get("category"), "IM")}
bad = {k: v for k, v in want.items() if v[0] != v[1]}
for k, (got, exp) in bad.items():
    print(f"  {k}: got {got!r}, expected {exp!r}", file=sys.stderr)
print(f"  vivo got via {d['via']}: " + ", ".join(f"{k}={p.get(k)!r}" for k in ("regId", "title", "content", "skipType", "category", "classification", "requestId") if k in p), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
  log "step $step_no: simulator delivery matches (regId, title, content, skipType 1, category IM, task id)"
else
  log "VIVO_SIM_URL not set: delivery check skipped"
fi

# --- 5b. the receipt loop: vivo's receipt marks alice's device delivered --------------------
if [ -n "${VIVO_SIM_URL:-}" ]; then
  curl -fsS -X POST "${VIVO_SIM_URL%/}/_sim/receipt-flush" >/dev/null || fail "simulator receipt flush"
  curl -fsS "${VIVO_SIM_URL%/}/_sim/receipt-log" -o "$TMP/body" || fail "simulator not reachable"
  check "any(p.get('status') == 200 for p in b)" "the simulator's receipt POST was not answered 200"
  call "the push record shows the device delivered" GET "/v1/pushes/smoke-$RUN-1" "$ADMIN_JWT"
  expect_status 200
  check 'b["results"][0]["delivery_state"] == "delivered" and b["summary"]["delivered"] == 1' "not delivered after the receipt (redelivered too)"
  call "today's statistics count it once" GET "/v1/stats?certificate_id=$CERT_ID" "$ADMIN_JWT"
  expect_status 200
  check 'b["days"][-1]["sent"] == 1 and b["days"][-1]["delivered"] == 1' "statistics do not say sent 1, delivered 1"
fi

# --- 6. logout -------------------------------------------------------------------------------
call "admin logs alice out everywhere" POST /v1/users/alice/logout "$ADMIN_JWT"
expect_status 204
call "alice has no live device" GET /v1/users/alice/devices "$ADMIN_JWT"
expect_status 200
check 'b["devices"] == []' "devices still listed after logout"

# --- 7. push after logout ----------------------------------------------------------------------
call "push to alice after logout" POST /v1/push "$ADMIN_JWT" \
  "{\"to\":[\"alice\"],\"title\":\"$TITLE\",\"desc\":\"after logout $RUN\",\"category\":\"IM\",\"request_id\":\"smoke-$RUN-2\"}"
expect_status 200
check 'b["results"][0]["user_id"] == "alice" and b["results"][0]["status"] == "no_device"' "alice's result is not \"no_device\""
check 'b["summary"]["no_device"] == 1 and b["summary"]["sent"] == 0' "summary does not say no_device 1, sent 0"
call "alice's push log says why" GET /v1/users/alice/push-log "$ADMIN_JWT"
expect_status 200
check 'b["entries"][0]["results"][0]["reason"]["code"] == "logged_out" and b["entries"][0]["results"][0]["reason"]["by"] == "admin"' "the push log does not say logged out by an admin"
if [ -n "${VIVO_SIM_URL:-}" ]; then
  curl -fsS "${VIVO_SIM_URL%/}/_sim/deliveries" -o "$TMP/body" || fail "simulator not reachable"
  check "len([d for d in b if d['reg_id'] == '$REG_ID']) == 1" "a notification reached alice after logout"
fi

# --- 8. Xiaomi ----------------------------------------------------------------------------------
if [ -n "${XIAOMI_SIM_URL:-}" ]; then
  XM_REGID="smoke-xm-regid-$RUN-0123456789"
  call "upload a Xiaomi certificate (receipts on)" POST /v1/certificates "$ADMIN_JWT" "$(cat <<JSON
{"platform":"xiaomi","name":"smoke xiaomi","credentials":{"app_secret":"$XIAOMI_APP_SECRET","package_name":"$XIAOMI_PACKAGE"},"vendor_options":{"channel_id":"im_private"},"receipts":true}
JSON
)"
  expect_status 201
  check "b['platform'] == 'xiaomi' and '/v1/receipts/xiaomi/' in b['receipt_url'] and '$XIAOMI_APP_SECRET' not in str(b)" "no Xiaomi receipt URL, or the secret shown"
  XM_CERT="$(field id)"
  XM_RECEIPT_URL="$(field receipt_url)"
  curl -fsS -X POST "${XIAOMI_SIM_URL%/}/_sim/receipt-settings" -H 'content-type: application/json' \
    --data-binary '{"delay_ms":0}' >/dev/null || fail "Xiaomi simulator receipt settings"
  call "bob reports his Xiaomi regid" PUT /v1/push-token "$BOB_JWT" \
    "{\"certificate_id\":$XM_CERT,\"token\":\"$XM_REGID\",\"device_id\":\"smoke-xm-$RUN\"}"
  expect_status 200
  call "push to bob through Xiaomi" POST /v1/push "$ADMIN_JWT" \
    "{\"to\":[\"bob\"],\"title\":\"$TITLE\",\"desc\":\"xiaomi $RUN\",\"request_id\":\"smoke-$RUN-xm\"}"
  expect_status 200
  check 'b["results"][0]["status"] == "sent" and bool(b["results"][0].get("vendor_task_id"))' "bob's Xiaomi result is not \"sent\" with a message id"
  curl -fsS "${XIAOMI_SIM_URL%/}/_sim/deliveries" -o "$TMP/body" || fail "Xiaomi simulator not reachable"
  check "len([d for d in b if d['reg_id'] == '$XM_REGID' and d['title'] == '$TITLE' and d['channel_id'] == 'im_private' and d['extra'].get('callback') == '$XM_RECEIPT_URL']) == 1" "the Xiaomi simulator has not exactly one matching delivery to bob"
  log "step $step_no: Xiaomi delivery matches (regid, title, private channel, receipt URL)"
  curl -fsS -X POST "${XIAOMI_SIM_URL%/}/_sim/receipt-flush" -o /dev/null || fail "Xiaomi receipt flush"
  call "bob's Xiaomi push record after the receipt" GET "/v1/pushes/smoke-$RUN-xm" "$ADMIN_JWT"
  expect_status 200
  check 'b["results"][0]["delivery_state"] == "delivered"' "not delivered after the Xiaomi receipt"
else
  log "XIAOMI_SIM_URL not set: the Xiaomi steps skipped"
fi

# --- 9. OPPO ------------------------------------------------------------------------------------
if [ -n "${OPPO_SIM_URL:-}" ]; then
  OP_REGID="smoke-op-regid-$RUN-0123456789"
  call "upload an OPPO certificate" POST /v1/certificates "$ADMIN_JWT" "$(cat <<JSON
{"platform":"oppo","name":"smoke oppo","credentials":{"app_key":"$OPPO_APP_KEY","master_secret":"$OPPO_MASTER_SECRET"},"vendor_options":{"channel_id":"$OPPO_CHANNEL"},"category":"IM"}
JSON
)"
  expect_status 201
  check "b['platform'] == 'oppo' and '$OPPO_MASTER_SECRET' not in str(b) and b['credentials']['master_secret'].startswith('****')" "the OPPO master secret shown, or not masked"
  OP_CERT="$(field id)"
  call "carol reports her OPPO registration id" PUT /v1/push-token "$CAROL_JWT" \
    "{\"certificate_id\":$OP_CERT,\"token\":\"$OP_REGID\",\"device_id\":\"smoke-op-$RUN\"}"
  expect_status 200
  check "b['certificate_id'] == $OP_CERT and '$OP_REGID' not in str(b)" "the binding does not echo the certificate, or the token not masked"
  call "push to carol through OPPO" POST /v1/push "$ADMIN_JWT" \
    "{\"to\":[\"carol\"],\"title\":\"$TITLE\",\"desc\":\"oppo $RUN\",\"category\":\"IM\",\"request_id\":\"smoke-$RUN-op\"}"
  expect_status 200
  check 'b["results"][0]["user_id"] == "carol" and b["results"][0]["status"] == "sent" and bool(b["results"][0].get("vendor_task_id"))' "carol's OPPO result is not \"sent\" with a message id"
  step_no=$((step_no + 1)); LAST="GET $OPPO_SIM_URL/_sim/deliveries"
  curl -fsS "${OPPO_SIM_URL%/}/_sim/deliveries" -o "$TMP/body" || fail "OPPO simulator not reachable"
  check "len([d for d in b if d['target'] == '$OP_REGID' and d['title'] == '$TITLE' and d['channel_id'] == '$OPPO_CHANNEL']) == 1" "the OPPO simulator has not exactly one matching delivery to carol"
  log "step $step_no: OPPO delivery matches (registration id, title, private channel)"
else
  log "OPPO_SIM_URL not set: the OPPO steps skipped"
fi

# --- 10. Honor ----------------------------------------------------------------------------------
if [ -n "${HONOR_SIM_URL:-}" ]; then
  HN_TOKEN="smoke-hn-token-$RUN-0123456789"
  call "upload an Honor certificate" POST /v1/certificates "$ADMIN_JWT" "$(cat <<JSON
{"platform":"honor","name":"smoke honor","credentials":{"app_id":"$HONOR_APP_ID","client_id":"$HONOR_CLIENT_ID","client_secret":"$HONOR_CLIENT_SECRET"},"category":"IM"}
JSON
)"
  expect_status 201
  check "b['platform'] == 'honor' and '$HONOR_CLIENT_SECRET' not in str(b) and b['credentials']['client_secret'].startswith('****')" "the Honor client secret shown, or not masked"
  HN_CERT="$(field id)"
  call "dave reports his Honor token" PUT /v1/push-token "$DAVE_JWT" \
    "{\"certificate_id\":$HN_CERT,\"token\":\"$HN_TOKEN\",\"device_id\":\"smoke-hn-$RUN\"}"
  expect_status 200
  check "b['certificate_id'] == $HN_CERT and '$HN_TOKEN' not in str(b)" "the binding does not echo the certificate, or the token not masked"
  call "push to dave through Honor" POST /v1/push "$ADMIN_JWT" \
    "{\"to\":[\"dave\"],\"title\":\"$TITLE\",\"desc\":\"honor $RUN\",\"category\":\"IM\",\"request_id\":\"smoke-$RUN-hn\"}"
  expect_status 200
  check 'b["results"][0]["user_id"] == "dave" and b["results"][0]["status"] == "sent"' "dave's Honor result is not \"sent\""
  step_no=$((step_no + 1)); LAST="GET $HONOR_SIM_URL/_sim/deliveries"
  curl -fsS "${HONOR_SIM_URL%/}/_sim/deliveries" -o "$TMP/body" || fail "Honor simulator not reachable"
  check "len([d for d in b if d['token'] == '$HN_TOKEN' and d['app_id'] == '$HONOR_APP_ID' and d['title'] == '$TITLE']) == 1" "the Honor simulator has not exactly one matching delivery to dave"
  log "step $step_no: Honor delivery matches (token, app id, title)"
else
  log "HONOR_SIM_URL not set: the Honor steps skipped"
fi

# --- 11. Huawei ---------------------------------------------------------------------------------
if [ -n "${HUAWEI_SIM_URL:-}" ]; then
  HW_TOKEN="smoke-hw-token-$RUN-0123456789"
  HW_RECEIPT="smoke-hw-$RUN"
  call "upload a Huawei certificate (receipts on, signed)" POST /v1/certificates "$ADMIN_JWT" "$(cat <<JSON
{"platform":"huawei","name":"smoke huawei","credentials":{"app_id":"$HUAWEI_APP_ID","client_id":"$HUAWEI_APP_ID","client_secret":"$HUAWEI_CLIENT_SECRET"},"vendor_options":{"callback_user":"$HUAWEI_CALLBACK_USER","callback_secret":"$HUAWEI_CALLBACK_SECRET"},"receipt_id":"$HW_RECEIPT","category":"IM"}
JSON
)"
  expect_status 201
  check "b['platform'] == 'huawei' and b['receipt_id'] == '$HW_RECEIPT' and '/v1/receipts/huawei/' in b['receipt_url']" "no Huawei receipt id or receipt URL in the create answer"
  check "'$HUAWEI_CLIENT_SECRET' not in str(b) and '$HUAWEI_CALLBACK_SECRET' not in str(b) and '$HUAWEI_CALLBACK_USER' not in str(b) and b['credentials']['client_secret'].startswith('****')" "a Huawei secret shown, or not masked"
  HW_CERT="$(field id)"
  HW_RECEIPT_URL="$(field receipt_url)"
  # As in AppGallery Connect: the app's receipt address under that receipt id, with the
  # callback user and secret Huawei signs each receipt POST with.
  python3 -c 'import json, sys
app_id, secret, rid, url, user, cb_secret = sys.argv[1:]
print(json.dumps({"app_id": app_id, "client_secret": secret, "receipts": [
    {"id": rid, "url": url, "username": user, "secret": cb_secret, "default": True}]}))' \
    "$HUAWEI_APP_ID" "$HUAWEI_CLIENT_SECRET" "$HW_RECEIPT" "$HW_RECEIPT_URL" \
    "$HUAWEI_CALLBACK_USER" "$HUAWEI_CALLBACK_SECRET" >"$TMP/hw-app.json"
  curl -fsS -X POST "${HUAWEI_SIM_URL%/}/_sim/apps" -H 'content-type: application/json' \
    --data-binary "@$TMP/hw-app.json" >/dev/null || fail "registering the receipt URL at the Huawei simulator"
  curl -fsS -X POST "${HUAWEI_SIM_URL%/}/_sim/receipt-settings" -H 'content-type: application/json' \
    --data-binary '{"delay_ms":0}' >/dev/null || fail "Huawei simulator receipt settings"
  call "erin reports her Huawei token" PUT /v1/push-token "$ERIN_JWT" \
    "{\"certificate_id\":$HW_CERT,\"token\":\"$HW_TOKEN\",\"device_id\":\"smoke-hw-$RUN\"}"
  expect_status 200
  check "b['certificate_id'] == $HW_CERT and '$HW_TOKEN' not in str(b)" "the binding does not echo the certificate, or the token not masked"
  call "push to erin through Huawei" POST /v1/push "$ADMIN_JWT" \
    "{\"to\":[\"erin\"],\"title\":\"$TITLE\",\"desc\":\"huawei $RUN\",\"category\":\"IM\",\"request_id\":\"smoke-$RUN-hw\"}"
  expect_status 200
  check 'b["results"][0]["user_id"] == "erin" and b["results"][0]["status"] == "sent"' "erin's Huawei result is not \"sent\""
  step_no=$((step_no + 1)); LAST="GET $HUAWEI_SIM_URL/_sim/deliveries"
  curl -fsS "${HUAWEI_SIM_URL%/}/_sim/deliveries" -o "$TMP/body" || fail "Huawei simulator not reachable"
  check "len([d for d in b if d['token'] == '$HW_TOKEN' and d['title'] == '$TITLE' and d.get('receipt_id') == '$HW_RECEIPT' and d['status'] == 0]) == 1" "the Huawei simulator has not exactly one matching delivery to erin"
  log "step $step_no: Huawei delivery matches (token, title, receipt id, delivered)"
  curl -fsS -X POST "${HUAWEI_SIM_URL%/}/_sim/receipt-flush" -o /dev/null || fail "Huawei receipt flush"
  curl -fsS "${HUAWEI_SIM_URL%/}/_sim/receipt-log" -o "$TMP/body" || fail "Huawei simulator not reachable"
  check "any(p.get('status') == 200 for p in b)" "the Huawei simulator's signed receipt POST was not answered 200"
  call "erin's Huawei push record after the signed receipt" GET "/v1/pushes/smoke-$RUN-hw" "$ADMIN_JWT"
  expect_status 200
  check 'b["results"][0]["delivery_state"] == "delivered" and b["summary"]["delivered"] == 1' "not delivered after the Huawei receipt"
else
  log "HUAWEI_SIM_URL not set: the Huawei steps skipped"
fi

log "PASS: $step_no steps (app $APP, certificate $CERT_ID)"
