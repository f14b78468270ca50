#pragma once
// The interface between the two translation units: plain C++ and ssah's host-only headers, so a
// file compiled by the host compiler can include it.
#include <string>
#include <vector>

#include <ssah/hashing/codes.hpp>
#include <ssah/shape.hpp>

namespace consumer {

/// Number of CUDA devices (0 when there is none or no driver).
int cuda_device_count();
/// ssah::device_system_name() as compiled in the CUDA translation unit.
std::string device_system();
/// shape.size() and shape.str() computed in the CUDA translation unit.
std::size_t shape_size(const ssah::Shape& shape);
std::string shape_str(const ssah::Shape& shape);
/// PackedCodes<16>::from_values(values) built in the CUDA translation unit (host code there too).
ssah::PackedCodes<16> pack_codes(const std::vector<float>& values);
/// Asks ssah (in the CUDA translation unit) for a tensor of shape [2, 2] from 3 values: throws ssah::ShapeError.
void provoke_shape_error();
/// Sum over rows of tanh(x w^T) and its gradient with respect to w, on the GPU; x is [n, in], w [out, in].
std::vector<double> tanh_layer_weight_grad(const std::vector<double>& x, const std::vector<double>& w, std::size_t n,
                                           std::size_t in, std::size_t out);

}  // namespace consumer
