#pragma once
/// \file
/// Host gemm through an external BLAS's Fortran `sgemm_` / `dgemm_` (OpenBLAS, BLIS, MKL, ...), linked
/// at configure time by the CMake option SSAH_BLAS (which defines SSAH_HOST_BLAS), and whether to use
/// it rather than Eigen, decided once per process (`host_blas_preferred`). Why a BLAS: on a CPU it
/// knows, OpenBLAS runs large products 1.2-1.6x faster than Eigen (docs/benchmarks.md), and training
/// is mostly such products. Why a decision at run time: an OpenBLAS that does not recognise the CPU
/// falls back to an old generic core (Debian's 0.3.21 on Sapphire Rapids: "Prescott", SSE3), 4-5x
/// slower than Eigen built for the CPU, and slower than Eigen built without -march flags too. The Fortran symbols are
/// declared here, as Eigen does, so that no vendor's cblas.h is needed.

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "ssah/error.hpp"

extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha,
            const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
            const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc);
#if defined(__GNUC__) || defined(__clang__)
// OpenBLAS's name for the kernels it chose; absent (null) in other BLAS libraries.
__attribute__((weak)) char* openblas_get_corename(void);
#endif
}

namespace ssah::detail {

inline int blas_int(std::size_t v, const char* what) {
  SSAH_CHECK(v <= static_cast<std::size_t>(INT_MAX), "gemm: ", what, " = ", v,
             " exceeds the BLAS's 32-bit integer range (build without SSAH_BLAS for Eigen's products)");
  // BLAS rejects a leading dimension of 0 even when nothing is read through it.
  return std::max(static_cast<int>(v), 1);
}

/// The OpenBLAS core in use ("Haswell", "SkylakeX", ...), or "" when the BLAS is not OpenBLAS.
inline std::string openblas_core() {
#if defined(__GNUC__) || defined(__clang__)
  if (openblas_get_corename != nullptr) {
    const char* name = openblas_get_corename();
    return name != nullptr ? std::string(name) : std::string();
  }
#endif
  return {};
}

/// Whether an OpenBLAS core name is one of OpenBLAS's x86 cores with AVX2 (or AVX-512) kernels.
inline bool openblas_core_has_avx2(std::string core) {
  for (char& c : core) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* good : {"haswell", "skylakex", "cooperlake", "sapphirerapids", "zen"})
    if (core == good) return true;
  return false;
}

/// Whether this CPU has AVX2 (x86-64 with GCC or Clang; false elsewhere).
inline bool cpu_has_avx2() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

/// Whether gemm goes through the BLAS (else Eigen), from `forced` (SSAH_GEMM: "blas" or "eigen";
/// null or empty when unset), OpenBLAS's core ("" for another BLAS) and whether the CPU has AVX2:
/// the BLAS, unless it is an OpenBLAS that runs a core without AVX2 kernels on a CPU with AVX2 (a
/// CPU it did not recognise: its generic fallback was slower than Eigen's products measured here,
/// with or without -march flags). Throws InvalidArgument for another `forced` value.
inline bool choose_host_blas(const char* forced, const std::string& core, bool avx2_cpu) {
  if (forced != nullptr && *forced != '\0') {
    const std::string f = forced;
    SSAH_CHECK_AS(InvalidArgument, f == "blas" || f == "eigen", "SSAH_GEMM='", f, "': expected blas or eigen");
    return f == "blas";
  }
  return !(avx2_cpu && !core.empty() && !openblas_core_has_avx2(core));
}

/// choose_host_blas for this process (SSAH_GEMM, the OpenBLAS linked in, this CPU), decided once, so
/// that every product of a run takes the same path.
inline bool host_blas_preferred() {
  static const bool preferred = choose_host_blas(std::getenv("SSAH_GEMM"), openblas_core(), cpu_has_avx2());
  return preferred;
}

/// "blas" (with OpenBLAS's core when known) or "eigen", as host_blas_preferred decides.
inline std::string host_gemm_name() {
  if (!host_blas_preferred()) {
    const std::string core = openblas_core();
    return core.empty() ? "eigen" : "eigen (OpenBLAS's " + core + " core is slower here)";
  }
  const std::string core = openblas_core();
  return core.empty() ? "blas" : "blas (OpenBLAS " + core + ")";
}

template <class T>
void gemm_blas(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
               std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  if (k == 0) {
    // C = beta * C without a BLAS call; beta == 0 must not read C (it may hold NaN).
    for (std::size_t i = 0; i < m; ++i) {
      T* row = c + i * ldc;
      for (std::size_t j = 0; j < n; ++j) row[j] = beta == T(0) ? T(0) : beta * row[j];
    }
    return;
  }
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the same memory, operands swapped.
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  const int im = blas_int(m, "m"), in = blas_int(n, "n"), ik = blas_int(k, "k");
  const int ilda = blas_int(lda, "lda"), ildb = blas_int(ldb, "ldb"), ildc = blas_int(ldc, "ldc");
  if constexpr (std::is_same_v<T, float>) {
    sgemm_(&tb, &ta, &in, &im, &ik, &alpha, b, &ildb, a, &ilda, &beta, c, &ildc);
  } else {
    dgemm_(&tb, &ta, &in, &im, &ik, &alpha, b, &ildb, a, &ilda, &beta, c, &ildc);
  }
}

}  // namespace ssah::detail
