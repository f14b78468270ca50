# Checks the outputs of `ssah train --pretrained img=...` in OUT: report.json names the file and says
# the modality was not standardised, and the checkpoint's metadata holds the file's CNN-F widths
# and the mean image tensor "cnnf.img.mean_image" [3, 63, 63] (fc8 8 wide: --hidden 8).
foreach(f report.json model-K16.safetensors codes/K16_img_db.npy)
  if(NOT EXISTS "${OUT}/${f}")
    message(FATAL_ERROR "ssah train --pretrained did not write ${OUT}/${f}")
  endif()
endforeach()
file(READ "${OUT}/report.json" report)
string(JSON pretrained ERROR_VARIABLE err GET "${report}" modalities 0 pretrained)
if(err OR NOT pretrained MATCHES "fake_vgg_f[.]mat$")
  message(FATAL_ERROR "report.json: modalities[0].pretrained is '${pretrained}' (${err})")
endif()
string(JSON standardized GET "${report}" modalities 0 standardized)
if(standardized)
  message(FATAL_ERROR "report.json: the pretrained modality was standardised")
endif()
# The safetensors header (JSON) follows the 8-byte length at the start of the file.
file(READ "${OUT}/model-K16.safetensors" header OFFSET 8 LIMIT 60000)
foreach(re "\"cnnf[.]img[.]mean_image\":{[^}]*\"shape\":[[]3,63,63[]]"
           "\\\\\"cnnf\\\\\":{\\\\\"conv_channels\\\\\":[[]2,3,2,2,3[]],\\\\\"fc6\\\\\":5,\\\\\"fc7\\\\\":4,\\\\\"feature\\\\\":8}")
  if(NOT header MATCHES "${re}")
    message(FATAL_ERROR "model-K16.safetensors: the header does not match ${re}")
  endif()
endforeach()
