#pragma once
/// \file
/// Every differentiable tensor op (each with its backward pass).

#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/linalg.hpp"
#include "ssah/ops/reduce.hpp"
#include "ssah/ops/loss.hpp"
#include "ssah/ops/shape.hpp"
#include "ssah/ops/dropout.hpp"
#include "ssah/ops/lrn.hpp"
#include "ssah/ops/pool.hpp"
#include "ssah/ops/resize.hpp"
#include "ssah/ops/conv.hpp"
#include "ssah/ops/pairwise.hpp"
