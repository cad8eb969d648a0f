#!/usr/bin/env bash
# CI: docker/ for real. Builds the image from docker/Dockerfile, starts docker/compose.yaml's stack
# (postgres, redis, migrate, app with 2 workers, scheduler, nginx) and checks it through nginx
# (.ci/docker_stack_check.py prints each check). The official images where they can be pulled;
# where not, a Debian base bootstrapped from the machine's package mirror and stand-ins built from
# Debian's packages (.ci/stand-ins/). Where no Docker engine can start, it says so once and exits 0.
#
# XZ_CI_CACHE (default /var/cache/xinzhan-ci) keeps the bootstrapped Debian trees between runs.
# Nothing binds the host's 5432 or 6379: only nginx publishes, on free loopback ports. Containers,
# volumes and the network are removed at the end, failed or not.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PROJECT=xinzhan-ci
T0=$(date +%s)
step() { printf '== docker stack [%4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
skip() { echo "== docker stack: SKIPPED: $* (no Docker engine here; the other CI steps stand)"; exit 0; }

# ---- a Docker engine, compose and debootstrap (Debian's packages) ----
STARTED_DOCKERD=""
engine_up() { timeout 10 docker info >/dev/null 2>&1; }
have_compose() { command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1; }
missing=()
command -v dockerd >/dev/null || engine_up || missing+=(docker.io)
have_compose || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  step "installing ${missing[*]} (Debian's packages)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } 2>&1 \
    | tail -5 || true
fi
command -v docker >/dev/null || skip "no docker client, and apt-get could not install docker.io"
have_compose || skip "neither docker-compose nor the compose plugin, and apt-get could not install docker-compose"
CACHE=${XZ_CI_CACHE:-/var/cache/xinzhan-ci}
mkdir -p "$CACHE" 2>/dev/null || CACHE=${TMPDIR:-/tmp}/xinzhan-ci && mkdir -p "$CACHE"
if ! engine_up; then
  command -v dockerd >/dev/null || skip "no dockerd binary"
  step "starting dockerd (log: $CACHE/dockerd.log)"
  dockerd >"$CACHE/dockerd.log" 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 30); do engine_up && break; kill -0 "$STARTED_DOCKERD" 2>/dev/null || break; sleep 1; done
  if ! engine_up; then
    kill "$STARTED_DOCKERD" 2>/dev/null || true
    skip "dockerd did not start: $(tail -1 "$CACHE/dockerd.log" | cut -c1-300)"
  fi
fi
if docker compose version >/dev/null 2>&1; then COMPOSE_BIN=(docker compose); else COMPOSE_BIN=(docker-compose); fi
# BuildKit reads docker/Dockerfile.dockerignore. A newer client without the buildx plugin refuses
# DOCKER_BUILDKIT=1; Debian's docker.io client (/usr/bin/docker) has BuildKit built in.
BUILD_DOCKER=docker
if ! docker buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then BUILD_DOCKER=/usr/bin/docker; fi
export DOCKER_BUILDKIT=1
step "engine $(docker version -f '{{.Server.Version}}'), $(${COMPOSE_BIN[@]} version --short 2>/dev/null | head -1) (${COMPOSE_BIN[*]})"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xinzhan-docker.XXXXXX")
COMPOSE=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ ${#COMPOSE[@]} -gt 0 ]; then
    if [ "$rc" != 0 ]; then
      echo "== docker stack FAILED; the last lines of each service:"
      "${COMPOSE[@]}" logs --no-color --tail=60 2>&1 || true
    fi
    "${COMPOSE[@]}" down -v --remove-orphans -t 20 >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  if [ -n "$STARTED_DOCKERD" ]; then kill "$STARTED_DOCKERD" 2>/dev/null && wait "$STARTED_DOCKERD" 2>/dev/null || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- images: official if they can be pulled, else Debian stand-ins ----
default_of() {  # the default the shipped files give a variable: ${NAME:-default} or ARG NAME=default
  sed -n -e "s/.*\${$1:-\([^}]*\)}.*/\1/p" -e "s/^ARG $1=\(.*\)/\1/p" docker/compose.yaml docker/Dockerfile | head -1
}
REGISTRY_DOWN=""
available() {  # an image already here, or pulled; after one failed pull, no more tries
  docker image inspect "$1" >/dev/null 2>&1 && return 0
  [ -z "$REGISTRY_DOWN" ] && timeout 120 docker pull -q "$1" >/dev/null 2>&1 && return 0
  REGISTRY_DOWN=1; return 1
}

MIRROR=${XZ_CI_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
MIRROR=${MIRROR:-$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

# A minbase Debian tree as an image, the tree cached as a tar under $CACHE (bootstrapped afresh
# once a month).
debian_base() {  # suite, packages -> prints the image name
  local key tar image
  key=$(printf '%s %s' "$1" "$2" | sha256sum | cut -c1-12)
  image=xinzhan-ci/debian:$1-$key tar=$CACHE/debian-$1-$key.tar
  if [ -s "$tar" ] && [ -n "$(find "$tar" -mtime +30)" ]; then
    rm -f "$tar"; docker rmi -f "$image" >/dev/null 2>&1 || true
  fi
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    if [ ! -s "$tar" ]; then
      step "debootstrap $1 from $MIRROR into $tar" >&2
      bootstrap "$1" "$2" "$tar" >"$WORK/debootstrap-$1.log" 2>&1 \
        || { echo "== debootstrap $1 failed:" >&2; tail -30 "$WORK/debootstrap-$1.log" >&2; return 1; }
    fi
    docker import "$tar" "$image" >/dev/null
  fi
  echo "$image"
}
bootstrap() {  # suite, packages, tar
  local dir status=0
  dir=$(mktemp -d "$CACHE/rootfs-$1.XXXXXX")
  debootstrap --variant=minbase --include="$2" "$1" "$dir" "$MIRROR" || status=$?
  awk -v d="$dir" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l
  if [ "$status" = 0 ]; then
    tar -C "$dir" --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' -cf "$3.part" . \
      && mv "$3.part" "$3" || status=$?
  fi
  rm -rf "$dir" "$3.part"
  return "$status"
}
build() {  # log name, docker build arguments...
  local log=$WORK/build-$1.log; shift
  if ! "$BUILD_DOCKER" build --progress=plain --label xinzhan-ci=1 "$@" >"$log" 2>&1; then
    echo "== docker build failed ($log):"; tail -40 "$log"; return 1
  fi
}

step "images: official ones if they can be pulled, Debian stand-ins where not"
df -h "$(docker info -f '{{.DockerRootDir}}')" "$CACHE" 2>/dev/null | awk 'NR > 1 && $4 ~ /M$/ {print "   warning: only " $4 " free on " $6}'
declare -A USE=() STANDIN=()
for var in PYTHON_IMAGE POSTGRES_IMAGE REDIS_IMAGE NGINX_IMAGE; do
  official=$(default_of $var)
  if available "$official"; then USE[$var]=$official; else STANDIN[$var]=$official; fi
done
pids=()
if [ -n "${STANDIN[PYTHON_IMAGE]-}${STANDIN[POSTGRES_IMAGE]-}${STANDIN[REDIS_IMAGE]-}" ]; then
  BOOKWORM=$(debian_base bookworm python3,python3-venv,ca-certificates,passwd)
fi
stand_in() {  # name, base image
  step "building the $1 stand-in from Debian's packages (.ci/stand-ins/$1.Dockerfile)"
  build "$1" --network host --build-arg BASE="$2" -f ".ci/stand-ins/$1.Dockerfile" -t "xinzhan-ci/$1:stand-in" .ci/stand-ins
}
for name in postgres redis nginx; do
  var=${name^^}_IMAGE
  [ -n "${STANDIN[$var]-}" ] || continue
  USE[$var]=xinzhan-ci/$name:stand-in
  if [ "$name" = nginx ]; then  # bookworm's nginx 1.22 predates `http2 on;`: trixie's 1.26
    { base=$(debian_base trixie nginx-light,ca-certificates) && stand_in nginx "$base"; } &
  else
    stand_in "$name" "$BOOKWORM" &
  fi
  pids+=($!)
done
if [ -n "${STANDIN[PYTHON_IMAGE]-}" ]; then
  mkdir "$WORK/python" && cp /etc/ssl/certs/ca-certificates.crt "$WORK/python/"  # pip trusts this machine's CAs
  USE[PYTHON_IMAGE]=xinzhan-ci/python:stand-in
  build python --build-arg BASE="$BOOKWORM" -f .ci/stand-ins/python.Dockerfile -t "${USE[PYTHON_IMAGE]}" "$WORK/python"
fi
step "building the app image from docker/Dockerfile on ${USE[PYTHON_IMAGE]} (pip in the build: --network host)"
build app --network host --build-arg PYTHON_IMAGE="${USE[PYTHON_IMAGE]}" -f docker/Dockerfile -t xinzhan-ci/xinzhan:ci .
for pid in "${pids[@]}"; do wait "$pid"; done
step "images ready"
docker image prune -f --filter label=xinzhan-ci=1 >/dev/null  # this step's earlier builds, now untagged
docker builder prune -f --filter until=72h >/dev/null 2>&1 || true  # build cache no build used for 3 days
for var in PYTHON_IMAGE POSTGRES_IMAGE REDIS_IMAGE NGINX_IMAGE; do
  if [ -n "${STANDIN[$var]-}" ]; then echo "   $var: ${USE[$var]} (stand-in for ${STANDIN[$var]}, which could not be pulled)"
  else echo "   $var: ${USE[$var]} (official)"; fi
done

# ---- the stack ----
read -r HTTP_PORT HTTPS_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
mkdir "$WORK/certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=xinzhan.ci.invalid \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/certs/privkey.pem" -out "$WORK/certs/fullchain.pem" 2>/dev/null
chmod 644 "$WORK/certs/privkey.pem"; chmod 755 "$WORK" "$WORK/certs"  # a throwaway certificate for nginx to read
python3 - "$WORK/stack.env" <<EOF
import base64, os, secrets, sys
values = {
    "XZ_WECHAT_TOKEN": "ci" + secrets.token_hex(8),
    "XZ_WECHAT_AES_KEY": base64.b64encode(os.urandom(32)).decode().rstrip("="),
    "XZ_WECHAT_APPID": "wx" + secrets.token_hex(8),
    "XZ_WECHAT_SECRET": secrets.token_hex(16),
    "XZ_SECRET_KEY": secrets.token_hex(32),
    "XZ_PUBLIC_URL": "https://xinzhan.ci.invalid",
    "POSTGRES_PASSWORD": secrets.token_hex(12),
    "XZ_WORKERS": "2",
    "XINZHAN_IMAGE": "xinzhan-ci/xinzhan:ci",
    "PYTHON_IMAGE": "${USE[PYTHON_IMAGE]}",
    "POSTGRES_IMAGE": "${USE[POSTGRES_IMAGE]}",
    "REDIS_IMAGE": "${USE[REDIS_IMAGE]}",
    "NGINX_IMAGE": "${USE[NGINX_IMAGE]}",
    "NGINX_HTTP_PORT": "127.0.0.1:$HTTP_PORT",
    "NGINX_HTTPS_PORT": "127.0.0.1:$HTTPS_PORT",
    "TLS_CERT_DIR": "$WORK/certs",
}
open(sys.argv[1], "w").write("".join(f"{k}={v}\n" for k, v in values.items()))
EOF
if [ "${COMPOSE_BIN[*]}" = docker-compose ]; then
  # docker-compose 1.29 (Debian's; the v2 plugin is not packaged) refuses the top-level `name:`,
  # which -p stands for here; the file is otherwise the shipped one, read from docker/.
  grep -v '^name: ' docker/compose.yaml > "$WORK/compose.yaml"
  [ "$(( $(wc -l < docker/compose.yaml) - $(wc -l < "$WORK/compose.yaml") ))" = 1 ] || { echo "compose.yaml: no single top-level name: line"; exit 1; }
  COMPOSE_FILE_USED=$WORK/compose.yaml
else
  COMPOSE_FILE_USED=$ROOT/docker/compose.yaml
fi
COMPOSE=("${COMPOSE_BIN[@]}" -p "$PROJECT" -f "$COMPOSE_FILE_USED" --project-directory "$ROOT/docker" --env-file "$WORK/stack.env")
"${COMPOSE[@]}" down -v --remove-orphans -t 5 >/dev/null 2>&1 || true  # what an interrupted run left

PY=$ROOT/.venv/bin/python
if [ ! -x "$PY" ]; then  # .ci/run's tests made it already; alone, this step makes it
  make -s .venv/bin/.installed >"$WORK/venv.log" 2>&1 || { tail -30 "$WORK/venv.log"; exit 1; }
fi
export XZ_CI_HTTP=http://127.0.0.1:$HTTP_PORT XZ_CI_HTTPS=https://127.0.0.1:$HTTPS_PORT \
       XZ_CI_COMPOSE="$(printf '%q ' "${COMPOSE[@]}")" XZ_CI_ENV_FILE=$WORK/stack.env XZ_CI_STATE=$WORK/state.json
check() { "$PY" .ci/docker_stack_check.py "$1"; }

step "compose up: postgres, redis, migrate, app (2 workers), scheduler, nginx on https://127.0.0.1:$HTTPS_PORT"
"${COMPOSE[@]}" up -d --no-build 2>&1 | sed 's/^/   /'
migrated=$(docker inspect -f '{{.State.ExitCode}}' "$("${COMPOSE[@]}" ps -q migrate)")
[ "$migrated" = 0 ] || { echo "  FAILED  migrate exited $migrated"; exit 1; }
echo "  ok  migrate ran to completion (exit status 0) before app and scheduler started"
check up
step "docker stop of app"
check stop-app
step "compose down (volumes kept), then up again"
"${COMPOSE[@]}" down -t 30 2>&1 | sed 's/^/   /'
"${COMPOSE[@]}" up -d --no-build 2>&1 | sed 's/^/   /'
check after-up
step "passed: the image built, the stack started and answered through nginx, its data survived down/up"
