#pragma once
/// \file
/// The end-to-end experiment used by the `ssah train` command and the real-data examples: take a
/// data set (host arrays), a query / database / training split, standardise dense inputs with the
/// training rows' statistics, train SSAH at each requested K, encode query and database items of
/// every modality, and evaluate every retrieval direction ("img->txt", "label->txt", ...).
/// It sits on top of the model, hashing and evaluation layers; it reads and writes no files.
/// `ssah::encode(model, m, items)` joins the first two: a model's K-bit codes as PackedCodes<K>.
///
/// K is an `int` everywhere (BasicSsah<T, K, ...>, PackedCodes<K>, the Hamming kernels); a code
/// length known only at run time becomes K in one place, `with_model_bits` (the model's set,
/// model_bits) or `with_code_bits` (codes read from files, any length up to 1024); `run` switches
/// once per K.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "ssah/detail/host_memory.hpp"
#include "ssah/dist/communicator.hpp"
#include "ssah/error.hpp"
#include "ssah/eval/labels.hpp"
#include "ssah/eval/metrics.hpp"
#include "ssah/hashing/codes.hpp"
#include "ssah/io/array.hpp"
#include "ssah/model/any_model.hpp"
#include "ssah/random.hpp"
#include "ssah/tensor_ops.hpp"

namespace ssah::pipeline {

/// 'source' when a source is named, else what = "the labels" / "modality 'img'": the subject of
/// an error about some input.
inline std::string input_name(const std::string& source, const std::string& what) {
  return source.empty() ? what : "'" + source + "'";
}

struct Modality;

/// Per-column mean and standard deviation of the training rows; a column constant on them keeps
/// std 1 (it is only centred).
struct Standardization {
  std::vector<float> mean, stddev;

  /// Two passes (the mean, then squared deviations from it), so a column of tiny values keeps its
  /// small but real spread (an absolute floor on the variance flattened a MIRFLICKR-730 colour bin
  /// with values of a few 1e-6 and std 4e-7). A constant column comes out with std exactly 0: the
  /// double sum of up to 2^29 equal floats is exact, so the mean equals them.
  static Standardization fit(const Modality& m, const std::vector<std::size_t>& rows);
  /// InvalidArgument when standardising the values of `m` takes one beyond float's range, which
  /// `apply` would turn into Inf: a value far outside the training rows' spread (e.g. 3e38 in a
  /// query row against a std of 0.5). Names the file (or the modality), the row and the column.
  void check_range(const Modality& m) const;
  /// Standardises rows of `values` in place (row width = mean.size()); the arithmetic of
  /// `standardize_values`, which standardises a batch on the device system.
  void apply(std::vector<float>& values) const {
    const std::size_t d = mean.size();
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = (values[i] - mean[i % d]) / stddev[i % d];
  }
  bool empty() const noexcept { return mean.empty(); }
};

/// One modality of a data set: `items` rows of `sample_shape` values each.
/// The values are stored as float (`values`) or, for uint8 inputs (images, 0/1 bags of words), as
/// one byte each (`bytes`): a 224 x 224 image is 147 KiB instead of 588 KiB. Either way they stay
/// as they are; training and encoding read them a batch of rows at a time (`item_rows`), converted
/// to float and standardised then.
struct Modality {
  std::string name;                       ///< used in direction names: "img", "txt", ...
  std::vector<float> values;              ///< items x prod(sample_shape), row-major
  std::vector<std::uint8_t> bytes;        ///< instead of `values` when not empty: uint8 values
  std::vector<std::size_t> sample_shape;  ///< e.g. {4096}, {1386}, {3, 64, 64}
  AnyBackbone<float>::Config backbone;    ///< which network reads it
  bool standardize = true;                ///< z-score with the training rows' mean / std (dense inputs)
  /// The statistics every row is standardised with as it is read (none when empty): fitted from the
  /// training rows by `standardize()` (or by `prepare()` for a modality still marked `standardize`),
  /// or a checkpoint's, to encode new items as training read its own.
  Standardization standardization;
  std::string source;  ///< where the values came from (a file), named in errors; optional

  std::size_t row_size() const {
    std::size_t n = 1;
    for (std::size_t e : sample_shape) n *= e;
    return n;
  }
  /// Number of values stored (items x row_size() when consistent).
  std::size_t value_count() const noexcept { return bytes.empty() ? values.size() : bytes.size(); }
  /// f(the stored values): a `const std::vector<float>&` or a `const std::vector<std::uint8_t>&`,
  /// so that a scan over every value is written once for both and runs without a branch per value.
  template <class F>
  decltype(auto) visit_values(F&& f) const {
    return bytes.empty() ? f(values) : f(bytes);
  }
};

inline Standardization Standardization::fit(const Modality& m, const std::vector<std::size_t>& rows) {
  SSAH_CHECK_AS(InvalidArgument, !rows.empty(), "standardization of modality '", m.name, "': no training rows");
  const std::size_t d = m.row_size();
  const double n = static_cast<double>(rows.size());
  std::vector<double> mean(d, 0.0), squared_deviation(d, 0.0);
  m.visit_values([&](const auto& values) {
    for (std::size_t r : rows)
      for (std::size_t j = 0; j < d; ++j) mean[j] += values[r * d + j];
    for (double& v : mean) v /= n;
    for (std::size_t r : rows)
      for (std::size_t j = 0; j < d; ++j) {
        const double deviation = values[r * d + j] - mean[j];
        squared_deviation[j] += deviation * deviation;
      }
  });
  Standardization s;
  s.mean.resize(d);
  s.stddev.resize(d);
  for (std::size_t j = 0; j < d; ++j) {
    s.mean[j] = static_cast<float>(mean[j]);
    const auto sd = static_cast<float>(std::sqrt(squared_deviation[j] / n));
    s.stddev[j] = sd > 0.f ? sd : 1.f;  // constant (or a spread below float's range): centred only
  }
  return s;
}

inline void Standardization::check_range(const Modality& m) const {
  // Values of one byte cannot leave float's range: |value - mean| <= 255, and a column that is not
  // constant on n training rows has a std of at least about 1 / sqrt(n).
  if (!m.bytes.empty()) return;
  const std::size_t d = mean.size();
  const auto top = static_cast<double>(std::numeric_limits<float>::max());
  for (std::size_t i = 0; i < m.values.size(); ++i) {
    const double deviation = static_cast<double>(m.values[i]) - mean[i % d];
    if (std::fabs(deviation) <= top && std::fabs(deviation / stddev[i % d]) <= top) continue;
    detail::fail<InvalidArgument>(input_name(m.source, "modality '" + m.name + "'"), ": the value ", m.values[i],
                                  " at row ", i / d, ", column ", i % d, " is ", deviation / stddev[i % d],
                                  " standard deviations of the training rows from their mean, beyond float's range "
                                  "once standardised (rescale the input, or train without standardisation)");
  }
}

/// The most hidden layers (or text pooling windows) a network may have, from `--hidden` or a
/// checkpoint: far more than any SSAH network uses, few enough that building one stays quick.
inline constexpr std::size_t max_hidden_layers = 64;

/// Names become parts of direction names ("img->txt") and of the file names of programs that
/// write per-modality outputs: 1 to 64 letters, digits, '_' or '-'; "label" is the label queries'.
inline void check_modality_name(const std::string& name) {
  const bool ok =
      !name.empty() && name.size() <= 64 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
  if (!ok)
    detail::fail<InvalidArgument>("the modality name '", name.substr(0, 64), name.size() > 64 ? "...'" : "'",
                                  " becomes part of direction and file names: use 1 to 64 letters, digits, '_' or '-'");
  SSAH_CHECK_AS(InvalidArgument, name != "label", "the modality name 'label' is reserved for label queries");
}

/// Refuses modality names whose files would collide: two that differ only in letter case (one file
/// on a case-insensitive file system), or two directions that share a file name,
/// "<query>_to_<database>" (names 'a' and 'a_to_a' give 'a_to_a_to_a' both ways).
inline void check_modality_names_apart(const std::vector<std::string>& names) {
  const auto folded = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (std::size_t i = 0; i < names.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (names[i] != names[j] && folded(names[i]) == folded(names[j]))
        detail::fail<InvalidArgument>("the modality names '", names[j], "' and '", names[i],
                                      "' differ only in letter case: their files would be one on a case-insensitive "
                                      "file system");
  std::map<std::string, std::string> directions;  // folded file name -> direction
  std::vector<std::string> queries = names;
  queries.push_back("label");
  for (const std::string& q : queries)
    for (const std::string& d : names) {
      const std::string direction = q + "->" + d;
      const auto [it, added] = directions.emplace(folded(q + "_to_" + d), direction);
      if (!added && it->second != direction)
        detail::fail<InvalidArgument>("the directions '", it->second, "' and '", direction,
                                      "' would write the same files ('", q, "_to_", d,
                                      "'): rename one of the modalities");
    }
}

struct Dataset {
  std::size_t items = 0;
  std::size_t classes = 0;
  std::vector<float> labels;  ///< items x classes, multi-hot 0/1
  std::vector<Modality> modalities;
  std::string labels_source;  ///< where the labels came from (a file), named in errors; optional

  /// Throws a clear error, naming the input's source when it has one, for inconsistent sizes,
  /// NaN/Inf, labels other than 0/1, or modality names that are invalid or repeated.
  void validate() const {
    const std::string lab = input_name(labels_source, "the labels");
    SSAH_CHECK_AS(ShapeError, items > 0 && classes > 0, lab, ": no items or no classes");
    SSAH_CHECK_AS(ShapeError, labels.size() == items * classes, lab, ": ", labels.size(), " values, expected ", items,
                  " x ", classes);
    for (std::size_t i = 0; i < labels.size(); ++i)
      SSAH_CHECK_AS(InvalidArgument, labels[i] == 0.f || labels[i] == 1.f, lab, ": labels must be 0 or 1, found ",
                    labels[i], " at row ", i / classes, ", column ", i % classes);
    SSAH_CHECK_AS(ShapeError, !modalities.empty(), "dataset: no modality");
    for (std::size_t k = 0; k < modalities.size(); ++k) {
      const Modality& m = modalities[k];
      check_modality_name(m.name);
      for (std::size_t j = 0; j < k; ++j)
        SSAH_CHECK_AS(InvalidArgument, modalities[j].name != m.name, "the modality name '", m.name, "' is used twice");
      const std::string what = input_name(m.source, "modality '" + m.name + "'");
      SSAH_CHECK_AS(ShapeError, m.row_size() > 0, what, ": items of no values (shape ", m.sample_shape.size(), "-d)");
      SSAH_CHECK_AS(ShapeError, m.value_count() % m.row_size() == 0 && m.value_count() / m.row_size() == items, what,
                    " has ", m.value_count() / m.row_size(), " rows but the labels",
                    labels_source.empty() ? "" : " '" + labels_source + "'", " have ", items);
      SSAH_CHECK_AS(InvalidArgument, m.bytes.empty() || m.values.empty(), what,
                    ": values given both as floats and as bytes; give one");
      if (m.bytes.empty()) io::check_finite(m.values.data(), items, m.row_size(), what);
      if (!m.standardization.empty())
        SSAH_CHECK_AS(ShapeError,
                      m.standardization.mean.size() == m.row_size() && m.standardization.stddev.size() == m.row_size(),
                      what, ": standardisation statistics of ", m.standardization.mean.size(), " and ",
                      m.standardization.stddev.size(), " columns for items of ", m.row_size(), " values");
    }
    std::vector<std::string> names;
    for (const Modality& m : modalities) names.push_back(m.name);
    check_modality_names_apart(names);
  }
};

/// A modality from an array [items, ...] of 2 to 4 dimensions (e.g. read with io::read_npy):
/// uint8 values kept as they are (`Modality::bytes`, moved out of `a`), any other type as floats,
/// checked; the array's source (a file name) is named in errors.
inline Modality modality_from_array(std::string name, io::HostArray a) {
  const std::string what = input_name(a.source, "modality '" + name + "'");
  if (a.ndim() < 2 || a.ndim() > 4)
    detail::fail<ShapeError>(what, ": a modality must be an array [items, ...] of 2 to 4 dimensions, got shape ",
                             io::shape_str(a.shape));
  if (a.rows() == 0 || a.row_size() == 0)
    detail::fail<ShapeError>(what, ": no items (shape ", io::shape_str(a.shape), ")");
  io::check_finite(a);
  Modality m;
  m.name = std::move(name);
  m.sample_shape.assign(a.shape.begin() + 1, a.shape.end());
  if (a.dtype == io::DType::U8)
    m.bytes = std::move(a.bytes);  // std::uint8_t is unsigned char: the bytes are the values
  else
    m.values = a.as<float>();
  m.source = a.source;
  return m;
}

/// A data set's labels from a multi-hot array [items, classes] of 0/1 (any numeric type), with no
/// modality yet: items, classes, labels and labels_source (the array's source) are set, and the
/// values checked.
inline Dataset dataset_from_labels(const io::HostArray& labels) {
  const std::string what = input_name(labels.source, "the labels");
  if (labels.ndim() != 2 || labels.rows() == 0 || labels.shape[1] == 0)
    detail::fail<ShapeError>(what, ": labels must be a multi-hot array [items, classes], got shape ",
                             io::shape_str(labels.shape));
  io::check_finite(labels);
  Dataset data;
  data.items = labels.rows();
  data.classes = labels.shape[1];
  data.labels = labels.as<float>();
  data.labels_source = labels.source;
  for (std::size_t i = 0; i < data.labels.size(); ++i)
    SSAH_CHECK_AS(InvalidArgument, data.labels[i] == 0.f || data.labels[i] == 1.f, what,
                  ": labels must be 0 or 1, found ", data.labels[i], " at row ", i / data.classes, ", column ",
                  i % data.classes);
  return data;
}

/// Row indices of the query, database and training sets (training rows may be database rows).
struct Split {
  std::vector<std::size_t> query, database, train;

  /// The MIRFLICKR protocol: a seeded permutation; query = its first `queries` rows, database =
  /// the rest, training set = the first `train_items` database rows.
  static Split random(std::size_t items, std::size_t queries, std::size_t train_items, std::uint64_t seed) {
    SSAH_CHECK_AS(InvalidArgument, queries < items, "split: ", queries, " queries leave no database among ", items,
                  " items");
    SSAH_CHECK_AS(InvalidArgument, train_items > 0 && train_items <= items - queries, "split: ", train_items,
                  " training items do not fit in a database of ", items - queries);
    HostRng rng(seed);
    const std::vector<std::size_t> perm = rng.permutation(items);
    Split s;
    s.query.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(queries));
    s.database.assign(perm.begin() + static_cast<std::ptrdiff_t>(queries), perm.end());
    s.train.assign(s.database.begin(), s.database.begin() + static_cast<std::ptrdiff_t>(train_items));
    return s;
  }

  void validate(std::size_t items) const {
    const std::pair<const char*, const std::vector<std::size_t>*> parts[] = {
        {"query", &query}, {"database", &database}, {"train", &train}};
    for (const auto& [name, rows] : parts) {
      SSAH_CHECK_AS(InvalidArgument, !rows->empty(), "split: the ", name, " set is empty");
      for (std::size_t r : *rows)
        SSAH_CHECK_AS(InvalidArgument, r < items, "split: ", name, " index ", r, " is out of range for ", items,
                      " items");
    }
    // A row listed twice would count twice in every mean (training rows may repeat: oversampling).
    for (const auto& [name, rows] : {parts[0], parts[1]}) {
      std::vector<bool> seen(items, false);
      for (std::size_t r : *rows) {
        SSAH_CHECK_AS(InvalidArgument, !seen[r], "split: the ", name, " set lists row ", r, " twice");
        seen[r] = true;
      }
    }
    SSAH_CHECK_AS(InvalidArgument, overlap() < query.size(),
                  "split: every query is also a database item, so each "
                  "query retrieves itself and the MAP measures nothing; the query and database sets must differ");
  }

  /// Number of query rows that are also database rows.
  std::size_t overlap() const {
    std::size_t n = 0;
    const std::size_t items =
        query.empty() && database.empty()
            ? 0
            : 1 + std::max(query.empty() ? 0 : *std::max_element(query.begin(), query.end()),
                           database.empty() ? 0 : *std::max_element(database.begin(), database.end()));
    std::vector<bool> in_database(items, false);
    for (std::size_t r : database) in_database[r] = true;
    for (std::size_t r : query) n += in_database[r] ? 1 : 0;
    return n;
  }
};

/// Whether the values of `m` equal `values` (as numbers: uint8 against float).
template <class V>
bool same_values(const Modality& m, const std::vector<V>& values) {
  return m.visit_values([&](const auto& mine) {
    return mine.size() == values.size() && std::equal(mine.begin(), mine.end(), values.begin());
  });
}

/// What makes results misleading in a data set and split that `validate` accepts, because it may
/// be intended: one message per finding (programs print them and record them in their reports).
/// An error (InvalidArgument) where nothing can be learned or measured: no item with a label, or
/// no training item with one.
inline std::vector<std::string> data_warnings(const Dataset& data, const Split& split) {
  auto unlabelled = [&](const std::vector<std::size_t>& rows) {
    std::size_t n = 0;
    for (std::size_t r : rows) {
      const float* l = data.labels.data() + r * data.classes;
      n += std::all_of(l, l + data.classes, [](float v) { return v == 0.f; }) ? 1 : 0;
    }
    return n;
  };
  SSAH_CHECK_AS(InvalidArgument, unlabelled(split.train) < split.train.size(),
                "labels: no training item has a label, so no pair is similar and there is nothing to learn");
  SSAH_CHECK_AS(InvalidArgument, unlabelled(split.database) < split.database.size(),
                "labels: no database item has a label, so nothing is ever relevant and every MAP is 0");
  std::vector<std::string> warnings;
  const std::pair<const char*, const std::vector<std::size_t>*> parts[] = {
      {"query", &split.query}, {"database", &split.database}, {"training", &split.train}};
  for (const auto& [name, rows] : parts)
    if (const std::size_t n = unlabelled(*rows); n > 0)
      warnings.push_back(::ssah::detail::concat(n, " of the ", rows->size(), " ", name, " items have no label (",
                                                std::string(name) == "query"      ? "their AP is 0, counted in the MAP"
                                                : std::string(name) == "database" ? "never relevant to any query"
                                                                                  : "dissimilar to every item",
                                                ")"));
  if (const std::size_t n = split.overlap(); n > 0)
    warnings.push_back(::ssah::detail::concat(n, " of the ", split.query.size(),
                                              " queries are also database items: each retrieves itself, which "
                                              "raises the MAP"));
  {
    std::vector<unsigned char> seen(data.items, 0);
    std::size_t repeated = 0, queries = 0;
    for (std::size_t r : split.train) {  // a flag, not a count (a count of 256 wrapped to 0)
      repeated += seen[r] ? 1 : 0;
      seen[r] = 1;
    }
    for (std::size_t r : split.query) queries += seen[r] ? 1 : 0;
    if (repeated > 0)
      warnings.push_back(::ssah::detail::concat(repeated, " of the ", split.train.size(),
                                                " training rows repeat an earlier one (those items weigh more)"));
    if (queries > 0)
      warnings.push_back(::ssah::detail::concat(queries, " of the ", split.query.size(),
                                                " queries are training items: the MAP is measured on items the "
                                                "model was trained on"));
  }
  // Every query shares a label with every database item: every item is relevant, any ranking has
  // MAP 1. (Real data has an unrelated pair among the first few, so the scan ends early.)
  const std::size_t words = (data.classes + 63) / 64;
  auto label_bits = [&](const std::vector<std::size_t>& rows) {
    std::vector<std::uint64_t> bits(rows.size() * words, 0);
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t c = 0; c < data.classes; ++c)
        if (data.labels[rows[i] * data.classes + c] != 0.f) bits[i * words + c / 64] |= std::uint64_t(1) << (c % 64);
    return bits;
  };
  const std::vector<std::uint64_t> qb = label_bits(split.query), db = label_bits(split.database);
  const auto shares = [&](std::size_t i, std::size_t j) {
    for (std::size_t w = 0; w < words; ++w)
      if (qb[i * words + w] & db[j * words + w]) return true;
    return false;
  };
  std::size_t without_relevant = 0;  // labelled queries that share no label with any database item
  for (std::size_t i = 0; i < split.query.size(); ++i) {
    bool labelled = false, found = false;
    for (std::size_t w = 0; w < words; ++w) labelled = labelled || qb[i * words + w] != 0;
    for (std::size_t j = 0; j < split.database.size() && labelled && !found; ++j) found = shares(i, j);
    without_relevant += labelled && !found ? 1 : 0;
  }
  if (without_relevant > 0)
    warnings.push_back(::ssah::detail::concat(without_relevant, " of the ", split.query.size(),
                                              " queries share no label with any database item (their AP is 0, "
                                              "counted in the MAP)"));
  if (split.database.size() < 2 || split.train.size() < 2)
    warnings.push_back(::ssah::detail::concat(split.database.size(), " database and ", split.train.size(),
                                              " training items: too few to rank or to learn from"));
  bool all_relevant = true;
  for (std::size_t i = 0; i < split.query.size() && all_relevant; ++i)
    for (std::size_t j = 0; j < split.database.size() && all_relevant; ++j) all_relevant = shares(i, j);
  if (all_relevant)
    warnings.push_back(
        "every query shares a label with every database item, so every item is relevant to every "
        "query and any ranking has MAP 1");
  // Every training pair shares a label: the similarity matrix S is all ones, so the pairwise terms
  // pull every code together and nothing is learned that separates items (a label file whose
  // training rows are all one class). A class every training item has decides it at once.
  if (split.train.size() > 1) {
    const std::vector<std::uint64_t> tb = label_bits(split.train);
    std::vector<std::uint64_t> common(tb.begin(), tb.begin() + static_cast<std::ptrdiff_t>(words));
    for (std::size_t i = 1; i < split.train.size(); ++i)
      for (std::size_t w = 0; w < words; ++w) common[w] &= tb[i * words + w];
    bool all_similar = std::any_of(common.begin(), common.end(), [](std::uint64_t b) { return b != 0; });
    if (!all_similar) {
      all_similar = true;
      for (std::size_t i = 0; i < split.train.size() && all_similar; ++i)
        for (std::size_t j = i + 1; j < split.train.size() && all_similar; ++j) {
          bool share = false;
          for (std::size_t w = 0; w < words && !share; ++w) share = (tb[i * words + w] & tb[j * words + w]) != 0;
          all_similar = share;
        }
    }
    if (all_similar)
      warnings.push_back(
          "every training item shares a label with every other training item, so every training pair is "
          "similar and the codes learn nothing that tells items apart");
  }
  for (std::size_t k = 0; k < data.modalities.size(); ++k) {
    const Modality& m = data.modalities[k];
    const std::size_t d = m.row_size();
    const bool constant = m.visit_values([&](const auto& values) {
      const auto first = values.begin() + static_cast<std::ptrdiff_t>(split.train.front() * d);
      return std::all_of(split.train.begin(), split.train.end(), [&](std::size_t r) {
        return std::equal(first, first + static_cast<std::ptrdiff_t>(d),
                          values.begin() + static_cast<std::ptrdiff_t>(r * d));
      });
    });
    if (constant && split.train.size() > 1)
      warnings.push_back(::ssah::detail::concat("modality '", m.name,
                                                "' has the same values in every training item: "
                                                "its network has nothing to learn from, its codes will not differ"));
    if (same_values(m, data.labels))
      warnings.push_back(::ssah::detail::concat("modality '", m.name,
                                                "' holds the labels themselves: its MAP measures the labels, "
                                                "not what the model learns from data"));
    for (std::size_t j = 0; j < k; ++j)
      if (data.modalities[j].visit_values([&](const auto& values) { return same_values(m, values); }))
        warnings.push_back(::ssah::detail::concat("modalities '", data.modalities[j].name, "' and '", m.name,
                                                  "' hold the same values"));
  }
  return warnings;
}

/// The statistics the rows of `m` are read with: for a modality marked `standardize`, those of the
/// training rows `train`, fitted and checked (`check_range`); for any other, its own
/// `standardization` (none when empty).
inline Standardization training_statistics(const Modality& m, const std::vector<std::size_t>& train) {
  if (!m.standardize) return m.standardization;
  Standardization st = Standardization::fit(m, train);
  st.check_range(m);
  return st;
}

/// Fits, for every modality of `data` marked `standardize`, its training rows' statistics, records
/// them in the modality (`Modality::standardization`: its rows are standardised as they are read)
/// and unmarks it; returns each modality's statistics (empty where none), e.g. to keep in a
/// checkpoint for encoding new items. The stored values are not changed. A program calls it before
/// a long run: a value beyond float's range once standardised is refused here.
inline std::vector<Standardization> standardize(Dataset& data, const Split& split) {
  std::vector<Standardization> out;
  for (Modality& m : data.modalities) {
    m.standardization = training_statistics(m, split.train);
    m.standardize = false;
    out.push_back(m.standardization);
  }
  return out;
}

/// What standardize() and prepare() check of every modality marked `standardize` (its values stay
/// within float's range once standardised with the training rows' statistics), without changing
/// `data`.
inline void check_standardization(const Dataset& data, const Split& split) {
  for (const Modality& m : data.modalities) training_statistics(m, split.train);
}

/// The rows `rows` of a row-major array with `width` values per row.
template <class T>
std::vector<T> take_rows(const std::vector<T>& values, std::size_t width, const std::vector<std::size_t>& rows) {
  std::vector<T> out(rows.size() * width);
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy(values.begin() + static_cast<std::ptrdiff_t>(rows[i] * width),
              values.begin() + static_cast<std::ptrdiff_t>((rows[i] + 1) * width),
              out.begin() + static_cast<std::ptrdiff_t>(i * width));
  return out;
}

/// mAP and curves of ranking K-bit `database` hashes for each of `queries` (real values [rows, K],
/// bit = value > 0), relevance = sharing a label.
template <int K>
EvalResult evaluate_hashes(const std::vector<float>& queries, const std::vector<float>& database,
                           const LabelMatrix& query_labels, const LabelMatrix& database_labels,
                           const EvalOptions& options) {
  return evaluate_retrieval(PackedCodes<K>::from_values(queries), PackedCodes<K>::from_values(database), query_labels,
                            database_labels, options);
}

/// What to train and evaluate.
struct Experiment {
  std::vector<int> bits = {16, 32, 64};
  std::string objective = "paper";
  TrainOptions train;
  FeatureNet<float>::Config label_net{};
  Discriminator<float>::Config discriminator{};
  InitScheme init = InitScheme::ReferenceNormal;
  std::uint64_t seed = 0;
  /// Also evaluate label vectors as queries ("label->txt").
  bool label_queries = true;
  /// Also evaluate within a modality ("img->img").
  bool same_modality = true;
  EvalOptions eval{};
  /// Called with each trained model (e.g. to save a checkpoint) before it is evaluated.
  std::function<void(int bits, AnyModel<float>& model)> on_trained;
  /// Called after every training epoch (e.g. to write a checkpoint that a later run resumes from).
  std::function<void(int bits, AnyModel<float>& model)> on_epoch;
  /// Returns the model to train at `bits`, or nullptr for a fresh one: e.g. one read from a
  /// checkpoint, its state restored with `restore_training_state(train, options, ...)`. Training
  /// continues from its epoch up to train.epochs (not at all when it has reached them).
  std::function<std::unique_ptr<AnyModel<float>>(int bits, const TrainingSet<float>& train,
                                                 const TrainOptions& options)>
      start_model;
};

struct Direction {
  std::string name;    ///< "img->txt"
  int query_modality;  ///< -1 for label queries
  int database_modality;
  EvalResult result;
};

struct BitsResult {
  int bits = 0;
  double train_seconds = 0;
  double encode_seconds = 0;
  std::size_t epochs = 0;
  std::size_t start_epoch = 0;  ///< epochs the model had before this run (start_model)
  std::vector<Direction> directions;
  /// H of the query and database rows, per modality ([rows, bits], row-major; codes = sign).
  std::vector<std::vector<float>> query_hashes, database_hashes;
  /// The statistics the inputs were standardised with, per modality (empty when not standardised):
  /// new items need them before `hashes()`.
  std::vector<Standardization> standardization;
};

/// The query, database and training rows of every modality, as the networks read them.
struct Prepared {
  std::vector<Standardization> standardization;  ///< per modality (empty when not standardised)
  std::vector<ItemRows<float>> query, database, train;  ///< read from the Dataset's values
  Tensor<float> train_labels;
};

/// The tensor shape of `rows` items of `sample_shape` (1 to 3 dimensions).
inline Shape items_shape(std::size_t rows, const std::vector<std::size_t>& sample_shape) {
  SSAH_CHECK_AS(ShapeError, !sample_shape.empty() && sample_shape.size() <= 3,
                "pipeline: items must have 1 to 3 dimensions, got ", sample_shape.size());
  return Shape::from_extents(sample_shape, {rows});
}

/// The rows `rows` of modality `m` as the networks read them, made a batch at a time: the stored
/// values (float or uint8) of the rows asked for are copied out, moved to the device system, and
/// there converted to float and standardised with `standardization` (none when empty), so that no
/// float copy of all the items is ever made. The rows read `m`'s values: `m` must outlive them.
inline ItemRows<float> item_rows(const Modality& m, std::vector<std::size_t> rows,
                                 const Standardization& standardization) {
  struct Source {
    const Modality* modality;
    std::vector<std::size_t> rows;
    Tensor<float> mean, stddev;  // on the device system; undefined: no standardisation
  };
  auto source = std::make_shared<Source>();
  source->modality = &m;
  source->rows = std::move(rows);
  if (!standardization.empty()) {
    source->mean = Tensor<float>::from_host(Shape{standardization.mean.size()}, standardization.mean);
    source->stddev = Tensor<float>::from_host(Shape{standardization.stddev.size()}, standardization.stddev);
  }
  const Shape shape = items_shape(source->rows.size(), m.sample_shape);
  return ItemRows<float>(shape, [source, shape](const std::vector<std::size_t>& batch) {
    const Modality& mod = *source->modality;
    const std::size_t d = mod.row_size();
    return mod.visit_values([&](const auto& values) {
      using Stored = typename std::decay_t<decltype(values)>::value_type;
      Tensor<Stored> stored;
      {  // the host copy goes before the conversion: two copies of the batch at a time, not three
        std::vector<Stored> host(batch.size() * d);
        for (std::size_t k = 0; k < batch.size(); ++k) {
          const auto first = values.begin() + static_cast<std::ptrdiff_t>(source->rows[batch[k]] * d);
          std::copy(first, first + static_cast<std::ptrdiff_t>(d), host.begin() + static_cast<std::ptrdiff_t>(k * d));
        }
        stored = Tensor<Stored>::from_host(Shape{batch.size(), d}, host);
      }
      return standardize_values(stored, source->mean, source->stddev).reshape(shape.with_rows(batch.size()));
    });
  });
}

/// Every row of `m`, read as item_rows reads them.
inline ItemRows<float> item_rows(const Modality& m, const Standardization& standardization) {
  std::vector<std::size_t> rows(m.row_size() ? m.value_count() / m.row_size() : 0);
  std::iota(rows.begin(), rows.end(), std::size_t(0));
  return item_rows(m, std::move(rows), standardization);
}

/// Hashes H ([rows, bits], row-major; the codes are their signs) of every row of `items` by the
/// network of modality `m`, read `default_encode_batch` rows at a time (the values of one
/// `hashes()` call on all of them, without holding all of them). With `ranks` (several processes
/// holding the same model and items), rank r encodes the pieces r, r + P, ... and every rank
/// receives all of them: the same values, P times faster.
inline std::vector<float> hashes_of_rows(const AnyModel<float>& model, std::size_t m, const ItemRows<float>& items,
                                         dist::Communicator* ranks = nullptr) {
  const auto bits = static_cast<std::size_t>(model.bits());
  const std::size_t rows = items.rows(), piece = default_encode_batch * bits;
  const auto rank = static_cast<std::size_t>(ranks ? ranks->rank() : 0);
  const auto size = static_cast<std::size_t>(ranks ? ranks->size() : 1);
  std::vector<float> out(rows * bits);
  for (std::size_t first = rank * default_encode_batch; first < rows; first += size * default_encode_batch)
    model.hashes(m, items.slice(first, std::min(rows, first + default_encode_batch)))
        .copy_to_host(out.data() + first * bits);
  if (size == 1) return out;
  std::vector<float> mine;  // this rank's pieces, in order
  for (std::size_t at = rank * piece; at < out.size(); at += size * piece)
    mine.insert(mine.end(), out.begin() + static_cast<std::ptrdiff_t>(at),
                out.begin() + static_cast<std::ptrdiff_t>(std::min(out.size(), at + piece)));
  const auto all = ranks->all_gather(mine.data(), mine.size() * sizeof(float));
  for (std::size_t r = 0; r < size; ++r) {
    const auto* from = reinterpret_cast<const float*>(all[r].data());
    for (std::size_t at = r * piece; at < out.size(); at += size * piece) {
      const std::size_t count = std::min(out.size(), at + piece) - at;
      std::copy(from, from + count, out.begin() + static_cast<std::ptrdiff_t>(at));
      from += count;
    }
  }
  return out;
}

/// Hashes H ([rows, bits], row-major; the codes are their signs) of new items of modality `m`
/// by a trained model, the items first standardised with `standardization` as training did (an
/// empty one leaves them as they are): e.g. with a checkpoint's statistics.
inline std::vector<float> hashes_of(const AnyModel<float>& model, std::size_t m, const Modality& items,
                                    const Standardization& standardization) {
  return hashes_of_rows(model, m, item_rows(items, standardization));
}

/// The query, database and training rows of every modality, standardised with the training rows'
/// statistics where a modality is marked `standardize` (with its own `standardization` otherwise).
/// The rows read `data`'s values: `data` must outlive them.
inline Prepared prepare(const Dataset& data, const Split& split) {
  data.validate();
  split.validate(data.items);
  Prepared p;
  for (const Modality& m : data.modalities) {
    Standardization st = training_statistics(m, split.train);
    p.query.push_back(item_rows(m, split.query, st));
    p.database.push_back(item_rows(m, split.database, st));
    p.train.push_back(item_rows(m, split.train, st));
    p.standardization.push_back(std::move(st));
  }
  p.train_labels = Tensor<float>::from_host(Shape{split.train.size(), data.classes},
                                            take_rows(data.labels, data.classes, split.train));
  return p;
}

inline ModelSpec<float> model_spec(const Dataset& data, const Experiment& e, int bits) {
  ModelSpec<float> spec;
  spec.bits = bits;
  spec.objective = e.objective;
  spec.num_labels = data.classes;
  for (const Modality& m : data.modalities) {
    items_shape(0, m.sample_shape);  // checks the rank
    spec.sample_shapes.push_back(Shape::from_extents(m.sample_shape));
    spec.backbones.push_back(m.backbone);
  }
  spec.label_net = e.label_net;
  spec.discriminator = e.discriminator;
  spec.init = e.init;
  spec.seed = e.seed;
  return spec;
}

/// Float copies of the fully connected weights (as training_memory_lower_bound counts them) that
/// training holds. Four at the least: the weights, their gradients and Adam's two moments. The
/// `ssah` program, which also writes a checkpoint (weights, moments and the exported training
/// state) every epoch, peaked at about ten (peak resident memory over the counted weights' bytes,
/// `ssah train --hidden W,W --bits 16` on 240 items of 32 values: 9.6 at W = 3000, 9.3 at
/// W = 6000; 2026-12-06): gradients of each product are allocated before they are added into the
/// flat gradient buffer, and the memory pool keeps freed blocks for reuse.
inline constexpr double kTrainingWeightCopies = 4, kCheckpointedTrainingWeightCopies = 10;

/// What training needs at the least, in bytes (training_memory_lower_bound).
struct TrainingMemory {
  double weights = 0;      ///< float copies of every network's weights (see `copies`)
  double activations = 0;  ///< the values one step's forward pass keeps for its backward pass
  double total() const { return weights + activations; }
};

/// An estimate, in bytes, of the memory that training `spec` on `data` needs with `train_rows`
/// training rows drawn in batches of `batch_size`: `copies` float copies of every network's
/// weights (the label network, each modality's backbone and heads, each discriminator) and the
/// largest step's activations (one network and its discriminator at a time, as the trainer runs
/// them; each value counted once, not its gradient), with the pairwise terms' similarity and
/// inner products, two floats per (training row, batch row). A lower bound at the defaults: the
/// training buffers and the input data come on top.
inline TrainingMemory training_memory_lower_bound(const ModelSpec<float>& spec, const Dataset& data,
                                                  std::size_t train_rows, std::size_t batch_size,
                                                  double copies = kTrainingWeightCopies) {
  struct Chain {
    double weights = 0, activations = 0;  // per item
  };
  auto chain = [](double in, const std::vector<std::size_t>& widths) {
    Chain c{0, in};
    for (std::size_t w : widths) {
      c.weights += in * static_cast<double>(w);
      c.activations += static_cast<double>(w);
      in = static_cast<double>(w);
    }
    return c;
  };
  const double feature = spec.label_net.hidden.empty() ? 0 : static_cast<double>(spec.label_net.hidden.back());
  const double heads = static_cast<double>(spec.bits) + static_cast<double>(data.classes);
  const Chain label = chain(static_cast<double>(data.classes), spec.label_net.hidden);
  const Chain discriminator = chain(feature, spec.discriminator.hidden);
  double weights = label.weights + (feature + 1) * heads;
  double step_activations = label.activations + heads;
  for (std::size_t m = 0; m < data.modalities.size() && m < spec.backbones.size(); ++m) {
    const auto& b = spec.backbones[m];
    const auto in = static_cast<double>(data.modalities[m].row_size());
    Chain net;
    if (b.kind == "feature") net = chain(in, b.feature.hidden);
    if (b.kind == "text") net = chain(in * static_cast<double>(1 + b.text.windows.size()), b.text.hidden);
    if (b.kind == "cnnf") {
      try {
        const auto layout = CnnF<float>::layout(spec.sample_shapes.at(m), b.cnnf);
        for (const auto& p : layout.params) net.weights += static_cast<double>(p.shape.size());
        net.activations = static_cast<double>(layout.activations_per_item);
      } catch (const Error&) {  // an image too small: check_backbone says so
      }
    }
    weights += net.weights + (feature + 1) * heads + discriminator.weights;
    // The modality's step: its network, and its discriminator on the label features and on its own.
    step_activations = std::max(step_activations, net.activations + heads + 2 * discriminator.activations);
  }
  const auto batch = static_cast<double>(std::min(batch_size, train_rows));
  step_activations += 2 * static_cast<double>(train_rows);
  return {weights * copies * sizeof(float), batch * step_activations * sizeof(float)};
}

/// OutOfMemory, before anything is allocated, when `training_memory_lower_bound` exceeds the
/// memory this process can have (detail::available_host_memory). The message says whether the
/// widths (weights) or the batch size (activations) ask for more.
inline void check_training_memory(const ModelSpec<float>& spec, const Dataset& data, std::size_t train_rows,
                                  std::size_t batch_size, double copies = kTrainingWeightCopies) {
  const TrainingMemory needed = training_memory_lower_bound(spec, data, train_rows, batch_size, copies);
  const auto available = static_cast<double>(detail::available_host_memory());
  if (needed.total() <= available) return;
  std::string widths;
  for (std::size_t w : spec.label_net.hidden) widths += (widths.empty() ? "" : ",") + std::to_string(w);
  auto bytes = [](double b) {
    return b >= 1.8e19 ? std::string("more than any memory") : detail::human_bytes(static_cast<std::size_t>(b));
  };
  const std::string batch = std::to_string(std::min(batch_size, train_rows));
  if (needed.activations > needed.weights)
    detail::fail<OutOfMemory>("a training step on a batch of ", batch, " of ", train_rows, " rows needs at least ",
                              bytes(needed.total()), " (", bytes(needed.activations), " of activations); ",
                              bytes(available), " of memory is available");
  detail::fail<OutOfMemory>("the networks need at least ", bytes(needed.total()),
                            copies > kTrainingWeightCopies ? " for training and checkpoints"
                                                           : " for their weights, gradients and optimiser state",
                            " (widths ", widths, "); ", bytes(available), " of memory is available");
}

/// "CnnF: input ..." -> "input ...": the reason of a message whose origin, a class or function
/// name, the caller names in its own words.
inline std::string message_reason(const std::string& message) {
  std::size_t i = 0;
  while (i < message.size() &&
         (std::isalnum(static_cast<unsigned char>(message[i])) || message[i] == '_' || message[i] == ':'))
    ++i;
  if (i > 2 && i + 1 < message.size() && message.compare(i - 1, 2, ": ") == 0 && message[i - 2] != ':')
    return message.substr(i + 1);
  return message;
}

/// Builds the backbone of modality m of `spec` once, without training, so that one that cannot
/// read its items (an image too small for CNN-F, a vocabulary narrower than the text network's
/// pooling windows) fails before anything else: InvalidArgument "the KIND backbone cannot read
/// the items of 'NAME' (shape [...]): <reason>" (OutOfMemory passes through).
inline void check_backbone(const ModelSpec<float>& spec, std::size_t m, const std::string& name) {
  try {
    ParameterSet<float> params;
    AnyBackbone<float> net(spec.sample_shapes.at(m), spec.backbones.at(m), params);
  } catch (const OutOfMemory&) {
    throw;
  } catch (const Error& err) {
    const std::string& kind = spec.backbones[m].kind;
    detail::fail<InvalidArgument>("the ", kind == "cnnf" ? std::string("CNN-F") : kind,
                                  " backbone cannot read the items of '", name, "' (shape ",
                                  spec.sample_shapes[m].str(), "): ", message_reason(err.what()));
  }
}

/// Both checks above for every modality at `bits`, for training on `train_items` items (0: all of
/// `data`) with e.train's batch size: what to call before a long run.
inline void check_networks(const Dataset& data, const Experiment& e, int bits, std::size_t train_items = 0) {
  const ModelSpec<float> spec = model_spec(data, e, bits);
  check_training_memory(spec, data, train_items > 0 ? train_items : data.items, e.train.batch_size);
  for (std::size_t m = 0; m < data.modalities.size(); ++m) check_backbone(spec, m, data.modalities[m].name);
}

/// Trains and evaluates at every K of `experiment.bits`.
inline std::vector<BitsResult> run(const Dataset& data, const Split& split, const Experiment& experiment) {
  for (int bits : experiment.bits)
    check_training_memory(model_spec(data, experiment, bits), data, split.train.size(), experiment.train.batch_size);
  const Prepared p = prepare(data, split);
  const LabelMatrix query_labels =
      LabelMatrix::from_multi_hot(take_rows(data.labels, data.classes, split.query), data.classes);
  const LabelMatrix db_labels =
      LabelMatrix::from_multi_hot(take_rows(data.labels, data.classes, split.database), data.classes);
  const Tensor<float> query_label_rows = Tensor<float>::from_host(Shape{split.query.size(), data.classes},
                                                                  take_rows(data.labels, data.classes, split.query));
  TrainingSet<float> train{p.train_labels, p.train};
  const std::size_t M = data.modalities.size();

  std::vector<BitsResult> results;
  for (int bits : experiment.bits)
    with_model_bits(bits, [&](auto k) {  // the one run-time-to-K step of a run
      constexpr int K = decltype(k)::value;
      BitsResult r;
      r.bits = bits;
      r.standardization = p.standardization;
      std::unique_ptr<AnyModel<float>> model =
          experiment.start_model ? experiment.start_model(bits, train, experiment.train) : nullptr;
      if (!model) model = ::ssah::detail::make_model_for_bits<float, K>(model_spec(data, experiment, bits));
      r.start_epoch = model->epoch();
      TrainOptions options = experiment.train;
      options.epochs = experiment.train.epochs > r.start_epoch ? experiment.train.epochs - r.start_epoch : 0;
      if (experiment.on_epoch) options.on_epoch = [&](std::size_t) { experiment.on_epoch(bits, *model); };
      const auto t0 = std::chrono::steady_clock::now();
      model->fit(train, options);
      const auto t1 = std::chrono::steady_clock::now();
      r.train_seconds = std::chrono::duration<double>(t1 - t0).count();
      r.epochs = model->epoch();
      if (experiment.on_trained) experiment.on_trained(bits, *model);
      for (std::size_t m = 0; m < M; ++m) {
        r.query_hashes.push_back(hashes_of_rows(*model, m, p.query[m], experiment.train.communicator));
        r.database_hashes.push_back(hashes_of_rows(*model, m, p.database[m], experiment.train.communicator));
      }
      const std::vector<float> label_hashes =
          experiment.label_queries ? model->label_hashes(query_label_rows).to_host() : std::vector<float>{};
      r.encode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      for (std::size_t q = 0; q < M; ++q)
        for (std::size_t d = 0; d < M; ++d) {
          if (q == d && !experiment.same_modality) continue;
          r.directions.push_back(Direction{
              data.modalities[q].name + "->" + data.modalities[d].name, int(q), int(d),
              evaluate_hashes<K>(r.query_hashes[q], r.database_hashes[d], query_labels, db_labels, experiment.eval)});
        }
      if (experiment.label_queries)
        for (std::size_t d = 0; d < M; ++d)
          r.directions.push_back(Direction{
              "label->" + data.modalities[d].name, -1, int(d),
              evaluate_hashes<K>(label_hashes, r.database_hashes[d], query_labels, db_labels, experiment.eval)});
      results.push_back(std::move(r));
    });
  return results;
}

}  // namespace ssah::pipeline

namespace ssah {

/// The packed codes (bit = hash > 0) of modality m's `inputs` [rows, sample shape...]. K is the
/// model's: codes of another length cannot come out of a model (encode<32> of a 64-bit model does
/// not compile).
template <int K, class T, class Objective, template <class> class... Backbones>
PackedCodes<K> encode(const BasicSsah<T, K, Objective, Backbones...>& model, std::size_t m, const Tensor<T>& inputs) {
  return PackedCodes<K>::from_values(model.hashes(m, inputs).to_host());
}

}  // namespace ssah
