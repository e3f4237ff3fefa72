# Shared shell helpers for the project's scripts (sourced, not run).
# ROOT: the repository root; LOCAL: scratch space for logs and pids.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
mkdir -p "$LOCAL"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# A free TCP port on the loopback interface.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS: until URL answers any HTTP status.
wait_http() {
  local url="$1" limit="${2:-30}" i=0
  until curl -s -o /dev/null "$url"; do
    i=$((i + 1))
    if [ "$i" -gt $((limit * 10)) ]; then
      log "timed out waiting for $url"
      return 1
    fi
    sleep 0.1
  done
}

# start_moto HOST PORT: the DynamoDB emulator (moto, requests serialised: see
# scripts/lib/dynamodb_emulator.py) in the background.
# Sets MOTO_PID; exports the AWS_* variables that point the SDK at it.
start_moto() {
  local host="$1" port="$2"
  "$ROOT/.venv/bin/python" "$ROOT/scripts/lib/dynamodb_emulator.py" "$host" "$port" >"$LOCAL/moto-$port.log" 2>&1 &
  MOTO_PID=$!
  wait_http "http://$host:$port/moto-api/" 60
  export AWS_ENDPOINT_URL_DYNAMODB="http://$host:$port"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_DEFAULT_REGION="$AWS_REGION"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
  log "DynamoDB emulator on $AWS_ENDPOINT_URL_DYNAMODB (pid $MOTO_PID)"
}

# The project venv (moto, aws-sam-cli, cargo-lambda, ziglang), quietly.
ensure_venv() {
  VENV_QUIET=1 source "$ROOT/scripts/sam/venv.sh"
}
