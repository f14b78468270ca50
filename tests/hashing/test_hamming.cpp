#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hashing_test_support.hpp"
#include "ssah/hashing/hamming.hpp"

using namespace ssah;

namespace {

/// Reference distances from query 0 of `q` to every code of `db`, bit by bit.
template <int K>
std::vector<std::uint16_t> oracle_row(const PackedCodes<K>& q, const PackedCodes<K>& db) {
  std::vector<std::uint16_t> out(db.size());
  for (std::size_t j = 0; j < db.size(); ++j) out[j] = static_cast<std::uint16_t>(test::oracle_distance(q, 0, db, j));
  return out;
}

/// Runs `check(name, distances)` for every kernel compiled here that this CPU can run.
template <int K, class Check>
void for_each_kernel(const PackedCodes<K>& q, const PackedCodes<K>& db, Check check) {
  const std::size_t n = db.size();
  std::vector<std::uint16_t> d(n);
  detail::hamming_block_portable<K>(q.code(0), db.data(), n, d.data());
  check("portable", d);
  detail::hamming_block<K>(q.code(0), db.data(), n, d.data());
  check(detail::hamming_path_name(), d);
  const HammingComputer<K> hc(q.code(0));
  for (std::size_t j = 0; j < n; ++j) d[j] = static_cast<std::uint16_t>(hc(db.code(j)));
  check("HammingComputer", d);
#if SSAH_HAMMING_X86_KERNELS
  if (detail::cpu_has_avx2_kernels()) {
    detail::hamming_block_avx2<K>(q.code(0), db.data(), n, d.data());
    check("avx2", d);
  }
  if (detail::cpu_has_avx512_kernels()) {
    detail::hamming_block_avx512<K>(q.code(0), db.data(), n, d.data());
    check("avx512", d);
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
  MESSAGE("K = " << K << ", this build dispatches to the " << std::string(detail::hamming_path_name()) << " kernel");
#if SSAH_HAMMING_X86_KERNELS
  MESSAGE("CPU runs avx2 kernels: " << detail::cpu_has_avx2_kernels()
                                    << ", avx512 kernels: " << detail::cpu_has_avx512_kernels());
#endif
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
    CHECK(detail::mask_le64(d.data(), t) == want);
#if SSAH_HAMMING_X86_KERNELS
    if (detail::cpu_has_avx2_kernels()) CHECK(detail::mask_le64_avx2(d.data(), t) == want);
    if (detail::cpu_has_avx512_kernels()) CHECK(detail::mask_le64_avx512(d.data(), t) == want);
#endif
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
      CHECK(detail::filter_le64<K>(q.code(0), db.data(), static_cast<std::uint16_t>(t)) == want);
#if SSAH_HAMMING_X86_KERNELS
      if constexpr (detail::avx512_block_kernel<K>)
        if (detail::cpu_has_avx512_kernels())
          CHECK(detail::filter_le64_avx512<K>(q.code(0), db.data(), static_cast<std::uint16_t>(t)) == want);
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
