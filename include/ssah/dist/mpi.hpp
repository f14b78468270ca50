#pragma once
/// \file
/// `Communicator` on MPI (OpenMPI 4.1 from Debian: `libopenmpi-dev`): configure with
/// `-DSSAH_MPI=ON`, which links `MPI::MPI_CXX` into `ssah::ssah`. Host buffers only (a CUDA build
/// copies device buffers to the host first, or uses NCCL).
///
/// \code
///   ssah::dist::MpiSession session(&argc, &argv);   // MPI_Init_thread ... MPI_Finalize
///   ssah::dist::MpiCommunicator comm;               // MPI_COMM_WORLD
/// \endcode
/// MPI's default error handler (MPI_ERRORS_ARE_FATAL) stays: a failed call ends every rank.

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <vector>

#include "ssah/dist/communicator.hpp"
#include "ssah/error.hpp"

namespace ssah::dist {

/// Initialises MPI (MPI_THREAD_FUNNELED: OpenMP threads inside a rank, MPI calls from its main
/// thread) unless it already is, and finalises it on destruction if it initialised it.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return;
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    owner_ = true;
  }
  ~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owner_ && !finalized) MPI_Finalize();
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool owner_ = false;
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  int rank() const noexcept override { return rank_; }
  int size() const noexcept override { return size_; }
  void all_reduce_sum(double* values, std::size_t n) override { all_reduce(values, n, MPI_DOUBLE); }
  void all_reduce_sum(float* values, std::size_t n) override { all_reduce(values, n, MPI_FLOAT); }
  void broadcast(void* data, std::size_t bytes, int root) override {
    SSAH_CHECK_AS(InvalidArgument, root >= 0 && root < size_, "broadcast: root ", root, " of ", size_, " ranks");
    auto* p = static_cast<unsigned char*>(data);
    for (std::size_t done = 0; done < bytes;) {  // MPI counts are int
      const int count = static_cast<int>(std::min<std::size_t>(bytes - done, INT_MAX));
      MPI_Bcast(p + done, count, MPI_BYTE, root, comm_);
      done += static_cast<std::size_t>(count);
    }
  }
  std::vector<std::vector<unsigned char>> all_gather(const void* data, std::size_t bytes) override {
    const auto mine = static_cast<unsigned long long>(bytes);
    std::vector<unsigned long long> sizes(static_cast<std::size_t>(size_));
    MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, sizes.data(), 1, MPI_UNSIGNED_LONG_LONG, comm_);
    std::vector<int> counts(sizes.size()), displacements(sizes.size());
    unsigned long long total = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      SSAH_CHECK_AS(InvalidArgument, total + sizes[r] <= INT_MAX, "all_gather: ", total + sizes[r],
                    " bytes in all; MPI_Allgatherv takes at most 2^31 - 1");
      counts[r] = static_cast<int>(sizes[r]);
      displacements[r] = static_cast<int>(total);
      total += sizes[r];
    }
    std::vector<unsigned char> joined(static_cast<std::size_t>(total));
    const unsigned char nothing = 0;  // a send buffer for 0 bytes (never the receive buffer)
    MPI_Allgatherv(bytes ? data : &nothing, static_cast<int>(bytes), MPI_BYTE, joined.data(), counts.data(),
                   displacements.data(), MPI_BYTE, comm_);
    std::vector<std::vector<unsigned char>> out(sizes.size());
    for (std::size_t r = 0; r < sizes.size(); ++r)
      out[r].assign(joined.begin() + displacements[r], joined.begin() + displacements[r] + counts[r]);
    return out;
  }
  MPI_Comm comm() const noexcept { return comm_; }

 private:
  template <class T>
  void all_reduce(T* values, std::size_t n, MPI_Datatype type) {
    for (std::size_t done = 0; done < n;) {
      const int count = static_cast<int>(std::min<std::size_t>(n - done, INT_MAX));
      MPI_Allreduce(MPI_IN_PLACE, values + done, count, type, MPI_SUM, comm_);
      done += static_cast<std::size_t>(count);
    }
  }

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace ssah::dist
