// `ssah demo`: the embedded default. No files needed: a seeded SYNTHETIC two-modality multi-label
// data set (a dense "image-like" vector and a sparse bag of words driven by shared latent concepts
// and co-occurring labels; see ssah/data/synthetic.hpp), SSAH trained at K = 16, 32 and 64, and
// the MAP table of every retrieval direction. It trains with a recipe (ssah/recipes.hpp, the
// recommended one unless --recipe says otherwise) at reduced layer widths and passes, to stay short.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli_common.hpp"
#include "ssah/data/synthetic.hpp"
#include "ssah/pipeline.hpp"
#include "ssah/recipes.hpp"

namespace ssah::cli {
namespace {

struct DemoArgs {
  std::size_t items = 2000;
  std::size_t epochs = 1;
  std::string recipe = "recommended";
  std::uint64_t seed = 1;
  std::vector<int> bits = {16, 32, 64};
  std::string objective = "paper";
};

void run_demo(const DemoArgs& a) {
  check_bits(a.bits);
  data::SyntheticOptions so;
  so.items = a.items;
  so.seed = a.seed;
  const data::SyntheticData raw = data::make_synthetic(so);

  pipeline::Dataset d;
  d.items = raw.items;
  d.classes = raw.labels;
  d.labels.assign(raw.label_matrix.begin(), raw.label_matrix.end());
  pipeline::Modality img;
  img.name = "img";
  img.values = raw.image;
  img.sample_shape = {raw.image_dim};
  pipeline::Modality txt;
  txt.name = "txt";
  txt.values = raw.text;
  txt.sample_shape = {raw.vocabulary};
  d.modalities = {img, txt};

  const std::size_t queries = d.items / 10, train = d.items * 2 / 3;
  const pipeline::Split split = pipeline::Split::random(d.items, queries, train, a.seed);

  // The recipe at an eighth of its widths and about half its passes per sub-stage (10/5 and
  // 15/7/5), one epoch: a demonstration that ends in seconds.
  recipes::Settings s = recipes::resolve(a.recipe, recipes::DataTraits::of(d, split.train));
  s.hidden = {512, 128};
  s.discriminator_hidden = {128, 64};
  s.label_passes = {6, 3};
  s.modality_passes = {6, 3, 2};
  s.epochs = a.epochs;
  check_epochs(s);
  pipeline::Experiment e;
  recipes::apply(s, d, e);
  e.bits = a.bits;
  e.objective = a.objective;
  e.seed = a.seed;
  e.train.seed = a.seed;
  e.eval.precision_at.clear();
  e.eval.pr_curve = false;
  e.eval.per_query = false;
  const bool tty = isatty(fileno(stderr)) != 0;
  e.train.on_progress = [tty](const TrainingProgress& p) {
    if (tty)
      std::fprintf(stderr,
                   "\r  training %-13s epoch %zu stage %zu pass %2zu/%-2zu step %3zu/%-3zu loss %-10.4g %3.0f%%",
                   p.network.c_str(), p.epoch, p.stage, p.pass + 1, p.passes, p.step + 1, p.steps, p.loss,
                   100 * p.fraction_done);
  };

  std::printf("ssah demo: SYNTHETIC data (seed %llu): %zu items, %zu labels, image %zu-d, bag of words %zu words\n",
              static_cast<unsigned long long>(a.seed), d.items, d.classes, raw.image_dim, raw.vocabulary);
  std::printf(
      "split: %zu queries, %zu database items, %zu training items; objective %s, recipe %s (%s init, text "
      "backbone %s) at widths 512,128, %zu epoch(s)\n\n",
      split.query.size(), split.database.size(), split.train.size(), a.objective.c_str(), a.recipe.c_str(),
      init_scheme_name(s.init), s.backbones[1].c_str(), a.epochs);
  std::fflush(stdout);
  // The MAP of a random ranking: the mean fraction of the database relevant to a query (every
  // direction ranks the same database items for the same query items).
  double random_map = 0;
  for (std::size_t q : split.query) {
    std::size_t relevant = 0;
    for (std::size_t i : split.database) {
      bool shares = false;
      for (std::size_t c = 0; c < d.classes && !shares; ++c)
        shares = d.labels[q * d.classes + c] != 0.f && d.labels[i * d.classes + c] != 0.f;
      relevant += shares ? 1 : 0;
    }
    random_map += static_cast<double>(relevant) / static_cast<double>(split.database.size());
  }
  random_map /= static_cast<double>(split.query.size());

  const auto start = std::chrono::steady_clock::now();
  std::vector<pipeline::BitsResult> results;
  for (int bits : a.bits) {
    e.bits = {bits};
    results.push_back(std::move(pipeline::run(d, split, e).front()));
    if (tty) std::fprintf(stderr, "\r%100s\r", "");
    if (results.size() == 1) {
      std::printf("%5s", "K");
      for (const auto& dir : results[0].directions) std::printf(" %11s", dir.name.c_str());
      std::printf(" %9s\n", "train s");
    }
    const auto& r = results.back();
    std::printf("%5d", r.bits);
    for (const auto& dir : r.directions) std::printf(" %11.3f", dir.result.map);
    std::printf(" %9.1f\n", r.train_seconds);
    std::fflush(stdout);
  }
  std::printf(
      "\nMAP over the whole ranking (relevant = shares a label; ties by database index).\n"
      "A random ranking scores %.3f here (the mean fraction of relevant database items). Total %.0f s.\n",
      random_map, seconds_since(start));
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "Train and evaluate SSAH on a built-in synthetic data set (no files)");
  cmd->add_option("--items", args->items, "Number of synthetic items, 20 to 200000")
      ->transform(integer_range(20, 200000));
  cmd->add_option("--epochs", args->epochs, "Training epochs, 1 to 1000")->transform(integer_range(1, 1000));
  cmd->add_option("--seed", args->seed, "Seed of the data, split and training, 0 to 18446744073709551615")
      ->transform(integer_range(0, std::numeric_limits<std::uint64_t>::max()));
  cmd->add_option("--bits", args->bits, "Code lengths (" + model_bits_list() + ")")
      ->delimiter(',')
      ->transform(integer_range(1, 65536));
  cmd->add_option("--objective", args->objective, "paper or reference")->check(CLI::IsMember({"paper", "reference"}));
  cmd->add_option("--recipe", args->recipe, "training recipe (recommended, faithful or authors; docs/model.md)")
      ->check(CLI::IsMember(recipes::names()));
  cmd->callback([args] { run_demo(*args); });
}

}  // namespace ssah::cli
