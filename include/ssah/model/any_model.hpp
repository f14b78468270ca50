#pragma once
/// \file
/// `AnyModel<T>`: SSAH with K, the objective and the number of modalities chosen at run time,
/// behind a small virtual interface, for programs driven by command lines or config files.
/// `make_model(spec)` instantiates `BasicSsah<T, K, Objective, AnyBackbone...>` for
/// K in {16, 32, 64, 128}, objective "paper" or "reference", and 1 to 3 modalities.
/// Library users who know their configuration at compile time should use `BasicSsah` directly.
/// An AnyModel trains through an `SsahTrainer` it keeps (Adam, as the reference): `begin` or
/// `fit` on data with other label storage starts a new one, on the same data they continue.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ssah/detail/int_dispatch.hpp"
#include "ssah/error.hpp"
#include "ssah/model/any_backbone.hpp"
#include "ssah/model/ssah.hpp"
#include "ssah/model/trainer.hpp"

namespace ssah {

template <class T>
struct ModelSpec {
  int bits = 32;
  std::string objective = "paper";  ///< "paper" or "reference"
  std::size_t num_labels = 0;
  std::vector<Shape> sample_shapes;                        ///< one per modality
  std::vector<typename AnyBackbone<T>::Config> backbones;  ///< one per modality
  typename FeatureNet<T>::Config label_net{};
  typename Discriminator<T>::Config discriminator{};
  InitScheme init = InitScheme::ReferenceNormal;
  std::uint64_t seed = 0;
};

template <class T>
class AnyModel {
 public:
  using ParameterVisitor = std::function<void(ParameterSet<T>&, const std::string&)>;

  virtual ~AnyModel() = default;
  virtual int bits() const = 0;
  virtual std::size_t num_modalities() const = 0;
  virtual std::size_t num_labels() const = 0;
  virtual std::string objective() const = 0;
  /// Trains options.epochs epochs (continuing when `data` is the data of the last begin/fit).
  virtual void fit(const TrainingSet<T>& data, const TrainOptions& options) = 0;
  /// Prepares training on `data` (a new trainer unless `data` has the label storage of the last one).
  virtual void begin(const TrainingSet<T>& data, const TrainOptions& options) = 0;
  virtual void run_epoch() = 0;
  virtual std::size_t epoch() const = 0;
  virtual TrainingState<T> training_state() const = 0;
  virtual void restore_training_state(const TrainingSet<T>& data, const TrainOptions& options,
                                      const TrainingState<T>& state) = 0;
  virtual Tensor<T> hashes(std::size_t modality, const Tensor<T>& inputs) const = 0;
  virtual Tensor<T> label_hashes(const Tensor<T>& labels) const = 0;
  virtual void for_each_parameter_set(const ParameterVisitor& f) = 0;
  /// The backbone of modality `m` (e.g. to load pretrained weights into a CnnF after
  /// `make_model`: `std::get_if<CnnF<T>>(&model->backbone(m).variant())`). InvalidArgument when
  /// `m >= num_modalities()`.
  virtual AnyBackbone<T>& backbone(std::size_t m) = 0;
};

namespace detail {

template <class Model>
class AnyModelHolder final : public AnyModel<typename Model::value_type> {
  using T = typename Model::value_type;

 public:
  template <class... Args>
  explicit AnyModelHolder(Args&&... args) : model_(std::forward<Args>(args)...) {}
  AnyModelHolder(const AnyModelHolder&) = delete;  // the trainer points at model_
  AnyModelHolder& operator=(const AnyModelHolder&) = delete;
  int bits() const override { return Model::bits; }
  std::size_t num_modalities() const override { return Model::num_modalities; }
  std::size_t num_labels() const override { return model_.num_labels(); }
  std::string objective() const override { return Model::objective_type::name; }
  void fit(const TrainingSet<T>& data, const TrainOptions& options) override {
    begin(data, options);
    trainer_->fit();
  }
  void begin(const TrainingSet<T>& data, const TrainOptions& options) override {
    if (trainer_ && trainer_->data().labels.same_storage(data.labels) &&
        trainer_->data().labels.rows() == data.labels.rows()) {
      trainer_->set_options(options);
      return;
    }
    trainer_.reset();
    trainer_.emplace(model_, data, options);
  }
  void run_epoch() override { trainer().run_epoch(); }
  std::size_t epoch() const override { return trainer_ ? trainer_->epoch() : 0; }
  TrainingState<T> training_state() const override {
    SSAH_CHECK_AS(InvalidArgument, trainer_.has_value(), "AnyModel::training_state: training has not begun");
    return trainer_->training_state();
  }
  void restore_training_state(const TrainingSet<T>& data, const TrainOptions& options,
                              const TrainingState<T>& state) override {
    begin(data, options);
    trainer_->restore_training_state(state);
  }
  Tensor<T> hashes(std::size_t m, const Tensor<T>& inputs) const override { return model_.hashes(m, inputs); }
  Tensor<T> label_hashes(const Tensor<T>& labels) const override { return model_.label_hashes(labels); }
  void for_each_parameter_set(const typename AnyModel<T>::ParameterVisitor& f) override {
    model_.for_each_parameter_set(f);
  }
  AnyBackbone<T>& backbone(std::size_t m) override {
    SSAH_CHECK_AS(InvalidArgument, m < Model::num_modalities, "AnyModel::backbone: modality ", m, " of ",
                  Model::num_modalities);
    return backbone_at(m, std::make_index_sequence<Model::num_modalities>{});
  }

 private:
  SsahTrainer<Model>& trainer() {
    SSAH_CHECK_AS(InvalidArgument, trainer_.has_value(), "AnyModel::run_epoch: call begin() or fit() first");
    return *trainer_;
  }

  template <std::size_t... I>
  AnyBackbone<T>& backbone_at(std::size_t m, std::index_sequence<I...>) {
    AnyBackbone<T>* found = nullptr;
    ((found = (I == m ? &model_.template network<I>().backbone() : found)), ...);
    return *found;
  }

  Model model_;
  std::optional<SsahTrainer<Model>> trainer_;
};

/// BasicSsah with M AnyBackbones.
template <class T, int K, class Objective, std::size_t M>
struct SsahOfAny;
template <class T, int K, class Objective>
struct SsahOfAny<T, K, Objective, 1> {
  using type = BasicSsah<T, K, Objective, AnyBackbone>;
};
template <class T, int K, class Objective>
struct SsahOfAny<T, K, Objective, 2> {
  using type = BasicSsah<T, K, Objective, AnyBackbone, AnyBackbone>;
};
template <class T, int K, class Objective>
struct SsahOfAny<T, K, Objective, 3> {
  using type = BasicSsah<T, K, Objective, AnyBackbone, AnyBackbone, AnyBackbone>;
};

template <class T, int K, class Objective, std::size_t M>
std::unique_ptr<AnyModel<T>> make_model_fixed(const ModelSpec<T>& spec) {
  using Model = typename SsahOfAny<T, K, Objective, M>::type;
  typename Model::Options options;
  std::size_t m = 0;
  std::apply([&](auto&... config) { ((config = spec.backbones[m++]), ...); }, options.backbones);
  options.label_net = spec.label_net;
  options.discriminator = spec.discriminator;
  options.init = spec.init;
  options.seed = spec.seed;
  std::array<Shape, M> shapes;
  for (std::size_t i = 0; i < M; ++i) shapes[i] = spec.sample_shapes[i];
  return std::make_unique<AnyModelHolder<Model>>(spec.num_labels, shapes, options);
}

template <class T, int K, class Objective>
std::unique_ptr<AnyModel<T>> make_model_for_objective(const ModelSpec<T>& spec) {
  switch (spec.sample_shapes.size()) {
    case 1:
      return make_model_fixed<T, K, Objective, 1>(spec);
    case 2:
      return make_model_fixed<T, K, Objective, 2>(spec);
    case 3:
      return make_model_fixed<T, K, Objective, 3>(spec);
    default:
      fail<InvalidArgument>("make_model: ", spec.sample_shapes.size(),
                            " modalities given; programs built on AnyModel support 1 to 3 (use BasicSsah for more)");
  }
}

template <class T, int K>
std::unique_ptr<AnyModel<T>> make_model_for_bits(const ModelSpec<T>& spec) {
  if (spec.objective == objective::Paper::name) return make_model_for_objective<T, K, objective::Paper>(spec);
  if (spec.objective == objective::ReferenceCode::name)
    return make_model_for_objective<T, K, objective::ReferenceCode>(spec);
  fail<InvalidArgument>("make_model: unknown objective '", spec.objective, "' (expected paper or reference)");
}

}  // namespace detail

/// The code lengths K that the entry points taking K at run time (`make_model`, the pipeline, the
/// `ssah` program) are compiled for; `BasicSsah<T, K, ...>` itself takes any K.
using ModelBitsSet = std::integer_sequence<int, 16, 32, 64, 128>;
inline constexpr auto model_bits = detail::int_array(ModelBitsSet{});

/// Whether `bits` is one of `model_bits`.
constexpr bool is_model_bits(int bits) noexcept {
  for (int k : model_bits)
    if (k == bits) return true;
  return false;
}

/// "16, 32, 64, 128": `model_bits` for messages.
inline std::string model_bits_list() {
  std::string s;
  for (int k : model_bits) s += (s.empty() ? "" : ", ") + std::to_string(k);
  return s;
}

/// Calls f(std::integral_constant<int, K>{}) with K = bits when bits is one of `model_bits`: the
/// one place where a run-time code length becomes the compile-time K of a model and its codes.
/// InvalidArgument otherwise.
template <class F>
decltype(auto) with_model_bits(int bits, F&& f) {
  return detail::with_int_constant(ModelBitsSet{}, bits, std::forward<F>(f), [](int b) {
    detail::fail<InvalidArgument>(b, " bits is not one of the code lengths built in (", model_bits_list(),
                                  "); BasicSsah<T, K, ...> takes any K");
  });
}

template <class T>
std::unique_ptr<AnyModel<T>> make_model(const ModelSpec<T>& spec) {
  SSAH_CHECK_AS(InvalidArgument, spec.backbones.size() == spec.sample_shapes.size(),
                "make_model: ", spec.backbones.size(), " backbone configs for ", spec.sample_shapes.size(),
                " modalities");
  return with_model_bits(spec.bits, [&](auto k) -> std::unique_ptr<AnyModel<T>> {
    return detail::make_model_for_bits<T, decltype(k)::value>(spec);
  });
}

}  // namespace ssah
