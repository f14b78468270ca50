// `ssah search`: exhaustive Hamming k-NN (ties by database id).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "cli_common.hpp"
#include "ssah/dist/sharded_search.hpp"
#include "ssah/hashing/dispatch.hpp"
#include "ssah/hashing/index.hpp"
#include "ssah/hashing/thrust_search.hpp"

namespace ssah::cli {
namespace {

struct SearchArgs {
  std::string db_codes, query_codes, out, distances;
  std::size_t k = 100;
  int threads = 0;
  bool device = false;
};

void run_search(const SearchArgs& a) {
  // Under mpirun (an -DSSAH_MPI=ON build) each rank searches its shard of the database, the shards'
  // top-k are merged (dist::exchange_knn: the results of one process), and rank 0 writes them.
  dist::Communicator& comm = ranks();
  std::optional<CodesFile> d, q;
  on_every_rank([&] {
    check_output_file("--out", a.out, {{"--db-codes", a.db_codes}, {"--query-codes", a.query_codes}});
    check_output_streams_not_inputs({{"--db-codes", a.db_codes}, {"--query-codes", a.query_codes}});
    check_output_file("--distances", a.distances,
                      {{"--db-codes", a.db_codes}, {"--query-codes", a.query_codes}, {"--out", a.out}});
    if (a.device && comm.size() > 1)
      SSAH_THROW(InvalidArgument, "--device: not on several ranks yet; search on the host under mpirun");
    // A packed database (uint8 [n, K/8]) is searched where it lies, mapped from its file: the memory
    // it takes is its size on disk, in pages the kernel may drop, not a copy (issue 18); a rank
    // touches only the pages of its shard.
    d.emplace(read_codes(a.db_codes, /*map_packed=*/true));
    q.emplace(read_codes(a.query_codes));
    check_has_rows(*d, "--db-codes");
    check_has_rows(*q, "--query-codes");
    check_same_bits(*q, *d);
  });
  if (comm.rank() == 0) warn_of_unpacked_bits("search", *q, *d);
  const dist::Shard shard = dist::shard_of(d->layout.rows, comm.rank(), comm.size());
  const auto start = std::chrono::steady_clock::now();
  KnnResult r;
  on_every_rank([&] {
    r = with_code_bits(q->layout.bits, [&](auto kc) {
      constexpr int K = decltype(kc)::value;
      const PackedCodes<K> queries = io::codes_from_array<K>(q->array);
      const bool in_place = d->mapped && d->layout.bits == K && !a.device;
      PackedCodes<K> packed;  // the database, when it cannot be searched in place
      if (!in_place)
        packed = d->mapped ? PackedCodes<K>::from_bytes(d->mapped->data(), d->layout.rows, d->layout.bits / 8)
                           : io::codes_from_array<K>(d->array);
      if (a.device) try {
          return ThrustHammingIndex<K>(packed).search(queries, a.k);
        } catch (const std::bad_alloc&) {  // thrust's, of the device system
          SSAH_THROW(OutOfMemory, "--device: out of memory: the ", a.k, " nearest neighbours of ", queries.size(),
                     " queries among ", packed.size(), " codes need more than the device system has",
                     " (the results alone ", detail::human_bytes(queries.size() * a.k * 12),
                     "); give a smaller -k, or search on the host");
        }
      const std::uint8_t* codes = (in_place ? d->mapped->data() : packed.data()) + shard.first * (K / 8);
      try {
        return hamming_knn<K>(codes, shard.size(), queries.data(), queries.size(), a.k,
                              SearchOptions{a.threads, KnnSelector::Auto});
      } catch (const std::bad_alloc&) {  // the results passed the estimate, the search's buffers did not fit
        SSAH_THROW(OutOfMemory, "-k ", a.k, ": out of memory: the ", a.k, " nearest neighbours of ", queries.size(),
                   " queries among ", shard.size(), " codes and the search's buffers need more than the ",
                   detail::human_bytes(detail::available_host_memory()), " available (the results alone ",
                   detail::human_bytes(queries.size() * a.k * 12), "); give a smaller -k");
      }
    });
  });
  if (comm.size() > 1) r = dist::exchange_knn(comm, r, shard.first);
  if (comm.rank() != 0) return;  // rank 0 writes and reports
  const double seconds = seconds_since(start);
  if (!a.out.empty()) io::write_npy(a.out, r.ids, {r.queries, r.k});
  if (!a.distances.empty()) io::write_npy(a.distances, r.distances, {r.queries, r.k});
  if (a.out.empty() && a.distances.empty()) {
    for (std::size_t i = 0; i < r.queries; ++i) {
      std::printf("query %zu:", i);
      for (std::size_t j = 0; j < r.k && r.id(i, j) >= 0; ++j)
        std::printf(" %lld:%d", static_cast<long long>(r.id(i, j)), r.distance(i, j));
      std::printf("\n");
    }
  }
  const std::string where = (a.device ? std::string("device system ") + device_system_name()
                                      : "host, Hamming kernel " + hamming_kernel_name()) +
                            (comm.size() > 1 ? ", " + std::to_string(comm.size()) + " ranks" : std::string());
  std::fprintf(stderr, "%zu queries, %zu database codes, %d bits, k = %zu: %.3f s, %.0f queries/s (%s)\n", r.queries,
               d->layout.rows, q->layout.bits, r.k, seconds,
               seconds > 0 ? static_cast<double>(r.queries) / seconds : 0.0, where.c_str());
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd =
      app.add_subcommand("search", "k nearest database codes of each query by Hamming distance (ties by database id)");
  cmd->add_option("--db-codes", args->db_codes,
                  "database codes .npy: ±1 or real values [n, K] (bit = value > 0; int8/float32/float64) or packed "
                  "bits [n, K/8] (uint8)")
      ->required();
  cmd->add_option("--query-codes", args->query_codes, "query codes .npy (same format as the database codes)")
      ->required();
  cmd->add_option("-k", args->k,
                  "neighbours per query, 1 to 2147483647 (rows are padded with -1 past the database size; refused "
                  "when the results would not fit in memory)")
      ->capture_default_str()
      ->transform(integer_range(1, 2147483647));
  cmd->add_option("--out", args->out, "write the neighbour ids here (.npy, int64 [queries, k])")
      ->check(non_empty_path());
  cmd->add_option("--distances", args->distances, "write the Hamming distances here (.npy, int32 [queries, k])")
      ->check(non_empty_path());
  cmd->add_flag("--device", args->device,
                "search with the Thrust device-system implementation (the GPU in a CUDA build)");
  add_threads_option(*cmd, args->threads);
  cmd->callback([args] { run_search(*args); });
}

}  // namespace ssah::cli
