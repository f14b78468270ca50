// Under mpirun: data-parallel training (TrainOptions::communicator) against one process. Every
// rank trains the same small two-modality model twice, alone (dist::SingleProcess) and with the
// other ranks (each computing its share of every global batch, the gradients summed), and checks
// that the two runs end with the same parameters, buffers and codes up to the order of
// floating-point sums; ranks other than 0 start from other parameters, which the trainer replaces
// by rank 0's. Both objectives (the reference's also steps the discriminator in the modality step).
// Built with SSAH_TEST_NCCL (the CUDA build with -DSSAH_NCCL=ON), the ranks sum through NCCL.
// Exit status 0 on every rank when all agree; rank 0 prints one line per case.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "mpi_test_main.hpp"
#if SSAH_TEST_NCCL
#include "ssah/dist/nccl.hpp"
#endif
#include "ssah/data/synthetic.hpp"
#include "ssah/model/ssah.hpp"
#include "ssah/model/trainer.hpp"

namespace {

using namespace ssah;

struct Data {
  Tensor<float> labels, image, text;
};

Data make_data(std::size_t items) {
  data::SyntheticOptions o;
  o.items = items;
  o.labels = 6;
  o.image_dim = 24;
  o.vocabulary = 60;
  o.words_per_item = 8;
  o.seed = 3;
  const data::SyntheticData raw = data::make_synthetic(o);
  const std::vector<float> labels(raw.label_matrix.begin(), raw.label_matrix.end());
  return {Tensor<float>::from_host(Shape{items, o.labels}, labels),
          Tensor<float>::from_host(Shape{items, o.image_dim}, raw.image),
          Tensor<float>::from_host(Shape{items, o.vocabulary}, raw.text)};
}

template <class Model>
typename Model::Options small_options(std::uint64_t seed) {
  typename Model::Options o;
  o.label_net.hidden = {64, 32};
  std::get<0>(o.backbones).hidden = {64, 32};
  std::get<1>(o.backbones).hidden = {64, 32};
  o.discriminator.hidden = {32, 16};
  o.seed = seed;
  return o;
}

TrainOptions schedule(std::size_t batch) {
  TrainOptions t;
  t.batch_size = batch;
  t.epochs = 2;
  t.seed = 9;
  t.label_lr = SsahTableLr{2.0};
  t.discriminator_lr = SsahTableLr{2.0};
  t.modality_lr = {SsahTableLr{2.5}, SsahTableLr{2.5}};
  t.label_passes = {3, 2};
  t.modality_passes = {3, 2};
  t.early_stop = false;  // a loss compared with the previous pass's would turn on rounding
  return t;
}

/// The largest |a - b| over the parameters of every network, relative to the largest |a|.
template <class Model>
double parameter_difference(Model& a, Model& b) {
  double diff = 0, scale = 0;
  auto compare = [&](const ParameterSet<float>& x, const ParameterSet<float>& y) {
    const auto u = x.values().to_host(), v = y.values().to_host();
    for (std::size_t i = 0; i < u.size(); ++i) {
      diff = std::max(diff, static_cast<double>(std::fabs(u[i] - v[i])));
      scale = std::max(scale, static_cast<double>(std::fabs(u[i])));
    }
  };
  compare(a.label_net().parameters(), b.label_net().parameters());
  compare(a.template network<0>().parameters(), b.template network<0>().parameters());
  compare(a.template network<1>().parameters(), b.template network<1>().parameters());
  for (std::size_t m = 0; m < 2; ++m) compare(a.discriminator(m).parameters(), b.discriminator(m).parameters());
  return diff / scale;
}

template <class Objective>
void check(dist::Communicator& comm, test::Failures& failures, const char* name, std::size_t batch) {
  using Model = BasicSsah<float, 16, Objective, FeatureNet, FeatureNet>;
  const Data d = make_data(203);  // not a multiple of the ranks or of the batch
  const TrainingSet<float> set{d.labels, {d.image, d.text}};
  Model alone(6, {Shape{24}, Shape{60}}, small_options<Model>(5));
  Model shared(6, {Shape{24}, Shape{60}}, small_options<Model>(5 + static_cast<std::uint64_t>(comm.rank())));
  std::vector<double> losses_alone, losses_shared;
  TrainOptions o = schedule(batch);
  o.on_progress = [&](const TrainingProgress& p) { losses_alone.push_back(p.loss); };
  SsahTrainer<Model> one(alone, set, o);
  one.fit();
  o.communicator = &comm;
  o.on_progress = [&](const TrainingProgress& p) { losses_shared.push_back(p.loss); };
  SsahTrainer<Model> many(shared, set, o);
  many.fit();

  const auto expect = [&](bool ok, const std::string& what) { failures.expect(ok, std::string(name) + ": " + what); };
  const double params = parameter_difference(alone, shared);
  expect(params < 1e-3, "parameters differ by " + std::to_string(params) + " of their largest magnitude");
  double loss_diff = 0;
  expect(losses_alone.size() == losses_shared.size() && !losses_alone.empty(), "a different number of steps");
  for (std::size_t i = 0; i < std::min(losses_alone.size(), losses_shared.size()); ++i)
    loss_diff =
        std::max(loss_diff, std::fabs(losses_alone[i] - losses_shared[i]) / std::max(1.0, std::fabs(losses_alone[i])));
  expect(loss_diff < 1e-4, "step losses differ by " + std::to_string(loss_diff) + " (relative)");
  const auto a = one.training_state(), b = many.training_state();
  double buffers = 0;
  for (const auto& [key, tensor] : a.buffers) {
    if (key == "codes") continue;
    const auto u = tensor.to_host(), v = b.buffers.at(key).to_host();
    for (std::size_t i = 0; i < u.size(); ++i) buffers = std::max(buffers, static_cast<double>(std::fabs(u[i] - v[i])));
  }
  expect(buffers < 1e-3, "buffers differ by " + std::to_string(buffers));
  const auto codes_a = alone.hashes(0, d.image).to_host(), codes_b = shared.hashes(0, d.image).to_host();
  std::size_t flipped = 0;
  for (std::size_t i = 0; i < codes_a.size(); ++i) flipped += (codes_a[i] > 0) != (codes_b[i] > 0);
  expect(flipped * 200 <= codes_a.size(),
         std::to_string(flipped) + " of " + std::to_string(codes_a.size()) + " image code bits differ");
  expect(a.steps_done == b.steps_done && a.rng == b.rng, "the schedules or the batch draws differ");
  if (comm.rank() == 0)
    std::printf(
        "%s objective, batch %zu, %d ranks: parameters within %.2g, losses within %.2g, buffers within "
        "%.2g, %zu of %zu code bits differ\n",
        name, batch, comm.size(), params, loss_diff, buffers, flipped, codes_a.size());
}

void run(dist::MpiCommunicator& world, test::Failures& failures) {
#if SSAH_TEST_NCCL
  dist::NcclCommunicator comm(world);  // one GPU a rank: the gradients summed GPU to GPU
#else
  dist::Communicator& comm = world;
#endif
  check<objective::Paper>(comm, failures, "paper", 32);
  check<objective::ReferenceCode>(comm, failures, "reference", 29);
}

}  // namespace

int main(int argc, char** argv) {
  return ssah::test::mpi_test_main(argc, argv, "data-parallel training", "the trajectory of one process", run);
}
