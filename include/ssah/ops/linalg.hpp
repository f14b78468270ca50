#pragma once
/// \file
/// Matrix products and the bias add, with gradients. Every product goes through `ssah::gemm`.

#include <cstddef>

#include "ssah/autodiff.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/gemm.hpp"
#include "ssah/ops/detail/common.hpp"

namespace ssah {

/// op(a) * op(b) for tensors viewed as rows x row_size (rank-2 result).
template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b, Trans trans_a = Trans::No, Trans trans_b = Trans::No) {
  const std::size_t m = trans_a == Trans::Yes ? a.value().row_size() : a.value().rows();
  const std::size_t n = trans_b == Trans::Yes ? b.value().rows() : b.value().row_size();
  Tensor<T> c = Tensor<T>::empty(Shape{m, n});
  gemm(T(1), a.value(), trans_a, b.value(), trans_b, T(0), c);
  return detail::make_result<T>(std::move(c), "matmul", {a, b}, [trans_a, trans_b](Node<T>& self) {
    Node<T>& na = *self.inputs[0];
    Node<T>& nb = *self.inputs[1];
    const Tensor<T>& gc = self.grad;
    // C = A B:     dA = dC B^T,     dB = A^T dC
    // C = A^T B:   dA = B dC^T,     dB = A dC
    // C = A B^T:   dA = dC B,       dB = dC^T A
    // C = A^T B^T: dA = B^T dC^T,   dB = dC^T A^T
    if (na.requires_grad) {
      auto ga = na.grad_sink();
      if (trans_a == Trans::No)
        gemm(T(1), gc, Trans::No, nb.value, trans_b == Trans::No ? Trans::Yes : Trans::No, ga.beta, ga.tensor);
      else
        gemm(T(1), nb.value, trans_b, gc, Trans::Yes, ga.beta, ga.tensor);
    }
    if (nb.requires_grad) {
      auto gb = nb.grad_sink();
      if (trans_b == Trans::No)
        gemm(T(1), na.value, trans_a == Trans::No ? Trans::Yes : Trans::No, gc, Trans::No, gb.beta, gb.tensor);
      else
        gemm(T(1), gc, Trans::Yes, na.value, trans_a, gb.beta, gb.tensor);
    }
  });
}

/// x (rows x n) + bias (n), broadcast over rows.
template <class T>
Var<T> add_bias(const Var<T>& x, const Var<T>& bias) {
  const std::size_t rows = x.value().rows(), n = x.value().row_size();
  SSAH_CHECK_AS(ShapeError, bias.size() == n, "add_bias: bias ", bias.shape().str(), " does not match the ", n,
                " features of ", x.shape().str());
  Tensor<T> y = Tensor<T>::empty(x.shape());
  {
    const T* xp = x.value().data();
    const T* bp = bias.value().data();
    T* yp = y.data();
    detail::parallel_for(rows * n, [=] SSAH_HOST_DEVICE(std::size_t i) { yp[i] = xp[i] + bp[i % n]; });
  }
  return detail::make_result<T>(std::move(y), "add_bias", {x, bias}, [rows, n](Node<T>& self) {
    Node<T>& nx = *self.inputs[0];
    Node<T>& nb = *self.inputs[1];
    const T* gy = self.grad.data();
    if (nx.requires_grad) {
      auto gx = nx.grad_sink();
      const T beta = gx.beta;
      T* gp = gx.tensor.data();
      detail::parallel_for(rows * n, [=] SSAH_HOST_DEVICE(std::size_t i) { detail::accumulate(gp, i, beta, gy[i]); });
    }
    if (nb.requires_grad) {
      auto gb = nb.grad_sink();
      const T beta = gb.beta;
      T* gp = gb.tensor.data();
      // Column sums: one thread per feature walks the rows (coalesced across features on CUDA).
      detail::parallel_for(n, [=] SSAH_HOST_DEVICE(std::size_t j) {
        T s = T(0);
        for (std::size_t r = 0; r < rows; ++r) s += gy[r * n + j];
        detail::accumulate(gp, j, beta, s);
      });
    }
  });
}

}  // namespace ssah
