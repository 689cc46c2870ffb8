#!/usr/bin/env bash
# Browser tests of the web page: installs what they need (Debian's chromium, the npm
# packages of package-lock.json), builds the server, and drives it through headless Chromium.
# Screenshots of every step go to $E2E_SCREENSHOTS (default: target/e2e-screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== %s\n' "$*"; }

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  step "apt-get install chromium chromium-driver"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  step "apt-get install nodejs npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi

step "npm ci"
# The browser is Debian's; playwright-core never downloads one, this only makes sure.
(cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

# Wherever cargo puts its builds (CARGO_TARGET_DIR, a config file, or ./target).
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c "import json,sys; print(json.load(sys.stdin)[\"target_directory\"])")
# FLOWGATE_BIN: a binary built already (CI passes the one its test run built).
if [ -z "${FLOWGATE_BIN:-}" ]; then
  step "cargo build"
  cargo build --bin flowgate
  export FLOWGATE_BIN="$target_dir/debug/flowgate"
fi
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}
export E2E_SCREENSHOTS=${E2E_SCREENSHOTS:-$root/target/e2e-screenshots}
rm -rf "$E2E_SCREENSHOTS"
mkdir -p "$E2E_SCREENSHOTS"

step "browser tests"
status=0
# A hung browser must not eat the CI time limit.
(cd e2e && timeout 900 node --test --test-concurrency=1 --test-reporter=spec web.test.mjs runs.test.mjs) || status=$?
echo "screenshots: $E2E_SCREENSHOTS"
exit "$status"
