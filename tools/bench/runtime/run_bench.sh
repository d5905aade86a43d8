#!/bin/sh
# run_bench.sh BUILD_DIR: runs the runtime benchmarks and their Go 1.19 peers side by side and
# prints "ratio <name> <leakwatch/go>". Short runs (seconds each); same machine, same run.
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/tools/bench/runtime/runtime_bench"
export GOCACHE=${GOCACHE:-/tmp/lw-gocache} GOFLAGS=-mod=mod GO111MODULE=off
gobin=/tmp/lw-runtime-bench-go
go build -o "$gobin" "$here/bench.go"
run() {  # mode args...
  lw=$("$bin" "$@" | awk '{print $3}')
  g=$("$gobin" "$@" | awk '{print $3}')
  name=$("$gobin" "$@" | awk '{print $2}')
  echo "leakwatch $name $lw"
  echo "go $name $g"
  echo "ratio $name $(awk -v a="$lw" -v b="$g" 'BEGIN{printf "%.3f", a/b}')"
}
run pingpong 1000000
run spawn 1000000
run rss 1000000
run dump 100000 16
