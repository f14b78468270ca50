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

/// Calls f(i) for i in [0, count) on the device system, or on the calling thread of a host system
/// when the work covers fewer than kSerialGrain elements.
template <class F>
void launch(std::size_t count, std::size_t elements, F f) {
  if (count == 0) return;
#if !SSAH_DEVICE_CUDA
  if (elements < kSerialGrain) {
    for (std::size_t i = 0; i < count; ++i) f(i);
    return;
  }
#endif
  (void)elements;
  thrust::for_each_n(thrust::device, thrust::counting_iterator<std::size_t>(0), count, f);
}

/// Calls f(i) for i in [0, n) on the device system. f must be SSAH_HOST_DEVICE and capture
/// raw device pointers by value.
template <class F>
void parallel_for(std::size_t n, F f) {
  launch(n, n, f);
}

/// Indices per call of a run functor (parallel_for_runs): on the host a contiguous run whose loop
/// the compiler can vectorise; one index per CUDA thread.
inline constexpr std::size_t kVectorRun = SSAH_DEVICE_CUDA ? 1 : 1024;

/// Number of runs of kVectorRun that cover [0, n).
constexpr std::size_t vector_runs(std::size_t n) { return (n + kVectorRun - 1) / kVectorRun; }

/// Calls f(begin, end) over the consecutive runs of kVectorRun indices that cover [0, n), on the
/// device system. For hot element-wise kernels: f loops over [begin, end) with its captures copied
/// to locals first (so that stores through its pointers cannot alias them), and the loop vectorises.
template <class F>
void parallel_for_runs(std::size_t n, F f) {
  launch(vector_runs(n), n, [=] SSAH_HOST_DEVICE(std::size_t run) {
    const std::size_t begin = run * kVectorRun;
    f(begin, begin + kVectorRun < n ? begin + kVectorRun : n);
  });
}

}  // namespace ssah::detail
