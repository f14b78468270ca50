#pragma once
/// \file
/// The structural validator of MAT v5 files that ssah/io/mat.hpp runs before matio parses one
/// (docs/fuzzing.md): element sizes, dimensions, nesting and the number of arrays, checked on
/// the file's bytes (inflated with zlib). Separate because it is most of the .mat code and does
/// not need matio.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include <zlib.h>

#include "ssah/io/detail/mat_file_capacity.hpp"
#include "ssah/io/file.hpp"

namespace ssah {
namespace io {
namespace detail {

/// Thrown inside the MAT v5 validator; turned into an IoError naming the file and the variable.
struct MatV5Invalid {
  std::string what;
};

/// Sequential reads from a region of a file, raw or zlib-inflated (MAT v5 miCOMPRESSED elements),
/// never past the region and never inflating more than `max_out` bytes.
class MatV5Stream {
 public:
  MatV5Stream(const ByteSource& src, std::size_t begin, std::size_t length, bool compressed, std::size_t max_out)
      : src_(src), pos_(begin), end_(begin + length), compressed_(compressed), max_out_(max_out) {
    if (compressed_) {
      z_ = z_stream{};
      if (inflateInit(&z_) != Z_OK) throw MatV5Invalid{"zlib initialisation failed"};
      z_open_ = true;
      in_.resize(1 << 16);
    }
  }
  ~MatV5Stream() {
    if (z_open_) inflateEnd(&z_);
  }
  MatV5Stream(const MatV5Stream&) = delete;
  MatV5Stream& operator=(const MatV5Stream&) = delete;

  /// Bytes delivered so far (of the inflated stream when compressed).
  std::size_t consumed() const noexcept { return consumed_; }

  void read(void* dst, std::size_t n) { pull(static_cast<unsigned char*>(dst), n); }
  void skip(std::size_t n) {
    if (!compressed_) {
      if (n > end_ - pos_) throw MatV5Invalid{"data run past the end of the element"};
      pos_ += n;
      consumed_ += n;
      return;
    }
    unsigned char scratch[1 << 14];
    while (n > 0) {
      const std::size_t k = std::min(n, sizeof scratch);
      pull(scratch, k);
      n -= k;
    }
  }

 private:
  void pull(unsigned char* dst, std::size_t n) {
    if (!compressed_) {
      if (n > end_ - pos_) throw MatV5Invalid{"data run past the end of the element"};
      src_.read(pos_, dst, n);
      pos_ += n;
      consumed_ += n;
      return;
    }
    if (n > max_out_ - std::min(max_out_, consumed_))
      throw MatV5Invalid{"compressed data expand beyond the size limit"};
    while (n > 0) {
      const std::size_t chunk = std::min<std::size_t>(n, std::numeric_limits<uInt>::max());
      z_.next_out = dst;
      z_.avail_out = static_cast<uInt>(chunk);
      while (z_.avail_out > 0) {
        if (done_) throw MatV5Invalid{"compressed data end before the element does"};
        if (z_.avail_in == 0) {
          const std::size_t k = std::min(in_.size(), end_ - pos_);
          if (k == 0) throw MatV5Invalid{"compressed data are truncated"};
          src_.read(pos_, in_.data(), k);
          pos_ += k;
          z_.next_in = in_.data();
          z_.avail_in = static_cast<uInt>(k);
        }
        const int r = inflate(&z_, Z_NO_FLUSH);
        if (r == Z_STREAM_END)
          done_ = true;
        else if (r != Z_OK)
          throw MatV5Invalid{std::string("corrupt compressed data (zlib: ") + (z_.msg ? z_.msg : "error") + ")"};
      }
      dst += chunk;
      n -= chunk;
      consumed_ += chunk;
    }
  }

  const ByteSource& src_;
  std::size_t pos_, end_;
  bool compressed_;
  std::size_t max_out_;
  std::size_t consumed_ = 0;
  z_stream z_{};
  bool z_open_ = false, done_ = false;
  std::vector<unsigned char> in_;
};

/// Checks the structure of a MAT v5 file before matio parses it: every element's size fits in
/// its parent and in the file, dimensions are non-negative and agree with the data sizes, and
/// nesting is bounded, and no variable describes more arrays (each a record that matio
/// allocates) than the file can hold. Then the allocations matio makes from the headers are
/// bounded by the file's (inflated) size. Stricter than the format: MATLAB objects of the opaque
/// and function classes (string, table, function handles) and v4 files are rejected.
class MatV5Validator {
 public:
  MatV5Validator(const ByteSource& src, bool swap, std::size_t max_inflated)
      : src_(src),
        swap_(swap),
        max_inflated_(max_inflated),
        max_arrays_(mat_plausible_bytes(src.size()) / mat_array_cost) {}

  /// Validates every top-level element; returns the number of variables.
  std::size_t run() {
    std::size_t pos = 128, count = 0;
    const std::size_t size = src_.size();
    while (size - pos >= 8) {
      ++count;
      if (count > 1000000) fail_at(count, pos, "more than a million variables");
      unsigned char tag[8];
      src_.read(pos, tag, 8);
      const std::uint32_t type = u32(tag), nbytes = u32(tag + 4);
      name_.clear();
      arrays_ = 0;
      if (nbytes > size - pos - 8)
        fail_at(count, pos, concat("element of ", nbytes, " bytes runs past the end of the file (truncated?)"));
      try {
        if (type == miMATRIX) {
          MatV5Stream s(src_, pos + 8, nbytes, false, 0);
          matrix(s, nbytes, 0);
        } else if (type == miCOMPRESSED) {
          MatV5Stream s(src_, pos + 8, nbytes, true, max_inflated_);
          std::uint64_t outer = std::numeric_limits<std::uint64_t>::max();
          const Tag t = read_tag(s, outer);
          if (t.type != miMATRIX)
            throw MatV5Invalid{concat("compressed element holds type ", t.type, ", not a matrix")};
          if (t.nbytes > max_inflated_) throw MatV5Invalid{"compressed matrix is larger than the size limit"};
          matrix(s, t.nbytes, 0);
        } else {
          throw MatV5Invalid{concat("top-level element of type ", type, " (expected a matrix or compressed matrix)")};
        }
      } catch (const MatV5Invalid& e) {
        fail_at(count, pos, e.what);
      }
      pos += 8 + static_cast<std::size_t>(nbytes);
    }
    return count;
  }

 private:
  static constexpr std::uint32_t miINT8 = 1, miUINT8 = 2, miINT16 = 3, miUINT16 = 4, miINT32 = 5, miUINT32 = 6,
                                 miSINGLE = 7, miDOUBLE = 9, miINT64 = 12, miUINT64 = 13, miMATRIX = 14,
                                 miCOMPRESSED = 15, miUTF8 = 16, miUTF16 = 17, miUTF32 = 18;
  // Array classes: the format's numbers, which matio's MAT_C_* repeat (16 and 17 as matio names them).
  static constexpr std::uint32_t mxCELL_CLASS = 1, mxSTRUCT_CLASS = 2, mxOBJECT_CLASS = 3, mxCHAR_CLASS = 4,
                                 mxSPARSE_CLASS = 5, mxDOUBLE_CLASS = 6, mxSINGLE_CLASS = 7, mxINT8_CLASS = 8,
                                 mxUINT8_CLASS = 9, mxINT16_CLASS = 10, mxUINT16_CLASS = 11, mxINT32_CLASS = 12,
                                 mxUINT32_CLASS = 13, mxINT64_CLASS = 14, mxUINT64_CLASS = 15, mxFUNCTION_CLASS = 16,
                                 mxOPAQUE_CLASS = 17;
  static constexpr int max_depth = 16;

  struct Tag {
    std::uint32_t type = 0, nbytes = 0;
    bool small = false;
    unsigned char inline_data[4] = {};
  };

  [[noreturn]] void fail_at(std::size_t var, std::size_t pos, const std::string& what) const {
    throw MatV5Invalid{concat("variable #", var, name_.empty() ? std::string() : " '" + name_ + "'",
                              " (element at byte ", pos, "): ", what)};
  }

  std::uint32_t u32(const unsigned char* p) const noexcept {
    return swap_ ? (std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3])
                 : (std::uint32_t(p[3]) << 24 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[1]) << 8 | p[0]);
  }

  static std::size_t numeric_size(std::uint32_t type) noexcept {
    switch (type) {
      case miINT8:
      case miUINT8:
        return 1;
      case miINT16:
      case miUINT16:
        return 2;
      case miINT32:
      case miUINT32:
      case miSINGLE:
        return 4;
      case miDOUBLE:
      case miINT64:
      case miUINT64:
        return 8;
      default:
        return 0;
    }
  }

  static void take(std::uint64_t& budget, std::uint64_t n, const char* what) {
    if (n > budget) throw MatV5Invalid{concat(what, " runs past the end of its matrix")};
    budget -= n;
  }

  Tag read_tag(MatV5Stream& s, std::uint64_t& budget) const {
    take(budget, 8, "a tag");
    unsigned char b[8];
    s.read(b, 8);
    Tag t;
    const std::uint32_t first = u32(b);
    if ((first >> 16) != 0) {  // small data element: type, length and up to 4 bytes in 8
      t.small = true;
      t.type = first & 0xffffu;
      t.nbytes = first >> 16;
      if (t.nbytes > 4) throw MatV5Invalid{"small data element longer than 4 bytes"};
      std::memcpy(t.inline_data, b + 4, 4);
    } else {
      t.type = first;
      t.nbytes = u32(b + 4);
    }
    return t;
  }

  /// Reads (into `dst`, up to `cap` bytes) or skips the payload of a data element, with padding.
  void payload(MatV5Stream& s, std::uint64_t& budget, const Tag& t, unsigned char* dst = nullptr,
               std::size_t cap = 0) const {
    if (t.small) {
      if (dst) std::memcpy(dst, t.inline_data, std::min<std::size_t>({cap, t.nbytes, sizeof t.inline_data}));
      return;
    }
    take(budget, t.nbytes, "a data element");
    const std::size_t head = dst ? std::min<std::size_t>(cap, t.nbytes) : 0;
    if (head) s.read(dst, head);
    s.skip(t.nbytes - head);
    const std::uint64_t pad = std::min<std::uint64_t>((8 - t.nbytes % 8) % 8, budget);
    budget -= pad;
    s.skip(static_cast<std::size_t>(pad));
  }

  Tag expect(MatV5Stream& s, std::uint64_t& budget, std::initializer_list<std::uint32_t> types,
             const char* what) const {
    const Tag t = read_tag(s, budget);
    for (std::uint32_t ty : types)
      if (t.type == ty) return t;
    throw MatV5Invalid{concat(what, " has data type ", t.type)};
  }

  /// A numeric data element holding exactly `numel` values.
  void numeric_data(MatV5Stream& s, std::uint64_t& budget, std::uint64_t numel, const char* what) const {
    const Tag t = read_tag(s, budget);
    const std::size_t each = numeric_size(t.type);
    if (each == 0) throw MatV5Invalid{concat(what, " has non-numeric data type ", t.type)};
    if (t.nbytes % each != 0 || t.nbytes / each != numel)
      throw MatV5Invalid{concat(what, " holds ", t.nbytes, " bytes for ", numel, " elements")};
    payload(s, budget, t);
  }

  /// The content of a matrix element of `nbytes` bytes.
  void matrix(MatV5Stream& s, std::uint64_t nbytes, int depth) {
    // matio allocates a record for every array, an empty cell element or field included.
    if (++arrays_ > max_arrays_)
      throw MatV5Invalid{
          concat("describes more than ", max_arrays_,
                 " arrays (struct fields and cells; matio allocates a record for each), more than a file of ",
                 src_.size(), " bytes can hold")};
    if (nbytes == 0) return;  // an empty cell element or field
    if (depth > max_depth) throw MatV5Invalid{"cells and structs nested too deeply"};
    std::uint64_t budget = nbytes;
    Tag t = expect(s, budget, {miUINT32}, "array flags");
    if (t.nbytes != 8 || t.small) throw MatV5Invalid{"array flags are not 8 bytes"};
    unsigned char flags[8];
    payload(s, budget, t, flags, 8);
    const std::uint32_t cls = u32(flags) & 0xffu, nzmax = u32(flags + 4);
    const bool complex = (u32(flags) & 0x0800u) != 0;

    t = expect(s, budget, {miINT32}, "dimensions");
    if (t.nbytes % 4 != 0 || t.nbytes < 8 || t.nbytes > 4 * 32)
      throw MatV5Invalid{concat("dimensions of ", t.nbytes, " bytes")};
    unsigned char dim_bytes[4 * 32];
    payload(s, budget, t, dim_bytes, sizeof dim_bytes);
    std::vector<std::uint64_t> dims;
    std::uint64_t numel = 1;
    for (std::uint32_t i = 0; i < t.nbytes / 4; ++i) {
      const auto d = static_cast<std::int32_t>(u32(dim_bytes + 4 * i));
      if (d < 0) throw MatV5Invalid{concat("negative dimension ", d)};
      dims.push_back(static_cast<std::uint64_t>(d));
      if (d != 0 && numel > (std::uint64_t(1) << 48) / static_cast<std::uint64_t>(d))
        throw MatV5Invalid{"dimensions overflow"};
      numel *= static_cast<std::uint64_t>(d);
    }
    t = expect(s, budget, {miINT8, miUINT8}, "array name");
    if (depth == 0) {  // the variable's name, quoted in errors (printable ASCII, at most 63 bytes)
      char name[64] = {};
      payload(s, budget, t, reinterpret_cast<unsigned char*>(name), sizeof name - 1);
      name_.clear();
      for (std::size_t i = 0; i < std::min<std::size_t>(t.nbytes, sizeof name - 1); ++i)
        name_ += (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
    } else {
      payload(s, budget, t);
    }
    if (cls == mxOBJECT_CLASS) {
      t = expect(s, budget, {miINT8, miUINT8}, "class name");
      payload(s, budget, t);
    }

    switch (cls) {
      case mxCELL_CLASS: {
        if (numel > budget / 8) throw MatV5Invalid{concat(numel, " cells cannot fit in ", budget, " bytes")};
        for (std::uint64_t i = 0; i < numel; ++i) {
          t = expect(s, budget, {miMATRIX}, "a cell element");
          take(budget, t.nbytes, "a cell element");
          matrix(s, t.nbytes, depth + 1);
        }
        break;
      }
      case mxSTRUCT_CLASS:
      case mxOBJECT_CLASS: {
        t = expect(s, budget, {miINT32}, "field name length");
        unsigned char len_bytes[4] = {};
        if (t.nbytes != 4) throw MatV5Invalid{"field name length is not 4 bytes"};
        payload(s, budget, t, len_bytes, 4);
        const std::uint32_t len = u32(len_bytes);
        if (len == 0 || len > 4096) throw MatV5Invalid{concat("field name length ", len)};
        t = expect(s, budget, {miINT8, miUINT8}, "field names");
        if (t.nbytes % len != 0) throw MatV5Invalid{"field names do not divide into equal lengths"};
        const std::uint64_t nfields = t.nbytes / len;
        payload(s, budget, t);
        if (nfields != 0 && numel > budget / 8 / nfields)
          throw MatV5Invalid{concat(numel, " x ", nfields, " fields cannot fit in ", budget, " bytes")};
        for (std::uint64_t i = 0; i < numel * nfields; ++i) {
          t = expect(s, budget, {miMATRIX}, "a struct field");
          take(budget, t.nbytes, "a struct field");
          matrix(s, t.nbytes, depth + 1);
        }
        break;
      }
      case mxCHAR_CLASS: {
        if (complex) throw MatV5Invalid{"complex char data"};
        t = expect(s, budget, {miINT8, miUINT8, miUTF8, miINT16, miUINT16, miUTF16, miINT32, miUINT32, miUTF32},
                   "char data");
        const std::size_t each = (t.type == miUTF8)  ? 1
                                 : t.type == miUTF16 ? 2
                                 : t.type == miUTF32 ? 4
                                                     : numeric_size(t.type);
        if (t.type == miUTF8 ? numel > t.nbytes : (t.nbytes % each != 0 || t.nbytes / each != numel))
          throw MatV5Invalid{concat("char data hold ", t.nbytes, " bytes for ", numel, " characters")};
        payload(s, budget, t);
        break;
      }
      case mxSPARSE_CLASS: {
        if (dims.size() != 2) throw MatV5Invalid{"sparse matrix with other than 2 dimensions"};
        t = expect(s, budget, {miINT32, miUINT32}, "sparse row indices");
        if (t.nbytes % 4 != 0) throw MatV5Invalid{"sparse row indices are not 4-byte integers"};
        const std::uint64_t nir = t.nbytes / 4;
        payload(s, budget, t);
        t = expect(s, budget, {miINT32, miUINT32}, "sparse column starts");
        if (t.nbytes % 4 != 0 || t.nbytes / 4 != dims[1] + 1)
          throw MatV5Invalid{concat("sparse column starts hold ", t.nbytes, " bytes for ", dims[1], " columns")};
        payload(s, budget, t);
        t = read_tag(s, budget);
        const std::size_t each = numeric_size(t.type);
        if (each == 0 || t.nbytes % each != 0) throw MatV5Invalid{"sparse values are not numeric"};
        const std::uint64_t ndata = t.nbytes / each;
        if (ndata > nir || nzmax > nir + ndata + 1) throw MatV5Invalid{"sparse sizes disagree"};
        payload(s, budget, t);
        if (complex) numeric_data(s, budget, ndata, "sparse imaginary part");
        break;
      }
      case mxDOUBLE_CLASS:
      case mxSINGLE_CLASS:
      case mxINT8_CLASS:
      case mxUINT8_CLASS:
      case mxINT16_CLASS:
      case mxUINT16_CLASS:
      case mxINT32_CLASS:
      case mxUINT32_CLASS:
      case mxINT64_CLASS:
      case mxUINT64_CLASS:
        numeric_data(s, budget, numel, "real part");
        if (complex) numeric_data(s, budget, numel, "imaginary part");
        break;
      default:
        throw MatV5Invalid{concat("unsupported MATLAB class ", cls,
                                  cls == mxFUNCTION_CLASS ? " (function handle)"
                                  : cls == mxOPAQUE_CLASS ? " (MATLAB object such as string or table)"
                                                          : "")};
    }
    // Whatever is left of the element (padding) is skipped, as matio does.
    s.skip(static_cast<std::size_t>(budget));
  }

  const ByteSource& src_;
  bool swap_;
  std::size_t max_inflated_;
  std::size_t max_arrays_;
  std::size_t arrays_ = 0;  // in the current top-level variable
  std::string name_;        // of the current top-level variable, once read
};

}  // namespace detail
}  // namespace io
}  // namespace ssah
