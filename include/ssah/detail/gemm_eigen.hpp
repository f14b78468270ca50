#pragma once
/// \file
/// Host gemm through Eigen maps (Eigen parallelises with OpenMP when it is enabled).

#include <cstddef>

#include <Eigen/Core>

namespace ssah::detail {

template <class T>
void gemm_eigen(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  using Index = Eigen::Index;
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ConstMap = Eigen::Map<const Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
  using Map = Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
  const auto im = static_cast<Index>(m), in = static_cast<Index>(n), ik = static_cast<Index>(k);
  // A stored as (trans ? k x m : m x k), B as (trans ? n x k : k x n).
  ConstMap A(a, trans_a ? ik : im, trans_a ? im : ik, Eigen::OuterStride<>(static_cast<Index>(lda)));
  ConstMap B(b, trans_b ? in : ik, trans_b ? ik : in, Eigen::OuterStride<>(static_cast<Index>(ldb)));
  Map C(c, im, in, Eigen::OuterStride<>(static_cast<Index>(ldc)));
  if (beta == T(0)) {
    C.setZero();  // C is not read when beta == 0 (BLAS semantics), so NaN garbage must not leak in
  } else if (beta != T(1)) {
    C *= beta;
  }
  if (k == 0) return;
  if (!trans_a && !trans_b) {
    C.noalias() += alpha * A * B;
  } else if (trans_a && !trans_b) {
    C.noalias() += alpha * A.transpose() * B;
  } else if (!trans_a && trans_b) {
    C.noalias() += alpha * A * B.transpose();
  } else {
    C.noalias() += alpha * A.transpose() * B.transpose();
  }
}

}  // namespace ssah::detail
