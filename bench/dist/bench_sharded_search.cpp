// Hamming k-NN over a database sharded across MPI ranks (dist::sharded_knn), run under mpirun:
//   mpirun -np P build-mpi/bench/dist/ssah_bench_sharded_search [--benchmark_...]
// Each rank makes its own shard of CODES random 64-bit codes (environment, default 10,000,000; seeded
// by the global row, so the database does not depend on P) and the same 1,000 queries; k = 100.
//   BM_ShardedKnn      the whole call: the rank's search, the all-gather of every rank's top-k, the merge
//   BM_ShardSearch     the rank's search alone (hamming_knn over its shard)
//   BM_GatherMerge     the all-gather and the merge alone, of this rank's result
// Iteration counts are fixed (every rank must make the same collective calls); rank 0 reports, its
// real time including the wait for the slowest rank. Counter `gathered_MB`: bytes each rank receives.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "run_on_ranks.hpp"
#include "ssah/dist/mpi.hpp"
#include "ssah/dist/sharded_search.hpp"

namespace {

constexpr std::size_t kQueries = 1000, kNeighbours = 100;

std::size_t database_codes() {
  const char* env = std::getenv("CODES");
  return env ? std::strtoull(env, nullptr, 10) : 10000000;
}

/// Row r's 8 bytes: a hash of r (splitmix64), the same whatever the shard that holds it.
std::uint64_t code_of(std::uint64_t r) {
  std::uint64_t z = r + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct Data {
  ssah::dist::MpiCommunicator comm;
  ssah::dist::Shard shard;
  std::vector<std::uint8_t> codes, queries;
  Data() {
    shard = ssah::dist::shard_of(database_codes(), comm.rank(), comm.size());
    codes.resize(shard.size() * 8);
    for (std::size_t i = 0; i < shard.size(); ++i) {
      const std::uint64_t c = code_of(shard.first + i);
      for (int b = 0; b < 8; ++b) codes[i * 8 + b] = static_cast<std::uint8_t>(c >> (8 * b));
    }
    queries.resize(kQueries * 8);
    for (std::size_t i = 0; i < kQueries; ++i) {
      const std::uint64_t c = code_of((std::uint64_t(1) << 62) + i);
      for (int b = 0; b < 8; ++b) queries[i * 8 + b] = static_cast<std::uint8_t>(c >> (8 * b));
    }
  }
};

Data& data() {
  static Data d;
  return d;
}

void set_counters(benchmark::State& state, Data& d) {
  state.counters["ranks"] = d.comm.size();
  state.counters["codes_per_rank"] = static_cast<double>(d.shard.size());
  state.counters["gathered_MB"] =
      static_cast<double>(d.comm.size()) * kQueries * kNeighbours * 12 / 1e6;  // ids 8 + distances 4 bytes
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kQueries));
}

void BM_ShardedKnn(benchmark::State& state) {
  Data& d = data();
  for (auto _ : state) {
    const ssah::KnnResult r = ssah::dist::sharded_knn<64>(d.comm, d.codes.data(), d.shard.size(), d.shard.first,
                                                          d.queries.data(), kQueries, kNeighbours);
    benchmark::DoNotOptimize(r.ids.data());
  }
  set_counters(state, d);
}

void BM_ShardSearch(benchmark::State& state) {
  Data& d = data();
  for (auto _ : state) {
    const ssah::KnnResult r =
        ssah::hamming_knn<64>(d.codes.data(), d.shard.size(), d.queries.data(), kQueries, kNeighbours);
    benchmark::DoNotOptimize(r.ids.data());
    MPI_Barrier(d.comm.comm());  // the slowest rank's time, as in the whole call
  }
  set_counters(state, d);
}

void BM_GatherMerge(benchmark::State& state) {
  Data& d = data();
  const ssah::KnnResult local =
      ssah::hamming_knn<64>(d.codes.data(), d.shard.size(), d.queries.data(), kQueries, kNeighbours);
  for (auto _ : state) {
    const std::vector<unsigned char> mine =
        ssah::dist::detail::serialize(local, static_cast<std::int64_t>(d.shard.first));
    const auto all = d.comm.all_gather(mine.data(), mine.size());
    std::vector<ssah::KnnResult> parts;
    std::vector<std::int64_t> offsets(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) parts.push_back(ssah::dist::detail::deserialize(all[i], offsets[i]));
    const ssah::KnnResult r = ssah::dist::merge_knn(parts, offsets, kNeighbours);
    benchmark::DoNotOptimize(r.ids.data());
  }
  set_counters(state, d);
}

BENCHMARK(BM_ShardedKnn)
    ->Iterations(5)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ShardSearch)
    ->Iterations(5)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GatherMerge)
    ->Iterations(20)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // Every rank builds its shard before the first timing.
  return ssah::bench::run_benchmarks_on_ranks(argc, argv, [] { return data().comm.rank(); });
}
