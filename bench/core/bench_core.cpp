// Foundation-layer benchmarks.
//
// BM_gemm_overhead: ssah::gemm against a direct call of the backend on the same buffers (an Eigen
// product of the same mapped matrices on OMP/CPP, cublasSgemm under CUDA), C = A B^T as in a linear
// layer with PyTorch's [out, in] weights. The two are timed alternately in every iteration; the
// reported time is ssah's, and the counter `ratio` = direct time / ssah time (>= 0.95: no overhead).
//
// BM_mlp_train_step: forward + backward of a 4096 -> 4096 -> 512 ReLU MLP on a batch of 128,
// in samples per second (items_per_second).

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>

#include "ssah/gemm.hpp"
#include "ssah/init.hpp"
#include "ssah/ops.hpp"
#include "ssah/parameters.hpp"
#include "ssah/random.hpp"

#if SSAH_DEVICE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#else
#include <Eigen/Core>
#endif

namespace {

using Clock = std::chrono::steady_clock;

void sync_device() {
#if SSAH_DEVICE_CUDA
  cudaDeviceSynchronize();
#endif
}

/// The backend called directly: row-major C[m, n] = A[m, k] B[n, k]^T.
struct DirectGemm {
#if SSAH_DEVICE_CUDA
  cublasHandle_t handle = nullptr;
  DirectGemm() { cublasCreate(&handle); }
  ~DirectGemm() { cublasDestroy(handle); }
  void operator()(std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c) const {
    const float one = 1.f, zero = 0.f;
    // Column-major view: C^T[n, m] = B[n, k] A^T[k, m], i.e. op(B) = T on the k x n column-major B^T.
    cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(n), int(m), int(k), &one, b, int(k), a, int(k), &zero, c,
                int(n));
  }
#else
  DirectGemm() = default;
  void operator()(std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c) const {
    using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const auto im = Eigen::Index(m), in = Eigen::Index(n), ik = Eigen::Index(k);
    Eigen::Map<const Mat> A(a, im, ik), B(b, in, ik);
    Eigen::Map<Mat> C(c, im, in);
    C.noalias() = A * B.transpose();
  }
#endif
  DirectGemm(const DirectGemm&) = delete;
  DirectGemm& operator=(const DirectGemm&) = delete;
};

void BM_gemm_overhead(benchmark::State& state) {
  const auto m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
  ssah::Tensor<float> a = ssah::Tensor<float>::empty(ssah::Shape{m, k});
  ssah::Tensor<float> b = ssah::Tensor<float>::empty(ssah::Shape{n, k});
  ssah::Tensor<float> c = ssah::Tensor<float>::empty(ssah::Shape{m, n});
  ssah::fill_uniform(a, -1.f, 1.f, ssah::CounterRng{1, 0});
  ssah::fill_uniform(b, -1.f, 1.f, ssah::CounterRng{1, 1});
  DirectGemm direct;
  auto run_ssah = [&] {
    ssah::gemm(1.f, a, ssah::Trans::No, b, ssah::Trans::Yes, 0.f, c);
    sync_device();
  };
  auto run_direct = [&] {
    direct(m, n, k, a.data(), b.data(), c.data());
    sync_device();
  };
  run_ssah();  // warm-up: thread pools, cuBLAS handles, caches
  run_direct();
  double t_ssah = 0, t_direct = 0;
  bool ssah_first = true;
  for (auto _ : state) {
    double ts = 0, td = 0;
    for (int pass = 0; pass < 2; ++pass) {
      const bool do_ssah = (pass == 0) == ssah_first;
      const auto t0 = Clock::now();
      if (do_ssah)
        run_ssah();
      else
        run_direct();
      const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
      (do_ssah ? ts : td) = dt;
    }
    ssah_first = !ssah_first;  // alternate the order so neither always runs on a warm cache
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
    state.SetIterationTime(ts);
    t_ssah += ts;
    t_direct += td;
  }
  const double flops = 2.0 * double(m) * double(n) * double(k) * double(state.iterations());
  state.counters["ssah_GFLOPs"] = flops / t_ssah / 1e9;
  state.counters["direct_GFLOPs"] = flops / t_direct / 1e9;
  state.counters["ratio"] = t_direct / t_ssah;
}
BENCHMARK(BM_gemm_overhead)
    ->ArgNames({"m", "k", "n"})
    ->Args({128, 4096, 4096})
    ->Args({128, 512, 10000})
    ->UseManualTime()
    ->Iterations(8)
    ->Unit(benchmark::kMillisecond);

void BM_mlp_train_step(benchmark::State& state) {
  const std::size_t batch = 128, in = 4096, hidden = 4096, out = 512;
  ssah::ParameterSet<float> ps;
  ssah::Var<float> w1 = ps.add("fc1.weight", ssah::Shape{hidden, in});
  ssah::Var<float> b1 = ps.add("fc1.bias", ssah::Shape{hidden});
  ssah::Var<float> w2 = ps.add("fc2.weight", ssah::Shape{out, hidden});
  ssah::Var<float> b2 = ps.add("fc2.bias", ssah::Shape{out});
  ssah::init::normal(ps, 0.f, 0.01f, 1);
  ssah::Tensor<float> xt = ssah::Tensor<float>::empty(ssah::Shape{batch, in});
  ssah::fill_uniform(xt, 0.f, 1.f, ssah::CounterRng{2, 0});
  const ssah::Var<float> x(xt);
  auto step = [&] {
    ps.zero_grad();
    ssah::Var<float> h = ssah::relu(ssah::add_bias(ssah::matmul(x, w1, ssah::Trans::No, ssah::Trans::Yes), b1));
    ssah::Var<float> y = ssah::relu(ssah::add_bias(ssah::matmul(h, w2, ssah::Trans::No, ssah::Trans::Yes), b2));
    ssah::Var<float> loss = ssah::sum(y);
    loss.backward();
    sync_device();
    return loss;
  };
  step();  // warm-up (memory pool, thread pools)
  for (auto _ : state) {
    ssah::Var<float> loss = step();
    benchmark::DoNotOptimize(loss.value().data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(batch));
}
BENCHMARK(BM_mlp_train_step)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(4);

}  // namespace

BENCHMARK_MAIN();
