#!/usr/bin/env bash
# scripts/sam/selftest.sh — end-to-end proof that local SAM works offline on this machine.
#
# In a throwaway dir under /tmp it builds a tiny Lambda custom runtime (`bootstrap`, a C program
# implementing the runtime API loop, compiled with gcc and dynamically linked against glibc so it
# also exercises the base image's libraries), writes a SAM template (Runtime provided.al2023,
# Handler bootstrap, x86_64, HttpApi event GET /echo) and then:
#   1. `sam validate --lint` (cfn-lint, offline);
#   2. starts a python http.server bound ONLY to the docker bridge gateway (e.g. 172.17.0.1);
#   3. `sam local invoke --skip-pull-image -e event.json --env-vars ...` twice (first and warm) and
#      checks the API Gateway v2 style response: statusCode 200 and a body echoing $GREETING and
#      the text the function fetched from the host service via $UPSTREAM_URL — first by the
#      gateway IP, then by the name host.docker.internal (`--add-host host.docker.internal:host-gateway`);
#   4. `sam local start-api --skip-pull-image --warm-containers EAGER` on a free 127.0.0.1 port,
#      curls /echo twice (the 2nd hits the same warm container), stops it.
# Prints timings. Exit 0 = all good. Uses scripts/sam/venv.sh and scripts/sam/docker-up.sh.
# Env: SELFTEST_KEEP=1      keep the temp dir (path is printed)
#      SELFTEST_COLD=1      remove SAM's derived -rapid- image first, to time its (offline) rebuild
#      SELFTEST_STATIC=1    link the bootstrap statically instead
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=venv.sh
VENV_QUIET=1 source "$HERE/venv.sh"          # .venv/bin on PATH, SAM_CLI_TELEMETRY=0, ...
GW="$("$HERE/docker-up.sh" </dev/null | tail -n 1)"
export DOCKER_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}"

say() { echo "[selftest] $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
free_port() {  # free TCP port on the given local address
  python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

T="$(mktemp -d /tmp/sam-selftest.XXXXXX)"
HTTP_PID=""; API_PID=""
FN_NAME="OffpushSamSelftestFunction"        # unique: used to find only our own containers
cleanup() {
  set +e
  if [ -n "$API_PID" ] && kill -0 "$API_PID" 2>/dev/null; then kill -INT "$API_PID"; sleep 2; kill "$API_PID" 2>/dev/null; fi
  if [ -n "$HTTP_PID" ]; then kill "$HTTP_PID" 2>/dev/null; wait "$HTTP_PID" 2>/dev/null; fi
  ids="$(docker ps -aq --filter "label=sam.cli.function.name=$FN_NAME" 2>/dev/null)"
  # shellcheck disable=SC2086  # one id per word
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
  if [ "${SELFTEST_KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
mkdir -p "$T/fn" "$T/www"

# --- the function: a C custom runtime --------------------------------------------------------
cat > "$T/bootstrap.c" <<'C'
/* Throwaway Lambda custom runtime (provided.al2023) for scripts/sam/selftest.sh.
 * Implements the runtime API loop over plain sockets (HTTP/1.0, IPv4, names via getaddrinfo), and answers
 * each event with an API Gateway v2 style response whose body echoes $GREETING, the event's
 * rawPath and the text fetched from $UPSTREAM_URL (a host service on the docker bridge). */
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n) {
  while (n) { ssize_t w = write(fd, p, n); if (w < 0) { if (errno == EINTR) continue; return -1; } p += w; n -= (size_t)w; }
  return 0;
}
static int dial(const char *hostport) {           /* "host:port"; host resolved via getaddrinfo */
  char host[256]; const char *port = "80"; const char *c = strrchr(hostport, ':');
  size_t n = c ? (size_t)(c - hostport) : strlen(hostport);
  if (n >= sizeof host) return -1;
  memcpy(host, hostport, n); host[n] = 0; if (c) port = c + 1;
  struct addrinfo hints, *res, *ai; memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET; hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc) { fprintf(stderr, "selftest bootstrap: resolve %s: %s\n", host, gai_strerror(rc)); return -1; }
  int fd = -1;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol); if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd); fd = -1;
  }
  freeaddrinfo(res); return fd;
}
/* One request; returns the malloc'd raw response (headers + body), NULL on failure. */
static char *http(const char *hostport, const char *method, const char *path, const char *body, size_t blen) {
  int fd = dial(hostport); if (fd < 0) return NULL;
  char hdr[2048];
  int h = snprintf(hdr, sizeof hdr, "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                   method, path, hostport, blen);
  if (write_all(fd, hdr, (size_t)h) || (blen && write_all(fd, body, blen))) { close(fd); return NULL; }
  size_t cap = 65536, len = 0; char *buf = malloc(cap + 1);
  for (;;) {
    if (len == cap) { cap *= 2; buf = realloc(buf, cap + 1); }
    ssize_t r = read(fd, buf + len, cap - len);
    if (r < 0) { if (errno == EINTR) continue; break; }
    if (r == 0) break;
    len += (size_t)r;
  }
  close(fd); buf[len] = 0; return buf;
}
static const char *body_of(const char *resp) { const char *b = strstr(resp, "\r\n\r\n"); return b ? b + 4 : ""; }
static int header(const char *resp, const char *name, char *out, size_t outsz) {
  size_t nl = strlen(name);
  for (const char *p = strstr(resp, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
    if (!strncasecmp(p + 2, name, nl) && p[2 + nl] == ':') {
      const char *v = p + 3 + nl; while (*v == ' ') v++;
      size_t i = 0; while (v[i] && v[i] != '\r' && i + 1 < outsz) { out[i] = v[i]; i++; }
      out[i] = 0; return 1;
    }
  }
  return 0;
}
static void json_escape(char *dst, size_t dsz, const char *s) {
  size_t o = 0;
  for (; *s && o + 7 < dsz; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { dst[o++] = '\\'; dst[o++] = (char)c; }
    else if (c < 0x20) o += (size_t)snprintf(dst + o, dsz - o, "\\u%04x", c);
    else dst[o++] = (char)c;
  }
  dst[o] = 0;
}
static void fetch_upstream(char *out, size_t outsz) {      /* http://IP:PORT/path */
  const char *url = getenv("UPSTREAM_URL");
  snprintf(out, outsz, "(UPSTREAM_URL unset)");
  if (!url || strncmp(url, "http://", 7)) return;
  char hostport[256]; const char *slash = strchr(url + 7, '/');
  size_t n = slash ? (size_t)(slash - (url + 7)) : strlen(url + 7);
  if (n >= sizeof hostport) return;
  memcpy(hostport, url + 7, n); hostport[n] = 0;
  char *r = http(hostport, "GET", slash ? slash : "/", "", 0);
  if (!r) { snprintf(out, outsz, "(fetch %s failed: %s)", url, strerror(errno)); return; }
  snprintf(out, outsz, "%s", body_of(r)); free(r);
  size_t l = strlen(out); while (l && (out[l - 1] == '\n' || out[l - 1] == '\r')) out[--l] = 0;
}
int main(void) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  if (!api) { fprintf(stderr, "AWS_LAMBDA_RUNTIME_API not set\n"); return 1; }
  const char *greeting = getenv("GREETING"); if (!greeting) greeting = "(GREETING unset)";
  for (unsigned long count = 1;; count++) {
    char *ev = http(api, "GET", "/2018-06-01/runtime/invocation/next", "", 0);
    if (!ev) { perror("next"); return 1; }
    char id[256];
    if (!header(ev, "Lambda-Runtime-Aws-Request-Id", id, sizeof id)) {  /* e.g. RIE shutting down */
      char *eol = strstr(ev, "\r\n"); if (eol) *eol = 0;
      fprintf(stderr, "selftest bootstrap: /next answered without a request id (%s), exiting\n", ev); return 0;
    }
    char raw_path[512] = "(none)"; const char *rp = strstr(body_of(ev), "\"rawPath\"");
    if (rp && (rp = strchr(rp + 9, '"'))) { size_t i = 0; rp++; while (rp[i] && rp[i] != '"' && i + 1 < sizeof raw_path) { raw_path[i] = rp[i]; i++; } raw_path[i] = 0; }
    char upstream[2048]; fetch_upstream(upstream, sizeof upstream);
    char text[4096], esc[8192], resp[9000], path[512];
    snprintf(text, sizeof text, "greeting=%s upstream=%s rawPath=%s invocation=%lu", greeting, upstream, raw_path, count);
    json_escape(esc, sizeof esc, text);
    int rl = snprintf(resp, sizeof resp, "{\"statusCode\":200,\"headers\":{\"content-type\":\"text/plain\"},\"body\":\"%s\"}", esc);
    fprintf(stderr, "selftest bootstrap: request %s -> %s\n", id, text);
    snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/response", id);
    char *ack = http(api, "POST", path, resp, (size_t)rl);
    if (!ack) { perror("response"); return 1; }
    free(ack); free(ev);
  }
}
C
gcc_flags=(-O2 -Wall)
[ "${SELFTEST_STATIC:-0}" = 1 ] && gcc_flags+=(-static)
gcc "${gcc_flags[@]}" -o "$T/fn/bootstrap" "$T/bootstrap.c"
chmod 755 "$T/fn/bootstrap"

# --- host service on the bridge gateway ------------------------------------------------------
TOKEN="token-$RANDOM$RANDOM"
echo "$TOKEN" > "$T/www/upstream.txt"
HTTP_PORT="$(free_port "$GW")"
python3 -m http.server --bind "$GW" --directory "$T/www" "$HTTP_PORT" >"$T/http.log" 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do curl -fsS "http://$GW:$HTTP_PORT/upstream.txt" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://$GW:$HTTP_PORT/upstream.txt" >/dev/null || fail "host http.server on $GW:$HTTP_PORT not answering"
say "host service: http://$GW:$HTTP_PORT/upstream.txt (bound to the bridge gateway only)"

# --- template, event, env overrides ----------------------------------------------------------
cat > "$T/template.yaml" <<YAML
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: offpush sam selftest (throwaway)
Resources:
  $FN_NAME:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      Architectures: [x86_64]
      CodeUri: fn/
      MemorySize: 128
      Timeout: 10
      Environment:
        Variables:
          GREETING: hello-from-template
          UPSTREAM_URL: http://127.0.0.1:1/overridden-by-env-vars-json
      Events:
        Echo:
          Type: HttpApi
          Properties:
            Path: /echo
            Method: GET
YAML
# --env-vars may only override variables the template declares (others are ignored).
# env-ip.json: the bridge gateway by address; env-host.json: by the name host.docker.internal,
# which `--add-host host.docker.internal:host-gateway` maps to the same gateway address.
cat > "$T/env-ip.json" <<JSON
{ "$FN_NAME": { "UPSTREAM_URL": "http://$GW:$HTTP_PORT/upstream.txt" } }
JSON
cat > "$T/env-host.json" <<JSON
{ "$FN_NAME": { "UPSTREAM_URL": "http://host.docker.internal:$HTTP_PORT/upstream.txt" } }
JSON
cat > "$T/event.json" <<'JSON'
{
  "version": "2.0", "routeKey": "GET /echo", "rawPath": "/echo", "rawQueryString": "",
  "headers": {"accept": "*/*", "host": "localhost"},
  "requestContext": {"accountId": "123456789012", "apiId": "local", "domainName": "localhost",
    "http": {"method": "GET", "path": "/echo", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "selftest"},
    "requestId": "selftest", "routeKey": "GET /echo", "stage": "$default", "time": "01/Jan/2025:00:00:00 +0000", "timeEpoch": 1735689600000},
  "isBase64Encoded": false
}
JSON
cd "$T"

check_response() {  # $1 = file with the invoke's stdout (response JSON)
  python3 - "$1" "$TOKEN" <<'PY'
import json, sys
text = open(sys.argv[1]).read().strip().splitlines()
resp = json.loads(text[-1])
assert resp.get("statusCode") == 200, resp
body = resp["body"]
assert "greeting=hello-from-template" in body, body
assert "upstream=" + sys.argv[2] in body, body
print(body)
PY
}

# --- 1. lint -----------------------------------------------------------------------------------
t0="$(now)"
sam validate --lint -t template.yaml >"$T/validate.log" 2>&1 || { cat "$T/validate.log" >&2; fail "sam validate --lint"; }
say "sam validate --lint: ok ($(secs "$t0" "$(now)") s)"

# --- 2/3. invoke twice -----------------------------------------------------------------------
if [ "${SELFTEST_COLD:-0}" = 1 ]; then
  docker rmi -f public.ecr.aws/lambda/provided:al2023-rapid-x86_64 >/dev/null 2>&1 || true
fi
invoke() {  # $1 = label, rest = extra sam args
  local label="$1" t0 t1; shift
  t0="$(now)"
  sam local invoke "$FN_NAME" --skip-pull-image -t template.yaml -e event.json "$@" \
    >"$T/invoke-$label.out" 2>"$T/invoke-$label.err" \
    || { cat "$T/invoke-$label.err" >&2; fail "sam local invoke ($label)"; }
  t1="$(now)"
  body="$(check_response "$T/invoke-$label.out")" || { cat "$T/invoke-$label.err" "$T/invoke-$label.out" >&2; fail "bad response ($label)"; }
  say "sam local invoke ($label): $(secs "$t0" "$t1") s -> $body"
}
HOST_GW=(--add-host host.docker.internal:host-gateway)
invoke first --env-vars env-ip.json
invoke warm --env-vars env-host.json "${HOST_GW[@]}"
grep -q "selftest bootstrap: request" "$T/invoke-warm.err" || fail "function log line not streamed"

# --- 4. start-api (warm container kept between requests) ------------------------------------
API_PORT="$(free_port 127.0.0.1)"
t0="$(now)"
sam local start-api --skip-pull-image -t template.yaml --env-vars env-host.json "${HOST_GW[@]}" \
  --warm-containers EAGER --host 127.0.0.1 -p "$API_PORT" >"$T/start-api.log" 2>&1 </dev/null &
API_PID=$!
up=0
for _ in $(seq 240); do
  # EAGER starts the function container before the server listens
  if curl -s -o /dev/null "http://127.0.0.1:$API_PORT/" 2>/dev/null; then up=1; break; fi
  kill -0 "$API_PID" 2>/dev/null || break
  sleep 0.5
done
[ "$up" = 1 ] || { cat "$T/start-api.log" >&2; fail "start-api did not come up"; }
t1="$(now)"
say "sam local start-api: listening on 127.0.0.1:$API_PORT after $(secs "$t0" "$t1") s"
for n in 1 2; do
  t1="$(now)"
  resp="$(curl -fsS "http://127.0.0.1:$API_PORT/echo?n=$n")" || { cat "$T/start-api.log" >&2; fail "curl /echo"; }
  t2="$(now)"
  case "$resp" in
    *"greeting=hello-from-template"*"upstream=$TOKEN"*"invocation=$n"*) ;;
    *) cat "$T/start-api.log" >&2; fail "unexpected start-api response #$n: $resp" ;;
  esac
  say "start-api GET /echo #$n: $(secs "$t1" "$t2") s -> $resp"
done
kill -INT "$API_PID"
for _ in $(seq 20); do kill -0 "$API_PID" 2>/dev/null || break; sleep 0.5; done
kill "$API_PID" 2>/dev/null || true
wait "$API_PID" 2>/dev/null || true
API_PID=""

say "PASS (gateway $GW; bootstrap $(file -b "$T/fn/bootstrap" | cut -d, -f1-2))"
echo "selftest: 1 passed, 0 failed"
