#!/usr/bin/env bash
# Every benchmark under bench/ (they print tables; none asserts a speed). Builds the core first.
# bench/server.js and bench/storage.js start a PostgreSQL cluster and run under
# `npm run bench:server` and `npm run bench:storage`; bench/migration-locks.js starts a throwaway
# PostgreSQL cluster of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-wasm.sh >/dev/null
for bench in bench/*.js; do
  case "$bench" in
    bench/server.js | bench/storage.js | bench/upgrade-volume.js | bench/core-table.js) continue ;;
  esac
  echo "== $bench"
  node "$bench"
done
