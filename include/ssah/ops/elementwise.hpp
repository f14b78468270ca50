#pragma once
/// \file
/// Element-wise ops with their gradients: one mechanism (`detail::unary`) for every pointwise
/// function y = f(x), whose derivative may use x, y or both.

#include <cmath>
#include <cstddef>

#include "ssah/autodiff.hpp"
#include "ssah/detail/parallel.hpp"

namespace ssah {
namespace detail {

/// Adds or writes (beta = 1 or 0) `value` into `out[i]` without reading `out` when beta == 0.
template <class T>
SSAH_HOST_DEVICE inline void accumulate(T* out, std::size_t i, T beta, T value) {
  out[i] = beta == T(0) ? value : out[i] + value;
}

/// y = F{}(x); dx += D{}(x, y) * dy. F and D are stateless functors with SSAH_HOST_DEVICE calls.
template <class T, class F, class D>
Var<T> unary(const Var<T>& x, const char* name, F f, D d) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  {
    const T* xp = x.value().data();
    T* yp = y.data();
    parallel_for(y.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { yp[i] = f(xp[i]); });
  }
  return make_result<T>(std::move(y), name, {x}, [d](Node<T>& self) {
    Node<T>& in = *self.inputs[0];
    auto gx = in.grad_sink();
    const T beta = gx.beta;
    T* gp = gx.tensor.data();
    const T* xp = in.value.data();
    const T* yp = self.value.data();
    const T* gy = self.grad.data();
    parallel_for(self.value.size(), [=] SSAH_HOST_DEVICE(std::size_t i) {
      accumulate(gp, i, beta, d(xp[i], yp[i]) * gy[i]);
    });
  });
}

struct ReluF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x) const { return x > T(0) ? x : T(0); }
};
struct ReluD {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x, T) const { return x > T(0) ? T(1) : T(0); }
};
struct TanhF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x) const { return tanh(x); }
};
struct TanhD {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T, T y) const { return T(1) - y * y; }
};

}  // namespace detail

/// max(x, 0); the gradient at exactly 0 is 0.
template <class T>
Var<T> relu(const Var<T>& x) {
  return detail::unary(x, "relu", detail::ReluF{}, detail::ReluD{});
}

template <class T>
Var<T> tanh(const Var<T>& x) {
  return detail::unary(x, "tanh", detail::TanhF{}, detail::TanhD{});
}

}  // namespace ssah
