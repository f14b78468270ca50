#pragma once
// The tiny networks of tests/reference/make_model_fixtures.py, built with ssah's classes and
// loaded with the fixture weights. Sizes here must match the script's constants.

#include <cstddef>
#include <string>

#include "fixtures.hpp"
#include "ssah/model/cnnf.hpp"
#include "ssah/model/feature_net.hpp"
#include "ssah/model/modality_net.hpp"
#include "ssah/model/text_net.hpp"

namespace ssah::test {

constexpr std::size_t ref_labels = 5;    // C
constexpr std::size_t ref_bits = 6;      // K
constexpr std::size_t ref_feature = 8;   // F
constexpr std::size_t ref_feature_dim = 10;
constexpr std::size_t ref_text_dim = 67;

template <class T>
using RefLabNet = ModalityNet<T, ref_bits, FeatureNet>;
template <class T>
using RefFeatureNet = ModalityNet<T, ref_bits, FeatureNet>;
template <class T>
using RefTextNet = ModalityNet<T, ref_bits, MultiScaleTextNet>;
template <class T>
using RefCnnF = ModalityNet<T, ref_bits, CnnF>;

/// LabNet: c -> 12 (ReLU, LRN) -> 8 (ReLU) = F, heads on F.
template <class T>
RefLabNet<T> make_labnet() {
  RefLabNet<T> net(Shape{ref_labels}, ref_labels, typename FeatureNet<T>::Config{{12, ref_feature}, true});
  load_parameters(net.parameters(), "labnet");
  return net;
}

/// FeatureNet: 10 -> 12 (ReLU, LRN) -> 9 (ReLU) -> 8 (ReLU) = F.
template <class T>
RefFeatureNet<T> make_featurenet() {
  RefFeatureNet<T> net(Shape{ref_feature_dim}, ref_labels, typename FeatureNet<T>::Config{{12, 9, ref_feature}, true});
  load_parameters(net.parameters(), "featurenet");
  return net;
}

/// MultiScaleTextNet on dT = 67 with the reference windows 5, 10, 15, 30, 50; fc1 8, fc2 8 = F.
template <class T>
RefTextNet<T> make_textnet() {
  typename MultiScaleTextNet<T>::Config config;
  config.windows = {5, 10, 15, 30, 50};
  config.hidden = {8, ref_feature};
  config.lrn_head_input = true;
  RefTextNet<T> net(Shape{ref_text_dim}, ref_labels, config);
  load_parameters(net.parameters(), "textnet");
  return net;
}

/// CnnF on 3 x 95 x 127 images, conv channels 4, 6, 5, 6, 4, fc6 10, fc7 9, fc8 8 = F, with the
/// fixture's mean image.
template <class T>
RefCnnF<T> make_cnnf() {
  typename CnnF<T>::Config config;
  config.conv_channels = {{4, 6, 5, 6, 4}};
  config.fc6 = 10;
  config.fc7 = 9;
  config.feature = ref_feature;
  RefCnnF<T> net(Shape{3, 95, 127}, ref_labels, config);
  load_parameters(net.parameters(), "cnnf");
  net.backbone().set_mean_image(load_fixture<T>("cnnf/mean_image.npy"));
  return net;
}

/// The discriminator: 8 -> 7 -> 5 -> 1 logit.
template <class T>
Discriminator<T> make_discriminator() {
  Discriminator<T> d(ref_feature, typename Discriminator<T>::Config{{7, 5}});
  load_parameters(d.parameters(), "discriminator");
  return d;
}

}  // namespace ssah::test
