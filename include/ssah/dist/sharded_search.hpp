#pragma once
/// \file
/// Hamming k-NN over a database split across ranks, as FAISS's `IndexShards`: each rank searches
/// its shard (`dist::shard_of` gives the usual split), the per-shard top-k lists are gathered, and
/// `merge_knn` keeps the k best by (distance, global id). Each shard's list is ordered by (distance,
/// id) with ids in the database's order, so the merged result is exactly that of one process
/// searching the whole database: the same ids, the same distances, the same ties.
///
/// \code
///   ssah::dist::MpiCommunicator comm;                                   // or SingleProcess
///   const ssah::dist::Shard s = ssah::dist::shard_of(n, comm.rank(), comm.size());
///   ssah::KnnResult r = ssah::dist::sharded_knn<64>(comm, codes + s.first * 8, s.size(), s.first,
///                                                   queries, nq, 100);  // the same on every rank
/// \endcode

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "ssah/dist/communicator.hpp"
#include "ssah/error.hpp"
#include "ssah/hashing/index.hpp"

namespace ssah::dist {

/// The k best (distance, id) of each query among `parts`, where part i ranked a slice of the
/// database whose first code has id `id_offsets[i]` (its ids are local: 0 is that code). Entries
/// with id -1 (a slice of fewer than k codes) are skipped; a query with fewer than k in all gets
/// -1 after its last, as `KnnResult` has it.
inline KnnResult merge_knn(const std::vector<KnnResult>& parts, const std::vector<std::int64_t>& id_offsets,
                           std::size_t k) {
  SSAH_CHECK_AS(InvalidArgument, !parts.empty() && parts.size() == id_offsets.size(), "merge_knn: ", parts.size(),
                " results and ", id_offsets.size(), " id offsets");
  const std::size_t nq = parts.front().queries;
  for (const KnnResult& p : parts)
    SSAH_CHECK_AS(InvalidArgument, p.queries == nq, "merge_knn: results for ", p.queries, " and ", nq, " queries");
  KnnResult out = KnnResult::sized(nq, k);
  std::vector<std::pair<std::int32_t, std::int64_t>> candidates;
  for (std::size_t q = 0; q < nq; ++q) {
    candidates.clear();
    for (std::size_t i = 0; i < parts.size(); ++i)
      for (std::size_t j = 0; j < parts[i].k && parts[i].id(q, j) >= 0; ++j)
        candidates.emplace_back(parts[i].distance(q, j), parts[i].id(q, j) + id_offsets[i]);
    const std::size_t keep = std::min(k, candidates.size());
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end());
    for (std::size_t j = 0; j < keep; ++j) {
      out.distances[q * k + j] = candidates[j].first;
      out.ids[q * k + j] = candidates[j].second;
    }
  }
  return out;
}

namespace detail {

/// A KnnResult and the id of its slice's first code as bytes (ranks share one byte order).
inline std::vector<unsigned char> serialize(const KnnResult& r, std::int64_t first_id) {
  const std::uint64_t header[3] = {static_cast<std::uint64_t>(first_id), r.queries, r.k};
  std::vector<unsigned char> bytes(sizeof header + r.ids.size() * sizeof(std::int64_t) +
                                   r.distances.size() * sizeof(std::int32_t));
  unsigned char* p = bytes.data();
  std::memcpy(p, header, sizeof header);
  p += sizeof header;
  if (!r.ids.empty()) std::memcpy(p, r.ids.data(), r.ids.size() * sizeof(std::int64_t));
  p += r.ids.size() * sizeof(std::int64_t);
  if (!r.distances.empty()) std::memcpy(p, r.distances.data(), r.distances.size() * sizeof(std::int32_t));
  return bytes;
}

inline KnnResult deserialize(const std::vector<unsigned char>& bytes, std::int64_t& first_id) {
  std::uint64_t header[3];
  SSAH_CHECK_AS(InvalidArgument, bytes.size() >= sizeof header, "sharded_knn: a rank sent ", bytes.size(), " bytes");
  std::memcpy(header, bytes.data(), sizeof header);
  first_id = static_cast<std::int64_t>(header[0]);
  KnnResult r = KnnResult::sized(header[1], header[2]);
  SSAH_CHECK_AS(InvalidArgument,
                bytes.size() == sizeof header + r.ids.size() * (sizeof(std::int64_t) + sizeof(std::int32_t)),
                "sharded_knn: a rank sent ", bytes.size(), " bytes for ", r.queries, " x ", r.k, " neighbours");
  const unsigned char* p = bytes.data() + sizeof header;
  if (!r.ids.empty()) std::memcpy(r.ids.data(), p, r.ids.size() * sizeof(std::int64_t));
  p += r.ids.size() * sizeof(std::int64_t);
  if (!r.distances.empty()) std::memcpy(r.distances.data(), p, r.distances.size() * sizeof(std::int32_t));
  return r;
}

}  // namespace detail

/// Every rank's `local` result (its k nearest among its shard, whose first code has the global id
/// `first_id`) gathered and merged: the k nearest among all shards, on every rank. Every rank must
/// pass a result for the same queries and k.
inline KnnResult exchange_knn(Communicator& comm, const KnnResult& local, std::size_t first_id) {
  const std::vector<unsigned char> mine = detail::serialize(local, static_cast<std::int64_t>(first_id));
  const std::vector<std::vector<unsigned char>> all = comm.all_gather(mine.data(), mine.size());
  std::vector<KnnResult> parts;
  std::vector<std::int64_t> offsets(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    parts.push_back(detail::deserialize(all[i], offsets[i]));
    SSAH_CHECK_AS(InvalidArgument, parts.back().queries == local.queries && parts.back().k == local.k,
                  "sharded_knn: rank ", i, " searched ", parts.back().queries, " queries with k = ", parts.back().k,
                  ", this rank ", local.queries, " with k = ", local.k, ": every rank must search the same queries");
  }
  return merge_knn(parts, offsets, local.k);
}

/// The k nearest of `nq` packed queries (the same on every rank) among the database codes of all
/// ranks: this rank holds `shard_rows` codes at `shard_codes` (K / 8 bytes each), the database's
/// codes `first_id`, `first_id` + 1, ...; the shards together must cover the database once. Every
/// rank returns the whole result, equal to `hamming_knn<K>` on the whole database. At most 2^32 - 2
/// codes per shard.
template <int K>
KnnResult sharded_knn(Communicator& comm, const std::uint8_t* shard_codes, std::size_t shard_rows, std::size_t first_id,
                      const std::uint8_t* queries, std::size_t nq, std::size_t k, const SearchOptions& options = {}) {
  return exchange_knn(comm, hamming_knn<K>(shard_codes, shard_rows, queries, nq, k, options), first_id);
}

}  // namespace ssah::dist
