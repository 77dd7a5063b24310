#!/usr/bin/env bash
# Build the images and run the production compose stack on THIS machine with podman: no Docker
# engine runs here and no image registry answers, so the base image is a Debian root made by
# debootstrap from the mirror the machine's apt sources already use.
#
#   scripts/stack.sh image   # the base (once, cached), the app, postgres, redis and nginx images
#   scripts/stack.sh up      # image, then the stack on 127.0.0.1:$STACK_PORT; prints URL + login
#   scripts/stack.sh down    # stop the stack and drop its volumes
#   scripts/stack.sh ready   # exit 0 when podman can run containers here (the test's check)
#   scripts/stack.sh built   # exit 0 when the four images exist
#
# `make image` and `make stack` call it. Everything podman does here reads
# docker/podman/containers.conf (runc, cgroupfs, no ulimits), never the machine's defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export CONTAINERS_CONF="$ROOT/docker/podman/containers.conf"
BASE_IMAGE=${BASE_IMAGE:-localhost/calendar-base:bookworm}
APP_IMAGE=${APP_IMAGE:-localhost/scripe-calendar:latest}
STACK_PORT=${STACK_PORT:-8088}
PROJECT=${STACK_PROJECT:-scripe-calendar}
COMPOSE=("$ROOT/.venv/bin/podman-compose" --project-name "$PROJECT"
  -f "$ROOT/docker/compose.yaml" -f "$ROOT/docker/compose.podman.yaml")
# compose.yaml's env file and nginx's published address, for this stack: loopback only.
CALENDAR_ENV_FILE="$ROOT/var/stack/stack.env"
PROXY_PUBLISH="127.0.0.1:$STACK_PORT"
export STACK_PORT APP_IMAGE BASE_IMAGE CALENDAR_ENV_FILE PROXY_PUBLISH

# podman-compose's chatter goes to a log; on failure, its end is shown.
compose() {
  mkdir -p var/stack
  if ! "${COMPOSE[@]}" "$@" >>var/stack/compose.log 2>&1; then
    tail -n 30 var/stack/compose.log >&2
    log "podman-compose $* failed (log: var/stack/compose.log)"
    return 1
  fi
}

log() { printf '\033[1m[stack]\033[0m %s\n' "$*" >&2; }

# Debian's podman and what it needs here, installed once (like .ci/run installs chromium).
ensure_tools() {
  local missing=()
  for cmd in podman runc debootstrap slirp4netns fuse-overlayfs newuidmap; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  if ((${#missing[@]})); then
    log "installing podman and its tools (missing: ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      podman runc debootstrap slirp4netns fuse-overlayfs uidmap >/dev/null
  fi
  [ -x "$ROOT/.venv/bin/podman-compose" ] || make -s install-dev >/dev/null
}

# The first Debian mirror the machine's apt sources name (deb822 or one-line format).
debian_mirror() {
  local mirror
  mirror=$(
    { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
      grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
        sed -E 's/\[[^]]*\]//' | awk '{print $2}'
    } | grep -v -- '-security' | grep '/debian' | head -n 1
  )
  [ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list(.d)" >&2; exit 1; }
  echo "$mirror"
}

# A minimal Debian bookworm with Debian's Python 3.11, imported as the base image. Cached:
# made once per machine (delete it with `podman rmi $BASE_IMAGE` to make it again).
build_base() {
  if podman image exists "$BASE_IMAGE"; then
    log "base image $BASE_IMAGE exists"
    return
  fi
  local mirror rootfs
  mirror=$(debian_mirror)
  rootfs=$(mktemp -d /var/tmp/calendar-base.XXXXXX)
  log "debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase \
    --include=python3,python3-venv,ca-certificates,libpq5 \
    bookworm "$rootfs" "$mirror" >/dev/null
  # Slim the root: no apt lists, docs, man pages or locales beyond C.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  # The image's apt uses the same mirror (the postgres/redis/nginx images install from it).
  echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  log "base image $BASE_IMAGE made"
}

# The app's dependencies as wheels, installed in the image with --no-index, so the image build
# itself needs no network. They are fetched by the base image's own Python (its version
# decides markers such as redis's `async-timeout; python_full_version < "3.11.3"`, which pip
# on the host would judge by the host's Python), in a throwaway container on the host's
# network, and kept in var/stack/wheels until the requirements change.
WHEELS=var/stack/wheels
build_wheels() {
  mkdir -p "$WHEELS"
  local requirements
  requirements=$("$ROOT/.venv/bin/python" -c '
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["prod"]))
')
  if [ "$requirements" != "$(cat "$WHEELS/requirements.txt" 2>/dev/null)" ]; then
    log "wheels for the image (pip in a container of the base image, on the host's network)"
    rm -f "$WHEELS"/*
    echo "$requirements" >"$WHEELS/requirements.in"
    # The host's trust store: the host's network may reach the index through a proxy that
    # the base image's own certificates do not know.
    local ca
    ca=$("$ROOT/.venv/bin/python" -m pip config get global.cert 2>/dev/null ||
      echo /etc/ssl/certs/ca-certificates.crt)
    podman run --rm --network host -v "$ROOT/$WHEELS:/wheels:z" \
      -v "$ca:/etc/ssl/host-ca.pem:ro" -e PIP_CERT=/etc/ssl/host-ca.pem "$BASE_IMAGE" sh -c '
      python3 -m venv /tmp/venv &&
      /tmp/venv/bin/pip download --quiet --disable-pip-version-check --no-cache-dir \
        --only-binary=:all: --dest /wheels -r /wheels/requirements.in'
    mv "$WHEELS/requirements.in" "$WHEELS/requirements.txt"  # complete: usable next time
  fi
  rm -f docker/wheels/*.whl docker/wheels/requirements.txt
  cp -p "$WHEELS"/*.whl "$WHEELS/requirements.txt" docker/wheels/
}

build_images() {
  build_base
  build_wheels
  local started=$SECONDS
  log "image $APP_IMAGE"
  # Docker's image format: the OCI format has no HEALTHCHECK.
  podman build --quiet --format docker --build-arg "BASE=$BASE_IMAGE" -f docker/Dockerfile \
    --label "calendar.source=$(source_digest)" -t "$APP_IMAGE" . >/dev/null
  # Debian's packages for the services: these builds run apt, on the host's network.
  local service
  for service in postgres redis nginx; do
    log "image localhost/calendar-$service:bookworm"
    podman build --quiet --format docker --network host --build-arg "BASE=$BASE_IMAGE" \
      -t "localhost/calendar-$service:bookworm" "docker/podman/$service" >/dev/null
  done
  rm -f docker/wheels/*.whl docker/wheels/requirements.txt
  podman image prune --force >/dev/null  # the build stages
  log "images built in $((SECONDS - started)) s; $APP_IMAGE is $(image_mb "$APP_IMAGE") MB"
}

image_mb() { podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%d", $1 / 1000000}'; }

# What the app image is made of, as it is in the working tree now: an image labelled with
# another digest is older than the code (the stack test would try yesterday's app).
source_digest() {
  git ls-files -z --cached --others --exclude-standard -- calendar_app config \
    scripe_integration templates static locale docker pyproject.toml manage.py gunicorn.conf.py |
    sort -z | xargs -0 sha1sum | sha1sum | cut -c1-16
}

app_current() {
  [ "$(podman image inspect --format '{{ index .Labels "calendar.source" }}' "$APP_IMAGE" \
    2>/dev/null)" = "$(source_digest)" ]
}

images_exist() {
  local image
  for image in "$APP_IMAGE" localhost/calendar-{postgres,redis,nginx}:bookworm; do
    podman image exists "$image" || return 1
  done
}

# Settings for the local stack: fresh secrets once per checkout (var/ is not committed),
# plain http on loopback, the sandbox as Scripe.
write_env() {
  local env=var/stack/stack.env
  mkdir -p var/stack
  [ -s "$env" ] && grep -q "STACK_PORT=$STACK_PORT\$" "$env" && return
  local secret fernet metrics_token
  metrics_token=$("$ROOT/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
  secret=$("$ROOT/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
  fernet=$("$ROOT/.venv/bin/python" -c \
    'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  cat >"$env" <<ENV
# Made by scripts/stack.sh for the local podman stack; never used in production.
STACK_PORT=$STACK_PORT
DEBUG=False
SECRET_KEY=$secret
SCRIPE_KEY_ENCRYPTION_KEYS=$fernet
ALLOWED_HOSTS=127.0.0.1,localhost
CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$STACK_PORT,http://localhost:$STACK_PORT
BEHIND_TLS_PROXY=False
TRUSTED_PROXY_COUNT=1
DATABASE_URL=postgres://calendar:calendar@postgres:5432/calendar
REDIS_URL=redis://redis:6379/0
SCRIPE_API_BASE_URL=http://sandbox:8765/v1
SCRIPE_ALLOW_LOCAL_HOSTS=True
PUBLIC_BASE_URL=
Q_WORKERS=2
WEB_CONCURRENCY=2
# A task on a killed worker goes back to the queue after Q_TIMEOUT + 30 s.
Q_TIMEOUT=30
# README, "Operate it": the metrics every process counts, and one JSON object a log line.
METRICS_TOKEN=$metrics_token
PROMETHEUS_MULTIPROC_DIR=/app/var/prometheus
LOG_FORMAT=json
ENV
}

container() { echo "${PROJECT}_$1_${2:-1}"; }

# podman 4.3 runs no health checks by itself without systemd (and podman-compose ignores
# `condition: service_healthy` before podman 4.6), so this script runs them and orders the
# start-up itself: databases, migrate (must exit 0), web and workers, then nginx.
wait_healthy() {
  local name=$1 deadline=$((SECONDS + ${2:-120}))
  until podman healthcheck run "$name" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      log "$name is not healthy; its log:"
      podman logs --tail 40 "$name" >&2 || true
      return 1
    fi
    sleep 1
  done
}

stack_up() {
  { images_exist && app_current; } || build_images
  write_env
  local started=$SECONDS
  log "starting the stack ($PROJECT)"
  compose --profile demo up -d --no-deps postgres redis sandbox
  wait_healthy "$(container postgres)"
  wait_healthy "$(container redis)"
  compose up -d --no-deps migrate
  local code
  code=$(podman wait "$(container migrate)")
  if [ "$code" != 0 ]; then
    podman logs "$(container migrate)" >&2
    log "migrate exited with $code"
    return 1
  fi
  compose up -d --no-deps web worker
  wait_healthy "$(container web 1)"
  wait_healthy "$(container web 2)"
  compose up -d --no-deps proxy
  local url="http://127.0.0.1:$STACK_PORT"
  local deadline=$((SECONDS + 60))
  until curl -fsS "$url/healthz" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "nginx does not answer on $url"; return 1; }
    sleep 0.5
  done
  log "healthy through nginx in $((SECONDS - started)) s from up"
  podman exec "$(container web 1)" python manage.py seed_demo --wait-for-scripe 30 >/dev/null 2>&1
  log "open $url  (logins: editor, manager, admin; password: demo)"
}

stack_down() {
  compose --profile demo down --volumes || true
}

# Can podman run a container here? (the stack test skips with the reason when not)
ready() {
  command -v podman >/dev/null || { echo "podman is not installed"; return 1; }
  podman image exists "$BASE_IMAGE" || { echo "no base image $BASE_IMAGE (make image)"; return 1; }
  local out
  if ! out=$(podman run --rm --network none "$BASE_IMAGE" true 2>&1); then
    echo "podman cannot run a container here: ${out##*$'\n'}"
    return 1
  fi
}

case "${1:-}" in
  base) ensure_tools; build_base ;;
  image) ensure_tools; build_images ;;
  up) ensure_tools; stack_up ;;
  down) stack_down ;;
  ready) ready ;;
  built) images_exist && app_current ;;
  *) echo "usage: $0 image|up|down|ready|built" >&2; exit 2 ;;
esac
