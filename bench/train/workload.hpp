#pragma once
// The fixed training workload of issue 6 (shared by bench_train.cpp and train_memory.cpp):
// n = 10,000 buffered items, batch 128, K = 64, c = 24 labels, objective Paper; image modality =
// 4,096-d features through FeatureNet (4096 -> 4096 -> 512), text = 1,386-d bag-of-words through
// MultiScaleTextNet (6 channels -> 8316 -> 4096 -> 512), discriminators 512 -> 512 -> 256 -> 1.
// Synthetic data with the statistics that matter for speed: dense non-negative image features,
// sparse 0/1 bag-of-words (~2% ones), 1-4 labels per item.
//
// Also the FLOP count of each step: gemm FLOPs only (2 m n k per product), written out below;
// elementwise work (activations, LRN, the softplus of the pairwise loss, Adam) is not counted.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ssah/model/text_net.hpp"
#include "ssah/ssah.hpp"

namespace ssah_bench {

constexpr std::size_t kItems = 10000, kBatch = 128, kBits = 64, kLabels = 24;
constexpr std::size_t kImageDim = 4096, kTextDim = 1386, kFeature = 512, kHidden = 4096;
constexpr std::size_t kTextChannels = 6;  // the input + 5 pooling branches

using Model = ssah::BasicSsah<float, kBits, ssah::objective::Paper, ssah::FeatureNet, ssah::MultiScaleTextNet>;

/// Labels [n, c], image features [n, 4096], bag-of-words [n, 1386], reproducible. Filled one row
/// at a time through a small host buffer, so building it adds nothing to the peak memory.
inline ssah::TrainingSet<float> make_workload(std::size_t n = kItems, std::uint64_t seed = 42) {
  ssah::HostRng rng(seed);
  ssah::Tensor<float> labels = ssah::Tensor<float>::empty(ssah::Shape{n, kLabels});
  ssah::Tensor<float> image = ssah::Tensor<float>::empty(ssah::Shape{n, kImageDim});
  ssah::Tensor<float> text = ssah::Tensor<float>::empty(ssah::Shape{n, kTextDim});
  std::vector<float> row(kImageDim);
  for (std::size_t i = 0; i < n; ++i) {
    std::fill(row.begin(), row.begin() + kLabels, 0.f);
    const std::size_t count = 1 + rng.below(4);
    for (std::size_t j = 0; j < count; ++j) row[rng.below(kLabels)] = 1.f;
    labels.rows(i, i + 1).copy_from_host(row.data(), kLabels);
    for (std::size_t j = 0; j < kImageDim; ++j) row[j] = float(rng.below(1u << 20)) / float(1u << 20) * 2.f;
    image.rows(i, i + 1).copy_from_host(row.data(), kImageDim);
    for (std::size_t j = 0; j < kTextDim; ++j) row[j] = rng.below(50) == 0 ? 1.f : 0.f;
    text.rows(i, i + 1).copy_from_host(row.data(), kTextDim);
  }
  ssah::TrainingSet<float> set;
  set.labels = labels;
  set.modalities = {image, text};
  return set;
}

/// The workload's training options: batch 128, the rest at their defaults.
inline ssah::TrainOptions workload_options() {
  ssah::TrainOptions o;
  o.batch_size = kBatch;
  return o;
}

inline std::unique_ptr<Model> make_model() {
  return std::make_unique<Model>(kLabels, std::array<ssah::Shape, 2>{ssah::Shape{kImageDim}, ssah::Shape{kTextDim}});
}

// ---------------------------------------------------------------- FLOPs (gemm only)

/// A linear layer in -> out on b rows: forward 2 b in out; in training also the weight gradient
/// (2 b in out) and, when the layer's input needs a gradient, the input gradient (2 b in out).
inline double linear_flops(double b, double in, double out, bool train, bool input_grad) {
  const double one = 2.0 * b * in * out;
  return one * (train ? (input_grad ? 3.0 : 2.0) : 1.0);
}

/// The heads F -> K (tanh) and F -> c (sigmoid).
inline double heads_flops(bool train) {
  return linear_flops(kBatch, kFeature, kBits, train, true) + linear_flops(kBatch, kFeature, kLabels, train, true);
}

/// The supervised loss over all n buffered items: S = labels [n, c] x batch labels^T (2 n b c),
/// theta = anchors [n, d] x batch^T and its gradient (2 x 2 n b d) for d = F (features) and K (hashes).
inline double supervised_flops() {
  const double n = kItems, b = kBatch;
  return 2 * n * b * kLabels + 4 * n * b * kFeature + 4 * n * b * kBits;
}

/// One discriminator on b rows (512 -> 512 -> 256 -> 1); input_grad when its input is a network's output.
inline double discriminator_flops(bool train, bool input_grad) {
  return linear_flops(kBatch, kFeature, 512, train, input_grad) + linear_flops(kBatch, 512, 256, train, true) +
         linear_flops(kBatch, 256, 1, train, true);
}

inline double label_trunk_flops(bool train) {
  return linear_flops(kBatch, kLabels, kHidden, train, false) + linear_flops(kBatch, kHidden, kFeature, train, true);
}
inline double image_trunk_flops(bool train) {
  return linear_flops(kBatch, kImageDim, kHidden, train, false) + linear_flops(kBatch, kHidden, kFeature, train, true);
}
/// fc1's input (the multi-scale fusion) depends on the branch weights, so fc1 needs its input gradient.
inline double text_trunk_flops(bool train) {
  return linear_flops(kBatch, kTextDim * kTextChannels, kHidden, train, true) +
         linear_flops(kBatch, kHidden, kFeature, train, true);
}

inline double label_step_flops() { return label_trunk_flops(true) + heads_flops(true) + supervised_flops(); }
/// A modality step: trunk, heads, supervised terms, and the adversarial term through D into the network.
inline double image_step_flops() {
  return image_trunk_flops(true) + heads_flops(true) + supervised_flops() + discriminator_flops(true, true);
}
inline double text_step_flops() {
  return text_trunk_flops(true) + heads_flops(true) + supervised_flops() + discriminator_flops(true, true);
}
/// The discriminator step: LabNet and both modality networks forward without gradients (their
/// heads run too, as NetOutput computes them), then each D on LabNet's and its modality's features.
inline double discriminator_step_flops() {
  return label_trunk_flops(false) + image_trunk_flops(false) + text_trunk_flops(false) + 3 * heads_flops(false) +
         2 * 2 * discriminator_flops(true, false);
}

}  // namespace ssah_bench
