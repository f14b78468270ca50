// `ssah`: the command-line program. Each subcommand is in its own cmd_<name>.cpp; to add one,
// write add_<name>_command (declared in cli_common.hpp) and list it in `commands` below.
//
// Exit status: 0 on success; 1 when an input is bad or a command fails (one line on stderr,
// "ssah <command>: error: ..."); CLI11's codes (non-zero) for usage errors.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "ssah/config.hpp"
#include "ssah/gemm.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/hashing/select.hpp"
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
  ssah::cli::kill_child_process_group();
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

/// Levenshtein distance, for "did you mean" (command names are a few letters).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// " (did you mean 'NAME'?)" for the name of `names` nearest to `given` within two edits, else "".
std::string did_you_mean(const std::string& given, const std::vector<std::string>& names) {
  std::string nearest;
  std::size_t best = 3;
  for (const std::string& name : names)
    if (const std::size_t d = edit_distance(given, name); d < best) best = d, nearest = name;
  return nearest.empty() ? std::string() : " (did you mean '" + nearest + "'?)";
}

/// A first argument that is neither an option nor a command (`ssah trian`) named as such, with
/// the commands (and the nearest one); CLI11 would only say that a command is required.
void check_command_name(const CLI::App& app, int argc, const char* const* argv) {
  if (argc < 2 || argv[1][0] == '-') return;
  const std::string given = argv[1];
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == given) return;
    names.push_back(sub->get_name());
  }
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
  throw CLI::ExtrasError("unknown command '" + ssah::cli::printable(given.substr(0, 64)) + "'" +
                             did_you_mean(given, names) + "; the commands are " + list,
                         CLI::ExitCodes::ExtrasError);
}

/// The options of the command on the command line, checked before CLI11 parses them: one the
/// command does not have (`--resum`) is named, with the nearest one it has (CLI11 listed every
/// unexpected argument, in reverse order, with no suggestion), and one that takes a single value
/// given twice is named as such (CLI11: "--epochs: At Most 1 required but received 2").
void check_options(const CLI::App& app, int argc, const char* const* argv) {
  if (argc > 2 && std::string(argv[1]) == "--version")  // CLI11 printed the version and ignored the rest
    throw CLI::ExtrasError("--version takes no other argument", CLI::ExitCodes::ExtrasError);
  const CLI::App* command = nullptr;
  for (const CLI::App* sub : app.get_subcommands({}))
    if (argc > 1 && sub->get_name() == argv[1]) command = sub;
  const CLI::App& scope = command != nullptr ? *command : app;
  const std::string who = command != nullptr ? "ssah " + command->get_name() : "ssah";
  // The option `arg` names (up to an '='), or nullptr.
  const auto find = [&](const std::string& arg) -> const CLI::Option* {
    const std::string name = arg.substr(0, arg.find('='));
    if (name.size() < 2 || name[0] != '-' || (name[1] != '-' && name.size() != 2)) return nullptr;
    const CLI::Option* o = scope.get_option_no_throw(name);
    return o != nullptr ? o : app.get_option_no_throw(name);
  };
  const auto unknown = [&](const std::string& arg) {
    const std::string name = arg.substr(0, arg.find('='));
    const std::string dashed = name.compare(0, 2, "--") == 0 ? name : "-" + name;  // -epochs: --epochs?
    std::vector<std::string> names;
    for (const CLI::Option* o : scope.get_options())
      for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    throw CLI::ExtrasError(
        who + " has no option '" + ssah::cli::printable(name.substr(0, 64)) + "'" + did_you_mean(dashed, names),
        CLI::ExitCodes::ExtrasError);
  };
  if (command == nullptr) {  // `ssah --versio`: CLI11 would only say that a command is required
    if (argc > 1 && argv[1][0] == '-' && std::string(argv[1]) != "--" && find(argv[1]) == nullptr) unknown(argv[1]);
    return;
  }
  std::map<const CLI::Option*, int> given;
  bool list_values = false;  // after a list option's value, CLI11 takes more values for it
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;  // what follows is not an option
    const bool option_like =
        arg.size() >= 2 && arg[0] == '-' && (arg[1] == '-' || std::isalpha(static_cast<unsigned char>(arg[1])));
    if (!option_like) {
      if (list_values) continue;
      throw CLI::ExtrasError(who + " takes no argument '" + ssah::cli::printable(arg.substr(0, 64)) +
                                 "' (each input is given by an option)",
                             CLI::ExitCodes::ExtrasError);
    }
    const bool long_name = arg.compare(0, 2, "--") == 0;
    const CLI::Option* option = find(long_name ? arg : arg.substr(0, 2));
    if (option == nullptr) unknown(arg);
    const std::string name = long_name ? arg.substr(0, arg.find('=')) : arg.substr(0, 2);
    const bool takes_value = option->get_expected_max() > 0;  // not a flag
    if (!takes_value && long_name && arg.find('=') != std::string::npos)
      throw CLI::ValidationError(name, "a flag takes no value ('" + ssah::cli::printable(arg.substr(0, 64)) + "')");
    if (takes_value && (long_name ? arg.find('=') == std::string::npos : arg.size() == 2)) {  // its value follows
      if (++i == argc) throw CLI::ValidationError(name, "a value is required");
      // `--out --overwrite` would train into a folder named --overwrite.
      if (find(argv[i]) != nullptr)
        throw CLI::ValidationError(name, "a value is required, but the option '" +
                                             ssah::cli::printable(std::string(argv[i]).substr(0, 64)) + "' follows");
    }
    if (takes_value && option->get_items_expected_max() == 1 && ++given[option] == 2)
      throw CLI::ValidationError(name, "given twice: give it once");
    list_values = takes_value && option->get_items_expected_max() > 1;
  }
}

/// Refuses an OpenMP stack size (OMP_STACKSIZE, else GOMP_STACKSIZE: decimal digits, K by
/// default, or with B, K, M or G, as libgomp reads it) whose stacks, one per thread, exceed the
/// memory this process may have (the machine's, or `ulimit -v`): libgomp would end the process at
/// its first parallel region with only its own "Thread creation failed". A value libgomp does not
/// read as a size is left to it (it warns and ignores it).
void check_openmp_stack_size() {
  for (const char* name : {"OMP_STACKSIZE", "GOMP_STACKSIZE"}) {
    const char* value = std::getenv(name);
    if (value == nullptr) continue;
    const char* p = value;
    while (*p == ' ' || *p == '\t') ++p;
    if (!std::isdigit(static_cast<unsigned char>(*p))) return;
    errno = 0;
    char* end = nullptr;
    const unsigned long long number = std::strtoull(p, &end, 10);
    while (*end == ' ' || *end == '\t') ++end;
    const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(*end)));
    const double scale = unit == 'B' ? 1 : unit == 'M' ? 1 << 20 : unit == 'G' ? 1 << 30 : 1 << 10;
    if (unit == 'B' || unit == 'K' || unit == 'M' || unit == 'G') ++end;
    while (*end == ' ' || *end == '\t') ++end;
    if (errno == ERANGE || *end != '\0' || number == 0) return;
    // Below a thread's minimum stack (about 64 KiB here, with the signal stack AVX-512 needs)
    // libgomp cannot create its threads either.
    if (static_cast<double>(number) * scale < 128 * 1024.0)
      throw std::runtime_error(std::string(name) + "=" + ssah::cli::printable(std::string(value).substr(0, 32)) +
                               ": too small for a thread's stack: give at least 128K, or unset it");
    const double stack = static_cast<double>(number) * scale, threads = ssah::detail::resolve_threads(0);
    double memory = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    struct rlimit limit {};
    if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
      memory = std::min(memory, static_cast<double>(limit.rlim_cur));
    if (memory > 0 && stack * threads > memory)
      throw std::runtime_error(std::string(name) + "=" + ssah::cli::printable(std::string(value).substr(0, 32)) + ": " +
                               std::to_string(static_cast<int>(threads)) + " OpenMP threads with " +
                               ssah::detail::human_bytes(static_cast<std::size_t>(std::min(stack, 1e18))) +
                               " of stack each need more than the " +
                               ssah::detail::human_bytes(static_cast<std::size_t>(memory)) +
                               " of memory this process may have: give a smaller size or unset it");
    return;  // libgomp reads the first that is set
  }
}

/// "ssah <command>" for messages: the command parsed, else the one named first on the command
/// line (an error found before parsing, in the environment), else "ssah".
std::string command_name(const CLI::App& app, int argc, const char* const* argv) {
  std::string name = "ssah";
  for (const CLI::App* sub : app.get_subcommands()) name += " " + sub->get_name();
  if (name == "ssah" && argc > 1)
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == argv[1]) name += " " + sub->get_name();
  return name;
}

}  // namespace

/// Standard input, output and error must be open: a file the program opens would otherwise take
/// the free descriptor, and what is printed would go into it (`ssah train ... >&-` wrote its
/// summary into the run's lock file). A closed one is given /dev/null; false when output or error
/// was closed (the program then refuses to run: what it prints would be lost).
bool standard_descriptors_open() {
  bool open = true;
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
    open = open && fd == 0;
  }
  return open;
}

int main(int argc, char** argv) {
  const bool descriptors_open = standard_descriptors_open();  // before any file is opened
  ssah::cli::start_ranks(&argc, &argv);                       // MPI, when mpirun started this process
  // Past a file-size limit (ulimit -f) a write fails with EFBIG, which ssah reports and cleans up
  // after, instead of the default SIGXFSZ ending the process with a temporary file left behind.
  std::signal(SIGXFSZ, SIG_IGN);
  // Ctrl-C, a kill, or another signal that ends a process by default (SIGHUP: a closed terminal or
  // ssh session; SIGPIPE: standard output closed early, which still ends the program as it ends
  // any filter) during a long search or evaluation: its temporary output files go too.
  // (`ssah train` replaces these once its output folder is claimed: it stops at the next step instead.)
  for (int signal : ssah::cli::terminating_signals()) std::signal(signal, on_termination_signal);
  const int default_threads = ssah::detail::limit_default_threads();
  if (default_threads != ssah::detail::resolve_threads(0))
    std::fprintf(stderr, "ssah: warning: OMP_NUM_THREADS asks for %d threads; using %d (at most 4 per processor)\n",
                 default_threads, ssah::detail::resolve_threads(0));
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
  if (!descriptors_open) {
    std::fprintf(stderr, "%s: error: standard output or standard error is closed: give them a file or /dev/null\n",
                 command_name(app, argc, argv).c_str());
    return 1;
  }
  try {
    check_command_name(app, argc, argv);
    check_options(app, argc, argv);
    // A malformed SSAH_HAMMING_ISA is refused by every command before it starts (train would
    // otherwise find it only when it evaluates, after training).
    bool help = false;  // help is given whatever the environment holds
    for (int i = 1; i < argc; ++i) help = help || std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h";
    if (!help) {
      (void)ssah::hamming_kernel_name();
      check_openmp_stack_size();
    }
    ssah::cli::check_list_options(argc, argv);
    const std::string command = argc > 1 ? argv[1] : "";
    if (ssah::cli::ranks().size() > 1 && !help && command != "search" && command != "eval" && command != "train") {
      if (ssah::cli::ranks().rank() != 0) throw ssah::cli::ReportedByAnotherRank();
      throw ssah::InvalidArgument(std::string("runs as one process: only ssah search, eval and train run on several ") +
                                  "ranks (mpirun -np " + std::to_string(ssah::cli::ranks().size()) + ")");
    }
    app.parse(argc, argv);
    // Results printed to standard output (search and eval without a file) must have arrived.
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      throw std::runtime_error("writing the results to standard output failed");
  } catch (const CLI::ParseError& e) {
    // Under mpirun every rank parses the same arguments: rank 0 alone prints (help, usage errors).
    if (ssah::cli::ranks().rank() != 0) return e.get_exit_code();
    const int status = app.exit(e);  // --help and --version print to standard output, and end here
    if (status == 0 && (!std::cout.flush() || std::fflush(stdout) != 0 || std::ferror(stdout))) {
      std::cerr << "ssah: error: writing to standard output failed" << std::endl;
      return 1;
    }
    return status;
  } catch (const ssah::cli::ReportedByAnotherRank&) {  // the error is shown once, by another rank
    return 1;
  } catch (const std::bad_alloc& e) {              // a host container (ssah's own allocations say what and how much)
    ssah::cli::share_failure(e);                   // with the ranks waiting to agree, if they are
    if (ssah::cli::ranks().rank() != 0) return 1;  // rank 0 reports (the ranks agree on failures first)
    std::cerr << command_name(app, argc, argv) << ": error: out of memory (the inputs, or the sizes the options imply, "
              << "need more memory than this machine gives the process)" << std::endl;
    return 1;
  } catch (const std::exception& e) {
    ssah::cli::share_failure(e);
    if (ssah::cli::ranks().rank() != 0) return 1;  // rank 0 reports (the ranks agree on failures first)
    std::cerr << command_name(app, argc, argv) << ": error: " << one_line(e.what()) << std::endl;
    return 1;
  }
  return 0;
}
