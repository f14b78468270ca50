// Under mpirun: every rank searches its shard of one database (the same seeded codes on every
// rank), the results are merged (dist::sharded_knn), and each rank compares the merged result with
// hamming_knn over the whole database, and checks the communicator's sum, broadcast and gather.
// Exit status 0 on every rank when all agree; rank 0 prints one line.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

#include "mpi_test_main.hpp"
#include "ssah/dist/sharded_search.hpp"
#include "ssah/host_rng.hpp"

namespace {

std::vector<std::uint8_t> random_codes(std::size_t n, std::size_t bytes, std::uint64_t seed) {
  ssah::HostRng rng(seed);
  std::vector<std::uint8_t> codes(n * bytes);
  for (std::uint8_t& b : codes) b = static_cast<std::uint8_t>(rng.next() % 8);  // many ties
  return codes;
}

void run(ssah::dist::MpiCommunicator& comm, ssah::test::Failures& failures) {
  const auto check = [&](bool ok, const char* what) { failures.expect(ok, what); };
  // 20,011 codes of 64 bits (not a multiple of the ranks), 50 queries, k = 100 and a k beyond a shard.
  const std::size_t n = 20011, nq = 50;
  const std::vector<std::uint8_t> db = random_codes(n, 8, 7), queries = random_codes(nq, 8, 8);
  const ssah::dist::Shard s = ssah::dist::shard_of(n, comm.rank(), comm.size());
  for (std::size_t k : {std::size_t(100), n / 2}) {
    const ssah::KnnResult whole = ssah::hamming_knn<64>(db.data(), n, queries.data(), nq, k);
    const ssah::KnnResult sharded =
        ssah::dist::sharded_knn<64>(comm, db.data() + s.first * 8, s.size(), s.first, queries.data(), nq, k);
    check(sharded.ids == whole.ids, "sharded ids differ from one process's");
    check(sharded.distances == whole.distances, "sharded distances differ from one process's");
  }
  // The communicator itself.
  double sum[2] = {1.0, static_cast<double>(comm.rank())};
  comm.all_reduce_sum(sum, 2);
  const int p = comm.size();
  check(sum[0] == p && sum[1] == p * (p - 1) / 2.0, "all_reduce_sum");
  int value = comm.rank() == 0 ? 42 : -1;
  comm.broadcast(&value, sizeof value, 0);
  check(value == 42, "broadcast");
  const std::vector<unsigned char> mine(static_cast<std::size_t>(comm.rank()), static_cast<unsigned char>(comm.rank()));
  const auto all = comm.all_gather(mine.data(), mine.size());  // rank r sends r bytes (rank 0 none)
  bool gathered = static_cast<int>(all.size()) == p;
  for (std::size_t r = 0; gathered && r < all.size(); ++r)
    gathered = all[r] == std::vector<unsigned char>(r, static_cast<unsigned char>(r));
  check(gathered, "all_gather");
}

}  // namespace

int main(int argc, char** argv) {
  return ssah::test::mpi_test_main(argc, argv, "sharded search", "identical to one process", run);
}
