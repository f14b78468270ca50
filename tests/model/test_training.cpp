#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "hamming_map.hpp"
#include "ssah/data/synthetic.hpp"
#include "ssah/model/ssah.hpp"
#include "ssah/model/trainer.hpp"

using namespace ssah;

namespace {

struct SmallData {
  data::SyntheticData raw;
  TrainingSet<float> train;
  Tensor<float> image, text, labels;
};

SmallData make_small(std::size_t items, std::uint64_t seed) {
  data::SyntheticOptions o;
  o.items = items;
  o.labels = 6;
  o.image_dim = 24;
  o.vocabulary = 60;
  o.words_per_item = 8;
  o.seed = seed;
  SmallData d;
  d.raw = data::make_synthetic(o);
  std::vector<float> labels(d.raw.label_matrix.begin(), d.raw.label_matrix.end());
  d.labels = Tensor<float>::from_host(Shape{items, o.labels}, labels);
  d.image = Tensor<float>::from_host(Shape{items, o.image_dim}, d.raw.image);
  d.text = Tensor<float>::from_host(Shape{items, o.vocabulary}, d.raw.text);
  d.train.labels = d.labels;
  d.train.modalities = {d.image, d.text};
  return d;
}

template <class Model>
typename Model::Options small_options() {
  typename Model::Options o;
  o.label_net.hidden = {64, 32};
  std::get<0>(o.backbones).hidden = {64, 32};
  std::get<1>(o.backbones).hidden = {64, 32};
  o.discriminator.hidden = {32, 16};
  o.seed = 5;
  return o;
}

TrainOptions quick_schedule() {
  TrainOptions t;
  t.batch_size = 32;
  t.epochs = 1;
  t.seed = 9;
  t.label_lr = SsahTableLr{2.0};
  t.discriminator_lr = SsahTableLr{2.0};
  t.modality_lr = {SsahTableLr{2.0}, SsahTableLr{2.0}};
  t.label_passes = {4, 2};
  t.modality_passes = {4, 2, 2};
  return t;
}

using TwoModal = BasicSsah<float, 16, objective::Paper, FeatureNet, FeatureNet>;

/// Image -> text and text -> image MAP over the whole set, each well above a random ranking's.
void check_cross_modal_map(const TwoModal& model, const SmallData& d) {
  const auto label_rows = d.labels.to_host();
  const std::size_t n = d.labels.rows();
  const auto img = model.hashes(0, d.image).to_host();
  const auto txt = model.hashes(1, d.text).to_host();
  const double random_level = test::map_of_random_ranking(label_rows, n, 6);
  const double i2t = test::hamming_map<16>(img, txt, label_rows, label_rows, 6);
  const double t2i = test::hamming_map<16>(txt, img, label_rows, label_rows, 6);
  INFO("random ", random_level, " i->t ", i2t, " t->i ", t2i);
  CHECK(i2t > random_level + 0.15);
  CHECK(t2i > random_level + 0.15);
}

}  // namespace

TEST_CASE("SSAH trains on a synthetic two-modality set: cross-modal MAP far above random ranking") {
  SmallData d = make_small(320, 3);
  TwoModal model(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
  fit(model, d.train, quick_schedule());
  check_cross_modal_map(model, d);
}

TEST_CASE("same seed and data give bit-identical codes, another seed does not") {
  SmallData d = make_small(96, 4);
  auto run = [&](std::uint64_t seed) {
    auto options = small_options<TwoModal>();
    options.seed = seed;
    TwoModal model(6, {Shape{24}, Shape{60}}, options);
    TrainOptions t = quick_schedule();
    t.epochs = 1;
    t.seed = seed;
    fit(model, d.train, t);
    return model.hashes(1, d.text).to_host();
  };
  const auto a = run(1), b = run(1), c = run(2);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("one modality (text only) and three modalities train without library changes") {
  SmallData d = make_small(64, 5);
  {
    using OneModal = BasicSsah<float, 8, objective::ReferenceCode, FeatureNet>;
    OneModal::Options o;
    o.label_net.hidden = {32, 16};
    std::get<0>(o.backbones).hidden = {32, 16};
    OneModal model(6, {Shape{60}}, o);
    TrainingSet<float> set{d.labels, {d.text}};
    TrainOptions t = quick_schedule();
    t.epochs = 1;
    fit(model, set, t);
    CHECK(model.hashes(0, d.text).shape() == Shape{64, 8});
    CHECK(model.label_hashes(d.labels).shape() == Shape{64, 8});
  }
  {
    using ThreeModal = BasicSsah<float, 8, objective::Paper, FeatureNet, FeatureNet, FeatureNet>;
    ThreeModal::Options o;
    o.label_net.hidden = {32, 16};
    std::get<0>(o.backbones).hidden = {32, 16};
    std::get<1>(o.backbones).hidden = {32, 16};
    std::get<2>(o.backbones).hidden = {16, 16};
    ThreeModal model(6, {Shape{24}, Shape{60}, Shape{24}}, o);
    TrainingSet<float> set{d.labels, {d.image, d.text, d.image}};
    TrainOptions t = quick_schedule();
    t.epochs = 1;
    fit(model, set, t);
    CHECK(model.hashes(2, d.image).shape() == Shape{64, 8});
  }
}

TEST_CASE("steps_per_pass: n / batch_size by default, the given count when set") {
  SmallData d = make_small(96, 6);
  auto steps_taken = [&](std::size_t steps_per_pass) {
    TwoModal model(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
    TrainOptions t = quick_schedule();  // batch 32, passes: label 4 + 2, D 1 + 1, each modality 4 + 2 + 2
    t.early_stop = false;               // every pass runs, so the count is exact
    t.steps_per_pass = steps_per_pass;
    std::size_t reported_steps = 0;
    bool every_pass_reports_the_count = true;
    t.on_progress = [&](const TrainingProgress& p) {
      ++reported_steps;
      every_pass_reports_the_count = every_pass_reports_the_count && p.steps == (steps_per_pass ? steps_per_pass : 3);
    };
    const auto trainer = fit(model, d.train, t);
    CHECK(every_pass_reports_the_count);
    CHECK(reported_steps == trainer.training_state().steps_done);
    return trainer.training_state().steps_done;
  };
  const std::size_t passes = 6 + 2 + 2 * 8;
  CHECK(steps_taken(0) == passes * (96 / 32));
  CHECK(steps_taken(7) == passes * 7);
}

TEST_CASE("bad training input fails with a clear message, a diverging run names network, epoch and step") {
  SmallData d = make_small(40, 6);
  TwoModal model(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
  TrainingSet<float> wrong{d.labels, {d.image}};
  CHECK_THROWS_WITH_AS(fit(model, wrong, quick_schedule()), "TrainingSet: 1 modalities given, the model has 2",
                       ShapeError);
  TrainingSet<float> short_rows{d.labels, {d.image.rows(0, 30), d.text}};
  CHECK_THROWS_AS(fit(model, short_rows, quick_schedule()), ShapeError);

  std::vector<float> poisoned = d.raw.image;
  poisoned[2 * 24 + 5] = std::numeric_limits<float>::quiet_NaN();
  TrainingSet<float> nan_set{d.labels, {Tensor<float>::from_host(Shape{40, 24}, poisoned), d.text}};
  CHECK_THROWS_WITH_AS(fit(model, nan_set, quick_schedule()),
                       "TrainingSet: modality 0 has a non-finite value (nan) at row 2, column 5", NumericError);
  std::vector<float> bad_labels(d.raw.label_matrix.begin(), d.raw.label_matrix.end());
  bad_labels[7] = 0.5f;
  TrainingSet<float> label_set{Tensor<float>::from_host(Shape{40, 6}, bad_labels), {d.image, d.text}};
  CHECK_THROWS_WITH_AS(fit(model, label_set, quick_schedule()),
                       "TrainingSet: labels must be 0 or 1, found 0.5 at row 1, column 1", InvalidArgument);

  TrainOptions t = quick_schedule();
  t.weights.label = std::numeric_limits<double>::infinity();
  try {
    fit(model, d.train, t);
    FAIL("a run with an infinite loss did not stop");
  } catch (const NumericError& e) {
    const std::string what = e.what();
    CHECK(what.find("training the label network at epoch 0, stage 0, pass 0, step 0") != std::string::npos);
  }
}

namespace {

/// Parameters of every network, in for_each_parameter_set order.
template <class Model>
std::vector<std::vector<float>> parameter_values(Model& model) {
  std::vector<std::vector<float>> v;
  model.for_each_parameter_set(
      [&](ParameterSet<float>& ps, const std::string&) { v.push_back(ps.values().to_host()); });
  return v;
}

template <class Model>
void set_parameter_values(Model& model, const std::vector<std::vector<float>>& v) {
  std::size_t i = 0;
  model.for_each_parameter_set([&](ParameterSet<float>& ps, const std::string&) {
    ps.values().assign(Tensor<float>::from_host(Shape{v.at(i).size()}, v.at(i)));
    ++i;
  });
}

/// 2 epochs straight vs 1 epoch, then parameters + training_state() moved into a fresh model and
/// trainer (on a fresh copy of the data, as a new process would have) and 1 more epoch: bit-identical.
template <class Model>
void check_resume_is_exact() {
  SmallData d = make_small(64, 7);
  TrainOptions t = quick_schedule();
  t.label_passes = {2, 1};
  t.modality_passes = {2, 1, 1};
  t.epochs = 2;
  Model straight(6, {Shape{24}, Shape{60}}, small_options<Model>());
  fit(straight, d.train, t);

  t.epochs = 1;
  Model first(6, {Shape{24}, Shape{60}}, small_options<Model>());
  auto first_trainer = fit(first, d.train, t);
  const TrainingState<float> state = first_trainer.training_state();
  CHECK(state.epoch == 1);
  CHECK(state.buffers.size() == 7);     // label features, label hashes, codes, 2 x (features, hashes)
  CHECK(state.optimizers.size() == 7);  // label, 2 modalities, 2 discriminators, 2 generator pulls
  const std::vector<std::vector<float>> parameters = parameter_values(first);

  SmallData again = make_small(64, 7);
  Model resumed(6, {Shape{24}, Shape{60}}, small_options<Model>());
  set_parameter_values(resumed, parameters);
  SsahTrainer<Model> resumed_trainer(resumed, again.train, t);
  resumed_trainer.restore_training_state(state);
  resumed_trainer.fit();
  CHECK(resumed_trainer.epoch() == 2);
  CHECK(parameter_values(resumed) == parameter_values(straight));
  CHECK(resumed.hashes(1, d.text).to_host() == straight.hashes(1, d.text).to_host());

  // The exported state is a copy: training `first` on does not change it.
  const std::vector<float> codes_before = state.buffers.at("codes").to_host();
  first_trainer.fit();
  CHECK(state.buffers.at("codes").to_host() == codes_before);
  CHECK(first_trainer.training_state().buffers.at("codes").to_host() != codes_before);

  // Control: the same parameters without the training state do not continue the same way.
  Model params_only(6, {Shape{24}, Shape{60}}, small_options<Model>());
  set_parameter_values(params_only, parameters);
  fit(params_only, again.train, t);
  CHECK(parameter_values(params_only) != parameter_values(straight));
}

}  // namespace

TEST_CASE("training_state / restore_training_state: 1 + 1 epochs equal 2 epochs bit for bit") {
  SUBCASE("paper objective") { check_resume_is_exact<TwoModal>(); }
  SUBCASE("reference objective (the discriminators' generator-pull optimizers step too)") {
    check_resume_is_exact<BasicSsah<float, 16, objective::ReferenceCode, FeatureNet, FeatureNet>>();
  }
}

TEST_CASE("restore_training_state rejects a state that does not fit the model or the data") {
  SmallData d = make_small(64, 8);
  TwoModal model(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
  TrainOptions t = quick_schedule();
  t.label_passes = {1};
  t.modality_passes = {1};
  t.discriminator_passes = {1};
  const TrainingState<float> state = fit(model, d.train, t).training_state();

  SmallData other = make_small(48, 8);
  TwoModal fresh(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
  SsahTrainer<TwoModal> on_other(fresh, other.train, t);
  CHECK_THROWS_WITH_AS(on_other.restore_training_state(state),
                       "restore_training_state: buffer 'label_features': shapes differ, [64, 32] vs [48, 32]",
                       ShapeError);
  SsahTrainer<TwoModal> trainer(fresh, d.train, t);
  TrainingState<float> broken = state;
  broken.optimizers.erase("modality1");
  CHECK_THROWS_WITH_AS(trainer.restore_training_state(broken), "restore_training_state: no optimizer 'modality1'",
                       InvalidArgument);
  broken = state;
  broken.optimizers.at("label").m = Tensor<float>(Shape{3});
  broken.optimizers.at("label").v = Tensor<float>(Shape{3});
  CHECK_THROWS_AS(trainer.restore_training_state(broken), ShapeError);
  broken = state;
  broken.rng = "not a state";
  CHECK_THROWS_AS(trainer.restore_training_state(broken), InvalidArgument);
  CHECK(trainer.epoch() == 0);  // nothing was restored by the failed attempts
  trainer.restore_training_state(state);
  CHECK(trainer.epoch() == 1);
}

TEST_CASE("the trainer keeps its own handles to the training data: run_epoch() after fit() on a temporary set") {
  SmallData d = make_small(64, 7);
  TrainOptions t = quick_schedule();
  t.label_passes = {1, 1};
  t.modality_passes = {1, 1, 1};
  TwoModal from_temporary(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
  TwoModal from_named(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
  auto temporary_trainer =
      fit(from_temporary, TrainingSet<float>{d.labels, {d.image, d.text}}, t);  // the set ends here
  temporary_trainer.run_epoch();  // a model once read the modalities through a pointer to it (ASan: use after scope)
  auto named_trainer = fit(from_named, d.train, t);
  named_trainer.run_epoch();
  CHECK(temporary_trainer.epoch() == 2);
  CHECK(parameter_values(from_temporary) == parameter_values(from_named));
}

TEST_CASE("ItemRows: items made a batch at a time train exactly as the same items held in a tensor") {
  SmallData d = make_small(96, 8);
  TrainOptions t = quick_schedule();
  t.label_passes = {2};
  t.modality_passes = {2, 1};
  std::size_t gathered_rows = 0;  // what the gather functions were asked for
  const auto made_by_batch = [&gathered_rows](const Tensor<float>& items) {
    return ItemRows<float>(items.shape(), [items, &gathered_rows](const std::vector<std::size_t>& rows) {
      gathered_rows += rows.size();
      return gather_rows(items, rows);
    });
  };
  TwoModal from_tensors(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
  TwoModal from_batches(6, {Shape{24}, Shape{60}}, small_options<TwoModal>());
  fit(from_tensors, d.train, t);
  fit(from_batches, TrainingSet<float>{d.labels, {made_by_batch(d.image), made_by_batch(d.text)}}, t);
  CHECK(gathered_rows > 0);
  CHECK(parameter_values(from_tensors) == parameter_values(from_batches));
  CHECK(from_tensors.hashes(0, d.image).to_host() == from_batches.hashes(0, d.image).to_host());

  const ItemRows<float> rows = made_by_batch(d.text);
  CHECK(rows.slice(10, 14).to_host() == d.text.rows(10, 14).to_host());
  CHECK_THROWS_WITH_AS(rows.gather({3, 96}), "ItemRows::gather: index 96 (position 1) out of range for 96 rows",
                       InvalidArgument);
  const ItemRows<float> wrong(Shape{96, 60}, [](const std::vector<std::size_t>& r) {
    return Tensor<float>(Shape{r.size(), 59});
  });
  CHECK_THROWS_WITH_AS(wrong.gather({0}), "ItemRows::gather: the gather function made [1, 59] for 1 rows of [96, 60]",
                       ShapeError);
  CHECK_THROWS_AS(ItemRows<float>(Shape{2, 3}, nullptr), InvalidArgument);
}

TEST_CASE("the optimizer is a policy: SGD with momentum trains SSAH (cross-modal MAP far above random)") {
  SmallData d = make_small(320, 3);
  auto options = small_options<TwoModal>();
  options.init = InitScheme::Xavier;
  TwoModal model(6, {Shape{24}, Shape{60}}, options);
  TrainOptions t = quick_schedule();
  // The pairwise terms sum over batch x n pairs, so gradients are large: Adam does not mind (its
  // steps are scale-free), SGD needs a small rate; and Glorot weights, since the reference's
  // N(0, 0.01^2) start leaves SGD with near-zero hashes for the whole short run.
  constexpr double kSgdLr = 1e-4;
  t.label_lr = ConstantLr{kSgdLr};
  t.discriminator_lr = ConstantLr{kSgdLr};
  t.modality_lr = {ConstantLr{kSgdLr}, ConstantLr{kSgdLr}};
  Sgd<float>::Options momentum;
  momentum.momentum = 0.9;
  auto trainer = fit(model, d.train, t, Sgd<float>(momentum));
  static_assert(std::is_same_v<decltype(trainer), SsahTrainer<TwoModal, Sgd<float>>>);
  const TrainingState<float, SgdState<float>> state = trainer.training_state();
  CHECK(state.optimizers.at("modality0").momentum_buffer.defined());
  CHECK(state.optimizers.at("modality0").step > 0);
  check_cross_modal_map(model, d);
}
