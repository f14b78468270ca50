#pragma once
// Checkpoints of the `ssah` program (train writes them, encode reads them): a safetensors file
// holding every parameter of the model (tensor "<set>.<entry>", e.g. "label.fc1.weight",
// "modality0.hash.weight"), the standardisation of each modality ("standardize.<name>.mean",
// "standardize.<name>.std", absent when the modality was not standardised), and metadata:
// "ssah.bits", "ssah.objective", "ssah.epoch" and "ssah.spec" (JSON: bits, objective, num_labels,
// seed, epoch, the label / discriminator widths, and per modality its name, backbone kind and
// configuration, and sample shape). Optimizer state is not stored.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ssah/model/any_model.hpp"

namespace ssah::cli {

struct CheckpointModality {
  std::string name;
  std::vector<std::size_t> sample_shape;
  std::vector<float> mean, stddev;  ///< empty when not standardised
};

struct Checkpoint {
  ModelSpec<float> spec;
  std::size_t epoch = 0;
  std::vector<CheckpointModality> modalities;  ///< in model order
};

/// Writes `model` (built from `c.spec`) and `c` to `path` atomically.
void save_checkpoint(const std::string& path, const Checkpoint& c, AnyModel<float>& model);

/// Reads a checkpoint and rebuilds its model with the stored parameters; IoError / ShapeError
/// naming the file when it is not a checkpoint of this program or does not match its spec.
std::unique_ptr<AnyModel<float>> load_checkpoint(const std::string& path, Checkpoint& c);

/// ±1 int8 codes (bit = value > 0) of real hashes.
std::vector<std::int8_t> sign_codes(const std::vector<float>& hashes);

}  // namespace ssah::cli
