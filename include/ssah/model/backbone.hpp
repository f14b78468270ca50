#pragma once
/// \file
/// The backbone concept: what a modality network's trunk must provide to plug into `ssah::Ssah`.
///
/// A backbone is a class template over the scalar type, `template <class T> class MyNet`, with:
///
/// \code
///   struct Config { ... };                       // runtime hyperparameters, default-constructible
///   static constexpr const char* kind = "...";   // short name stored in checkpoints ("feature", "text", "cnnf")
///   MyNet(const Shape& sample_shape,             // shape of ONE input item, e.g. {d} or {3, 64, 64}
///         const Config& config,
///         ParameterSet<T>& params);              // registers its parameters (named "<layer>.weight", ...)
///   TrunkOutput<T> forward(const Var<T>& batch,  // [N, sample_shape...]
///                          const ForwardContext& ctx) const;
///   std::size_t feature_dim() const;             // width of TrunkOutput::feature (512 in SSAH)
/// \endcode
///
/// Parameters are registered zero; the owning network initialises all of them with its chosen
/// scheme (the reference code's N(0, 0.01^2) by default), after which a backbone may overwrite
/// some (pretrained CNN-F weights). `ssah::ModalityNet` adds the hash and label heads on top.
/// A user-defined backbone needs no change to the library: see examples/custom_backbone.

#include <cstdint>

#include "ssah/autodiff.hpp"

namespace ssah {

/// What a backbone's forward pass returns.
template <class T>
struct TrunkOutput {
  Var<T> feature;     ///< F: the semantic feature compared with LabNet's (and seen by the discriminator)
  Var<T> head_input;  ///< what the hash and label heads read (often `feature`; LRN(feature) in TxtNet)
};

/// Per-call context of a forward pass.
struct ForwardContext {
  bool training = false;      ///< dropout and similar layers act only when training
  std::uint64_t seed = 0;     ///< for stochastic layers: combined with `step` for a fresh mask per step
  std::uint64_t step = 0;
};

}  // namespace ssah
