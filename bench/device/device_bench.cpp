// ssah_bench_device: the benchmarks of the GPU check (scripts/gpu-check.sh, issue 19), run on the
// device system this program was built for: CUDA kernels and cuBLAS in a CUDA build, OpenMP (or
// serial loops) otherwise, where it runs too so that it is known to work before a GPU is lent.
//
//   ssah_bench_device [--quick] [--json FILE]
//
// Sections, each checked against a host reference before it is timed:
//   device  the GPU (name, SMs, clock, memory bandwidth) or the host system;
//   knn     ThrustHammingIndex<K>::search, 10M codes x 10,000 queries, k = 100, K = 32/64/128:
//           queries/s, and the fraction of two bounds: the popcount throughput (16 32-bit popcounts
//           per SM per clock, the CUDA guide's figure for compute capability 9.0) for the two scans
//           of the database per query, and the DRAM bandwidth for the least traffic the kernel can
//           have (each query batch streams the database twice). Results equal HammingIndex<K>'s on
//           the first queries (ids and distances);
//   map     thrust_mean_average_precision<64>, 2,000 x 18,015 (MIRFLICKR-25K's query/database
//           split), against the host's mean_average_precision (relative error, and its time);
//   gemm    ssah::gemm (cuBLAS in a CUDA build) on the training workload's shapes, GFLOP/s;
//   train   the MIRFLICKR-25K-sized workload of bench/train/workload.hpp (10,000 items, 4,096-d
//           image features, 1,386-d bag-of-words, K = 64): each network's step (median), and one
//           epoch of the reference schedule (15 + 2 + 2 x 27 passes of n / 128 steps, no early stop);
//   cnnf    the image network as CNN-F on 3 x 224 x 224 images: its step, and the epoch's time
//           at the same schedule estimated from it (steps x step time: labelled as an estimate).
// --quick shrinks every size so that the whole program runs in a minute or two on a CPU.
//
// Times: CUDA events around the call in a CUDA build (after a warm-up), std::chrono otherwise; the
// median of several runs. Output: a markdown table on stdout and, with --json, the same figures.

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../train/workload.hpp"
#include "ssah/eval/metrics.hpp"
#include "ssah/eval/thrust_metrics.hpp"
#include "ssah/gemm.hpp"
#include "ssah/hashing/index.hpp"
#include "ssah/hashing/thrust_search.hpp"
#include "ssah/model/cnnf.hpp"
#include "ssah/random.hpp"
#include "ssah/ssah.hpp"

#if SSAH_DEVICE_CUDA
#include <cuda_runtime.h>
#endif

namespace {

using json = nlohmann::json;

#if SSAH_DEVICE_CUDA
void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "ssah_bench_device: %s: %s\n", what, cudaGetErrorString(status));
    std::exit(1);
  }
}
#endif

/// Seconds that f() takes on the device system: CUDA events recorded around it (every ssah call
/// timed here ends by copying a result to the host, so the work is complete at the second event),
/// or the host clock.
template <class F>
double seconds(F&& f) {
#if SSAH_DEVICE_CUDA
  cudaEvent_t start, stop;
  cuda_check(cudaEventCreate(&start), "cudaEventCreate");
  cuda_check(cudaEventCreate(&stop), "cudaEventCreate");
  cuda_check(cudaEventRecord(start), "cudaEventRecord");
  f();
  cuda_check(cudaEventRecord(stop), "cudaEventRecord");
  cuda_check(cudaEventSynchronize(stop), "cudaEventSynchronize");
  cuda_check(cudaGetLastError(), "a kernel");
  float ms = 0;
  cuda_check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  cuda_check(cudaEventDestroy(start), "cudaEventDestroy");
  cuda_check(cudaEventDestroy(stop), "cudaEventDestroy");
  return double(ms) / 1e3;
#else
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
#endif
}

/// Median time of `runs` calls after one warm-up call.
template <class F>
double median_seconds(int runs, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) t.push_back(seconds(f));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::string fixed(double v, int digits, bool scientific = false) {
  std::ostringstream s;
  s.setf(scientific ? std::ios::scientific : std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

/// The markdown table printed at the end: one row per figure.
struct Table {
  std::vector<std::array<std::string, 3>> rows;
  void add(std::string what, std::string value, std::string note = "") {
    std::cout << "  " << what << ": " << value << (note.empty() ? "" : "  (" + note + ")") << std::endl;
    rows.push_back({std::move(what), std::move(value), std::move(note)});
  }
};

struct Device {
  std::string name;
  double popcounts_per_second = 0;  // 32-bit popcounts, whole chip
  double bytes_per_second = 0;      // DRAM
};

Device describe_device(json& out, Table& table) {
  Device d;
#if SSAH_DEVICE_CUDA
  int dev = 0, sms = 0, clock_khz = 0, mem_khz = 0, bus_bits = 0, major = 0, minor = 0, driver = 0, runtime = 0;
  cuda_check(cudaGetDevice(&dev), "cudaGetDevice");
  cudaDeviceProp p{};
  cuda_check(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
  cuda_check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "attribute");
  cuda_check(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev), "attribute");
  cuda_check(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, dev), "attribute");
  cuda_check(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev), "attribute");
  cuda_check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "attribute");
  cuda_check(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev), "attribute");
  cuda_check(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
  cuda_check(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
  d.name = p.name;
  d.popcounts_per_second = double(sms) * 16.0 * double(clock_khz) * 1e3;
  d.bytes_per_second = 2.0 * double(mem_khz) * 1e3 * double(bus_bits) / 8.0;
  out["device"] = {{"name", d.name},
                   {"compute_capability", std::to_string(major) + "." + std::to_string(minor)},
                   {"sms", sms},
                   {"clock_mhz", clock_khz / 1000},
                   {"memory_gib", double(p.totalGlobalMem) / double(1 << 30)},
                   {"dram_gb_per_s", d.bytes_per_second / 1e9},
                   {"driver", driver},
                   {"runtime", runtime}};
  table.add("device", d.name,
            "cc " + std::to_string(major) + "." + std::to_string(minor) + ", " + std::to_string(sms) + " SMs, " +
                std::to_string(clock_khz / 1000) + " MHz, " + fixed(d.bytes_per_second / 1e9, 0) + " GB/s, driver " +
                std::to_string(driver) + ", runtime " + std::to_string(runtime));
#else
  d.name = std::string("host (") + ssah::device_system_name() + ")";
  out["device"] = {{"name", d.name}};
  table.add("device", d.name, "no GPU figures: bounds are not computed");
#endif
  out["device"]["system"] = ssah::device_system_name();
  out["device"]["gemm"] = ssah::gemm_backend_name();
  return d;
}

/// n random K-bit codes from a SplitMix64 stream.
template <int K>
ssah::PackedCodes<K> random_codes(std::size_t n, std::uint64_t seed) {
  ssah::PackedCodes<K> c(n);
  std::uint8_t* p = c.data();
  const std::size_t bytes = n * ssah::PackedCodes<K>::code_bytes;
  std::uint64_t x = seed;
  for (std::size_t i = 0; i < bytes; i += 8) {
    x += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    for (std::size_t b = 0; b < 8 && i + b < bytes; ++b) p[i + b] = static_cast<std::uint8_t>(z >> (8 * b));
  }
  return c;
}

template <int K>
void bench_knn(bool quick, const Device& dev, json& out, Table& table) {
  const std::size_t n = quick ? 200000 : 10000000, nq = quick ? 200 : 10000, k = 100, checked = 50;
  const auto db = random_codes<K>(n, 1000 + K);
  const auto q = random_codes<K>(nq, 2000 + K);
  const ssah::ThrustHammingIndex<K> index(db);
  // Correctness first: the first queries against the host index.
  const ssah::KnnResult want = ssah::HammingIndex<K>(db).search(q.slice(0, checked), k);
  const ssah::KnnResult got = index.search(q.slice(0, checked), k);
  const bool equal = got.ids == want.ids && got.distances == want.distances;
  const double t = median_seconds(3, [&] { index.search(q, k); });
  const double pairs = double(n) * double(nq);
  json r = {{"bits", K},
            {"codes", n},
            {"queries", nq},
            {"k", k},
            {"seconds", t},
            {"queries_per_second", double(nq) / t},
            {"equal_to_host", equal}};
  std::string note =
      std::string(equal ? "equal" : "DIFFERENT") + " to the host index on " + std::to_string(checked) + " queries";
  if (dev.popcounts_per_second > 0) {
    // Two scans per query (count, then place), K / 32 popcounts per code each.
    const double popc = 2.0 * pairs * (K / 32.0);
    // Queries go in batches whose histograms take ~64 MB (thrust_search.hpp); each batch streams
    // the database twice.
    const std::size_t chunk = ssah::detail::thrust_chunk_size(n);
    const std::size_t per_query = ((n + chunk - 1) / chunk) * (K + 1);
    const std::size_t batch = std::max<std::size_t>(1, std::min(nq, (std::size_t(16) << 20) / per_query));
    const double bytes = 2.0 * double((nq + batch - 1) / batch) * double(n) * (K / 8.0);
    r["popcount_fraction"] = popc / t / dev.popcounts_per_second;
    r["dram_fraction"] = bytes / t / dev.bytes_per_second;
    note += ", " + fixed(100 * popc / t / dev.popcounts_per_second, 1) + "% of the popcount bound, " +
            fixed(100 * bytes / t / dev.bytes_per_second, 1) + "% of DRAM bandwidth";
  }
  out["knn"].push_back(r);
  table.add("knn K=" + std::to_string(K) + " " + std::to_string(n) + " x " + std::to_string(nq) + " k=100",
            fixed(double(nq) / t, 0) + " queries/s", note);
  if (!equal) std::exit(2);
}

ssah::LabelMatrix random_labels(std::size_t rows, std::size_t classes, std::uint64_t seed) {
  ssah::HostRng rng(seed);
  ssah::LabelMatrix m(rows, classes);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t count = 1 + rng.below(4);
    for (std::size_t j = 0; j < count; ++j) m.set(i, rng.below(classes));
  }
  return m;
}

void bench_map(json& out, Table& table) {
  constexpr int K = 64;
  const std::size_t nq = 2000, n = 18015, classes = 24;
  // Codes from a small pool plus noise would tie more; random codes tie enough at 64 bits.
  const auto db = random_codes<K>(n, 31);
  const auto q = random_codes<K>(nq, 32);
  const auto dl = random_labels(n, classes, 33), ql = random_labels(nq, classes, 34);
  double device_map = 0, host_map = 0;
  const double t = median_seconds(5, [&] { device_map = ssah::thrust_mean_average_precision(q, db, ql, dl); });
  const double host_t = median_seconds(3, [&] { host_map = ssah::mean_average_precision(q, db, ql, dl); });
  const double error = std::abs(device_map - host_map) / std::max(1e-300, std::abs(host_map));
  out["map"] = {{"bits", K},         {"queries", nq},        {"database", n},           {"seconds", t},
                {"map", device_map}, {"host_map", host_map}, {"relative_error", error}, {"host_seconds", host_t}};
  table.add("mAP@all K=64 2000 x 18015", fixed(t * 1e3, 2) + " ms",
            "relative error " + fixed(error, 1, true) + " against the host; host " + fixed(host_t * 1e3, 2) +
                " ms on its own threads");
  if (error > 1e-12) std::exit(2);
}

/// ssah::gemm's rate on the workload's products (the most expensive of each kind).
double bench_gemm(json& out, Table& table) {
  struct Shape {
    const char* what;
    ssah::Trans ta, tb;
    std::size_t m, n, k;
  };
  const Shape shapes[] = {
      {"fc 4096->4096 forward (128 rows)", ssah::Trans::No, ssah::Trans::Yes, 128, 4096, 4096},
      {"fc 4096->4096 weight gradient", ssah::Trans::Yes, ssah::Trans::No, 4096, 4096, 128},
      {"fc 4096->4096 input gradient", ssah::Trans::No, ssah::Trans::No, 128, 4096, 4096},
      {"text fc1 8316->4096 forward", ssah::Trans::No, ssah::Trans::Yes, 128, 4096, 8316},
      {"pairwise theta 10000 x 128 x 512", ssah::Trans::No, ssah::Trans::Yes, 10000, 128, 512},
  };
  double first = 0;
  for (const Shape& s : shapes) {
    const std::size_t ar = s.ta == ssah::Trans::No ? s.m : s.k, ac = s.ta == ssah::Trans::No ? s.k : s.m;
    const std::size_t br = s.tb == ssah::Trans::No ? s.k : s.n, bc = s.tb == ssah::Trans::No ? s.n : s.k;
    ssah::Tensor<float> a = ssah::Tensor<float>::empty(ssah::Shape{ar, ac});
    ssah::Tensor<float> b = ssah::Tensor<float>::empty(ssah::Shape{br, bc});
    ssah::Tensor<float> c = ssah::Tensor<float>::empty(ssah::Shape{s.m, s.n});
    ssah::fill_uniform(a, -1.f, 1.f, ssah::CounterRng{1, 0});
    ssah::fill_uniform(b, -1.f, 1.f, ssah::CounterRng{1, 1});
    const double t = median_seconds(7, [&] {
      ssah::gemm(1.f, a, s.ta, b, s.tb, 0.f, c);
      (void)c.item(0);  // completes the product before the clock stops
    });
    const double gflops = 2.0 * double(s.m) * double(s.n) * double(s.k) / t / 1e9;
    if (first == 0) first = gflops;
    out["gemm"].push_back({{"shape", s.what}, {"m", s.m}, {"n", s.n}, {"k", s.k}, {"gflops", gflops}});
    table.add(std::string("gemm ") + s.what, fixed(gflops, 0) + " GFLOP/s", ssah::gemm_backend_name());
  }
  return first;
}

/// One epoch of `model` on `data` at the reference schedule (no early stop) or, quick, one step a
/// pass; returns (seconds, steps).
template <class Model>
std::pair<double, std::size_t> time_epoch(Model& model, const ssah::TrainingSet<float>& data, bool quick,
                                          std::size_t batch) {
  ssah::TrainOptions o;
  o.batch_size = batch;
  o.early_stop = false;
  if (quick) {
    o.steps_per_pass = 1;
    o.label_passes = {1};
    o.discriminator_passes = {1};
    o.modality_passes = {1};
  }
  std::size_t steps = 0;
  o.on_progress = [&](const ssah::TrainingProgress&) { ++steps; };
  const double t = seconds([&] { ssah::fit(model, data, o); });
  return {t, steps};
}

void bench_train(bool quick, double gemm_gflops, json& out, Table& table) {
  const std::size_t n = quick ? 1000 : ssah_bench::kItems;
  const ssah::TrainingSet<float> data = ssah_bench::make_workload(n);
  auto model = ssah_bench::make_model();
  using Trainer = ssah::SsahTrainer<ssah_bench::Model>;
  Trainer trainer(*model, data, ssah_bench::workload_options());
  constexpr double lr = 3e-5;
  struct Step {
    const char* name;
    double flops;
    double (*run)(Trainer&);
  };
  const Step steps[] = {
      {"label", ssah_bench::label_step_flops(), [](Trainer& t) { return t.train_label_step(lr); }},
      {"image", ssah_bench::image_step_flops(), [](Trainer& t) { return t.train_modality_step<0>(lr); }},
      {"text", ssah_bench::text_step_flops(), [](Trainer& t) { return t.train_modality_step<1>(lr); }},
      {"discriminators", ssah_bench::discriminator_step_flops(),
       [](Trainer& t) { return t.train_discriminator_step(lr); }},
  };
  for (const Step& s : steps) {
    double loss = 0;
    const double t = median_seconds(quick ? 3 : 20, [&] { loss = s.run(trainer); });
    json r = {{"network", s.name}, {"ms", t * 1e3}, {"loss", loss}};
    std::string note = quick ? "quick: 1,000 items" : "";
    if (!quick) {  // the FLOP counts are for the workload's 10,000 buffered items
      const double rate = s.flops / t / 1e9;
      r["gflops"] = rate;
      r["fraction_of_gemm"] = rate / gemm_gflops;
      note = fixed(rate, 0) + " GFLOP/s = " + fixed(100 * rate / gemm_gflops, 0) + "% of the 4096x4096 gemm rate";
    }
    out["train"]["steps"].push_back(r);
    table.add(std::string("train step ") + s.name, fixed(t * 1e3, 2) + " ms",
              note + (std::isfinite(loss) ? "" : ", LOSS NOT FINITE"));
    if (!std::isfinite(loss)) std::exit(2);
  }
  auto fresh = ssah_bench::make_model();
  const auto [t, count] = time_epoch(*fresh, data, quick, ssah_bench::kBatch);
  out["train"]["epoch"] = {{"items", n}, {"seconds", t}, {"steps", count}, {"ms_per_step", t * 1e3 / double(count)}};
  table.add("train epoch (" + std::to_string(n) + " items, features)", fixed(t, 2) + " s",
            std::to_string(count) + " steps, " + fixed(t * 1e3 / double(count), 2) + " ms a step" +
                (quick ? ", quick schedule" : ", reference schedule, no early stop"));
}

void bench_cnnf(bool quick, json& out, Table& table) {
  using Model = ssah::BasicSsah<float, ssah_bench::kBits, ssah::objective::Paper, ssah::CnnF, ssah::MultiScaleTextNet>;
  const std::size_t n = quick ? 32 : 2000, batch = quick ? 8 : 128, side = 224;
  ssah::TrainingSet<float> data = ssah_bench::make_workload(n);
  ssah::Tensor<float> images = ssah::Tensor<float>::empty(ssah::Shape{n, 3, side, side});
  ssah::fill_uniform(images, 0.f, 1.f, ssah::CounterRng{7, 0});
  data.modalities[0] = images;
  Model model(ssah_bench::kLabels, {ssah::Shape{3, side, side}, ssah::Shape{ssah_bench::kTextDim}});
  ssah::TrainOptions o = ssah_bench::workload_options();
  o.batch_size = batch;
  ssah::SsahTrainer<Model> trainer(model, data, o);
  double loss = 0;
  const double t = median_seconds(quick ? 2 : 10, [&] { loss = trainer.train_modality_step<0>(3e-5); });
  // The image network's share of a reference epoch at MIRFLICKR-25K's 10,000 training items:
  // 27 passes of 10000 / 128 steps. The other networks' steps are the features workload's.
  const double image_steps = 27.0 * double(ssah_bench::kItems / ssah_bench::kBatch);
  out["cnnf"] = {{"items", n},
                 {"batch", batch},
                 {"image_step_ms", t * 1e3},
                 {"loss", loss},
                 {"image_steps_per_epoch", image_steps},
                 {"image_epoch_seconds_estimate", image_steps * t}};
  table.add("CNN-F image step (batch " + std::to_string(batch) + ", 224x224)", fixed(t * 1e3, 1) + " ms",
            quick ? "quick: small batch"
                  : "its 2,106 steps of a reference epoch: " + fixed(image_steps * t, 0) +
                        " s (estimate: steps x step time)");
  if (!std::isfinite(loss)) std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      std::cerr << "usage: ssah_bench_device [--quick] [--json FILE]\n";
      return 64;
    }
  }
  try {
    json out;
    out["quick"] = quick;
    Table table;
    const Device dev = describe_device(out, table);
    bench_knn<32>(quick, dev, out, table);
    bench_knn<64>(quick, dev, out, table);
    bench_knn<128>(quick, dev, out, table);
    bench_map(out, table);
    const double gemm_gflops = bench_gemm(out, table);
    bench_train(quick, gemm_gflops, out, table);
    bench_cnnf(quick, out, table);

    std::cout << "\n| benchmark | result | note |\n|---|---|---|\n";
    for (const auto& r : table.rows) std::cout << "| " << r[0] << " | " << r[1] << " | " << r[2] << " |\n";
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      f << out.dump(2) << "\n";
      if (!f) {
        std::cerr << "ssah_bench_device: cannot write " << json_path << "\n";
        return 1;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "ssah_bench_device: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
