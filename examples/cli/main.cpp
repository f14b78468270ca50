// `ssah`: the command-line program. Each subcommand is in its own cmd_<name>.cpp; to add one,
// write add_<name>_command (declared in cli_common.hpp) and list it in `commands` below.
//
// Exit status: 0 on success; 1 when an input is bad or a command fails (one line on stderr,
// "ssah <command>: error: ..."); CLI11's codes (non-zero) for usage errors.
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "ssah/config.hpp"
#include "ssah/gemm.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/io/atomic_file.hpp"

namespace {

using AddCommand = void (*)(CLI::App&);
constexpr AddCommand commands[] = {
    ssah::cli::add_eval_command,  ssah::cli::add_search_command, ssah::cli::add_demo_command,
    ssah::cli::add_train_command, ssah::cli::add_encode_command,
};

/// A message as one printable line of at most 1000 characters: line breaks become spaces, bytes
/// outside printable ASCII (terminal escapes in a quoted file name) '?', and the middle of an
/// overlong message (a long list quoted from the input) is cut, keeping how it starts and ends.
/// The limit leaves room for a message that quotes two deep paths in full (a 400-character limit
/// cut the layer name out of a --pretrained error when the build folder was deeper).
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  s = ssah::cli::printable(s);
  constexpr std::size_t limit = 1000, tail = 200;
  if (s.size() > limit) s = s.substr(0, limit - tail - 7) + " [...] " + s.substr(s.size() - tail);
  return s;
}

extern "C" void on_termination_signal(int signal) {
  ssah::io::remove_temporary_files();
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

std::string command_name(const CLI::App& app) {
  std::string name = "ssah";
  for (const CLI::App* sub : app.get_subcommands()) name += " " + sub->get_name();
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write fails with EFBIG, which ssah reports and cleans up
  // after, instead of the default SIGXFSZ ending the process with a temporary file left behind.
  std::signal(SIGXFSZ, SIG_IGN);
  // Ctrl-C or a kill during a long search or evaluation: its temporary output files go too.
  // (`ssah train` replaces this with its own handler, which stops at the next step instead.)
  std::signal(SIGINT, on_termination_signal);
  std::signal(SIGTERM, on_termination_signal);
  CLI::App app{"ssah: self-supervised adversarial hashing for cross-modal retrieval"};
  // A function, so that a malformed SSAH_HAMMING_ISA is reported as an error, not thrown out of main.
  app.set_version_flag("--version", [] {
    return std::string("ssah ") + std::to_string(SSAH_VERSION_MAJOR) + "." + std::to_string(SSAH_VERSION_MINOR) + "." +
           std::to_string(SSAH_VERSION_PATCH) + " (device system: " + ssah::device_system_name() +
           ", gemm: " + ssah::gemm_backend_name() + ", Hamming kernel: " + ssah::hamming_kernel_name() + ")";
  });
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "ssah: usage error: " + one_line(e.what()) + " (see ssah --help)\n";
  });
  for (AddCommand add : commands) add(app);
  try {
    ssah::cli::check_list_options(argc, argv);
    app.parse(argc, argv);
    // Results printed to standard output (search and eval without a file) must have arrived.
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      throw std::runtime_error("writing the results to standard output failed");
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::bad_alloc&) {  // a host container (ssah's own allocations say what and how much)
    std::cerr << command_name(app) << ": error: out of memory (the inputs, or the sizes the options imply, "
              << "need more memory than this machine gives the process)" << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << command_name(app) << ": error: " << one_line(e.what()) << std::endl;
    return 1;
  }
  return 0;
}
