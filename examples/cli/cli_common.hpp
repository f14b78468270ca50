#pragma once
// Shared pieces of the `ssah` program: the subcommand table entry type and input helpers.
// A subcommand lives in its own cmd_<name>.cpp, defines `void add_<name>_command(CLI::App&)`
// (declared below), and is listed once in main.cpp.

#include <chrono>
#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

#include "ssah/eval/npy_inputs.hpp"
#include "ssah/io/npy.hpp"

namespace ssah::cli {

void add_eval_command(CLI::App& app);
void add_search_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_train_command(CLI::App& app);   // cmd_train.cpp
void add_encode_command(CLI::App& app);  // cmd_train.cpp

/// Codes read from a .npy file, with their layout checked.
struct CodesFile {
  io::NpyArray array;
  CodeArrayLayout layout;
};

/// Reads a .npy file of codes (IoError / ShapeError naming the file when it is not one).
CodesFile read_codes(const std::string& path);

/// Throws ShapeError unless both code files have the same number of bits.
void check_same_bits(const CodesFile& query, const CodesFile& database);

/// Accepts whole numbers >= 1 (CLI11's PositiveNumber prints a range up to DBL_MAX).
const CLI::Validator& positive_integer();

/// Threads option shared by commands (0 = OpenMP's default).
void add_threads_option(CLI::App& cmd, int& threads);

/// Seconds since `start` (steady clock).
double seconds_since(const std::chrono::steady_clock::time_point& start);

}  // namespace ssah::cli
