# Tests of `ssah train --pretrained NAME=FILE.mat` (pretrained.cpp): a tiny fake MatConvNet CNN-F
# and a small image data set written by pretrained_test_data.cpp; a short fine-tuning run, `ssah
# encode` with its checkpoint reproducing the database codes of the image modality byte for byte
# (so the checkpoint holds the file's CNN-F configuration and mean image), and the bad inputs.
if(NOT TARGET ssah::matio)
  ssah_cli_test(train_pretrained_unsupported EXPECT fail
    ARGS train --modality img=nothing.npy --labels nothing.npy --pretrained img=nothing.mat
         --out ${CMAKE_CURRENT_BINARY_DIR}/pretrained_unsupported
    STDERR "^ssah train: error: --pretrained img=nothing[.]mat: this ssah was built without MATLAB [.]mat support")
  return()
endif()

ssah_add_program(ssah_cli_pretrained_test_data SOURCES tests/pretrained_test_data.cpp LIBRARIES ssah::matio
  ssah_test_support)
set(pd "${CMAKE_CURRENT_BINARY_DIR}/pretrained_test_data")
set(pout "${CMAKE_CURRENT_BINARY_DIR}/pretrained_test_output")
add_test(NAME ssah_cli.pretrained_data COMMAND ssah_cli_pretrained_test_data "${pd}")
set_tests_properties(ssah_cli.pretrained_data PROPERTIES FIXTURES_SETUP ssah_pretrained_data LABELS cli)
ssah_cli_clean(ssah_pretrained_data "${pout}/run" "${pout}/bad")

set(psmall --bits 16 --epochs 1 --hidden 8 --passes 1 --batch-size 16 --split ${pd}/split)
set(pinputs --modality img=${pd}/img.npy --modality txt=${pd}/txt.npy --labels ${pd}/labels.npy)

# ssah_pretrained_test(name EXPECT ok|fail ARGS ... [STDOUT re] [STDERR re]): needs the generated files.
function(ssah_pretrained_test name)
  ssah_cli_test(${name} ${ARGN})
  set_tests_properties(ssah_cli.${name} PROPERTIES FIXTURES_REQUIRED ssah_pretrained_data)
endfunction()

# --- a fine-tuning run, its checkpoint, and encode
ssah_pretrained_test(train_pretrained EXPECT ok
  ARGS train ${pinputs} --pretrained img=${pd}/fake_vgg_f.mat --backbone txt=feature ${psmall} --out ${pout}/run
  STDOUT "40 items, 4 labels, 2 modalities.*img: [^\n]*img[.]npy, shape [[]40 x 11907[]], backbone cnnf, not standardised.*txt: [^\n]*backbone feature, standardised.*img: CNN-F from [^\n]*fake_vgg_f[.]mat [(]old [(]pre-beta16[)] layout, 14 tensors [(]conv1[.][.]fc7[)], mean: image; conv 2,3,2,2,3, fc6 5, fc7 4, fc8 8 new[)].*K = 16 [^\n]*img->txt [0-9.]+")
set_tests_properties(ssah_cli.train_pretrained PROPERTIES FIXTURES_SETUP ssah_pretrained_run)
add_test(NAME ssah_cli.train_pretrained_checkpoint COMMAND ${CMAKE_COMMAND} -DOUT=${pout}/run
         -P "${CMAKE_CURRENT_SOURCE_DIR}/tests/check_pretrained_outputs.cmake")
set_tests_properties(ssah_cli.train_pretrained_checkpoint PROPERTIES FIXTURES_REQUIRED ssah_pretrained_run LABELS cli)
ssah_pretrained_test(encode_pretrained EXPECT ok
  ARGS encode --checkpoint ${pout}/run/model-K16.safetensors --modality img=${pd}/img_db.npy
       --out ${pout}/encoded_img_db.npy
  STDOUT "32 codes of 16 bits written")
set_tests_properties(ssah_cli.encode_pretrained PROPERTIES FIXTURES_REQUIRED "ssah_pretrained_data;ssah_pretrained_run"
                     FIXTURES_SETUP ssah_pretrained_encode)
add_test(NAME ssah_cli.encode_pretrained_matches_train
         COMMAND ${CMAKE_COMMAND} -E compare_files ${pout}/encoded_img_db.npy ${pout}/run/codes/K16_img_db.npy)
set_tests_properties(ssah_cli.encode_pretrained_matches_train PROPERTIES FIXTURES_REQUIRED ssah_pretrained_encode
                     LABELS cli)

# --- bad inputs: one line on stderr, non-zero exit
ssah_pretrained_test(train_pretrained_not_cnnf EXPECT fail
  ARGS train ${pinputs} --pretrained img=${pd}/not_cnnf.mat ${psmall} --out ${pout}/bad
  STDERR "^ssah train: error: '[^']*not_cnnf[.]mat': no 'layers' variable: not a MatConvNet SimpleNN file")
ssah_pretrained_test(train_pretrained_channels EXPECT fail
  ARGS train --modality img=${pd}/gray.npy --modality txt=${pd}/txt.npy --labels ${pd}/labels.npy
       --pretrained img=${pd}/fake_vgg_f.mat ${psmall} --out ${pout}/bad
  STDERR "^ssah train: error: --pretrained img=[^ ]*fake_vgg_f[.]mat: does not fit the images of 'img' [(][[]1, 63, 63[]][)]: '[^']*fake_vgg_f[.]mat': layer 'conv1': filters of size [[]11, 11, 3, 2[]] [(]H x W x Cin x Cout[)] do not fit the network's conv1[.]weight [[]2, 1, 11, 11[]]")
ssah_pretrained_test(train_pretrained_not_images EXPECT fail
  ARGS train ${pinputs} --pretrained txt=${pd}/fake_vgg_f.mat ${psmall} --out ${pout}/bad
  STDERR "^ssah train: error: --pretrained txt=[^ ]*fake_vgg_f[.]mat: '[^']*txt[.]npy' holds items of shape [[]16[]]; CNN-F reads images [[]C, H, W[]]")
ssah_pretrained_test(train_pretrained_backbone_conflict EXPECT fail
  ARGS train ${pinputs} --pretrained img=${pd}/fake_vgg_f.mat --backbone img=feature ${psmall} --out ${pout}/bad
  STDERR "^ssah train: error: --pretrained img=[^ ]*fake_vgg_f[.]mat makes 'img' a CNN-F, but --backbone gives it feature")
ssah_pretrained_test(train_pretrained_no_modality EXPECT fail
  ARGS train ${pinputs} --pretrained image=${pd}/fake_vgg_f.mat ${psmall} --out ${pout}/bad
  STDERR "^ssah train: error: --pretrained image=[^ ]*fake_vgg_f[.]mat: no modality 'image'")
