#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "naive_metrics.hpp"
#include "ssah/eval/metrics.hpp"

using namespace ssah;

namespace {

/// rows x classes random multi-hot labels, each label present with probability p; every
/// `empty_every`-th row has no label at all (0 = never).
LabelMatrix random_labels(std::size_t rows, std::size_t classes, double p, std::mt19937_64& rng,
                          std::size_t empty_every = 0) {
  std::bernoulli_distribution on(p);
  LabelMatrix m(rows, classes);
  for (std::size_t i = 0; i < rows; ++i) {
    if (empty_every && i % empty_every == empty_every - 1) continue;
    for (std::size_t c = 0; c < classes; ++c)
      if (on(rng)) m.set(i, c);
  }
  return m;
}

LabelMatrix permute_rows(const LabelMatrix& m, const std::vector<std::size_t>& perm) {
  LabelMatrix out(m.rows(), m.classes());
  for (std::size_t i = 0; i < perm.size(); ++i)
    for (std::size_t c = 0; c < m.classes(); ++c)
      if (m.has(perm[i], c)) out.set(i, c);
  return out;
}

template <int K>
PackedCodes<K> permute_rows(const PackedCodes<K>& m, const std::vector<std::size_t>& perm) {
  PackedCodes<K> out(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i)
    std::copy(m.code(perm[i]), m.code(perm[i]) + PackedCodes<K>::code_bytes,
              out.data() + i * PackedCodes<K>::code_bytes);
  return out;
}

/// Expected AP over all database orders consistent with the distances (every order of every
/// tie group), by enumerating the permutations of the whole (tiny) database.
double enumerated_tie_ap(const test::NaiveQuery& nq) {
  std::vector<std::size_t> perm(nq.dist.size());
  std::iota(perm.begin(), perm.end(), std::size_t(0));
  double sum = 0;
  std::size_t orders = 0;
  do {
    bool sorted = true;
    for (std::size_t i = 1; i < perm.size() && sorted; ++i) sorted = nq.dist[perm[i - 1]] <= nq.dist[perm[i]];
    if (!sorted) continue;
    std::vector<bool> rel;
    for (std::size_t j : perm) rel.push_back(nq.rel[j]);
    sum += test::naive_ap(rel);
    ++orders;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return sum / static_cast<double>(orders);
}

/// Every metric of `got` bit for bit that of `want` (the same computation on the same values).
void check_identical(const EvalResult& got, const EvalResult& want) {
  CHECK(got.map == want.map);
  CHECK(got.map_tie_aware == want.map_tie_aware);
  CHECK(got.map_at_r == want.map_at_r);
  CHECK(got.ap == want.ap);
  CHECK(got.ap_tie_aware == want.ap_tie_aware);
  CHECK(got.relevant == want.relevant);
  CHECK(got.precision_at_n == want.precision_at_n);
  CHECK(got.pr_precision == want.pr_precision);
  CHECK(got.pr_recall == want.pr_recall);
}

}  // namespace

TEST_CASE("metrics: the reference toy example of calc_map gives 0.704167") {
  // utils/calc_hammingranking.py, __main__: 4 queries, 6 database items, 4 bits.
  const std::vector<int> qB = {1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, 1, 1, 1, 1, -1};
  const std::vector<int> rB = {1, -1, 1, -1, -1, -1, 1, -1, -1, -1, 1, -1, 1, 1, -1, -1, -1, 1, -1, -1, 1, 1, -1, 1};
  const std::vector<int> qL = {0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1};
  const std::vector<int> rL = {1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0};
  const auto q = PackedCodes<8>::from_values(qB, 4);
  const auto r = PackedCodes<8>::from_values(rB, 4);
  const auto ql = LabelMatrix::from_multi_hot(qL, 4);
  const auto rl = LabelMatrix::from_multi_hot(rL, 4);
  const EvalResult res = evaluate_retrieval(q, r, ql, rl);
  CHECK(res.map == doctest::Approx(0.704167).epsilon(1e-6));
  CHECK(mean_average_precision(q, r, ql, rl) == res.map);
  // Per query, by hand: distances and relevance in stable order.
  // q0: d = 1 2 2 3 4 2 -> order 0 1 2 5 3 4, relevant {1, 2} at positions 2, 3: (1/2 + 2/3) / 2
  CHECK(res.ap[0] == doctest::Approx((1.0 / 2 + 2.0 / 3) / 2));
  const auto naive = test::naive_evaluate(q, r, ql, rl, {}, {});
  for (std::size_t i = 0; i < 4; ++i) CHECK(res.ap[i] == doctest::Approx(naive.ap[i]).epsilon(1e-15));
  // Tie-aware: exact expectation over the tie orders of each query.
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(res.ap_tie_aware[i] == doctest::Approx(enumerated_tie_ap(test::naive_query(q, i, r, ql, rl))).epsilon(1e-13));
}

TEST_CASE_TEMPLATE("metrics: equal to a naive stable-sort implementation (mAP, AP, mAP@R, P@N, PR)", KC,
                   std::integral_constant<int, 8>, std::integral_constant<int, 16>, std::integral_constant<int, 24>,
                   std::integral_constant<int, 32>, std::integral_constant<int, 64>, std::integral_constant<int, 128>) {
  constexpr int K = KC::value;
  std::mt19937_64 rng(4000 + K);
  const std::vector<std::size_t> points = {1, 3, 10, 50, 100, 499, 3000};
  for (std::size_t n : {1u, 7u, 64u, 500u, 1500u}) {
    for (std::size_t classes : {4u, 24u, 80u, 130u}) {
      const double p = classes == 4 ? 0.2 : 3.0 / static_cast<double>(classes);
      const std::size_t nq = 1 + n % 11;
      const auto db = test::random_codes<K>(n, rng, n / 3 + 1, static_cast<int>(rng() % 4));
      const auto q = test::random_codes<K>(nq, rng, 3, 3);
      const auto dl = random_labels(n, classes, p, rng);
      const auto ql = random_labels(nq, classes, p, rng, 4);
      const std::vector<std::size_t> rs = {1, 10, n + 5};
      const test::NaiveResult want = test::naive_evaluate(q, db, ql, dl, rs, points);
      for (std::size_t t = 0; t <= rs.size(); ++t) {
        const std::size_t top_r = t < rs.size() ? rs[t] : 0;
        INFO("K = " << K << ", n = " << n << ", classes = " << classes << ", queries = " << nq << ", R = " << top_r);
        EvalOptions opt;
        opt.top_r = top_r;
        opt.precision_at = points;
        opt.threads = 2;
        // Each R with another kernel (those this CPU runs): the distances must not depend on it.
        constexpr HammingKernel kernels[] = {HammingKernel::automatic, HammingKernel::portable, HammingKernel::avx2,
                                             HammingKernel::avx512};
        opt.kernel = kernels[(t + n) % 4];
        if (!detail::cpu_supports(opt.kernel)) opt.kernel = HammingKernel::portable;
        INFO("kernel " << std::string(to_string(opt.kernel)));
        const EvalResult got = evaluate_retrieval(q, db, ql, dl, opt);
        CHECK(got.map == doctest::Approx(want.map).epsilon(1e-13));
        if (top_r) CHECK(got.map_at_r == doctest::Approx(want.map_at_r[t]).epsilon(1e-13));
        REQUIRE(got.ap.size() == nq);
        for (std::size_t i = 0; i < nq; ++i) {
          CHECK(got.ap[i] == doctest::Approx(want.ap[i]).epsilon(1e-13));
          CHECK(got.relevant[i] == want.relevant[i]);
          if (top_r) CHECK(got.ap_at_r[i] == doctest::Approx(want.ap_at_r[t][i]).epsilon(1e-13));
        }
        REQUIRE(got.precision_at_n.size() == points.size());
        for (std::size_t i = 0; i < points.size(); ++i)
          CHECK(got.precision_at_n[i] == doctest::Approx(want.precision_at_n[i]).epsilon(1e-13));
        REQUIRE(got.pr_precision.size() == K + 1);
        for (std::size_t r = 0; r <= static_cast<std::size_t>(K); ++r) {
          CHECK(got.pr_precision[r] == doctest::Approx(want.pr_precision[r]).epsilon(1e-13));
          CHECK(got.pr_recall[r] == doctest::Approx(want.pr_recall[r]).epsilon(1e-13));
        }
      }
    }
  }
}

TEST_CASE("metrics: tie-aware AP equals the mean over every tie order (exhaustive, tiny databases)") {
  std::mt19937_64 rng(11);
  std::size_t cases_with_ties = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t n = 2 + static_cast<std::size_t>(trial % 7);  // 2..8 items: at most 40,320 orders
    const auto db = test::random_codes<8>(n, rng, 3, trial % 2);
    const auto q = test::random_codes<8>(3, rng, 2, 1);
    const auto dl = random_labels(n, 5, 0.3, rng);
    const auto ql = random_labels(3, 5, 0.4, rng);
    const EvalResult res = evaluate_retrieval(q, db, ql, dl);
    for (std::size_t i = 0; i < 3; ++i) {
      const auto nq = test::naive_query(q, i, db, ql, dl);
      const double want = enumerated_tie_ap(nq);
      INFO("trial " << trial << ", query " << i);
      CHECK(res.ap_tie_aware[i] == doctest::Approx(want).epsilon(1e-13));
      cases_with_ties += std::abs(res.ap[i] - want) > 1e-9;
    }
  }
  // The data have ties that matter: the stable-sort AP differs from the expectation somewhere.
  CHECK(cases_with_ties > 10);
}

TEST_CASE("metrics: tie-aware mAP matches the mean over random tie orders (statistically)") {
  std::mt19937_64 rng(12);
  const std::size_t n = 400, nq = 4, samples = 2000;
  const auto db = test::random_codes<8>(n, rng, 40, 1);  // 8 bits: nearly everything ties
  const auto q = test::random_codes<8>(nq, rng, 6, 1);
  const auto dl = random_labels(n, 24, 0.06, rng);
  const auto ql = random_labels(nq, 24, 0.06, rng);
  const EvalResult res = evaluate_retrieval(q, db, ql, dl);
  for (std::size_t i = 0; i < nq; ++i) {
    const auto base = test::naive_query(q, i, db, ql, dl);
    double sum = 0, sum2 = 0;
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t(0));
    for (std::size_t s = 0; s < samples; ++s) {
      // A uniformly random order of each tie group: shuffle, then stable-sort by distance.
      std::shuffle(perm.begin(), perm.end(), rng);
      std::stable_sort(perm.begin(), perm.end(),
                       [&](std::size_t a, std::size_t b) { return base.dist[a] < base.dist[b]; });
      std::vector<bool> rel;
      for (std::size_t j : perm) rel.push_back(base.rel[j]);
      const double ap = test::naive_ap(rel);
      sum += ap;
      sum2 += ap * ap;
    }
    const double mean = sum / samples;
    const double sd = std::sqrt(std::max(0.0, sum2 / samples - mean * mean));
    INFO("query " << i << ": sampled mean " << mean << " +- " << sd / std::sqrt(double(samples)) << ", exact "
                  << res.ap_tie_aware[i] << ", stable " << res.ap[i]);
    // 5 standard errors: a false alarm has probability below 1e-6 per query.
    CHECK(std::abs(mean - res.ap_tie_aware[i]) <= 5 * sd / std::sqrt(double(samples)) + 1e-12);
  }
}

TEST_CASE("metrics: tie-aware mAP does not depend on the database order, stable mAP does") {
  std::mt19937_64 rng(13);
  const std::size_t n = 2000, nq = 50;
  const auto db = test::random_codes<16>(n, rng, 200, 2);
  const auto q = test::random_codes<16>(nq, rng, 20, 2);
  const auto dl = random_labels(n, 24, 0.08, rng);
  const auto ql = random_labels(nq, 24, 0.08, rng);
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t(0));
  std::shuffle(perm.begin(), perm.end(), rng);
  const EvalResult a = evaluate_retrieval(q, db, ql, dl);
  const EvalResult b = evaluate_retrieval(q, permute_rows(db, perm), ql, permute_rows(dl, perm));
  CHECK(a.map_tie_aware == doctest::Approx(b.map_tie_aware).epsilon(1e-12));
  CHECK(std::abs(a.map - b.map) > 1e-6);
  CHECK(mean_average_precision_tie_aware(q, db, ql, dl) == a.map_tie_aware);
}

TEST_CASE("metrics: codes read in place (CodesView over a larger buffer) give the metrics of PackedCodes") {
  std::mt19937_64 rng(15);
  const std::size_t n = 700, nq = 40, skip = 5;
  const auto db = test::random_codes<64>(n, rng, 150, 2);
  const auto q = test::random_codes<64>(nq, rng, 20, 2);
  const auto dl = random_labels(n, 24, 0.08, rng);
  const auto ql = random_labels(nq, 24, 0.08, rng);
  // The database behind `skip` other codes, as in a file read where it lies (ssah eval's mapped codes).
  std::vector<std::uint8_t> file(skip * 8, 0xa5);
  file.insert(file.end(), db.data(), db.data() + n * 8);
  const CodesView<64> in_place(file.data() + skip * 8, n);
  EvalOptions opt;
  opt.top_r = 50;
  const EvalResult a = evaluate_retrieval(q, db, ql, dl, opt);
  check_identical(evaluate_retrieval(q.view(), in_place, ql, dl, opt), a);
  CHECK(in_place.slice(3, 9).code(0) == in_place.code(3));
  CHECK(in_place.slice(3, 9).size() == 6);
  CHECK_THROWS_AS(in_place.slice(9, 3), ShapeError);
  CHECK_THROWS_AS(in_place.slice(0, n + 1), ShapeError);
}

TEST_CASE("metrics: results are identical for any thread count, queries without relevant items count 0") {
  std::mt19937_64 rng(14);
  const auto db = test::random_codes<32>(3000, rng, 500, 3);
  const auto q = test::random_codes<32>(97, rng, 30, 3);
  const auto dl = random_labels(3000, 24, 0.05, rng);
  const auto ql = random_labels(97, 24, 0.05, rng, 5);  // every 5th query has no label
  EvalOptions opt;
  opt.top_r = 100;
  opt.threads = 1;
  const EvalResult one = evaluate_retrieval(q, db, ql, dl, opt);
  CHECK(one.queries_without_relevant >= 97 / 5);
  for (std::size_t i = 4; i < 97; i += 5) {
    CHECK(one.relevant[i] == 0);
    CHECK(one.ap[i] == 0.0);
    CHECK(one.ap_tie_aware[i] == 0.0);
  }
  double sum = 0;
  for (double v : one.ap) sum += v;
  CHECK(one.map == doctest::Approx(sum / 97).epsilon(1e-15));  // the mean over all queries
  for (int threads : {2, 3, 8}) {
    opt.threads = threads;
    INFO(threads, " threads");
    check_identical(evaluate_retrieval(q, db, ql, dl, opt), one);
  }
}

TEST_CASE("metrics: the wide record layout (databases of 2^24 items or more) gives the same values") {
  // evaluate_retrieval switches layouts at 2^24 items; both are run here on a small database.
  std::mt19937_64 rng(15);
  const std::size_t n = 999, nq = 20;
  const auto db = test::random_codes<16>(n, rng, 100, 2);
  const auto q = test::random_codes<16>(nq, rng, 10, 2);
  const auto dl = random_labels(n, 80, 0.04, rng);
  const auto ql = random_labels(nq, 80, 0.04, rng);
  EvalOptions opt;
  opt.top_r = 50;
  const std::vector<std::size_t> cap_n = {1, 10, 100, 999};
  const auto harmonic = detail::harmonic_numbers(n);
  std::vector<double> inverse(n + 1, 0.0);
  for (std::size_t p = 1; p <= n; ++p) inverse[p] = 1.0 / static_cast<double>(p);
  auto run = [&](auto narrow) {
    std::vector<double> ap(nq), tie(nq), at_r(nq), prec(nq * cap_n.size());
    std::vector<std::size_t> rel(nq);
    std::vector<std::uint32_t> hits(nq * 17), totals(nq * 17);
    detail::evaluate_queries<16, 2, decltype(narrow)::value>(hamming_kernel(), q, db, ql, dl, opt, cap_n, harmonic,
                                                             inverse, ap.data(), tie.data(), at_r.data(), rel.data(),
                                                             prec.data(), hits.data(), totals.data(), 2);
    return std::vector<std::vector<double>>{ap, tie, at_r, prec};
  };
  const auto narrow = run(std::true_type{});
  const auto wide = run(std::false_type{});
  CHECK(narrow == wide);
  opt.precision_at = cap_n;
  const EvalResult res = evaluate_retrieval(q, db, ql, dl, opt);
  CHECK(res.ap == narrow[0]);
}

TEST_CASE("metrics: inconsistent inputs are rejected with both shapes in the message") {
  std::mt19937_64 rng(16);
  const auto db = test::random_codes<16>(10, rng);
  const auto q = test::random_codes<16>(3, rng);
  CHECK_THROWS_WITH_AS(evaluate_retrieval(q, db, LabelMatrix(2, 24), LabelMatrix(10, 24)),
                       "evaluate_retrieval: 3 query codes but 2 query label rows", ShapeError);
  CHECK_THROWS_WITH_AS(evaluate_retrieval(q, db, LabelMatrix(3, 24), LabelMatrix(9, 24)),
                       "evaluate_retrieval: 10 database codes but 9 database label rows", ShapeError);
  CHECK_THROWS_WITH_AS(evaluate_retrieval(q, db, LabelMatrix(3, 24), LabelMatrix(10, 21)),
                       "evaluate_retrieval: query labels [3, 24] and database labels [10, 21] have different numbers "
                       "of classes",
                       ShapeError);
  EvalOptions bad;
  bad.precision_at = {10, 0};
  CHECK_THROWS_AS(evaluate_retrieval(q, db, LabelMatrix(3, 24), LabelMatrix(10, 24), bad), InvalidArgument);
  // An empty database: every AP is 0.
  const EvalResult empty = evaluate_retrieval(q, PackedCodes<16>(), LabelMatrix(3, 24), LabelMatrix(0, 24));
  CHECK(empty.map == 0.0);
  CHECK(empty.queries_without_relevant == 3);
}

TEST_CASE("labels: bitsets of any width and single-label class ids") {
  const std::vector<float> multi = {0, 1, 0, 0, 0.5f, 0, 0, 0, 0};
  const auto m = LabelMatrix::from_multi_hot(multi, 3);
  CHECK(m.rows() == 3);
  CHECK(m.has(0, 1));
  CHECK(m.has(1, 1));
  CHECK_FALSE(m.has(2, 0));
  CHECK(m.shares_label(0, m, 1));
  CHECK_FALSE(m.shares_label(0, m, 2));
  LabelMatrix wide(2, 1000);
  wide.set(0, 999);
  wide.set(1, 999);
  CHECK(wide.words() == 16);
  CHECK(wide.shares_label(0, wide, 1));
  wide.set(1, 999, false);
  CHECK_FALSE(wide.shares_label(0, wide, 1));
  const std::int32_t ids[] = {2, 0, 2};
  const auto single = LabelMatrix::from_class_ids(ids, 3, 10);
  CHECK(single.shares_label(0, single, 2));
  CHECK_FALSE(single.shares_label(0, single, 1));
  const std::int32_t bad[] = {10};
  CHECK_THROWS_AS(LabelMatrix::from_class_ids(bad, 1, 10), InvalidArgument);
}
