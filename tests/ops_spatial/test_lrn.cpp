// LRN: TF's formula on hand-computed cases, independence of positions in NCHW, exact gradient.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "gradcheck.hpp"
#include "ssah/ops/lrn.hpp"

using namespace ssah;

TEST_CASE("lrn on a 1x5 vector matches hand-computed TF values") {
  Var<double> x(Tensor<double>::from_host(Shape{1, 5}, {1, 2, 3, 4, 5}));
  SUBCASE("bias 1, alpha 0.1, beta 1: y_d = x_d / (1 + 0.1 * window sum of squares)") {
    // Windows (r = 2): {1,2,3} -> 14, {1..4} -> 30, {1..5} -> 55, {2..5} -> 54, {3,4,5} -> 50.
    // Scales 2.4, 4.0, 6.5, 6.4, 6.0 (PyTorch's LocalResponseNorm would use alpha / 5 instead).
    const std::vector<double> expected = {1 / 2.4, 2 / 4.0, 3 / 6.5, 4 / 6.4, 5 / 6.0};
    const auto y = lrn(x, 2, 1.0, 0.1, 1.0).value().to_host();
    for (int i = 0; i < 5; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  }
  SUBCASE("SSAH's defaults: radius 2, bias 2, alpha 1e-4, beta 0.75") {
    // (2 + 1e-4 * 14)^-0.75 etc., evaluated with Python's float arithmetic.
    const std::vector<double> expected = {0.5942915817132711, 1.1878710105259485, 1.7801403935901126,
                                          2.3736092915813667, 2.9674555452942113};
    const auto y = lrn(x).value().to_host();
    for (int i = 0; i < 5; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  }
  SUBCASE("radius 0 normalises each channel by itself only") {
    const auto y = lrn(x, 0, 1.0, 1.0, 1.0).value().to_host();
    for (int i = 0; i < 5; ++i) CHECK(y[i] == doctest::Approx((i + 1) / (1.0 + (i + 1) * (i + 1))));
  }
}

TEST_CASE("lrn normalises NCHW maps across channels, each position on its own") {
  // [1, 5, 1, 2]: position 0 holds channels 1..5, position 1 holds 5..1.
  Var<float> x(Tensor<float>::from_host(Shape{1, 5, 1, 2}, {1, 5, 2, 4, 3, 3, 4, 2, 5, 1}));
  const auto y = lrn(x, 2, 1.0, 0.1, 1.0).value().to_host();
  const std::vector<float> pos0 = {1 / 2.4f, 2 / 4.0f, 3 / 6.5f, 4 / 6.4f, 5 / 6.0f};
  for (int c = 0; c < 5; ++c) {
    CHECK(y[2 * c] == doctest::Approx(pos0[c]).epsilon(1e-6));
    CHECK(y[2 * c + 1] == doctest::Approx(pos0[4 - c]).epsilon(1e-6));
  }
}

TEST_CASE("lrn rejects inputs without a channel axis") {
  Var<float> x(Tensor<float>::zeros(Shape{4}));
  CHECK_THROWS_AS(lrn(x), ShapeError);
}

TEST_CASE("gradient check: lrn on [N, C] and NCHW, several radii") {
  auto with = [](std::size_t r, double bias, double alpha, double beta) {
    return [=](const std::vector<Var<double>>& v) { return lrn(v[0], r, bias, alpha, beta); };
  };
  // A large alpha makes the cross-channel term as big as the direct one, so both are checked.
  SSAH_CHECK_GRADIENTS(1e-6, with(2, 2.0, 0.5, 0.75), {test::random_tensor(Shape{3, 7}, 11, -2, 2)});
  SSAH_CHECK_GRADIENTS(1e-6, with(2, 2.0, 1e-4, 0.75), {test::random_tensor(Shape{2, 9}, 12, -2, 2)});
  SSAH_CHECK_GRADIENTS(1e-6, with(1, 1.0, 0.3, 1.3), {test::random_tensor(Shape{2, 6, 3, 2}, 13)});
  SSAH_CHECK_GRADIENTS(1e-6, with(5, 0.5, 0.8, 0.5), {test::random_tensor(Shape{1, 4, 2, 3}, 14)});  // r > C
}
