#!/usr/bin/env bash
# Builds the client module (dist/earnings-core.mjs + .wasm), the server's build of the core
# (dist/earnings-core-server.*) and the Catch2 unit tests compiled to
# wasm, through the same CMake project as the native build. Incremental: build/wasm is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's emscripten runs its JS optimizer with the machine's node, which only finds acorn and
# friends in Debian's module folder.
export NODE_PATH=/usr/share/nodejs

if [ ! -f build/wasm/CMakeCache.txt ]; then
  emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release -DEARNINGS_PROPERTY_TESTS=OFF
fi
cmake --build build/wasm -j"${EARNINGS_JOBS:-2}"
