#pragma once
/// \file
/// `ssah::LabelMatrix`: multi-label annotations as bitsets of any width (24 concepts for
/// MIRFLICKR-25K, 21 for NUS-WIDE, 80 for MS-COCO, 1000 classes, ...). Two items are relevant to
/// each other when they share at least one label: `(a & b) != 0` over ceil(classes / 64) words,
/// which is `query_L · retrieval_Lᵀ > 0` of the reference code for 0/1 labels.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ssah/error.hpp"

namespace ssah {

class LabelMatrix {
 public:
  LabelMatrix() = default;
  /// rows items with no label set, over `classes` classes.
  LabelMatrix(std::size_t rows, std::size_t classes)
      : rows_(rows), classes_(classes), words_((classes + 63) / 64), bits_(rows * words_, 0) {}

  /// From a [rows, classes] row-major multi-hot array: label c is present when value > 0.
  template <class T>
  static LabelMatrix from_multi_hot(const T* values, std::size_t rows, std::size_t classes) {
    static_assert(std::is_arithmetic_v<T>, "LabelMatrix::from_multi_hot: T must be arithmetic");
    LabelMatrix m(rows, classes);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t c = 0; c < classes; ++c)
        if (values[i * classes + c] > T(0)) m.set(i, c);
    return m;
  }
  template <class T>
  static LabelMatrix from_multi_hot(const std::vector<T>& values, std::size_t classes) {
    SSAH_CHECK_AS(ShapeError, classes > 0 && values.size() % classes == 0,
                  "LabelMatrix::from_multi_hot: ", values.size(), " values are not a whole number of rows of ", classes,
                  " classes");
    return from_multi_hot(values.data(), values.size() / classes, classes);
  }

  /// From one class id per item (single-label data such as Wikipedia): ids in [0, classes).
  template <class I>
  static LabelMatrix from_class_ids(const I* ids, std::size_t rows, std::size_t classes) {
    static_assert(std::is_integral_v<I>, "LabelMatrix::from_class_ids: ids must be integers");
    LabelMatrix m(rows, classes);
    for (std::size_t i = 0; i < rows; ++i) {
      SSAH_CHECK_AS(InvalidArgument, ids[i] >= I(0) && static_cast<std::size_t>(ids[i]) < classes,
                    "LabelMatrix::from_class_ids: item ", i, " has class ", ids[i], ", outside [0, ", classes, ")");
      m.set(i, static_cast<std::size_t>(ids[i]));
    }
    return m;
  }

  std::size_t rows() const noexcept { return rows_; }
  std::size_t classes() const noexcept { return classes_; }
  /// 64-bit words per row.
  std::size_t words() const noexcept { return words_; }
  const std::uint64_t* data() const noexcept { return bits_.data(); }
  const std::uint64_t* row(std::size_t i) const noexcept { return bits_.data() + i * words_; }

  bool has(std::size_t i, std::size_t c) const noexcept { return (row(i)[c / 64] >> (c % 64)) & 1u; }
  void set(std::size_t i, std::size_t c, bool value = true) noexcept {
    std::uint64_t& w = bits_[i * words_ + c / 64];
    const std::uint64_t m = std::uint64_t(1) << (c % 64);
    w = value ? (w | m) : (w & ~m);
  }

  /// A copy of rows [first, last).
  LabelMatrix slice(std::size_t first, std::size_t last) const {
    SSAH_CHECK_AS(ShapeError, first <= last && last <= rows_, "LabelMatrix::slice: rows [", first, ", ", last, ") of ",
                  rows_);
    LabelMatrix out(last - first, classes_);
    std::copy(row(first), row(first) + (last - first) * words_, out.bits_.begin());
    return out;
  }

  /// Whether row i of this matrix and row j of `other` share a label.
  bool shares_label(std::size_t i, const LabelMatrix& other, std::size_t j) const noexcept {
    const std::uint64_t* a = row(i);
    const std::uint64_t* b = other.row(j);
    for (std::size_t w = 0; w < words_; ++w)
      if (a[w] & b[w]) return true;
    return false;
  }

 private:
  std::size_t rows_ = 0;
  std::size_t classes_ = 0;
  std::size_t words_ = 0;
  std::vector<std::uint64_t> bits_;
};

}  // namespace ssah
