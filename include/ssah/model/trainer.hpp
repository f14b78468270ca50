#pragma once
/// \file
/// `SsahTrainer<Model, Optimizer>`: trains a `BasicSsah` with SSAH's alternating schedule (LabNet,
/// the discriminators, then each modality network, every epoch), and owns what training needs
/// beyond the networks: the options, the data (tensor handles), the n-row buffers of features,
/// hashes and shared codes, the batch sampler, one optimizer per network, early stops and
/// progress. Its state can be exported and restored (`training_state`, `restore_training_state`),
/// e.g. through a checkpoint, to continue bit-identically.
/// With `TrainOptions::communicator` it trains data-parallel over several processes (MPI ranks,
/// `dist/mpi.hpp`): each computes its share of every batch and the gradients are summed over them.
///
/// The optimizer is a policy: any type with `State` (copyable by `clone()`), `state()`,
/// `set_state(State)`, `step(ParameterSet<T>&, double lr)` and
/// `static check_state(const State&, std::size_t parameters, const std::string& name)`; `Adam`
/// (the default, as the reference) and `Sgd` qualify. Each network's optimizer is a copy of the
/// prototype given to the constructor (its options).
///
/// \code
///   ssah::Ssah<64, ssah::FeatureNet, ssah::MultiScaleTextNet> model(num_labels, {Shape{4096}, Shape{1386}});
///   ssah::SsahTrainer trainer(model, training_set, options);
///   trainer.fit();                                  // options.epochs epochs
///   auto state = trainer.training_state();          // buffers, sampler, optimizers
/// \endcode
/// `ssah::fit(model, data, options)` does the first two lines and returns the trainer.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <thrust/execution_policy.h>
#include <thrust/find.h>

#include "ssah/autodiff.hpp"
#include "ssah/dist/communicator.hpp"
#include "ssah/error.hpp"
#include "ssah/model/ssah.hpp"
#include "ssah/ops.hpp"
#include "ssah/ops/pairwise.hpp"
#include "ssah/optim.hpp"
#include "ssah/random.hpp"
#include "ssah/tensor_ops.hpp"

namespace ssah {

/// The n items of one modality as training reads them, a batch of rows at a time: either a tensor
/// [n, sample_shape...] holding every item, or a function that makes the rows asked for (e.g.
/// `pipeline::item_rows`: uint8 images kept as uint8 and converted, standardised, one batch at a
/// time), so that the items need not all be held as T at once. A copy shares the tensor or the
/// function of the original.
template <class T>
class ItemRows {
 public:
  /// Makes the tensor [rows.size(), sample_shape...] of the given rows (each below n), in order.
  using Gather = std::function<Tensor<T>(const std::vector<std::size_t>& rows)>;

  ItemRows() = default;
  /// The rows of `items` [n, sample_shape...]. Implicit, so that a tensor serves where rows are read.
  ItemRows(Tensor<T> items)
      : items_(std::move(items)), shape_(items_.shape()) {}  // NOLINT(google-explicit-constructor)
  /// n = shape.rows() items of shape shape[1...], made by `gather`.
  ItemRows(const Shape& shape, Gather gather) : shape_(shape), gather_(std::move(gather)) {
    SSAH_CHECK_AS(InvalidArgument, gather_ != nullptr, "ItemRows: no gather function");
  }

  bool defined() const noexcept { return items_.defined() || gather_ != nullptr; }
  /// [n, sample_shape...].
  const Shape& shape() const noexcept { return shape_; }
  std::size_t rows() const noexcept { return shape_.rows(); }
  std::size_t row_size() const noexcept { return shape_.row_size(); }
  /// The tensor of every item when the rows are held as one, else nullptr.
  const Tensor<T>* tensor() const noexcept { return items_.defined() ? &items_ : nullptr; }

  /// The rows `rows`, in that order: [rows.size(), sample_shape...].
  Tensor<T> gather(const std::vector<std::size_t>& rows) const {
    if (items_.defined()) return gather_rows(items_, rows);
    detail::check_row_indices(rows, shape_.rows(), "ItemRows::gather", false);
    Tensor<T> out = gather_(rows);
    SSAH_CHECK_AS(ShapeError, out.shape() == shape_.with_rows(rows.size()), "ItemRows::gather: the gather function ",
                  "made ", out.shape().str(), " for ", rows.size(), " rows of ", shape_.str());
    return out;
  }
  /// Rows [first, last): a view of the tensor, or gathered.
  Tensor<T> slice(std::size_t first, std::size_t last) const {
    if (items_.defined()) return items_.rows(first, last);
    SSAH_CHECK_AS(ShapeError, first <= last && last <= rows(), "ItemRows::slice: range [", first, ", ", last,
                  ") out of bounds for ", shape_.str());
    std::vector<std::size_t> rows(last - first);
    std::iota(rows.begin(), rows.end(), first);
    return gather(rows);
  }

 private:
  Tensor<T> items_;
  Shape shape_;
  Gather gather_;
};

/// Training data: n items, multi-hot labels [n, c] (0/1) and the items of each modality (in the
/// order of the model's backbones): tensors [n, sample_shape...] or any other ItemRows. Tensors
/// are handles: a copy of a TrainingSet shares the storage of the original.
template <class T>
struct TrainingSet {
  Tensor<T> labels;
  std::vector<ItemRows<T>> modalities;
};

/// What the training loop reports after every step.
struct TrainingProgress {
  std::string network;  ///< "label", "discriminator" or "modality <i>"
  std::size_t epoch = 0, epochs = 0;
  std::size_t stage = 0;  ///< sub-stage index (learning-rate step) within the network's phase
  std::size_t pass = 0, passes = 0;
  std::size_t step = 0, steps = 0;  ///< within the pass
  double learning_rate = 0;
  double loss = 0;  ///< this step's total loss
  double feature_pairwise = 0, hash_pairwise = 0, quantization = 0, label = 0, adversarial = 0;
  double elapsed_seconds = 0;  ///< since fit() started
  double fraction_done = 0;    ///< estimate over the whole run, for an ETA
};

/// Hyperparameters of training (runtime). Defaults reproduce the authors' schedule.
struct TrainOptions {
  std::size_t batch_size = 128;
  /// Steps in one pass; 0 = n / batch_size (the reference's rule, at least 1). A small training
  /// set gets few steps a pass by that rule (630 items: 4), too few for a network at the slow
  /// image table to move (docs/model.md, MIRFLICKR-730); set it to train such a set for longer.
  std::size_t steps_per_pass = 0;
  std::size_t epochs = 1;
  std::uint64_t seed = 0;
  LossWeights weights;
  /// Learning rates per (epoch, sub-stage); the reference tables by default (see SsahTableLr).
  LrSchedule label_lr = SsahTableLr{2.0};
  LrSchedule discriminator_lr = SsahTableLr{3.0};
  /// One schedule per modality; missing entries use SsahTableLr{4.0} (the reference: image 4.5, text 3.5).
  std::vector<LrSchedule> modality_lr;
  /// Passes per sub-stage (each pass is n / batch_size steps); an early stop may end a sub-stage.
  std::vector<std::size_t> label_passes{10, 5};
  std::vector<std::size_t> discriminator_passes{1, 1};
  std::vector<std::size_t> modality_passes{15, 7, 5};
  bool early_stop = true;
  /// Buffers of features and hashes start as N(0, 1) noise (as the reference) or zeros.
  bool random_buffer_init = true;
  std::function<void(const TrainingProgress&)> on_progress;
  /// Called by fit() after each epoch with the number of epochs completed (e.g. to write a
  /// checkpoint: parameters and training_state()).
  std::function<void(std::size_t)> on_epoch;
  /// Data-parallel training over the ranks of this communicator (nullptr: one process). Every rank
  /// builds the trainer with the same data, options and seed and draws the same global batch; rank
  /// r computes the rows dist::shard_of(batch, r, P) of it, the step's gradients are summed over the
  /// ranks before the optimizer steps (one all-reduce per network step) and the batch's outputs are
  /// gathered into the n-row buffers, which every rank holds whole. P ranks thus follow the
  /// trajectory of one process with the same global batch, up to the order of floating-point sums.
  /// The communicator must outlive training.
  dist::Communicator* communicator = nullptr;
};

/// Everything training carries between epochs besides the parameters, exported by
/// `SsahTrainer::training_state()` and restored by `restore_training_state()`: with the parameters
/// and the same data and options, training continues bit-identically (e.g. from a checkpoint).
/// `OptimizerState` is the trainer's optimizer's state (Adam's by default; checkpoints store Adam's).
template <class T, class OptimizerState = AdamState<T>>
struct TrainingState {
  std::size_t epoch = 0;         ///< completed epochs
  std::uint64_t steps_done = 0;  ///< training steps taken (dropout streams are keyed on it)
  std::string rng;               ///< the batch sampler's HostRng::state()
  /// The n-row buffers: "label_features", "label_hashes", "codes", "features<m>", "hashes<m>".
  std::map<std::string, Tensor<T>> buffers;
  /// Each optimizer's state by its `for_each_optimizer` name (moments undefined before its first step).
  std::map<std::string, OptimizerState> optimizers;
};

template <class Model, class Optimizer = Adam<typename Model::value_type>>
class SsahTrainer {
 public:
  using model_type = Model;
  using optimizer_type = Optimizer;
  using value_type = typename Model::value_type;
  using T = value_type;
  using Objective = typename Model::objective_type;
  using State = TrainingState<T, typename Optimizer::State>;
  static constexpr int K = Model::bits;
  static constexpr std::size_t num_modalities = Model::num_modalities;

  /// Prepares training of `model` on `data`: checks the data against the model (shapes, 0/1
  /// labels, finite inputs) and allocates the n-row buffers. `model` must outlive the trainer.
  SsahTrainer(Model& model, TrainingSet<T> data, const TrainOptions& options, const Optimizer& prototype = Optimizer{})
      : model_(&model), data_(std::move(data)) {
    validate(data_);
    set_options(options);
    const std::size_t n = data_.labels.rows();
    state_.n = n;
    state_.rng = HostRng(options.seed);
    state_.label_features = make_buffer(Shape{n, model.label_net().feature_dim()}, options, 1);
    state_.label_hashes = make_buffer(Shape{n, K}, options, 2);
    model.for_each_net([&](auto& net, std::size_t m) {
      state_.features.push_back(make_buffer(Shape{n, net.feature_dim()}, options, 10 + 2 * m));
      state_.hashes.push_back(make_buffer(Shape{n, K}, options, 11 + 2 * m));
    });
    state_.codes = Tensor<T>::empty(Shape{n, K});
    label_opt_ = prototype;
    net_opts_.assign(num_modalities, prototype);
    dis_opts_.assign(num_modalities, prototype);
    dis_gen_opts_.assign(num_modalities, prototype);
    if (ranks().size() > 1) join_ranks();
    update_codes();
  }

  // Move-only: a copy would share the buffers' and optimizers' storage with the original.
  SsahTrainer(const SsahTrainer&) = delete;
  SsahTrainer& operator=(const SsahTrainer&) = delete;
  SsahTrainer(SsahTrainer&&) = default;
  SsahTrainer& operator=(SsahTrainer&&) = default;

  Model& model() noexcept { return *model_; }
  const Model& model() const noexcept { return *model_; }
  const TrainingSet<T>& data() const noexcept { return data_; }
  const TrainOptions& options() const noexcept { return options_; }
  /// New options for the epochs to come (e.g. more epochs, another schedule); the state is kept.
  void set_options(const TrainOptions& options) {
    SSAH_CHECK_AS(InvalidArgument, options.batch_size > 0, "TrainOptions: batch_size must be positive");
    if (options.communicator != nullptr) {
      const auto ranks = static_cast<std::size_t>(options.communicator->size());
      const std::size_t batch = std::min(options.batch_size, data_.labels.rows());
      SSAH_CHECK_AS(InvalidArgument, batch >= ranks, "TrainOptions: a batch of ", batch, " items cannot be shared by ",
                    ranks, " ranks (each computes at least one row): a larger batch or fewer ranks");
    }
    options_ = options;
  }

  /// Calls f(Optimizer&, name) for every optimizer: "label", "modality<i>", "discriminator<i>" and
  /// "discriminator<i>.generator" (the reference objective's pull on D during a modality step).
  template <class F>
  void for_each_optimizer(F&& f) {
    visit_optimizers(*this, [&](Optimizer& opt, const std::string& name, const ParameterSet<T>&) { f(opt, name); });
  }

  // ---------------------------------------------------------------- training

  /// Trains options().epochs more epochs, continuing from the current epoch.
  void fit() {
    start_time_ = std::chrono::steady_clock::now();
    const std::size_t last = state_.epoch + options_.epochs;
    total_epochs_ = last;
    while (state_.epoch < last) {
      run_epoch();
      if (options_.on_epoch) options_.on_epoch(state_.epoch);
    }
  }

  /// One epoch of the schedule: LabNet, discriminators, each modality network in turn.
  void run_epoch() {
    const TrainOptions& o = options_;
    const std::size_t e = state_.epoch;
    // 1. LabNet: break a sub-stage when a pass's loss did not decrease.
    for (std::size_t idx = 0; idx < o.label_passes.size(); ++idx) {
      double previous = 0;
      for (std::size_t k = 0; k < o.label_passes[idx]; ++k) {
        const double loss = label_pass(e, idx, k, o.label_lr(e, idx));
        if (o.early_stop && k > 1 && loss >= previous) break;
        previous = loss;
      }
    }
    // 2. Discriminators.
    for (std::size_t idx = 0; idx < o.discriminator_passes.size(); ++idx)
      for (std::size_t k = 0; k < o.discriminator_passes[idx]; ++k)
        discriminator_pass(e, idx, k, o.discriminator_lr(e, idx));
    // 3. Each modality network: losses compared on even passes, as the reference logs them.
    model_->for_each_net([&](auto& net, std::size_t m) {
      const LrSchedule lr = m < o.modality_lr.size() ? o.modality_lr[m] : LrSchedule(SsahTableLr{4.0});
      for (std::size_t idx = 0; idx < o.modality_passes.size(); ++idx) {
        double previous = 0;
        bool have_previous = false;
        for (std::size_t k = 0; k < o.modality_passes[idx]; ++k) {
          const double loss = modality_pass(net, m, e, idx, k, lr(e, idx));
          if (k % 2 != 0) continue;
          if (o.early_stop && k > 2 && have_previous && loss >= previous) break;
          previous = loss;
          have_previous = true;
        }
      }
    });
    update_codes();
    ++state_.epoch;
  }

  /// Completed epochs.
  std::size_t epoch() const noexcept { return state_.epoch; }

  // ---------------------------------------------------------------- single steps
  // One training step of one network, exactly as fit() runs it inside a pass (a fresh batch, the
  // buffers updated, the optimizer stepped) at learning rate `lr`; returns the step's loss. The
  // shared codes B are not refreshed (fit() does that at the end of each pass: see refresh_codes).
  // For benchmarks and custom schedules.

  /// One LabNet step.
  double train_label_step(double lr) { return label_step(single_step_progress("label", lr)); }
  /// One step of every discriminator.
  double train_discriminator_step(double lr) { return discriminator_step(single_step_progress("discriminator", lr)); }
  /// One step of modality network M (and, under ReferenceCode, its discriminator's generator pull).
  template <std::size_t M>
  double train_modality_step(double lr) {
    static_assert(M < num_modalities, "train_modality_step: modality index out of range");
    const std::string name = "modality " + std::to_string(M);
    return modality_step(model_->template network<M>(), M, single_step_progress(name, lr));
  }
  /// Refreshes the shared codes B from the buffers (fit() does it after every pass).
  void refresh_codes() { update_codes(); }

  /// A copy of the training state.
  State training_state() const {
    State t;
    t.epoch = state_.epoch;
    t.steps_done = state_.steps_done;
    t.rng = state_.rng.state();
    for_each_buffer(state_, [&](const Tensor<T>& b, const std::string& name) { t.buffers.emplace(name, b.clone()); });
    visit_optimizers(*this, [&](const Optimizer& opt, const std::string& name, const ParameterSet<T>&) {
      t.optimizers.emplace(name, opt.state().clone());
    });
    return t;
  }

  /// Restores `state` (from training_state() of a trainer of a model with the same structure, on
  /// the same data with the same options); with the model's parameters restored too, fit() or
  /// run_epoch() continue exactly where that trainer stopped. ShapeError / InvalidArgument naming
  /// the entry when `state` does not fit this model and data; nothing changes then.
  void restore_training_state(const State& state) {
    for_each_buffer(state_, [&](Tensor<T>& b, const std::string& name) {
      const auto it = state.buffers.find(name);
      SSAH_CHECK_AS(InvalidArgument, it != state.buffers.end(), "restore_training_state: no buffer '", name, "'");
      check_same_shape(it->second.shape(), b.shape(), ("restore_training_state: buffer '" + name + "'").c_str());
    });
    visit_optimizers(*this, [&](Optimizer&, const std::string& name, const ParameterSet<T>& params) {
      const auto it = state.optimizers.find(name);
      SSAH_CHECK_AS(InvalidArgument, it != state.optimizers.end(), "restore_training_state: no optimizer '", name, "'");
      Optimizer::check_state(it->second, params.size(), "restore_training_state: optimizer '" + name + "'");
    });
    HostRng rng;
    rng.set_state(state.rng);
    // Everything checked: now overwrite.
    for_each_buffer(state_, [&](Tensor<T>& b, const std::string& name) { b.assign(state.buffers.at(name)); });
    visit_optimizers(*this, [&](Optimizer& opt, const std::string& name, const ParameterSet<T>&) {
      opt.set_state(state.optimizers.at(name).clone());
    });
    state_.rng = rng;
    state_.epoch = state.epoch;
    state_.steps_done = state.steps_done;
  }

 private:
  struct Run {
    std::size_t n = 0;
    std::size_t epoch = 0;
    Tensor<T> label_features, label_hashes, codes;
    std::vector<Tensor<T>> features, hashes;
    HostRng rng;
    std::uint64_t steps_done = 0;
  };

  // ---------------------------------------------------------------- ranks (data-parallel training)

  /// The ranks training runs on: options().communicator, or this process alone.
  dist::Communicator& ranks() const {
    static dist::SingleProcess one_process;
    return options_.communicator != nullptr ? *options_.communicator : one_process;
  }

  /// A global batch and the part of it this rank computes: rows `mine` = all[shard_of(b, rank, P)],
  /// `fraction` = mine / all (a mean over the batch is a mean over mine times that).
  struct BatchPart {
    std::vector<std::size_t> all, mine;
    T fraction = 1;
  };
  BatchPart draw_batch_part() {
    BatchPart part;
    part.all = draw_batch();  // the same on every rank: the sampler's seed and draws are
    const dist::Communicator& comm = ranks();
    if (comm.size() == 1) {
      part.mine = part.all;
      return part;
    }
    const dist::Shard s = dist::shard_of(part.all.size(), comm.rank(), comm.size());
    part.mine.assign(part.all.begin() + static_cast<std::ptrdiff_t>(s.first),
                     part.all.begin() + static_cast<std::ptrdiff_t>(s.last));
    part.fraction = T(s.size()) / T(part.all.size());
    return part;
  }

  /// The rows of the whole batch from each rank's rows `mine` (its part of the batch, in rank order).
  Tensor<T> whole_batch(const Tensor<T>& mine, const BatchPart& part) const {
    dist::Communicator& comm = ranks();
    if (comm.size() == 1) return mine;
    const std::vector<T> host = mine.to_host();
    const auto parts = comm.all_gather(host.data(), host.size() * sizeof(T));
    std::vector<T> joined;
    joined.reserve(part.all.size() * mine.row_size());
    for (const auto& bytes : parts) {
      const auto* first = reinterpret_cast<const T*>(bytes.data());
      joined.insert(joined.end(), first, first + bytes.size() / sizeof(T));
    }
    return Tensor<T>::from_host(mine.shape().with_rows(part.all.size()), joined);
  }

  /// Each element replaced by its sum over the ranks (a device buffer through the communicator's
  /// DeviceSums, e.g. NCCL, or else through the host).
  void sum_over_ranks(Tensor<T>& t) const {
    dist::Communicator& comm = ranks();
    if (comm.size() == 1 || t.size() == 0) return;
    if constexpr (SSAH_DEVICE_CUDA) {
      if (auto* device = dynamic_cast<dist::DeviceSums*>(&comm))
        return device->all_reduce_sum_device(t.data(), t.size());
      std::vector<T> host = t.to_host();
      comm.all_reduce_sum(host.data(), host.size());
      t.copy_from_host(host.data(), host.size());
    } else {
      comm.all_reduce_sum(t.data(), t.size());
    }
  }

  /// A step's loss and its terms summed over the ranks (each rank's covers its rows of the batch).
  void sum_over_ranks(double& total, GeneratorLoss<T>* terms) const {
    dist::Communicator& comm = ranks();
    if (comm.size() == 1) return;
    double v[6] = {total, 0, 0, 0, 0, 0};
    if (terms != nullptr) {
      v[1] = terms->feature_pairwise, v[2] = terms->hash_pairwise, v[3] = terms->quantization;
      v[4] = terms->label, v[5] = terms->adversarial;
    }
    comm.all_reduce_sum(v, 6);
    total = v[0];
    if (terms != nullptr) {
      terms->feature_pairwise = T(v[1]), terms->hash_pairwise = T(v[2]), terms->quantization = T(v[3]);
      terms->label = T(v[4]), terms->adversarial = T(v[5]);
    }
  }

  /// Several ranks: checks that they train the same thing (so that no rank waits in a collective
  /// the others never reach) and starts them from rank 0's parameters, as one process would.
  void join_ranks() {
    dist::Communicator& comm = ranks();
    std::vector<std::uint64_t> mine{state_.n,         data_.labels.row_size(), options_.batch_size,
                                    steps_per_pass(), options_.seed,           model_->label_net().parameters().size()};
    model_->for_each_net([&](auto& net, std::size_t m) {
      mine.push_back(net.parameters().size());
      mine.push_back(data_.modalities[m].row_size());
      mine.push_back(model_->discriminator(m).parameters().size());
    });
    const auto all = comm.all_gather(mine.data(), mine.size() * sizeof(std::uint64_t));
    for (std::size_t r = 1; r < all.size(); ++r)
      SSAH_CHECK_AS(InvalidArgument, all[r] == all[0], "SsahTrainer: rank ", r, " of ", all.size(),
                    " trains another configuration than rank 0 (items, labels, batch, steps, seed, network and input "
                    "sizes differ): every rank must be given the same data and options");
    auto share = [&](ParameterSet<T>& p) {
      std::vector<T> host = p.values().to_host();
      comm.broadcast(host.data(), host.size() * sizeof(T), 0);
      p.values().copy_from_host(host.data(), host.size());
    };
    share(model_->label_net().parameters());
    model_->for_each_net([&](auto& net, std::size_t m) {
      share(net.parameters());
      share(model_->discriminator(m).parameters());
    });
  }

  /// Calls f(optimizer, name, the parameter set it updates) for every optimizer, in the order
  /// of for_each_optimizer; Self is SsahTrainer or const SsahTrainer.
  template <class Self, class F>
  static void visit_optimizers(Self& self, F&& f) {
    Model& model = *self.model_;
    f(self.label_opt_, std::string("label"), model.label_net().parameters());
    model.for_each_net(
        [&](auto& net, std::size_t m) { f(self.net_opts_[m], "modality" + std::to_string(m), net.parameters()); });
    for (std::size_t m = 0; m < num_modalities; ++m)
      f(self.dis_opts_[m], "discriminator" + std::to_string(m), model.discriminator(m).parameters());
    for (std::size_t m = 0; m < num_modalities; ++m)
      f(self.dis_gen_opts_[m], "discriminator" + std::to_string(m) + ".generator", model.discriminator(m).parameters());
  }

  /// Calls f(buffer, name) for every n-row buffer of the training state (names as in TrainingState).
  template <class S, class F>
  static void for_each_buffer(S& s, F&& f) {
    f(s.label_features, std::string("label_features"));
    f(s.label_hashes, std::string("label_hashes"));
    f(s.codes, std::string("codes"));
    for (std::size_t m = 0; m < s.features.size(); ++m) f(s.features[m], "features" + std::to_string(m));
    for (std::size_t m = 0; m < s.hashes.size(); ++m) f(s.hashes[m], "hashes" + std::to_string(m));
  }

  void validate(const TrainingSet<T>& data) const {
    const std::size_t n = data.labels.rows();
    const std::size_t c = model_->num_labels();
    SSAH_CHECK_AS(ShapeError, data.labels.defined() && n > 0, "TrainingSet: no labelled items");
    SSAH_CHECK_AS(ShapeError, data.labels.row_size() == c, "TrainingSet: labels ", data.labels.shape().str(),
                  " do not have the model's ", c, " classes");
    SSAH_CHECK_AS(ShapeError, data.modalities.size() == num_modalities, "TrainingSet: ", data.modalities.size(),
                  " modalities given, the model has ", num_modalities);
    if (std::size_t i = find_first(data.labels, detail::NotBinary<T>{}); i < data.labels.size())
      detail::fail<InvalidArgument>("TrainingSet: labels must be 0 or 1, found ", data.labels.item(i), " at row ",
                                    i / c, ", column ", i % c);
    model_->for_each_net([&](const auto& net, std::size_t m) {
      const ItemRows<T>& x = data.modalities[m];
      SSAH_CHECK_AS(ShapeError, x.defined(), "TrainingSet: modality ", m, " has no items");
      SSAH_CHECK_AS(ShapeError, x.rows() == n, "TrainingSet: modality ", m, " has ", x.rows(), " rows, labels have ",
                    n);
      SSAH_CHECK_AS(ShapeError, x.row_size() == net.sample_shape().size(), "TrainingSet: modality ", m, " ",
                    x.shape().str(), " does not hold items of shape ", net.sample_shape().str());
      // Rows made by a gather function are the maker's to check (pipeline::Dataset::validate does).
      if (const Tensor<T>* t = x.tensor(); t != nullptr)
        if (std::size_t i = find_first(*t, detail::NotFinite<T>{}); i < t->size())
          detail::fail<NumericError>("TrainingSet: modality ", m, " has a non-finite value (", t->item(i), ") at row ",
                                     i / t->row_size(), ", column ", i % t->row_size());
    });
  }

  template <class Bad>
  static std::size_t find_first(const Tensor<T>& t, Bad bad) {
    return static_cast<std::size_t>(thrust::find_if(thrust::device, t.begin(), t.end(), bad) - t.begin());
  }

  Tensor<T> make_buffer(const Shape& shape, const TrainOptions& o, std::uint64_t stream) const {
    Tensor<T> t(shape);
    if (o.random_buffer_init) init::normal(t, T(0), T(1), o.seed * 7919 + stream);
    return t;
  }

  /// b distinct items, uniformly: the first b of a fresh permutation, as the reference draws them.
  std::vector<std::size_t> draw_batch() { return state_.rng.sample(state_.n, std::min(options_.batch_size, state_.n)); }
  std::size_t steps_per_pass() const {
    if (options_.steps_per_pass > 0) return options_.steps_per_pass;
    return std::max<std::size_t>(1, state_.n / std::min(options_.batch_size, state_.n));
  }

  /// Shared codes B = sign(H_label + sum of H_modality) (paper) or sign(H_label) (reference, unused).
  void update_codes() {
    Run& s = state_;
    detail::sign_of_sum(s.codes, s.label_hashes, Objective::shared_codes ? s.hashes : std::vector<Tensor<T>>{});
  }

  Tensor<T> quantization_target(const std::vector<std::size_t>& idx, const Var<T>& hash) const {
    if (Objective::shared_codes) return gather_rows(state_.codes, idx);
    Tensor<T> t = Tensor<T>::empty(hash.shape());
    detail::sign_of_sum(t, hash.value(), {});
    return t;
  }

  void check_finite(double loss, const char* network, std::size_t e, std::size_t idx, std::size_t k,
                    std::size_t step) const {
    if (!std::isfinite(loss))
      detail::fail<NumericError>("non-finite loss (", loss, ") training the ", network, " network at epoch ", e,
                                 ", stage ", idx, ", pass ", k, ", step ", step,
                                 ": lower the learning rate or check the inputs for NaN/Inf");
  }

  void report(TrainingProgress p, const GeneratorLoss<T>* terms, double loss) {
    if (!options_.on_progress) return;
    p.epochs = total_epochs_;
    p.loss = loss;
    if (terms) {
      p.feature_pairwise = terms->feature_pairwise;
      p.hash_pairwise = terms->hash_pairwise;
      p.quantization = terms->quantization;
      p.label = terms->label;
      p.adversarial = terms->adversarial;
    }
    p.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time_).count();
    const double per_epoch = static_cast<double>(steps_in_epoch());
    const double done = static_cast<double>(state_.steps_done);
    p.fraction_done = total_epochs_ ? std::min(1.0, done / (per_epoch * static_cast<double>(total_epochs_))) : 0.0;
    options_.on_progress(p);
  }
  std::size_t steps_in_epoch() const {
    const TrainOptions& o = options_;
    auto total = [](const std::vector<std::size_t>& v) { return std::accumulate(v.begin(), v.end(), std::size_t(0)); };
    return steps_per_pass() *
           (total(o.label_passes) + total(o.discriminator_passes) + num_modalities * total(o.modality_passes));
  }

  double label_pass(std::size_t e, std::size_t idx, std::size_t k, double lr) {
    const std::size_t steps = steps_per_pass();
    double sum_loss = 0;
    for (std::size_t step = 0; step < steps; ++step)
      sum_loss += label_step(TrainingProgress{"label", e, 0, idx, k, options_.label_passes[idx], step, steps, lr});
    update_codes();
    return sum_loss / static_cast<double>(steps);
  }

  TrainingProgress single_step_progress(const std::string& network, double lr) const {
    return TrainingProgress{network, state_.epoch, 0, 0, 0, 1, 0, 1, lr};
  }

  /// One LabNet step; `p` says where it is in the schedule (for errors and on_progress).
  double label_step(const TrainingProgress& p) {
    Run& s = state_;
    const BatchPart part = draw_batch_part();
    const Tensor<T> labels = gather_rows(data_.labels, part.mine);
    NetOutput<T> out =
        model_->label_net().forward(Var<T>(labels), ForwardContext{true, model_->options().seed, s.steps_done});
    scatter_rows(s.label_features, part.all, whole_batch(out.feature.value(), part));
    scatter_rows(s.label_hashes, part.all, whole_batch(out.hash.value(), part));
    const Tensor<T> sim = label_similarity(data_.labels, labels, T(Objective::similarity_scale));
    // The supervised terms are sums over the batch's rows: each rank's rows add up to the batch's.
    GeneratorLoss<T> loss =
        supervised_loss<Objective>(out.feature, out.hash, out.label, s.label_features, s.label_hashes, sim,
                                   quantization_target(part.mine, out.hash), labels, options_.weights);
    double total = loss.total.value().item();
    sum_over_ranks(total, &loss);
    check_finite(total, "label", p.epoch, p.stage, p.pass, p.step);
    ParameterSet<T>& params = model_->label_net().parameters();
    params.zero_grad();
    loss.total.backward();
    sum_over_ranks(params.grads());
    label_opt_.step(params, T(p.learning_rate));
    ++s.steps_done;
    report(p, &loss, total);
    return total;
  }

  void discriminator_pass(std::size_t e, std::size_t idx, std::size_t k, double lr) {
    const std::size_t steps = steps_per_pass();
    for (std::size_t step = 0; step < steps; ++step)
      discriminator_step(
          TrainingProgress{"discriminator", e, 0, idx, k, options_.discriminator_passes[idx], step, steps, lr});
  }

  /// One step of every discriminator.
  double discriminator_step(const TrainingProgress& p) {
    Run& s = state_;
    const BatchPart part = draw_batch_part();
    const Tensor<T> labels = gather_rows(data_.labels, part.mine);
    Tensor<T> label_feature;
    std::vector<Tensor<T>> features;
    {
      NoGradGuard no_grad;
      label_feature = model_->label_net().forward(Var<T>(labels)).feature.value();
      model_->for_each_net([&](auto& net, std::size_t m) {
        features.push_back(net.forward(Var<T>(data_.modalities[m].gather(part.mine))).feature.value());
      });
    }
    // Means over this rank's rows, weighted by its share of the batch: their sum over the ranks is
    // the mean over the batch.
    const T w = T(1) / T(2 * num_modalities) * part.fraction;
    Var<T> total;
    for (std::size_t m = 0; m < num_modalities; ++m) {
      Discriminator<T>& d = model_->discriminator(m);
      Var<T> term = scale(adversarial_loss(d.forward(Var<T>(features[m])), T(0)) +
                              adversarial_loss(d.forward(Var<T>(label_feature)), T(1)),
                          w);
      total = total.defined() ? total + term : term;
      d.parameters().zero_grad();
    }
    double value = total.value().item();
    sum_over_ranks(value, nullptr);
    check_finite(value, "discriminator", p.epoch, p.stage, p.pass, p.step);
    total.backward();
    for (std::size_t m = 0; m < num_modalities; ++m) {
      sum_over_ranks(model_->discriminator(m).parameters().grads());
      dis_opts_[m].step(model_->discriminator(m).parameters(), T(p.learning_rate));
    }
    ++s.steps_done;
    report(p, nullptr, value);
    return value;
  }

  template <class Net>
  double modality_pass(Net& net, std::size_t m, std::size_t e, std::size_t idx, std::size_t k, double lr) {
    const std::size_t steps = steps_per_pass();
    const std::string name = "modality " + std::to_string(m);
    double sum_loss = 0;
    for (std::size_t step = 0; step < steps; ++step)
      sum_loss +=
          modality_step(net, m, TrainingProgress{name, e, 0, idx, k, options_.modality_passes[idx], step, steps, lr});
    update_codes();
    return sum_loss / static_cast<double>(steps);
  }

  /// One step of modality network `net` (index m).
  template <class Net>
  double modality_step(Net& net, std::size_t m, const TrainingProgress& p) {
    Run& s = state_;
    Discriminator<T>& d = model_->discriminator(m);
    const T adv_weight = T(options_.weights.adversarial);
    const T lr = T(p.learning_rate);
    const BatchPart part = draw_batch_part();
    const Tensor<T> labels = gather_rows(data_.labels, part.mine);
    NetOutput<T> out = net.forward(Var<T>(data_.modalities[m].gather(part.mine)),
                                   ForwardContext{true, model_->options().seed + 1 + m, s.steps_done});
    scatter_rows(s.features[m], part.all, whole_batch(out.feature.value(), part));
    scatter_rows(s.hashes[m], part.all, whole_batch(out.hash.value(), part));
    const Tensor<T> sim = label_similarity(data_.labels, labels, T(Objective::similarity_scale));
    GeneratorLoss<T> loss =
        supervised_loss<Objective>(out.feature, out.hash, out.label, s.label_features, s.label_hashes, sim,
                                   quantization_target(part.mine, out.hash), labels, options_.weights);
    // The adversarial term is a mean over the rows (see discriminator_step).
    const T adv_share = adv_weight * part.fraction;
    net.parameters().zero_grad();
    d.parameters().zero_grad();
    if (Objective::adversarial_reaches_generator && adv_weight != T(0)) {
      // The modality network learns to make its features look like LabNet's to D (target 1).
      Var<T> adv = scale(adversarial_loss(d.forward(out.feature), T(1)), adv_share);
      loss.adversarial = adv.value().item();
      loss.total = loss.total + adv;
    }
    double total = loss.total.value().item();
    sum_over_ranks(total, &loss);
    check_finite(total, p.network.c_str(), p.epoch, p.stage, p.pass, p.step);
    loss.total.backward();
    sum_over_ranks(net.parameters().grads());
    net_opts_[m].step(net.parameters(), lr);
    if (!Objective::adversarial_reaches_generator && adv_weight != T(0)) {
      // As the authors' graph does: the adversarial term is built on a copy of the features, so
      // its gradient only pulls D towards "label" for this modality, at the network's rate.
      d.parameters().zero_grad();
      Var<T> adv = scale(adversarial_loss(d.forward(out.feature.detach()), T(1)), adv_share);
      double adversarial = adv.value().item();
      sum_over_ranks(adversarial, nullptr);
      loss.adversarial = T(adversarial);
      adv.backward();
      sum_over_ranks(d.parameters().grads());
      dis_gen_opts_[m].step(d.parameters(), lr);
    }
    ++s.steps_done;
    report(p, &loss, total);
    return total;
  }

  Model* model_;
  TrainingSet<T> data_;  ///< tensor handles: the caller's TrainingSet may be a temporary
  TrainOptions options_;
  Run state_;
  Optimizer label_opt_;
  std::vector<Optimizer> net_opts_, dis_opts_, dis_gen_opts_;
  std::size_t total_epochs_ = 0;
  std::chrono::steady_clock::time_point start_time_ = std::chrono::steady_clock::now();
};

/// Trains `model` on `data` for options.epochs epochs; returns the trainer (to train on, or to
/// export its state).
template <class Model, class Optimizer = Adam<typename Model::value_type>>
SsahTrainer<Model, Optimizer> fit(Model& model, const TrainingSet<typename Model::value_type>& data,
                                  const TrainOptions& options, const Optimizer& prototype = Optimizer{}) {
  SsahTrainer<Model, Optimizer> trainer(model, data, options, prototype);
  trainer.fit();
  return trainer;
}

}  // namespace ssah
