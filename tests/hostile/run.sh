#!/usr/bin/env bash
# Hostile-input suite of the `ssah` program (issue 16): careless and hostile inputs, each run with
# a time limit and a memory cap, checked for
#   - no signal and no hang (every case under `timeout`; a hang or a kill fails the case),
#   - the expected outcome: an error (exit 1, or CLI11's usage status 100-114) whose message is one
#     line "ssah <command>: error: ..." (or "ssah: usage error: ...") matching the case's pattern,
#     naming no C++ type and quoting no raw bytes; or success, with the warnings the case expects,
#   - no file changed that the case did not name as an output (every input is checksummed before
#     the suite and compared after each case).
#
# Usage: tests/hostile/run.sh SSAH MAKE_TRAIN_DATA WORK_DIR
#   SSAH             the ssah program; MAKE_TRAIN_DATA: ssah_cli_make_train_data (the tiny data set)
#   WORK_DIR         scratch folder (emptied first)
# Environment: PYTHON (default python3: writes the crafted inputs, standard library only);
#   SSAH_HOSTILE_MEMORY_MB (default 4096): `ulimit -v` of each case; under AddressSanitizer,
#   which reserves terabytes of address space and so cannot run under `ulimit -v`, set
#   SSAH_HOSTILE_SANITIZED=1 and cap memory through ASAN_OPTIONS instead (CI's hostile step does:
#   hard_rss_limit_mb, max_allocation_size_mb, allocator_may_return_null=1);
#   SSAH_HOSTILE_TIMEOUT (default 120 s per case).
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 SSAH MAKE_TRAIN_DATA WORK_DIR" >&2
  exit 2
fi
ssah=$1
make_data=$2
work=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}
memory_mb=${SSAH_HOSTILE_MEMORY_MB:-4096}
limit=${SSAH_HOSTILE_TIMEOUT:-120}
sanitized=${SSAH_HOSTILE_SANITIZED:-0}

if ! command -v "$python" >/dev/null; then
  echo "hostile: $python not found (set PYTHON); it writes the crafted inputs" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work/out"
in=$work/inputs
"$make_data" "$in" >/dev/null || exit 1
"$python" "$here/make_inputs.py" "$in" || exit 1
mkfifo "$in/fifo.npy"

# --bits and --hidden may be given once (a list each), so the cases that set them start from T0.
T0=(--modality "img=$in/img.npy" --modality "txt=$in/txt.npy" --epochs 1 --passes 1 --steps-per-pass 1)
T=("${T0[@]}" --bits 16 --hidden 16,8)

# A trained run whose checkpoint the encode cases read (and must leave alone).
if ! "$ssah" train "${T[@]}" --labels "$in/labels.npy" --split "$in/split" --out "$in/run" >/dev/null 2>&1; then
  echo "hostile: the tiny training run failed; cannot set up the checkpoint cases" >&2
  exit 1
fi
"$python" "$here/make_inputs.py" edit-checkpoint "$in/run/model-K16.safetensors" "$in/wide.safetensors" \
  feature_hidden '[100000000, 8]'
"$python" "$here/make_inputs.py" edit-checkpoint "$in/run/model-K16.safetensors" "$in/zero.safetensors" \
  feature_hidden '[0, 8]'
"$python" "$here/make_inputs.py" edit-checkpoint "$in/run/model-K16.safetensors" "$in/shape.safetensors" \
  sample_shape '[4611686018427387904, 4]'
"$python" "$here/make_inputs.py" poison-checkpoint "$in/run/model-K16.safetensors" "$in/nan.safetensors" nan
"$python" "$here/make_inputs.py" poison-checkpoint "$in/run/model-K16.safetensors" "$in/extra.safetensors" extra
"$python" "$here/make_inputs.py" poison-checkpoint "$in/run/model-K16.safetensors" "$in/huge.safetensors" huge
"$python" "$here/make_inputs.py" poison-checkpoint "$in/run/model-K16.safetensors" "$in/epoch_meta.safetensors" \
  epoch-meta
"$python" "$here/make_inputs.py" poison-checkpoint "$in/run/model-K16.safetensors" "$in/deep.safetensors" deep-spec
"$python" "$here/make_inputs.py" edit-checkpoint "$in/run/model-K16.safetensors" "$in/typed.safetensors" \
  feature_hidden '"wide"'

checksums() { (cd "$in" && find . -type f -print0 | sort -z | xargs -0 md5sum); }
checksums > "$work/inputs.md5"

passed=0
failed=0
failures=()
as_user=()  # a command that runs the program as another user (the permission cases)
forbidden='std::|ssah::|CnnF|MultiScaleTextNet|FeatureNet|BasicSsah|make_model|json\.exception|basic_string|what\(\)|terminate called|Assertion|Segmentation|AddressSanitizer|runtime error'

fail_case() {
  failed=$((failed + 1))
  failures+=("$1: $2")
  echo "FAIL $1: $2"
}

# case NAME EXPECT PATTERN ARGS...
#   EXPECT: error (exit 1 or a usage status, the message matching PATTERN, an extended regex), or
#   ok (exit 0, stderr matching PATTERN; "" for anything).
case_() {
  local name=$1 expect=$2 pattern=$3
  shift 3
  local stdout=$work/$name.stdout stderr=$work/$name.stderr rc start elapsed
  start=$(date +%s)
  if [ "$sanitized" = 1 ]; then
    timeout -k 10 "$limit" "${as_user[@]}" "$ssah" "$@" >"$stdout" 2>"$stderr" </dev/null
  else
    (ulimit -v $((memory_mb * 1024)) && exec timeout -k 10 "$limit" "${as_user[@]}" "$ssah" "$@") >"$stdout" 2>"$stderr" </dev/null
  fi
  rc=$?
  elapsed=$(($(date +%s) - start))
  # With allocator_may_return_null=1, ASan notes each allocation it refused (the NULL that ssah must
  # turn into an error); that notice is the sanitizer's, not the program's message.
  [ "$sanitized" = 1 ] && sed -i -E '/^==[0-9]+==WARNING: AddressSanitizer failed to allocate /d' "$stderr"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    fail_case "$name" "no result within ${limit} s (hang), exit $rc"
  elif [ $rc -gt 128 ] && [ $rc -ne 130 ]; then
    fail_case "$name" "killed by signal $((rc - 128)): $(tail -c 300 "$stderr" | tr '\n' ' ')"
  elif grep -Eq "$forbidden" "$stderr"; then
    fail_case "$name" "the message shows internals: $(grep -Em1 "$forbidden" "$stderr" | cut -c1-200)"
  elif LC_ALL=C grep -q '[^[:print:][:space:]]' "$stderr"; then
    fail_case "$name" "raw bytes in the message"
  elif [ "$expect" = error ]; then
    local line
    line=$(grep -E '^ssah( [a-z]+)?: (usage )?error: ' "$stderr" | tail -n 1)
    if [ $rc -ne 1 ] && { [ $rc -lt 100 ] || [ $rc -gt 114 ]; }; then
      fail_case "$name" "exit $rc, expected an error (1 or a usage status): $(tail -c 200 "$stderr" | tr '\n' ' ')"
    elif [ -z "$line" ]; then
      fail_case "$name" "no 'ssah <command>: error: ...' line: $(tail -c 300 "$stderr" | tr '\n' ' ')"
    elif [ "$(grep -c 'error' "$stderr")" -ne 1 ] || [ "$(tail -n 1 "$stderr")" != "$line" ]; then
      fail_case "$name" "the error is not one last line: $(tr '\n' '|' <"$stderr" | cut -c1-300)"
    elif [ ${#line} -gt 1040 ]; then
      fail_case "$name" "message of ${#line} characters"
    elif ! grep -Eq -- "$pattern" <<<"$line"; then
      fail_case "$name" "message '$line' does not match '$pattern'"
    else
      passed=$((passed + 1))
      echo "ok   $name (${elapsed} s): ${line:0:160}"
    fi
  else
    if [ $rc -ne 0 ]; then
      fail_case "$name" "exit $rc: $(tail -c 300 "$stderr" | tr '\n' ' ')"
    elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$stderr"; then
      fail_case "$name" "stderr does not match '$pattern': $(tail -c 300 "$stderr" | tr '\n' ' ')"
    else
      passed=$((passed + 1))
      echo "ok   $name (${elapsed} s)"
    fi
  fi
  if ! checksums | cmp -s - "$work/inputs.md5"; then
    fail_case "$name" "an input changed: $(checksums | diff - "$work/inputs.md5" | grep '^[<>]' | head -n 2 | tr '\n' ' ')"
    checksums > "$work/inputs.md5"  # report each change once
  fi
}

o=$work/out
L=(--labels "$in/labels.npy")
S=(--split "$in/split")
q4=(--query-codes "$in/run/codes/K16_img_query.npy")
db=(--db-codes "$in/run/codes/K16_img_db.npy")

# 1. Allocations: refused with the size, before or instead of a kill.
case_ alloc_hidden error "--hidden: the networks need at least .* [GT]iB.*widths 65536,65536.* available" \
  train "${T0[@]}" "${L[@]}" "${S[@]}" --bits 16 --hidden 65536,65536 --out "$o/hidden"
# Widths that fit for training but not with the checkpoint written at the end of the epoch: refused
# before training (4 GB cap; under ASan the cap is the sanitizer's RSS limit, which ssah cannot see).
if [ "$sanitized" != 1 ]; then
  case_ alloc_hidden_checkpoint error "--hidden: the networks need at least .* for training and checkpoints" \
    train --modality "img=$in/img.npy" --epochs 1 --passes 1 --steps-per-pass 1 --bits 16 --hidden 6000,6000 \
    "${L[@]}" "${S[@]}" --out "$o/h6000"
fi
case_ alloc_checkpoint_widths error "wide.safetensors': the model it describes does not fit in memory: out of memory: a tensor of .* could not be allocated" \
  encode --checkpoint "$in/wide.safetensors" --modality "img=$in/img_query.npy" --out "$o/wide.npy"
case_ alloc_checkpoint_zero_width error "wide.safetensors|zero.safetensors" \
  encode --checkpoint "$in/zero.safetensors" --modality "img=$in/img_query.npy" --out "$o/zero.npy"
case_ alloc_checkpoint_shape error "shape.safetensors" \
  encode --checkpoint "$in/shape.safetensors" --modality "img=$in/img_query.npy" --out "$o/shape.npy"
case_ alloc_search_k error "out of memory: the 2147483647 nearest neighbours of 24 queries .* would take .*, more than" \
  search "${db[@]}" "${q4[@]}" -k 2147483647 --out "$o/ids.npy"
case_ alloc_npy_rows error "huge_rows.npy" \
  train "${T[@]}" "${L[@]}" --modality "big=$in/huge_rows.npy" --out "$o/rows"
case_ alloc_npy_overflow error "overflow.npy" \
  encode --checkpoint "$in/run/model-K16.safetensors" --modality "img=$in/overflow.npy" --out "$o/o.npy"

# 2. Outputs never replace inputs or earlier runs; one process per run folder.
case_ out_encode_checkpoint error "--out .* is the file of --checkpoint" \
  encode --checkpoint "$in/run/model-K16.safetensors" --modality "img=$in/img_query.npy" \
  --out "$in/run/../run/model-K16.safetensors"
case_ out_search_db error "--out .* is the file of --db-codes" search "${db[@]}" "${q4[@]}" --out "$in/run/codes/K16_img_db.npy"
case_ out_eval_labels error "--json .* is the file of --db-labels" \
  eval "${q4[@]}" "${db[@]}" --query-labels "$in/img_query.npy" --db-labels "$in/labels.npy" --json "$in/labels.npy"
case_ out_train_existing_run error "--out .*run: the folder is not empty .*--resume .*--overwrite" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --out "$in/run"
case_ out_train_is_file error "--out .*labels.npy: exists and is not a folder" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --out "$in/labels.npy"
case_ out_resume_and_overwrite error "--overwrite .* --resume .*not both" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$o/x" --overwrite
mkdir -p "$o/locked"
if command -v flock >/dev/null; then
  flock "$o/locked/.ssah-lock" sleep 30 &
  holder=$!
  # Until the holder has the lock (a fixed pause raced with a loaded machine).
  for _ in $(seq 1 200); do
    flock -n "$o/locked/.ssah-lock" true || break
    sleep 0.05
  done
  case_ out_train_locked error "--out .*locked: another ssah train is writing to this folder" \
    train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/locked"
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
fi
mkdir -p "$o/again"
case_ out_overwrite_first ok "" train "${T0[@]}" --hidden 16,8 "${L[@]}" "${S[@]}" --bits 16,32 --out "$o/again"
echo "mine" > "$o/again/notes.txt"
case_ out_overwrite ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/again" --overwrite
if [ -e "$o/again/model-K32.safetensors" ] || [ -e "$o/again/codes/K32_img_db.npy" ] || [ ! -e "$o/again/notes.txt" ]; then
  fail_case out_overwrite_files "--overwrite left the earlier run's K32 files, or removed a file of the user's"
fi

# 3. Files that declare more than they hold, or are not what they claim.
case_ mat_garbage_v5 error "garbage_v5.mat" train --mat "$in/garbage_v5.mat" --bits 16 --out "$o/mat5"
case_ mat_garbage_v73 error "garbage_v73.mat" train --mat "$in/garbage_v73.mat" --bits 16 --out "$o/mat73"
case_ npy_text error "not_npy.npy" train "${T[@]}" --labels "$in/not_npy.npy" --out "$o/text"
case_ resume_bad_json error "report.json': not valid JSON" train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$in/bad_run"

# 4. Numbers out of range: a usage error naming the range.
case_ range_threads_search error "--threads.*0 to 1024" search "${db[@]}" "${q4[@]}" --threads 100000
case_ range_threads_eval error "--threads.*0 to 1024" \
  eval "${q4[@]}" "${db[@]}" --query-labels "$in/labels.npy" --db-labels "$in/labels.npy" --threads 100000
case_ range_k error "-k.*1 to 2147483647" search "${db[@]}" "${q4[@]}" -k 100000000000
case_ range_items error "--items.*20 to 200000" demo --items 10000000
case_ range_epochs error "--epochs.*1 to 1000" train --modality "img=$in/img.npy" "${L[@]}" --epochs 1000000000 --out "$o/e"
# Round 12: CLI11 said "--epochs: At Most 1 required but received 2", listed unexpected arguments in
# reverse order, suggested no option for a misspelt one, and printed the version whatever followed.
case_ opt_epochs_twice error "^ssah: usage error: --epochs: given twice: give it once" \
  train "${T[@]}" "${L[@]}" --epochs 2 --out "$o/e"
case_ opt_misspelt error "ssah train has no option '--resum' \(did you mean '--resume'\?\)" \
  train "${T[@]}" "${L[@]}" --resum "$o/e"
case_ opt_stray_argument error "ssah search takes no argument 'x'" search "${db[@]}" "${q4[@]}" x -k 3
case_ opt_version_extra error "--version takes no other argument" --version train
# A report.json that is a link to a run's report is that run's (as --resume reads it): --overwrite
# replaces the link, never its target (it said the folder held no report.json).
cp -r "$in/run" "$o/report_link" && rm -f "$o/report_link/.ssah-lock"
mv "$o/report_link/report.json" "$work/report_link_target.json"
cp "$work/report_link_target.json" "$work/report_link_target.orig"
ln -s "$work/report_link_target.json" "$o/report_link/report.json"
case_ out_overwrite_report_link ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/report_link" --overwrite
[ ! -L "$o/report_link/report.json" ] && cmp -s "$work/report_link_target.json" "$work/report_link_target.orig" ||
  fail_case out_overwrite_report_link "the link was kept or its target changed"
ln -s "$o/no_such_target" "$o/dangling_out"
case_ out_dangling_link error "--out .*dangling_out: a symbolic link to '.*no_such_target', which does not exist" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/dangling_out"
case_ range_bits error "--bits: 48 is not supported" train "${T0[@]}" "${L[@]}" --bits 48 --out "$o/b"
case_ range_bits_demo error "--bits: 7 is not supported" demo --bits 7
case_ range_bits_twice error "--bits: 16 is given twice" train "${T0[@]}" --hidden 16,8 "${L[@]}" --bits 16,16 --out "$o/b2"
case_ range_top error "--top.*1 to 2147483647" \
  eval "${q4[@]}" "${db[@]}" --query-labels "$in/labels.npy" --db-labels "$in/labels.npy" --top 99999999999999999999999
case_ range_negative error "--batch-size.*1 to 65536" train "${T[@]}" "${L[@]}" --batch-size -5 --out "$o/n"

# 5. Data that make results meaningless: an error, or a warning the report records.
case_ data_labels_zero error "labels_zero.npy': no training item has a label" \
  train "${T[@]}" --labels "$in/labels_zero.npy" "${S[@]}" --out "$o/zero"
case_ data_split_same error "--split .*every query is also a database item" \
  train "${T[@]}" "${L[@]}" --split "$in/split_same" --out "$o/same"
case_ data_split_dup error "--split .*the query set lists row 2 twice" \
  train "${T[@]}" "${L[@]}" --split "$in/split_dup" --out "$o/dup"
case_ data_split_overlap ok "warning: 12 of the 24 queries are also database items" \
  train "${T[@]}" "${L[@]}" --split "$in/split_overlap" --out "$o/overlap"
grep -q "12 of the 24 queries are also database items" "$o/overlap/report.json" 2>/dev/null ||
  fail_case data_split_overlap_report "report.json does not record the overlap warning"
case_ data_some_unlabelled ok "warning: 10 of the 216 database items have no label" \
  train "${T[@]}" --labels "$in/labels_some_empty.npy" "${S[@]}" --out "$o/unlabelled"
case_ data_name_path error "--modality: the modality name 'x/../../evil' becomes part of direction and file names" \
  train "${T[@]}" "${L[@]}" --modality "x/../../evil=$in/img.npy" --out "$o/name"
case_ data_fifo error "fifo.npy': not a regular file \(a FIFO\)" train "${T[@]}" --labels "$in/fifo.npy" --out "$o/fifo"
case_ data_device error "'/dev/zero': not a regular file \(a device\)" \
  search --db-codes /dev/zero "${q4[@]}"
case_ data_directory error "not a regular file \(a directory\)" search --db-codes "$in" "${q4[@]}"
case_ data_backbone error "--backbone img=text: the text backbone cannot read the items of 'img' .shape .32.): pooling window" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --backbone img=text --out "$o/bb"
case_ data_nan error "img_nan.npy" train "${T[@]}" "${L[@]}" --modality "n=$in/img_nan.npy" --out "$o/nan"

# 2 (again). Outputs that are not regular files, and --overwrite next to what the run reads.
mkfifo "$work/out_fifo.npy"
case_ out_fifo error "out_fifo.npy': it exists and is not a regular file \(a FIFO\)" \
  search "${db[@]}" "${q4[@]}" --out "$work/out_fifo.npy"
[ -p "$work/out_fifo.npy" ] || fail_case out_fifo "the FIFO given as --out was replaced"
# --overwrite of a run (with a split of its own, drawn from the seed) whose split this run reads.
case_ out_overwrite_seeded_first ok "" train "${T[@]}" "${L[@]}" --out "$o/seeded"
case_ out_overwrite_reads_split ok "" train "${T[@]}" "${L[@]}" --split "$o/seeded/split" --out "$o/seeded" --overwrite
grep -q "kept 3 files" "$work/out_overwrite_reads_split.stdout" && [ -f "$o/seeded/split/train_idx.npy" ] ||
  fail_case out_overwrite_reads_split "--overwrite removed the split it reads"
mkdir -p "$o/linked" && echo '{}' > "$o/linked/report.json" && ln -s "$in/split" "$o/linked/split"
case_ out_overwrite_symlink error "linked/split' is a symbolic link" \
  train "${T[@]}" "${L[@]}" --out "$o/linked" --overwrite
mkdir -p "$o/data_folder" && cp "$in/labels.npy" "$o/data_folder/"
case_ out_overwrite_not_a_run error "holds no report.json" train "${T[@]}" "${L[@]}" --out "$o/data_folder" --overwrite

# 4 (again). Numbers in decimal only, whole lists, seeds in range.
case_ range_octal error "--bits: 20 is not supported" train "${T0[@]}" "${L[@]}" --bits 020 --out "$o/octal"
case_ range_seed error "--seed.*0 to 18446744073709551615" train "${T[@]}" "${L[@]}" --seed -1 --out "$o/seed"
case_ range_empty_element error "--hidden.*an empty element in '16,,8'" \
  train "${T0[@]}" "${L[@]}" --bits 16 --hidden 16,,8 --out "$o/list"

# 5 (again). Checkpoints whose data a tool changed (checksum recomputed); degenerate data warned.
case_ ckpt_nan error "nan.safetensors': tensor '.*' has a non-finite value" \
  encode --checkpoint "$in/nan.safetensors" --modality "img=$in/img_query.npy" --out "$o/nan_codes.npy"
case_ ckpt_extra error "extra.safetensors': tensor 'evil.extra' is not part of the model" \
  encode --checkpoint "$in/extra.safetensors" --modality "img=$in/img_query.npy" --out "$o/extra_codes.npy"
case_ data_same_modality ok "warning: modalities 'a' and 'b' hold the same values" \
  train --modality "a=$in/img.npy" --modality "b=$in/img.npy" --epochs 1 --passes 1 --steps-per-pass 1 --bits 16 \
  --hidden 16,8 "${L[@]}" "${S[@]}" --out "$o/same"

# Round 3: a link to a FIFO as an output; results on a full standard output; a sampler state that
# would loop forever; every pair relevant without one common label.
ln -s "$work/out_fifo.npy" "$work/link_to_fifo.npy"
case_ out_link_to_fifo error "link_to_fifo.npy': it is a link to what is not a regular file \(a FIFO\)" \
  search "${db[@]}" "${q4[@]}" --out "$work/link_to_fifo.npy"
[ -L "$work/link_to_fifo.npy" ] || fail_case out_link_to_fifo "the link given as --out was replaced"
if [ -w /dev/full ]; then
  if "$ssah" search "${db[@]}" "${q4[@]}" -k 3 >/dev/full 2>"$work/stdout_full.stderr"; then
    fail_case stdout_full "search printed its results to a full standard output and exited 0"
  elif ! grep -q "writing the results to standard output failed" "$work/stdout_full.stderr"; then
    fail_case stdout_full "no message: $(tr '\n' ' ' <"$work/stdout_full.stderr" | cut -c1-200)"
  else
    passed=$((passed + 1))
    echo "ok   stdout_full"
  fi
fi
cp -r "$in/run" "$o/zero_rng_run"  # a run folder to resume (--resume writes into it: not an input)
"$python" "$here/make_inputs.py" poison-checkpoint "$in/run/model-K16.safetensors" \
  "$o/zero_rng_run/model-K16.safetensors" zero-rng
case_ ckpt_zero_rng error "model-K16.safetensors': bad training state \(the batch sampler's state is not valid\)" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$o/zero_rng_run"
case_ data_all_pairs ok "warning: every query shares a label with every database item" \
  train --modality "img=$in/img.npy" --labels "$in/labels_pairs.npy" "${S[@]}" --epochs 1 --passes 1 \
  --steps-per-pass 1 --bits 16 --hidden 16,8 --out "$o/pairs"

# 6 (again). Control bytes of a file name are not echoed; an overlong message is cut to 1000 characters.
case_ msg_control_bytes error "cannot open '.*\?\[31m.npy'" search --db-codes "$work/$(printf '\033')[31m.npy" "${q4[@]}"
case_ msg_long error "--hidden" train "${T0[@]}" "${L[@]}" --bits 16 \
  --hidden "$(printf '60000,%.0s' $(seq 1 200))60000" --out "$o/long"

# Round 4: stored fields of the wrong type named by field; weights that saturate every unit (one
# code for every item);
# outputs that cannot be written found before the work; --resume's report read field by field;
# labels given as data, and evaluations where everything is relevant, warned.
case_ ckpt_spec_type error "typed.safetensors': not a checkpoint .*'modalities\[0\]\.feature_hidden' is \"wide\" \(expected a list of whole numbers\)" \
  encode --checkpoint "$in/typed.safetensors" --modality "img=$in/img_query.npy" --out "$o/typed.npy"
case_ ckpt_huge_weights ok "warning: all 24 items get the same code" \
  encode --checkpoint "$in/huge.safetensors" --modality "img=$in/img_query.npy" --out "$o/huge.npy"
mkdir -p "$o/report_folder/report.json" && echo x > "$o/report_folder/notes.txt"
case_ out_overwrite_report_folder error "report.json': it exists and is not a regular file \(a directory\)" \
  train "${T[@]}" "${L[@]}" --out "$o/report_folder" --overwrite
mkdir -p "$o/codes_fifo" && echo '{}' > "$o/codes_fifo/report.json" && mkfifo "$o/codes_fifo/codes"
case_ out_codes_fifo error "codes_fifo/codes' is not a folder" train "${T[@]}" "${L[@]}" --out "$o/codes_fifo" --overwrite
case_ out_second_unwritable error "--distances: cannot write '.*nowhere/d.npy': there is no folder" \
  search "${db[@]}" "${q4[@]}" --out "$o/first_ids.npy" --distances "$o/nowhere/d.npy"
[ -e "$o/first_ids.npy" ] && fail_case out_second_unwritable "--out was written although --distances could not be"
cp -r "$in/run" "$o/results_list_run"
"$python" - "$o/results_list_run/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["results"]["K16"] = []
json.dump(r, open(sys.argv[1], "w"))
PY
case_ resume_results_list error "report.json': not a report of ssah train \('results.K16' is not an object\)" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$o/results_list_run"
case_ data_labels_as_modality ok "warning: modality 'lab' holds the labels themselves" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --modality "lab=$in/labels.npy" --out "$o/labmod"
case_ eval_all_relevant ok "warning: every database item shares a label with every query" \
  eval "${q4[@]}" "${db[@]}" --query-labels "$in/ones_24.npy" --db-labels "$in/ones_216.npy"

# Round 5: a folder name that a shell or gnuplot would run; inputs where the run writes; a file-size
# limit; eval labels that training refuses or that no table holds; degenerate codes, labels and
# splits warned; edited reports and metadata; messages that name what the user gave.
case_ out_shell_quote ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/sh'; touch $work/PWNED; echo '"
[ -e "$work/PWNED" ] && fail_case out_shell_quote "a command in the --out folder name ran"
cp -r "$in/run" "$o/inputs_inside" && cp "$in/img.npy" "$o/inputs_inside/codes/K16_img_db.npy"
case_ out_input_is_output error "--modality .*K16_img_db.npy: the file is where ssah train writes 'codes/K16_img_db.npy'" \
  train --modality "img=$o/inputs_inside/codes/K16_img_db.npy" --epochs 1 --passes 1 --steps-per-pass 1 --bits 16 \
  --hidden 16,8 "${L[@]}" "${S[@]}" --out "$o/inputs_inside" --overwrite
cmp -s "$in/img.npy" "$o/inputs_inside/codes/K16_img_db.npy" || fail_case out_input_is_output "the input was replaced"
mkdir -p "$o/fsize"
( ulimit -f 2; exec "$ssah" search "${db[@]}" "${q4[@]}" -k 200 --out "$o/fsize/ids.npy" ) >/dev/null 2>"$work/fsize.stderr"
rc=$?
if [ $rc -ne 1 ] || ! grep -q "ssah search: error: .*File too large" "$work/fsize.stderr"; then
  fail_case out_file_size "exit $rc: $(tr '\n' ' ' <"$work/fsize.stderr" | cut -c1-200)"
elif [ -n "$(ls -A "$o/fsize")" ]; then
  fail_case out_file_size "left $(ls -A "$o/fsize")"
else
  passed=$((passed + 1))
  echo "ok   out_file_size"
fi
case_ eval_labels_two error "labels_two_216.npy': multi-hot labels must be 0 or 1, found 2" \
  eval "${q4[@]}" "${db[@]}" --query-labels "$in/ones_24.npy" --db-labels "$in/labels_two_216.npy"
case_ eval_class_ids_huge error "ids_huge_24.npy' \(24 rows over 1099511627777 classes\) would take" \
  eval "${q4[@]}" "${db[@]}" --query-labels "$in/ids_huge_24.npy" --db-labels "$in/ids_216.npy"
case_ eval_one_code ok "warning: every database item has the same code" \
  eval "${q4[@]}" --db-codes "$in/codes_one_216.npy" --query-labels "$in/ones_24.npy" --db-labels "$in/ones_216.npy"
case_ eval_same_codes ok "warning: the query codes are the database codes" \
  eval --query-codes "$in/run/codes/K16_img_db.npy" "${db[@]}" --query-labels "$in/ids_216.npy" \
  --db-labels "$in/ids_216.npy"
case_ search_no_codes error "--query-codes .*codes_none.npy': no codes \(0 rows\)" \
  search "${db[@]}" --query-codes "$in/codes_none.npy"
case_ search_empty_out error "--out.*empty path" search "${db[@]}" "${q4[@]}" --out ""
case_ data_no_relevant ok "warning: 24 of the 24 queries share no label with any database item" \
  train "${T[@]}" --labels "$in/labels_apart.npy" "${S[@]}" --out "$o/apart"
case_ train_one_code ok "warning: K = 16: every database item of 'img' gets the same code" \
  train --modality "img=$in/img_1e30.npy" --epochs 1 --passes 1 --steps-per-pass 1 --bits 16 --hidden 16,8 \
  --no-standardize "${L[@]}" "${S[@]}" --out "$o/one_code"
cp -r "$in/run" "$o/map_run"
"$python" - "$o/map_run/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["results"]["K16"]["map"]["img->img"] = 7.0
json.dump(r, open(sys.argv[1], "w"))
PY
case_ resume_results_map error "'results.K16.map.img->img' is 7.0 \(a MAP is a number from 0 to 1\)" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$o/map_run"
case_ ckpt_epoch_meta error "epoch_meta.safetensors': its metadata 'ssah.epoch' is '5' but its spec says 1" \
  encode --checkpoint "$in/epoch_meta.safetensors" --modality "img=$in/img_query.npy" --out "$o/epoch.npy"
cp -r "$in/run" "$o/split_run"
case_ resume_other_split error "the checksum of split.* is .* there but .* here" \
  train "${T[@]}" "${L[@]}" --resume "$o/split_run"
case_ opt_backbone_twice error "--backbone: the modality 'img' is given twice" \
  train "${T[@]}" "${L[@]}" --backbone img=text --backbone img=feature --out "$o/bb2"
case_ opt_labels_missing error "--labels LABELS.npy is required with --modality" train "${T[@]}" --out "$o/nolabels"

# Round 6: JSON nested deep enough to overflow a recursive parser; a run folder whose outputs'
# paths hold a FIFO (found before training, not after); a 250-byte file name; a list option
# given twice (CLI11 appended the second).
cp -r "$in/run" "$o/deep_run"
"$python" - "$o/deep_run/report.json" <<'PY'
import sys
open(sys.argv[1], "w").write('{"results": ' + '{"a": ' * 100000 + '1' + '}' * 100000 + '}')
PY
case_ json_deep_report error "report.json': not a report of ssah train \(nested more than 16 levels deep\)" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$o/deep_run"
case_ json_deep_checkpoint error "deep.safetensors': not a checkpoint .*nested more than 8 levels deep" \
  encode --checkpoint "$in/deep.safetensors" --modality "img=$in/img_query.npy" --out "$o/deep.npy"
cp -r "$in/run" "$o/fifo_run" && rm "$o/fifo_run/curves/K16_img_to_txt_pr.csv" && mkfifo "$o/fifo_run/curves/K16_img_to_txt_pr.csv"
case_ out_fifo_in_run error "fifo_run: cannot write '.*K16_img_to_txt_pr.csv': it exists and is not a regular file \(a FIFO\)" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/fifo_run" --overwrite
[ -e "$o/fifo_run/model-K16.safetensors" ] || fail_case out_fifo_in_run "the earlier run's files were removed"
long_name=$(printf 'y%.0s' $(seq 1 246)).npy
case_ out_long_name ok "" encode --checkpoint "$in/run/model-K16.safetensors" --modality "img=$in/img_query.npy" \
  --out "$o/$long_name"
[ -f "$o/$long_name" ] || fail_case out_long_name "no file written"
case_ opt_hidden_twice error "--hidden.*given twice" train "${T[@]}" "${L[@]}" --hidden 16,8 --out "$o/h2"

# A batch whose activations cannot fit (a batch of 65,536 rows of 72,000, widths 8,16384: 55 GiB) is
# refused before the run starts, naming --batch-size. (Under ASan ssah cannot see the sanitizer's
# RSS limit; on a machine with more memory than that estimate the first step fails instead.)
batch_pattern="--batch-size: a training step on a batch of 65536 of 72000 rows needs at least .*GiB.* available"
[ "$sanitized" = 1 ] && batch_pattern="$batch_pattern|out of memory"
case_ alloc_batch error "$batch_pattern" \
  train --modality "img=$in/img.npy" --epochs 1 --passes 1 --steps-per-pass 1 --bits 16 --hidden 8,16384 \
  --batch-size 65536 "${L[@]}" --split "$in/split_many" --out "$o/batch"
[ ! -e "$o/batch" ] || [ "$sanitized" = 1 ] || fail_case alloc_batch "the refused run created its folder"
# A fresh run that passes that estimate but runs out of memory in its first step (4 GiB cap; under
# ASan the sanitizer would stop the process at its RSS limit instead) leaves its folder as it found
# it, so that the same command can be rerun.
if [ "$sanitized" != 1 ]; then
  case_ out_failed_run_released error "K = 16: out of memory: .*--batch-size" \
    train --modality "img=$in/img.npy" --epochs 1 --passes 1 --steps-per-pass 1 --bits 16 --hidden 8,4096 \
    --batch-size 4096 "${L[@]}" --split "$in/split_many" --out "$o/released"
  [ ! -e "$o/released" ] || fail_case out_failed_run_released "left the folder it created: $(ls -A "$o/released" | tr '\n' ' ')"
  grep -q "warning: 71784 of the 72000 training rows repeat" "$work/out_failed_run_released.stderr" ||
    fail_case out_failed_run_released "the count of repeated training rows is wrong"
  # The same failure into a folder the user made: the folder stays, empty.
  mkdir -p "$o/made_by_user"
  case_ out_failed_run_user_folder error "K = 16: out of memory: .*--batch-size" \
    train --modality "img=$in/img.npy" --epochs 1 --passes 1 --steps-per-pass 1 --bits 16 --hidden 8,4096 \
    --batch-size 4096 "${L[@]}" --split "$in/split_many" --out "$o/made_by_user"
  [ -d "$o/made_by_user" ] && [ -z "$(ls -A "$o/made_by_user")" ] ||
    fail_case out_failed_run_user_folder "the folder the user made was removed, or holds files"
fi

# Round 8. Long width lists are refused at once (20,000 widths took minutes to build); names whose
# direction files would collide ('a->a_to_a' and 'a_to_a->a' both write 'a_to_a_to_a') or differ only
# in letter case are refused; a value that standardisation would take beyond float's range is named
# as such before the run folder is created; CNN-F's layers are named without the class name.
many_widths=$(printf '2,%.0s' $(seq 1 5000))2
case_ hidden_many_layers error "--hidden: 5001 widths \(at most 64 hidden layers\)" \
  train "${T0[@]}" --bits 16 --hidden "$many_widths" "${L[@]}" "${S[@]}" --out "$o/many"
"$python" "$here/make_inputs.py" edit-checkpoint "$in/run/model-K16.safetensors" "$work/long_spec.safetensors" \
  feature_hidden "[$many_widths]"
case_ ckpt_many_layers error "long_spec.safetensors': .*'feature_hidden' lists 5001 widths \(at most 64\)" \
  encode --checkpoint "$work/long_spec.safetensors" --modality "img=$in/img_query.npy" --out "$o/long.npy"
case_ name_direction_collision error "the directions 'a->a_to_a' and 'a_to_a->a' would write the same files" \
  train --modality "a=$in/img.npy" --modality "a_to_a=$in/txt.npy" --epochs 1 --passes 1 --steps-per-pass 1 \
  --bits 16 --hidden 16,8 "${L[@]}" "${S[@]}" --out "$o/collide"
case_ name_case_only error "the modality names 'IMG' and 'img' differ only in letter case" \
  train --modality "IMG=$in/img.npy" --modality "img=$in/txt.npy" --epochs 1 --passes 1 --steps-per-pass 1 \
  --bits 16 --hidden 16,8 "${L[@]}" "${S[@]}" --out "$o/case"
case_ standardize_overflow error "img_3e38.npy': the value 3e\+38 at row 5, column 5 is .* beyond float's range" \
  train --modality "img=$in/img_3e38.npy" --modality "txt=$in/txt.npy" --epochs 1 --passes 1 --steps-per-pass 1 \
  --bits 16 --hidden 16,8 "${L[@]}" "${S[@]}" --out "$o/overflow"
[ ! -e "$o/overflow" ] || fail_case standardize_overflow "the refused run created its folder"
case_ cnn_image_too_small error "cannot read the items of 'img' \(shape \[3, 8, 8\]\): layer conv1: a window of 11" \
  train --modality "img=$in/img_8x8.npy" --backbone img=cnn --epochs 1 --passes 1 --steps-per-pass 1 \
  --bits 16 --hidden 16,8 "${L[@]}" "${S[@]}" --out "$o/small"

# An input that reads within the 4 GiB cap (240 x 2,000,000 float32, a sparse 1.9 GB file) but
# whose training batches (128 rows of 8 MB, copied to be standardised) do not fit beside it: the
# sizes are named, not a bare "out of memory". (Under ASan the sanitizer's RSS limit would stop the
# process first.)
if [ "$sanitized" != 1 ]; then
  "$python" "$here/make_inputs.py" sparse-npy "$work/wide.npy" 240 2000000
  case_ alloc_input_copies error "out of memory( reading the inputs \(--modality .*wide.npy| in a host buffer \(the inputs alone take .*GiB|: a tensor of [0-9.]+ MiB could not be allocated .*--batch-size)" \
    train --modality "img=$work/wide.npy" --epochs 1 --passes 1 --steps-per-pass 1 --bits 16 --hidden 16,8 \
    "${L[@]}" "${S[@]}" --out "$o/wide"
  rm -f "$work/wide.npy"
fi

# Permissions: an output folder or file the user may not write, an input the user may not read.
# Root may do both, so as root these cases run as the unprivileged user nobody (setpriv); they are
# skipped where that user cannot reach the program and its inputs (e.g. a checkout under /root).
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if [ ${#as_user[@]} -gt 0 ] && ! { command -v setpriv >/dev/null &&
  "${as_user[@]}" test -x "$ssah" -a -r "$in/img.npy" -a -r "$in/run/model-K16.safetensors"; }; then
  echo "hostile: skipping the permission cases: the user nobody cannot run $ssah or read its inputs"
  as_user=(skip)
fi
if [ "${as_user[*]}" != skip ]; then
  mkdir -p "$work/perm/locked" && cp "$in/img.npy" "$work/perm/unreadable.npy" && chmod 000 "$work/perm/unreadable.npy"
  cp -r "$in/run" "$work/perm/run" && chmod 555 "$work/perm/locked" "$work/perm/run"
  ro=$work/perm/locked
  case_ perm_out_folder error "--out .*locked/run: cannot create the folder: Permission denied" \
    train "${T[@]}" "${L[@]}" "${S[@]}" --out "$ro/run"
  case_ perm_resume error "--resume .*perm/run: cannot create the lock file .*: Permission denied" \
    train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$work/perm/run"
  case_ perm_input error "cannot open '.*unreadable.npy': Permission denied" \
    train "${T0[@]}" --bits 16 --hidden 16,8 --modality "pic=$work/perm/unreadable.npy" "${L[@]}" "${S[@]}" --out "$o/p"
  case_ perm_encode_out error "cannot write '.*locked/c.npy': .*Permission denied" \
    encode --checkpoint "$in/run/model-K16.safetensors" --modality "img=$in/img_query.npy" --out "$ro/c.npy"
  case_ perm_search_out error "cannot write '.*locked/ids.npy': .*Permission denied" \
    search "${db[@]}" "${q4[@]}" -k 5 --out "$ro/ids.npy"
  [ -z "$(ls -A "$ro")" ] || fail_case perm_out_folder "the read-only folder holds $(ls -A "$ro" | tr '\n' ' ')"
  as_user=()
fi

# Round 7: a finished run resumed after one of its code files was deleted writes it again (the same
# bytes) instead of reporting the K as finished.
cp -r "$in/run" "$o/lost_codes" && rm "$o/lost_codes/codes/K16_txt_db.npy"
case_ resume_lost_codes ok "" train "${T[@]}" "${L[@]}" --split "$in/split" --resume "$o/lost_codes"
grep -q "is missing or empty: encoding again" "$work/resume_lost_codes.stdout" && cmp -s "$in/run/codes/K16_txt_db.npy" \
  "$o/lost_codes/codes/K16_txt_db.npy" || fail_case resume_lost_codes "the deleted codes file was not written again"
"$python" -c 'import json, sys; a, b = (json.load(open(f))["results"]["K16"] for f in sys.argv[1:]);
sys.exit(a["train_seconds"] != b["train_seconds"] or "resumed_from_epoch" in b)' "$in/run/report.json" \
  "$o/lost_codes/report.json" || fail_case resume_lost_codes "report.json lost the run's training time"
# Round 12: one truncated (100 bytes kept) and one replaced by an array of another shape: each written
# again, not kept (the K was reported finished and skipped).
cp -r "$in/run" "$o/damaged_codes"
truncate -s 100 "$o/damaged_codes/codes/K16_img_query.npy"
cp "$in/run/codes/K16_img_query.npy" "$o/damaged_codes/codes/K16_txt_db.npy"
case_ resume_damaged_codes ok "" train "${T[@]}" "${L[@]}" --split "$in/split" --resume "$o/damaged_codes"
for f in K16_img_query K16_txt_db; do
  cmp -s "$in/run/codes/$f.npy" "$o/damaged_codes/codes/$f.npy" ||
    fail_case resume_damaged_codes "the damaged $f.npy was kept: $(head -c 300 "$work/resume_damaged_codes.stdout")"
done
# A code length added to a run by a later --resume: report.json lists the run's lengths, not only
# the last command's.
cp -r "$in/run" "$o/more_bits"
case_ resume_more_bits ok "" train "${T0[@]}" --bits 32 --hidden 16,8 "${L[@]}" --split "$in/split" \
  --resume "$o/more_bits"
"$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(r["hyperparameters"]["bits"] != [16, 32])' \
  "$o/more_bits/report.json" || fail_case resume_more_bits "report.json's hyperparameters.bits is not [16, 32]"

# Round 9. gnuplot writes the SVG to its standard output, an exclusively created temporary file: a
# link or a FIFO planted where it once wrote ('K16_pr.svg.tmp-plot') neither redirects the plot onto
# another file nor blocks the run.
cp -r "$in/run" "$o/plot_traps"
echo "the user's file" >"$work/plot_victim.txt"
ln -s "$work/plot_victim.txt" "$o/plot_traps/K16_pr.svg.tmp-plot"
mkfifo "$o/plot_traps/K16_precision_at_n.svg.tmp-plot"
case_ plot_traps ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/plot_traps" --overwrite
[ "$(cat "$work/plot_victim.txt")" = "the user's file" ] || fail_case plot_traps "the plot was written through a link"
! command -v gnuplot >/dev/null || [ -s "$o/plot_traps/K16_pr.svg" ] || fail_case plot_traps "no K16_pr.svg"
# OMP_NUM_THREADS far beyond the processors (100,000 crashed inside libgomp): lowered, with a warning.
OMP_NUM_THREADS=100000 case_ omp_threads_env ok "warning: OMP_NUM_THREADS asks for 100000 threads; using [0-9]+" \
  search "${db[@]}" "${q4[@]}" -k 5 --out "$o/omp_ids.npy"
# Training rows that all share a class: warned about, and recorded in report.json.
case_ data_train_one_class ok "warning: every training item shares a label with every other training item" \
  train "${T[@]}" --labels "$in/labels_train_one_class.npy" "${S[@]}" --out "$o/one_class"
grep -q "every training item shares a label" "$o/one_class/report.json" ||
  fail_case data_train_one_class "report.json does not record the warning"
# A --resume interrupted in training leaves the run's report.json as it was (its total_seconds,
# its epochs); it was rewritten, without them, before training. SIGINT once training has begun
# (its progress lines, on stderr, say so).
# The run has 100 steps a pass, so that its 180 epochs take tens of seconds and the SIGINT lands in
# training however late a loaded machine delivers it (with 1 step a pass they took half a second,
# and a CI run saw training end first).
long_steps=(--modality "img=$in/img.npy" --modality "txt=$in/txt.npy" --passes 1 --steps-per-pass 100 --bits 16
  --hidden 16,8)
"$ssah" train "${long_steps[@]}" --epochs 1 "${L[@]}" "${S[@]}" --out "$o/resume_interrupted" >/dev/null 2>&1 ||
  fail_case resume_interrupted "the one-epoch run to resume failed"
"$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); r["total_seconds"] = 12.5; json.dump(r, open(sys.argv[1], "w"))' \
  "$o/resume_interrupted/report.json"
cp "$o/resume_interrupted/report.json" "$work/resume_interrupted_report.json"
timeout -k 10 "$limit" "$ssah" train "${long_steps[@]}" --epochs 180 "${L[@]}" "${S[@]}" --resume "$o/resume_interrupted" \
  >"$work/resume_interrupted.stdout" 2>"$work/resume_interrupted.stderr" </dev/null &
resume_pid=$!
for _ in $(seq 1 600); do
  grep -q "epoch [0-9]*/180" "$work/resume_interrupted.stderr" 2>/dev/null && break
  sleep 0.05
done
kill -INT "$resume_pid"
wait "$resume_pid"
resume_rc=$?
if [ "$resume_rc" -ne 130 ] || ! grep -q "interrupted: K16 has" "$work/resume_interrupted.stderr"; then
  fail_case resume_interrupted "exit $resume_rc, not interrupted in training: $(tail -c 200 "$work/resume_interrupted.stderr")"
elif ! cmp -s "$work/resume_interrupted_report.json" "$o/resume_interrupted/report.json"; then
  fail_case resume_interrupted "the interrupted resume rewrote report.json"
else
  passed=$((passed + 1))
  echo "ok   resume_interrupted"
fi
# More epochs than the recipe's learning-rate tables hold: refused before training (it failed at
# epoch 194, naming an internal class).
case_ epochs_past_lr_table error "--epochs 1000: the recipe's learning-rate tables .* cover at most [0-9]+ epochs" \
  train --modality "img=$in/img.npy" --epochs 1000 --bits 16 --hidden 16,8 "${L[@]}" "${S[@]}" --out "$o/long"
# A misspelt command is named, with the nearest one.
case_ usage_misspelt_command error "unknown command 'trian' \(did you mean 'train'\?\); the commands are" trian --out "$o/x"

# Round 10. An output name that leads into /proc (/dev/stdout -> /proc/self/fd/1; here a link of
# the suite's own, so that a regression cannot replace the system's /dev/stdout): refused, the
# link left as it is. An output folder that takes no file (/proc/self/) is found before the work.
ln -sfn /proc/self/fd/1 "$work/my_stdout"
case_ out_fd_link error "--out: cannot write '.*my_stdout': it leads to '/proc/self/fd/1', in /proc" \
  encode --checkpoint "$in/run/model-K16.safetensors" --modality "img=$in/img_query.npy" --out "$work/my_stdout"
[ -L "$work/my_stdout" ] || fail_case out_fd_link "the link was replaced by a file"
case_ out_proc_folder error "--json: cannot write '/proc/self/x.json'.* in /proc" \
  eval "${q4[@]}" "${db[@]}" --query-labels "$in/ones_24.npy" --db-labels "$in/ones_216.npy" --json /proc/self/x.json
! grep -q "mAP" "$work/out_proc_folder.stdout" || fail_case out_proc_folder "the evaluation ran before the refusal"
# A malformed SSAH_HAMMING_ISA is refused before training, not after it.
SSAH_HAMMING_ISA=bogus case_ env_isa_train error "SSAH_HAMMING_ISA='bogus': expected portable, avx2 or avx512" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/isa"
[ ! -e "$o/isa" ] || fail_case env_isa_train "the refused run created its folder"
# An OpenMP stack size whose stacks exceed the machine's memory: ssah's error, not libgomp's.
OMP_STACKSIZE=100000G case_ env_omp_stacksize error "OMP_STACKSIZE=100000G: .* OpenMP threads with .* of stack each" \
  search "${db[@]}" "${q4[@]}" -k 5 --out "$o/stack_ids.npy"
# --overwrite removes the earlier run's files by the names its report gives them, not every name of
# that form (a user's notes, a K the run never had), and refuses a report.json ssah did not write.
cp -r "$in/run" "$o/ow_notes"
echo mine >"$o/ow_notes/curves/K16_notes.csv" && echo mine >"$o/ow_notes/model-K32.safetensors"
case_ out_overwrite_by_name ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/ow_notes" --overwrite
[ -f "$o/ow_notes/curves/K16_notes.csv" ] && [ -f "$o/ow_notes/model-K32.safetensors" ] ||
  fail_case out_overwrite_by_name "--overwrite removed a file the earlier run did not write"
mkdir -p "$o/ow_empty_report" && echo '{}' >"$o/ow_empty_report/report.json"
case_ out_overwrite_foreign_report error "--overwrite .*ow_empty_report: its report.json is not one of ssah train" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/ow_empty_report" --overwrite
[ "$(cat "$o/ow_empty_report/report.json")" = "{}" ] || fail_case out_overwrite_foreign_report "report.json replaced"
# Round 11. A report edited to list fewer code lengths than it has results for: --overwrite still
# removes the files of every K the run had. Standard output closed: refused, nothing written (the
# summary went into the run's lock file, which took descriptor 1).
cp -r "$in/run" "$o/ow_fewer_bits"
"$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); r["hyperparameters"]["bits"] = [32]; json.dump(r, open(sys.argv[1], "w"))' \
  "$o/ow_fewer_bits/report.json"
case_ out_overwrite_results_bits ok "" train "${T0[@]}" --bits 32 --hidden 16,8 "${L[@]}" "${S[@]}" --out "$o/ow_fewer_bits" --overwrite
[ ! -e "$o/ow_fewer_bits/model-K16.safetensors" ] && [ ! -e "$o/ow_fewer_bits/codes/K16_img_db.npy" ] ||
  fail_case out_overwrite_results_bits "the K16 files of the replaced run were left beside the new run"
"$ssah" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/closed_stdout" >&- 2>"$work/closed_stdout.stderr"
closed_rc=$?
if [ "$closed_rc" -eq 1 ] && [ ! -e "$o/closed_stdout" ] && grep -q "^ssah train: error: standard output or standard error is closed" "$work/closed_stdout.stderr"; then
  passed=$((passed + 1))
  echo "ok   closed_stdout"
else
  fail_case closed_stdout "exit $closed_rc: $(head -c 200 "$work/closed_stdout.stderr")"
fi
# Round 12. A relative PATH entry ('.') must not make ssah run a 'gnuplot' planted in the run folder's
# curves/ (gnuplot is looked up in PATH's absolute folders, before the change of folder); a link
# planted at the lock file's name is refused (it made ssah create its target anywhere); an
# OpenMP stack too small for a thread is ssah's error, not libgomp's.
cp -r "$in/run" "$o/planted_gnuplot" && rm -f "$o/planted_gnuplot/.ssah-lock"
printf '#!/bin/sh\necho planted >"%s"\n' "$work/planted_ran" >"$o/planted_gnuplot/curves/gnuplot"
chmod +x "$o/planted_gnuplot/curves/gnuplot"
PATH=".:$PATH" case_ planted_gnuplot ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/planted_gnuplot" --overwrite
[ ! -e "$work/planted_ran" ] || fail_case planted_gnuplot "the gnuplot planted in the run folder was run"
mkdir -p "$o/lock_link" && ln -s "$work/lock_target" "$o/lock_link/.ssah-lock"
case_ lock_link error "--out .*lock_link: the lock file .* is a symbolic link" \
  train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/lock_link"
[ ! -e "$work/lock_target" ] || fail_case lock_link "the lock link's target was created"
OMP_STACKSIZE=32K case_ env_omp_stack_small error "OMP_STACKSIZE=32K: too small for a thread's stack" \
  search "${db[@]}" "${q4[@]}" -k 5 --out "$o/small_stack_ids.npy"
# What a fresh run killed by a signal before writing anything leaves (its lock, empty sub-folders)
# does not block the same command.
mkdir -p "$o/killed_early/codes" "$o/killed_early/curves" && : >"$o/killed_early/.ssah-lock"
case_ out_killed_early_rerun ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/killed_early"
# Standard output appended to one of the command's inputs (the results appended to the query file
# damaged it) or to a file of the run it resumes: refused before anything is printed. Round 13:
# standard error too, its message then sent to standard output so that the input is left whole; a
# log of the user's own in the run folder is not an input (it was refused once standard output
# into the run's files was).
cp "$in/run/codes/K16_img_query.npy" "$work/stream_input.orig"
for stream in stdout stderr; do
  cp "$work/stream_input.orig" "$work/${stream}_input.npy"
  if [ "$stream" = stdout ]; then
    "$ssah" search "${db[@]}" --query-codes "$work/stdout_input.npy" -k 3 >>"$work/stdout_input.npy" 2>"$work/stdout_input.msg"
  else
    "$ssah" search "${db[@]}" --query-codes "$work/stderr_input.npy" -k 3 2>>"$work/stderr_input.npy" >"$work/stderr_input.msg"
  fi
  stream_rc=$?
  name=$([ "$stream" = stdout ] && echo "standard output" || echo "standard error")
  if [ "$stream_rc" -eq 1 ] && cmp -s "$work/${stream}_input.npy" "$work/stream_input.orig" &&
    grep -q "$name is written to this file" "$work/${stream}_input.msg"; then
    passed=$((passed + 1))
    echo "ok   ${stream}_is_input"
  else
    fail_case "${stream}_is_input" "exit $stream_rc, or the input changed: $(head -c 200 "$work/${stream}_input.msg")"
  fi
done
cp -r "$in/run" "$o/log_inside" && rm -f "$o/log_inside/.ssah-lock"
if "$ssah" train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$o/log_inside" >>"$o/log_inside/train.log" 2>&1; then
  passed=$((passed + 1))
  echo "ok   log_in_run_folder"
else
  fail_case log_in_run_folder "$(tail -c 200 "$o/log_inside/train.log")"
fi
# --overwrite of a folder that does not exist yet, or is empty: a fresh run (it was refused, naming
# a report.json that was not there and --resume, which was not given).
case_ out_overwrite_new ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/overwrite_new" --overwrite
mkdir -p "$o/overwrite_empty"
case_ out_overwrite_empty ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --out "$o/overwrite_empty" --overwrite
# A finished K resumed after its curves were deleted and a codes file zeroed: both written again
# (the K was skipped, the curves never came back, codes of zeros were kept).
cp -r "$in/run" "$o/lost_curves" && rm -f "$o/lost_curves/.ssah-lock" && rm -r "$o/lost_curves/curves"
"$python" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); n = len(b) - 24 * 16; b[n:] = bytes(24 * 16); open(sys.argv[1], "wb").write(b)' \
  "$o/lost_curves/codes/K16_img_query.npy"
case_ resume_lost_curves ok "" train "${T[@]}" "${L[@]}" "${S[@]}" --resume "$o/lost_curves"
cmp -s "$in/run/codes/K16_img_query.npy" "$o/lost_curves/codes/K16_img_query.npy" &&
  [ -s "$o/lost_curves/curves/K16_img_to_txt_pr.csv" ] ||
  fail_case resume_lost_curves "the zeroed codes or the deleted curves were not written again"
# A signal while a fresh run sets up its folder (the split, report.json): the same command runs again.
# (Whether it lands before or after the folder is claimed, nothing must be left that blocks it.)
for sig in INT USR1 PIPE; do
  "$ssah" train --modality "img=$in/img.npy" --modality "txt=$in/txt.npy" --passes 1 --steps-per-pass 2000 \
    --bits 16 --hidden 16,8 "${L[@]}" --out "$o/setup_$sig" >/dev/null 2>&1 &
  setup_pid=$!
  sleep 0.1
  kill -"$sig" "$setup_pid" 2>/dev/null
  wait "$setup_pid"
done
for sig in INT USR1 PIPE; do
  case_ "setup_signal_$sig" ok "" train "${T[@]}" "${L[@]}" --out "$o/setup_$sig"
done
# A checkpoint copied from a run on other data (here: another split) into a run folder is refused by
# --resume (it was continued, and report.json kept the folder's checksums).
"$ssah" train "${T[@]}" "${L[@]}" --out "$o/other_data_run" >/dev/null 2>&1
cp -r "$in/run" "$o/foreign_checkpoint" && rm -f "$o/foreign_checkpoint/.ssah-lock"
cp "$o/other_data_run/model-K16.safetensors" "$o/foreign_checkpoint/"
case_ resume_foreign_checkpoint error "model-K16.safetensors' was trained on other data than these inputs" \
  train --modality "img=$in/img.npy" --modality "txt=$in/txt.npy" --passes 1 --steps-per-pass 1 --bits 16 \
  --hidden 16,8 --epochs 2 "${L[@]}" "${S[@]}" --resume "$o/foreign_checkpoint"
# Option values that are options, and misspelt single-dash options, named.
case_ opt_value_is_option error "--out: a value is required, but the option '--overwrite' follows" \
  train "${T[@]}" "${L[@]}" --out --overwrite
case_ opt_single_dash error "ssah train has no option '-epochs' \(did you mean '--epochs'\?\)" \
  train "${T0[@]}" "${L[@]}" -epochs 2 --out "$o/e"
case_ opt_top_level error "ssah has no option '--versio' \(did you mean '--version'\?\)" --versio
# --version and --help to a full standard output: the loss is an error.
"$ssah" --version >/dev/full 2>"$work/version_full.stderr"
version_rc=$?
if [ "$version_rc" -eq 1 ] && grep -q "^ssah: error: writing to standard output failed" "$work/version_full.stderr"; then
  passed=$((passed + 1))
  echo "ok   version_full"
else
  fail_case version_full "exit $version_rc: $(head -c 200 "$work/version_full.stderr")"
fi

echo "hostile: $passed passed, $failed failed"
for f in "${failures[@]}"; do echo "  $f"; done
[ "$failed" -eq 0 ]
