#pragma once
/// \file
/// `CnnF`: SSAH's ImgNet (`tnet.py::img_net`, MatConvNet's CNN-F `imagenet-vgg-f.mat`) on pixels,
/// as a backbone (see ssah/model/backbone.hpp).
///
/// Input NCHW images [N, C, H, W] (C = 3, RGB, as floats in 0..255 like the .mat's average image).
///
/// | layer     | op                                                               | full CNN-F, 224x224 |
/// |-----------|------------------------------------------------------------------|---------------------|
/// | (input)   | minus the mean image (a buffer, zero until set)                  | 3 x 224 x 224       |
/// | conv1     | 11x11 stride 4, pad 0, ReLU, LRN                                 | 64 x 54 x 54        |
/// | pool1     | max 3x3 stride 2, zero pad [top 0, bottom 1, left 0, right 1]    | 64 x 27 x 27        |
/// | conv2     | 5x5 stride 1, pad 2, ReLU, LRN                                   | 256 x 27 x 27       |
/// | pool2     | max 3x3 stride 2                                                 | 256 x 13 x 13       |
/// | conv3/4/5 | 3x3 stride 1, pad 1, ReLU                                        | 256 x 13 x 13       |
/// | pool5     | max 3x3 stride 2                                                 | 256 x 6 x 6         |
/// | fc6       | a convolution over the whole remaining map, ReLU                 | 4096                |
/// | fc7       | 1x1, ReLU                                                        | 4096                |
/// | fc8       | Linear, ReLU = the feature F (also what the heads read)          | 512                 |
///
/// LRN is TF's (radius 2, bias 2, alpha 1e-4, beta 0.75); pooling pads with zeros as the
/// reference's `tf.pad` (see `max_pool2d`). No dropout (the reference feeds keep_prob = 1).
///
/// Parameters: `conv<i>.weight` [Cout, Cin, kh, kw] and `conv<i>.bias` [Cout] (i = 1..5),
/// `fc6.weight` [fc6, C5, h5, w5] (the remaining map), `fc7.weight` [fc7, fc6, 1, 1], their biases,
/// and `fc8.weight` [feature, fc7] / `fc8.bias` (a new layer, PyTorch's Linear layout). fc6 and fc7
/// are evaluated as matrix products on the flattened (c, h, w) map, which is the same as the
/// VALID convolution of the reference. Pretrained weights: ssah/matconvnet.hpp.
///
/// Sizes: the geometry above needs images of at least 63 x 63 (conv1 -> 14, pool1 -> 7,
/// pool2 -> 3, pool5 -> 1); 64 x 64 photos give a 1 x 1 map before fc6. `Config::full()` is
/// CNN-F; `Config::small()` (a quarter of the widths: conv 16, 64, 64, 64, 64, fc6/fc7 1024,
/// feature 512) is the default for training from random initialisation on small photos.

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "ssah/error.hpp"
#include "ssah/model/backbone.hpp"
#include "ssah/nn/linear.hpp"
#include "ssah/ops/conv.hpp"
#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/linalg.hpp"
#include "ssah/ops/lrn.hpp"
#include "ssah/ops/pool.hpp"
#include "ssah/ops/shape.hpp"
#include "ssah/parameters.hpp"

namespace ssah {

/// One convolution or pooling stage of CNN-F (before fc6), as MatConvNet's .mat describes it.
struct CnnFStage {
  const char* name;
  bool pool;             ///< max pooling (else convolution + ReLU)
  std::size_t kernel;    ///< square window
  std::size_t stride;    ///< both axes
  Padding2d pad;         ///< MatConvNet's [top bottom left right]
  bool lrn;              ///< LRN after the ReLU
  std::size_t conv_index;  ///< 0..4 for conv1..conv5 (unused for pools)
};

/// CNN-F's stages, in order.
inline constexpr std::array<CnnFStage, 8> cnnf_stages = {{
    {"conv1", false, 11, 4, Padding2d{0, 0, 0, 0}, true, 0},
    {"pool1", true, 3, 2, Padding2d{0, 1, 0, 1}, false, 0},
    {"conv2", false, 5, 1, Padding2d{2, 2, 2, 2}, true, 1},
    {"pool2", true, 3, 2, Padding2d{0, 0, 0, 0}, false, 0},
    {"conv3", false, 3, 1, Padding2d{1, 1, 1, 1}, false, 2},
    {"conv4", false, 3, 1, Padding2d{1, 1, 1, 1}, false, 3},
    {"conv5", false, 3, 1, Padding2d{1, 1, 1, 1}, false, 4},
    {"pool5", true, 3, 2, Padding2d{0, 0, 0, 0}, false, 0},
}};

template <class T>
class CnnF {
 public:
  struct Config {
    /// Output channels of conv1..conv5.
    std::array<std::size_t, 5> conv_channels{{64, 256, 256, 256, 256}};
    std::size_t fc6 = 4096;
    std::size_t fc7 = 4096;
    /// fc8's width: the feature F (SSAH's SEMANTIC_EMBED).
    std::size_t feature = 512;

    /// CNN-F as released (the default).
    static Config full() { return Config{}; }
    /// CNN-F with every channel count and fc6/fc7 multiplied by `width` (rounded, at least 1);
    /// the feature width is kept.
    static Config scaled(double width) {
      SSAH_CHECK_AS(InvalidArgument, width > 0, "CnnF::Config::scaled: width must be positive, got ", width);
      auto scale = [width](std::size_t n) {
        const auto v = static_cast<std::size_t>(std::lround(static_cast<double>(n) * width));
        return v > 0 ? v : std::size_t(1);
      };
      Config c;
      for (auto& ch : c.conv_channels) ch = scale(ch);
      c.fc6 = scale(c.fc6);
      c.fc7 = scale(c.fc7);
      return c;
    }
    /// The documented small configuration for 64x64 photos from scratch: `scaled(0.25)`
    /// (conv 16, 64, 64, 64, 64; fc6 = fc7 = 1024; feature 512).
    static Config small() { return scaled(0.25); }
  };
  static constexpr const char* kind = "cnnf";

  /// Names and shapes of the parameters for images of `sample_shape` ({C, H, W}), in
  /// registration order, and the map size before fc6; computed without allocating anything.
  /// Throws ShapeError when an image is too small for the geometry.
  struct Layout {
    struct Param {
      std::string name;
      Shape shape;
    };
    std::vector<Param> params;
    Shape fc6_input;  ///< {C5, h5, w5}
    /// Values that forward() keeps for the backward pass of one image: the input, every stage's
    /// output (a convolution's before and after its ReLU and LRN), fc6, fc7 (with their ReLUs) and
    /// the feature. What a training batch needs is at least this times the batch size.
    std::size_t activations_per_item = 0;
  };
  static Layout layout(const Shape& sample_shape, const Config& config) {
    SSAH_CHECK_AS(ShapeError, sample_shape.rank() == 3 && sample_shape.size() > 0,
                  "CnnF: an image must be {C, H, W}, got ", sample_shape.str());
    SSAH_CHECK_AS(InvalidArgument, config.fc6 > 0 && config.fc7 > 0 && config.feature > 0,
                  "CnnF: fc6, fc7 and feature widths must be positive");
    Layout out;
    std::size_t c = sample_shape[0], h = sample_shape[1], w = sample_shape[2];
    out.activations_per_item = sample_shape.size();
    for (const CnnFStage& st : cnnf_stages) {
      const std::string what = std::string("layer ") + st.name;  // shown to users: no class name
      h = detail::window_output_extent(h, st.pad.top, st.pad.bottom, st.kernel, st.stride, what.c_str(),
                                       sample_shape);
      w = detail::window_output_extent(w, st.pad.left, st.pad.right, st.kernel, st.stride, what.c_str(),
                                       sample_shape);
      if (st.pool) {
        out.activations_per_item += c * h * w;
        continue;
      }
      const std::size_t co = config.conv_channels[st.conv_index];
      SSAH_CHECK_AS(InvalidArgument, co > 0, "CnnF: ", st.name, " needs at least one channel");
      out.params.push_back({std::string(st.name) + ".weight", Shape{co, c, st.kernel, st.kernel}});
      out.params.push_back({std::string(st.name) + ".bias", Shape{co}});
      c = co;
      out.activations_per_item += co * h * w * (st.lrn ? 3 : 2);
    }
    out.activations_per_item += 2 * config.fc6 + 2 * config.fc7 + config.feature;
    out.fc6_input = Shape{c, h, w};
    out.params.push_back({"fc6.weight", Shape{config.fc6, c, h, w}});
    out.params.push_back({"fc6.bias", Shape{config.fc6}});
    out.params.push_back({"fc7.weight", Shape{config.fc7, config.fc6, 1, 1}});
    out.params.push_back({"fc7.bias", Shape{config.fc7}});
    out.params.push_back({"fc8.weight", Shape{config.feature, config.fc7}});
    out.params.push_back({"fc8.bias", Shape{config.feature}});
    return out;
  }

  /// `sample_shape` is one image {C, H, W}.
  CnnF(const Shape& sample_shape, const Config& config, ParameterSet<T>& params)
      : config_(config), sample_shape_(sample_shape) {
    const Layout l = layout(sample_shape, config);
    fc6_input_ = l.fc6_input;
    std::size_t k = 0;
    for (std::size_t i = 0; i < conv_weights_.size(); ++i) {
      conv_weights_[i] = params.add(l.params[k].name, l.params[k].shape);
      conv_biases_[i] = params.add(l.params[k + 1].name, l.params[k + 1].shape);
      k += 2;
    }
    fc6_weight_ = params.add(l.params[k].name, l.params[k].shape);
    fc6_bias_ = params.add(l.params[k + 1].name, l.params[k + 1].shape);
    fc7_weight_ = params.add(l.params[k + 2].name, l.params[k + 2].shape);
    fc7_bias_ = params.add(l.params[k + 3].name, l.params[k + 3].shape);
    fc8_ = nn::Linear<T>(params, "fc8", config.fc7, config.feature);
    mean_image_ = Tensor<T>::zeros(sample_shape);
  }

  TrunkOutput<T> forward(const Var<T>& batch, const ForwardContext& /*ctx*/) const {
    SSAH_CHECK_AS(ShapeError, batch.value().row_size() == sample_shape_.size(), "CnnF: input ", batch.shape().str(),
                  " does not hold images of shape ", sample_shape_.str());
    const std::size_t n = batch.value().rows();
    Var<T> h = batch;
    if (neg_mean_.defined()) h = add_bias(h, neg_mean_);
    if (h.shape().rank() != 4) h = reshape(h, Shape{n, sample_shape_[0], sample_shape_[1], sample_shape_[2]});
    for (const CnnFStage& st : cnnf_stages) {
      if (st.pool) {
        h = max_pool2d(h, Pool2dParams{st.kernel, st.kernel, st.stride, st.stride, st.pad});
        continue;
      }
      h = relu(conv2d(h, conv_weights_[st.conv_index], conv_biases_[st.conv_index],
                      Conv2dParams{st.stride, st.stride, st.pad}));
      if (st.lrn) h = lrn(h);
    }
    // fc6 / fc7: VALID convolutions covering the whole map = products with the flattened map.
    h = relu(add_bias(matmul(h, fc6_weight_, Trans::No, Trans::Yes), fc6_bias_));
    h = relu(add_bias(matmul(h, fc7_weight_, Trans::No, Trans::Yes), fc7_bias_));
    Var<T> feature = relu(fc8_(h));
    return {feature, feature};
  }

  std::size_t feature_dim() const noexcept { return config_.feature; }
  const Config& config() const noexcept { return config_; }
  const Shape& sample_shape() const noexcept { return sample_shape_; }
  /// Shape of one item's map before fc6 ({256, 6, 6} for full CNN-F on 224 x 224).
  const Shape& fc6_input_shape() const noexcept { return fc6_input_; }

  /// The mean image subtracted from every input, {C, H, W} (zeros until set).
  const Tensor<T>& mean_image() const noexcept { return mean_image_; }
  /// Sets the mean image: C*H*W values in CHW order, or C values (one mean per channel).
  void set_mean_image(const Tensor<T>& mean) {
    const std::size_t c = sample_shape_[0], plane = sample_shape_[1] * sample_shape_[2];
    SSAH_CHECK_AS(ShapeError, mean.size() == sample_shape_.size() || mean.size() == c, "CnnF::set_mean_image: ",
                  mean.shape().str(), " is neither an image ", sample_shape_.str(), " nor ", c, " channel means");
    Tensor<T> full = Tensor<T>::empty(sample_shape_);
    Tensor<T> neg = Tensor<T>::empty(Shape{sample_shape_.size()});
    const T* src = mean.data();
    T* fp = full.data();
    T* np = neg.data();
    const bool per_channel = mean.size() == c && mean.size() != sample_shape_.size();
    detail::parallel_for(sample_shape_.size(), [=] SSAH_HOST_DEVICE(std::size_t i) {
      const T v = per_channel ? src[i / plane] : src[i];
      fp[i] = v;
      np[i] = -v;
    });
    mean_image_ = full;
    neg_mean_ = Var<T>(neg, false);
  }

  /// Copies conv1..fc7 and the mean image of `from` (e.g. a network loaded once from a
  /// pretrained file) into this network, whose fc8 stays as initialised; both need the same
  /// configuration and input shape.
  void copy_pretrained_layers(const CnnF& from) {
    SSAH_CHECK_AS(ShapeError, from.sample_shape_ == sample_shape_ && from.fc6_input_ == fc6_input_,
                  "CnnF::copy_pretrained_layers: a network of input ", from.sample_shape_.str(), " into one of ",
                  sample_shape_.str());
    auto copy = [](const Var<T>& src, const Var<T>& dst) {
      Tensor<T> d = dst.value();  // shares dst's storage
      d.assign(src.value());
    };
    for (std::size_t i = 0; i < conv_weights_.size(); ++i) {
      copy(from.conv_weights_[i], conv_weights_[i]);
      copy(from.conv_biases_[i], conv_biases_[i]);
    }
    copy(from.fc6_weight_, fc6_weight_);
    copy(from.fc6_bias_, fc6_bias_);
    copy(from.fc7_weight_, fc7_weight_);
    copy(from.fc7_bias_, fc7_bias_);
    set_mean_image(from.mean_image_);
  }

  const Var<T>& conv_weight(std::size_t i) const { return conv_weights_.at(i); }
  const Var<T>& conv_bias(std::size_t i) const { return conv_biases_.at(i); }
  const Var<T>& fc6_weight() const noexcept { return fc6_weight_; }
  const Var<T>& fc6_bias() const noexcept { return fc6_bias_; }
  const Var<T>& fc7_weight() const noexcept { return fc7_weight_; }
  const Var<T>& fc7_bias() const noexcept { return fc7_bias_; }
  const nn::Linear<T>& fc8() const noexcept { return fc8_; }

 private:
  Config config_;
  Shape sample_shape_;
  Shape fc6_input_;
  std::array<Var<T>, 5> conv_weights_, conv_biases_;
  Var<T> fc6_weight_, fc6_bias_, fc7_weight_, fc7_bias_;
  nn::Linear<T> fc8_;
  Tensor<T> mean_image_;
  Var<T> neg_mean_;  ///< -mean as a constant leaf; undefined while no mean is set
};

}  // namespace ssah
