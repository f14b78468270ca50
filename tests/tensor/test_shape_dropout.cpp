// Shape ops (concatenation, reshape, flatten, interleave_minor) and seeded dropout.

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "ssah/ops/dropout.hpp"
#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/reduce.hpp"
#include "ssah/ops/shape.hpp"
#include "helpers.hpp"

using namespace ssah;
using test::host;
using test::make;
using V = std::vector<Var<double>>;

TEST_CASE_TEMPLATE("concat_features and concat_channels on hand-computed cases", T, float, double) {
  Var<T> a(make<T>(Shape{2, 2}, {1, 2, 3, 4}));
  Var<T> b(make<T>(Shape{2, 1}, {5, 6}));
  Var<T> c = concat_features<T>({a, b, a});
  CHECK(c.shape() == Shape{2, 5});
  CHECK(host(c.value()) == std::vector<double>{1, 2, 5, 1, 2, 3, 4, 6, 3, 4});
  // NCHW [1, 1, 2, 2] + [1, 2, 2, 2] -> [1, 3, 2, 2]: channel planes stacked per sample.
  Var<T> p(make<T>(Shape{1, 1, 2, 2}, {1, 2, 3, 4}));
  Var<T> q(make<T>(Shape{1, 2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12}));
  Var<T> pq = concat_channels<T>({p, q});
  CHECK(pq.shape() == Shape{1, 3, 2, 2});
  CHECK(host(pq.value()) == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  // Two samples: each sample's channels stay together.
  Var<T> r(make<T>(Shape{2, 1, 1, 2}, {1, 2, 3, 4}));
  Var<T> s(make<T>(Shape{2, 1, 1, 2}, {5, 6, 7, 8}));
  CHECK(host(concat_channels<T>({r, s}).value()) == std::vector<double>{1, 2, 5, 6, 3, 4, 7, 8});
  // Rank 3 and 2.
  Var<T> r3(make<T>(Shape{2, 1, 2}, {1, 2, 3, 4}));
  CHECK(concat_channels<T>({r3, r3}).shape() == Shape{2, 2, 2});
  CHECK(host(concat_channels<T>({r3, r3}).value()) == std::vector<double>{1, 2, 1, 2, 3, 4, 3, 4});
  CHECK(host(concat_channels<T>({a, b}).value()) == std::vector<double>{1, 2, 5, 3, 4, 6});
}

TEST_CASE("concatenation errors name the shapes") {
  Var<float> a(Tensor<float>(Shape{2, 2})), b(Tensor<float>(Shape{3, 2}));
  CHECK_THROWS_WITH_AS(concat_features<float>({a, b}),
                       "concat_features: shapes differ outside axis 1, [2, 2] vs [3, 2]", ShapeError);
  Var<float> n1(Tensor<float>(Shape{1, 2, 3, 3})), n2(Tensor<float>(Shape{1, 2, 3, 4}));
  CHECK_THROWS_WITH_AS(concat_channels<float>({n1, n2}),
                       "concat_channels: shapes differ outside axis 1, [1, 2, 3, 3] vs [1, 2, 3, 4]", ShapeError);
  Var<float> r4(Tensor<float>(Shape{2, 1, 1, 1}));
  CHECK_THROWS_WITH_AS(concat_features<float>({r4}), "concat_features: inputs must be [N, D], got [2, 1, 1, 1]",
                       ShapeError);
  CHECK_THROWS_AS(concat_features<float>({}), InvalidArgument);
}

TEST_CASE("gradient check: concatenations (with an input used twice and a constant input)") {
  const double tol = 1e-7;
  const Tensor<double> a = test::random_tensor(Shape{1, 3}, 1), b = test::random_tensor(Shape{1, 5}, 2);
  SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return concat_features<double>({v[0], v[1], v[0]}); }, {a, b});
  SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return concat_features<double>({v[0], v[1]}); }, {a, b}, {false, true});
  const Tensor<double> c = test::random_tensor(Shape{4, 2}, 3), d = test::random_tensor(Shape{4, 7}, 4);
  SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return concat_features<double>({v[0], v[1]}); }, {c, d});
  const Tensor<double> x = test::random_tensor(Shape{2, 1, 3, 2}, 5), y = test::random_tensor(Shape{2, 3, 3, 2}, 6);
  SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return concat_channels<double>({v[0], v[1], v[0]}); }, {x, y});
  const Tensor<double> u = test::random_tensor(Shape{3, 2, 5}, 7), w = test::random_tensor(Shape{3, 1, 5}, 8);
  SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return concat_channels<double>({v[0], v[1]}); }, {u, w});
}

TEST_CASE("reshape and flatten are views with reshaped gradients") {
  Var<double> x(test::make<double>(Shape{2, 3, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}), true);
  Var<double> f = flatten(x);
  CHECK(f.shape() == Shape{2, 6});
  CHECK(f.value().same_storage(x.value()));
  Var<double> r = reshape(x, Shape{4, 3});
  CHECK(r.shape() == Shape{4, 3});
  CHECK(host(r.value()) == host(x.value()));
  CHECK_THROWS_WITH_AS(reshape(x, Shape{5, 3}), "reshape: cannot view [2, 3, 1, 2] as [5, 3]", ShapeError);
  const double tol = 1e-7;
  const Tensor<double> t = test::random_tensor(Shape{2, 3, 2, 2}, 11);
  SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return flatten(v[0]); }, {t});
  SSAH_CHECK_GRADIENTS(
      tol, [](const V& v) { return mul(reshape(v[0], Shape{6, 4}), reshape(v[0], Shape{6, 4})); }, {t});
  SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return reshape(tanh(v[0]), Shape{24}); }, {t});
}

TEST_CASE("interleave_minor: channel-minor interleaving, its errors and its gradient") {
  // Two [2, 2] inputs -> [2, 4]: element l*C + c of a row is input c's element l.
  Var<double> a(make<double>(Shape{2, 2}, {1, 2, 3, 4})), b(make<double>(Shape{2, 2}, {5, 6, 7, 8}));
  Var<double> y = interleave_minor<double>({a, b});
  CHECK(y.shape() == Shape{2, 4});
  CHECK(host(y.value()) == std::vector<double>{1, 5, 2, 6, 3, 7, 4, 8});
  Var<double> c(make<double>(Shape{1, 4}, {1, 2, 3, 4}));
  CHECK_THROWS_WITH_AS(interleave_minor<double>({a, c}), "interleave_minor: shapes differ, [2, 2] vs [1, 4]",
                       ShapeError);
  CHECK_THROWS_AS(interleave_minor<double>({}), InvalidArgument);
  const Tensor<double> x = test::random_tensor(Shape{3, 1, 1, 4}, 12), z = test::random_tensor(Shape{3, 1, 1, 4}, 13);
  SSAH_CHECK_GRADIENTS(1e-7, [](const V& v) { return interleave_minor<double>({v[0], v[1], v[0]}); }, {x, z});
}

TEST_CASE_TEMPLATE("dropout: same seed and counter give the same mask, for float and double alike", T, float, double) {
  const std::size_t n = 4000;
  Var<T> x(Tensor<T>::full(Shape{40, 100}, T(1)));
  const auto y1 = host(dropout(x, 0.7, 42, 3).value());
  const auto y2 = host(dropout(x, 0.7, 42, 3).value());
  CHECK(y1 == y2);
  const auto other_counter = host(dropout(x, 0.7, 42, 4).value());
  const auto other_seed = host(dropout(x, 0.7, 43, 3).value());
  CHECK(y1 != other_counter);
  CHECK(y1 != other_seed);
  // The mask does not depend on the element type.
  Var<double> xd(Tensor<double>::full(Shape{40, 100}, 1.0));
  const auto yd = host(dropout(xd, 0.7, 42, 3).value());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(((y1[i] != 0) == (yd[i] != 0)));
    if (y1[i] != 0) {
      ++kept;
      CHECK(y1[i] == doctest::Approx(1 / 0.7).epsilon(1e-6));  // inverted dropout scaling
    }
  }
  // Kept fraction: binomial(4000, 0.7) has sd sqrt(4000 * 0.21) = 29; allow 5 sd.
  CHECK(std::abs(double(kept) - 0.7 * n) < 5 * std::sqrt(n * 0.21));
  CHECK_THROWS_AS(dropout(x, 0.0, 1, 1), InvalidArgument);
  CHECK_THROWS_AS(dropout(x, 1.5, 1, 1), InvalidArgument);
}

TEST_CASE("dropout keep fraction over many counters, gradient masked identically, keep_prob 1 is identity") {
  // Kept fraction across 20 counters x 10,000 elements at keep 0.3 (sd of the fraction ~0.001).
  Var<float> x(Tensor<float>::full(Shape{10000}, 1.f));
  double kept = 0;
  for (std::uint64_t step = 0; step < 20; ++step)
    for (float v : dropout(x, 0.3, 9, step).value().to_host()) kept += v != 0.f;
  CHECK(kept / 200000.0 == doctest::Approx(0.3).epsilon(0.02));

  Var<double> z(test::random_tensor(Shape{8, 25}, 5), true);
  Var<double> y = dropout(z, 0.5, 77, 1);
  y.backward(Tensor<double>::full(Shape{8, 25}, 3.0));
  const auto yv = host(y.value()), zv = host(z.value()), g = host(z.grad());
  for (std::size_t i = 0; i < yv.size(); ++i) {
    const bool kept_i = yv[i] != 0;
    CHECK(g[i] == (kept_i ? 6.0 : 0.0));
    if (kept_i) CHECK(yv[i] == 2 * zv[i]);
  }
  SSAH_CHECK_GRADIENTS(
      1e-7, [](const V& v) { return dropout(v[0], 0.6, 5, 8); }, {test::random_tensor(Shape{1, 30}, 6)});
  Var<double> same = dropout(z, 1.0, 1, 1);
  CHECK(same.node() == z.node());
}
