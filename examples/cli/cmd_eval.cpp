// `ssah eval`: retrieval metrics of query codes against database codes with multi-label relevance.
// Under mpirun (an -DSSAH_MPI=ON build) each rank evaluates its shard of the database
// (dist::sharded_evaluate: the metrics of one process) and rank 0 reports them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "ssah/dist/sharded_eval.hpp"
#include "ssah/eval/metrics.hpp"
#include "ssah/hashing/dispatch.hpp"
#include "ssah/io/atomic_file.hpp"

namespace ssah::cli {
namespace {

struct EvalArgs {
  std::string query_codes, db_codes, query_labels, db_labels, json;
  std::size_t top = 0;
  std::vector<std::size_t> precision_at = default_precision_points();
  int threads = 0;
};

void check_rows(const std::string& what_codes, const io::NpyArray& codes, std::size_t code_rows,
                const std::string& what_labels, const io::NpyArray& labels) {
  if (code_rows != labels.rows())
    SSAH_THROW(ShapeError, what_codes, " '", codes.source, "' have ", code_rows, " rows but ", what_labels, " '",
               labels.source, "' have ", labels.rows());
}

void write_json(const std::string& path, const EvalResult& r, int bits, std::size_t classes, double seconds) {
  using nlohmann::json;
  const std::size_t radii = static_cast<std::size_t>(bits) + 1;  // codes padded to r.bits repeat the last radius
  std::vector<int> radius(radii);
  for (std::size_t i = 0; i < radii; ++i) radius[i] = static_cast<int>(i);
  json j;
  j["queries"] = r.queries;
  j["database"] = r.database;
  j["bits"] = bits;
  j["classes"] = classes;
  j["relevance"] = "shares at least one label";
  j["map"] = r.map;
  j["map_ties"] = "ties in Hamming distance ordered by database index (stable sort), as the reference calc_map";
  j["map_tie_aware"] = r.map_tie_aware;
  if (r.top_r > 0) {
    j["top_r"] = r.top_r;
    j["map_at_r"] = r.map_at_r;
  }
  j["queries_without_relevant"] = r.queries_without_relevant;
  j["precision_at_n"] = {{"n", r.precision_n}, {"precision", r.precision_at_n}};
  j["pr_curve"] = {
      {"radius", radius},
      {"precision",
       std::vector<double>(r.pr_precision.begin(), r.pr_precision.begin() + static_cast<std::ptrdiff_t>(radii))},
      {"recall", std::vector<double>(r.pr_recall.begin(), r.pr_recall.begin() + static_cast<std::ptrdiff_t>(radii))}};
  json per_query = {{"ap", r.ap}, {"ap_tie_aware", r.ap_tie_aware}, {"relevant", r.relevant}};
  if (r.top_r > 0) per_query["ap_at_r"] = r.ap_at_r;
  j["per_query"] = per_query;
  j["seconds"] = seconds;
  j["hamming_kernel"] = hamming_kernel_name();
  io::AtomicFile file(path);
  file.write(j.dump(2) + "\n");
  file.commit();
}

/// The codes and labels of `ssah eval`, read and checked.
struct EvalInputs {
  CodesFile q, d;
  LabelMatrix qlab, dlab;
  std::size_t classes = 0;
};

EvalInputs read_eval_inputs(const EvalArgs& a) {
  check_output_file("--json", a.json,
                    {{"--query-codes", a.query_codes},
                     {"--db-codes", a.db_codes},
                     {"--query-labels", a.query_labels},
                     {"--db-labels", a.db_labels}});
  check_output_streams_not_inputs({{"--query-codes", a.query_codes},
                                   {"--db-codes", a.db_codes},
                                   {"--query-labels", a.query_labels},
                                   {"--db-labels", a.db_labels}});
  EvalInputs in;
  in.q = read_codes(a.query_codes);
  // A packed database (uint8 [n, K/8]) is evaluated where it lies, mapped from its file, as ssah
  // search does: its memory is its size on disk, in pages the kernel may drop, not a copy.
  in.d = read_codes(a.db_codes, /*map_packed=*/true);
  const CodesFile &q = in.q, &d = in.d;
  check_has_rows(q, "--query-codes");
  check_has_rows(d, "--db-codes");
  check_same_bits(q, d);
  const io::NpyArray ql = io::read_npy(a.query_labels), dl = io::read_npy(a.db_labels);
  check_rows("query codes", q.array, q.layout.rows, "query labels", ql);
  check_rows("database codes", d.array, d.layout.rows, "database labels", dl);
  const std::size_t qc = io::label_classes(ql), dc = io::label_classes(dl);
  if (ql.ndim() == 2 && dl.ndim() == 2 && qc != dc)
    SSAH_THROW(ShapeError, "query labels '", ql.source, "' have ", qc, " classes but database labels '", dl.source,
               "' have ", dc);
  if (ql.ndim() != dl.ndim())
    SSAH_THROW(ShapeError, "query labels '", ql.source, "' and database labels '", dl.source,
               "' must both be multi-hot [n, classes] or both class ids [n]");
  in.classes = std::max(qc, dc);
  in.qlab = io::labels_from_array(ql, in.classes);
  in.dlab = io::labels_from_array(dl, in.classes);
  return in;
}

void run_eval(const EvalArgs& a) {
  dist::Communicator& comm = ranks();
  EvalInputs in;
  on_every_rank([&] { in = read_eval_inputs(a); });  // every rank reads; a failure is reported once, by rank 0
  const CodesFile &q = in.q, &d = in.d;
  const LabelMatrix &qlab = in.qlab, &dlab = in.dlab;
  const std::size_t classes = in.classes;
  if (comm.rank() == 0) warn_of_unpacked_bits("eval", q, d);

  EvalOptions opt;
  opt.top_r = a.top;
  opt.precision_at = a.precision_at;
  opt.threads = a.threads;
  const int bits = q.layout.bits;
  const auto start = std::chrono::steady_clock::now();
  bool one_code = false;  // every database item has the same code
  const EvalResult r = with_code_bits(bits, [&](auto kc) {
    constexpr int K = decltype(kc)::value;
    const bool in_place = d.mapped && d.layout.bits == K;
    PackedCodes<K> packed;  // the database, when it cannot be read in place
    if (!in_place)
      packed = d.mapped ? PackedCodes<K>::from_bytes(d.mapped->data(), d.layout.rows, d.layout.bits / 8)
                        : io::codes_from_array<K>(d.array);
    const CodesView<K> database = in_place ? CodesView<K>(d.mapped->data(), d.layout.rows) : packed.view();
    const PackedCodes<K> queries = io::codes_from_array<K>(q.array);
    one_code = all_rows_equal(database.data(), database.size(), CodesView<K>::code_bytes);
    if (comm.size() == 1) return evaluate_retrieval(queries.view(), database, qlab, dlab, opt);
    const dist::Shard s = dist::shard_of(database.size(), comm.rank(), comm.size());
    return dist::sharded_evaluate(comm, queries.view(), qlab, database.slice(s.first, s.last),
                                  dlab.slice(s.first, s.last), opt);
  });
  const double seconds = seconds_since(start);
  if (comm.rank() != 0) return;  // rank 0 reports

  const std::string processes = comm.size() > 1 ? ", " + std::to_string(comm.size()) + " ranks" : std::string();
  std::printf("%zu queries, %zu database items, %d bits, %zu classes (%.3f s, Hamming kernel %s%s)\n", r.queries,
              r.database, bits, classes, seconds, hamming_kernel_name().c_str(), processes.c_str());
  std::printf("mAP (ties by database index, as calc_map):  %.6f\n", r.map);
  std::printf("mAP (tie-aware, expected over tie orders):  %.6f\n", r.map_tie_aware);
  if (a.top > 0) std::printf("mAP@%zu:  %.6f\n", a.top, r.map_at_r);
  if (r.queries_without_relevant > 0)
    std::printf("%zu queries share no label with the database (AP 0, counted in the means)\n",
                r.queries_without_relevant);
  const auto warn = [](const char* what) { std::fprintf(stderr, "ssah eval: warning: %s\n", what); };
  std::error_code ec;
  if (std::filesystem::equivalent(a.query_codes, a.db_codes, ec))
    warn("the query codes are the database codes: each query retrieves itself first, which raises the MAP");
  if (one_code) warn("every database item has the same code: the ranking is the database order, not the codes");
  if (r.queries_without_relevant == r.queries)
    warn("no query shares a label with any database item: every AP is 0 whatever the codes");
  if (!r.relevant.empty() && std::all_of(r.relevant.begin(), r.relevant.end(), [&](auto n) { return n == r.database; }))
    warn(
        "every database item shares a label with every query, so every item is relevant to every query and any "
        "ranking has MAP 1");
  if (!a.json.empty()) {
    write_json(a.json, r, bits, classes, seconds);
    std::printf("metrics, precision@N and PR curves written to %s\n", a.json.c_str());
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "mAP (ties by database index, and tie-aware), mAP@R, precision@N and PR curves of Hamming ranking");
  cmd->add_option("--query-codes", args->query_codes,
                  "query codes .npy: ±1 or real values [n, K] (bit = value > 0; int8/float32/float64) or packed bits "
                  "[n, K/8] (uint8)")
      ->required();
  cmd->add_option("--db-codes", args->db_codes, "database codes .npy (same format as the query codes)")->required();
  cmd->add_option("--query-labels", args->query_labels,
                  "query labels .npy: multi-hot [n, classes] (uint8/int32/float32/...) or class ids [n]")
      ->required();
  cmd->add_option("--db-labels", args->db_labels, "database labels .npy (same format as the query labels)")->required();
  cmd->add_option("--top", args->top, "also compute mAP@R over the top R of the ranking, 1 to 2147483647")
      ->transform(integer_range(1, 2147483647));
  cmd->add_option("--precision-at", args->precision_at,
                  "N values of the precision@N curve (comma-separated), each 1 to 2147483647")
      ->delimiter(',')
      ->transform(integer_range(1, 2147483647));
  cmd->add_option("--json", args->json, "write every metric, the precision@N and PR curves and per-query APs here")
      ->check(non_empty_path());
  add_threads_option(*cmd, args->threads);
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace ssah::cli
