#pragma once
/// \file
/// `resize_bilinear_legacy`: TensorFlow 1's default `tf.image.resize_images` (bilinear,
/// align_corners = false, no half-pixel centres), which SSAH's text network uses to bring each
/// pooled branch back to the bag-of-words width.

#include <math.h>  // NOLINT(modernize-deprecated-headers): floorf on host and device
#include <cstddef>
#include <utility>

#include "ssah/autodiff.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/ops/detail/common.hpp"

namespace ssah {
namespace detail {

/// One axis of TF1's legacy bilinear resize: output index o reads input cells `lower` and
/// `upper` = min(lower + 1, in - 1) with weights 1 - lerp and lerp, where src = o * (in / out)
/// and lower = floor(src), lerp = src - lower. The position arithmetic is done in float, as TF
/// does (`CalculateResizeScale` and `LegacyScaler` are float whatever the tensor type), so the
/// weights are the ones TF would use.
struct LegacyAxis {
  float scale;
  std::size_t in;

  struct Tap {
    std::size_t lower, upper;
    float lerp;
  };
  SSAH_HOST_DEVICE Tap tap(std::size_t o) const {
    const float src = static_cast<float>(o) * scale;
    const float fl = floorf(src);
    Tap t;
    t.lower = static_cast<std::size_t>(fl);
    if (t.lower > in - 1) t.lower = in - 1;
    t.upper = t.lower + 1 < in ? t.lower + 1 : in - 1;
    t.lerp = src - fl;
    return t;
  }
  /// Weight with which output `o` reads input `i` (0 when it does not read it), in the
  /// precision of the forward pass's blend so that the gradient is its exact transpose.
  template <class T>
  SSAH_HOST_DEVICE T weight(std::size_t o, std::size_t i) const {
    const Tap t = tap(o);
    const T l = static_cast<T>(t.lerp);
    T wgt = T(0);
    if (t.lower == i) wgt += T(1) - l;
    if (t.upper == i) wgt += l;
    return wgt;
  }
};

/// Outputs [first, last] that may read input `i` along an axis (a superset: the exact test is
/// `LegacyAxis::weight`); the margin of one cell on each side covers float rounding.
inline SSAH_HOST_DEVICE void legacy_candidates(std::size_t i, float scale, std::size_t out, std::size_t& first,
                                               std::size_t& last) {
  const double s = static_cast<double>(scale);
  const double lo = (static_cast<double>(i) - 1.0) / s - 1.0;
  const double hi = (static_cast<double>(i) + 1.0) / s + 1.0;
  first = lo <= 0.0 ? 0 : static_cast<std::size_t>(lo);
  last = hi >= static_cast<double>(out - 1) ? out - 1 : static_cast<std::size_t>(hi);
}

}  // namespace detail

/// Resizes NCHW maps to out_h x out_w with TF1's legacy bilinear interpolation (see
/// `detail::LegacyAxis`): y[oy, ox] = top + (bottom - top) * lerp_y, with top/bottom the
/// horizontal lerps of rows lower_y and upper_y. Shrinking samples without averaging, as TF does.
/// The gradient is the transposed interpolation, gathered per input cell (deterministic, no
/// atomics).
template <class T>
Var<T> resize_bilinear_legacy(const Var<T>& x, std::size_t out_h, std::size_t out_w) {
  const Shape& s = x.shape();
  SSAH_CHECK_AS(ShapeError, s.rank() == 4, "resize_bilinear_legacy: input must be NCHW (rank 4), got ", s.str());
  const std::size_t planes = s[0] * s[1], h = s[2], w = s[3];
  SSAH_CHECK_AS(ShapeError, h > 0 && w > 0 && out_h > 0 && out_w > 0, "resize_bilinear_legacy: cannot resize ",
                s.str(), " to ", out_h, " x ", out_w);
  const detail::LegacyAxis ay{static_cast<float>(h) / static_cast<float>(out_h), h};
  const detail::LegacyAxis ax{static_cast<float>(w) / static_cast<float>(out_w), w};

  Tensor<T> y = Tensor<T>::empty(Shape{s[0], s[1], out_h, out_w});
  {
    const T* xp = x.value().data();
    T* yp = y.data();
    detail::parallel_for(planes * out_h * out_w, [=] SSAH_HOST_DEVICE(std::size_t i) {
      const std::size_t plane = i / (out_h * out_w), oy = (i / out_w) % out_h, ox = i % out_w;
      const detail::LegacyAxis::Tap ty = ay.tap(oy), tx = ax.tap(ox);
      const T* src = xp + plane * h * w;
      const T lx = static_cast<T>(tx.lerp), ly = static_cast<T>(ty.lerp);
      const T tl = src[ty.lower * w + tx.lower], tr = src[ty.lower * w + tx.upper];
      const T bl = src[ty.upper * w + tx.lower], br = src[ty.upper * w + tx.upper];
      const T top = tl + (tr - tl) * lx;
      const T bottom = bl + (br - bl) * lx;
      yp[i] = top + (bottom - top) * ly;
    });
  }
  return detail::make_result<T>(std::move(y), "resize_bilinear_legacy", {x}, [=](Node<T>& self) {
    Node<T>& in = *self.inputs[0];
    auto gx = in.grad_sink();
    const T gbeta = gx.beta;
    T* gp = gx.tensor.data();
    const T* gy = self.grad.data();
    detail::parallel_for(planes * h * w, [=] SSAH_HOST_DEVICE(std::size_t i) {
      const std::size_t plane = i / (h * w), iy = (i / w) % h, ix = i % w;
      std::size_t oy0, oy1, ox0, ox1;
      detail::legacy_candidates(iy, ay.scale, out_h, oy0, oy1);
      detail::legacy_candidates(ix, ax.scale, out_w, ox0, ox1);
      const T* g = gy + plane * out_h * out_w;
      T sum = T(0);
      for (std::size_t oy = oy0; oy <= oy1; ++oy) {
        const T wy = ay.template weight<T>(oy, iy);
        if (wy == T(0)) continue;
        T row = T(0);
        for (std::size_t ox = ox0; ox <= ox1; ++ox) row += g[oy * out_w + ox] * ax.template weight<T>(ox, ix);
        sum += row * wy;
      }
      detail::accumulate(gp, i, gbeta, sum);
    });
  });
}

}  // namespace ssah
