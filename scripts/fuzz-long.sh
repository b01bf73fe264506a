#!/usr/bin/env bash
# Long fuzz session (not part of the test command): each target runs for FUZZ_SECONDS (default
# 600) with a corpus kept in build/fuzz/corpus/<target> between sessions, so coverage grows over
# time. Crashes land in build/fuzz/artifacts; reproduce one with
#   build/fuzz/tests/fuzz/<target> build/fuzz/artifacts/crash-...
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${EARNINGS_FUZZ_BUILD:-$root/build/fuzz}"
seconds="${FUZZ_SECONDS:-600}"

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DEARNINGS_FUZZ=ON \
  -DEARNINGS_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target codec_decode_fuzz json_entry_fuzz make_fuzz_corpus >/dev/null

mkdir -p "$build/seeds" "$build/artifacts"
"$build/tests/fuzz/make_fuzz_corpus" "$build/seeds"

for target in codec_decode_fuzz json_entry_fuzz; do
  mkdir -p "$build/corpus/$target"
  echo "fuzz-long: $target for ${seconds}s"
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/" "$build/corpus/$target" "$build/seeds"
done
