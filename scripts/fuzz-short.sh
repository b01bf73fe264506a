#!/usr/bin/env bash
# Short, deterministic fuzz run of the decoders and JSON entry points (part of the test command):
# a fixed seed, a fixed number of runs and a fresh corpus grown from generated seeds, so the same
# tree gives the same run. About 30-60 s on two cores. FUZZ_RUNS overrides the runs per target.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${EARNINGS_FUZZ_BUILD:-$root/build/fuzz}"
runs="${FUZZ_RUNS:-30000}"

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DEARNINGS_FUZZ=ON \
  -DEARNINGS_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target codec_decode_fuzz json_entry_fuzz make_fuzz_corpus >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds"
"$build/tests/fuzz/make_fuzz_corpus" "$work/seeds"

for target in codec_decode_fuzz json_entry_fuzz; do
  mkdir -p "$work/$target"
  echo "fuzz-short: $target, $runs runs, seed 1"
  "$build/tests/fuzz/$target" -seed=1 -runs="$runs" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/$target" "$work/seeds" 2>"$work/$target.log" || {
    tail -n 60 "$work/$target.log"
    mkdir -p "$build/artifacts"
    cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$build/artifacts/" 2>/dev/null || true
    echo "fuzz-short: $target FAILED (artifacts in $build/artifacts)" >&2
    exit 1
  }
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$work/$target.log" || true
done
echo "fuzz-short: ok"
