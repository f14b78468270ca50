# Tests of `ssah train --mat` (mat_input.cpp): .mat files written with matio by mat_test_data.cpp
# (DCMH MIRFLICKR layout in v7.3 and v5, the NUS-WIDE/MS-COCO names, custom keys), a check of where
# every value lands for each orientation rule, short training runs, every bad-input case, and the
# real Wikipedia raw_features.mat (MATLAB v5) when the data sets are present (skipped otherwise).
if(NOT TARGET ssah::matio)
  ssah_cli_test(train_mat_unsupported EXPECT fail
    ARGS train --mat nothing.mat --mat-layout dcmh-flickr --out ${CMAKE_CURRENT_BINARY_DIR}/mat_unsupported
    STDERR "^ssah train: error: --mat 'nothing[.]mat': this ssah was built without MATLAB [.]mat support")
  return()
endif()

ssah_add_program(ssah_cli_mat_test_data SOURCES tests/mat_test_data.cpp LIBRARIES ssah_cli_mat ssah::matio)
set(md "${CMAKE_CURRENT_BINARY_DIR}/mat_test_data")
set(mout "${CMAKE_CURRENT_BINARY_DIR}/mat_test_output")
add_test(NAME ssah_cli.mat_data COMMAND ssah_cli_mat_test_data write "${md}")
set_tests_properties(ssah_cli.mat_data PROPERTIES FIXTURES_SETUP ssah_mat_data LABELS cli)
ssah_cli_clean(ssah_mat_data "${mout}")
add_test(NAME ssah_cli.mat_input_values COMMAND ssah_cli_mat_test_data check "${md}")
set_tests_properties(ssah_cli.mat_input_values PROPERTIES FIXTURES_REQUIRED ssah_mat_data LABELS cli)

add_test(NAME ssah_cli.mat_wikipedia_values COMMAND ssah_cli_mat_test_data wiki "${SSAH_DATA_DIR}")
set_tests_properties(ssah_cli.mat_wikipedia_values PROPERTIES LABELS cli SKIP_REGULAR_EXPRESSION "SKIPPED")

set(msmall --bits 16 --epochs 1 --hidden 8 --passes 1 --batch-size 32)

# ssah_mat_test(name EXPECT ok|fail ARGS ... [STDOUT re] [STDERR re]): needs the generated files.
function(ssah_mat_test name)
  ssah_cli_test(${name} ${ARGN})
  set_tests_properties(ssah_cli.${name} PROPERTIES FIXTURES_REQUIRED ssah_mat_data)
endfunction()

# --- good runs, each followed by a check of its report.json
foreach(run dcmh_v73 dcmh_v5 nus_v5)
  if(run STREQUAL "nus_v5")
    set(layout nus-wide)
    set(how "image = IAll, N x H x W x C, made [[]N, C, H, W[]]")
  else()
    set(layout dcmh-flickr)
    set(how "image = images, H x W x C x N, made [[]N, C, H, W[]]")
  endif()
  ssah_mat_test(train_mat_${run} EXPECT ok
    ARGS train --mat ${md}/${run}.mat --mat-layout ${layout} ${msmall} --out ${mout}/${run}
    STDOUT "${run}[.]mat [(]MATLAB v[0-9.]+, layout ${layout}[)].*${how}.*text = YAll, N x D; only 0/1: read as uint8.*labels = LAll.*60 items, 4 labels, 2 modalities.*image: .*${run}[.]mat: [A-Za-z]+, shape [[]60 x 192[]], backbone feature, standardised.*text: .*not standardised.*K = 16 .*image->text [0-9.]+")
  set_tests_properties(ssah_cli.train_mat_${run} PROPERTIES FIXTURES_SETUP ssah_mat_run_${run})
  add_test(NAME ssah_cli.train_mat_${run}_report COMMAND ${CMAKE_COMMAND} -DOUT=${mout}/${run} -DDIRECTION=image->text
           -DSAMPLE_SHAPE=[3,8,8] -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/check_mat_report.cmake")
  set_tests_properties(ssah_cli.train_mat_${run}_report PROPERTIES FIXTURES_REQUIRED ssah_mat_run_${run} LABELS cli)
endforeach()
ssah_mat_test(train_mat_custom EXPECT ok
  ARGS train --mat ${md}/custom.mat --mat-modality f=feat --mat-modality g=gray --mat-modality b=bow --mat-labels lab ${msmall}
       --out ${mout}/custom
  STDOUT "custom[.]mat [(]MATLAB v5[)].*f = feat, D x N, transposed to [[]N, D[]].*g = gray, H x W x N [(]one channel[)], made [[]N, 1, H, W[]].*b = bow, N x D.*labels = lab.*60 items, 4 labels, 3 modalities.*b: .*custom[.]mat: bow, shape [[]60 x 64[]], backbone feature, not standardised.*K = 16 .*f->g [0-9.]+ .*b->g [0-9.]+")
set_tests_properties(ssah_cli.train_mat_custom PROPERTIES FIXTURES_SETUP ssah_mat_run_custom)
add_test(NAME ssah_cli.train_mat_custom_report COMMAND ${CMAKE_COMMAND} -DOUT=${mout}/custom -DDIRECTION=g->f
         -DINDEX=1 -DSAMPLE_SHAPE=[1,8,8] -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/check_mat_report.cmake")
set_tests_properties(ssah_cli.train_mat_custom_report PROPERTIES FIXTURES_REQUIRED ssah_mat_run_custom LABELS cli)

# --- bad inputs: one line on stderr, non-zero exit
ssah_mat_test(train_mat_missing_variable EXPECT fail
  ARGS train --mat ${md}/custom.mat --mat-layout dcmh-flickr --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*custom[.]mat': no variable 'images' [(]modality image[)]; the file has feat [(]single 16 x 60[)]")
ssah_mat_test(train_mat_count_mismatch EXPECT fail
  ARGS train --mat ${md}/custom.mat --mat-modality f=feat --mat-modality s=lab_short --mat-labels lab --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*custom[.]mat': the variables do not agree on the number of items: labels 'lab' are 4 x 60 [(]60 items[)], but 'lab_short' [(]s[)] is 59 x 4, with no axis of 60")
ssah_mat_test(train_mat_labels_not_01 EXPECT fail
  ARGS train --mat ${md}/custom.mat --mat-modality f=feat --mat-labels lab_2 --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*custom[.]mat: lab_2': labels must be 0 or 1, found 2 at row 5, column 1")
ssah_mat_test(train_mat_nan EXPECT fail
  ARGS train --mat ${md}/custom.mat --mat-modality f=feat_nan --mat-labels lab --out ${mout}/bad
  STDERR "^ssah train: error: .*custom[.]mat: feat_nan: non-finite value nan at row 3, column 2")
ssah_mat_test(train_mat_ambiguous EXPECT fail
  ARGS train --mat ${md}/custom.mat --mat-modality s=square --mat-labels lab --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*custom[.]mat': variable 'square' [(]s[)] is 60 x 60 and the data set has 60 items: cannot tell which axis holds the items")
ssah_mat_test(train_mat_five_dimensions EXPECT fail
  ARGS train --mat ${md}/custom.mat --mat-modality f=feat --mat-modality v=five --mat-labels lab --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*custom[.]mat': 'five' [(]v[)] is 60 x 2 x 2 x 3 x 2: a modality must have 2 to 4 dimensions")
ssah_mat_test(train_mat_cell EXPECT fail
  ARGS train --mat ${md}/custom.mat --mat-modality c=cellvar --mat-labels lab --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*custom[.]mat': variable 'cellvar' [(]modality c[)] is a cell 1 x 1, not a real numeric or logical array")
ssah_mat_test(train_mat_and_modality EXPECT fail
  ARGS train --mat ${md}/dcmh_v5.mat --mat-layout dcmh-flickr --modality img=${md}/x.npy --out ${mout}/bad
  STDERR "^ssah train: error: --mat reads the modalities and the labels from one [.]mat file: give either --mat or --modality and --labels, not both")
ssah_mat_test(train_mat_keys_without_mat EXPECT fail
  ARGS train --mat-layout dcmh-flickr --out ${mout}/bad
  STDERR "^ssah train: error: --mat-modality, --mat-labels and --mat-layout need --mat FILE")
ssah_mat_test(train_mat_no_keys EXPECT fail
  ARGS train --mat ${md}/dcmh_v5.mat --out ${mout}/bad
  STDERR "^ssah train: error: --mat '[^']*dcmh_v5[.]mat': say which variables to read, with --mat-layout dcmh-flickr[|]nus-wide[|]coco or --mat-modality NAME=VARIABLE and --mat-labels VARIABLE [(]the file has images [(]uint8 8 x 8 x 3 x 60[)], YAll [(]double 60 x 64[)], LAll [(]double 60 x 4[)][)]")
ssah_mat_test(train_mat_unknown_layout EXPECT fail
  ARGS train --mat ${md}/dcmh_v5.mat --mat-layout flickr --out ${mout}/bad
  STDERR "^ssah train: error: --mat-layout: unknown layout 'flickr' [(]dcmh-flickr, nus-wide or coco[)]")
ssah_mat_test(train_mat_not_mat EXPECT fail
  ARGS train --mat ${CMAKE_CURRENT_SOURCE_DIR}/CMakeLists.txt --mat-layout dcmh-flickr --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*CMakeLists[.]txt': not a MATLAB v5 or v7.3 [.]mat file")
ssah_cli_test(train_no_inputs EXPECT fail ARGS train --out ${mout}/bad
  STDERR "^ssah train: error: no inputs: give --modality NAME=FILE[.]npy [(]1 to 3 times[)] and --labels LABELS[.]npy, or --mat FILE[.]mat")

# --- the real Wikipedia raw_features.mat (MATLAB v5: I_tr 2173 x 128, T_tr 2173 x 10, I_te, T_te; no
# labels in the file, so only its errors can be run end to end): skipped when the data are absent.
set(wiki "${SSAH_DATA_DIR}/wikipedia/raw_features.mat")
function(ssah_mat_wiki_test name)
  cmake_parse_arguments(arg "" "STDERR" "ARGS" ${ARGN})
  string(REPLACE ";" "|" joined "${arg_ARGS}")
  add_test(NAME ssah_cli.${name} COMMAND ${CMAKE_COMMAND} -DNEED=${wiki} -DPROGRAM=$<TARGET_FILE:ssah_cli>
           "-DARGS=${joined}" -DEXPECT=fail "-DSTDERR=${arg_STDERR}"
           -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/check_cli_if_exists.cmake")
  set_tests_properties(ssah_cli.${name} PROPERTIES LABELS cli SKIP_REGULAR_EXPRESSION "SKIPPED")
endfunction()
ssah_mat_wiki_test(train_mat_wikipedia_mismatch
  ARGS train --mat ${wiki} --mat-modality image=I_tr --mat-modality text=T_te --mat-labels T_tr --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*raw_features[.]mat': the variables do not agree on the number of items: labels 'T_tr' are 2173 x 10 [(]2173 items[)], but 'T_te' [(]text[)] is 693 x 10, with no axis of 2173")
ssah_mat_wiki_test(train_mat_wikipedia_not_labels
  ARGS train --mat ${wiki} --mat-modality image=I_tr --mat-labels T_tr --out ${mout}/bad
  STDERR "^ssah train: error: '[^']*raw_features[.]mat: T_tr': labels must be 0 or 1, found ")
