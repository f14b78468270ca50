// ssah_experiments: SSAH on the real data sets (../shared/datasets, see its README) with the fixed
// splits of ../shared/datasets/splits, printing MAP for every retrieval direction and writing JSON.
//
//   ssah_experiments --set wiki --bits 16,32,64 [--recipe recommended|faithful|authors] [--objective paper|reference]
//                    [--epochs N] [--data DIR] [--json FILE] [--seed S]
//
// Sets: wiki (SIFT-128 image vs LDA-10 text), mir730 (colour+gradient features vs tags), photos
// (the 730 real 64x64 photos through a small CNN-F vs tags), uci (three views), mirtext (MIRFLICKR-25K
// tags + labels: text->text and label->text). docs/results.md is produced from these runs by
// scripts/results.sh.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssah/io/atomic_file.hpp"
#include "ssah/io/npy.hpp"
#include "ssah/pipeline.hpp"
#include "ssah/recipes.hpp"

using namespace ssah;

namespace {

std::string data_dir;

std::vector<float> load_floats(const std::string& rel) { return io::read_npy(data_dir + "/" + rel).as<float>(); }
io::NpyArray load(const std::string& rel) { return io::read_npy(data_dir + "/" + rel); }

std::vector<std::size_t> load_indices(const std::string& name) {
  std::vector<std::int64_t> v = load("splits/" + name).as<std::int64_t>();
  return std::vector<std::size_t>(v.begin(), v.end());
}

std::vector<float> concat_rows(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

/// Row-wise concatenation of two [n, da] and [n, db] arrays.
std::vector<float> concat_columns(const std::vector<float>& a, std::size_t da, const std::vector<float>& b,
                                  std::size_t db) {
  const std::size_t n = a.size() / da;
  std::vector<float> out(n * (da + db));
  for (std::size_t i = 0; i < n; ++i) {
    std::copy(a.begin() + long(i * da), a.begin() + long((i + 1) * da), out.begin() + long(i * (da + db)));
    std::copy(b.begin() + long(i * db), b.begin() + long((i + 1) * db), out.begin() + long(i * (da + db) + da));
  }
  return out;
}

std::vector<float> one_hot(const std::vector<std::int64_t>& ids, std::size_t classes, std::int64_t first) {
  std::vector<float> out(ids.size() * classes, 0.f);
  for (std::size_t i = 0; i < ids.size(); ++i) out[i * classes + std::size_t(ids[i] - first)] = 1.f;
  return out;
}

pipeline::Modality dense(std::string name, std::vector<float> values, std::size_t dim) {
  pipeline::Modality m;
  m.name = std::move(name);
  m.values = std::move(values);
  m.sample_shape = {dim};
  return m;
}


struct Loaded {
  pipeline::Dataset data;
  pipeline::Split split;
};

Loaded load_set(const std::string& set) {
  Loaded l;
  pipeline::Dataset& d = l.data;
  if (set == "wiki") {
    d.classes = 10;
    d.labels = concat_rows(load_floats("wikipedia/npy/test_label_onehot_u8.npy"),
                           load_floats("wikipedia/npy/train_label_onehot_u8.npy"));
    d.modalities.push_back(dense("img", concat_rows(load_floats("wikipedia/npy/test_img_sift128_f32.npy"),
                                                    load_floats("wikipedia/npy/train_img_sift128_f32.npy")), 128));
    d.modalities.push_back(dense("txt", concat_rows(load_floats("wikipedia/npy/test_txt_lda10_f32.npy"),
                                                    load_floats("wikipedia/npy/train_txt_lda10_f32.npy")), 10));
    l.split = {load_indices("wiki_q_idx_i32.npy"), load_indices("wiki_db_idx_i32.npy"), load_indices("wiki_tr_idx_i32.npy")};
  } else if (set == "uci") {
    d.classes = 10;
    std::vector<std::int64_t> ids = load("uci_mfeat/test_label_i32.npy").as<std::int64_t>();
    std::vector<std::int64_t> train_ids = load("uci_mfeat/train_label_i32.npy").as<std::int64_t>();
    ids.insert(ids.end(), train_ids.begin(), train_ids.end());
    std::int64_t first = *std::min_element(ids.begin(), ids.end());
    d.labels = one_hot(ids, 10, first);
    d.modalities.push_back(dense("fourier", concat_rows(load_floats("uci_mfeat/test_fourier76_f32.npy"),
                                                        load_floats("uci_mfeat/train_fourier76_f32.npy")), 76));
    d.modalities.push_back(dense("kl", concat_rows(load_floats("uci_mfeat/test_karhunenloeve64_f32.npy"),
                                                   load_floats("uci_mfeat/train_karhunenloeve64_f32.npy")), 64));
    d.modalities.push_back(dense("pixel", concat_rows(load_floats("uci_mfeat/test_pixel240_u8.npy"),
                                                      load_floats("uci_mfeat/train_pixel240_u8.npy")), 240));
    l.split = {load_indices("uci_q_idx_i32.npy"), load_indices("uci_db_idx_i32.npy"), load_indices("uci_tr_idx_i32.npy")};
  } else if (set == "mir730" || set == "photos") {
    d.classes = 24;
    d.labels = load_floats("mirflickr25k/subset730/labels_u8.npy");
    if (set == "mir730") {
      d.modalities.push_back(dense("img", concat_columns(load_floats("mirflickr25k/subset730/img_colorhist512_f32.npy"), 512,
                                                         load_floats("mirflickr25k/subset730/img_gridorient144_f32.npy"), 144),
                                   656));
    } else {
      // HWC uint8 photos -> CHW floats in [0, 1]; per-pixel standardisation plays the mean image's role.
      const std::vector<float> hwc = load_floats("mirflickr25k/subset730/img_rgb64_u8.npy");
      const std::size_t n = hwc.size() / (64 * 64 * 3);
      std::vector<float> chw(hwc.size());
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t y = 0; y < 64; ++y)
          for (std::size_t x = 0; x < 64; ++x)
            for (std::size_t c = 0; c < 3; ++c)
              chw[((i * 3 + c) * 64 + y) * 64 + x] = hwc[((i * 64 + y) * 64 + x) * 3 + c] / 255.f;
      pipeline::Modality m;
      m.name = "img";
      m.values = std::move(chw);
      m.sample_shape = {3, 64, 64};
      d.modalities.push_back(std::move(m));  // an image: the recipes give it a CNN-F (the small one)
    }
    d.modalities.push_back(dense("txt", load_floats("mirflickr25k/subset730/text_bow1386_u8.npy"), 1386));
    l.split = {load_indices("mir730_q_idx_i32.npy"), load_indices("mir730_db_idx_i32.npy"), load_indices("mir730_tr_idx_i32.npy")};
  } else if (set == "mirtext") {
    d.classes = 24;
    d.labels = load_floats("mirflickr25k/full/labels_u8.npy");
    d.modalities.push_back(dense("txt", load_floats("mirflickr25k/full/text_bow1386_u8.npy"), 1386));
    l.split = {load_indices("mirfull_q_idx_i32.npy"), load_indices("mirfull_db_idx_i32.npy"), load_indices("mirfull_tr_idx_i32.npy")};
  } else {
    throw InvalidArgument("unknown set '" + set + "' (wiki, uci, mir730, photos, mirtext)");
  }
  d.items = d.labels.size() / d.classes;
  return l;
}

std::vector<int> parse_bits(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string set = "wiki", recipe = "recommended", objective = "paper", json_path, bits = "16,32,64", text_backbone;
  std::string init_override;
  bool zero_buffers = false, no_early_stop = false;
  double adversarial_weight = -1;
  double label_lr_override = 0;
  std::vector<double> modality_lr_override;  // one value for every modality, or one per modality
  std::vector<std::size_t> hidden_override;
  long epochs = -1;
  std::size_t steps_per_pass = 0;  // 0: the recipe's (n / batch)
  std::uint64_t seed = 1;
  data_dir = std::getenv("SSAH_DATA_DIR") ? std::getenv("SSAH_DATA_DIR") : SSAH_DEFAULT_DATA_DIR;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw InvalidArgument("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--set") set = next();
    else if (a == "--recipe") recipe = next();
    else if (a == "--objective") objective = next();
    else if (a == "--bits") bits = next();
    else if (a == "--epochs") epochs = std::stol(next());
    else if (a == "--data") data_dir = next();
    else if (a == "--json") json_path = next();
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--text-backbone") text_backbone = next();
    else if (a == "--init") init_override = next();
    else if (a == "--zero-buffers") zero_buffers = true;
    else if (a == "--no-early-stop") no_early_stop = true;
    else if (a == "--adversarial") adversarial_weight = std::stod(next());
    else if (a == "--steps-per-pass") steps_per_pass = std::stoul(next());
    else if (a == "--label-lr") label_lr_override = std::stod(next());
    else if (a == "--modality-lr") {
      std::stringstream in(next());
      for (std::string item; std::getline(in, item, ',');) modality_lr_override.push_back(std::stod(item));
    } else if (a == "--hidden") {
      std::stringstream in(next());
      for (std::string item; std::getline(in, item, ',');) hidden_override.push_back(std::stoul(item));
    }
    else {
      std::cerr << "usage: ssah_experiments --set wiki|uci|mir730|photos|mirtext [--bits 16,32,64]\n"
                   "       [--recipe recommended|faithful|authors] [--objective paper|reference] [--epochs N]\n"
                   "       [--data DIR] [--json FILE] [--seed S]\n"
                   "       [--text-backbone text|feature] [--init reference|xavier|pytorch] [--zero-buffers]\n"
                   "       [--no-early-stop] [--adversarial WEIGHT] [--steps-per-pass N] [--hidden W,W]\n"
                   "       [--label-lr E] [--modality-lr E[,E...]]   (epoch-0 rate 10^-E, then the tables' decay;\n"
                   "       one E for every modality or one per modality in the set's order)\n";
      return 2;
    }
  }
  try {
    Loaded l = load_set(set);
    pipeline::Experiment e;
    e.bits = parse_bits(bits);
    e.objective = objective;
    e.seed = seed;
    e.train.seed = seed;
    e.eval.precision_at.clear();
    e.eval.pr_curve = false;
    e.eval.per_query = false;
    // The recipe (ssah/recipes.hpp), then the overrides given for exploring (results.sh runs the
    // recipes as they are).
    recipes::Settings s = recipes::resolve(recipe, recipes::DataTraits::of(l.data, l.split.train));
    if (!text_backbone.empty())
      for (std::size_t m = 0; m < s.backbones.size(); ++m)
        if (s.backbones[m] != "cnnf" && !s.standardize[m]) s.backbones[m] = text_backbone;  // the bags of words
    if (!init_override.empty()) s.init = init_scheme_from_name(init_override);
    if (epochs > 0) s.epochs = std::size_t(epochs);
    if (no_early_stop) s.early_stop = false;  // every pass of every stage runs
    if (steps_per_pass > 0) s.steps_per_pass = steps_per_pass;
    if (label_lr_override > 0) s.label_lr = label_lr_override;
    if (!hidden_override.empty()) s.hidden = hidden_override;
    if (!modality_lr_override.empty()) {
      if (modality_lr_override.size() != 1 && modality_lr_override.size() != s.modality_lr.size())
        throw InvalidArgument("--modality-lr: give one rate or one per modality (" +
                              std::to_string(s.modality_lr.size()) + ")");
      for (std::size_t m = 0; m < s.modality_lr.size(); ++m)
        s.modality_lr[m] = modality_lr_override[modality_lr_override.size() == 1 ? 0 : m];
    }
    recipes::apply(s, l.data, e);
    if (zero_buffers) e.train.random_buffer_init = false;  // F/H buffers start at 0, not N(0, 1)
    if (adversarial_weight >= 0) e.train.weights.adversarial = adversarial_weight;
    e.train.on_progress = [](const TrainingProgress& p) {
      if (p.step + 1 == p.steps)
        std::fprintf(stderr, "  epoch %zu %-14s stage %zu pass %zu: loss %.4g (%.0f%%, %.0fs)\n", p.epoch,
                     p.network.c_str(), p.stage, p.pass, p.loss, 100 * p.fraction_done, p.elapsed_seconds);
    };
    std::printf("set %s: %zu items, %zu classes, query %zu / database %zu / train %zu; recipe %s (%zu epochs), "
                "objective %s\n",
                set.c_str(), l.data.items, l.data.classes, l.split.query.size(), l.split.database.size(),
                l.split.train.size(), recipe.c_str(), s.epochs, objective.c_str());
    const std::vector<pipeline::BitsResult> results = pipeline::run(l.data, l.split, e);
    nlohmann::json report;
    report["set"] = set;
    report["recipe"] = recipe;
    report["objective"] = objective;
    report["seed"] = seed;
    report["settings"] = recipes::to_json(s);
    report["init"] = init_scheme_name(s.init);
    if (zero_buffers) report["zero_buffers"] = true;
    if (adversarial_weight >= 0) report["adversarial_weight"] = adversarial_weight;
    for (const auto& r : results) {
      std::printf("K=%d (%.1fs training, %zu epochs):", r.bits, r.train_seconds, r.epochs);
      nlohmann::json jb;
      jb["train_seconds"] = r.train_seconds;
      jb["epochs"] = r.epochs;
      for (const auto& dir : r.directions) {
        std::printf("  %s %.3f", dir.name.c_str(), dir.result.map);
        jb["map"][dir.name] = dir.result.map;
        jb["map_tie_aware"][dir.name] = dir.result.map_tie_aware;
      }
      std::printf("\n");
      std::fflush(stdout);
      report["bits"][std::to_string(r.bits)] = jb;
    }
    if (!json_path.empty()) io::write_file_atomic(json_path, report.dump(2) + "\n");
  } catch (const std::exception& ex) {
    std::cerr << "ssah_experiments: " << ex.what() << "\n";
    return 1;
  }
  return 0;
}
