// SsahTrainer's single-step hooks (train_label_step, train_discriminator_step, train_modality_step,
// refresh_codes; used by bench/train) must run exactly the steps fit() runs: an epoch of one pass
// per network driven through the hooks gives bitwise the same parameters as fit().

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ssah/model/ssah.hpp"
#include "ssah/model/trainer.hpp"

using namespace ssah;

namespace {

using Model = BasicSsah<float, 8, objective::Paper, FeatureNet, FeatureNet>;

Model::Options options() {
  Model::Options o;
  o.label_net.hidden = {16, 8};
  std::get<0>(o.backbones).hidden = {16, 8};
  std::get<1>(o.backbones).hidden = {16, 8};
  o.discriminator.hidden = {8, 4};
  o.seed = 3;
  return o;
}

TrainingSet<float> data(std::size_t n) {
  std::vector<float> labels(n * 4, 0.f), a(n * 10), b(n * 7);
  for (std::size_t i = 0; i < n; ++i) {
    labels[i * 4 + i % 4] = 1.f;
    labels[i * 4 + (i / 4) % 4] = 1.f;
  }
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = float((i * 37) % 11) / 11.f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = float((i * 13) % 5) / 5.f;
  TrainingSet<float> t;
  t.labels = Tensor<float>::from_host(Shape{n, 4}, labels);
  t.modalities = {Tensor<float>::from_host(Shape{n, 10}, a), Tensor<float>::from_host(Shape{n, 7}, b)};
  return t;
}

TrainOptions schedule() {
  TrainOptions t;
  t.batch_size = 8;
  t.seed = 11;
  t.label_passes = {1};
  t.discriminator_passes = {1};
  t.modality_passes = {1};
  t.early_stop = false;
  return t;
}

std::vector<std::vector<float>> all_parameters(Model& m) {
  std::vector<std::vector<float>> out;
  m.for_each_parameter_set([&](ParameterSet<float>& ps, const std::string&) { out.push_back(ps.values().to_host()); });
  return out;
}

}  // namespace

TEST_CASE("single training steps reproduce fit() exactly") {
  const TrainingSet<float> d = data(40);
  const TrainOptions o = schedule();
  Model a(4, {Shape{10}, Shape{7}}, options());
  Model b(4, {Shape{10}, Shape{7}}, options());
  fit(a, d, o);

  SsahTrainer<Model> tb(b, d, o);
  const std::size_t steps = 40 / 8;
  std::vector<double> losses;
  for (std::size_t s = 0; s < steps; ++s) losses.push_back(tb.train_label_step(o.label_lr(0, 0)));
  tb.refresh_codes();
  for (std::size_t s = 0; s < steps; ++s) tb.train_discriminator_step(o.discriminator_lr(0, 0));
  for (std::size_t s = 0; s < steps; ++s) tb.train_modality_step<0>(SsahTableLr{4.0}(0, 0));
  tb.refresh_codes();
  for (std::size_t s = 0; s < steps; ++s) tb.train_modality_step<1>(SsahTableLr{4.0}(0, 0));
  tb.refresh_codes();

  const auto pa = all_parameters(a), pb = all_parameters(b);
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i] == pb[i]);
  for (double l : losses) CHECK(std::isfinite(l));
  // The hooks do train: a step changes LabNet's parameters.
  const std::vector<float> before = b.label_net().parameters().values().to_host();
  tb.train_label_step(1e-2);
  CHECK(b.label_net().parameters().values().to_host() != before);
}

TEST_CASE("building a ParameterSet leaves no outgrown flat buffers in the memory pool's cache") {
  const std::size_t cached_before = memory_stats().cached;
  {
    ParameterSet<float> ps;
    ps.add("big.weight", Shape{3001, 7});  // then each add re-lays the flat buffers
    ps.add("big.bias", Shape{3001});
    ps.add("small.weight", Shape{5, 3});
    CHECK(ps.size() == 3001 * 7 + 3001 + 15);
    // Only the empty set's two 256-byte blocks (a size that recurs) may stay cached; the outgrown
    // 21007- and 24008-float buffers (values and gradients, ~360 KB) are gone.
    CHECK(memory_stats().cached <= cached_before + 512);
  }
}
