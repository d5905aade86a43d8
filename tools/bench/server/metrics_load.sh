#!/usr/bin/env bash
# metrics_load.sh: the /metrics load check. Drives leakwatch's /metrics (metrics_target, started
# with LEAKWATCH_HTTP=127.0.0.1:0) and, as the peer, Go's net/http + expvar /debug/vars with wrk on
# loopback for a bounded time, and reads the target's RSS before and after.
#
#   tools/bench/server/metrics_load.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#
# Needs: wrk (tools/deps.sh --bench), go (golang-go), a built metrics_target
# (cmake --build build --target metrics_target). Prints "key value" lines.
set -euo pipefail

build=${1:-build}
secs=${2:-10}
conns=${3:-4}
here=$(cd "$(dirname "$0")" && pwd)
target="$build/tools/bench/server/metrics_target"
[[ -x "$target" ]] || { echo "metrics_load: error: build $target first" >&2; exit 2; }
command -v wrk >/dev/null || { echo "metrics_load: error: wrk missing (tools/deps.sh --bench)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/lw_metrics_load_XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_for() {  # wait_for FILE PATTERN
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "metrics_load: error: no '$2' in $1:" >&2; cat "$1" >&2; exit 1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }

# leakwatch /metrics: answered on the server's loop thread; LEAKWATCH_HTTP_THREADS only sizes the workers.
LEAKWATCH_HTTP=127.0.0.1:0 LEAKWATCH_HTTP_THREADS=$conns "$target" >"$tmp/target.out" 2>&1 &
pids+=($!)
wait_for "$tmp/target.out" "metrics_target: ready"
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/target.out" | head -1)
pid=$(grep -o 'pid=[0-9]*' "$tmp/target.out" | cut -d= -f2)
wrk -t1 -c"$conns" -d2s "$url/metrics" >/dev/null  # warm up: threads, caches, allocator
rss_before=$(rss_kb "$pid")
wrk -t1 -c"$conns" -d"${secs}s" --latency "$url/metrics" >"$tmp/lw.wrk"
rss_after=$(rss_kb "$pid")
wrk -t1 -c"$conns" -d"${secs}s" "$url/metrics" >"$tmp/lw2.wrk"
rss_after2=$(rss_kb "$pid")
lw_rps=$(rps "$tmp/lw.wrk")
errors=$(grep -c 'Non-2xx\|Socket errors' "$tmp/lw.wrk" || true)

# Go peer: expvar's /debug/vars.
go_rps=0
if command -v go >/dev/null; then
  GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GO111MODULE=off go build -o "$tmp/go_peer" "$here/go_peer/main.go"
  "$tmp/go_peer" 0 >"$tmp/go.out" 2>&1 &
  pids+=($!)
  wait_for "$tmp/go.out" "go_peer: ready"
  go_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/go.out")
  wrk -t1 -c"$conns" -d2s "$go_url/debug/vars" >/dev/null
  wrk -t1 -c"$conns" -d"${secs}s" "$go_url/debug/vars" >"$tmp/go.wrk"
  go_rps=$(rps "$tmp/go.wrk")
fi

echo "seconds $secs"
echo "connections $conns"
echo "leakwatch_metrics_rps $lw_rps"
echo "leakwatch_metrics_p99 $(awk '/ 99%/ {print $2}' "$tmp/lw.wrk")"
echo "leakwatch_metrics_wrk_error_lines $errors"
echo "leakwatch_metrics_bytes $(curl -s "$url/metrics" | wc -c)"
echo "target_rss_kb_before $rss_before"
echo "target_rss_kb_after_run1 $rss_after"
echo "target_rss_kb_after_run2 $rss_after2"
echo "target_rss_growth_kb $((rss_after2 - rss_before))"
echo "go_expvar_rps $go_rps"
awk -v a="$lw_rps" -v b="$go_rps" 'BEGIN { if (b > 0) printf "ratio_leakwatch_over_go %.2f\n", a / b }'
