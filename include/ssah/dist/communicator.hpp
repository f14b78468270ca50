#pragma once
/// \file
/// What a computation spread over several processes ("ranks") needs of them, as one small
/// interface: rank and size, an element-wise sum over all ranks, a broadcast and an all-gather of
/// bytes. `SingleProcess` (one rank, every operation a copy or nothing) is the default, so code
/// written against a `Communicator` runs unchanged without MPI; `dist/mpi.hpp` implements it on MPI
/// (configure with `-DSSAH_MPI=ON`). The distributed algorithms (e.g. `sharded_knn` in
/// `dist/sharded_search.hpp`) take a `Communicator&` and never name MPI.
///
/// Every rank must make the same calls in the same order (as with MPI's collectives).

#include <cstddef>
#include <vector>

#include "ssah/error.hpp"

namespace ssah::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  /// This process's rank, 0 <= rank() < size().
  virtual int rank() const noexcept = 0;
  /// The number of ranks.
  virtual int size() const noexcept = 0;
  /// values[i] = the sum over all ranks of their values[i], on every rank (n the same on all).
  virtual void all_reduce_sum(double* values, std::size_t n) = 0;
  virtual void all_reduce_sum(float* values, std::size_t n) = 0;
  /// The `bytes` bytes at `data` on rank `root` copied to `data` on every other rank.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  /// Every rank's bytes (any length, possibly 0), in rank order, on every rank.
  virtual std::vector<std::vector<unsigned char>> all_gather(const void* data, std::size_t bytes) = 0;
};

/// What a communicator offers besides `Communicator` when it can sum buffers in the device system's
/// memory (CUDA) without a copy to the host: `NcclCommunicator` (dist/nccl.hpp). The trainer sums
/// its gradients through it when its communicator has it, and through a host copy otherwise.
class DeviceSums {
 public:
  virtual ~DeviceSums() = default;
  /// values[i] = the sum over all ranks of their values[i]; `values` in device memory.
  virtual void all_reduce_sum_device(float* values, std::size_t n) = 0;
  virtual void all_reduce_sum_device(double* values, std::size_t n) = 0;
};

/// One process: rank 0 of 1.
class SingleProcess final : public Communicator {
 public:
  int rank() const noexcept override { return 0; }
  int size() const noexcept override { return 1; }
  void all_reduce_sum(double*, std::size_t) override {}
  void all_reduce_sum(float*, std::size_t) override {}
  void broadcast(void*, std::size_t, int root) override {
    SSAH_CHECK_AS(InvalidArgument, root == 0, "broadcast: root ", root, " of 1 rank");
  }
  std::vector<std::vector<unsigned char>> all_gather(const void* data, std::size_t bytes) override {
    const auto* p = static_cast<const unsigned char*>(data);
    return {std::vector<unsigned char>(p, p + bytes)};
  }
};

/// The rows [first, last) of `n` that rank `rank` of `size` holds: contiguous, in rank order, the
/// first n % size ranks one row more than the others.
struct Shard {
  std::size_t first = 0, last = 0;
  std::size_t size() const noexcept { return last - first; }
};

inline Shard shard_of(std::size_t n, int rank, int size) {
  SSAH_CHECK_AS(InvalidArgument, size > 0 && rank >= 0 && rank < size, "shard_of: rank ", rank, " of ", size);
  const auto r = static_cast<std::size_t>(rank), p = static_cast<std::size_t>(size);
  const std::size_t base = n / p, extra = n % p;
  const std::size_t first = r * base + (r < extra ? r : extra);
  return {first, first + base + (r < extra ? 1 : 0)};
}

}  // namespace ssah::dist
