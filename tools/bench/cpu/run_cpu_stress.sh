#!/usr/bin/env bash
# run_cpu_stress.sh [BUILD_DIR] [RUNS] [SECONDS]: the CPU profiler's stress acceptance. RUNS runs
# (default 20) of SECONDS-long CPU profiles (default 10) of tests/fixtures/cpu_stress, whose threads
# malloc/free, dlopen/dlclose a library, throw and catch, fork and create/join threads. The runs
# take turns between three ways of profiling: LEAKWATCH_CPUPROFILE in the linked program, the
# same under `leakwatch run` (preloaded), and /debug/pprof/profile?seconds=SECONDS over HTTP.
# A run passes when the program exits 0 within its deadline (SECONDS + 60 s; a hang is killed)
# and go tool pprof reads the profile, with samples in stress_* functions. Prints one line per
# run and a last line "cpu_stress runs=N passed=P failed=F".
set -uo pipefail
build="${1:-build}"
runs="${2:-20}"
seconds="${3:-10}"
deadline=$((seconds + 60))
linked="$build/tests/fixtures/cpu_stress/cpu_stress_linked"
plain="$build/tests/fixtures/cpu_stress/cpu_stress_plain"
cli="$build/tools/leakwatch"
for f in "$linked" "$plain" "$cli"; do
  [ -x "$f" ] || { echo "run_cpu_stress.sh: $f not built (cmake --build $build)" >&2; exit 2; }
done
work=$(mktemp -d /tmp/lw_cpu_stress.XXXXXX)
trap 'rm -rf "$work"' EXIT
unset LEAKWATCH_PRELOAD LEAKWATCH_HTTP LEAKWATCH_SERVE_PID LEAKWATCH_CHILD_HTTP LEAKWATCH_CPUPROFILE LEAKWATCH_CPU_HZ

# stress_samples FILE: the samples whose stack names a stress_* function ("" if pprof cannot read it).
stress_samples() {
  (cd /tmp && HOME=/tmp GOCACHE=/tmp/lw_gocache go tool pprof -raw "$1" 2>/dev/null) | awk '
    /^Samples:/ { part = "samples"; next }
    /^Locations/ { part = "locations"; next }
    /^Mappings/ { part = "" }
    part == "samples" && /^ *[0-9]+ +[0-9]+: / { n = $1; sub(/^[^:]*: */, ""); stack[++count] = $0; value[count] = n }
    part == "locations" && /^ *[0-9]+: / { id = $1; sub(/:$/, "", id); if ($0 ~ /stress_/) hit[id] = 1 }
    END {
      if (count == 0) exit 1
      total = 0
      for (i = 1; i <= count; ++i) { split(stack[i], ids, " "); for (j in ids) if (ids[j] in hit) { total += value[i]; break } }
      print total
    }'
}

# one_run MODE PROFILE LOG: runs cpu_stress profiled one way; the program's exit status.
one_run() {
  local mode=$1 profile=$2 log=$3
  case $mode in
    linked) LEAKWATCH_CPUPROFILE="$profile" timeout -s KILL "$deadline" "$linked" "$seconds" >"$log" 2>&1 ;;
    run) LEAKWATCH_CPUPROFILE="$profile" timeout -s KILL "$deadline" "$cli" run --http 127.0.0.1:0 -- "$plain" "$seconds" >"$log" 2>&1 ;;
    http)
      LEAKWATCH_HTTP=127.0.0.1:0 timeout -s KILL "$deadline" "$linked" $((seconds + 2)) >"$log" 2>&1 &
      local pid=$! url=""
      for _ in $(seq 100); do
        url=$(grep -o 'listening on http://[0-9.:]*' "$log" | cut -d' ' -f3)
        [ -n "$url" ] && break
        sleep 0.1
      done
      code=$(curl -s -m "$deadline" -o "$profile" -w '%{http_code}' "$url/debug/pprof/profile?seconds=$seconds")
      echo "http status $code" >>"$log"
      wait "$pid"
      local status=$?
      [ "$code" = 200 ] || return 99
      return $status ;;
  esac
}

passed=0
failed=0
modes=(linked run http)
for i in $(seq 1 "$runs"); do
  mode=${modes[$(((i - 1) % 3))]}
  profile="$work/run$i.pb.gz"
  log="$work/run$i.log"
  start=$(date +%s.%N)
  one_run "$mode" "$profile" "$log"
  status=$?
  took=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
  samples=$(stress_samples "$profile")
  if [ "$status" = 0 ] && [ -n "$samples" ] && [ "$samples" -gt 0 ]; then
    passed=$((passed + 1))
    echo "run $i ($mode): ok, ${took} s, $samples samples in stress_*"
  else
    failed=$((failed + 1))
    echo "run $i ($mode): FAILED, status $status (137: killed at the ${deadline}-s deadline), ${took} s, stress samples '${samples}'"
    tail -5 "$log" | sed 's/^/    /'
  fi
done
echo "cpu_stress runs=$runs passed=$passed failed=$failed"
[ "$failed" = 0 ]
