#pragma once
/// \file
/// The AVX2 Hamming kernel (x86-64 with GCC or Clang, see SSAH_HAMMING_X86_KERNELS): popcounts by
/// nibble lookup (VPSHUFB), 16 codes per step for K = 16, 32 and 64 (the portable loop for other K
/// and for the last codes), compiled with a target attribute so that it exists in a default-flag
/// build. Empty elsewhere.

#include <cstddef>
#include <cstdint>

#include "ssah/detail/isa_namespace.hpp"
#include "ssah/hashing/detail/hamming_portable.hpp"

#if SSAH_HAMMING_X86_KERNELS
#include <immintrin.h>

// The target includes POPCNT, so that the scalar tails (HammingComputer, inlined) use it.
#define SSAH_TARGET_AVX2 __attribute__((target("avx2,popcnt")))

namespace ssah {
namespace detail {
inline namespace SSAH_ISA_NAMESPACE {

/// Code lengths with a vector kernel; others use the portable loop inside the vector functions.
template <int K>
constexpr bool avx2_block_kernel = K == 16 || K == 32 || K == 64;

/// Per-byte popcount by nibble lookup (VPSHUFB).
SSAH_TARGET_AVX2 inline __m256i popcount_bytes_avx2(__m256i v) noexcept {
  const __m256i lut =
      _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low4));
  const __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
  return _mm256_add_epi8(lo, hi);
}

SSAH_TARGET_AVX2 inline __m256i load256(const std::uint8_t* p) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

/// Popcounts of the 16-bit, 32-bit or 64-bit lanes of v.
SSAH_TARGET_AVX2 inline __m256i popcount_epi16_avx2(__m256i v) noexcept {
  return _mm256_maddubs_epi16(popcount_bytes_avx2(v), _mm256_set1_epi8(1));
}
SSAH_TARGET_AVX2 inline __m256i popcount_epi32_avx2(__m256i v) noexcept {
  return _mm256_madd_epi16(popcount_epi16_avx2(v), _mm256_set1_epi16(1));
}
SSAH_TARGET_AVX2 inline __m256i popcount_epi64_avx2(__m256i v) noexcept {
  return _mm256_sad_epu8(popcount_bytes_avx2(v), _mm256_setzero_si256());
}

/// AVX2: 16 codes per step for K = 16, 32 and 64.
template <int K>
SSAH_TARGET_AVX2 inline void hamming_block_avx2(const std::uint8_t* query, const std::uint8_t* codes, std::size_t n,
                                                std::uint16_t* out) noexcept {
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  std::size_t i = 0;
  if constexpr (K == 16) {
    const __m256i qv = _mm256_set1_epi16(static_cast<short>(load_code_bytes<2>(query)));
    for (; i + 16 <= n; i += 16) {
      const __m256i c = popcount_epi16_avx2(_mm256_xor_si256(load256(codes + i * cs), qv));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), c);
    }
  } else if constexpr (K == 32) {
    const __m256i qv = _mm256_set1_epi32(static_cast<int>(load_code_bytes<4>(query)));
    for (; i + 16 <= n; i += 16) {
      const __m256i a = popcount_epi32_avx2(_mm256_xor_si256(load256(codes + i * cs), qv));
      const __m256i b = popcount_epi32_avx2(_mm256_xor_si256(load256(codes + (i + 8) * cs), qv));
      const __m256i packed = _mm256_packus_epi32(a, b);  // 128-bit lanes interleaved: a0-3 b0-3 | a4-7 b4-7
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                          _mm256_permute4x64_epi64(packed, _MM_SHUFFLE(3, 1, 2, 0)));
    }
  } else if constexpr (K == 64) {
    const __m256i qv = _mm256_set1_epi64x(static_cast<long long>(load_code_bytes<8>(query)));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (; i + 16 <= n; i += 16) {
      const std::uint8_t* c = codes + i * cs;
      const __m256i a = popcount_epi64_avx2(_mm256_xor_si256(load256(c), qv));
      const __m256i b = popcount_epi64_avx2(_mm256_xor_si256(load256(c + 32), qv));
      const __m256i d = popcount_epi64_avx2(_mm256_xor_si256(load256(c + 64), qv));
      const __m256i e = popcount_epi64_avx2(_mm256_xor_si256(load256(c + 96), qv));
      // Three packs leave 16-bit distances in the order 0 1 4 5 8 9 12 13 | 2 3 6 7 10 11 14 15.
      const __m256i r = _mm256_packus_epi32(_mm256_packus_epi32(a, b), _mm256_packus_epi32(d, e));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permutevar8x32_epi32(r, order));
    }
  }
  if (i < n) hamming_block_portable<K>(query, codes + i * cs, n - i, out + i);
}

SSAH_TARGET_AVX2 inline std::uint32_t mask_le32_avx2(const std::uint16_t* d, __m256i tv) noexcept {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + 16));
  const __m256i le_a = _mm256_cmpeq_epi16(_mm256_min_epu16(a, tv), a);  // unsigned a <= t
  const __m256i le_b = _mm256_cmpeq_epi16(_mm256_min_epu16(b, tv), b);
  const __m256i bytes = _mm256_permute4x64_epi64(_mm256_packs_epi16(le_a, le_b), _MM_SHUFFLE(3, 1, 2, 0));
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(bytes));
}

SSAH_TARGET_AVX2 inline std::uint64_t mask_le64_avx2(const std::uint16_t* d, std::uint16_t t) noexcept {
  const __m256i tv = _mm256_set1_epi16(static_cast<short>(t));
  return static_cast<std::uint64_t>(mask_le32_avx2(d, tv)) |
         (static_cast<std::uint64_t>(mask_le32_avx2(d + 32, tv)) << 32);
}

/// The AVX2 kernel as a policy of scan_topk_loop (see HammingIsaPortable).
struct HammingIsaAvx2 {
  template <int K>
  static SSAH_TARGET_AVX2 inline std::uint64_t filter_le64(const std::uint8_t* query, const std::uint8_t* codes,
                                                           std::uint16_t t) noexcept {
    alignas(32) std::uint16_t d[64];
    hamming_block_avx2<K>(query, codes, 64, d);
    return mask_le64_avx2(d, t);
  }
};

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail
}  // namespace ssah
#endif  // SSAH_HAMMING_X86_KERNELS
