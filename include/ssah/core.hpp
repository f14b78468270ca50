#pragma once
/// \file
/// The core: device-system configuration, errors, shapes, seeded random numbers, `Tensor<T>` on
/// the device system, the one gemm, tensor helpers and reverse-mode autodiff (`Var`, the tape).
/// Everything else in ssah is built on these.

#include "ssah/autodiff.hpp"
#include "ssah/config.hpp"
#include "ssah/error.hpp"
#include "ssah/gemm.hpp"
#include "ssah/random.hpp"
#include "ssah/shape.hpp"
#include "ssah/tensor.hpp"
#include "ssah/tensor_ops.hpp"
