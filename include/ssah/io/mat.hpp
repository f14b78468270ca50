#pragma once
/// \file
/// MATLAB `.mat` files (v5, and v7.3 which is HDF5; v4 is refused), read with the matio library.
///
/// Programs that include this header link `ssah::matio` (created by ssah's CMake package when
/// matio is found); nothing else in ssah needs matio.
///
/// **Order of elements.** MATLAB stores arrays in column-major order. `MatValue::to_array()` and
/// `read_mat_array()` return them in ssah's row-major (C) order with MATLAB's dimensions kept:
/// a MATLAB m-by-n matrix `A` becomes a `HostArray` of shape {m, n} whose element [i, j] (at
/// `i * n + j`) is `A(i+1, j+1)`. An N-d array of size d1 x d2 x ... x dk becomes shape
/// {d1, ..., dk} with element [i1, ..., ik] equal to `A(i1+1, ..., ik+1)`; so a MatConvNet filter
/// bank of size H x W x Cin x Cout arrives as row-major [H, W, Cin, Cout]. MATLAB never has fewer
/// than two dimensions: a row vector is {1, n}, a scalar {1, 1}.
///
/// **Types.** double -> F64, single -> F32, logical and uint8 -> U8, int8 -> I8, int16, uint16
/// and int32 -> I32, uint32 and int64 -> I64, uint64 -> I64 (values beyond int64 are an error).
/// Real sparse double and logical matrices are expanded to dense F64 / U8. Complex data, objects,
/// function handles and other classes are rejected with an `IoError`; structs and cells are walked
/// with `MatValue::field()` and `MatValue::cell()`, char arrays read with `MatValue::to_string()`.
///
/// **Hostile files.** matio does the parsing, so `MatFile` checks first (docs/fuzzing.md): only
/// v5 and v7.3 headers are accepted (v4 files, which have none, are refused); the whole structure
/// of a v5 file is validated before matio reads it (sizes fit in their parents and in the file,
/// dimensions agree with data sizes, nesting is bounded, compressed variables inflate within the
/// limit, no variable describes more arrays than the file can hold); and before a variable is
/// read, the data sizes declared by it and by all its struct fields and cells, plus matio's
/// record for each of those arrays, must fit in what the file's length can hold at zlib's maximal
/// expansion (1032:1, plus 64 KiB), and the data in `MatReadOptions::max_bytes`. This bound is
/// what a v7.3 variable gets: a dataset that HDF5 would fill with its fill value (storage not
/// allocated) is refused when it declares more than that, and read as the fill value when less;
/// the sizes of a v7.3 sparse matrix's parts are not visible before reading. v7.3 files are
/// parsed by HDF5 (listing the variables included), which ssah does not validate beyond the
/// superblock and in which fuzzing finds memory errors within seconds (HDF5 1.10): for files from
/// untrusted sources set `MatReadOptions::allow_hdf5 = false`. matio is not thread-safe: use one
/// thread at a time for `.mat` files. ssah installs a matio log function (once) that quotes
/// matio's messages in its errors instead of printing them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <matio.h>

#include "ssah/detail/host_memory.hpp"
#include "ssah/detail/permute_axes.hpp"
#include "ssah/error.hpp"
#include "ssah/io/array.hpp"
#include "ssah/io/detail/mat_file_capacity.hpp"
#include "ssah/io/detail/mat_matio.hpp"
#include "ssah/io/detail/mat_v5_validator.hpp"
#include "ssah/io/file.hpp"

namespace ssah {
namespace io {

/// Limits on what reading a `.mat` file may allocate.
struct MatReadOptions {
  /// Largest total size, in bytes, of one variable's data once read (or of a sparse matrix
  /// expanded to dense). A compressed v5 variable may inflate to twice this plus 1 MiB (its
  /// headers). The default, 16 GiB, only stops absurd requests.
  std::size_t max_bytes = std::size_t(1) << 34;
  /// Whether v7.3 files are accepted. They are HDF5, parsed by the HDF5 library, which is not
  /// hardened against hostile files (ssah checks only the header and the superblock): set
  /// false for files from untrusted sources.
  bool allow_hdf5 = true;
};

/// A variable's name, class and dimensions, as listed by `MatFile::variables()`.
struct MatVarInfo {
  std::string name;
  /// "double", "single", "int8" ... "uint64", "logical", "char", "struct", "cell", "sparse", ...
  std::string class_name;
  std::vector<std::size_t> dims;
  bool is_complex = false;
};

/// A variable of a `.mat` file or a part of one (a struct field, a cell element). Copies share
/// the variable read from the file, so parts stay valid after the `MatFile` is gone.
class MatValue {
 public:
  MatValue(std::shared_ptr<matvar_t> root, matvar_t* var, std::string file, std::string path, MatReadOptions options)
      : root_(std::move(root)), var_(var), file_(std::move(file)), path_(std::move(path)), options_(options) {}

  /// The variable and the way to this part, MATLAB-style ("net.layers{3}.weights{1}").
  const std::string& path() const noexcept { return path_; }
  const std::string& file() const noexcept { return file_; }
  std::string class_name() const { return detail::mat_class_name(var_); }
  /// MATLAB's dimensions (at least two for arrays stored by MATLAB).
  std::vector<std::size_t> dims() const { return detail::mat_dims(var_); }
  std::size_t numel() const {
    std::size_t n = 0;
    if (!detail::checked_count(dims(), n)) bad("dimensions overflow");
    return n;
  }

  bool is_struct() const noexcept { return var_->class_type == MAT_C_STRUCT; }
  bool is_cell() const noexcept { return var_->class_type == MAT_C_CELL; }
  bool is_char() const noexcept { return var_->class_type == MAT_C_CHAR; }
  bool is_sparse() const noexcept { return var_->class_type == MAT_C_SPARSE; }
  bool is_complex() const noexcept { return var_->isComplex != 0; }
  bool is_logical() const noexcept { return var_->isLogical != 0; }
  /// A dense real numeric or logical array (what `to_array()` reads, with sparse matrices).
  bool is_numeric() const noexcept { return detail::mat_is_numeric_class(var_->class_type) && !is_complex(); }

  /// The field names of a struct, in file order.
  std::vector<std::string> field_names() const {
    require_struct("field_names");
    std::vector<std::string> names;
    const unsigned n = Mat_VarGetNumberOfFields(var_);
    char* const* raw = Mat_VarGetStructFieldnames(var_);
    for (unsigned i = 0; i < n && raw != nullptr; ++i) names.emplace_back(raw[i] ? raw[i] : "");
    return names;
  }
  bool has_field(const std::string& name) const {
    for (const std::string& f : field_names())
      if (f == name) return true;
    return false;
  }
  /// Field `name` of element `index` (0-based, column-major) of a struct array.
  MatValue field(const std::string& name, std::size_t index = 0) const {
    require_struct("field");
    const std::size_t n = numel();
    if (index >= n) bad("struct element ", index, " is out of range (the struct array has ", n, ")");
    if (!has_field(name)) {
      std::string names;
      for (const std::string& f : field_names()) names += (names.empty() ? "'" : ", '") + f + "'";
      bad("no field '", name, "' (fields: ", names.empty() ? std::string("none") : names, ")");
    }
    matvar_t* f = Mat_VarGetStructFieldByName(var_, name.c_str(), index);
    const std::string where = path_ + (n > 1 ? "(" + std::to_string(index + 1) + ")" : std::string()) + "." + name;
    if (f == nullptr) bad("field '", name, "' of element ", index, " has no value", detail::matio_reason());
    return MatValue(root_, f, file_, where, options_);
  }
  /// Element `index` (0-based, column-major: MATLAB's `c{index+1}`) of a cell array.
  MatValue cell(std::size_t index) const {
    if (!is_cell()) bad("is a ", class_name(), ", not a cell array");
    const std::size_t n = numel();
    if (index >= n) bad("cell ", index, " is out of range (the cell array has ", n, ")");
    if (var_->data == nullptr || var_->nbytes / sizeof(matvar_t*) <= index) bad("cell ", index, " was not read");
    matvar_t* c = static_cast<matvar_t**>(var_->data)[index];
    if (c == nullptr) bad("cell ", index, " is missing");
    return MatValue(root_, c, file_, path_ + "{" + std::to_string(index + 1) + "}", options_);
  }

  /// A char array as UTF-8 text; a char matrix with several rows is an error.
  std::string to_string() const {
    if (!is_char()) bad("is a ", class_name(), ", not a char array");
    const std::vector<std::size_t> d = dims();
    const std::size_t n = numel();
    if (n == 0) return {};
    if (d.size() != 2 || d[0] != 1) bad("is a char array of size ", shape_str(d), ", not a row of text");
    const std::size_t each = var_->data_size > 0 ? static_cast<std::size_t>(var_->data_size) : 0;
    if (var_->data == nullptr || (each != 1 && each != 2) || var_->nbytes < n * each)
      bad("char data are missing or inconsistent");
    std::string out;
    if (each == 1) return std::string(static_cast<const char*>(var_->data), n);
    const auto* p = static_cast<const unsigned char*>(var_->data);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint16_t c;
      std::memcpy(&c, p + 2 * i, 2);
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
      } else {  // BMP only: MATLAB's char is UTF-16 code units
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    return out;
  }

  /// The data as a row-major `HostArray` with MATLAB's dimensions as its shape (see the file
  /// comment); `source` is "<file>: <path>".
  HostArray to_array() const {
    HostArray a;
    a.source = file_ + ": " + path_;
    a.shape = dims();
    std::size_t n = 0;
    if (!detail::checked_count(a.shape, n)) bad("dimensions overflow");
    if (var_->class_type == MAT_C_EMPTY) {
      a.dtype = DType::F64;
      if (n != 0) bad("is an empty value with dimensions ", shape_str(a.shape));
      return a;
    }
    if (is_complex()) bad("is complex ", class_name(), "; only real data are supported");
    if (is_sparse()) return sparse_to_array(std::move(a));
    if (!is_numeric())
      bad("is a ", class_name(), ", not a numeric array",
          is_struct() ? " (read its fields with field())"
          : is_cell() ? " (read its elements with cell())"
          : is_char() ? " (read it with to_string())"
                      : "");
    const std::size_t each = detail::mat_class_size(var_->class_type);
    if (n != 0 && (var_->data == nullptr || static_cast<std::size_t>(var_->data_size) != each ||
                   n > std::numeric_limits<std::size_t>::max() / each || var_->nbytes < n * each))
      bad("data are missing or inconsistent with the dimensions ", shape_str(a.shape), detail::matio_reason());
    const auto* src = static_cast<const unsigned char*>(var_->data);
    switch (var_->class_type) {
      case MAT_C_DOUBLE:
        return permute<double, double>(std::move(a), src, n);
      case MAT_C_SINGLE:
        return permute<float, float>(std::move(a), src, n);
      case MAT_C_INT8:
        return permute<std::int8_t, std::int8_t>(std::move(a), src, n);
      case MAT_C_UINT8:
        return permute<std::uint8_t, std::uint8_t>(std::move(a), src, n);
      case MAT_C_INT16:
        return permute<std::int16_t, std::int32_t>(std::move(a), src, n);
      case MAT_C_UINT16:
        return permute<std::uint16_t, std::int32_t>(std::move(a), src, n);
      case MAT_C_INT32:
        return permute<std::int32_t, std::int32_t>(std::move(a), src, n);
      case MAT_C_UINT32:
        return permute<std::uint32_t, std::int64_t>(std::move(a), src, n);
      case MAT_C_INT64:
        return permute<std::int64_t, std::int64_t>(std::move(a), src, n);
      case MAT_C_UINT64:
        return permute<std::uint64_t, std::int64_t>(std::move(a), src, n);
      default:
        bad("is a ", class_name(), ", not a numeric array");
    }
  }

 private:
  template <class... Args>
  [[noreturn]] void bad(Args&&... args) const {
    ::ssah::detail::fail<IoError>("'", file_, "': variable ", path_, ": ", std::forward<Args>(args)...);
  }
  void require_struct(const char* what) const {
    if (!is_struct()) bad(what, "(): is a ", class_name(), ", not a struct");
  }

  /// Converts each element from Src to Dst (exactly, or an error), then reorders to row-major.
  template <class Src, class Dst>
  HostArray permute(HostArray a, const unsigned char* src, std::size_t n) const {
    if (n > options_.max_bytes / sizeof(Dst))
      bad("needs ", n * sizeof(Dst), " bytes, over the limit of ", options_.max_bytes);
    a.dtype = dtype_of<Dst>();
    std::vector<unsigned char> converted;
    const unsigned char* col_major = src;
    if constexpr (!std::is_same_v<Src, Dst>) {
      converted.resize(n * sizeof(Dst));
      for (std::size_t i = 0; i < n; ++i) {
        Src v;
        std::memcpy(&v, src + i * sizeof(Src), sizeof(Src));
        Dst d{};
        if (!detail::convert_value<Dst>(v, d))
          bad("element ", i, " (column-major) = ", detail::value_str(v), " does not fit in ", dtype_name(a.dtype));
        std::memcpy(converted.data() + i * sizeof(Dst), &d, sizeof(Dst));
      }
      col_major = converted.data();
    }
    a.bytes.resize(n * sizeof(Dst));
    // Column-major of MATLAB's dims is row-major of the dims reversed: reversing the axes again
    // gives row-major with MATLAB's dims.
    const std::vector<std::size_t> reversed(a.shape.rbegin(), a.shape.rend());
    std::vector<std::size_t> perm(a.shape.size());
    for (std::size_t k = 0; k < perm.size(); ++k) perm[k] = perm.size() - 1 - k;
    ::ssah::detail::permute_axes(col_major, reversed, perm, sizeof(Dst), a.bytes.data());
    return a;
  }

  HostArray sparse_to_array(HostArray a) const {
    if (a.shape.size() != 2) bad("is a sparse array with ", a.shape.size(), " dimensions");
    if (var_->data_type == MAT_T_DOUBLE) return sparse_to_array<double>(std::move(a));
    if (var_->data_type == MAT_T_UINT8) return sparse_to_array<std::uint8_t>(std::move(a));
    bad("sparse data of an unsupported type");
  }

  /// Expands a real sparse matrix (values stored as Src) to dense F64, or U8 0/1 when logical.
  template <class Src>
  HostArray sparse_to_array(HostArray a) const {
    const std::size_t rows = a.shape[0], cols = a.shape[1];
    const bool logical = is_logical();
    const std::size_t each = logical ? 1 : 8;
    std::size_t n = 0;
    if (!detail::checked_count(a.shape, n) || n > options_.max_bytes / each)
      bad("sparse ", shape_str(a.shape), " is too large to expand (limit ", options_.max_bytes, " bytes)");
    const auto* s = static_cast<const mat_sparse_t*>(var_->data);
    a.dtype = logical ? DType::U8 : DType::F64;
    a.bytes.assign(n * each, 0);
    if (n == 0) return a;
    if (s == nullptr || s->jc == nullptr || s->njc < cols + 1) bad("sparse column index is missing or short");
    const std::size_t nnz = s->jc[cols];
    if (nnz > s->nir || nnz > s->ndata || (nnz > 0 && (s->ir == nullptr || s->data == nullptr)))
      bad("sparse data are inconsistent (", nnz, " non-zeros)");
    for (std::size_t j = 0; j < cols; ++j)  // then every column's range lies within [0, nnz)
      if (s->jc[j] > s->jc[j + 1]) bad("sparse column starts decrease at column ", j);
    const auto* values = static_cast<const unsigned char*>(s->data);
    for (std::size_t j = 0; j < cols; ++j) {
      for (std::size_t k = s->jc[j]; k < s->jc[j + 1]; ++k) {
        const std::size_t i = s->ir[k];
        if (i >= rows) bad("sparse row index ", i, " is out of range (", rows, " rows)");
        Src v;
        std::memcpy(&v, values + k * sizeof(Src), sizeof(Src));
        unsigned char* out = a.bytes.data() + (i * cols + j) * each;
        if (logical) {
          *out = v != Src(0) ? 1 : 0;
        } else {
          const double d = static_cast<double>(v);
          std::memcpy(out, &d, sizeof d);
        }
      }
    }
    return a;
  }

  std::shared_ptr<matvar_t> root_;
  matvar_t* var_;
  std::string file_;
  std::string path_;
  MatReadOptions options_;
};

/// An open `.mat` file (read-only).
class MatFile {
 public:
  /// Opens `path`; `IoError` naming it when it is missing or not a MATLAB file.
  explicit MatFile(const std::string& path, MatReadOptions options = {}) : path_(path), options_(options) {
    detail::matio_install_logger();
    detail::matio_reason();
    check_structure();
    mat_t* m = Mat_Open(path.c_str(), MAT_ACC_RDONLY);
    if (m == nullptr)
      ::ssah::detail::fail<IoError>("'", path, "': not a MATLAB .mat file (v4, v5 or v7.3), or a corrupted one",
                                    detail::matio_reason());
    mat_.reset(m, [](mat_t* p) { Mat_Close(p); });
  }

  const std::string& path() const noexcept { return path_; }
  /// "7.3" or "5".
  std::string version() const {
    switch (Mat_GetVersion(mat_.get())) {
      case MAT_FT_MAT73:
        return "7.3";
      case MAT_FT_MAT5:
        return "5";
      case MAT_FT_MAT4:
        return "4";
      default:
        return "unknown";
    }
  }

  /// Every variable's name, class and dimensions, in file order (no data are read).
  std::vector<MatVarInfo> variables() const {
    std::vector<MatVarInfo> out;
    Mat_Rewind(mat_.get());
    while (matvar_t* v = Mat_VarReadNextInfo(mat_.get())) {
      std::unique_ptr<matvar_t, void (*)(matvar_t*)> guard(v, Mat_VarFree);
      MatVarInfo info;
      info.name = v->name ? v->name : "";
      info.class_name = detail::mat_class_name(v);
      info.dims = detail::mat_dims(v);
      info.is_complex = v->isComplex != 0;
      out.push_back(std::move(info));
      if (out.size() > 1000000) ::ssah::detail::fail<IoError>("'", path_, "': more than a million variables");
    }
    Mat_Rewind(mat_.get());
    detail::matio_reason();
    return out;
  }

  bool contains(const std::string& name) const {
    for (const MatVarInfo& v : variables())
      if (v.name == name) return true;
    return false;
  }

 private:
  /// The information (no data) of variable `name`, after the checks that come before reading it:
  /// present and the only one of its name, its declared sizes plausible for the file and within
  /// the limit, and `copies` times its data within the memory available. The caller frees it.
  matvar_t* checked_info(const std::string& name, std::size_t copies) const {
    using Info = std::unique_ptr<matvar_t, void (*)(matvar_t*)>;
    detail::matio_reason();
    Mat_Rewind(mat_.get());
    std::size_t same_name = 0;  // matio would read the first silently
    for (const MatVarInfo& v : variables()) same_name += v.name == name ? 1 : 0;
    if (same_name > 1)
      ::ssah::detail::fail<IoError>("'", path_, "': ", same_name, " variables are named '", name,
                                    "'; which one is meant is not known");
    Info info(Mat_VarReadInfo(mat_.get(), name.c_str()), Mat_VarFree);
    if (info == nullptr) {
      std::string names;
      for (const MatVarInfo& v : variables()) names += (names.empty() ? "'" : ", '") + v.name + "'";
      ::ssah::detail::fail<IoError>("'", path_, "': no variable '", name, "' (it has ",
                                    names.empty() ? std::string("none") : names, ")");
    }
    // Mat_VarRead reads the whole tree (struct fields, cells) at once: bound all of it first.
    // HDF5 makes up data that a v7.3 file declares but does not hold (a dataset whose storage is
    // not allocated reads as its fill value), so the bound is what the file's size can hold.
    detail::MatDeclared declared;
    if (!detail::mat_declared_bytes(info.get(), declared))
      ::ssah::detail::fail<IoError>("'", path_, "': variable '", name, "' declares ", declared.problem,
                                    "; refused before reading");
    const std::size_t plausible = detail::mat_plausible_bytes(file_size_);
    const std::size_t records = declared.arrays > plausible / detail::mat_array_cost
                                    ? std::numeric_limits<std::size_t>::max()
                                    : declared.arrays * detail::mat_array_cost;
    if (declared.bytes > plausible || records > plausible - declared.bytes)
      ::ssah::detail::fail<IoError>("'", path_, "': variable '", name, "' declares ", declared.bytes,
                                    " bytes of data in ", declared.arrays, declared.arrays == 1 ? " array" : " arrays",
                                    ", more than a file of ", file_size_, " bytes can hold (at most ", plausible,
                                    " at zlib's maximal compression, with ", detail::mat_array_cost,
                                    " bytes for each array); refused before reading");
    if (declared.bytes > options_.max_bytes)
      ::ssah::detail::fail<IoError>("'", path_, "': variable '", name, "' declares ", declared.bytes,
                                    " bytes of data, over the limit of ", options_.max_bytes,
                                    " (MatReadOptions::max_bytes)");
    // Refused with the sizes before reading, not ended by an allocation failure halfway (a small
    // compressed file can declare gigabytes).
    if (declared.bytes <= std::numeric_limits<std::size_t>::max() / copies &&
        ::ssah::detail::exceeds_host_memory(copies * declared.bytes))
      ::ssah::detail::fail<OutOfMemory>(
          "'", path_, "': variable '", name, "' declares ", ::ssah::detail::human_bytes(declared.bytes),
          " of data; reading and converting it needs about ", copies, " times that, more than the ",
          ::ssah::detail::human_bytes(::ssah::detail::available_host_memory()), " available");
    return info.release();
  }

 public:
  /// Reads the numeric variable `name` (a dense real array) in slabs along MATLAB axis `axis`: for
  /// each slab, `sink(first, slab)` gets the row-major array (as `MatValue::to_array()` gives) of
  /// indices [first, first + slab.shape[axis]) of that axis, in order. A slab holds at most
  /// `slab_bytes` of data (one index at least), so that a large variable is never held whole twice:
  /// the memory is a slab read and a slab converted, beside whatever `sink` keeps. Variables that
  /// matio cannot read by parts come in one slab: sparse matrices, dimensions beyond 2^31, and
  /// every variable of a v5 file (at most 2 GiB each by the format; matio 1.5.23 misplaces the
  /// values of a slab of a compressed 4-D variable, and would inflate it from its start for each).
  template <class Sink>
  void read_slabs(const std::string& name, std::size_t axis, std::size_t slab_bytes, Sink&& sink) const {
    std::unique_ptr<matvar_t, void (*)(matvar_t*)> info(checked_info(name, 1), Mat_VarFree);
    const std::vector<std::size_t> dims = detail::mat_dims(info.get());
    std::size_t n = 0;
    const bool by_parts =
        Mat_GetVersion(mat_.get()) == MAT_FT_MAT73 && detail::mat_is_numeric_class(info->class_type) &&
        info->isComplex == 0 && axis < dims.size() && detail::checked_count(dims, n) && n > 0 &&
        std::all_of(dims.begin(), dims.end(),
                    [](std::size_t d) { return d <= static_cast<std::size_t>(std::numeric_limits<int>::max()); });
    if (!by_parts) {
      info.reset();
      HostArray whole = read(name).to_array();  // matio's copy is freed here
      sink(std::size_t(0), std::move(whole));
      return;
    }
    const std::size_t each = detail::mat_class_size(info->class_type);
    const std::size_t per_index = n / dims[axis] * each;
    const std::size_t step = std::max<std::size_t>(1, slab_bytes / per_index);
    std::vector<int> start(dims.size(), 0), stride(dims.size(), 1), edge(dims.size());
    for (std::size_t k = 0; k < dims.size(); ++k) edge[k] = static_cast<int>(dims[k]);
    std::vector<unsigned char> raw;
    for (std::size_t first = 0; first < dims[axis]; first += step) {
      const std::size_t count = std::min(step, dims[axis] - first);
      start[axis] = static_cast<int>(first);
      edge[axis] = static_cast<int>(count);
      raw.resize(count * per_index);  // every byte is written by matio
      detail::matio_reason();
      if (Mat_VarReadData(mat_.get(), info.get(), raw.data(), start.data(), stride.data(), edge.data()) != 0)
        ::ssah::detail::fail<IoError>("'", path_, "': variable '", name, "': indices ", first, " to ",
                                      first + count - 1, " of axis ", axis + 1, " cannot be read (corrupted file?)",
                                      detail::matio_reason());
      // The slab as a variable of its own, for to_array(): the same class, its own dims and data.
      matvar_t part = *info;
      std::vector<std::size_t> part_dims(dims);
      part_dims[axis] = count;
      part.dims = part_dims.data();
      part.data = raw.data();
      part.nbytes = raw.size();
      part.data_size = static_cast<int>(each);
      sink(first, MatValue(nullptr, &part, path_, name, options_).to_array());
    }
  }

  /// Reads variable `name` whole (with its fields and cells). `IoError` naming the file when it
  /// is absent (listing the variables there are), too large, or cannot be read.
  MatValue read(const std::string& name) const {
    // matio's copy, the row-major copy and a converted one are held at once.
    Mat_VarFree(checked_info(name, 3));
    Mat_Rewind(mat_.get());
    matvar_t* v = Mat_VarRead(mat_.get(), name.c_str());
    if (v == nullptr)
      ::ssah::detail::fail<IoError>("'", path_, "': variable '", name, "' cannot be read (corrupted file?)",
                                    detail::matio_reason());
    std::shared_ptr<matvar_t> root(v, [](matvar_t* p) { Mat_VarFree(p); });
    return MatValue(root, v, path_, name, options_);
  }

 private:
  /// Recognises v5 and v7.3 from the 128-byte header (v4 files, which have none, are refused),
  /// and validates the whole structure of a v5 file before matio sees it.
  void check_structure() {
    detail::FileSource src(path_);  // missing / unreadable / directory: a clear IoError
    file_size_ = src.size();
    auto refuse = [&](const std::string& why) {
      ::ssah::detail::fail<IoError>("'", path_, "': not a MATLAB v5 or v7.3 .mat file (", why, ")");
    };
    if (file_size_ < 128) refuse(file_size_ == 0 ? "empty file" : "shorter than the 128-byte header");
    unsigned char h[128];
    src.read(0, h, 128);
    bool swap = false;
    if (h[126] == 'I' && h[127] == 'M')
      swap = false;
    else if (h[126] == 'M' && h[127] == 'I')
      swap = true;
    else
      refuse("no endian indicator; MATLAB v4 files are not supported");
    const unsigned version = swap ? (unsigned(h[124]) << 8 | h[125]) : (unsigned(h[125]) << 8 | h[124]);
    if (version == 0x0100) {
      try {
        // Compressed variables may inflate to the data limit plus room for their headers.
        const std::size_t cap = options_.max_bytes > (std::numeric_limits<std::size_t>::max() - (1 << 20)) / 2
                                    ? std::numeric_limits<std::size_t>::max()
                                    : 2 * options_.max_bytes + (1 << 20);
        detail::MatV5Validator(src, swap, cap).run();
      } catch (const detail::MatV5Invalid& e) {
        ::ssah::detail::fail<IoError>("'", path_, "': malformed MAT v5 file: ", e.what);
      }
    } else if (version == 0x0200) {
      check_hdf5_superblock(src);
      if (!options_.allow_hdf5)
        ::ssah::detail::fail<IoError>("'", path_,
                                      "': a MATLAB v7.3 (HDF5) file, refused (MatReadOptions::allow_hdf5 is false)");
    } else {
      refuse(::ssah::detail::concat("unknown version 0x", std::hex, version));
    }
  }

  /// MATLAB writes the HDF5 superblock after a 512-byte user block; HDF5 looks for it at 0, 512,
  /// 1024, ..., so nothing may pose as one at 0. A version 0/1 superblock must not name a driver
  /// information block (family or multi-file drivers make HDF5 open other files).
  void check_hdf5_superblock(const detail::FileSource& src) const {
    static const unsigned char hdf5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    auto refuse = [&](const std::string& why) {
      ::ssah::detail::fail<IoError>("'", path_, "': malformed MATLAB v7.3 file (", why, ")");
    };
    if (file_size_ < 512 + 96) refuse("too short for an HDF5 superblock");
    unsigned char head[8], sb[96];
    src.read(0, head, 8);
    if (std::memcmp(head, hdf5, 8) == 0) refuse("an HDF5 signature at byte 0");
    src.read(512, sb, sizeof sb);
    if (std::memcmp(sb, hdf5, 8) != 0) refuse("no HDF5 signature at byte 512");
    const unsigned sb_version = sb[8];
    if (sb_version > 3) refuse(::ssah::detail::concat("HDF5 superblock version ", sb_version));
    if (sb_version <= 1) {
      if (sb[13] != 8 || sb[14] != 8) refuse("HDF5 addresses and lengths are not 8 bytes");
      const std::size_t addresses = sb_version == 0 ? 24 : 28;  // base, free space, end of file, driver info
      for (std::size_t i = 0; i < 8; ++i)
        if (sb[addresses + 24 + i] != 0xff) refuse("an HDF5 driver information block (family or multi-file driver)");
    }
  }

  std::string path_;
  MatReadOptions options_;
  std::size_t file_size_ = 0;
  std::shared_ptr<mat_t> mat_;
};

/// The variables of a `.mat` file (names, classes, dimensions).
inline std::vector<MatVarInfo> list_mat_variables(const std::string& path) { return MatFile(path).variables(); }

/// Reads the numeric variable `name` as a row-major array with MATLAB's dimensions.
inline HostArray read_mat_array(const std::string& path, const std::string& name, MatReadOptions options = {}) {
  return MatFile(path, options).read(name).to_array();
}

}  // namespace io
}  // namespace ssah
