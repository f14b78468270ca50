#pragma once
/// \file
/// Codes and labels from arrays read with `ssah::io::read_npy`, checked with messages that name
/// the file: what `ssah eval` and `ssah search` accept.
///
/// - Codes: [n, K] of ±1 (or any real values: bit = value > 0) as int8, float32 or float64, or
///   packed bits as uint8 [n, K / 8] (`np.packbits(B > 0, axis=1)`). NaN and Inf are rejected.
/// - Labels: [n, c] multi-hot (label present when value > 0) as uint8, int8, int32, int64, float32
///   or float64; or 1-D integer class ids [n] (single-label data).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ssah/detail/host_memory.hpp"
#include "ssah/error.hpp"
#include "ssah/eval/labels.hpp"
#include "ssah/hashing/codes.hpp"
#include "ssah/io/array.hpp"

namespace ssah::io {

/// How an array holds codes.
struct CodeArrayLayout {
  std::size_t rows = 0;
  /// Bits per code: columns of a ±1 array, 8 x columns of a packed one.
  int bits = 0;
  bool packed = false;
};

namespace detail {
inline std::string array_name(const HostArray& a, const char* what) {
  return a.source.empty() ? std::string(what) : "'" + a.source + "'";
}
}  // namespace detail

/// Checks that an array of `dtype` and `shape` (`name` in messages, e.g. "'db.npy'") holds codes
/// and says how (ShapeError / IoError otherwise): what a header alone tells, e.g. of a file mapped
/// with io::MappedNpy.
inline CodeArrayLayout code_array_layout(DType dtype, const std::vector<std::size_t>& shape, const std::string& name) {
  if (shape.size() != 2)
    ::ssah::detail::fail<ShapeError>(name, ": codes must be a 2-D array [n, K], got shape ", shape_str(shape));
  CodeArrayLayout l;
  l.rows = shape[0];
  switch (dtype) {
    case DType::U8:
      l.packed = true;
      break;
    case DType::I8:
    case DType::F32:
    case DType::F64:
      break;
    default:
      ::ssah::detail::fail<IoError>(
          name, ": unsupported dtype ", dtype_name(dtype),
          " for codes (use int8, float32 or float64 values [n, K], or uint8 packed bits [n, K/8])");
  }
  const std::size_t cols = shape[1];
  if (cols == 0) ::ssah::detail::fail<ShapeError>(name, ": codes have 0 bits (shape ", shape_str(shape), ")");
  if (cols > 1u << 20) ::ssah::detail::fail<ShapeError>(name, ": ", cols, " columns are too many for a code");
  l.bits = static_cast<int>(l.packed ? 8 * cols : cols);
  return l;
}

/// Checks that `a` holds codes and says how (ShapeError / IoError naming the file otherwise).
inline CodeArrayLayout code_array_layout(const HostArray& a) {
  return code_array_layout(a.dtype, a.shape, detail::array_name(a, "codes"));
}

/// The codes of `a` as PackedCodes<K> (K >= the array's bits; extra bits are zero).
template <int K>
PackedCodes<K> codes_from_array(const HostArray& a) {
  const CodeArrayLayout l = code_array_layout(a);
  const std::string name = detail::array_name(a, "codes");
  if (l.bits > K)
    ::ssah::detail::fail<ShapeError>(name, ": codes of ", l.bits, " bits do not fit PackedCodes<", K, ">");
  a.check_consistent();
  const std::size_t cols = a.shape[1];
  switch (a.dtype) {
    case DType::U8:
      return PackedCodes<K>::from_bytes(a.bytes.data(), l.rows, cols);
    case DType::I8:
      return PackedCodes<K>::from_values(a.as<std::int8_t>().data(), l.rows, cols);
    case DType::F32:
      check_finite(a);
      return PackedCodes<K>::from_values(a.as<float>().data(), l.rows, cols);
    default:
      check_finite(a);
      return PackedCodes<K>::from_values(a.as<double>().data(), l.rows, cols);
  }
}

/// Number of classes in a label array: columns of a multi-hot array, largest id + 1 of class ids.
inline std::size_t label_classes(const HostArray& a) {
  const std::string name = detail::array_name(a, "labels");
  const bool integer = a.dtype == DType::U8 || a.dtype == DType::I8 || a.dtype == DType::I32 || a.dtype == DType::I64;
  if (a.ndim() == 2) {
    if (a.shape[1] == 0)
      ::ssah::detail::fail<ShapeError>(name, ": labels have 0 classes (shape ", shape_str(a.shape), ")");
    return a.shape[1];
  }
  if (a.ndim() != 1 || !integer)
    ::ssah::detail::fail<ShapeError>(name,
                                     ": labels must be a multi-hot array [n, classes] or integer class ids [n], got ",
                                     dtype_name(a.dtype), " of shape ", shape_str(a.shape));
  std::int64_t top = -1;
  for (std::int64_t v : a.as<std::int64_t>()) {
    if (v < 0) ::ssah::detail::fail<IoError>(name, ": class id ", v, " is negative");
    top = v > top ? v : top;
  }
  return static_cast<std::size_t>(top + 1);
}

/// The labels of `a` over `classes` classes (>= label_classes(a)).
inline LabelMatrix labels_from_array(const HostArray& a, std::size_t classes) {
  const std::string name = detail::array_name(a, "labels");
  const std::size_t own = label_classes(a);
  if (classes < own) ::ssah::detail::fail<ShapeError>(name, ": ", own, " classes do not fit ", classes);
  a.check_consistent();
  const std::string what = "the labels of " + name + " (" + std::to_string(a.shape[0]) + " rows over " +
                           std::to_string(classes) + " classes)";
  ::ssah::detail::check_host_allocation(a.shape[0], (classes + 63) / 64 * 8, what.c_str());
  if (a.ndim() == 1) {
    const std::vector<std::int64_t> ids = a.as<std::int64_t>();
    return LabelMatrix::from_class_ids(ids.data(), ids.size(), classes);
  }
  check_finite(a);
  const std::vector<double> v = a.as<double>();
  LabelMatrix m(a.shape[0], classes);
  for (std::size_t i = 0; i < a.shape[0]; ++i)
    for (std::size_t c = 0; c < own; ++c) {
      const double x = v[i * own + c];
      if (x != 0 && x != 1)  // as training requires: 0.5, 2 or -1 has no meaning as "shares a label"
        ::ssah::detail::fail<IoError>(name, ": multi-hot labels must be 0 or 1, found ", x, " at row ", i, ", column ",
                                      c);
      if (x == 1) m.set(i, c);
    }
  return m;
}

}  // namespace ssah::io
