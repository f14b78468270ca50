// The CUDA translation unit: the whole of ssah on the CUDA device system.
#include "device_part.hpp"

#include <cuda_runtime.h>

#include <ssah/ssah.hpp>

static_assert(SSAH_DEVICE_CUDA == 1, "device_part.cu is compiled for ssah's CUDA device system");

namespace consumer {

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device / no driver" error
    return 0;
  }
  return n;
}

std::string device_system() { return ssah::device_system_name(); }

std::size_t shape_size(const ssah::Shape& shape) { return shape.size(); }
std::string shape_str(const ssah::Shape& shape) { return shape.str(); }

ssah::PackedCodes<16> pack_codes(const std::vector<float>& values) {
  return ssah::PackedCodes<16>::from_values(values);
}

void provoke_shape_error() {
  const std::vector<float> three = {1.f, 2.f, 3.f};
  auto t = ssah::Tensor<float>::from_host(ssah::Shape{2, 2}, three);
  (void)t;
}

std::vector<double> tanh_layer_weight_grad(const std::vector<double>& x, const std::vector<double>& w, std::size_t n,
                                           std::size_t in, std::size_t out) {
  ssah::Var<double> vx(ssah::Tensor<double>::from_host(ssah::Shape{n, in}, x));
  ssah::Var<double> vw(ssah::Tensor<double>::from_host(ssah::Shape{out, in}, w), true);
  ssah::Var<double> y = ssah::tanh(ssah::matmul(vx, vw, ssah::Trans::No, ssah::Trans::Yes));
  y.backward(ssah::Tensor<double>::full(y.shape(), 1.0));
  return vw.grad().to_host();
}

}  // namespace consumer
