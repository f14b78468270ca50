#pragma once
/// \file
/// `ModalityNet<T, K, Backbone>`: a backbone plus SSAH's two heads, hash H = tanh(F -> K) and
/// label prediction = sigmoid(F -> c). LabNet and every modality network are ModalityNets.
/// `Discriminator<T>`: tells LabNet features from one modality's features (a logit per row).

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ssah/error.hpp"
#include "ssah/init.hpp"
#include "ssah/model/backbone.hpp"
#include "ssah/nn/linear.hpp"
#include "ssah/ops.hpp"
#include "ssah/parameters.hpp"

namespace ssah {

/// The three outputs of a network for a batch.
template <class T>
struct NetOutput {
  Var<T> feature;       ///< F [N, feature_dim]
  Var<T> hash;          ///< H = tanh(...) [N, K]
  Var<T> label_logits;  ///< before the sigmoid [N, c]
  Var<T> label;         ///< sigmoid(label_logits) [N, c]
};

template <class T, int K, template <class> class Backbone>
class ModalityNet {
  static_assert(K > 0, "K (hash bits) must be positive");

 public:
  using backbone_type = Backbone<T>;
  using Config = typename Backbone<T>::Config;
  static constexpr int bits = K;

  ModalityNet(const Shape& sample_shape, std::size_t num_labels, const Config& config = Config{})
      : sample_shape_(sample_shape),
        backbone_(sample_shape, config, params_),
        hash_(params_, "hash", backbone_.feature_dim(), K),
        label_(params_, "label", backbone_.feature_dim(), num_labels) {}

  ModalityNet(const ModalityNet&) = delete;
  ModalityNet& operator=(const ModalityNet&) = delete;
  ModalityNet(ModalityNet&&) noexcept = default;
  ModalityNet& operator=(ModalityNet&&) noexcept = default;

  NetOutput<T> forward(const Var<T>& batch, const ForwardContext& ctx = {}) const {
    Shape expected = sample_shape_;
    SSAH_CHECK_AS(ShapeError, batch.value().row_size() == sample_shape_.size(), "ModalityNet<",
                  Backbone<T>::kind, ">: input ", batch.shape().str(), " does not hold items of shape ",
                  expected.str());
    TrunkOutput<T> trunk = backbone_.forward(batch, ctx);
    NetOutput<T> out;
    out.feature = trunk.feature;
    out.hash = tanh(hash_(trunk.head_input));
    out.label_logits = label_(trunk.head_input);
    out.label = sigmoid(out.label_logits);
    return out;
  }

  ParameterSet<T>& parameters() noexcept { return params_; }
  const ParameterSet<T>& parameters() const noexcept { return params_; }
  const Backbone<T>& backbone() const noexcept { return backbone_; }
  Backbone<T>& backbone() noexcept { return backbone_; }
  const Shape& sample_shape() const noexcept { return sample_shape_; }
  std::size_t feature_dim() const { return backbone_.feature_dim(); }
  std::size_t num_labels() const noexcept { return label_.out_features(); }

 private:
  Shape sample_shape_;
  ParameterSet<T> params_;  // declared before the layers, which register into it
  Backbone<T> backbone_;
  nn::Linear<T> hash_;
  nn::Linear<T> label_;
};

/// Discriminator: feature -> hidden ReLU layers -> 1 logit (no sigmoid: it is inside the loss).
/// The authors' code uses 512 -> 512 -> 256 -> 1; the paper describes 4096 -> 4096 -> 1.
template <class T>
class Discriminator {
 public:
  struct Config {
    std::vector<std::size_t> hidden = {512, 256};
    static Config paper() { return Config{{4096, 4096}}; }
  };

  Discriminator(std::size_t feature_dim, const Config& config = Config{}) {
    std::size_t in = feature_dim;
    for (std::size_t i = 0; i < config.hidden.size(); ++i) {
      layers_.emplace_back(params_, "fc" + std::to_string(i + 1), in, config.hidden[i]);
      in = config.hidden[i];
    }
    out_ = nn::Linear<T>(params_, "out", in, 1);
  }
  Discriminator(const Discriminator&) = delete;
  Discriminator& operator=(const Discriminator&) = delete;
  Discriminator(Discriminator&&) noexcept = default;
  Discriminator& operator=(Discriminator&&) noexcept = default;

  /// Logits [N, 1]: high means "this feature comes from LabNet".
  Var<T> forward(const Var<T>& feature) const {
    Var<T> h = feature;
    for (const auto& layer : layers_) h = relu(layer(h));
    return out_(h);
  }

  ParameterSet<T>& parameters() noexcept { return params_; }
  const ParameterSet<T>& parameters() const noexcept { return params_; }

 private:
  ParameterSet<T> params_;
  std::vector<nn::Linear<T>> layers_;
  nn::Linear<T> out_;
};

}  // namespace ssah
