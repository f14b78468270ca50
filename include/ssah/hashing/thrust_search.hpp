#pragma once
/// \file
/// `ssah::ThrustHammingIndex<K>`: the same exhaustive k-NN as `HammingIndex<K>` (same results,
/// ties by database id), written against Thrust so that it runs on the device system: CUDA
/// kernels under nvcc with SSAH_DEVICE_SYSTEM=CUDA, OpenMP or serial loops otherwise.
///
/// Selection is by counting, with no atomics and no sort, in three data-parallel steps over
/// (query, database chunk) pairs:
///  1. each pair counts its distances (K + 1 bins);
///  2. per query, the histograms give the last distance t that fits in k and, for every chunk
///     and distance, the first output slot (an exclusive scan over chunks);
///  3. each pair rescans its chunk and writes every code with distance <= t to its slot.
/// Chunks are in id order and each is scanned in id order, so slots follow (distance, id).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <thrust/copy.h>
#include <thrust/device_vector.h>

#include "ssah/config.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/hashing/codes.hpp"
#include "ssah/hashing/hamming.hpp"
#include "ssah/hashing/index.hpp"

namespace ssah {
namespace detail {

/// Database codes per (query, chunk) work item of the device-system kernels (k-NN here, mAP in
/// eval/thrust_metrics.hpp): small enough for many work items, large enough that the per-chunk
/// histograms stay a fraction of the database.
inline std::size_t thrust_chunk_size(std::size_t n) noexcept {
  return std::min<std::size_t>(std::max<std::size_t>(256, n / 512), 8192);
}

/// k-NN of nq queries over n database codes, all in device memory: out_d / out_id are [nq, k],
/// -1 after the last neighbour. `hist` holds nq * nchunks * (K + 1) counters, `cut` nq entries.
template <int K>
void thrust_knn_batch(const std::uint8_t* db, std::size_t n, const std::uint8_t* queries, std::size_t nq, std::size_t k,
                      std::size_t chunk, std::uint32_t* hist, std::int32_t* cut, std::int32_t* out_d,
                      std::int64_t* out_id) {
  constexpr std::size_t cs = static_cast<std::size_t>(K) / 8;
  constexpr std::size_t bins = static_cast<std::size_t>(K) + 1;
  const std::size_t nchunks = (n + chunk - 1) / chunk;
  const std::size_t take = std::min(k, n);

  // 1. Histogram of every (query, chunk); neighbouring work items share the chunk (on a GPU,
  //    the threads of a warp read the same codes).
  parallel_for(nq * nchunks, [=] SSAH_HOST_DEVICE(std::size_t i) {
    const std::size_t q = i % nq, c = i / nq;
    const HammingComputer<K> hc(queries + q * cs);
    std::uint32_t h[bins];
    for (std::size_t d = 0; d < bins; ++d) h[d] = 0;
    const std::size_t e = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    for (std::size_t j = c * chunk; j < e; ++j) ++h[hc(db + j * cs)];
    std::uint32_t* out = hist + (q * nchunks + c) * bins;
    for (std::size_t d = 0; d < bins; ++d) out[d] = h[d];
  });

  // 2. Per query: the cut distance t and, in place, the first slot of each (chunk, distance).
  parallel_for(nq, [=] SSAH_HOST_DEVICE(std::size_t q) {
    std::uint32_t* hq = hist + q * nchunks * bins;
    std::size_t before = 0;  // codes at distances < d
    int t = K;
    for (std::size_t d = 0; d < bins; ++d) {
      std::size_t at_d = 0;
      for (std::size_t c = 0; c < nchunks; ++c) {
        const std::uint32_t v = hq[c * bins + d];
        hq[c * bins + d] = static_cast<std::uint32_t>(before + at_d);
        at_d += v;
      }
      before += at_d;
      if (before >= take) {
        t = static_cast<int>(d);
        break;
      }
    }
    cut[q] = t;
    for (std::size_t j = take; j < k; ++j) {
      out_d[q * k + j] = -1;
      out_id[q * k + j] = -1;
    }
  });

  // 3. Placement: codes within the cut go to their slot; slots past k are dropped.
  parallel_for(nq * nchunks, [=] SSAH_HOST_DEVICE(std::size_t i) {
    const std::size_t q = i % nq, c = i / nq;
    const int t = cut[q];
    const HammingComputer<K> hc(queries + q * cs);
    std::uint32_t slot[bins];
    const std::uint32_t* hq = hist + (q * nchunks + c) * bins;
    for (int d = 0; d <= t; ++d) slot[d] = hq[d];
    const std::size_t e = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    for (std::size_t j = c * chunk; j < e; ++j) {
      const int d = hc(db + j * cs);
      if (d > t) continue;
      const std::uint32_t s = slot[d]++;
      if (s < take) {
        out_d[q * k + s] = d;
        out_id[q * k + s] = static_cast<std::int64_t>(j);
      }
    }
  });
}

}  // namespace detail

/// Exhaustive Hamming k-NN on the Thrust device system; results equal `HammingIndex<K>::search`.
template <int K>
class ThrustHammingIndex {
 public:
  static constexpr int bits = K;

  ThrustHammingIndex() = default;
  explicit ThrustHammingIndex(const PackedCodes<K>& codes) { add(codes); }

  /// Copies codes to the device; their ids continue from size().
  void add(const PackedCodes<K>& codes) {
    SSAH_CHECK_AS(InvalidArgument, n_ + codes.size() < std::numeric_limits<std::uint32_t>::max(),
                  "ThrustHammingIndex: at most 2^32 - 2 codes");
    const std::size_t old = codes_.size();
    codes_.resize(old + codes.bytes().size());
    thrust::copy(codes.bytes().begin(), codes.bytes().end(), codes_.begin() + static_cast<std::ptrdiff_t>(old));
    n_ += codes.size();
  }

  std::size_t size() const noexcept { return n_; }

  /// The k nearest codes of each query, ordered by (distance, id); -1 past the database size.
  KnnResult search(const PackedCodes<K>& queries, std::size_t k) const {
    SSAH_CHECK_AS(InvalidArgument, k > 0, "ThrustHammingIndex::search: k must be positive");
    KnnResult r = KnnResult::sized(queries.size(), k);
    if (r.queries == 0 || n_ == 0) return r;

    const std::size_t chunk = detail::thrust_chunk_size(n_);
    const std::size_t nchunks = (n_ + chunk - 1) / chunk;
    const std::size_t per_query = nchunks * (static_cast<std::size_t>(K) + 1);
    // Bounded scratch: queries go in batches whose histograms take at most ~64 MB.
    const std::size_t batch = std::max<std::size_t>(1, std::min(r.queries, (std::size_t(16) << 20) / per_query));
    thrust::device_vector<std::uint8_t> q(queries.bytes().begin(), queries.bytes().end());
    thrust::device_vector<std::uint32_t> hist(batch * per_query);
    thrust::device_vector<std::int32_t> cut(batch), dist(batch * k);
    thrust::device_vector<std::int64_t> ids(batch * k);
    for (std::size_t q0 = 0; q0 < r.queries; q0 += batch) {
      const std::size_t nb = std::min(batch, r.queries - q0);
      detail::thrust_knn_batch<K>(thrust::raw_pointer_cast(codes_.data()), n_,
                                  thrust::raw_pointer_cast(q.data()) + q0 * PackedCodes<K>::code_bytes, nb, k, chunk,
                                  thrust::raw_pointer_cast(hist.data()), thrust::raw_pointer_cast(cut.data()),
                                  thrust::raw_pointer_cast(dist.data()), thrust::raw_pointer_cast(ids.data()));
      thrust::copy(dist.begin(), dist.begin() + static_cast<std::ptrdiff_t>(nb * k),
                   r.distances.begin() + static_cast<std::ptrdiff_t>(q0 * k));
      thrust::copy(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(nb * k),
                   r.ids.begin() + static_cast<std::ptrdiff_t>(q0 * k));
    }
    return r;
  }

 private:
  thrust::device_vector<std::uint8_t> codes_;
  std::size_t n_ = 0;
};

}  // namespace ssah
