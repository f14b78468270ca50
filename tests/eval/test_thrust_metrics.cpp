#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "hashing_test_support.hpp"
#include "ssah/eval/metrics.hpp"
#include "ssah/eval/thrust_metrics.hpp"
#include "ssah/hashing/codes.hpp"

using namespace ssah;

namespace {

/// rows x classes labels, each present with probability p; every 7th row has none.
LabelMatrix sparse_labels(std::size_t rows, std::size_t classes, double p, std::mt19937_64& rng) {
  std::bernoulli_distribution on(p);
  LabelMatrix m(rows, classes);
  for (std::size_t i = 0; i < rows; ++i) {
    if (i % 7 == 6) continue;
    for (std::size_t c = 0; c < classes; ++c)
      if (on(rng)) m.set(i, c);
  }
  return m;
}

}  // namespace

TEST_CASE_TEMPLATE("thrust mAP: the device-system AP of every query equals evaluate_retrieval's (stable ties)", KC,
                   std::integral_constant<int, 16>, std::integral_constant<int, 64>, std::integral_constant<int, 128>) {
  constexpr int K = KC::value;
  MESSAGE("device system: " << device_system_name());
  std::mt19937_64 rng(4000 + K);
  // 24 classes (one label word) and 100 (two); databases of one chunk, several, and many.
  for (std::size_t classes : {std::size_t(24), std::size_t(100)}) {
    for (std::size_t n : {1u, 300u, 5000u, 40000u}) {
      INFO("K = " << K << ", classes = " << classes << ", n = " << n);
      // Few distinct codes, so that distances tie and the id order of ties matters.
      const auto db = test::random_codes<K>(n, rng, n / 9 + 1, 2);
      const auto q = test::random_codes<K>(1 + n % 37, rng, 5, 3);
      const LabelMatrix dl = sparse_labels(n, classes, 3.0 / double(classes), rng);
      const LabelMatrix ql = sparse_labels(q.size(), classes, 3.0 / double(classes), rng);
      const EvalResult want = evaluate_retrieval(q, db, ql, dl);
      const std::vector<double> got = thrust_average_precision(q, db, ql, dl);
      REQUIRE(got.size() == want.ap.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("query " << i);
        CHECK(std::abs(got[i] - want.ap[i]) <= 1e-12 * std::max(1.0, want.ap[i]));
      }
      CHECK(std::abs(thrust_mean_average_precision(q, db, ql, dl) - want.map) <= 1e-12);
    }
  }
}

TEST_CASE("thrust mAP: empty inputs and mismatched labels") {
  std::mt19937_64 rng(5);
  const auto db = test::random_codes<32>(100, rng);
  const auto q = test::random_codes<32>(4, rng);
  const LabelMatrix dl = sparse_labels(100, 10, 0.3, rng), ql = sparse_labels(4, 10, 0.3, rng);
  CHECK(thrust_mean_average_precision(PackedCodes<32>(0), db, LabelMatrix(0, 10), dl) == 0.0);
  CHECK(thrust_average_precision(q, PackedCodes<32>(0), ql, LabelMatrix(0, 10)) == std::vector<double>(4, 0.0));
  CHECK_THROWS_AS(thrust_average_precision(q, db, sparse_labels(3, 10, 0.3, rng), dl), ShapeError);
  CHECK_THROWS_AS(thrust_average_precision(q, db, ql, sparse_labels(100, 11, 0.3, rng)), ShapeError);
}
