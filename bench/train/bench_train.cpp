// One training step of each SSAH network on the issue-6 workload (see workload.hpp): LabNet, the
// image network (FeatureNet 4096 -> 4096 -> 512), the text network (MultiScaleTextNet), and the
// discriminators, each driven through BasicSsah's public single-step hooks, so exactly the code
// fit() runs: batch draw, forward, buffer update, the n x batch similarity and pairwise losses
// over all n buffered items, backward, Adam.
//
// Counters: items_per_second (samples/s), GFLOPs (gemm FLOPs of the step / time, counted in
// workload.hpp), gemm_GFLOPs (ssah::gemm's rate on 128 x 4096 x 4096, the shape that dominates,
// measured right before and after the step's own timing), floor_ratio = time / (FLOPs / gemm
// rate): 1.0 is the gemm floor.
//
// BM_gemm_rate reports that gemm rate on its own.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "ssah/gemm.hpp"
#include "ssah/random.hpp"
#include "workload.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kLr = 3e-5;

/// ssah::gemm's rate (GFLOP/s) on C[128, 4096] = A[128, 4096] B[4096, 4096]^T (a linear layer of
/// the image/text trunks), best of 5 after a warm-up. Measured right before and right after each
/// step benchmark (the better of the two is used), so both see the same machine load.
double gemm_rate() {
  static constexpr std::size_t m = 128, k = 4096, n = 4096;
  struct Buffers {  // allocated in the constructor, so the memory pool outlives them
    ssah::Tensor<float> a = ssah::Tensor<float>::empty(ssah::Shape{m, k});
    ssah::Tensor<float> b = ssah::Tensor<float>::empty(ssah::Shape{n, k});
    ssah::Tensor<float> c = ssah::Tensor<float>::empty(ssah::Shape{m, n});
    Buffers() {
      ssah::fill_uniform(a, -1.f, 1.f, ssah::CounterRng{1, 0});
      ssah::fill_uniform(b, -1.f, 1.f, ssah::CounterRng{1, 1});
    }
  };
  static Buffers buffers;
  ssah::Tensor<float>& a = buffers.a;
  ssah::Tensor<float>& b = buffers.b;
  ssah::Tensor<float>& c = buffers.c;
  ssah::gemm(1.f, a, ssah::Trans::No, b, ssah::Trans::Yes, 0.f, c);
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = Clock::now();
    ssah::gemm(1.f, a, ssah::Trans::No, b, ssah::Trans::Yes, 0.f, c);
    benchmark::DoNotOptimize(c.data());
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return 2.0 * double(m) * double(n) * double(k) / best / 1e9;
}

using Trainer = ssah::SsahTrainer<ssah_bench::Model>;

struct Fixture {
  ssah::TrainingSet<float> data = ssah_bench::make_workload();
  std::unique_ptr<ssah_bench::Model> model = ssah_bench::make_model();
  Trainer trainer{*model, data, ssah_bench::workload_options()};
};
Fixture& fixture() {
  static Fixture f;
  return f;
}

template <class Step>
void run_step(benchmark::State& state, double flops, Step step) {
  Fixture& f = fixture();
  step(f.trainer);  // warm-up: the memory pool, Adam's moments, thread pools
  step(f.trainer);
  const double rate_before = gemm_rate();
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    benchmark::DoNotOptimize(step(f.trainer));
    seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  const double rate = std::max(rate_before, gemm_rate());
  const double iters = double(state.iterations());
  const double per_step = seconds / iters;
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(ssah_bench::kBatch));
  state.counters["GFLOPs"] = flops / per_step / 1e9;
  state.counters["step_GFLOP"] = flops / 1e9;
  state.counters["gemm_GFLOPs"] = rate;
  state.counters["floor_ratio"] = per_step / (flops / (rate * 1e9));
}

void BM_gemm_rate(benchmark::State& state) {
  double rate = 0;
  for (auto _ : state) rate = gemm_rate();
  state.counters["gemm_GFLOPs"] = rate;
}
BENCHMARK(BM_gemm_rate)->Iterations(1);

void BM_step_label(benchmark::State& state) {
  run_step(state, ssah_bench::label_step_flops(), [](Trainer& t) { return t.train_label_step(kLr); });
}
void BM_step_image(benchmark::State& state) {
  run_step(state, ssah_bench::image_step_flops(), [](Trainer& t) { return t.train_modality_step<0>(kLr); });
}
void BM_step_text(benchmark::State& state) {
  run_step(state, ssah_bench::text_step_flops(), [](Trainer& t) { return t.train_modality_step<1>(kLr); });
}
void BM_step_discriminator(benchmark::State& state) {
  run_step(state, ssah_bench::discriminator_step_flops(), [](Trainer& t) { return t.train_discriminator_step(kLr); });
}
BENCHMARK(BM_step_label)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_step_image)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_step_text)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_step_discriminator)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("ssah.gemm", ssah::gemm_backend_name());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
