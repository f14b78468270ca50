#pragma once
/// \file
/// How much memory the host can still give this process, so that a request that cannot be met is
/// refused with a message instead of being granted by Linux's overcommit and ended later by the
/// kernel's out-of-memory killer (which no error handling survives).

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>

#include <sys/resource.h>
#include <unistd.h>

#include "ssah/error.hpp"

namespace ssah::detail {

/// Bytes the host can still provide: MemAvailable + SwapFree from /proc/meminfo (Linux), else the
/// free physical pages; never more than the address-space limit (ulimit -v). size_t's maximum
/// when nothing is known.
inline std::size_t available_host_memory() noexcept {
  std::size_t available = std::numeric_limits<std::size_t>::max();
  if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kib = 0, total = 0;
    int found = 0;
    while (std::fgets(line, sizeof line, f)) {
      if (std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1 || std::sscanf(line, "SwapFree: %llu kB", &kib) == 1) {
        total += kib;
        ++found;
      }
    }
    std::fclose(f);
    if (found > 0) available = static_cast<std::size_t>(total) * 1024;
  } else {
    const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) available = static_cast<std::size_t>(pages) * static_cast<std::size_t>(page);
  }
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      static_cast<std::size_t>(limit.rlim_cur) < available)
    available = static_cast<std::size_t>(limit.rlim_cur);
  return available;
}

/// Whether a host block of `bytes` is beyond what the host has left. Blocks under 256 MiB always
/// pass: reading /proc/meminfo costs more than they matter, and overcommit cannot hurt much there.
inline bool exceeds_host_memory(std::size_t bytes) noexcept {
  return bytes >= (std::size_t(1) << 28) && bytes > available_host_memory();
}

/// Refuses (OutOfMemory, naming `what` and the sizes) a host buffer of `count` elements of
/// `element_bytes` each that overflows size_t or exceeds what the host has left: called before
/// allocating a buffer whose size comes from user input (k, item counts), so that the request
/// fails with a message rather than a kill. Returns the bytes.
inline std::size_t check_host_allocation(std::size_t count, std::size_t element_bytes, const char* what) {
  if (element_bytes != 0 && count > std::numeric_limits<std::size_t>::max() / element_bytes)
    fail<OutOfMemory>("out of memory: ", what, " would take more bytes than memory can hold");
  const std::size_t bytes = count * element_bytes;
  if (exceeds_host_memory(bytes))
    fail<OutOfMemory>("out of memory: ", what, " would take ", human_bytes(bytes), ", more than the ",
                      human_bytes(available_host_memory()), " available");
  return bytes;
}

}  // namespace ssah::detail
