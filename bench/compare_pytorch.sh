#!/usr/bin/env bash
# Runs ssah's training-step benchmarks (bench/train/bench_train.cpp) and the same steps in PyTorch
# (bench/train_pytorch.py) one after the other, on the same machine and thread count, and prints
# time per step, the ratio PyTorch / ssah per network, and ssah's distance to its gemm floor.
# The last line is exactly:
#   speedup vs pytorch: min=X lab=X img=X txt=X dis=X
#
# Usage: bench/compare_pytorch.sh [BUILD_DIR]        (default: build, configured as the README's
#        commands configure it; it must hold ssah_bench_train: scripts/test.sh builds it)
# Environment: THREADS (default 2), PYTHON (an interpreter with torch; default python3 on PATH),
# MIN_TIME (seconds per step benchmark, default 2), LOAD=1 to run both sides under background load
# (one `nice -n 10 yes >/dev/null` per core for the whole run, as a busy shared machine).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${1:-$root/build}"
threads="${THREADS:-2}"
min_time="${MIN_TIME:-2}"
PYTHON="${PYTHON:-python3}"
bench="$build/bench/train/ssah_bench_train"
[[ -x "$bench" ]] || { echo "compare_pytorch.sh: $bench not built (cmake --build $build --target ssah_bench_train)" >&2; exit 2; }
tmp="$(mktemp -d)"
load_pids=()
cleanup() {
  [[ ${#load_pids[@]} -eq 0 ]] || kill "${load_pids[@]}" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
if [[ "${LOAD:-0}" == 1 ]]; then
  for _ in $(seq "$(nproc)"); do nice -n 10 yes >/dev/null & load_pids+=($!); done
  echo "background load: ${#load_pids[@]} x nice -n 10 yes"
fi

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load:$(uptime | sed 's/.*load average://')"
# The gemm backend and flags of this build (CMake options SSAH_BLAS, SSAH_NATIVE), from its cache.
echo "ssah build: $(grep -m1 '^CMAKE_BUILD_TYPE:' "$build/CMakeCache.txt" | cut -d= -f2), SSAH_NATIVE=$(grep -m1 '^SSAH_NATIVE:' "$build/CMakeCache.txt" | cut -d= -f2), SSAH_BLAS=$(grep -m1 '^SSAH_BLAS:' "$build/CMakeCache.txt" | cut -d= -f2), BLAS: $(grep -m1 '^BLAS_.*_LIBRARY:FILEPATH=/' "$build/CMakeCache.txt" | cut -d= -f2 || echo none)"
# Same threads on both sides; OpenBLAS tuning variables are unset for the Python side.
OMP_NUM_THREADS="$threads" "$bench" --benchmark_filter='BM_(gemm_rate|step_)' --benchmark_min_time="${min_time}" \
  --benchmark_out="$tmp/ssah.json" --benchmark_out_format=json >"$tmp/ssah.txt" 2>&1 || { cat "$tmp/ssah.txt"; exit 1; }
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" \
  "$PYTHON" "$here/train_pytorch.py" --threads "$threads" --min-time "$min_time" --json "$tmp/torch.json" \
  >"$tmp/torch.txt" 2>&1 || { cat "$tmp/torch.txt"; exit 1; }
echo "load after:$(uptime | sed 's/.*load average://')"

"$PYTHON" - "$tmp/ssah.json" "$tmp/torch.json" <<'PY'
import json, sys
ours = {b["name"].split("/")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
torch = json.load(open(sys.argv[2]))
print("ssah gemm: %s" % json.load(open(sys.argv[1]))["context"].get("ssah.gemm", "?"))
print("pytorch: torch %s, BLAS %s, oneDNN %s, CPU capability %s, %d threads, Adam %s" % (
    torch["torch"], torch["blas"], torch["mkldnn"], torch["cpu_capability"], torch["threads"], torch["adam"]))
print("ssah gemm rate (128 x 4096 x 4096) at the start: %.1f GFLOP/s; each step's floor uses the rate measured"
      " around that step (gemm GF/s column)" % ours["BM_gemm_rate"]["gemm_GFLOPs"])
print("%-14s %10s %12s %8s %10s %10s %10s %12s" % ("step", "ssah ms", "pytorch ms", "ratio", "ssah GF/s", "gemm GF/s",
                                                  "floor ms", "ssah/floor"))
keys = [("lab", "label"), ("img", "image"), ("txt", "text"), ("dis", "discriminator")]
ratios = {}
for short, name in keys:
    b = ours["BM_step_" + name]
    ms = b["real_time"]  # kMillisecond
    t = torch["ms_per_step"][name]
    ratios[short] = t / ms
    floor = b["step_GFLOP"] / b["gemm_GFLOPs"] * 1e3
    print("%-14s %10.2f %12.2f %8.2f %10.1f %10.1f %10.2f %12.2f" % (name, ms, t, ratios[short], b["GFLOPs"],
                                                                    b["gemm_GFLOPs"], floor, b["floor_ratio"]))
print("speedup vs pytorch: min=%.2f %s" % (min(ratios.values()), " ".join("%s=%.2f" % (k, ratios[k]) for k, _ in keys)))
PY
