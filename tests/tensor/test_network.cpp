// End-to-end gradient checks through small networks built from the ops, one training loop, and
// the row gather / scatter utilities.

#include <doctest/doctest.h>

#include <vector>

#include "ssah/init.hpp"
#include "ssah/ops.hpp"
#include "ssah/optim.hpp"
#include "ssah/parameters.hpp"
#include "ssah/tensor_ops.hpp"
#include "helpers.hpp"

using namespace ssah;
using test::host;
using V = std::vector<Var<double>>;

namespace {

/// tanh(relu(x W1^T + b1) W2^T + b2), PyTorch's [out, in] weight layout.
Var<double> two_layer(const Var<double>& x, const Var<double>& w1, const Var<double>& b1, const Var<double>& w2,
                      const Var<double>& b2) {
  Var<double> h = relu(add_bias(matmul(x, w1, Trans::No, Trans::Yes), b1));
  return tanh(add_bias(matmul(h, w2, Trans::No, Trans::Yes), b2));
}

}  // namespace

TEST_CASE("gradient check: two-layer network with squared-error and cross-entropy losses") {
  // Worst relative error threshold for the whole network (all parameters and the input): 1e-6.
  const double tol = 1e-6;
  for (std::size_t batch : {std::size_t(1), std::size_t(5)}) {
    CAPTURE(batch);
    const Tensor<double> x = test::random_tensor(Shape{batch, 7}, 1);
    const Tensor<double> w1 = test::random_tensor(Shape{6, 7}, 2), b1 = test::random_tensor(Shape{6}, 3);
    const Tensor<double> w2 = test::random_tensor(Shape{3, 6}, 4), b2 = test::random_tensor(Shape{3}, 5);
    const Tensor<double> target = test::random_tensor(Shape{batch, 3}, 6, 0, 1);
    SSAH_CHECK_GRADIENTS(
        tol,
        [](const V& v) { return sum_squared_error(two_layer(v[0], v[1], v[2], v[3], v[4]), v[5]); },
        {x, w1, b1, w2, b2, target}, {true, true, true, true, true, false});
    SSAH_CHECK_GRADIENTS(
        tol,
        [](const V& v) {
          Var<double> logits = two_layer(v[0], v[1], v[2], v[3], v[4]);
          return mean(sigmoid_cross_entropy_with_logits(scale(logits, 3.0), v[5]));
        },
        {x, w1, b1, w2, b2, target}, {true, true, true, true, true, false});
    // Heads that share a trunk (fan-out) and are concatenated.
    SSAH_CHECK_GRADIENTS(
        tol,
        [](const V& v) {
          Var<double> h = leaky_relu(add_bias(matmul(v[0], v[1], Trans::No, Trans::Yes), v[2]), 0.1);
          Var<double> a = sigmoid(matmul(h, v[3], Trans::No, Trans::Yes));
          Var<double> b = softplus(h);
          return row_means(concat_features<double>({a, b, h}));
        },
        {x, w1, b1, w2});
  }
}

TEST_CASE("a small network trained with Adam fits its targets") {
  // 32 samples, 8 -> 16 -> 4, N(0, 0.1^2) init, 300 Adam steps at lr 1e-2: the loss drops by 20x.
  ParameterSet<double> ps;
  Var<double> w1 = ps.add("w1", Shape{16, 8}), b1 = ps.add("b1", Shape{16});
  Var<double> w2 = ps.add("w2", Shape{4, 16}), b2 = ps.add("b2", Shape{4});
  init::normal(ps, 0.0, 0.1, 3);
  Var<double> x(test::random_tensor(Shape{32, 8}, 10));
  Var<double> y(test::random_tensor(Shape{32, 4}, 11, -0.8, 0.8));
  Adam<double> adam;
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    ps.zero_grad();
    Var<double> loss = mean(squared_error(two_layer(x, w1, b1, w2, b2), y));
    loss.backward();
    adam.step(ps, 1e-2);
    (step == 0 ? first : last) = loss.value().item();
  }
  CHECK(last < first / 20);
}

TEST_CASE_TEMPLATE("gather_rows and scatter_rows", T, float, double) {
  Tensor<T> src = test::make<T>(Shape{4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
  Tensor<T> g = gather_rows(src, {3, 0, 3});
  CHECK(g.shape() == Shape{3, 2});
  CHECK(host(g) == std::vector<double>{30, 31, 0, 1, 30, 31});
  Tensor<T> buf(Shape{5, 2});
  scatter_rows(buf, {4, 1}, gather_rows(src, {1, 2}));
  CHECK(host(buf) == std::vector<double>{0, 0, 20, 21, 0, 0, 0, 0, 10, 11});
  // Rank 4 rows (an NCHW batch).
  Tensor<T> imgs = test::make<T>(Shape{3, 1, 1, 2}, {1, 2, 3, 4, 5, 6});
  CHECK(gather_rows(imgs, {2}).shape() == Shape{1, 1, 1, 2});
  CHECK(host(gather_rows(imgs, {2, 1})) == std::vector<double>{5, 6, 3, 4});
  CHECK_THROWS_WITH_AS(gather_rows(src, {4}), "gather_rows: index 4 (position 0) out of range for 4 rows",
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(scatter_rows(buf, {1, 1}, src.rows(0, 2)), "scatter_rows: row 1 appears twice (position 1)",
                       InvalidArgument);
  CHECK_THROWS_AS(scatter_rows(buf, {1, 2, 3}, src.rows(0, 2)), ShapeError);
  Tensor<T> wrong(Shape{2, 3});
  CHECK_THROWS_AS(gather_rows(src, {0, 1}, wrong), ShapeError);
}
