#pragma once
// The output folder of `ssah train`: claimed for one process (a lock file), never mixed with an
// earlier run's files unless the user asks (`--resume` continues that run, `--overwrite` removes
// its outputs first).
#include <exception>
#include <string>
#include <vector>

namespace ssah::cli {

enum class RunFolderMode {
  fresh,      ///< the folder must not exist or be empty
  resume,     ///< the folder holds the run being continued
  overwrite,  ///< an earlier run's outputs there are removed (not those this run reads); other files are left alone
};

/// A file the run reads, with the option that named it ("--labels", "--modality img").
struct RunInput {
  std::string option, file;
};

/// Whether `relative` (a path relative to a run folder, '/'-separated) is where `ssah train` writes
/// one of its outputs: report.json, model-K*.safetensors, the plots, codes/, curves/, split/.
bool is_run_output(const std::string& relative);

/// Refuses (InvalidArgument) a folder that `claim_run_folder` would refuse, without creating or
/// locking anything: called before the inputs are read, so that the mistake costs nothing. Also
/// refuses an input that lies where the run writes an output (`ROOT/report.json`, `ROOT/codes/...`,
/// and `ROOT/split/...` when `writes_split`): the run would replace the file it reads.
void check_run_folder(const std::string& dir, RunFolderMode mode, const std::vector<RunInput>& inputs,
                      bool writes_split);

/// Creates `dir` if needed and locks it for the life of this process (`dir/.ssah-lock`, flock: a
/// crash releases it); InvalidArgument when another process holds the lock or, checked again
/// under the lock, the folder is not what `mode` needs. In overwrite mode, then removes the
/// files of `earlier_outputs` (paths relative to `dir`: what the earlier run there can have
/// written, run_output_names) that are regular files, reported on stdout, except those among
/// `inputs` (e.g. `--split DIR/split` of the run being replaced: it reads them). True when this
/// call created the folder.
bool claim_run_folder(const std::string& dir, RunFolderMode mode, const std::vector<RunInput>& inputs,
                      bool writes_split, const std::vector<std::string>& earlier_outputs = {});

/// Removes what a run wrote in `dir` (its outputs by name, the sub-folders once empty, the lock
/// file), leaving every other file, and the folder itself once empty when `remove_folder` (the
/// run created it): for a fresh run that failed before its first checkpoint, so that the folder
/// is as it was before and the same command can be rerun.
void release_run_folder(const std::string& dir, bool remove_folder) noexcept;

/// A fresh run that fails before its first checkpoint (out of memory in the first steps, say)
/// leaves its folder as it found it: release_run_folder when destroyed by an exception while
/// `armed` (disarmed once a checkpoint can be resumed from).
struct ReleaseOnFailure {
  std::string dir;
  bool armed = false;
  bool created = false;  ///< the run created `dir`: removed too, once empty
  ~ReleaseOnFailure() {
    if (armed && std::uncaught_exceptions() > 0) release_run_folder(dir, created);
  }
};

}  // namespace ssah::cli
