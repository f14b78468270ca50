#!/usr/bin/env bash
# `ssah search` and `ssah eval` under mpirun (an -DSSAH_MPI=ON build): with 2 and 3 ranks search
# writes the ids and distances of one process, byte for byte (100,003 random 64-bit codes: shards of
# unequal size, many tied distances), and eval prints the metrics of one process and writes its JSON
# (mAP within 1e-12, counts and curves equal); an error is shown once; `ssah encode` refuses several ranks.
# Usage: mpi_search_eval_cli.sh MPIEXEC SSAH WORKDIR   (CTest mpi.ssah_search_eval; PYTHON: python3)
set -euo pipefail
mpiexec="$1"
ssah="$2"
work="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../bench/npy.sh"  # write_u8 FILE SHAPE BYTES SOURCE
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work"
write_u8 db.npy "100003, 8" $((100003 * 8)) /dev/urandom
write_u8 q.npy "37, 8" $((37 * 8)) /dev/urandom
# 0/1 labels over 24 classes, each present with probability 1/16.
head -c $((100040 * 24)) /dev/urandom | LC_ALL=C tr '\000-\357' '\000' | LC_ALL=C tr '\360-\377' '\001' >bits01
write_u8 db_labels.npy "100003, 24" $((100003 * 24)) bits01
tail -c $((37 * 24)) bits01 >q_bits01
write_u8 q_labels.npy "37, 24" $((37 * 24)) q_bits01
"$ssah" search --db-codes db.npy --query-codes q.npy -k 50 --out ids1.npy --distances d1.npy 2>err1
grep -q "ranks" err1 && fail "one process reports ranks: $(cat err1)"
for ranks in 2 3; do
  "$mpiexec" -np "$ranks" --oversubscribe "$ssah" search --db-codes db.npy --query-codes q.npy -k 50 \
    --out "ids$ranks.npy" --distances "d$ranks.npy" 2>"err$ranks" || fail "$ranks ranks: $(cat "err$ranks")"
  cmp ids1.npy "ids$ranks.npy" || fail "$ranks ranks: other ids than one process"
  cmp d1.npy "d$ranks.npy" || fail "$ranks ranks: other distances than one process"
  [ "$(grep -c "queries, 100003 database codes" "err$ranks")" = 1 ] || fail "$ranks ranks: one summary expected: $(cat "err$ranks")"
  grep -q "$ranks ranks)" "err$ranks" || fail "$ranks ranks: the summary does not say so: $(cat "err$ranks")"
done
# An input error: every rank meets it, rank 0 alone reports it.
if "$mpiexec" -np 2 --oversubscribe "$ssah" search --db-codes missing.npy --query-codes q.npy -k 5 --out x.npy \
  >out_err 2>err_missing; then
  fail "a missing database was searched"
fi
[ "$(grep -c "ssah search: error: .*missing.npy" err_missing)" = 1 ] || fail "the error not shown once: $(cat err_missing)"
# ssah eval: the metrics of one process.
eval_args=(eval --query-codes q.npy --db-codes db.npy --query-labels q_labels.npy --db-labels db_labels.npy --top 1000)
"$ssah" "${eval_args[@]}" --json e1.json >eout1 2>eerr1 || fail "eval: $(cat eerr1)"
for ranks in 2 3; do
  "$mpiexec" -np "$ranks" --oversubscribe "$ssah" "${eval_args[@]}" --json "e$ranks.json" >"eout$ranks" \
    2>"eerr$ranks" || fail "eval on $ranks ranks: $(cat "eerr$ranks")"
  diff <(grep "^mAP" eout1) <(grep "^mAP" "eout$ranks") || fail "eval on $ranks ranks: other metrics"
  grep -q "$ranks ranks)" "eout$ranks" || fail "eval on $ranks ranks: the summary does not say so: $(cat "eout$ranks")"
  "${PYTHON:-python3}" - e1.json "e$ranks.json" <<'PY' || fail "eval on $ranks ranks: the JSON differs"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
def close(x, y):
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(close(x[k], y[k]) for k in x if k != "seconds")
    if isinstance(x, list):
        return len(x) == len(y) and all(close(u, v) for u, v in zip(x, y))
    if isinstance(x, float):
        return abs(x - y) <= 1e-12
    return x == y
sys.exit(0 if close(a, b) and 0 < a["map"] < 1 else 1)
PY
done
# Other commands run as one process.
if "$mpiexec" -np 2 --oversubscribe "$ssah" encode --checkpoint missing.safetensors --modality x=q.npy --out x.npy \
  >out_encode 2>err_encode; then
  fail "ssah encode ran on 2 ranks"
fi
[ "$(grep -c "only ssah search, eval and train run on several" err_encode)" = 1 ] || fail "encode: $(cat err_encode)"
echo "ssah search and eval under mpirun: identical to one process with 2 and 3 ranks; errors shown once"
