#pragma once
// Straightforward O(N log N) reference implementations of the retrieval metrics: a stable sort
// of the database by Hamming distance per query, then the formulas of the reference Python code
// (`calc_map`, `calculate_top_map`, `p_topK`, `pr_curve`) written out literally.

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

#include "hashing_test_support.hpp"
#include "ssah/eval/labels.hpp"
#include "ssah/hashing/codes.hpp"

namespace ssah::test {

struct NaiveQuery {
  std::vector<int> dist;           // per database item
  std::vector<bool> rel;           // per database item
  std::vector<std::size_t> order;  // database ids, stable-sorted by distance
  std::size_t relevant = 0;
};

template <int K>
NaiveQuery naive_query(const PackedCodes<K>& q, std::size_t qi, const PackedCodes<K>& db, const LabelMatrix& ql,
                       const LabelMatrix& dl) {
  NaiveQuery r;
  const std::size_t n = db.size();
  r.dist.resize(n);
  r.rel.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    r.dist[j] = oracle_distance(q, qi, db, j);
    bool shared = false;
    for (std::size_t c = 0; c < ql.classes(); ++c) shared = shared || (ql.has(qi, c) && dl.has(j, c));
    r.rel[j] = shared;
    r.relevant += shared;
  }
  r.order.resize(n);
  std::iota(r.order.begin(), r.order.end(), std::size_t(0));
  std::stable_sort(r.order.begin(), r.order.end(), [&](std::size_t a, std::size_t b) { return r.dist[a] < r.dist[b]; });
  return r;
}

/// AP of a ranked relevance list: mean over relevant items of (relevant so far) / position.
inline double naive_ap(const std::vector<bool>& ranked_rel) {
  double s = 0;
  std::size_t hits = 0;
  for (std::size_t i = 0; i < ranked_rel.size(); ++i)
    if (ranked_rel[i]) s += static_cast<double>(++hits) / static_cast<double>(i + 1);
  return hits ? s / static_cast<double>(hits) : 0.0;
}

inline std::vector<bool> ranked(const NaiveQuery& nq, std::size_t limit) {
  std::vector<bool> out;
  for (std::size_t i = 0; i < std::min(limit, nq.order.size()); ++i) out.push_back(nq.rel[nq.order[i]]);
  return out;
}

struct NaiveResult {
  double map = 0;
  std::vector<double> map_at_r;              // per requested R
  std::vector<std::vector<double>> ap_at_r;  // [R][query]
  std::vector<double> ap, precision_at_n, pr_precision, pr_recall;
  std::vector<std::size_t> relevant;
};

template <int K>
NaiveResult naive_evaluate(const PackedCodes<K>& q, const PackedCodes<K>& db, const LabelMatrix& ql,
                           const LabelMatrix& dl, const std::vector<std::size_t>& top_r,
                           const std::vector<std::size_t>& points) {
  NaiveResult res;
  res.map_at_r.assign(top_r.size(), 0.0);
  res.ap_at_r.assign(top_r.size(), {});
  const std::size_t nq = q.size(), n = db.size();
  std::vector<double> pr_p_sum(K + 1, 0.0), pr_r_sum(K + 1, 0.0), pr_count(K + 1, 0.0);
  res.precision_at_n.assign(points.size(), 0.0);
  for (std::size_t i = 0; i < nq; ++i) {
    const NaiveQuery nqr = naive_query(q, i, db, ql, dl);
    res.relevant.push_back(nqr.relevant);
    res.ap.push_back(naive_ap(ranked(nqr, n)));
    res.map += res.ap.back();
    for (std::size_t t = 0; t < top_r.size(); ++t) {
      res.ap_at_r[t].push_back(naive_ap(ranked(nqr, top_r[t])));
      res.map_at_r[t] += res.ap_at_r[t].back();
    }
    if (nqr.relevant == 0) continue;  // p_topK and pr_curve skip such queries
    for (std::size_t p = 0; p < points.size(); ++p) {
      const std::size_t total = std::min(points[p], n);
      const auto top = ranked(nqr, total);
      res.precision_at_n[p] +=
          static_cast<double>(std::count(top.begin(), top.end(), true)) / static_cast<double>(total);
    }
    for (int r = 0; r <= K; ++r) {
      double retrieved = 0, hits = 0;
      for (std::size_t j = 0; j < n; ++j)
        if (nqr.dist[j] <= r) {
          retrieved += 1;
          hits += nqr.rel[j];
        }
      const double p = hits / (retrieved == 0 ? 0.1 : retrieved);
      pr_p_sum[r] += p;
      pr_r_sum[r] += hits / static_cast<double>(nqr.relevant);
      pr_count[r] += p > 0;
    }
  }
  const double denom = nq ? static_cast<double>(nq) : 1.0;
  res.map /= denom;
  for (auto& m : res.map_at_r) m /= denom;
  for (auto& p : res.precision_at_n) p /= denom;
  for (int r = 0; r <= K; ++r) {
    const double m = pr_count[r] == 0 ? 0.1 : pr_count[r];
    res.pr_precision.push_back(pr_p_sum[r] / m);
    res.pr_recall.push_back(pr_r_sum[r] / m);
  }
  return res;
}

}  // namespace ssah::test
