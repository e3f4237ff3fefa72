#!/usr/bin/env bash
# scripts/sam/docker-up.sh — make a local Docker engine and an offline Lambda base image available
# for `sam local invoke|start-api --skip-pull-image` (no container registry is reachable here).
#
#  1. installs Debian's docker.io (apt-get update once first) when no dockerd is present;
#  2. starts dockerd in the background (log: <repo>/.local/dockerd.log) unless the engine already
#     answers, and waits until `docker info` works;
#  3. builds the image public.ecr.aws/lambda/provided:al2023-x86_64 — the base SAM uses for
#     Runtime provided.al2023 / x86_64 — with `docker import` of a small rootfs assembled from the
#     host's own files: /bin/sh + a few coreutils (SAM's derived-image Dockerfile RUNs `mv`/`chmod`),
#     glibc and the C runtime libraries Rust binaries link (ld-linux, libc, libm, libgcc_s, librt,
#     libpthread, libdl, ...; libssl/libcrypto/libz when the host has them), CA certificates, and
#     /tmp, /var/task, /var/runtime, /opt.  SAM itself then derives
#     public.ecr.aws/lambda/provided:al2023-rapid-x86_64 from it (ADDs its bundled RIE) with a
#     classic `docker build` that needs no pull.  The base image carries a recipe label; when this
#     script's recipe changes, the base is rebuilt and SAM's stale -rapid- image removed.
#  4. prints the docker bridge gateway IP (the address containers use to reach host services)
#     as the last line of stdout.
#
# Idempotent and fast (~1 s) when everything is already up. Needs root. No stdin, no systemd.
# Env: DOCKERD_EXTRA_ARGS   extra flags for dockerd (e.g. "--iptables=false")
#      DOCKER_UP_TIMEOUT    seconds to wait for the engine (default 60)
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=scripts/lib/sam_local.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/sam_local.sh"

BASE_IMAGE="public.ecr.aws/lambda/provided:al2023-x86_64"
RAPID_IMAGE="public.ecr.aws/lambda/provided:al2023-rapid-x86_64"   # what SAM derives from BASE_IMAGE
# Bump when the rootfs recipe below changes (forces a rebuild of the base image).
RECIPE_VERSION="offpush-lambda-base-4"

# The engine we start listens on the default socket; talk to it explicitly unless the caller
# pointed DOCKER_HOST elsewhere.
export DOCKER_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}"

[ "$(id -u)" = 0 ] || { log "must run as root (installs packages, starts dockerd)"; exit 1; }

# --- 1. docker engine package ---------------------------------------------------------------
find_dockerd() {
  local p
  for p in "$(command -v dockerd 2>/dev/null || true)" /usr/sbin/dockerd /usr/bin/dockerd; do
    if [ -n "$p" ] && [ -x "$p" ]; then echo "$p"; return 0; fi
  done
  return 1
}

DOCKERD="$(find_dockerd || true)"
if [ -z "$DOCKERD" ]; then
  log "no dockerd found: installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package's init script from trying to start the service (no systemd here; we start
  # dockerd ourselves below). Only add a policy-rc.d if the machine has none, and remove it after.
  POLICY=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$POLICY"; chmod +x "$POLICY"; added_policy=1
  fi
  trap '[ "$added_policy" = 1 ] && rm -f "$POLICY"' EXIT
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends docker.io ca-certificates </dev/null >&2
  [ "$added_policy" = 1 ] && rm -f "$POLICY"
  trap - EXIT
  DOCKERD="$(find_dockerd)" || { log "docker.io installed but no dockerd found"; exit 1; }
fi

# A docker client: prefer the one on PATH (may be a newer static client), else the package's.
if ! command -v docker >/dev/null 2>&1; then
  log "no docker client on PATH"; exit 1
fi

# --- 2. start the engine --------------------------------------------------------------------
if ! docker_answers; then
  # cgroup v1 hierarchies are normally mounted already; cgroupfs-mount would do it otherwise.
  if [ ! -e /sys/fs/cgroup/memory ] && [ ! -e /sys/fs/cgroup/cgroup.controllers ] \
     && command -v cgroupfs-mount >/dev/null 2>&1; then
    cgroupfs-mount || true
  fi
  # Pid files left by a killed dockerd (and its managed containerd) make the new one refuse to
  # start or wait on a dead containerd. A killed process may linger as a zombie when PID 1 does
  # not reap, so "alive" means: exists and is not in state Z.
  for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$pidfile" ] && ! alive "$(cat "$pidfile" 2>/dev/null)"; then
      log "removing stale $pidfile"
      rm -f "$pidfile"
    fi
  done
  if [ -f /var/run/docker.pid ]; then
    log "dockerd already running (pid $(cat /var/run/docker.pid)), waiting for it"
  else
    log "starting $DOCKERD (log: $LOCAL/dockerd.log)"
    echo "=== docker-up.sh starting dockerd at $(date -u +%FT%TZ)" >>"$LOCAL/dockerd.log"
    # setsid + nohup: detach from this script's session so it keeps running after we exit.
    # shellcheck disable=SC2086
    setsid nohup "$DOCKERD" --host=unix:///var/run/docker.sock ${DOCKERD_EXTRA_ARGS:-} \
      </dev/null >>"$LOCAL/dockerd.log" 2>&1 &
    echo $! > "$LOCAL/dockerd.pid"
  fi
  deadline=$(( $(date +%s) + ${DOCKER_UP_TIMEOUT:-60} ))
  until docker_answers; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "docker engine did not come up; last lines of $LOCAL/dockerd.log:"
      tail -n 30 "$LOCAL/dockerd.log" >&2 || true
      exit 1
    fi
    if [ -f "$LOCAL/dockerd.pid" ] && ! alive "$(cat "$LOCAL/dockerd.pid")" \
       && ! alive "$(cat /var/run/docker.pid 2>/dev/null)"; then
      log "dockerd exited; last lines of $LOCAL/dockerd.log:"
      tail -n 30 "$LOCAL/dockerd.log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  log "engine up: $(docker version --format 'server {{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}' 2>/dev/null || echo '?')"
fi

# --- 3. the offline Lambda base image ---------------------------------------------------------
current_recipe="$(docker image inspect --format '{{ index .Config.Labels "offpush.recipe" }}' "$BASE_IMAGE" 2>/dev/null || true)"
if [ "$current_recipe" != "$RECIPE_VERSION" ]; then
  log "building $BASE_IMAGE from host files (recipe $RECIPE_VERSION)"
  WORK="$(mktemp -d /tmp/lambda-base.XXXXXX)"
  trap 'rm -rf "$WORK"' EXIT
  R="$WORK/rootfs"
  LIBDIR=usr/lib/x86_64-linux-gnu
  mkdir -p "$R"/{usr/bin,usr/sbin,"$LIBDIR",usr/lib64,usr/local/bin,etc/ssl/certs,etc/pki/tls/certs} \
           "$R"/{var/task,var/runtime,var/rapid,var/lang/lib,opt,root,dev,proc,sys,run}
  mkdir -m 1777 "$R/tmp"
  # Debian-style merged /usr, so host-built binaries find their interpreter and libraries.
  ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"

  # Programs: a shell and what SAM's Dockerfiles RUN (mv, chmod, cp, rm) plus a few basics.
  progs=(sh dash mv chmod cp rm mkdir ln cat ls env sleep true false echo uname id head tail)
  libs_needed=()
  for p in "${progs[@]}"; do
    src="$(command -v "$p" 2>/dev/null || true)"
    case "$src" in /*) ;; *) continue ;; esac      # skip shell builtins without a binary
    src="$(readlink -f "$src")"
    cp -f "$src" "$R/usr/bin/$p"
    while read -r lib; do libs_needed+=("$lib"); done < <(ldd "$src" 2>/dev/null | grep -o '/[^ ]*' || true)
  done

  # C runtime libraries a Rust (glibc) binary may link, plus TLS/zlib when present on the host.
  for name in ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libgcc_s.so.1 librt.so.1 libpthread.so.0 \
              libdl.so.2 libutil.so.1 libresolv.so.2 libanl.so.1 libnss_files.so.2 libnss_dns.so.2 \
              libstdc++.so.6 libssl.so.3 libcrypto.so.3 libz.so.1; do
    path="$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64/ && !f { print $NF; f = 1 }')"
    [ -n "$path" ] || { [ -e "/lib/x86_64-linux-gnu/$name" ] && path="/lib/x86_64-linux-gnu/$name"; } || true
    if [ -n "$path" ] && [ -e "$path" ]; then
      libs_needed+=("$path")
      while read -r lib; do libs_needed+=("$lib"); done < <(ldd "$path" 2>/dev/null | grep -o '/[^ ]*' || true)
    fi
  done
  for lib in $(printf '%s\n' "${libs_needed[@]}" | sort -u); do
    [ -e "$lib" ] || continue
    base="$(basename "$lib")"
    cp -fL "$lib" "$R/$LIBDIR/$base"
    # AL2023 keeps libraries in /usr/lib64: link them there too (and so /lib64/ld-linux-x86-64.so.2).
    ln -sf "../lib/x86_64-linux-gnu/$base" "$R/usr/lib64/$base"
  done
  [ -e "$R/usr/lib64/ld-linux-x86-64.so.2" ] || { log "ld-linux-x86-64.so.2 not found on host"; exit 1; }
  printf '/usr/lib/x86_64-linux-gnu\n/usr/lib64\n' > "$R/etc/ld.so.conf"
  ldconfig -r "$R" 2>/dev/null || true

  # Certificates (Debian and AL2023 locations), name service, users, time zone.
  cp -fL /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt"
  ln -sf ../../../ssl/certs/ca-certificates.crt "$R/etc/pki/tls/certs/ca-bundle.crt"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$R/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\nsbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' > "$R/etc/passwd"
  printf 'root:x:0:\nsbx_user1051:x:990:\nnobody:x:65534:\n' > "$R/etc/group"
  printf 'NAME="offpush local Lambda base (Debian host files)"\nID=offpush-lambda-base\n' > "$R/etc/os-release"
  if [ -e /usr/share/zoneinfo/UTC ]; then cp -fL /usr/share/zoneinfo/UTC "$R/etc/localtime"; fi
  : > "$R/etc/hosts"; : > "$R/etc/resolv.conf"; : > "$R/etc/hostname"   # docker bind-mounts these

  # Same contract as the real image's entrypoint (only used for PackageType: Image style runs).
  cat > "$R/lambda-entrypoint.sh" <<'SH'
#!/bin/sh
if [ $# -ne 1 ]; then echo "entrypoint requires the handler name to be the first argument" 1>&2; exit 142; fi
export _HANDLER="$1"
RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
[ -x "$RUNTIME_ENTRYPOINT" ] || RUNTIME_ENTRYPOINT=/var/task/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  for rie in /usr/local/bin/aws-lambda-rie /var/rapid/aws-lambda-rie; do
    [ -x "$rie" ] && exec "$rie" "$RUNTIME_ENTRYPOINT"
  done
  echo "no aws-lambda-rie in the image" 1>&2; exit 1
fi
exec "$RUNTIME_ENTRYPOINT"
SH
  chmod 755 "$R/lambda-entrypoint.sh"

  # Smoke-test the rootfs before importing: the shell and coreutils must run from it.
  chroot "$R" /bin/sh -c 'mv --version >/dev/null && chmod --version >/dev/null' \
    || { log "rootfs smoke test failed"; exit 1; }

  tar --numeric-owner -C "$R" -cf "$WORK/rootfs.tar" .
  docker rmi -f "$RAPID_IMAGE" >/dev/null 2>&1 || true    # SAM's derived image is stale now
  docker import \
    --change 'ENV LANG=en_US.UTF-8' \
    --change 'ENV TZ=:/etc/localtime' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
    --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
    --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'WORKDIR /var/task' \
    --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    --change "LABEL offpush.recipe=$RECIPE_VERSION" \
    --platform linux/amd64 \
    "$WORK/rootfs.tar" "$BASE_IMAGE" >/dev/null
  rm -rf "$WORK"; trap - EXIT
  log "built $BASE_IMAGE ($(docker image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.1f MB", $1/1e6}'))"
fi

# --- 4. where containers reach the host --------------------------------------------------------
# Docker 20.10 leaves .IPAM.Config[].Gateway empty for the default bridge: fall back to the
# bridge interface's own address (docker0), then to the subnet's first host address.
GATEWAY="$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null || true)"
if [ -z "$GATEWAY" ]; then
  BRIDGE_IF="$(docker network inspect bridge --format '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null || true)"
  if [ -n "$BRIDGE_IF" ] && command -v ip >/dev/null 2>&1; then
    GATEWAY="$(ip -4 -o addr show dev "$BRIDGE_IF" 2>/dev/null | awk '{ split($4, a, "/"); print a[1] }' | head -n 1)"
  fi
fi
if [ -z "$GATEWAY" ]; then
  SUBNET="$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}')"
  GATEWAY="$(python3 -c 'import ipaddress,sys; print(next(ipaddress.ip_network(sys.argv[1]).hosts()))' "$SUBNET" 2>/dev/null || true)"
fi
[ -n "$GATEWAY" ] || { log "could not read the bridge gateway"; exit 1; }
log "bridge gateway (host address as seen from containers): $GATEWAY"
echo "$GATEWAY"
