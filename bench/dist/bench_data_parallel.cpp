// Data-parallel training over MPI ranks (TrainOptions::communicator), run under mpirun:
//   mpirun -np P build-mpi/bench/dist/ssah_bench_data_parallel [--benchmark_...]
// Every rank builds the same two-modality model at the recommended widths (4096, 512) and K = 64 on
// a synthetic set the size of MIRFLICKR-25K's training set (10,000 items, 24 labels, a 4,096-wide
// dense "image" feature, 1,386-word bags of words), global batch 128:
//   BM_ImageStep       one step of the image network: its share of the batch forward and backward,
//                      the batch's outputs gathered, the gradients summed over the ranks, Adam
//   BM_LabelStep       one LabNet step, the same way
//   BM_AllReduceImage  the sum over the ranks alone, of a buffer the size of the image network's
//                      parameters (what BM_ImageStep reduces every step)
// Iteration counts are fixed (every rank must make the same collective calls); rank 0 reports, its
// real time including the wait for the slowest rank. Counters: `params`, the network's parameters;
// `allreduce_MB`, the bytes it sums over the ranks each step (4 a parameter).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "run_on_ranks.hpp"
#include "ssah/data/synthetic.hpp"
#include "ssah/dist/mpi.hpp"
#include "ssah/model/ssah.hpp"
#include "ssah/model/trainer.hpp"

namespace {

using Model = ssah::BasicSsah<float, 64, ssah::objective::Paper, ssah::FeatureNet, ssah::FeatureNet>;
constexpr std::size_t kItems = 10000, kLabels = 24, kImage = 4096, kWords = 1386;

struct Setup {
  ssah::dist::MpiCommunicator comm;
  ssah::TrainingSet<float> set;
  Model model;
  ssah::SsahTrainer<Model> trainer;

  static ssah::TrainingSet<float> make_set() {
    ssah::data::SyntheticOptions o;
    o.items = kItems;
    o.labels = kLabels;
    o.image_dim = kImage;
    o.vocabulary = kWords;
    const ssah::data::SyntheticData raw = ssah::data::make_synthetic(o);
    const std::vector<float> labels(raw.label_matrix.begin(), raw.label_matrix.end());
    return {ssah::Tensor<float>::from_host(ssah::Shape{kItems, kLabels}, labels),
            {ssah::Tensor<float>::from_host(ssah::Shape{kItems, kImage}, raw.image),
             ssah::Tensor<float>::from_host(ssah::Shape{kItems, kWords}, raw.text)}};
  }
  static Model::Options widths() {
    Model::Options o;
    o.label_net.hidden = {4096, 512};
    std::get<0>(o.backbones).hidden = {4096, 512};
    std::get<1>(o.backbones).hidden = {4096, 512};
    return o;
  }
  ssah::TrainOptions options() {
    ssah::TrainOptions t;
    t.batch_size = 128;
    t.communicator = &comm;
    return t;
  }
  Setup()
      : set(make_set()),
        model(kLabels, {ssah::Shape{kImage}, ssah::Shape{kWords}}, widths()),
        trainer(model, set, options()) {}
};

Setup& setup() {
  static Setup s;
  return s;
}

void counters(benchmark::State& state, std::size_t params) {
  state.counters["ranks"] = setup().comm.size();
  state.counters["params"] = static_cast<double>(params);
  state.counters["allreduce_MB"] = static_cast<double>(params) * 4 / 1e6;
}

void BM_ImageStep(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(s.trainer.train_modality_step<0>(1e-5));
  counters(state, s.model.network<0>().parameters().size());
}

void BM_LabelStep(benchmark::State& state) {
  Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(s.trainer.train_label_step(1e-5));
  counters(state, s.model.label_net().parameters().size());
}

void BM_AllReduceImage(benchmark::State& state) {
  Setup& s = setup();
  std::vector<float> gradients(s.model.network<0>().parameters().size(), 1.0f);
  for (auto _ : state) {
    s.comm.all_reduce_sum(gradients.data(), gradients.size());
    benchmark::DoNotOptimize(gradients.data());
  }
  counters(state, gradients.size());
}

BENCHMARK(BM_ImageStep)
    ->Iterations(10)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LabelStep)
    ->Iterations(20)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AllReduceImage)
    ->Iterations(10)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // Every rank builds the model before the first timing.
  return ssah::bench::run_benchmarks_on_ranks(argc, argv, [] { return setup().comm.rank(); });
}
