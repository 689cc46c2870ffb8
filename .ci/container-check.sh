#!/usr/bin/env bash
# What the image would do, proven without a Docker engine:
#  1. Dockerfile and docker-compose.yml parse and hold what the project relies on
#     (.ci/container_files.py);
#  2. the release binary builds as the Dockerfile builds it: `cargo build --release --locked`
#     from a copy of exactly the build context .dockerignore lets through, without .git;
#  3. it runs as the image runs it: a root filesystem holding only the binary and the
#     libraries it links, mounted read-only but for the data folder, as the image's numeric
#     user, with an empty environment plus the image's ENV and compose's DB_* variables, no
#     HOME, against PostgreSQL. Then /healthz, readiness, the HEALTHCHECK command, owner
#     set-up and a key with the CLI (as `docker compose exec` would), and an authenticated
#     GET /api/v1/tags.
# Needs root (mount namespace, chroot), python3, curl, psql and a PostgreSQL on
# 127.0.0.1:5432 that trusts the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

PGHOST_ADDR=127.0.0.1
PGPORT_NUM=5432
CHECK_DB=${CONTAINER_CHECK_DB:-flowgate_container_check}

step() { printf '\n-- %s\n' "$*"; }
fail() { printf 'container check FAILED: %s\n' "$*" >&2; exit 1; }

step "container files"
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet pyyaml
python3 .ci/container_files.py check
eval "$(python3 .ci/container_files.py runtime)"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  psql -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -q -c "drop database if exists $CHECK_DB with (force)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "release build from the image's build context"
# Only the paths .dockerignore lets through (it is an allow-list: `*`, then `!path`).
[ "$(grep -v '^#' .dockerignore | grep -v '^$' | head -n 1)" = "*" ] || fail ".dockerignore must start with '*' (an allow-list)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
# A fixed place with the files' times kept, so that a second run rebuilds nothing.
CONTEXT="$CARGO_TARGET_DIR/container-context"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT"
grep '^!' .dockerignore | sed 's/^!//' | while read -r path; do
  cp -a --parents "$path" "$CONTEXT/"
done
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
(cd "$CONTEXT" && FLOWGATE_GIT_REVISION="$REVISION" cargo build --release --locked)
BINARY="$CARGO_TARGET_DIR/release/flowgate"
printf 'binary: %s bytes\n' "$(stat -c %s "$BINARY")"

step "root filesystem: the binary, its libraries, the data folder"
ROOTFS="$WORK/rootfs"
DATA="$WORK/data"
mkdir -p "$ROOTFS$(dirname "$IMAGE_BINARY")" "$ROOTFS/etc" "$ROOTFS/proc" "$ROOTFS/data" "$DATA"
cp "$BINARY" "$ROOTFS$IMAGE_BINARY"
for lib in $(ldd "$BINARY" | grep -o '/[^ ]*'); do
  cp -L --parents "$lib" "$ROOTFS/"
done
echo "flowgate:x:$IMAGE_UID:$IMAGE_GID::/data:/usr/sbin/nologin" >"$ROOTFS/etc/passwd"
echo "flowgate:x:$IMAGE_GID:" >"$ROOTFS/etc/group"
chown "$IMAGE_UID:$IMAGE_GID" "$DATA"
chmod 0700 "$DATA"
ldd "$BINARY" | sed 's/^/  /'

psql -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -q -c "drop database if exists $CHECK_DB with (force)"
psql -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -q -c "create database $CHECK_DB"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The environment of the container: the image's ENV, then what compose sets (a port of our
# own: 5678 may be taken on this machine). Nothing else: no HOME, no PATH.
CONTAINER_ENV=("${IMAGE_ENV[@]}"
  "N8N_PORT=$PORT"
  DB_TYPE=postgresdb
  "DB_POSTGRESDB_HOST=$PGHOST_ADDR"
  "DB_POSTGRESDB_PORT=$PGPORT_NUM"
  "DB_POSTGRESDB_DATABASE=$CHECK_DB"
  DB_POSTGRESDB_USER=postgres
  N8N_LOG_LEVEL=info)

# The command that runs the image's binary with `args` in the sandbox: a private mount
# namespace where the root filesystem is read-only and only the data folder (the volume) is
# writable. Leading VAR=value words add to the environment (as `docker exec -e`). Left in
# CMD, so that a server started with `"${CMD[@]}" &` is the process $! names.
container_cmd() {
  local extra_env=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do extra_env+=("$1"); shift; done
  shift
  CMD=(env -i "${CONTAINER_ENV[@]}" "${extra_env[@]}"
    /usr/bin/unshare --mount --propagation private /bin/sh -c '
      set -e
      root=$1; data=$2; user=$3; shift 3
      mount --bind "$root" "$root"
      mount -o remount,bind,ro "$root"
      mount --bind "$data" "$root/data"
      mount -t proc -o ro proc "$root/proc"
      exec /usr/sbin/chroot --userspec="$user" "$root" "$@"
    ' sh "$ROOTFS" "$DATA" "$IMAGE_UID:$IMAGE_GID" "$IMAGE_BINARY" "$@")
}
container() {
  container_cmd "$@"
  "${CMD[@]}"
}

step "version"
VERSION_LINE=$(container -- --version)
echo "$VERSION_LINE"
case "$VERSION_LINE" in *"($REVISION)"*) ;; *) fail "--version should name revision $REVISION" ;; esac

step "the sandbox is read-only outside the data folder"
if container N8N_USER_FOLDER=/elsewhere DB_TYPE=sqlite -- api-key list >/dev/null 2>"$WORK/ro.err"; then
  fail "writing outside the data folder should fail"
fi
grep -q "Read-only file system" "$WORK/ro.err" || fail "unexpected error: $(cat "$WORK/ro.err")"
echo "refused: $(head -n 1 "$WORK/ro.err")"

step "server"
container_cmd -- start
"${CMD[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz/readiness" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; fail "the server exited"; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz" | grep -q '"ok"' || fail "/healthz"
curl -fsS "http://127.0.0.1:$PORT/healthz/readiness" | grep -q '"ok"' || fail "/healthz/readiness"
echo "healthz and readiness: ok"
container -- healthcheck || fail "the HEALTHCHECK command failed"
echo "HEALTHCHECK command: ok"

step "owner and key with the CLI"
container N8N_OWNER_PASSWORD=Container-Check-1 -- owner setup \
  --email ops@example.com --first-name Ops --last-name Check
KEY=$(container -- api-key create --label container-check --scopes all)
case "$KEY" in n8n_api_*) ;; *) fail "api-key create printed no key" ;; esac

step "authenticated GET /api/v1/tags"
STATUS=$(curl -sS -o "$WORK/tags.json" -w '%{http_code}' -H "X-N8N-API-KEY: $KEY" "http://127.0.0.1:$PORT/api/v1/tags")
[ "$STATUS" = 200 ] || fail "GET /api/v1/tags answered $STATUS: $(cat "$WORK/tags.json")"
grep -q '"data"' "$WORK/tags.json" || fail "GET /api/v1/tags body: $(cat "$WORK/tags.json")"
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/tags")
[ "$STATUS" = 401 ] || fail "GET /api/v1/tags without a key answered $STATUS"
echo "with the key: 200; without: 401"

step "the data folder holds what the instance wrote"
[ -f "$DATA/.n8n/config" ] || fail "no generated encryption key in the data folder"
[ "$(stat -c %u "$DATA/.n8n/config")" = "$IMAGE_UID" ] || fail "data written by the wrong user"
ls -la "$DATA/.n8n"

kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
grep -q "stopped" "$WORK/server.log" || { cat "$WORK/server.log"; fail "no clean shutdown on SIGTERM"; }

step "image size"
BINARY_BYTES=$(stat -c %s "$BINARY")
echo "release binary: $BINARY_BYTES bytes ($(( BINARY_BYTES / 1024 / 1024 )) MiB); the image is the Debian slim base plus this file"
echo "container check: ok"
