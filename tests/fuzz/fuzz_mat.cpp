// libFuzzer target: the .mat reader (matio underneath) on arbitrary bytes: list the variables,
// read each, walk its fields and cells, convert what is numeric. Everything must end in a value
// or an ssah::IoError. matio opens files by name, so the input goes to a scratch file of this
// process (in /dev/shm when it can). Not a memfd reached through /proc/self/fd: HDF5 resolves
// that link with realpath(), which fails, and matio then lists no variables, so the v7.3 path
// was never reached that way.
//
// Built twice: ssah_fuzz_mat refuses v7.3 (HDF5) files after ssah's header and superblock checks
// (MatReadOptions::allow_hdf5 = false), so it fuzzes ssah's v5 validation and matio's v5 parser;
// ssah_fuzz_mat73 (SSAH_FUZZ_MAT_HDF5=1) takes v7.3 files only and hands them to HDF5, and so
// fuzzes ssah's checks of what HDF5 lists and the HDF5 library, which ssah does not harden
// (docs/fuzzing.md). matio and HDF5 are system libraries, uninstrumented, so that target also
// reports what HDF5 made of an input (the variables listed, their classes and sizes, the outcome
// of each read) as libFuzzer extra counters: an input that HDF5 parses differently is kept in the
// corpus even when ssah's own code runs the same way.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "ssah/io/mat.hpp"

namespace {

#if defined(SSAH_FUZZ_MAT_HDF5) && SSAH_FUZZ_MAT_HDF5
// libFuzzer's extra counters (Linux): each distinct outcome sets one of them.
__attribute__((used, section("__libfuzzer_extra_counters"))) std::uint8_t extra_counters[1 << 14];
void feature(const std::string& what) {
  // Numbers fold to their number of digits and quoted names to '', so that sizes count by order
  // of magnitude and a renamed variable is nothing new.
  std::string key;
  bool number = false, quoted = false;
  for (char c : what) {
    const bool digit = c >= '0' && c <= '9';
    if (c == '\'') {
      quoted = !quoted;
      key += c;
    } else if (quoted) {
      continue;
    } else if (digit) {
      key += number ? "d" : "#d";
    } else {
      key += c;
    }
    number = digit && !quoted;
  }
  std::uint8_t& counter = extra_counters[std::hash<std::string>{}(key) % sizeof extra_counters];
  if (counter < 255) ++counter;
}
#else
void feature(const std::string&) {}
#endif

/// The scratch file's descriptor and path. It is removed when the process exits normally; one left
/// by a process that crashed is removed by the next process to start (the name holds the pid).
struct ScratchFile {
  int fd = -1;
  std::string path;
};

const ScratchFile& scratch_file() {
  static const ScratchFile file = [] {
    ScratchFile f;
    const char* tmp = std::getenv("TMPDIR");
    const std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (tmp && *tmp ? tmp : "/tmp");
    if (DIR* d = ::opendir(dir.c_str())) {
      while (const dirent* e = ::readdir(d)) {
        long pid = 0;
        if (std::sscanf(e->d_name, "ssah-fuzz-mat-%ld-", &pid) == 1 && pid > 0 &&
            ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
          ::unlink((dir + "/" + e->d_name).c_str());
      }
      ::closedir(d);
    }
    std::string name = dir + "/ssah-fuzz-mat-" + std::to_string(::getpid()) + "-XXXXXX";
    f.fd = ::mkstemp(name.data());
    if (f.fd < 0) std::abort();
    f.path = name;
    return f;
  }();
  static const bool cleanup = [] { return std::atexit([] { ::unlink(scratch_file().path.c_str()); }) == 0; }();
  (void)cleanup;
  return file;
}

void walk(const ssah::io::MatValue& v, int depth, int& budget) {
  if (depth > 8 || --budget < 0) return;
  feature("value " + std::to_string(depth) + " " + v.class_name() + " " + std::to_string(v.dims().size()) + " " +
          std::to_string(v.numel()));
  if (v.is_struct()) {
    const std::size_t n = v.numel();
    for (const std::string& f : v.field_names())
      for (std::size_t i = 0; i < n && i < 4; ++i) walk(v.field(f, i), depth + 1, budget);
  } else if (v.is_cell()) {
    const std::size_t n = v.numel();
    for (std::size_t i = 0; i < n && i < 16; ++i) walk(v.cell(i), depth + 1, budget);
  } else if (v.is_char()) {
    try {
      (void)v.to_string();
    } catch (const ssah::IoError& e) {
      feature(std::string("text error ") + e.what());
    }
  } else {
    try {
      v.to_array().check_consistent();
    } catch (const ssah::IoError& e) {
      feature(std::string("array error ") + e.what());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
#if defined(SSAH_FUZZ_MAT_HDF5) && SSAH_FUZZ_MAT_HDF5
  // v7.3 headers only (little- or big-endian): ssah_fuzz_mat covers the rest, and a corpus of
  // v5 files would leave HDF5 few turns (-1: newer libFuzzers then keep the input out of it).
  if (size < 128 || !((data[124] == 0 && data[125] == 2 && data[126] == 'I' && data[127] == 'M') ||
                      (data[124] == 2 && data[125] == 0 && data[126] == 'M' && data[127] == 'I')))
    return -1;
#endif
  const ScratchFile& file = scratch_file();
  const int fd = file.fd;
  if (::ftruncate(fd, 0) != 0) std::abort();
  std::size_t done = 0;
  while (done < size) {
    const ssize_t put = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (put <= 0) std::abort();
    done += static_cast<std::size_t>(put);
  }
  const std::string& path = file.path;
  try {
    ssah::io::MatReadOptions options;
    options.max_bytes = std::size_t(64) << 20;
#if defined(SSAH_FUZZ_MAT_HDF5) && SSAH_FUZZ_MAT_HDF5
    options.allow_hdf5 = true;
#else
    options.allow_hdf5 = false;
#endif
    const ssah::io::MatFile f(path, options);
    int budget = 256;
    for (const ssah::io::MatVarInfo& info : f.variables()) {
      std::string dims;
      for (std::size_t d : info.dims) dims += " " + std::to_string(d);
      feature("variable " + f.version() + " " + info.class_name + dims + (info.is_complex ? " complex" : ""));
      try {
        walk(f.read(info.name), 0, budget);
      } catch (const ssah::IoError& e) {
        feature(std::string("read error ") + e.what());
      }
    }
  } catch (const ssah::IoError& e) {
    feature(std::string("open error ") + e.what());
  }
  return 0;
}
