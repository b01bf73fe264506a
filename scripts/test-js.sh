#!/usr/bin/env bash
# Every node:test suite under tests/js (core bindings, client runtime), against the built files.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t suites < <(find tests/js -name '*.test.js' | sort)
if [ "${#suites[@]}" -eq 0 ]; then
  echo "test-js: no tests/js/**/*.test.js found" >&2
  exit 1
fi
node --test --test-reporter=spec "${suites[@]}"
