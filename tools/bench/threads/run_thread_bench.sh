#!/usr/bin/env bash
# run_thread_bench.sh [BUILD_DIR=build] [REPS=5]: the thread interposer against plain glibc, in
# interleaved pairs (plain, then preloaded) so both see the same machine, and the full-dump cost.
set -euo pipefail
build="${1:-build}"
reps="${2:-5}"
ops="$build/tools/bench/threads/thread_ops"
preload="$build/libleakwatch_preload.so"
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }
for op in lock lock1 create; do
  for ((i = 1; i <= reps; i++)); do
    plain=$("$ops" "$op" | field ns_per_op)
    pre=$(LD_PRELOAD="$preload" "$ops" "$op" | field ns_per_op)
    ratio=$(awk -v a="$pre" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')
    echo "{\"op\":\"$op\",\"rep\":$i,\"plain_ns\":$plain,\"preloaded_ns\":$pre,\"ratio\":$ratio}"
  done
done
"$build/tools/bench/threads/thread_dump_bench" 2000 5 | tail -n 1
