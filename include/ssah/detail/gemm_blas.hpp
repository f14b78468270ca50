#pragma once
/// \file
/// Host gemm through an external BLAS's Fortran `sgemm_` / `dgemm_` (OpenBLAS, BLIS, MKL, ...), chosen
/// at configure time with the CMake option SSAH_BLAS (which defines SSAH_HOST_BLAS and links the
/// BLAS). Why: on the machines we measure, OpenBLAS's kernels run large products about 1.3x faster
/// than Eigen's (docs/benchmarks.md), and training is mostly such products. The Fortran symbols are
/// declared here, as Eigen does, so that no vendor's cblas.h is needed.

#include <algorithm>
#include <climits>
#include <cstddef>
#include <type_traits>

#include "ssah/error.hpp"

extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha,
            const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
            const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc);
}

namespace ssah::detail {

inline int blas_int(std::size_t v, const char* what) {
  SSAH_CHECK(v <= static_cast<std::size_t>(INT_MAX), "gemm: ", what, " = ", v,
             " exceeds the BLAS's 32-bit integer range (build without SSAH_BLAS for Eigen's products)");
  // BLAS rejects a leading dimension of 0 even when nothing is read through it.
  return std::max(static_cast<int>(v), 1);
}

template <class T>
void gemm_backend(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                  std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  if (k == 0) {
    // C = beta * C without a BLAS call; beta == 0 must not read C (it may hold NaN).
    for (std::size_t i = 0; i < m; ++i) {
      T* row = c + i * ldc;
      for (std::size_t j = 0; j < n; ++j) row[j] = beta == T(0) ? T(0) : beta * row[j];
    }
    return;
  }
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the same memory, operands swapped.
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  const int im = blas_int(m, "m"), in = blas_int(n, "n"), ik = blas_int(k, "k");
  const int ilda = blas_int(lda, "lda"), ildb = blas_int(ldb, "ldb"), ildc = blas_int(ldc, "ldc");
  if constexpr (std::is_same_v<T, float>) {
    sgemm_(&tb, &ta, &in, &im, &ik, &alpha, b, &ildb, a, &ilda, &beta, c, &ildc);
  } else {
    dgemm_(&tb, &ta, &in, &im, &ik, &alpha, b, &ildb, a, &ilda, &beta, c, &ildc);
  }
}

}  // namespace ssah::detail
