#!/usr/bin/env bash
# Produces docs/results.md: trains SSAH on the real data sets of ../shared/datasets (fixed splits of
# ../shared/datasets/splits) with ssah_experiments, one run per set, recipe (ssah/recipes.hpp) and seed,
# keeps each run's JSON under the results folder, then renders the page beside issue 3's reference figures.
# The recommended recipe is what `ssah train` runs when no --recipe is given.
#
# Usage: scripts/results.sh [SET...]        (default: wiki uci mir730 mirtext photos)
# Environment: SSAH_BUILD_DIR (default: build), SSAH_JOBS (default: nproc),
#              SSAH_RESULTS_DIR (default: $SSAH_BUILD_DIR/results; runs already there are reused,
#                                delete a JSON file to run it again),
#              SSAH_RESULTS_RECIPES (default: "recommended faithful"),
#              SSAH_RESULTS_NOTE (a paragraph for the page: e.g. which commit the runs come from),
#              SSAH_RESULTS_BITS (default: 16,32,64 on wiki, where issue 3 gives figures at every K; 32
#                                 elsewhere, where it gives figures at K = 32 only),
#              SSAH_RESULTS_SEEDS (default: "1 2 3": every recipe with each seed; the page reports
#                                  the mean and sd over them),
#              SSAH_RESULTS_PYTORCH (default: 1; 0 skips the independent PyTorch runs of the faithful
#                                    configuration, tests/reference/train_ssah.py, K = 32, the same seeds;
#                                    the interpreter is $PYTHON or python3 on PATH, with torch),
#              SSAH_DATA_DIR (default: the build's, ../shared/datasets beside the clone unless configured
#              otherwise), SSAH_RESULTS_OUT (default: docs/results.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SSAH_BUILD_DIR:-$root/build}"
jobs="${SSAH_JOBS:-$(nproc)}"
results="${SSAH_RESULTS_DIR:-$build/results}"
out="${SSAH_RESULTS_OUT:-$root/docs/results.md}"
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(wiki uci mir730 mirtext photos)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSAH_BUILD_EXAMPLES=ON >/dev/null
# The data sets: $SSAH_DATA_DIR, else the build's SSAH_DATA_DIR (the one default, in CMakeLists.txt).
data="${SSAH_DATA_DIR:-$(sed -n 's/^SSAH_DATA_DIR:PATH=//p' "$build/CMakeCache.txt")}"
if [ ! -d "$data/splits" ]; then
  echo "results: no data sets at $data (set SSAH_DATA_DIR); nothing to do" >&2
  exit 1
fi
export SSAH_DATA_DIR="$data"

cmake --build "$build" --target ssah_experiments -j "$jobs"
mkdir -p "$results"
seeds="${SSAH_RESULTS_SEEDS:-1 2 3}"
for set in "${sets[@]}"; do
  case "$set" in
    wiki) bits="${SSAH_RESULTS_BITS:-16,32,64}" ;;
    *) bits="${SSAH_RESULTS_BITS:-32}" ;;
  esac
  for recipe in ${SSAH_RESULTS_RECIPES:-recommended faithful}; do
    for seed in $seeds; do
      json="$results/$set-$recipe-seed$seed.json"
      if [ -f "$json" ]; then
        echo "results: $json exists, reused"
        continue
      fi
      echo "results: $set, recipe $recipe, K = $bits, seed $seed"
      # The log is kept beside the JSON; the JSON appears only when the run succeeded (atomic write).
      "$build/examples/experiments/ssah_experiments" --set "$set" --recipe "$recipe" --bits "$bits" --seed "$seed" \
        --json "$json" 2> "$results/$set-$recipe-seed$seed.log"
    done
  done
done
# The faithful configuration once more, trained by an independent PyTorch implementation
# (tests/reference/train_ssah.py), for the page's comparison of the two.
python="${PYTHON:-python3}"
if [ "${SSAH_RESULTS_PYTORCH:-1}" = 1 ] && "$python" -c "import torch" 2>/dev/null; then
  for set in "${sets[@]}"; do
    case "$set" in wiki|uci|mir730|mirtext) ;; *) continue ;; esac
    for seed in $seeds; do
      json="$results/pytorch-$set-seed$seed.json"
      [ -f "$json" ] && continue
      echo "results: $set, independent PyTorch implementation, K = 32, seed $seed"
      "$python" "$root/tests/reference/train_ssah.py" --set "$set" --bits 32 --seed "$seed" \
        --text-backbone text --threads "$jobs" --data "$data" --json "$json" 2> "$results/pytorch-$set-seed$seed.log"
    done
  done
else
  echo "results: no torch in $python (or SSAH_RESULTS_PYTORCH=0): no independent PyTorch runs" >&2
fi
machine="$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(uname -sr)"
python3 "$root/scripts/render_results.py" --results "$results" --machine "$machine" --note "${SSAH_RESULTS_NOTE:-}" --out "$out"
echo "results: wrote $out"
