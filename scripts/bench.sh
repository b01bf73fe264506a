#!/usr/bin/env bash
# Every benchmark under bench/ (they print tables; none asserts a speed). Builds the core first.
# bench/server.js needs a database and runs under `npm run bench:server`; bench/migration-locks.js
# starts a throwaway PostgreSQL cluster of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-wasm.sh >/dev/null
for bench in bench/*.js; do
  case "$bench" in
    bench/server.js | bench/core-table.js) continue ;;
  esac
  echo "== $bench"
  node "$bench"
done
