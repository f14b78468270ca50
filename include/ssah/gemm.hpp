#pragma once
/// \file
/// The one dense-product entry point: C = alpha * op(A) * op(B) + beta * C, row-major.
/// Eigen on host device systems (OMP, CPP), or an external BLAS there when SSAH_HOST_BLAS is defined
/// (CMake option SSAH_BLAS) and detail::host_blas_preferred() agrees; cuBLAS under CUDA. Nothing else
/// in ssah calls a BLAS.

#include <cstddef>
#include <type_traits>

#include "ssah/config.hpp"
#include "ssah/error.hpp"
#include "ssah/tensor.hpp"

#include <string>

#if SSAH_DEVICE_CUDA
#include "ssah/detail/gemm_cublas.hpp"
#else
#include "ssah/detail/gemm_eigen.hpp"
#if defined(SSAH_HOST_BLAS) && SSAH_HOST_BLAS
#include "ssah/detail/gemm_blas.hpp"
#endif
#endif

namespace ssah {

enum class Trans { No, Yes };

/// The products' backend in use: "cublas", "eigen", or "blas" (with OpenBLAS's core when known;
/// see detail::host_blas_preferred for when a linked BLAS gives way to Eigen).
inline std::string gemm_backend_name() {
#if SSAH_DEVICE_CUDA
  return "cublas";
#elif defined(SSAH_HOST_BLAS) && SSAH_HOST_BLAS
  return detail::host_gemm_name();
#else
  return "eigen";
#endif
}

/// Raw row-major gemm. A is m x k after op, B is k x n after op, C is m x n; ld* are row strides.
/// When beta == 0, C is not read (it may hold garbage or NaN).
template <class T>
void gemm(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "gemm supports float and double");
  if (m == 0 || n == 0) return;
  const bool ta = trans_a == Trans::Yes, tb = trans_b == Trans::Yes;
#if SSAH_DEVICE_CUDA
  detail::gemm_backend(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#else
#if defined(SSAH_HOST_BLAS) && SSAH_HOST_BLAS
  if (detail::host_blas_preferred()) return detail::gemm_blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
  detail::gemm_eigen(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

/// Tensor gemm on rank-2 tensors (or any tensor viewed as rows x row_size), with shape checks.
template <class T>
void gemm(T alpha, const Tensor<T>& a, Trans trans_a, const Tensor<T>& b, Trans trans_b, T beta, Tensor<T>& c) {
  const std::size_t ar = a.rows(), ac = a.row_size(), br = b.rows(), bc = b.row_size();
  const std::size_t m = trans_a == Trans::Yes ? ac : ar;
  const std::size_t k = trans_a == Trans::Yes ? ar : ac;
  const std::size_t kb = trans_b == Trans::Yes ? bc : br;
  const std::size_t n = trans_b == Trans::Yes ? br : bc;
  SSAH_CHECK_AS(ShapeError, k == kb, "gemm: inner dimensions differ, A ", a.shape().str(),
                trans_a == Trans::Yes ? "^T" : "", " x B ", b.shape().str(), trans_b == Trans::Yes ? "^T" : "");
  SSAH_CHECK_AS(ShapeError, c.rows() == m && c.row_size() == n, "gemm: output ", c.shape().str(), " does not hold the ",
                m, " x ", n, " product of A ", a.shape().str(), " and B ", b.shape().str());
  gemm(trans_a, trans_b, m, n, k, alpha, a.data(), ac, b.data(), bc, beta, c.data(), n);
}

}  // namespace ssah
