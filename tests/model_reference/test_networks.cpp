// ssah's networks against the independent PyTorch reference (tests/reference/make_model_fixtures.py):
// forward outputs and the gradients of every parameter of the probe loss
//   P = sum(F * R_F) + sum(H * R_H) + sum(L_hat * R_L)
// (R fixed random arrays of the fixtures), for LabNet, FeatureNet, MultiScaleTextNet, CnnF and the
// discriminator. Metric and thresholds: see fixtures.hpp (max-normalised error <= 1e-4 in float,
// <= 1e-6 in double).
#include <doctest/doctest.h>

#include <string>

#include "fixtures.hpp"
#include "networks.hpp"
#include "ssah/model/objective.hpp"
#include "ssah/ops.hpp"

using namespace ssah;
using test::check_gradients;
using test::check_scalar;
using test::check_tensor;
using test::load_fixture;

namespace {

/// Forward outputs, the probe loss and every parameter's gradient (and the input's, when the
/// fixture has one) of `net` on the fixture input of `dir`.
template <class T, class Net>
void check_network(Net& net, const std::string& dir, bool input_grad) {
  Var<T> x(load_fixture<T>(dir + "/input.npy"), input_grad);
  const NetOutput<T> out = net.forward(x);
  check_tensor(out.feature.value(), dir + "/out.feature.npy");
  check_tensor(out.hash.value(), dir + "/out.hash.npy");
  check_tensor(out.label_logits.value(), dir + "/out.label_logits.npy");
  check_tensor(out.label.value(), dir + "/out.label.npy");
  Var<T> probe = sum(out.feature * Var<T>(load_fixture<T>(dir + "/probe.feature.npy"))) +
                 sum(out.hash * Var<T>(load_fixture<T>(dir + "/probe.hash.npy"))) +
                 sum(out.label * Var<T>(load_fixture<T>(dir + "/probe.label.npy")));
  check_scalar(probe.value().item(), dir + "/probe_loss.npy", 0, "probe loss");
  net.parameters().zero_grad();
  probe.backward();
  check_gradients(net.parameters(), dir);
  if (input_grad) check_tensor(x.grad(), dir + "/grad.input.npy");
}

}  // namespace

TEST_CASE_TEMPLATE("reference: LabNet (FeatureNet on labels, LRN after fc1) forward and gradients", T, float,
                   double) {
  test::ReportWorstError report;
  auto net = test::make_labnet<T>();
  check_network<T>(net, "labnet", false);
}

TEST_CASE_TEMPLATE("reference: FeatureNet with three hidden layers forward and gradients", T, float, double) {
  test::ReportWorstError report;
  auto net = test::make_featurenet<T>();
  check_network<T>(net, "featurenet", true);
}

TEST_CASE_TEMPLATE("reference: MultiScaleTextNet fusion, forward and gradients (one dead branch)", T, float,
                   double) {
  test::ReportWorstError report;
  auto net = test::make_textnet<T>();
  // The fused input [t, w5, w10, w15, w30, w50] per position, TF's [1, dT, 6] flattening.
  check_tensor(net.backbone().multi_scale(Var<T>(load_fixture<T>("textnet/input.npy"))).value(),
               "textnet/out.multi_scale.npy");
  check_network<T>(net, "textnet", true);
  // The branch with a negative weight (window 10) is dead: its gradient is exactly zero.
  CHECK(net.parameters().entry("ms10.weight").var.grad().item() == T(0));
  CHECK(net.parameters().entry("ms5.weight").var.grad().item() != T(0));
}

TEST_CASE_TEMPLATE("reference: CnnF on 95x127 images (mean image, LRN, asymmetric pool1 padding)", T, float,
                   double) {
  test::ReportWorstError report;
  auto net = test::make_cnnf<T>();
  CHECK(net.backbone().fc6_input_shape() == Shape{4, 2, 3});
  check_network<T>(net, "cnnf", false);
}

TEST_CASE_TEMPLATE("reference: discriminator logits and the discriminator loss", T, float, double) {
  test::ReportWorstError report;
  Discriminator<T> d = test::make_discriminator<T>();
  const Var<T> label_feature(load_fixture<T>("discriminator/input.label_feature.npy"));
  const Var<T> modality_feature(load_fixture<T>("discriminator/input.modality_feature.npy"));
  const Var<T> logits_label = d.forward(label_feature);
  const Var<T> logits_modality = d.forward(modality_feature);
  check_tensor(logits_label.value(), "discriminator/out.label_logits.npy");
  check_tensor(logits_modality.value(), "discriminator/out.modality_logits.npy");
  // L_D = 1/(2M) sum_m [CE(D_m(F_m), 0) + CE(D_m(F_l), 1)] with M = 1, each CE a mean over the batch.
  const Var<T> ce_label = adversarial_loss(logits_label, T(1));
  const Var<T> ce_modality = adversarial_loss(logits_modality, T(0));
  Var<T> loss = scale(ce_modality + ce_label, T(0.5));
  check_scalar(ce_label.value().item(), "discriminator/loss.npy", 0, "CE(D(F_label), 1)");
  check_scalar(ce_modality.value().item(), "discriminator/loss.npy", 1, "CE(D(F_modality), 0)");
  check_scalar(loss.value().item(), "discriminator/loss.npy", 2, "discriminator loss");
  d.parameters().zero_grad();
  loss.backward();
  check_gradients(d.parameters(), "discriminator");
}
