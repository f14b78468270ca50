#!/usr/bin/env bash
# Sets up a Debian machine, builds ssah and runs the whole test suite.
#
# Usage: scripts/test.sh [extra CMake arguments...]
#   e.g. scripts/test.sh -DSSAH_DEVICE_SYSTEM=CPP
# Environment: SSAH_BUILD_DIR (default: build), SSAH_JOBS (default: nproc),
#              SSAH_SKIP_SETUP=1 to skip scripts/setup-debian.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SSAH_BUILD_DIR:-$root/build}"
jobs="${SSAH_JOBS:-$(nproc)}"

if [ "${SSAH_SKIP_SETUP:-0}" != 1 ]; then
  "$root/scripts/setup-debian.sh"
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSSAH_BUILD_TESTS=ON -DSSAH_BUILD_BENCHMARKS=ON -DSSAH_BUILD_EXAMPLES=ON "$@"
cmake --build "$build" -j "$jobs"
cd "$build" && ctest --output-on-failure -j "$jobs"
