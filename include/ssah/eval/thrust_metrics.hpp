#pragma once
/// \file
/// `ssah::thrust_mean_average_precision<K>`: mAP over the whole Hamming ranking with ties ordered
/// by database index (the reference `calc_map`, as `mean_average_precision` computes it on the
/// host), written against Thrust so that it runs on the device system: CUDA kernels under nvcc
/// with SSAH_DEVICE_SYSTEM=CUDA, OpenMP or serial loops otherwise.
///
/// The same counting scheme as `ThrustHammingIndex`, over (query, database chunk) work items:
///  1. each item counts, per distance, its codes and its relevant codes;
///  2. per query, an exclusive scan over (distance, chunk) turns the counts into the rank and the
///     relevant count that precede each (chunk, distance): chunks are in id order, so this is the
///     stable ranking;
///  3. each item rescans its chunk in id order and adds precision-at-rank for its relevant codes;
///  4. per query, the chunk sums over the query's relevant count; the mean over queries on the host.
/// Sums are taken in a fixed order, so the result does not depend on the device system's threads;
/// it differs from the host's by floating-point summation order only (a relative 1e-15 or so).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include <thrust/copy.h>
#include <thrust/device_vector.h>

#include "ssah/config.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/eval/labels.hpp"
#include "ssah/hashing/codes.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/hashing/thrust_search.hpp"

namespace ssah {
namespace detail {

/// Whether two label rows of `words` 64-bit words share a label.
SSAH_HOST_DEVICE inline bool labels_shared(const std::uint64_t* a, const std::uint64_t* b, std::size_t words) {
  std::uint64_t shared = 0;
  for (std::size_t w = 0; w < words; ++w) shared |= a[w] & b[w];
  return shared != 0;
}

/// Average precision of nq queries over n database codes, all in device memory. `counts` holds
/// nq * nchunks * 2 (K + 1) counters (codes, then relevant codes, per distance), `partial`
/// nq * nchunks sums, `relevant` nq counts, `ap` nq results.
template <int K>
void thrust_ap_batch(const std::uint8_t* db, const std::uint64_t* db_labels, std::size_t n, const std::uint8_t* queries,
                     const std::uint64_t* query_labels, std::size_t nq, std::size_t words, std::size_t chunk,
                     std::uint32_t* counts, double* partial, std::uint64_t* relevant, double* ap) {
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  constexpr std::size_t bins = static_cast<std::size_t>(K) + 1;
  const std::size_t nchunks = (n + chunk - 1) / chunk;

  // 1. Codes and relevant codes per distance, for every (query, chunk).
  parallel_for(nq * nchunks, [=] SSAH_HOST_DEVICE(std::size_t i) {
    const std::size_t q = i % nq, c = i / nq;
    const HammingComputer<K> hc(queries + q * cs);
    std::uint32_t all[bins], rel[bins];
    for (std::size_t d = 0; d < bins; ++d) all[d] = rel[d] = 0;
    const std::size_t e = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    for (std::size_t j = c * chunk; j < e; ++j) {
      const int d = hc(db + j * cs);
      ++all[d];
      rel[d] += labels_shared(query_labels + q * words, db_labels + j * words, words) ? 1u : 0u;
    }
    std::uint32_t* out = counts + (q * nchunks + c) * 2 * bins;
    for (std::size_t d = 0; d < bins; ++d) {
      out[d] = all[d];
      out[bins + d] = rel[d];
    }
  });

  // 2. Per query, in place: the codes and relevant codes ranked before each (chunk, distance).
  parallel_for(nq, [=] SSAH_HOST_DEVICE(std::size_t q) {
    std::uint32_t* cq = counts + q * nchunks * 2 * bins;
    std::uint64_t before = 0, rel_before = 0;
    for (std::size_t d = 0; d < bins; ++d) {
      for (std::size_t c = 0; c < nchunks; ++c) {
        std::uint32_t* cc = cq + c * 2 * bins;
        const std::uint32_t a = cc[d], r = cc[bins + d];
        cc[d] = static_cast<std::uint32_t>(before);
        cc[bins + d] = static_cast<std::uint32_t>(rel_before);
        before += a;
        rel_before += r;
      }
    }
    relevant[q] = rel_before;
  });

  // 3. Precision at the rank of each relevant code, summed per (query, chunk) in id order.
  parallel_for(nq * nchunks, [=] SSAH_HOST_DEVICE(std::size_t i) {
    const std::size_t q = i % nq, c = i / nq;
    const HammingComputer<K> hc(queries + q * cs);
    const std::uint32_t* cc = counts + (q * nchunks + c) * 2 * bins;
    std::uint32_t rank[bins], found[bins];
    for (std::size_t d = 0; d < bins; ++d) {
      rank[d] = cc[d];
      found[d] = cc[bins + d];
    }
    double sum = 0;
    const std::size_t e = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    for (std::size_t j = c * chunk; j < e; ++j) {
      const int d = hc(db + j * cs);
      const std::uint32_t r = ++rank[d];
      if (labels_shared(query_labels + q * words, db_labels + j * words, words))
        sum += static_cast<double>(++found[d]) / static_cast<double>(r);
    }
    partial[q * nchunks + c] = sum;
  });

  // 4. Per query: AP = the chunk sums in chunk order over the relevant count (0 without any).
  parallel_for(nq, [=] SSAH_HOST_DEVICE(std::size_t q) {
    double sum = 0;
    for (std::size_t c = 0; c < nchunks; ++c) sum += partial[q * nchunks + c];
    ap[q] = relevant[q] == 0 ? 0.0 : sum / static_cast<double>(relevant[q]);
  });
}

}  // namespace detail

/// Average precision of each query over the whole stable Hamming ranking of `database`
/// (relevant = shares a label), computed on the Thrust device system; equal to the per-query AP
/// of `evaluate_retrieval` up to summation order. Queries with no relevant item get 0.
template <int K>
std::vector<double> thrust_average_precision(const PackedCodes<K>& queries, const PackedCodes<K>& database,
                                             const LabelMatrix& query_labels, const LabelMatrix& database_labels) {
  SSAH_CHECK_AS(ShapeError, query_labels.rows() == queries.size(), "thrust_average_precision: ", queries.size(),
                " queries but ", query_labels.rows(), " rows of query labels");
  SSAH_CHECK_AS(ShapeError, database_labels.rows() == database.size(), "thrust_average_precision: ", database.size(),
                " database codes but ", database_labels.rows(), " rows of database labels");
  SSAH_CHECK_AS(ShapeError, query_labels.classes() == database_labels.classes(),
                "thrust_average_precision: query labels have ", query_labels.classes(), " classes, database labels ",
                database_labels.classes());
  const std::size_t nq = queries.size(), n = database.size(), words = query_labels.words();
  std::vector<double> result(nq, 0.0);
  if (nq == 0 || n == 0) return result;
  SSAH_CHECK_AS(InvalidArgument, n < std::size_t(0xFFFFFFFFu), "thrust_average_precision: at most 2^32 - 2 codes");

  // Chunks as ThrustHammingIndex takes them; queries in batches whose counters take ~64 MB at most.
  const std::size_t chunk = detail::thrust_chunk_size(n);
  const std::size_t nchunks = (n + chunk - 1) / chunk;
  const std::size_t per_query = nchunks * 2 * (static_cast<std::size_t>(K) + 1);
  const std::size_t batch = std::max<std::size_t>(1, std::min(nq, (std::size_t(16) << 20) / per_query));

  const thrust::device_vector<std::uint8_t> db(database.bytes().begin(), database.bytes().end());
  const thrust::device_vector<std::uint8_t> q(queries.bytes().begin(), queries.bytes().end());
  const thrust::device_vector<std::uint64_t> dl(database_labels.data(), database_labels.data() + n * words);
  const thrust::device_vector<std::uint64_t> ql(query_labels.data(), query_labels.data() + nq * words);
  thrust::device_vector<std::uint32_t> counts(batch * per_query);
  thrust::device_vector<double> partial(batch * nchunks), ap(batch);
  thrust::device_vector<std::uint64_t> relevant(batch);
  for (std::size_t q0 = 0; q0 < nq; q0 += batch) {
    const std::size_t nb = std::min(batch, nq - q0);
    detail::thrust_ap_batch<K>(thrust::raw_pointer_cast(db.data()), thrust::raw_pointer_cast(dl.data()), n,
                               thrust::raw_pointer_cast(q.data()) + q0 * PackedCodes<K>::code_bytes,
                               thrust::raw_pointer_cast(ql.data()) + q0 * words, nb, words, chunk,
                               thrust::raw_pointer_cast(counts.data()), thrust::raw_pointer_cast(partial.data()),
                               thrust::raw_pointer_cast(relevant.data()), thrust::raw_pointer_cast(ap.data()));
    thrust::copy(ap.begin(), ap.begin() + static_cast<std::ptrdiff_t>(nb),
                 result.begin() + static_cast<std::ptrdiff_t>(q0));
  }
  return result;
}

/// mAP over the whole stable ranking on the Thrust device system: `mean_average_precision`'s
/// value (up to summation order), the mean taken on the host in query order.
template <int K>
double thrust_mean_average_precision(const PackedCodes<K>& queries, const PackedCodes<K>& database,
                                     const LabelMatrix& query_labels, const LabelMatrix& database_labels) {
  const std::vector<double> ap = thrust_average_precision(queries, database, query_labels, database_labels);
  if (ap.empty()) return 0.0;
  return std::accumulate(ap.begin(), ap.end(), 0.0) / static_cast<double>(ap.size());
}

}  // namespace ssah
