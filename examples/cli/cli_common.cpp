#include "cli_common.hpp"

#include "ssah/hashing/select.hpp"
#include "ssah/io/atomic_file.hpp"
#include "ssah/model/any_model.hpp"
#include "ssah/recipes.hpp"
#if SSAH_HAVE_MPI
#include "ssah/dist/mpi.hpp"
#endif

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssah::cli {

namespace {
dist::SingleProcess single_process;
#if SSAH_HAVE_MPI
std::unique_ptr<dist::MpiSession> mpi_session;  // finalises MPI when static objects are destroyed
std::unique_ptr<dist::MpiCommunicator> mpi_world;
#endif
}  // namespace

void start_ranks(int* argc, char*** argv) {
#if SSAH_HAVE_MPI
  // Started by a launcher: OpenMPI's mpirun (OMPI_*, PMIx) or a PMI-based one (MPICH, Slurm).
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr ||
      std::getenv("PMI_RANK") != nullptr) {
    mpi_session = std::make_unique<dist::MpiSession>(argc, argv);
    mpi_world = std::make_unique<dist::MpiCommunicator>();
  }
#else
  (void)argc;
  (void)argv;
#endif
}

dist::Communicator& ranks() {
#if SSAH_HAVE_MPI
  if (mpi_world) return *mpi_world;
#endif
  return single_process;
}

namespace {

bool agreement_expected = false;  // between expect_agreement() and agree()
bool agreed_failure = false;      // agree_on threw

/// Every rank's outcome (`message` empty: success) to every rank; see on_every_rank.
void agree_on(const std::string& message, const std::exception_ptr& failure) {
  dist::Communicator& comm = ranks();
  const auto all = comm.all_gather(message.data(), message.size());
  const auto first = std::find_if(all.begin(), all.end(), [](const auto& m) { return !m.empty(); });
  if (first == all.end()) return;
  agreed_failure = true;
  if (comm.rank() != 0) throw ReportedByAnotherRank();  // rank 0 reports, once
  if (first == all.begin()) std::rethrow_exception(failure);
  throw std::runtime_error("rank " + std::to_string(first - all.begin()) + " of " + std::to_string(comm.size()) + ": " +
                           std::string(first->begin(), first->end()));
}

std::string message_of(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) return "out of memory";
  return e.what()[0] != '\0' ? e.what() : "failed";
}

}  // namespace

void on_every_rank(const std::function<void()>& f) {
  if (ranks().size() == 1) return f();
  std::exception_ptr failure;
  std::string message;  // this rank's, empty when f() succeeded
  try {
    f();
  } catch (const std::exception& e) {
    failure = std::current_exception();
    message = message_of(e);
  }
  agree_on(message, failure);
}

bool failure_was_agreed() { return agreed_failure; }

void expect_agreement() { agreement_expected = ranks().size() > 1; }

void agree() {
  if (!agreement_expected) return;
  agreement_expected = false;
  agree_on(std::string(), nullptr);
}

void share_failure(const std::exception& e) {
  if (!agreement_expected) return;
  agreement_expected = false;
  const std::string message = message_of(e);
  ranks().all_gather(message.data(), message.size());
}

void abort_ranks(const std::string& command, const std::exception& e) {
  std::fprintf(stderr, "%s: error: rank %d of %d: %s\n", command.c_str(), ranks().rank(), ranks().size(),
               message_of(e).c_str());
  std::fflush(stderr);
  io::remove_temporary_files();
#if SSAH_HAVE_MPI
  MPI_Abort(MPI_COMM_WORLD, 1);
#endif
  std::_Exit(1);
}

std::pair<std::string, std::string> split_pair(const std::string& s, const char* option) {
  const std::size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    SSAH_THROW(InvalidArgument, option, " expects NAME=VALUE, got '", s, "'");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

CodesFile read_codes(const std::string& path, bool map_packed) {
  CodesFile f;
  if (map_packed) {
    f.mapped.emplace(path);
    f.layout = io::code_array_layout(f.mapped->dtype(), f.mapped->shape(), "'" + path + "'");
    if (f.layout.packed) {
      f.array.dtype = f.mapped->dtype();
      f.array.shape = f.mapped->shape();
      f.array.source = path;
      return f;
    }
    f.mapped.reset();
  }
  f.array = io::read_npy(path);
  f.layout = io::code_array_layout(f.array);
  return f;
}

void warn_of_unpacked_bits(const char* command, const CodesFile& query, const CodesFile& database) {
  for (const auto& [codes, option] : {std::pair(&query, "--query-codes"), std::pair(&database, "--db-codes")}) {
    if (!codes->layout.packed) continue;
    const std::size_t n = codes->layout.rows * static_cast<std::size_t>(codes->layout.bits / 8);
    const unsigned char* p = codes->mapped ? codes->mapped->data() : codes->array.bytes.data();
    // Real packed codes have a byte above 1 within the first few: the scan ends there.
    if (n < 16 || !std::all_of(p, p + n, [](unsigned char b) { return b <= 1; })) continue;
    std::fprintf(stderr,
                 "ssah %s: warning: %s '%s': read as packed codes (uint8, 8 bits a byte: %d bits), but every byte "
                 "is 0 or 1, as in a label file or in bits not packed: give unpacked codes as int8 -1/+1 [rows, K]\n",
                 command, option, printable(codes->array.source).c_str(), codes->layout.bits);
  }
}

bool all_rows_equal(const void* data, std::size_t rows, std::size_t row_bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 1; i < rows; ++i)
    if (std::memcmp(p, p + i * row_bytes, row_bytes) != 0) return false;
  return rows > 1;
}

void check_has_rows(const CodesFile& codes, const char* option) {
  if (codes.layout.rows == 0) SSAH_THROW(IoError, option, " '", codes.array.source, "': no codes (0 rows)");
}

void check_same_bits(const CodesFile& query, const CodesFile& database) {
  if (query.layout.bits != database.layout.bits)
    SSAH_THROW(ShapeError, "query codes '", query.array.source, "' have ", query.layout.bits,
               " bits but database codes '", database.array.source, "' have ", database.layout.bits);
}

void check_output_file(const char* option, const std::string& out,
                       const std::vector<std::pair<const char*, std::string>>& files) {
  if (out.empty()) return;
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(out).parent_path();
  std::error_code missing;
  if (!folder.empty() && !fs::is_directory(folder, missing))
    SSAH_THROW(IoError, option, ": cannot write '", out, "': there is no folder '", folder.string(), "'");
  try {
    // The temporary file the output will be written to, created and removed now: a folder that
    // takes no new file is found before the work, not after it.
    io::AtomicFile(out).discard();
  } catch (const IoError& e) {
    SSAH_THROW(IoError, option, ": ", e.what());
  }
  for (const auto& [other_option, path] : files) {
    if (path.empty()) continue;
    std::error_code ec;  // a path that does not exist (yet) is no other file
    const bool same = fs::absolute(out, ec).lexically_normal() == fs::absolute(path, ec).lexically_normal() ||
                      fs::equivalent(out, path, ec);
    if (same)
      SSAH_THROW(InvalidArgument, option, " '", out, "' is the file of ", other_option,
                 "; writing it would replace that file: choose another path");
  }
}

void check_output_streams_not_inputs(const std::vector<std::pair<const char*, std::string>>& inputs) {
  // The input that descriptor `fd` writes into, or null.
  const auto written_input = [&](int fd) -> const std::pair<const char*, std::string>* {
    struct stat out {};
    if (::fstat(fd, &out) != 0 || !S_ISREG(out.st_mode)) return nullptr;  // a terminal, a pipe
    for (const auto& input : inputs) {
      struct stat in {};
      if (!input.second.empty() && ::stat(input.second.c_str(), &in) == 0 && in.st_dev == out.st_dev &&
          in.st_ino == out.st_ino)
        return &input;
    }
    return nullptr;
  };
  const auto* by_stdout = written_input(STDOUT_FILENO);
  const auto* by_stderr = written_input(STDERR_FILENO);
  if (by_stdout == nullptr && by_stderr == nullptr) return;
  if (by_stderr != nullptr) {  // the message itself would damage the file: it goes to standard output, or nowhere
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(by_stdout == nullptr ? STDOUT_FILENO : null, STDERR_FILENO);
    if (null >= 0) ::close(null);
  }
  const auto& [option, path] = by_stdout != nullptr ? *by_stdout : *by_stderr;
  const char* stream = by_stdout != nullptr ? "standard output" : "standard error";
  SSAH_THROW(InvalidArgument, option, " ", path, ": ", stream,
             " is written to this file, which the command reads or writes; what it prints would damage it: send ",
             stream, " elsewhere");
}

std::vector<int> terminating_signals() {
  return {
      SIGINT,    SIGTERM, SIGHUP,    SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2,
      SIGALRM,   SIGXCPU, SIGVTALRM, SIGPROF, SIGIO,   SIGSYS,
#ifdef SIGPWR
      SIGPWR,
#endif
#ifdef SIGSTKFLT
      SIGSTKFLT,
#endif
  };
}

void kill_child_process_group() noexcept {
  if (const int group = child_process_group.load(); group > 0) ::kill(-group, SIGKILL);
}

void check_epochs(const recipes::Settings& settings) {
  if (settings.epochs > recipes::max_epochs(settings))
    SSAH_THROW(InvalidArgument, "--epochs ", settings.epochs,
               ": the recipe's learning-rate tables (each rate divided by sqrt(10) every epoch) cover at most ",
               recipes::max_epochs(settings), " epochs, and their rates are below 10^-15 long before that");
}

void check_bits(const std::vector<int>& bits) {
  if (bits.empty()) SSAH_THROW(InvalidArgument, "--bits: no code length given");
  for (std::size_t i = 0; i < bits.size(); ++i) {
    const int b = bits[i];
    if (!is_model_bits(b)) SSAH_THROW(InvalidArgument, "--bits: ", b, " is not supported (", model_bits_list(), ")");
    for (std::size_t j = 0; j < i; ++j)
      if (bits[j] == b) SSAH_THROW(InvalidArgument, "--bits: ", b, " is given twice");
  }
}

const CLI::Validator& integer_range(std::size_t low, std::size_t high) {
  static std::map<std::pair<std::size_t, std::size_t>, CLI::Validator> validators;  // CLI11 keeps a reference
  auto it = validators.find({low, high});
  if (it == validators.end()) {
    const std::string range = std::to_string(low) + " to " + std::to_string(high);
    CLI::Validator v(
        [low, high, range](std::string& s) -> std::string {
          // Decimal digits only, read as decimal: the value is rewritten without leading zeros,
          // because CLI11's own conversion reads "010" as octal 8 and "0x10" as 16.
          unsigned long long value = 0;
          const char* end = s.data() + s.size();
          const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
          const auto parsed =
              digits ? std::from_chars(s.data(), end, value) : std::from_chars_result{end, std::errc::invalid_argument};
          if (parsed.ec != std::errc() || parsed.ptr != end || value < low || value > high)
            return "must be a whole number from " + range + ", got '" + printable(s.substr(0, 32)) + "'";
          s = std::to_string(value);
          return {};
        },
        "INT in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
    it = validators.emplace(std::make_pair(low, high), std::move(v)).first;
  }
  return it->second;
}

const CLI::Validator& non_empty_path() {
  static const CLI::Validator check(
      [](const std::string& s) { return s.empty() ? std::string("an empty path names no file") : std::string(); },
      "PATH");
  return check;
}

void add_threads_option(CLI::App& cmd, int& threads) {
  cmd.add_option("--threads", threads,
                 "OpenMP threads, 0 to 1024 (default 0: OpenMP's default, all); more than 4 per processor are "
                 "reduced to 4 per processor")
      ->transform(integer_range(0, static_cast<std::size_t>(detail::kMaxThreads)));
}

std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_./@%+=:,-", c) != nullptr;
  });
  if (plain) return s;
  std::string quoted = "'";
  for (const char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string printable(const std::string& s) {
  std::string out;
  for (const char c : s) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

void check_list_options(int argc, const char* const* argv) {
  static const char* const lists[] = {"--bits", "--hidden", "--precision-at"};
  std::map<std::string, int> given;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    for (const char* option : lists) {
      const std::size_t n = std::strlen(option);
      std::string value;
      if (arg == option && i + 1 < argc)
        value = argv[i + 1];
      else if (arg.size() > n && arg.compare(0, n, option) == 0 && arg[n] == '=')
        value = arg.substr(n + 1);
      else
        continue;
      // CLI11 would append a second list to the first (--hidden 16,8 --hidden 16,8: four layers).
      if (++given[option] > 1) throw CLI::ValidationError(option, "given twice: give one comma-separated list");
      // CLI11 drops empty elements of a comma list ("16,,32" would mean 16,32): refuse them.
      if (!value.empty() && (value.front() == ',' || value.back() == ',' || value.find(",,") != std::string::npos))
        throw CLI::ValidationError(option, "an empty element in '" + printable(value.substr(0, 64)) +
                                               "': give the values separated by single commas");
    }
  }
}

double seconds_since(const std::chrono::steady_clock::time_point& start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace ssah::cli
