#!/usr/bin/env bash
# Placeholder until the demo page lands: sets up, builds the core, and runs a short Node script
# that shows the core accruing, building a sync request body and serializing a record.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-wasm.sh
node scripts/core-tour.js
