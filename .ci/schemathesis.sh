#!/usr/bin/env bash
# Schema fuzzing: schemathesis (from PyPI) against the server's own OpenAPI document, with a
# key holding every scope. Fails on any 5xx, any status or body the document does not
# describe, any wrong content type, and any panic in the server's log.
# SCHEMATHESIS_EXAMPLES (default 10) bounds the cases per operation and phase.
# SCHEMATHESIS_POSTGRES_URL (postgres://user@host:port/database) runs the server on PostgreSQL,
# in a schema of its own that is dropped afterwards; without it, on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${SCHEMATHESIS_VENV:-${TMPDIR:-/tmp}/flowgate-schemathesis}
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet schemathesis==4.32.5
fi

# FLOWGATE_BIN: a binary built already (CI passes the one its test run built).
if [ -n "${FLOWGATE_BIN:-}" ]; then
  BIN=$FLOWGATE_BIN
else
  cargo build --bin flowgate
  BIN="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/flowgate"
fi
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export N8N_USER_FOLDER="$WORK" N8N_ENCRYPTION_KEY=schemathesis N8N_PORT="$PORT" N8N_LOG_LEVEL=warn
if [ -n "${SCHEMATHESIS_POSTGRES_URL:-}" ]; then
  read -r PG_USER PG_HOST PG_PORT PG_DB < <(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
print(u.username or "postgres", u.hostname or "127.0.0.1", u.port or 5432, u.path.lstrip("/"))
' "$SCHEMATHESIS_POSTGRES_URL")
  PG_SCHEMA="schemathesis_$$"
  export DB_TYPE=postgresdb DB_POSTGRESDB_HOST="$PG_HOST" DB_POSTGRESDB_PORT="$PG_PORT" \
    DB_POSTGRESDB_DATABASE="$PG_DB" DB_POSTGRESDB_USER="$PG_USER" DB_POSTGRESDB_SCHEMA="$PG_SCHEMA"
fi
drop_schema() {
  if [ -n "${PG_SCHEMA:-}" ]; then
    PGOPTIONS=--client-min-messages=warning psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -q -c "drop schema if exists $PG_SCHEMA cascade" || true
  fi
}
# The fuzzer sends many requests without a valid key on purpose; they must not lock it out.
export N8N_PUBLIC_API_FAILED_AUTH_LIMIT=1000000
N8N_OWNER_PASSWORD='Schema-Passw0rd1' "$BIN" owner setup --email fuzz@example.com --first-name Fuzz --last-name Er
KEY=$("$BIN" api-key create --label fuzz --scopes all 2>/dev/null)
"$BIN" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; drop_schema; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

status=0
"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  -H "X-N8N-API-KEY: $KEY" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-10}" --workers 2 --no-color || status=$?
if grep -q "panicked" "$WORK/server.log"; then
  echo "the server panicked:" >&2
  grep -A5 "panicked" "$WORK/server.log" >&2
  status=1
fi
exit "$status"
