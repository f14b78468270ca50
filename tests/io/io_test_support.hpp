#pragma once
// Helpers for the io tests: a temporary directory removed at the end of the test, raw file
// writes for building bad inputs, and the location of the real data sets.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#ifndef SSAH_TEST_PYTHON  // set by tests/CMakeLists.txt (FindPython3)
#define SSAH_TEST_PYTHON "python3"
#endif

namespace ssah::test {

/// A fresh directory under the system temporary directory, removed with its content.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "ssah-io-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }
  /// Names of the entries of the directory (to check that no temporary file is left behind).
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_)) out.push_back(e.path().filename().string());
    return out;
  }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  write_bytes(path, std::vector<unsigned char>(bytes.begin(), bytes.end()));
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Root of the real data sets: $SSAH_DATA_DIR, else the build's (SSAH_TEST_DATA_DIR, defined for
/// every test by the ssah_test_support target).
inline std::string data_dir() {
  if (const char* env = std::getenv("SSAH_DATA_DIR")) return env;
  return SSAH_TEST_DATA_DIR;
}

/// The path of a data set file, or "" (with a message saying the test is skipped) when absent.
inline std::string data_file(const std::string& relative) {
  const std::string path = data_dir() + "/" + relative;
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: data file " << path << " not found (set SSAH_DATA_DIR)");
    return {};
  }
  return path;
}

/// Whether the tests' Python (SSAH_TEST_PYTHON: CMake's FindPython3) can import every module in
/// `modules` (space-separated).
inline bool python_has(const std::string& modules) {
  if (std::string(SSAH_TEST_PYTHON).empty() || !std::filesystem::exists(SSAH_TEST_PYTHON)) return false;
  std::string cmd = SSAH_TEST_PYTHON " -c 'import ";
  for (char c : modules) cmd += c == ' ' ? ',' : c;
  cmd += "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

/// Runs a shell command and returns its standard output; `status` receives the exit status.
inline std::string run_command(const std::string& cmd, int& status) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, got);
  status = ::pclose(pipe);
  return out;
}

/// Seeded byte-level mutations of a valid file: flips, overwrites, truncations and insertions,
/// the cheap part of what the libFuzzer targets do, run on every test build (and under ASan in CI).
inline std::vector<unsigned char> mutate(const std::vector<unsigned char>& in, std::mt19937& rng) {
  std::vector<unsigned char> out = in;
  std::uniform_int_distribution<int> kind(0, 4);
  auto pos = [&](std::size_t n) {
    return n == 0 ? std::size_t(0) : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (kind(rng)) {
      case 0:
        if (!out.empty()) out[pos(out.size())] ^= static_cast<unsigned char>(1u << (rng() % 8));
        break;
      case 1:
        if (!out.empty()) out[pos(out.size())] = static_cast<unsigned char>(rng());
        break;
      case 2:
        out.resize(pos(out.size() + 1));
        break;
      case 3:
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos(out.size() + 1)), static_cast<unsigned char>(rng()));
        break;
      case 4:
        if (!out.empty()) out[pos(out.size())] = static_cast<unsigned char>("0123456789,()[]{}:'\"-e."[rng() % 23]);
        break;
    }
  }
  return out;
}

}  // namespace ssah::test
