#!/usr/bin/env bash
# One SSAH training epoch end to end, whole process each: the `ssah train` program (as the README's
# commands build it) against the independent PyTorch implementation (tests/reference/train_ssah.py),
# on MIRFLICKR-25K's text + labels (../shared/datasets/mirflickr25k/full; its fixed split: 10,000
# training items, 2,000 queries, 18,015 database items), K = 64, one epoch, default widths (LabNet,
# FeatureNet 1386 -> 4096 -> 512, discriminators 512 -> 512 -> 256), batch 128, the reference schedule
# with its early stops, same thread count, the same configuration on both sides (ssah's `faithful`
# recipe with a FeatureNet on the tags: PyTorch's default initialisation, LabNet 10^-3, text 10^-3.5).
# Both processes also read the data, encode and compute the MAP: the whole process is what a user waits for.
#
# Prints seconds per epoch (whole process and training alone) and per step for both; the steps are
# counted from each side's per-pass log (early stops can end a stage after different passes on the
# two sides, so compare per step too). The last line is exactly:
#   epoch speedup vs pytorch: X          (PyTorch seconds / ssah seconds, whole process)
#
# Usage: bench/compare_epoch.sh [BUILD_DIR]        (default: build, as scripts/demo.sh leaves it)
# Environment: PYTHON (an interpreter with torch and numpy; default python3 on PATH), THREADS
#              (default: all CPUs), SSAH_DATA_DIR (default: the build's, ../shared/datasets beside the clone unless configured otherwise).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${1:-$root/build}"
ssah="$build/examples/cli/ssah"
# The data sets: $SSAH_DATA_DIR, else the build's SSAH_DATA_DIR (the one default, in CMakeLists.txt).
data="${SSAH_DATA_DIR:-$(sed -n 's/^SSAH_DATA_DIR:PATH=//p' "$build/CMakeCache.txt" 2>/dev/null || true)}"
threads="${THREADS:-$(nproc)}"
python="${PYTHON:-python3}"
[[ -x "$ssah" ]] || { echo "compare_epoch.sh: $ssah not built (scripts/demo.sh builds it)" >&2; exit 2; }
full="$data/mirflickr25k/full"
[[ -f "$full/text_bow1386_u8.npy" ]] || { echo "compare_epoch.sh: MIRFLICKR-25K text not found in $full (set SSAH_DATA_DIR)" >&2; exit 2; }
"$python" -c 'import torch, numpy' 2>/dev/null || { echo "compare_epoch.sh: $python lacks torch or numpy (set PYTHON)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The fixed split in the file names ssah train reads.
mkdir -p "$tmp/split"
for part in q:query db:db tr:train; do
  cp "$data/splits/mirfull_${part%%:*}_idx_i32.npy" "$tmp/split/${part##*:}_idx.npy"
done

now() { date +%s.%N; }
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; threads $threads; load:$(uptime | sed 's/.*load average://')"
echo "ssah: $("$ssah" --version)"

t0="$(now)"
OMP_NUM_THREADS="$threads" "$ssah" train --modality "text=$full/text_bow1386_u8.npy" --labels "$full/labels_u8.npy" \
  --split "$tmp/split" --recipe faithful --backbone text=feature --bits 64 --epochs 1 --seed 1 --out "$tmp/ssah" \
  >"$tmp/ssah.out" 2>"$tmp/ssah.err" || { cat "$tmp/ssah.out" "$tmp/ssah.err"; exit 1; }
t1="$(now)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" \
  "$python" "$root/tests/reference/train_ssah.py" --set mirtext --text-backbone feature --bits 64 --seed 1 \
  --threads "$threads" --data "$data" >"$tmp/torch.out" 2>"$tmp/torch.err" || { cat "$tmp/torch.out" "$tmp/torch.err"; exit 1; }
t2="$(now)"
echo "load after:$(uptime | sed 's/.*load average://')"

"$python" - "$tmp" "$t0" "$t1" "$t2" <<'PY'
import json, re, sys
tmp, t0, t1, t2 = sys.argv[1], *map(float, sys.argv[2:])
steps_per_pass = 10000 // 128
ssah_passes = sum(1 for l in open(tmp + "/ssah.err") if re.match(r"K64 .* epoch 1/1 stage \d+ pass", l))
torch_passes = sum(1 for l in open(tmp + "/torch.err") if re.match(r"\s+epoch 0 .*pass \d+: loss", l))
report = json.load(open(tmp + "/ssah/report.json"))
res = report["results"]["K64"]
ssah_train = res.get("train_seconds", float("nan"))
torch_line = open(tmp + "/torch.out").read()
m = re.search(r"\(([0-9.]+)s training", torch_line)
torch_train = float(m.group(1)) if m else float("nan")
ssah_total, torch_total = t1 - t0, t2 - t1
print("%-8s %12s %14s %8s %14s %14s" % ("", "epoch s", "training s", "passes", "steps", "ms per step"))
for name, total, train, passes in (("ssah", ssah_total, ssah_train, ssah_passes),
                                   ("pytorch", torch_total, torch_train, torch_passes)):
    steps = passes * steps_per_pass
    print("%-8s %12.1f %14.1f %8d %14d %14.1f" % (name, total, train, passes, steps, 1e3 * train / max(steps, 1)))
print("MAP (K=64): ssah %s" % " ".join("%s %.3f" % (k, v) for k, v in res.get("map", {}).items()))
print("            pytorch %s" % torch_line.strip().split(":", 1)[-1].strip())
print("per-step speedup vs pytorch: %.2f" % ((torch_train / max(torch_passes, 1)) / (ssah_train / max(ssah_passes, 1))))
print("epoch speedup vs pytorch: %.2f" % (torch_total / ssah_total))
PY
