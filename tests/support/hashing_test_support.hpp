#pragma once
// Helpers for the hashing and evaluation tests: random codes (with controllable ties), and a
// bit-by-bit Hamming distance that shares no code with the library's kernels.

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "ssah/hashing/codes.hpp"

namespace ssah::test {

/// Hamming distance counted bit by bit through PackedCodes::bit.
template <int K>
int oracle_distance(const PackedCodes<K>& a, std::size_t i, const PackedCodes<K>& b, std::size_t j) {
  int d = 0;
  for (int bit = 0; bit < K; ++bit) d += a.bit(i, bit) != b.bit(j, bit);
  return d;
}

/// n random codes. With pool > 0 every code is one of `pool` random codes, so that distances
/// tie often; with flip_bits > 0 each drawn code then gets that many random bits flipped.
template <int K>
PackedCodes<K> random_codes(std::size_t n, std::mt19937_64& rng, std::size_t pool = 0, int flip_bits = 0) {
  constexpr std::size_t cs = PackedCodes<K>::code_bytes;
  PackedCodes<K> out(n), pool_codes(pool);
  for (std::size_t b = 0; b < pool * cs; ++b) pool_codes.data()[b] = static_cast<std::uint8_t>(rng());
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t* c = out.data() + i * cs;
    if (pool > 0) {
      const std::uint8_t* p = pool_codes.code(static_cast<std::size_t>(rng() % pool));
      for (std::size_t b = 0; b < cs; ++b) c[b] = p[b];
    } else {
      for (std::size_t b = 0; b < cs; ++b) c[b] = static_cast<std::uint8_t>(rng());
    }
    for (int f = 0; f < flip_bits; ++f) {
      const int bit = static_cast<int>(rng() % K);
      out.set_bit(i, bit, !out.bit(i, bit));
    }
  }
  return out;
}

}  // namespace ssah::test
