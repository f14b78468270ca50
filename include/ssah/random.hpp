#pragma once
/// \file
/// Random numbers that do not depend on where they are computed.
///
/// Device side: `CounterRng`, a counter-based generator (Philox4x32-10, Salmon et al., SC'11, the
/// generator behind cuRAND's and JAX's counter-based streams). Value i of a stream is a pure
/// function of (seed, stream, i), so a kernel computes any element independently, and a fill gives
/// the same numbers on OMP, CPP and CUDA whatever the thread count. Uniform values are bit-identical
/// everywhere (integer operations and exactly rounded fma); normal values go through double-precision
/// log/sqrt/cos/sin, which may differ in the last bit between CUDA's and the host's math library.
///
/// Host side: `HostRng` (host_rng.hpp, included here), std::mt19937_64 with bounded integers,
/// normals, shuffles and permutations written out rather than taken from the standard library's
/// distributions, whose results differ between standard libraries.

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ssah/config.hpp"
#include "ssah/detail/math.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/host_rng.hpp"
#include "ssah/tensor.hpp"

namespace ssah {
namespace detail {

/// Four 32-bit words: one Philox counter, key schedule output or result block.
struct Words4 {
  std::uint32_t w[4];
};

/// Philox4x32 with 10 rounds on counter (c0, c1, c2, c3) and key (k0, k1), as Random123's
/// `philox4x32_R(10, ctr, key)` (its known-answer vectors are in the tests).
SSAH_HOST_DEVICE inline Words4 philox4x32_10(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                                             std::uint32_t k0, std::uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round) {
      k0 += 0x9E3779B9u;  // golden ratio
      k1 += 0xBB67AE85u;  // sqrt(3) - 1
    }
    const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * c2;
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  return Words4{{c0, c1, c2, c3}};
}

/// [0, 1) from the top 24 bits of a word: exact in float.
SSAH_HOST_DEVICE inline float unit_float(std::uint32_t w) { return static_cast<float>(w >> 8) * 0x1.0p-24f; }
/// [0, 1) from 53 bits of two words: exact in double.
SSAH_HOST_DEVICE inline double unit_double(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(hi) << 32 | lo) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

}  // namespace detail

/// A counter-based random stream: every value is a function of (seed, stream, index) alone.
///
/// Layout (part of the reproducibility contract; changing it changes every seeded result):
/// block b is Philox4x32-10 of counter (b_lo, b_hi, stream_lo, stream_hi) under key (seed_lo, seed_hi).
/// - `bits(i)`: word i % 4 of block i / 4;
/// - `uniform<float>(i)`: the top 24 bits of `bits(i)`, scaled to [0, 1);
/// - `uniform<double>(i)`: 53 bits of words 2(i%2), 2(i%2)+1 of block i / 2, scaled to [0, 1);
/// - `normal<T>(i)`: Box-Muller in double on block i / 2 (words 0-1 give u1, words 2-3 give u2),
///   r cos(2 pi u2) for even i and r sin(2 pi u2) for odd i, rounded to T. So normal<float> and
///   normal<double> of the same stream agree up to float rounding.
struct CounterRng {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;

  SSAH_HOST_DEVICE detail::Words4 block(std::uint64_t b) const {
    return detail::philox4x32_10(static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(b >> 32),
                                 static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32),
                                 static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
  }
  /// 32 random bits.
  SSAH_HOST_DEVICE std::uint32_t bits(std::uint64_t i) const { return block(i / 4).w[i % 4]; }

  /// Uniform in [0, 1).
  template <class T>
  SSAH_HOST_DEVICE T uniform(std::uint64_t i) const {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "uniform<float> or uniform<double>");
    if constexpr (std::is_same_v<T, float>) {
      return detail::unit_float(bits(i));
    } else {
      const detail::Words4 w = block(i / 2);
      const unsigned j = static_cast<unsigned>(i % 2) * 2;
      return detail::unit_double(w.w[j], w.w[j + 1]);
    }
  }

  /// Standard normal (mean 0, standard deviation 1).
  template <class T>
  SSAH_HOST_DEVICE T normal(std::uint64_t i) const {
    double z[2];
    box_muller(block(i / 2), z);
    return static_cast<T>(z[i % 2]);
  }

  /// The pair of standard normals of one block (values 2b and 2b + 1 of `normal`).
  SSAH_HOST_DEVICE static void box_muller(const detail::Words4& w, double* z) {
    const double u1 = 1.0 - detail::unit_double(w.w[0], w.w[1]);  // (0, 1]: log(u1) is finite
    const double u2 = detail::unit_double(w.w[2], w.w[3]);
    const double r = detail::math::sqrt(-2.0 * detail::math::log(u1));
    const double theta = 6.283185307179586476925286766559 * u2;
    z[0] = r * detail::math::cos(theta);
    z[1] = r * detail::math::sin(theta);
  }
};

/// Fills `t` with values uniform in [lo, hi) (lo + (hi - lo) u, one fused multiply-add: the
/// upper end may be reached by rounding).
template <class T>
void fill_uniform(Tensor<T>& t, T lo, T hi, CounterRng rng) {
  static_assert(std::is_floating_point_v<T>, "fill_uniform needs a floating-point tensor");
  SSAH_CHECK_AS(InvalidArgument, lo <= hi, "fill_uniform: empty range [", lo, ", ", hi, ")");
  constexpr std::size_t per_block = std::is_same_v<T, float> ? 4 : 2;
  const std::size_t n = t.size();
  const T width = hi - lo;
  T* p = t.data();
  detail::parallel_for((n + per_block - 1) / per_block, [=] SSAH_HOST_DEVICE(std::size_t b) {
    const detail::Words4 w = rng.block(b);
    for (std::size_t j = 0; j < per_block; ++j) {
      const std::size_t i = b * per_block + j;
      if (i >= n) break;
      T u;
      if constexpr (std::is_same_v<T, float>) {
        u = detail::unit_float(w.w[j]);
      } else {
        u = detail::unit_double(w.w[2 * j], w.w[2 * j + 1]);
      }
      p[i] = detail::math::fma(u, width, lo);
    }
  });
}

/// Fills `t` with N(mean, stddev^2) values (mean + stddev z, one fused multiply-add).
template <class T>
void fill_normal(Tensor<T>& t, T mean, T stddev, CounterRng rng) {
  static_assert(std::is_floating_point_v<T>, "fill_normal needs a floating-point tensor");
  SSAH_CHECK_AS(InvalidArgument, stddev >= T(0), "fill_normal: negative standard deviation ", stddev);
  const std::size_t n = t.size();
  T* p = t.data();
  detail::parallel_for((n + 1) / 2, [=] SSAH_HOST_DEVICE(std::size_t b) {
    double z[2];
    CounterRng::box_muller(rng.block(b), z);
    p[2 * b] = detail::math::fma(static_cast<T>(z[0]), stddev, mean);
    if (2 * b + 1 < n) p[2 * b + 1] = detail::math::fma(static_cast<T>(z[1]), stddev, mean);
  });
}

}  // namespace ssah
