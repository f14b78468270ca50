// `ssah train`: SSAH on the user's own data (.npy files, or one .mat file: mat_input.cpp), end to
// end: read and check the inputs,
// split (given or seeded), standardise dense inputs, train at each K, write checkpoints, codes,
// report.json, precision-recall / precision@N curves (CSV, and SVG plots when gnuplot is on PATH).
// `ssah encode`: codes of new items with a checkpoint written by train.
// Every file is written atomically; an output folder that holds files is refused unless --resume
// continues its run or --overwrite replaces that run's outputs (run_folder.cpp).
// The checkpoint of each K is rewritten after every epoch with the training state; `--resume DIR`
// continues an interrupted (or shorter) run from it, and SIGINT / SIGTERM stop training at the next
// step boundary with exit status 130, leaving the last epoch's checkpoint and report.json intact.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "mat_input.hpp"
#include "pretrained.hpp"
#include "run_folder.hpp"
#include "ssah/checkpoint.hpp"
#include "ssah/io/atomic_file.hpp"
#include "ssah/io/checksum.hpp"
#include "ssah/io/file.hpp"
#include "ssah/io/json_diff.hpp"
#include "ssah/io/json_error.hpp"
#include "ssah/io/npy.hpp"
#include "ssah/pipeline.hpp"
#include "ssah/recipes.hpp"

namespace ssah::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TrainArgs {
  std::vector<std::string> modalities, backbones;
  std::string labels, split_dir, out;
  std::vector<int> bits = {16, 32, 64};
  std::string objective = "paper";
  std::string recipe = "recommended";  ///< ssah/recipes.hpp; the options below override it
  std::string init;                    ///< "": the recipe's
  std::size_t epochs = 0;              ///< 0: the recipe's
  std::uint64_t seed = 0;
  bool no_standardize = false;
  std::vector<std::size_t> hidden;      ///< empty: the recipe's
  std::size_t batch_size = 0;           ///< 0: the recipe's
  std::size_t passes = 0;               ///< 0: the recipe's
  std::size_t steps_per_pass = 0;       ///< 0: the recipe's (n / batch size)
  std::string resume;                   ///< --resume DIR
  bool overwrite = false;               ///< --overwrite: replace an earlier run's outputs in --out
  MatInputOptions mat;                  ///< --mat FILE and its keys (instead of --modality / --labels)
  std::vector<std::string> pretrained;  ///< --pretrained NAME=FILE.mat (MatConvNet CNN-F)
};

/// A modality's pretrained CNN-F (--pretrained): read once, copied into every K's fresh model.
struct PretrainedCnnF {
  std::size_t modality = 0;
  std::string file;
  ParameterSet<float> params;
  std::unique_ptr<CnnF<float>> net;
};

std::pair<std::string, std::string> split_pair(const std::string& s, const char* option) {
  const std::size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    SSAH_THROW(InvalidArgument, option, " expects NAME=VALUE, got '", s, "'");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

std::vector<std::size_t> read_indices(const std::string& path, std::size_t items) {
  const io::NpyArray a = io::read_npy(path);
  if (a.dtype != io::DType::I32 && a.dtype != io::DType::I64)
    SSAH_THROW(IoError, "'", path, "': split indices must be int32 or int64, got ", io::dtype_name(a.dtype));
  if (a.ndim() != 1)
    SSAH_THROW(ShapeError, "'", path, "': split indices must be 1-D, got shape ", io::shape_str(a.shape));
  if (a.size() == 0) SSAH_THROW(InvalidArgument, "'", path, "': the split is empty");
  std::vector<std::size_t> out;
  out.reserve(a.size());
  for (std::int64_t v : a.as<std::int64_t>()) {
    if (v < 0 || static_cast<std::uint64_t>(v) >= items)
      SSAH_THROW(InvalidArgument, "'", path, "': index ", v, " is out of range for ", items, " items");
    out.push_back(static_cast<std::size_t>(v));
  }
  return out;
}

void write_indices(const std::string& path, const std::vector<std::size_t>& rows) {
  std::vector<std::int64_t> v(rows.begin(), rows.end());
  io::write_npy(path, v, {v.size()});
}

std::string file_part(const std::string& direction) {
  std::string s = direction;
  const std::size_t p = s.find("->");
  if (p != std::string::npos) s.replace(p, 2, "_to_");
  return s;
}

/// Runs `gnuplot SCRIPT` in `dir`, its output discarded, without a shell (the folder's name, which
/// the user chose, never reaches a command line or a gnuplot string); its exit status, 127 when
/// gnuplot could not be started.
int run_gnuplot(const std::string& dir, const std::string& script) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {  // only async-signal-safe calls until exec
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (::chdir(dir.c_str()) != 0 || devnull < 0) ::_exit(126);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    ::execlp("gnuplot", "gnuplot", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Renders `name`.svg in the run folder `out` from the script `name`.gp written to out/curves/;
/// the script names files relative to curves/ only (generated names), so that no quote or
/// command in the folder's path is ever read by gnuplot. A warning, never a failure, when gnuplot
/// is absent or fails.
void plot(const std::string& out, const std::string& name, const std::string& script_body) {
  const std::string svg_path = out + "/" + name + ".svg", tmp = svg_path + ".tmp-plot";
  io::check_output_destination(svg_path);  // gnuplot's output is renamed over it
  io::write_file_atomic(out + "/curves/" + name + ".gp", "set terminal svg size 800,600 dynamic\nset output '../" +
                                                             name + ".svg.tmp-plot'\n" + script_body);
  const int status = run_gnuplot(out + "/curves", name + ".gp");
  if (status == 127) {
    static bool warned = false;
    if (!warned) std::fprintf(stderr, "ssah train: warning: gnuplot not found on PATH; plots skipped (CSV written)\n");
    warned = true;
  } else if (status != 0 || std::rename(tmp.c_str(), svg_path.c_str()) != 0) {
    std::fprintf(stderr, "ssah train: warning: gnuplot failed on curves/%s.gp; plot %s.svg skipped\n", name.c_str(),
                 name.c_str());
  }
  std::remove(tmp.c_str());
}

void write_curves(const std::string& out, const pipeline::BitsResult& r) {
  const std::string k = "K" + std::to_string(r.bits);
  std::string pr_plot = "set title 'precision-recall, " + k +
                        " (Hamming radius sweep)'\nset xlabel 'recall'\nset ylabel 'precision'\nset key outside\n"
                        "set datafile separator ','\nplot ";
  std::string pn_plot = "set title 'precision@N, " + k +
                        "'\nset xlabel 'N'\nset ylabel 'precision'\nset key outside\nset datafile separator ','\nplot ";
  bool first = true;
  for (const pipeline::Direction& d : r.directions) {
    const std::string name = k + "_" + file_part(d.name);  // modality names are [A-Za-z0-9_-]+
    const std::string base = out + "/curves/" + name;
    std::string pr = "radius,precision,recall\n";
    const std::size_t radii = std::min(d.result.pr_precision.size(), static_cast<std::size_t>(r.bits) + 1);
    for (std::size_t i = 0; i < radii; ++i)
      pr += std::to_string(i) + "," + std::to_string(d.result.pr_precision[i]) + "," +
            std::to_string(d.result.pr_recall[i]) + "\n";
    io::write_file_atomic(base + "_pr.csv", pr);
    std::string pn = "n,precision\n";
    for (std::size_t i = 0; i < d.result.precision_n.size(); ++i)
      pn += std::to_string(d.result.precision_n[i]) + "," + std::to_string(d.result.precision_at_n[i]) + "\n";
    io::write_file_atomic(base + "_precision_at_n.csv", pn);
    const std::string sep = first ? "" : ", ";
    pr_plot += sep + "'" + name + "_pr.csv' every ::1 using 3:2 with linespoints title '" + d.name + "'";
    pn_plot += sep + "'" + name + "_precision_at_n.csv' every ::1 using 1:2 with linespoints title '" + d.name + "'";
    first = false;
  }
  plot(out, k + "_pr", pr_plot + "\n");
  plot(out, k + "_precision_at_n", pn_plot + "\n");
}

std::string eta(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds);
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

// ---------------------------------------------------------------- interruption and resuming

/// Set by SIGINT / SIGTERM; training stops at the next step boundary (the handler is one-shot:
/// a second signal ends the program at once, which the atomic writes also survive).
std::atomic<bool> interrupt_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_interrupt_signal(int) { interrupt_requested.store(true); }

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

/// Thrown at a step boundary once a signal arrived; run_train reports it and exits with 130.
struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
std::string crc_hex(const std::vector<T>& v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(io::crc32(v.data(), v.size() * sizeof(T))));
  return buf;
}

/// Checksums of what training reads (labels, each modality after standardisation, the split), so
/// that --resume can tell whether the command line describes the data of the run it continues.
json input_checksums(const pipeline::Dataset& data, const pipeline::Split& split) {
  json mods = json::object();
  for (const pipeline::Modality& m : data.modalities) mods[m.name] = crc_hex(m.values);
  return {{"labels", crc_hex(data.labels)},
          {"modalities", mods},
          {"split",
           {{"query", crc_hex(split.query)}, {"database", crc_hex(split.database)}, {"train", crc_hex(split.train)}}}};
}

/// report.json of the run in `dir` (IoError when it has none).
json read_report(const std::string& dir) {
  const std::string path = dir + "/report.json";
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec)))
    SSAH_THROW(IoError, "--resume ", dir, ": no report.json there (not an output folder of ssah train)");
  const std::vector<unsigned char> bytes = io::read_file(path);  // refuses a FIFO, a device, a folder
  json report;
  try {
    report = json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    SSAH_THROW(IoError, "'", path, "': not valid JSON (", io::json_error_text(e), ")");
  }
  // What --resume reads must have the form ssah train writes: the sections it compares, and of each
  // finished K the epochs and MAPs that decide whether it is skipped.
  try {
    if (!report.is_object()) throw io::JsonFormError("not a JSON object");
    for (const char* key : {"input_checksums", "hyperparameters", "results"})
      if (report.contains(key) && !report[key].is_object())
        throw io::JsonFormError("'" + std::string(key) + "' is not an object");
    if (report.contains("modalities") && !report["modalities"].is_array())
      throw io::JsonFormError("'modalities' is not a list");
    const json results = report.value("results", json::object());
    for (const auto& [k, done] : results.items()) {  // results are carried into the new report
      const std::string field = "results." + k;
      int bits = 0;
      const auto parsed = std::from_chars(k.data() + std::min<std::size_t>(1, k.size()), k.data() + k.size(), bits);
      if (k.empty() || k[0] != 'K' || parsed.ec != std::errc() || parsed.ptr != k.data() + k.size() ||
          !is_model_bits(bits) || "K" + std::to_string(bits) != k)
        throw io::JsonFormError("'" + field + "' is not a code length of ssah train (K and one of " +
                                model_bits_list() + ")");
      if (io::json_field<int>(done, "bits", field) != bits)
        throw io::JsonFormError("'" + field + ".bits' is not " + std::to_string(bits));
      io::json_field<std::size_t>(done, "epochs", field);
      const json maps = io::json_field<json>(done, "map", field);
      if (!maps.is_object()) throw io::JsonFormError("'" + field + ".map' is not an object");
      for (const auto& [direction, map] : maps.items())
        if (!map.is_number() || !(map.get<double>() >= 0 && map.get<double>() <= 1))
          throw io::JsonFormError("'" + field + ".map." + direction + "' is " + map.dump() +
                                  " (a MAP is a number from 0 to 1)");
    }
  } catch (const io::JsonFormError& e) {
    SSAH_THROW(IoError, "'", path, "': not a report of ssah train (", e.what(), ")");
  }
  return report;
}

/// Whether two spellings of a folder name the same one ("x/", "./x", a link to it).
bool same_folder(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  const auto normal = [](const std::string& p) {
    std::error_code e;
    fs::path n = fs::absolute(p, e).lexically_normal();
    return n.has_filename() ? n : n.parent_path();
  };
  return normal(a) == normal(b);
}

/// The library's checks of the networks (pipeline::check_networks) with the option that set
/// what failed: --hidden or the recipe for the widths, --backbone, --pretrained or the recipe for
/// a backbone.
void check_networks(const pipeline::Dataset& data, const pipeline::Experiment& e, int bits, bool hidden_given,
                    const std::map<std::string, std::string>& kinds,
                    const std::map<std::string, std::string>& pretrained) {
  const ModelSpec<float> spec = pipeline::model_spec(data, e, bits);
  try {
    pipeline::check_training_memory(spec, data, pipeline::kCheckpointedTrainingWeightCopies);
  } catch (const OutOfMemory& oom) {
    SSAH_THROW(OutOfMemory, hidden_given ? "--hidden: " : "the recipe's widths: ", oom.what());
  }
  for (std::size_t m = 0; m < data.modalities.size(); ++m) {
    const std::string& name = data.modalities[m].name;
    try {
      pipeline::check_backbone(spec, m, name);
    } catch (const OutOfMemory& oom) {
      SSAH_THROW(OutOfMemory, "the network of '", name, "': ", oom.what());
    } catch (const InvalidArgument& err) {
      const std::string kind = spec.backbones[m].kind == "cnnf" ? "cnn" : spec.backbones[m].kind;
      const std::string origin = pretrained.count(name) ? "--pretrained " + name
                                 : kinds.count(name)    ? "--backbone " + name + "=" + kind
                                                        : "the recipe's " + kind + " backbone for '" + name + "'";
      SSAH_THROW(InvalidArgument, origin, ": ", err.what());
    }
  }
}

void run_train(TrainArgs a) {
  const auto start = std::chrono::steady_clock::now();
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
  // What this run reads: never written over, never removed by --overwrite.
  std::vector<RunInput> input_files;
  for (const std::string& m : a.modalities) input_files.push_back({"--modality", split_pair(m, "--modality").second});
  input_files.push_back({"--labels", a.labels});
  input_files.push_back({"--mat", a.mat.file});
  for (const char* f : {"/query_idx.npy", "/db_idx.npy", "/train_idx.npy"})
    if (!a.split_dir.empty()) input_files.push_back({"--split", a.split_dir + f});
  for (const std::string& s : a.pretrained)
    input_files.push_back({"--pretrained", split_pair(s, "--pretrained").second});
  const bool writes_split = a.split_dir.empty() && a.resume.empty();
  check_run_folder(a.out, folder_mode, input_files, writes_split);  // before any input is read
  if (!a.resume.empty()) previous = read_report(a.resume);
  if (a.modalities.size() > 3)
    SSAH_THROW(InvalidArgument, a.modalities.size(), " modalities given; ssah train supports 1 to 3");
  check_bits(a.bits);

  std::map<std::string, std::string> kinds;
  for (const std::string& s : a.backbones) {
    auto [name, kind] = split_pair(s, "--backbone");
    if (kind == "cnn") kind = "cnnf";
    if (kind != "feature" && kind != "text" && kind != "cnnf")
      SSAH_THROW(InvalidArgument, "--backbone ", s, ": the backbone must be feature, text or cnn");
    if (!kinds.emplace(name, kind).second)
      SSAH_THROW(InvalidArgument, "--backbone: the modality '", name, "' is given twice");
  }
  std::map<std::string, std::string> pretrained_files;
  for (const std::string& s : a.pretrained) {
    const auto [name, file] = split_pair(s, "--pretrained");
    if (!mat_input_supported())
      SSAH_THROW(InvalidArgument, "--pretrained ", s,
                 ": this ssah was built without MATLAB .mat support (matio was not found)");
    if (!pretrained_files.emplace(name, file).second)
      SSAH_THROW(InvalidArgument, "--pretrained: the modality '", name, "' is given twice");
    const auto k = kinds.find(name);
    if (k != kinds.end() && k->second != "cnnf")
      SSAH_THROW(InvalidArgument, "--pretrained ", s, " makes '", name, "' a CNN-F, but --backbone gives it ",
                 k->second);
    kinds[name] = "cnnf";
  }

  // Inputs: .npy files (--modality, --labels) or one .mat file (--mat, mat_input.cpp); the same
  // checks apply to both.
  const bool from_mat = !a.mat.file.empty();
  MatInput mat;
  if (from_mat) {
    if (!a.modalities.empty() || !a.labels.empty())
      SSAH_THROW(InvalidArgument,
                 "--mat reads the modalities and the labels from one .mat file: give either --mat "
                 "or --modality and --labels, not both");
    mat = read_mat_input(a.mat);
    std::printf("ssah train: %s (MATLAB v%s%s)\n", a.mat.file.c_str(), mat.version.c_str(),
                a.mat.layout.empty() ? "" : (", layout " + a.mat.layout).c_str());
    for (const MatModality& mm : mat.modalities)
      std::printf("  %s = %s, %s\n", mm.name.c_str(), mm.variable.c_str(), mm.arrangement.c_str());
    std::printf("  labels = %s\n", mat.labels_variable.c_str());
  } else if (a.mat.any()) {
    SSAH_THROW(InvalidArgument, "--mat-modality, --mat-labels and --mat-layout need --mat FILE");
  } else if (a.modalities.empty() && a.labels.empty()) {
    SSAH_THROW(InvalidArgument,
               "no inputs: give --modality NAME=FILE.npy (1 to 3 times) and --labels LABELS.npy, "
               "or --mat FILE.mat");
  } else if (a.labels.empty()) {
    SSAH_THROW(InvalidArgument, "--labels LABELS.npy is required with --modality (the labels of the items)");
  } else if (a.modalities.empty()) {
    SSAH_THROW(InvalidArgument, "--modality NAME=FILE.npy (1 to 3 times) is required with --labels");
  }
  pipeline::Dataset data = pipeline::dataset_from_labels(from_mat ? std::move(mat.labels) : io::read_npy(a.labels));
  const std::string labels_file = data.labels_source;
  std::vector<std::pair<std::string, std::string>> inputs;  // NAME, .npy file or "<file>: <variable>"
  for (const std::string& s : a.modalities) inputs.push_back(split_pair(s, "--modality"));
  for (const MatModality& mm : mat.modalities) inputs.emplace_back(mm.name, mm.array.source);
  std::set<std::string> names;
  for (std::size_t input = 0; input < inputs.size(); ++input) {
    const auto& [name, path] = inputs[input];
    const char* option = from_mat ? "--mat-modality" : "--modality";
    try {  // before the next input is read
      pipeline::check_modality_name(name);
    } catch (const InvalidArgument& e) {
      SSAH_THROW(InvalidArgument, option, ": ", e.what());
    }
    if (!names.insert(name).second) SSAH_THROW(InvalidArgument, option, ": the name '", name, "' is used twice");
    pipeline::Modality m =
        pipeline::modality_from_array(name, from_mat ? mat.modalities[input].array : io::read_npy(path));
    if (from_mat) mat.modalities[input].array = io::NpyArray();  // its float copy is in m
    if (const auto pf = pretrained_files.find(name); pf != pretrained_files.end()) {
      if (m.sample_shape.size() != 3)
        SSAH_THROW(ShapeError, "--pretrained ", name, "=", pf->second, ": '", path, "' holds items of shape ",
                   io::shape_str(m.sample_shape), "; CNN-F reads images [C, H, W]");
      m.backbone.cnnf = pretrained_cnnf_config(pf->second);
    }
    data.modalities.push_back(std::move(m));
  }
  data.validate();  // rows of every modality against the labels
  for (const auto& [name, file] : pretrained_files)
    if (!names.count(name)) SSAH_THROW(InvalidArgument, "--pretrained ", name, "=", file, ": no modality '", name, "'");
  for (const auto& [name, kind] : kinds)
    if (!names.count(name)) SSAH_THROW(InvalidArgument, "--backbone ", name, "=", kind, ": no modality '", name, "'");

  // --pretrained: read each file once into a CnnF of the modality's input size (which checks that
  // the file's filters fit those images); every K's fresh model gets a copy.
  std::vector<std::shared_ptr<PretrainedCnnF>> pretrained;
  std::vector<std::string> pretrained_lines;
  for (std::size_t m = 0; m < data.modalities.size(); ++m) {
    const pipeline::Modality& pm = data.modalities[m];
    const auto pf = pretrained_files.find(pm.name);
    if (pf == pretrained_files.end()) continue;
    auto p = std::make_shared<PretrainedCnnF>();
    p->modality = m;
    p->file = pf->second;
    const auto& s = pm.sample_shape;
    const auto& c = pm.backbone.cnnf;
    std::string loaded;
    try {
      p->net = std::make_unique<CnnF<float>>(Shape{s[0], s[1], s[2]}, c, p->params);
      loaded = load_pretrained_cnnf(*p->net, p->file);
    } catch (const Error& err) {
      SSAH_THROW(InvalidArgument, "--pretrained ", pm.name, "=", p->file, ": does not fit the images of '", pm.name,
                 "' (", io::shape_str(s), "): ", err.what());
    }
    std::string widths;
    for (std::size_t w : c.conv_channels) widths += (widths.empty() ? "" : ",") + std::to_string(w);
    pretrained_lines.push_back("  " + pm.name + ": CNN-F from " + p->file + " (" + loaded + "; conv " + widths +
                               ", fc6 " + std::to_string(c.fc6) + ", fc7 " + std::to_string(c.fc7) + ", fc8 " +
                               std::to_string(c.feature) + " new)");
    pretrained.push_back(std::move(p));
  }

  // Split.
  pipeline::Split split;
  if (!a.split_dir.empty()) {
    split.query = read_indices(a.split_dir + "/query_idx.npy", data.items);
    split.database = read_indices(a.split_dir + "/db_idx.npy", data.items);
    split.train = read_indices(a.split_dir + "/train_idx.npy", data.items);
  } else {
    const std::size_t queries = std::max<std::size_t>(1, std::min<std::size_t>(data.items / 10, 2000));
    if (queries >= data.items) SSAH_THROW(InvalidArgument, "too few items (", data.items, ") to split");
    split = pipeline::Split::random(data.items, queries, std::min<std::size_t>(10000, data.items - queries), a.seed);
  }
  try {
    split.validate(data.items);
  } catch (const InvalidArgument& e) {
    if (a.split_dir.empty()) throw;
    const std::string what = e.what();  // "split: ..."
    SSAH_THROW(InvalidArgument, "--split ", a.split_dir, ": ",
               what.compare(0, 7, "split: ") == 0 ? what.substr(7) : what);
  }
  std::vector<std::string> warnings;
  try {
    warnings = pipeline::data_warnings(data, split);
  } catch (const InvalidArgument& e) {  // "labels: ..."
    SSAH_THROW(InvalidArgument, "'", labels_file, "': ", std::string(e.what()).substr(8));
  }

  // The recipe (ssah/recipes.hpp), resolved for this data set, then the options given.
  recipes::Settings settings = recipes::resolve(a.recipe, recipes::DataTraits::of(data, split.train));
  for (std::size_t m = 0; m < data.modalities.size(); ++m) {
    const std::string& name = data.modalities[m].name;
    if (const auto k = kinds.find(name); k != kinds.end()) {
      settings.backbones[m] = k->second;
      if (k->second == "text") settings.standardize[m] = false;  // TxtNet reads bags of words as they are
    }
    // CNN-F subtracts the file's mean image from raw pixel values (0..255): no standardisation.
    if (pretrained_files.count(name)) settings.standardize[m] = false;
    if (a.no_standardize) settings.standardize[m] = false;
  }
  if (!a.init.empty()) settings.init = init_scheme_from_name(a.init);
  if (a.epochs > 0) settings.epochs = a.epochs;
  if (!a.hidden.empty()) {
    settings.hidden = a.hidden;
    settings.discriminator_hidden = a.hidden;
  }
  if (a.batch_size > 0) settings.batch_size = a.batch_size;
  if (a.steps_per_pass > 0) settings.steps_per_pass = a.steps_per_pass;
  if (a.passes > 0) {
    settings.label_passes = {a.passes};
    settings.discriminator_passes = {a.passes};
    settings.modality_passes = {a.passes};
  }
  a.epochs = settings.epochs;
  pipeline::Experiment e;
  recipes::apply(settings, data, e);
  check_networks(data, e, a.bits.front(), !a.hidden.empty(), kinds, pretrained_files);

  // The inputs are good: the output folder is claimed (created and locked) only now.
  claim_run_folder(a.out, folder_mode, input_files, writes_split);
  for (const std::string& w : warnings) std::fprintf(stderr, "ssah train: warning: %s\n", w.c_str());
  const auto make_folder = [](const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir, ec))
      SSAH_THROW(IoError, "cannot create the folder '", dir, "'", ec ? ": " + ec.message() : std::string());
  };
  make_folder(a.out + "/codes");
  make_folder(a.out + "/curves");
  if (writes_split) {  // a resumed run checks that it drew the same split (input_checksums)
    make_folder(a.out + "/split");
    write_indices(a.out + "/split/query_idx.npy", split.query);
    write_indices(a.out + "/split/db_idx.npy", split.database);
    write_indices(a.out + "/split/train_idx.npy", split.train);
  }

  // Standardised here (not in pipeline::run) so that every epoch's checkpoint keeps the statistics.
  const std::vector<pipeline::Standardization> standardization = pipeline::standardize(data, split);
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
  for (const std::string& line : pretrained_lines) std::printf("%s\n", line.c_str());
  std::fflush(stdout);

  const bool tty = isatty(fileno(stderr)) != 0;
  int current_bits = a.bits.empty() ? 0 : a.bits.front();
  auto last_key = std::make_shared<std::string>();
  std::size_t epochs_saved = 0;  // of K = current_bits
  auto stop_if_interrupted = [&] {
    if (!interrupt_requested.load()) return;
    if (tty) std::fprintf(stderr, "\r%160s\r", "");
    const std::string k = "K" + std::to_string(current_bits);
    throw Interrupted("interrupted: " + k + " has " + std::to_string(epochs_saved) + " of " + std::to_string(a.epochs) +
                      " epochs saved" + (epochs_saved > 0 ? " in model-" + k + ".safetensors" : std::string()) +
                      "; resume with `ssah train ... --resume " + a.out + "` (the same inputs and options)");
  };
  e.train.on_progress = [tty, &current_bits, last_key, &stop_if_interrupted](const TrainingProgress& p) {
    stop_if_interrupted();
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
  report["labels"] = labels_file;
  if (from_mat) {
    json vars = json::object();
    for (const MatModality& mm : mat.modalities)
      vars[mm.name] = {{"variable", mm.variable}, {"dims", mm.dims}, {"arrangement", mm.arrangement}};
    report["mat"] = {{"file", a.mat.file},
                     {"version", mat.version},
                     {"layout", a.mat.layout},
                     {"modalities", vars},
                     {"labels", {{"variable", mat.labels_variable}, {"dims", mat.labels_dims}}}};
  }
  json jm = json::array();
  for (std::size_t m = 0; m < data.modalities.size(); ++m) {
    jm.push_back({{"name", data.modalities[m].name},
                  {"file", data.modalities[m].source},
                  {"sample_shape", data.modalities[m].sample_shape},
                  {"backbone", data.modalities[m].backbone.kind},
                  {"standardized", !cms[m].mean.empty()}});
    const auto pf = pretrained_files.find(data.modalities[m].name);
    if (pf != pretrained_files.end()) jm.back()["pretrained"] = pf->second;
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
  report["warnings"] = warnings;
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
    if (rc.epoch > a.epochs)
      SSAH_THROW(InvalidArgument, "--resume ", a.out, ": '", path, "' has ", rc.epoch, " epochs, more than --epochs ",
                 a.epochs);
    return model;
  };
  if (!a.resume.empty()) {
    // The command line must describe the run in a.out: same data, split, structure and options
    // (only --epochs and --bits may change).
    auto check_same = [&](const json& there, const json& here, const std::string& what) {
      const std::string d = io::json_first_difference(there, here);
      if (!d.empty())
        SSAH_THROW(InvalidArgument, "--resume ", a.out, ": this command line does not describe the run there: ", what,
                   " ", d, " is ", io::json_value_at(there, d), " there but ", io::json_value_at(here, d),
                   " here; give the same inputs and options");
    };
    if (!previous.contains("input_checksums"))
      SSAH_THROW(InvalidArgument, "--resume ", a.out,
                 ": its report.json has no input checksums (written by an older ssah train)");
    // From what explains most to what explains least: the modalities (names, order, backbones),
    // the options, then the data; the split comes before the modalities' checksums, which are
    // taken after standardisation by the training items and so change with the split too.
    json mods_there = previous.value("modalities", json::array()), mods_here = report["modalities"];
    for (json* mods : {&mods_there, &mods_here})
      for (json& m : *mods)
        if (m.is_object()) m.erase("file");
    check_same(json{{"modality list", mods_there}}, json{{"modality list", mods_here}}, "the");
    json hp_there = previous.value("hyperparameters", json::object()), hp_here = report["hyperparameters"];
    for (const char* key : {"epochs", "bits"}) {
      hp_there.erase(key);
      hp_here.erase(key);
    }
    check_same(hp_there, hp_here, "hyperparameter");
    const json& sums_there = previous["input_checksums"];
    const json& sums_here = report["input_checksums"];
    for (const char* part : {"split", "labels", "modalities"})
      check_same(json{{part, sums_there.value(part, json())}}, json{{part, sums_here.value(part, json())}},
                 "the checksum of");
    for (int bits : a.bits) {  // every checkpoint is checked before anything is written
      Checkpoint c;
      load_resumable(bits, c);
    }
    results = previous.value("results", json::object());
    std::printf("resuming the run in %s\n", a.out.c_str());
  }
  report["results"] = results;
  io::write_file_atomic(a.out + "/report.json", report.dump(2) + "\n");

  install_interrupt_handlers();
  try {
    for (int bits : a.bits) {
      stop_if_interrupted();  // the message names the K before this one
      current_bits = bits;
      epochs_saved = 0;
      e.bits = {bits};
      const std::string k = "K" + std::to_string(bits);
      const std::string checkpoint_path = a.out + "/model-" + k + ".safetensors";
      auto save = [&](int kb, AnyModel<float>& model) {
        Checkpoint c;
        c.spec = pipeline::model_spec(data, e, kb);
        c.epoch = model.epoch();
        c.modalities = cms;
        c.state = model.training_state();
        save_checkpoint(checkpoint_path, c, model);
        epochs_saved = c.epoch;
      };
      // --resume: continue from this K's checkpoint (when one was written), or skip a finished K.
      std::unique_ptr<AnyModel<float>> resumed;
      Checkpoint rc;
      if (!a.resume.empty() && (resumed = load_resumable(bits, rc))) {
        epochs_saved = rc.epoch;
        const json done = results.value(k, json());
        if (rc.epoch == a.epochs && done.is_object() && done.at("epochs") == a.epochs) {
          std::printf("K = %d: finished earlier (%zu epochs), skipped\n", bits, a.epochs);
          continue;
        }
        std::printf("K = %d: continuing from epoch %zu\n", bits, rc.epoch);
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
        if (pretrained.empty()) return nullptr;
        std::unique_ptr<AnyModel<float>> model = make_model(pipeline::model_spec(data, e, kb));
        for (const auto& p : pretrained) {
          auto* net = std::get_if<CnnF<float>>(&model->backbone(p->modality).variant());
          SSAH_CHECK(net != nullptr, "--pretrained: modality ", p->modality, " was not built as a CNN-F");
          net->copy_pretrained_layers(*p->net);
        }
        return model;
      };
      e.on_epoch = save;
      pipeline::BitsResult r;
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
      }
      if (tty) std::fprintf(stderr, "\r%160s\r", "");
      std::vector<std::string> collapsed;  // warnings of this K, recorded in its results
      for (std::size_t m = 0; m < data.modalities.size(); ++m) {
        const std::string base = a.out + "/codes/" + k + "_" + data.modalities[m].name;
        io::write_npy(base + "_query.npy", sign_codes(r.query_hashes[m]), {split.query.size(), std::size_t(bits)});
        const std::vector<std::int8_t> db_codes = sign_codes(r.database_hashes[m]);
        io::write_npy(base + "_db.npy", db_codes, {split.database.size(), std::size_t(bits)});
        if (all_rows_equal(db_codes.data(), split.database.size(), static_cast<std::size_t>(bits))) {
          collapsed.push_back("every database item of '" + data.modalities[m].name +
                              "' gets the same code: the model does not tell them apart");
          std::fprintf(stderr, "ssah train: warning: K = %d: %s\n", bits, collapsed.back().c_str());
        }
      }
      write_curves(a.out, r);
      json maps = json::object();
      std::printf("K = %d (%.1f s):", bits, r.train_seconds);
      for (const pipeline::Direction& d : r.directions) {
        maps[d.name] = d.result.map;
        std::printf(" %s %.4f", d.name.c_str(), d.result.map);
      }
      std::printf("\n");
      std::fflush(stdout);
      results[k] = {{"bits", bits},
                    {"map", maps},
                    {"train_seconds", r.train_seconds},
                    {"encode_seconds", r.encode_seconds},
                    {"epochs", r.epochs},
                    {"checkpoint", "model-" + k + ".safetensors"}};
      if (r.start_epoch > 0) results[k]["resumed_from_epoch"] = r.start_epoch;
      if (!collapsed.empty()) results[k]["warnings"] = collapsed;
      report["results"] = results;
      report["total_seconds"] = seconds_since(start);
      io::write_file_atomic(a.out + "/report.json", report.dump(2) + "\n");
    }
  } catch (const Interrupted& interrupted) {
    std::fprintf(stderr, "ssah train: %s\n", interrupted.what());
    std::fflush(stdout);
    std::exit(130);
  }
  std::printf("written to %s: model-K*.safetensors, codes/, curves/, report.json%s\n", a.out.c_str(),
              a.split_dir.empty() ? ", split/" : "");
}

struct EncodeArgs {
  std::string checkpoint, modality, out;
};

void run_encode(const EncodeArgs& a) {
  const auto [name, path] = split_pair(a.modality, "--modality");
  check_output_file("--out", a.out, {{"--checkpoint", a.checkpoint}, {"--modality", path}});
  Checkpoint c;
  std::unique_ptr<AnyModel<float>> model = load_checkpoint(a.checkpoint, c);
  std::size_t m = 0;
  while (m < c.modalities.size() && c.modalities[m].name != name) ++m;
  if (m == c.modalities.size()) {
    std::string known;
    for (const auto& cm : c.modalities) known += (known.empty() ? "'" : ", '") + cm.name + "'";
    SSAH_THROW(InvalidArgument, "checkpoint '", a.checkpoint, "' has no modality '", name, "' (it has ", known, ")");
  }
  const pipeline::Modality in = pipeline::modality_from_array(name, io::read_npy(path));
  if (in.sample_shape != c.modalities[m].sample_shape)
    SSAH_THROW(ShapeError, "'", path, "': items of shape ", io::shape_str(in.sample_shape), " where the checkpoint's '",
               name, "' expects ", io::shape_str(c.modalities[m].sample_shape));
  const std::size_t rows = in.values.size() / in.row_size();
  pipeline::Standardization st;
  st.mean = c.modalities[m].mean;
  st.stddev = c.modalities[m].stddev;
  const std::vector<float> h = pipeline::hashes_of(*model, m, in, st);
  // Finite weights can still overflow (a checkpoint edited to hold 1e38, or standard deviations
  // of 1e-30): every code would then be the sign of NaN, which is no code at all.
  if (const auto bad = std::find_if(h.begin(), h.end(), [](float v) { return !std::isfinite(v); }); bad != h.end())
    SSAH_THROW(NumericError, "'", a.checkpoint, "': the model gives a non-finite hash (", *bad, ") for item ",
               (bad - h.begin()) / c.spec.bits, " of '", path,
               "'; its weights or standardisation are out of range, or the items are");
  const std::vector<std::int8_t> codes = sign_codes(h);
  io::write_npy(a.out, codes, {rows, static_cast<std::size_t>(c.spec.bits)});
  std::printf("%zu codes of %d bits written to %s\n", rows, c.spec.bits, a.out.c_str());
  // A collapsed model (or one whose weights saturate every unit) ranks nothing: say so.
  if (all_rows_equal(codes.data(), rows, static_cast<std::size_t>(c.spec.bits)))
    std::fprintf(stderr, "ssah encode: warning: all %zu items get the same code: the model does not tell them apart\n",
                 rows);
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
                  "output folder: created, or an empty one; one that holds files needs --resume or --overwrite");
  cmd->add_flag("--overwrite", args->overwrite,
                "train into an --out folder that holds an earlier run: that run's outputs (report, checkpoints, "
                "codes, curves, split) are removed first; other files are left alone");
  cmd->add_option("--resume", args->resume,
                  "continue the run whose output folder is DIR (interrupted, or to more --epochs) with the same "
                  "inputs and options: each K from its last saved epoch; finished K values are skipped");
  cmd->add_option("--hidden", args->hidden,
                  "widths of the hidden layers of every network (label, feature/text backbones, discriminators; "
                  "default: the recipe's); each 1 to 65536")
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

void add_encode_command(CLI::App& app) {
  auto args = std::make_shared<EncodeArgs>();
  CLI::App* cmd = app.add_subcommand("encode", "Hash codes (int8 ±1) of items with a checkpoint written by train");
  cmd->add_option("--checkpoint", args->checkpoint, "model-K<bits>.safetensors written by ssah train")->required();
  cmd->add_option("--modality", args->modality, "NAME=FILE.npy (NAME as in training)")->required();
  cmd->add_option("--out", args->out, "codes .npy [N, K] int8")->required();
  cmd->callback([args] { run_encode(*args); });
}

}  // namespace ssah::cli
