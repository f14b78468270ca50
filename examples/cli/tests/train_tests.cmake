# Tests of `ssah train` and `ssah encode` on a tiny generated data set (make_train_data.cpp):
# one good end-to-end run (seconds: --bits 16 --epochs 1 --hidden 32 --passes 1), encode of the
# query rows compared byte for byte with the codes train wrote, and every bad-input case.
ssah_add_program(ssah_cli_make_train_data SOURCES tests/make_train_data.cpp)
set(td "${CMAKE_CURRENT_BINARY_DIR}/train_test_data")
set(tout "${CMAKE_CURRENT_BINARY_DIR}/train_test_output")
add_test(NAME ssah_cli.train_data COMMAND ssah_cli_make_train_data "${td}")
set_tests_properties(ssah_cli.train_data PROPERTIES FIXTURES_SETUP ssah_train_data LABELS cli)
ssah_cli_clean(ssah_train_data "${tout}/run" "${tout}/seeded" "${tout}/bad"
               "${CMAKE_CURRENT_BINARY_DIR}/resume_test_output")

set(small --bits 16 --epochs 1 --hidden 32 --passes 1 --batch-size 64)
set(good_inputs --modality img=${td}/img.npy --modality txt=${td}/txt.npy --labels ${td}/labels.npy)

# ssah_train_test(name EXPECT ok|fail ARGS ... [STDOUT re] [STDERR re]): needs the generated data.
function(ssah_train_test name)
  ssah_cli_test(${name} ${ARGN})
  set_tests_properties(ssah_cli.${name} PROPERTIES FIXTURES_REQUIRED ssah_train_data)
endfunction()

# --- good runs
ssah_train_test(train_good EXPECT ok
  ARGS train ${good_inputs} --split ${td}/split ${small} --out ${tout}/run
  STDOUT "240 items, 6 labels, 2 modalities; split 24 queries, 216 database, 216 training.*recipe recommended: xavier init, 1 epoch[(]s[)], widths 32, learning rates from 10\\^-3 [(]label[)].*img: .*standardised.*txt: .*not standardised.*K = 16 .*img->txt [0-9.]+ .*label->txt [0-9.]+")
set_tests_properties(ssah_cli.train_good PROPERTIES FIXTURES_SETUP ssah_train_run)
add_test(NAME ssah_cli.train_outputs COMMAND ${CMAKE_COMMAND} -DOUT=${tout}/run
  -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/check_train_outputs.cmake")
set_tests_properties(ssah_cli.train_outputs PROPERTIES FIXTURES_REQUIRED ssah_train_run LABELS cli)
foreach(m img txt)
  ssah_train_test(encode_${m} EXPECT ok
    ARGS encode --checkpoint ${tout}/run/model-K16.safetensors --modality ${m}=${td}/${m}_query.npy
         --out ${tout}/encoded_${m}.npy
    STDOUT "24 codes of 16 bits written")
  set_tests_properties(ssah_cli.encode_${m} PROPERTIES FIXTURES_REQUIRED "ssah_train_data;ssah_train_run"
                       FIXTURES_SETUP ssah_encode_${m})
  add_test(NAME ssah_cli.encode_${m}_matches_train
           COMMAND ${CMAKE_COMMAND} -E compare_files ${tout}/encoded_${m}.npy ${tout}/run/codes/K16_${m}_query.npy)
  set_tests_properties(ssah_cli.encode_${m}_matches_train PROPERTIES FIXTURES_REQUIRED ssah_encode_${m} LABELS cli)
endforeach()
ssah_train_test(train_seeded_split EXPECT ok
  ARGS train --modality img=${td}/img.npy --labels ${td}/labels.npy ${small} --steps-per-pass 2 --no-standardize
       --out ${tout}/seeded
  STDOUT "split 24 queries, 216 database, 216 training [(]seeded, saved to split/[)].*img: .*not standardised.*K = 16 .*img->img")

# --- bad inputs: one line on stderr, non-zero exit, nothing trained
ssah_train_test(train_missing_file EXPECT fail
  ARGS train --modality img=${td}/no_such.npy --labels ${td}/labels.npy --out ${tout}/bad
  STDERR "^ssah train: error: .*no_such[.]npy")
ssah_train_test(train_not_npy EXPECT fail
  ARGS train --modality img=${td}/not_npy.npy --labels ${td}/labels.npy --out ${tout}/bad
  STDERR "^ssah train: error: .*not_npy[.]npy'?: not a [.]npy file")
ssah_train_test(train_dtype EXPECT fail
  ARGS train --modality img=${td}/img_f16.npy --labels ${td}/labels.npy --out ${tout}/bad
  STDERR "^ssah train: error: .*img_f16[.]npy.*unsupported dtype")
ssah_train_test(train_rows EXPECT fail
  ARGS train --modality img=${td}/img_rows.npy --labels ${td}/labels.npy --out ${tout}/bad
  STDERR "^ssah train: error: .*img_rows[.]npy' has 239 rows but the labels .* have 240")
ssah_train_test(train_nan EXPECT fail
  ARGS train --modality img=${td}/img_nan.npy --labels ${td}/labels.npy --out ${tout}/bad
  STDERR "^ssah train: error: .*img_nan[.]npy.*non-finite value nan at row 3, column 2")
ssah_train_test(train_labels_not_01 EXPECT fail
  ARGS train --modality img=${td}/img.npy --labels ${td}/labels_2.npy --out ${tout}/bad
  STDERR "^ssah train: error: .*labels_2[.]npy': labels must be 0 or 1, found 2 at row 5, column 1")
ssah_train_test(train_empty_split EXPECT fail
  ARGS train ${good_inputs} --split ${td}/split_empty --out ${tout}/bad
  STDERR "^ssah train: error: .*split_empty/query_idx[.]npy': the split is empty")
ssah_train_test(train_split_range EXPECT fail
  ARGS train ${good_inputs} --split ${td}/split_range --out ${tout}/bad
  STDERR "^ssah train: error: .*split_range/db_idx[.]npy': index 240 is out of range for 240 items")
ssah_train_test(train_split_missing EXPECT fail
  ARGS train ${good_inputs} --split ${td} --out ${tout}/bad
  STDERR "^ssah train: error: .*train_test_data/query_idx[.]npy")
ssah_train_test(train_split_dtype EXPECT fail
  ARGS train ${good_inputs} --split ${td}/split_float --out ${tout}/bad
  STDERR "^ssah train: error: .*split_float/query_idx[.]npy': split indices must be int32 or int64, got float32")
ssah_train_test(train_split_dtype_unread EXPECT fail
  ARGS train ${good_inputs} --split ${td}/split_u64 --out ${tout}/bad
  STDERR "^ssah train: error: .*split_u64/query_idx[.]npy': split indices must be int32 or int64, got uint64")
ssah_train_test(train_modality_syntax EXPECT fail
  ARGS train --modality ${td}/img.npy --labels ${td}/labels.npy --out ${tout}/bad
  STDERR "^ssah train: error: --modality expects NAME=VALUE")
ssah_train_test(train_bad_backbone EXPECT fail
  ARGS train ${good_inputs} --backbone img=resnet --out ${tout}/bad
  STDERR "^ssah train: error: --backbone img=resnet: the backbone must be feature, text or cnn")
ssah_train_test(train_bad_name EXPECT fail
  ARGS train --modality x/../../y=${td}/img.npy --labels ${td}/labels.npy --out ${tout}/bad
  STDERR "^ssah train: error: --modality: the modality name 'x/[.][.]/[.][.]/y' becomes part of direction and file names: use 1 to 64 letters, digits, '_' or '-'\n$")
ssah_train_test(encode_out_is_checkpoint EXPECT fail
  ARGS encode --checkpoint ${tout}/run/model-K16.safetensors --modality img=${td}/img_query.npy
       --out ${tout}/run/model-K16.safetensors
  STDERR "^ssah encode: error: --out '.*model-K16[.]safetensors' is the file of --checkpoint")
set_tests_properties(ssah_cli.encode_out_is_checkpoint PROPERTIES FIXTURES_REQUIRED "ssah_train_data;ssah_train_run")
ssah_train_test(train_bad_recipe EXPECT fail
  ARGS train ${good_inputs} --recipe tuned --out ${tout}/bad
  STDERR "--recipe: tuned not in {recommended,faithful,authors}")
ssah_train_test(encode_bad_checkpoint EXPECT fail
  ARGS encode --checkpoint ${td}/img.npy --modality img=${td}/img_query.npy --out ${tout}/x.npy
  STDERR "^ssah encode: error: .*img[.]npy")
ssah_train_test(encode_unknown_modality EXPECT fail
  ARGS encode --checkpoint ${tout}/run/model-K16.safetensors --modality snd=${td}/img_query.npy --out ${tout}/x.npy
  STDERR "^ssah encode: error: checkpoint .* has no modality 'snd' [(]it has 'img', 'txt'[)]")
set_tests_properties(ssah_cli.encode_unknown_modality PROPERTIES FIXTURES_REQUIRED "ssah_train_data;ssah_train_run")
ssah_train_test(encode_wrong_width EXPECT fail
  ARGS encode --checkpoint ${tout}/run/model-K16.safetensors --modality img=${td}/txt_query.npy --out ${tout}/x.npy
  STDERR "^ssah encode: error: .*txt_query[.]npy': items of shape [[]64[]] where the checkpoint's 'img' expects [[]32[]]")
set_tests_properties(ssah_cli.encode_wrong_width PROPERTIES FIXTURES_REQUIRED "ssah_train_data;ssah_train_run")

# The hostile-input suite (tests/hostile/run.sh): every class of issue 16's careless and hostile
# inputs, each case under a time limit and `ulimit -v`, inputs checksummed before and after. Needs
# bash, timeout and a Python 3 interpreter (PYTHON, or python3 on PATH) to write crafted files.
find_program(SSAH_BASH bash)
if(SSAH_BASH)
  add_test(NAME ssah_cli.hostile
           COMMAND ${SSAH_BASH} "${PROJECT_SOURCE_DIR}/tests/hostile/run.sh" $<TARGET_FILE:ssah_cli>
                   $<TARGET_FILE:ssah_cli_make_train_data> "${CMAKE_CURRENT_BINARY_DIR}/hostile")
  set_tests_properties(ssah_cli.hostile PROPERTIES LABELS cli TIMEOUT 900)
endif()
