// MultiScaleTextNet: shapes, the fused layout (position-major, channel-minor as TF flattens it),
// dead branches, and exact gradients for every parameter and the input.
#include <doctest/doctest.h>

#include <vector>

#include "backbone_gradcheck.hpp"
#include "gradcheck.hpp"
#include "ssah/init.hpp"
#include "ssah/model/text_net.hpp"

using namespace ssah;

namespace {

template <class T>
void set_param(ParameterSet<T>& params, const std::string& name, std::vector<T> values) {
  init::load(params, name, values);
}

}  // namespace

TEST_CASE("MultiScaleTextNet: parameters and output shapes (dT = 60, reference windows)") {
  ParameterSet<float> params;
  MultiScaleTextNet<float>::Config config;
  config.hidden = {16, 8};
  MultiScaleTextNet<float> net(Shape{60}, config, params);
  CHECK(net.channels() == 6);
  CHECK(std::string(MultiScaleTextNet<float>::kind) == "text");
  // five scalar weights, fc1 [16, 360] + [16], fc2 [8, 16] + [8]
  CHECK(params.size() == 5 + 16 * 360 + 16 + 8 * 16 + 8);
  CHECK(params.entry("ms5.weight").shape == Shape{1, 1, 1, 1});
  CHECK(params.entry("ms50.weight").shape == Shape{1, 1, 1, 1});
  CHECK(params.entry("fc1.weight").shape == Shape{16, 360});
  init::normal(params, 0.f, 0.1f, 3);
  Var<float> x(Tensor<float>::full(Shape{3, 60}, 1.f));
  CHECK(net.multi_scale(x).shape() == Shape{3, 360});
  TrunkOutput<float> out = net.forward(x, ForwardContext{});
  CHECK(out.feature.shape() == Shape{3, 8});
  CHECK(out.head_input.shape() == Shape{3, 8});
  CHECK(net.feature_dim() == 8);
  CHECK_THROWS_AS(net.forward(Var<float>(Tensor<float>::full(Shape{3, 59}, 1.f)), ForwardContext{}), ShapeError);
  ParameterSet<float> other;
  MultiScaleTextNet<float>::Config too_wide;
  too_wide.windows = {5, 61};
  CHECK_THROWS_AS(MultiScaleTextNet<float>(Shape{60}, too_wide, other), ShapeError);
}

TEST_CASE("MultiScaleTextNet: fused input is [t, branches...] per position, as TF's [1, dT, C] flattening") {
  ParameterSet<double> params;
  MultiScaleTextNet<double>::Config config;
  config.windows = {2, 3};
  config.hidden = {4, 3};
  MultiScaleTextNet<double> net(Shape{6}, config, params);
  set_param(params, "ms2.weight", {2.0});
  set_param(params, "ms3.weight", {1.0});
  Var<double> t(Tensor<double>::from_host(Shape{1, 6}, {1, 2, 3, 4, 5, 6}));
  // Window 2: means 1.5, 3.5, 5.5; x2 -> 3, 7, 11; resized 3 -> 6 (src = o / 2) -> 3, 5, 7, 9, 11, 11.
  // Window 3: means 2, 5; resized 2 -> 6 (src = o / 3) -> 2, 3, 4, 5, 5, 5.
  const std::vector<double> expected = {1, 3, 2, 2, 5, 3, 3, 7, 4, 4, 9, 5, 5, 11, 5, 6, 11, 5};
  const auto got = net.multi_scale(t).value().to_host();
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("MultiScaleTextNet: a branch with a negative weight is dead (zero output, zero gradient)") {
  ParameterSet<double> params;
  MultiScaleTextNet<double>::Config config;
  config.windows = {2, 3};
  config.hidden = {4, 3};
  MultiScaleTextNet<double> net(Shape{6}, config, params);
  init::normal(params, 0.0, 0.5, 11);
  set_param(params, "ms2.weight", {-0.5});  // dead
  set_param(params, "ms3.weight", {0.7});   // alive
  Var<double> t(Tensor<double>::from_host(Shape{2, 6}, {1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1}));  // BoW >= 0
  const auto fused = net.multi_scale(t).value().to_host();
  for (std::size_t i = 1; i < fused.size(); i += 3) CHECK(fused[i] == 0.0);  // channel 1 = window 2
  double live = 0;
  for (std::size_t i = 2; i < fused.size(); i += 3) live += fused[i];
  CHECK(live > 0.0);
  params.zero_grad();
  TrunkOutput<double> out = net.forward(t, ForwardContext{});
  out.head_input.backward(Tensor<double>::full(out.head_input.shape(), 1.0));
  CHECK(net.branch_weight(0).grad().item() == 0.0);
  CHECK(net.branch_weight(1).grad().item() != 0.0);
}

TEST_CASE("gradient check: MultiScaleTextNet parameters and input (dT = 60, tiny hidden sizes)") {
  ParameterSet<double> params;
  MultiScaleTextNet<double>::Config config;
  config.hidden = {6, 5};
  MultiScaleTextNet<double> net(Shape{60}, config, params);
  init::normal(params, 0.0, 0.3, 5);
  // Branch weights positive so that every branch is alive and its gradient is checked.
  for (std::size_t b = 0; b < config.windows.size(); ++b)
    set_param(params, "ms" + std::to_string(config.windows[b]) + ".weight", {0.4 + 0.3 * double(b)});
  const Tensor<double> x = test::random_tensor(Shape{2, 60}, 7, 0.0, 1.0);
  const auto r = test::check_parameter_gradients(net, params, x, 12);
  INFO("worst parameter gradient mismatch at ", r.where);
  CHECK(r.worst < 1e-6);
  // And the gradient with respect to the input.
  SSAH_CHECK_GRADIENTS(
      1e-6, [&](const std::vector<Var<double>>& v) { return net.forward(v[0], ForwardContext{}).head_input; }, {x});
}

TEST_CASE("gradient check: MultiScaleTextNet with the feature as head input and one branch") {
  ParameterSet<double> params;
  MultiScaleTextNet<double>::Config config;
  config.windows = {4};
  config.hidden = {5, 4, 3};
  config.lrn_head_input = false;
  MultiScaleTextNet<double> net(Shape{13}, config, params);
  init::normal(params, 0.0, 0.4, 8);
  set_param(params, "ms4.weight", {0.9});
  const auto r = test::check_parameter_gradients(net, params, test::random_tensor(Shape{1, 13}, 9, 0.0, 1.0), 1000);
  INFO("worst parameter gradient mismatch at ", r.where);
  CHECK(r.worst < 1e-6);
}
