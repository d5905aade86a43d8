#!/usr/bin/env bash
# demo.sh: the main job. Install what is missing, build, and run the demo service.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
tools/build.sh default
./build/tools/demo/leakwatch_demo_service
