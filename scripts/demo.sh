#!/usr/bin/env bash
# Sets up a Debian machine, builds the `ssah` program and runs its main job, `ssah demo`: SSAH
# trained at K = 16, 32, 64 on a built-in synthetic data set, with the MAP table (no files needed).
#
# Usage: scripts/demo.sh [arguments...]   (passed to `ssah`, replacing `demo`; e.g. `demo --epochs 2`)
# Environment: SSAH_BUILD_DIR (default: build), SSAH_JOBS (default: nproc),
#              SSAH_SKIP_SETUP=1 to skip scripts/setup-debian.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SSAH_BUILD_DIR:-$root/build}"
jobs="${SSAH_JOBS:-$(nproc)}"

if [ "${SSAH_SKIP_SETUP:-0}" != 1 ]; then
  "$root/scripts/setup-debian.sh"
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSAH_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target ssah_cli -j "$jobs"
args=(demo)
[ $# -eq 0 ] || args=("$@")
echo "demo: $build/examples/cli/ssah ${args[*]}"
exec "$build/examples/cli/ssah" "${args[@]}"
