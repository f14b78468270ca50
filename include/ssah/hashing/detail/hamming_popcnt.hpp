#pragma once
/// \file
/// The portable Hamming kernel compiled for the POPCNT instruction (x86-64 with GCC or Clang, see
/// SSAH_HAMMING_X86_KERNELS): the same code as hamming_portable.hpp, with a target attribute so that
/// the popcounts become one instruction in a default-flag build. Empty elsewhere.

#include <cstddef>
#include <cstdint>

#include "ssah/detail/isa_namespace.hpp"
#include "ssah/hashing/detail/hamming_portable.hpp"

#if SSAH_HAMMING_X86_KERNELS
#define SSAH_TARGET_POPCNT __attribute__((target("popcnt")))

namespace ssah {
namespace detail {
inline namespace SSAH_ISA_NAMESPACE {

/// The portable kernel compiled for POPCNT.
template <int K>
SSAH_TARGET_POPCNT void hamming_block_popcnt(const std::uint8_t* query, const std::uint8_t* codes, std::size_t n,
                                             std::uint16_t* out) noexcept {
  hamming_block_portable<K>(query, codes, n, out);
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail
}  // namespace ssah
#endif  // SSAH_HAMMING_X86_KERNELS
