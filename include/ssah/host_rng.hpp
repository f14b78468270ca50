#pragma once
/// \file
/// `HostRng`: the host-side seeded generator (batch draws, shuffles, synthetic data), kept apart
/// from random.hpp's device-side `CounterRng` so that code without tensors (data/, the side
/// layers) can draw reproducibly too. std::mt19937_64's output sequence is fixed by the C++
/// standard; the distributions on top of it are written here, because std::uniform_int_distribution,
/// std::normal_distribution and std::shuffle give different results with different standard libraries.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ssah/error.hpp"

namespace ssah {

/// Host-side seeded generator for batch draws and shuffles: std::mt19937_64 plus portable
/// algorithms, so a seed gives the same batches with any compiler and standard library.
class HostRng {
 public:
  explicit HostRng(std::uint64_t seed = 0) : engine_(seed) {}

  /// 64 random bits.
  std::uint64_t next() { return engine_(); }

  /// Uniform integer in [0, n) by rejection (no modulo bias). n must be positive.
  std::uint64_t below(std::uint64_t n) {
    SSAH_CHECK_AS(InvalidArgument, n > 0, "HostRng::below: empty range");
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n: values below it are rejected
    for (;;) {
      const std::uint64_t x = engine_();
      if (x >= threshold) return x % n;
    }
  }

  /// Uniform double in [0, 1) from 53 bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /// A standard normal value: one Box-Muller draw from two uniforms (the second value of the pair
  /// is not kept, so that `state()` is the whole state). Unlike std::normal_distribution, whose
  /// algorithm each standard library chooses, the same seed gives the same values with every
  /// standard library (up to the last bit of the math library's log and cos).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log(u1) is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925286766559 * u2);
  }

  /// Shuffles `v` in place (forward Fisher-Yates: position i takes a random one of i..n-1).
  template <class U>
  void shuffle(std::vector<U>& v) {
    partial_shuffle(v, v.size());
  }

  /// A random permutation of 0..n-1.
  std::vector<std::size_t> permutation(std::size_t n) { return sample(n, n); }

  /// k distinct indices from 0..n-1, in random order: the first k entries of what `permutation(n)`
  /// would return from the same state (the reference code's "permute, take the first b").
  std::vector<std::size_t> sample(std::size_t n, std::size_t k) {
    SSAH_CHECK_AS(InvalidArgument, k <= n, "HostRng::sample: ", k, " items requested from ", n);
    std::vector<std::size_t> v(n);
    std::iota(v.begin(), v.end(), std::size_t{0});
    partial_shuffle(v, k);
    v.resize(k);
    return v;
  }

  /// The engine state as text (std::mt19937_64's standard serialisation), for checkpoints.
  std::string state() const {
    std::ostringstream out;
    out << engine_;
    return out.str();
  }
  /// Restores a state returned by `state()`.
  void set_state(const std::string& state) {
    std::istringstream in(state);
    std::mt19937_64 engine;
    in >> engine;
    SSAH_CHECK_AS(InvalidArgument, !in.fail(), "HostRng::set_state: not a std::mt19937_64 state");
    engine_ = engine;
  }

  std::mt19937_64& engine() noexcept { return engine_; }

 private:
  template <class U>
  void partial_shuffle(std::vector<U>& v, std::size_t k) {
    const std::size_t n = v.size();
    for (std::size_t i = 0; i < k && i + 1 < n; ++i) {
      const std::size_t j = i + static_cast<std::size_t>(below(n - i));
      using std::swap;
      swap(v[i], v[j]);
    }
  }

  std::mt19937_64 engine_;
};

}  // namespace ssah
