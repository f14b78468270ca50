// Replays one epoch of tests/reference/train_ssah.py in ssah, from the same start, to compare the
// two implementations step for step (see tests/reference/README.md and replay.sh):
//
//   ssah_replay_reference DIR [BATCH] [SEED]
//
// DIR is what `train_ssah.py --save-init DIR` wrote: the training rows (x0.npy, x1.npy[, x2.npy],
// labels.npy), every network's initial parameters (<network>.<parameter>.npy, ssah's names and
// layouts) and the F/H buffers (buf.<name>.npy). The model is the faithful configuration with a
// FeatureNet per modality (two or three modalities), K = 32, paper objective. Batches are drawn by
// ssah's sampler from SEED (default 1) and written to DIR/batches.npy, in order, before training, so
// that `train_ssah.py --batches DIR/batches.npy` draws the same rows. BATCH defaults to 128. Prints
// each pass's mean loss as train_ssah.py does.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "ssah/io/npy.hpp"
#include "ssah/ssah.hpp"

namespace {

using T = float;
constexpr std::size_t kBits = 32;

ssah::Tensor<T> load(const std::string& dir, const std::string& name) {
  const ssah::io::NpyArray a = ssah::io::read_npy(dir + "/" + name + ".npy");
  ssah::Shape shape;
  if (a.shape.size() == 1)
    shape = ssah::Shape{a.shape[0]};
  else if (a.shape.size() == 2)
    shape = ssah::Shape{a.shape[0], a.shape[1]};
  else
    throw std::runtime_error(dir + "/" + name + ".npy: expected 1 or 2 dimensions");
  return ssah::Tensor<T>::from_host(shape, a.as<T>());
}

bool exists(const std::string& path) {
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    return true;
  }
  return false;
}

template <class Model>
int replay(const std::string& dir, std::size_t batch, std::uint64_t seed) {
  constexpr std::size_t modalities = Model::num_modalities;
  ssah::TrainingSet<T> data;
  data.labels = load(dir, "labels");
  std::array<ssah::Shape, modalities> shapes;
  for (std::size_t m = 0; m < modalities; ++m) {
    data.modalities.push_back(load(dir, "x" + std::to_string(m)));
    shapes[m] = ssah::Shape{data.modalities.back().shape()[1]};
  }
  const std::size_t n = data.labels.shape()[0];
  Model model(data.labels.shape()[1], shapes);
  model.for_each_parameter_set([&](ssah::ParameterSet<T>& params, const std::string& network) {
    for (const auto& entry : params.entries()) {
      ssah::Tensor<T> value = entry.var.value();  // shares the parameter's storage
      value.assign(load(dir, network + "." + entry.name));
    }
  });

  ssah::TrainOptions options;  // the faithful recipe's schedule (ssah_experiments --recipe faithful)
  options.batch_size = std::min(batch, n);
  options.seed = seed;
  options.label_lr = ssah::SsahTableLr{3.0};
  for (std::size_t m = 0; m < modalities; ++m)
    options.modality_lr.push_back(ssah::SsahTableLr{m + 1 == modalities ? 3.5 : 4.5});
  double pass_sum = 0;
  options.on_progress = [&](const ssah::TrainingProgress& p) {
    pass_sum += p.loss;
    if (p.step + 1 < p.steps) return;
    std::fprintf(stderr, "  epoch %zu %-14s stage %zu pass %zu: loss %.7g\n", p.epoch, p.network.c_str(), p.stage,
                 p.pass, pass_sum / static_cast<double>(p.steps));
    pass_sum = 0;
  };

  // The batches fit() will draw, in order (its sampler is HostRng(seed), used for nothing else): as
  // many as an epoch without early stops takes.
  {
    auto total = [](const std::vector<std::size_t>& v) { return std::accumulate(v.begin(), v.end(), std::size_t(0)); };
    const std::size_t passes =
        total(options.label_passes) + total(options.discriminator_passes) + modalities * total(options.modality_passes);
    const std::size_t batches = passes * std::max<std::size_t>(1, n / options.batch_size);
    ssah::HostRng rng(seed);
    std::vector<std::int32_t> rows;
    for (std::size_t i = 0; i < batches; ++i)
      for (std::size_t r : rng.sample(n, options.batch_size)) rows.push_back(static_cast<std::int32_t>(r));
    ssah::io::write_npy(dir + "/batches.npy", rows.data(), {batches, options.batch_size});
  }

  ssah::SsahTrainer<Model> trainer(model, data, options);
  ssah::TrainingState<T> state = trainer.training_state();
  for (auto& [name, buffer] : state.buffers) buffer = load(dir, "buf." + name);
  trainer.restore_training_state(state);
  trainer.fit();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ssah_replay_reference DIR [BATCH] [SEED]   (DIR from train_ssah.py --save-init)\n");
    return 2;
  }
  try {
    const std::string dir = argv[1];
    const std::size_t batch = argc > 2 ? std::stoul(argv[2]) : 128;
    const std::uint64_t seed = argc > 3 ? std::stoull(argv[3]) : 1;
    using ssah::FeatureNet;
    using Objective = ssah::objective::Paper;
    if (exists(dir + "/x2.npy"))
      return replay<ssah::BasicSsah<T, kBits, Objective, FeatureNet, FeatureNet, FeatureNet>>(dir, batch, seed);
    return replay<ssah::BasicSsah<T, kBits, Objective, FeatureNet, FeatureNet>>(dir, batch, seed);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ssah_replay_reference: %s\n", e.what());
    return 1;
  }
}
