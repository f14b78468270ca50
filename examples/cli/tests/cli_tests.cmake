# Tests of the `ssah` program: good runs on the reference fixtures and bad inputs, each checked for
# its exit status and output (check_cli.cmake). Inputs: tests/reference/fixtures/retrieval/.
set(fx "${PROJECT_SOURCE_DIR}/tests/reference/fixtures/retrieval")
set(bad "${fx}/bad")
set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/cli_test_output")
file(MAKE_DIRECTORY "${out_dir}")

# ssah_cli_test(name EXPECT ok|fail ARGS a b ... [STDOUT regex] [STDERR regex])
function(ssah_cli_test name)
  cmake_parse_arguments(arg "" "EXPECT;STDOUT;STDERR" "ARGS" ${ARGN})
  string(REPLACE ";" "|" joined "${arg_ARGS}")
  set(defs -DPROGRAM=$<TARGET_FILE:ssah_cli> "-DARGS=${joined}" -DEXPECT=${arg_EXPECT})
  if(DEFINED arg_STDOUT)
    list(APPEND defs "-DSTDOUT=${arg_STDOUT}")
  endif()
  if(DEFINED arg_STDERR)
    list(APPEND defs "-DSTDERR=${arg_STDERR}")
  endif()
  add_test(NAME ssah_cli.${name} COMMAND ${CMAKE_COMMAND} ${defs} -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/check_cli.cmake")
  set_tests_properties(ssah_cli.${name} PROPERTIES LABELS cli)
endfunction()

# ssah_cli_clean(fixture dir...): removes the run folders of earlier ctest runs before the tests
# that need `fixture` (ssah train refuses an --out folder that holds a run).
function(ssah_cli_clean fixture)
  add_test(NAME ssah_cli.clean_${fixture} COMMAND ${CMAKE_COMMAND} -E rm -rf ${ARGN})
  set_tests_properties(ssah_cli.clean_${fixture} PROPERTIES FIXTURES_SETUP ${fixture} LABELS cli)
endfunction()

function(eval_args out q d ql dl)
  set(${out} eval --query-codes ${q} --db-codes ${d} --query-labels ${ql} --db-labels ${dl} PARENT_SCOPE)
endfunction()

# --- good runs
eval_args(toy ${fx}/toy_k4/query_codes.npy ${fx}/toy_k4/db_codes.npy ${fx}/toy_k4/query_labels.npy
          ${fx}/toy_k4/db_labels.npy)
ssah_cli_test(eval_toy EXPECT ok ARGS ${toy}
  STDOUT "4 queries, 6 database items, 4 bits, 4 classes.*mAP [(]ties by database index, as calc_map[)]: +0[.]704167")
eval_args(k64 ${fx}/k64_c130_packed/query_codes.npy ${fx}/k64_c130_packed/db_codes.npy
          ${fx}/k64_c130_packed/query_labels.npy ${fx}/k64_c130_packed/db_labels.npy)
ssah_cli_test(eval_packed_json EXPECT ok ARGS ${k64} --top 50 --threads 2 --json ${out_dir}/k64.json
  STDOUT "64 bits, 130 classes.*calc_map[)]: +0[.]102430.*mAP@50: +0[.]17555.*written to")
ssah_cli_test(eval_precision_at EXPECT ok ARGS ${toy} --precision-at 1,3 --top 2 --json ${out_dir}/toy.json
  STDOUT "mAP@2: +0[.][0-9]+.*written to")
ssah_cli_test(search_toy EXPECT ok
  ARGS search --db-codes ${fx}/toy_k4/db_codes.npy --query-codes ${fx}/toy_k4/query_codes.npy -k 3
  STDOUT "query 0: 0:1 1:2 2:2\nquery 1:")
ssah_cli_test(search_out EXPECT ok
  ARGS search --db-codes ${fx}/k16_ties/db_codes.npy --query-codes ${fx}/k16_ties/query_codes.npy -k 700
       --out ${out_dir}/ids.npy --distances ${out_dir}/dist.npy
  STDERR "40 queries, 600 database codes, 16 bits, k = 700")
ssah_cli_test(search_device EXPECT ok
  ARGS search --db-codes ${fx}/toy_k4/db_codes.npy --query-codes ${fx}/toy_k4/query_codes.npy -k 8 --device
  STDOUT "query 0: 0:1 1:2 2:2 5:2 3:3 4:4\n")
ssah_cli_test(version EXPECT ok ARGS --version
  STDOUT "ssah [0-9]+[.][0-9]+[.][0-9]+ [(]device system: [a-z]+, gemm: [^,]+, Hamming kernel: [a-z0-9() ]+[)]")
# An output never replaces an input (or another output): refused before any work. The targets are
# copies of the fixtures, compared with them afterwards, so that a regression cannot harm the originals.
file(COPY ${fx}/toy_k4/db_codes.npy ${fx}/toy_k4/query_labels.npy DESTINATION ${out_dir}/inputs)
ssah_cli_test(search_out_is_input EXPECT fail
  ARGS search --db-codes ${out_dir}/inputs/db_codes.npy --query-codes ${fx}/toy_k4/query_codes.npy -k 3
       --out ${out_dir}/inputs/../inputs/db_codes.npy
  STDERR "^ssah search: error: --out '.*db_codes[.]npy' is the file of --db-codes; writing it would replace that file: choose another path\n$")
ssah_cli_test(search_distances_is_out EXPECT fail
  ARGS search --db-codes ${fx}/toy_k4/db_codes.npy --query-codes ${fx}/toy_k4/query_codes.npy -k 3
       --out ${out_dir}/same.npy --distances ${out_dir}/same.npy
  STDERR "^ssah search: error: --distances '.*same[.]npy' is the file of --out")
ssah_cli_test(eval_json_is_input EXPECT fail
  ARGS eval --query-codes ${fx}/toy_k4/query_codes.npy --db-codes ${fx}/toy_k4/db_codes.npy
       --query-labels ${out_dir}/inputs/query_labels.npy --db-labels ${fx}/toy_k4/db_labels.npy
       --json ${out_dir}/inputs/query_labels.npy
  STDERR "^ssah eval: error: --json '.*query_labels[.]npy' is the file of --query-labels")
foreach(f db_codes query_labels)
  add_test(NAME ssah_cli.outputs_left_inputs_unchanged_${f}
           COMMAND ${CMAKE_COMMAND} -E compare_files ${out_dir}/inputs/${f}.npy ${fx}/toy_k4/${f}.npy)
  set_tests_properties(ssah_cli.outputs_left_inputs_unchanged_${f} PROPERTIES LABELS cli
                       DEPENDS "ssah_cli.search_out_is_input;ssah_cli.eval_json_is_input")
endforeach()

# The Hamming kernel: chosen at run time, capped by SSAH_HAMMING_ISA, reported by search and eval.
ssah_cli_test(search_kernel_portable EXPECT ok
  ARGS search --db-codes ${fx}/toy_k4/db_codes.npy --query-codes ${fx}/toy_k4/query_codes.npy -k 3
  STDOUT "query 0: 0:1 1:2 2:2\nquery 1:" STDERR "[(]host, Hamming kernel portable( [(]popcnt[)])?[)]")
set_tests_properties(ssah_cli.search_kernel_portable PROPERTIES ENVIRONMENT SSAH_HAMMING_ISA=portable)
ssah_cli_test(eval_kernel_reported EXPECT ok ARGS ${toy} STDOUT "Hamming kernel (avx512|avx2|portable)")
ssah_cli_test(search_kernel_bad EXPECT fail
  ARGS search --db-codes ${fx}/toy_k4/db_codes.npy --query-codes ${fx}/toy_k4/query_codes.npy -k 3
  STDERR "^ssah search: error: SSAH_HAMMING_ISA='sse9': expected portable, avx2 or avx512\n$")
set_tests_properties(ssah_cli.search_kernel_bad PROPERTIES ENVIRONMENT SSAH_HAMMING_ISA=sse9)

# --- bad inputs: one line on stderr naming the file and the problem, non-zero exit
eval_args(not_npy ${bad}/not_npy.npy ${fx}/toy_k4/db_codes.npy ${fx}/toy_k4/query_labels.npy ${fx}/toy_k4/db_labels.npy)
ssah_cli_test(eval_not_npy EXPECT fail ARGS ${not_npy} STDERR "^ssah eval: error: .*not_npy[.]npy'?: not a [.]npy file")
eval_args(trunc ${fx}/k16_ties/query_codes.npy ${bad}/truncated.npy ${fx}/k16_ties/query_labels.npy
          ${fx}/k16_ties/db_labels.npy)
ssah_cli_test(eval_truncated EXPECT fail ARGS ${trunc} STDERR "^ssah eval: error: .*truncated[.]npy'?: truncated data")
eval_args(i64 ${bad}/codes_int64.npy ${fx}/k16_ties/db_codes.npy ${fx}/k16_ties/query_labels.npy
          ${fx}/k16_ties/db_labels.npy)
ssah_cli_test(eval_dtype EXPECT fail ARGS ${i64} STDERR "codes_int64[.]npy': unsupported dtype int64 for codes")
eval_args(d3 ${bad}/codes_3d.npy ${fx}/k16_ties/db_codes.npy ${fx}/k16_ties/query_labels.npy ${fx}/k16_ties/db_labels.npy)
ssah_cli_test(eval_shape EXPECT fail ARGS ${d3} STDERR "codes_3d[.]npy': codes must be a 2-D array [[]n, K[]], got shape")
ssah_cli_test(search_nan EXPECT fail
  ARGS search --db-codes ${fx}/k16_ties/db_codes.npy --query-codes ${bad}/codes_nan.npy
  STDERR "^ssah search: error: .*codes_nan[.]npy.*non-finite value nan at row 2, column 5")
eval_args(bits ${bad}/codes_k8.npy ${fx}/k16_ties/db_codes.npy ${fx}/k16_ties/query_labels.npy ${fx}/k16_ties/db_labels.npy)
ssah_cli_test(eval_bits EXPECT fail ARGS ${bits} STDERR "codes_k8[.]npy' have 8 bits but database codes .* have 16")
eval_args(rows ${fx}/k16_ties/query_codes.npy ${fx}/k16_ties/db_codes.npy ${bad}/labels_39_rows.npy
          ${fx}/k16_ties/db_labels.npy)
ssah_cli_test(eval_rows EXPECT fail ARGS ${rows} STDERR "have 40 rows but query labels .*labels_39_rows[.]npy' have 39")
eval_args(classes ${fx}/k16_ties/query_codes.npy ${fx}/k16_ties/db_codes.npy ${bad}/labels_21_classes.npy
          ${fx}/k16_ties/db_labels.npy)
ssah_cli_test(eval_classes EXPECT fail ARGS ${classes} STDERR "labels_21_classes[.]npy' have 21 classes but database labels .* have 24")
eval_args(missing ${fx}/k16_ties/query_codes.npy ${out_dir}/no_such_file.npy ${fx}/k16_ties/query_labels.npy
          ${fx}/k16_ties/db_labels.npy)
ssah_cli_test(eval_missing_file EXPECT fail ARGS ${missing} STDERR "^ssah eval: error: .*no_such_file[.]npy")
ssah_cli_test(search_bits EXPECT fail
  ARGS search --db-codes ${fx}/k16_ties/db_codes.npy --query-codes ${bad}/codes_k8.npy -k 5
  STDERR "^ssah search: error: query codes .* have 8 bits but database codes .* have 16")
ssah_cli_test(search_not_npy EXPECT fail
  ARGS search --db-codes ${bad}/not_npy.npy --query-codes ${fx}/k16_ties/query_codes.npy
  STDERR "^ssah search: error: .*not a [.]npy file")
ssah_cli_test(search_k0 EXPECT fail
  ARGS search --db-codes ${fx}/k16_ties/db_codes.npy --query-codes ${fx}/k16_ties/query_codes.npy -k 0
  STDERR "^ssah: usage error: -k: must be a whole number from 1 to 2147483647, got .0.")
ssah_cli_test(eval_missing_option EXPECT fail ARGS eval --query-codes ${fx}/toy_k4/query_codes.npy
  STDERR "^ssah: usage error: .*--db-codes")
