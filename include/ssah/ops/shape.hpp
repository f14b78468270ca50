#pragma once
/// \file
/// Shape ops with gradients: concatenation along axis 1 (features of [N, D] tensors, channels of
/// NCHW tensors), reshape and flatten (views of the input's storage).

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "ssah/autodiff.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/ops/detail/common.hpp"

namespace ssah {
namespace detail {

/// Concatenates tensors viewed as [N, C_k, S] along the middle axis into [N, sum C_k, S]. Every
/// input has the rank and shape of the first except on axis 1; the result keeps that rank.
template <class T>
Var<T> concat_axis1(const std::vector<Var<T>>& xs, const char* name) {
  SSAH_CHECK_AS(InvalidArgument, !xs.empty(), name, ": nothing to concatenate");
  const Shape& first = xs[0].shape();
  SSAH_CHECK_AS(ShapeError, first.rank() >= 2, name, ": inputs need rank >= 2, got ", first.str());
  std::size_t channels = 0;
  for (const auto& x : xs) {
    const Shape& s = x.shape();
    bool ok = s.rank() == first.rank() && s[0] == first[0];
    for (int a = 2; ok && a < s.rank(); ++a) ok = s[a] == first[a];
    SSAH_CHECK_AS(ShapeError, ok, name, ": shapes differ outside axis 1, ", first.str(), " vs ", s.str());
    channels += s[1];
  }
  const std::size_t rows = first[0];
  std::size_t trailing = 1;  // S: the product of the extents after axis 1
  for (int a = 2; a < first.rank(); ++a) trailing *= first[a];
  Shape out_shape;
  switch (first.rank()) {
    case 2: out_shape = Shape{rows, channels}; break;
    case 3: out_shape = Shape{rows, channels, first[2]}; break;
    default: out_shape = Shape{rows, channels, first[2], first[3]}; break;
  }
  const std::size_t out_row = channels * trailing;
  Tensor<T> y = Tensor<T>::empty(out_shape);
  std::vector<std::size_t> offsets;  // start of each input inside an output row
  std::size_t offset = 0;
  for (const auto& x : xs) {
    const std::size_t in_row = x.shape()[1] * trailing;
    const T* xp = x.value().data();
    T* yp = y.data() + offset;
    parallel_for(rows * in_row, [=] SSAH_HOST_DEVICE(std::size_t i) {
      yp[(i / in_row) * out_row + i % in_row] = xp[i];
    });
    offsets.push_back(offset);
    offset += in_row;
  }
  return make_result<T>(std::move(y), name, xs, [offsets, rows, out_row](Node<T>& self) {
    for (std::size_t k = 0; k < self.inputs.size(); ++k) {
      Node<T>& in = *self.inputs[k];
      if (!in.requires_grad) continue;
      const std::size_t in_row = in.value.row_size();
      auto g = in.grad_sink();
      const T beta = g.beta;
      T* gp = g.tensor.data();
      const T* gy = self.grad.data() + offsets[k];
      parallel_for(rows * in_row, [=] SSAH_HOST_DEVICE(std::size_t i) {
        accumulate(gp, i, beta, gy[(i / in_row) * out_row + i % in_row]);
      });
    }
  });
}

}  // namespace detail

/// Concatenates [N, D_k] tensors along the feature axis into [N, sum D_k].
template <class T>
Var<T> concat_features(const std::vector<Var<T>>& xs) {
  for (const auto& x : xs)
    SSAH_CHECK_AS(ShapeError, x.shape().rank() == 2, "concat_features: inputs must be [N, D], got ", x.shape().str());
  return detail::concat_axis1(xs, "concat_features");
}

/// Concatenates NCHW tensors along the channel axis: [N, C_k, H, W] -> [N, sum C_k, H, W]. Rank-3
/// ([N, C, L]) and rank-2 ([N, C]) inputs are concatenated on axis 1 the same way. N and the
/// trailing extents must agree.
template <class T>
Var<T> concat_channels(const std::vector<Var<T>>& xs) {
  return detail::concat_axis1(xs, "concat_channels");
}

/// The same values viewed with another shape of the same size (no copy: the result shares the
/// input's storage); the gradient is reshaped back.
template <class T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  SSAH_CHECK_AS(ShapeError, shape.size() == x.size(), "reshape: cannot view ", x.shape().str(), " as ", shape.str());
  return detail::make_result<T>(x.value().reshape(shape), "reshape", {x}, [](Node<T>& self) {
    auto g = self.inputs[0]->grad_sink();
    const T beta = g.beta;
    T* gp = g.tensor.data();
    const T* gy = self.grad.data();
    detail::parallel_for(self.grad.size(), [=] SSAH_HOST_DEVICE(std::size_t i) {
      detail::accumulate(gp, i, beta, gy[i]);
    });
  });
}

/// [N, ...] -> [N, product of the rest] (a view, like `reshape`).
template <class T>
Var<T> flatten(const Var<T>& x) {
  return reshape(x, Shape{x.value().rows(), x.value().row_size()});
}

/// Interleaves C tensors of equal size L (each viewed as [N, L / N]) along a new minor axis:
/// out[n, l*C + c] = x_c[n, l], shape [N, L/N * C] (the multi-scale text network's fusion). The
/// gradient de-interleaves.
template <class T>
Var<T> interleave_minor(const std::vector<Var<T>>& xs) {
  SSAH_CHECK_AS(InvalidArgument, !xs.empty(), "interleave_minor: nothing to interleave");
  const std::size_t per = xs[0].size(), rows = xs[0].value().rows();
  for (const auto& x : xs)
    SSAH_CHECK_AS(ShapeError, x.size() == per && x.value().rows() == rows, "interleave_minor: shapes differ, ",
                  xs[0].shape().str(), " vs ", x.shape().str());
  const std::size_t c_count = xs.size();
  Tensor<T> y = Tensor<T>::empty(Shape{rows, rows ? per / rows * c_count : 0});
  for (std::size_t c = 0; c < c_count; ++c) {
    const T* xp = xs[c].value().data();
    T* yp = y.data();
    detail::parallel_for(per, [=] SSAH_HOST_DEVICE(std::size_t i) { yp[i * c_count + c] = xp[i]; });
  }
  return detail::make_result<T>(std::move(y), "interleave_minor", xs, [per, c_count](Node<T>& self) {
    const T* gy = self.grad.data();
    for (std::size_t c = 0; c < c_count; ++c) {
      Node<T>& in = *self.inputs[c];
      if (!in.requires_grad) continue;
      auto g = in.grad_sink();
      const T beta = g.beta;
      T* gp = g.tensor.data();
      detail::parallel_for(
          per, [=] SSAH_HOST_DEVICE(std::size_t i) { detail::accumulate(gp, i, beta, gy[i * c_count + c]); });
    }
  });
}

}  // namespace ssah
