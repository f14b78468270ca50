#include "run_folder.hpp"

#include "cli_common.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssah/error.hpp"
#include "ssah/io/atomic_file.hpp"

namespace ssah::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLockName = ".ssah-lock";

/// Paths (relative to the folder) of what `ssah train` writes, as regular expressions.
const std::vector<std::regex>& run_outputs() {
  static const std::vector<std::regex> patterns = {
      std::regex(R"(report\.json)"),
      std::regex(R"(model-K[0-9]+\.safetensors)"),
      std::regex(R"(K[0-9]+_(pr|precision_at_n)\.svg)"),
      std::regex(R"(codes/K[0-9]+_[A-Za-z0-9_-]+_(query|db)\.npy)"),
      std::regex(R"(curves/K[0-9]+_[A-Za-z0-9_-]+\.(csv|gp))"),
      std::regex(R"(split/(query|db|train)_idx\.npy)"),
  };
  return patterns;
}

/// The option that named the folder, for messages.
const char* folder_option(RunFolderMode mode) { return mode == RunFolderMode::resume ? "--resume" : "--out"; }

/// The first entry of `dir` other than what a run that ended before writing anything leaves: the
/// lock file and its empty sub-folders (a run killed by a signal, which cannot clean up) ("" when
/// there is none).
std::string first_entry(const fs::path& dir) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name == kLockName) continue;
    std::error_code empty_ec;
    if ((name == "codes" || name == "curves" || name == "split") && !fs::is_symlink(e.path(), empty_ec) &&
        fs::is_directory(e.path(), empty_ec) && fs::is_empty(e.path(), empty_ec))
      continue;
    return name;
  }
  return "";
}

/// InvalidArgument when one of `inputs` is a file at a path where the run writes in `dir`.
void check_inputs_not_outputs(const std::string& dir, RunFolderMode mode, const std::vector<RunInput>& inputs,
                              bool writes_split) {
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(dir, ec);
  if (ec) return;
  for (const RunInput& input : inputs) {
    if (input.file.empty()) continue;
    const fs::path file = fs::weakly_canonical(input.file, ec);
    if (ec) continue;
    const std::string relative = file.lexically_relative(root).generic_string();
    if (relative.empty() || relative.compare(0, 2, "..") == 0 || !is_run_output(relative)) continue;
    if (relative.compare(0, 6, "split/") == 0 && !writes_split) continue;  // read, not written, by this run
    SSAH_THROW(InvalidArgument, input.option, " ", input.file, ": the file is where ssah train writes '", relative,
               "' of the run in ", folder_option(mode), " ", dir,
               "; the run would replace what it reads: copy it elsewhere first");
  }
}

void check_contents(const std::string& dir, RunFolderMode mode) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    if (mode == RunFolderMode::resume) SSAH_THROW(InvalidArgument, "--resume ", dir, ": no such folder");
    if (fs::is_symlink(fs::symlink_status(dir, ec)))  // creating it would fail with "File exists"
      SSAH_THROW(InvalidArgument, "--out ", dir, ": a symbolic link to '", fs::read_symlink(dir, ec).string(),
                 "', which does not exist: create the folder it names, or give another");
    return;
  }
  if (!fs::is_directory(st)) SSAH_THROW(InvalidArgument, folder_option(mode), " ", dir, ": exists and is not a folder");
  // ssah writes into these sub-folders; through a link it would write into another folder, and
  // anything else by that name (a file, a FIFO) would fail only after training.
  for (const char* sub : {"split", "codes", "curves"}) {
    const fs::path p = fs::path(dir) / sub;
    const fs::file_status s = fs::symlink_status(p, ec);
    if (!fs::exists(s) || fs::is_directory(s)) continue;
    SSAH_THROW(InvalidArgument, folder_option(mode), " ", dir, ": '", p.string(),
               fs::is_symlink(s) ? "' is a symbolic link" : "' is not a folder",
               "; ssah train writes its own files there: remove it or choose another folder");
  }
  // A path where the run writes that holds something else than a regular file (a FIFO, a folder)
  // would fail only when written, after training.
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       mode != RunFolderMode::fresh && !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() >= 1) it.disable_recursion_pending();  // outputs are at most one folder down
    const std::string relative = fs::relative(it->path(), dir, ec).generic_string();
    if (!is_run_output(relative)) continue;
    try {
      io::check_output_destination(it->path().string());
      if (fs::is_directory(fs::symlink_status(it->path(), ec)))
        SSAH_THROW(IoError, "cannot write '", it->path().string(), "': it is a folder");
    } catch (const IoError& e) {
      SSAH_THROW(InvalidArgument, folder_option(mode), " ", dir, ": ", e.what(),
                 "; the name is one of ssah train's outputs, which ",
                 mode == RunFolderMode::resume ? "--resume writes" : "--overwrite removes and writes",
                 ": move it away or choose another folder");
    }
  }
  if (mode == RunFolderMode::resume) return;
  const std::string entry = first_entry(dir);
  if (entry.empty()) return;
  // Through a link, as --resume reads it (the run replaces the link, never its target).
  const fs::file_status report = fs::status(fs::path(dir) / "report.json", ec);
  const bool run = fs::is_regular_file(report);
  if (mode == RunFolderMode::overwrite && run) return;
  std::string advice = "give a new folder";
  if (run)
    advice = "give --resume " + shell_word(dir) +
             " to continue that run, --overwrite to replace its outputs, or a new folder";
  else if (mode == RunFolderMode::overwrite)
    advice =  // (a report.json that is not a regular file was refused above, as every output's path)
        "it holds no report.json, so it is not the folder of an earlier ssah train that --overwrite could replace: "
        "give a new folder";
  SSAH_THROW(InvalidArgument, "--out ", dir, ": the folder is not empty (it holds '", entry, "'",
             run ? ", and report.json: an earlier run" : "", "); ", advice);
}

}  // namespace

bool is_run_output(const std::string& relative) {
  for (const std::regex& r : run_outputs())
    if (std::regex_match(relative, r)) return true;
  return false;
}

void check_run_folder(const std::string& dir, RunFolderMode mode, const std::vector<RunInput>& inputs,
                      bool writes_split) {
  check_contents(dir, mode);
  check_inputs_not_outputs(dir, mode, inputs, writes_split);
}

bool claim_run_folder(const std::string& dir, RunFolderMode mode, const std::vector<RunInput>& inputs,
                      bool writes_split, const std::vector<std::string>& earlier_outputs) {
  const std::string option = folder_option(mode);
  std::error_code ec, create_error;
  const bool created = fs::create_directories(dir, create_error);
  if (!fs::is_directory(dir, ec))
    SSAH_THROW(IoError, option, " ", dir, ": cannot create the folder",
               create_error ? ": " + create_error.message() : std::string());
  const std::string lock_path = (fs::path(dir) / kLockName).string();
  // Kept open (and locked) until the process ends; the kernel releases the lock however it ends,
  // so a lock file left behind by a crash blocks nothing.
  // O_NOFOLLOW: a link planted at the lock's name (dangling, say) would make ssah create or lock
  // the file it points to, anywhere; O_NONBLOCK: a FIFO there must not block the open.
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  struct stat lock_stat {};
  if (fd >= 0 && (::fstat(fd, &lock_stat) != 0 || !S_ISREG(lock_stat.st_mode))) {
    ::close(fd);
    SSAH_THROW(IoError, option, " ", dir, ": the lock file '", lock_path,
               "' is not a regular file: remove it (ssah creates its own)");
  }
  if (fd < 0 && errno == ELOOP)
    SSAH_THROW(IoError, option, " ", dir, ": the lock file '", lock_path,
               "' is a symbolic link: remove it (ssah creates its own)");
  if (fd < 0)
    SSAH_THROW(IoError, option, " ", dir, ": cannot create the lock file '", lock_path, "': ", std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      SSAH_THROW(InvalidArgument, option, " ", dir,
                 ": another ssah train is writing to this folder; wait for it to end "
                 "or choose another folder");
    SSAH_THROW(IoError, option, " ", dir, ": cannot lock '", lock_path, "': ", std::strerror(err));
  }
  check_contents(dir, mode);
  check_inputs_not_outputs(dir, mode, inputs, writes_split);
  // Every folder the run writes in must take a new file before anything of an earlier run is
  // removed (a folder that refuses writes would otherwise keep only half of that run).
  for (const char* sub : {"", "codes", "curves", "split"}) {
    const fs::path folder = fs::path(dir) / sub;
    if (!fs::is_directory(folder, ec)) continue;
    const std::string probe = (folder / (".ssah-probe-" + std::to_string(::getpid()))).string();
    const int pfd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (pfd < 0)
      SSAH_THROW(IoError, option, " ", dir, ": cannot write in '", folder.string(), "': ", std::strerror(errno));
    ::close(pfd);
    ::unlink(probe.c_str());
  }
  if (mode != RunFolderMode::overwrite) return created;
  // The earlier run's files by name (not every name of the form ssah uses: a user's
  // "curves/K16_notes.csv" stays).
  std::size_t removed = 0, kept = 0;
  for (const std::string& relative : earlier_outputs) {
    const fs::path path = fs::path(dir) / relative;
    if (!fs::is_regular_file(fs::symlink_status(path, ec))) continue;
    bool read_by_this_run = false;
    for (const RunInput& input : inputs) {
      std::error_code missing;  // an input that is not there is not this file
      read_by_this_run = read_by_this_run || fs::equivalent(path, input.file, missing);
    }
    if (read_by_this_run)
      ++kept;
    else if (fs::remove(path, ec))
      ++removed;
  }
  if (removed > 0) std::printf("--overwrite: removed %zu files of the earlier run in %s\n", removed, dir.c_str());
  if (kept > 0) std::printf("--overwrite: kept %zu files of it that this run reads\n", kept);
  return created;
}

void release_run_folder(const std::string& dir, bool remove_folder) noexcept {
  std::error_code ec;
  std::vector<fs::path> outputs;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it.depth() >= 1) it.disable_recursion_pending();
    if (it->is_regular_file(ec) && is_run_output(fs::relative(it->path(), dir, ec).generic_string()))
      outputs.push_back(it->path());
  }
  for (const fs::path& p : outputs) fs::remove(p, ec);
  for (const char* sub : {"codes", "curves", "split"}) fs::remove(fs::path(dir) / sub, ec);  // only if empty
  fs::remove(fs::path(dir) / kLockName, ec);
  if (remove_folder) fs::remove(dir, ec);  // only if empty
}

}  // namespace ssah::cli
