#!/usr/bin/env bash
# The sync server suite three times: on embedded PGlite, on a real PostgreSQL 15 cluster started
# for this run (scripts/pg-throwaway.sh) and removed afterwards, and through a pgbouncer in
# transaction pooling mode in front of such a cluster (scripts/pgbouncer-throwaway.sh), as
# production runs many processes. Called by scripts/test.sh.
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
# and the concurrency tests want the cores to themselves. Every pass runs even when one
# fails, so a failure says whether it is specific to one database or to the pooler.
failed=()

echo "== server suite on PGlite"
node --test --test-concurrency=1 "${files[@]}" || failed+=(PGlite)

# The two PostgreSQL passes run side by side, each on a cluster of its own: they mostly wait on
# round trips, so together they take little longer than one. The pooled pass prints after.
pooled_log=$(mktemp /tmp/test-server-pgbouncer.XXXXXX)
PG_THROWAWAY_FAST=1 scripts/pg-throwaway.sh scripts/pgbouncer-throwaway.sh \
  bash -c 'TEST_DATABASE_URL="$DATABASE_URL" node --test --test-concurrency=1 "$@"' _ "${files[@]}" >"$pooled_log" 2>&1 &
pooled=$!

echo "== server suite on PostgreSQL 15 (throwaway cluster)"
PG_THROWAWAY_FAST=1 scripts/pg-throwaway.sh bash -c 'TEST_DATABASE_URL="$DATABASE_URL" node --test --test-concurrency=1 "$@"' _ "${files[@]}" ||
  failed+=(PostgreSQL)

pooled_status=0
wait "$pooled" || pooled_status=$?
echo "== server suite through pgbouncer (transaction pooling) on PostgreSQL 15"
cat "$pooled_log"
rm -f "$pooled_log"
[[ $pooled_status -eq 0 ]] || failed+=(pgbouncer)

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "test-server: failed on ${failed[*]}" >&2
  exit 1
fi
