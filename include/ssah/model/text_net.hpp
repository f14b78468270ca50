#pragma once
/// \file
/// `MultiScaleTextNet`: SSAH's TxtNet (`tnet.py::txt_net` with `MultiScaleTxt`) for bag-of-words
/// input, as a backbone (see ssah/model/backbone.hpp).
///
/// For each pooling window w (5, 10, 15, 30, 50 by default) a branch computes
///   avg_pool_1d(t, w)  ->  one scalar weight, no bias (a 1x1 convolution)  ->  ReLU
///   ->  TF1 legacy bilinear resize back to width dT,
/// and the input t plus the branches form C = 1 + #windows channels [t, w5, w10, w15, w30, w50].
/// Then fc1 (C*dT -> 4096, ReLU, LRN) and fc2 (4096 -> 512, ReLU) give the feature F; the heads read
/// LRN(F) (the reference's `norm2`).
///
/// Layout of fc1's input and weight. The reference holds the fused text as an NHWC tensor
/// [N, 1, dT, C] and fc1 as a VALID convolution with kernel [1, dT, C, 4096]; flattened, that is
/// position-major and channel-minor. ssah keeps TF's order: the fused input of item n is the
/// vector z[w*C + c] (position w, channel c), and `fc1.weight` [4096, C*dT] (PyTorch layout
/// [out, in]) holds
///
///   fc1.weight[o, w*C + c] = tf_kernel[0, w, c, o]
///
/// so a TF kernel transfers by a plain reshape to [dT*C, 4096] and a transpose. The branch
/// weights are `ms<w>.weight` of shape [1, 1, 1, 1] (TF's [1, 1, 1, 1] kernel).
///
/// Quirk kept from the reference: bag-of-words values are >= 0, so a branch whose scalar weight is
/// negative outputs zeros and its ReLU passes no gradient back: that branch stays dead.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "ssah/error.hpp"
#include "ssah/model/backbone.hpp"
#include "ssah/nn/linear.hpp"
#include "ssah/ops/conv.hpp"
#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/lrn.hpp"
#include "ssah/ops/pool.hpp"
#include "ssah/ops/resize.hpp"
#include "ssah/ops/shape.hpp"
#include "ssah/parameters.hpp"

namespace ssah {
template <class T>
class MultiScaleTextNet {
 public:
  struct Config {
    /// Average-pooling windows of the branches (window = stride), in channel order after t.
    /// The reference's 5 * {1, 2, 3, 6, 10}. Each must be <= dT.
    std::vector<std::size_t> windows = {5, 10, 15, 30, 50};
    /// Widths of fc1 (ReLU, LRN) and fc2 (ReLU) = the feature F.
    std::vector<std::size_t> hidden = {4096, 512};
    /// The heads read LRN(F) (the reference) or F itself.
    bool lrn_head_input = true;
  };
  static constexpr const char* kind = "text";

  /// `sample_shape` is one bag-of-words item: {dT} (any shape of dT elements).
  MultiScaleTextNet(const Shape& sample_shape, const Config& config, ParameterSet<T>& params)
      : config_(config), dims_(sample_shape.size()) {
    SSAH_CHECK_AS(ShapeError, dims_ > 0, "MultiScaleTextNet: empty input shape ", sample_shape.str());
    SSAH_CHECK_AS(InvalidArgument, !config.hidden.empty(), "MultiScaleTextNet: at least one hidden layer is needed");
    for (std::size_t w : config.windows) {
      SSAH_CHECK_AS(InvalidArgument, w > 0, "MultiScaleTextNet: pooling windows must be positive");
      SSAH_CHECK_AS(ShapeError, w <= dims_, "MultiScaleTextNet: pooling window ", w, " is wider than the ", dims_,
                    "-d input");
      branch_weights_.push_back(params.add("ms" + std::to_string(w) + ".weight", Shape{1, 1, 1, 1}));
    }
    std::size_t in = dims_ * channels();
    for (std::size_t i = 0; i < config.hidden.size(); ++i) {
      layers_.emplace_back(params, "fc" + std::to_string(i + 1), in, config.hidden[i]);
      in = config.hidden[i];
    }
  }

  /// The multi-scale fusion alone: [N, dT] -> [N, dT * C], position-major, channel-minor
  /// (element w*C + c is channel c at position w; channel 0 is the input itself).
  Var<T> multi_scale(const Var<T>& batch) const {
    SSAH_CHECK_AS(ShapeError, batch.value().row_size() == dims_, "MultiScaleTextNet: input ", batch.shape().str(),
                  " does not hold ", dims_, "-d bag-of-words rows");
    const std::size_t n = batch.value().rows();
    const Var<T> t = reshape(batch, Shape{n, 1, 1, dims_});
    std::vector<Var<T>> parts{t};
    for (std::size_t b = 0; b < branch_weights_.size(); ++b) {
      Var<T> pooled = avg_pool_1d(t, config_.windows[b]);             // [N, 1, 1, dT / w]
      Var<T> scaled = conv2d(pooled, branch_weights_[b], Var<T>());  // scalar weight, no bias
      parts.push_back(resize_bilinear_legacy(relu(scaled), 1, dims_));
    }
    return interleave_minor(parts);
  }

  TrunkOutput<T> forward(const Var<T>& batch, const ForwardContext& /*ctx*/) const {
    Var<T> h = multi_scale(batch);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      h = relu(layers_[i](h));
      if (i == 0 && layers_.size() > 1) h = lrn(h);
    }
    return {h, config_.lrn_head_input ? lrn(h) : h};
  }

  std::size_t feature_dim() const noexcept { return layers_.back().out_features(); }
  std::size_t input_dim() const noexcept { return dims_; }
  /// 1 + the number of branches.
  std::size_t channels() const noexcept { return 1 + config_.windows.size(); }
  const Config& config() const noexcept { return config_; }
  /// The scalar weight of branch `b` (in the order of `Config::windows`).
  const Var<T>& branch_weight(std::size_t b) const { return branch_weights_.at(b); }
  const nn::Linear<T>& layer(std::size_t i) const { return layers_.at(i); }

 private:
  Config config_;
  std::size_t dims_;
  std::vector<Var<T>> branch_weights_;
  std::vector<nn::Linear<T>> layers_;
};

}  // namespace ssah
