#pragma once
/// \file
/// `ssah::Tensor<T>`: contiguous row-major storage on the Thrust device system.
///
/// A tensor is a handle: copies share storage (like a `shared_ptr`), `clone()` copies data, and
/// `rows(b, e)` / `reshape()` return views of the same storage. Memory comes from a caching pool.

#include <cstddef>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include <thrust/copy.h>
#include <thrust/device_ptr.h>
#include <thrust/fill.h>

#include "ssah/config.hpp"
#include "ssah/detail/memory_pool.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/shape.hpp"

namespace ssah {
namespace detail {

template <class T>
class Storage {
 public:
  explicit Storage(std::size_t n) : data_(static_cast<T*>(MemoryPool::instance().allocate(bytes(n)))), size_(n) {}
  ~Storage() { MemoryPool::instance().deallocate(data_, size_ * sizeof(T)); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  static std::size_t bytes(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T))
      fail<OutOfMemory>("out of memory: a tensor of ", n, " elements is larger than any memory");
    return n * sizeof(T);
  }

  T* data_;
  std::size_t size_;
};

}  // namespace detail

template <class T>
class Tensor {
  static_assert(std::is_arithmetic_v<T>, "Tensor holds arithmetic scalars");

 public:
  using value_type = T;

  /// An undefined tensor (no storage); `defined()` is false.
  Tensor() = default;
  /// A zero-filled tensor.
  explicit Tensor(const Shape& shape) : Tensor(empty(shape)) { fill(T(0)); }

  /// A tensor whose elements are not initialised (for outputs that are overwritten whole).
  static Tensor empty(const Shape& shape) {
    Tensor t;
    t.shape_ = shape;
    t.storage_ = std::make_shared<detail::Storage<T>>(shape.checked_size());
    return t;
  }
  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  static Tensor full(const Shape& shape, T value) {
    Tensor t = empty(shape);
    t.fill(value);
    return t;
  }
  /// Copies `shape.size()` host values into a new tensor.
  static Tensor from_host(const Shape& shape, const T* values) {
    Tensor t = empty(shape);
    t.copy_from_host(values, shape.size());
    return t;
  }
  static Tensor from_host(const Shape& shape, const std::vector<T>& values) {
    SSAH_CHECK_AS(ShapeError, values.size() == shape.size(), "Tensor::from_host: ", values.size(),
                  " values for shape ", shape.str(), " (", shape.size(), " elements)");
    return from_host(shape, values.data());
  }

  bool defined() const noexcept { return storage_ != nullptr; }
  const Shape& shape() const noexcept { return shape_; }
  int rank() const noexcept { return shape_.rank(); }
  std::size_t dim(int axis) const { return shape_[axis]; }
  std::size_t size() const noexcept { return defined() ? shape_.size() : 0; }
  std::size_t rows() const noexcept { return shape_.rows(); }
  std::size_t row_size() const noexcept { return shape_.row_size(); }

  /// Raw pointer to the first element, in device memory (host memory on OMP/CPP).
  T* data() noexcept { return defined() ? storage_->data() + offset_ : nullptr; }
  const T* data() const noexcept { return defined() ? storage_->data() + offset_ : nullptr; }
  thrust::device_ptr<T> begin() noexcept { return thrust::device_pointer_cast(data()); }
  thrust::device_ptr<T> end() noexcept { return begin() + static_cast<std::ptrdiff_t>(size()); }
  thrust::device_ptr<const T> begin() const noexcept { return thrust::device_pointer_cast(data()); }
  thrust::device_ptr<const T> end() const noexcept { return begin() + static_cast<std::ptrdiff_t>(size()); }

  /// A view of rows [first, last) along the first axis, sharing storage.
  Tensor rows(std::size_t first, std::size_t last) const {
    SSAH_CHECK_AS(ShapeError, first <= last && last <= shape_.rows(), "Tensor::rows: range [", first, ", ",
                  last, ") out of bounds for shape ", shape_.str());
    Tensor t = *this;
    t.shape_ = shape_.with_rows(last - first);
    t.offset_ = offset_ + first * shape_.row_size();
    return t;
  }
  /// A view with another shape of the same size, sharing storage.
  Tensor reshape(const Shape& shape) const {
    SSAH_CHECK_AS(ShapeError, shape.size() == size(), "Tensor::reshape: cannot view ", shape_.str(), " as ",
                  shape.str());
    Tensor t = *this;
    t.shape_ = shape;
    return t;
  }
  /// A deep copy.
  Tensor clone() const {
    Tensor t = empty(shape_);
    thrust::copy(thrust::device, begin(), end(), t.begin());
    return t;
  }
  /// Copies the values of `src` (same size) into this tensor's storage.
  void assign(const Tensor& src) {
    SSAH_CHECK_AS(ShapeError, src.size() == size(), "Tensor::assign: sizes differ, ", shape_.str(), " vs ",
                  src.shape().str());
    thrust::copy(thrust::device, src.begin(), src.end(), begin());
  }

  void fill(T value) {
    if (size()) thrust::fill(thrust::device, begin(), end(), value);
  }
  void copy_from_host(const T* values, std::size_t n) {
    SSAH_CHECK_AS(ShapeError, n == size(), "Tensor::copy_from_host: ", n, " values for ", size(), " elements");
    if (n) thrust::copy(values, values + n, begin());
  }
  void copy_to_host(T* out) const {
    if (size()) thrust::copy(begin(), end(), out);
  }
  std::vector<T> to_host() const {
    std::vector<T> out(size());
    copy_to_host(out.data());
    return out;
  }
  /// One element, copied to the host (slow on CUDA: for tests and scalars).
  T item(std::size_t i = 0) const {
    SSAH_CHECK_AS(ShapeError, i < size(), "Tensor::item: index ", i, " out of range for shape ", shape_.str());
    T v{};
    thrust::copy(begin() + static_cast<std::ptrdiff_t>(i), begin() + static_cast<std::ptrdiff_t>(i + 1), &v);
    return v;
  }

  bool same_storage(const Tensor& other) const noexcept { return storage_ && storage_ == other.storage_; }

 private:
  std::shared_ptr<detail::Storage<T>> storage_;
  std::size_t offset_ = 0;
  Shape shape_;
};

/// Converts element types (e.g. float <-> double) into a new tensor.
template <class To, class From>
Tensor<To> cast(const Tensor<From>& src) {
  Tensor<To> out = Tensor<To>::empty(src.shape());
  const From* s = src.data();
  To* d = out.data();
  detail::parallel_for(src.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { d[i] = static_cast<To>(s[i]); });
  return out;
}

}  // namespace ssah
