// `ssah train`: reading and checking every input before anything is written (train.hpp).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli_common.hpp"
#include "mat_input.hpp"
#include "pretrained.hpp"
#include "ssah/io/array.hpp"
#include "train.hpp"

namespace ssah::cli {
namespace {

std::vector<std::size_t> read_indices(const std::string& path, std::size_t items) {
  auto not_indices = [&](const std::string& dtype) {
    SSAH_THROW(IoError, "'", path, "': split indices must be int32 or int64, got ", dtype);
  };
  io::NpyArray a;
  try {
    a = io::read_npy(path);
  } catch (const io::NpyUnsupportedDType& e) {  // uint64, float16, ...: the same message as float32's
    not_indices(io::npy_descr_name(e.descr()));
  }
  if (a.dtype != io::DType::I32 && a.dtype != io::DType::I64) not_indices(io::dtype_name(a.dtype));
  if (a.ndim() != 1)
    SSAH_THROW(ShapeError, "'", path, "': split indices must be 1-D, got shape ", io::shape_str(a.shape));
  if (a.size() == 0) SSAH_THROW(InvalidArgument, "'", path, "': the split is empty");
  std::vector<std::size_t> out;
  out.reserve(a.size());
  for (std::int64_t v : a.as<std::int64_t>()) {
    if (v < 0 || static_cast<std::uint64_t>(v) >= items)
      SSAH_THROW(InvalidArgument, "'", path, "': index ", v, " is out of range for ", items, " items");
    out.push_back(static_cast<std::size_t>(v));
  }
  return out;
}

}  // namespace

std::vector<RunInput> run_inputs(const TrainArgs& a) {
  std::vector<RunInput> input_files;
  for (const std::string& m : a.modalities) input_files.push_back({"--modality", split_pair(m, "--modality").second});
  input_files.push_back({"--labels", a.labels});
  input_files.push_back({"--mat", a.mat.file});
  for (const char* f : {"/query_idx.npy", "/db_idx.npy", "/train_idx.npy"})
    if (!a.split_dir.empty()) input_files.push_back({"--split", a.split_dir + f});
  for (const std::string& s : a.pretrained)
    input_files.push_back({"--pretrained", split_pair(s, "--pretrained").second});
  return input_files;
}

TrainInputs read_train_inputs(const TrainArgs& a) {
  TrainInputs in;
  std::map<std::string, std::string>& kinds = in.kinds;
  std::map<std::string, std::string>& pretrained_files = in.pretrained_files;
  std::map<std::string, std::string> backbone_given;  // as the user wrote it ("img=cnn"), for messages
  for (const std::string& s : a.backbones) {
    auto [name, kind] = split_pair(s, "--backbone");
    backbone_given[name] = s;
    if (kind == "cnn") kind = "cnnf";
    if (kind != "feature" && kind != "text" && kind != "cnnf")
      SSAH_THROW(InvalidArgument, "--backbone ", s, ": the backbone must be feature, text or cnn");
    if (!kinds.emplace(name, kind).second)
      SSAH_THROW(InvalidArgument, "--backbone: the modality '", name, "' is given twice");
  }
  for (const std::string& s : a.pretrained) {
    const auto [name, file] = split_pair(s, "--pretrained");
    if (!mat_input_supported())
      SSAH_THROW(InvalidArgument, "--pretrained ", s,
                 ": this ssah was built without MATLAB .mat support (matio was not found)");
    if (!pretrained_files.emplace(name, file).second)
      SSAH_THROW(InvalidArgument, "--pretrained: the modality '", name, "' is given twice");
    const auto k = kinds.find(name);
    if (k != kinds.end() && k->second != "cnnf")
      SSAH_THROW(InvalidArgument, "--pretrained ", s, " makes '", name, "' a CNN-F, but --backbone gives it ",
                 k->second);
    kinds[name] = "cnnf";
  }

  // Inputs: .npy files (--modality, --labels) or one .mat file (--mat, mat_input.cpp); the same
  // checks apply to both.
  const bool from_mat = !a.mat.file.empty();
  MatInput mat;
  if (from_mat) {
    if (!a.modalities.empty() || !a.labels.empty())
      SSAH_THROW(InvalidArgument,
                 "--mat reads the modalities and the labels from one .mat file: give either --mat "
                 "or --modality and --labels, not both");
    mat = read_mat_input(a.mat);
    std::printf("ssah train: %s (MATLAB v%s%s)\n", a.mat.file.c_str(), mat.version.c_str(),
                a.mat.layout.empty() ? "" : (", layout " + a.mat.layout).c_str());
    for (const MatModality& mm : mat.modalities)
      std::printf("  %s = %s, %s\n", mm.name.c_str(), mm.variable.c_str(), mm.arrangement.c_str());
    std::printf("  labels = %s\n", mat.labels_variable.c_str());
    nlohmann::json vars = nlohmann::json::object();
    for (const MatModality& mm : mat.modalities)
      vars[mm.name] = {{"variable", mm.variable}, {"dims", mm.dims}, {"arrangement", mm.arrangement}};
    in.mat_report = {{"file", a.mat.file},
                     {"version", mat.version},
                     {"layout", a.mat.layout},
                     {"modalities", vars},
                     {"labels", {{"variable", mat.labels_variable}, {"dims", mat.labels_dims}}}};
  } else if (a.mat.any()) {
    SSAH_THROW(InvalidArgument, "--mat-modality, --mat-labels and --mat-layout need --mat FILE");
  } else if (a.modalities.empty() && a.labels.empty()) {
    SSAH_THROW(InvalidArgument,
               "no inputs: give --modality NAME=FILE.npy (1 to 3 times) and --labels LABELS.npy, "
               "or --mat FILE.mat");
  } else if (a.labels.empty()) {
    SSAH_THROW(InvalidArgument, "--labels LABELS.npy is required with --modality (the labels of the items)");
  } else if (a.modalities.empty()) {
    SSAH_THROW(InvalidArgument, "--modality NAME=FILE.npy (1 to 3 times) is required with --labels");
  }
  pipeline::Dataset& data = in.data;
  data = pipeline::dataset_from_labels(from_mat ? std::move(mat.labels) : io::read_npy(a.labels));
  in.labels_file = data.labels_source;
  std::vector<std::pair<std::string, std::string>> inputs;  // NAME, .npy file or "<file>: <variable>"
  for (const std::string& s : a.modalities) inputs.push_back(split_pair(s, "--modality"));
  for (const MatModality& mm : mat.modalities) inputs.emplace_back(mm.name, mm.array.source);
  std::set<std::string> names;
  for (std::size_t input = 0; input < inputs.size(); ++input) {
    const auto& [name, path] = inputs[input];
    const char* option = from_mat ? "--mat-modality" : "--modality";
    try {  // before the next input is read
      pipeline::check_modality_name(name);
    } catch (const InvalidArgument& e) {
      SSAH_THROW(InvalidArgument, option, ": ", e.what());
    }
    if (!names.insert(name).second) SSAH_THROW(InvalidArgument, option, ": the name '", name, "' is used twice");
    pipeline::Modality m =
        pipeline::modality_from_array(name, from_mat ? std::move(mat.modalities[input].array) : io::read_npy(path));
    if (from_mat) mat.modalities[input].array = io::NpyArray();  // its values are in m now
    if (const auto pf = pretrained_files.find(name); pf != pretrained_files.end()) {
      if (m.sample_shape.size() != 3)
        SSAH_THROW(ShapeError, "--pretrained ", name, "=", pf->second, ": '", path, "' holds items of shape ",
                   io::shape_str(m.sample_shape), "; CNN-F reads images [C, H, W]");
      m.backbone.cnnf = pretrained_cnnf_config(pf->second);
    }
    data.modalities.push_back(std::move(m));
  }
  data.validate();  // rows of every modality against the labels
  std::string known;
  for (const std::string& name : names) known += (known.empty() ? "" : ", ") + name;
  for (const auto& [name, file] : pretrained_files)
    if (!names.count(name))
      SSAH_THROW(InvalidArgument, "--pretrained ", name, "=", file, ": no modality '", name, "' (the modalities are ",
                 known, ")");
  for (const auto& [name, given] : backbone_given)
    if (!names.count(name))
      SSAH_THROW(InvalidArgument, "--backbone ", given, ": no modality '", name, "' (the modalities are ", known, ")");

  // --pretrained: read each file once into a CnnF of the modality's input size (which checks that
  // the file's filters fit those images); every K's fresh model gets a copy.
  for (std::size_t m = 0; m < data.modalities.size(); ++m) {
    const pipeline::Modality& pm = data.modalities[m];
    const auto pf = pretrained_files.find(pm.name);
    if (pf == pretrained_files.end()) continue;
    auto p = std::make_shared<PretrainedCnnF>();
    p->modality = m;
    p->file = pf->second;
    const auto& s = pm.sample_shape;
    const auto& c = pm.backbone.cnnf;
    std::string loaded;
    try {
      p->net = std::make_unique<CnnF<float>>(Shape{s[0], s[1], s[2]}, c, p->params);
      loaded = load_pretrained_cnnf(*p->net, p->file);
    } catch (const Error& err) {
      SSAH_THROW(InvalidArgument, "--pretrained ", pm.name, "=", p->file, ": does not fit the images of '", pm.name,
                 "' (", io::shape_str(s), "): ", err.what());
    }
    std::string widths;
    for (std::size_t w : c.conv_channels) widths += (widths.empty() ? "" : ",") + std::to_string(w);
    in.pretrained_lines.push_back("  " + pm.name + ": CNN-F from " + p->file + " (" + loaded + "; conv " + widths +
                                  ", fc6 " + std::to_string(c.fc6) + ", fc7 " + std::to_string(c.fc7) + ", fc8 " +
                                  std::to_string(c.feature) + " new)");
    in.pretrained.push_back(std::move(p));
  }

  // Split.
  pipeline::Split& split = in.split;
  if (!a.split_dir.empty()) {
    split.query = read_indices(a.split_dir + "/query_idx.npy", data.items);
    split.database = read_indices(a.split_dir + "/db_idx.npy", data.items);
    split.train = read_indices(a.split_dir + "/train_idx.npy", data.items);
  } else {
    const std::size_t queries = std::max<std::size_t>(1, std::min<std::size_t>(data.items / 10, 2000));
    if (queries >= data.items) SSAH_THROW(InvalidArgument, "too few items (", data.items, ") to split");
    split = pipeline::Split::random(data.items, queries, std::min<std::size_t>(10000, data.items - queries), a.seed);
  }
  try {
    split.validate(data.items);
  } catch (const InvalidArgument& e) {
    if (a.split_dir.empty()) throw;
    const std::string what = e.what();  // "split: ..."
    SSAH_THROW(InvalidArgument, "--split ", a.split_dir, ": ",
               what.compare(0, 7, "split: ") == 0 ? what.substr(7) : what);
  }
  try {
    in.warnings = pipeline::data_warnings(data, split);
  } catch (const InvalidArgument& e) {  // "labels: ..."
    SSAH_THROW(InvalidArgument, "'", in.labels_file, "': ", std::string(e.what()).substr(8));
  }
  return in;
}

recipes::Settings resolve_settings(const TrainArgs& a, const TrainInputs& in) {
  const pipeline::Dataset& data = in.data;
  recipes::Settings settings = recipes::resolve(a.recipe, recipes::DataTraits::of(data, in.split.train));
  for (std::size_t m = 0; m < data.modalities.size(); ++m) {
    const std::string& name = data.modalities[m].name;
    if (const auto k = in.kinds.find(name); k != in.kinds.end()) {
      settings.backbones[m] = k->second;
      if (k->second == "text") settings.standardize[m] = false;  // TxtNet reads bags of words as they are
    }
    // CNN-F subtracts the file's mean image from raw pixel values (0..255): no standardisation.
    if (in.pretrained_files.count(name)) settings.standardize[m] = false;
    if (a.no_standardize) settings.standardize[m] = false;
  }
  if (!a.init.empty()) settings.init = init_scheme_from_name(a.init);
  if (a.epochs > 0) settings.epochs = a.epochs;
  if (!a.hidden.empty()) {
    if (a.hidden.size() > pipeline::max_hidden_layers)
      SSAH_THROW(InvalidArgument, "--hidden: ", a.hidden.size(), " widths (at most ", pipeline::max_hidden_layers,
                 " hidden layers)");
    settings.hidden = a.hidden;
    settings.discriminator_hidden = a.hidden;
  }
  if (a.batch_size > 0) settings.batch_size = a.batch_size;
  if (a.steps_per_pass > 0) settings.steps_per_pass = a.steps_per_pass;
  if (a.passes > 0) {
    settings.label_passes = {a.passes};
    settings.discriminator_passes = {a.passes};
    settings.modality_passes = {a.passes};
  }
  check_epochs(settings);
  return settings;
}

void check_networks(const TrainInputs& in, const pipeline::Experiment& e, int bits, bool hidden_given,
                    bool batch_given) {
  const pipeline::Dataset& data = in.data;
  const ModelSpec<float> spec = pipeline::model_spec(data, e, bits);
  const std::size_t rows = in.split.train.size(), batch = e.train.batch_size;
  try {
    pipeline::check_training_memory(spec, data, rows, batch, pipeline::kCheckpointedTrainingWeightCopies);
  } catch (const OutOfMemory& oom) {
    const pipeline::TrainingMemory needed =
        pipeline::training_memory_lower_bound(spec, data, rows, batch, pipeline::kCheckpointedTrainingWeightCopies);
    const char* option = needed.activations > needed.weights
                             ? (batch_given ? "--batch-size: " : "the recipe's batch size: ")
                             : (hidden_given ? "--hidden: " : "the recipe's widths: ");
    SSAH_THROW(OutOfMemory, option, oom.what());
  }
  for (std::size_t m = 0; m < data.modalities.size(); ++m) {
    const std::string& name = data.modalities[m].name;
    try {
      pipeline::check_backbone(spec, m, name);
    } catch (const OutOfMemory& oom) {
      SSAH_THROW(OutOfMemory, "the network of '", name, "': ", oom.what());
    } catch (const InvalidArgument& err) {
      const std::string kind = spec.backbones[m].kind == "cnnf" ? "cnn" : spec.backbones[m].kind;
      const std::string origin = in.pretrained_files.count(name) ? "--pretrained " + name
                                 : in.kinds.count(name)          ? "--backbone " + name + "=" + kind
                                                        : "the recipe's " + kind + " backbone for '" + name + "'";
      SSAH_THROW(InvalidArgument, origin, ": ", err.what());
    }
  }
}

}  // namespace ssah::cli
