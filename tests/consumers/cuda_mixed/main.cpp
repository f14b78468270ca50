// The host translation unit, compiled by the host compiler (not nvcc). Usage:
//   consumer host     checks that need no GPU (types and exceptions across the two translation units)
//   consumer device   the GPU computation; exits 77 (CTest: skipped) without a CUDA device
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <ssah/error.hpp>
#include <ssah/hashing/codes.hpp>
#include <ssah/shape.hpp>

#include "device_part.hpp"

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

void host_checks() {
  expect(consumer::device_system() == "cuda", "the .cu translation unit runs on ssah's cuda device system");
  const ssah::Shape shape{2, 3, 4, 5};
  expect(consumer::shape_size(shape) == shape.size() && shape.size() == 120,
         "ssah::Shape made here has the same size in the .cu");
  expect(consumer::shape_str(shape) == shape.str(), "ssah::Shape prints the same in both");
  std::vector<float> values(3 * 16);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = (i * 7 % 5 < 2) ? -0.5f : 0.25f * float(i % 3);
  const ssah::PackedCodes<16> here = ssah::PackedCodes<16>::from_values(values);
  const ssah::PackedCodes<16> there = consumer::pack_codes(values);
  expect(here.size() == 3 && there.size() == 3 && here.to_signs() == there.to_signs(),
         "ssah::PackedCodes built in the .cu equal those built here (hashing/codes.hpp in both)");
  bool caught = false;
  try {
    consumer::provoke_shape_error();
  } catch (const ssah::ShapeError& e) {
    caught = std::strstr(e.what(), "[2, 2]") != nullptr || std::strstr(e.what(), "3 values") != nullptr;
    std::printf("      caught: %s\n", e.what());
  } catch (...) {
  }
  expect(caught, "ssah::ShapeError thrown in the .cu is caught as ssah::ShapeError here");
}

int device_checks() {
  if (consumer::cuda_device_count() == 0) {
    std::printf("no CUDA device: the GPU computation is skipped (linking was checked)\n");
    return 77;
  }
  const std::size_t n = 3, in = 4, out = 2;
  std::vector<double> x(n * in), w(out * in);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1 * double(i) - 0.5;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.05 * double(i) - 0.2;
  const std::vector<double> g = consumer::tanh_layer_weight_grad(x, w, n, in, out);
  double max_err = 0;
  for (std::size_t o = 0; o < out; ++o)
    for (std::size_t i = 0; i < in; ++i) {
      double ref = 0;
      for (std::size_t r = 0; r < n; ++r) {
        double z = 0;
        for (std::size_t k = 0; k < in; ++k) z += x[r * in + k] * w[o * in + k];
        ref += (1 - std::tanh(z) * std::tanh(z)) * x[r * in + i];
      }
      max_err = std::fmax(max_err, std::fabs(g.size() == out * in ? g[o * in + i] - ref : 1.0));
    }
  std::printf("      max |dW - reference| = %.3g\n", max_err);
  expect(max_err < 1e-12, "gradient of a tanh layer computed on the GPU matches the host reference (1e-12)");
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "host";
  if (what == "host") {
    host_checks();
    return failures ? 1 : 0;
  }
  if (what == "device") return device_checks();
  std::printf("usage: consumer host|device\n");
  return 2;
}
