#!/usr/bin/env bash
# `ssah train` under mpirun (an -DSSAH_MPI=ON build), on the shared Wikipedia set: 2 and 3 ranks
# train data-parallel and reach the MAP of one process (within 0.01 in every direction, K = 16, two
# short epochs), print their progress and results once and write the files of one process; --resume
# continues a run on 2 ranks; an error met by rank 0 alone (the output folder) or by every rank (a
# missing input) is shown once and ends every rank.
# Usage: mpi_train_cli.sh MPIEXEC SSAH WORKDIR DATA_DIR   (CTest mpi.ssah_train; exit 77 = skipped)
set -euo pipefail
mpiexec="$1"
ssah="$2"
work="$3"
wiki="$4/wikipedia/npy"
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ ! -f "$wiki/train_img_sift128_f32.npy" ]; then
  echo "SKIP: the Wikipedia set is not at $wiki (../shared/datasets beside the clone, or -DSSAH_DATA_DIR)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work" && cd "$work"
args=(train --modality "img=$wiki/train_img_sift128_f32.npy" --modality "txt=$wiki/train_txt_lda10_f32.npy"
      --labels "$wiki/train_label_onehot_u8.npy" --bits 16 --seed 3 --passes 6 --hidden 1024,256)
maps() { grep "^K = 16" "$1" | sed 's/^K = 16 ([0-9.]* s)://'; }
"$ssah" "${args[@]}" --epochs 2 --out run1 >out1 2>err1 || fail "one process: $(cat err1)"
for ranks in 2 3; do
  "$mpiexec" -np "$ranks" --oversubscribe "$ssah" "${args[@]}" --epochs 2 --out "run$ranks" >"out$ranks" 2>"err$ranks" ||
    fail "$ranks ranks: $(cat "err$ranks")"
  [ "$(grep -c "^K = 16" "out$ranks")" = 1 ] || fail "$ranks ranks: one result line expected: $(cat "out$ranks")"
  [ "$(grep -c "^ssah train: " "out$ranks")" = 1 ] || fail "$ranks ranks: one summary expected: $(cat "out$ranks")"
  [ "$(grep -c "stage 0 pass 1/6" "err$ranks")" = 8 ] || fail "$ranks ranks: progress repeated: $(cat "err$ranks")"
  diff <(cd run1 && find . | sort) <(cd "run$ranks" && find . | sort) || fail "$ranks ranks: other files"
  cmp run1/split/train_idx.npy "run$ranks/split/train_idx.npy" || fail "$ranks ranks: another split"
  # Every direction's MAP within 0.01 of one process's.
  paste <(maps out1 | tr ' ' '\n' | grep -v '^$') <(maps "out$ranks" | tr ' ' '\n' | grep -v '^$') |
    awk -v r="$ranks" 'NR % 2 == 1 { if ($1 != $2) { print "direction " $1 " vs " $2; bad = 1 } next }
                       { d = $1 - $2; if (d < 0) d = -d; if (d > 0.01) { print r " ranks: MAP " $1 " vs " $2; bad = 1 } }
                       END { exit bad }' || fail "$ranks ranks: $(maps out1) against $(maps "out$ranks")"
done
# --resume to a third epoch on 2 ranks.
"$mpiexec" -np 2 --oversubscribe "$ssah" "${args[@]}" --epochs 3 --resume run2 >out_resume \
  2>err_resume || fail "resume on 2 ranks: $(cat err_resume)"
grep -q "continuing from epoch 2" out_resume || fail "resume: $(cat out_resume)"
grep -q '"epochs": 3' run2/report.json || fail "resume: report.json does not record 3 epochs"
# Errors: the folder (rank 0 checks it; the others have read the inputs and wait), a missing input (every rank).
if "$mpiexec" -np 2 --oversubscribe "$ssah" "${args[@]}" --epochs 1 --out run1 >out_busy 2>err_busy; then
  fail "trained into a folder that holds a run"
fi
[ "$(grep -c "ssah train: error: .*run1" err_busy)" = 1 ] || fail "folder error not shown once: $(cat err_busy)"
if "$mpiexec" -np 2 --oversubscribe "$ssah" train --modality img=missing.npy --modality "txt=$wiki/train_txt_lda10_f32.npy" \
  --labels "$wiki/train_label_onehot_u8.npy" --out run_missing >out_missing 2>err_missing; then
  fail "trained on a missing file"
fi
[ "$(grep -c "ssah train: error: .*missing.npy" err_missing)" = 1 ] || fail "input error not shown once: $(cat err_missing)"
[ ! -e run_missing ] || fail "a failed run left its folder"
echo "ssah train under mpirun: 2 and 3 ranks within 0.01 MAP of one process, outputs written once; resume; errors shown once"
