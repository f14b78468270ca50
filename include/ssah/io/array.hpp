#pragma once
/// \file
/// `ssah::io::HostArray`: a typed, shaped block of host bytes as read from (or written to) a file.
///
/// The io layer knows file formats, not models: every reader returns a `HostArray` (dtype, shape,
/// little-endian C-order bytes, and the name of the file it came from for error messages), and
/// `as<T>()` turns it into a `std::vector<T>`, refusing conversions that would change a value.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "ssah/detail/host_memory.hpp"
#include "ssah/error.hpp"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ssah's io layer stores little-endian data and supports little-endian hosts only"
#endif

namespace ssah {
namespace io {

/// Element types the io layer reads and writes.
enum class DType { U8, I8, I32, I64, F32, F64 };

/// Bytes per element.
constexpr std::size_t dtype_size(DType t) noexcept {
  switch (t) {
    case DType::U8:
    case DType::I8:
      return 1;
    case DType::I32:
    case DType::F32:
      return 4;
    case DType::I64:
    case DType::F64:
      return 8;
  }
  return 0;
}

/// NumPy-style name ("uint8", "int32", "float32", ...), used in messages.
inline const char* dtype_name(DType t) noexcept {
  switch (t) {
    case DType::U8:
      return "uint8";
    case DType::I8:
      return "int8";
    case DType::I32:
      return "int32";
    case DType::I64:
      return "int64";
    case DType::F32:
      return "float32";
    case DType::F64:
      return "float64";
  }
  return "?";
}

constexpr bool dtype_is_float(DType t) noexcept { return t == DType::F32 || t == DType::F64; }

namespace detail {
using ::ssah::detail::concat;
using ::ssah::detail::fail;
template <class T>
struct DTypeOf;
template <>
struct DTypeOf<std::uint8_t> {
  static constexpr DType value = DType::U8;
};
template <>
struct DTypeOf<std::int8_t> {
  static constexpr DType value = DType::I8;
};
template <>
struct DTypeOf<std::int32_t> {
  static constexpr DType value = DType::I32;
};
template <>
struct DTypeOf<std::int64_t> {
  static constexpr DType value = DType::I64;
};
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::F32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::F64;
};

template <class T, class = void>
struct HasDType : std::false_type {};
template <class T>
struct HasDType<T, std::void_t<decltype(DTypeOf<T>::value)>> : std::true_type {};
}  // namespace detail

/// True for the C++ types that map to a `DType` (std::uint8_t, std::int8_t, std::int32_t,
/// std::int64_t, float, double).
template <class T>
constexpr bool has_dtype_v = detail::HasDType<T>::value;

/// The `DType` of a C++ type; a compile error for types without one.
template <class T>
constexpr DType dtype_of() noexcept {
  static_assert(has_dtype_v<T>,
                "no ssah::io::DType for this type: use uint8_t, int8_t, int32_t, int64_t, float or double");
  return detail::DTypeOf<T>::value;
}

/// "[3, 4]" (the same notation as `ssah::Shape::str()`).
inline std::string shape_str(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace detail {

/// Product of the extents, or false when it does not fit in `std::size_t`.
inline bool checked_count(const std::vector<std::size_t>& shape, std::size_t& count) noexcept {
  std::size_t n = 1;
  for (std::size_t e : shape) {
    if (e != 0 && n > std::numeric_limits<std::size_t>::max() / e) return false;
    n *= e;
  }
  count = n;
  return true;
}

/// "[r, c]" multi-index of flat position `flat` in a C-order array of `shape`.
inline std::string index_str(const std::vector<std::size_t>& shape, std::size_t flat) {
  if (shape.empty()) return "[]";
  std::vector<std::size_t> idx(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    const std::size_t e = shape[k] == 0 ? 1 : shape[k];
    idx[k] = flat % e;
    flat /= e;
  }
  return shape_str(idx);
}

template <class Src>
std::string value_str(Src v) {
  std::ostringstream out;
  out.precision(std::numeric_limits<Src>::max_digits10);
  if constexpr (sizeof(Src) == 1)
    out << static_cast<int>(v);
  else
    out << v;
  return out.str();
}

/// Converts `v` to `Dst`; false when the value would change (out of range, fractional to
/// integer, integer not representable in the float type). NaN converts to NaN floats; a finite
/// double that overflows a float is rejected, while rounding to the nearest float is accepted.
template <class Dst, class Src>
bool convert_value(Src v, Dst& out) noexcept {
  if constexpr (std::is_same_v<Dst, Src>) {
    out = v;
    return true;
  } else if constexpr (std::is_floating_point_v<Src> && std::is_floating_point_v<Dst>) {
    if (std::isfinite(v) &&
        std::fabs(static_cast<long double>(v)) > static_cast<long double>(std::numeric_limits<Dst>::max()))
      return false;
    out = static_cast<Dst>(v);
    return true;
  } else if constexpr (std::is_floating_point_v<Src>) {  // float -> integer
    if (!std::isfinite(v) || std::trunc(v) != v) return false;
    const long double x = static_cast<long double>(v);
    // [lowest, max + 1): both bounds are powers of two, so exact in long double.
    const long double lo = static_cast<long double>(std::numeric_limits<Dst>::lowest());
    const long double hi = static_cast<long double>(std::numeric_limits<Dst>::max()) + 1.0L;
    if (x < lo || x >= hi) return false;
    out = static_cast<Dst>(x);
    return true;
  } else if constexpr (std::is_floating_point_v<Dst>) {  // integer -> float
    const Dst d = static_cast<Dst>(v);
    // Exact when converting back gives v; compare in long double to avoid an out-of-range cast.
    if (static_cast<long double>(d) != static_cast<long double>(v)) return false;
    out = d;
    return true;
  } else {  // integer -> integer
    using SL = std::numeric_limits<Src>;
    using DL = std::numeric_limits<Dst>;
    if constexpr (SL::is_signed && !DL::is_signed) {
      if (v < 0) return false;
      if (static_cast<std::make_unsigned_t<Src>>(v) > DL::max()) return false;
    } else if constexpr (!SL::is_signed && DL::is_signed) {
      if (v > static_cast<std::make_unsigned_t<Dst>>(DL::max())) return false;
    } else if constexpr (SL::is_signed) {
      if (v < DL::lowest() || v > DL::max()) return false;
    } else {
      if (v > DL::max()) return false;
    }
    out = static_cast<Dst>(v);
    return true;
  }
}

template <class Src>
Src load_element(const unsigned char* bytes, std::size_t i) noexcept {
  Src v;
  std::memcpy(&v, bytes + i * sizeof(Src), sizeof(Src));
  return v;
}

}  // namespace detail

/// A typed, shaped block of little-endian, C-order (row-major) host bytes.
///
/// `source` names where the data came from ("'train_img_f32.npy'", "'ckpt.safetensors' tensor
/// 'w'", ...) and prefixes every error message about it.
struct HostArray {
  DType dtype = DType::F32;
  std::vector<std::size_t> shape;
  std::vector<unsigned char> bytes;
  std::string source;

  /// Copies `count(shape)` values from `data`.
  template <class T>
  static HostArray from(const T* data, std::vector<std::size_t> shape, std::string source = {}) {
    HostArray a;
    a.dtype = dtype_of<T>();
    a.shape = std::move(shape);
    a.source = std::move(source);
    std::size_t n = 0;
    SSAH_CHECK_AS(ShapeError,
                  detail::checked_count(a.shape, n) && n <= std::numeric_limits<std::size_t>::max() / sizeof(T),
                  "HostArray::from: shape ", shape_str(a.shape), " is too large");
    a.bytes.resize(n * sizeof(T));
    if (n) std::memcpy(a.bytes.data(), data, n * sizeof(T));
    return a;
  }
  /// Copies `values`, which must hold exactly `count(shape)` elements.
  template <class T>
  static HostArray from(const std::vector<T>& values, std::vector<std::size_t> shape, std::string source = {}) {
    std::size_t n = 0;
    SSAH_CHECK_AS(ShapeError, detail::checked_count(shape, n) && n == values.size(), "HostArray::from: ", values.size(),
                  " values for shape ", shape_str(shape));
    return from(values.data(), std::move(shape), std::move(source));
  }

  std::size_t ndim() const noexcept { return shape.size(); }
  /// Number of elements (1 for a 0-d array).
  std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t e : shape) n *= e;
    return n;
  }
  std::size_t nbytes() const noexcept { return bytes.size(); }
  /// Extent of the first axis (1 for a 0-d array): the row count of an [N, D] matrix.
  std::size_t rows() const noexcept { return shape.empty() ? 1 : shape[0]; }
  /// Elements per row: the product of every extent after the first (1 for 0-d and 1-d arrays).
  std::size_t row_size() const noexcept {
    std::size_t n = 1;
    for (std::size_t i = 1; i < shape.size(); ++i) n *= shape[i];
    return n;
  }

  /// The elements converted to `T` (any arithmetic type but bool). Throws `IoError` naming the
  /// source, the element's index and its value when a conversion would change a value: out of
  /// range, a fractional or non-finite float to an integer, an integer a float cannot hold
  /// exactly, or a finite double beyond float's range. Rounding float64 to float32 is accepted.
  template <class T>
  std::vector<T> as() const {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>,
                  "HostArray::as<T>: T must be arithmetic (not bool)");
    check_consistent();
    const std::size_t n = bytes.size() / dtype_size(dtype);
    const std::string what = "converting '" + source + "' to " + std::to_string(sizeof(T)) + "-byte values";
    ::ssah::detail::check_host_allocation(n, sizeof(T), what.c_str());
    std::vector<T> out;
    try {
      out.resize(n);
    } catch (const std::bad_alloc&) {
      ::ssah::detail::fail<OutOfMemory>("out of memory: ", what, " needs ", ::ssah::detail::human_bytes(n * sizeof(T)));
    }
    switch (dtype) {
      case DType::U8:
        convert_all<T, std::uint8_t>(out);
        break;
      case DType::I8:
        convert_all<T, std::int8_t>(out);
        break;
      case DType::I32:
        convert_all<T, std::int32_t>(out);
        break;
      case DType::I64:
        convert_all<T, std::int64_t>(out);
        break;
      case DType::F32:
        convert_all<T, float>(out);
        break;
      case DType::F64:
        convert_all<T, double>(out);
        break;
    }
    return out;
  }

  /// Throws `IoError` when `bytes` does not hold exactly `size()` elements of `dtype`.
  void check_consistent() const {
    std::size_t n = 0;
    SSAH_CHECK_AS(IoError,
                  detail::checked_count(shape, n) && n <= bytes.size() / dtype_size(dtype) &&
                      n * dtype_size(dtype) == bytes.size(),
                  source_prefix(), bytes.size(), " bytes do not hold shape ", shape_str(shape), " of ",
                  dtype_name(dtype));
  }

  /// "<source>: " or "" when no source is set.
  std::string source_prefix() const { return source.empty() ? std::string() : source + ": "; }

 private:
  template <class T, class Src>
  void convert_all(std::vector<T>& out) const {
    const unsigned char* p = bytes.data();
    if constexpr (std::is_same_v<T, Src>) {
      if (!out.empty()) std::memcpy(out.data(), p, out.size() * sizeof(T));
    } else {
      for (std::size_t i = 0; i < out.size(); ++i) {
        const Src v = detail::load_element<Src>(p, i);
        if (!detail::convert_value<T>(v, out[i]))
          detail::fail<IoError>(source_prefix(), "element ", detail::index_str(shape, i), " = ", detail::value_str(v),
                                " (", dtype_name(dtype), ") cannot be converted exactly to ", target_name<T>());
      }
    }
  }

  template <class T>
  static std::string target_name() {
    if constexpr (has_dtype_v<T>) return dtype_name(dtype_of<T>());
    if constexpr (std::is_floating_point_v<T>) return "a " + std::to_string(sizeof(T) * 8) + "-bit float";
    return std::string(std::is_signed_v<T> ? "int" : "uint") + std::to_string(sizeof(T) * 8);
  }
};

namespace detail {
template <class T>
[[noreturn]] void fail_non_finite(const std::string& what, T value, std::size_t row, std::size_t col) {
  fail<NumericError>(what, ": non-finite value ", value, " at row ", row, ", column ", col,
                     " (NaN and Inf are not accepted)");
}
}  // namespace detail

/// Throws `NumericError` at the first NaN or Inf among `rows * cols` row-major values, naming
/// `what` (a file name), the row and the column.
template <class T>
void check_finite(const T* data, std::size_t rows, std::size_t cols, const std::string& what) {
  if constexpr (std::is_floating_point_v<T>) {
    const std::size_t n = rows * cols;
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(data[i])) detail::fail_non_finite(what, data[i], i / cols, i % cols);
  } else {
    (void)data, (void)rows, (void)cols, (void)what;
  }
}

/// `check_finite` over a float array seen as [rows(), row_size()], without copying it; integer
/// arrays always pass.
inline void check_finite(const HostArray& a) {
  a.check_consistent();
  const std::string what = a.source.empty() ? std::string("array") : a.source;
  const std::size_t n = a.size(), cols = a.row_size();
  auto scan = [&](auto tag) {
    using T = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      const T v = detail::load_element<T>(a.bytes.data(), i);
      if (!std::isfinite(v)) detail::fail_non_finite(what, v, i / cols, i % cols);
    }
  };
  if (a.dtype == DType::F32) scan(float{});
  if (a.dtype == DType::F64) scan(double{});
}

}  // namespace io
}  // namespace ssah
