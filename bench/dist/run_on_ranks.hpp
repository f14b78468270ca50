#pragma once
// The main of the benchmarks run under mpirun (bench/dist/): every rank runs the registered
// benchmarks, with their fixed iteration counts, so that all make the same collective calls; rank 0
// alone reports (its real time includes the wait for the slowest rank).
#include <benchmark/benchmark.h>

#include <vector>

#include "ssah/dist/mpi.hpp"

namespace ssah::bench {

class NullReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

/// Initialises MPI and Google Benchmark, calls `prepare()` on every rank (data built before the
/// first timing; it must not finalise MPI), runs the benchmarks and returns main's status.
template <class Prepare>
int run_benchmarks_on_ranks(int argc, char** argv, Prepare prepare) {
  dist::MpiSession session(&argc, &argv);
  benchmark::Initialize(&argc, argv);
  const int rank = prepare();
  if (rank == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    NullReporter quiet;
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
  return 0;
}

}  // namespace ssah::bench
