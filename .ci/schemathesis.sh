#!/usr/bin/env bash
# Schema fuzzing: schemathesis (from PyPI) against the server's own OpenAPI document, with a
# key holding every scope. Fails on any 5xx, any status or body the document does not
# describe, any wrong content type, and any panic in the server's log.
# SCHEMATHESIS_EXAMPLES (default 10) bounds the cases per operation and phase.
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
# The fuzzer sends many requests without a valid key on purpose; they must not lock it out.
export N8N_PUBLIC_API_FAILED_AUTH_LIMIT=1000000
N8N_OWNER_PASSWORD='Schema-Passw0rd1' "$BIN" owner setup --email fuzz@example.com --first-name Fuzz --last-name Er
KEY=$("$BIN" api-key create --label fuzz --scopes all 2>/dev/null)
"$BIN" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
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
