#!/usr/bin/env bash
# Checks that the built Lambda artefacts fit AWS Lambda's provided.al2023 runtime:
#   - every function directory under the build dir has an executable `bootstrap`;
#   - it is an ELF of the expected architecture (ARCH: x86_64 or arm64);
#   - it is statically linked, or needs no glibc symbol version newer than MAX_GLIBC
#     (default 2.34: Amazon Linux 2023's glibc) and only libraries that image has;
#   - it is stripped (the release profile says strip = "symbols").
# Prints one line per function: size, linkage, newest glibc symbol, needed libraries.
#
# Usage: scripts/check-artifacts.sh [BUILD_DIR]     (default: .aws-sam/build)
# Env:   ARCH=x86_64|arm64 (default x86_64), MAX_GLIBC=2.34
# Needs binutils (objdump or readelf); installs it with apt-get when missing (root).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

BUILD_DIR="${1:-$ROOT/.aws-sam/build}"
ARCH="${ARCH:-x86_64}"
MAX_GLIBC="${MAX_GLIBC:-2.34}"
case "$ARCH" in
  x86_64) elf_machine="X86-64" ;;
  arm64) elf_machine="AArch64" ;;
  *) log "ARCH must be x86_64 or arm64"; exit 2 ;;
esac
# What the provided.al2023 base image ships (glibc, libgcc) for a Rust binary to link.
ALLOWED_LIBS="libc.so.6 libm.so.6 libgcc_s.so.1 libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1
ld-linux-x86-64.so.2 ld-linux-aarch64.so.1"

need readelf binutils
need objdump binutils

shopt -s nullglob
bootstraps=("$BUILD_DIR"/*/bootstrap)
[ "${#bootstraps[@]}" -gt 0 ] || { log "no */bootstrap under $BUILD_DIR: run sam build first"; exit 1; }

version_gt() {  # a > b for dotted versions
  [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1)" = "$1" ]
}

failures=0
total=0
printf '%-22s %9s  %-8s %-12s %s\n' function bytes linkage newest-glibc needed >&2
for bin in "${bootstraps[@]}"; do
  fn="$(basename "$(dirname "$bin")")"
  problems=()
  [ -x "$bin" ] || problems+=("not executable")
  machine="$(readelf -h "$bin" 2>/dev/null | awk -F: '/Machine:/ { gsub(/^[ \t]+/, "", $2); print $2 }')"
  # readelf says "Advanced Micro Devices X86-64" or "AArch64".
  [[ "$machine" == *"$elf_machine"* ]] || problems+=("machine '${machine:-not an ELF}', want $elf_machine")
  size="$(stat -c %s "$bin")"
  total=$((total + size))
  if readelf -l "$bin" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    linkage=dynamic
    newest="$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)"
    newest="${newest:-none}"
    if [ "$newest" != none ] && version_gt "$newest" "$MAX_GLIBC"; then
      problems+=("needs GLIBC_${newest} > $MAX_GLIBC: $(objdump -T "$bin" | grep "GLIBC_${newest}[) ]" | awk '{ print $NF }' | head -3 | tr '\n' ' ')")
    fi
    needed="$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
    for lib in $needed; do
      grep -qw -- "$lib" <<<"$ALLOWED_LIBS" || problems+=("needs $lib (not in provided.al2023)")
    done
  else
    linkage=static; newest="-"; needed="-"
  fi
  if readelf -S "$bin" | grep -q ' \.symtab '; then problems+=("not stripped (.symtab present)"); fi
  printf '%-22s %9s  %-8s %-12s %s\n' "$fn" "$size" "$linkage" "$newest" "$needed" >&2
  if [ "${#problems[@]}" -gt 0 ]; then
    failures=$((failures + 1))
    for p in "${problems[@]}"; do log "FAIL $fn: $p"; done
  fi
done
log "$((${#bootstraps[@]})) bootstraps, $(awk -v t="$total" 'BEGIN { printf "%.1f MiB", t / 1048576 }') in total, arch $ARCH, glibc limit $MAX_GLIBC"
if [ "$failures" -gt 0 ]; then
  log "artefact check: $failures of ${#bootstraps[@]} FAILED"
  exit 1
fi
log "artefact check: ok"
