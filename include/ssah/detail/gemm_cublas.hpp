#pragma once
/// \file
/// Device gemm through cuBLAS. cuBLAS is column-major: a row-major C = op(A) op(B) is the
/// column-major C^T = op(B)^T op(A)^T, so the operands are passed swapped.

#include <cstddef>
#include <string>
#include <type_traits>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "ssah/error.hpp"

namespace ssah::detail {

inline void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    fail<Error>("cuBLAS ", what, " failed with status ", static_cast<int>(status));
}

/// One cuBLAS handle per host thread, created on first use.
inline cublasHandle_t cublas_handle() {
  struct Handle {
    cublasHandle_t h = nullptr;
    Handle() { check_cublas(cublasCreate(&h), "cublasCreate"); }
    ~Handle() {
      if (h) cublasDestroy(h);
    }
  };
  thread_local Handle handle;
  return handle.h;
}

template <class T>
void gemm_backend(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                  std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int im = static_cast<int>(m), in = static_cast<int>(n), ik = static_cast<int>(k);
  if constexpr (std::is_same_v<T, float>) {
    check_cublas(cublasSgemm(cublas_handle(), op_b, op_a, in, im, ik, &alpha, b, static_cast<int>(ldb), a,
                             static_cast<int>(lda), &beta, c, static_cast<int>(ldc)),
                 "Sgemm");
  } else {
    check_cublas(cublasDgemm(cublas_handle(), op_b, op_a, in, im, ik, &alpha, b, static_cast<int>(ldb), a,
                             static_cast<int>(lda), &beta, c, static_cast<int>(ldc)),
                 "Dgemm");
  }
}

}  // namespace ssah::detail
