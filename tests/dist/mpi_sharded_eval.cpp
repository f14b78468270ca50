// Under mpirun: every rank evaluates its shard of one database (the same seeded codes and labels on
// every rank) with dist::sharded_evaluate and compares the result with evaluate_retrieval over the
// whole database: counts, tie-aware mAP, precision@N and the PR curve identical, mAP and mAP@R (the
// whole ranking and per query) within 1e-12. Single-label and multi-label data, K = 16 (many ties)
// and 64, a database not a multiple of the ranks, a query with no relevant item. Exit status 0 on
// every rank when all agree; rank 0 prints one line.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "mpi_test_main.hpp"
#include "ssah/dist/sharded_eval.hpp"
#include "ssah/host_rng.hpp"

namespace {

using namespace ssah;

template <int K>
PackedCodes<K> random_codes(std::size_t n, std::uint64_t seed) {
  HostRng rng(seed);
  std::vector<std::uint8_t> bytes(n * PackedCodes<K>::code_bytes);
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(rng.next());
  return PackedCodes<K>::from_bytes(bytes.data(), n);
}

LabelMatrix random_labels(std::size_t n, std::size_t classes, bool multi, std::uint64_t seed) {
  HostRng rng(seed);
  LabelMatrix l(n, classes);
  for (std::size_t i = 0; i < n; ++i) {
    l.set(i, rng.next() % classes);
    if (multi && rng.next() % 2) l.set(i, rng.next() % classes);
  }
  return l;
}

bool close(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::fabs(a[i] - b[i]) > 1e-12) return false;
  return true;
}

template <int K>
void check(dist::Communicator& comm, test::Failures& failures, std::size_t classes, bool multi) {
  const std::size_t n = 10007, nq = 60;
  const PackedCodes<K> db = random_codes<K>(n, 11), queries = random_codes<K>(nq, 12);
  const LabelMatrix db_labels = random_labels(n, classes, multi, 13);
  LabelMatrix ql = random_labels(nq, classes, multi, 14);
  for (std::size_t c = 0; c < classes; ++c) ql.set(nq - 1, c, false);  // a query with no label: nothing relevant
  EvalOptions o;
  o.top_r = 500;
  o.precision_at = {1, 10, 100, 5000, 20000};
  const EvalResult whole = evaluate_retrieval(queries, db, ql, db_labels, o);
  const dist::Shard s = dist::shard_of(n, comm.rank(), comm.size());
  const EvalResult sharded =
      dist::sharded_evaluate(comm, queries, ql, db.slice(s.first, s.last), db_labels.slice(s.first, s.last), o);
  const std::string name = "K = " + std::to_string(K) + (multi ? ", multi-label" : ", single-label");
  failures.expect(sharded.database == n && sharded.queries == nq, name + ": sizes");
  failures.expect(std::fabs(sharded.map - whole.map) <= 1e-12,
                  name + ": mAP " + std::to_string(sharded.map) + " vs " + std::to_string(whole.map));
  failures.expect(sharded.map_tie_aware == whole.map_tie_aware, name + ": tie-aware mAP");
  failures.expect(std::fabs(sharded.map_at_r - whole.map_at_r) <= 1e-12, name + ": mAP@R");
  failures.expect(
      sharded.queries_without_relevant == whole.queries_without_relevant && whole.queries_without_relevant == 1,
      name + ": queries without a relevant item");
  failures.expect(sharded.precision_n == whole.precision_n && sharded.precision_at_n == whole.precision_at_n,
                  name + ": precision@N");
  failures.expect(sharded.pr_precision == whole.pr_precision && sharded.pr_recall == whole.pr_recall,
                  name + ": PR curve");
  failures.expect(close(sharded.ap, whole.ap) && close(sharded.ap_at_r, whole.ap_at_r), name + ": per-query AP");
  failures.expect(sharded.ap_tie_aware == whole.ap_tie_aware && sharded.relevant == whole.relevant,
                  name + ": per-query tie-aware AP and relevant counts");
}

void run(dist::MpiCommunicator& comm, test::Failures& failures) {
  check<16>(comm, failures, 10, false);
  check<16>(comm, failures, 70, true);  // two label words
  check<64>(comm, failures, 24, true);
}

}  // namespace

int main(int argc, char** argv) {
  return ssah::test::mpi_test_main(argc, argv, "sharded evaluation", "the metrics of one process", run);
}
