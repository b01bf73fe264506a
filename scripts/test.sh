#!/usr/bin/env bash
# Everything, in order, stopping at the first failing stage: set-up, native C++ (sanitizers),
# short fuzzing, the wasm build and its tests, the JS suites, the server, the browser, the
# package as a user installs it. Builds are incremental (build/), so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() {
  local name="$1"
  shift
  local started=$SECONDS
  printf '\n==== %s ====\n' "$name"
  if ! "$@"; then
    printf '\n==== FAILED: %s (after %ss) ====\n' "$name" "$((SECONDS - started))" >&2
    exit 1
  fi
  printf '==== ok: %s (%ss) ====\n' "$name" "$((SECONDS - started))"
}

optional_stage() {
  local name="$1" script="$2"
  if [ -f "$script" ]; then
    stage "$name" bash "$script"
  else
    printf '\n==== skipped: %s (%s not present) ====\n' "$name" "$script"
  fi
}

stage "setup" bash scripts/setup.sh
stage "C++ native (ASan+UBSan)" bash scripts/test-cpp.sh
optional_stage "fuzz (short)" scripts/fuzz-short.sh
stage "wasm build" bash scripts/build-wasm.sh
stage "C++ under wasm" bash scripts/test-wasm.sh
stage "JS (node:test)" bash scripts/test-js.sh
optional_stage "server" scripts/test-server.sh
optional_stage "browser (headless Chromium)" scripts/test-browser.sh
optional_stage "package (npm pack + install)" scripts/test-package.sh
printf '\n==== all stages passed in %ss ====\n' "$SECONDS"
