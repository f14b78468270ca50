#pragma once
/// \file
/// From a code length known at run time (read from a file) to the compile-time K of the
/// search and evaluation templates. A length between two instantiated ones is padded with zero
/// bits up to the next: zero bits are equal in every code, so no Hamming distance changes.

#include <type_traits>
#include <utility>

#include "ssah/detail/int_dispatch.hpp"
#include "ssah/error.hpp"

namespace ssah {

/// The largest code length `with_code_bits` accepts.
constexpr int max_dispatch_bits = 1024;

/// The compile-time K used for codes of `bits` bits (0 when bits is out of range).
constexpr int dispatch_bits_for(int bits) noexcept {
  if (bits <= 0 || bits > max_dispatch_bits) return 0;
  if (bits <= 64) {
    const int bytes8 = (bits + 7) / 8 * 8;  // 8, 16, ..., 64
    return bytes8 == 40 ? 48 : bytes8 == 56 ? 64 : bytes8;
  }
  if (bits <= 96) return 96;
  if (bits <= 128) return 128;
  if (bits <= 256) return 256;
  if (bits <= 512) return 512;
  return 1024;
}

/// The compile-time code lengths `with_code_bits` instantiates.
using CodeBitsSet = std::integer_sequence<int, 8, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024>;

/// Calls f(std::integral_constant<int, K>{}) with K = dispatch_bits_for(bits): one of 8, 16, 24,
/// 32, 48, 64, 96, 128, 256, 512, 1024. Throws InvalidArgument for bits outside 1..1024.
template <class F>
decltype(auto) with_code_bits(int bits, F&& f) {
  SSAH_CHECK_AS(InvalidArgument, bits > 0 && bits <= max_dispatch_bits, "codes of ", bits,
                " bits are not supported (1 to ", max_dispatch_bits, " bits)");
  return detail::with_int_constant(CodeBitsSet{}, dispatch_bits_for(bits), std::forward<F>(f), [](int k) {
    detail::fail<InvalidArgument>("with_code_bits: no instantiation for ", k, " bits");
  });
}

}  // namespace ssah
