#pragma once
// Finite-difference check of a backbone's parameter gradients (double precision).
//
// L = sum(w_f * feature) + sum(w_h * head_input) with fixed random weights; the analytic gradient
// is read from the ParameterSet's flat gradient buffer, the numeric one from central differences
// of L over the flat value buffer. Returns the worst relative error
// |analytic - numeric| / max(1, |analytic|, |numeric|) over up to `per_tensor` elements of EVERY
// parameter tensor (spread evenly, first and last included), so no tensor goes unchecked.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "gradcheck.hpp"
#include "ssah/model/backbone.hpp"
#include "ssah/ops/shape.hpp"
#include "ssah/parameters.hpp"

namespace ssah::test {

/// [feature | head_input] side by side: one root, so a single backward pass seeds both (and when
/// the two are the same node, the concatenation's backward adds both contributions into it).
template <class Net>
Var<double> both_outputs(const Net& net, const Tensor<double>& x) {
  TrunkOutput<double> out = net.forward(Var<double>(x), ForwardContext{});
  return concat_features(std::vector<Var<double>>{out.feature, out.head_input});
}

template <class Net>
double loss_of(const Net& net, const Tensor<double>& x, const Tensor<double>& w, bool backward) {
  Var<double> y = both_outputs(net, x);
  const auto v = y.value().to_host(), a = w.to_host();
  double s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += a[i] * v[i];
  if (backward) y.backward(w);
  return s;
}

struct ParamGradResult {
  double worst = 0;
  std::string where;
};

template <class Net>
ParamGradResult check_parameter_gradients(const Net& net, ParameterSet<double>& params, const Tensor<double>& x,
                                          std::size_t per_tensor, double eps = 1e-6) {
  Shape out_shape;
  {
    NoGradGuard no_grad;
    out_shape = both_outputs(net, x).shape();
  }
  const Tensor<double> w = random_tensor(out_shape, 901, 0.5, 1.5);
  params.zero_grad();
  loss_of(net, x, w, true);
  const std::vector<double> analytic = params.grads().to_host();
  const std::vector<double> p0 = params.values().to_host();
  std::vector<std::size_t> checked;
  for (const auto& e : params.entries()) {
    const std::size_t n = e.shape.size();
    const std::size_t k = n < per_tensor ? n : per_tensor;
    for (std::size_t j = 0; j < k; ++j) checked.push_back(e.offset + (k > 1 ? j * (n - 1) / (k - 1) : 0));
  }
  ParamGradResult r;
  for (std::size_t i : checked) {
    auto at = [&](double delta) {
      std::vector<double> p = p0;
      p[i] += delta;
      params.values().copy_from_host(p.data(), p.size());
      NoGradGuard no_grad;
      return loss_of(net, x, w, false);
    };
    const double numeric = (at(eps) - at(-eps)) / (2 * eps);
    const double err =
        std::abs(numeric - analytic[i]) / std::max({1.0, std::abs(numeric), std::abs(analytic[i])});
    if (err > r.worst) {
      r.worst = err;
      std::string name;
      for (const auto& e : params.entries())
        if (i >= e.offset && i < e.offset + e.shape.size()) name = e.name;
      r.where = name + " (flat " + std::to_string(i) + "): analytic " + std::to_string(analytic[i]) +
                " vs numeric " + std::to_string(numeric);
    }
  }
  params.values().copy_from_host(p0.data(), p0.size());
  return r;
}

}  // namespace ssah::test
