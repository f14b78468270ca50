#pragma once
/// \file
/// File formats and safe writes, on host bytes (no tensors): `.npy`, safetensors, arrays read as
/// codes and labels, JSON read field by field, atomic file replacement, checksums.
///
/// Not included: `ssah/io/mat.hpp` (MATLAB files), which needs the matio library; include it
/// and link `ssah::matio` where you read `.mat` files.

#include "ssah/io/array.hpp"
#include "ssah/io/atomic_file.hpp"
#include "ssah/io/checksum.hpp"
#include "ssah/io/code_arrays.hpp"
#include "ssah/io/file.hpp"
#include "ssah/io/json_diff.hpp"
#include "ssah/io/json_error.hpp"
#include "ssah/io/npy.hpp"
#include "ssah/io/npy_map.hpp"
#include "ssah/io/safetensors.hpp"
