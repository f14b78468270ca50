#pragma once
/// \file
/// `FeatureNet`: the backbone for a modality given as vectors (CNN features, SIFT histograms,
/// LDA topics, label vectors): a stack of fully-connected ReLU layers, LRN after the first
/// (as LabNet's fc1 in the reference code). LabNet is a FeatureNet on the multi-hot labels.

#include <cstddef>
#include <string>
#include <vector>

#include "ssah/model/backbone.hpp"
#include "ssah/nn/linear.hpp"
#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/lrn.hpp"
#include "ssah/parameters.hpp"

namespace ssah {

template <class T>
class FeatureNet {
 public:
  struct Config {
    /// Widths of the hidden layers; the last one is the feature F (512 in SSAH).
    std::vector<std::size_t> hidden = {4096, 512};
    /// Local response normalisation (TF: radius 2, bias 2, alpha 1e-4, beta 0.75) after layer 1.
    bool lrn_after_first = true;
  };
  static constexpr const char* kind = "feature";

  FeatureNet(const Shape& sample_shape, const Config& config, ParameterSet<T>& params) : config_(config) {
    SSAH_CHECK_AS(InvalidArgument, !config.hidden.empty(), "FeatureNet: at least one hidden layer is needed");
    std::size_t in = sample_shape.size();
    SSAH_CHECK_AS(ShapeError, in > 0, "FeatureNet: empty input shape ", sample_shape.str());
    for (std::size_t i = 0; i < config.hidden.size(); ++i) {
      layers_.emplace_back(params, "fc" + std::to_string(i + 1), in, config.hidden[i]);
      in = config.hidden[i];
    }
  }

  TrunkOutput<T> forward(const Var<T>& batch, const ForwardContext& /*ctx*/) const {
    Var<T> h = batch;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      h = relu(layers_[i](h));
      if (i == 0 && config_.lrn_after_first && layers_.size() > 1) h = lrn(h);
    }
    return {h, h};
  }

  std::size_t feature_dim() const noexcept { return layers_.back().out_features(); }
  const Config& config() const noexcept { return config_; }

 private:
  Config config_;
  std::vector<nn::Linear<T>> layers_;
};

}  // namespace ssah
