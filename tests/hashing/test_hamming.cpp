#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "hashing_test_support.hpp"
#include "ssah/hashing/hamming.hpp"

using namespace ssah;

#define SSAH_HAMMING_STRINGIFY2(x) #x
#define SSAH_HAMMING_STRINGIFY(x) SSAH_HAMMING_STRINGIFY2(x)

namespace {

/// Reference distances from query 0 of `q` to every code of `db`, bit by bit.
template <int K>
std::vector<std::uint16_t> oracle_row(const PackedCodes<K>& q, const PackedCodes<K>& db) {
  std::vector<std::uint16_t> out(db.size());
  for (std::size_t j = 0; j < db.size(); ++j) out[j] = static_cast<std::uint16_t>(test::oracle_distance(q, 0, db, j));
  return out;
}

/// The kernels this CPU runs, in increasing order.
std::vector<HammingKernel> supported_kernels() {
  std::vector<HammingKernel> out;
  for (HammingKernel k : {HammingKernel::portable, HammingKernel::avx2, HammingKernel::avx512})
    if (detail::cpu_supports(k)) out.push_back(k);
  return out;
}

/// Runs `check(name, distances)` for every kernel compiled here that this CPU can run.
template <int K, class Check>
void for_each_kernel(const PackedCodes<K>& q, const PackedCodes<K>& db, Check check) {
  const std::size_t n = db.size();
  std::vector<std::uint16_t> d(n);
  detail::hamming_block_portable<K>(q.code(0), db.data(), n, d.data());
  check("portable (reference instance)", d);
  for (HammingKernel k : supported_kernels()) {
    std::fill(d.begin(), d.end(), std::uint16_t(0xffff));
    hamming_distances<K>(k, q.code(0), db.data(), n, d.data());
    check(to_string(k), d);
  }
  std::fill(d.begin(), d.end(), std::uint16_t(0xffff));
  hamming_distances<K>(q.code(0), db.data(), n, d.data());  // hamming_kernel()'s choice
  check("hamming_kernel()", d);
  const HammingComputer<K> hc(q.code(0));
  for (std::size_t j = 0; j < n; ++j) d[j] = static_cast<std::uint16_t>(hc(db.code(j)));
  check("HammingComputer", d);
#if SSAH_HAMMING_X86_KERNELS
  if (detail::cpu_has_popcnt()) {
    detail::hamming_block_popcnt<K>(q.code(0), db.data(), n, d.data());
    check("portable (popcnt instance)", d);
  }
#endif
}

}  // namespace

TEST_CASE_TEMPLATE("hamming: every kernel gives the bit-by-bit distance", KC, std::integral_constant<int, 8>,
                   std::integral_constant<int, 16>, std::integral_constant<int, 24>, std::integral_constant<int, 32>,
                   std::integral_constant<int, 40>, std::integral_constant<int, 64>, std::integral_constant<int, 72>,
                   std::integral_constant<int, 128>, std::integral_constant<int, 192>, std::integral_constant<int, 256>,
                   std::integral_constant<int, 512>, std::integral_constant<int, 1024>) {
  constexpr int K = KC::value;
  std::mt19937_64 rng(1000 + K);
  MESSAGE("K = " << K << ", this process runs the " << hamming_kernel_name() << " kernel; CPU runs avx2 kernels: "
                 << detail::cpu_has_avx2_kernels() << ", avx512 kernels: " << detail::cpu_has_avx512_kernels());
  // Lengths around every vector width (8, 16, 32 codes) and their tails.
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 32u, 33u, 64u, 65u, 257u, 1000u}) {
    const auto q = test::random_codes<K>(1, rng);
    const auto db = test::random_codes<K>(n, rng, n / 3 + 1, 3);
    const auto want = oracle_row(q, db);
    for_each_kernel<K>(q, db, [&](const char* name, const std::vector<std::uint16_t>& got) {
      INFO("kernel " << name << ", n = " << n);
      CHECK(got == want);
    });
  }
  // The extremes: identical codes (0) and complementary codes (K).
  PackedCodes<K> zeros(1), ones(2);
  for (int b = 0; b < K; ++b) {
    ones.set_bit(0, b, true);
    ones.set_bit(1, b, true);
  }
  for_each_kernel<K>(zeros, ones, [&](const char* name, const std::vector<std::uint16_t>& got) {
    INFO("kernel " << name);
    CHECK(got == std::vector<std::uint16_t>{K, K});
  });
  CHECK(hamming_distance<K>(ones.code(0), ones.code(1)) == 0);
}

TEST_CASE("hamming: threshold masks and the fused filter agree with the distances") {
  std::mt19937_64 rng(7);
  std::vector<std::uint16_t> d(64);
  for (int trial = 0; trial < 200; ++trial) {
    for (auto& x : d) x = static_cast<std::uint16_t>(rng() % 70);
    if (trial % 7 == 0) d[rng() % 64] = 0xffff;  // the padding value never passes
    const auto t = static_cast<std::uint16_t>(rng() % 72);
    std::uint64_t want = 0;
    for (int i = 0; i < 64; ++i) want |= static_cast<std::uint64_t>(d[static_cast<std::size_t>(i)] <= t) << i;
    CHECK(detail::mask_le64_portable(d.data(), t) == want);
    for (HammingKernel k : supported_kernels()) {
      INFO("kernel " << std::string(to_string(k)));
      CHECK(detail::mask_le64(k, d.data(), t) == want);
    }
  }

  auto check_filter = [&](auto kc) {
    constexpr int K = decltype(kc)::value;
    const auto q = test::random_codes<K>(1, rng);
    const auto db = test::random_codes<K>(64, rng, 20, K / 8);
    const auto dist = oracle_row(q, db);
    for (int t = 0; t <= K; t += (K >= 64 ? 3 : 1)) {
      std::uint64_t want = 0;
      for (int i = 0; i < 64; ++i) want |= static_cast<std::uint64_t>(dist[static_cast<std::size_t>(i)] <= t) << i;
      INFO("K = " << K << ", t = " << t);
      const auto t16 = static_cast<std::uint16_t>(t);
      CHECK(detail::HammingIsaPortable::filter_le64<K>(q.code(0), db.data(), t16) == want);
#if SSAH_HAMMING_X86_KERNELS
      if (detail::cpu_has_avx2_kernels())
        CHECK(detail::HammingIsaAvx2::filter_le64<K>(q.code(0), db.data(), t16) == want);
      if (detail::cpu_has_avx512_kernels())
        CHECK(detail::HammingIsaAvx512::filter_le64<K>(q.code(0), db.data(), t16) == want);
#endif
    }
  };
  for (int rep = 0; rep < 5; ++rep) {
    check_filter(std::integral_constant<int, 16>{});
    check_filter(std::integral_constant<int, 24>{});
    check_filter(std::integral_constant<int, 32>{});
    check_filter(std::integral_constant<int, 64>{});
    check_filter(std::integral_constant<int, 128>{});
    check_filter(std::integral_constant<int, 256>{});
    check_filter(std::integral_constant<int, 512>{});
  }
}

// This file is compiled with the build's default flags (tests get no -march): whatever they are,
// the process must run the best kernel the CPU has, read here from cpuid directly.
TEST_CASE("hamming: a default-flag translation unit runs the best kernel the CPU reports") {
  HammingKernel best = HammingKernel::portable;
#if SSAH_HAMMING_X86_KERNELS
  __builtin_cpu_init();
  const bool popcnt = __builtin_cpu_supports("popcnt");
  if (__builtin_cpu_supports("avx2") && popcnt) best = HammingKernel::avx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vpopcntdq") && popcnt)
    best = HammingKernel::avx512;
  CHECK(detail::portable_kernel_uses_popcnt() == popcnt);
#endif
  MESSAGE("compiled for " << SSAH_HAMMING_STRINGIFY(SSAH_ISA_NAMESPACE) << ", CPU's best kernel "
                          << std::string(to_string(best)));
  const char* cap = std::getenv("SSAH_HAMMING_ISA");
  if (cap == nullptr || *cap == '\0') {
    CHECK(hamming_kernel() == best);
    CHECK(resolve_hamming_kernel(HammingKernel::automatic) == best);
  } else {
    MESSAGE("SSAH_HAMMING_ISA=" << cap << " is set: the process-wide choice is capped");
  }
  CHECK(detail::best_hamming_kernel() == best);
}

TEST_CASE("hamming: SSAH_HAMMING_ISA caps the kernel, bad values and unsupported requests are refused") {
  const std::string saved = std::getenv("SSAH_HAMMING_ISA") ? std::getenv("SSAH_HAMMING_ISA") : "";
  const bool had = std::getenv("SSAH_HAMMING_ISA") != nullptr;
  ::setenv("SSAH_HAMMING_ISA", "portable", 1);
  CHECK(detail::hamming_kernel_from_environment() == HammingKernel::portable);
  ::setenv("SSAH_HAMMING_ISA", "avx2", 1);
  CHECK(detail::hamming_kernel_from_environment() == HammingKernel::avx2);
  ::setenv("SSAH_HAMMING_ISA", "", 1);
  CHECK(detail::hamming_kernel_from_environment() == HammingKernel::automatic);
  ::setenv("SSAH_HAMMING_ISA", "sse9", 1);
  CHECK_THROWS_AS(detail::hamming_kernel_from_environment(), InvalidArgument);
  if (had)
    ::setenv("SSAH_HAMMING_ISA", saved.c_str(), 1);
  else
    ::unsetenv("SSAH_HAMMING_ISA");

  CHECK(detail::best_hamming_kernel(HammingKernel::portable) == HammingKernel::portable);
  CHECK(detail::best_hamming_kernel(HammingKernel::avx2) ==
        (detail::cpu_has_avx2_kernels() ? HammingKernel::avx2 : HammingKernel::portable));
  CHECK(detail::best_hamming_kernel(HammingKernel::avx512) == detail::best_hamming_kernel());
  for (HammingKernel k : {HammingKernel::portable, HammingKernel::avx2, HammingKernel::avx512}) {
    if (detail::cpu_supports(k))
      CHECK(resolve_hamming_kernel(k) == k);
    else
      CHECK_THROWS_AS(resolve_hamming_kernel(k), InvalidArgument);
  }
}
