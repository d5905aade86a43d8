#!/usr/bin/env bash
# deps.sh: install exactly the Debian 12 packages leakwatch needs that are missing.
#   tools/deps.sh          build + test dependencies
#   tools/deps.sh --bench  also the peers the benchmarks compare against
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config
  # libraries (libunwind-dev conflicts with the preinstalled libunwind-14-dev; apt swaps them)
  libmimalloc-dev libboost-context-dev libunwind-dev libdw-dev libprotobuf-dev protobuf-compiler
  libsqlite3-dev zlib1g-dev libcpp-httplib-dev doctest-dev
  # real clients the tests read our output with: go tool pprof, promtool and prometheus, curl, jq
  golang-go prometheus curl jq
  # the browser tests drive chromium
  chromium
)
# The pages' front end is bundled with npm packages at build time. Some images ship a nodejs
# package that carries npm itself (and conflicts with Debian's npm): only a missing npm is installed.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(libjemalloc-dev libgoogle-perftools-dev google-perftools heaptrack wrk libmicrohttpd-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "deps: error: these packages are missing and installing them needs root: ${missing[*]}" >&2
    echo "deps: run as root, or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
