// `ssah train`: SSAH on the user's own data (.npy files), end to end: read and check the inputs,
// split (given or seeded), standardise dense inputs, train at each K, write checkpoints, codes,
// report.json, precision-recall / precision@N curves (CSV, and SVG plots when gnuplot is on PATH).
// `ssah encode`: codes of new items with a checkpoint written by train.
// Every file is written atomically; nothing already in the output folder is deleted.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "checkpoint.hpp"
#include "cli_common.hpp"
#include "ssah/io/atomic_file.hpp"
#include "ssah/io/npy.hpp"
#include "ssah/pipeline.hpp"

namespace ssah::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TrainArgs {
  std::vector<std::string> modalities, backbones;
  std::string labels, split_dir, out;
  std::vector<int> bits = {16, 32, 64};
  std::string objective = "paper";
  std::size_t epochs = 1;
  std::uint64_t seed = 0;
  bool no_standardize = false;
  std::vector<std::size_t> hidden;
  std::size_t batch_size = 128;
  std::size_t passes = 0;
};

std::pair<std::string, std::string> split_pair(const std::string& s, const char* option) {
  const std::size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    detail::fail<InvalidArgument>(option, " expects NAME=VALUE, got '", s, "'");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

/// One .npy input of a modality: its values as floats, checked.
pipeline::Modality read_modality(const std::string& name, const std::string& path, bool& binary) {
  const io::NpyArray a = io::read_npy(path);
  if (a.ndim() < 2 || a.ndim() > 4)
    detail::fail<ShapeError>("'", path, "': a modality must be an array [items, ...] of 2 to 4 dimensions, got shape ",
                             io::shape_str(a.shape));
  if (a.rows() == 0 || a.row_size() == 0) detail::fail<ShapeError>("'", path, "': no items (shape ", io::shape_str(a.shape), ")");
  io::check_finite(a);
  pipeline::Modality m;
  m.name = name;
  m.sample_shape.assign(a.shape.begin() + 1, a.shape.end());
  m.values = a.as<float>();
  binary = a.dtype == io::DType::U8 &&
           std::all_of(m.values.begin(), m.values.end(), [](float v) { return v == 0.f || v == 1.f; });
  return m;
}

std::vector<std::size_t> read_indices(const std::string& path, std::size_t items) {
  const io::NpyArray a = io::read_npy(path);
  if (a.dtype != io::DType::I32 && a.dtype != io::DType::I64)
    detail::fail<IoError>("'", path, "': split indices must be int32 or int64, got ", io::dtype_name(a.dtype));
  if (a.ndim() != 1) detail::fail<ShapeError>("'", path, "': split indices must be 1-D, got shape ", io::shape_str(a.shape));
  if (a.size() == 0) detail::fail<InvalidArgument>("'", path, "': the split is empty");
  std::vector<std::size_t> out;
  out.reserve(a.size());
  for (std::int64_t v : a.as<std::int64_t>()) {
    if (v < 0 || static_cast<std::uint64_t>(v) >= items)
      detail::fail<InvalidArgument>("'", path, "': index ", v, " is out of range for ", items, " items");
    out.push_back(static_cast<std::size_t>(v));
  }
  return out;
}

void write_indices(const std::string& path, const std::vector<std::size_t>& rows) {
  std::vector<std::int64_t> v(rows.begin(), rows.end());
  io::write_npy(path, v, {v.size()});
}

std::string file_part(const std::string& direction) {
  std::string s = direction;
  const std::size_t p = s.find("->");
  if (p != std::string::npos) s.replace(p, 2, "_to_");
  return s;
}

/// Renders an SVG with gnuplot (written to a temporary name, then renamed); a warning, never a
/// failure, when gnuplot is absent or fails.
void plot(const std::string& script_path, const std::string& svg_path, const std::string& script_body) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    static bool warned = false;
    if (!warned) std::fprintf(stderr, "ssah train: warning: gnuplot not found on PATH; plots skipped (CSV written)\n");
    warned = true;
    return;
  }
  const std::string tmp = svg_path + ".tmp-plot";
  io::write_file_atomic(script_path, "set terminal svg size 800,600 dynamic\nset output '" + tmp + "'\n" + script_body);
  const std::string cmd = "gnuplot '" + script_path + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0 || std::rename(tmp.c_str(), svg_path.c_str()) != 0) {
    std::fprintf(stderr, "ssah train: warning: gnuplot failed on %s; plot skipped\n", script_path.c_str());
    std::remove(tmp.c_str());
  }
}

void write_curves(const std::string& out, const pipeline::BitsResult& r) {
  const std::string k = "K" + std::to_string(r.bits);
  std::string pr_plot = "set title 'precision-recall, " + k +
                        " (Hamming radius sweep)'\nset xlabel 'recall'\nset ylabel 'precision'\nset key outside\n"
                        "set datafile separator ','\nplot ";
  std::string pn_plot = "set title 'precision@N, " + k +
                        "'\nset xlabel 'N'\nset ylabel 'precision'\nset key outside\nset datafile separator ','\nplot ";
  bool first = true;
  for (const pipeline::Direction& d : r.directions) {
    const std::string base = out + "/curves/" + k + "_" + file_part(d.name);
    std::string pr = "radius,precision,recall\n";
    const std::size_t radii = std::min(d.result.pr_precision.size(), static_cast<std::size_t>(r.bits) + 1);
    for (std::size_t i = 0; i < radii; ++i)
      pr += std::to_string(i) + "," + std::to_string(d.result.pr_precision[i]) + "," +
            std::to_string(d.result.pr_recall[i]) + "\n";
    io::write_file_atomic(base + "_pr.csv", pr);
    std::string pn = "n,precision\n";
    for (std::size_t i = 0; i < d.result.precision_n.size(); ++i)
      pn += std::to_string(d.result.precision_n[i]) + "," + std::to_string(d.result.precision_at_n[i]) + "\n";
    io::write_file_atomic(base + "_precision_at_n.csv", pn);
    const std::string sep = first ? "" : ", ";
    pr_plot += sep + "'" + base + "_pr.csv' every ::1 using 3:2 with linespoints title '" + d.name + "'";
    pn_plot += sep + "'" + base + "_precision_at_n.csv' every ::1 using 1:2 with linespoints title '" + d.name + "'";
    first = false;
  }
  plot(out + "/curves/" + k + "_pr.gp", out + "/" + k + "_pr.svg", pr_plot + "\n");
  plot(out + "/curves/" + k + "_precision_at_n.gp", out + "/" + k + "_precision_at_n.svg", pn_plot + "\n");
}

std::string eta(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds);
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

void run_train(const TrainArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  if (a.modalities.size() > 3)
    detail::fail<InvalidArgument>(a.modalities.size(), " modalities given; ssah train supports 1 to 3");
  for (int b : a.bits)
    if (b != 16 && b != 32 && b != 64 && b != 128)
      detail::fail<InvalidArgument>("--bits: ", b, " is not supported (16, 32, 64, 128)");

  std::map<std::string, std::string> kinds;
  for (const std::string& s : a.backbones) {
    auto [name, kind] = split_pair(s, "--backbone");
    if (kind == "cnn") kind = "cnnf";
    if (kind != "feature" && kind != "text" && kind != "cnnf")
      detail::fail<InvalidArgument>("--backbone ", s, ": the backbone must be feature, text or cnn");
    kinds[name] = kind;
  }

  // Inputs.
  const io::NpyArray labels = io::read_npy(a.labels);
  if (labels.ndim() != 2 || labels.rows() == 0 || labels.shape[1] == 0)
    detail::fail<ShapeError>("'", a.labels, "': labels must be a multi-hot array [items, classes], got shape ",
                             io::shape_str(labels.shape));
  io::check_finite(labels);
  pipeline::Dataset data;
  data.items = labels.rows();
  data.classes = labels.shape[1];
  data.labels = labels.as<float>();
  for (std::size_t i = 0; i < data.labels.size(); ++i)
    if (data.labels[i] != 0.f && data.labels[i] != 1.f)
      detail::fail<InvalidArgument>("'", a.labels, "': labels must be 0 or 1, found ", data.labels[i], " at row ",
                                    i / data.classes, ", column ", i % data.classes);
  std::vector<std::string> files;
  std::set<std::string> names;
  for (const std::string& s : a.modalities) {
    const auto [name, path] = split_pair(s, "--modality");
    if (!names.insert(name).second) detail::fail<InvalidArgument>("--modality: the name '", name, "' is used twice");
    if (name == "label") detail::fail<InvalidArgument>("--modality: the name 'label' is reserved for label queries");
    bool binary = false;
    pipeline::Modality m = read_modality(name, path, binary);
    if (m.values.size() / m.row_size() != data.items)
      detail::fail<ShapeError>("'", path, "' has ", m.values.size() / m.row_size(), " rows but labels '", a.labels,
                               "' have ", data.items);
    const auto k = kinds.find(name);
    m.backbone.kind = k != kinds.end() ? k->second : "feature";
    m.standardize = !a.no_standardize && !binary && m.backbone.kind != "text";
    if (!a.hidden.empty()) {
      m.backbone.feature.hidden = a.hidden;
      m.backbone.text.hidden = a.hidden;
    }
    data.modalities.push_back(std::move(m));
    files.push_back(path);
  }
  for (const auto& [name, kind] : kinds)
    if (!names.count(name)) detail::fail<InvalidArgument>("--backbone ", name, "=", kind, ": no modality '", name, "'");

  // Split.
  pipeline::Split split;
  std::error_code ec;
  fs::create_directories(a.out + "/codes", ec);
  fs::create_directories(a.out + "/curves", ec);
  if (!fs::is_directory(a.out + "/codes") || !fs::is_directory(a.out + "/curves"))
    detail::fail<IoError>("'", a.out, "': cannot create the output folder");
  if (!a.split_dir.empty()) {
    split.query = read_indices(a.split_dir + "/query_idx.npy", data.items);
    split.database = read_indices(a.split_dir + "/db_idx.npy", data.items);
    split.train = read_indices(a.split_dir + "/train_idx.npy", data.items);
  } else {
    const std::size_t queries = std::max<std::size_t>(1, std::min<std::size_t>(data.items / 10, 2000));
    if (queries >= data.items) detail::fail<InvalidArgument>("too few items (", data.items, ") to split");
    split = pipeline::Split::random(data.items, queries, std::min<std::size_t>(10000, data.items - queries), a.seed);
    fs::create_directories(a.out + "/split", ec);
    write_indices(a.out + "/split/query_idx.npy", split.query);
    write_indices(a.out + "/split/db_idx.npy", split.database);
    write_indices(a.out + "/split/train_idx.npy", split.train);
  }
  split.validate(data.items);
  data.validate();

  // Standardisation here (not in the pipeline) so that the checkpoint keeps it.
  std::vector<CheckpointModality> cms;
  for (pipeline::Modality& m : data.modalities) {
    CheckpointModality cm;
    cm.name = m.name;
    cm.sample_shape = m.sample_shape;
    if (m.standardize) {
      const pipeline::Standardization st = pipeline::Standardization::fit(m, split.train);
      st.apply(m.values);
      cm.mean = st.mean;
      cm.stddev = st.stddev;
      m.standardize = false;
    }
    cms.push_back(std::move(cm));
  }

  pipeline::Experiment e;
  e.bits = a.bits;
  e.objective = a.objective;
  e.seed = a.seed;
  e.train.epochs = a.epochs;
  e.train.seed = a.seed;
  e.train.batch_size = a.batch_size;
  if (!a.hidden.empty()) {
    e.label_net.hidden = a.hidden;
    e.discriminator.hidden = a.hidden;
  }
  if (a.passes > 0) {
    e.train.label_passes = {a.passes};
    e.train.discriminator_passes = {a.passes};
    e.train.modality_passes = {a.passes};
  }
  e.eval.per_query = false;
  e.eval.threads = 0;

  std::printf("ssah train: %zu items, %zu labels, %zu modalities; split %zu queries, %zu database, %zu training%s\n",
              data.items, data.classes, data.modalities.size(), split.query.size(), split.database.size(),
              split.train.size(), a.split_dir.empty() ? " (seeded, saved to split/)" : "");
  for (std::size_t m = 0; m < data.modalities.size(); ++m)
    std::printf("  %s: %s, shape [%zu x %zu], backbone %s, %s\n", data.modalities[m].name.c_str(), files[m].c_str(),
                data.items, data.modalities[m].row_size(), data.modalities[m].backbone.kind.c_str(),
                cms[m].mean.empty() ? "not standardised" : "standardised");
  std::fflush(stdout);

  const bool tty = isatty(fileno(stderr)) != 0;
  int current_bits = 0;
  auto last_key = std::make_shared<std::string>();
  e.train.on_progress = [tty, &current_bits, last_key](const TrainingProgress& p) {
    const double left = p.fraction_done > 0 ? p.elapsed_seconds * (1 - p.fraction_done) / p.fraction_done : 0;
    if (tty) {
      std::fprintf(stderr,
                   "\r  K%-3d %-14s epoch %zu/%zu stage %zu pass %zu/%zu step %zu/%zu loss %.4g (F %.3g H %.3g Q %.3g "
                   "L %.3g A %.3g) ETA %s   ",
                   current_bits, p.network.c_str(), p.epoch + 1, p.epochs, p.stage, p.pass + 1, p.passes, p.step + 1,
                   p.steps, p.loss, p.feature_pairwise, p.hash_pairwise, p.quantization, p.label, p.adversarial,
                   eta(left).c_str());
    } else if (p.step + 1 == p.steps) {
      const std::string key = std::to_string(current_bits) + p.network + std::to_string(p.epoch) + "/" +
                              std::to_string(p.stage) + "/" + std::to_string(p.pass);
      if (key == *last_key) return;
      *last_key = key;
      std::fprintf(stderr, "K%d %s epoch %zu/%zu stage %zu pass %zu/%zu: loss %.4g, %.0f%% done, ETA %s\n",
                   current_bits, p.network.c_str(), p.epoch + 1, p.epochs, p.stage, p.pass + 1, p.passes, p.loss,
                   100 * p.fraction_done, eta(left).c_str());
    }
  };

  json report;
  report["command"] = "train";
  report["items"] = data.items;
  report["classes"] = data.classes;
  report["labels"] = a.labels;
  json jm = json::array();
  for (std::size_t m = 0; m < data.modalities.size(); ++m)
    jm.push_back({{"name", data.modalities[m].name},
                  {"file", files[m]},
                  {"sample_shape", data.modalities[m].sample_shape},
                  {"backbone", data.modalities[m].backbone.kind},
                  {"standardized", !cms[m].mean.empty()}});
  report["modalities"] = jm;
  report["split"] = {{"source", a.split_dir.empty() ? std::string("seeded (split/)") : a.split_dir},
                     {"query", split.query.size()},
                     {"database", split.database.size()},
                     {"train", split.train.size()}};
  const auto& w = e.train.weights;
  report["hyperparameters"] = {
      {"bits", a.bits},
      {"objective", a.objective},
      {"epochs", a.epochs},
      {"seed", a.seed},
      {"batch_size", e.train.batch_size},
      {"label_passes", e.train.label_passes},
      {"discriminator_passes", e.train.discriminator_passes},
      {"modality_passes", e.train.modality_passes},
      {"early_stop", e.train.early_stop},
      {"random_buffer_init", e.train.random_buffer_init},
      {"learning_rates", "SSAH reference tables (label 2.0, discriminator 3.0, modalities 4.0)"},
      {"loss_weights",
       {{"feature_pairwise", w.feature_pairwise},
        {"hash_pairwise", w.hash_pairwise},
        {"quantization", w.quantization},
        {"label", w.label},
        {"adversarial", w.adversarial}}},
      {"label_net_hidden", e.label_net.hidden},
      {"discriminator_hidden", e.discriminator.hidden},
      {"standardize", !a.no_standardize}};
  report["relevance"] = "shares at least one label";
  report["map_ties"] = "ties in Hamming distance ordered by database index";
  json results = json::object();

  for (int bits : a.bits) {
    current_bits = bits;
    e.bits = {bits};
    e.on_trained = [&](int k, AnyModel<float>& model) {
      Checkpoint c;
      c.spec = pipeline::model_spec(data, e, k);
      c.epoch = model.epoch();
      c.modalities = cms;
      save_checkpoint(a.out + "/model-K" + std::to_string(k) + ".safetensors", c, model);
    };
    const pipeline::BitsResult r = std::move(pipeline::run(data, split, e).front());
    if (tty) std::fprintf(stderr, "\r%160s\r", "");
    const std::string k = "K" + std::to_string(bits);
    for (std::size_t m = 0; m < data.modalities.size(); ++m) {
      const std::string base = a.out + "/codes/" + k + "_" + data.modalities[m].name;
      io::write_npy(base + "_query.npy", sign_codes(r.query_hashes[m]), {split.query.size(), std::size_t(bits)});
      io::write_npy(base + "_db.npy", sign_codes(r.database_hashes[m]), {split.database.size(), std::size_t(bits)});
    }
    write_curves(a.out, r);
    json maps = json::object();
    std::printf("K = %d (%.1f s):", bits, r.train_seconds);
    for (const pipeline::Direction& d : r.directions) {
      maps[d.name] = d.result.map;
      std::printf(" %s %.4f", d.name.c_str(), d.result.map);
    }
    std::printf("\n");
    std::fflush(stdout);
    results[k] = {{"bits", bits},
                  {"map", maps},
                  {"train_seconds", r.train_seconds},
                  {"encode_seconds", r.encode_seconds},
                  {"epochs", r.epochs},
                  {"checkpoint", "model-" + k + ".safetensors"}};
    report["results"] = results;
    report["total_seconds"] = seconds_since(start);
    io::write_file_atomic(a.out + "/report.json", report.dump(2) + "\n");
  }
  std::printf("written to %s: model-K*.safetensors, codes/, curves/, report.json%s\n", a.out.c_str(),
              a.split_dir.empty() ? ", split/" : "");
}

struct EncodeArgs {
  std::string checkpoint, modality, out;
};

void run_encode(const EncodeArgs& a) {
  Checkpoint c;
  std::unique_ptr<AnyModel<float>> model = load_checkpoint(a.checkpoint, c);
  const auto [name, path] = split_pair(a.modality, "--modality");
  std::size_t m = 0;
  while (m < c.modalities.size() && c.modalities[m].name != name) ++m;
  if (m == c.modalities.size()) {
    std::string known;
    for (const auto& cm : c.modalities) known += (known.empty() ? "'" : ", '") + cm.name + "'";
    detail::fail<InvalidArgument>("checkpoint '", a.checkpoint, "' has no modality '", name, "' (it has ", known, ")");
  }
  bool binary = false;
  pipeline::Modality in = read_modality(name, path, binary);
  if (in.sample_shape != c.modalities[m].sample_shape)
    detail::fail<ShapeError>("'", path, "': items of shape ", io::shape_str(in.sample_shape), " where the checkpoint's '",
                             name, "' expects ", io::shape_str(c.modalities[m].sample_shape));
  const std::size_t rows = in.values.size() / in.row_size();
  if (!c.modalities[m].mean.empty()) {
    pipeline::Standardization st;
    st.mean = c.modalities[m].mean;
    st.stddev = c.modalities[m].stddev;
    st.apply(in.values);
  }
  const auto& s = in.sample_shape;
  Shape shape;
  switch (s.size()) {
    case 1: shape = Shape{rows, s[0]}; break;
    case 2: shape = Shape{rows, s[0], s[1]}; break;
    default: shape = Shape{rows, s[0], s[1], s[2]}; break;
  }
  const std::vector<float> h = model->hashes(m, Tensor<float>::from_host(shape, in.values)).to_host();
  io::write_npy(a.out, sign_codes(h), {rows, static_cast<std::size_t>(c.spec.bits)});
  std::printf("%zu codes of %d bits written to %s\n", rows, c.spec.bits, a.out.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train SSAH on .npy data, write checkpoints, codes, report and curves");
  cmd->add_option("--modality", args->modalities, "NAME=FILE.npy, items [N, ...] (1 to 3 modalities)")
      ->required();
  cmd->add_option("--labels", args->labels, "multi-hot labels .npy [N, classes] of 0/1")->required();
  cmd->add_option("--split", args->split_dir, "folder with query_idx.npy, db_idx.npy, train_idx.npy (int32/int64)");
  cmd->add_option("--bits", args->bits, "code lengths (16, 32, 64, 128)")->delimiter(',');
  cmd->add_option("--objective", args->objective, "paper or reference")->check(CLI::IsMember({"paper", "reference"}));
  cmd->add_option("--backbone", args->backbones, "NAME=feature|text|cnn (default feature)");
  cmd->add_option("--epochs", args->epochs, "training epochs")->check(positive_integer());
  cmd->add_option("--seed", args->seed, "seed of the split and of training");
  cmd->add_flag("--no-standardize", args->no_standardize, "do not z-score dense inputs");
  cmd->add_option("--out", args->out, "output folder (created; nothing in it is deleted)")->required();
  cmd->add_option("--hidden", args->hidden,
                  "widths of the hidden layers of every network (label, feature/text backbones, discriminators); "
                  "for small tests")
      ->delimiter(',')
      ->check(positive_integer());
  cmd->add_option("--batch-size", args->batch_size, "mini-batch size")->check(positive_integer());
  cmd->add_option("--passes", args->passes, "passes per network per epoch (one stage each); for small tests")
      ->check(positive_integer());
  cmd->callback([args] { run_train(*args); });
}

void add_encode_command(CLI::App& app) {
  auto args = std::make_shared<EncodeArgs>();
  CLI::App* cmd = app.add_subcommand("encode", "Hash codes (int8 ±1) of items with a checkpoint written by train");
  cmd->add_option("--checkpoint", args->checkpoint, "model-K<bits>.safetensors written by ssah train")->required();
  cmd->add_option("--modality", args->modality, "NAME=FILE.npy (NAME as in training)")->required();
  cmd->add_option("--out", args->out, "codes .npy [N, K] int8")->required();
  cmd->callback([args] { run_encode(*args); });
}

}  // namespace ssah::cli
