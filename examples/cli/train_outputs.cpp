// `ssah train`: split indices, CSV curves and their gnuplot SVGs (train.hpp).
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_common.hpp"
#include "ssah/io/atomic_file.hpp"
#include "ssah/io/json_error.hpp"
#include "ssah/io/npy.hpp"
#include "ssah/model/any_model.hpp"
#include "train.hpp"

namespace ssah::cli {
namespace {

std::string file_part(const std::string& direction) {
  std::string s = direction;
  const std::size_t p = s.find("->");
  if (p != std::string::npos) s.replace(p, 2, "_to_");
  return s;
}

/// gnuplot's absolute path, from the absolute folders of PATH ("" when there is none): looked up
/// here, not by exec in the run folder's curves/, where a relative PATH entry ("." or an empty
/// one) would find a file planted in the output folder.
std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::string folders = path != nullptr ? path : "";
  for (std::size_t start = 0; start <= folders.size();) {
    const std::size_t end = std::min(folders.find(':', start), folders.size());
    const std::string folder = folders.substr(start, end - start);
    start = end + 1;
    if (folder.empty() || folder[0] != '/') continue;
    const std::string candidate = folder + "/gnuplot";
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

constexpr int gnuplot_seconds = 60;  // a plot of a few curves takes well under a second
constexpr int gnuplot_timed_out = -2;
constexpr int gnuplot_stopped = -3;

/// Runs `gnuplot SCRIPT` in `dir` without a shell (the folder's name, which the user chose, never
/// reaches a command line or a gnuplot string), its standard output into the open file `out_fd`
/// and its messages discarded. Returns its exit status, 127 when gnuplot could not be started, -1
/// when it failed, gnuplot_timed_out after gnuplot_seconds and gnuplot_stopped once `stop()` says so
/// (a Ctrl-C); in the last two cases gnuplot and whatever it started (its own process group) are killed.
int run_gnuplot(const std::string& dir, const std::string& script, int out_fd, const std::function<bool()>& stop) {
  static const std::string gnuplot = find_gnuplot();
  if (gnuplot.empty()) return 127;
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::setpgid(0, 0);
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (::chdir(dir.c_str()) != 0 || devnull < 0) ::_exit(126);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    ::execl(gnuplot.c_str(), "gnuplot", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // (also in the child: whichever runs first)
  child_process_group.store(pid);
  struct Forget {  // once waited for, the group is no longer this program's to kill
    ~Forget() { child_process_group.store(0); }
  } forget;
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 20) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return -1;
    const bool timed_out = waited_ms >= gnuplot_seconds * 1000;
    if (timed_out || (stop && stop())) {
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return timed_out ? gnuplot_timed_out : gnuplot_stopped;
    }
    ::usleep(20000);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Renders `name`.svg in the run folder `out` from the script `name`.gp written to out/curves/;
/// the script names files relative to curves/ only (generated names), so that no quote or
/// command in the folder's path is ever read by gnuplot. gnuplot writes the SVG to its standard
/// output, which is an `AtomicFile`'s exclusively created temporary file: gnuplot opens no output
/// file by name, so that a symbolic link or a FIFO planted in the run folder can neither redirect
/// the plot onto another file nor block the run. A warning, never a failure, when gnuplot is
/// absent or fails.
void plot(const std::string& out, const std::string& name, const std::string& script_body,
          const std::function<bool()>& stop) {
  io::write_file_atomic(out + "/curves/" + name + ".gp", "set terminal svg size 800,600 dynamic\n" + script_body);
  io::AtomicFile svg(out + "/" + name + ".svg");
  const int status = run_gnuplot(out + "/curves", name + ".gp", svg.native_handle(), stop);
  struct stat written {};
  const bool empty = ::fstat(svg.native_handle(), &written) != 0 || written.st_size == 0;
  if (status == 127) {
    static bool warned = false;
    if (!warned) std::fprintf(stderr, "ssah train: warning: gnuplot not found on PATH; plots skipped (CSV written)\n");
    warned = true;
    return;
  }
  try {
    if (status == 0 && !empty) return svg.commit();
  } catch (const IoError&) {  // the plot is a convenience: the CSV files hold the curves
  }
  const std::string why = status == gnuplot_timed_out ? "took more than " + std::to_string(gnuplot_seconds) +
                                                            " s on curves/" + name + ".gp and was stopped"
                          : status == gnuplot_stopped ? "was stopped by the interrupt"
                                                      : "failed on curves/" + name + ".gp";
  std::fprintf(stderr, "ssah train: warning: gnuplot %s; plot %s.svg skipped\n", why.c_str(), name.c_str());
}

}  // namespace

void write_indices(const std::string& path, const std::vector<std::size_t>& rows) {
  std::vector<std::int64_t> v(rows.begin(), rows.end());
  io::write_npy(path, v, {v.size()});
}

void write_curves(const std::string& out, const pipeline::BitsResult& r, const std::function<bool()>& stop) {
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
  plot(out, k + "_pr", pr_plot + "\n", stop);
  plot(out, k + "_precision_at_n", pn_plot + "\n", stop);
}

std::vector<std::string> outputs_of_k(const std::string& k, const std::vector<std::string>& modalities) {
  std::vector<std::string> files = {"model-" + k + ".safetensors"};
  for (const char* plot : {"_pr", "_precision_at_n"}) {
    files.push_back(k + plot + ".svg");
    files.push_back("curves/" + k + plot + ".gp");
  }
  std::vector<std::string> queries(modalities);  // every direction: label queries too
  queries.push_back("label");
  for (const std::string& d : modalities) {
    files.push_back("codes/" + k + "_" + d + "_query.npy");
    files.push_back("codes/" + k + "_" + d + "_db.npy");
    for (const std::string& q : queries)
      for (const char* curve : {"_pr.csv", "_precision_at_n.csv"})
        files.push_back("curves/" + k + "_" + q + "_to_" + d + curve);
  }
  return files;
}

std::vector<std::string> run_output_names(const nlohmann::json& report) {
  if (!report.is_object() || report.value("command", std::string()) != "train")
    throw io::JsonFormError("'command' is not \"train\"");
  const nlohmann::json modalities = io::json_field<nlohmann::json>(report, "modalities");
  const nlohmann::json hyperparameters = io::json_field<nlohmann::json>(report, "hyperparameters");
  const nlohmann::json listed_bits = io::json_field<nlohmann::json>(hyperparameters, "bits", "hyperparameters");
  if (!modalities.is_array() || !listed_bits.is_array())
    throw io::JsonFormError("'modalities' or 'hyperparameters.bits' is not a list");
  std::set<std::string> names;
  for (const nlohmann::json& m : modalities) {
    const auto name = io::json_field<std::string>(m, "name", "modalities");
    pipeline::check_modality_name(name);  // a name from a file becomes part of paths: no '/'
    names.insert(name);
  }
  // The code lengths listed and those with results (read_report checked the keys): a report edited
  // to list fewer must not leave the others' files beside the new run.
  nlohmann::json bits = listed_bits;
  if (report.contains("results") && report["results"].is_object())
    for (const auto& item : report["results"].items()) bits.push_back(std::stoi(item.key().substr(1)));
  if (names.empty() || bits.empty())
    throw io::JsonFormError("it lists no modality or no code length, which every run of ssah train has");
  std::vector<std::string> files = {"report.json"};
  if (report.contains("split") && report["split"].is_object() &&
      report["split"].value("source", std::string()) == "seeded (split/)")
    for (const char* part : {"query", "db", "train"}) files.push_back(std::string("split/") + part + "_idx.npy");
  std::set<int> lengths;
  for (const nlohmann::json& b : bits) {
    if (!b.is_number_integer() || !is_model_bits(b.get<int>()))
      throw io::JsonFormError("'hyperparameters.bits' holds " + b.dump() + ", not a code length");
    lengths.insert(b.get<int>());
  }
  for (int length : lengths) {
    const std::vector<std::string> of_k = outputs_of_k("K" + std::to_string(length), {names.begin(), names.end()});
    files.insert(files.end(), of_k.begin(), of_k.end());
  }
  return files;
}

std::string codes_path(const std::string& out, const std::string& k, const std::string& modality, const char* part) {
  return out + "/codes/" + k + "_" + modality + "_" + part + ".npy";
}

std::string damaged_outputs(const std::string& out, const std::string& k, const pipeline::Dataset& data,
                            const pipeline::Split& split, int bits) {
  std::vector<std::string> modalities;
  for (const auto& m : data.modalities) modalities.push_back(m.name);
  const bool plots = !find_gnuplot().empty();
  for (const std::string& relative : outputs_of_k(k, modalities)) {
    const std::string path = out + "/" + relative;
    if (relative.compare(0, 6, "model-") == 0) continue;  // the checkpoint, read and checked by --resume
    if (!plots && relative.size() > 4 && relative.compare(relative.size() - 4, 4, ".svg") == 0) continue;
    std::error_code ec;
    if (std::filesystem::file_size(path, ec) == 0 || ec) return "'" + path + "' is missing or empty";
    if (relative.compare(0, 6, "codes/") != 0) continue;
    // Codes are written as int8 -1/+1 [rows, bits]; anything else (a truncated or replaced file) is written again.
    const bool query = relative.size() > 10 && relative.compare(relative.size() - 10, 10, "_query.npy") == 0;
    const std::size_t rows = query ? split.query.size() : split.database.size();
    try {
      const io::NpyArray codes = io::read_npy(path);
      const bool signs = std::all_of(codes.bytes.begin(), codes.bytes.end(), [](unsigned char b) {
        return b == 0x01 || b == 0xff;  // int8 +1, -1
      });
      if (codes.dtype != io::DType::I8 || codes.shape != std::vector<std::size_t>{rows, std::size_t(bits)} || !signs)
        return "'" + path + "' is not the int8 -1/+1 [" + std::to_string(rows) + ", " + std::to_string(bits) +
               "] array it wrote";
    } catch (const Error& e) {
      return pipeline::message_reason(e.what());
    }
  }
  return "";
}

std::string eta(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds);
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace ssah::cli
