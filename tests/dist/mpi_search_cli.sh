#!/usr/bin/env bash
# `ssah search` under mpirun (an -DSSAH_MPI=ON build): with 2 and 3 ranks it writes the ids and
# distances of one process, byte for byte (100,003 random 64-bit codes: shards of unequal size, many
# tied distances); an error is shown once; a command other than search refuses several ranks.
# Usage: mpi_search_cli.sh MPIEXEC SSAH WORKDIR   (CTest mpi.ssah_search)
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
# Other commands run as one process.
if "$mpiexec" -np 2 --oversubscribe "$ssah" eval --query-codes q.npy --db-codes db.npy --query-labels q.npy \
  --db-labels db.npy >out_eval 2>err_eval; then
  fail "ssah eval ran on 2 ranks"
fi
[ "$(grep -c "only ssah search runs on several ranks" err_eval)" = 1 ] || fail "eval: $(cat err_eval)"
echo "ssah search under mpirun: identical to one process with 2 and 3 ranks; errors shown once"
