#pragma once
// Finite-difference gradient checks in double precision, shared by every op and network test.
//
// check_gradients(f, inputs) builds L = sum(w * f(inputs)) with fixed random weights w (so every
// output element matters with a distinct weight), back-propagates, and compares each input's
// analytic gradient with central differences of L. It returns the worst relative error
//   |analytic - numeric| / max(1, |analytic|, |numeric|)
// over all checked elements; tests assert it is below a stated threshold.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ssah/autodiff.hpp"

namespace ssah::test {

using Fn = std::function<Var<double>(const std::vector<Var<double>>&)>;

inline Tensor<double> random_tensor(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(shape.size());
  for (auto& x : v) x = u(gen);
  return Tensor<double>::from_host(shape, v);
}

struct GradCheckResult {
  double max_rel_error = 0;
  std::string where;  // "input i, element j: analytic a vs numeric n"
};

/// Compares analytic and numeric gradients for the inputs flagged in `check` (all by default).
/// At most `max_elements` elements per input are checked (spread evenly) to keep big cases fast.
inline GradCheckResult check_gradients(const Fn& f, const std::vector<Tensor<double>>& inputs,
                                       std::vector<bool> check = {}, double eps = 1e-6,
                                       std::size_t max_elements = 400) {
  if (check.empty()) check.assign(inputs.size(), true);
  auto make_vars = [&](const std::vector<Tensor<double>>& values) {
    std::vector<Var<double>> vars;
    for (std::size_t i = 0; i < values.size(); ++i) vars.emplace_back(values[i].clone(), bool(check[i]));
    return vars;
  };
  // Output weights.
  std::vector<Var<double>> probe = make_vars(inputs);
  Var<double> out = f(probe);
  const Tensor<double> w = random_tensor(out.shape(), 12345, 0.5, 1.5);
  const std::vector<double> wh = w.to_host();
  auto loss_of = [&](const std::vector<Tensor<double>>& values) {
    NoGradGuard no_grad;
    std::vector<Var<double>> vars = make_vars(values);
    std::vector<double> y = f(vars).value().to_host();
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += wh[i] * y[i];
    return s;
  };
  out.backward(w);

  GradCheckResult result;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!check[i]) continue;
    std::vector<double> analytic = probe[i].has_grad() ? probe[i].grad().to_host()
                                                        : std::vector<double>(inputs[i].size(), 0.0);
    const std::size_t n = inputs[i].size();
    const std::size_t stride = std::max<std::size_t>(1, n / max_elements);
    for (std::size_t j = 0; j < n; j += stride) {
      std::vector<Tensor<double>> plus, minus;
      for (const auto& t : inputs) {
        plus.push_back(t.clone());
        minus.push_back(t.clone());
      }
      std::vector<double> hp = plus[i].to_host(), hm = minus[i].to_host();
      hp[j] += eps;
      hm[j] -= eps;
      plus[i].copy_from_host(hp.data(), n);
      minus[i].copy_from_host(hm.data(), n);
      const double numeric = (loss_of(plus) - loss_of(minus)) / (2 * eps);
      const double err =
          std::abs(analytic[j] - numeric) / std::max({1.0, std::abs(analytic[j]), std::abs(numeric)});
      if (err > result.max_rel_error) {
        result.max_rel_error = err;
        result.where = "input " + std::to_string(i) + ", element " + std::to_string(j) + ": analytic " +
                       std::to_string(analytic[j]) + " vs numeric " + std::to_string(numeric);
      }
    }
  }
  return result;
}

}  // namespace ssah::test

/// Asserts the worst relative gradient error is below `tol`, printing where it occurred.
#define SSAH_CHECK_GRADIENTS(tol, ...)                                   \
  do {                                                                   \
    auto ssah_gc_result = ::ssah::test::check_gradients(__VA_ARGS__);    \
    INFO("worst gradient mismatch at ", ssah_gc_result.where);           \
    CHECK(ssah_gc_result.max_rel_error < (tol));                         \
  } while (0)
