#pragma once
/// \file
/// Scalar math for kernels, overloaded on float and double.
///
/// Unqualified `exp(x)` inside ssah resolves to whatever ssah op of that name is in scope, and on
/// the host a float argument silently goes through the double C function. These wrappers call the
/// C functions of the right precision by name (`::expf` / `::exp`), which exist both on the host
/// and in CUDA device code, so float kernels compute in float everywhere.

#include <math.h>  // NOLINT(modernize-deprecated-headers): the global C functions are what CUDA provides
#include <string.h>  // NOLINT(modernize-deprecated-headers): memcpy, as in device code

#include <cstdint>

#include "ssah/config.hpp"

namespace ssah::detail::math {

SSAH_HOST_DEVICE inline float exp(float x) { return ::expf(x); }
SSAH_HOST_DEVICE inline double exp(double x) { return ::exp(x); }
SSAH_HOST_DEVICE inline float log(float x) { return ::logf(x); }
SSAH_HOST_DEVICE inline double log(double x) { return ::log(x); }
SSAH_HOST_DEVICE inline float log1p(float x) { return ::log1pf(x); }
SSAH_HOST_DEVICE inline double log1p(double x) { return ::log1p(x); }
SSAH_HOST_DEVICE inline float sqrt(float x) { return ::sqrtf(x); }
SSAH_HOST_DEVICE inline double sqrt(double x) { return ::sqrt(x); }
SSAH_HOST_DEVICE inline float abs(float x) { return ::fabsf(x); }
SSAH_HOST_DEVICE inline double abs(double x) { return ::fabs(x); }
SSAH_HOST_DEVICE inline float tanh(float x) { return ::tanhf(x); }
SSAH_HOST_DEVICE inline double tanh(double x) { return ::tanh(x); }
SSAH_HOST_DEVICE inline float fma(float a, float b, float c) { return ::fmaf(a, b, c); }
SSAH_HOST_DEVICE inline double fma(double a, double b, double c) { return ::fma(a, b, c); }
SSAH_HOST_DEVICE inline double cos(double x) { return ::cos(x); }
SSAH_HOST_DEVICE inline double sin(double x) { return ::sin(x); }

// ---------------------------------------------------------------- float softplus and sigmoid
// The pairwise losses evaluate softplus and sigmoid on every one of n x batch inner products (2.6
// million per training step at MIRFLICKR sizes); through libm's scalar expf/log1pf that was about 40%
// of a LabNet step. In float they are built here from exp on (-inf, 0] and log1p on [0, 1], written
// as straight-line arithmetic (no library calls, no branches, no integer conversion of a non-finite
// value) so that the compiler vectorises the loops that call them. Accuracy: a few float ulp
// (tests/tensor/test_math.cpp compares with double libm over the whole range). double keeps libm.

SSAH_HOST_DEVICE inline float float_from_bits(std::uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/// e^x for x <= 0 in float: Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, and Cephes' expf
/// polynomial. Results below e^-87 (under 2^-125) are flushed to 0; NaN stays NaN.
SSAH_HOST_DEVICE inline float exp_nonpositive(float x) {
  const float xc = x >= -87.0f ? x : -87.0f;  // NaN takes -87 here and is restored at the end
  const float k = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln2), |k| <= 126
  const float r = (xc - k * 0.693359375f) - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float scale = float_from_bits(static_cast<std::uint32_t>(static_cast<int>(k) + 127) << 23);  // 2^k
  const float y = p * scale;
  return x >= -87.0f ? y : (x == x ? 0.0f : x);
}

/// log(1 + e) for e in [0, 1] in float: u = 1 + e = 2^j m with m in [1/sqrt2, sqrt2], log m =
/// 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172 (series to s^9: error under 1e-8), plus the
/// rounding error of 1 + e put back to first order, so that tiny e give e.
SSAH_HOST_DEVICE inline float log1p_unit(float e) {
  const float u = 1.0f + e;
  const bool halve = u > 1.41421356f;
  const float f = (halve ? u * 0.5f : u) - 1.0f;  // exact
  const float s = f / (2.0f + f);
  const float s2 = s * s;
  const float series = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9))));
  const float rounding = (e - (u - 1.0f)) / u;
  return (halve ? 0.693147180559945309f : 0.0f) + (2.0f * s * series + rounding);
}

/// 1 / (1 + e^-x) without overflow for large |x|.
SSAH_HOST_DEVICE inline float sigmoid(float x) {
  const float e = exp_nonpositive(-abs(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}
SSAH_HOST_DEVICE inline double sigmoid(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
  const double e = exp(x);
  return e / (1.0 + e);
}

/// log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for every finite x.
SSAH_HOST_DEVICE inline float softplus(float x) {
  return (x > 0.0f ? x : 0.0f) + log1p_unit(exp_nonpositive(-abs(x)));
}
SSAH_HOST_DEVICE inline double softplus(double x) { return (x > 0.0 ? x : 0.0) + log1p(exp(-abs(x))); }

/// s^-beta for s > 0. beta = 3/4 (LRN's exponent in SSAH, CNN-F and AlexNet) as 1 / (sqrt(s)
/// sqrt(sqrt(s))): correctly rounded square roots, which vectorise, instead of exp and log.
template <class T>
SSAH_HOST_DEVICE inline T pow_neg(T s, T beta) {
  if (beta == T(0.75)) {
    const T root = sqrt(s);
    return T(1) / (root * sqrt(root));
  }
  return exp(-beta * log(s));
}

}  // namespace ssah::detail::math
