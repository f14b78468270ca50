#include <doctest/doctest.h>

#include <cstdint>
#include <random>

#include "hashing_test_support.hpp"
#include "ssah/hashing/index.hpp"
#include "ssah/hashing/thrust_search.hpp"

using namespace ssah;

TEST_CASE_TEMPLATE("thrust search: the device-system k-NN equals HammingIndex (ties by id, k > n)", KC,
                   std::integral_constant<int, 16>, std::integral_constant<int, 24>, std::integral_constant<int, 64>,
                   std::integral_constant<int, 128>) {
  constexpr int K = KC::value;
  MESSAGE("device system: " << device_system_name());
  std::mt19937_64 rng(3000 + K);
  for (std::size_t n : {0u, 1u, 257u, 5000u, 40000u}) {
    const auto db = test::random_codes<K>(n, rng, n / 5 + 1, 2);
    const auto q = test::random_codes<K>(1 + n % 23, rng, 4, 3);
    const HammingIndex<K> cpu(db);
    ThrustHammingIndex<K> dev;
    // Added in two parts: ids continue across add().
    dev.add(db.slice(0, n / 3));
    dev.add(db.slice(n / 3, n));
    REQUIRE(dev.size() == n);
    for (std::size_t k : {std::size_t(1), std::size_t(50), n + 3}) {
      INFO("K = " << K << ", n = " << n << ", k = " << k);
      const KnnResult want = cpu.search(q, k);
      const KnnResult got = dev.search(q, k);
      CHECK(got.ids == want.ids);
      CHECK(got.distances == want.distances);
    }
  }
}
