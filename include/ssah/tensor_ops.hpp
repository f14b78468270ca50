#pragma once
/// \file
/// Plain (not differentiable) tensor utilities: gathering and scattering rows by index, as
/// training does when it writes a batch's outputs into n-row buffers and reads them back; stored
/// values converted to float and standardised; the sign of a sum of tensors; predicates for
/// checking values on the device.

#include <cstddef>
#include <vector>

#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/tensor.hpp"

namespace ssah {
namespace detail {

/// Checks every index is below `rows` (and, for scatters, that none repeats: a repeated row would
/// be written by two threads in an unspecified order).
inline void check_row_indices(const std::vector<std::size_t>& indices, std::size_t rows, const char* who,
                              bool distinct) {
  std::vector<bool> seen(distinct ? rows : 0, false);
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::size_t r = indices[k];
    SSAH_CHECK_AS(InvalidArgument, r < rows, who, ": index ", r, " (position ", k, ") out of range for ", rows,
                  " rows");
    if (distinct) {
      SSAH_CHECK_AS(InvalidArgument, !seen[r], who, ": row ", r, " appears twice (position ", k, ")");
      seen[r] = true;
    }
  }
}

/// The indices in device memory.
inline Tensor<std::size_t> upload_indices(const std::vector<std::size_t>& indices) {
  // Shape().with_rows(n) is Shape{n}; written so because GCC 12 falsely warns (-Wmaybe-uninitialized,
  // an error under -Werror) about the initializer list of a Shape{n} inlined here in some unity builds.
  return Tensor<std::size_t>::from_host(Shape().with_rows(indices.size()), indices);
}

}  // namespace detail

/// out[k] = src[indices[k]] for every row k; `out` has indices.size() rows of src's row shape.
template <class T>
void gather_rows(const Tensor<T>& src, const std::vector<std::size_t>& indices, Tensor<T>& out) {
  detail::check_row_indices(indices, src.rows(), "gather_rows", false);
  SSAH_CHECK_AS(ShapeError, out.rows() == indices.size() && out.row_size() == src.row_size(), "gather_rows: output ",
                out.shape().str(), " does not hold ", indices.size(), " rows of ", src.shape().str());
  if (indices.empty() || src.row_size() == 0) return;
  const Tensor<std::size_t> idx = detail::upload_indices(indices);
  const std::size_t* ip = idx.data();
  const std::size_t row = src.row_size();
  const T* s = src.data();
  T* d = out.data();
  detail::parallel_for(indices.size() * row,
                       [=] SSAH_HOST_DEVICE(std::size_t i) { d[i] = s[ip[i / row] * row + i % row]; });
}

/// A new tensor of src's rows `indices` (in that order), shape [indices.size(), ...].
template <class T>
Tensor<T> gather_rows(const Tensor<T>& src, const std::vector<std::size_t>& indices) {
  Tensor<T> out = Tensor<T>::empty(src.shape().with_rows(indices.size()));
  gather_rows(src, indices, out);
  return out;
}

/// dst[indices[k]] = src[k] for every row k of src; the indices must be distinct. Other rows of
/// dst are left as they are.
template <class T>
void scatter_rows(Tensor<T>& dst, const std::vector<std::size_t>& indices, const Tensor<T>& src) {
  detail::check_row_indices(indices, dst.rows(), "scatter_rows", true);
  SSAH_CHECK_AS(ShapeError, src.rows() == indices.size() && src.row_size() == dst.row_size(), "scatter_rows: source ",
                src.shape().str(), " is not ", indices.size(), " rows of ", dst.shape().str());
  if (indices.empty() || dst.row_size() == 0) return;
  const Tensor<std::size_t> idx = detail::upload_indices(indices);
  const std::size_t* ip = idx.data();
  const std::size_t row = dst.row_size();
  const T* s = src.data();
  T* d = dst.data();
  detail::parallel_for(indices.size() * row,
                       [=] SSAH_HOST_DEVICE(std::size_t i) { d[ip[i / row] * row + i % row] = s[i]; });
}

/// The values of `stored` (any arithmetic type, e.g. uint8 pixels) as float (To), each standardised
/// with the statistics of its column when `mean` is defined: out[i] = (To(stored[i]) - mean[j]) /
/// stddev[j], j = i % mean.size(). The same arithmetic as standardising on the host (a subtraction
/// and a division, each rounded to To), so a batch converted here equals the host's values bit for bit.
template <class To, class From>
Tensor<To> standardize_values(const Tensor<From>& stored, const Tensor<To>& mean, const Tensor<To>& stddev) {
  Tensor<To> out = Tensor<To>::empty(stored.shape());
  const From* s = stored.data();
  To* o = out.data();
  if (!mean.defined()) {
    detail::parallel_for(out.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { o[i] = static_cast<To>(s[i]); });
    return out;
  }
  SSAH_CHECK_AS(ShapeError, mean.size() > 0 && mean.size() == stddev.size() && stored.size() % mean.size() == 0,
                "standardize_values: statistics of ", mean.size(), " and ", stddev.size(), " columns for ",
                stored.shape().str());
  const To* mu = mean.data();
  const To* sd = stddev.data();
  const std::size_t d = mean.size();
  detail::parallel_for(out.size(),
                       [=] SSAH_HOST_DEVICE(std::size_t i) { o[i] = (static_cast<To>(s[i]) - mu[i % d]) / sd[i % d]; });
  return out;
}

namespace detail {

/// out = sign(first + sum of rest), sign(0) = 0 (numpy's convention, as the reference).
template <class T>
void sign_of_sum(Tensor<T>& out, const Tensor<T>& first, const std::vector<Tensor<T>>& rest) {
  T* o = out.data();
  const T* a = first.data();
  parallel_for(out.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { o[i] = a[i]; });
  for (const Tensor<T>& t : rest) {
    check_same_shape(t.shape(), out.shape(), "sign_of_sum");
    const T* p = t.data();
    parallel_for(out.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { o[i] += p[i]; });
  }
  parallel_for(out.size(),
               [=] SSAH_HOST_DEVICE(std::size_t i) { o[i] = o[i] > T(0) ? T(1) : (o[i] < T(0) ? T(-1) : T(0)); });
}

/// Predicates for checking values on the device (public: Thrust kernels call them).
template <class T>
struct NotBinary {
  SSAH_HOST_DEVICE bool operator()(T v) const { return !(v == T(0) || v == T(1)); }
};
template <class T>
struct NotFinite {
  SSAH_HOST_DEVICE bool operator()(T v) const { return !(v - v == T(0)); }  // true for NaN and +-Inf
};

}  // namespace detail

}  // namespace ssah
