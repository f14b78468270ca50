#!/usr/bin/env bash
# Trains one epoch of the faithful configuration twice from the same start, in ssah
# (ssah_replay_reference) and in the independent PyTorch implementation (train_ssah.py): the same
# training rows, initial parameters, F/H buffers and batches. Prints both implementations' loss for
# every pass side by side and the largest relative difference; exits 1 when the passes differ in
# number or order (an early stop taken by one only) or a loss differs by more than 2% (float32 rounding
# differences grow over an epoch: on Wikipedia from about 1e-6 at the first pass to 5.5e-3 for a
# network's loss and 1.3e-2 for the small last discriminator loss).
#
# Usage: tests/reference/replay.sh SET [SEED] [BATCH]     SET: wiki, uci or mir730 (text through a FeatureNet)
# Environment: SSAH_BUILD_DIR (default: build; it must hold tests/reference/ssah_replay_reference),
#              SSAH_REPLAY_DIR (default: a new temporary folder; the arrays, batches and logs stay there),
#              PYTHON (default: python3 on PATH; it needs numpy and torch).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${SSAH_BUILD_DIR:-$root/build}"
set="${1:?usage: replay.sh SET [SEED] [BATCH]}"
seed="${2:-1}"
batch="${3:-128}"
bin="$build/tests/reference/ssah_replay_reference"
[ -x "$bin" ] || { echo "replay: no $bin (cmake --build $build --target ssah_replay_reference)" >&2; exit 2; }
dir="${SSAH_REPLAY_DIR:-$(mktemp -d)}"
mkdir -p "$dir"
py="${PYTHON:-python3}"  # with numpy and torch (Debian: PYTHON=/usr/bin/python3 after scripts/setup-debian.sh)
common=(--set "$set" --seed "$seed" --batch "$batch" --bits 32)
"$py" "$here/train_ssah.py" "${common[@]}" --epochs 0 --save-init "$dir" > "$dir/init.out" 2> "$dir/init.log"
"$bin" "$dir" "$batch" "$seed" 2> "$dir/ssah.log"
"$py" "$here/train_ssah.py" "${common[@]}" --batches "$dir/batches.npy" > "$dir/pytorch.out" 2> "$dir/pytorch.log"
"$py" - "$dir/ssah.log" "$dir/pytorch.log" <<'PY'
import re, sys
def passes(path):
    found = (re.match(r"\s*(epoch \d+ .*? stage \d+ pass \d+): loss (\S+)", line) for line in open(path))
    return [(" ".join(m.group(1).split()), float(m.group(2))) for m in found if m]
ours, theirs = passes(sys.argv[1]), passes(sys.argv[2])
worst = 0.0
for (a, x), (b, y) in zip(ours, theirs):
    rel = abs(x - y) / max(abs(x), abs(y), 1e-30)
    worst = max(worst, rel)
    print("%-40s ssah %-13.7g pytorch %-13.7g rel. diff %.1e" % (a, x, y, rel))
same_passes = [a for a, _ in ours] == [b for b, _ in theirs]
print("%d passes in ssah, %d in PyTorch%s; largest relative difference %.1e" %
      (len(ours), len(theirs), "" if same_passes else " (they differ)", worst))
sys.exit(0 if same_passes and worst <= 2e-2 and ours else 1)
PY
echo "replay: arrays and logs in $dir"
