#pragma once
/// \file
/// The umbrella header: everything a user of ssah needs.

#include "ssah/config.hpp"
#include "ssah/error.hpp"
#include "ssah/tensor.hpp"
#include "ssah/gemm.hpp"
#include "ssah/autodiff.hpp"
#include "ssah/parameters.hpp"
#include "ssah/ops.hpp"
