#include "cli_common.hpp"

#include <chrono>
#include <string>

namespace ssah::cli {

CodesFile read_codes(const std::string& path) {
  CodesFile f;
  f.array = io::read_npy(path);
  f.layout = code_array_layout(f.array);
  return f;
}

void check_same_bits(const CodesFile& query, const CodesFile& database) {
  if (query.layout.bits != database.layout.bits)
    detail::fail<ShapeError>("query codes '", query.array.source, "' have ", query.layout.bits,
                             " bits but database codes '", database.array.source, "' have ", database.layout.bits);
}

const CLI::Validator& positive_integer() {
  static const CLI::Validator v(
      [](std::string& s) -> std::string {
        const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || s.find_first_not_of('0') == std::string::npos)
          return "must be a positive integer, got '" + s + "'";
        return {};
      },
      "POSITIVE");
  return v;
}

void add_threads_option(CLI::App& cmd, int& threads) {
  cmd.add_option("--threads", threads, "OpenMP threads (default: all)")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
              return "must be a non-negative integer, got '" + s + "'";
            return {};
          },
          "N"));
}

double seconds_since(const std::chrono::steady_clock::time_point& start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace ssah::cli
