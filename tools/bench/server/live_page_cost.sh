#!/usr/bin/env bash
# live_page_cost.sh BUILD_DIR [N]: what the live page costs the target, in the demo service: the
# CPU time (from /proc/PID/task/TID/schedstat, nanoseconds) of the debug server's threads per
# /metrics scrape (each a fresh capture: they come 150 ms apart, past the 100 ms reuse), per
# live.json refresh (one a second, as the page polls), and of the history's sampler per second.
# Prints one JSON line.
set -euo pipefail
build=${1:?usage: live_page_cost.sh BUILD_DIR [N]}
n=${2:-20}
log=$(mktemp)
LEAKWATCH_HTTP=127.0.0.1:0 "$build/tools/demo/leakwatch_demo_service" --rate "${LW_DEMO_RATE:-100}" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
sleep 10  # the demo fills its cache, leaks pile up: a page with things on it
# The first refresh reads the program's debug info for the symbolizer (hundreds of ms, once per
# process, as the first profile does); it is measured on its own.
w0=$(date +%s%N)
curl -s -o /dev/null "$url/debug/leakwatch/live.json"
w1=$(date +%s%N)

# cpu_ns PATTERN: summed on-CPU nanoseconds of the threads whose name matches PATTERN.
cpu_ns() {
  local sum=0
  for t in /proc/$pid/task/*; do
    if grep -qE "$1" "$t/comm" 2>/dev/null; then
      sum=$((sum + $(cut -d' ' -f1 "$t/schedstat")))
    fi
  done
  echo $sum
}
serving='^lw-http(-[0-9]+)?$'

a=$(cpu_ns "$serving")
for _ in $(seq "$n"); do curl -s -o /dev/null "$url/metrics"; sleep 0.15; done
b=$(cpu_ns "$serving")
for _ in $(seq "$n"); do curl -s -o /dev/null "$url/debug/leakwatch/live.json?since=$(($(date +%s%3N) - 2000))"; sleep ${LW_REFRESH_GAP:-1}; done
c=$(cpu_ns "$serving")
s0=$(cpu_ns '^lw-http-live$')
sleep 10
s1=$(cpu_ns '^lw-http-live$')
bytes=$(curl -s "$url/debug/leakwatch/live.json?since=$(($(date +%s%3N) - 2000))" | wc -c)
echo "{\"first_refresh_ms\":$(( (w1 - w0) / 1000000 )),\"scrape_us\":$(( (b - a) / n / 1000 )),\"refresh_us\":$(( (c - b) / n / 1000 )),\"sampler_us_per_s\":$(( (s1 - s0) / 10 / 1000 )),\"refresh_bytes\":$bytes}"
