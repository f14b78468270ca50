#pragma once
/// \file
/// Training recipes: complete SSAH configurations as library values, so that the `ssah` program,
/// the experiments tool and a library user train the same model from the same name.
///
///   ssah::recipes::Settings s = ssah::recipes::resolve("recommended", ssah::recipes::DataTraits::of(data, split.train));
///   s.epochs = 5;                        // any setting may still be overridden
///   ssah::recipes::apply(s, data, experiment);
///
/// A recipe looks at the data set only through `DataTraits` (training-set size, label cardinality,
/// which modalities are 0/1 bags of words or images), and resolves to `Settings`: every value that
/// training reads, which a program can print and record. docs/model.md gives each recipe's
/// rationale and the rules that depend on the data.

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssah/error.hpp"
#include "ssah/pipeline.hpp"

namespace ssah::recipes {

/// What a recipe may look at: sizes and kinds, never the values themselves.
struct DataTraits {
  struct ModalityTraits {
    std::vector<std::size_t> sample_shape;
    bool bag_of_words = false;  ///< every value is 0 or 1 (tags, binary words)
    /// An image CNN-F can read: [C, H, W] with H and W at least 63 (CnnF's geometry: docs in cnnf.hpp).
    /// A smaller grid is read by a FeatureNet as a flat vector.
    bool image() const noexcept { return sample_shape.size() == 3 && sample_shape[1] >= 63 && sample_shape[2] >= 63; }
  };
  std::size_t train_items = 0;
  std::size_t classes = 0;
  double label_cardinality = 0;  ///< mean number of labels per training item (1: single-label data)
  std::vector<ModalityTraits> modalities;

  static DataTraits of(const pipeline::Dataset& data, const std::vector<std::size_t>& train_rows) {
    DataTraits t;
    t.train_items = train_rows.size();
    t.classes = data.classes;
    double labels = 0;
    for (std::size_t r : train_rows)
      for (std::size_t c = 0; c < data.classes; ++c) labels += data.labels[r * data.classes + c];
    t.label_cardinality = train_rows.empty() ? 0 : labels / static_cast<double>(train_rows.size());
    for (const pipeline::Modality& m : data.modalities) {
      ModalityTraits mt;
      mt.sample_shape = m.sample_shape;
      mt.bag_of_words = m.sample_shape.size() == 1 && m.visit_values([](const auto& values) {
        return std::all_of(values.begin(), values.end(), [](auto v) { return v == 0 || v == 1; });
      });
      t.modalities.push_back(std::move(mt));
    }
    return t;
  }
};

/// Everything a recipe decides, resolved for one data set. Learning rates are starts of the
/// reference's tables (`SsahTableLr`): epoch 0, stage 0 trains at 10^-start, and every later
/// (epoch, stage) entry divides by sqrt(10).
struct Settings {
  std::string recipe;  ///< the recipe's name ("recommended", "faithful", "authors")
  InitScheme init = InitScheme::Xavier;
  double label_lr = 3.0;
  double discriminator_lr = 3.0;
  std::vector<double> modality_lr;  ///< one per modality
  std::size_t epochs = 1;
  std::size_t batch_size = 128;
  std::size_t steps_per_pass = 0;  ///< 0: training items / batch size
  std::vector<std::size_t> label_passes{10, 5};
  std::vector<std::size_t> discriminator_passes{1, 1};
  std::vector<std::size_t> modality_passes{15, 7, 5};
  bool early_stop = true;
  /// Hidden widths of LabNet and of the feature / text backbones; the last is the feature F.
  std::vector<std::size_t> hidden{4096, 512};
  std::vector<std::size_t> discriminator_hidden{512, 256};
  std::vector<std::string> backbones;  ///< per modality: "feature", "text" or "cnnf"
  std::vector<bool> standardize;       ///< per modality: z-score with the training rows' statistics
};

/// Names of the recipes `resolve` knows, the default first.
inline std::vector<std::string> names() { return {"recommended", "faithful", "authors"}; }

namespace detail {

/// The choices every recipe shares: images (at least 63 x 63) go through CNN-F, bags of words are kept as they are
/// (0/1) and every other input is standardised (per pixel for images: the mean image's role).
inline Settings common(std::string name, const DataTraits& data, const char* bag_of_words_backbone) {
  Settings s;
  s.recipe = std::move(name);
  // The multi-scale TxtNet pools windows of up to 50 words (MultiScaleTextNet::Config), so a smaller
  // vocabulary gets a FeatureNet.
  const std::vector<std::size_t> windows = MultiScaleTextNet<float>::Config{}.windows;
  const std::size_t txtnet_words = *std::max_element(windows.begin(), windows.end());
  for (const DataTraits::ModalityTraits& m : data.modalities) {
    const bool text_net_fits = m.sample_shape.size() == 1 && m.sample_shape[0] >= txtnet_words;
    const std::string words = text_net_fits ? bag_of_words_backbone : "feature";
    s.backbones.push_back(m.image() ? "cnnf" : m.bag_of_words ? words : "feature");
    s.standardize.push_back(!m.bag_of_words);
  }
  return s;
}

}  // namespace detail

/// The best configuration this project knows (docs/model.md, "Recipes"): Xavier initialisation,
/// every network from 10^-3, a FeatureNet on bags of words, and as many epochs as give each
/// modality network about 1,400 Adam steps (before early stops): ceil(6,500 / training items), between 1 and 3.
inline Settings recommended(const DataTraits& data) {
  Settings s = detail::common("recommended", data, "feature");
  s.init = InitScheme::Xavier;
  s.label_lr = 3.0;
  s.discriminator_lr = 3.0;
  s.modality_lr.assign(data.modalities.size(), 3.0);
  const std::size_t items = std::max<std::size_t>(data.train_items, 1);
  s.epochs = std::clamp<std::size_t>((6500 + items - 1) / items, 1, 3);
  return s;
}

/// The PyTorch SSAH reference as it was run (issue 3 of this project): PyTorch's default layer
/// initialisation, LabNet at 10^-3, the reference's modality tables, the multi-scale TxtNet on bags
/// of words, one epoch.
inline Settings faithful(const DataTraits& data) {
  Settings s = detail::common("faithful", data, "text");
  s.init = InitScheme::PyTorchDefault;
  s.label_lr = 3.0;
  s.discriminator_lr = 3.0;
  // The reference's tables for the modality networks: image 10^-4.5 for every modality but the
  // last, text 10^-3.5 for the last (the image and text of two-modality sets).
  for (std::size_t m = 0; m < data.modalities.size(); ++m)
    s.modality_lr.push_back(m + 1 == data.modalities.size() ? 3.5 : 4.5);
  s.epochs = 1;
  return s;
}

/// The authors' TensorFlow code as written: faithful's but for N(0, 0.01^2) weights and biases and
/// LabNet at 10^-2. It collapses on single-label data (docs/model.md); kept to compare with the paper.
inline Settings authors(const DataTraits& data) {
  Settings s = faithful(data);
  s.recipe = "authors";
  s.init = InitScheme::ReferenceNormal;
  s.label_lr = 2.0;
  return s;
}

/// The recipe called `name` (one of `names()`), resolved for `data`.
inline Settings resolve(const std::string& name, const DataTraits& data) {
  if (name == "recommended") return recommended(data);
  if (name == "faithful") return faithful(data);
  if (name == "authors") return authors(data);
  std::string known;
  for (const std::string& n : names()) known += (known.empty() ? "" : ", ") + n;
  ssah::detail::fail<InvalidArgument>("unknown recipe '", name, "' (", known, ")");
}

/// Every setting by name, for reports (a run's report.json records the recipe it resolved).
inline nlohmann::json to_json(const Settings& s) {
  return {{"recipe", s.recipe},
          {"init", init_scheme_name(s.init)},
          {"label_lr", s.label_lr},
          {"discriminator_lr", s.discriminator_lr},
          {"modality_lr", s.modality_lr},
          {"learning_rates", "starts of the reference's tables: 10^-start, then / sqrt(10) per (epoch, stage) entry"},
          {"epochs", s.epochs},
          {"batch_size", s.batch_size},
          {"steps_per_pass", s.steps_per_pass},
          {"label_passes", s.label_passes},
          {"discriminator_passes", s.discriminator_passes},
          {"modality_passes", s.modality_passes},
          {"early_stop", s.early_stop},
          {"hidden", s.hidden},
          {"discriminator_hidden", s.discriminator_hidden},
          {"backbones", s.backbones},
          {"standardize", s.standardize}};
}

/// The most epochs `s` can train: the reference's learning-rate tables (`SsahTableLr`) hold
/// len(arange(start, 100, 0.5)) entries, and epoch e's last sub-stage reads entry e + stages - 1.
/// (Long before the end the rates are negligible: 10^-15 by epoch 24 from 10^-3.)
inline std::size_t max_epochs(const Settings& s) {
  std::size_t most = std::numeric_limits<std::size_t>::max();
  const auto limit = [&most](double start, std::size_t stages) {
    const std::size_t entries = SsahTableLr{start}.size(), later = stages > 0 ? stages - 1 : 0;
    most = std::min(most, entries > later ? entries - later : 0);
  };
  limit(s.label_lr, s.label_passes.size());
  limit(s.discriminator_lr, s.discriminator_passes.size());
  for (double lr : s.modality_lr) limit(lr, s.modality_passes.size());
  return most;
}

/// Writes `s` into a data set's modalities (backbone kinds and widths, standardisation) and an
/// experiment (initialisation, learning rates, schedule, widths). A modality's CNN-F keeps its
/// convolutional widths; its fc8 (the feature F) takes the last hidden width, as LabNet's F must match.
inline void apply(const Settings& s, pipeline::Dataset& data, pipeline::Experiment& e) {
  const std::size_t M = data.modalities.size();
  SSAH_CHECK_AS(InvalidArgument, s.backbones.size() == M && s.standardize.size() == M && s.modality_lr.size() == M,
                "recipe '", s.recipe, "': settings for ", s.backbones.size(), " modalities, the data set has ", M);
  SSAH_CHECK_AS(InvalidArgument, !s.hidden.empty() && !s.discriminator_hidden.empty(), "recipe '", s.recipe,
                "': no hidden widths");
  SSAH_CHECK_AS(InvalidArgument, s.epochs > 0 && s.batch_size > 0, "recipe '", s.recipe,
                "': epochs and batch size must be positive");
  SSAH_CHECK_AS(InvalidArgument, s.epochs <= max_epochs(s), "recipe '", s.recipe, "': ", s.epochs,
                " epochs, but its learning-rate tables end after ", max_epochs(s), " epochs");
  for (std::size_t m = 0; m < M; ++m) {
    AnyBackbone<float>::Config& b = data.modalities[m].backbone;
    b.kind = s.backbones[m];
    b.feature.hidden = s.hidden;
    b.text.hidden = s.hidden;
    b.cnnf.feature = s.hidden.back();
    data.modalities[m].standardize = s.standardize[m];
  }
  e.init = s.init;
  e.label_net.hidden = s.hidden;
  e.discriminator.hidden = s.discriminator_hidden;
  TrainOptions& t = e.train;
  t.label_lr = SsahTableLr{s.label_lr};
  t.discriminator_lr = SsahTableLr{s.discriminator_lr};
  t.modality_lr.clear();
  for (double lr : s.modality_lr) t.modality_lr.push_back(SsahTableLr{lr});
  t.epochs = s.epochs;
  t.batch_size = s.batch_size;
  t.steps_per_pass = s.steps_per_pass;
  t.label_passes = s.label_passes;
  t.discriminator_passes = s.discriminator_passes;
  t.modality_passes = s.modality_passes;
  t.early_stop = s.early_stop;
}

}  // namespace ssah::recipes
