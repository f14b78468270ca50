#pragma once
/// \file
/// Hamming distance between packed codes (see codes.hpp), specialised on the code length K.
///
/// - `HammingComputer<K>` holds one query in registers and XORs + popcounts one database code per
///   call; it also runs inside Thrust kernels (CUDA: `__popcll`).
/// - `detail::hamming_block<K>` computes the distances from one query to a run of consecutive
///   codes. Three kernels give the same distances bit for bit: AVX-512 (VPOPCNTDQ + BW: 8 to 32
///   codes per instruction), AVX2 (nibble lookup with VPSHUFB) and portable (one popcount per
///   64-bit word, the POPCNT instruction where the CPU has it).
/// - **The kernel is chosen at run time**, once per process (`hamming_kernel()`): the best one the
///   CPU supports, whatever flags the including translation unit was compiled with. On x86-64 with
///   GCC or Clang every kernel is compiled with target attributes, and the hot loops are instantiated
///   once per kernel (`detail::HammingIsa*`), so that a default-flag build of `ssah` or of a user's
///   program runs the AVX-512 kernel on a CPU that has it. The environment variable
///   `SSAH_HAMMING_ISA=portable|avx2|avx512` caps the choice (for tests and comparisons); a
///   `SearchOptions::kernel` / `EvalOptions::kernel` other than `automatic` picks one per call.
/// - Generic code that surrounds the kernels lives in an inline namespace named after the
///   instruction set the translation unit is compiled for, so that translation units compiled with
///   different flags never share (and never swap) its instantiations.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ssah/config.hpp"
#include "ssah/error.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(__CUDA_ARCH__) && \
    !defined(__CUDACC__) && !defined(SSAH_HAMMING_NO_SIMD)
#define SSAH_HAMMING_X86_KERNELS 1
#include <immintrin.h>
#else
#define SSAH_HAMMING_X86_KERNELS 0
#endif

// The instruction set this translation unit is compiled for (not the kernel that runs: see
// hamming_kernel()); it names the inline namespace of the generic code around the kernels and of
// the kernel choice (which differs where the x86 kernels are not compiled, e.g. under nvcc).
#if !SSAH_HAMMING_X86_KERNELS
#define SSAH_HAMMING_ISA_NS isa_no_x86_kernels
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VPOPCNTDQ__)
#define SSAH_HAMMING_ISA_NS isa_avx512
#elif defined(__AVX2__)
#define SSAH_HAMMING_ISA_NS isa_avx2
#elif defined(__POPCNT__)
#define SSAH_HAMMING_ISA_NS isa_popcnt
#else
#define SSAH_HAMMING_ISA_NS isa_portable
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SSAH_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SSAH_ALWAYS_INLINE inline
#endif

namespace ssah {
namespace detail {

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

}  // namespace detail

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

/// The distance kernels (see the file comment). `automatic` is the process-wide choice,
/// `hamming_kernel()`.
enum class HammingKernel { automatic, portable, avx2, avx512 };

/// "automatic", "portable", "avx2" or "avx512".
inline const char* to_string(HammingKernel kernel) noexcept {
  switch (kernel) {
    case HammingKernel::portable:
      return "portable";
    case HammingKernel::avx2:
      return "avx2";
    case HammingKernel::avx512:
      return "avx512";
    default:
      return "automatic";
  }
}

namespace detail {

/// Distances from `query` to the n codes at `codes` (K / 8 bytes each), one code at a time (the
/// hardware popcount when inlined into a function compiled for POPCNT, see hamming_block).
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

#if SSAH_HAMMING_X86_KERNELS
// Each kernel's target includes POPCNT, so that the scalar tails (HammingComputer, inlined) use it.
#define SSAH_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vpopcntdq,popcnt")))
#define SSAH_TARGET_AVX2 __attribute__((target("avx2,popcnt")))
#define SSAH_TARGET_POPCNT __attribute__((target("popcnt")))

/// Code lengths with a vector kernel; others use the portable loop inside the vector functions.
template <int K>
constexpr bool avx512_block_kernel = K == 16 || K == 32 || K == 64 || K == 128 || K == 256 || K == 512;
template <int K>
constexpr bool avx2_block_kernel = K == 16 || K == 32 || K == 64;

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

#endif  // SSAH_HAMMING_X86_KERNELS

inline namespace SSAH_HAMMING_ISA_NS {

/// Whether this CPU can run the AVX-512 / AVX2 kernels, and the POPCNT instruction.
#if SSAH_HAMMING_X86_KERNELS
inline bool cpu_has_avx512_kernels() noexcept {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("popcnt");
}
inline bool cpu_has_avx2_kernels() noexcept {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
}
inline bool cpu_has_popcnt() noexcept { return __builtin_cpu_supports("popcnt"); }
#else
inline bool cpu_has_avx512_kernels() noexcept { return false; }
inline bool cpu_has_avx2_kernels() noexcept { return false; }
inline bool cpu_has_popcnt() noexcept { return false; }
#endif  // SSAH_HAMMING_X86_KERNELS

/// Whether this CPU runs `kernel` (the portable one everywhere).
inline bool cpu_supports(HammingKernel kernel) noexcept {
  switch (kernel) {
    case HammingKernel::avx512:
      return cpu_has_avx512_kernels();
    case HammingKernel::avx2:
      return cpu_has_avx2_kernels();
    default:
      return true;
  }
}

/// The kernel named by SSAH_HAMMING_ISA (portable, avx2 or avx512), automatic when it is unset or
/// empty. Throws InvalidArgument for any other value.
inline HammingKernel hamming_kernel_from_environment() {
  const char* value = std::getenv("SSAH_HAMMING_ISA");
  if (value == nullptr || *value == '\0') return HammingKernel::automatic;
  for (HammingKernel k : {HammingKernel::portable, HammingKernel::avx2, HammingKernel::avx512})
    if (std::strcmp(value, to_string(k)) == 0) return k;
  throw InvalidArgument(std::string("SSAH_HAMMING_ISA='") + value + "': expected portable, avx2 or avx512");
}

/// The best kernel this CPU runs, at most `cap` (automatic: no cap).
inline HammingKernel best_hamming_kernel(HammingKernel cap = HammingKernel::automatic) noexcept {
  const bool capped = cap != HammingKernel::automatic;
  if ((!capped || cap == HammingKernel::avx512) && cpu_has_avx512_kernels()) return HammingKernel::avx512;
  if ((!capped || cap != HammingKernel::portable) && cpu_has_avx2_kernels()) return HammingKernel::avx2;
  return HammingKernel::portable;
}

/// Whether the portable kernel runs its POPCNT-compiled instance (x86-64 CPUs with POPCNT).
inline bool portable_kernel_uses_popcnt() noexcept {
  static const bool uses = cpu_has_popcnt();
  return uses;
}

}  // namespace SSAH_HAMMING_ISA_NS
}  // namespace detail

inline namespace SSAH_HAMMING_ISA_NS {

/// The kernel that searches and evaluations use unless told otherwise: the best one this CPU
/// runs, capped by SSAH_HAMMING_ISA when it is set (a cap above what the CPU runs gives the best
/// it runs). Chosen once per process; throws InvalidArgument when SSAH_HAMMING_ISA is malformed.
inline HammingKernel hamming_kernel() {
  static const HammingKernel chosen = detail::best_hamming_kernel(detail::hamming_kernel_from_environment());
  return chosen;
}

/// `requested` itself, or hamming_kernel() for automatic. Throws InvalidArgument when this CPU
/// cannot run the requested kernel.
inline HammingKernel resolve_hamming_kernel(HammingKernel requested) {
  if (requested == HammingKernel::automatic) return hamming_kernel();
  SSAH_CHECK_AS(InvalidArgument, detail::cpu_supports(requested), "the ", to_string(requested),
                " Hamming kernel needs instructions this CPU (or this build) lacks");
  return requested;
}

/// What runs for `kernel` (automatic: hamming_kernel()): "avx512", "avx2", "portable (popcnt)" or
/// "portable". Printed by `ssah search` and `ssah eval`.
inline std::string hamming_kernel_name(HammingKernel kernel = HammingKernel::automatic) {
  const HammingKernel k = resolve_hamming_kernel(kernel);
  if (k == HammingKernel::portable && detail::portable_kernel_uses_popcnt()) return "portable (popcnt)";
  return to_string(k);
}

}  // namespace SSAH_HAMMING_ISA_NS

namespace detail {

/// The kernels as policies of the loops that call them once per 64 codes (see scan_topk): each
/// loop is instantiated in a function compiled for the kernel's instruction set, so these inline.
struct HammingIsaPortable {
  template <int K>
  static SSAH_ALWAYS_INLINE std::uint64_t filter_le64(const std::uint8_t* query, const std::uint8_t* codes,
                                                      std::uint16_t t) noexcept {
    std::uint16_t d[64];
    hamming_block_portable<K>(query, codes, 64, d);
    return mask_le64_portable(d, t);
  }
};
#if SSAH_HAMMING_X86_KERNELS
struct HammingIsaAvx2 {
  template <int K>
  static SSAH_TARGET_AVX2 inline std::uint64_t filter_le64(const std::uint8_t* query, const std::uint8_t* codes,
                                                           std::uint16_t t) noexcept {
    alignas(32) std::uint16_t d[64];
    hamming_block_avx2<K>(query, codes, 64, d);
    return mask_le64_avx2(d, t);
  }
};
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

/// The portable kernel compiled for POPCNT.
template <int K>
SSAH_TARGET_POPCNT void hamming_block_popcnt(const std::uint8_t* query, const std::uint8_t* codes, std::size_t n,
                                             std::uint16_t* out) noexcept {
  hamming_block_portable<K>(query, codes, n, out);
}
#endif  // SSAH_HAMMING_X86_KERNELS

/// Runs the statement for `kernel` (resolved: not automatic): `portable_call`, or `popcnt_call` when
/// the portable kernel runs its POPCNT instance, `avx2_call`, `avx512_call`. A macro because only the
/// portable statement exists where the x86 kernels are not compiled (other CPUs, nvcc).
#if SSAH_HAMMING_X86_KERNELS
#define SSAH_HAMMING_DISPATCH(kernel, portable_call, popcnt_call, avx2_call, avx512_call) \
  switch (kernel) {                                                                       \
    case ::ssah::HammingKernel::avx512:                                                   \
      avx512_call;                                                                        \
      break;                                                                              \
    case ::ssah::HammingKernel::avx2:                                                     \
      avx2_call;                                                                          \
      break;                                                                              \
    default:                                                                              \
      if (::ssah::detail::portable_kernel_uses_popcnt()) {                                \
        popcnt_call;                                                                      \
      } else {                                                                            \
        portable_call;                                                                    \
      }                                                                                   \
  }
#else
#define SSAH_HAMMING_DISPATCH(kernel, portable_call, popcnt_call, avx2_call, avx512_call) \
  do {                                                                                    \
    (void)(kernel);                                                                       \
    portable_call;                                                                        \
  } while (0)
#endif

inline namespace SSAH_HAMMING_ISA_NS {

/// Distances from `query` to n consecutive codes with `kernel` (resolved: not automatic).
template <int K>
inline void hamming_block(HammingKernel kernel, const std::uint8_t* query, const std::uint8_t* codes, std::size_t n,
                          std::uint16_t* out) noexcept {
  SSAH_HAMMING_DISPATCH(kernel, (hamming_block_portable<K>(query, codes, n, out)),
                        (hamming_block_popcnt<K>(query, codes, n, out)), (hamming_block_avx2<K>(query, codes, n, out)),
                        (hamming_block_avx512<K>(query, codes, n, out)));
}

/// Bit i set when d[i] <= t, for the 64 distances at d, with `kernel` (resolved).
inline std::uint64_t mask_le64(HammingKernel kernel, const std::uint16_t* d, std::uint16_t t) noexcept {
  std::uint64_t m = 0;
  SSAH_HAMMING_DISPATCH(kernel, (m = mask_le64_portable(d, t)), (m = mask_le64_portable(d, t)),
                        (m = mask_le64_avx2(d, t)), (m = mask_le64_avx512(d, t)));
  return m;
}

}  // namespace SSAH_HAMMING_ISA_NS
}  // namespace detail
}  // namespace ssah
