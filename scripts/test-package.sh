#!/usr/bin/env bash
# The package as users get it: `npm pack` (the release's scripts/pack-package.mjs, and a plain one
# at the root, which must ship the same bytes), install the tarball into an empty folder as
# production installs it (--omit=dev), import it in Node (core, client runtime and server entry),
# build a tiny Vite consumer page against the installed package and load it in headless Chromium
# (the bundler found and shipped the wasm, and the bundle holds nothing of the server) under a
# strict Content-Security-Policy, load the README's import-map page (no bundler), then run the
# installed `ton-earnings-guard-server` (migrate, serve) against a throwaway PostgreSQL and sync
# through it.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

if [ ! -f dist/earnings-core.wasm ] || [ ! -f dist/earnings-core.mjs ] ||
  [ ! -f dist/earnings-core-server.wasm ] || [ ! -f dist/earnings-core-server.mjs ]; then
  bash scripts/build-wasm.sh
fi

WORK="$(mktemp -d)"
# A plain pack that failed half-way has not put the readable sources back yet.
trap 'node scripts/pack-minified.mjs restore; rm -rf "$WORK"' EXIT

# Any pack of the repository ships the same: a plain `npm pack` at the root (what `npm publish`
# there packs; its prepack swaps the minified files in) holds exactly the bytes of the tarball
# below, and leaves the working tree's readable sources as they were.
echo "-- plain npm pack at the root"
SOURCES_BEFORE="$(cat js/core.js js/errors.js | sha256sum)"
mkdir -p "$WORK/plain" "$WORK/plain-files" "$WORK/release-files"
PLAIN="$(npm pack --silent --pack-destination "$WORK/plain" | tail -n 1)"
if [ "$(cat js/core.js js/errors.js | sha256sum)" != "$SOURCES_BEFORE" ] || [ -e build/pack-readable ]; then
  echo "test-package: npm pack left the working tree's js/core.js or js/errors.js changed" >&2
  exit 1
fi

# The tarball as it is published (scripts/pack-package.mjs: the core's JS minified), from the wasm
# already built (or just built), so the tarball is what we tested.
TARBALL="$(basename "$(node scripts/pack-package.mjs "$WORK")")"
echo "packed $TARBALL ($(du -h "$WORK/$TARBALL" | cut -f1))"
# What the bench measures (bench/core-size.js) is what the tarball holds.
for file in js/core.js js/errors.js; do
  tar -xzOf "$WORK/$TARBALL" "package/$file" | cmp -s - <(node -e "import('./scripts/minify-shipped.mjs').then((m) => process.stdout.write(m.minifyShipped('$file')))") ||
    { echo "test-package: the tarball's $file is not what bench/core-size.js measures" >&2; exit 1; }
done

tar -xzf "$WORK/plain/$PLAIN" -C "$WORK/plain-files"
tar -xzf "$WORK/$TARBALL" -C "$WORK/release-files"
diff -rq "$WORK/release-files" "$WORK/plain-files" ||
  { echo "test-package: a plain npm pack differs from scripts/pack-package.mjs's tarball (above)" >&2; exit 1; }

CONSUMER="$WORK/consumer"
mkdir -p "$CONSUMER"
cp -r tests/package/consumer/. "$CONSUMER/"
# The package's runtime libraries come from npm's cache when it has them (setup's npm ci filled
# it), else from the registry, as for any user.
(cd "$CONSUMER" && npm install --omit=dev --no-audit --no-fund --prefer-offline --silent "$WORK/$TARBALL")

echo "-- node import"
(cd "$CONSUMER" && node node-smoke.mjs)

echo "-- vite build"
# An app's build must not warn about the package: every warning is one its developers chase.
(cd "$CONSUMER" && NODE_PATH="$REPO/node_modules" node "$REPO/node_modules/vite/bin/vite.js" build --logLevel warn) 2>&1 | tee "$CONSUMER/vite.log"
if grep -q "ton-earnings-guard" "$CONSUMER/vite.log"; then
  echo "test-package: the Vite build warns about the package (above)" >&2
  exit 1
fi
(cd "$CONSUMER/dist/assets" && wc -c -- * | sed 's/^/   /')
if ! ls "$CONSUMER"/dist/assets/*.wasm >/dev/null 2>&1; then
  echo "test-package: the Vite build has no .wasm asset" >&2
  exit 1
fi
node tests/package/check-bundle.mjs "$CONSUMER/dist"

echo "-- chromium"
node tests/package/run-consumer.mjs "$CONSUMER/dist"

echo "-- chromium, no bundler (the README's import map)"
node tests/package/run-importmap.mjs "$CONSUMER"

echo "-- installed server on PostgreSQL 15 (throwaway cluster)"
PG_THROWAWAY_FAST=1 scripts/pg-throwaway.sh node tests/package/server-smoke.mjs "$CONSUMER"
