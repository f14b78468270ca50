#include <doctest/doctest.h>

#include "gradcheck.hpp"
#include "ssah/model/feature_net.hpp"
#include "ssah/model/modality_net.hpp"
#include "ssah/model/objective.hpp"

using namespace ssah;

namespace {
FeatureNet<double>::Config tiny_config() { return {{6, 5}, true}; }
}  // namespace

TEST_CASE("ModalityNet: LabNet-shaped network has the three outputs with the right shapes") {
  ModalityNet<float, 16, FeatureNet> net(Shape{24}, 24, FeatureNet<float>::Config{{64, 32}, true});
  initialize_parameters(net.parameters(), InitScheme::ReferenceNormal, 1);
  Var<float> x(Tensor<float>::full(Shape{3, 24}, 1.f));
  NetOutput<float> out = net.forward(x);
  CHECK(out.feature.shape() == Shape{3, 32});
  CHECK(out.hash.shape() == Shape{3, 16});
  CHECK(out.label.shape() == Shape{3, 24});
  // fc1 [64,24]+[64], fc2 [32,64]+[32], hash [16,32]+[16], label [24,32]+[24]
  CHECK(net.parameters().size() == 64 * 24 + 64 + 32 * 64 + 32 + 16 * 32 + 16 + 24 * 32 + 24);
  CHECK_THROWS_AS(net.forward(Var<float>(Tensor<float>::full(Shape{3, 23}, 1.f))), ShapeError);
}

TEST_CASE("reference initialisation is N(0, 0.01^2) for weights and biases, reproducible from the seed") {
  ModalityNet<double, 8, FeatureNet> a(Shape{50}, 10, FeatureNet<double>::Config{{200, 100}, true});
  ModalityNet<double, 8, FeatureNet> b(Shape{50}, 10, FeatureNet<double>::Config{{200, 100}, true});
  initialize_parameters(a.parameters(), InitScheme::ReferenceNormal, 7);
  initialize_parameters(b.parameters(), InitScheme::ReferenceNormal, 7);
  const auto va = a.parameters().values().to_host();
  CHECK(va == b.parameters().values().to_host());
  double sum = 0, sq = 0;
  for (double v : va) {
    sum += v;
    sq += v * v;
  }
  const double n = double(va.size()), mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  CHECK(std::abs(mean) < 5e-4);
  CHECK(sd == doctest::Approx(0.01).epsilon(0.03));
}

TEST_CASE("PyTorch-default initialisation: weights and biases ~ U(+-1/sqrt(fan_in)) of their layer, names") {
  ModalityNet<double, 8, FeatureNet> net(Shape{50}, 10, FeatureNet<double>::Config{{200, 100}, true});
  initialize_parameters(net.parameters(), InitScheme::PyTorchDefault, 5);
  std::size_t biases = 0;
  for (const auto& e : net.parameters().entries()) {
    const std::size_t fan_in = e.shape.rank() >= 2 ? init::fans(e.shape).in : init::bias_fan_in(net.parameters(), e.name);
    REQUIRE(fan_in > 0);
    const double bound = 1.0 / std::sqrt(double(fan_in));
    double largest = 0;
    for (double v : e.var.value().to_host()) largest = std::max(largest, std::abs(v));
    INFO(e.name);
    CHECK(largest <= bound);
    CHECK(largest > 0.6 * bound);  // the whole range is used, not only respected (fixed seed)
    if (e.shape.rank() == 1) ++biases;
  }
  CHECK(biases == 4);  // fc1, fc2, hash, label: each bias found its weight's fan-in
  CHECK(init_scheme_from_name("pytorch") == InitScheme::PyTorchDefault);
  CHECK(std::string(init_scheme_name(init_scheme_from_name("xavier"))) == "xavier");
  CHECK_THROWS_AS(init_scheme_from_name("kaiming"), InvalidArgument);
}

TEST_CASE_TEMPLATE("gradient check: a whole network through SSAH's supervised loss", Objective, objective::Paper,
                   objective::ReferenceCode) {
  const std::size_t n = 7, b = 3, d = 4, c = 3;
  constexpr int K = 4;
  ModalityNet<double, K, FeatureNet> net(Shape{d}, c, tiny_config());
  initialize_parameters(net.parameters(), InitScheme::Xavier, 3);
  const Tensor<double> anchors_f = test::random_tensor(Shape{n, 5}, 4);
  const Tensor<double> anchors_h = test::random_tensor(Shape{n, K}, 5);
  const Tensor<double> labels_all = Tensor<double>::from_host(
      Shape{n, c}, {1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0});
  const Tensor<double> labels = labels_all.rows(0, b).clone();
  const Tensor<double> sim = label_similarity(labels_all, labels, Objective::similarity_scale);
  const Tensor<double> codes = Tensor<double>::from_host(Shape{b, K}, {1, -1, 1, 1, -1, -1, 1, -1, 1, 1, -1, 1});
  const Tensor<double> x = test::random_tensor(Shape{b, d}, 6);
  // The parameters are the checked input: the network reads them through its ParameterSet.
  ParameterSet<double>& params = net.parameters();
  const Tensor<double> initial = params.values().clone();
  auto loss_of_params = [&](const std::vector<Var<double>>& v) {
    params.values().assign(v[0].value());
    params.zero_grad();
    NetOutput<double> out = net.forward(Var<double>(x));
    Var<double> loss = supervised_loss<Objective>(out.feature, out.hash, out.label, anchors_f, anchors_h, sim, codes,
                                                  labels, LossWeights{}).total;
    return loss;
  };
  // Analytic gradient through the flat buffer, numeric through re-evaluation.
  params.values().assign(initial);
  params.zero_grad();
  NetOutput<double> out = net.forward(Var<double>(x));
  supervised_loss<Objective>(out.feature, out.hash, out.label, anchors_f, anchors_h, sim, codes, labels, LossWeights{})
      .total.backward();
  const std::vector<double> analytic = params.grads().to_host();
  const std::vector<double> p0 = initial.to_host();
  double worst = 0;
  for (std::size_t i = 0; i < p0.size(); i += 3) {
    auto at = [&](double delta) {
      std::vector<double> p = p0;
      p[i] += delta;
      NoGradGuard no_grad;
      return loss_of_params({Var<double>(Tensor<double>::from_host(initial.shape(), p))}).value().item();
    };
    const double numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
    worst = std::max(worst, std::abs(numeric - analytic[i]) / std::max({1.0, std::abs(numeric), std::abs(analytic[i])}));
  }
  CHECK(worst < 1e-6);
}

TEST_CASE("discriminator: 512 -> 512 -> 256 -> 1 as coded, logits per row") {
  Discriminator<float> d(512);
  CHECK(d.parameters().size() == 512 * 512 + 512 + 256 * 512 + 256 + 256 + 1);
  initialize_parameters(d.parameters(), InitScheme::ReferenceNormal, 2);
  CHECK(d.forward(Var<float>(Tensor<float>::full(Shape{5, 512}, 0.1f))).shape() == Shape{5, 1});
  Discriminator<float> wide(512, Discriminator<float>::Config::paper());
  CHECK(wide.parameters().size() == 512 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 + 1);
}
