#pragma once
// Checkpoints of the `ssah` program (train writes them, encode reads them): a safetensors file
// holding every parameter of the model (tensor "<set>.<entry>", e.g. "label.fc1.weight",
// "modality0.hash.weight"), the standardisation of each modality ("standardize.<name>.mean",
// "standardize.<name>.std", absent when the modality was not standardised), and metadata:
// "ssah.bits", "ssah.objective", "ssah.epoch" and "ssah.spec" (JSON: bits, objective, num_labels,
// seed, epoch, the label / discriminator widths, and per modality its name, backbone kind and
// configuration (for CNN-F: "cnnf": {conv_channels, fc6, fc7, feature}; older checkpoints say
// "cnnf": "small", read as CnnF::Config::small()), and sample shape), and for each CNN-F modality
// with a non-zero mean image (e.g. from `ssah train --pretrained`) the tensor
// "cnnf.<name>.mean_image" {C, H, W} (absent: no mean subtracted).
// A checkpoint written during training also holds the model's training state (resume): tensors
// "state.<buffer>" (the n-row buffers of TrainingState: "state.label_features", "state.codes",
// "state.hashes0", ...) and "state.optimizer.<name>.m" / ".v" (Adam's moments, absent before an
// optimizer's first step), and metadata "ssah.state" (JSON: format "ssah-training-state-1",
// epoch, steps_done, rng (the batch sampler's std::mt19937_64 state), optimizer_steps {name:
// step count}). Checkpoints without it (older ones) load for encoding.
#include <cstddef>
#include <memory>
#include <optional>
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
  /// Training state: written when set; set by load_checkpoint when the file holds one.
  std::optional<TrainingState<float>> state;
};

/// The metadata "ssah.spec" of a checkpoint (JSON text): equal for the same model structure,
/// modality names and shapes, seed and epoch.
std::string checkpoint_spec_json(const Checkpoint& c);

/// Writes `model` (built from `c.spec`) and `c` to `path` atomically.
void save_checkpoint(const std::string& path, const Checkpoint& c, AnyModel<float>& model);

/// Reads a checkpoint and rebuilds its model with the stored parameters; IoError / ShapeError
/// naming the file when it is not a checkpoint of this program or does not match its spec.
std::unique_ptr<AnyModel<float>> load_checkpoint(const std::string& path, Checkpoint& c);

/// ±1 int8 codes (bit = value > 0) of real hashes.
std::vector<std::int8_t> sign_codes(const std::vector<float>& hashes);

}  // namespace ssah::cli
