#pragma once
/// \file
/// The one way ssah launches element-wise work: a functor over an index range on the Thrust
/// device system (a CUDA kernel under nvcc, an OpenMP loop on OMP, a plain loop on CPP).

#include <cstddef>

#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include "ssah/config.hpp"

namespace ssah::detail {

/// On the host systems, ranges shorter than this run on the calling thread: for them an OpenMP
/// fork/join costs more than the work, and on shared cores each join can wait a whole scheduler
/// slice for a descheduled worker (a training step launches many such small kernels). PyTorch's
/// CPU grain size is the same 32768.
inline constexpr std::size_t kSerialGrain = 32768;

/// Calls f(i) for i in [0, n) on the device system. f must be SSAH_HOST_DEVICE and capture
/// raw device pointers by value.
template <class F>
void parallel_for(std::size_t n, F f) {
  if (n == 0) return;
#if !SSAH_DEVICE_CUDA
  if (n < kSerialGrain) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
#endif
  thrust::for_each_n(thrust::device, thrust::counting_iterator<std::size_t>(0), n, f);
}

}  // namespace ssah::detail
