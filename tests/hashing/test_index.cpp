#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "hashing_test_support.hpp"
#include "ssah/hashing/index.hpp"

using namespace ssah;

namespace {

/// The reference ranking: (distance, id) of every database code, by std::stable_sort on distance.
template <int K>
std::vector<std::pair<int, std::int64_t>> brute_ranking(const PackedCodes<K>& q, std::size_t qi,
                                                        const PackedCodes<K>& db) {
  std::vector<std::pair<int, std::int64_t>> r(db.size());
  for (std::size_t j = 0; j < db.size(); ++j)
    r[j] = {test::oracle_distance(q, qi, db, j), static_cast<std::int64_t>(j)};
  std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return r;
}

template <int K>
using Rankings = std::vector<std::vector<std::pair<int, std::int64_t>>>;

template <int K>
Rankings<K> brute_rankings(const PackedCodes<K>& db, const PackedCodes<K>& q) {
  Rankings<K> out(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) out[i] = brute_ranking(q, i, db);
  return out;
}

/// Number of (query, rank) entries where the index differs from the reference rankings.
template <int K>
std::size_t knn_mismatches(const HammingIndex<K>& index, const PackedCodes<K>& q, const Rankings<K>& want,
                           std::size_t k, const SearchOptions& opt) {
  const KnnResult r = index.search(q, k, opt);
  REQUIRE(r.queries == q.size());
  REQUIRE(r.k == k);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < q.size(); ++i)
    for (std::size_t j = 0; j < k; ++j) {
      const std::int64_t id = j < want[i].size() ? want[i][j].second : -1;
      const int d = j < want[i].size() ? want[i][j].first : -1;
      mismatches += r.id(i, j) != id || r.distance(i, j) != d;
    }
  return mismatches;
}

}  // namespace

TEST_CASE_TEMPLATE("index: k-NN equals a stable sort by distance (ties by id, k > n)", KC,
                   std::integral_constant<int, 8>, std::integral_constant<int, 16>, std::integral_constant<int, 24>,
                   std::integral_constant<int, 32>, std::integral_constant<int, 64>, std::integral_constant<int, 128>) {
  constexpr int K = KC::value;
  std::mt19937_64 rng(2000 + K);
  for (std::size_t n : {0u, 1u, 5u, 63u, 64u, 65u, 300u, 3000u}) {
    for (std::size_t nq : {1u, 3u, 37u}) {
      // A small pool of codes plus a few flipped bits: many exact ties at every distance.
      const auto db = test::random_codes<K>(n, rng, n / 4 + 1, static_cast<int>(rng() % 3));
      const auto q = test::random_codes<K>(nq, rng, 3, 2);
      const HammingIndex<K> index(db);
      const auto want = brute_rankings(db, q);
      for (std::size_t k : {std::size_t(1), std::size_t(10), std::size_t(100), n, n + 7}) {
        if (k == 0) continue;
        for (KnnSelector sel : {KnnSelector::Buckets, KnnSelector::Counting, KnnSelector::Auto}) {
          for (int threads : {1, 3}) {
            INFO("K = " << K << ", n = " << n << ", queries = " << nq << ", k = " << k
                        << ", selector = " << static_cast<int>(sel) << ", threads = " << threads);
            CHECK(knn_mismatches(index, q, want, k, SearchOptions{threads, sel}) == 0);
          }
          // Every kernel this CPU runs, not only the one the process chose.
          for (HammingKernel kernel : {HammingKernel::portable, HammingKernel::avx2, HammingKernel::avx512}) {
            if (!detail::cpu_supports(kernel)) continue;
            INFO("K = " << K << ", n = " << n << ", queries = " << nq << ", k = " << k
                        << ", selector = " << static_cast<int>(sel) << ", kernel = " << std::string(to_string(kernel)));
            CHECK(knn_mismatches(index, q, want, k, SearchOptions{2, sel, kernel}) == 0);
          }
        }
      }
    }
  }
}

TEST_CASE("index: few queries split the database over threads and merge the slices in id order") {
  // 60,000 codes of 64 bits span several blocks of 24,576 codes; with 2 queries and 3 threads
  // each thread scans its own slice and the slices' buckets are merged.
  std::mt19937_64 rng(3);
  const auto db = test::random_codes<64>(60000, rng, 500, 6);
  const auto q = test::random_codes<64>(2, rng, 2, 4);
  const HammingIndex<64> index(db);
  const auto want = brute_rankings(db, q);
  for (std::size_t k : {1u, 100u, 5000u})
    for (int threads : {2, 3}) {
      INFO("k = " << k << ", threads = " << threads);
      CHECK(knn_mismatches(index, q, want, k, SearchOptions{threads, KnnSelector::Buckets}) == 0);
    }
}

TEST_CASE("index: radius search, full ranking and the distance matrix") {
  std::mt19937_64 rng(4);
  const auto db = test::random_codes<32>(700, rng, 150, 3);
  const auto q = test::random_codes<32>(9, rng, 4, 3);
  const HammingIndex<32> index(db);
  const auto dm = index.distances(q);
  REQUIRE(dm.size() == 9 * 700);
  for (int r : {0, 3, 9, 32, 100})
    for (HammingKernel kernel :
         {HammingKernel::automatic, HammingKernel::portable, HammingKernel::avx2, HammingKernel::avx512}) {
      if (!detail::cpu_supports(kernel)) continue;
      INFO("kernel " << std::string(to_string(kernel)));
      const RangeResult rr = index.radius_search(q, r, SearchOptions{2, KnnSelector::Auto, kernel});
      REQUIRE(rr.queries() == 9);
      for (std::size_t i = 0; i < 9; ++i) {
        std::vector<std::pair<int, std::int64_t>> want;
        for (const auto& e : brute_ranking(q, i, db))
          if (e.first <= r) want.push_back(e);
        std::vector<std::pair<int, std::int64_t>> got;
        for (std::size_t j = rr.offsets[i]; j < rr.offsets[i + 1]; ++j) got.emplace_back(rr.distances[j], rr.ids[j]);
        INFO("radius " << r << ", query " << i);
        CHECK(got == want);
      }
    }
  for (std::size_t i = 0; i < 9; ++i) {
    const Ranking rk = index.rank(q.code(i));
    const auto want = brute_ranking(q, i, db);
    std::vector<std::pair<int, std::int64_t>> got;
    for (std::size_t j = 0; j < rk.ids.size(); ++j) got.emplace_back(rk.distances[j], rk.ids[j]);
    CHECK(got == want);
    for (std::size_t j = 0; j < 700; ++j) CHECK(dm[i * 700 + j] == test::oracle_distance(q, i, db, j));
  }
  CHECK_THROWS_AS(index.search(q, 0), InvalidArgument);
  CHECK_THROWS_AS(index.radius_search(q, -1), InvalidArgument);
}

TEST_CASE("index: add appends ids and results do not depend on the thread count") {
  std::mt19937_64 rng(5);
  const auto a = test::random_codes<64>(2000, rng, 300, 2);
  const auto b = test::random_codes<64>(1500, rng, 300, 2);
  HammingIndex<64> index(a);
  index.add(b);
  REQUIRE(index.size() == 3500);
  auto all = a;
  all.append(b);
  const auto q = test::random_codes<64>(20, rng, 5, 3);
  CHECK(knn_mismatches(index, q, brute_rankings(all, q), 50, SearchOptions{2, KnnSelector::Auto}) == 0);
  const auto r1 = index.search(q, 50, SearchOptions{1, KnnSelector::Auto});
  const auto r4 = index.search(q, 50, SearchOptions{4, KnnSelector::Auto});
  CHECK(r1.ids == r4.ids);
  CHECK(r1.distances == r4.distances);
}

TEST_CASE("hamming_knn: codes searched where they lie give the index's results") {
  std::mt19937_64 rng(11);
  const auto db = test::random_codes<64>(3000, rng, 400, 2);
  const auto q = test::random_codes<64>(30, rng, 5, 3);
  const HammingIndex<64> index(db);
  for (std::size_t k : {std::size_t(1), std::size_t(20), std::size_t(5000)}) {
    CAPTURE(k);
    const auto in_place = hamming_knn<64>(db.data(), db.size(), q.data(), q.size(), k);
    const auto r = index.search(q, k);
    CHECK(in_place.ids == r.ids);
    CHECK(in_place.distances == r.distances);
  }
  CHECK_THROWS_AS(hamming_knn<64>(db.data(), db.size(), q.data(), q.size(), 0), InvalidArgument);
}

TEST_CASE("index: a k whose results cannot fit in memory is an OutOfMemory error before any allocation") {
  std::mt19937_64 rng(6);
  const auto db = test::random_codes<64>(100, rng);
  const auto q = test::random_codes<64>(1000, rng);
  HammingIndex<64> index(db);
  // 1000 queries x 2^32 - 1 neighbours x 12 bytes = 48 TiB.
  CHECK_THROWS_WITH_AS(index.search(q, std::numeric_limits<std::uint32_t>::max()),
                       doctest::Contains("out of memory: the 4294967295 nearest neighbours of 1000 queries"),
                       OutOfMemory);
  // k beyond the database is padded with -1, as before.
  const KnnResult r = index.search(q, 150);
  CHECK(r.id(0, 99) >= 0);
  CHECK(r.id(0, 100) == -1);
  CHECK(r.distance(999, 149) == -1);
  // Thread counts are capped (at most 4 per processor, and kMaxThreads) before OpenMP sees them.
  CHECK(detail::resolve_threads(100000) >= 1);
  CHECK(detail::resolve_threads(100000) <= detail::kMaxThreads);
  CHECK(detail::resolve_threads(1) == 1);
#if defined(_OPENMP)
  CHECK(detail::resolve_threads(100000) == std::min(4 * omp_get_num_procs(), detail::kMaxThreads));
#endif
}
