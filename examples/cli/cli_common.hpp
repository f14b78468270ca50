#pragma once
// Shared pieces of the `ssah` program: the subcommand table entry type and input helpers.
// A subcommand lives in its own cmd_<name>.cpp, defines `void add_<name>_command(CLI::App&)`
// (declared below), and is listed once in main.cpp.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "ssah/dist/communicator.hpp"
#include "ssah/io/code_arrays.hpp"
#include "ssah/io/npy.hpp"
#include "ssah/io/npy_map.hpp"
#include "ssah/recipes.hpp"

namespace ssah::cli {

void add_eval_command(CLI::App& app);
void add_search_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_train_command(CLI::App& app);   // cmd_train.cpp
void add_encode_command(CLI::App& app);  // cmd_train.cpp

/// The processes this program runs as ("ranks"): one, unless it was built with -DSSAH_MPI=ON and
/// started by mpirun, where `start_ranks` (main, first) initialises MPI and ranks() is
/// MPI_COMM_WORLD. A plain run does not initialise MPI at all. `ssah search` and `ssah eval` (each
/// rank takes its shard of the database) and `ssah train` (data-parallel) run on several ranks,
/// rank 0 writing the outputs; the other commands refuse them.
void start_ranks(int* argc, char*** argv);
dist::Communicator& ranks();

/// Thrown by the ranks that stay silent about a failure another rank reports: main exits with
/// status 1 and no message, so that the message is shown once.
struct ReportedByAnotherRank : std::runtime_error {
  ReportedByAnotherRank() : std::runtime_error("reported by another rank") {}
};

/// Runs `f` on every rank and makes them agree on its outcome: when it threw on any rank, rank 0
/// throws the lowest failing rank's error (its own exception, or "rank R of P: <message>"), which
/// main prints, and every other rank throws ReportedByAnotherRank; no rank goes on to a collective
/// the others will not reach. On one rank, just f(). (main prints errors on rank 0 only.)
void on_every_rank(const std::function<void()>& f);

/// The same agreement for a stretch of code too long for a function: after expect_agreement(),
/// every rank either reaches agree(), which returns when all did and throws as on_every_rank when
/// some did not, or leaves with an exception, which main hands to share_failure() (it gives the
/// waiting ranks its message). No collective may come between the two.
void expect_agreement();
void agree();
void share_failure(const std::exception& e);
/// Whether on_every_rank or agree() threw: every rank knows of the failure.
bool failure_was_agreed();

/// A failure on this rank alone while the others may be inside a collective (training): prints
/// "COMMAND: error: rank R of P: <message>" and ends every rank (MPI_Abort).
[[noreturn]] void abort_ranks(const std::string& command, const std::exception& e);

/// Codes from a .npy file, with their layout checked: packed codes (uint8 [n, K/8]) mapped from the
/// file where asked (`mapped`, nothing copied), any others read into `array`.
struct CodesFile {
  io::NpyArray array;  ///< the values, unless mapped (then only `source` is set)
  std::optional<io::MappedNpy> mapped;
  io::CodeArrayLayout layout;
};

/// Reads a .npy file of codes (IoError / ShapeError naming the file when it is not one); with
/// `map_packed`, packed codes are memory-mapped instead of read, so that a database takes its
/// size on disk once, in pages the kernel may drop, rather than a copy in this process.
CodesFile read_codes(const std::string& path, bool map_packed = false);

/// Warns (stderr, "ssah COMMAND: warning: ...") of packed codes whose bytes are all 0 or 1: a label
/// file, or 0/1 bits not packed, given where codes belong (read 8 bits a byte, meaningless codes).
void warn_of_unpacked_bits(const char* command, const CodesFile& query, const CodesFile& database);

/// The process group of a child the program waits for (gnuplot), 0 when none: a signal that ends
/// the program kills it too (it would run on, a hung one forever). Lock-free, for signal handlers.
inline std::atomic<int> child_process_group{0};

/// Every signal that ends a process by default (signal(7)) but SIGKILL and SIGSTOP, which cannot be
/// caught, and the faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP), after which nothing can
/// safely run: the program removes its temporary files on each (`ssah train` stops at the next step).
std::vector<int> terminating_signals();

/// InvalidArgument when standard output or standard error is one of the files `inputs` (option,
/// path) names (`ssah search ... >> q.npy` appended the results to the query file). When it is
/// standard error, the message is sent to standard output instead (or nowhere, when that is one
/// of them too), so that it does not damage the file either.
void check_output_streams_not_inputs(const std::vector<std::pair<const char*, std::string>>& inputs);

/// Kills the process group in `child_process_group`, if any; async-signal-safe.
void kill_child_process_group() noexcept;

/// InvalidArgument naming --epochs when `settings` train more epochs than its learning-rate
/// tables cover (recipes::max_epochs).
void check_epochs(const recipes::Settings& settings);

/// Throws ShapeError unless both code files have the same number of bits.
void check_same_bits(const CodesFile& query, const CodesFile& database);

/// "NAME=VALUE" of option `option` as {NAME, VALUE} (InvalidArgument naming the option otherwise).
std::pair<std::string, std::string> split_pair(const std::string& s, const char* option);

/// Refuses, before any work, an output file that ssah could not write after the work (IoError: it
/// exists and is not a regular file, or its folder does not exist) or that is one of the inputs (the
/// same file by any path or link) or another output (InvalidArgument: writing it would replace that
/// file). `files` pairs each earlier file with its option, e.g. {{"--db-codes", db}, {"--query-codes",
/// q}}; empty paths are skipped. An empty `out` (the output not asked for) passes.
void check_output_file(const char* option, const std::string& out,
                       const std::vector<std::pair<const char*, std::string>>& files);

/// Whether `rows` (> 1) rows of `row_bytes` bytes each at `data` are all the same: codes that
/// cannot rank anything (a collapsed model), which the commands warn about.
bool all_rows_equal(const void* data, std::size_t rows, std::size_t row_bytes);

/// Refuses (IoError) a codes file without a row: nothing to search or evaluate.
void check_has_rows(const CodesFile& codes, const char* option);

/// CLI11 check of an output path option: an empty value is refused (it would write nothing).
const CLI::Validator& non_empty_path();

/// Refuses (InvalidArgument) code lengths the program does not build (ssah::model_bits) and repeats.
void check_bits(const std::vector<int>& bits);

/// Accepts whole numbers from `low` to `high` written in decimal digits, and rewrites them without
/// leading zeros (the message states the range). A transform: use it with `->transform(...)`.
const CLI::Validator& integer_range(std::size_t low, std::size_t high);

/// Refuses (CLI::ValidationError) an empty element in a comma-separated list option (--bits,
/// --hidden, --precision-at), which CLI11 would silently drop. Called on the command line before
/// CLI11 parses it.
void check_list_options(int argc, const char* const* argv);

/// `s` as one word of a POSIX shell command line: as it is when it holds only characters no shell
/// reads specially, else in single quotes (advice such as "resume with `ssah train ... --resume
/// DIR`" must work when pasted, whatever the folder is called).
std::string shell_word(const std::string& s);
/// `s` with every byte outside printable ASCII replaced by '?' (file names and option values are
/// quoted in messages; control bytes would reach the terminal).
std::string printable(const std::string& s);

/// Threads option shared by commands (0 = OpenMP's default; at most detail::kMaxThreads).
void add_threads_option(CLI::App& cmd, int& threads);

/// Seconds since `start` (steady clock).
double seconds_since(const std::chrono::steady_clock::time_point& start);

}  // namespace ssah::cli
