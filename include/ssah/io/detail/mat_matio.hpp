#pragma once
/// \file
/// The matio side of ssah/io/mat.hpp: matio's log quoted in errors, class names, dimensions and
/// element sizes of a `matvar_t`, and the data sizes a variable declares (checked before
/// `Mat_VarRead` allocates them). Separate from the MAT v5 validator, which reads the file's
/// bytes itself and does not need matio.

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <matio.h>

#include "ssah/io/array.hpp"

namespace ssah {
namespace io {
namespace detail {

/// matio's latest log message on this thread (quoted in errors).
inline std::string& matio_last_message() {
  thread_local std::string message;
  return message;
}

inline void matio_install_logger() {
  static const bool installed = [] {
    Mat_LogInitFunc("ssah", [](int, char* message) { matio_last_message() = message ? message : ""; });
    return true;
  }();
  (void)installed;
}

/// " (matio: <message>)" if matio logged something since the last call, else "".
inline std::string matio_reason() {
  std::string& m = matio_last_message();
  std::string out = m.empty() ? std::string() : " (matio: " + m + ")";
  m.clear();
  return out;
}

inline std::string mat_class_name(const matvar_t* v) {
  if (v->isLogical && v->class_type != MAT_C_SPARSE) return "logical";
  switch (v->class_type) {
    case MAT_C_EMPTY:
      return "empty";
    case MAT_C_CELL:
      return "cell";
    case MAT_C_STRUCT:
      return "struct";
    case MAT_C_OBJECT:
      return "object";
    case MAT_C_CHAR:
      return "char";
    case MAT_C_SPARSE:
      return v->isLogical ? "sparse logical" : "sparse";
    case MAT_C_DOUBLE:
      return "double";
    case MAT_C_SINGLE:
      return "single";
    case MAT_C_INT8:
      return "int8";
    case MAT_C_UINT8:
      return "uint8";
    case MAT_C_INT16:
      return "int16";
    case MAT_C_UINT16:
      return "uint16";
    case MAT_C_INT32:
      return "int32";
    case MAT_C_UINT32:
      return "uint32";
    case MAT_C_INT64:
      return "int64";
    case MAT_C_UINT64:
      return "uint64";
    case MAT_C_FUNCTION:
      return "function_handle";
    case MAT_C_OPAQUE:
      return "opaque";
  }
  return "unknown";
}

inline std::vector<std::size_t> mat_dims(const matvar_t* v) {
  std::vector<std::size_t> d;
  if (v->rank > 0 && v->dims != nullptr) d.assign(v->dims, v->dims + v->rank);
  return d;
}

/// Bytes per element of a dense numeric class, 0 for the others.
inline std::size_t mat_class_size(matio_classes c) noexcept {
  switch (c) {
    case MAT_C_DOUBLE:
    case MAT_C_INT64:
    case MAT_C_UINT64:
      return 8;
    case MAT_C_SINGLE:
    case MAT_C_INT32:
    case MAT_C_UINT32:
      return 4;
    case MAT_C_INT16:
    case MAT_C_UINT16:
      return 2;
    case MAT_C_INT8:
    case MAT_C_UINT8:
      return 1;
    default:
      return 0;
  }
}

inline bool mat_is_numeric_class(matio_classes c) noexcept { return mat_class_size(c) != 0; }

/// What a variable declares, with all its struct fields and cells: data bytes (struct and cell
/// pointer arrays included) and the number of arrays matio describes.
struct MatDeclared {
  std::size_t bytes = 0;
  std::size_t arrays = 0;
  std::string problem;  ///< why the size cannot be known, when mat_declared_bytes returns false
};

/// Adds what `v` (with its fields and cells, as listed by Mat_VarReadInfo) declares to `out`;
/// false, with `out.problem` set, on overflow, deep nesting, or a struct or cell whose parts
/// were not listed (its size cannot be known before reading).
inline bool mat_declared_bytes(const matvar_t* v, MatDeclared& out, int depth = 0) {
  if (v == nullptr) return true;
  auto fail = [&](const char* why) {
    out.problem = why;
    return false;
  };
  if (depth > 32) return fail("struct fields and cells nested more than 32 deep");
  if (out.arrays == std::numeric_limits<std::size_t>::max()) return fail("too many arrays");
  ++out.arrays;
  std::size_t n = 0;
  if (!checked_count(mat_dims(v), n)) return fail("absurd dimensions (their product overflows)");
  std::size_t each = mat_class_size(v->class_type);
  std::size_t parts = 0;  // struct fields or cells matio holds pointers to
  if (v->class_type == MAT_C_CHAR) each = 2;
  if (v->class_type == MAT_C_CELL) {
    each = sizeof(matvar_t*);
    parts = n;
  }
  if (v->class_type == MAT_C_STRUCT) {
    const std::size_t nfields = Mat_VarGetNumberOfFields(const_cast<matvar_t*>(v));
    if (nfields != 0 && n > std::numeric_limits<std::size_t>::max() / nfields)
      return fail("absurd dimensions (their product overflows)");
    each = nfields == 0 ? 0 : sizeof(matvar_t*) * nfields;
    parts = n * nfields;
  }
  if (v->class_type == MAT_C_SPARSE) each = 0;  // stored size is bounded by the file; dense size checked on use
  if (v->isComplex) each *= 2;
  if (each != 0 && n > std::numeric_limits<std::size_t>::max() / each)
    return fail("absurd dimensions (their product overflows)");
  if (n * each > std::numeric_limits<std::size_t>::max() - out.bytes) return fail("sizes overflow");
  out.bytes += n * each;
  if (parts != 0) {
    if (v->data == nullptr || v->nbytes / sizeof(matvar_t*) < parts)
      return fail(v->class_type == MAT_C_CELL ? "a cell array whose cells were not listed"
                                              : "a struct whose fields were not listed");
    auto** children = static_cast<matvar_t**>(v->data);
    for (std::size_t i = 0; i < parts; ++i)
      if (!mat_declared_bytes(children[i], out, depth + 1)) return false;
  }
  return true;
}

}  // namespace detail
}  // namespace io
}  // namespace ssah
