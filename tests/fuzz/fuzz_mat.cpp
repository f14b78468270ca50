// libFuzzer target: the .mat reader (matio underneath) on arbitrary bytes: list the variables,
// read each, walk its fields and cells, convert what is numeric. Everything must end in a value
// or an ssah::IoError. matio opens files by name, so the input goes to an in-memory file
// (memfd) reached through /proc/self/fd.
//
// Built twice: ssah_fuzz_mat refuses v7.3 (HDF5) files after ssah's header and superblock checks
// (MatReadOptions::allow_hdf5 = false), so it fuzzes ssah's v5 validation and matio's v5 parser;
// ssah_fuzz_mat73 (SSAH_FUZZ_MAT_HDF5=1) hands v7.3 files to HDF5 as well, and so fuzzes the HDF5
// library, which ssah does not harden (docs/fuzzing.md).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ssah/io/mat.hpp"

namespace {

int memory_file() {
  static const int fd = [] {
    const int f = ::memfd_create("ssah-fuzz-mat", 0);
    if (f < 0) std::abort();
    return f;
  }();
  return fd;
}

void walk(const ssah::io::MatValue& v, int depth, int& budget) {
  if (depth > 8 || --budget < 0) return;
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
    } catch (const ssah::IoError&) {
    }
  } else {
    try {
      v.to_array().check_consistent();
    } catch (const ssah::IoError&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = memory_file();
  if (::ftruncate(fd, 0) != 0) std::abort();
  std::size_t done = 0;
  while (done < size) {
    const ssize_t put = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (put <= 0) std::abort();
    done += static_cast<std::size_t>(put);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
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
      try {
        walk(f.read(info.name), 0, budget);
      } catch (const ssah::IoError&) {
      }
    }
  } catch (const ssah::IoError&) {
  }
  return 0;
}
