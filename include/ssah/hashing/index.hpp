#pragma once
/// \file
/// `ssah::HammingIndex<K>`: exhaustive Hamming search over packed codes (the counterpart of FAISS's
/// `IndexBinaryFlat`), multithreaded with OpenMP over queries and database blocks.
///
/// Every result is ordered by (distance, database id): ties go to the smaller id, so results are
/// the same for any thread count and equal a stable sort by distance.
///
/// \code
///   ssah::HammingIndex<64> index(ssah::PackedCodes<64>::from_values(db_signs));
///   ssah::KnnResult r = index.search(queries, 100);     // r.ids[q * 100 + j], r.distances[...]
///   ssah::RangeResult near = index.radius_search(queries, 2);
/// \endcode

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ssah/detail/host_memory.hpp"
#include "ssah/detail/isa_namespace.hpp"
#include "ssah/error.hpp"
#include "ssah/hashing/codes.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/hashing/select.hpp"

namespace ssah {

/// How k-NN selects: `Auto` picks `Buckets` unless (K + 1) * k ids per query would be large.
enum class KnnSelector {
  Auto,
  /// One pass; per distance a bucket of up to k ids and a falling threshold (fast for small k).
  Buckets,
  /// Two passes per query: a distance histogram, then placement (memory O(n + k)).
  Counting,
};

struct SearchOptions {
  /// OpenMP threads; 0 = OpenMP's default.
  int threads = 0;
  KnnSelector selector = KnnSelector::Auto;
  /// Distance kernel; automatic = hamming_kernel() (the best this CPU runs, SSAH_HAMMING_ISA caps it).
  HammingKernel kernel = HammingKernel::automatic;
};

/// k nearest neighbours of each query, row-major [queries, k]. Rows have -1 (id and distance)
/// after the last neighbour when the database holds fewer than k codes.
struct KnnResult {
  std::size_t queries = 0;
  std::size_t k = 0;
  std::vector<std::int64_t> ids;
  std::vector<std::int32_t> distances;

  std::int64_t id(std::size_t q, std::size_t j) const { return ids[q * k + j]; }
  std::int32_t distance(std::size_t q, std::size_t j) const { return distances[q * k + j]; }

  /// A result of `queries` x `k` entries filled with -1; OutOfMemory, before allocating, when
  /// that is more than the host has (k comes from users: `ssah search -k`).
  static KnnResult sized(std::size_t queries, std::size_t k) {
    const std::string what = ::ssah::detail::concat("the ", k, " nearest neighbours of ", queries,
                                                    " queries (ids and distances)");
    if (queries != 0 && k > std::numeric_limits<std::size_t>::max() / queries)
      ::ssah::detail::fail<OutOfMemory>("out of memory: ", what, " would take more bytes than memory can hold");
    ::ssah::detail::check_host_allocation(queries * k, sizeof(std::int64_t) + sizeof(std::int32_t), what.c_str());
    KnnResult r;
    r.queries = queries;
    r.k = k;
    r.ids.assign(queries * k, -1);
    r.distances.assign(queries * k, -1);
    return r;
  }
};

/// Results of a radius search: query q's matches are [offsets[q], offsets[q + 1]) of ids and
/// distances, sorted by (distance, id).
struct RangeResult {
  std::vector<std::size_t> offsets;
  std::vector<std::int64_t> ids;
  std::vector<std::int32_t> distances;

  std::size_t queries() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::size_t count(std::size_t q) const { return offsets[q + 1] - offsets[q]; }
};

/// The whole database ordered by (distance, id) for one query.
struct Ranking {
  std::vector<std::int64_t> ids;
  std::vector<std::int32_t> distances;
};

namespace detail {
inline namespace SSAH_ISA_NAMESPACE {

/// Database codes per block: a block and the per-query state stay in L2 while a tile of
/// queries scans it.
template <int K>
constexpr std::size_t knn_block_codes() {
  constexpr std::size_t bytes = 192 * 1024;
  constexpr std::size_t n = bytes / (static_cast<std::size_t>(K) / 8);
  return n < scan_chunk ? scan_chunk : n / scan_chunk * scan_chunk;
}

/// k-NN with `CountingTopK`: query tiles in parallel when there are enough queries, otherwise the
/// database split into one slice per thread and the slices' buckets merged in id order.
template <int K>
void knn_buckets(HammingKernel kernel, const std::uint8_t* db, std::size_t n, const std::uint8_t* queries,
                 std::size_t nq, std::size_t k, std::int32_t* out_d, std::int64_t* out_id, int threads) {
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  constexpr std::size_t block = knn_block_codes<K>();
  constexpr std::size_t max_tile = 32;
  const auto kk = static_cast<std::uint32_t>(std::min<std::size_t>(k, n == 0 ? 1 : n));
  const std::size_t bucket_words = static_cast<std::size_t>(K + 1) * kk;
  // Queries scanning each database block together: more reuse of the block, but their buckets
  // (only partly touched) should stay within about 1 MB.
  const std::size_t tile = std::max<std::size_t>(1, std::min(max_tile, (std::size_t(1) << 18) / bucket_words));
  const std::size_t ntiles = (nq + tile - 1) / tile;
  const bool split_database = nq < 4 * static_cast<std::size_t>(threads) && n >= 2 * block && threads > 1;

  if (!split_database) {
#pragma omp parallel num_threads(threads)
    {
      auto counts = uninitialized_buffer<std::uint32_t>(tile * (K + 1));
      auto ids = uninitialized_buffer<std::uint32_t>(tile * bucket_words);
      CountingTopK states[max_tile];
#pragma omp for schedule(dynamic, 1)
      for (std::ptrdiff_t t = 0; t < static_cast<std::ptrdiff_t>(ntiles); ++t) {
        const std::size_t q0 = static_cast<std::size_t>(t) * tile, q1 = std::min(nq, q0 + tile);
        for (std::size_t q = q0; q < q1; ++q)
          states[q - q0] = CountingTopK(K, kk, counts.get() + (q - q0) * (K + 1), ids.get() + (q - q0) * bucket_words);
        for (std::size_t b = 0; b < n; b += block) {
          const std::size_t e = std::min(n, b + block);
          for (std::size_t q = q0; q < q1; ++q) scan_topk<K>(kernel, queries + q * cs, db, b, e, states[q - q0]);
        }
        for (std::size_t q = q0; q < q1; ++q) {
          const CountingTopK* s = &states[q - q0];
          extract_topk(&s, 1, K, k, out_d + q * k, out_id + q * k);
        }
      }
    }
    return;
  }

  // Few queries: every thread scans its own slice of the database for the whole tile.
  const auto nslices = static_cast<std::size_t>(threads);
  const std::size_t per_slice = (n + nslices - 1) / nslices;
  auto counts = uninitialized_buffer<std::uint32_t>(nslices * tile * (K + 1));
  auto ids = uninitialized_buffer<std::uint32_t>(nslices * tile * bucket_words);
  std::vector<CountingTopK> states(nslices * tile);
  for (std::size_t q0 = 0; q0 < nq; q0 += tile) {
    const std::size_t q1 = std::min(nq, q0 + tile);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (std::ptrdiff_t si = 0; si < static_cast<std::ptrdiff_t>(nslices); ++si) {
      const auto s = static_cast<std::size_t>(si);
      const std::size_t s0 = std::min(n, s * per_slice), s1 = std::min(n, s0 + per_slice);
      for (std::size_t q = q0; q < q1; ++q) {
        const std::size_t slot = s * tile + (q - q0);
        states[slot] = CountingTopK(K, kk, counts.get() + slot * (K + 1), ids.get() + slot * bucket_words);
      }
      for (std::size_t b = s0; b < s1; b += block) {
        const std::size_t e = std::min(s1, b + block);
        for (std::size_t q = q0; q < q1; ++q)
          scan_topk<K>(kernel, queries + q * cs, db, b, e, states[s * tile + (q - q0)]);
      }
    }
    std::vector<const CountingTopK*> view(nslices);
    for (std::size_t q = q0; q < q1; ++q) {
      for (std::size_t s = 0; s < nslices; ++s) view[s] = &states[s * tile + (q - q0)];
      extract_topk(view.data(), nslices, K, k, out_d + q * k, out_id + q * k);
    }
  }
}

/// k-NN by counting (two passes per query over stored distances), queries in parallel.
template <int K>
void knn_counting(HammingKernel kernel, const std::uint8_t* db, std::size_t n, const std::uint8_t* queries,
                  std::size_t nq, std::size_t k, std::int32_t* out_d, std::int64_t* out_id, int threads) {
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
#pragma omp parallel num_threads(threads)
  {
    auto dist = uninitialized_buffer<std::uint16_t>(n + 1);
    std::size_t hist[K + 2];
#pragma omp for schedule(dynamic, 1)
    for (std::ptrdiff_t qi = 0; qi < static_cast<std::ptrdiff_t>(nq); ++qi) {
      const auto q = static_cast<std::size_t>(qi);
      topk_by_counting<K>(kernel, queries + q * cs, db, n, k, out_d + q * k, out_id + q * k, dist.get(), hist);
    }
  }
}

/// All codes within `radius` of each query, sorted by (distance, id).
template <int K>
RangeResult radius_search(HammingKernel kernel, const std::uint8_t* db, std::size_t n, const std::uint8_t* queries,
                          std::size_t nq, int radius, int threads) {
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  const auto r = static_cast<std::uint16_t>(std::min(radius, K));
  std::vector<std::vector<std::uint32_t>> found(nq);
  std::vector<std::vector<std::uint16_t>> found_d(nq);
#pragma omp parallel num_threads(threads)
  {
    alignas(64) std::uint16_t dbuf[scan_chunk];
    std::vector<std::uint32_t> ids;
    std::vector<std::uint16_t> ds;
#pragma omp for schedule(dynamic, 1)
    for (std::ptrdiff_t qi = 0; qi < static_cast<std::ptrdiff_t>(nq); ++qi) {
      const auto q = static_cast<std::size_t>(qi);
      ids.clear();
      ds.clear();
      std::size_t hist[K + 2] = {};
      for (std::size_t i = 0; i < n; i += scan_chunk) {
        const std::size_t m = std::min(scan_chunk, n - i);
        hamming_distances<K>(kernel, queries + q * cs, db + i * cs, m, dbuf);
        const std::size_t groups = (m + 63) / 64;
        std::fill(dbuf + m, dbuf + groups * 64, std::uint16_t(0xffff));
        for (std::size_t g = 0; g < groups; ++g) {
          std::uint64_t mask = mask_le64(kernel, dbuf + g * 64, r);
          while (mask) {
            const auto b = static_cast<std::size_t>(lowest_bit(mask));
            mask &= mask - 1;
            ids.push_back(static_cast<std::uint32_t>(i + g * 64 + b));
            ds.push_back(dbuf[g * 64 + b]);
            ++hist[dbuf[g * 64 + b] + 1];
          }
        }
      }
      // Counting sort by distance; ids arrive increasing, so ties stay in id order.
      for (int d = 0; d <= K; ++d) hist[d + 1] += hist[d];
      std::vector<std::uint32_t>& out = found[q];
      std::vector<std::uint16_t>& out_d = found_d[q];
      out.resize(ids.size());
      out_d.resize(ids.size());
      for (std::size_t j = 0; j < ids.size(); ++j) {
        const std::size_t slot = hist[ds[j]]++;
        out[slot] = ids[j];
        out_d[slot] = ds[j];
      }
    }
  }
  RangeResult res;
  res.offsets.assign(nq + 1, 0);
  for (std::size_t q = 0; q < nq; ++q) res.offsets[q + 1] = res.offsets[q] + found[q].size();
  res.ids.resize(res.offsets[nq]);
  res.distances.resize(res.offsets[nq]);
  for (std::size_t q = 0; q < nq; ++q) {
    std::copy(found[q].begin(), found[q].end(), res.ids.begin() + static_cast<std::ptrdiff_t>(res.offsets[q]));
    std::copy(found_d[q].begin(), found_d[q].end(),
              res.distances.begin() + static_cast<std::ptrdiff_t>(res.offsets[q]));
  }
  return res;
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail

// The index calls the kernels of this translation unit's instruction set (see isa_namespace.hpp).
inline namespace SSAH_ISA_NAMESPACE {

/// The k nearest of `nq` packed queries among `n` packed codes at `codes` (K / 8 bytes each, ids
/// 0..n-1, ties by id), read where they are: e.g. a database memory-mapped from a file
/// (io::MappedNpy), which HammingIndex would copy. At most 2^32 - 2 codes.
template <int K>
KnnResult hamming_knn(const std::uint8_t* codes, std::size_t n, const std::uint8_t* queries, std::size_t nq,
                      std::size_t k, const SearchOptions& options = {}) {
  SSAH_CHECK_AS(InvalidArgument, k > 0, "HammingIndex::search: k must be positive");
  SSAH_CHECK_AS(InvalidArgument, k <= std::numeric_limits<std::uint32_t>::max(), "HammingIndex::search: k = ", k,
                " is too large");
  SSAH_CHECK_AS(InvalidArgument, n < std::numeric_limits<std::uint32_t>::max(),
                "HammingIndex: at most 2^32 - 2 codes (got ", n, ")");
  KnnResult r = KnnResult::sized(nq, k);
  if (nq == 0) return r;
  const int threads = detail::resolve_threads(options.threads);
  const HammingKernel kernel = resolve_hamming_kernel(options.kernel);
  KnnSelector sel = options.selector;
  if (sel == KnnSelector::Auto) {
    const std::size_t kk = std::min(k, std::max<std::size_t>(n, 1));
    sel = static_cast<std::size_t>(K + 1) * kk <= (std::size_t(1) << 18) ? KnnSelector::Buckets : KnnSelector::Counting;
  }
  if (sel == KnnSelector::Buckets)
    detail::knn_buckets<K>(kernel, codes, n, queries, nq, k, r.distances.data(), r.ids.data(), threads);
  else
    detail::knn_counting<K>(kernel, codes, n, queries, nq, k, r.distances.data(), r.ids.data(), threads);
  return r;
}

/// Exhaustive Hamming index over codes of K bits.
template <int K>
class HammingIndex {
 public:
  static constexpr int bits = K;

  HammingIndex() = default;
  explicit HammingIndex(PackedCodes<K> codes) : codes_(std::move(codes)) { check_size(); }

  /// Appends codes; their ids continue from size().
  void add(const PackedCodes<K>& codes) {
    codes_.append(codes);
    check_size();
  }

  std::size_t size() const noexcept { return codes_.size(); }
  const PackedCodes<K>& codes() const noexcept { return codes_; }

  /// The k nearest codes of each query (ties by id).
  KnnResult search(const PackedCodes<K>& queries, std::size_t k, const SearchOptions& options = {}) const {
    return search(queries.data(), queries.size(), k, options);
  }
  /// As above for nq packed queries of K / 8 bytes each.
  KnnResult search(const std::uint8_t* queries, std::size_t nq, std::size_t k,
                   const SearchOptions& options = {}) const {
    return hamming_knn<K>(codes_.data(), size(), queries, nq, k, options);
  }

  /// Every code within Hamming distance `radius` (inclusive) of each query.
  RangeResult radius_search(const PackedCodes<K>& queries, int radius, const SearchOptions& options = {}) const {
    SSAH_CHECK_AS(InvalidArgument, radius >= 0, "HammingIndex::radius_search: radius must be >= 0 (got ", radius, ")");
    return detail::radius_search<K>(resolve_hamming_kernel(options.kernel), codes_.data(), size(), queries.data(),
                                    queries.size(), radius, detail::resolve_threads(options.threads));
  }

  /// The whole database ordered by (distance, id) from `query` (K / 8 bytes): a counting sort,
  /// O(n + K).
  Ranking rank(const std::uint8_t* query, HammingKernel kernel = HammingKernel::automatic) const {
    Ranking r;
    const std::size_t n = size();
    r.ids.resize(n);
    r.distances.resize(n);
    auto dist = detail::uninitialized_buffer<std::uint16_t>(n + 1);
    std::size_t hist[K + 2];
    detail::topk_by_counting<K>(resolve_hamming_kernel(kernel), query, codes_.data(), n, n, r.distances.data(),
                                r.ids.data(), dist.get(), hist);
    return r;
  }

  /// Distances from each query to every code, row-major [queries, size()].
  std::vector<std::uint16_t> distances(const PackedCodes<K>& queries, const SearchOptions& options = {}) const {
    const std::size_t n = size(), nq = queries.size();
    std::vector<std::uint16_t> out(nq * n);
    const int threads = detail::resolve_threads(options.threads);
    const HammingKernel kernel = resolve_hamming_kernel(options.kernel);
    const std::uint8_t* db = codes_.data();
    std::uint16_t* o = out.data();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::ptrdiff_t q = 0; q < static_cast<std::ptrdiff_t>(nq); ++q)
      hamming_distances<K>(kernel, queries.code(static_cast<std::size_t>(q)), db, n,
                           o + static_cast<std::size_t>(q) * n);
    return out;
  }

 private:
  void check_size() const {
    SSAH_CHECK_AS(InvalidArgument, codes_.size() < std::numeric_limits<std::uint32_t>::max(),
                  "HammingIndex: at most 2^32 - 2 codes (got ", codes_.size(), ")");
  }

  PackedCodes<K> codes_;
};

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace ssah
