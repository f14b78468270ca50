#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "gradcheck.hpp"
#include "ssah/ops/pairwise.hpp"

using namespace ssah;

namespace {
// Direct double-precision evaluation of the loss, for the forward check.
double reference_loss(const std::vector<double>& a, const std::vector<double>& x, const std::vector<double>& s,
                      std::size_t n, std::size_t b, std::size_t d, bool squared) {
  double total = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < b; ++j) {
      double theta = 0;
      for (std::size_t k = 0; k < d; ++k) theta += a[i * d + k] * x[j * d + k];
      theta *= 0.5;
      const double nll = std::log1p(std::exp(theta)) - s[i * b + j] * theta;
      total += squared ? 0.5 * nll * nll : nll;
    }
  return total;
}
}  // namespace

TEST_CASE("pairwise likelihood loss: forward matches the formula, gradient matches finite differences") {
  const std::size_t n = 9, b = 4, d = 5;
  const Tensor<double> anchors = test::random_tensor(Shape{n, d}, 11, -2, 2);
  const Tensor<double> x = test::random_tensor(Shape{b, d}, 12, -2, 2);
  Tensor<double> labels_a = Tensor<double>::from_host(Shape{n, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1,
                                                                     1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0});
  Tensor<double> labels_b = labels_a.rows(0, b).clone();
  for (PairwiseForm form : {PairwiseForm::NegLogLikelihood, PairwiseForm::SquaredNll}) {
    const double scale = form == PairwiseForm::SquaredNll ? 0.999 : 1.0;
    const Tensor<double> sim = label_similarity(labels_a, labels_b, scale);
    const double expected = reference_loss(anchors.to_host(), x.to_host(), sim.to_host(), n, b, d,
                                           form == PairwiseForm::SquaredNll);
    CHECK(pairwise_likelihood_loss(anchors, Var<double>(x), sim, form).value().item() ==
          doctest::Approx(expected).epsilon(1e-12));
    SSAH_CHECK_GRADIENTS(1e-7, [&](const std::vector<Var<double>>& v) {
      return pairwise_likelihood_loss(anchors, v[0], sim, form);
    }, {x});
  }
}

TEST_CASE("label similarity: 1 (or the scale) exactly when two items share a label") {
  Tensor<float> a = Tensor<float>::from_host(Shape{3, 3}, {1, 0, 0, 0, 1, 1, 0, 0, 0});
  Tensor<float> b = Tensor<float>::from_host(Shape{2, 3}, {1, 1, 0, 0, 0, 1});
  CHECK(label_similarity(a, b, 0.999f).to_host() == std::vector<float>{0.999f, 0, 0.999f, 0.999f, 0, 0});
}

TEST_CASE("label similarity: the bit-mask path (0/1, up to 64 labels) and the gemm path agree with the definition") {
  std::mt19937 gen(5);
  for (std::size_t c : {1u, 24u, 64u, 65u, 130u})
    for (bool binary : {true, false}) {
      CAPTURE(c);
      CAPTURE(binary);
      const std::size_t n = 300, b = 37;
      std::vector<float> a(n * c), bl(b * c);
      std::bernoulli_distribution on(2.0 / double(c) + 0.02);
      std::uniform_real_distribution<float> soft(0.f, 1.f);
      for (float& v : a) v = binary ? float(on(gen)) : (on(gen) ? soft(gen) : 0.f);
      for (float& v : bl) v = float(on(gen));
      std::vector<float> want(n * b);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < b; ++j) {
          double dot = 0;
          for (std::size_t k = 0; k < c; ++k) dot += double(a[i * c + k]) * double(bl[j * c + k]);
          want[i * b + j] = dot > 0.5 ? 0.999f : 0.f;
        }
      const Tensor<float> s = label_similarity(Tensor<float>::from_host(Shape{n, c}, a),
                                               Tensor<float>::from_host(Shape{b, c}, bl), 0.999f);
      CHECK(s.to_host() == want);
    }
  CHECK_THROWS_AS(label_similarity(Tensor<float>(Shape{2, 3}), Tensor<float>(Shape{2, 4})), ShapeError);
}

TEST_CASE("pairwise loss stays finite for huge inner products (the reference overflows)") {
  Tensor<float> a = Tensor<float>::full(Shape{2, 4}, 30.f);
  Tensor<float> x = Tensor<float>::full(Shape{1, 4}, 30.f);  // theta = 1800
  Tensor<float> s = Tensor<float>::from_host(Shape{2, 1}, {1.f, 0.f});
  const float loss = pairwise_likelihood_loss(a, Var<float>(x), s, PairwiseForm::NegLogLikelihood).value().item();
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx(1800.f));  // similar pair: ~0, dissimilar pair: softplus(1800) = 1800
}
