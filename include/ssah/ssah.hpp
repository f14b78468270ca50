#pragma once
/// \file
/// The umbrella header: everything a user of ssah needs, area by area (each area's header can be
/// included alone: core.hpp, nn.hpp, model.hpp, hashing.hpp, eval.hpp, io.hpp), plus the
/// end-to-end pipeline, named training recipes, checkpoints and the synthetic data set.
///
/// Not included: `ssah/io/mat.hpp` and `ssah/matconvnet.hpp`, which need the matio library
/// (link `ssah::matio`).

#include "ssah/checkpoint.hpp"
#include "ssah/core.hpp"
#include "ssah/data/synthetic.hpp"
#include "ssah/dist/sharded_search.hpp"
#include "ssah/eval.hpp"
#include "ssah/hashing.hpp"
#include "ssah/io.hpp"
#include "ssah/model.hpp"
#include "ssah/nn.hpp"
#include "ssah/pipeline.hpp"
#include "ssah/recipes.hpp"
