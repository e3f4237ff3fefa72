#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo fuzz, libFuzzer, coverage guided)
# for a bounded time each, one after the other, and prints per target the
# executions, the coverage reached and the findings. Exits non-zero when a
# target crashed, panicked, timed out or ran out of memory. A script, not a
# CI gate (docs/testing.md, "Fuzzing").
#
# Usage: scripts/fuzz.sh [SECONDS]      SECONDS per target (default 60)
#
# Targets (fuzz/src/lib.rs has the properties each checks):
#   jwt              the JWT verifier: arbitrary headers, mutated valid tokens,
#                    correctly signed tokens of arbitrary claims
#   body_bytes       parse_body and every body parser, on arbitrary bytes
#   body_structured  the same parsers on generated JSON near the real shapes
#   query_path       query string and path segment parsers
#   vivo_reply       the vivo answer parser and its result-code table
#
# Env: FUZZ_TARGETS     a subset, space separated (default: all)
#      FUZZ_TOOLCHAIN   a rustup toolchain to build with (e.g. nightly);
#                       default: the active one, with RUSTC_BOOTSTRAP=1 for
#                       the -Z flags cargo fuzz passes (works on stable)
#      FUZZ_SANITIZER   none (default: the code is safe Rust; debug
#                       assertions and overflow checks are on) or address
#      FUZZ_MAX_LEN     largest input in bytes (default 16384: a body with
#                       1000 recipients fits)
# Corpora grow in .local/fuzz/corpus/TARGET (kept between runs; the seeds in
# fuzz/seeds start them); findings land in .local/fuzz/artifacts/TARGET.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

SECS="${1:-60}"
case "$SECS" in '' | *[!0-9]* | 0) log "SECONDS must be a positive integer"; exit 2 ;; esac
ALL_TARGETS="jwt body_bytes body_structured query_path vivo_reply"
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"
SANITIZER="${FUZZ_SANITIZER:-none}"
MAX_LEN="${FUZZ_MAX_LEN:-16384}"
CARGO_FUZZ_VERSION=0.13.2
FUZZ_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
WORK="$LOCAL/fuzz"

for t in $TARGETS; do
  case " $ALL_TARGETS " in *" $t "*) ;; *) log "unknown target $t (known: $ALL_TARGETS)"; exit 2 ;; esac
done

if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION (crates.io)"
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
need g++ g++ # libfuzzer-sys builds libFuzzer's C++

toolchain=()
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
  toolchain=("+$FUZZ_TOOLCHAIN")
else
  export RUSTC_BOOTSTRAP=1
fi

log "building the fuzz targets (cargo fuzz, sanitizer $SANITIZER; the first build takes ~10 min)"
t_build="$(now_ms)"
(cd fuzz && cargo "${toolchain[@]}" fuzz build --sanitizer "$SANITIZER" --target-dir "$FUZZ_TARGET_DIR")
log "built in $(secs_since "$t_build") s"
BIN="$FUZZ_TARGET_DIR/x86_64-unknown-linux-gnu/release"

dict_of() {
  case "$1" in
    body_bytes) echo fuzz/dicts/body.dict ;;
    query_path) echo fuzz/dicts/query.dict ;;
    vivo_reply) echo fuzz/dicts/vivo.dict ;;
  esac
}

passed=0 failed=0
SUMMARY="$WORK/summary.txt"
mkdir -p "$WORK"
printf '%-16s %12s %8s %8s %7s  %s\n' target executions "exec/s" coverage corpus findings >"$SUMMARY"
for t in $TARGETS; do
  corpus="$WORK/corpus/$t" artifacts="$WORK/artifacts/$t" logf="$WORK/$t.log"
  mkdir -p "$corpus" "$artifacts"
  before="$(find "$artifacts" -type f | sort)"
  args=(-max_total_time="$SECS" -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$artifacts/")
  dict="$(dict_of "$t")"
  [ -n "$dict" ] && args+=(-dict="$dict")
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
  log "fuzzing $t for $SECS s (log: $logf)"
  rc=0
  "$BIN/$t" "${args[@]}" "$corpus" "${seeds[@]}" >"$logf" 2>&1 || rc=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logf" | tail -1)"
  cov="$( (grep -oE 'cov: [0-9]+' "$logf" || true) | tail -1 | cut -d' ' -f2)"
  corp="$(find "$corpus" -type f | wc -l)"
  new_artifacts="$(comm -13 <(printf '%s\n' "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d')"
  if [ "$rc" = 0 ] && [ -z "$new_artifacts" ]; then
    passed=$((passed + 1))
    finding=none
  else
    failed=$((failed + 1))
    finding="exit $rc: $(grep -m1 -E "panicked at|ERROR: libFuzzer|SUMMARY" "$logf" || echo 'see log')"
    grep -A4 -m1 'panicked at' "$logf" >&2 || tail -n 20 "$logf" >&2
    while read -r a; do
      [ -n "$a" ] && log "finding: $a (reproduce: $BIN/$t $a)"
    done <<<"$new_artifacts"
  fi
  printf '%-16s %12s %8s %8s %7s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$corp" "$finding" >>"$SUMMARY"
done

echo
echo "fuzzing, $SECS s per target, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%M:%SZ):"
cat "$SUMMARY"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
