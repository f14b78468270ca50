// Equality with NumPy implementations of the reference evaluation code (stable argsort), on
// fixtures written by tests/reference/make_retrieval_fixtures.py.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ssah/eval/metrics.hpp"
#include "ssah/io/code_arrays.hpp"
#include "ssah/hashing/dispatch.hpp"
#include "ssah/io/npy.hpp"

using namespace ssah;

namespace {

const std::string fixtures = std::string(SSAH_TEST_SOURCE_DIR) + "/../reference/fixtures/retrieval/";

std::vector<double> load(const std::string& dir, const char* file) { return io::read_npy(dir + file).as<double>(); }

void check_case(const std::string& name) {
  const std::string dir = fixtures + name + "/";
  const io::NpyArray qc = io::read_npy(dir + "query_codes.npy"), dc = io::read_npy(dir + "db_codes.npy");
  const io::NpyArray qlab = io::read_npy(dir + "query_labels.npy"), dlab = io::read_npy(dir + "db_labels.npy");
  const int bits = static_cast<int>(load(dir, "bits.npy").at(0));
  REQUIRE(io::code_array_layout(qc).bits >= bits);
  const std::size_t classes = io::label_classes(qlab);
  const LabelMatrix ql = io::labels_from_array(qlab, classes), dl = io::labels_from_array(dlab, classes);
  EvalOptions opt;
  opt.top_r = static_cast<std::size_t>(load(dir, "top_r.npy").at(0));
  opt.precision_at.clear();
  for (double v : load(dir, "precision_n.npy")) opt.precision_at.push_back(static_cast<std::size_t>(v));
  const EvalResult r = with_code_bits(io::code_array_layout(qc).bits, [&](auto kc) {
    constexpr int K = decltype(kc)::value;
    return evaluate_retrieval(io::codes_from_array<K>(qc), io::codes_from_array<K>(dc), ql, dl, opt);
  });
  INFO("fixture " << name << ": mAP " << r.map << ", tie-aware " << r.map_tie_aware);
  // Differences come only from the order of floating-point additions.
  CHECK(r.map == doctest::Approx(load(dir, "expected_map.npy").at(0)).epsilon(1e-12));
  CHECK(r.map_at_r == doctest::Approx(load(dir, "expected_map_at_r.npy").at(0)).epsilon(1e-12));
  const auto ap = load(dir, "expected_ap.npy"), ap_r = load(dir, "expected_ap_at_r.npy");
  REQUIRE(r.ap.size() == ap.size());
  for (std::size_t i = 0; i < ap.size(); ++i) {
    CHECK(r.ap[i] == doctest::Approx(ap[i]).epsilon(1e-12));
    CHECK(r.ap_at_r[i] == doctest::Approx(ap_r[i]).epsilon(1e-12));
  }
  const auto pn = load(dir, "expected_precision_at_n.npy");
  REQUIRE(r.precision_at_n.size() == pn.size());
  for (std::size_t i = 0; i < pn.size(); ++i) CHECK(r.precision_at_n[i] == doctest::Approx(pn[i]).epsilon(1e-12));
  const auto pp = load(dir, "expected_pr_precision.npy"), pr = load(dir, "expected_pr_recall.npy");
  REQUIRE(pp.size() == static_cast<std::size_t>(bits) + 1);
  for (std::size_t i = 0; i < pp.size(); ++i) {  // radii beyond `bits` (zero padding) repeat the last value
    CHECK(r.pr_precision.at(i) == doctest::Approx(pp[i]).epsilon(1e-12));
    CHECK(r.pr_recall.at(i) == doctest::Approx(pr[i]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("reference fixtures: the toy example of calc_hammingranking.py (4 bits, int8 codes, int32 labels)") {
  check_case("toy_k4");
}
TEST_CASE("reference fixtures: 16 bits with heavy ties (int8 codes, uint8 labels)") { check_case("k16_ties"); }
TEST_CASE("reference fixtures: 32 bits, 80 classes (float32 codes and labels)") { check_case("k32_c80"); }
TEST_CASE("reference fixtures: 64 bits packed, 130 classes, queries without labels") { check_case("k64_c130_packed"); }
