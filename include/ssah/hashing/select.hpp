#pragma once
/// \file
/// Selection of the k nearest codes when distances are small integers (0..K): counting, no heap.
///
/// Order everywhere: by distance, then by database id (the order of a stable sort by distance),
/// so every result is deterministic whatever the thread count.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "ssah/detail/isa_namespace.hpp"
#include "ssah/hashing/hamming.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace ssah {
namespace detail {

/// Largest thread count a search or an evaluation accepts (the `--threads` range is 0 to this).
inline constexpr int kMaxThreads = 1024;

/// Threads an OpenMP region may use: `requested` when positive, but at most four per processor
/// (more only slow these kernels down, and each costs a stack: libgomp aborts when it cannot
/// create them) and kMaxThreads; else OpenMP's default. 1 without OpenMP.
inline int resolve_threads(int requested) noexcept {
#if defined(_OPENMP)
  if (requested <= 0) return omp_get_max_threads();
  const int procs = omp_get_num_procs() > 0 ? omp_get_num_procs() : 1;
  const int cap = procs < kMaxThreads / 4 ? 4 * procs : kMaxThreads;
  return requested < cap ? requested : cap;
#else
  return 1;
#endif
}

/// Lowers OpenMP's default team size (OMP_NUM_THREADS, which every parallel region without its
/// own count uses: Thrust's, Eigen's, the kernels') to what `resolve_threads` allows; returns the
/// default it found, so that a program can say it lowered it. OMP_NUM_THREADS=100000 made the
/// first parallel region crash inside libgomp, and a few hundred abort it under a memory limit.
/// Call it before the first parallel region; it creates no thread.
inline int limit_default_threads() noexcept {
#if defined(_OPENMP)
  const int found = omp_get_max_threads();
  const int allowed = resolve_threads(found);
  if (allowed < found) omp_set_num_threads(allowed);
  return found;
#else
  return 1;
#endif
}

/// Index of the lowest set bit of a non-zero mask.
inline int lowest_bit(std::uint64_t m) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(m);
#else
  int i = 0;
  while (!(m & 1)) m >>= 1, ++i;
  return i;
#endif
}

/// The k first (distance, id) pairs of a stream seen in increasing id order, with distances in
/// 0..K: one bucket of up to k ids per distance, and a threshold above which nothing can enter.
///
/// Invariants: every bucket d <= threshold holds the first min(k, seen) ids of distance d (in id
/// order), and fewer than k ids are stored below the threshold. When that count reaches k the
/// threshold drops, so after the first few thousand codes almost every code is rejected by a
/// single comparison (done 64 at a time by the kernels' `filter_le64`).
class CountingTopK {
 public:
  CountingTopK() = default;
  /// Uses `counts` (K + 1 entries) and `ids` ((K + 1) * k entries) as storage.
  CountingTopK(int max_distance, std::uint32_t k, std::uint32_t* counts, std::uint32_t* ids) noexcept
      : counts_(counts), ids_(ids), k_(k), max_distance_(max_distance) {
    reset();
  }

  void reset() noexcept {
    std::fill(counts_, counts_ + max_distance_ + 1, 0u);
    threshold_ = max_distance_;
    below_ = 0;
  }

  /// Distances above this value are rejected.
  int threshold() const noexcept { return threshold_; }

  /// Offers id at distance d (d <= threshold()); ids must arrive in increasing order.
  void push(int d, std::uint32_t id) noexcept {
    std::uint32_t& c = counts_[d];
    if (c >= k_) return;
    ids_[static_cast<std::size_t>(d) * k_ + c] = id;
    ++c;
    if (d < threshold_ && ++below_ >= k_) {
      do {
        --threshold_;
        below_ -= counts_[threshold_];
      } while (threshold_ > 0 && below_ >= k_);
    }
  }

  std::uint32_t count(int d) const noexcept { return counts_[d]; }
  const std::uint32_t* bucket(int d) const noexcept { return ids_ + static_cast<std::size_t>(d) * k_; }

 private:
  std::uint32_t* counts_ = nullptr;
  std::uint32_t* ids_ = nullptr;
  std::uint32_t k_ = 0;
  int max_distance_ = 0;
  int threshold_ = 0;
  std::uint32_t below_ = 0;  // ids stored at distances < threshold_
};

/// Writes the k best of `states` (each over consecutive id ranges, in increasing id order) to
/// out_d / out_id, sorted by (distance, id); missing entries are -1.
inline void extract_topk(const CountingTopK* const* states, std::size_t nstates, int max_distance, std::size_t k,
                         std::int32_t* out_d, std::int64_t* out_id) noexcept {
  std::size_t got = 0;
  for (int d = 0; d <= max_distance && got < k; ++d) {
    for (std::size_t s = 0; s < nstates && got < k; ++s) {
      // A state whose threshold is below d already supplied k better ids; it never gets here.
      if (d > states[s]->threshold()) continue;
      const std::size_t take = std::min<std::size_t>(states[s]->count(d), k - got);
      const std::uint32_t* b = states[s]->bucket(d);
      for (std::size_t j = 0; j < take; ++j, ++got) {
        out_d[got] = d;
        out_id[got] = b[j];
      }
    }
  }
  for (; got < k; ++got) {
    out_d[got] = -1;
    out_id[got] = -1;
  }
}

/// Storage of uninitialised elements (only what is written is touched).
template <class T>
std::unique_ptr<T[]> uninitialized_buffer(std::size_t n) {
  return std::unique_ptr<T[]>(new T[n]);
}

inline namespace SSAH_ISA_NAMESPACE {

/// Distances computed per run of this many codes before they are filtered.
constexpr std::size_t scan_chunk = 256;

/// Feeds codes [begin, end) of `codes` to `state` for `query`: 64 codes are compared with the
/// threshold at once (Isa::filter_le64), and only the few that pass are pushed (their distance
/// recomputed). Inlined into one function per instruction set (scan_topk_*), so that the filter
/// inlines into the loop.
template <int K, class Isa>
SSAH_ALWAYS_INLINE void scan_topk_loop(const std::uint8_t* query, const std::uint8_t* codes, std::size_t begin,
                                       std::size_t end, CountingTopK& state) noexcept {
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  const HammingComputer<K> hc(query);
  std::size_t i = begin;
  for (; i + 64 <= end; i += 64) {
    std::uint64_t mask =
        Isa::template filter_le64<K>(query, codes + i * cs, static_cast<std::uint16_t>(state.threshold()));
    while (mask) {
      const std::size_t j = i + static_cast<std::size_t>(lowest_bit(mask));
      mask &= mask - 1;
      const int d = hc(codes + j * cs);
      if (d <= state.threshold()) state.push(d, static_cast<std::uint32_t>(j));
    }
  }
  for (; i < end; ++i) {
    const int d = hc(codes + i * cs);
    if (d <= state.threshold()) state.push(d, static_cast<std::uint32_t>(i));
  }
}

template <int K>
void scan_topk_portable(const std::uint8_t* query, const std::uint8_t* codes, std::size_t begin, std::size_t end,
                        CountingTopK& state) noexcept {
  scan_topk_loop<K, HammingIsaPortable>(query, codes, begin, end, state);
}
#if SSAH_HAMMING_X86_KERNELS
template <int K>
SSAH_TARGET_POPCNT void scan_topk_popcnt(const std::uint8_t* query, const std::uint8_t* codes, std::size_t begin,
                                         std::size_t end, CountingTopK& state) noexcept {
  scan_topk_loop<K, HammingIsaPortable>(query, codes, begin, end, state);
}
template <int K>
SSAH_TARGET_AVX2 void scan_topk_avx2(const std::uint8_t* query, const std::uint8_t* codes, std::size_t begin,
                                     std::size_t end, CountingTopK& state) noexcept {
  scan_topk_loop<K, HammingIsaAvx2>(query, codes, begin, end, state);
}
template <int K>
SSAH_TARGET_AVX512 void scan_topk_avx512(const std::uint8_t* query, const std::uint8_t* codes, std::size_t begin,
                                         std::size_t end, CountingTopK& state) noexcept {
  scan_topk_loop<K, HammingIsaAvx512>(query, codes, begin, end, state);
}
#endif

/// scan_topk_loop with `kernel` (resolved).
template <int K>
inline void scan_topk(HammingKernel kernel, const std::uint8_t* query, const std::uint8_t* codes, std::size_t begin,
                      std::size_t end, CountingTopK& state) noexcept {
  SSAH_HAMMING_DISPATCH(kernel, (scan_topk_portable<K>(query, codes, begin, end, state)),
                        (scan_topk_popcnt<K>(query, codes, begin, end, state)),
                        (scan_topk_avx2<K>(query, codes, begin, end, state)),
                        (scan_topk_avx512<K>(query, codes, begin, end, state)));
}

/// The k best (distance, id) by counting: a histogram, a threshold, then one placement pass
/// over the stored distances. No buffer grows with k but the output; used for large k and for
/// whole rankings (k = n). `dist` holds n entries, `hist` K + 2.
template <int K>
inline void topk_by_counting(HammingKernel kernel, const std::uint8_t* query, const std::uint8_t* codes, std::size_t n,
                             std::size_t k, std::int32_t* out_d, std::int64_t* out_id, std::uint16_t* dist,
                             std::size_t* hist) noexcept {
  std::fill(hist, hist + K + 2, std::size_t(0));
  hamming_distances<K>(kernel, query, codes, n, dist);
  for (std::size_t i = 0; i < n; ++i) ++hist[dist[i] + 1];
  // hist[d] becomes the first output slot of distance d; t is the last distance that fits.
  int t = K;
  for (int d = 0; d <= K; ++d) {
    hist[d + 1] += hist[d];
    if (hist[d + 1] >= k) {
      t = d;
      break;
    }
  }
  const std::size_t take = std::min(k, n);
  for (std::size_t i = 0; i < n; ++i) {
    const int d = dist[i];
    if (d > t) continue;
    const std::size_t slot = hist[d]++;
    if (slot < take) {
      out_d[slot] = d;
      out_id[slot] = static_cast<std::int64_t>(i);
    }
  }
  for (std::size_t j = take; j < k; ++j) {
    out_d[j] = -1;
    out_id[j] = -1;
  }
}

}  // namespace SSAH_ISA_NAMESPACE
}  // namespace detail
}  // namespace ssah
