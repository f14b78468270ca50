#pragma once
/// \file
/// The portable Hamming kernel, which every compiler and CPU runs (nvcc's device code included),
/// and which the vector kernels run on the codes left over after their last full step:
/// `HammingComputer<K>` (one query against one code at a time, one popcount per 64-bit word) and
/// `detail::hamming_block_portable` / `mask_le64_portable` / `HammingIsaPortable` over it.
/// Programs include ssah/hashing/hamming.hpp, which includes this header and chooses the kernel.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ssah/config.hpp"
#include "ssah/detail/isa_namespace.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define SSAH_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SSAH_ALWAYS_INLINE inline
#endif

namespace ssah {
namespace detail {
inline namespace SSAH_ISA_NAMESPACE {

/// Number of set bits of x.
SSAH_HOST_DEVICE inline int popcount64(std::uint64_t x) noexcept {
#if defined(__CUDA_ARCH__)
  return __popcll(x);
#elif defined(__GNUC__) || defined(__clang__)
  return __builtin_popcountll(x);
#else
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<int>((x * 0x0101010101010101ull) >> 56);
#endif
}

/// The N <= 8 bytes at p as an integer (native byte order, zero-extended). Used on both sides of
/// an XOR, so the byte order never changes a distance.
template <std::size_t N>
SSAH_HOST_DEVICE inline std::uint64_t load_code_bytes(const std::uint8_t* p) noexcept {
  static_assert(N >= 1 && N <= 8, "load_code_bytes: 1 to 8 bytes");
  std::uint64_t v = 0;
#if defined(__CUDA_ARCH__)
  memcpy(&v, p, N);
#else
  std::memcpy(&v, p, N);
#endif
  return v;
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail

inline namespace SSAH_ISA_NAMESPACE {

/// Hamming distance from one query of K bits to database codes: the query's 64-bit words stay
/// in registers, each call XORs and popcounts one code (K / 64 words, then the last K % 64 bits).
template <int K>
class HammingComputer {
  static_assert(K > 0 && K % 8 == 0, "HammingComputer<K>: K must be a positive multiple of 8");

 public:
  static constexpr int words = K / 64;
  static constexpr std::size_t tail_bytes = static_cast<std::size_t>(K % 64) / 8;

  SSAH_HOST_DEVICE HammingComputer() noexcept {}
  /// Holds the K / 8 bytes at `query`.
  SSAH_HOST_DEVICE explicit HammingComputer(const std::uint8_t* query) noexcept {
    for (int w = 0; w < words; ++w) q_[w] = detail::load_code_bytes<8>(query + 8 * w);
    if constexpr (tail_bytes > 0) tail_ = detail::load_code_bytes<tail_bytes>(query + 8 * words);
  }

  /// Hamming distance to the K / 8 bytes at `code`.
  SSAH_HOST_DEVICE int operator()(const std::uint8_t* code) const noexcept {
    int d = 0;
    for (int w = 0; w < words; ++w) d += detail::popcount64(q_[w] ^ detail::load_code_bytes<8>(code + 8 * w));
    if constexpr (tail_bytes > 0)
      d += detail::popcount64(tail_ ^ detail::load_code_bytes<tail_bytes>(code + 8 * words));
    return d;
  }

 private:
  std::uint64_t q_[words > 0 ? words : 1] = {};
  std::uint64_t tail_ = 0;
};

/// Hamming distance between two codes of K bits.
template <int K>
SSAH_HOST_DEVICE inline int hamming_distance(const std::uint8_t* a, const std::uint8_t* b) noexcept {
  return HammingComputer<K>(a)(b);
}

}  // namespace SSAH_ISA_NAMESPACE

namespace detail {
inline namespace SSAH_ISA_NAMESPACE {

/// Distances from `query` to the n codes at `codes` (K / 8 bytes each), one code at a time (the
/// hardware popcount when inlined into a function compiled for POPCNT, see hamming_distances).
template <int K>
SSAH_ALWAYS_INLINE void hamming_block_portable(const std::uint8_t* query, const std::uint8_t* codes, std::size_t n,
                                               std::uint16_t* out) noexcept {
  const HammingComputer<K> hc(query);
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint16_t>(hc(codes + i * cs));
}

/// Bit i of the result is set when d[i] <= t, for the 64 values at d.
inline std::uint64_t mask_le64_portable(const std::uint16_t* d, std::uint16_t t) noexcept {
  std::uint64_t m = 0;
  for (int i = 0; i < 64; ++i) m |= static_cast<std::uint64_t>(d[i] <= t) << i;
  return m;
}

/// The kernels as policies of the loops that call them once per 64 codes (see scan_topk): each
/// loop is instantiated in a function compiled for the kernel's instruction set, so these inline.
/// One per instruction set: this one, HammingIsaAvx2 and HammingIsaAvx512.
struct HammingIsaPortable {
  template <int K>
  static SSAH_ALWAYS_INLINE std::uint64_t filter_le64(const std::uint8_t* query, const std::uint8_t* codes,
                                                      std::uint16_t t) noexcept {
    std::uint16_t d[64];
    hamming_block_portable<K>(query, codes, 64, d);
    return mask_le64_portable(d, t);
  }
};

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail
}  // namespace ssah
