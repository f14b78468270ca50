// avg_pool_1d and max_pool2d: hand-computed cases, TF zero padding, tie-breaking, gradients.
#include <doctest/doctest.h>

#include <vector>

#include "gradcheck.hpp"
#include "ssah/ops/pool.hpp"

using namespace ssah;

TEST_CASE("avg_pool_1d averages VALID windows along the last axis and drops the tail") {
  Var<double> x(Tensor<double>::from_host(Shape{2, 7}, {1, 2, 3, 4, 5, 6, 7, 0, 0, 3, 3, 9, 9, 100}));
  Var<double> y = avg_pool_1d(x, 3);
  CHECK(y.shape() == Shape{2, 2});  // floor(7 / 3)
  CHECK(y.value().to_host() == std::vector<double>{2, 5, 1, 7});
  SUBCASE("rank 4 [N, C, 1, W] keeps its leading axes") {
    Var<double> x4(x.value().reshape(Shape{1, 2, 1, 7}));
    Var<double> y4 = avg_pool_1d(x4, 2);
    CHECK(y4.shape() == Shape{1, 2, 1, 3});
    CHECK(y4.value().to_host() == std::vector<double>{1.5, 3.5, 5.5, 0, 3, 9});
  }
  SUBCASE("a window wider than the row is an error") { CHECK_THROWS_AS(avg_pool_1d(x, 8), ShapeError); }
  SUBCASE("the gradient spreads 1/window over each window and skips the dropped tail") {
    Var<double> xg(x.value().clone(), true);
    avg_pool_1d(xg, 3).backward(Tensor<double>::from_host(Shape{2, 2}, {3, 6, 9, 12}));
    CHECK(xg.grad().to_host() == std::vector<double>{1, 1, 1, 2, 2, 2, 0, 3, 3, 3, 4, 4, 4, 0});
  }
}

TEST_CASE("gradient check: avg_pool_1d") {
  SSAH_CHECK_GRADIENTS(1e-7, [](const std::vector<Var<double>>& v) { return avg_pool_1d(v[0], 3); },
                       {test::random_tensor(Shape{2, 13}, 21)});
  SSAH_CHECK_GRADIENTS(1e-7, [](const std::vector<Var<double>>& v) { return avg_pool_1d(v[0], 5); },
                       {test::random_tensor(Shape{1, 2, 1, 11}, 22)});
}

namespace {
// The 4x4 example used below.
const std::vector<double> k4x4 = {1, 5, 2, 0,  //
                                  3, 4, 9, 1,  //
                                  7, 2, 6, 8,  //
                                  0, 3, 1, 2};
}  // namespace

TEST_CASE("max_pool2d on a 4x4 map: CNN-F's pool1 geometry and a plain 2x2 pool") {
  SUBCASE("3x3 stride 2 with padding [top 0, bottom 1, left 0, right 1]") {
    Var<double> x(Tensor<double>::from_host(Shape{1, 1, 4, 4}, k4x4), true);
    Var<double> y = max_pool2d(x, 3, 2, 0, 1, 0, 1);
    CHECK(y.shape() == Shape{1, 1, 2, 2});  // (4 + 1 - 3) / 2 + 1
    CHECK(y.value().to_host() == std::vector<double>{9, 9, 7, 8});
    y.backward(Tensor<double>::from_host(Shape{1, 1, 2, 2}, {1, 10, 100, 1000}));
    // The 9 at (1, 2) is the maximum of two windows; 7 at (2, 0); 8 at (2, 3).
    CHECK(x.grad().to_host() == std::vector<double>{0, 0, 0, 0, 0, 0, 11, 0, 100, 0, 0, 1000, 0, 0, 0, 0});
  }
  SUBCASE("2x2 stride 2, no padding") {
    Var<double> x(Tensor<double>::from_host(Shape{1, 1, 4, 4}, k4x4));
    CHECK(max_pool2d(x, 2, 2).value().to_host() == std::vector<double>{5, 9, 7, 8});
  }
  SUBCASE("non-square windows and strides") {
    Var<double> x(Tensor<double>::from_host(Shape{1, 1, 4, 4}, k4x4));
    Var<double> y = max_pool2d(x, Pool2dParams{1, 4, 2, 1, Padding2d{}});  // each of rows 0 and 2
    CHECK(y.shape() == Shape{1, 1, 2, 1});
    CHECK(y.value().to_host() == std::vector<double>{5, 8});
  }
}

TEST_CASE("max_pool2d pads with zeros as tf.pad does: padded cells take part in the max") {
  Var<double> x(Tensor<double>::full(Shape{1, 1, 3, 3}, -1.0), true);
  // 2x2 stride 1 with one padded row and column at the bottom/right: the last row and column of
  // windows see a padded 0, which beats the real -1 (MatConvNet would output -1 there).
  Var<double> y = max_pool2d(x, 2, 1, 0, 1, 0, 1);
  CHECK(y.shape() == Shape{1, 1, 3, 3});
  CHECK(y.value().to_host() == std::vector<double>{-1, -1, 0, -1, -1, 0, 0, 0, 0});
  y.backward(Tensor<double>::full(Shape{1, 1, 3, 3}, 1.0));
  // Windows won by padding pass nothing; the others pick their first (top-left) cell on ties.
  CHECK(x.grad().to_host() == std::vector<double>{1, 1, 0, 1, 1, 0, 0, 0, 0});
}

TEST_CASE("max_pool2d routes the gradient of a tie to the first maximum in row-major order") {
  Var<double> x(Tensor<double>::full(Shape{1, 1, 4, 4}, 2.0), true);
  max_pool2d(x, 2, 2).backward(Tensor<double>::full(Shape{1, 1, 2, 2}, 1.0));
  CHECK(x.grad().to_host() == std::vector<double>{1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0});
}

TEST_CASE("max_pool2d shape errors") {
  Var<float> x(Tensor<float>::zeros(Shape{1, 1, 2, 2}));
  CHECK_THROWS_AS(max_pool2d(x, 3, 1), ShapeError);
  Var<float> flat(Tensor<float>::zeros(Shape{2, 4}));
  CHECK_THROWS_AS(max_pool2d(flat, 2, 2), ShapeError);
}

TEST_CASE("gradient check: max_pool2d with asymmetric padding, batch 1 and non-square maps") {
  // Random values are distinct, so the arg-max is stable under the finite-difference step.
  SSAH_CHECK_GRADIENTS(1e-7, [](const std::vector<Var<double>>& v) { return max_pool2d(v[0], 3, 2, 0, 1, 0, 1); },
                       {test::random_tensor(Shape{2, 3, 5, 7}, 31)});
  SSAH_CHECK_GRADIENTS(1e-7, [](const std::vector<Var<double>>& v) { return max_pool2d(v[0], 2, 1, 1, 0, 2, 1); },
                       {test::random_tensor(Shape{1, 2, 4, 3}, 32)});
  SSAH_CHECK_GRADIENTS(
      1e-7, [](const std::vector<Var<double>>& v) { return max_pool2d(v[0], Pool2dParams{3, 2, 1, 3, Padding2d{}}); },
      {test::random_tensor(Shape{1, 1, 6, 8}, 33)});
}
