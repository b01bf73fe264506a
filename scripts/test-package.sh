#!/usr/bin/env bash
# The package as users get it: `npm pack`, install the tarball into an empty folder, import it in
# Node (core and client runtime), then build a tiny Vite consumer page against the installed
# package and load it in headless Chromium, which proves the bundler found and shipped the wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

if [ ! -f dist/earnings-core.wasm ] || [ ! -f dist/earnings-core.mjs ]; then
  bash scripts/build-wasm.sh
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The wasm is already built (or just was): skip prepack's rebuild so the tarball is what we tested.
TARBALL="$(npm pack --ignore-scripts --silent --pack-destination "$WORK" | tail -n 1)"
echo "packed $TARBALL ($(du -h "$WORK/$TARBALL" | cut -f1))"

CONSUMER="$WORK/consumer"
mkdir -p "$CONSUMER"
cp -r tests/package/consumer/. "$CONSUMER/"
(cd "$CONSUMER" && npm install --no-audit --no-fund --offline --silent "$WORK/$TARBALL")

echo "-- node import"
(cd "$CONSUMER" && node node-smoke.mjs)

echo "-- vite build"
# An app's build must not warn about the package: every warning is one its developers chase.
(cd "$CONSUMER" && NODE_PATH="$REPO/node_modules" node "$REPO/node_modules/vite/bin/vite.js" build --logLevel warn) 2>&1 | tee "$CONSUMER/vite.log"
if grep -q "ton-earnings-guard" "$CONSUMER/vite.log"; then
  echo "test-package: the Vite build warns about the package (above)" >&2
  exit 1
fi
ls "$CONSUMER/dist/assets" | sed 's/^/   /'
if ! ls "$CONSUMER"/dist/assets/*.wasm >/dev/null 2>&1; then
  echo "test-package: the Vite build has no .wasm asset" >&2
  exit 1
fi

echo "-- chromium"
node tests/package/run-consumer.mjs "$CONSUMER/dist"
