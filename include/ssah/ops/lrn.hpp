#pragma once
/// \file
/// Local response normalisation across channels, with TensorFlow's formula (the one SSAH's
/// reference code calls, `tf.nn.local_response_normalization`):
///
///   y_d = x_d / (bias + alpha * sum_{d' = d - r .. d + r} x_{d'}^2)^beta
///
/// over the channel axis (axis 1: [N, C] features or NCHW maps). Unlike PyTorch's
/// `LocalResponseNorm`, alpha is NOT divided by the window size, and the window is 2r + 1 wide.
/// With r = 2, bias = 2, alpha = 1e-4, beta = 0.75 this is also MatConvNet's CNN-F
/// `[5 2 1e-4 0.75]` normalisation.

#include <cstddef>
#include <utility>

#include "ssah/autodiff.hpp"
#include "ssah/detail/math.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/ops/detail/common.hpp"

namespace ssah {

/// Hyperparameters of `lrn` (TF argument names; defaults are SSAH's).
struct LrnParams {
  std::size_t depth_radius = 2;
  double bias = 2.0;
  double alpha = 1e-4;
  double beta = 0.75;
};

namespace detail {

/// Calls f(i, base, lo, hi) for the elements i in [begin, end) of a tensor whose axis 1 has
/// `channels` channels of `inner` elements each: base is the element of channel 0 at i's position,
/// and channels lo..hi (clipped to the tensor) are i's window of radius r. The channel index is
/// divided out once per run and then stepped, instead of two 64-bit divisions per element.
template <class F>
SSAH_HOST_DEVICE inline void for_each_channel_window(std::size_t begin, std::size_t end, std::size_t channels,
                                                     std::size_t inner, std::size_t r, F&& f) {
  std::size_t position = begin % inner, c = (begin / inner) % channels;
  for (std::size_t i = begin; i < end; ++i) {
    f(i, i - c * inner, c >= r ? c - r : 0, c + r < channels ? c + r : channels - 1);
    if (++position == inner) {
      position = 0;
      if (++c == channels) c = 0;
    }
  }
}

}  // namespace detail

/// TF-style local response normalisation over axis 1 of `x` (rank >= 2: [N, C], [N, C, L] or
/// [N, C, H, W]); every position of the trailing axes is normalised independently. `bias` must be
/// positive (the base of the power is then >= bias > 0). The gradient is exact.
template <class T>
Var<T> lrn(const Var<T>& x, const LrnParams& p) {
  SSAH_CHECK_AS(ShapeError, x.shape().rank() >= 2, "lrn: input ", x.shape().str(),
                " needs a channel axis (rank >= 2: [N, C] or [N, C, H, W])");
  SSAH_CHECK_AS(InvalidArgument, p.bias > 0 && p.alpha >= 0 && p.beta >= 0, "lrn: need bias > 0, alpha >= 0, ",
                "beta >= 0, got bias ", p.bias, ", alpha ", p.alpha, ", beta ", p.beta);
  const std::size_t channels = x.shape()[1];
  SSAH_CHECK_AS(ShapeError, channels > 0, "lrn: input ", x.shape().str(), " has no channels");
  const std::size_t inner = x.value().row_size() / channels;
  const std::size_t r = p.depth_radius;
  const T bias = static_cast<T>(p.bias), alpha = static_cast<T>(p.alpha), beta = static_cast<T>(p.beta);
  const std::size_t n = x.size();

  // The base s_d of the power is kept for the backward pass when a gradient will be needed.
  const bool keep_scale = grad_enabled() && x.requires_grad();
  Tensor<T> y = Tensor<T>::empty(x.shape());
  Tensor<T> scale = keep_scale ? Tensor<T>::empty(x.shape()) : Tensor<T>();
  {
    const T* xp = x.value().data();
    T* yp = y.data();
    T* sp = scale.data();  // null when not kept
    detail::parallel_for_runs(n, [=] SSAH_HOST_DEVICE(std::size_t begin, std::size_t end) {
      detail::for_each_channel_window(begin, end, channels, inner, r,
                                      [=](std::size_t i, std::size_t base, std::size_t lo, std::size_t hi) {
                                        T sum = T(0);
                                        for (std::size_t d = lo; d <= hi; ++d) {
                                          const T v = xp[base + d * inner];
                                          sum += v * v;
                                        }
                                        const T s = bias + alpha * sum;
                                        yp[i] = xp[i] * detail::math::pow_neg(s, beta);
                                        if (sp) sp[i] = s;
                                      });
    });
  }
  return detail::make_result<T>(std::move(y), "lrn", {x}, [scale, channels, inner, r, alpha, beta](Node<T>& self) {
    // y_d = x_d s_d^-beta with s_d = bias + alpha sum_{d' in W(d)} x_d'^2, and d' in W(d) <=> d in W(d'):
    //   dx_j = g_j s_j^-beta - 2 alpha beta x_j sum_{d in W(j)} g_d y_d / s_d
    Node<T>& in = *self.inputs[0];
    auto gx = in.grad_sink();
    const T gbeta = gx.beta;
    T* gp = gx.tensor.data();
    const T* xp = in.value.data();
    const T* yp = self.value.data();
    const T* gy = self.grad.data();
    const T* sp = scale.data();
    const T two_alpha_beta = T(2) * alpha * beta;
    detail::parallel_for_runs(self.value.size(), [=] SSAH_HOST_DEVICE(std::size_t begin, std::size_t end) {
      detail::for_each_channel_window(begin, end, channels, inner, r,
                                      [=](std::size_t j, std::size_t base, std::size_t lo, std::size_t hi) {
                                        T cross = T(0);
                                        for (std::size_t d = lo; d <= hi; ++d) {
                                          const std::size_t k = base + d * inner;
                                          cross += gy[k] * yp[k] / sp[k];
                                        }
                                        const T direct = gy[j] * detail::math::pow_neg(sp[j], beta);
                                        detail::accumulate(gp, j, gbeta, direct - two_alpha_beta * xp[j] * cross);
                                      });
    });
  });
}

/// `lrn` with TF's argument order: depth_radius, bias, alpha, beta (SSAH's values by default).
template <class T>
Var<T> lrn(const Var<T>& x, std::size_t depth_radius = 2, double bias = 2.0, double alpha = 1e-4, double beta = 0.75) {
  return lrn(x, LrnParams{depth_radius, bias, alpha, beta});
}

}  // namespace ssah
