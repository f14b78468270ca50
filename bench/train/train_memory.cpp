// Peak memory of training on the issue-6 workload (see workload.hpp), against what training
// needs at the least: parameters, their gradients, Adam's two moments (for every optimizer the
// Paper objective steps), SSAH's buffers (F and H of every network for all n items, the codes B),
// the training data, and one batch's activations (the largest step's, counted below).
//
// Runs `steps` (default 3) steps of LabNet, the discriminators, the image and the text network
// (one "epoch" of the schedule in miniature), then prints the process's peak resident set
// (VmHWM) above its resident set before the first tensor was made, the memory pool's own peak,
// and their ratios to that sum. Usage: ssah_train_memory [steps]

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "workload.hpp"

namespace {

/// A field of /proc/self/status in bytes (VmRSS, VmHWM), or 0 where there is none.
double proc_status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atof(line.c_str() + field.size() + 1) * 1024.0;
  return 0;
}

constexpr double kFloat = sizeof(float);
double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  using namespace ssah_bench;
  const int steps = argc > 1 ? std::atoi(argv[1]) : 3;
  const double rss0 = proc_status_bytes("VmRSS");

  ssah::TrainingSet<float> data = make_workload();
  std::unique_ptr<Model> model = make_model();
  ssah::SsahTrainer<Model> trainer(*model, data, workload_options());
  const double lr = 3e-5;
  for (int s = 0; s < steps; ++s) {
    trainer.train_label_step(lr);
    trainer.train_discriminator_step(lr);
    trainer.train_modality_step<0>(lr);
    trainer.train_modality_step<1>(lr);
    trainer.refresh_codes();
  }

  // ---- what training needs at the least
  double params = 0;
  model->for_each_parameter_set(
      [&](ssah::ParameterSet<float>& ps, const std::string&) { params += double(ps.size()); });
  // Under Paper the label, modality and discriminator optimizers step (not the ".generator" ones).
  const double parameters = params * kFloat, gradients = params * kFloat, adam = 2 * params * kFloat;
  const double n = kItems, b = kBatch;
  const double buffers = (3 * n * kFeature + 3 * n * kBits + n * kBits) * kFloat;  // F, H of 3 nets; B
  const double dataset = n * (kLabels + kImageDim + kTextDim) * kFloat;
  // The text step's activations (the largest step): its batch and multi-scale input, fc1's
  // pre-activation, ReLU and LRN outputs, fc2's pre-activation, ReLU and LRN outputs, the heads'
  // pre-/post-activations, D's layers on the features, and the n x b similarity plus the two
  // n x b pairwise matrices kept for the backward pass.
  const double text_in = kTextDim * (1 + kTextChannels);
  const double acts =
      b * (text_in + 3 * kHidden + 3 * kFeature + 2 * kBits + 2 * kLabels + 2 * (512 + 256) + 1) + 3 * n * b;
  const double activations = acts * kFloat;
  const double needed = parameters + gradients + adam + buffers + dataset + activations;

  const double hwm = proc_status_bytes("VmHWM");
  const ssah::MemoryStats pool = ssah::memory_stats();
  std::printf("steps of each network                 %d\n", steps);
  std::printf("parameters                            %10.1f MiB (%.0f floats)\n", mib(parameters), params);
  std::printf("gradients                             %10.1f MiB\n", mib(gradients));
  std::printf("Adam moments (m, v)                   %10.1f MiB\n", mib(adam));
  std::printf("SSAH buffers (F, H of 3 nets, B)      %10.1f MiB\n", mib(buffers));
  std::printf("training data                         %10.1f MiB\n", mib(dataset));
  std::printf("one batch's activations (text step)   %10.1f MiB\n", mib(activations));
  std::printf("sum needed                            %10.1f MiB\n", mib(needed));
  std::printf("process RSS before training           %10.1f MiB\n", mib(rss0));
  std::printf("process peak RSS (VmHWM)              %10.1f MiB\n", mib(hwm));
  std::printf("peak RSS above the start              %10.1f MiB\n", mib(hwm - rss0));
  std::printf("memory pool peak in use               %10.1f MiB\n", mib(double(pool.peak_in_use)));
  std::printf("memory pool in use + cached now       %10.1f MiB\n", mib(double(pool.in_use + pool.cached)));
  std::printf("ratio peak RSS above start / needed   %10.3f\n", (hwm - rss0) / needed);
  std::printf("ratio pool peak in use / needed       %10.3f\n", double(pool.peak_in_use) / needed);
  return 0;
}
