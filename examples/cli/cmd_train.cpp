// `ssah train`: SSAH on the user's own data (.npy files, or one .mat file), end to end: read and
// check the inputs (train_inputs.cpp), split (given or seeded), standardise dense inputs, train at
// each K, write checkpoints, codes, report.json (train_report.cpp) and the precision-recall /
// precision@N curves (train_outputs.cpp). Every file is written atomically; an output folder that
// holds files is refused unless --resume continues its run or --overwrite replaces that run's
// outputs (run_folder.cpp). The checkpoint of each K is rewritten after every epoch with the
// training state; `--resume DIR` continues an interrupted (or shorter) run from it, and SIGINT /
// SIGTERM stop training at the next step boundary with exit status 130, leaving the last epoch's
// checkpoint and report.json intact.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "run_folder.hpp"
#include "ssah/checkpoint.hpp"
#include "ssah/io/npy.hpp"
#include "train.hpp"

namespace ssah::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------- interruption and resuming

/// The command that continues the run in `out`, as interruption messages advise it.
std::string resume_command(const std::string& out) {
  return "`ssah train ... --resume " + shell_word(out) + "` (the same inputs and options)";
}

/// Set by a signal (install_interrupt_handlers); training stops at the next step boundary (the handler is one-shot:
/// a second signal ends the program at once, which the atomic writes also survive).
std::atomic<bool> interrupt_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

/// A second signal: the temporary files being written are removed, then the signal ends the
/// program as it would have.
extern "C" void on_second_signal(int signal) {
  io::remove_temporary_files();
  kill_child_process_group();
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(signal, &sa, nullptr);
  raise(signal);
}

extern "C" void on_interrupt_signal(int signal) {
  interrupt_requested.store(true);
  if (signal == SIGPIPE) return;  // repeated by every write to the closed pipe until the run stops
  struct sigaction sa {};
  sa.sa_handler = on_second_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(signal, &sa, nullptr);
}

/// SIGINT (Ctrl-C), SIGTERM, SIGHUP (a closed terminal or ssh session), SIGPIPE (standard output
/// closed early: `ssah train ... | head`) and every other signal that would end the program stop it
/// at the next step.
void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt_signal;
  sigemptyset(&sa.sa_mask);
  for (int signal : terminating_signals()) sigaction(signal, &sa, nullptr);
}

/// Thrown at a step boundary once a signal arrived; run_train reports it and exits with 130.
struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Whether every rank of a data-parallel run throws `e` at the same point of training: a failure
/// they agreed on (a checkpoint not written, a signal), or one of the inputs and options that every
/// rank shares (invalid ones; a non-finite loss, the losses being summed over the ranks first).
bool same_on_every_rank(const std::exception& e) {
  return failure_was_agreed() || dynamic_cast<const Interrupted*>(&e) != nullptr ||
         dynamic_cast<const ReportedByAnotherRank*>(&e) != nullptr ||
         dynamic_cast<const InvalidArgument*>(&e) != nullptr || dynamic_cast<const ShapeError*>(&e) != nullptr ||
         dynamic_cast<const NumericError*>(&e) != nullptr;
}

/// read_train_inputs, with a host allocation that fails on the way (the files are read, and all but
/// uint8 ones converted to float) reported with the inputs and their sizes rather than as a bare out-of-memory.
TrainInputs read_inputs_naming_memory(const TrainArgs& a, const std::vector<RunInput>& files) {
  try {
    return read_train_inputs(a);
  } catch (const std::bad_alloc&) {
    std::string sizes;
    for (const RunInput& f : files) {
      std::error_code ec;
      const auto bytes = std::filesystem::file_size(f.file, ec);
      if (ec) continue;
      sizes += (sizes.empty() ? "" : ", ") + f.option + " '" + f.file + "' " + detail::human_bytes(bytes);
    }
    SSAH_THROW(OutOfMemory, "out of memory reading the inputs (", sizes,
               "; held in memory, uint8 as bytes and every other type as float): ",
               detail::human_bytes(detail::available_host_memory()), " is available to this process");
  }
}

void run_train(TrainArgs a) {
  const auto start = std::chrono::steady_clock::now();
  // Under mpirun (an -DSSAH_MPI=ON build) every rank reads the inputs and trains its share of each
  // batch (TrainOptions::communicator); rank 0 alone checks and claims the folder, prints and
  // writes. Until training starts a failure on any rank is agreed on (rank 0 reports it once).
  dist::Communicator& comm = ranks();
  const bool writer = comm.rank() == 0;
  if (!writer && std::freopen("/dev/null", "w", stdout) == nullptr)
    SSAH_THROW(IoError, "rank ", comm.rank(), ": cannot silence standard output");
  expect_agreement();
  json previous;  // report.json of the run that --resume continues
  if (!a.resume.empty()) {
    if (!a.out.empty() && !same_folder(a.out, a.resume))
      SSAH_THROW(InvalidArgument, "--resume ", a.resume, " continues in that folder; --out ", a.out,
                 " must be omitted or the same");
    if (a.overwrite) SSAH_THROW(InvalidArgument, "--overwrite replaces a run and --resume continues one: not both");
    a.out = a.resume;
  }
  if (a.out.empty()) SSAH_THROW(InvalidArgument, "--out DIR (or --resume DIR) is required");
  const RunFolderMode folder_mode = !a.resume.empty() ? RunFolderMode::resume
                                    : a.overwrite     ? RunFolderMode::overwrite
                                                      : RunFolderMode::fresh;
  const std::vector<RunInput> input_files = run_inputs(a);  // never written over or removed
  const bool writes_split = a.split_dir.empty() && a.resume.empty();
  if (writer) check_run_folder(a.out, folder_mode, input_files, writes_split);  // before any input is read
  if (writer) {
    // Standard output or error into a file the run reads, or into one it writes (>> DIR/model-K16.safetensors
    // made the run unresumable); a log of the user's own beside them (DIR/train.log) is fine.
    std::vector<std::pair<const char*, std::string>> files;
    for (const RunInput& input : input_files) files.emplace_back(input.option.c_str(), input.file);
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(a.out, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_regular_file(ec) && is_run_output(fs::relative(it->path(), a.out, ec).generic_string()))
        files.emplace_back("(in the run folder)", it->path().string());
    check_output_streams_not_inputs(files);
  }
  if (!a.resume.empty()) previous = read_report(a.resume);
  std::vector<std::string> earlier_outputs;  // --overwrite: the files of the run it replaces, by name
  std::error_code report_ec;  // a folder with no report.json holds no earlier run (check_run_folder: it is empty)
  if (writer && folder_mode == RunFolderMode::overwrite &&
      fs::exists(fs::symlink_status(a.out + "/report.json", report_ec)))
    try {
      earlier_outputs = run_output_names(read_report(a.out));
    } catch (const Error& e) {
      SSAH_THROW(InvalidArgument, "--overwrite ", a.out, ": its report.json is not one of ssah train (",
                 pipeline::message_reason(e.what()),
                 "); --overwrite replaces only an earlier run of ssah train: give a new folder");
    }
  if (a.modalities.size() > 3)
    SSAH_THROW(InvalidArgument, a.modalities.size(), " modalities given; ssah train supports 1 to 3");
  check_bits(a.bits);

  TrainInputs in = read_inputs_naming_memory(a, input_files);
  pipeline::Dataset& data = in.data;
  const pipeline::Split& split = in.split;

  const recipes::Settings settings = resolve_settings(a, in);
  a.epochs = settings.epochs;
  pipeline::Experiment e;
  recipes::apply(settings, data, e);
  check_networks(in, e, a.bits.front(), !a.hidden.empty(), a.batch_size > 0);
  // The statistics are fitted (and checked) once, here, before the folder is claimed; every epoch's
  // checkpoint keeps them.
  const std::vector<pipeline::Standardization> standardization = pipeline::standardize(data, split);

  // The inputs are good: the output folder is claimed (created and locked) only now.
  const bool created_folder =
      writer && claim_run_folder(a.out, folder_mode, input_files, writes_split, earlier_outputs);
  // From here a signal stops the run at its next check, the first once report.json is written
  // (Interrupted): a fresh run's folder is then released as on any failure before the first
  // checkpoint, any other has its report.json (a signal while the split or report.json was being
  // written ended the program at once, and the folder was accepted by no command after).
  install_interrupt_handlers();
  ReleaseOnFailure release_on_failure{a.out, writer && folder_mode == RunFolderMode::fresh,
                                      created_folder};  // until a checkpoint
  if (writer)
    for (const std::string& w : in.warnings) std::fprintf(stderr, "ssah train: warning: %s\n", w.c_str());
  const auto make_folder = [](const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir, ec))
      SSAH_THROW(IoError, "cannot create the folder '", dir, "'", ec ? ": " + ec.message() : std::string());
  };
  if (writer) make_folder(a.out + "/codes");
  if (writer) make_folder(a.out + "/curves");
  if (writer && writes_split) {  // a resumed run checks that it drew the same split (input_checksums)
    make_folder(a.out + "/split");
    write_indices(a.out + "/split/query_idx.npy", split.query);
    write_indices(a.out + "/split/db_idx.npy", split.database);
    write_indices(a.out + "/split/train_idx.npy", split.train);
  }

  std::vector<CheckpointModality> cms;
  for (std::size_t m = 0; m < data.modalities.size(); ++m)
    cms.push_back(
        {data.modalities[m].name, data.modalities[m].sample_shape, standardization[m].mean, standardization[m].stddev});

  e.bits = a.bits;
  e.objective = a.objective;
  e.seed = a.seed;
  e.train.seed = a.seed;
  e.eval.per_query = false;
  e.eval.threads = 0;
  if (comm.size() > 1) e.train.communicator = &comm;

  std::printf("ssah train: %zu items, %zu labels, %zu modalities; split %zu queries, %zu database, %zu training%s\n",
              data.items, data.classes, data.modalities.size(), split.query.size(), split.database.size(),
              split.train.size(), a.split_dir.empty() ? " (seeded, saved to split/)" : "");
  std::string widths;
  for (std::size_t w : settings.hidden) widths += (widths.empty() ? "" : ",") + std::to_string(w);
  std::printf("recipe %s: %s init, %zu epoch(s), widths %s, learning rates from 10^-%g (label)", a.recipe.c_str(),
              init_scheme_name(settings.init), settings.epochs, widths.c_str(), settings.label_lr);
  for (std::size_t m = 0; m < data.modalities.size(); ++m)
    std::printf(", 10^-%g (%s)", settings.modality_lr[m], data.modalities[m].name.c_str());
  std::printf("\n");
  for (std::size_t m = 0; m < data.modalities.size(); ++m)
    std::printf("  %s: %s, shape [%zu x %zu], backbone %s, %s\n", data.modalities[m].name.c_str(),
                data.modalities[m].source.c_str(), data.items, data.modalities[m].row_size(),
                data.modalities[m].backbone.kind.c_str(), cms[m].mean.empty() ? "not standardised" : "standardised");
  for (const std::string& line : in.pretrained_lines) std::printf("%s\n", line.c_str());
  std::fflush(stdout);

  const bool tty = isatty(fileno(stderr)) != 0;
  int current_bits = a.bits.empty() ? 0 : a.bits.front();
  auto last_key = std::make_shared<std::string>();
  std::size_t epochs_saved = 0;  // of K = current_bits
  auto stop_if_interrupted = [&] {
    if (comm.size() > 1) {  // every rank stops at the same step (a signal may reach one, or reach them apart)
      double signalled = interrupt_requested.load() ? 1 : 0;
      comm.all_reduce_sum(&signalled, 1);
      if (signalled > 0) interrupt_requested.store(true);
    }
    if (!interrupt_requested.load()) return;
    if (tty) std::fprintf(stderr, "\r%160s\r", "");
    if (release_on_failure.armed)  // a fresh run with nothing to resume: its folder goes
      throw Interrupted(
          "interrupted before the first epoch was saved; the output folder is left as it was found: run "
          "the same command again");
    const std::string k = "K" + std::to_string(current_bits);
    throw Interrupted("interrupted: " + k + " has " + std::to_string(epochs_saved) + " of " + std::to_string(a.epochs) +
                      " epochs saved" + (epochs_saved > 0 ? " in model-" + k + ".safetensors" : std::string()) +
                      "; resume with " + resume_command(a.out));
  };
  e.train.on_progress = [tty, writer, &current_bits, last_key, &stop_if_interrupted](const TrainingProgress& p) {
    stop_if_interrupted();
    if (!writer) return;
    const double left = p.fraction_done > 0 ? p.elapsed_seconds * (1 - p.fraction_done) / p.fraction_done : 0;
    if (tty) {
      std::fprintf(stderr,
                   "\r  K%-3d %-14s epoch %zu/%zu stage %zu pass %zu/%zu step %zu/%zu loss %.4g (F %.3g H %.3g Q %.3g "
                   "L %.3g A %.3g) ETA %s   ",
                   current_bits, p.network.c_str(), p.epoch + 1, p.epochs, p.stage, p.pass + 1, p.passes, p.step + 1,
                   p.steps, p.loss, p.feature_pairwise, p.hash_pairwise, p.quantization, p.label, p.adversarial,
                   eta(left).c_str());
    } else if (p.step + 1 == p.steps) {
      const std::string key = std::to_string(current_bits) + p.network + std::to_string(p.epoch) + "/" +
                              std::to_string(p.stage) + "/" + std::to_string(p.pass);
      if (key == *last_key) return;
      *last_key = key;
      std::fprintf(stderr, "K%d %s epoch %zu/%zu stage %zu pass %zu/%zu: loss %.4g, %.0f%% done, ETA %s\n",
                   current_bits, p.network.c_str(), p.epoch + 1, p.epochs, p.stage, p.pass + 1, p.passes, p.loss,
                   100 * p.fraction_done, eta(left).c_str());
    }
  };

  json report;
  report["command"] = "train";
  report["items"] = data.items;
  report["classes"] = data.classes;
  report["labels"] = in.labels_file;
  if (!in.mat_report.is_null()) report["mat"] = in.mat_report;
  json jm = json::array();
  for (std::size_t m = 0; m < data.modalities.size(); ++m) {
    jm.push_back({{"name", data.modalities[m].name},
                  {"file", data.modalities[m].source},
                  {"sample_shape", data.modalities[m].sample_shape},
                  {"backbone", data.modalities[m].backbone.kind},
                  {"standardized", !cms[m].mean.empty()}});
    const auto pf = in.pretrained_files.find(data.modalities[m].name);
    if (pf != in.pretrained_files.end()) jm.back()["pretrained"] = pf->second;
  }
  report["modalities"] = jm;
  report["split"] = {{"source", a.split_dir.empty() ? std::string("seeded (split/)") : a.split_dir},
                     {"query", split.query.size()},
                     {"database", split.database.size()},
                     {"train", split.train.size()}};
  const auto& w = e.train.weights;
  report["recipe"] = a.recipe;
  json hyperparameters = recipes::to_json(settings);  // the recipe as resolved, with the options given
  hyperparameters.update({{"bits", a.bits},
                          {"objective", a.objective},
                          {"seed", a.seed},
                          {"random_buffer_init", e.train.random_buffer_init},
                          {"loss_weights",
                           {{"feature_pairwise", w.feature_pairwise},
                            {"hash_pairwise", w.hash_pairwise},
                            {"quantization", w.quantization},
                            {"label", w.label},
                            {"adversarial", w.adversarial}}}});
  report["hyperparameters"] = hyperparameters;
  report["relevance"] = "shares at least one label";
  report["map_ties"] = "ties in Hamming distance ordered by database index";
  report["input_checksums"] = input_checksums(data, split);
  report["warnings"] = in.warnings;
  json results = json::object();

  // --resume: K's checkpoint, checked against this command line (nullptr when there is none).
  auto load_resumable = [&](int bits, Checkpoint& rc) -> std::unique_ptr<AnyModel<float>> {
    const std::string path = a.out + "/model-K" + std::to_string(bits) + ".safetensors";
    std::error_code ec_exists;
    if (!fs::exists(path, ec_exists)) return nullptr;
    std::unique_ptr<AnyModel<float>> model = load_checkpoint(path, rc);
    Checkpoint here;
    here.spec = pipeline::model_spec(data, e, bits);
    here.modalities = cms;
    if (const std::string d = checkpoint_spec_difference(rc, here); !d.empty())
      SSAH_THROW(InvalidArgument, "--resume ", a.out, ": '", path, "' has ", d, " (this command line)");
    if (!rc.state)
      SSAH_THROW(InvalidArgument, "--resume ", a.out, ": '", path,
                 "' holds no training state (written by an older ssah train)");
    // A checkpoint copied from another run (report.json's checksums are this folder's, not its).
    if (!rc.training_data.empty() && rc.training_data != report["input_checksums"].dump())
      SSAH_THROW(InvalidArgument, "--resume ", a.out, ": '", path,
                 "' was trained on other data than these inputs (its input checksums differ: a checkpoint of "
                 "another run?)");
    if (rc.epoch > a.epochs)
      SSAH_THROW(InvalidArgument, "--resume ", a.out, ": '", path, "' has ", rc.epoch, " epochs, more than --epochs ",
                 a.epochs);
    return model;
  };
  if (!a.resume.empty()) {
    // The command line must describe the run in a.out: same data, split, structure and options
    // (only --epochs and --bits may change).
    check_resume_matches(previous, report, a.out);
    for (int bits : a.bits) {  // every checkpoint is checked before anything is written
      Checkpoint c;
      load_resumable(bits, c);
    }
    results = previous.value("results", json::object());
    report["hyperparameters"]["bits"] = run_bits(results, a.bits);  // the folder's, not only this command's
    std::printf("resuming the run in %s\n", a.out.c_str());
  }
  report["results"] = results;
  // A fresh run's report.json marks the folder as a run from the start (--resume finds it); a
  // resumed run's stays as it was until a K finishes, so that a resume that fails or is
  // interrupted leaves the earlier run's report whole (its epochs and total_seconds).
  if (writer && a.resume.empty()) io::write_file_atomic(a.out + "/report.json", report.dump(2) + "\n");
  agree();  // every rank is ready to train
  // Seconds of every invocation of this run: a resumed run adds its own to the earlier ones.
  const double earlier_seconds = previous.is_object() ? previous.value("total_seconds", 0.0) : 0.0;

  try {
    for (int bits : a.bits) {
      stop_if_interrupted();  // the message names the K before this one
      current_bits = bits;
      epochs_saved = 0;
      e.bits = {bits};
      const std::string k = "K" + std::to_string(bits);
      const std::string checkpoint_path = a.out + "/model-" + k + ".safetensors";
      auto save = [&](int kb, AnyModel<float>& model) {
        on_every_rank([&] {
          if (!writer) return;
          Checkpoint c;
          c.spec = pipeline::model_spec(data, e, kb);
          c.epoch = model.epoch();
          c.modalities = cms;
          c.state = model.training_state();
          c.training_data = report["input_checksums"].dump();
          save_checkpoint(checkpoint_path, c, model);
        });
        epochs_saved = model.epoch();
        release_on_failure.armed = false;  // a checkpoint to resume from: the run folder stays
      };
      // --resume: continue from this K's checkpoint (when one was written), or skip a finished K.
      std::unique_ptr<AnyModel<float>> resumed;
      Checkpoint rc;
      if (!a.resume.empty() && (resumed = load_resumable(bits, rc))) {
        epochs_saved = rc.epoch;
        const json done = results.value(k, json());
        // A finished K is skipped only when its codes and curves are all there; otherwise the
        // checkpoint (at its last epoch) is encoded and evaluated again, which writes them.
        if (rc.epoch == a.epochs && done.is_object() && done.at("epochs") == a.epochs) {
          const std::string damaged = damaged_outputs(a.out, k, data, split, bits);
          if (damaged.empty()) {
            std::printf("K = %d: finished earlier (%zu epochs), skipped\n", bits, a.epochs);
            continue;
          }
          std::printf("K = %d: finished earlier (%zu epochs), but %s: encoding again\n", bits, a.epochs,
                      damaged.c_str());
        } else {
          std::printf("K = %d: continuing from epoch %zu\n", bits, rc.epoch);
        }
        std::fflush(stdout);
      }
      e.start_model = [&](int kb, const TrainingSet<float>& t,
                          const TrainOptions& o) -> std::unique_ptr<AnyModel<float>> {
        if (resumed) {  // its checkpoint holds the (fine-tuned) CNN-F weights and mean image
          try {
            resumed->restore_training_state(t, o, *rc.state);
          } catch (const OutOfMemory&) {
            throw;
          } catch (const Error& err) {
            SSAH_THROW(IoError, "--resume ", a.out, ": '", checkpoint_path,
                       "': its training state does not fit this run (", pipeline::message_reason(err.what()), ")");
          }
          return std::move(resumed);
        }
        if (in.pretrained.empty()) return nullptr;
        std::unique_ptr<AnyModel<float>> model = make_model(pipeline::model_spec(data, e, kb));
        for (const auto& p : in.pretrained) {
          auto* net = std::get_if<CnnF<float>>(&model->backbone(p->modality).variant());
          SSAH_CHECK(net != nullptr, "--pretrained: modality ", p->modality, " was not built as a CNN-F");
          net->copy_pretrained_layers(*p->net);
        }
        return model;
      };
      e.on_epoch = save;
      pipeline::BitsResult r;
      try {
        try {
          r = std::move(pipeline::run(data, split, e).front());
        } catch (const OutOfMemory& oom) {  // name what the user can change
          std::string images;               // a CNN-F's size follows its images, not --hidden
          for (std::size_t m = 0; m < data.modalities.size(); ++m)
            if (data.modalities[m].backbone.kind == "cnnf")
              images += ", the images of '" + data.modalities[m].name + "' (" +
                        io::shape_str(data.modalities[m].sample_shape) + ", the size of their CNN-F)";
          SSAH_THROW(OutOfMemory, "K = ", bits, ": ", oom.what(), "; the widths (--hidden ", widths, ")", images,
                     ", --batch-size and the number of items set how much training needs");
        } catch (const std::bad_alloc&) {  // a host container
          std::size_t bytes = 0;
          for (const auto& m : data.modalities) bytes += m.bytes.size() + m.values.size() * sizeof(float);
          SSAH_THROW(OutOfMemory, "K = ", bits, ": out of memory in a host buffer (the inputs alone take ",
                     detail::human_bytes(bytes), "; ", detail::human_bytes(detail::available_host_memory()),
                     " available)");
        }
      } catch (const std::exception& err) {
        // Training failed on this rank alone (memory, say) while the others may wait in a collective: all end.
        if (comm.size() > 1 && !same_on_every_rank(err)) abort_ranks("ssah train", err);
        throw;
      }
      on_every_rank([&] {  // rank 0 writes; a failure to is every rank's
        if (!writer) return;
        if (tty) std::fprintf(stderr, "\r%160s\r", "");
        std::vector<std::string> collapsed;  // warnings of this K, recorded in its results
        for (std::size_t m = 0; m < data.modalities.size(); ++m) {
          const std::string& name = data.modalities[m].name;
          io::write_npy(codes_path(a.out, k, name, "query"), sign_codes(r.query_hashes[m]),
                        {split.query.size(), std::size_t(bits)});
          const std::vector<std::int8_t> db_codes = sign_codes(r.database_hashes[m]);
          io::write_npy(codes_path(a.out, k, name, "db"), db_codes, {split.database.size(), std::size_t(bits)});
          if (all_rows_equal(db_codes.data(), split.database.size(), static_cast<std::size_t>(bits))) {
            collapsed.push_back("every database item of '" + data.modalities[m].name +
                                "' gets the same code: the model does not tell them apart");
            std::fprintf(stderr, "ssah train: warning: K = %d: %s\n", bits, collapsed.back().c_str());
          }
        }
        write_curves(a.out, r, [] { return interrupt_requested.load(); });
        json maps = json::object();
        std::printf("K = %d (%.1f s):", bits, r.train_seconds);
        for (const pipeline::Direction& d : r.directions) {
          maps[d.name] = d.result.map;
          std::printf(" %s %.4f", d.name.c_str(), d.result.map);
        }
        std::printf("\n");
        std::fflush(stdout);
        // A finished K encoded again (its codes were lost) keeps the training figures of its run.
        const json earlier = r.start_epoch == r.epochs ? results.value(k, json::object()) : json::object();
        results[k] = {{"bits", bits},
                      {"map", maps},
                      {"train_seconds", earlier.value("train_seconds", json(r.train_seconds))},
                      {"encode_seconds", r.encode_seconds},
                      {"epochs", r.epochs},
                      {"checkpoint", "model-" + k + ".safetensors"}};
        if (earlier.contains("resumed_from_epoch") || (earlier.empty() && r.start_epoch > 0))
          results[k]["resumed_from_epoch"] = earlier.value("resumed_from_epoch", json(r.start_epoch));
        if (!collapsed.empty()) results[k]["warnings"] = collapsed;
        report["results"] = results;
        report["total_seconds"] = earlier_seconds + seconds_since(start);
        io::write_file_atomic(a.out + "/report.json", report.dump(2) + "\n");
      });
    }
  } catch (const Interrupted& interrupted) {
    if (release_on_failure.armed) release_run_folder(release_on_failure.dir, release_on_failure.created);
    if (writer) std::fprintf(stderr, "ssah train: %s\n", interrupted.what());
    std::fflush(stdout);
    std::exit(130);
  }
  if (interrupt_requested.load()) {  // during the last K's evaluation, which finished first
    if (writer)
      std::fprintf(stderr,
                   "ssah train: interrupted after every K finished; a plot being drawn then was skipped: %s draws it\n",
                   resume_command(a.out).c_str());
    std::fflush(stdout);
    std::exit(130);
  }
  std::printf("written to %s: model-K*.safetensors, codes/, curves/, report.json%s\n", a.out.c_str(),
              a.split_dir.empty() ? ", split/" : "");
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd =
      app.add_subcommand("train", "Train SSAH on .npy or .mat data, write checkpoints, codes, report and curves");
  cmd->add_option("--modality", args->modalities, "NAME=FILE.npy, items [N, ...] (1 to 3 modalities)");
  cmd->add_option("--labels", args->labels, "multi-hot labels .npy [N, classes] of 0/1");
  cmd->add_option("--mat", args->mat.file,
                  "instead of --modality/--labels: a whole data set in one MATLAB .mat file (v5 or v7.3)");
  cmd->add_option("--mat-layout", args->mat.layout,
                  "variable names of a known layout: dcmh-flickr (image=images, text=YAll, labels LAll), nus-wide or "
                  "coco (image=IAll, text=YAll, labels LAll)");
  cmd->add_option("--mat-modality", args->mat.modalities, "NAME=VARIABLE of the --mat file (replaces the layout's)");
  cmd->add_option("--mat-labels", args->mat.labels,
                  "labels VARIABLE of the --mat file, 0/1, N x classes or classes x N");
  cmd->add_option("--split", args->split_dir, "folder with query_idx.npy, db_idx.npy, train_idx.npy (int32/int64)");
  cmd->add_option("--bits", args->bits, "code lengths (" + model_bits_list() + ")")
      ->delimiter(',')
      ->transform(integer_range(1, 65536));
  cmd->add_option("--objective", args->objective, "paper or reference")->check(CLI::IsMember({"paper", "reference"}));
  cmd->add_option("--recipe", args->recipe,
                  "training recipe (docs/model.md): recommended (the default: the best configuration known), "
                  "faithful (the PyTorch SSAH reference as run) or authors (the authors' TensorFlow code as "
                  "written); the options below override it")
      ->check(CLI::IsMember(recipes::names()));
  cmd->add_option("--init", args->init,
                  "parameter initialisation (default: the recipe's): reference (N(0, 0.01^2) weights and biases, as "
                  "the authors' code), xavier (Glorot-uniform weights, zero biases) or pytorch (PyTorch's layer "
                  "default, U(+-1/sqrt(fan_in)) weights and biases)")
      ->check(CLI::IsMember({"reference", "xavier", "pytorch"}));
  cmd->add_option("--backbone", args->backbones,
                  "NAME=feature|text|cnn (default: the recipe's: cnn for images [C, H, W], feature otherwise; text "
                  "for 0/1 bags of words in the faithful and authors recipes)");
  cmd->add_option("--pretrained", args->pretrained,
                  "NAME=FILE.mat: modality NAME's backbone is MatConvNet's CNN-F (imagenet-vgg-f.mat), its widths "
                  "and conv1..fc7 weights read from FILE and fine-tuned; raw 0..255 NCHW images, the file's mean image "
                  "subtracted instead of standardisation");
  cmd->add_option("--epochs", args->epochs, "training epochs, 1 to 1000 (default: the recipe's)")
      ->transform(integer_range(1, 1000));
  cmd->add_option("--seed", args->seed, "seed of the split and of training, 0 to 18446744073709551615")
      ->transform(integer_range(0, std::numeric_limits<std::uint64_t>::max()));
  cmd->add_flag("--no-standardize", args->no_standardize, "do not z-score dense inputs");
  cmd->add_option("--out", args->out,
                  "output folder: created, or an empty one; one that holds files needs --resume or --overwrite")
      ->check(non_empty_path());
  cmd->add_flag("--overwrite", args->overwrite,
                "train into an --out folder that holds an earlier run: that run's outputs (report, checkpoints, "
                "codes, curves, split) are removed first; other files are left alone");
  cmd->add_option("--resume", args->resume,
                  "continue the run whose output folder is DIR (interrupted, or to more --epochs) with the same "
                  "inputs and options: each K from its last saved epoch; finished K values are skipped")
      ->check(non_empty_path());
  cmd->add_option("--hidden", args->hidden,
                  "widths of the hidden layers of every network (label, feature/text backbones, discriminators; "
                  "default: the recipe's); 1 to 64 widths, each 1 to 65536")
      ->delimiter(',')
      ->transform(integer_range(1, 65536));
  cmd->add_option("--batch-size", args->batch_size, "mini-batch size, 1 to 65536 (default: the recipe's, 128)")
      ->transform(integer_range(1, 65536));
  cmd->add_option("--steps-per-pass", args->steps_per_pass,
                  "training steps in one pass, 1 to 1000000 (default: training items / batch size); more for a small "
                  "training set")
      ->transform(integer_range(1, 1000000));
  cmd->add_option("--passes", args->passes, "passes per network per epoch (one stage each), 1 to 1000; for small tests")
      ->transform(integer_range(1, 1000));
  cmd->callback([args] { run_train(*args); });
}

}  // namespace ssah::cli
