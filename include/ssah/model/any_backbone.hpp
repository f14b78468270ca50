#pragma once
/// \file
/// `AnyBackbone<T>`: a backbone chosen at run time among the library's (FeatureNet,
/// MultiScaleTextNet, CnnF). Programs that take the backbone from the command line or a config
/// file instantiate `BasicSsah<T, K, Objective, AnyBackbone, ...>` once instead of once per
/// combination of backbones. It meets the backbone concept itself.

#include <cstddef>
#include <string>
#include <utility>
#include <variant>

#include "ssah/error.hpp"
#include "ssah/model/backbone.hpp"
#include "ssah/model/cnnf.hpp"
#include "ssah/model/feature_net.hpp"
#include "ssah/model/text_net.hpp"

namespace ssah {

template <class T>
class AnyBackbone {
 public:
  struct Config {
    /// "feature", "text" or "cnnf" (the `kind` of the backbone to build).
    std::string kind = "feature";
    typename FeatureNet<T>::Config feature{};
    typename MultiScaleTextNet<T>::Config text{};
    typename CnnF<T>::Config cnnf = CnnF<T>::Config::small();
  };
  static constexpr const char* kind = "any";

  AnyBackbone(const Shape& sample_shape, const Config& config, ParameterSet<T>& params)
      : net_(make(sample_shape, config, params)) {}

  TrunkOutput<T> forward(const Var<T>& batch, const ForwardContext& ctx) const {
    return std::visit([&](const auto& net) { return net.forward(batch, ctx); }, net_);
  }
  std::size_t feature_dim() const {
    return std::visit([](const auto& net) { return net.feature_dim(); }, net_);
  }
  /// The kind of the backbone actually built.
  const char* built_kind() const {
    return std::visit([](const auto& net) { return std::decay_t<decltype(net)>::kind; }, net_);
  }
  /// The built backbone, e.g. `std::get_if<CnnF<float>>(&b.variant())` to load pretrained weights.
  const std::variant<FeatureNet<T>, MultiScaleTextNet<T>, CnnF<T>>& variant() const noexcept { return net_; }
  std::variant<FeatureNet<T>, MultiScaleTextNet<T>, CnnF<T>>& variant() noexcept { return net_; }

 private:
  using Net = std::variant<FeatureNet<T>, MultiScaleTextNet<T>, CnnF<T>>;
  static Net make(const Shape& shape, const Config& c, ParameterSet<T>& params) {
    if (c.kind == FeatureNet<T>::kind) return Net(std::in_place_type<FeatureNet<T>>, shape, c.feature, params);
    if (c.kind == MultiScaleTextNet<T>::kind)
      return Net(std::in_place_type<MultiScaleTextNet<T>>, shape, c.text, params);
    if (c.kind == CnnF<T>::kind) return Net(std::in_place_type<CnnF<T>>, shape, c.cnnf, params);
    detail::fail<InvalidArgument>("AnyBackbone: unknown backbone '", c.kind, "' (expected feature, text or cnnf)");
  }

  Net net_;
};

}  // namespace ssah
