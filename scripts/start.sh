#!/usr/bin/env bash
# npm start: from a fresh clone, installs what is missing (setup.sh), builds the core to wasm
# (incremental after the first run), then runs the sync server on the embedded database (PGlite,
# kept in .data/) serving the demo page, and prints its URL. Environment: see README
# "Configuration" (PORT, HOST, DATABASE_URL, BOT_TOKEN, ADMIN_TOKEN, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build-wasm.sh
exec node web-demo/launch.js
