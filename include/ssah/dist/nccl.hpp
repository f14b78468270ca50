#pragma once
/// \file
/// `Communicator` for ranks that each drive one GPU (the CUDA device system): sums of device memory
/// (the trainer's gradients) go GPU to GPU through NCCL, without a copy to the host; host bytes
/// (broadcast, all-gather, sums of host values) go through the MPI communicator it is built on, which
/// also hands NCCL's unique id to every rank. Configure with `-DSSAH_DEVICE_SYSTEM=CUDA -DSSAH_MPI=ON
/// -DSSAH_NCCL=ON` (NCCL's header and library from the CUDA toolkit's directory, or NCCL_ROOT).
///
/// \code
///   ssah::dist::MpiSession session(&argc, &argv);
///   ssah::dist::MpiCommunicator world;
///   ssah::dist::NcclCommunicator gpus(world);    // GPU rank % visible GPUs; cudaSetDevice'd
///   options.communicator = &gpus;                // data-parallel training, gradients through NCCL
/// \endcode

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstddef>
#include <vector>

#include "ssah/dist/communicator.hpp"
#include "ssah/dist/mpi.hpp"
#include "ssah/error.hpp"

namespace ssah::dist {

class NcclCommunicator final : public Communicator, public DeviceSums {
 public:
  /// One GPU a rank: `device`, or rank % (visible GPUs) when negative, made current here.
  explicit NcclCommunicator(MpiCommunicator& host, int device = -1) : host_(host) {
    int devices = 0;
    check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
    SSAH_CHECK_AS(InvalidArgument, devices > 0, "NcclCommunicator: no GPU visible to rank ", host.rank());
    device_ = device >= 0 ? device : host.rank() % devices;
    check(cudaSetDevice(device_), "cudaSetDevice");
    ncclUniqueId id{};
    if (host.rank() == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host.broadcast(&id, sizeof id, 0);
    check(ncclCommInitRank(&comm_, host.size(), id, host.rank()), "ncclCommInitRank");
  }
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const noexcept override { return host_.rank(); }
  int size() const noexcept override { return host_.size(); }
  int device() const noexcept { return device_; }
  void all_reduce_sum(double* values, std::size_t n) override { host_.all_reduce_sum(values, n); }
  void all_reduce_sum(float* values, std::size_t n) override { host_.all_reduce_sum(values, n); }
  void broadcast(void* data, std::size_t bytes, int root) override { host_.broadcast(data, bytes, root); }
  std::vector<std::vector<unsigned char>> all_gather(const void* data, std::size_t bytes) override {
    return host_.all_gather(data, bytes);
  }
  /// In place, on the legacy default stream (Thrust's), finished when this returns.
  void all_reduce_sum_device(float* values, std::size_t n) override { device_sum(values, n, ncclFloat); }
  void all_reduce_sum_device(double* values, std::size_t n) override { device_sum(values, n, ncclDouble); }

 private:
  template <class T>
  void device_sum(T* values, std::size_t n, ncclDataType_t type) {
    if (n == 0) return;
    check(ncclAllReduce(values, values, n, type, ncclSum, comm_, cudaStreamLegacy), "ncclAllReduce");
    check(cudaStreamSynchronize(cudaStreamLegacy), "cudaStreamSynchronize");
  }
  static void check(ncclResult_t r, const char* what) {
    if (r != ncclSuccess) detail::fail<Error>("NcclCommunicator: ", what, ": ", ncclGetErrorString(r));
  }
  static void check(cudaError_t r, const char* what) {
    if (r != cudaSuccess) detail::fail<Error>("NcclCommunicator: ", what, ": ", cudaGetErrorString(r));
  }

  MpiCommunicator& host_;
  int device_ = 0;
  ncclComm_t comm_ = nullptr;
};

}  // namespace ssah::dist
