#pragma once
/// \file
/// Compile-time configuration: the Thrust device system and the host/device annotation macro.

#include <thrust/version.h>
#include <thrust/detail/config.h>

#define SSAH_VERSION_MAJOR 0
#define SSAH_VERSION_MINOR 1
#define SSAH_VERSION_PATCH 0

/// Functors that run inside Thrust kernels are marked with this macro. CCCL 3 does not define
/// `__host__`/`__device__` for host compilers, so we keep our own (as CUTLASS and Eigen do).
#if defined(__CUDACC__) || defined(__HIPCC__)
#define SSAH_HOST_DEVICE __host__ __device__
#else
#define SSAH_HOST_DEVICE
#endif

/// Put before a host loop that sums into `var` to let the compiler vectorise it (reordering the
/// sum, so the result depends on the vector width: the same build gives the same bits). GCC only:
/// Clang reads the pragma as a demand and warns (-Wpass-failed) wherever it cannot vectorise, e.g.
/// under sanitizers, so there the loop stays as written. Empty in device code and without OpenMP.
#define SSAH_PRAGMA(x) _Pragma(#x)
#if defined(_OPENMP) && !defined(__CUDA_ARCH__) && defined(__GNUC__) && !defined(__clang__)
#define SSAH_SIMD_SUM(var) SSAH_PRAGMA(omp simd reduction(+ : var))
#else
#define SSAH_SIMD_SUM(var)
#endif

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
#define SSAH_DEVICE_CUDA 1
#if !defined(__CUDACC__)
#error "ssah's CUDA device system needs its kernels compiled by nvcc (build .cpp files as CUDA)"
#endif
#else
#define SSAH_DEVICE_CUDA 0
#endif

namespace ssah {

/// Name of the device system this translation unit was compiled for ("cuda", "omp", "cpp", "tbb").
constexpr const char* device_system_name() noexcept {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
  return "cuda";
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
  return "omp";
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_TBB
  return "tbb";
#else
  return "cpp";
#endif
}

}  // namespace ssah
