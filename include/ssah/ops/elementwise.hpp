#pragma once
/// \file
/// Element-wise ops with their gradients. Two mechanisms cover every op here: `detail::unary` for
/// pointwise functions y = f(x), whose derivative may use x, y or both, and `detail::binary` for
/// y = f(a, b) on two tensors of the same shape. The functors they take are plain structs with
/// SSAH_HOST_DEVICE call operators (they may carry parameters such as a slope), so the same code
/// runs as a CUDA kernel or an OpenMP loop.

#include <cstddef>
#include <utility>

#include "ssah/autodiff.hpp"
#include "ssah/detail/math.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/ops/detail/common.hpp"

namespace ssah {
namespace detail {

/// y = f(x); dx += d(x, y) * dy. F and D are functors with SSAH_HOST_DEVICE calls.
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

/// Adds `d(a, b, y) * dy` into the gradient of `in` (one input of a binary op).
template <class T, class D>
void binary_backward(Node<T>& self, Node<T>& in, D d) {
  const Node<T>& na = *self.inputs[0];
  const Node<T>& nb = *self.inputs[1];
  auto g = in.grad_sink();
  const T beta = g.beta;
  T* gp = g.tensor.data();
  const T* ap = na.value.data();
  const T* bp = nb.value.data();
  const T* yp = self.value.data();
  const T* gy = self.grad.data();
  parallel_for(self.value.size(), [=] SSAH_HOST_DEVICE(std::size_t i) {
    accumulate(gp, i, beta, d(ap[i], bp[i], yp[i]) * gy[i]);
  });
}

/// y = f(a, b) element-wise on equal shapes; da += da_fn(a, b, y) * dy, db += db_fn(a, b, y) * dy.
/// Gradients are computed only for the inputs that require them (a constant target costs nothing).
template <class T, class F, class DA, class DB>
Var<T> binary(const Var<T>& a, const Var<T>& b, const char* name, F f, DA da, DB db) {
  check_same_shape(a.shape(), b.shape(), name);
  Tensor<T> y = Tensor<T>::empty(a.shape());
  {
    const T* ap = a.value().data();
    const T* bp = b.value().data();
    T* yp = y.data();
    parallel_for(y.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { yp[i] = f(ap[i], bp[i]); });
  }
  return make_result<T>(std::move(y), name, {a, b}, [da, db](Node<T>& self) {
    // Separate passes, in order, so that op(x, x) accumulates both contributions into x.
    if (self.inputs[0]->requires_grad) binary_backward(self, *self.inputs[0], da);
    if (self.inputs[1]->requires_grad) binary_backward(self, *self.inputs[1], db);
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
template <class T>
struct LeakyReluF {
  T slope;
  SSAH_HOST_DEVICE T operator()(T x) const { return x > T(0) ? x : slope * x; }
};
template <class T>
struct LeakyReluD {
  T slope;
  SSAH_HOST_DEVICE T operator()(T x, T) const { return x > T(0) ? T(1) : slope; }
};
struct TanhF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x) const { return math::tanh(x); }
};
struct TanhD {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T, T y) const { return T(1) - y * y; }
};
struct SigmoidF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x) const { return math::sigmoid(x); }
};
struct SigmoidD {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T, T y) const { return y * (T(1) - y); }
};
struct SignF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x) const { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); }
};
struct SoftplusF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x) const { return math::softplus(x); }
};
struct SoftplusD {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x, T) const { return math::sigmoid(x); }
};
struct LogSigmoidF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x) const { return -math::softplus(-x); }
};
struct LogSigmoidD {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T x, T) const { return math::sigmoid(-x); }
};
template <class T>
struct ScaleF {
  T s;
  SSAH_HOST_DEVICE T operator()(T x) const { return s * x; }
};
template <class T>
struct ScaleD {
  T s;
  SSAH_HOST_DEVICE T operator()(T, T) const { return s; }
};

struct AddF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T a, T b) const { return a + b; }
};
struct SubF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T a, T b) const { return a - b; }
};
struct MulF {
  template <class T>
  SSAH_HOST_DEVICE T operator()(T a, T b) const { return a * b; }
};
struct ConstD {  // derivative that is a constant: +1 or -1
  int c;
  template <class T>
  SSAH_HOST_DEVICE T operator()(T, T, T) const { return T(c); }
};
struct MulDA {  // d(a b)/da = b
  template <class T>
  SSAH_HOST_DEVICE T operator()(T, T b, T) const { return b; }
};
struct MulDB {  // d(a b)/db = a
  template <class T>
  SSAH_HOST_DEVICE T operator()(T a, T, T) const { return a; }
};

}  // namespace detail

/// max(x, 0); the gradient at exactly 0 is 0.
template <class T>
Var<T> relu(const Var<T>& x) {
  return detail::unary(x, "relu", detail::ReluF{}, detail::ReluD{});
}

/// x for x > 0, slope * x otherwise (the gradient at exactly 0 is `slope`).
template <class T>
Var<T> leaky_relu(const Var<T>& x, detail::non_deduced_t<T> slope) {
  return detail::unary(x, "leaky_relu", detail::LeakyReluF<T>{slope}, detail::LeakyReluD<T>{slope});
}

template <class T>
Var<T> tanh(const Var<T>& x) {
  return detail::unary(x, "tanh", detail::TanhF{}, detail::TanhD{});
}

/// 1 / (1 + e^-x), computed without overflow for large |x|.
template <class T>
Var<T> sigmoid(const Var<T>& x) {
  return detail::unary(x, "sigmoid", detail::SigmoidF{}, detail::SigmoidD{});
}

/// -1, 0 or +1 (sign(0) = 0, as numpy's sign that the reference code uses for hash codes).
///
/// The gradient is exactly zero everywhere: no straight-through estimator. A loss such as
/// ||sign(H) - H||^2 therefore treats sign(H) as a constant target, which is what the reference
/// code does (it computes sign(H) in numpy and feeds it back). The node is still recorded so that
/// the input receives a (zero) gradient tensor rather than none.
template <class T>
Var<T> sign(const Var<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  {
    const T* xp = x.value().data();
    T* yp = y.data();
    detail::parallel_for(y.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { yp[i] = detail::SignF{}(xp[i]); });
  }
  return detail::make_result<T>(std::move(y), "sign", {x}, [](Node<T>& self) {
    auto gx = self.inputs[0]->grad_sink();
    if (gx.beta == T(0)) gx.tensor.fill(T(0));  // adding zero to an existing gradient is a no-op
  });
}

/// log(1 + e^x), stable: max(x, 0) + log1p(e^-|x|) (softplus(1000) = 1000, softplus(-1000) = 0).
template <class T>
Var<T> softplus(const Var<T>& x) {
  return detail::unary(x, "softplus", detail::SoftplusF{}, detail::SoftplusD{});
}

/// log(sigmoid(x)) = -softplus(-x), stable for large |x|.
template <class T>
Var<T> log_sigmoid(const Var<T>& x) {
  return detail::unary(x, "log_sigmoid", detail::LogSigmoidF{}, detail::LogSigmoidD{});
}

/// s * x for a scalar s.
template <class T>
Var<T> scale(const Var<T>& x, detail::non_deduced_t<T> s) {
  return detail::unary(x, "scale", detail::ScaleF<T>{s}, detail::ScaleD<T>{s});
}

/// a + b (same shapes; ShapeError naming both otherwise).
template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  return detail::binary(a, b, "add", detail::AddF{}, detail::ConstD{1}, detail::ConstD{1});
}

/// a - b (same shapes).
template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  return detail::binary(a, b, "sub", detail::SubF{}, detail::ConstD{1}, detail::ConstD{-1});
}

/// Element-wise (Hadamard) product a * b (same shapes).
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  return detail::binary(a, b, "mul", detail::MulF{}, detail::MulDA{}, detail::MulDB{});
}

template <class T>
Var<T> operator+(const Var<T>& a, const Var<T>& b) {
  return add(a, b);
}
template <class T>
Var<T> operator-(const Var<T>& a, const Var<T>& b) {
  return sub(a, b);
}
/// Element-wise product, not a matrix product (that is `matmul`).
template <class T>
Var<T> operator*(const Var<T>& a, const Var<T>& b) {
  return mul(a, b);
}
template <class T>
Var<T> operator-(const Var<T>& x) {
  return scale(x, T(-1));
}
template <class T>
Var<T> operator*(const Var<T>& x, detail::non_deduced_t<T> s) {
  return scale(x, s);
}
template <class T>
Var<T> operator*(detail::non_deduced_t<T> s, const Var<T>& x) {
  return scale(x, s);
}

}  // namespace ssah
