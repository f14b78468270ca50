#include "checkpoint.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssah/error.hpp"
#include "ssah/io/safetensors.hpp"

namespace ssah::cli {
namespace {

using nlohmann::json;

std::vector<std::size_t> dims(const Shape& s) {
  std::vector<std::size_t> d;
  for (int i = 0; i < s.rank(); ++i) d.push_back(s[i]);
  return d;
}

Shape to_shape(const std::vector<std::size_t>& d, const std::string& path) {
  switch (d.size()) {
    case 1: return Shape{d[0]};
    case 2: return Shape{d[0], d[1]};
    case 3: return Shape{d[0], d[1], d[2]};
    default: detail::fail<IoError>("'", path, "': a sample shape in the checkpoint has ", d.size(), " dimensions");
  }
}

}  // namespace

std::vector<std::int8_t> sign_codes(const std::vector<float>& hashes) {
  std::vector<std::int8_t> codes(hashes.size());
  for (std::size_t i = 0; i < hashes.size(); ++i) codes[i] = hashes[i] > 0.f ? 1 : -1;
  return codes;
}

void save_checkpoint(const std::string& path, const Checkpoint& c, AnyModel<float>& model) {
  io::SafetensorsWriter w;
  std::vector<std::shared_ptr<std::vector<float>>> keep;
  model.for_each_parameter_set([&](ParameterSet<float>& ps, const std::string& set) {
    const std::vector<float> values = ps.values().to_host();
    for (const auto& e : ps.entries()) {
      const std::size_t n = e.shape.size();
      std::vector<float> v(values.begin() + static_cast<std::ptrdiff_t>(e.offset),
                           values.begin() + static_cast<std::ptrdiff_t>(e.offset + n));
      w.add(set + "." + e.name, v, dims(e.shape));
    }
  });
  json mods = json::array();
  for (std::size_t m = 0; m < c.modalities.size(); ++m) {
    const CheckpointModality& cm = c.modalities[m];
    const auto& b = c.spec.backbones[m];
    json jm = {{"name", cm.name},
               {"sample_shape", cm.sample_shape},
               {"standardized", !cm.mean.empty()},
               {"backbone", b.kind},
               {"feature_hidden", b.feature.hidden},
               {"feature_lrn_after_first", b.feature.lrn_after_first},
               {"text_windows", b.text.windows},
               {"text_hidden", b.text.hidden},
               {"text_lrn_head_input", b.text.lrn_head_input},
               {"cnnf", "small"}};
    mods.push_back(jm);
    if (!cm.mean.empty()) {
      w.add("standardize." + cm.name + ".mean", cm.mean, {cm.mean.size()});
      w.add("standardize." + cm.name + ".std", cm.stddev, {cm.stddev.size()});
    }
  }
  const json spec = {{"format", "ssah-cli-checkpoint-1"},
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
  w.set_metadata("ssah.spec", spec.dump());
  w.set_metadata("ssah.bits", std::to_string(c.spec.bits));
  w.set_metadata("ssah.objective", c.spec.objective);
  w.set_metadata("ssah.epoch", std::to_string(c.epoch));
  w.write(path);
}

std::unique_ptr<AnyModel<float>> load_checkpoint(const std::string& path, Checkpoint& c) {
  const io::SafetensorsFile f = io::read_safetensors(path);
  json spec;
  try {
    spec = json::parse(f.meta("ssah.spec"));
    SSAH_CHECK_AS(IoError, spec.at("format") == "ssah-cli-checkpoint-1", "unknown format");
    c = Checkpoint{};
    c.spec.bits = spec.at("bits").get<int>();
    c.spec.objective = spec.at("objective").get<std::string>();
    c.spec.num_labels = spec.at("num_labels").get<std::size_t>();
    c.spec.seed = spec.at("seed").get<std::uint64_t>();
    c.epoch = spec.at("epoch").get<std::size_t>();
    c.spec.init = static_cast<InitScheme>(spec.at("init").get<int>());
    c.spec.label_net.hidden = spec.at("label_hidden").get<std::vector<std::size_t>>();
    c.spec.label_net.lrn_after_first = spec.at("label_lrn_after_first").get<bool>();
    c.spec.discriminator.hidden = spec.at("discriminator_hidden").get<std::vector<std::size_t>>();
    for (const json& jm : spec.at("modalities")) {
      CheckpointModality cm;
      cm.name = jm.at("name").get<std::string>();
      cm.sample_shape = jm.at("sample_shape").get<std::vector<std::size_t>>();
      AnyBackbone<float>::Config b;
      b.kind = jm.at("backbone").get<std::string>();
      b.feature.hidden = jm.at("feature_hidden").get<std::vector<std::size_t>>();
      b.feature.lrn_after_first = jm.at("feature_lrn_after_first").get<bool>();
      b.text.windows = jm.at("text_windows").get<std::vector<std::size_t>>();
      b.text.hidden = jm.at("text_hidden").get<std::vector<std::size_t>>();
      b.text.lrn_head_input = jm.at("text_lrn_head_input").get<bool>();
      if (jm.at("standardized").get<bool>()) {
        std::size_t d = 1;
        for (std::size_t e : cm.sample_shape) d *= e;
        cm.mean = f.get<float>("standardize." + cm.name + ".mean", {d});
        cm.stddev = f.get<float>("standardize." + cm.name + ".std", {cm.mean.size()});
      }
      c.spec.sample_shapes.push_back(to_shape(cm.sample_shape, path));
      c.spec.backbones.push_back(b);
      c.modalities.push_back(cm);
    }
  } catch (const json::exception& e) {
    detail::fail<IoError>("'", path, "': not a checkpoint of the ssah program (metadata 'ssah.spec': ", e.what(), ")");
  }
  std::unique_ptr<AnyModel<float>> model = make_model(c.spec);
  model->for_each_parameter_set([&](ParameterSet<float>& ps, const std::string& set) {
    std::vector<float> values(ps.size());
    for (const auto& e : ps.entries()) {
      const std::vector<float> v = f.get<float>(set + "." + e.name, dims(e.shape));
      std::copy(v.begin(), v.end(), values.begin() + static_cast<std::ptrdiff_t>(e.offset));
    }
    ps.values().assign(Tensor<float>::from_host(Shape{values.size()}, values));
  });
  return model;
}

}  // namespace ssah::cli
