#pragma once
/// \file
/// Caching allocator for device memory. Training repeats the same tensor sizes every step, so
/// freed blocks are kept by exact (rounded) size and handed out again: no allocation in the
/// steady state, and no cudaMalloc/cudaFree in the hot loop under CUDA.

#include <cstddef>
#include <limits>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include <thrust/device_free.h>
#include <thrust/device_malloc.h>
#include <thrust/device_ptr.h>

#include "ssah/config.hpp"
#include "ssah/detail/host_memory.hpp"
#include "ssah/error.hpp"

namespace ssah {

/// Memory statistics of the device memory pool, in bytes.
struct MemoryStats {
  std::size_t in_use = 0;       ///< held by live tensors
  std::size_t peak_in_use = 0;  ///< maximum of in_use since the last reset
  std::size_t cached = 0;       ///< freed but kept for reuse
  std::size_t allocations = 0;  ///< calls that reached the system allocator
};

namespace detail {

class MemoryPool {
 public:
  static MemoryPool& instance() {
    static MemoryPool pool;
    return pool;
  }

  void* allocate(std::size_t bytes) {
    bytes = round_up(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_use += bytes;
    if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
    auto& bucket = free_[bytes];
    if (!bucket.empty()) {
      void* p = bucket.back();
      bucket.pop_back();
      stats_.cached -= bytes;
      return p;
    }
    ++stats_.allocations;
    void* p = system_allocate(bytes);
    if (!p) {  // the cached blocks of other sizes may make room
      release_cached_locked();
      p = system_allocate(bytes);
    }
    if (!p) {
      stats_.in_use -= bytes;
      --stats_.allocations;
#if SSAH_DEVICE_CUDA
      ::ssah::detail::fail<OutOfMemory>("out of GPU memory: a tensor of ", human_bytes(bytes),
                                        " could not be allocated (", human_bytes(stats_.in_use),
                                        " held by other tensors)");
#else
      ::ssah::detail::fail<OutOfMemory>("out of memory: a tensor of ", human_bytes(bytes), " could not be allocated (",
                                        human_bytes(available_host_memory()), " available, ",
                                        human_bytes(stats_.in_use), " held by other tensors)");
#endif
    }
    return p;
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    if (!p) return;
    bytes = round_up(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_use -= bytes;
    stats_.cached += bytes;
    try {
      free_[bytes].push_back(p);
    } catch (...) {  // out of memory while caching: give the block back instead
      stats_.cached -= bytes;
      thrust::device_free(thrust::device_pointer_cast(static_cast<unsigned char*>(p)));
    }
  }

  /// Returns every cached block to the system.
  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked();
  }

  /// Returns the cached blocks of one size (as requested from allocate) to the system: for
  /// buffers that are outgrown for good, such as ParameterSet's flat buffers while a network is
  /// built, which would otherwise stay cached at a size that never comes back.
  void release_cached(std::size_t bytes) {
    bytes = round_up(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it == free_.end()) return;
    for (void* p : it->second) thrust::device_free(thrust::device_pointer_cast(static_cast<unsigned char*>(p)));
    stats_.cached -= bytes * it->second.size();
    free_.erase(it);
  }

  MemoryStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_in_use = stats_.in_use;
  }

  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

 private:
  MemoryPool() = default;
  ~MemoryPool() {
    // Leaked on purpose at exit under CUDA: the runtime may already be torn down.
#if !SSAH_DEVICE_CUDA
    release_cached();
#endif
  }
  static std::size_t round_up(std::size_t bytes) {
    constexpr std::size_t max = std::numeric_limits<std::size_t>::max() / 2;  // beyond any memory
    return bytes > max ? max : ((bytes ? bytes : 1) + 255) / 256 * 256;
  }

  /// The system allocator's block, or nullptr when it has none: thrust's device_malloc returns
  /// NULL from malloc on the host systems and throws std::bad_alloc (a subclass) under CUDA. On the
  /// host, a large block beyond what the machine has left is refused here: Linux would grant it
  /// and kill the process when its pages are touched.
  static void* system_allocate(std::size_t bytes) noexcept {
#if !SSAH_DEVICE_CUDA
    if (exceeds_host_memory(bytes)) return nullptr;
#endif
    try {
      return thrust::raw_pointer_cast(thrust::device_malloc<unsigned char>(bytes));
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }

  void release_cached_locked() {
    for (auto& [bytes, bucket] : free_)
      for (void* p : bucket) thrust::device_free(thrust::device_pointer_cast(static_cast<unsigned char*>(p)));
    free_.clear();
    stats_.cached = 0;
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  MemoryStats stats_;
};

}  // namespace detail

/// Statistics of ssah's device memory pool (tensors only).
inline MemoryStats memory_stats() { return detail::MemoryPool::instance().stats(); }
inline void reset_peak_memory() { detail::MemoryPool::instance().reset_peak(); }
inline void release_cached_memory() { detail::MemoryPool::instance().release_cached(); }

}  // namespace ssah
