#pragma once
/// \file
/// SSAH's pairwise likelihood loss as ONE fused op on the tape.
///
/// With anchors A [n, d] (a constant buffer: LabNet's stored features or hashes of all n training
/// items), a batch X [b, d] and similarities S [n, b] in [0, 1]:
///   Theta_ij = 1/2 * A_i . X_j,   nll_ij = log(1 + e^Theta_ij) - S_ij * Theta_ij
///   NegLogLikelihood (paper):   L = sum_ij nll_ij
///   SquaredNll (authors' code): L = 1/2 * sum_ij nll_ij^2
/// log(1 + e^x) is evaluated stably (the authors' code overflows in float32 for Theta > ~88).
/// Forward: one gemm for Theta, one pass that turns Theta into dL/dTheta in place and sums the
/// loss. Backward: one gemm, dX = 1/2 * (dL/dTheta)^T A. No n x b temporaries besides Theta.

#include <cstddef>
#include <cstdint>

#include <thrust/execution_policy.h>
#include <thrust/logical.h>
#include <thrust/reduce.h>

#include "ssah/autodiff.hpp"
#include "ssah/detail/math.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/gemm.hpp"
#include "ssah/ops/detail/common.hpp"

namespace ssah {

enum class PairwiseForm {
  NegLogLikelihood,  ///< sum of per-pair negative log-likelihoods (the paper)
  SquaredNll,        ///< half the sum of squared per-pair NLLs (the authors' TensorFlow code)
};

namespace detail {

/// Replaces theta by dL/dtheta for pairs [begin, end) and stores their loss in partial[begin /
/// kVectorRun] (a loop that vectorises on the host: softplus and sigmoid are straight-line
/// arithmetic in float).
template <class T>
struct PairwiseTerm {
  T* theta;
  const T* s;
  T* partial;
  bool squared;
  SSAH_HOST_DEVICE void operator()(std::size_t begin, std::size_t end) const {
    T* const th = theta;
    const T* const sim = s;
    const bool sq = squared;
    T sum = T(0);
    SSAH_SIMD_SUM(sum)
    for (std::size_t i = begin; i < end; ++i) {
      const T t = th[i];
      const T nll = math::softplus(t) - sim[i] * t;
      const T dnll = math::sigmoid(t) - sim[i];
      th[i] = sq ? nll * dnll : dnll;
      sum += sq ? T(0.5) * nll * nll : nll;
    }
    partial[begin / kVectorRun] = sum;
  }
};

}  // namespace detail

template <class T>
Var<T> pairwise_likelihood_loss(const Tensor<T>& anchors, const Var<T>& x, const Tensor<T>& similarity,
                                PairwiseForm form) {
  const std::size_t n = anchors.rows(), b = x.value().rows();
  SSAH_CHECK_AS(ShapeError, anchors.row_size() == x.value().row_size(), "pairwise_likelihood_loss: anchors ",
                anchors.shape().str(), " and batch ", x.shape().str(), " have different widths");
  SSAH_CHECK_AS(ShapeError, similarity.rows() == n && similarity.row_size() == b,
                "pairwise_likelihood_loss: similarity ", similarity.shape().str(), " is not [", n, ", ", b,
                "] (anchors ", anchors.shape().str(), ", batch ", x.shape().str(), ")");
  Tensor<T> dtheta = Tensor<T>::empty(Shape{n, b});
  gemm(T(0.5), anchors, Trans::No, x.value(), Trans::Yes, T(0), dtheta);
  Tensor<T> partial = Tensor<T>::empty(Shape{detail::vector_runs(n * b)});
  detail::parallel_for_runs(n * b, detail::PairwiseTerm<T>{dtheta.data(), similarity.data(), partial.data(),
                                                            form == PairwiseForm::SquaredNll});
  const T loss = thrust::reduce(thrust::device, partial.begin(), partial.end(), T(0));
  Tensor<T> out = Tensor<T>::full(Shape{1}, loss);
  return detail::make_result<T>(std::move(out), "pairwise_likelihood_loss", {x},
                                [anchors, dtheta](Node<T>& self) {
                                  Node<T>& nx = *self.inputs[0];
                                  const T g = self.grad.item();
                                  auto gx = nx.grad_sink();
                                  gemm(T(0.5) * g, dtheta, Trans::Yes, anchors, Trans::No, gx.beta, gx.tensor);
                                });
}

namespace detail {

struct IsZeroOrOne {
  template <class T>
  SSAH_HOST_DEVICE bool operator()(T x) const {
    return x == T(0) || x == T(1);
  }
};

/// One 64-bit mask per row of 0/1 labels [rows, c <= 64] (bit j = label j); false, and `masks`
/// untouched, when some value is neither 0 nor 1.
template <class T>
bool label_masks(const Tensor<T>& labels, Tensor<std::uint64_t>& masks) {
  if (!thrust::all_of(thrust::device, labels.begin(), labels.end(), IsZeroOrOne{})) return false;
  const std::size_t rows = labels.rows(), c = labels.row_size();
  masks = Tensor<std::uint64_t>::empty(Shape{rows});
  const T* const l = labels.data();
  std::uint64_t* const m = masks.data();
  launch(rows, rows * c, [=] SSAH_HOST_DEVICE(std::size_t i) {
    std::uint64_t bits = 0;
    for (std::size_t j = 0; j < c; ++j) bits |= std::uint64_t(l[i * c + j] != T(0)) << j;
    m[i] = bits;
  });
  return true;
}

}  // namespace detail

/// S_ij = scale if rows i of `labels_a` [n, c] and j of `labels_b` [b, c] share a label, else 0.
/// Labels are 0/1 (multi-hot); for c <= 64 the test is an AND of per-row bit masks (one pass over
/// n x b words: the n x b x c product it replaces ran at a few GFLOP/s, k = c being so small, and cost
/// a LabNet step several ms), otherwise, or for labels that are not all 0/1, S = [A B^T > 1/2] by gemm
/// (exact in floating point for any realistic c). Both give the same S on 0/1 labels.
template <class T>
Tensor<T> label_similarity(const Tensor<T>& labels_a, const Tensor<T>& labels_b, T scale = T(1)) {
  SSAH_CHECK_AS(ShapeError, labels_a.row_size() == labels_b.row_size(), "label_similarity: labels ",
                labels_a.shape().str(), " and ", labels_b.shape().str(), " have different label counts");
  const std::size_t n = labels_a.rows(), b = labels_b.rows();
  Tensor<T> s = Tensor<T>::empty(Shape{n, b});
  T* const data = s.data();
  Tensor<std::uint64_t> masks_a, masks_b;
  if (labels_a.row_size() <= 64 && detail::label_masks(labels_a, masks_a) && detail::label_masks(labels_b, masks_b)) {
    const std::uint64_t* const ma = masks_a.data();
    const std::uint64_t* const mb = masks_b.data();
    detail::launch(n, n * b, [=] SSAH_HOST_DEVICE(std::size_t i) {
      T* const row = data + i * b;
      const std::uint64_t mask = ma[i];
      for (std::size_t j = 0; j < b; ++j) row[j] = (mask & mb[j]) != 0 ? scale : T(0);
    });
    return s;
  }
  gemm(T(1), labels_a, Trans::No, labels_b, Trans::Yes, T(0), s);
  detail::parallel_for_runs(s.size(), [=] SSAH_HOST_DEVICE(std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) data[i] = data[i] > T(0.5) ? scale : T(0);
  });
  return s;
}

}  // namespace ssah
