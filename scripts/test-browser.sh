#!/usr/bin/env bash
# The client runtime and the demo in headless Debian Chromium (never a downloaded browser):
# tests/browser/client*.test.js (persistence across reload, localStorage fallback, user isolation,
# two tabs, a killed tab) and tests/browser/demo*.test.js (the demo page and its fault controls).
# Pages and the sync server they talk to are served from 127.0.0.1 by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "test-browser: ${CHROMIUM_PATH:-/usr/bin/chromium} not found; install the Debian chromium package (scripts/setup.sh)" >&2
  exit 1
fi
if [ ! -f dist/earnings-core.wasm ]; then
  bash scripts/build-wasm.sh
fi
mapfile -t suites < <(find tests/browser \( -name 'client*.test.js' -o -name 'demo*.test.js' \) | sort)
# One browser at a time: the machine has two cores shared with other work.
node --test --test-concurrency=1 --test-reporter=spec "${suites[@]}"
