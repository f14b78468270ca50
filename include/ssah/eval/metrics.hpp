#pragma once
/// \file
/// Retrieval metrics for Hamming ranking with multi-label relevance (relevant = shares at least
/// one label), computed for each query in O(N + K) with a counting sort by distance, never a sort.
///
/// - `map`: mean average precision over the whole ranking, identical to the reference `calc_map`
///   of DCMH and SSAH with ties in Hamming distance ordered by database index (a stable sort).
///   Queries with no relevant item count as 0 in the mean.
/// - `map_tie_aware`: the expected AP over all orderings of tied items, computed exactly; it does
///   not depend on the database order. At 16 bits ties are everywhere and the stable-sort value
///   depends on how the database happens to be ordered; report both.
/// - `map_at_r`: AP over the top R of the (stable) ranking, normalised by the relevant items found
///   there (queries with none count 0).
/// - precision@N for a list of N (N capped at the database size), mean over all queries.
/// - precision-recall by Hamming radius ("hash lookup", r = 0..K): retrieved = distance <= r,
///   averaged over the queries with at least one relevant item retrieved at that radius (the
///   convention of AGAH's and DADH's `pr_curve`).
/// See docs/metrics.md for the formulas.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "ssah/detail/isa_namespace.hpp"
#include "ssah/error.hpp"
#include "ssah/eval/labels.hpp"
#include "ssah/hashing/codes.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/hashing/select.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define SSAH_EVAL_NOINLINE __attribute__((noinline))
#else
#define SSAH_EVAL_NOINLINE
#endif
// GCC: keeps a loop scalar (its vectorised form would use gathers, which are slower here).
#if defined(__GNUC__) && !defined(__clang__)
#define SSAH_NO_VECTORIZE __attribute__((optimize("no-tree-vectorize")))
#else
#define SSAH_NO_VECTORIZE
#endif

namespace ssah {

/// N values for precision@N when none are given.
inline std::vector<std::size_t> default_precision_points() {
  return {1, 5, 10, 20, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 2000, 5000};
}

struct EvalOptions {
  /// R of mAP@R; 0 leaves it out.
  std::size_t top_r = 0;
  /// N values of the precision@N curve; empty leaves it out.
  std::vector<std::size_t> precision_at = default_precision_points();
  /// Whether to compute the precision-recall curve by Hamming radius.
  bool pr_curve = true;
  /// Whether to keep the per-query values (ap, ap_tie_aware, ap_at_r, relevant).
  bool per_query = true;
  /// OpenMP threads; 0 = OpenMP's default.
  int threads = 0;
  /// Distance kernel; automatic = hamming_kernel() (the best this CPU runs, SSAH_HAMMING_ISA caps it).
  HammingKernel kernel = HammingKernel::automatic;
};

struct EvalResult {
  std::size_t queries = 0;
  std::size_t database = 0;
  int bits = 0;
  /// mAP over the whole ranking, ties by database index (the reference `calc_map`).
  double map = 0;
  /// Expected mAP over uniformly random orders of tied items.
  double map_tie_aware = 0;
  /// mAP@R (0 when top_r was 0).
  std::size_t top_r = 0;
  double map_at_r = 0;
  /// Queries that share no label with any database item (their AP is 0).
  std::size_t queries_without_relevant = 0;
  /// precision@N: N as requested, and the precision at min(N, database).
  std::vector<std::size_t> precision_n;
  std::vector<double> precision_at_n;
  /// Precision and recall at Hamming radius r = 0..bits.
  std::vector<double> pr_precision;
  std::vector<double> pr_recall;
  /// Per query (when EvalOptions::per_query): AP with stable ties, tie-aware AP, AP@R, and the
  /// number of relevant database items.
  std::vector<double> ap;
  std::vector<double> ap_tie_aware;
  std::vector<double> ap_at_r;
  std::vector<std::size_t> relevant;
};

namespace detail {

/// H[m] = 1 + 1/2 + ... + 1/m for m = 0..n, accumulated in long double.
inline std::vector<long double> harmonic_numbers(std::size_t n) {
  std::vector<long double> h(n + 1);
  h[0] = 0;
  for (std::size_t m = 1; m <= n; ++m) h[m] = h[m - 1] + 1.0L / static_cast<long double>(m);
  return h;
}

/// Expected sum over the r relevant items of a tie group of n items (preceded by `before` items,
/// `rel_before` of them relevant) of (rank among relevant) / (position), over all n! orders.
///
/// An item at group position p (uniform on 1..n) is preceded by (p - 1)(r - 1)/(n - 1) relevant
/// group members on average, and its position N0 + p is fixed given p, so
///   E = r/n * sum_p (R0 + 1 + (p - 1)(r - 1)/(n - 1)) / (N0 + p)
///     = r/n * [ n B + (A - B (N0 + 1)) (H(N0 + n) - H(N0)) ],  A = R0 + 1, B = (r - 1)/(n - 1).
inline long double tied_group_ap_sum(std::size_t n, std::size_t r, std::size_t before, std::size_t rel_before,
                                     const std::vector<long double>& harmonic) noexcept {
  if (r == 0) return 0;
  const long double a = static_cast<long double>(rel_before) + 1;
  if (n == 1) return a / static_cast<long double>(before + 1);
  const long double b = static_cast<long double>(r - 1) / static_cast<long double>(n - 1);
  const long double dh = harmonic[before + n] - harmonic[before];
  const long double sum_p = static_cast<long double>(n) * b + (a - b * static_cast<long double>(before + 1)) * dh;
  return static_cast<long double>(r) / static_cast<long double>(n) * sum_p;
}

inline namespace SSAH_ISA_NAMESPACE {

/// Relevance of database item j to a query with label words ql (W words when W > 0).
template <int W>
inline bool shares_label(const std::uint64_t* ql, const std::uint64_t* dl, std::size_t j, std::size_t words) noexcept {
  if constexpr (W == 1) {
    return (ql[0] & dl[j]) != 0;
  } else if constexpr (W == 2) {
    return ((ql[0] & dl[2 * j]) | (ql[1] & dl[2 * j + 1])) != 0;
  } else {
    std::uint64_t shared = 0;
    for (std::size_t w = 0; w < words; ++w) shared |= ql[w] & dl[j * words + w];
    return shared != 0;
  }
}

/// The histogram key of each item: (bucket << 48) | increment, where the increment is
/// 1 + (relevant << a_shift) and the bucket is the distance, offset by K + 1 in the second half
/// of the database (which has its own histogram). Built by loops compilers vectorise.
template <int K, int W, int AShift>
inline void make_keys(const std::uint64_t* ql, const std::uint64_t* dl, std::size_t words, const std::uint16_t* dist,
                      std::size_t n, std::uint64_t* key) noexcept {
  const std::size_t half = (n + 1) / 2;
  for (std::size_t j = 0; j < half; ++j)
    key[j] = (static_cast<std::uint64_t>(dist[j]) << 48) | 1u |
             (static_cast<std::uint64_t>(shares_label<W>(ql, dl, j, words)) << AShift);
  for (std::size_t j = half; j < n; ++j)
    key[j] = (static_cast<std::uint64_t>(dist[j] + K + 1) << 48) | 1u |
             (static_cast<std::uint64_t>(shares_label<W>(ql, dl, j, words)) << AShift);
}

/// Layout of the 64-bit record kept for each relevant item: (relevant items before it in its
/// distance bucket) << A | (items before it in the bucket), with the distance in bits 48..63
/// when the database has fewer than 2^24 items (Narrow), else in a separate array.
template <bool Narrow>
struct RankRecord {
  static constexpr int a_shift = Narrow ? 24 : 32;
  static constexpr std::uint64_t field = (std::uint64_t(1) << a_shift) - 1;
  /// Bits that hold the two counts (not the distance).
  static constexpr std::uint64_t counts = Narrow ? (std::uint64_t(1) << 48) - 1 : ~std::uint64_t(0);
  static std::uint64_t initial(unsigned d) noexcept { return Narrow ? std::uint64_t(d) << 48 : 0; }
  static unsigned distance(std::uint64_t v, const std::uint16_t* rec_d, std::size_t j) noexcept {
    if constexpr (Narrow) {
      (void)rec_d, (void)j;
      return static_cast<unsigned>(v >> 48);
    } else {
      return rec_d[j];
    }
  }
  static std::size_t before(std::uint64_t v) noexcept { return static_cast<std::size_t>(v & field); }
  static std::size_t relevant_before(std::uint64_t v) noexcept {
    return static_cast<std::size_t>((v >> a_shift) & field);
  }
};

/// One pass over the keys of one query (`make_keys`): the histogram hist[d] = count(d) +
/// (relevant count(d) << 32), and a `RankRecord` per relevant item, in id order, at
/// rec[0..nrec[0]) (first half of the database) and rec[half..half + nrec[1]) (second half,
/// counted within the second half: add first_half[bucket] to complete them).
/// The halves are scanned side by side, each with its own histogram, so that consecutive updates
/// rarely wait on each other. Returns the number of relevant items.
/// (Out of line: inlined into the OpenMP loop body, GCC spills its counters.)
template <int K, bool Narrow>
SSAH_EVAL_NOINLINE std::size_t rank_histogram(const std::uint64_t* key, std::size_t n, std::uint64_t* hist,
                                              std::uint64_t* first_half, std::uint64_t* rec, std::uint16_t* rec_d,
                                              std::size_t* nrec) noexcept {
  using R = RankRecord<Narrow>;
  constexpr std::uint64_t low48 = (std::uint64_t(1) << 48) - 1;
  const std::size_t half = (n + 1) / 2, len1 = n - half;
  std::uint64_t h[2 * (K + 1)];  // first half's histogram, then the second's
  for (int d = 0; d <= K; ++d) h[d] = h[K + 1 + d] = R::initial(static_cast<unsigned>(d));
  std::size_t n0 = 0, n1 = 0;
  std::uint64_t* rec1 = rec + half;
  const std::uint64_t* key1 = key + half;
  // Each record is written for every item and kept only for relevant ones (no branch).
  for (std::size_t t = 0; t < len1; ++t) {
    const std::uint64_t k0 = key[t], k1 = key1[t];
    const std::uint64_t inc0 = k0 & low48, inc1 = k1 & low48;
    const std::size_t b0 = static_cast<std::size_t>(k0 >> 48), b1 = static_cast<std::size_t>(k1 >> 48);
    const std::uint64_t v0 = h[b0];
    h[b0] = v0 + inc0;
    const std::uint64_t v1 = h[b1];
    h[b1] = v1 + inc1;
    rec[n0] = v0;
    rec1[n1] = v1;
    if constexpr (!Narrow) {
      rec_d[n0] = static_cast<std::uint16_t>(b0);
      rec_d[half + n1] = static_cast<std::uint16_t>(b1 - (K + 1));
    }
    n0 += static_cast<std::size_t>(inc0 >> R::a_shift);
    n1 += static_cast<std::size_t>(inc1 >> R::a_shift);
  }
  if (half > len1) {
    const std::uint64_t k0 = key[half - 1], inc0 = k0 & low48;
    const std::size_t b0 = static_cast<std::size_t>(k0 >> 48);
    const std::uint64_t v0 = h[b0];
    h[b0] = v0 + inc0;
    rec[n0] = v0;
    if constexpr (!Narrow) rec_d[n0] = static_cast<std::uint16_t>(b0);
    n0 += static_cast<std::size_t>(inc0 >> R::a_shift);
  }
  // Items of the second half come after those of the first in their bucket: the consumers of
  // its records add first_half[d] (counts of the first half, in record layout).
  for (int d = 0; d <= K; ++d) {
    first_half[d] = h[d] & R::counts;
    const std::uint64_t c = first_half[d] + (h[K + 1 + d] & R::counts);
    hist[d] = R::before(c) | (static_cast<std::uint64_t>(R::relevant_before(c)) << 32);
  }
  nrec[0] = n0;
  nrec[1] = n1;
  return n0 + n1;
}

/// Sum over n records of (rank among relevant) / position, with `term(j)` one record's value:
/// four chains of additions, combined in a fixed order (the same for both record layouts).
template <class Term>
SSAH_NO_VECTORIZE inline double precision_sum(std::size_t n, Term term) noexcept {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t j = 0;
#if defined(__clang__)
#pragma clang loop vectorize(disable) interleave(disable)
#endif
  for (; j + 4 <= n; j += 4) {
    s0 += term(j);
    s1 += term(j + 1);
    s2 += term(j + 2);
    s3 += term(j + 3);
  }
  for (; j < n; ++j) s0 += term(j);
  return (s0 + s1) + (s2 + s3);
}

/// Scratch memory of one thread.
struct EvalScratch {
  std::unique_ptr<std::uint16_t[]> dist;
  std::unique_ptr<std::uint64_t[]> key;
  std::unique_ptr<std::uint64_t[]> rec;
  std::unique_ptr<std::uint16_t[]> rec_d;
  std::unique_ptr<std::uint32_t[]> pos;
  explicit EvalScratch(std::size_t n)
      : dist(uninitialized_buffer<std::uint16_t>(n + 1)),
        key(uninitialized_buffer<std::uint64_t>(n + 1)),
        rec(uninitialized_buffer<std::uint64_t>(n + 2)),
        rec_d(uninitialized_buffer<std::uint16_t>(n + 2)),
        pos(uninitialized_buffer<std::uint32_t>(n + 1)) {}
};

template <int K, int W, bool Narrow>
void evaluate_queries(HammingKernel kernel, CodesView<K> queries, CodesView<K> database, const LabelMatrix& qlabels,
                      const LabelMatrix& dblabels, const EvalOptions& opt, const std::vector<std::size_t>& cap_n,
                      const std::vector<long double>& harmonic, const std::vector<double>& inverse, double* ap,
                      double* ap_tie, double* ap_r, std::size_t* relevant, double* prec, std::uint32_t* pr_hits,
                      std::uint32_t* pr_total, int threads) {
  using R = RankRecord<Narrow>;
  const std::size_t n = database.size(), nq = queries.size(), words = qlabels.words();
  const std::size_t npoints = cap_n.size(), half = (n + 1) / 2;
  const bool need_positions = opt.top_r > 0 || npoints > 0;
  const double* inv = inverse.data();
#pragma omp parallel num_threads(threads)
  {
    EvalScratch scratch(n);
    std::uint64_t hist[K + 1];
    std::size_t start[K + 1], rel_start[K + 1];
#pragma omp for schedule(dynamic, 4)
    for (std::ptrdiff_t qi = 0; qi < static_cast<std::ptrdiff_t>(nq); ++qi) {
      const auto q = static_cast<std::size_t>(qi);
      hamming_distances<K>(kernel, queries.code(q), database.data(), n, scratch.dist.get());
      make_keys<K, W, R::a_shift>(qlabels.row(q), dblabels.data(), words, scratch.dist.get(), n, scratch.key.get());
      std::size_t nrec[2];
      std::uint64_t first_half[K + 1];
      const std::size_t nrel = rank_histogram<K, Narrow>(scratch.key.get(), n, hist, first_half, scratch.rec.get(),
                                                         scratch.rec_d.get(), nrec);
      relevant[q] = nrel;
      // First position (0-based) and first relevant rank of each distance bucket.
      std::size_t pos0 = 0, rel0 = 0;
      for (int d = 0; d <= K; ++d) {
        start[d] = pos0;
        rel_start[d] = rel0;
        pos0 += hist[d] & 0xffffffffu;
        rel0 += hist[d] >> 32;
      }
      if (pr_hits != nullptr) {
        std::uint32_t hits = 0, total = 0;
        for (int d = 0; d <= K; ++d) {
          total += static_cast<std::uint32_t>(hist[d] & 0xffffffffu);
          hits += static_cast<std::uint32_t>(hist[d] >> 32);
          pr_hits[q * (K + 1) + static_cast<std::size_t>(d)] = hits;
          pr_total[q * (K + 1) + static_cast<std::size_t>(d)] = total;
        }
      }
      if (nrel == 0) {
        ap[q] = ap_tie[q] = ap_r[q] = 0;
        for (std::size_t i = 0; i < npoints; ++i) prec[q * npoints + i] = 0;
        continue;
      }
      // Stable ties: an item's position and relevant rank follow from its bucket and the
      // number of (relevant) items before it in that bucket.
      // Kept scalar (precision_sum): vectorised, the table lookups become gathers, which are slower.
      double sum = 0;
      if constexpr (Narrow) {
        // One addition turns a record (d, a, b) into (rank among relevant, position).
        std::uint64_t to_rank[2][K + 1];
        for (int d = 0; d <= K; ++d) {
          to_rank[0][d] = (((rel_start[d] + 1) << R::a_shift) | (start[d] + 1)) - (static_cast<std::uint64_t>(d) << 48);
          to_rank[1][d] = to_rank[0][d] + first_half[d];
        }
        for (std::size_t part = 0; part < 2; ++part) {
          const std::uint64_t* rec = scratch.rec.get() + part * half;
          const std::uint64_t* tr = to_rank[part];
          sum += precision_sum(nrec[part], [&](std::size_t j) {
            const std::uint64_t w = rec[j] + tr[rec[j] >> 48];
            return static_cast<double>(w >> R::a_shift) * inv[w & R::field];
          });
        }
      } else {
        for (std::size_t part = 0; part < 2; ++part) {
          const std::uint64_t* rec = scratch.rec.get() + part * half;
          const std::uint16_t* rec_d = scratch.rec_d.get() + part * half;
          sum += precision_sum(nrec[part], [&](std::size_t j) {
            const unsigned d = R::distance(rec[j], rec_d, j);
            const std::uint64_t v = rec[j] + (part ? first_half[d] : 0);
            return static_cast<double>(rel_start[d] + R::relevant_before(v) + 1) * inv[start[d] + R::before(v) + 1];
          });
        }
      }
      ap[q] = sum / static_cast<double>(nrel);
      long double tie_sum = 0;
      for (int d = 0; d <= K; ++d)
        tie_sum += tied_group_ap_sum(hist[d] & 0xffffffffu, hist[d] >> 32, start[d], rel_start[d], harmonic);
      ap_tie[q] = static_cast<double>(tie_sum / static_cast<long double>(nrel));
      if (!need_positions) {
        ap_r[q] = 0;
        continue;
      }
      // Counting sort of the relevant items by distance: their 1-based positions, increasing.
      std::uint32_t* pos = scratch.pos.get();
      std::size_t slot[K + 1];
      std::copy(rel_start, rel_start + K + 1, slot);
      for (std::size_t part = 0; part < 2; ++part) {
        const std::uint64_t* rec = scratch.rec.get() + part * half;
        const std::uint16_t* rec_d = scratch.rec_d.get() + part * half;
        for (std::size_t j = 0; j < nrec[part]; ++j) {
          const unsigned d = R::distance(rec[j], rec_d, j);
          const std::uint64_t v = rec[j] + (part ? first_half[d] : 0);
          pos[slot[d]++] = static_cast<std::uint32_t>(start[d] + R::before(v) + 1);
        }
      }
      if (opt.top_r > 0) {
        double s = 0;
        std::size_t found = 0;
        for (; found < nrel && pos[found] <= opt.top_r; ++found)
          s += static_cast<double>(found + 1) / static_cast<double>(pos[found]);
        ap_r[q] = found ? s / static_cast<double>(found) : 0.0;
      } else {
        ap_r[q] = 0;
      }
      for (std::size_t i = 0; i < npoints; ++i) {
        const auto cut = static_cast<std::uint32_t>(cap_n[i]);
        const std::size_t hits = static_cast<std::size_t>(std::upper_bound(pos, pos + nrel, cut) - pos);
        prec[q * npoints + i] = static_cast<double>(hits) / static_cast<double>(cap_n[i]);
      }
    }
  }
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail

namespace detail {

/// An EvalResult of nq queries over n database items with the options' K, R and N values set
/// (none of the metrics yet), and `cap_n`, the N values capped at n (none when n is 0).
template <int K>
EvalResult new_result(std::size_t nq, std::size_t n, const EvalOptions& options, std::vector<std::size_t>& cap_n) {
  for (std::size_t v : options.precision_at)
    SSAH_CHECK_AS(InvalidArgument, v > 0, "evaluate_retrieval: precision@N needs N > 0");
  EvalResult res;
  res.queries = nq;
  res.database = n;
  res.bits = K;
  res.top_r = options.top_r;
  cap_n.clear();
  if (n > 0) {
    res.precision_n = options.precision_at;
    for (std::size_t v : options.precision_at) cap_n.push_back(std::min(v, n));
  }
  return res;
}

/// The means and curves of `res` (queries, database, bits, top_r and precision_n already set) from
/// the per-query values: AP with stable ties, tie-aware AP, AP@R, the relevant items, precision at
/// each N ([queries, N points]) and the hits and items within each radius ([queries, K + 1]; empty
/// without a PR curve). The per-query vectors move into `res` when options.per_query.
template <int K>
EvalResult summarize(EvalResult res, const EvalOptions& options, std::vector<double>& ap, std::vector<double>& ap_tie,
                     std::vector<double>& ap_r, std::vector<std::size_t>& relevant, const std::vector<double>& prec,
                     const std::vector<std::uint32_t>& pr_hits, const std::vector<std::uint32_t>& pr_total) {
  const std::size_t nq = res.queries, npoints = res.precision_n.size();
  // Means in query order: the same value for any thread count.
  double s = 0, st = 0, sr = 0;
  for (std::size_t q = 0; q < nq; ++q) {
    s += ap[q];
    st += ap_tie[q];
    sr += ap_r[q];
    res.queries_without_relevant += relevant[q] == 0;
  }
  const double denom = nq ? static_cast<double>(nq) : 1.0;
  res.map = s / denom;
  res.map_tie_aware = st / denom;
  res.map_at_r = options.top_r > 0 ? sr / denom : 0.0;
  res.precision_at_n.assign(npoints, 0.0);
  for (std::size_t i = 0; i < npoints; ++i) {
    double p = 0;
    for (std::size_t q = 0; q < nq; ++q) p += prec[q * npoints + i];
    res.precision_at_n[i] = p / denom;
  }
  if (options.pr_curve) {
    res.pr_precision.assign(K + 1, 0.0);
    res.pr_recall.assign(K + 1, 0.0);
    for (int r = 0; r <= K; ++r) {
      double sp = 0, sre = 0;
      std::size_t counted = 0;
      for (std::size_t q = 0; q < nq; ++q) {
        const std::uint32_t hits = pr_hits[q * (K + 1) + static_cast<std::size_t>(r)];
        if (relevant[q] == 0 || hits == 0) continue;
        sp += static_cast<double>(hits) / static_cast<double>(pr_total[q * (K + 1) + static_cast<std::size_t>(r)]);
        sre += static_cast<double>(hits) / static_cast<double>(relevant[q]);
        ++counted;
      }
      if (counted) {
        res.pr_precision[static_cast<std::size_t>(r)] = sp / static_cast<double>(counted);
        res.pr_recall[static_cast<std::size_t>(r)] = sre / static_cast<double>(counted);
      }
    }
  }
  if (options.per_query) {
    res.ap = std::move(ap);
    res.ap_tie_aware = std::move(ap_tie);
    if (options.top_r > 0) res.ap_at_r = std::move(ap_r);
    res.relevant = std::move(relevant);
  }
  return res;
}

}  // namespace detail

// The entry points call the loops of this translation unit's instruction set (isa_namespace.hpp).
inline namespace SSAH_ISA_NAMESPACE {

/// Evaluates Hamming ranking of `database` for every query (see the file comment for the
/// metrics). Codes and labels are row-aligned: query i has code queries.code(i) and labels
/// query_labels.row(i). The codes are read where they lie (e.g. a database memory-mapped from a
/// file, io::MappedNpy), not copied.
template <int K>
EvalResult evaluate_retrieval(CodesView<K> queries, CodesView<K> database, const LabelMatrix& query_labels,
                              const LabelMatrix& database_labels, const EvalOptions& options = {}) {
  SSAH_CHECK_AS(ShapeError, queries.size() == query_labels.rows(), "evaluate_retrieval: ", queries.size(),
                " query codes but ", query_labels.rows(), " query label rows");
  SSAH_CHECK_AS(ShapeError, database.size() == database_labels.rows(), "evaluate_retrieval: ", database.size(),
                " database codes but ", database_labels.rows(), " database label rows");
  SSAH_CHECK_AS(ShapeError, query_labels.classes() == database_labels.classes(), "evaluate_retrieval: query labels [",
                query_labels.rows(), ", ", query_labels.classes(), "] and database labels [", database_labels.rows(),
                ", ", database_labels.classes(), "] have different numbers of classes");
  SSAH_CHECK_AS(InvalidArgument, database.size() < std::numeric_limits<std::uint32_t>::max(),
                "evaluate_retrieval: at most 2^32 - 2 database items (got ", database.size(), ")");
  const std::size_t nq = queries.size(), n = database.size();
  std::vector<std::size_t> cap_n;
  EvalResult res = detail::new_result<K>(nq, n, options, cap_n);
  const std::size_t npoints = cap_n.size();
  std::vector<double> ap(nq), ap_tie(nq), ap_r(nq), prec(nq * npoints);
  std::vector<std::size_t> relevant(nq);
  std::vector<std::uint32_t> pr_hits, pr_total;
  if (options.pr_curve) {
    pr_hits.resize(nq * (K + 1));
    pr_total.resize(nq * (K + 1));
  }
  const std::vector<long double> harmonic = detail::harmonic_numbers(n);
  std::vector<double> inverse(n + 1, 0.0);  // 1 / position
  for (std::size_t p = 1; p <= n; ++p) inverse[p] = 1.0 / static_cast<double>(p);
  const int threads = detail::resolve_threads(options.threads);
  const HammingKernel kernel = resolve_hamming_kernel(options.kernel);
  auto run = [&](auto words_tag) {
    constexpr int W = decltype(words_tag)::value;
    std::uint32_t* hits = options.pr_curve ? pr_hits.data() : nullptr;
    std::uint32_t* totals = options.pr_curve ? pr_total.data() : nullptr;
    if (n < (std::size_t(1) << 24))
      detail::evaluate_queries<K, W, true>(kernel, queries, database, query_labels, database_labels, options, cap_n,
                                           harmonic, inverse, ap.data(), ap_tie.data(), ap_r.data(), relevant.data(),
                                           prec.data(), hits, totals, threads);
    else
      detail::evaluate_queries<K, W, false>(kernel, queries, database, query_labels, database_labels, options, cap_n,
                                            harmonic, inverse, ap.data(), ap_tie.data(), ap_r.data(), relevant.data(),
                                            prec.data(), hits, totals, threads);
  };
  if (nq > 0) {
    if (query_labels.words() == 1)
      run(std::integral_constant<int, 1>{});
    else if (query_labels.words() == 2)
      run(std::integral_constant<int, 2>{});
    else
      run(std::integral_constant<int, 0>{});
  }

  return detail::summarize<K>(std::move(res), options, ap, ap_tie, ap_r, relevant, prec, pr_hits, pr_total);
}

/// As above, for codes held in PackedCodes.
template <int K>
EvalResult evaluate_retrieval(const PackedCodes<K>& queries, const PackedCodes<K>& database,
                              const LabelMatrix& query_labels, const LabelMatrix& database_labels,
                              const EvalOptions& options = {}) {
  return evaluate_retrieval(queries.view(), database.view(), query_labels, database_labels, options);
}

/// mAP over the whole ranking with stable ties: the reference `calc_map`.
template <int K>
double mean_average_precision(const PackedCodes<K>& queries, const PackedCodes<K>& database,
                              const LabelMatrix& query_labels, const LabelMatrix& database_labels, int threads = 0) {
  EvalOptions o;
  o.precision_at.clear();
  o.pr_curve = false;
  o.per_query = false;
  o.threads = threads;
  return evaluate_retrieval(queries, database, query_labels, database_labels, o).map;
}

/// Expected mAP over all orders of tied items.
template <int K>
double mean_average_precision_tie_aware(const PackedCodes<K>& queries, const PackedCodes<K>& database,
                                        const LabelMatrix& query_labels, const LabelMatrix& database_labels,
                                        int threads = 0) {
  EvalOptions o;
  o.precision_at.clear();
  o.pr_curve = false;
  o.per_query = false;
  o.threads = threads;
  return evaluate_retrieval(queries, database, query_labels, database_labels, o).map_tie_aware;
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace ssah
