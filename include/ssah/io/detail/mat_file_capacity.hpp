#pragma once
/// \file
/// How much a `.mat` file of a given size can hold: the bound on data and on matio's records
/// per array that both the MAT v5 validator and `MatFile::read` apply before matio allocates.
/// Separate because it needs neither matio nor zlib.

#include <cstddef>
#include <limits>

namespace ssah {
namespace io {
namespace detail {

/// The most data, in bytes, that a file of `file_size` bytes can hold: zlib (MAT v5's and
/// MATLAB's HDF5 compression) expands at most 1032:1, plus 64 KiB for headers and small arrays.
/// Sizes declared beyond this cannot be in the file (HDF5 would make them up from a fill value).
inline std::size_t mat_plausible_bytes(std::size_t file_size) noexcept {
  constexpr std::size_t ratio = 1032, slack = std::size_t(64) << 10;
  if (file_size > (std::numeric_limits<std::size_t>::max() - slack) / ratio)
    return std::numeric_limits<std::size_t>::max();
  return file_size * ratio + slack;
}

/// What matio allocates for each array it describes (its matvar_t and internal record, at least
/// about 100 bytes in matio 1.5), counted against what the file can hold.
constexpr std::size_t mat_array_cost = 128;

}  // namespace detail
}  // namespace io
}  // namespace ssah
