#pragma once
/// \file
/// `ssah train --mat FILE`: a whole data set (modalities and labels) from one MATLAB `.mat` file
/// (v5, or v7.3 which is HDF5), read with matio through ssah/io/mat.hpp.
///
/// The arrays come back in the form the `.npy` path reads: items on the first axis, row-major,
/// dense features [N, D] and images [N, C, H, W]; `cmd_train.cpp` then applies the same checks
/// (finite values, 0/1 labels, row counts, names) to both. This header does not include matio,
/// so that the command's other translation units build without it; when ssah was configured
/// without matio, `read_mat_input` throws an `InvalidArgument` saying so.
#include <cstddef>
#include <string>
#include <vector>

#include "ssah/io/array.hpp"

namespace ssah::cli {

/// The `--mat*` options of `ssah train`.
struct MatInputOptions {
  std::string file;                     ///< --mat FILE
  std::vector<std::string> modalities;  ///< --mat-modality NAME=VAR (repeatable)
  std::string labels;                   ///< --mat-labels VAR
  std::string layout;                   ///< --mat-layout dcmh-flickr|nus-wide|coco, or empty
  /// A modality is read in slabs of its items of at most this much data (one item at least), so
  /// that a large one is never held twice (tests make it small to read by many slabs).
  std::size_t slab_bytes = std::size_t(64) << 20;

  /// Whether any `--mat*` option was given.
  bool any() const { return !file.empty() || !modalities.empty() || !labels.empty() || !layout.empty(); }
};

/// One modality read from the file.
struct MatModality {
  std::string name;               ///< the modality's name (NAME of NAME=VAR)
  std::string variable;           ///< the variable it came from
  std::vector<std::size_t> dims;  ///< the variable's dimensions as MATLAB sees them
  std::string arrangement;        ///< how the items were found, e.g. "H x W x C x N -> [N, C, H, W]"
  io::HostArray array;            ///< [N, ...] row-major; source is "'<file>' variable <VAR>"
};

/// A data set read from one `.mat` file.
struct MatInput {
  std::string file;
  std::string version;  ///< "5" or "7.3"
  std::string layout;   ///< the preset used, or empty
  std::vector<MatModality> modalities;
  std::string labels_variable;
  std::vector<std::size_t> labels_dims;  ///< MATLAB's dimensions of the labels variable
  io::HostArray labels;                  ///< [N, classes] (not yet checked for 0/1: cmd_train does)
};

/// The variable names a `--mat-layout` preset stands for: pairs NAME=VAR for the modalities, and
/// the labels variable. Throws `InvalidArgument` for an unknown layout.
struct MatLayout {
  std::vector<std::string> modalities;
  std::string labels;
};
MatLayout mat_layout(const std::string& layout);

/// Whether this build reads `.mat` files (matio was found when ssah was configured).
bool mat_input_supported() noexcept;

/// Reads the modalities and labels that `options` name from `options.file`. Orientation: the
/// item count N is the axis length shared by the labels and every modality; a 2-D variable may
/// be N x D or D x N; a 3-D one N x A x B (kept) or H x W x N (one channel: [N, 1, H, W]); a 4-D
/// one N x C x H x W (kept), N x H x W x C (C of 1 or 3: made NCHW) or H x W x C x N (MATLAB's
/// image stacks: made NCHW). Anything ambiguous or inconsistent is one error naming the
/// variables and their dimensions. Modalities holding only 0 and 1 are returned as uint8.
MatInput read_mat_input(const MatInputOptions& options);

/// Arranges one variable, already in row-major order with MATLAB's dimensions `a.shape`, so that
/// its items (`items` of them) come first, as `read_mat_input` does; `what` names it in errors.
/// `arrangement` receives a description of what was done. (Exposed for tests; needs no matio.)
io::HostArray arrange_items(io::HostArray a, std::size_t items, const std::string& what, std::string& arrangement);

}  // namespace ssah::cli
