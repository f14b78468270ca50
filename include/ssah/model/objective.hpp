#pragma once
/// \file
/// SSAH's two objectives as policy types, and the loss terms they define.
///
/// `objective::Paper` follows the paper: per-pair negative log-likelihood on features and hashes,
/// quantisation to the SHARED codes B = sign(sum of the H of all networks), label prediction,
/// and an adversarial term whose gradient flows into the modality networks.
/// `objective::ReferenceCode` follows the authors' TensorFlow code as written: squared per-pair
/// NLL with S scaled by 0.999, quantisation to each network's own sign(H), 1/2-scaled squared
/// norms, and an adversarial term that never reaches the modality networks (in the TF1 graph it
/// is built on a placeholder, so the generator step only pulls the discriminator towards "label").
/// See docs/model.md and ../shared/docs/ssah-reference.md section 2.

#include "ssah/ops.hpp"
#include "ssah/ops/pairwise.hpp"

namespace ssah {

/// Weights of the loss terms. Greek letters differ between the paper and the code (the code puts
/// beta on quantisation and eta on label prediction); names here say what each weighs.
struct LossWeights {
  double feature_pairwise = 1.0;  ///< alpha: pairwise likelihood on features F
  double hash_pairwise = 1.0;     ///< gamma: pairwise likelihood on hashes H
  double quantization = 1.0;      ///< ||H - B||^2 (paper: eta; code: beta)
  double label = 1.0;             ///< ||L_hat - L||^2 (paper: beta; code: eta)
  double adversarial = 1.0;       ///< delta: the modality networks' adversarial term
};

namespace objective {

struct Paper {
  static constexpr const char* name = "paper";
  static constexpr PairwiseForm pairwise_form = PairwiseForm::NegLogLikelihood;
  static constexpr double similarity_scale = 1.0;
  /// Quantise to B = sign(H_label + sum of H_modality) (true) or to the network's own sign(H).
  static constexpr bool shared_codes = true;
  /// Whether the adversarial term's gradient reaches the modality network.
  static constexpr bool adversarial_reaches_generator = true;
  /// Factor on squared norms (quantisation, label): the code's tf.nn.l2_loss halves them.
  static constexpr double norm_scale = 1.0;
};

struct ReferenceCode {
  static constexpr const char* name = "reference";
  static constexpr PairwiseForm pairwise_form = PairwiseForm::SquaredNll;
  static constexpr double similarity_scale = 0.999;
  static constexpr bool shared_codes = false;
  static constexpr bool adversarial_reaches_generator = false;
  static constexpr double norm_scale = 0.5;
};

}  // namespace objective

/// The loss of one network step, with each weighted term kept for logging.
template <class T>
struct GeneratorLoss {
  Var<T> total;
  T feature_pairwise = 0, hash_pairwise = 0, quantization = 0, label = 0, adversarial = 0;
};

/// SSAH's supervised terms for a batch of one network's outputs.
/// anchor_features [n, d] / anchor_hashes [n, K]: LabNet's stored outputs for all n training items;
/// similarity [n, b]; codes [b, K]: the quantisation target (already chosen by the objective);
/// labels [b, c].
template <class Objective, class T>
GeneratorLoss<T> supervised_loss(const Var<T>& feature, const Var<T>& hash, const Var<T>& label_pred,
                                 const Tensor<T>& anchor_features, const Tensor<T>& anchor_hashes,
                                 const Tensor<T>& similarity, const Tensor<T>& codes, const Tensor<T>& labels,
                                 const LossWeights& w) {
  GeneratorLoss<T> out;
  const T norm = T(Objective::norm_scale);
  Var<T> fp = scale(pairwise_likelihood_loss(anchor_features, feature, similarity, Objective::pairwise_form),
                    T(w.feature_pairwise));
  Var<T> hp = scale(pairwise_likelihood_loss(anchor_hashes, hash, similarity, Objective::pairwise_form),
                    T(w.hash_pairwise));
  Var<T> q = scale(sum(squared_error(hash, Var<T>(codes))), norm * T(w.quantization));
  Var<T> l = scale(sum(squared_error(label_pred, Var<T>(labels))), norm * T(w.label));
  out.total = fp + hp + q + l;
  out.feature_pairwise = fp.value().item();
  out.hash_pairwise = hp.value().item();
  out.quantization = q.value().item();
  out.label = l.value().item();
  return out;
}

/// Mean sigmoid cross-entropy of logits against a constant target (0 or 1).
template <class T>
Var<T> adversarial_loss(const Var<T>& logits, T target) {
  return mean(sigmoid_cross_entropy_with_logits(logits, Var<T>(Tensor<T>::full(logits.shape(), target))));
}

}  // namespace ssah
