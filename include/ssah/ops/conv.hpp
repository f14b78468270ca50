#pragma once
/// \file
/// `conv2d`: 2-D convolution (cross-correlation, as every deep-learning framework) on NCHW maps
/// with PyTorch's weight layout [Cout, Cin, kh, kw], per-side zero padding and strides, with
/// gradients for the input, the weight and the bias.
///
/// Implementation: a chunk of images is unrolled into a column buffer (im2col, [Cin*kh*kw,
/// images*Ho*Wo]), multiplied by the weight with ONE `ssah::gemm` per chunk, and scattered back to
/// NCHW. The backward pass reuses the same buffers; the input gradient is gathered per input cell
/// (col2im without atomics, so results are deterministic). Buffers are allocated once per call,
/// outside the chunk loop; chunks are sized so that the buffers stay under
/// `detail::conv_workspace_elements()` scalars.

#include <cstddef>
#include <utility>
#include <vector>

#include "ssah/autodiff.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/gemm.hpp"
#include "ssah/ops/detail/common.hpp"
#include "ssah/ops/pool.hpp"  // Padding2d, detail::window_output_extent

namespace ssah {

/// Strides and zero padding of a convolution.
struct Conv2dParams {
  std::size_t stride_h = 1, stride_w = 1;
  Padding2d pad{};
};

namespace detail {

/// Upper bound (in scalars) on the im2col + staging buffers of one chunk of images; at least one
/// image is processed per chunk whatever the bound. 2^24 by default (64 MiB of floats); tests
/// lower it to exercise the chunk loop.
inline std::size_t& conv_workspace_elements() {
  static std::size_t limit = std::size_t(1) << 24;
  return limit;
}

/// Geometry of one convolution call.
struct ConvGeometry {
  std::size_t n, cin, h, w, cout, kh, kw, oh, ow, sh, sw, pt, pl;
  std::size_t k() const { return cin * kh * kw; }
  std::size_t p() const { return oh * ow; }
};

/// col[k, b*P + p] = padded x[n0 + b, ci, oy*sh + ky, ox*sw + kx] for the `count` images from n0.
template <class T>
void im2col(const ConvGeometry& g, const T* x, std::size_t n0, std::size_t count, T* col) {
  const std::size_t cin = g.cin, h = g.h, w = g.w, kh = g.kh, kw = g.kw, ow = g.ow, sh = g.sh, sw = g.sw;
  const std::size_t pt = g.pt, pl = g.pl, p = g.p(), cols = count * g.p();
  const T* xs = x + n0 * cin * h * w;
  parallel_for(g.k() * cols, [=] SSAH_HOST_DEVICE(std::size_t i) {
    const std::size_t k = i / cols, rem = i % cols, b = rem / p, pp = rem % p;
    const std::size_t oy = pp / ow, ox = pp % ow;
    const std::size_t ci = k / (kh * kw), ky = (k / kw) % kh, kx = k % kw;
    const std::size_t py = oy * sh + ky, px = ox * sw + kx;  // in the padded map
    const bool in = py >= pt && py - pt < h && px >= pl && px - pl < w;
    col[i] = in ? xs[((b * cin + ci) * h + (py - pt)) * w + (px - pl)] : T(0);
  });
}

/// dx[n0 + b, ci, iy, ix] (+)= sum of the column entries that read that cell (gather, no atomics).
template <class T>
void col2im(const ConvGeometry& g, const T* col, std::size_t n0, std::size_t count, T* dx, T beta) {
  const std::size_t cin = g.cin, h = g.h, w = g.w, kh = g.kh, kw = g.kw, oh = g.oh, ow = g.ow;
  const std::size_t sh = g.sh, sw = g.sw, pt = g.pt, pl = g.pl, p = g.p(), cols = count * g.p();
  T* ds = dx + n0 * cin * h * w;
  parallel_for(count * cin * h * w, [=] SSAH_HOST_DEVICE(std::size_t i) {
    const std::size_t b = i / (cin * h * w), ci = (i / (h * w)) % cin, iy = (i / w) % h, ix = i % w;
    const std::size_t py = iy + pt, px = ix + pl;
    T sum = T(0);
    for (std::size_t ky = 0; ky < kh && ky <= py; ++ky) {
      const std::size_t ty = py - ky;
      if (ty % sh != 0 || ty / sh >= oh) continue;
      const std::size_t oy = ty / sh;
      for (std::size_t kx = 0; kx < kw && kx <= px; ++kx) {
        const std::size_t tx = px - kx;
        if (tx % sw != 0 || tx / sw >= ow) continue;
        const std::size_t k = (ci * kh + ky) * kw + kx;
        sum += col[k * cols + b * p + oy * ow + tx / sw];
      }
    }
    accumulate(ds, i, beta, sum);
  });
}

/// y = conv(x, w) + b for all images, `chunk` images per gemm.
template <class T>
void conv2d_forward(const ConvGeometry& g, std::size_t chunk, const T* x, const T* w, const T* bias, T* y) {
  if (g.n == 0) return;
  const std::size_t kk = g.k(), pp = g.p(), cout = g.cout;
  Tensor<T> col = Tensor<T>::empty(Shape{kk, chunk * pp});
  Tensor<T> staged = Tensor<T>::empty(Shape{cout, chunk * pp});
  for (std::size_t n0 = 0; n0 < g.n; n0 += chunk) {
    const std::size_t count = n0 + chunk <= g.n ? chunk : g.n - n0;
    const std::size_t cols = count * pp;
    im2col(g, x, n0, count, col.data());
    gemm(Trans::No, Trans::No, cout, cols, kk, T(1), w, kk, col.data(), cols, T(0), staged.data(), cols);
    // staged [Cout, count*P] -> y [count, Cout, P], adding the bias.
    const T* sp = staged.data();
    T* yp = y + n0 * cout * pp;
    parallel_for(count * cout * pp, [=] SSAH_HOST_DEVICE(std::size_t i) {
      const std::size_t b = i / (cout * pp), co = (i / pp) % cout, q = i % pp;
      yp[i] = sp[co * cols + b * pp + q] + (bias ? bias[co] : T(0));
    });
  }
}

/// Backward of `conv2d`: inputs of `self` are (x, weight[, bias]); each that requires a gradient
/// receives it. Sinks are taken once: the first chunk overwrites or adds (their beta), later
/// chunks add.
template <class T>
void conv2d_backward(Node<T>& self, const ConvGeometry& g, std::size_t chunk) {
  Node<T>& nx = *self.inputs[0];
  Node<T>& nw = *self.inputs[1];
  Node<T>* nb = self.inputs.size() > 2 ? self.inputs[2].get() : nullptr;
  T* dw = nullptr;
  T* db = nullptr;
  T* dx = nullptr;
  T wbeta = T(1), bbeta = T(1), xbeta = T(1);
  if (nw.requires_grad) {
    auto s = nw.grad_sink();
    dw = s.tensor.data();
    wbeta = s.beta;
  }
  if (nb && nb->requires_grad) {
    auto s = nb->grad_sink();
    db = s.tensor.data();
    bbeta = s.beta;
  }
  if (nx.requires_grad) {
    auto s = nx.grad_sink();
    dx = s.tensor.data();
    xbeta = s.beta;
  }
  if (g.n == 0) {  // nothing flows, but freshly created sinks must read as zero
    if (dw && wbeta == T(0)) nw.grad.fill(T(0));
    if (db && bbeta == T(0)) nb->grad.fill(T(0));
    return;
  }
  const std::size_t kk = g.k(), pp = g.p(), cout = g.cout;
  Tensor<T> col = (dw || dx) ? Tensor<T>::empty(Shape{kk, chunk * pp}) : Tensor<T>();
  Tensor<T> staged = Tensor<T>::empty(Shape{cout, chunk * pp});
  Tensor<T> ones = db ? Tensor<T>::full(Shape{chunk * pp}, T(1)) : Tensor<T>();
  const T* gy = self.grad.data();
  const T* wp = nw.value.data();
  for (std::size_t n0 = 0; n0 < g.n; n0 += chunk) {
    const std::size_t count = n0 + chunk <= g.n ? chunk : g.n - n0;
    const std::size_t cols = count * pp;
    {  // staged[co, b*P + q] = dy[n0 + b, co, q]
      T* sp = staged.data();
      const T* gyc = gy + n0 * cout * pp;
      parallel_for(count * cout * pp, [=] SSAH_HOST_DEVICE(std::size_t i) {
        const std::size_t b = i / (cout * pp), co = (i / pp) % cout, q = i % pp;
        sp[co * cols + b * pp + q] = gyc[i];
      });
    }
    const bool first_chunk = n0 == 0;
    // db: dy summed over images and positions, as a product with a vector of ones (deterministic).
    if (db)
      gemm(Trans::No, Trans::No, cout, 1, cols, T(1), staged.data(), cols, ones.data(), 1,
           first_chunk ? bbeta : T(1), db, 1);
    if (dw) {  // dW += dY col^T
      im2col(g, nx.value.data(), n0, count, col.data());
      gemm(Trans::No, Trans::Yes, cout, kk, cols, T(1), staged.data(), cols, col.data(), cols,
           first_chunk ? wbeta : T(1), dw, kk);
    }
    if (dx) {  // dcol = W^T dY, then gathered back onto the input cells
      gemm(Trans::Yes, Trans::No, kk, cols, cout, T(1), wp, kk, staged.data(), cols, T(0), col.data(), cols);
      col2im(g, col.data(), n0, count, dx, xbeta);
    }
  }
}

}  // namespace detail

/// Convolution of x [N, Cin, H, W] with weight [Cout, Cin, kh, kw] plus bias [Cout] (pass an
/// undefined `Var<T>()` for none). The input is zero-padded per side (`p.pad`), then a VALID
/// window moves with the strides: Ho = (H + top + bottom - kh) / stride_h + 1. Output
/// [N, Cout, Ho, Wo]. Gradients flow to x, weight and bias (those that require them).
template <class T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, const Conv2dParams& p) {
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  SSAH_CHECK_AS(ShapeError, xs.rank() == 4, "conv2d: input must be NCHW (rank 4), got ", xs.str());
  SSAH_CHECK_AS(ShapeError, ws.rank() == 4 && ws[1] == xs[1] && ws[0] > 0 && ws[1] > 0,
                "conv2d: weight ", ws.str(), " is not [Cout, Cin, kh, kw] with Cin = ", xs[1], " for input ",
                xs.str());
  const bool has_bias = bias.defined();
  if (has_bias)
    SSAH_CHECK_AS(ShapeError, bias.size() == ws[0], "conv2d: bias ", bias.shape().str(), " does not match the ",
                  ws[0], " output channels of weight ", ws.str());
  detail::ConvGeometry g{};
  g.n = xs[0];
  g.cin = xs[1];
  g.h = xs[2];
  g.w = xs[3];
  g.cout = ws[0];
  g.kh = ws[2];
  g.kw = ws[3];
  g.sh = p.stride_h;
  g.sw = p.stride_w;
  g.pt = p.pad.top;
  g.pl = p.pad.left;
  g.oh = detail::window_output_extent(g.h, p.pad.top, p.pad.bottom, g.kh, g.sh, "conv2d (height)", xs);
  g.ow = detail::window_output_extent(g.w, p.pad.left, p.pad.right, g.kw, g.sw, "conv2d (width)", xs);
  const std::size_t per_image = (g.k() + g.cout) * g.p();
  const std::size_t chunk_cap = detail::conv_workspace_elements() / per_image;
  const std::size_t chunk = g.n == 0 ? 1 : (chunk_cap == 0 ? 1 : (chunk_cap < g.n ? chunk_cap : g.n));

  Tensor<T> y = Tensor<T>::empty(Shape{g.n, g.cout, g.oh, g.ow});
  detail::conv2d_forward(g, chunk, x.value().data(), weight.value().data(),
                         has_bias ? bias.value().data() : nullptr, y.data());
  std::vector<Var<T>> inputs{x, weight};
  if (has_bias) inputs.push_back(bias);
  return detail::make_result<T>(std::move(y), "conv2d", std::move(inputs), [g, chunk](Node<T>& self) {
    detail::conv2d_backward(self, g, chunk);
  });
}

/// Square-stride, symmetric-padding convenience overload.
template <class T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, std::size_t stride = 1,
              std::size_t pad = 0) {
  return conv2d(x, weight, bias, Conv2dParams{stride, stride, Padding2d::symmetric(pad)});
}

}  // namespace ssah
