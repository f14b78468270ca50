#!/usr/bin/env bash
# Peak memory of `ssah train` (the program, as the README's commands build it) on N synthetic
# 224 x 224 images with CNN-F, for several N, and the slope per image: issue 18's measure. Each N
# gets random uint8 images [N, 3, 224, 224] (150 KiB an image), a bag-of-words text [N, 64] and
# multi-hot labels [N, 8], and trains one step of each network (--epochs 1 --passes 1
# --steps-per-pass 1, K = 16), then encodes every query and database item, as a run does; the
# peak resident memory of the whole process comes from GNU time.
#
# Prints one line per N and, last, exactly
#   image training memory: slope X KiB per image (Y MiB fixed), from N = A to B
# (a least-squares line through the peaks).
#
# With MAT=1 the images, tags and labels come in one MATLAB v7.3 file in the DCMH MIRFLICKR layout
# (images 224 x 224 x 3 x N, written compressed by the test program ssah_cli_mat_test_data, which
# scripts/test.sh builds) and train with --mat FILE --mat-layout dcmh-flickr: the reading of a
# .mat file (a child process streaming the images in slabs) is then part of the measure.
#
# Usage: bench/image_train_memory.sh [BUILD_DIR]     (default: build, as scripts/demo.sh leaves it)
# Environment: IMAGES (default "1000 2000 4000"; issue 18 adds 20015), THREADS (all CPUs), MAT (0),
#              TMPDIR (where the files are written; needs 150 KiB per image free).
# Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$(dirname "$here")/build}"
ssah="$build/examples/cli/ssah"
images="${IMAGES:-1000 2000 4000}"
threads="${THREADS:-$(nproc)}"
mat="${MAT:-0}"
mat_writer="$build/examples/cli/ssah_cli_mat_test_data"
[[ -x "$ssah" ]] || { echo "image_train_memory.sh: $ssah not built (scripts/demo.sh builds it)" >&2; exit 2; }
[[ "$mat" == 0 || -x "$mat_writer" ]] ||
  { echo "image_train_memory.sh: MAT=1 needs $mat_writer (scripts/test.sh builds it)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "image_train_memory.sh: needs GNU time (apt-get install time)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# write_u8 FILE SHAPE BYTES SOURCE
source "$here/npy.sh"
# 0/1 bytes: random bytes masked to their lowest bit (Python's standard library).
zero_one() { python3 -c 'import os, sys; sys.stdout.buffer.write(bytes(b & 1 for b in os.urandom(int(sys.argv[1]))))' "$1"; }

points=()
for n in $images; do
  if [[ "$mat" != 0 ]]; then
    "$mat_writer" images "$n" "$tmp/data.mat"
    inputs=(--mat "$tmp/data.mat" --mat-layout dcmh-flickr)
  else
    write_u8 "$tmp/img.npy" "$n, 3, 224, 224" $(( n * 3 * 224 * 224 )) /dev/urandom
    zero_one $(( n * 64 )) > "$tmp/txt.bin" && write_u8 "$tmp/txt.npy" "$n, 64" $(( n * 64 )) "$tmp/txt.bin"
    zero_one $(( n * 8 )) > "$tmp/lab.bin" && write_u8 "$tmp/lab.npy" "$n, 8" $(( n * 8 )) "$tmp/lab.bin"
    inputs=(--modality "image=$tmp/img.npy" --modality "text=$tmp/txt.npy" --labels "$tmp/lab.npy")
  fi
  rm -rf "$tmp/run"
  /usr/bin/time -f "%M %e" -o "$tmp/peak" "$ssah" train "${inputs[@]}" \
    --backbone image=cnn --bits 16 --epochs 1 --passes 1 --steps-per-pass 1 \
    --out "$tmp/run" > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
  read -r peak_kib seconds < <(tail -n 1 "$tmp/peak")
  echo "N = $n images: peak $(( peak_kib / 1024 )) MiB ($(( peak_kib / n )) KiB per image), $seconds s"
  points+=("$n $peak_kib")
  rm -f "$tmp/img.npy" "$tmp/data.mat"
done
printf '%s\n' "${points[@]}" | awk -v first="${images%% *}" -v last="${images##* }" '
  { x[NR] = $1; y[NR] = $2; sx += $1; sy += $2 }
  END {
    if (NR < 2) { print "image training memory: one N only, no slope"; exit }
    mx = sx / NR; my = sy / NR
    for (i = 1; i <= NR; ++i) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ^ 2 }
    slope = sxy / sxx
    printf "image training memory: slope %.0f KiB per image (%.0f MiB fixed), from N = %s to %s\n",
           slope, (my - slope * mx) / 1024, first, last
  }'
