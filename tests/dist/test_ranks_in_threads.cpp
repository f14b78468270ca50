// The distributed algorithms on ranks that are threads of this process (thread_ranks.hpp), so that
// every build, the sanitizer builds included, runs them; CI's mpi step runs the same under mpirun.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ssah/data/synthetic.hpp"
#include "ssah/dist/sharded_eval.hpp"
#include "ssah/host_rng.hpp"
#include "ssah/model/ssah.hpp"
#include "ssah/model/trainer.hpp"
#include "thread_ranks.hpp"

using namespace ssah;

namespace {

template <int K>
PackedCodes<K> random_codes(std::size_t n, std::uint64_t seed) {
  HostRng rng(seed);
  std::vector<std::uint8_t> bytes(n * PackedCodes<K>::code_bytes);
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(rng.next() % 8);  // many ties
  return PackedCodes<K>::from_bytes(bytes.data(), n);
}

LabelMatrix random_labels(std::size_t n, std::size_t classes, std::uint64_t seed) {
  HostRng rng(seed);
  LabelMatrix l(n, classes);
  for (std::size_t i = 0; i < n; ++i) {
    l.set(i, rng.next() % classes);
    if (rng.next() % 3 == 0) l.set(i, rng.next() % classes);
  }
  return l;
}

}  // namespace

TEST_CASE("sharded_evaluate on 1, 2 and 3 ranks: the metrics of evaluate_retrieval over the whole database") {
  const std::size_t n = 1003, nq = 17;
  const PackedCodes<32> db = random_codes<32>(n, 1), queries = random_codes<32>(nq, 2);
  const LabelMatrix db_labels = random_labels(n, 7, 3), query_labels = random_labels(nq, 7, 4);
  EvalOptions o;
  o.top_r = 100;
  o.precision_at = {1, 50, 2000};
  o.threads = 1;
  const EvalResult whole = evaluate_retrieval(queries, db, query_labels, db_labels, o);
  for (int ranks : {1, 2, 3}) {
    std::vector<EvalResult> results(static_cast<std::size_t>(ranks));
    test::run_ranks(ranks, [&](dist::Communicator& comm) {
      const dist::Shard s = dist::shard_of(n, comm.rank(), comm.size());
      results[static_cast<std::size_t>(comm.rank())] = dist::sharded_evaluate(
          comm, queries, query_labels, db.slice(s.first, s.last), db_labels.slice(s.first, s.last), o);
    });
    for (const EvalResult& r : results) {
      INFO(ranks, " ranks");
      CHECK(r.database == n);
      CHECK(std::fabs(r.map - whole.map) <= 1e-12);
      CHECK(std::fabs(r.map_at_r - whole.map_at_r) <= 1e-12);
      CHECK(r.map_tie_aware == whole.map_tie_aware);
      CHECK(r.precision_at_n == whole.precision_at_n);
      CHECK(r.pr_precision == whole.pr_precision);
      CHECK(r.pr_recall == whole.pr_recall);
      CHECK(r.relevant == whole.relevant);
      REQUIRE(r.ap.size() == whole.ap.size());
      for (std::size_t q = 0; q < nq; ++q) CHECK(std::fabs(r.ap[q] - whole.ap[q]) <= 1e-12);
    }
  }
}

TEST_CASE("data-parallel training on 2 ranks follows one process's trajectory, from rank 0's parameters") {
  using Model = BasicSsah<float, 16, objective::Paper, FeatureNet, FeatureNet>;
  data::SyntheticOptions so;
  so.items = 90;
  so.labels = 5;
  so.image_dim = 12;
  so.vocabulary = 30;
  so.words_per_item = 5;
  const data::SyntheticData raw = data::make_synthetic(so);
  const std::vector<float> label_values(raw.label_matrix.begin(), raw.label_matrix.end());
  const TrainingSet<float> set{
      Tensor<float>::from_host(Shape{90, 5}, label_values),
      {Tensor<float>::from_host(Shape{90, 12}, raw.image), Tensor<float>::from_host(Shape{90, 30}, raw.text)}};
  auto options_of = [](std::uint64_t seed) {
    Model::Options o;
    o.label_net.hidden = {32};
    std::get<0>(o.backbones).hidden = {32};
    std::get<1>(o.backbones).hidden = {32};
    o.discriminator.hidden = {16};
    o.seed = seed;
    return o;
  };
  TrainOptions t;
  t.batch_size = 25;
  t.seed = 4;
  t.label_passes = {2};
  t.discriminator_passes = {1};
  t.modality_passes = {2};
  t.early_stop = false;
  Model alone(5, {Shape{12}, Shape{30}}, options_of(7));
  fit(alone, set, t);
  const std::vector<float> expected = alone.network<1>().parameters().values().to_host();

  std::vector<std::vector<float>> got(2);
  test::run_ranks(2, [&](dist::Communicator& comm) {
    Model shared(5, {Shape{12}, Shape{30}}, options_of(7 + static_cast<std::uint64_t>(comm.rank())));
    TrainOptions o = t;
    o.communicator = &comm;
    fit(shared, set, o);
    got[static_cast<std::size_t>(comm.rank())] = shared.network<1>().parameters().values().to_host();
  });
  CHECK(got[0] == got[1]);  // the ranks agree exactly
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(expected[i] - got[0][i])));
    scale = std::max(scale, static_cast<double>(std::fabs(expected[i])));
  }
  INFO("largest difference ", diff, " of ", scale);
  CHECK(diff <= 1e-4 * scale);
  CHECK(diff > 0);  // the sums were split: the same values up to rounding, not a copy of one process's run

  // A batch smaller than the ranks: refused by every rank, before any collective.
  std::vector<std::string> refusals(2);
  test::run_ranks(2, [&](dist::Communicator& comm) {
    Model m(5, {Shape{12}, Shape{30}}, options_of(7));
    TrainOptions o = t;
    o.batch_size = 1;
    o.communicator = &comm;
    try {
      SsahTrainer<Model> trainer(m, set, o);
    } catch (const InvalidArgument& e) {
      refusals[static_cast<std::size_t>(comm.rank())] = e.what();
    }
  });
  for (const std::string& r : refusals) CHECK(r.find("cannot be shared by 2 ranks") != std::string::npos);
}
