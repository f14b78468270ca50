// A small user program: one tanh layer, forward and backward, checked against a hand-rolled
// host computation. Shared by the find_package and add_subdirectory consumers.
#include <cmath>
#include <cstdio>
#include <vector>

#include <ssah/ssah.hpp>

static_assert(SSAH_VERSION_MAJOR >= 0, "ssah/config.hpp provides the version macros");

int main() {
  using T = double;
  const std::vector<T> x = {1, 2, 3, 4, 5, 6};              // [2, 3]
  const std::vector<T> w = {0.1, 0.2, 0.3, -0.1, 0, 0.1};  // [2 out, 3 in]
  const std::vector<T> b = {0.5, -0.5};
  ssah::Var<T> vx(ssah::Tensor<T>::from_host(ssah::Shape{2, 3}, x));
  ssah::Var<T> vw(ssah::Tensor<T>::from_host(ssah::Shape{2, 3}, w), true);
  ssah::Var<T> vb(ssah::Tensor<T>::from_host(ssah::Shape{2}, b), true);
  ssah::Var<T> y = ssah::tanh(ssah::add_bias(ssah::matmul(vx, vw, ssah::Trans::No, ssah::Trans::Yes), vb));
  y.backward(ssah::Tensor<T>::full(y.shape(), T(1)));

  // Reference: y = tanh(x w^T + b); with seed 1, dW[o][i] = sum_n (1 - y[n][o]^2) x[n][i].
  std::vector<T> y_ref(4), gw_ref(6, 0), gb_ref(2, 0);
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 2; ++o) {
      T z = b[o];
      for (int i = 0; i < 3; ++i) z += x[n * 3 + i] * w[o * 3 + i];
      y_ref[n * 2 + o] = std::tanh(z);
      const T d = 1 - y_ref[n * 2 + o] * y_ref[n * 2 + o];
      gb_ref[o] += d;
      for (int i = 0; i < 3; ++i) gw_ref[o * 3 + i] += d * x[n * 3 + i];
    }
  int failures = 0;
  auto expect_close = [&failures](const char* what, const std::vector<T>& got, const std::vector<T>& want) {
    for (std::size_t i = 0; i < want.size(); ++i)
      if (got.size() != want.size() || std::fabs(got[i] - want[i]) > 1e-12) {
        std::printf("FAIL %s[%zu]: got %.15g, want %.15g\n", what, i, i < got.size() ? got[i] : NAN, want[i]);
        ++failures;
        return;
      }
  };
  expect_close("y", y.value().to_host(), y_ref);
  expect_close("dW", vw.grad().to_host(), gw_ref);
  expect_close("db", vb.grad().to_host(), gb_ref);

  bool threw = false;
  try {
    ssah::matmul(vx, vw);  // [2, 3] x [2, 3]: inner dimensions differ
  } catch (const ssah::ShapeError& e) {
    threw = true;
    std::printf("expected error: %s\n", e.what());
  }
  if (!threw) {
    std::printf("FAIL: matmul of [2, 3] by [2, 3] did not throw ssah::ShapeError\n");
    ++failures;
  }
  std::printf("ssah %d.%d.%d consumer on the %s device system: %s\n", SSAH_VERSION_MAJOR, SSAH_VERSION_MINOR,
              SSAH_VERSION_PATCH, ssah::device_system_name(), failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
