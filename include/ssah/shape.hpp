#pragma once
/// \file
/// Shape of a tensor: up to four extents, row-major (N, C, H, W for images).

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string>

#include "ssah/error.hpp"

namespace ssah {

class Shape {
 public:
  static constexpr int max_rank = 4;

  Shape() = default;
  Shape(std::initializer_list<std::size_t> extents) : extents_{}, rank_(static_cast<int>(extents.size())) {
    SSAH_CHECK_AS(ShapeError, extents.size() <= static_cast<std::size_t>(max_rank),
                  "a shape has at most ", max_rank, " extents, got ", extents.size());
    std::copy(extents.begin(), extents.end(), extents_.begin());
  }

  /// The shape of `leading` (when given) followed by `extents`: e.g. rows followed by an item's
  /// sample shape. ShapeError beyond max_rank extents.
  template <class Extents>
  static Shape from_extents(const Extents& extents, std::initializer_list<std::size_t> leading = {}) {
    const std::size_t n = leading.size() + static_cast<std::size_t>(std::size(extents));
    if (n > static_cast<std::size_t>(max_rank))
      detail::fail<ShapeError>("a shape has at most ", max_rank, " extents, got ", n);
    Shape s;
    s.rank_ = static_cast<int>(n);
    std::size_t i = 0;
    for (std::size_t e : leading) s.extents_[i++] = e;
    for (auto e : extents) s.extents_[i++] = static_cast<std::size_t>(e);
    return s;
  }

  int rank() const noexcept { return rank_; }
  std::size_t operator[](int axis) const {
    SSAH_CHECK_AS(ShapeError, axis >= 0 && axis < rank_, "axis ", axis, " out of range for shape ", str());
    return extents_[static_cast<std::size_t>(axis)];
  }
  /// Number of elements (1 for rank 0).
  std::size_t size() const noexcept {
    std::size_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= extents_[static_cast<std::size_t>(i)];
    return n;
  }
  /// Number of elements, or ShapeError when it overflows size_t (size() would wrap to a small
  /// number): what allocations use.
  std::size_t checked_size() const {
    std::size_t n = 1;
    for (int i = 0; i < rank_; ++i) {
      const std::size_t e = extents_[static_cast<std::size_t>(i)];
      if (e != 0 && n > std::numeric_limits<std::size_t>::max() / e)
        detail::fail<ShapeError>("shape ", str(), " has more elements than memory can hold");
      n *= e;
    }
    return n;
  }
  /// Extent of the first axis (1 for rank 0): the batch / row count.
  std::size_t rows() const noexcept { return rank_ == 0 ? 1 : extents_[0]; }
  /// Elements per row: the product of every extent after the first.
  std::size_t row_size() const noexcept {
    std::size_t n = 1;
    for (int i = 1; i < rank_; ++i) n *= extents_[static_cast<std::size_t>(i)];
    return n;
  }
  /// The same shape with the first extent replaced.
  Shape with_rows(std::size_t rows) const {
    Shape s = *this;
    if (s.rank_ == 0) s.rank_ = 1;
    s.extents_[0] = rows;
    return s;
  }

  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) {
      if (i) s += ", ";
      s += std::to_string(extents_[static_cast<std::size_t>(i)]);
    }
    return s + "]";
  }

  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.extents_[static_cast<std::size_t>(i)] != b.extents_[static_cast<std::size_t>(i)]) return false;
    return true;
  }
  friend bool operator!=(const Shape& a, const Shape& b) noexcept { return !(a == b); }

 private:
  std::array<std::size_t, max_rank> extents_{};
  int rank_ = 0;
};

/// Throws ShapeError naming both shapes when they differ.
inline void check_same_shape(const Shape& a, const Shape& b, const char* what) {
  SSAH_CHECK_AS(ShapeError, a == b, what, ": shapes differ, ", a.str(), " vs ", b.str());
}

}  // namespace ssah
