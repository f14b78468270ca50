#pragma once
/// \file
/// Layers and their training: every op (ops.hpp), `ParameterSet` (one flat buffer per network),
/// `Linear`, the initialisers and named initialisation schemes, and the optimizers (Adam, SGD).

#include "ssah/core.hpp"
#include "ssah/init.hpp"
#include "ssah/nn/linear.hpp"
#include "ssah/ops.hpp"
#include "ssah/optim.hpp"
#include "ssah/parameters.hpp"
