#!/usr/bin/env bash
# demo.sh: the main job. Installs what is missing, builds, starts the demo service (a small
# order service with task, heap and thread faults planted), watches it with `leakwatch watch` for about a minute,
# and prints the report that names the faults.
#   tools/demo.sh [--every 5s] [--count 12] [--stuck-after 20s]
set -euo pipefail
cd "$(dirname "$0")/.."
every=5s
count=12
stuck_after=20s
while [[ $# -gt 0 ]]; do
  case "$1" in
    --every) every="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --stuck-after) stuck_after="$2"; shift 2 ;;
    *) echo "usage: tools/demo.sh [--every D] [--count N] [--stuck-after D]" >&2; exit 2 ;;
  esac
done

tools/deps.sh
tools/build.sh default

work=$(mktemp -d /tmp/leakwatch-demo.XXXXXX)
service_log="$work/service.log"
db="$work/leakwatch.db"
service_pid=
cleanup() {
  # `wait` returns the killed service's status (143): that is the expected end, not a failure.
  if [[ -n "$service_pid" ]]; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo "== starting the demo service (debug server on a free loopback port)"
LEAKWATCH_HTTP=127.0.0.1:0 ./build/tools/demo/leakwatch_demo_service 2>"$service_log" &
service_pid=$!
url=
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$service_log" | head -n 1 || true)
  [[ -n "$url" ]] && break
  kill -0 "$service_pid" 2>/dev/null || { cat "$service_log" >&2; echo "demo: the service died" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$url" ]] || { echo "demo: the service did not report its address" >&2; exit 1; }
echo "   $url"

echo "== leakwatch watch $url --every $every --count $count"
set +e
./build/tools/leakwatch watch "$url" --every "$every" --count "$count" --db "$db" --stuck-after "$stuck_after"
set -e

echo
echo "== leakwatch diff (the report)"
set +e
./build/tools/leakwatch diff --db "$db" --stuck-after "$stuck_after"
status=$?
set -e
echo
echo "snapshots kept in $db (leakwatch diff --db $db --format json; leakwatch export --db $db ...)"
# Exit 0 when the report has findings (the demo's point); anything else is a failure.
[[ $status -eq 1 ]] || { echo "demo: leakwatch diff exited $status (expected 1: findings)" >&2; exit 1; }
exit 0
