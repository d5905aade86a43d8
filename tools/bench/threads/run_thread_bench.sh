#!/usr/bin/env bash
# run_thread_bench.sh [BUILD_DIR=build] [REPS=5]: the thread interposer against plain glibc, in
# interleaved pairs (plain, then preloaded) so both see the same machine, and the full-dump cost:
# the first dump of a fresh process (every thread signalled) beside signal_floor, the kernel's own
# cost of signalling every thread once with a handler that does nothing, in the same round.
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
for ((i = 1; i <= reps; i++)); do
  floor=$("$build/tools/bench/threads/signal_floor" 2000 1 | tail -n 1 | field signal_all_ms_median)
  first=$("$build/tools/bench/threads/thread_dump_bench" 2000 1 | head -n 1 | field dump_ms)
  ratio=$(awk -v a="$first" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')
  echo "{\"op\":\"first_dump_2000\",\"rep\":$i,\"signal_floor_ms\":$floor,\"first_dump_ms\":$first,\"ratio\":$ratio}"
done
"$build/tools/bench/threads/thread_dump_bench" 2000 5 | tail -n 1
