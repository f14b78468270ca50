#pragma once
// Loading and comparing the golden fixtures of tests/reference/fixtures/model/, written by the
// independent PyTorch implementation tests/reference/make_model_fixtures.py (regenerate with
// `/usr/bin/python3 tests/reference/make_model_fixtures.py`).
//
// Comparison metric (per tensor): the max-normalised error
//     err = max_i |got_i - want_i| / max(max_i |want_i|, 1e-6)
// i.e. the largest elementwise difference relative to the tensor's largest magnitude (the floor
// only matters for an all-zero golden tensor, e.g. a dead text branch, where it demands
// |got| <= 1e-6 * tolerance). Scalars (loss terms) use |got - want| / max(|want|, 1e-6).
// Thresholds: float 1e-4 (the project's requirement); double 1e-6 (the goldens are float64
// results stored as float32, whose rounding is <= 6e-8 of each value).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ssah/io/npy.hpp"
#include "ssah/parameters.hpp"
#include "ssah/tensor.hpp"

namespace ssah::test {

/// Relative tolerance of the comparisons for scalar type T (see the file comment).
template <class T>
constexpr double reference_tolerance() {
  return sizeof(T) == sizeof(float) ? 1e-4 : 1e-6;
}

/// The largest error seen by check_tensor / check_scalar since the last reset, and where.
struct WorstError {
  double error = 0;
  std::string where;
};
inline WorstError& worst_error() {
  static WorstError w;
  return w;
}
inline void note_error(double err, const std::string& where) {
  if (!(err <= worst_error().error)) worst_error() = WorstError{err, where};
}
/// Reports the worst error of a test case (doctest MESSAGE) when it goes out of scope.
struct ReportWorstError {
  ReportWorstError() { worst_error() = WorstError{}; }
  ~ReportWorstError() { MESSAGE("worst error ", worst_error().error, " (", worst_error().where, ")"); }
  ReportWorstError(const ReportWorstError&) = delete;
  ReportWorstError& operator=(const ReportWorstError&) = delete;
};

inline std::string fixture_path(const std::string& rel) {
  return std::string(SSAH_TEST_SOURCE_DIR) + "/../reference/fixtures/model/" + rel;
}

inline Shape shape_of(const std::vector<std::size_t>& e) { return Shape::from_extents(e); }

/// A fixture array as a tensor of T (any stored dtype; float64 -> float rounds).
template <class T>
Tensor<T> load_fixture(const std::string& rel) {
  const io::NpyArray a = io::read_npy(fixture_path(rel));
  return Tensor<T>::from_host(shape_of(a.shape), a.as<T>());
}

/// A fixture array as doubles, with its shape.
struct Golden {
  std::vector<double> values;
  std::vector<std::size_t> shape;
};
inline Golden load_golden(const std::string& rel) {
  const io::NpyArray a = io::read_npy(fixture_path(rel));
  return Golden{a.as<double>(), a.shape};
}

inline std::vector<std::string> read_lines(const std::string& rel) {
  std::ifstream in(fixture_path(rel));
  REQUIRE_MESSAGE(in.good(), "cannot open fixture ", fixture_path(rel));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

/// Max-normalised error of `got` against the golden array (shapes must hold the same count).
inline double max_normalised_error(const std::vector<double>& got, const std::vector<double>& want,
                                   std::size_t* worst = nullptr) {
  REQUIRE(got.size() == want.size());
  double diff = 0, scale = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(got[i] - want[i]);
    if (!(d <= diff)) {  // also catches NaN
      diff = d;
      at = i;
    }
    scale = std::max(scale, std::fabs(want[i]));
  }
  if (worst) *worst = at;
  return diff / std::max(scale, 1e-6);
}

/// Checks `got` against fixture `rel` (shape and values) with the tolerance for T.
template <class T>
void check_tensor(const Tensor<T>& got, const std::string& rel) {
  const Golden g = load_golden(rel);
  const Shape want_shape = shape_of(g.shape);
  INFO("fixture ", rel, ": got shape ", got.shape().str(), ", golden shape ", want_shape.str());
  REQUIRE(got.size() == want_shape.size());
  const std::vector<T> host = got.to_host();
  const std::vector<double> values(host.begin(), host.end());
  std::size_t at = 0;
  const double err = max_normalised_error(values, g.values, &at);
  INFO("max-normalised error ", err, " at element ", at, ": got ", values[at], ", golden ", g.values[at]);
  note_error(err, rel);
  CHECK(err <= reference_tolerance<T>());
}

/// Checks a scalar against element `index` of fixture `rel`.
template <class T>
void check_scalar(T got, const std::string& rel, std::size_t index, const char* what) {
  const Golden g = load_golden(rel);
  REQUIRE(index < g.values.size());
  const double want = g.values[index];
  const double err = std::fabs(static_cast<double>(got) - want) / std::max(std::fabs(want), 1e-6);
  INFO(what, " (", rel, "[", index, "]): got ", static_cast<double>(got), ", golden ", want, ", relative error ", err);
  note_error(err, rel + "[" + std::to_string(index) + "]");
  CHECK(err <= reference_tolerance<T>());
}

/// Loads every parameter of `params` from `<dir>/param.<name>.npy`, after checking that the
/// network's parameter names are exactly those the reference listed in `<dir>/params.txt`.
template <class T>
void load_parameters(ParameterSet<T>& params, const std::string& dir) {
  std::vector<std::string> want = read_lines(dir + "/params.txt"), have;
  for (const auto& e : params.entries()) have.push_back(e.name);
  std::sort(want.begin(), want.end());
  std::sort(have.begin(), have.end());
  std::ostringstream msg;
  for (const auto& n : have) msg << n << ' ';
  INFO("network parameters: ", msg.str());
  REQUIRE(have == want);
  for (const auto& e : params.entries()) {
    const io::NpyArray a = io::read_npy(fixture_path(dir + "/param." + e.name + ".npy"));
    INFO("parameter ", e.name, " has shape ", e.shape.str(), ", fixture ", shape_of(a.shape).str());
    REQUIRE(shape_of(a.shape) == e.shape);
    Tensor<T> value = e.var.value();
    value.assign(Tensor<T>::from_host(e.shape, a.as<T>()));
  }
}

/// Compares every parameter's gradient with `<dir>/<prefix>.<name>.npy`.
template <class T>
void check_gradients(const ParameterSet<T>& params, const std::string& dir, const std::string& prefix = "grad") {
  for (const auto& e : params.entries()) {
    INFO("gradient of ", e.name);
    check_tensor(e.var.grad(), dir + "/" + prefix + "." + e.name + ".npy");
  }
}

}  // namespace ssah::test
