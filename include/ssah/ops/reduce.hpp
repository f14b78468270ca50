#pragma once
/// \file
/// Reductions with gradients: sum and mean to a scalar, column and row sums and means.
///
/// Every reduction adds in a fixed order that depends only on the input size: no atomics, and no
/// dependence on the device system or the number of threads. The same input gives bit-identical
/// results on every run (and on OMP and CPP alike); this keeps training runs reproducible.

#include <cstddef>
#include <utility>

#include "ssah/autodiff.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/ops/detail/common.hpp"

namespace ssah {
namespace detail {

/// Reads element i of a device array (the getter of the upper levels of `deterministic_sum`).
template <class T>
struct LoadAt {
  const T* p;
  SSAH_HOST_DEVICE T operator()(std::size_t i) const { return p[i]; }
};

/// Elements per leaf of the summation tree.
constexpr std::size_t reduce_chunk = 512;

/// out[0] = scale * sum_{i < n} get(i) on the device, without a host round trip. The sum is a fixed
/// tree: leaves of `reduce_chunk` consecutive terms added left to right, then the leaf sums reduced
/// the same way. `get` must be a functor type (not a lambda: nvcc forbids closure types as template
/// arguments of a function that defines an extended lambda).
template <class T, class Get>
void deterministic_sum(std::size_t n, Get get, T* out, T scale = T(1)) {
  if (n <= reduce_chunk) {
    parallel_for(1, [=] SSAH_HOST_DEVICE(std::size_t) {
      T s = T(0);
      for (std::size_t i = 0; i < n; ++i) s += get(i);
      out[0] = scale * s;
    });
    return;
  }
  const std::size_t leaves = (n + reduce_chunk - 1) / reduce_chunk;
  Tensor<T> partial = Tensor<T>::empty(Shape{leaves});
  T* pp = partial.data();
  parallel_for(leaves, [=] SSAH_HOST_DEVICE(std::size_t b) {
    const std::size_t first = b * reduce_chunk;
    const std::size_t last = first + reduce_chunk < n ? first + reduce_chunk : n;
    T s = T(0);
    for (std::size_t i = first; i < last; ++i) s += get(i);
    pp[b] = s;
  });
  deterministic_sum(leaves, LoadAt<T>{pp}, out, scale);
}

/// Backward of a full reduction: dx[i] += scale * dy[0].
template <class T>
void broadcast_scalar_grad(Node<T>& self, T scale) {
  auto gx = self.inputs[0]->grad_sink();
  const T beta = gx.beta;
  T* gp = gx.tensor.data();
  const T* gy = self.grad.data();
  parallel_for(gx.tensor.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { accumulate(gp, i, beta, scale * gy[0]); });
}

template <class T>
Var<T> reduce_all(const Var<T>& x, const char* name, T scale) {
  Tensor<T> y = Tensor<T>::empty(Shape{1});
  deterministic_sum(x.size(), LoadAt<T>{x.value().data()}, y.data(), scale);
  return make_result<T>(std::move(y), name, {x}, [scale](Node<T>& self) { broadcast_scalar_grad(self, scale); });
}

/// Sums along one axis of a [rows, n] array: y[o] = scale * sum_{k < length} x[o * outer_stride +
/// k * inner_stride] for every element o of `out_shape`. One thread per output walks its sum (for
/// columns, threads of neighbouring columns read neighbouring addresses: coalesced on CUDA).
template <class T>
Var<T> reduce_axis(const Var<T>& x, const char* name, T scale, Shape out_shape, std::size_t outer_stride,
                   std::size_t length, std::size_t inner_stride) {
  const std::size_t outputs = out_shape.size();
  Tensor<T> y = Tensor<T>::empty(std::move(out_shape));
  {
    const T* xp = x.value().data();
    T* yp = y.data();
    parallel_for(outputs, [=] SSAH_HOST_DEVICE(std::size_t o) {
      T s = T(0);
      for (std::size_t k = 0; k < length; ++k) s += xp[o * outer_stride + k * inner_stride];
      yp[o] = scale * s;
    });
  }
  return make_result<T>(std::move(y), name, {x}, [outputs, outer_stride, scale](Node<T>& self) {
    auto gx = self.inputs[0]->grad_sink();
    const T beta = gx.beta;
    T* gp = gx.tensor.data();
    const T* gy = self.grad.data();
    // Element i of x fed output (i / outer_stride) % outputs.
    parallel_for(gx.tensor.size(), [=] SSAH_HOST_DEVICE(std::size_t i) {
      accumulate(gp, i, beta, scale * gy[(i / outer_stride) % outputs]);
    });
  });
}

/// [rows, n] -> [n]: y[j] = scale * sum_r x[r, j].
template <class T>
Var<T> reduce_columns(const Var<T>& x, const char* name, T scale) {
  const std::size_t rows = x.value().rows(), n = x.value().row_size();
  return reduce_axis(x, name, scale, Shape{n}, 1, rows, n);
}

/// [rows, n] -> [rows, 1]: y[r] = scale * sum_j x[r, j].
template <class T>
Var<T> reduce_rows(const Var<T>& x, const char* name, T scale) {
  const std::size_t rows = x.value().rows(), n = x.value().row_size();
  return reduce_axis(x, name, scale, Shape{rows, 1}, n, n, 1);
}

}  // namespace detail

/// Sum of all elements, as a tensor of shape [1] (usable as a `backward()` root).
template <class T>
Var<T> sum(const Var<T>& x) {
  return detail::reduce_all(x, "sum", T(1));
}

/// Mean of all elements, shape [1]. An empty input is an error (the mean is undefined).
template <class T>
Var<T> mean(const Var<T>& x) {
  SSAH_CHECK_AS(ShapeError, x.size() > 0, "mean: empty input of shape ", x.shape().str());
  return detail::reduce_all(x, "mean", T(1) / static_cast<T>(x.size()));
}

/// Sums down the rows: [N, D] -> [D] (a tensor of higher rank is viewed as [N, rest]).
template <class T>
Var<T> column_sums(const Var<T>& x) {
  return detail::reduce_columns(x, "column_sums", T(1));
}

/// Means down the rows: [N, D] -> [D]. N must be positive.
template <class T>
Var<T> column_means(const Var<T>& x) {
  SSAH_CHECK_AS(ShapeError, x.value().rows() > 0, "column_means: no rows in shape ", x.shape().str());
  return detail::reduce_columns(x, "column_means", T(1) / static_cast<T>(x.value().rows()));
}

/// Sums along each row: [N, D] -> [N, 1] (a tensor of higher rank is viewed as [N, rest]).
template <class T>
Var<T> row_sums(const Var<T>& x) {
  return detail::reduce_rows(x, "row_sums", T(1));
}

/// Means along each row: [N, D] -> [N, 1]. D must be positive.
template <class T>
Var<T> row_means(const Var<T>& x) {
  SSAH_CHECK_AS(ShapeError, x.value().row_size() > 0, "row_means: empty rows in shape ", x.shape().str());
  return detail::reduce_rows(x, "row_means", T(1) / static_cast<T>(x.value().row_size()));
}

}  // namespace ssah
