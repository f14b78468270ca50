#pragma once
// `ssah train` in parts: its options (TrainArgs); reading and checking every input before anything
// is written (train_inputs.cpp); the files a run writes besides checkpoints and codes
// (train_outputs.cpp); report.json and what --resume compares (train_report.cpp). cmd_train.cpp
// runs the training on them.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mat_input.hpp"
#include "run_folder.hpp"
#include "ssah/model/cnnf.hpp"
#include "ssah/parameters.hpp"
#include "ssah/pipeline.hpp"
#include "ssah/recipes.hpp"

namespace ssah::cli {

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

/// The inputs of a run, read and checked: the data set, the split, what the backbone and
/// pretrained options chose per modality, and the warnings for the report.
struct TrainInputs {
  pipeline::Dataset data;
  pipeline::Split split;
  std::string labels_file;
  std::map<std::string, std::string> kinds;             ///< --backbone and --pretrained: NAME -> kind
  std::map<std::string, std::string> pretrained_files;  ///< --pretrained: NAME -> file
  std::vector<std::shared_ptr<PretrainedCnnF>> pretrained;
  std::vector<std::string> pretrained_lines;  ///< what was loaded, for the run's summary
  std::vector<std::string> warnings;          ///< pipeline::data_warnings
  nlohmann::json mat_report;                  ///< --mat: the file and variables read (null otherwise)
};

/// The files `a` names as inputs, with their options: what the run must not write over or remove.
std::vector<RunInput> run_inputs(const TrainArgs& a);

/// Reads and checks every input of `a` (data, labels, split, backbones, pretrained networks):
/// errors name the option or file at fault, before anything is written.
TrainInputs read_train_inputs(const TrainArgs& a);

/// The recipe `a.recipe` resolved for the data, then the options of `a` that override it.
recipes::Settings resolve_settings(const TrainArgs& a, const TrainInputs& in);

/// The library's checks of the networks (pipeline::check_networks) with the option that set
/// what failed: --hidden or the recipe for the widths, --batch-size or the recipe for a step's
/// activations, --backbone, --pretrained or the recipe for a backbone.
void check_networks(const TrainInputs& in, const pipeline::Experiment& e, int bits, bool hidden_given,
                    bool batch_given);

/// Writes a split's row indices (int64 .npy).
void write_indices(const std::string& path, const std::vector<std::size_t>& rows);

/// "h:mm:ss", for the progress line's estimate.
std::string eta(double seconds);

/// The codes file of `k` ("K16"), one modality and `part` ("query" or "db") in the run folder `out`.
std::string codes_path(const std::string& out, const std::string& k, const std::string& modality, const char* part);

/// What is wrong with the first output of `k` in the run folder `out` that encoding and evaluation
/// write and that is missing, empty, or (codes) not the int8 -1/+1 [rows, bits] array they wrote
/// (truncated, replaced): codes, curves, gnuplot scripts and, when gnuplot is there, the plots;
/// "" when all are there.
std::string damaged_outputs(const std::string& out, const std::string& k, const pipeline::Dataset& data,
                            const pipeline::Split& split, int bits);

/// The outputs of code length `k` ("K16") for these modality names, relative to the run folder:
/// checkpoint, plots and their scripts, codes, curves (what run_output_names lists for each K and
/// what --resume checks before it skips a finished K).
std::vector<std::string> outputs_of_k(const std::string& k, const std::vector<std::string>& modalities);

/// The files, relative to its folder, that the run whose report is `report` can have written: its
/// report, split (when drawn by the run), and for each of its code lengths the checkpoint, codes,
/// curves and plots under the names its modalities give them (what --overwrite removes).
/// io::JsonFormError when the report lacks what names them (not a report of ssah train).
std::vector<std::string> run_output_names(const nlohmann::json& report);

/// The CSV curves of every direction of `r` in out/curves/ and, with gnuplot, their SVG plots.
/// `stop` (optional) tells a plot still being drawn to give up (a Ctrl-C).
void write_curves(const std::string& out, const pipeline::BitsResult& r, const std::function<bool()>& stop = {});

/// Checksums of what training reads (labels, each modality after standardisation, the split), so
/// that --resume can tell whether the command line describes the data of the run it continues.
nlohmann::json input_checksums(const pipeline::Dataset& data, const pipeline::Split& split);

/// report.json of the run in `dir`, checked for the form ssah train writes (IoError otherwise).
nlohmann::json read_report(const std::string& dir);

/// InvalidArgument, naming the first difference, unless `report` (this command line's) describes
/// the run whose report is `previous` (only --epochs and --bits may differ).
void check_resume_matches(const nlohmann::json& previous, const nlohmann::json& report, const std::string& dir);

/// A resumed run's code lengths: those it has results for (keys "K<bits>", as read_report checked
/// them) and this command's `bits`, in increasing order.
std::vector<int> run_bits(const nlohmann::json& results, const std::vector<int>& bits);

/// Whether two spellings of a folder name the same one ("x/", "./x", a link to it).
bool same_folder(const std::string& a, const std::string& b);

}  // namespace ssah::cli
