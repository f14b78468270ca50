#pragma once
/// \file
/// Pooling ops with gradients: `avg_pool_1d` (the text network's multi-scale branches) and
/// `max_pool2d` on NCHW maps with TensorFlow-`tf.pad`-style asymmetric zero padding (CNN-F).

#include <cstddef>
#include <cstdint>
#include <utility>

#include "ssah/autodiff.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/ops/detail/common.hpp"

namespace ssah {

/// Zero padding on each side of the two spatial axes (MatConvNet's [top bottom left right]).
/// Shared by `max_pool2d` and `conv2d`.
struct Padding2d {
  std::size_t top = 0, bottom = 0, left = 0, right = 0;
  static Padding2d symmetric(std::size_t p) { return Padding2d{p, p, p, p}; }
};

namespace detail {

/// `shape` with the extent of `axis` replaced by `extent`.
inline Shape with_extent(const Shape& shape, int axis, std::size_t extent) {
  std::size_t e[Shape::max_rank] = {0, 0, 0, 0};
  for (int i = 0; i < shape.rank(); ++i) e[i] = i == axis ? extent : shape[i];
  switch (shape.rank()) {
    case 1: return Shape{e[0]};
    case 2: return Shape{e[0], e[1]};
    case 3: return Shape{e[0], e[1], e[2]};
    default: return Shape{e[0], e[1], e[2], e[3]};
  }
}

/// Output extent of a VALID window of `size` with `stride` over `in + pad_before + pad_after`
/// cells; throws ShapeError (naming `what` and the input shape) when the window does not fit.
inline std::size_t window_output_extent(std::size_t in, std::size_t pad_before, std::size_t pad_after,
                                        std::size_t size, std::size_t stride, const char* what,
                                        const Shape& input_shape) {
  SSAH_CHECK_AS(InvalidArgument, size > 0 && stride > 0, what, ": window size and stride must be positive, got ",
                size, " and ", stride);
  const std::size_t padded = in + pad_before + pad_after;
  SSAH_CHECK_AS(ShapeError, padded >= size, what, ": a window of ", size, " does not fit in ", in,
                " cells (+", pad_before + pad_after, " padding) of input ", input_shape.str());
  return (padded - size) / stride + 1;
}

}  // namespace detail

/// Average pooling along the last axis with window = stride = `window`, VALID (TF `avg_pool`
/// with ksize = strides = [1, 1, window, 1] on the reference's [N, 1, dT, 1] text tensor):
/// y[..., o] = mean(x[..., o*window .. o*window + window - 1]); trailing cells that do not fill
/// a window are dropped, so the last extent becomes floor(W / window). Any rank >= 1
/// ([N, W], [N, C, W], [N, C, 1, W]); every leading index is an independent row.
template <class T>
Var<T> avg_pool_1d(const Var<T>& x, std::size_t window) {
  const Shape& s = x.shape();
  SSAH_CHECK_AS(ShapeError, s.rank() >= 1, "avg_pool_1d: input must have at least one axis, got ", s.str());
  const std::size_t width = s[s.rank() - 1];
  const std::size_t out_w = detail::window_output_extent(width, 0, 0, window, window, "avg_pool_1d", s);
  const std::size_t rows = width ? x.size() / width : 0;
  Tensor<T> y = Tensor<T>::empty(detail::with_extent(s, s.rank() - 1, out_w));
  const T inv = T(1) / static_cast<T>(window);
  {
    const T* xp = x.value().data();
    T* yp = y.data();
    detail::parallel_for(rows * out_w, [=] SSAH_HOST_DEVICE(std::size_t i) {
      const std::size_t row = i / out_w, o = i % out_w;
      const T* src = xp + row * width + o * window;
      T sum = T(0);
      for (std::size_t k = 0; k < window; ++k) sum += src[k];
      yp[i] = sum * inv;
    });
  }
  return detail::make_result<T>(std::move(y), "avg_pool_1d", {x}, [=](Node<T>& self) {
    Node<T>& in = *self.inputs[0];
    auto gx = in.grad_sink();
    const T gbeta = gx.beta;
    T* gp = gx.tensor.data();
    const T* gy = self.grad.data();
    detail::parallel_for(rows * width, [=] SSAH_HOST_DEVICE(std::size_t i) {
      const std::size_t row = i / width, o = (i % width) / window;
      detail::accumulate(gp, i, gbeta, o < out_w ? gy[row * out_w + o] * inv : T(0));
    });
  });
}

/// Window, stride and padding of a 2-D pooling.
struct Pool2dParams {
  std::size_t size_h = 2, size_w = 2;
  std::size_t stride_h = 2, stride_w = 2;
  Padding2d pad{};
};

/// Max pooling on NCHW maps: the input is first padded with ZEROS (`pad`), then a VALID
/// size_h x size_w window moves with the given strides; output extents are
/// (H + top + bottom - size_h) / stride_h + 1 (and likewise for W).
///
/// Zero padding is what SSAH's reference code does (`tf.pad(..., "CONSTANT")` then a VALID
/// `tf.nn.max_pool`), so padded cells take part in the max with value 0: a window whose real
/// cells are all negative outputs 0. MatConvNet instead ignores padded cells; in CNN-F pooling
/// follows ReLU (and LRN, which keeps signs), so inputs are >= 0 and the two agree.
///
/// The gradient goes to the arg-max: the first maximum in row-major order over the padded window
/// (deterministic on ties); when that cell is padding the window passes no gradient.
template <class T>
Var<T> max_pool2d(const Var<T>& x, const Pool2dParams& p) {
  const Shape& s = x.shape();
  SSAH_CHECK_AS(ShapeError, s.rank() == 4, "max_pool2d: input must be NCHW (rank 4), got ", s.str());
  const std::size_t planes = s[0] * s[1], h = s[2], w = s[3];
  const std::size_t oh = detail::window_output_extent(h, p.pad.top, p.pad.bottom, p.size_h, p.stride_h,
                                                      "max_pool2d (height)", s);
  const std::size_t ow = detail::window_output_extent(w, p.pad.left, p.pad.right, p.size_w, p.stride_w,
                                                      "max_pool2d (width)", s);
  SSAH_CHECK_AS(ShapeError, h * w <= 0x7fffffffu, "max_pool2d: maps of ", h, " x ", w, " are too large");
  const std::size_t kh = p.size_h, kw = p.size_w, sh = p.stride_h, sw = p.stride_w;
  const std::size_t pt = p.pad.top, pl = p.pad.left;

  const bool keep_argmax = grad_enabled() && x.requires_grad();
  Tensor<T> y = Tensor<T>::empty(Shape{s[0], s[1], oh, ow});
  // Arg-max per output: the index in its H x W plane, or -1 when a padded cell holds the maximum.
  Tensor<std::int32_t> argmax = keep_argmax ? Tensor<std::int32_t>::empty(y.shape()) : Tensor<std::int32_t>();
  {
    const T* xp = x.value().data();
    T* yp = y.data();
    std::int32_t* ap = argmax.data();
    detail::parallel_for(planes * oh * ow, [=] SSAH_HOST_DEVICE(std::size_t i) {
      const std::size_t plane = i / (oh * ow), oy = (i / ow) % oh, ox = i % ow;
      const T* src = xp + plane * h * w;
      T best = T(0);
      std::int32_t arg = -1;
      bool first = true;
      for (std::size_t ky = 0; ky < kh; ++ky) {
        const std::size_t py = oy * sh + ky;  // row in the padded map
        const bool row_in = py >= pt && py - pt < h;
        for (std::size_t kx = 0; kx < kw; ++kx) {
          const std::size_t px = ox * sw + kx;
          const bool in = row_in && px >= pl && px - pl < w;
          const T v = in ? src[(py - pt) * w + (px - pl)] : T(0);
          if (first || v > best) {
            best = v;
            arg = in ? static_cast<std::int32_t>((py - pt) * w + (px - pl)) : -1;
            first = false;
          }
        }
      }
      yp[i] = best;
      if (ap) ap[i] = arg;
    });
  }
  return detail::make_result<T>(std::move(y), "max_pool2d", {x}, [=](Node<T>& self) {
    Node<T>& in = *self.inputs[0];
    auto gx = in.grad_sink();
    const T gbeta = gx.beta;
    T* gp = gx.tensor.data();
    const T* gy = self.grad.data();
    const std::int32_t* ap = argmax.data();
    // Gather (no atomics): each input cell visits the windows that contain it.
    detail::parallel_for(planes * h * w, [=] SSAH_HOST_DEVICE(std::size_t i) {
      const std::size_t plane = i / (h * w), iy = (i / w) % h, ix = i % w;
      const std::size_t py = iy + pt, px = ix + pl;
      const std::size_t oy_lo = py + 1 > kh ? (py + 1 - kh + sh - 1) / sh : 0;
      const std::size_t ox_lo = px + 1 > kw ? (px + 1 - kw + sw - 1) / sw : 0;
      const std::size_t oy_hi = py / sh < oh - 1 ? py / sh : oh - 1;
      const std::size_t ox_hi = px / sw < ow - 1 ? px / sw : ow - 1;
      const std::int32_t self_index = static_cast<std::int32_t>(iy * w + ix);
      const std::size_t out_base = plane * oh * ow;
      T sum = T(0);
      for (std::size_t oy = oy_lo; oy <= oy_hi; ++oy)
        for (std::size_t ox = ox_lo; ox <= ox_hi; ++ox) {
          const std::size_t o = out_base + oy * ow + ox;
          if (ap[o] == self_index) sum += gy[o];
        }
      detail::accumulate(gp, i, gbeta, sum);
    });
  });
}

/// Square-window convenience: `size` x `size` window, `stride` both ways, per-side zero padding.
template <class T>
Var<T> max_pool2d(const Var<T>& x, std::size_t size, std::size_t stride, std::size_t pad_top = 0,
                  std::size_t pad_bottom = 0, std::size_t pad_left = 0, std::size_t pad_right = 0) {
  return max_pool2d(x, Pool2dParams{size, size, stride, stride, Padding2d{pad_top, pad_bottom, pad_left, pad_right}});
}

}  // namespace ssah
