#!/usr/bin/env bash
# Installs the Debian 12 packages convjit builds with, and nothing when all are present.
set -euo pipefail
# clang and libclang-rt-14-dev (its sanitizer and libFuzzer runtimes; clang does not pull it
# in): the ASan and fuzz builds of scripts/sanitizers.sh and scripts/fuzz.sh.
# ocl-icd-opencl-dev and opencl-headers: oneDNN 2.6's CMake package (libdnnl-dev) calls
# find_package(OpenCL REQUIRED) for its GPU runtime; without them the bench has no oneDNN
# (scripts/test.sh then stops at configure: CONVJIT_REQUIRE_ONEDNN).
packages=(build-essential cmake g++ libfmt-dev libxbyak-dev llvm-16-dev nlohmann-json3-dev
          libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libdnnl-dev
          ocl-icd-opencl-dev opencl-headers python3 pkgconf clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
