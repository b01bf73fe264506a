#!/usr/bin/env bash
# The same Catch2 unit tests compiled to wasm and run under node: 32-bit size_t, no exceptions in
# the core and the wasm stack limits show up only here. Needs scripts/build-wasm.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=build/wasm/tests/cpp/earnings_unit_tests.js
if [ ! -f "$tests" ]; then
  echo "test-wasm: $tests is missing; run scripts/build-wasm.sh" >&2
  exit 1
fi
# The emscripten 3.1.6 loader fetches its .wasm with the global fetch, which Node 18+ has but which
# cannot read file paths; without it the loader falls back to reading the file.
node --no-experimental-fetch "$tests"
