#pragma once
/// \file
/// The AVX-512 Hamming kernel (x86-64 with GCC or Clang, see SSAH_HAMMING_X86_KERNELS): VPOPCNTDQ
/// and BW, 8 to 32 codes per instruction for K = 16, 32, 64, 128, 256 and 512 (the portable loop
/// for other K and for the last codes), compiled with a target attribute so that it exists in a
/// default-flag build. Empty elsewhere.

#include <cstddef>
#include <cstdint>

#include "ssah/detail/isa_namespace.hpp"
#include "ssah/hashing/detail/hamming_portable.hpp"

#if SSAH_HAMMING_X86_KERNELS
#include <immintrin.h>

// The target includes POPCNT, so that the scalar tails (HammingComputer, inlined) use it.
#define SSAH_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vpopcntdq,popcnt")))

namespace ssah {
namespace detail {
inline namespace SSAH_ISA_NAMESPACE {

/// Code lengths with a vector kernel; others use the portable loop inside the vector functions.
template <int K>
constexpr bool avx512_block_kernel = K == 16 || K == 32 || K == 64 || K == 128 || K == 256 || K == 512;

/// AVX-512 VPOPCNTDQ: 32 (K=16), 16 (K=32) or 8 (K=64·m, m = 1, 2, 4, 8) codes per step.
template <int K>
SSAH_TARGET_AVX512 inline void hamming_block_avx512(const std::uint8_t* query, const std::uint8_t* codes, std::size_t n,
                                                    std::uint16_t* out) noexcept {
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  std::size_t i = 0;
  if constexpr (K == 16) {
    const __m512i qv = _mm512_set1_epi16(static_cast<short>(load_code_bytes<2>(query)));
    const __m512i low16 = _mm512_set1_epi32(0xffff);
    for (; i + 32 <= n; i += 32) {
      const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(codes + i * cs), qv);
      // Each 32-bit lane holds two codes: count both halves, put them back side by side.
      const __m512i lo = _mm512_popcnt_epi32(_mm512_and_si512(x, low16));
      const __m512i hi = _mm512_popcnt_epi32(_mm512_maskz_srli_epi32(0xffff, x, 16));
      _mm512_storeu_si512(out + i, _mm512_or_si512(lo, _mm512_maskz_slli_epi32(0xffff, hi, 16)));
    }
  } else if constexpr (K == 32) {
    const __m512i qv = _mm512_set1_epi32(static_cast<int>(load_code_bytes<4>(query)));
    for (; i + 16 <= n; i += 16) {
      const __m512i p = _mm512_popcnt_epi32(_mm512_xor_si512(_mm512_loadu_si512(codes + i * cs), qv));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_maskz_cvtepi32_epi16(0xffff, p));
    }
  } else if constexpr (avx512_block_kernel<K>) {
    constexpr int m = K / 64;  // 64-bit words per code; one register holds 8 / m codes
    alignas(64) std::uint64_t pattern[8];
    for (int j = 0; j < 8; ++j) pattern[j] = load_code_bytes<8>(query + 8 * (j % m));
    const __m512i qv = _mm512_load_si512(pattern);
    const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    for (; i + 8 <= n; i += 8) {
      __m512i r[m];
      for (int j = 0; j < m; ++j)
        r[j] = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i * cs + 64 * j), qv));
      // Pairwise sums of neighbouring words, log2(m) times: 8 codes, one total each, in order.
      for (int width = m; width > 1; width /= 2)
        for (int j = 0; j < width / 2; ++j)
          r[j] = _mm512_add_epi64(_mm512_permutex2var_epi64(r[2 * j], even, r[2 * j + 1]),
                                  _mm512_permutex2var_epi64(r[2 * j], odd, r[2 * j + 1]));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_maskz_cvtepi64_epi16(0xff, r[0]));
    }
  }
  if (i < n) hamming_block_portable<K>(query, codes + i * cs, n - i, out + i);
}

SSAH_TARGET_AVX512 inline std::uint64_t mask_le64_avx512(const std::uint16_t* d, std::uint16_t t) noexcept {
  const __m512i tv = _mm512_set1_epi16(static_cast<short>(t));
  const std::uint64_t lo = _mm512_cmple_epu16_mask(_mm512_loadu_si512(d), tv);
  const std::uint64_t hi = _mm512_cmple_epu16_mask(_mm512_loadu_si512(d + 32), tv);
  return lo | (hi << 32);
}

// The maskz forms of intrinsics are used where GCC 12 warns about the undefined pass-through
// operand of the plain ones (-Wmaybe-uninitialized).
SSAH_TARGET_AVX512 inline __m512i min_epu64_avx512(__m512i a, __m512i b) noexcept {
  return _mm512_maskz_min_epu64(0xff, a, b);
}

/// Bit i set when code i of the 64 codes at `codes` lies within distance t of `query`: distances
/// are compared in registers and never stored (K with a vector kernel only).
template <int K>
SSAH_TARGET_AVX512 inline std::uint64_t filter_le64_avx512(const std::uint8_t* query, const std::uint8_t* codes,
                                                           std::uint16_t t) noexcept {
  static_assert(avx512_block_kernel<K>, "filter_le64_avx512: no vector kernel for this K");
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  std::uint64_t mask = 0;
  if constexpr (K == 16) {
    const __m512i qv = _mm512_set1_epi16(static_cast<short>(load_code_bytes<2>(query)));
    const __m512i low16 = _mm512_set1_epi32(0xffff);
    const __m512i tv = _mm512_set1_epi16(static_cast<short>(t));
    for (int g = 0; g < 2; ++g) {
      const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(codes + 64 * g), qv);
      const __m512i lo = _mm512_popcnt_epi32(_mm512_and_si512(x, low16));
      const __m512i hi = _mm512_popcnt_epi32(_mm512_maskz_srli_epi32(0xffff, x, 16));
      const __m512i d = _mm512_or_si512(lo, _mm512_maskz_slli_epi32(0xffff, hi, 16));
      mask |= static_cast<std::uint64_t>(_mm512_cmple_epu16_mask(d, tv)) << (32 * g);
    }
  } else if constexpr (K == 32) {
    const __m512i qv = _mm512_set1_epi32(static_cast<int>(load_code_bytes<4>(query)));
    const __m512i tv = _mm512_set1_epi32(t);
    for (int g = 0; g < 4; ++g) {
      const __m512i p = _mm512_popcnt_epi32(_mm512_xor_si512(_mm512_loadu_si512(codes + 64 * g), qv));
      mask |= static_cast<std::uint64_t>(_mm512_cmple_epu32_mask(p, tv)) << (16 * g);
    }
  } else {
    constexpr int m = K / 64;
    alignas(64) std::uint64_t pattern[8];
    for (int j = 0; j < 8; ++j) pattern[j] = load_code_bytes<8>(query + 8 * (j % m));
    const __m512i qv = _mm512_load_si512(pattern);
    const __m512i tv = _mm512_set1_epi64(t);
    const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    __m512i dist[8];
    for (int g = 0; g < 8; ++g) {
      __m512i r[m];
      for (int j = 0; j < m; ++j)
        r[j] = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + 8 * g * cs + 64 * j), qv));
      for (int width = m; width > 1; width /= 2)
        for (int j = 0; j < width / 2; ++j)
          r[j] = _mm512_add_epi64(_mm512_permutex2var_epi64(r[2 * j], even, r[2 * j + 1]),
                                  _mm512_permutex2var_epi64(r[2 * j], odd, r[2 * j + 1]));
      dist[g] = r[0];
    }
    // Almost every group of 64 is rejected whole: one comparison of the lane-wise minimum.
    const __m512i lo =
        min_epu64_avx512(min_epu64_avx512(min_epu64_avx512(dist[0], dist[1]), min_epu64_avx512(dist[2], dist[3])),
                         min_epu64_avx512(min_epu64_avx512(dist[4], dist[5]), min_epu64_avx512(dist[6], dist[7])));
    if (_mm512_cmple_epu64_mask(lo, tv) == 0) return 0;
    for (int g = 0; g < 8; ++g) mask |= static_cast<std::uint64_t>(_mm512_cmple_epu64_mask(dist[g], tv)) << (8 * g);
  }
  return mask;
}

/// The AVX-512 kernel as a policy of scan_topk_loop (see HammingIsaPortable).
struct HammingIsaAvx512 {
  template <int K>
  static SSAH_TARGET_AVX512 inline std::uint64_t filter_le64(const std::uint8_t* query, const std::uint8_t* codes,
                                                             std::uint16_t t) noexcept {
    if constexpr (avx512_block_kernel<K>) {
      return filter_le64_avx512<K>(query, codes, t);
    } else {
      alignas(64) std::uint16_t d[64];
      hamming_block_avx512<K>(query, codes, 64, d);
      return mask_le64_avx512(d, t);
    }
  }
};

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail
}  // namespace ssah
#endif  // SSAH_HAMMING_X86_KERNELS
