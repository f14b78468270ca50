#pragma once
/// \file
/// NumPy `.npy` files: read (format versions 1.0, 2.0 and 3.0) and write (version 1.0), for the
/// dtypes ssah uses: uint8, int8, int32, int64, float32, float64, and bool (`|b1`, read as uint8).
/// Data must be little-endian and in C order; at most 64 dimensions, as in NumPy.
///
/// Reading checks every size in the header against the file's real length before allocating,
/// and rejects, with an `IoError` naming the file: a missing file, wrong magic, an unknown format
/// version, a malformed header, Fortran order, big-endian data, an unsupported dtype, and a data
/// section shorter or longer than the shape implies. Writing goes through `AtomicFile`.
///
/// \code
///   ssah::io::NpyArray x = ssah::io::read_npy("train_img_f32.npy");   // shape {2173, 128}
///   std::vector<float> v = x.as<float>();                              // row-major, 2173 * 128
///   ssah::io::write_npy("codes.npy", codes.data(), {n, 64});           // codes: std::vector<int8_t>
/// \endcode

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "ssah/error.hpp"
#include "ssah/io/array.hpp"
#include "ssah/io/atomic_file.hpp"
#include "ssah/io/file.hpp"

namespace ssah {
namespace io {

/// An array read from a `.npy` file; `source` is the file's path.
using NpyArray = HostArray;

/// What a `.npy` header says, without the data.
struct NpyHeader {
  DType dtype = DType::F32;
  std::vector<std::size_t> shape;
  /// The file declared '|b1' (bool); the data are read as uint8 0/1.
  bool is_bool = false;
  int major_version = 1;
  /// Offset of the data section (magic + version + length field + header text).
  std::size_t data_offset = 0;
  /// Bytes of data the shape implies.
  std::size_t data_bytes = 0;
};

/// A `.npy` file whose dtype ssah does not read: `descr()` is what its header declares ("<u8"; "a
/// structured dtype" for a list of fields), so that a caller that wants a particular type can say so
/// in its own words. NUL bytes of a hostile header are shown as '?', as every ssah message does.
class NpyUnsupportedDType : public IoError {
 public:
  NpyUnsupportedDType(const std::string& message, std::string descr)
      : IoError(without_nul(message)), descr_(without_nul(std::move(descr))) {}
  const std::string& descr() const noexcept { return descr_; }

 private:
  static std::string without_nul(std::string s) {
    std::replace(s.begin(), s.end(), '\0', '?');
    return s;
  }
  std::string descr_;
};

/// NumPy's name of a dtype descr ("<u8" -> "uint64", "<f2" -> "float16"), or the descr itself
/// when it is not a simple numeric one.
inline std::string npy_descr_name(const std::string& descr) {
  if (descr.size() < 3 || (descr[0] != '<' && descr[0] != '>' && descr[0] != '|' && descr[0] != '=')) return descr;
  const std::string digits = descr.substr(2);
  if (digits.empty() || digits.size() > 2 || digits.find_first_not_of("0123456789") != std::string::npos) return descr;
  const int bits = std::stoi(digits) * 8;
  const std::string order = descr[0] == '>' ? "big-endian " : "";
  switch (descr[1]) {
    case 'i':
      return order + "int" + std::to_string(bits);
    case 'u':
      return order + "uint" + std::to_string(bits);
    case 'f':
      return order + "float" + std::to_string(bits);
    case 'c':
      return order + "complex" + std::to_string(bits);
    case 'b':
      return bits == 8 ? "bool" : descr;
    default:
      return descr;
  }
}

namespace detail {

constexpr unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
/// Larger headers are rejected before they are read (NumPy's own limit is 10000 bytes by default).
constexpr std::size_t npy_max_header = std::size_t(1) << 20;
constexpr std::size_t npy_max_ndim = 64;

/// A strict parser for the Python dict literal of a `.npy` header:
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class NpyHeaderParser {
 public:
  NpyHeaderParser(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  void parse(NpyHeader& h) {
    bool have_descr = false, have_order = false, have_shape = false, fortran = false;
    std::string descr;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::string key = parse_string("a key");
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (have_descr) bad("duplicate key 'descr'");
        have_descr = true;
        if (peek() == '[') unsupported_dtype("a structured dtype", "a structured dtype (list of fields)");
        descr = parse_string("the 'descr' value");
      } else if (key == "fortran_order") {
        if (have_order) bad("duplicate key 'fortran_order'");
        have_order = true;
        fortran = parse_bool();
      } else if (key == "shape") {
        if (have_shape) bad("duplicate key 'shape'");
        have_shape = true;
        h.shape = parse_shape();
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') continue;
      bad("expected ',' or '}'");
    }
    skip_ws();
    if (pos_ != s_.size()) bad("unexpected text after the closing '}'");
    if (!have_descr || !have_order || !have_shape) bad("needs the keys 'descr', 'fortran_order' and 'shape'");
    if (fortran)
      fail<IoError>("'", file_,
                    "': Fortran-order arrays are not supported; save it in C order "
                    "(numpy: np.save(path, np.ascontiguousarray(a)))");
    parse_descr(descr, h);
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail<IoError>("'", file_, "': malformed header: ", what, " at character ", pos_, " of \"", printable(), "\"");
  }
  /// `descr` as declared; `what` how to show it (quoted, or a description of a structured dtype).
  [[noreturn]] void unsupported_dtype(const std::string& descr, const std::string& what) const {
    throw NpyUnsupportedDType(::ssah::detail::concat("'", file_, "': unsupported dtype ", what,
                                                     " (supported: <u1/|u1, |i1, <i4, <i8, <f4, <f8 and |b1 as uint8)"),
                              descr);
  }
  std::string printable() const {
    std::string out;
    for (char c : s_.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (s_.size() > 200) out += "...";
    return out;
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string(const char* what) {
    const char q = peek();
    if (q != '\'' && q != '"') bad(std::string("expected a quoted string for ") + what);
    ++pos_;
    const std::size_t end = s_.find(q, pos_);
    if (end == std::string::npos) bad("unterminated string");
    std::string out = s_.substr(pos_, end - pos_);
    if (out.find('\\') != std::string::npos) bad("escape sequences are not supported");
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    bad("'fortran_order' must be True or False");
  }
  std::size_t parse_int() {
    if (peek() < '0' || peek() > '9') bad("expected a non-negative integer in 'shape'");
    std::size_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      const auto d = static_cast<std::size_t>(peek() - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - d) / 10) bad("shape extent too large");
      v = v * 10 + d;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2 long literal, as old NumPy wrote it
    return v;
  }
  std::vector<std::size_t> parse_shape() {
    std::vector<std::size_t> shape;
    expect('(');
    skip_ws();
    if (peek() == ')') {
      ++pos_;
      return shape;
    }
    for (;;) {
      skip_ws();
      shape.push_back(parse_int());
      if (shape.size() > npy_max_ndim) bad("more than 64 dimensions");
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
        if (peek() == ')') break;
        continue;
      }
      if (peek() == ')') break;
      bad("expected ',' or ')' in 'shape'");
    }
    ++pos_;
    return shape;
  }
  void parse_descr(const std::string& d, NpyHeader& h) const {
    if (d.size() != 3) unsupported_dtype(d, "'" + d + "'");
    const char order = d[0];
    const std::string kind = d.substr(1);
    std::size_t size = 0;
    if (kind == "u1")
      h.dtype = DType::U8, size = 1;
    else if (kind == "i1")
      h.dtype = DType::I8, size = 1;
    else if (kind == "b1")
      h.dtype = DType::U8, size = 1, h.is_bool = true;
    else if (kind == "i4")
      h.dtype = DType::I32, size = 4;
    else if (kind == "i8")
      h.dtype = DType::I64, size = 8;
    else if (kind == "f4")
      h.dtype = DType::F32, size = 4;
    else if (kind == "f8")
      h.dtype = DType::F64, size = 8;
    else
      unsupported_dtype(d, "'" + d + "'");
    if (order == '>' && size > 1)
      fail<IoError>("'", file_, "': big-endian data ('", d,
                    "') are not supported; convert it "
                    "(numpy: np.save(path, a.astype(a.dtype.newbyteorder('<'))))");
    const bool ok = order == '<' || (size == 1 && (order == '|' || order == '>' || order == '='));
    if (!ok) unsupported_dtype(d, "'" + d + "' (byte order must be '<', or '|' for one-byte types)");
  }

  const std::string& s_;
  const std::string& file_;
  std::size_t pos_ = 0;
};

inline std::uint32_t load_le32(const unsigned char* p) noexcept {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

/// Parses and validates the header of `src` (not the data).
inline NpyHeader read_npy_header(const ByteSource& src) {
  const std::string& file = src.name();
  unsigned char pre[12] = {};
  if (src.size() < 10)
    fail<IoError>("'", file, "': not a .npy file (", src.size(), " bytes, shorter than the 10-byte preamble)");
  src.read(0, pre, 10);
  if (std::memcmp(pre, npy_magic, 6) != 0) fail<IoError>("'", file, "': not a .npy file (wrong magic)");
  NpyHeader h;
  h.major_version = pre[6];
  const int minor = pre[7];
  std::size_t header_len = 0, preamble = 0;
  if (h.major_version == 1 && minor == 0) {
    header_len = std::size_t(pre[8]) | std::size_t(pre[9]) << 8;
    preamble = 10;
  } else if ((h.major_version == 2 || h.major_version == 3) && minor == 0) {
    if (src.size() < 12) fail<IoError>("'", file, "': truncated header (", src.size(), " bytes)");
    src.read(10, pre + 10, 2);
    header_len = load_le32(pre + 8);
    preamble = 12;
  } else {
    fail<IoError>("'", file, "': unsupported .npy format version ", h.major_version, ".", minor,
                  " (supported: 1.0, 2.0, 3.0)");
  }
  if (header_len > npy_max_header)
    fail<IoError>("'", file, "': malformed header: declared length ", header_len, " bytes is implausible");
  if (header_len > src.size() - preamble)
    fail<IoError>("'", file, "': truncated header: declares ", header_len, " bytes but the file has ",
                  src.size() - preamble, " after the preamble");
  std::string text(header_len, '\0');
  src.read(preamble, text.data(), header_len);
  NpyHeaderParser(text, file).parse(h);
  h.data_offset = preamble + header_len;
  std::size_t count = 0;
  if (!checked_count(h.shape, count) || count > std::numeric_limits<std::size_t>::max() / dtype_size(h.dtype))
    fail<IoError>("'", file, "': shape ", shape_str(h.shape), " is too large");
  h.data_bytes = count * dtype_size(h.dtype);
  return h;
}

inline NpyArray read_npy(const ByteSource& src) {
  const NpyHeader h = read_npy_header(src);
  const std::string& file = src.name();
  const std::size_t have = src.size() - h.data_offset;
  if (have < h.data_bytes)
    fail<IoError>("'", file, "': truncated data: shape ", shape_str(h.shape), " of ", dtype_name(h.dtype), " needs ",
                  h.data_bytes, " bytes but the file has ", have);
  if (have > h.data_bytes)
    fail<IoError>("'", file, "': ", have - h.data_bytes, " unexpected bytes after the data (shape ", shape_str(h.shape),
                  " of ", dtype_name(h.dtype), " needs ", h.data_bytes, ")");
  NpyArray a;
  a.dtype = h.dtype;
  a.shape = h.shape;
  a.source = file;
  const std::string what = "reading '" + file + "' (" + shape_str(h.shape) + " of " + dtype_name(h.dtype) + ")";
  ::ssah::detail::check_host_allocation(h.data_bytes, 1, what.c_str());
  try {
    a.bytes.resize(h.data_bytes);
  } catch (const std::bad_alloc&) {
    fail<OutOfMemory>("out of memory: ", what, " needs ", ::ssah::detail::human_bytes(h.data_bytes));
  }
  src.read(h.data_offset, a.bytes.data(), h.data_bytes);
  return a;
}

/// The complete header text of a `.npy` file: preamble, dict, padding, newline.
inline std::string npy_header_bytes(DType dtype, const std::vector<std::size_t>& shape) {
  SSAH_CHECK_AS(ShapeError, shape.size() <= npy_max_ndim, "write_npy: ", shape.size(),
                " dimensions (at most 64, as NumPy)");
  std::string dict = "{'descr': '";
  switch (dtype) {
    case DType::U8:
      dict += "|u1";
      break;
    case DType::I8:
      dict += "|i1";
      break;
    case DType::I32:
      dict += "<i4";
      break;
    case DType::I64:
      dict += "<i8";
      break;
    case DType::F32:
      dict += "<f4";
      break;
    case DType::F64:
      dict += "<f8";
      break;
  }
  dict += "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1) dict += ",";
  dict += "), }";
  // Pad with spaces so that the data start at a multiple of 64 bytes, as NumPy does. With at most
  // 64 extents the header is far below version 1.0's limit of 65535 bytes.
  const std::size_t preamble = 10;
  const std::size_t total = (preamble + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - preamble - dict.size() - 1, ' ');
  dict += '\n';
  const std::size_t len = dict.size();
  std::string out(reinterpret_cast<const char*>(npy_magic), 6);
  out += '\x01';
  out += '\0';
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  return out + dict;
}

inline std::size_t npy_data_bytes(DType dtype, const std::vector<std::size_t>& shape, const char* who) {
  std::size_t n = 0;
  SSAH_CHECK_AS(ShapeError, checked_count(shape, n) && n <= std::numeric_limits<std::size_t>::max() / dtype_size(dtype),
                who, ": shape ", shape_str(shape), " is too large");
  return n * dtype_size(dtype);
}

/// read_npy_header, with the source's length checked against the data the header declares.
inline NpyHeader read_complete_npy_header(const ByteSource& src) {
  NpyHeader h = read_npy_header(src);
  const std::size_t have = src.size() - h.data_offset;
  if (have != h.data_bytes)
    fail<IoError>("'", src.name(), "': ", have < h.data_bytes ? "truncated data" : "unexpected bytes after the data",
                  ": shape ", shape_str(h.shape), " of ", dtype_name(h.dtype), " needs ", h.data_bytes,
                  " bytes but the file has ", have);
  return h;
}

}  // namespace detail

/// Reads a whole `.npy` file. `source` of the result is `path`.
inline NpyArray read_npy(const std::string& path) {
  detail::FileSource src(path);
  return detail::read_npy(src);
}

/// Reads only the header of a `.npy` file (dtype, shape), checking that the file is long enough.
inline NpyHeader read_npy_header(const std::string& path) {
  detail::FileSource src(path);
  return detail::read_complete_npy_header(src);
}

/// Parses a `.npy` image held in memory; `name_for_errors` stands for the file in messages.
inline NpyArray parse_npy(const unsigned char* data, std::size_t n, const std::string& name_for_errors) {
  detail::MemorySource src(data, n, name_for_errors);
  return detail::read_npy(src);
}

/// The bytes of a `.npy` file holding `count(shape)` values of `data`.
template <class T>
std::vector<unsigned char> encode_npy(const T* data, const std::vector<std::size_t>& shape) {
  const std::string header = detail::npy_header_bytes(dtype_of<T>(), shape);
  const std::size_t nbytes = detail::npy_data_bytes(dtype_of<T>(), shape, "encode_npy");
  std::vector<unsigned char> out(header.size() + nbytes);
  std::memcpy(out.data(), header.data(), header.size());
  if (nbytes) std::memcpy(out.data() + header.size(), data, nbytes);
  return out;
}

/// Writes `count(shape)` row-major values of `data` to `path` atomically (temporary file, fsync,
/// rename). T is one of std::uint8_t, std::int8_t, std::int32_t, std::int64_t, float, double.
template <class T>
void write_npy(const std::string& path, const T* data, const std::vector<std::size_t>& shape) {
  const std::string header = detail::npy_header_bytes(dtype_of<T>(), shape);
  const std::size_t nbytes = detail::npy_data_bytes(dtype_of<T>(), shape, "write_npy");
  AtomicFile file(path);
  file.write(header);
  file.write(data, nbytes);
  file.commit();
}

/// As above; `values` must hold exactly `count(shape)` elements (`ShapeError` otherwise).
template <class T>
void write_npy(const std::string& path, const std::vector<T>& values, const std::vector<std::size_t>& shape) {
  std::size_t n = 0;
  SSAH_CHECK_AS(ShapeError, detail::checked_count(shape, n) && n == values.size(), "write_npy: '", path,
                "': ", values.size(), " values for shape ", shape_str(shape));
  write_npy(path, values.data(), shape);
}

/// Writes a `HostArray` (its dtype and shape) atomically.
inline void write_npy(const std::string& path, const HostArray& a) {
  a.check_consistent();
  const std::string header = detail::npy_header_bytes(a.dtype, a.shape);
  AtomicFile file(path);
  file.write(header);
  file.write(a.bytes.data(), a.bytes.size());
  file.commit();
}

}  // namespace io
}  // namespace ssah
