// Reductions and losses: hand-computed values, determinism of the summation order, stability of
// the cross-entropy at large logits, gradients flowing only where required, and gradient checks.

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/loss.hpp"
#include "ssah/ops/reduce.hpp"
#include "helpers.hpp"

using namespace ssah;
using test::host;
using test::make;
using V = std::vector<Var<double>>;

TEST_CASE_TEMPLATE("sum, mean, column and row reductions on a hand-computed case", T, float, double) {
  Var<T> x(make<T>(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  CHECK(sum(x).shape() == Shape{1});
  CHECK(host(sum(x).value()) == std::vector<double>{21});
  CHECK(host(mean(x).value())[0] == doctest::Approx(3.5));
  CHECK(column_sums(x).shape() == Shape{3});
  CHECK(host(column_sums(x).value()) == std::vector<double>{5, 7, 9});
  CHECK(host(column_means(x).value()) == std::vector<double>{2.5, 3.5, 4.5});
  CHECK(row_sums(x).shape() == Shape{2, 1});
  CHECK(host(row_sums(x).value()) == std::vector<double>{6, 15});
  CHECK(host(row_means(x).value()) == std::vector<double>{2, 5});
  Var<T> empty(Tensor<T>(Shape{0, 3}));
  CHECK(host(sum(empty).value()) == std::vector<double>{0});
  CHECK_THROWS_AS(mean(empty), ShapeError);
  CHECK_THROWS_AS(column_means(empty), ShapeError);
}

TEST_CASE("sum adds in a fixed tree order: bit-identical to a sequential replay, every run") {
  // 300,001 floats: three levels of 512-element leaves. The device result must equal, bit for bit,
  // a host replay of the documented order (this would fail if the order depended on threads).
  const std::size_t n = 300001;
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& f : v) f = u(gen);
  std::vector<float> level = v;
  while (level.size() > detail::reduce_chunk) {
    std::vector<float> next((level.size() + detail::reduce_chunk - 1) / detail::reduce_chunk, 0.f);
    for (std::size_t i = 0; i < level.size(); ++i) next[i / detail::reduce_chunk] += level[i];
    level = next;
  }
  float expected = 0.f;
  for (float f : level) expected += f;
  Var<float> x(Tensor<float>::from_host(Shape{n}, v));
  const float first = sum(x).value().item();
  CHECK(first == expected);
  for (int run = 0; run < 3; ++run) CHECK(sum(x).value().item() == first);
  double exact = 0;
  for (float f : v) exact += f;
  CHECK(first == doctest::Approx(exact).epsilon(1e-5));
  CHECK(mean(x).value().item() == doctest::Approx(exact / double(n)).epsilon(1e-5));
}

TEST_CASE("gradient check: sum, mean, column and row sums and means") {
  const double tol = 1e-7;
  std::uint64_t seed = 300;
  for (const Shape& s : test::grad_shapes()) {
    CAPTURE(s.str());
    const Tensor<double> x = test::random_tensor(s, ++seed);
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return sum(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return mean(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return column_sums(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return column_means(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return row_sums(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return row_means(v[0]); }, {x});
    // A reduction used twice accumulates.
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return add(sum(v[0]), mean(mul(v[0], v[0]))); }, {x});
  }
  // Multi-level tree (n > reduce_chunk) in the gradient too.
  SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return mean(v[0]); }, {test::random_tensor(Shape{40, 30}, 9)});
}

TEST_CASE_TEMPLATE("sigmoid cross-entropy on logits: values, and finite at |x| = 1000", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-13;
  Var<T> x(make<T>(Shape{2, 3}, {-2, 0, 1.5, 1000, -1000, 1000}));
  Var<T> t(make<T>(Shape{2, 3}, {1, 0.5, 0, 1, 0, 0}));
  const auto ce = host(sigmoid_cross_entropy_with_logits(x, t).value());
  auto naive = [](double xv, double tv) {
    const double s = 1 / (1 + std::exp(-xv));
    return -tv * std::log(s) - (1 - tv) * std::log(1 - s);
  };
  CHECK(ce[0] == doctest::Approx(naive(-2, 1)).epsilon(tol));
  CHECK(ce[1] == doctest::Approx(std::log(2.0)).epsilon(tol));
  CHECK(ce[2] == doctest::Approx(naive(1.5, 0)).epsilon(tol));
  CHECK(ce[3] == 0.0);     // confident and right
  CHECK(ce[4] == 0.0);
  CHECK(ce[5] == 1000.0);  // confident and wrong: finite, = x
}

TEST_CASE("gradient check: sigmoid cross-entropy and squared errors, targets constant or not") {
  const double tol = 1e-7;
  std::uint64_t seed = 400;
  for (const Shape& s : test::grad_shapes()) {
    CAPTURE(s.str());
    const Tensor<double> x = test::random_tensor(s, ++seed, -4, 4);
    const Tensor<double> t = test::random_tensor(s, ++seed, 0, 1);
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return sigmoid_cross_entropy_with_logits(v[0], v[1]); }, {x, t});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return sigmoid_cross_entropy_with_logits(v[0], v[1]); }, {x, t},
                         {true, false});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return squared_error(v[0], v[1]); }, {x, t});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return squared_error(v[0], v[1]); }, {x, t}, {false, true});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return sum_squared_error(v[0], v[1]); }, {x, t});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return sum_squared_error(v[0], v[1]); }, {x, t}, {true, false});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return mean(sigmoid_cross_entropy_with_logits(v[0], v[1])); }, {x, t});
  }
}

TEST_CASE_TEMPLATE("squared errors: values, fused sum, and a constant target gets no gradient", T, float, double) {
  Var<T> a(make<T>(Shape{2, 2}, {1, 2, 3, 4}), true);
  Var<T> b(make<T>(Shape{2, 2}, {0, 4, 3, 1}));  // constant target
  CHECK(host(squared_error(a, b).value()) == std::vector<double>{1, 4, 0, 9});
  Var<T> l = sum_squared_error(a, b);
  CHECK(host(l.value()) == std::vector<double>{14});
  l.backward();
  CHECK(host(a.grad()) == std::vector<double>{2, -4, 0, 6});
  CHECK_FALSE(b.has_grad());
  Var<T> c(make<T>(Shape{4}, {1, 2, 3, 4}));
  CHECK_THROWS_WITH_AS(sum_squared_error(a, c), "sum_squared_error: shapes differ, [2, 2] vs [4]", ShapeError);
  CHECK_THROWS_WITH_AS(sigmoid_cross_entropy_with_logits(a, c),
                       "sigmoid_cross_entropy_with_logits: shapes differ, [2, 2] vs [4]", ShapeError);
  // The sum of squares of a large vector (multi-level tree).
  std::vector<T> big(5000, T(0.5));
  Var<T> p(Tensor<T>::from_host(Shape{5000}, big));
  Var<T> zero(Tensor<T>(Shape{5000}));
  CHECK(sum_squared_error(p, zero).value().item() == doctest::Approx(1250.0));
}
