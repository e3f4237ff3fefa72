#!/usr/bin/env bash
# scripts/sam/venv.sh — create/reuse the project-local Python venv at <repo>/.venv and install
# into it, only when missing (or at another version than pinned below):
#   moto[server]  local AWS mock server (DynamoDB) — `moto_server`
#   waitress      the keep-alive WSGI server scripts/lib/dynamodb_emulator.py serves moto with
#   aws-sam-cli   `sam local invoke|start-api|start-lambda`, `sam build`; bundles the Lambda
#                 Runtime Interface Emulator and cfn-lint (`sam validate --lint`)
#   cargo-lambda  Rust Lambda builder used by `sam build` with BuildMethod rust-cargolambda
#   ziglang       zig, the linker cargo-lambda uses (found via the venv's python3 on PATH)
# Also turns SAM CLI telemetry off and its weekly PyPI "newer version" check off (by recording a
# far-future last check in ~/.aws-sam/metadata.json, the only switch SAM has for it).
# Prints the installed versions (stderr). Idempotent: ~0.3 s when everything is present.
#
# Usage:  scripts/sam/venv.sh            ensure + print versions
#         source scripts/sam/venv.sh     same, and also put .venv/bin first on PATH and export
#                                        SAM_CLI_TELEMETRY=0, SAM_VENV, SAM_REPO_ROOT
# Env:    PYTHON=python3.11   interpreter used to create the venv (default: python3)
#         VENV_QUIET=1        do not print versions
#         SAM_PIN_*           override a pin (empty = any version), e.g. SAM_PIN_AWS_SAM_CLI=
# `set +o` run inside $(...) always reports errexit off (subshells drop -e),
# so errexit is saved from $- separately, or sourcing would switch it off.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  _sam_venv_saved_opts="$(set +o)"
  case $- in *e*) _sam_venv_saved_opts+=$'\nset -e' ;; esac
fi
set -euo pipefail

_sam_venv_main() {
  local here root venv py
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  root="$(cd "$here/../.." && pwd)"
  venv="$root/.venv"
  py="${PYTHON:-python3}"

  # Tested together on Debian 12 / Python 3.11 (scripts/sam-e2e.sh).
  local pins
  pins="moto[server]==${SAM_PIN_MOTO-5.2.5}
waitress==${SAM_PIN_WAITRESS-3.0.2}
aws-sam-cli==${SAM_PIN_AWS_SAM_CLI-1.170.0}
cargo-lambda==${SAM_PIN_CARGO_LAMBDA-1.9.2}
ziglang==${SAM_PIN_ZIGLANG-0.17.1}"

  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "[venv] creating $venv with $("$py" --version 2>&1)" >&2
    rm -rf "$venv"
    "$py" -m venv "$venv"
  fi

  # Which requirements are missing or at another version? (one python call, no network)
  local missing
  missing="$(PINS="$pins" "$venv/bin/python" - <<'PY'
import importlib.metadata as m, os
out = []
for line in os.environ["PINS"].splitlines():
    req, _, ver = line.partition("==")
    dist = req.split("[")[0]
    extra = ["flask", "flask-cors"] if req.startswith("moto[server]") else []
    try:
        have = m.version(dist)
        for e in extra:
            m.version(e)
        ok = (not ver) or have == ver
    except m.PackageNotFoundError:
        ok = False
    if not ok:
        out.append(req + ("==" + ver if ver else ""))
print(" ".join(out))
PY
)"
  if [ -n "$missing" ]; then
    echo "[venv] pip install $missing" >&2
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --disable-pip-version-check -q $missing >&2
  fi

  # SAM CLI: telemetry off and no PyPI update check, even when `sam` is run without this env.
  "$venv/bin/python" - <<'PY'
import json, os, pathlib
d = pathlib.Path(os.environ.get("__SAM_CLI_APP_DIR") or pathlib.Path.home() / ".aws-sam")
f = d / "metadata.json"
try:
    data = json.loads(f.read_text())
except Exception:
    data = {}
want = {"telemetryEnabled": False, "lastVersionCheck": 4102444800.0}  # 2100-01-01: never "overdue"
if any(data.get(k) != v for k, v in want.items()):
    data.update(want)
    d.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps(data, indent=4))
PY

  if [ "${VENV_QUIET:-0}" != 1 ]; then
    "$venv/bin/python" - <<'PY' >&2
import importlib.metadata as m, sys
print("[venv] python", sys.version.split()[0])
for d in ("moto", "aws-sam-cli", "cfn-lint", "cargo-lambda", "ziglang"):
    try:
        print(f"[venv] {d} {m.version(d)}")
    except m.PackageNotFoundError:
        print(f"[venv] {d} MISSING")
PY
  fi
  SAM_VENV="$venv"
  SAM_REPO_ROOT="$root"
}

_sam_venv_main

# Environment for the SAM tooling (effective in the caller when this file is sourced).
export SAM_VENV SAM_REPO_ROOT
case ":$PATH:" in *":$SAM_VENV/bin:"*) ;; *) export PATH="$SAM_VENV/bin:$PATH" ;; esac
export SAM_CLI_TELEMETRY=0
# rust-cargolambda is GA in aws-sam-cli 1.170 (no beta prompt); older SAM releases needed this.
export SAM_CLI_BETA_RUST_CARGO_LAMBDA=1

if [ -n "${_sam_venv_saved_opts:-}" ]; then eval "$_sam_venv_saved_opts"; unset _sam_venv_saved_opts; fi
