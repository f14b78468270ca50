#pragma once
// The frame of the programs CTest runs under mpirun (tests/dist/mpi_*.cpp): MPI started and
// finished, `run(comm, failures)` records this rank's failed expectations, their sum over the ranks
// decides every rank's exit status, and rank 0 prints one line: "WHAT over P ranks: SUCCESS" or
// "... FAILED". An exception ends every rank (MPI_Abort), so that none waits in a collective.
#include <cstdio>
#include <exception>
#include <functional>
#include <string>

#include "ssah/dist/mpi.hpp"

namespace ssah::test {

/// This rank's failed expectations, each printed to stderr with the rank.
struct Failures {
  const dist::Communicator& comm;
  int count = 0;
  void expect(bool ok, const std::string& what) {
    if (ok) return;
    std::fprintf(stderr, "rank %d: FAIL %s\n", comm.rank(), what.c_str());
    ++count;
  }
};

inline int mpi_test_main(int argc, char** argv, const char* what, const char* success,
                         const std::function<void(dist::MpiCommunicator&, Failures&)>& run) {
  dist::MpiSession session(&argc, &argv);
  try {
    dist::MpiCommunicator comm;
    Failures failures{comm};
    run(comm, failures);
    double failed = failures.count;
    comm.all_reduce_sum(&failed, 1);
    if (comm.rank() == 0) std::printf("%s over %d ranks: %s\n", what, comm.size(), failed == 0 ? success : "FAILED");
    return failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 1;
}

}  // namespace ssah::test
