// The gemm entry point's contract, whichever backend the build uses (Eigen, or a BLAS with
// -DSSAH_BLAS=ON; CI runs this file under both): C = alpha op(A) op(B) + beta C on row-major
// operands with row strides wider than the rows, against a plain triple loop in double; beta == 0
// never reads C (NaN there must not leak); k == 0 scales C by beta; the Tensor overload's shape checks.

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "helpers.hpp"
#include "ssah/gemm.hpp"

using namespace ssah;

namespace {

struct Case {
  bool ta, tb;
  std::size_t m, n, k;
  double alpha, beta;
};

enum class Backend { entry_point, eigen, blas };

// Runs one case through ssah::gemm (or one host backend directly) on device memory with padded
// strides; returns the largest difference from the double triple loop, relative to the largest
// |value| of the result.
template <class T>
double run_case(const Case& c, std::mt19937_64& gen, bool nan_in_c, Backend backend = Backend::entry_point) {
  const std::size_t pad = 3;
  const std::size_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
  const std::size_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
  const std::size_t lda = a_cols + pad, ldb = b_cols + pad, ldc = c.n + pad;
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> a(std::max<std::size_t>(a_rows * lda, 1)), b(std::max<std::size_t>(b_rows * ldb, 1)), cm(c.m * ldc);
  for (T& x : a) x = T(u(gen));
  for (T& x : b) x = T(u(gen));
  for (T& x : cm) x = nan_in_c ? std::numeric_limits<T>::quiet_NaN() : T(u(gen));
  std::vector<double> want(c.m * c.n);
  for (std::size_t i = 0; i < c.m; ++i)
    for (std::size_t j = 0; j < c.n; ++j) {
      double s = 0;
      for (std::size_t p = 0; p < c.k; ++p)
        s += double(c.ta ? a[p * lda + i] : a[i * lda + p]) * double(c.tb ? b[j * ldb + p] : b[p * ldb + j]);
      want[i * c.n + j] = c.alpha * s + (c.beta == 0 ? 0.0 : c.beta * double(cm[i * ldc + j]));
    }
  Tensor<T> da = Tensor<T>::from_host(Shape{a.size()}, a), db = Tensor<T>::from_host(Shape{b.size()}, b),
            dc = Tensor<T>::from_host(Shape{cm.size()}, cm);
  if (backend == Backend::entry_point) {
    gemm(c.ta ? Trans::Yes : Trans::No, c.tb ? Trans::Yes : Trans::No, c.m, c.n, c.k, T(c.alpha), da.data(), lda,
         db.data(), ldb, T(c.beta), dc.data(), ldc);
  } else {
#if !SSAH_DEVICE_CUDA
    if (backend == Backend::eigen)
      detail::gemm_eigen(c.ta, c.tb, c.m, c.n, c.k, T(c.alpha), da.data(), lda, db.data(), ldb, T(c.beta), dc.data(),
                         ldc);
#if defined(SSAH_HOST_BLAS) && SSAH_HOST_BLAS
    if (backend == Backend::blas)
      detail::gemm_blas(c.ta, c.tb, c.m, c.n, c.k, T(c.alpha), da.data(), lda, db.data(), ldb, T(c.beta), dc.data(),
                        ldc);
#endif
#endif
  }
  const std::vector<T> got = dc.to_host();
  double scale = 1e-30, err = 0;
  for (std::size_t i = 0; i < c.m; ++i)
    for (std::size_t j = 0; j < c.n; ++j) {
      const double g = double(got[i * ldc + j]);
      if (std::isnan(g)) return std::numeric_limits<double>::infinity();
      scale = std::max(scale, std::abs(want[i * c.n + j]));
      err = std::max(err, std::abs(g - want[i * c.n + j]));
    }
  // The padding between rows is never written.
  for (std::size_t i = 0; i < c.m; ++i)
    for (std::size_t j = c.n; j < ldc; ++j)
      if (!(got[i * ldc + j] == cm[i * ldc + j]) && !(nan_in_c && std::isnan(double(got[i * ldc + j]))))
        return std::numeric_limits<double>::infinity();
  return err / scale;
}

}  // namespace

TEST_CASE_TEMPLATE("gemm: every transpose combination, strided rows, alpha and beta, against a triple loop", T, float,
                   double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  std::mt19937_64 gen(7);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Case& shape :
           {Case{ta, tb, 1, 1, 1, 1, 0}, Case{ta, tb, 5, 3, 7, 1, 0}, Case{ta, tb, 37, 70, 129, 0.5, 1},
            Case{ta, tb, 130, 33, 260, -2, 0.25}, Case{ta, tb, 3, 300, 64, 1, -1}}) {
        Case c = shape;
        c.ta = ta;
        c.tb = tb;
        CAPTURE(ta);
        CAPTURE(tb);
        CAPTURE(c.m);
        CAPTURE(c.n);
        CAPTURE(c.k);
        CHECK(run_case<T>(c, gen, false) < tol);
      }
}

TEST_CASE_TEMPLATE("gemm: beta = 0 never reads C, and k = 0 gives beta C", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  std::mt19937_64 gen(8);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) CHECK(run_case<T>(Case{ta, tb, 17, 9, 33, 1, 0}, gen, /*nan_in_c=*/true) < tol);
  CHECK(run_case<T>(Case{false, false, 6, 4, 0, 1, 0.5}, gen, false) == 0.0);  // k = 0: C = 0.5 C exactly
  CHECK(run_case<T>(Case{false, false, 6, 4, 0, 1, 0}, gen, true) == 0.0);     // k = 0, beta = 0: zeros, NaN gone
}

#if !SSAH_DEVICE_CUDA
// A build with a BLAS has both host backends and picks one per process (detail::host_blas_preferred):
// each must meet the contract, whichever this process runs.
TEST_CASE_TEMPLATE("gemm: each host backend compiled in meets the contract", T, float, double) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  std::mt19937_64 gen(9);
  std::vector<Backend> backends = {Backend::eigen};
#if defined(SSAH_HOST_BLAS) && SSAH_HOST_BLAS
  backends.push_back(Backend::blas);
  MESSAGE("this process's gemm: " << gemm_backend_name());
#endif
  for (Backend backend : backends)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        CAPTURE(static_cast<int>(backend));
        CHECK(run_case<T>(Case{ta, tb, 37, 70, 129, 0.5, 1}, gen, false, backend) < tol);
        CHECK(run_case<T>(Case{ta, tb, 17, 9, 33, 1, 0}, gen, /*nan_in_c=*/true, backend) < tol);
      }
}
#endif

#if defined(SSAH_HOST_BLAS) && SSAH_HOST_BLAS && !SSAH_DEVICE_CUDA
TEST_CASE(
    "gemm: a linked OpenBLAS that runs a core without AVX2 on an AVX2 CPU gives way to Eigen, unless SSAH_GEMM says") {
  CHECK(detail::openblas_core_has_avx2("Haswell"));
  CHECK(detail::openblas_core_has_avx2("SKYLAKEX"));
  CHECK(detail::openblas_core_has_avx2("Zen"));
  CHECK_FALSE(detail::openblas_core_has_avx2("Prescott"));
  CHECK_FALSE(detail::openblas_core_has_avx2("Nehalem"));
  // Sapphire Rapids under Debian's OpenBLAS 0.3.21 reports Prescott: Eigen on a CPU with AVX2.
  CHECK_FALSE(detail::choose_host_blas(nullptr, "Prescott", true));
  CHECK(detail::choose_host_blas(nullptr, "Prescott", false));
  CHECK(detail::choose_host_blas(nullptr, "SkylakeX", true));
  CHECK(detail::choose_host_blas("", "", true));  // another BLAS (no core name): trusted
  CHECK(detail::choose_host_blas("blas", "Prescott", true));
  CHECK_FALSE(detail::choose_host_blas("eigen", "SkylakeX", false));
  CHECK_THROWS_AS(detail::choose_host_blas("mkl", "", true), InvalidArgument);
  MESSAGE("OpenBLAS core: '" << detail::openblas_core() << "', this process's gemm: " << gemm_backend_name());
}
#endif

TEST_CASE("gemm on tensors checks that the shapes fit") {
  Tensor<float> a(Shape{4, 3}), b(Shape{5, 3}), c(Shape{4, 5}), wrong(Shape{4, 4});
  CHECK_NOTHROW(gemm(1.0f, a, Trans::No, b, Trans::Yes, 0.0f, c));
  CHECK_THROWS_AS(gemm(1.0f, a, Trans::No, b, Trans::No, 0.0f, c), ShapeError);
  CHECK_THROWS_AS(gemm(1.0f, a, Trans::No, b, Trans::Yes, 0.0f, wrong), ShapeError);
}
