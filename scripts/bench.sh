#!/usr/bin/env bash
# Prints offpush's figures (nothing is asserted): vivo and DynamoDB requests
# per push to 1000 recipients and handler latencies, against a DynamoDB
# emulator started here and the in-process vivo simulator. Release build.
# Binary sizes and cold starts of the Lambda artefacts: scripts/check-artifacts.sh
# and scripts/sam-e2e.sh.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
ensure_venv
cargo build --release --locked -p bench
trap 'stop_pids trust moto "${MOTO_PID:-}"' EXIT
start_moto 127.0.0.1 "$(free_port 127.0.0.1)"
RUST_LOG=warn "$CARGO_TARGET_DIR/release/bench"
