#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run the main job (convjit demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVJIT_WERROR="${CI:+ON}" > /dev/null
cmake --build build --target convjit_cli -j "$(nproc)"
./build/convjit demo "$@"
