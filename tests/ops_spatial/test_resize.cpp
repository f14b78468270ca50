// TF1 legacy bilinear resize (align_corners = false, no half-pixel centres): hand-computed values
// and the exact transposed gradient.
#include <doctest/doctest.h>

#include <vector>

#include "gradcheck.hpp"
#include "ssah/ops/resize.hpp"

using namespace ssah;

namespace {
template <class T>
void check_close(const std::vector<T>& got, const std::vector<double>& expected, double eps) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i);
    CHECK(static_cast<double>(got[i]) == doctest::Approx(expected[i]).epsilon(eps));
  }
}
}  // namespace

TEST_CASE("legacy bilinear resize 1x3 -> 1x5") {
  // src = o * 3/5 = 0, 0.6, 1.2, 1.8, 2.4; the last reads cells 2 and min(3, 2) = 2.
  // (Half-pixel centres, as in TF2 or PyTorch, would give 1, 2.2, 3.8, 3.2, 2 instead.)
  Var<float> x(Tensor<float>::from_host(Shape{1, 1, 1, 3}, {1, 4, 2}));
  Var<float> y = resize_bilinear_legacy(x, 1, 5);
  CHECK(y.shape() == Shape{1, 1, 1, 5});
  check_close(y.value().to_host(), {1, 2.8, 3.6, 2.4, 2}, 1e-6);
}

TEST_CASE("legacy bilinear resize 2x2 -> 3x3 and shrinking 1x5 -> 1x2") {
  Var<double> x(Tensor<double>::from_host(Shape{1, 1, 2, 2}, {1, 2, 3, 4}));
  // Both axes: src = 0, 2/3, 4/3 -> (0,1,0), (0,1,2/3), (1,1,1/3).
  check_close(resize_bilinear_legacy(x, 3, 3).value().to_host(),
              {1, 5.0 / 3, 2, 7.0 / 3, 3, 10.0 / 3, 3, 11.0 / 3, 4}, 1e-6);
  Var<double> row(Tensor<double>::from_host(Shape{1, 1, 1, 5}, {1, 2, 3, 4, 5}));
  // src = 0, 2.5: cells 0 and (2 + 3) / 2 (no averaging over the dropped cells).
  check_close(resize_bilinear_legacy(row, 1, 2).value().to_host(), {1, 3.5}, 1e-12);
  // Same size is the identity.
  check_close(resize_bilinear_legacy(row, 1, 5).value().to_host(), {1, 2, 3, 4, 5}, 1e-12);
}

TEST_CASE("legacy bilinear resize: channels and batch items are independent") {
  Var<double> x(Tensor<double>::from_host(Shape{2, 2, 1, 3}, {1, 4, 2, 0, 0, 0, 2, 8, 4, 1, 1, 1}));
  check_close(resize_bilinear_legacy(x, 1, 5).value().to_host(),
              {1, 2.8, 3.6, 2.4, 2, 0, 0, 0, 0, 0, 2, 5.6, 7.2, 4.8, 4, 1, 1, 1, 1, 1}, 1e-6);  // float positions, as TF
}

TEST_CASE("legacy bilinear resize: the gradient is the transposed interpolation") {
  Var<double> x(Tensor<double>::from_host(Shape{1, 1, 1, 3}, {1, 4, 2}), true);
  resize_bilinear_legacy(x, 1, 5).backward(Tensor<double>::full(Shape{1, 1, 1, 5}, 1.0));
  // Column sums of the 5x3 interpolation matrix: rows (1,0,0) (.4,.6,0) (0,.8,.2) (0,.2,.8) (0,0,1).
  check_close(x.grad().to_host(), {1.4, 1.6, 2.0}, 1e-6);
}

TEST_CASE("gradient check: legacy bilinear resize, up, down and mixed") {
  auto to = [](std::size_t h, std::size_t w) {
    return [=](const std::vector<Var<double>>& v) { return resize_bilinear_legacy(v[0], h, w); };
  };
  SSAH_CHECK_GRADIENTS(1e-7, to(1, 17), {test::random_tensor(Shape{2, 1, 1, 7}, 41)});
  SSAH_CHECK_GRADIENTS(1e-7, to(4, 2), {test::random_tensor(Shape{1, 2, 3, 5}, 42)});
  SSAH_CHECK_GRADIENTS(1e-7, to(7, 3), {test::random_tensor(Shape{1, 1, 4, 4}, 43)});
  SSAH_CHECK_GRADIENTS(1e-7, to(1, 60), {test::random_tensor(Shape{1, 1, 1, 1}, 44)});
  SSAH_CHECK_GRADIENTS(1e-7, to(1, 60), {test::random_tensor(Shape{3, 1, 1, 12}, 45)});  // dT = 60, pool 5
}
