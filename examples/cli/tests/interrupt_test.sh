#!/bin/sh
# SIGINT during `ssah train`: start a long run in the background, send SIGINT once the first
# epoch's checkpoint exists, then check exit status 130, the one-line message, that the
# checkpoint loads with `ssah encode`, and that `--resume` continues from it.
# Usage: interrupt_test.sh SSAH DATA_DIR OUT_DIR
set -u
ssah=$1
td=$2
out=$3
fail() {
  echo "FAIL: $*"
  echo "--- stdout:"; cat "$out.stdout" 2>/dev/null
  echo "--- stderr:"; cat "$out.stderr" 2>/dev/null
  exit 1
}
rm -rf "$out" "$out.stdout" "$out.stderr"  # this test's own folder
inputs="--modality img=$td/img.npy --modality txt=$td/txt.npy --labels $td/labels.npy --split $td/split"
opts="--bits 16,32 --hidden 32 --passes 2 --batch-size 64"
# 150 epochs at two K take far longer than the moment between the first checkpoint and SIGINT.
"$ssah" train $inputs $opts --epochs 150 --out "$out" >"$out.stdout" 2>"$out.stderr" &
pid=$!
i=0
while [ ! -f "$out/model-K16.safetensors" ]; do
  kill -0 "$pid" 2>/dev/null || fail "train ended before writing a checkpoint"
  i=$((i + 1))
  if [ "$i" -gt 1200 ]; then
    kill "$pid"
    fail "no checkpoint after 120 s"
  fi
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "exit status $rc, expected 130"
last=$(tail -n 1 "$out.stderr")
echo "$last" | grep -q "^ssah train: interrupted: K16 has [1-9][0-9]* of 150 epochs saved in model-K16.safetensors; resume with \`ssah train ... --resume $out\`" ||
  fail "unexpected last line on stderr: $last"
[ "$(grep -c interrupted "$out.stderr")" -eq 1 ] || fail "expected one 'interrupted' line"
[ ! -f "$out/model-K32.safetensors" ] || fail "K32 was started"
ls -A "$out" | grep -q "[.]tmp-" && fail "a temporary file was left in $out"
saved=$(echo "$last" | sed 's/.*K16 has \([0-9]*\) of.*/\1/')
"$ssah" encode --checkpoint "$out/model-K16.safetensors" --modality img="$td/img_query.npy" --out "$out/encoded.npy" \
  >>"$out.stdout" 2>>"$out.stderr" || fail "encode could not use the checkpoint"
# Resume K16 (one more epoch than saved) and K32 (from scratch) to completion.
next=$((saved + 1))
"$ssah" train $inputs $opts --epochs "$next" --resume "$out" >>"$out.stdout" 2>>"$out.stderr" ||
  fail "--resume after the interruption failed"
grep -q "K = 16: continuing from epoch $saved" "$out.stdout" || fail "K16 did not continue from epoch $saved"
grep -q "\"epochs\": $next" "$out/report.json" || fail "report.json has no results with $next epochs"
[ -f "$out/model-K32.safetensors" ] || fail "K32 was not trained on resume"
echo "interrupted after $saved epochs, exit 130, checkpoint loads, resumed to $next epochs"
