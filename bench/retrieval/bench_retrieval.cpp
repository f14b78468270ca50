// Retrieval benchmarks: Hamming distance throughput per code length, exhaustive k-NN (k = 100)
// over 1,000,000 codes with 1,000 queries, and mAP@all for 2,000 queries x 18,015 database items
// with 24 labels (MIRFLICKR-25K's protocol).
//
// Inputs: random codes (fixed seed) and, for mAP, MIRFLICKR-25K's real labels and split when
// ../shared/datasets is there (random labels otherwise). With --workload_dir=DIR the workloads
// are read from DIR instead (written by bench/compare_faiss.py, which runs FAISS and NumPy on the
// same files), and ssah's results are written back there for the comparison of values.
#include <benchmark/benchmark.h>

#include <sys/stat.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ssah/eval/metrics.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/hashing/index.hpp"
#include "ssah/io/code_arrays.hpp"
#include "ssah/io/npy.hpp"

namespace {

std::string workload_dir;  // --workload_dir
constexpr std::size_t knn_database = 1000000, knn_queries = 1000, knn_k = 100;
constexpr std::size_t map_queries = 2000, map_database = 18015, map_classes = 24;

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

template <int K>
ssah::PackedCodes<K> random_codes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  ssah::PackedCodes<K> c(n);
  for (std::size_t i = 0; i < n * ssah::PackedCodes<K>::code_bytes; ++i) c.data()[i] = static_cast<std::uint8_t>(rng());
  return c;
}

template <int K>
ssah::PackedCodes<K> codes_or_random(const std::string& file, std::size_t n, std::uint64_t seed) {
  if (!workload_dir.empty()) return ssah::io::codes_from_array<K>(ssah::io::read_npy(workload_dir + "/" + file));
  return random_codes<K>(n, seed);
}

template <int K>
struct KnnData {
  ssah::HammingIndex<K> index;
  ssah::PackedCodes<K> queries;
  static const KnnData& get() {
    static const KnnData d{
        ssah::HammingIndex<K>(codes_or_random<K>("knn_db_k" + std::to_string(K) + ".npy", knn_database, K)),
        codes_or_random<K>("knn_queries_k" + std::to_string(K) + ".npy", knn_queries, 1000 + K)};
    return d;
  }
};

struct MapData {
  ssah::PackedCodes<64> queries, database;
  ssah::LabelMatrix query_labels, database_labels;
  std::string source;
  static const MapData& get() {
    static const MapData d = load();
    return d;
  }
  static MapData load() {
    MapData d;
    if (!workload_dir.empty()) {
      const std::string w = workload_dir + "/";
      d.queries = ssah::io::codes_from_array<64>(ssah::io::read_npy(w + "map_query_codes.npy"));
      d.database = ssah::io::codes_from_array<64>(ssah::io::read_npy(w + "map_db_codes.npy"));
      const auto ql = ssah::io::read_npy(w + "map_query_labels.npy"), dl = ssah::io::read_npy(w + "map_db_labels.npy");
      d.query_labels = ssah::io::labels_from_array(ql, ssah::io::label_classes(ql));
      d.database_labels = ssah::io::labels_from_array(dl, ssah::io::label_classes(dl));
      d.source = "workload files";
      return d;
    }
    d.queries = random_codes<64>(map_queries, 1);
    d.database = random_codes<64>(map_database, 2);
    const std::string data = SSAH_BENCH_DATA_DIR;
    const std::string labels = data + "/mirflickr25k/full/labels_u8.npy";
    if (file_exists(labels) && file_exists(data + "/splits/mirfull_q_idx_i32.npy")) {
      const auto all = ssah::io::read_npy(labels);
      const auto lab = all.as<std::uint8_t>();
      const auto q = ssah::io::read_npy(data + "/splits/mirfull_q_idx_i32.npy").as<std::int32_t>();
      const auto db = ssah::io::read_npy(data + "/splits/mirfull_db_idx_i32.npy").as<std::int32_t>();
      const std::size_t c = all.shape[1];
      auto pick = [&](const std::vector<std::int32_t>& rows) {
        ssah::LabelMatrix m(rows.size(), c);
        for (std::size_t i = 0; i < rows.size(); ++i)
          for (std::size_t j = 0; j < c; ++j)
            if (lab[static_cast<std::size_t>(rows[i]) * c + j]) m.set(i, j);
        return m;
      };
      d.query_labels = pick(q);
      d.database_labels = pick(db);
      d.source = "MIRFLICKR-25K labels, random codes";
    } else {
      std::mt19937_64 rng(3);
      std::bernoulli_distribution on(0.15);
      d.query_labels = ssah::LabelMatrix(map_queries, map_classes);
      d.database_labels = ssah::LabelMatrix(map_database, map_classes);
      for (std::size_t i = 0; i < map_queries; ++i)
        for (std::size_t j = 0; j < map_classes; ++j)
          if (on(rng)) d.query_labels.set(i, j);
      for (std::size_t i = 0; i < map_database; ++i)
        for (std::size_t j = 0; j < map_classes; ++j)
          if (on(rng)) d.database_labels.set(i, j);
      d.source = "random labels and codes (MIRFLICKR-25K not found)";
    }
    return d;
  }
};

// Distance throughput from one query to 32,768 codes (an L2-resident block), per kernel.
template <int K, bool Portable>
void BM_HammingDistance(benchmark::State& state) {
  constexpr std::size_t n = 32768;
  const auto db = random_codes<K>(n, 7);
  const auto q = random_codes<K>(1, 8);
  std::vector<std::uint16_t> out(n);
  const ssah::HammingKernel kernel = Portable ? ssah::HammingKernel::portable : ssah::hamming_kernel();
  for (auto _ : state) {
    ssah::hamming_distances<K>(kernel, q.code(0), db.data(), n, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * K / 8));
  state.SetLabel(ssah::hamming_kernel_name(kernel));
}

// k-NN, k = 100, 1,000 queries over 1,000,000 codes, all threads.
template <int K>
void BM_Knn(benchmark::State& state) {
  const auto& d = KnnData<K>::get();
  for (auto _ : state) {
    auto r = d.index.search(d.queries, knn_k);
    benchmark::DoNotOptimize(r.ids.data());
  }
  state.counters["queries_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * d.queries.size()), benchmark::Counter::kIsRate);
  state.SetLabel(std::string(ssah::hamming_kernel_name()) + ", " + std::to_string(d.index.size()) + " codes");
}

// mAP@all (stable ties and tie-aware together): 2,000 x 18,015, 24 labels, 64 bits.
void BM_MapAll(benchmark::State& state) {
  const auto& d = MapData::get();
  double map = 0;
  for (auto _ : state) map = ssah::mean_average_precision(d.queries, d.database, d.query_labels, d.database_labels);
  state.counters["map"] = map;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.queries.size() * d.database.size()));
  state.SetLabel(d.source);
}

// The same on one thread, timed in CPU time: comparable with a single-threaded reference whatever
// else the machine is running.
void BM_MapAllOneThread(benchmark::State& state) {
  const auto& d = MapData::get();
  double map = 0;
  for (auto _ : state) map = ssah::mean_average_precision(d.queries, d.database, d.query_labels, d.database_labels, 1);
  state.counters["map"] = map;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.queries.size() * d.database.size()));
}

// Every metric: mAP, tie-aware mAP, mAP@1000, precision@N (17 points), PR curve, per-query APs.
void BM_EvaluateAll(benchmark::State& state) {
  const auto& d = MapData::get();
  ssah::EvalOptions opt;
  opt.top_r = 1000;
  for (auto _ : state) {
    auto r = ssah::evaluate_retrieval(d.queries, d.database, d.query_labels, d.database_labels, opt);
    benchmark::DoNotOptimize(r.map);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.queries.size() * d.database.size()));
}

BENCHMARK_TEMPLATE(BM_HammingDistance, 16, false);
BENCHMARK_TEMPLATE(BM_HammingDistance, 32, false);
BENCHMARK_TEMPLATE(BM_HammingDistance, 64, false);
BENCHMARK_TEMPLATE(BM_HammingDistance, 128, false);
BENCHMARK_TEMPLATE(BM_HammingDistance, 256, false);
BENCHMARK_TEMPLATE(BM_HammingDistance, 16, true);
BENCHMARK_TEMPLATE(BM_HammingDistance, 32, true);
BENCHMARK_TEMPLATE(BM_HammingDistance, 64, true);
BENCHMARK_TEMPLATE(BM_HammingDistance, 128, true);
BENCHMARK_TEMPLATE(BM_HammingDistance, 256, true);
BENCHMARK_TEMPLATE(BM_Knn, 32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Knn, 64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Knn, 128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MapAll)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MapAllOneThread)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvaluateAll)->Unit(benchmark::kMillisecond)->UseRealTime();

/// With a workload directory: ssah's results next to the inputs, for compare_faiss.py.
template <int K>
void write_knn_results() {
  if (!file_exists(workload_dir + "/knn_db_k" + std::to_string(K) + ".npy")) return;
  const auto& d = KnnData<K>::get();
  const auto r = d.index.search(d.queries, knn_k);
  ssah::io::write_npy(workload_dir + "/ssah_knn_ids_k" + std::to_string(K) + ".npy", r.ids, {r.queries, r.k});
  ssah::io::write_npy(workload_dir + "/ssah_knn_distances_k" + std::to_string(K) + ".npy", r.distances,
                      {r.queries, r.k});
}

void write_results() {
  write_knn_results<32>();
  write_knn_results<64>();
  write_knn_results<128>();
  if (file_exists(workload_dir + "/map_query_codes.npy")) {
    const auto& d = MapData::get();
    const auto r = ssah::evaluate_retrieval(d.queries, d.database, d.query_labels, d.database_labels);
    std::ofstream out(workload_dir + "/ssah_map.txt");
    char line[128];
    std::snprintf(line, sizeof line, "%.17g %.17g\n", r.map, r.map_tie_aware);
    out << line;
    std::vector<double> ap = r.ap;
    ssah::io::write_npy(workload_dir + "/ssah_map_ap.npy", ap, {ap.size()});
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Our own flag first; the rest goes to Google Benchmark.
  std::vector<char*> args;
  const std::string flag = "--workload_dir=";
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], flag.c_str(), flag.size()) == 0)
      workload_dir = argv[i] + flag.size();
    else
      args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::AddCustomContext("ssah.hamming_kernel", ssah::hamming_kernel_name());
  benchmark::AddCustomContext("ssah.workload", workload_dir.empty() ? "generated" : workload_dir);
  if (!workload_dir.empty()) write_results();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
