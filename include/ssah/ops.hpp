#pragma once
/// \file
/// Every differentiable tensor op (each with its backward pass).

#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/linalg.hpp"
