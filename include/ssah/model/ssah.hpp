#pragma once
/// \file
/// `BasicSsah<T, K, Objective, Backbones...>`: the SSAH model (LabNet, one network and one
/// discriminator per modality, their initialisation, encoding), and `Ssah<K, Backbones...>`, the
/// float / paper-objective alias most users want. Training is `SsahTrainer` (model/trainer.hpp):
///
/// \code
///   ssah::Ssah<64, ssah::FeatureNet, ssah::MultiScaleTextNet> model(num_labels, {Shape{4096}, Shape{1386}});
///   ssah::fit(model, training_set, options);
///   ssah::Tensor<float> image_hashes = model.hashes(0, images);
/// \endcode

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ssah/autodiff.hpp"
#include "ssah/error.hpp"
#include "ssah/model/feature_net.hpp"
#include "ssah/model/modality_net.hpp"
#include "ssah/model/objective.hpp"

namespace ssah {

/// Rows per forward pass of `hashes()` and `label_hashes()` by default. A row's hash does not depend
/// on the other rows of its pass, but a product's rounding may depend on how many rows it has: a
/// caller that encodes in pieces of a multiple of this many rows gets the values of one call.
inline constexpr std::size_t default_encode_batch = 256;

template <class T, int K, class Objective, template <class> class... Backbones>
class BasicSsah {
 public:
  static constexpr std::size_t num_modalities = sizeof...(Backbones);
  static constexpr int bits = K;
  static_assert(num_modalities >= 1, "SSAH needs at least one modality backbone");
  using objective_type = Objective;
  using value_type = T;
  using LabNet = ModalityNet<T, K, FeatureNet>;
  using Networks = std::tuple<ModalityNet<T, K, Backbones>...>;
  using BackboneConfigs = std::tuple<typename Backbones<T>::Config...>;

  /// Structure of the model (runtime sizes).
  struct Options {
    BackboneConfigs backbones{};
    typename FeatureNet<T>::Config label_net{};
    typename Discriminator<T>::Config discriminator{};
    InitScheme init = InitScheme::ReferenceNormal;
    std::uint64_t seed = 0;
  };

  BasicSsah(std::size_t num_labels, const std::array<Shape, num_modalities>& sample_shapes,
            const Options& options = Options{})
      : BasicSsah(num_labels, sample_shapes, options, std::make_index_sequence<sizeof...(Backbones)>{}) {}

  std::size_t num_labels() const noexcept { return label_net_.num_labels(); }
  LabNet& label_net() noexcept { return label_net_; }
  const LabNet& label_net() const noexcept { return label_net_; }
  template <std::size_t I>
  auto& network() noexcept {
    return std::get<I>(nets_);
  }
  template <std::size_t I>
  const auto& network() const noexcept {
    return std::get<I>(nets_);
  }
  Discriminator<T>& discriminator(std::size_t m) { return discriminators_.at(m); }
  const Discriminator<T>& discriminator(std::size_t m) const { return discriminators_.at(m); }
  const Options& options() const noexcept { return options_; }

  /// Calls f(ParameterSet&, name) for every network: "label", "modality<i>", "discriminator<i>".
  template <class F>
  void for_each_parameter_set(F&& f) {
    f(label_net_.parameters(), std::string("label"));
    for_each_net([&](auto& net, std::size_t m) { f(net.parameters(), "modality" + std::to_string(m)); });
    for (std::size_t m = 0; m < num_modalities; ++m)
      f(discriminators_[m].parameters(), "discriminator" + std::to_string(m));
  }

  /// Calls f(network, m) for every modality network m (f is called with each backbone's type).
  template <class F>
  void for_each_net(F&& f) {
    std::size_t m = 0;
    std::apply([&](auto&... net) { (f(net, m++), ...); }, nets_);
  }
  template <class F>
  void for_each_net(F&& f) const {
    std::size_t m = 0;
    std::apply([&](const auto&... net) { (f(net, m++), ...); }, nets_);
  }

  // ---------------------------------------------------------------- encoding

  /// H = tanh(...) for every row of `inputs` ([N, sample_shape...]) of modality m, in batches.
  Tensor<T> hashes(std::size_t m, const Tensor<T>& inputs, std::size_t batch = default_encode_batch) const {
    SSAH_CHECK_AS(InvalidArgument, m < num_modalities, "hashes: modality ", m, " out of range (the model has ",
                  num_modalities, ")");
    Tensor<T> out;
    for_each_net([&](const auto& net, std::size_t i) {
      if (i == m) out = encode_with(net, inputs, batch);
    });
    return out;
  }
  /// LabNet's H for label vectors [N, c] (label -> modality retrieval).
  Tensor<T> label_hashes(const Tensor<T>& labels, std::size_t batch = default_encode_batch) const {
    return encode_with(label_net_, labels, batch);
  }

 private:
  template <std::size_t... I>
  BasicSsah(std::size_t num_labels, const std::array<Shape, num_modalities>& shapes, const Options& options,
            std::index_sequence<I...>)
      : options_(options),
        label_net_(Shape{num_labels}, num_labels, options.label_net),
        nets_(ModalityNet<T, K, Backbones>(shapes[I], num_labels, std::get<I>(options.backbones))...) {
    SSAH_CHECK_AS(InvalidArgument, num_labels > 0, "Ssah: the number of labels must be positive");
    std::uint64_t stream = options.seed * 1000;
    initialize_parameters(label_net_.parameters(), options.init, ++stream);
    for_each_net([&](auto& net, std::size_t) { initialize_parameters(net.parameters(), options.init, ++stream); });
    for_each_net([&](auto& net, std::size_t) {
      discriminators_.emplace_back(net.feature_dim(), options.discriminator);
      initialize_parameters(discriminators_.back().parameters(), options.init, ++stream);
    });
  }

  template <class Net>
  static Tensor<T> encode_with(const Net& net, const Tensor<T>& inputs, std::size_t batch) {
    SSAH_CHECK_AS(ShapeError, inputs.row_size() == net.sample_shape().size(), "encode: inputs ", inputs.shape().str(),
                  " do not hold items of shape ", net.sample_shape().str());
    NoGradGuard no_grad;
    const std::size_t n = inputs.rows();
    Tensor<T> out = Tensor<T>::empty(Shape{n, K});
    for (std::size_t first = 0; first < n; first += batch) {
      const std::size_t last = std::min(n, first + batch);
      out.rows(first, last).assign(net.forward(Var<T>(inputs.rows(first, last))).hash.value());
    }
    return out;
  }

  Options options_;
  LabNet label_net_;
  Networks nets_;
  std::vector<Discriminator<T>> discriminators_;
};

/// The model most users want: float, the paper's objective.
template <int K, template <class> class... Backbones>
using Ssah = BasicSsah<float, K, objective::Paper, Backbones...>;

}  // namespace ssah
