// Element-wise ops: forward values on hand-computed cases, stability at large |x|, shape errors,
// and finite-difference gradient checks (double) for every op.

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/reduce.hpp"
#include "helpers.hpp"

using namespace ssah;
using test::host;
using test::make;
using V = std::vector<Var<double>>;

TEST_CASE_TEMPLATE("pointwise forward values on hand-computed cases", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  Var<T> x(make<T>(Shape{2, 3}, {-2, -0.5, 0, 0.5, 1, 3}));
  CHECK(host(relu(x).value()) == std::vector<double>{0, 0, 0, 0.5, 1, 3});
  const auto lr = host(leaky_relu(x, 0.1).value());
  const std::vector<double> lr_expected{-0.2, -0.05, 0, 0.5, 1, 3};
  for (std::size_t i = 0; i < 6; ++i) CHECK(lr[i] == doctest::Approx(lr_expected[i]).epsilon(tol));
  CHECK(host(sign(x).value()) == std::vector<double>{-1, -1, 0, 1, 1, 1});
  CHECK(host(scale(x, 2.5).value()) == std::vector<double>{-5, -1.25, 0, 1.25, 2.5, 7.5});
  CHECK(host((-x).value()) == std::vector<double>{2, 0.5, 0, -0.5, -1, -3});
  const auto s = host(sigmoid(x).value());
  const auto sp = host(softplus(x).value());
  const auto ls = host(log_sigmoid(x).value());
  const auto th = host(tanh(x).value());
  const std::vector<double> xs{-2, -0.5, 0, 0.5, 1, 3};
  for (std::size_t i = 0; i < 6; ++i) {
    const double v = xs[i];
    CHECK(s[i] == doctest::Approx(1 / (1 + std::exp(-v))).epsilon(tol));
    CHECK(sp[i] == doctest::Approx(std::log(1 + std::exp(v))).epsilon(tol));
    CHECK(ls[i] == doctest::Approx(-std::log(1 + std::exp(-v))).epsilon(tol));
    CHECK(th[i] == doctest::Approx(std::tanh(v)).epsilon(tol));
  }
  CHECK(s[2] == 0.5);
  CHECK(sp[2] == doctest::Approx(std::log(2.0)).epsilon(tol));
}

TEST_CASE_TEMPLATE("softplus, log_sigmoid and sigmoid stay finite for large |x|", T, float, double) {
  Var<T> x(make<T>(Shape{4}, {1000, -1000, 80, -80}));
  const auto sp = host(softplus(x).value());
  CHECK(sp[0] == 1000.0);                      // not inf: log(1 + e^1000) overflows when computed naively
  CHECK(sp[1] >= 0.0);
  CHECK(sp[1] < 1e-300);                        // e^-1000 underflows to 0
  CHECK(sp[2] == doctest::Approx(80.0));
  CHECK(sp[3] == doctest::Approx(std::exp(-80.0)).epsilon(1e-5));
  const auto ls = host(log_sigmoid(x).value());
  CHECK(ls[0] == 0.0);
  CHECK(ls[1] == -1000.0);
  const auto s = host(sigmoid(x).value());
  CHECK(s[0] == 1.0);
  CHECK(s[1] == 0.0);
  for (double v : sp) CHECK(std::isfinite(v));
  for (double v : ls) CHECK(std::isfinite(v));
}

TEST_CASE_TEMPLATE("binary ops and operators: values and shape errors naming both shapes", T, float, double) {
  Var<T> a(make<T>(Shape{2, 2}, {1, 2, 3, 4}));
  Var<T> b(make<T>(Shape{2, 2}, {0.5, -1, 2, 0}));
  CHECK(host(add(a, b).value()) == std::vector<double>{1.5, 1, 5, 4});
  CHECK(host(sub(a, b).value()) == std::vector<double>{0.5, 3, 1, 4});
  CHECK(host(mul(a, b).value()) == std::vector<double>{0.5, -2, 6, 0});
  CHECK(host((a + b * a - b).value()) == std::vector<double>{1, 1, 7, 4});
  CHECK(host((a * 2.0).value()) == std::vector<double>{2, 4, 6, 8});
  CHECK(host((0.5 * a).value()) == std::vector<double>{0.5, 1, 1.5, 2});
  Var<T> c(make<T>(Shape{4, 1}, {1, 2, 3, 4}));
  CHECK_THROWS_WITH_AS(add(a, c), "add: shapes differ, [2, 2] vs [4, 1]", ShapeError);
  CHECK_THROWS_WITH_AS(sub(a, c), "sub: shapes differ, [2, 2] vs [4, 1]", ShapeError);
  CHECK_THROWS_WITH_AS(a * c, "mul: shapes differ, [2, 2] vs [4, 1]", ShapeError);
}

TEST_CASE("sign has an exactly zero gradient (no straight-through estimator)") {
  Var<double> x(test::make<double>(Shape{1, 5}, {-2, -0.5, 0, 0.5, 3}), true);
  Var<double> y = sign(x);
  y.backward(Tensor<double>::full(Shape{1, 5}, 7.0));
  REQUIRE(x.has_grad());
  CHECK(host(x.grad()) == std::vector<double>{0, 0, 0, 0, 0});
  // sum(sign(x) * x): sign(x) acts as a constant, so d/dx = sign(x) exactly.
  Var<double> z(test::make<double>(Shape{4}, {-1.5, 2, 0.25, -0.125}), true);
  sum(mul(sign(z), z)).backward();
  CHECK(host(z.grad()) == std::vector<double>{-1, 1, 1, -1});
  // An existing gradient is left as it is (adding zero).
  Var<double> w(test::make<double>(Shape{2}, {1, -1}), true);
  sum(add(sign(w), w)).backward();
  CHECK(host(w.grad()) == std::vector<double>{1, 1});
}

TEST_CASE("gradient check: every pointwise op on shapes including batch 1 and non-square") {
  const double tol = 1e-7;  // worst relative error |analytic - numeric| / max(1, |a|, |n|)
  std::uint64_t seed = 100;
  for (const Shape& s : test::grad_shapes()) {
    CAPTURE(s.str());
    const Tensor<double> x = test::random_tensor(s, ++seed, -3, 3);
    const Tensor<double> xk = test::away_from_zero(x);  // for the kinks of relu / leaky_relu at 0
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return relu(v[0]); }, {xk});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return leaky_relu(v[0], 0.2); }, {xk});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return tanh(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return sigmoid(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return softplus(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return log_sigmoid(v[0]); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return scale(v[0], -1.75); }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return -v[0]; }, {x});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return sign(v[0]); }, {xk});  // numeric 0, analytic exactly 0
  }
}

TEST_CASE("gradient check: softplus and log_sigmoid far in the tails") {
  const Tensor<double> x = test::make<double>(Shape{6}, {-40, -20, -5, 5, 20, 40});
  SSAH_CHECK_GRADIENTS(1e-7, [](const V& v) { return softplus(v[0]); }, {x});
  SSAH_CHECK_GRADIENTS(1e-7, [](const V& v) { return log_sigmoid(v[0]); }, {x});
  SSAH_CHECK_GRADIENTS(1e-7, [](const V& v) { return sigmoid(v[0]); }, {x});
}

TEST_CASE("gradient check: add, sub, mul and operators, including an input used twice") {
  const double tol = 1e-7;
  std::uint64_t seed = 200;
  for (const Shape& s : test::grad_shapes()) {
    CAPTURE(s.str());
    const Tensor<double> a = test::random_tensor(s, ++seed), b = test::random_tensor(s, ++seed);
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return add(v[0], v[1]); }, {a, b});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return sub(v[0], v[1]); }, {a, b});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return mul(v[0], v[1]); }, {a, b});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return mul(v[0], v[0]); }, {a});
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return v[0] * v[1] + 3.0 * v[0] - v[1] * v[1]; }, {a, b});
    // Only the first input requires a gradient: the constant one gets none.
    SSAH_CHECK_GRADIENTS(tol, [](const V& v) { return mul(v[0], v[1]); }, {a, b}, {true, false});
  }
}

TEST_CASE("a constant operand receives no gradient") {
  Var<double> a(test::make<double>(Shape{3}, {1, 2, 3}), true);
  Var<double> c(test::make<double>(Shape{3}, {4, 5, 6}));  // no grad
  sum(mul(a, c)).backward();
  CHECK(host(a.grad()) == std::vector<double>{4, 5, 6});
  CHECK_FALSE(c.has_grad());
  // With gradients off nothing is recorded.
  NoGradGuard guard;
  Var<double> r = mul(a, c);
  CHECK_FALSE(r.requires_grad());
}
