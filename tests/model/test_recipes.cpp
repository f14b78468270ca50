#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "ssah/recipes.hpp"

using namespace ssah;

namespace {

/// `items` rows: a dense 3-d modality, a 0/1 bag of words of 50 words, an image [1, 63, 64]; one
/// label per row but every third row, which has two.
pipeline::Dataset small_dataset(std::size_t items) {
  pipeline::Dataset d;
  d.items = items;
  d.classes = 3;
  for (std::size_t i = 0; i < items; ++i)
    for (std::size_t c = 0; c < 3; ++c) d.labels.push_back(c == i % 3 || (i % 3 == 0 && c == 1) ? 1.f : 0.f);
  pipeline::Modality dense, words, image;
  dense.name = "dense";
  dense.sample_shape = {3};
  words.name = "words";
  words.sample_shape = {50};
  image.name = "image";
  image.sample_shape = {1, 63, 64};
  for (std::size_t i = 0; i < items; ++i) {
    for (std::size_t j = 0; j < 3; ++j) dense.values.push_back(float(i + j) * 0.5f);
    for (std::size_t j = 0; j < 50; ++j) words.values.push_back((i + j) % 2 ? 1.f : 0.f);
    for (std::size_t j = 0; j < 63 * 64; ++j) image.values.push_back(float((i * 7 + j) % 5));
  }
  d.modalities = {dense, words, image};
  return d;
}

std::vector<std::size_t> first_rows(std::size_t n) {
  std::vector<std::size_t> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = i;
  return rows;
}

}  // namespace

TEST_CASE("recipes::DataTraits: sizes, label cardinality and the kind of each modality") {
  const pipeline::Dataset d = small_dataset(9);
  const recipes::DataTraits t = recipes::DataTraits::of(d, first_rows(6));
  CHECK(t.train_items == 6);
  CHECK(t.classes == 3);
  CHECK(t.label_cardinality == doctest::Approx(8.0 / 6.0));  // rows 0 and 3 have two labels
  REQUIRE(t.modalities.size() == 3);
  CHECK_FALSE(t.modalities[0].bag_of_words);
  CHECK_FALSE(t.modalities[0].image());
  CHECK(t.modalities[1].bag_of_words);
  CHECK(t.modalities[2].image());
  CHECK_FALSE(t.modalities[2].bag_of_words);
  // A grid too small for CNN-F is a flat vector to a FeatureNet.
  recipes::DataTraits::ModalityTraits small{{3, 62, 64}, false};
  CHECK_FALSE(small.image());
  small.sample_shape = {3, 64, 62};
  CHECK_FALSE(small.image());
}

TEST_CASE("recipes: every name resolves, the recommended one is the first and the default of the programs") {
  const pipeline::Dataset d = small_dataset(9);
  const recipes::DataTraits t = recipes::DataTraits::of(d, first_rows(9));
  REQUIRE(recipes::names().front() == "recommended");
  for (const std::string& name : recipes::names()) {
    const recipes::Settings s = recipes::resolve(name, t);
    CHECK(s.recipe == name);
    CHECK(s.backbones == std::vector<std::string>{"feature", name == "recommended" ? "feature" : "text", "cnnf"});
    CHECK(s.standardize == std::vector<bool>{true, false, true});
    CHECK(s.modality_lr.size() == 3);
  }
  // A vocabulary smaller than TxtNet's widest pooling window (50 words) gets a FeatureNet.
  recipes::DataTraits few_words = t;
  few_words.modalities[1].sample_shape = {49};
  CHECK(recipes::faithful(few_words).backbones[1] == "feature");
  few_words.modalities[1].sample_shape = {50};
  CHECK(recipes::faithful(few_words).backbones[1] == "text");
  CHECK_THROWS_WITH_AS(recipes::resolve("tuned", t), doctest::Contains("unknown recipe 'tuned'"), InvalidArgument);

  const recipes::Settings authors = recipes::authors(t), faithful = recipes::faithful(t);
  CHECK(authors.init == InitScheme::ReferenceNormal);
  CHECK(authors.label_lr == 2.0);
  CHECK(faithful.init == InitScheme::PyTorchDefault);
  CHECK(faithful.label_lr == 3.0);
  // The reference's tables: image for every modality but the last, text for the last.
  CHECK(faithful.modality_lr == std::vector<double>{4.5, 4.5, 3.5});
  CHECK(authors.epochs == 1);
}

TEST_CASE("recipes::recommended: Xavier, 1e-3 everywhere, ceil(6500 / training items) epochs within [1, 3]") {
  recipes::DataTraits t = recipes::DataTraits::of(small_dataset(9), first_rows(9));
  const recipes::Settings s = recipes::recommended(t);
  CHECK(s.init == InitScheme::Xavier);
  CHECK(s.label_lr == 3.0);
  CHECK(s.discriminator_lr == 3.0);
  CHECK(s.modality_lr == std::vector<double>{3.0, 3.0, 3.0});
  const std::pair<std::size_t, std::size_t> items_epochs[] = {{1, 3},    {630, 3},  {2173, 3}, {2200, 3},
                                                              {3250, 2}, {3251, 2}, {6500, 1}, {10000, 1}};
  for (const auto& items_and_epochs : items_epochs) {  // (not a structured binding: CHECK_MESSAGE is a lambda)
    t.train_items = items_and_epochs.first;
    CHECK_MESSAGE(recipes::recommended(t).epochs == items_and_epochs.second, t.train_items, " training items");
  }
}

TEST_CASE("recipes::apply writes every setting into the data set and the experiment") {
  pipeline::Dataset d = small_dataset(9);
  recipes::Settings s = recipes::recommended(recipes::DataTraits::of(d, first_rows(9)));
  s.hidden = {32, 16};
  s.discriminator_hidden = {8};
  s.epochs = 2;
  s.batch_size = 4;
  s.modality_lr = {3.0, 3.5, 4.0};
  s.label_passes = {2};
  pipeline::Experiment e;
  recipes::apply(s, d, e);
  CHECK(d.modalities[1].backbone.kind == "feature");
  CHECK(d.modalities[2].backbone.kind == "cnnf");
  CHECK(d.modalities[2].backbone.cnnf.feature == 16);  // F as wide as LabNet's
  CHECK(d.modalities[0].backbone.feature.hidden == std::vector<std::size_t>{32, 16});
  CHECK_FALSE(d.modalities[1].standardize);
  CHECK(d.modalities[0].standardize);
  CHECK(e.init == InitScheme::Xavier);
  CHECK(e.label_net.hidden == std::vector<std::size_t>{32, 16});
  CHECK(e.discriminator.hidden == std::vector<std::size_t>{8});
  CHECK(e.train.epochs == 2);
  CHECK(e.train.batch_size == 4);
  CHECK(e.train.label_passes == std::vector<std::size_t>{2});
  REQUIRE(e.train.modality_lr.size() == 3);
  CHECK(e.train.modality_lr[1](0, 0) == doctest::Approx(std::pow(10.0, -3.5)));
  CHECK(e.train.modality_lr[2](1, 1) == doctest::Approx(std::pow(10.0, -5.0)));  // two entries on
  CHECK(e.train.label_lr(0, 0) == doctest::Approx(1e-3));

  const nlohmann::json j = recipes::to_json(s);
  CHECK(j["recipe"] == "recommended");
  CHECK(j["init"] == "xavier");
  CHECK(j["epochs"] == 2);
  CHECK(j["backbones"][2] == "cnnf");

  s.backbones.pop_back();
  CHECK_THROWS_WITH_AS(recipes::apply(s, d, e), doctest::Contains("settings for 2 modalities"), InvalidArgument);
}

TEST_CASE("recipes::max_epochs: the learning-rate tables' length less the sub-stages, checked by apply") {
  pipeline::Dataset d = small_dataset(9);
  recipes::Settings s = recipes::recommended(recipes::DataTraits::of(d, first_rows(9)));
  s.label_lr = 3.0;                 // len(arange(3, 100, 0.5)) = 194 entries, 2 sub-stages: 193 epochs
  s.discriminator_lr = 3.0;         // 194 entries
  s.modality_lr = {4.0, 4.5, 3.0};  // 4.5: 191 entries, 3 sub-stages: 189 epochs
  s.label_passes = {10, 5};
  s.discriminator_passes = {1};
  s.modality_passes = {15, 7, 5};
  CHECK(recipes::max_epochs(s) == 189);
  s.epochs = 189;
  for (std::size_t m = 0; m < 3; ++m)  // the last epoch's last sub-stage is within every table
    CHECK_NOTHROW(SsahTableLr{s.modality_lr[m]}(s.epochs - 1, s.modality_passes.size() - 1));
  pipeline::Experiment e;
  CHECK_NOTHROW(recipes::apply(s, d, e));
  s.epochs = 190;
  CHECK_THROWS_AS(SsahTableLr{4.5}(189, 2), InvalidArgument);  // what training would have hit
  CHECK_THROWS_WITH_AS(recipes::apply(s, d, e),
                       doctest::Contains("190 epochs, but its learning-rate tables end after 189"), InvalidArgument);
}
