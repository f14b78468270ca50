#pragma once
/// \file
/// Loss building blocks with gradients: element-wise sigmoid cross-entropy on logits, element-wise
/// squared error, and a fused scalar sum of squared errors. Reduce the element-wise forms with
/// `sum` / `mean` (ssah/ops/reduce.hpp). Targets may be constants (a Var without gradient): no
/// gradient is computed for an input that does not require one.

#include <cstddef>
#include <utility>

#include "ssah/autodiff.hpp"
#include "ssah/detail/math.hpp"
#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/reduce.hpp"

namespace ssah {
namespace detail {

struct SigmoidCeF {  // max(x, 0) - x t + log1p(e^-|x|)
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x, T t) const { return math::softplus(x) - x * t; }
};
struct SigmoidCeDX {  // sigmoid(x) - t
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x, T t, T) const { return math::sigmoid(x) - t; }
};
struct SigmoidCeDT {  // -x
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x, T, T) const { return -x; }
};
struct SquaredErrorF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T a, T b) const { return (a - b) * (a - b); }
};
struct SquaredErrorDA {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T a, T b, T) const { return T(2) * (a - b); }
};
struct SquaredErrorDB {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T a, T b, T) const { return T(2) * (b - a); }
};
template <class T>
struct SquaredDiffAt {
  const T* a;
  const T* b;
  SSAH_HOST_DEVICE T operator()(std::size_t i) const { return (a[i] - b[i]) * (a[i] - b[i]); }
};

}  // namespace detail

/// Element-wise sigmoid cross-entropy of `logits` against `targets` in [0, 1] (same shapes), as
/// TensorFlow's `sigmoid_cross_entropy_with_logits`: -t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)),
/// computed stably as max(x, 0) - x t + log1p(e^-|x|). Gradients: sigmoid(x) - t for the logits,
/// -x for the targets.
template <class T>
Var<T> sigmoid_cross_entropy_with_logits(const Var<T>& logits, const Var<T>& targets) {
  return detail::binary(logits, targets, "sigmoid_cross_entropy_with_logits", detail::SigmoidCeF{},
                        detail::SigmoidCeDX{}, detail::SigmoidCeDT{});
}

/// Element-wise (a - b)^2 (same shapes).
template <class T>
Var<T> squared_error(const Var<T>& a, const Var<T>& b) {
  return detail::binary(a, b, "squared_error", detail::SquaredErrorF{}, detail::SquaredErrorDA{},
                        detail::SquaredErrorDB{});
}

/// sum((a - b)^2) as a tensor of shape [1], fused: no element-wise intermediate is stored.
/// Multiply by 0.5 (`scale`) for TensorFlow's `l2_loss(a - b)`.
template <class T>
Var<T> sum_squared_error(const Var<T>& a, const Var<T>& b) {
  check_same_shape(a.shape(), b.shape(), "sum_squared_error");
  Tensor<T> y = Tensor<T>::empty(Shape{1});
  detail::deterministic_sum(a.size(), detail::SquaredDiffAt<T>{a.value().data(), b.value().data()}, y.data());
  return detail::make_result<T>(std::move(y), "sum_squared_error", {a, b}, [](Node<T>& self) {
    Node<T>& na = *self.inputs[0];
    Node<T>& nb = *self.inputs[1];
    const T* ap = na.value.data();
    const T* bp = nb.value.data();
    const T* gy = self.grad.data();
    const std::size_t n = na.value.size();
    // Separate passes, in order, so that sum_squared_error(x, x) accumulates both (zero) terms.
    for (int k = 0; k < 2; ++k) {
      Node<T>& in = k == 0 ? na : nb;
      if (!in.requires_grad) continue;
      auto g = in.grad_sink();
      const T beta = g.beta;
      const T factor = k == 0 ? T(2) : T(-2);
      T* gp = g.tensor.data();
      detail::parallel_for(n, [=] SSAH_HOST_DEVICE(std::size_t i) {
        detail::accumulate(gp, i, beta, factor * (ap[i] - bp[i]) * gy[0]);
      });
    }
  });
}

}  // namespace ssah
