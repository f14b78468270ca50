#!/usr/bin/env bash
# How long `ssah train` takes with its default (recommended) recipe, as the README's commands build it,
# on the shared real data sets with their fixed splits (../shared/datasets/splits):
#   - Wikipedia (2,866 items: 2,173 training = database, 693 queries), K = 16, 32 and 64;
#   - MIRFLICKR-25K text + labels (10,000 training items, 2,000 queries, 18,015 database), K = 32.
# Whole process each, and the training seconds report.json gives per K, with the MAP of every direction
# against the reference figures (docs/results.md). The targets of issue 15: Wikipedia's three K in
# under 300 s of training in total, MIRFLICKR-25K text at K = 32 in under 600 s, on 2 cores.
#
# Usage: bench/recipe_time.sh [BUILD_DIR]        (default: build, as scripts/demo.sh leaves it)
# Environment: PYTHON (an interpreter with numpy, to join Wikipedia's test and train files; default
#              python3 on PATH), THREADS (default: all CPUs), SSAH_DATA_DIR (default: the build's, ../shared/datasets beside the clone unless configured otherwise).
# The last two lines are exactly:
#   wikipedia K=16,32,64 training: X s
#   mirtext K=32 training: Y s
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${1:-$root/build}"
ssah="$build/examples/cli/ssah"
# The data sets: $SSAH_DATA_DIR, else the build's SSAH_DATA_DIR (the one default, in CMakeLists.txt).
data="${SSAH_DATA_DIR:-$(sed -n 's/^SSAH_DATA_DIR:PATH=//p' "$build/CMakeCache.txt" 2>/dev/null || true)}"
threads="${THREADS:-$(nproc)}"
python="${PYTHON:-python3}"
[[ -x "$ssah" ]] || { echo "recipe_time.sh: $ssah not built (scripts/demo.sh builds it)" >&2; exit 2; }
[[ -d "$data/splits" ]] || { echo "recipe_time.sh: no data sets at $data (set SSAH_DATA_DIR)" >&2; exit 2; }
"$python" -c 'import numpy' 2>/dev/null || { echo "recipe_time.sh: $python lacks numpy (set PYTHON)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Wikipedia as ssah_experiments reads it: the test rows, then the train rows (the split's indices).
w="$data/wikipedia/npy"
"$python" - "$w" "$tmp" <<'EOF'
import sys, numpy as np
w, out = sys.argv[1], sys.argv[2]
for name, parts in {"img": ("test_img_sift128_f32", "train_img_sift128_f32"),
                    "txt": ("test_txt_lda10_f32", "train_txt_lda10_f32"),
                    "labels": ("test_label_onehot_u8", "train_label_onehot_u8")}.items():
    np.save(f"{out}/wiki_{name}.npy", np.concatenate([np.load(f"{w}/{p}.npy") for p in parts]))
EOF
split() {  # split SET DIR: the fixed split in the file names ssah train reads
  mkdir -p "$2"
  for part in q:query db:db tr:train; do cp "$data/splits/$1_${part%%:*}_idx_i32.npy" "$2/${part##*:}_idx.npy"; done
}
split wiki "$tmp/wiki_split"
split mirfull "$tmp/mir_split"

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; threads $threads; load:$(uptime | sed 's/.*load average://')"
echo "ssah: $("$ssah" --version | tr '\n' ' ')"
now() { date +%s.%N; }
run() {  # run NAME ARGS...: one ssah train, whole process timed; prints its summary lines
  local name="$1"
  shift
  local t0 t1
  t0="$(now)"
  OMP_NUM_THREADS="$threads" "$ssah" train "$@" --seed 1 --out "$tmp/$name" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
    { cat "$tmp/$name.out" "$tmp/$name.err"; exit 1; }
  t1="$(now)"
  grep -E "^recipe |^K = " "$tmp/$name.out"
  echo "$name: whole process $(echo "$t1 - $t0" | bc) s"
}
run wiki --modality "img=$tmp/wiki_img.npy" --modality "txt=$tmp/wiki_txt.npy" --labels "$tmp/wiki_labels.npy" \
  --split "$tmp/wiki_split" --bits 16,32,64
run mirtext --modality "text=$data/mirflickr25k/full/text_bow1386_u8.npy" --labels "$data/mirflickr25k/full/labels_u8.npy" \
  --split "$tmp/mir_split" --bits 32
echo "load after:$(uptime | sed 's/.*load average://')"
total() { "$python" -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print('%.1f' % sum(v['train_seconds'] for v in r.values()))" "$1"; }
echo "wikipedia K=16,32,64 training: $(total "$tmp/wiki/report.json") s"
echo "mirtext K=32 training: $(total "$tmp/mirtext/report.json") s"
