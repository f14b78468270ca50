// conv2d: hand-computed 4x4 cases, a direct-loop reference on random geometry, the chunked path,
// gradients for input, weight and bias, and the CNN-F shape chain 224 -> 54 -> 27 -> 27 -> 13 -> 6.
#include <doctest/doctest.h>

#include <vector>

#include "gradcheck.hpp"
#include "ssah/ops/conv.hpp"
#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/lrn.hpp"
#include "ssah/ops/pool.hpp"

using namespace ssah;

namespace {

std::vector<double> iota16() {
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[i] = i + 1;
  return v;
}

/// Direct 7-loop convolution on the host, the obvious way.
std::vector<double> reference_conv(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>& b,
                                   const Conv2dParams& p) {
  const auto xs = x.shape(), ws = w.shape();
  const std::size_t n = xs[0], ci = xs[1], h = xs[2], wd = xs[3], co = ws[0], kh = ws[2], kw = ws[3];
  const std::size_t oh = (h + p.pad.top + p.pad.bottom - kh) / p.stride_h + 1;
  const std::size_t ow = (wd + p.pad.left + p.pad.right - kw) / p.stride_w + 1;
  const auto xv = x.to_host(), wv = w.to_host(), bv = b.to_host();
  std::vector<double> y(n * co * oh * ow);
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t o = 0; o < co; ++o)
      for (std::size_t oy = 0; oy < oh; ++oy)
        for (std::size_t ox = 0; ox < ow; ++ox) {
          double s = bv[o];
          for (std::size_t c = 0; c < ci; ++c)
            for (std::size_t ky = 0; ky < kh; ++ky)
              for (std::size_t kx = 0; kx < kw; ++kx) {
                const long iy = long(oy * p.stride_h + ky) - long(p.pad.top);
                const long ix = long(ox * p.stride_w + kx) - long(p.pad.left);
                if (iy < 0 || ix < 0 || iy >= long(h) || ix >= long(wd)) continue;
                s += xv[((a * ci + c) * h + std::size_t(iy)) * wd + std::size_t(ix)] *
                     wv[((o * ci + c) * kh + ky) * kw + kx];
              }
          y[((a * co + o) * oh + oy) * ow + ox] = s;
        }
  return y;
}

/// Sets the conv workspace bound for one scope (to force one image per chunk).
struct WorkspaceLimit {
  std::size_t saved = detail::conv_workspace_elements();
  explicit WorkspaceLimit(std::size_t v) { detail::conv_workspace_elements() = v; }
  ~WorkspaceLimit() { detail::conv_workspace_elements() = saved; }
};

}  // namespace

TEST_CASE("conv2d on a 4x4 map: hand-computed outputs") {
  Var<double> x(Tensor<double>::from_host(Shape{1, 1, 4, 4}, iota16()));  // x[i][j] = 4i + j + 1
  SUBCASE("2x2 kernel [[1,2],[3,4]], bias 0.5, stride 1: y = 10 x[i][j] + 34 + 0.5") {
    Var<double> w(Tensor<double>::from_host(Shape{1, 1, 2, 2}, {1, 2, 3, 4}));
    Var<double> b(Tensor<double>::from_host(Shape{1}, {0.5}));
    Var<double> y = conv2d(x, w, b);
    CHECK(y.shape() == Shape{1, 1, 3, 3});
    CHECK(y.value().to_host() == std::vector<double>{44.5, 54.5, 64.5, 84.5, 94.5, 104.5, 124.5, 134.5, 144.5});
  }
  SUBCASE("3x3 box filter, stride 2, symmetric padding 1, bias -1") {
    Var<double> w(Tensor<double>::full(Shape{1, 1, 3, 3}, 1.0));
    Var<double> b(Tensor<double>::from_host(Shape{1}, {-1.0}));
    Var<double> y = conv2d(x, w, b, 2, 1);
    CHECK(y.shape() == Shape{1, 1, 2, 2});
    // Windows: {1,2,5,6}, {2,3,4,6,7,8}, {5,6,9,10,13,14}, {6,7,8,10,11,12,14,15,16}.
    CHECK(y.value().to_host() == std::vector<double>{13, 29, 56, 98});
  }
  SUBCASE("3x3 box filter, stride 2, padding [top 0, bottom 1, left 0, right 1], no bias") {
    Var<double> w(Tensor<double>::full(Shape{1, 1, 3, 3}, 1.0));
    Var<double> y = conv2d(x, w, Var<double>(), Conv2dParams{2, 2, Padding2d{0, 1, 0, 1}});
    CHECK(y.value().to_host() == std::vector<double>{54, 45, 72, 54});
  }
  SUBCASE("two output channels read both input channels") {
    Var<double> x2(Tensor<double>::from_host(Shape{1, 2, 1, 2}, {1, 2, 10, 20}));
    Var<double> w(Tensor<double>::from_host(Shape{2, 2, 1, 1}, {1, 1, 2, -1}));
    Var<double> b(Tensor<double>::from_host(Shape{2}, {0, 100}));
    CHECK(conv2d(x2, w, b).value().to_host() == std::vector<double>{11, 22, 92, 84});
  }
}

TEST_CASE("conv2d matches a direct-loop reference on random geometry, in one chunk or many") {
  struct Case {
    Shape x, w;
    Conv2dParams p;
  };
  const std::vector<Case> cases = {
      {Shape{2, 3, 5, 6}, Shape{4, 3, 3, 2}, Conv2dParams{2, 1, Padding2d{1, 0, 2, 1}}},
      {Shape{1, 2, 7, 4}, Shape{3, 2, 1, 1}, Conv2dParams{}},
      {Shape{3, 1, 9, 9}, Shape{2, 1, 5, 5}, Conv2dParams{3, 3, Padding2d::symmetric(2)}},
      {Shape{2, 2, 4, 11}, Shape{2, 2, 4, 11}, Conv2dParams{}},  // fc-as-conv: one output cell
  };
  for (std::size_t limit : {std::size_t(1) << 24, std::size_t(1)}) {
    WorkspaceLimit scoped(limit);
    std::uint64_t seed = 50;
    for (const auto& c : cases) {
      Tensor<double> x = test::random_tensor(c.x, ++seed), w = test::random_tensor(c.w, ++seed);
      Tensor<double> b = test::random_tensor(Shape{c.w[0]}, ++seed);
      const auto got = conv2d(Var<double>(x), Var<double>(w), Var<double>(b), c.p).value().to_host();
      const auto expected = reference_conv(x, w, b, c.p);
      REQUIRE(got.size() == expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-12));
    }
  }
}

TEST_CASE("conv2d float agrees with the double computation") {
  Tensor<double> x = test::random_tensor(Shape{2, 3, 8, 7}, 61), w = test::random_tensor(Shape{5, 3, 3, 3}, 62);
  Tensor<double> b = test::random_tensor(Shape{5}, 63);
  const Conv2dParams p{2, 2, Padding2d{1, 2, 0, 1}};
  const auto yd = conv2d(Var<double>(x), Var<double>(w), Var<double>(b), p).value().to_host();
  const auto yf =
      conv2d(Var<float>(cast<float>(x)), Var<float>(cast<float>(w)), Var<float>(cast<float>(b)), p).value().to_host();
  REQUIRE(yd.size() == yf.size());
  for (std::size_t i = 0; i < yd.size(); ++i) CHECK(yf[i] == doctest::Approx(yd[i]).epsilon(1e-5).scale(1.0));
}

TEST_CASE("conv2d shape errors name the shapes") {
  Var<float> x(Tensor<float>::zeros(Shape{1, 3, 8, 8}));
  CHECK_THROWS_AS(conv2d(x, Var<float>(Tensor<float>::zeros(Shape{4, 2, 3, 3})), Var<float>()), ShapeError);
  CHECK_THROWS_AS(conv2d(x, Var<float>(Tensor<float>::zeros(Shape{4, 3, 9, 9})), Var<float>()), ShapeError);
  CHECK_THROWS_AS(conv2d(x, Var<float>(Tensor<float>::zeros(Shape{4, 3, 3, 3})),
                         Var<float>(Tensor<float>::zeros(Shape{3}))),
                  ShapeError);
}

TEST_CASE("gradient check: conv2d with respect to input, weight and bias") {
  auto conv = [](Conv2dParams p) {
    return [=](const std::vector<Var<double>>& v) { return conv2d(v[0], v[1], v[2], p); };
  };
  for (std::size_t limit : {std::size_t(1) << 24, std::size_t(1)}) {  // one chunk, then one image per chunk
    WorkspaceLimit scoped(limit);
    SSAH_CHECK_GRADIENTS(1e-7, conv(Conv2dParams{2, 1, Padding2d{1, 0, 2, 1}}),
                         {test::random_tensor(Shape{2, 3, 5, 6}, 71), test::random_tensor(Shape{4, 3, 3, 2}, 72),
                          test::random_tensor(Shape{4}, 73)});
    SSAH_CHECK_GRADIENTS(1e-7, conv(Conv2dParams{3, 3, Padding2d::symmetric(2)}),
                         {test::random_tensor(Shape{1, 1, 9, 7}, 74), test::random_tensor(Shape{2, 1, 5, 5}, 75),
                          test::random_tensor(Shape{2}, 76)});
  }
  // Without a bias, and with only the weight requiring a gradient (the first layer of a network).
  SSAH_CHECK_GRADIENTS(1e-7, [](const std::vector<Var<double>>& v) { return conv2d(v[0], v[1], Var<double>()); },
                       {test::random_tensor(Shape{3, 2, 4, 4}, 77), test::random_tensor(Shape{3, 2, 1, 1}, 78)});
  SSAH_CHECK_GRADIENTS(1e-7, conv(Conv2dParams{}),
                       {test::random_tensor(Shape{2, 2, 3, 3}, 79), test::random_tensor(Shape{2, 2, 2, 2}, 80),
                        test::random_tensor(Shape{2}, 81)},
                       {false, true, true});
}

TEST_CASE("gradients accumulate when a convolution's inputs fan out") {
  Var<double> x(test::random_tensor(Shape{1, 1, 4, 4}, 82), true);
  Var<double> w(test::random_tensor(Shape{1, 1, 2, 2}, 83), true);
  Var<double> b(test::random_tensor(Shape{1}, 84), true);
  Var<double> once = conv2d(x, w, b);
  once.backward(Tensor<double>::full(once.shape(), 1.0));
  const auto gx1 = x.grad().to_host(), gw1 = w.grad().to_host(), gb1 = b.grad().to_host();
  Var<double> x2(x.value(), true), w2(w.value(), true), b2(b.value(), true);
  Var<double> twice = add(conv2d(x2, w2, b2), conv2d(x2, w2, b2));
  twice.backward(Tensor<double>::full(twice.shape(), 1.0));
  for (std::size_t i = 0; i < gx1.size(); ++i) CHECK(x2.grad().to_host()[i] == doctest::Approx(2 * gx1[i]));
  for (std::size_t i = 0; i < gw1.size(); ++i) CHECK(w2.grad().to_host()[i] == doctest::Approx(2 * gw1[i]));
  CHECK(b2.grad().item() == doctest::Approx(2 * gb1[0]));
}

TEST_CASE("CNN-F's spatial chain: 224 -> 54 -> 27 -> 27 -> 13 -> 13 -> 6 (reduced channels)") {
  NoGradGuard no_grad;
  Var<float> x(Tensor<float>::full(Shape{1, 3, 224, 224}, 0.5f));
  auto weight = [](std::size_t co, std::size_t ci, std::size_t k) {
    return Var<float>(Tensor<float>::full(Shape{co, ci, k, k}, 0.01f));
  };
  Var<float> none;
  Var<float> h = lrn(relu(conv2d(x, weight(4, 3, 11), none, 4, 0)));
  CHECK(h.shape() == Shape{1, 4, 54, 54});
  h = max_pool2d(h, 3, 2, 0, 1, 0, 1);
  CHECK(h.shape() == Shape{1, 4, 27, 27});
  h = lrn(relu(conv2d(h, weight(6, 4, 5), none, 1, 2)));
  CHECK(h.shape() == Shape{1, 6, 27, 27});
  h = max_pool2d(h, 3, 2);
  CHECK(h.shape() == Shape{1, 6, 13, 13});
  for (int i = 0; i < 3; ++i) h = relu(conv2d(h, weight(6, 6, 3), none, 1, 1));
  CHECK(h.shape() == Shape{1, 6, 13, 13});
  h = max_pool2d(h, 3, 2);
  CHECK(h.shape() == Shape{1, 6, 6, 6});
  h = relu(conv2d(h, weight(8, 6, 6), none));  // fc6 as a 6x6 convolution
  CHECK(h.shape() == Shape{1, 8, 1, 1});
}
