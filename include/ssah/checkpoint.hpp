#pragma once
/// \file
/// Checkpoints of a trained model (`ssah train` writes them, `ssah encode` and `--resume` read them,
/// and so can any program): a safetensors file
/// holding every parameter of the model (tensor "<set>.<entry>", e.g. "label.fc1.weight",
/// "modality0.hash.weight"), the standardisation of each modality ("standardize.<name>.mean",
/// "standardize.<name>.std", absent when the modality was not standardised), and metadata:
/// "ssah.bits", "ssah.objective", "ssah.epoch" and "ssah.spec" (JSON: bits, objective, num_labels,
/// seed, epoch, the label / discriminator widths, and per modality its name, backbone kind and
/// configuration (for CNN-F: "cnnf": {conv_channels, fc6, fc7, feature}; older checkpoints say
/// "cnnf": "small", read as CnnF::Config::small()), and sample shape), and for each CNN-F modality
/// with a non-zero mean image (e.g. from `ssah train --pretrained`) the tensor
/// "cnnf.<name>.mean_image" {C, H, W} (absent: no mean subtracted).
/// A checkpoint written during training also holds the model's training state (resume): tensors
/// "state.<buffer>" (the n-row buffers of TrainingState: "state.label_features", "state.codes",
/// "state.hashes0", ...) and "state.optimizer.<name>.m" / ".v" (Adam's moments, absent before an
/// optimizer's first step), and metadata "ssah.state" (JSON: format "ssah-training-state-1",
/// epoch, steps_done, rng (the batch sampler's std::mt19937_64 state), optimizer_steps {name:
/// step count}). Checkpoints without it (older ones) load for encoding. A writer may also record
/// what the model was trained on in metadata "ssah.training_data" (`Checkpoint::training_data`,
/// e.g. checksums of the inputs: `ssah train --resume` compares them with its inputs').

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssah/error.hpp"
#include "ssah/io/json_diff.hpp"
#include "ssah/io/json_error.hpp"
#include "ssah/io/safetensors.hpp"
#include "ssah/model/any_model.hpp"
#include "ssah/pipeline.hpp"

namespace ssah {

struct CheckpointModality {
  std::string name;
  std::vector<std::size_t> sample_shape;
  std::vector<float> mean, stddev;  ///< empty when not standardised
};

struct Checkpoint {
  ModelSpec<float> spec;
  std::size_t epoch = 0;
  std::vector<CheckpointModality> modalities;  ///< in model order
  /// Training state: written when set; set by load_checkpoint when the file holds one.
  std::optional<TrainingState<float>> state;
  /// What the model was trained on, as the writer describes it (opaque text, metadata
  /// "ssah.training_data"; empty: not recorded, as in older checkpoints).
  std::string training_data;
};

namespace detail {

inline std::vector<std::size_t> checkpoint_dims(const Shape& s) {
  std::vector<std::size_t> d;
  for (int i = 0; i < s.rank(); ++i) d.push_back(s[i]);
  return d;
}

inline Shape checkpoint_shape(const std::vector<std::size_t>& d, const std::string& path) {
  if (d.empty() || d.size() > 3)
    detail::fail<IoError>("'", path, "': a sample shape in the checkpoint has ", d.size(), " dimensions");
  return Shape::from_extents(d);
}

}  // namespace detail

/// ±1 int8 codes (bit = value > 0) of real hashes, as `ssah train` and `ssah encode` write them.
inline std::vector<std::int8_t> sign_codes(const std::vector<float>& hashes) {
  std::vector<std::int8_t> codes(hashes.size());
  for (std::size_t i = 0; i < hashes.size(); ++i) codes[i] = hashes[i] > 0.f ? 1 : -1;
  return codes;
}

/// The metadata "ssah.spec" of a checkpoint: equal for the same model structure, modality names
/// and shapes, seed and epoch.
inline nlohmann::json checkpoint_spec(const Checkpoint& c) {
  nlohmann::json mods = nlohmann::json::array();
  for (std::size_t m = 0; m < c.modalities.size(); ++m) {
    const CheckpointModality& cm = c.modalities[m];
    const auto& b = c.spec.backbones.at(m);
    mods.push_back({{"name", cm.name},
                    {"sample_shape", cm.sample_shape},
                    {"standardized", !cm.mean.empty()},
                    {"backbone", b.kind},
                    {"feature_hidden", b.feature.hidden},
                    {"feature_lrn_after_first", b.feature.lrn_after_first},
                    {"text_windows", b.text.windows},
                    {"text_hidden", b.text.hidden},
                    {"text_lrn_head_input", b.text.lrn_head_input},
                    {"cnnf",
                     {{"conv_channels", b.cnnf.conv_channels},
                      {"fc6", b.cnnf.fc6},
                      {"fc7", b.cnnf.fc7},
                      {"feature", b.cnnf.feature}}}});
  }
  nlohmann::json spec = {{"format", "ssah-cli-checkpoint-1"},
                         {"bits", c.spec.bits},
                         {"objective", c.spec.objective},
                         {"num_labels", c.spec.num_labels},
                         {"seed", c.spec.seed},
                         {"epoch", c.epoch},
                         {"init", static_cast<int>(c.spec.init)},
                         {"label_hidden", c.spec.label_net.hidden},
                         {"label_lrn_after_first", c.spec.label_net.lrn_after_first},
                         {"discriminator_hidden", c.spec.discriminator.hidden},
                         {"modalities", mods}};
  return spec;
}

/// How the model structure stored in `stored` differs from `wanted` (the structure that a run
/// would build now), ignoring the epoch: "" when a run may continue from `stored`, else e.g.
/// "label_hidden [4096,512] where the run gives [1024,512]".
inline std::string checkpoint_spec_difference(const Checkpoint& stored, const Checkpoint& wanted) {
  nlohmann::json there = checkpoint_spec(stored), here = checkpoint_spec(wanted);
  there.erase("epoch");
  here.erase("epoch");
  const std::string d = io::json_first_difference(there, here);
  if (d.empty()) return d;
  return d + " " + io::json_value_at(there, d) + " where the run gives " + io::json_value_at(here, d);
}

/// Writes `model` (built from `c.spec`) and `c` to `path` atomically.
inline void save_checkpoint(const std::string& path, const Checkpoint& c, AnyModel<float>& model) {
  io::SafetensorsWriter w;
  std::vector<std::shared_ptr<std::vector<float>>> keep;
  model.for_each_parameter_set([&](ParameterSet<float>& ps, const std::string& set) {
    const std::vector<float> values = ps.values().to_host();
    for (const auto& e : ps.entries()) {
      const std::size_t n = e.shape.size();
      std::vector<float> v(values.begin() + static_cast<std::ptrdiff_t>(e.offset),
                           values.begin() + static_cast<std::ptrdiff_t>(e.offset + n));
      w.add(set + "." + e.name, v, detail::checkpoint_dims(e.shape));
    }
  });
  for (const CheckpointModality& cm : c.modalities)
    if (!cm.mean.empty()) {
      w.add("standardize." + cm.name + ".mean", cm.mean, {cm.mean.size()});
      w.add("standardize." + cm.name + ".std", cm.stddev, {cm.stddev.size()});
    }
  // A CNN-F's mean image (a buffer, not a parameter: e.g. the one of --pretrained's file).
  for (std::size_t m = 0; m < c.modalities.size(); ++m) {
    const auto* net = std::get_if<CnnF<float>>(&model.backbone(m).variant());
    if (net == nullptr) continue;
    const std::vector<float> mean = net->mean_image().to_host();
    if (std::any_of(mean.begin(), mean.end(), [](float v) { return v != 0.f; }))
      w.add("cnnf." + c.modalities[m].name + ".mean_image", mean, detail::checkpoint_dims(net->mean_image().shape()));
  }
  if (c.state) {
    const TrainingState<float>& st = *c.state;
    for (const auto& [name, t] : st.buffers) w.add("state." + name, t.to_host(), detail::checkpoint_dims(t.shape()));
    nlohmann::json steps = nlohmann::json::object();
    for (const auto& [name, a] : st.optimizers) {
      steps[name] = a.step;
      if (!a.m.defined()) continue;
      w.add("state.optimizer." + name + ".m", a.m.to_host(), detail::checkpoint_dims(a.m.shape()));
      w.add("state.optimizer." + name + ".v", a.v.to_host(), detail::checkpoint_dims(a.v.shape()));
    }
    const nlohmann::json js = {{"format", "ssah-training-state-1"},
                               {"epoch", st.epoch},
                               {"steps_done", st.steps_done},
                               {"rng", st.rng},
                               {"optimizer_steps", steps}};
    w.set_metadata("ssah.state", js.dump());
  }
  w.set_metadata("ssah.spec", checkpoint_spec(c).dump());
  w.set_metadata("ssah.bits", std::to_string(c.spec.bits));
  w.set_metadata("ssah.objective", c.spec.objective);
  w.set_metadata("ssah.epoch", std::to_string(c.epoch));
  if (!c.training_data.empty()) w.set_metadata("ssah.training_data", c.training_data);
  w.write(path);
}

namespace detail {

/// Whether `state` is a std::mt19937_64 state (HostRng::state()) with nothing after it and not
/// all zero: from an all-zero state the engine returns 0 forever, and drawing a batch never ends.
inline bool valid_sampler_state(const std::string& state) {
  std::istringstream in(state);
  std::mt19937_64 engine;
  in >> engine;
  if (in.fail()) return false;
  in >> std::ws;
  if (!in.eof()) return false;
  bool nonzero = false;
  for (int i = 0; i < 624 && !nonzero; ++i) nonzero = engine() != 0;
  return nonzero;
}

/// The tensors of a checkpoint file as load_checkpoint reads them: each one finite (a NaN weight
/// or statistic would make every code the same without a word), and every tensor of the file
/// read by the end (one the model does not describe means the file is not what it claims).
class CheckpointTensors {
 public:
  CheckpointTensors(const io::SafetensorsFile& file, std::string path) : file_(file), path_(std::move(path)) {}
  bool contains(const std::string& name) const { return file_.contains(name); }
  std::vector<float> get(const std::string& name, const std::vector<std::size_t>& shape = {}) {
    std::vector<float> v = shape.empty() ? file_.get<float>(name) : file_.get<float>(name, shape);
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        fail<IoError>("'", path_, "': tensor '", name, "' has a non-finite value (", v[i], ") at element ", i);
    read_.insert(name);
    return v;
  }
  /// IoError naming the first tensor that was not read.
  void check_all_read() const {
    for (const auto& entry : file_.tensors)
      if (!read_.count(entry.first))
        fail<IoError>("'", path_, "': tensor '", entry.first, "' is not part of the model the file describes");
  }

 private:
  const io::SafetensorsFile& file_;
  std::string path_;
  std::set<std::string> read_;
};

}  // namespace detail

/// Reads a checkpoint and rebuilds its model with the stored parameters; IoError / ShapeError
/// naming the file when it is not a checkpoint of this format, does not match its spec, holds a
/// tensor the spec does not describe, or a non-finite value.
inline std::unique_ptr<AnyModel<float>> load_checkpoint(const std::string& path, Checkpoint& c) {
  const io::SafetensorsFile f = io::read_safetensors(path);
  detail::CheckpointTensors tensors(f, path);
  // A spec that is not what ssah train writes: the file is named once, with the field at fault.
  const auto bad_spec = [&](const auto&... what) {
    detail::fail<IoError>("'", path, "': not a checkpoint of the ssah program (metadata 'ssah.spec': ", what..., ")");
  };
  try {
    using io::json_field;
    if (!f.metadata.count("ssah.spec")) bad_spec("missing");
    const nlohmann::json spec = io::parse_json(f.meta("ssah.spec"), 8);
    if (json_field<std::string>(spec, "format") != "ssah-cli-checkpoint-1") bad_spec("unknown format");
    c = Checkpoint{};
    c.spec.bits = json_field<int>(spec, "bits");
    c.spec.objective = json_field<std::string>(spec, "objective");
    c.spec.num_labels = json_field<std::size_t>(spec, "num_labels");
    c.spec.seed = json_field<std::uint64_t>(spec, "seed");
    c.epoch = json_field<std::size_t>(spec, "epoch");
    const int init = json_field<int>(spec, "init");
    if (init < 0 || init > static_cast<int>(InitScheme::PyTorchDefault)) bad_spec("'init' is ", init, " (0 to 2)");
    c.spec.init = static_cast<InitScheme>(init);
    // Width lists are bounded before any network is built from them (a hostile list of 20,000
    // widths took minutes to refuse).
    const auto widths = [&](const nlohmann::json& j, const char* key, const std::string& field = {}) {
      auto v = json_field<std::vector<std::size_t>>(j, key, field);
      if (v.size() > pipeline::max_hidden_layers)
        bad_spec(field.empty() ? "" : field + ".", "'", key, "' lists ", v.size(), " widths (at most ",
                 pipeline::max_hidden_layers, ")");
      return v;
    };
    c.spec.label_net.hidden = widths(spec, "label_hidden");
    c.spec.label_net.lrn_after_first = json_field<bool>(spec, "label_lrn_after_first");
    c.spec.discriminator.hidden = widths(spec, "discriminator_hidden");
    const nlohmann::json modalities = json_field<nlohmann::json>(spec, "modalities");
    if (!modalities.is_array()) bad_spec("'modalities' is not a list");
    for (std::size_t i = 0; i < modalities.size(); ++i) {
      const nlohmann::json& jm = modalities[i];
      const std::string field = "modalities[" + std::to_string(i) + "]";
      CheckpointModality cm;
      cm.name = json_field<std::string>(jm, "name", field);
      cm.sample_shape = json_field<std::vector<std::size_t>>(jm, "sample_shape", field);
      AnyBackbone<float>::Config b;
      b.kind = json_field<std::string>(jm, "backbone", field);
      b.feature.hidden = widths(jm, "feature_hidden", field);
      b.feature.lrn_after_first = json_field<bool>(jm, "feature_lrn_after_first", field);
      b.text.windows = widths(jm, "text_windows", field);
      b.text.hidden = widths(jm, "text_hidden", field);
      b.text.lrn_head_input = json_field<bool>(jm, "text_lrn_head_input", field);
      // "cnnf": "small" in checkpoints written before --pretrained (the only CNN-F they built).
      if (const auto cf = jm.find("cnnf"); cf != jm.end() && cf->is_object()) {
        const std::string cnnf = field + ".cnnf";
        b.cnnf.conv_channels = json_field<std::array<std::size_t, 5>>(*cf, "conv_channels", cnnf);
        b.cnnf.fc6 = json_field<std::size_t>(*cf, "fc6", cnnf);
        b.cnnf.fc7 = json_field<std::size_t>(*cf, "fc7", cnnf);
        b.cnnf.feature = json_field<std::size_t>(*cf, "feature", cnnf);
      }
      try {
        pipeline::check_modality_name(cm.name);
      } catch (const Error& e) {
        bad_spec(e.what());
      }
      for (const CheckpointModality& other : c.modalities)
        if (other.name == cm.name) bad_spec("the modality name '", cm.name, "' appears twice");
      if (json_field<bool>(jm, "standardized", field)) {
        std::size_t d = 1;
        for (std::size_t e : cm.sample_shape) d *= e;
        cm.mean = tensors.get("standardize." + cm.name + ".mean", {d});
        cm.stddev = tensors.get("standardize." + cm.name + ".std", {cm.mean.size()});
        for (std::size_t j = 0; j < cm.stddev.size(); ++j)
          if (!(cm.stddev[j] > 0.f))
            detail::fail<IoError>("'", path, "': the standard deviation ", j, " of '", cm.name, "' is ", cm.stddev[j],
                                  " (must be positive)");
      }
      c.spec.sample_shapes.push_back(detail::checkpoint_shape(cm.sample_shape, path));
      c.spec.backbones.push_back(b);
      c.modalities.push_back(cm);
    }
  } catch (const nlohmann::json::exception& e) {
    bad_spec(io::json_error_text(e));
  } catch (const io::JsonFormError& e) {
    bad_spec(e.what());
  }
  // The plain metadata repeat the spec for readers of the file; they must say the same.
  const std::pair<const char*, std::string> repeated[] = {{"ssah.bits", std::to_string(c.spec.bits)},
                                                          {"ssah.objective", c.spec.objective},
                                                          {"ssah.epoch", std::to_string(c.epoch)}};
  for (const auto& [key, value] : repeated)
    if (f.metadata.count(key) && f.meta(key) != value)
      detail::fail<IoError>("'", path, "': its metadata '", key, "' is '", f.meta(key), "' but its spec says ", value);
  if (f.metadata.count("ssah.training_data")) c.training_data = f.meta("ssah.training_data");
  if (!is_model_bits(c.spec.bits))
    detail::fail<IoError>("'", path, "': codes of ", c.spec.bits, " bits (this ssah builds ", model_bits_list(), ")");
  if (c.modalities.empty() || c.modalities.size() > 3)
    detail::fail<IoError>("'", path, "': ", c.modalities.size(), " modalities (1 to 3 are supported)");
  if (f.metadata.count("ssah.state")) {
    // The names training uses (SsahTrainer's for_each_buffer and for_each_optimizer).
    std::set<std::string> buffer_names = {"label_features", "label_hashes", "codes"};
    std::set<std::string> optimizer_names = {"label"};
    for (std::size_t m = 0; m < c.modalities.size(); ++m) {
      const std::string i = std::to_string(m);
      buffer_names.insert({"features" + i, "hashes" + i});
      optimizer_names.insert({"modality" + i, "discriminator" + i, "discriminator" + i + ".generator"});
    }
    const auto bad_state = [&](const auto&... what) {
      detail::fail<IoError>("'", path, "': bad training state (", what..., ")");
    };
    try {
      using io::json_field;
      const nlohmann::json js = io::parse_json(f.meta("ssah.state"), 8);
      if (!js.is_object() || js.value("format", std::string()) != "ssah-training-state-1") bad_state("unknown format");
      TrainingState<float> st;
      st.epoch = json_field<std::size_t>(js, "epoch");
      if (st.epoch != c.epoch) bad_state("it is at epoch ", st.epoch, ", the model at epoch ", c.epoch);
      st.steps_done = json_field<std::uint64_t>(js, "steps_done");
      st.rng = json_field<std::string>(js, "rng");
      if (!detail::valid_sampler_state(st.rng)) bad_state("the batch sampler's state is not valid");
      const std::string prefix = "state.";
      for (const auto& [name, array] : f.tensors) {
        if (name.compare(0, prefix.size(), prefix) != 0 || name.compare(0, 16, "state.optimizer.") == 0) continue;
        if (!buffer_names.count(name.substr(prefix.size())))
          bad_state("tensor '", name, "' is not a buffer of training");
        const std::vector<float> v = tensors.get(name);
        if (name == "state.codes")  // the codes B of the training items: signs of sums (0 where a sum is 0)
          for (std::size_t i = 0; i < v.size(); ++i)
            if (v[i] != 1.f && v[i] != -1.f && v[i] != 0.f)
              bad_state("tensor 'state.codes' holds ", v[i], " at ", i, " (codes are signs: 1, -1 or 0)");
        st.buffers.emplace(name.substr(prefix.size()),
                           Tensor<float>::from_host(detail::checkpoint_shape(array.shape, path), v));
      }
      const nlohmann::json steps = json_field<nlohmann::json>(js, "optimizer_steps");
      if (!steps.is_object()) bad_state("'optimizer_steps' is not an object");
      for (const auto& [name, step] : steps.items()) {
        if (!optimizer_names.count(name)) bad_state("no optimizer '", name, "' in this model");
        AdamState<float> a;
        a.step = io::json_as<std::int64_t>(step, "optimizer_steps." + name);
        if (a.step < 0 || a.step > (std::int64_t(1) << 62)) bad_state("optimizer '", name, "' has step count ", a.step);
        const std::string m = "state.optimizer." + name + ".m", v = "state.optimizer." + name + ".v";
        if (f.contains(m)) {
          const std::vector<float> mv = tensors.get(m), vv = tensors.get(v);
          for (std::size_t i = 0; i < vv.size(); ++i)
            if (vv[i] < 0.f) bad_state("optimizer '", name, "' has a negative second moment (", vv[i], ") at ", i);
          a.m = Tensor<float>::from_host(Shape{mv.size()}, mv);
          a.v = Tensor<float>::from_host(Shape{vv.size()}, vv);
        }
        st.optimizers.emplace(name, std::move(a));
      }
      c.state = std::move(st);
    } catch (const nlohmann::json::exception& e) {
      bad_state("metadata 'ssah.state': ", io::json_error_text(e));
    } catch (const io::JsonFormError& e) {
      bad_state("metadata 'ssah.state': ", e.what());
    }
  }
  std::unique_ptr<AnyModel<float>> model;
  try {
    model = make_model(c.spec);
  } catch (const OutOfMemory& e) {  // stored widths too large for this machine (or edited)
    detail::fail<OutOfMemory>("'", path, "': the model it describes does not fit in memory: ", e.what());
  } catch (const Error& e) {
    detail::fail<IoError>("'", path, "': the model it describes cannot be built (", pipeline::message_reason(e.what()),
                          ")");
  }
  model->for_each_parameter_set([&](ParameterSet<float>& ps, const std::string& set) {
    std::vector<float> values(ps.size());
    for (const auto& e : ps.entries()) {
      const std::vector<float> v = tensors.get(set + "." + e.name, detail::checkpoint_dims(e.shape));
      std::copy(v.begin(), v.end(), values.begin() + static_cast<std::ptrdiff_t>(e.offset));
    }
    ps.values().assign(Tensor<float>::from_host(Shape{values.size()}, values));
  });
  for (std::size_t m = 0; m < c.modalities.size(); ++m) {
    auto* net = std::get_if<CnnF<float>>(&model->backbone(m).variant());
    const std::string key = "cnnf." + c.modalities[m].name + ".mean_image";
    if (net == nullptr || !f.contains(key)) continue;  // absent: no mean subtracted (zeros)
    net->set_mean_image(
        Tensor<float>::from_host(net->sample_shape(), tensors.get(key, detail::checkpoint_dims(net->sample_shape()))));
  }
  tensors.check_all_read();
  return model;
}

}  // namespace ssah
