# shellcheck shell=bash
# Helpers for the SAM scripts (Docker, `sam build`, `sam local`); sourced after
# common.sh (uses ROOT, log, alive, stop_pids).

# template.yaml's functions (logical ids). PushVisibilityFunction runs push-dispatch's
# binary (sam build builds it once and copies it into both functions' directories).
SAM_FUNCTIONS=(CertUploadFunction TokenReportFunction PushDispatchFunction PushVisibilityFunction)

# docker_answers: a Docker client is installed and its engine answers within 5 s.
docker_answers() {
  command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1
}

# sam_build_ready DIR: DIR (a `sam build` output) has its template and every
# function's bootstrap.
sam_build_ready() {
  local fn
  [ -f "$1/template.yaml" ] || return 1
  for fn in "${SAM_FUNCTIONS[@]}"; do
    [ -x "$1/$fn/bootstrap" ] || return 1
  done
}

# sam_build_newer_source DIR: prints one source file (template, Cargo files,
# Rust sources of the functions and shared/) newer than DIR's build, if any.
sam_build_newer_source() {
  find "$ROOT/template.yaml" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" "$ROOT/shared" "$ROOT/functions" \
    -type f \( -name '*.rs' -o -name '*.toml' -o -name '*.lock' -o -name '*.yaml' \) \
    -newer "$1/template.yaml" -print -quit 2>/dev/null | sed "s|^$ROOT/||"
}

# sam_env_json FILE NAME=VALUE...: the --env-vars file; every function gets
# these values (sam local only sets variables the template declares).
sam_env_json() {
  python3 - "$@" <<'PY'
import json, sys
values = dict(arg.split("=", 1) for arg in sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"Parameters": values}, f, indent=1)
PY
}

# sam_containers DDB_URL: ids of sam local's Lambda containers started by a
# run of this checkout whose functions talk to the DynamoDB emulator at
# DDB_URL (an address:port that only that run's emulator holds): their
# environment has AWS_ENDPOINT_URL_DYNAMODB=DDB_URL and their code is mounted
# from under this checkout. Other runs' containers (another checkout, another
# emulator) are never listed.
sam_containers() {
  local ids
  [ -n "$1" ] || return 0
  command -v docker >/dev/null 2>&1 || return 0
  ids="$(timeout 20 docker ps -aq --no-trunc --filter label=sam.cli.container.type=lambda 2>/dev/null)" || return 0
  [ -n "$ids" ] || return 0
  # A container removed in between makes `docker inspect` fail for it only.
  # shellcheck disable=SC2086
  { timeout 20 docker inspect $ids 2>/dev/null || true; } | python3 -c '
import json, sys
url, root = sys.argv[1], sys.argv[2].rstrip("/") + "/"
try:
    containers = json.load(sys.stdin)
except ValueError:
    containers = []
for c in containers:
    env = (c.get("Config") or {}).get("Env") or []
    mounts = [m.get("Source") or "" for m in c.get("Mounts") or []]
    if "AWS_ENDPOINT_URL_DYNAMODB=" + url in env and any(s.startswith(root) for s in mounts):
        print(c["Id"])
' "$1" "$ROOT" || true
}

# sam_remove_containers DDB_URL: docker rm -f the containers sam_containers
# lists. Fails when there were none.
sam_remove_containers() {
  local -a ids
  mapfile -t ids < <(sam_containers "$1")
  [ "${#ids[@]}" -gt 0 ] || return 1
  log "removing ${#ids[@]} sam local container(s) of this run"
  timeout 60 docker rm -f "${ids[@]}" >/dev/null 2>&1 || log "docker rm -f ${ids[*]} failed"
}

# sam_remove_containers_settled DDB_URL: after sam local has exited: remove
# its containers, then again after a moment while any turn up (a container
# whose creation sam requested just before it died can appear late).
sam_remove_containers_settled() {
  [ -n "$1" ] || return 0
  sam_remove_containers "$1" || true
  for _ in 1 2 3; do
    sleep 0.5
    sam_remove_containers "$1" || break
  done
}

# stop_engine PID: stop the dockerd (PID) that scripts/sam/docker-up.sh started
# for this run, unless containers this run did not start are running on it.
stop_engine() {
  local pid="$1" others
  alive "$pid" || return 0
  case "$(cmdline "$pid")" in *dockerd*) ;; *) return 0 ;; esac
  others="$(timeout 20 docker ps -q 2>/dev/null | wc -l)"
  if [ "${others:-0}" -gt 0 ]; then
    log "leaving the Docker engine this run started (pid $pid) running: $others other container(s) use it"
    return 0
  fi
  STOP_TIMEOUT=30 stop_pids trust "the Docker engine this run started (KEEP_DOCKER=1 keeps it): dockerd" "$pid"
}

# run_sam_build LOG: `sam build` (the venv's: ensure_venv first) from $ROOT into
# .aws-sam/build, in its own process group so that a cleanup can stop cargo and
# rustc with it (stop_sam_build); the tail of LOG when it fails. Sets
# SAM_BUILD_SECS.
SAM_BUILD_PID=""
run_sam_build() {
  local logf="$1" t0
  log "sam build (release, through cargo-lambda and zig; log: $logf):" \
    "a cold build takes many minutes (about 18 on a 2-core machine), seconds when nothing changed"
  t0="$(now_ms)"
  (cd "$ROOT" && exec setsid -w sam build) </dev/null >"$logf" 2>&1 &
  SAM_BUILD_PID=$!
  if ! wait "$SAM_BUILD_PID"; then
    SAM_BUILD_PID=""
    tail -n 40 "$logf" >&2
    log "sam build failed (log: $logf)"
    return 1
  fi
  SAM_BUILD_PID=""
  SAM_BUILD_SECS="$(secs_since "$t0")"
  log "sam build: $SAM_BUILD_SECS s"
  sam_build_ready "$ROOT/.aws-sam/build" || { log "sam build left no complete build in $ROOT/.aws-sam/build"; return 1; }
}

# stop_sam_build: stops a run_sam_build still under way (its process group).
stop_sam_build() {
  [ -n "$SAM_BUILD_PID" ] && alive "$SAM_BUILD_PID" || return 0
  log "stopping sam build (process group $SAM_BUILD_PID)"
  kill -TERM -- "-$SAM_BUILD_PID" 2>/dev/null || true
  wait "$SAM_BUILD_PID" 2>/dev/null || true
  SAM_BUILD_PID=""
}

# rie_binary: the Lambda Runtime Interface Emulator that aws-sam-cli ships
# (samcli/local/rapid/aws-lambda-rie-<arch>) in the project venv, for this
# machine's architecture; fails when it is not there.
rie_binary() {
  local dir arch
  case "$(uname -m)" in x86_64) arch=x86_64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  dir="$("$ROOT/.venv/bin/python" -c 'import os, samcli; print(os.path.dirname(samcli.__file__))')" || {
    log "no samcli in $ROOT/.venv (ensure_venv installs aws-sam-cli)"
    return 1
  }
  [ -x "$dir/local/rapid/aws-lambda-rie-$arch" ] || { log "no $dir/local/rapid/aws-lambda-rie-$arch"; return 1; }
  echo "$dir/local/rapid/aws-lambda-rie-$arch"
}
