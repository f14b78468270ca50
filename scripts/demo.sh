#!/usr/bin/env bash
# Sets up a Debian machine, builds ssah's main program and runs its main job.
#
# Runs `ssah demo` once the `ssah` command-line program exists; until then, the experiments example
# (`ssah_experiments --set wiki`: SSAH trained on the Wikipedia data set, MAP per retrieval direction;
# it reads the real data sets from $SSAH_DATA_DIR, default ../shared/datasets).
#
# Usage: scripts/demo.sh [arguments for the program...]   (they replace the defaults above)
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

# An executable named `name` in the build (its path relative to the build folder), or nothing.
program_path() {
  ninja -C "$build" -t targets all | sed -n "/^\//d; s#^\(\([^:]*/\)\{0,1\}$1\): [A-Z]*_EXECUTABLE_LINKER.*#\1#p" |
    head -n 1
}

program="$(program_path ssah)"
if [ -n "$program" ]; then
  args=(demo)
else
  program="$(program_path ssah_experiments)"
  data="${SSAH_DATA_DIR:-$root/../shared/datasets}"
  args=(--set wiki --data "$data")
  if [ $# -eq 0 ] && [ ! -d "$data/wikipedia" ]; then
    echo "demo: the experiments example needs the real data sets (wikipedia/ under $data);" \
      "set SSAH_DATA_DIR to their folder" >&2
    exit 1
  fi
fi
if [ -z "$program" ]; then
  echo "demo: neither the ssah program nor the ssah_experiments example is configured in $build" >&2
  exit 1
fi
[ $# -eq 0 ] || args=("$@")

cmake --build "$build" --target "$program" -j "$jobs"
echo "demo: $build/$program ${args[*]}"
exec "$build/$program" "${args[@]}"
