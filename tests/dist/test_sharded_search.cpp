#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ssah/dist/communicator.hpp"
#include "ssah/dist/sharded_search.hpp"
#include "ssah/host_rng.hpp"

using namespace ssah;

namespace {

/// n random 32-bit codes with few distinct values, so that many distances tie.
std::vector<std::uint8_t> tied_codes(std::size_t n, std::uint64_t seed) {
  HostRng rng(seed);
  std::vector<std::uint8_t> codes(n * 4);
  for (std::uint8_t& b : codes) b = static_cast<std::uint8_t>(rng.next() % 4);
  return codes;
}

}  // namespace

TEST_CASE("shard_of: contiguous shards in rank order, sizes within one, covering every row once") {
  for (std::size_t n : {0, 1, 7, 100, 101}) {
    for (int p : {1, 2, 3, 8}) {
      std::size_t next = 0;
      for (int r = 0; r < p; ++r) {
        const dist::Shard s = dist::shard_of(n, r, p);
        CHECK(s.first == next);
        CHECK(s.size() >= n / static_cast<std::size_t>(p));
        CHECK(s.size() <= n / static_cast<std::size_t>(p) + 1);
        next = s.last;
      }
      CHECK(next == n);
    }
  }
  CHECK_THROWS_AS(dist::shard_of(10, 2, 2), InvalidArgument);
}

TEST_CASE("merge_knn: shards searched apart and merged give the ids and distances of one search, ties by id") {
  const std::size_t n = 1000, nq = 40;
  const std::vector<std::uint8_t> db = tied_codes(n, 1), queries = tied_codes(nq, 2);
  for (std::size_t k : {1, 10, 100, 400}) {
    const KnnResult whole = hamming_knn<32>(db.data(), n, queries.data(), nq, k);
    for (int p : {2, 3, 7}) {
      std::vector<KnnResult> parts;
      std::vector<std::int64_t> offsets;
      for (int r = 0; r < p; ++r) {
        const dist::Shard s = dist::shard_of(n, r, p);
        parts.push_back(hamming_knn<32>(db.data() + s.first * 4, s.size(), queries.data(), nq, k));
        offsets.push_back(static_cast<std::int64_t>(s.first));
      }
      const KnnResult merged = dist::merge_knn(parts, offsets, k);
      INFO("k = ", k, ", ", p, " shards");
      CHECK(merged.ids == whole.ids);
      CHECK(merged.distances == whole.distances);
    }
  }
  // More neighbours asked than codes: -1 after the last, as one search has it.
  const KnnResult whole = hamming_knn<32>(db.data(), 5, queries.data(), nq, 8);
  const KnnResult merged = dist::merge_knn(
      {hamming_knn<32>(db.data(), 2, queries.data(), nq, 8), hamming_knn<32>(db.data() + 8, 3, queries.data(), nq, 8)},
      {0, 2}, 8);
  CHECK(merged.ids == whole.ids);
  CHECK(merged.distances == whole.distances);
  CHECK(merged.id(0, 5) == -1);
  CHECK_THROWS_AS(dist::merge_knn({}, {}, 3), InvalidArgument);
}

TEST_CASE("sharded_knn on SingleProcess is hamming_knn, and a shard of no codes takes part") {
  const std::size_t n = 300, nq = 12;
  const std::vector<std::uint8_t> db = tied_codes(n, 3), queries = tied_codes(nq, 4);
  dist::SingleProcess one;
  const KnnResult whole = hamming_knn<32>(db.data(), n, queries.data(), nq, 20);
  const KnnResult sharded = dist::sharded_knn<32>(one, db.data(), n, 0, queries.data(), nq, 20);
  CHECK(sharded.ids == whole.ids);
  CHECK(sharded.distances == whole.distances);
  const KnnResult none = dist::sharded_knn<32>(one, db.data(), 0, 0, queries.data(), nq, 20);
  CHECK(none.id(0, 0) == -1);
  CHECK(one.all_gather("abc", 3) == std::vector<std::vector<unsigned char>>{{'a', 'b', 'c'}});
  double sum[2] = {1.5, 2};
  one.all_reduce_sum(sum, 2);
  CHECK(sum[1] == 2);
}
