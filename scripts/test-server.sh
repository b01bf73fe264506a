#!/usr/bin/env bash
# The sync server suite, twice: on embedded PGlite, then on a real PostgreSQL 15 cluster started
# for this run (scripts/pg-throwaway.sh) and removed afterwards. Called by scripts/test.sh.
#   scripts/test-server.sh [test files...]   default: every tests/server/*.test.js
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -f dist/earnings-core-server.wasm ]]; then
  echo "test-server: dist/earnings-core-server.wasm is missing; build the core first (npm run build:wasm)" >&2
  exit 2
fi

files=("$@")
[[ ${#files[@]} -eq 0 ]] && files=(tests/server/*.test.js)

# One file at a time: each opens its own database (PGlite's first open costs seconds and memory),
# and the concurrency tests want the two cores to themselves. Both passes run even when the first
# fails, so a failure says whether it is specific to one database.
failed=()

echo "== server suite on PGlite"
node --test --test-concurrency=1 "${files[@]}" || failed+=(PGlite)

echo "== server suite on PostgreSQL 15 (throwaway cluster)"
PG_THROWAWAY_FAST=1 scripts/pg-throwaway.sh bash -c 'TEST_DATABASE_URL="$DATABASE_URL" node --test --test-concurrency=1 "$@"' _ "${files[@]}" ||
  failed+=(PostgreSQL)

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "test-server: failed on ${failed[*]}" >&2
  exit 1
fi
