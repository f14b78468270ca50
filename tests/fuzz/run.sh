#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time.
#
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 20 (what CI uses); see docs/fuzzing.md for longer runs
#   TARGET              npy, safetensors, mat, mat73-seeds (the default: these four), or mat73, which
#                       hands v7.3 files to the HDF5 library (fuzzes HDF5, which fails within
#                       seconds: not run by CI; see docs/fuzzing.md); mat73-seeds runs the mat73
#                       target once on each seed (valid v7.3 files: no mutation), which CI does
# Environment: SSAH_FUZZ_BUILD_DIR (default build-fuzz), SSAH_JOBS (default 2),
#              SSAH_FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=4 -workers=4").
# Exit status: 0 when no target found a crash; a crash's input is saved under
# $SSAH_FUZZ_BUILD_DIR/fuzz-artifacts/ (replay: ./ssah_fuzz_npy FILE).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=${1:-20}
shift || true
build=${SSAH_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${SSAH_JOBS:-2}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(npy safetensors mat mat73-seeds)

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (Debian: apt-get install clang)" >&2
  exit 1
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DSSAH_BUILD_FUZZERS=ON -DSSAH_DEVICE_SYSTEM=CPP -DSSAH_BUILD_BENCHMARKS=OFF -DSSAH_BUILD_EXAMPLES=OFF >/dev/null
build_targets=(ssah_fuzz_make_seeds)
for t in "${targets[@]}"; do
  bin=${t%-seeds}
  if [[ $t == mat* ]] && ! grep -q "^ssah_fuzz_$bin:" <(ninja -C "$build" -t targets all 2>/dev/null); then
    echo "fuzz: $t target not configured (matio missing), skipping it"
    continue
  fi
  build_targets+=("ssah_fuzz_$bin")
done
cmake --build "$build" --target "${build_targets[@]}" -j "$jobs"

fuzz_dir=$build/tests/fuzz
seeds=$build/fuzz-seeds
"$fuzz_dir/ssah_fuzz_make_seeds" "$seeds"
mkdir -p "$build/fuzz-artifacts"

status=0
for t in "${targets[@]}"; do
  bin=${t%-seeds}
  exe=$fuzz_dir/ssah_fuzz_$bin
  [ -x "$exe" ] || continue
  corpus=$build/fuzz-corpus/$t
  mkdir -p "$corpus"
  kind=${bin%73}  # mat73 shares the seeds and dictionary of mat
  dict=()
  [ -f "$root/tests/fuzz/$kind.dict" ] && dict=(-dict="$root/tests/fuzz/$kind.dict")
  # Leaks inside third-party libraries that ssah cannot avoid (see the file) are suppressed.
  lsan=${LSAN_OPTIONS:-}
  [ -f "$root/tests/fuzz/$t.lsan.supp" ] && lsan="${lsan:+$lsan:}suppressions=$root/tests/fuzz/$t.lsan.supp"
  # HDF5 asks malloc for sizes read from the file (0x6000000000000b8 bytes, say) and copes with
  # NULL, which is what malloc returns outside ASan; ASan would abort instead.
  asan=${ASAN_OPTIONS:-}
  [ "$bin" = mat73 ] && asan="${asan:+$asan:}allocator_may_return_null=1"
  if [ "$t" != "$bin" ]; then  # TARGET-seeds: each seed once, under the sanitizers, no mutation
    echo "fuzz: $t: each of $(find "$seeds/$kind" -type f | wc -l) seeds once"
    if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LSAN_OPTIONS="$lsan" ASAN_OPTIONS="$asan" \
        "$exe" "$seeds/$kind"/* > "$build/fuzz-$t.log" 2>&1; then
      echo "fuzz: $t FAILED; see $build/fuzz-$t.log" >&2
      tail -n 40 "$build/fuzz-$t.log" >&2
      status=1
    fi
    continue
  fi
  echo "fuzz: $t for ${secs}s"
  # detect_leaks stays on for every target: a leak is a finding too (but HDF5's own, above).
  # shellcheck disable=SC2086
  if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LSAN_OPTIONS="$lsan" ASAN_OPTIONS="$asan" \
      "$exe" "$corpus" "$seeds/$kind" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" ${SSAH_FUZZ_ARGS:-} \
        > "$build/fuzz-$t.log" 2>&1; then
    echo "fuzz: $t FAILED; see $build/fuzz-$t.log and $build/fuzz-artifacts/" >&2
    tail -n 40 "$build/fuzz-$t.log" >&2
    status=1
  else
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)" "$build/fuzz-$t.log" | sed "s/^/fuzz: $t: /" || true
  fi
done
exit $status
