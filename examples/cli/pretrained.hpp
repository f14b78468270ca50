#pragma once
// `ssah train --pretrained NAME=FILE.mat`: MatConvNet's CNN-F (`imagenet-vgg-f.mat`) as the
// backbone of a modality, read with matio (ssah/matconvnet.hpp) in pretrained.cpp
// only, so that the command's other translation units build without matio's headers. When ssah
// was configured without matio, both functions throw an `InvalidArgument` saying so.
#include <string>

#include "ssah/model/cnnf.hpp"

namespace ssah::cli {

/// The CnnF configuration that the file's filter banks imply (conv channels, fc6, fc7; feature
/// 512). IoError naming the file when it is not MatConvNet's CNN-F.
CnnF<float>::Config pretrained_cnnf_config(const std::string& path);

/// Loads conv1..fc7 and the mean image of the file into `net`; returns a description of what
/// was loaded, e.g. "old layout, mean image: image".
std::string load_pretrained_cnnf(CnnF<float>& net, const std::string& path);

}  // namespace ssah::cli
