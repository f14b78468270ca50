#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "ssah/io/npy.hpp"
#include "ssah/pipeline.hpp"

using namespace ssah;

namespace {

/// Root of the real data sets: $SSAH_DATA_DIR, else the build's SSAH_TEST_DATA_DIR.
std::string data_dir() {
  if (const char* env = std::getenv("SSAH_DATA_DIR")) return env;
  return SSAH_TEST_DATA_DIR;
}

/// The rows of file a, then those of file b (the splits index test rows first, then train rows).
std::vector<float> rows_of(const std::string& a, const std::string& b) {
  std::vector<float> v = io::read_npy(a).as<float>();
  const std::vector<float> w = io::read_npy(b).as<float>();
  v.insert(v.end(), w.begin(), w.end());
  return v;
}

std::vector<std::size_t> indices(const std::string& path) {
  const std::vector<std::int64_t> v = io::read_npy(path).as<std::int64_t>();
  return {v.begin(), v.end()};
}

/// Number of distinct sign patterns among `rows` hash rows of `bits` values.
std::size_t distinct_codes(const std::vector<float>& hashes, std::size_t bits) {
  std::set<std::vector<bool>> codes;
  for (std::size_t r = 0; r < hashes.size() / bits; ++r) {
    std::vector<bool> code(bits);
    for (std::size_t k = 0; k < bits; ++k) code[k] = hashes[r * bits + k] > 0.f;
    codes.insert(code);
  }
  return codes.size();
}

double map_of(const pipeline::BitsResult& r, const std::string& direction) {
  for (const auto& d : r.directions)
    if (d.name == direction) return d.result.map;
  FAIL("no direction ", direction);
  return 0;
}

}  // namespace

// Regression test on real data (issue 3): a short SSAH run on Wikipedia (image SIFT-128 vs text
// LDA-10, 10 single-label classes; the fixed split: query = the 693 test items, database = training
// set = the 2,173 training items; K = 16) must rank far better than chance.
//
// The regression it guards against: with the reference initialisation N(0, 0.01^2) on weights AND
// biases, these narrow networks (256 -> 64) start with features F that are almost the same vector
// for every item (the bias dominates the input's contribution). With 89 % dissimilar pairs the
// pairwise gradient at Theta ~ 0 is then a common mode, sum_i (sigmoid(0) - S_ij) F_i ~ 0.4 n mean(F)
// for every item, which switches the ReLUs off (LabNet: 50 % -> 1.7 % active) before any class
// structure forms: LabNet's codes stay 1 to 4, the modality networks, supervised by those nearly
// identical anchors, give every item the same code, and every direction scores 0.111 (random).
// Xavier initialisation (zero biases, fan-in scaled weights) gives class-dependent features from
// the first step; the reference initialisation only escapes that plateau with the full 4096 -> 512
// widths and the full 10 + 5 LabNet passes (far too slow for a test).
TEST_CASE("Wikipedia: a short SSAH run retrieves across modalities well above random ranking" *
          doctest::test_suite("realdata")) {
  const std::string root = data_dir() + "/wikipedia/npy/";
  const std::string splits = data_dir() + "/splits/";
  if (!std::filesystem::exists(root + "train_img_sift128_f32.npy") ||
      !std::filesystem::exists(splits + "wiki_q_idx_i32.npy")) {
    MESSAGE("skipped: the Wikipedia data set or its split is not under ", data_dir(),
            " (set SSAH_DATA_DIR to the data sets' root)");
    return;
  }
  pipeline::Dataset d;
  d.classes = 10;
  d.labels = rows_of(root + "test_label_onehot_u8.npy", root + "train_label_onehot_u8.npy");
  d.items = d.labels.size() / d.classes;
  pipeline::Modality img, txt;
  img.name = "img";
  img.values = rows_of(root + "test_img_sift128_f32.npy", root + "train_img_sift128_f32.npy");
  img.sample_shape = {128};
  img.backbone.feature.hidden = {256, 64};
  txt.name = "txt";
  txt.values = rows_of(root + "test_txt_lda10_f32.npy", root + "train_txt_lda10_f32.npy");
  txt.sample_shape = {10};
  txt.backbone.feature.hidden = {256, 64};
  d.modalities = {img, txt};
  const pipeline::Split split{indices(splits + "wiki_q_idx_i32.npy"), indices(splits + "wiki_db_idx_i32.npy"),
                              indices(splits + "wiki_tr_idx_i32.npy")};
  REQUIRE(d.items == 2866);
  REQUIRE(split.query.size() == 693);
  REQUIRE(split.database.size() == 2173);

  pipeline::Experiment e;
  e.bits = {16};
  e.seed = 1;
  e.init = InitScheme::Xavier;  // see above: the reference init collapses at these widths
  e.label_net.hidden = {256, 64};
  e.discriminator.hidden = {64, 32};
  e.train.seed = 1;
  e.train.label_lr = SsahTableLr{3.0};  // 1e-3, then 3.2e-4 (the LabNet rate)
  e.train.discriminator_lr = SsahTableLr{3.0};
  e.train.modality_lr = {SsahTableLr{3.0}, SsahTableLr{3.0}};
  e.train.label_passes = {4, 2};
  e.train.modality_passes = {4, 2, 2};
  e.same_modality = false;
  e.eval.precision_at.clear();
  e.eval.pr_curve = false;
  e.eval.per_query = false;
  const pipeline::BitsResult r = pipeline::run(d, split, e).front();

  const double i2t = map_of(r, "img->txt"), t2i = map_of(r, "txt->img");
  const double l2i = map_of(r, "label->img"), l2t = map_of(r, "label->txt");
  const std::size_t img_codes = distinct_codes(r.database_hashes[0], 16);
  const std::size_t txt_codes = distinct_codes(r.database_hashes[1], 16);
  MESSAGE("Wikipedia K=16 (", r.train_seconds, " s training): img->txt ", i2t, ", txt->img ", t2i, ", label->img ",
          l2i, ", label->txt ", l2t, "; distinct database codes img ", img_codes, ", txt ", txt_codes);

  // Random ranking (and the collapsed model, every code equal) scores 0.111 in every direction.
  // Seeds 1..5 of this configuration (1 thread) gave img->txt .135-.154, txt->img .160-.180,
  // label->img .17-.20, label->txt .33-.45 and 21-59 distinct codes per modality; the untrained
  // networks give .12-.14 (img->txt, random projections of SIFT keep a little class structure),
  // .112 (txt->img) and .10-.16 (label->txt). The PyTorch SSAH reference (full-size networks and
  // schedule) reaches .135 / .210 at K = 16. The thresholds sit between the untrained and the
  // trained ranges; the image side is weak on this data set, so its margin is the smallest.
  const double random_ranking = 0.111;
  CHECK(i2t > random_ranking + 0.012);
  CHECK(t2i > random_ranking + 0.03);
  CHECK((i2t + t2i) / 2 > random_ranking + 0.025);
  CHECK(l2i > random_ranking + 0.03);
  CHECK(l2t > 2 * random_ranking);
  // A collapse to a few codes is what the regression looked like: at least one code per class.
  CHECK(img_codes >= 10);
  CHECK(txt_codes >= 10);
}
