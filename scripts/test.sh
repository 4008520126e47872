#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build everything, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
werror=OFF
if [ -n "${CI:-}" ]; then werror=ON; fi
# setup.sh installed oneDNN and what its CMake package needs: a build without it is an error
# here (and the OnednnRunner tests fail rather than skip), not a quietly smaller bench.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVJIT_WERROR="$werror" \
  -DCONVJIT_REQUIRE_ONEDNN=ON > /dev/null
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
