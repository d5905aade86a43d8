#!/usr/bin/env bash
# test.sh: install what is missing, build, and run every test: the normal build, then the
# ASan+UBSan build. `tools/test.sh tsan` runs the TSan build's tests instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh

run_preset() {
  echo "== $1 build"
  tools/build.sh "$1"
  echo "== $1 tests"
  ctest --preset "$1" -j "$(nproc)"
}

case "${1:-all}" in
  all) run_preset default; run_preset asan ;;
  default|asan|tsan) run_preset "$1" ;;
  *) echo "usage: tools/test.sh [all|default|asan|tsan]" >&2; exit 2 ;;
esac
