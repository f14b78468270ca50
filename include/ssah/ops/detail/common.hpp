#pragma once
/// \file
/// Helpers that the op headers share (include/ssah/ops/*.hpp), so that an op header includes
/// what it uses and not another family of ops for one function.

#include <cstddef>

#include "ssah/config.hpp"

namespace ssah {
namespace detail {

/// Adds or writes (beta = 1 or 0) `value` into `out[i]` without reading `out` when beta == 0.
template <class T>
SSAH_HOST_DEVICE inline void accumulate(T* out, std::size_t i, T beta, T value) {
  out[i] = beta == T(0) ? value : out[i] + value;
}

/// Keeps a parameter out of template argument deduction (`x * 2.0` on a Var<float>).
template <class T>
struct NonDeduced {
  using type = T;
};
template <class T>
using non_deduced_t = typename NonDeduced<T>::type;

}  // namespace detail
}  // namespace ssah
