#pragma once
/// \file
/// Scalar math for kernels, overloaded on float and double.
///
/// Unqualified `exp(x)` inside ssah resolves to whatever ssah op of that name is in scope, and on
/// the host a float argument silently goes through the double C function. These wrappers call the
/// C functions of the right precision by name (`::expf` / `::exp`), which exist both on the host
/// and in CUDA device code, so float kernels compute in float everywhere.

#include <math.h>  // NOLINT(modernize-deprecated-headers): the global C functions are what CUDA provides

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

/// 1 / (1 + e^-x) without overflow for large |x|.
template <class T>
SSAH_HOST_DEVICE inline T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + exp(-x));
  const T e = exp(x);
  return e / (T(1) + e);
}

/// log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for every finite x.
template <class T>
SSAH_HOST_DEVICE inline T softplus(T x) {
  return (x > T(0) ? x : T(0)) + log1p(exp(-abs(x)));
}

}  // namespace ssah::detail::math
