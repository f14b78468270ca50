#pragma once
/// \file
/// Retrieval metrics over a database sharded across ranks: `sharded_evaluate` gives every rank the
/// `EvalResult` that `evaluate_retrieval` gives over the whole database (mAP with ties by database
/// index, tie-aware mAP, mAP@R, precision@N, the PR curve, and the per-query values), each rank
/// reading only its shard: rows [first, first + size) of the database, contiguous and in rank order
/// (`shard_of`).
///
/// Two rounds, as the one-process kernel counts its two halves of the database: each rank counts,
/// for every query, its items and its relevant items at each Hamming distance (K + 1 bins), and the
/// counts are gathered. From them every rank knows where each of its items stands in the whole
/// ranking (after every item at a smaller distance, and after the items at the same distance of the
/// lower ranks: ties in database order), so it adds up its relevant items' precision terms, and
/// those sums are summed over the ranks. Positions, ties and counts are exactly one process's; the
/// AP sums are added in another order (equal to about 1e-15). Tie-aware mAP, precision@N and the PR
/// curve follow from counts alone and are identical.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "ssah/dist/communicator.hpp"
#include "ssah/error.hpp"
#include "ssah/eval/labels.hpp"
#include "ssah/eval/metrics.hpp"
#include "ssah/hashing/codes.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/hashing/select.hpp"

namespace ssah::dist {

/// The metrics of Hamming ranking of the whole database (every rank's `shard`, in rank order) for
/// every query, on every rank. Every rank passes the same queries, labels and options.
template <int K>
EvalResult sharded_evaluate(Communicator& comm, CodesView<K> queries, const LabelMatrix& query_labels,
                            CodesView<K> shard, const LabelMatrix& shard_labels, const EvalOptions& options = {}) {
  SSAH_CHECK_AS(ShapeError, queries.size() == query_labels.rows(), "sharded_evaluate: ", queries.size(),
                " query codes but ", query_labels.rows(), " query label rows");
  SSAH_CHECK_AS(ShapeError, shard.size() == shard_labels.rows(), "sharded_evaluate: ", shard.size(),
                " database codes but ", shard_labels.rows(), " database label rows");
  SSAH_CHECK_AS(ShapeError, query_labels.classes() == shard_labels.classes(), "sharded_evaluate: query labels have ",
                query_labels.classes(), " classes, database labels ", shard_labels.classes());
  constexpr std::size_t bins = K + 1;
  const std::size_t nq = queries.size(), ns = shard.size();
  const auto ranks = static_cast<std::size_t>(comm.size()), me = static_cast<std::size_t>(comm.rank());
  const int threads = ssah::detail::resolve_threads(options.threads);
  const HammingKernel kernel = resolve_hamming_kernel(options.kernel);

  // Round 1: this shard's size, then per query and distance: items | relevant items << 32.
  std::vector<std::uint64_t> mine(1 + nq * bins, 0);
  mine[0] = ns;
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::uint16_t> dist(ns + 1);
#pragma omp for schedule(dynamic, 4)
    for (std::ptrdiff_t qi = 0; qi < static_cast<std::ptrdiff_t>(nq); ++qi) {
      const auto q = static_cast<std::size_t>(qi);
      hamming_distances<K>(kernel, queries.code(q), shard.data(), ns, dist.data());
      std::uint64_t* h = mine.data() + 1 + q * bins;
      for (std::size_t j = 0; j < ns; ++j)
        h[dist[j]] += 1 | (static_cast<std::uint64_t>(query_labels.shares_label(q, shard_labels, j)) << 32);
    }
  }
  const auto gathered = comm.all_gather(mine.data(), mine.size() * sizeof(std::uint64_t));
  std::vector<const std::uint64_t*> counts(ranks);
  std::size_t n = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    SSAH_CHECK_AS(InvalidArgument, gathered[r].size() == mine.size() * sizeof(std::uint64_t), "sharded_evaluate: rank ",
                  r, " has other queries than rank ", me);
    counts[r] = reinterpret_cast<const std::uint64_t*>(gathered[r].data());
    n += counts[r][0];
  }
  SSAH_CHECK_AS(InvalidArgument, n < std::numeric_limits<std::uint32_t>::max(),
                "sharded_evaluate: at most 2^32 - 2 database items (got ", n, ")");
  std::vector<std::size_t> cap_n;
  EvalResult res = ssah::detail::new_result<K>(nq, n, options, cap_n);
  const std::size_t npoints = cap_n.size(), width = 3 + npoints;  // sum, sum within R, found within R, hits at each N

  // Per query and distance: the counts of the whole database, and of the shards before this one.
  std::vector<std::uint64_t> total(nq * bins, 0), lower(nq * bins, 0);
  for (std::size_t r = 0; r < ranks; ++r)
    for (std::size_t i = 0; i < nq * bins; ++i) {
      total[i] += counts[r][1 + i];
      if (r < me) lower[i] += counts[r][1 + i];
    }

  // Round 2: this shard's relevant items' terms, at their places in the whole ranking.
  std::vector<double> sums(nq * width, 0.0);
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::uint16_t> dist(ns + 1);
#pragma omp for schedule(dynamic, 4)
    for (std::ptrdiff_t qi = 0; qi < static_cast<std::ptrdiff_t>(nq); ++qi) {
      const auto q = static_cast<std::size_t>(qi);
      std::size_t start[bins], rel_start[bins], before[bins], rel_before[bins];  // before: in this bucket
      std::size_t pos0 = 0, rel0 = 0;
      for (std::size_t d = 0; d < bins; ++d) {
        const std::uint64_t all = total[q * bins + d], below = lower[q * bins + d];
        start[d] = pos0, rel_start[d] = rel0;
        before[d] = below & 0xffffffffu, rel_before[d] = below >> 32;
        pos0 += all & 0xffffffffu, rel0 += all >> 32;
      }
      if (rel0 == 0 || ns == 0) continue;
      hamming_distances<K>(kernel, queries.code(q), shard.data(), ns, dist.data());
      double* s = sums.data() + q * width;
      for (std::size_t j = 0; j < ns; ++j) {
        const std::size_t d = dist[j], pos = start[d] + ++before[d];
        if (!query_labels.shares_label(q, shard_labels, j)) continue;
        const std::size_t rank = rel_start[d] + ++rel_before[d];
        s[0] += static_cast<double>(rank) * (1.0 / static_cast<double>(pos));
        if (pos <= options.top_r) {
          s[1] += static_cast<double>(rank) / static_cast<double>(pos);
          s[2] += 1;
        }
        for (std::size_t i = 0; i < npoints; ++i) s[3 + i] += pos <= cap_n[i];
      }
    }
  }
  comm.all_reduce_sum(sums.data(), sums.size());

  // Every rank: the per-query values, then the means and curves as one process makes them.
  const std::vector<long double> harmonic = ssah::detail::harmonic_numbers(n);
  std::vector<double> ap(nq, 0.0), ap_tie(nq, 0.0), ap_r(nq, 0.0), prec(nq * npoints, 0.0);
  std::vector<std::size_t> relevant(nq, 0);
  std::vector<std::uint32_t> pr_hits, pr_total;
  if (options.pr_curve) {
    pr_hits.resize(nq * bins);
    pr_total.resize(nq * bins);
  }
  for (std::size_t q = 0; q < nq; ++q) {
    std::size_t pos0 = 0, rel0 = 0;
    long double tie_sum = 0;
    for (std::size_t d = 0; d < bins; ++d) {
      const std::uint64_t both = total[q * bins + d];
      const std::size_t items = both & 0xffffffffu, rel = both >> 32;
      tie_sum += ssah::detail::tied_group_ap_sum(items, rel, pos0, rel0, harmonic);
      pos0 += items, rel0 += rel;
      if (options.pr_curve) {
        pr_hits[q * bins + d] = static_cast<std::uint32_t>(rel0);
        pr_total[q * bins + d] = static_cast<std::uint32_t>(pos0);
      }
    }
    relevant[q] = rel0;
    if (rel0 == 0) continue;
    const double* s = sums.data() + q * width;
    ap[q] = s[0] / static_cast<double>(rel0);
    ap_tie[q] = static_cast<double>(tie_sum / static_cast<long double>(rel0));
    if (options.top_r > 0 && s[2] > 0) ap_r[q] = s[1] / s[2];
    for (std::size_t i = 0; i < npoints; ++i) prec[q * npoints + i] = s[3 + i] / static_cast<double>(cap_n[i]);
  }
  return ssah::detail::summarize<K>(std::move(res), options, ap, ap_tie, ap_r, relevant, prec, pr_hits, pr_total);
}

/// As above, for codes held in PackedCodes.
template <int K>
EvalResult sharded_evaluate(Communicator& comm, const PackedCodes<K>& queries, const LabelMatrix& query_labels,
                            const PackedCodes<K>& shard, const LabelMatrix& shard_labels,
                            const EvalOptions& options = {}) {
  return sharded_evaluate(comm, queries.view(), query_labels, shard.view(), shard_labels, options);
}

}  // namespace ssah::dist
