// Both objectives against the independent PyTorch reference (tests/reference/make_model_fixtures.py):
// for one network step of each network (LabNet, FeatureNet, MultiScaleTextNet, CnnF), the similarity
// S, the quantisation codes, every weighted loss term (feature pairwise, hash pairwise, quantisation,
// label, adversarial), the total, the gradients of all the network's parameters through the total,
// and the discriminator's gradients from the adversarial term. The step is built as BasicSsah's
// training step builds it (supervised_loss + adversarial_loss; the adversarial term reaches the
// network under objective::Paper and only the discriminator under objective::ReferenceCode).
// Non-unit loss weights (0.7, 1.3, 0.9, 1.1, 0.8) make a swapped weight visible.
// Metric and thresholds: see fixtures.hpp (max-normalised error <= 1e-4 in float, <= 1e-6 in double).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "networks.hpp"
#include "ssah/model/objective.hpp"
#include "ssah/ops.hpp"
#include "ssah/ops/pairwise.hpp"

using namespace ssah;
using test::check_gradients;
using test::check_scalar;
using test::check_tensor;
using test::load_fixture;

namespace {

LossWeights fixture_weights() {
  const std::vector<double> w = test::load_golden("objective/loss_weights.npy").values;
  REQUIRE(w.size() == 5);
  return LossWeights{w[0], w[1], w[2], w[3], w[4]};
}

/// Rows `idx` of `t`.
template <class T>
Tensor<T> rows_of(const Tensor<T>& t, const std::vector<std::int64_t>& idx) {
  const std::size_t width = t.row_size();
  const std::vector<T> all = t.to_host();
  std::vector<T> out;
  for (std::int64_t i : idx)
    out.insert(out.end(), all.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * width),
               all.begin() + static_cast<std::ptrdiff_t>((static_cast<std::size_t>(i) + 1) * width));
  return Tensor<T>::from_host(Shape{idx.size(), width}, out);
}

/// sign(H) with sign(0) = 0 (numpy's), the reference code's quantisation target.
template <class T>
Tensor<T> sign_of(const Tensor<T>& h) {
  std::vector<T> v = h.to_host();
  for (T& x : v) x = x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
  return Tensor<T>::from_host(h.shape(), v);
}

/// One training step's loss of `net` (fixture group `group`) under `Objective`, checked against
/// `objective/<group>/<objective>/`. `d` is the modality's discriminator (null for LabNet).
template <class T, class Objective, class Net>
void check_step(Net& net, Discriminator<T>* d, const std::string& group) {
  const std::string base = "objective/" + group, dir = base + "/" + Objective::name;
  INFO("objective ", Objective::name, ", network ", group);
  const Tensor<T> train_labels = load_fixture<T>("objective/train_labels.npy");
  const io::NpyArray idx_array = io::read_npy(test::fixture_path(base + "/batch_index.npy"));
  const std::vector<std::int64_t> idx = idx_array.as<std::int64_t>();
  const Tensor<T> labels = rows_of(train_labels, idx);
  const Tensor<T> anchor_f = load_fixture<T>(base + "/anchor_features.npy");
  const Tensor<T> anchor_h = load_fixture<T>(base + "/anchor_hashes.npy");
  const LossWeights w = fixture_weights();

  const Tensor<T> sim = label_similarity(train_labels, labels, T(Objective::similarity_scale));
  check_tensor(sim, dir + "/similarity.npy");

  const NetOutput<T> out = net.forward(Var<T>(load_fixture<T>(group + "/input.npy")));
  const Tensor<T> codes = Objective::shared_codes ? load_fixture<T>(base + "/codes_shared.npy")
                                                  : sign_of(out.hash.value());
  check_tensor(codes, dir + "/codes.npy");

  GeneratorLoss<T> loss =
      supervised_loss<Objective>(out.feature, out.hash, out.label, anchor_f, anchor_h, sim, codes, labels, w);
  net.parameters().zero_grad();
  Var<T> adv;
  if (d) {
    d->parameters().zero_grad();
    const T weight = T(w.adversarial);
    if (Objective::adversarial_reaches_generator) {
      adv = scale(adversarial_loss(d->forward(out.feature), T(1)), weight);
      loss.total = loss.total + adv;
    } else {
      adv = scale(adversarial_loss(d->forward(out.feature.detach()), T(1)), weight);
    }
    loss.adversarial = adv.value().item();
  }
  const std::string terms = dir + "/terms.npy";
  check_scalar(loss.feature_pairwise, terms, 0, "feature pairwise term");
  check_scalar(loss.hash_pairwise, terms, 1, "hash pairwise term");
  check_scalar(loss.quantization, terms, 2, "quantisation term");
  check_scalar(loss.label, terms, 3, "label term");
  check_scalar(loss.adversarial, terms, 4, "adversarial term");
  check_scalar(loss.total.value().item(), terms, 5, "total");

  loss.total.backward();
  if (d && !Objective::adversarial_reaches_generator) adv.backward();
  check_gradients(net.parameters(), dir);
  if (d) check_gradients(d->parameters(), dir, "dgrad");
}

template <class T, class Net>
void check_both(Net& net, Discriminator<T>* d, const std::string& group) {
  SUBCASE("objective::Paper") { check_step<T, objective::Paper>(net, d, group); }
  SUBCASE("objective::ReferenceCode") { check_step<T, objective::ReferenceCode>(net, d, group); }
}

}  // namespace

TEST_CASE_TEMPLATE("reference objectives: LabNet step (no adversarial term)", T, float, double) {
  test::ReportWorstError report;
  auto net = test::make_labnet<T>();
  check_both<T>(net, static_cast<Discriminator<T>*>(nullptr), "labnet");
}

TEST_CASE_TEMPLATE("reference objectives: FeatureNet modality step", T, float, double) {
  test::ReportWorstError report;
  auto net = test::make_featurenet<T>();
  Discriminator<T> d = test::make_discriminator<T>();
  check_both<T>(net, &d, "featurenet");
}

TEST_CASE_TEMPLATE("reference objectives: MultiScaleTextNet modality step", T, float, double) {
  test::ReportWorstError report;
  auto net = test::make_textnet<T>();
  Discriminator<T> d = test::make_discriminator<T>();
  check_both<T>(net, &d, "textnet");
}

TEST_CASE_TEMPLATE("reference objectives: CnnF modality step", T, float, double) {
  test::ReportWorstError report;
  auto net = test::make_cnnf<T>();
  Discriminator<T> d = test::make_discriminator<T>();
  check_both<T>(net, &d, "cnnf");
}
