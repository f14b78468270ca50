#!/usr/bin/env bash
# The GPU check (issue 19): on a machine with an NVIDIA GPU and the CUDA toolkit, builds ssah for
# the CUDA device system, runs the whole test suite and the device benchmarks
# (bench/device/device_bench.cpp), and writes a summary to OUT (summary.md, summary.json, the logs).
#
#   scripts/gpu-check.sh deps                  (here, on Debian) copy the header-only dependencies
#                                               into .deps/ (ignored by git), to carry to the GPU
#                                               machine, which has none of them (../shared/docs/gpu.md)
#   scripts/gpu-check.sh OUT [--build-only] [--quick]
#       --build-only  configure and build only (on a machine without a GPU: what can be checked there)
#       --quick       the benchmarks' small sizes (a dry run; the figures mean nothing)
#
# Environment: SSAH_CUDA_ARCH (default: the GPU's compute capability from nvidia-smi, else 90),
#   SSAH_GPU_BUILD_DIR (default build-gpu), SSAH_JOBS (default: all cores), NVCC (default: PATH,
#   then /usr/local/cuda/bin/nvcc). Dependencies are taken from .deps/ when it exists, else from the
#   system. The build is Release with unity builds and one architecture, and only tests, the ssah
#   program and the device benchmark (Google Benchmark is disabled): it should take a few minutes
#   on 16 cores.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.deps"

if [ "${1:-}" = deps ]; then
  set -e
  rm -rf "$deps"
  mkdir -p "$deps/include" "$deps/share/cmake" "$deps/share/eigen3" "$deps/lib/cmake"
  cp -r /usr/include/eigen3 "$deps/include/"
  cp -r /usr/share/eigen3/cmake "$deps/share/eigen3/"
  cp -r /usr/include/nlohmann "$deps/include/"
  cp -r /usr/share/cmake/nlohmann_json "$deps/share/cmake/"
  cp -r /usr/include/CLI "$deps/include/"
  cp -r /usr/share/cmake/CLI11 "$deps/share/cmake/"
  cp -r /usr/include/doctest "$deps/include/"
  cp -r /usr/lib/cmake/doctest "$deps/lib/cmake/"
  # Debian's doctest package names its prefix absolutely; derive it from the file's place instead.
  sed -i 's|^set(_IMPORT_PREFIX "/usr")$|get_filename_component(_IMPORT_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)|' \
    "$deps/lib/cmake/doctest/doctestTargets.cmake"
  grep -q 'CMAKE_CURRENT_LIST_DIR' "$deps/lib/cmake/doctest/doctestTargets.cmake"
  echo "gpu-check: dependencies in $deps ($(du -sh "$deps" | cut -f1)); carry .deps to the GPU machine"
  exit 0
fi

if [ $# -lt 1 ]; then
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
fi
out="$(mkdir -p "$1" && cd "$1" && pwd)"
shift
build_only=0
quick=()
for a in "$@"; do
  case "$a" in
    --build-only) build_only=1 ;;
    --quick) quick=(--quick) ;;
    *) echo "gpu-check: unknown option $a" >&2; exit 2 ;;
  esac
done
build="${SSAH_GPU_BUILD_DIR:-$root/build-gpu}"
jobs="${SSAH_JOBS:-$(nproc)}"
log() { echo "gpu-check: $*" | tee -a "$out/summary.log"; }
: > "$out/summary.log"
start=$(date +%s)

nvcc="${NVCC:-$(command -v nvcc || true)}"
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  log "nvcc not found (set NVCC)"
  exit 1
fi
toolkit="$(cd "$(dirname "$nvcc")/.." && pwd)"
export PATH="$toolkit/bin:$PATH"  # CMake finds the toolkit's Thrust through it
gpu="none"
arch="${SSAH_CUDA_ARCH:-}"
if command -v nvidia-smi >/dev/null && nvidia-smi >/dev/null 2>&1; then
  nvidia-smi > "$out/nvidia-smi.txt" 2>&1
  gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1)"
  [ -z "$arch" ] && arch="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d '. ')"
fi
arch="${arch:-90}"
log "date $(date -u +%Y-%m-%dT%H:%M:%SZ), GPU: $gpu, architecture sm_$arch, $jobs jobs"
log "nvcc: $nvcc ($("$nvcc" --version | tail -n 1)), cmake $(cmake --version | head -n 1 | cut -d' ' -f3)"
log "source: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout')"

prefix=()
if [ -d "$deps" ]; then
  prefix=("-DCMAKE_PREFIX_PATH=$deps")
  log "dependencies from $deps"
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

# Configure + build: tests (the packaging ones included: the mixed .cu/.cpp consumer runs on the
# GPU), the ssah program and ssah_bench_device; no header check, no Google Benchmark programs.
configure_start=$(date +%s)
if ! cmake -S "$root" -B "$build" "${generator[@]}" "${prefix[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DSSAH_DEVICE_SYSTEM=CUDA "-DCMAKE_CUDA_COMPILER=$nvcc" "-DCMAKE_CUDA_ARCHITECTURES=$arch" \
  -DCMAKE_UNITY_BUILD=ON -DSSAH_BUILD_TESTS=ON -DSSAH_BUILD_EXAMPLES=ON -DSSAH_BUILD_BENCHMARKS=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON -DSSAH_CHECK_HEADERS=OFF >"$out/configure.log" 2>&1; then
  log "configure FAILED (configure.log):"
  tail -n 30 "$out/configure.log" | tee -a "$out/summary.log"
  exit 1
fi
if ! cmake --build "$build" -j "$jobs" -- -k 0 >"$out/build.log" 2>&1; then
  log "build FAILED (build.log):"
  grep -E 'error|Error' "$out/build.log" | head -n 30 | tee -a "$out/summary.log"
  exit 1
fi
build_seconds=$(($(date +%s) - configure_start))
log "configured and built in ${build_seconds} s"
if [ "$build_only" = 1 ]; then
  log "--build-only: nothing run"
  exit 0
fi

# The test suite.
tests_start=$(date +%s)
(cd "$build" && ctest -j "$jobs" --timeout 300 --output-on-failure) >"$out/ctest.log" 2>&1
tests_rc=$?
tests_seconds=$(($(date +%s) - tests_start))
tests_line="$(grep -E '[0-9]+% tests passed' "$out/ctest.log" | tail -n 1)"
log "tests (${tests_seconds} s): ${tests_line:-no summary line} (ctest exit $tests_rc)"
grep -E '^\s+[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess|Exception|Not Run)' "$out/ctest.log" | tee -a "$out/summary.log"
skipped="$(grep -cE '\*\*\*Skipped| Skipped ' "$out/ctest.log")"

# The device benchmarks.
bench_start=$(date +%s)
"$build/bench/device/ssah_bench_device" "${quick[@]}" --json "$out/bench.json" >"$out/bench.log" 2>&1
bench_rc=$?
bench_seconds=$(($(date +%s) - bench_start))
log "benchmarks (${bench_seconds} s, exit $bench_rc)"

total=$(($(date +%s) - start))
{
  echo "# ssah GPU check, $(date -u +%Y-%m-%d)"
  echo
  echo "- GPU: $gpu (sm_$arch); nvcc $("$nvcc" --version | tail -n 1); source $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- build (configure + compile, $jobs jobs): ${build_seconds} s; tests: ${tests_seconds} s; benchmarks: ${bench_seconds} s; total ${total} s"
  echo "- tests: ${tests_line:-no summary} (ctest exit $tests_rc; skipped: $skipped)"
  echo
  sed -n '/^| benchmark /,$p' "$out/bench.log"
} > "$out/summary.md"
python_bin="${PYTHON:-python3}"
if command -v "$python_bin" >/dev/null; then
  "$python_bin" - "$out" "$gpu" "$arch" "$build_seconds" "$tests_seconds" "$tests_rc" "${tests_line:-}" \
    "$bench_seconds" "$bench_rc" "$total" <<'EOF'
import json, os, sys
out, gpu, arch, build_s, tests_s, tests_rc, tests_line, bench_s, bench_rc, total = sys.argv[1:]
bench = {}
path = os.path.join(out, "bench.json")
if os.path.exists(path):
    with open(path) as f:
        bench = json.load(f)
summary = {"gpu": gpu, "arch": arch, "build_seconds": int(build_s), "tests_seconds": int(tests_s),
           "tests_exit": int(tests_rc), "tests": tests_line, "bench_seconds": int(bench_s),
           "bench_exit": int(bench_rc), "total_seconds": int(total), "bench": bench}
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
EOF
fi
cat "$out/summary.md"
[ $tests_rc -eq 0 ] && [ $bench_rc -eq 0 ]
