#pragma once
/// \file
/// A seeded SYNTHETIC multi-label cross-modal data set, for the demo, tests and examples. It is not
/// real data: numbers on it say the code works, not how SSAH does on real benchmarks.
///
/// Each of `num_labels` concepts has a latent direction. An item draws 1 to 3 labels (a primary one,
/// often its fixed "partner" label, sometimes a random one: labels co-occur as in MIRFLICKR), and
/// its latent vector is the sum of its labels' directions plus noise. Two views are rendered from
/// the same latent vector:
///   - "image": a dense vector, tanh of a random projection plus noise (like CNN features);
///   - "text":  a sparse 0/1 bag of words, words drawn from a softmax over a random projection.
/// Plain host arrays, row-major.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ssah/error.hpp"
#include "ssah/host_rng.hpp"

namespace ssah::data {

struct SyntheticOptions {
  std::size_t items = 2000;
  std::size_t labels = 12;
  std::size_t latent_dim = 16;
  std::size_t image_dim = 128;
  std::size_t vocabulary = 400;
  std::size_t words_per_item = 20;
  double latent_noise = 0.6;  ///< noise on the latent vector, relative to a label direction's norm
  double image_noise = 0.3;
  std::uint64_t seed = 1;
};

struct SyntheticData {
  std::size_t items = 0, labels = 0, image_dim = 0, vocabulary = 0;
  std::vector<std::uint8_t> label_matrix;  ///< items x labels, 0/1, at least one 1 per row
  std::vector<float> image;                ///< items x image_dim
  std::vector<float> text;                 ///< items x vocabulary, 0/1
};

inline SyntheticData make_synthetic(const SyntheticOptions& o) {
  SSAH_CHECK_AS(InvalidArgument, o.items > 0 && o.labels >= 2 && o.latent_dim > 0 && o.image_dim > 0 &&
                                     o.vocabulary > 0 && o.words_per_item > 0,
                "make_synthetic: every size must be positive (and at least 2 labels)");
  // HostRng, not the <random> distributions: the same seed must give the same data set (and the
  // demo the same figures) with every standard library.
  HostRng rng(o.seed);
  auto normal = [&rng] { return rng.normal(); };
  auto uniform = [&rng] { return rng.uniform(); };
  auto pick_label = [&rng, &o] { return static_cast<std::size_t>(rng.below(o.labels)); };

  auto gaussian_matrix = [&](std::size_t rows, std::size_t cols, double scale) {
    std::vector<double> m(rows * cols);
    for (auto& v : m) v = normal() * scale;
    return m;
  };
  const std::vector<double> directions = gaussian_matrix(o.labels, o.latent_dim, 1.0);
  const std::vector<double> to_image = gaussian_matrix(o.image_dim, o.latent_dim, 1.0 / std::sqrt(double(o.latent_dim)));
  const std::vector<double> to_text = gaussian_matrix(o.vocabulary, o.latent_dim, 1.5 / std::sqrt(double(o.latent_dim)));
  std::vector<std::size_t> partner(o.labels);
  for (std::size_t l = 0; l < o.labels; ++l) partner[l] = (l + 1 + pick_label() % (o.labels - 1)) % o.labels;

  SyntheticData d;
  d.items = o.items;
  d.labels = o.labels;
  d.image_dim = o.image_dim;
  d.vocabulary = o.vocabulary;
  d.label_matrix.assign(o.items * o.labels, 0);
  d.image.assign(o.items * o.image_dim, 0.f);
  d.text.assign(o.items * o.vocabulary, 0.f);

  std::vector<double> latent(o.latent_dim), logits(o.vocabulary), cumulative(o.vocabulary);
  const double direction_norm = std::sqrt(double(o.latent_dim));
  for (std::size_t i = 0; i < o.items; ++i) {
    std::uint8_t* row = &d.label_matrix[i * o.labels];
    const std::size_t primary = pick_label();
    row[primary] = 1;
    if (uniform() < 0.5) row[partner[primary]] = 1;
    if (uniform() < 0.2) row[pick_label()] = 1;

    for (std::size_t k = 0; k < o.latent_dim; ++k) latent[k] = normal() * o.latent_noise * direction_norm;
    for (std::size_t l = 0; l < o.labels; ++l)
      if (row[l])
        for (std::size_t k = 0; k < o.latent_dim; ++k) latent[k] += directions[l * o.latent_dim + k];

    for (std::size_t j = 0; j < o.image_dim; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < o.latent_dim; ++k) s += to_image[j * o.latent_dim + k] * latent[k];
      d.image[i * o.image_dim + j] = static_cast<float>(std::tanh(s) + o.image_noise * normal());
    }

    double max_logit = -1e300;
    for (std::size_t w = 0; w < o.vocabulary; ++w) {
      double s = 0;
      for (std::size_t k = 0; k < o.latent_dim; ++k) s += to_text[w * o.latent_dim + k] * latent[k];
      logits[w] = s;
      max_logit = std::max(max_logit, s);
    }
    double total = 0;
    for (std::size_t w = 0; w < o.vocabulary; ++w) cumulative[w] = (total += std::exp(logits[w] - max_logit));
    for (std::size_t t = 0; t < o.words_per_item; ++t) {
      const double u = uniform() * total;
      const std::size_t w = static_cast<std::size_t>(
          std::lower_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
      d.text[i * o.vocabulary + std::min(w, o.vocabulary - 1)] = 1.f;
    }
  }
  return d;
}

}  // namespace ssah::data
