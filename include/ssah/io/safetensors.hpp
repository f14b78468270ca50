#pragma once
/// \file
/// The safetensors format (Hugging Face), ssah's checkpoint format: PyTorch users load the weights
/// with `safetensors.torch.load_file`, or with nothing but `json` and `struct`.
///
/// Layout: an 8-byte little-endian header length N; N bytes of JSON,
/// `{"__metadata__": {"key": "value", ...}, "name": {"dtype": "F32", "shape": [2, 3],
/// "data_offsets": [begin, end]}, ...}`, padded with spaces; then the data section, where each
/// tensor's little-endian C-order bytes lie at [begin, end) relative to the section's start.
///
/// The writer lays tensors out contiguously (8-byte types first, so every tensor is aligned),
/// adds `"format": "pt"` to the metadata unless set, stores a CRC-32 of the data section as
/// `"ssah.checksum": "crc32:<8 hex digits>"` (Python: `"%08x" % zlib.crc32(data)`), and writes
/// atomically. The reader checks every size against the file length before allocating, verifies
/// the checksum when present, and rejects with an `IoError` naming the file: a bad header length,
/// invalid JSON or entries, unsupported dtypes, offsets that are out of range, overlap, leave gaps
/// or disagree with the shape, a truncated file or trailing bytes, and a checksum mismatch.
///
/// dtypes: F32, F64, I32, I64, U8, I8 (and BOOL, read as U8).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssah/error.hpp"
#include "ssah/io/array.hpp"
#include "ssah/io/atomic_file.hpp"
#include "ssah/io/checksum.hpp"
#include "ssah/io/file.hpp"
#include "ssah/io/json_error.hpp"

namespace ssah {
namespace io {

/// Metadata key of the data section's checksum, written and verified by ssah.
inline constexpr const char* safetensors_checksum_key = "ssah.checksum";

/// The safetensors name of a dtype ("F32", "I64", ...).
inline const char* safetensors_dtype_name(DType t) noexcept {
  switch (t) {
    case DType::U8:
      return "U8";
    case DType::I8:
      return "I8";
    case DType::I32:
      return "I32";
    case DType::I64:
      return "I64";
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
  }
  return "?";
}

/// The content of a safetensors file: metadata and tensors by name.
struct SafetensorsFile {
  std::string source;
  std::map<std::string, std::string> metadata;
  /// Each tensor's `source` is "<file>: tensor '<name>'".
  std::map<std::string, HostArray> tensors;
  /// True when the file carried an ssah checksum and it matched.
  bool checksum_verified = false;

  bool contains(const std::string& name) const { return tensors.count(name) != 0; }

  /// The tensor `name`; `IoError` naming the file and the tensors it has when it is absent.
  const HostArray& at(const std::string& name) const {
    const auto it = tensors.find(name);
    if (it == tensors.end()) {
      std::string names;
      for (const auto& [n, t] : tensors) names += (names.empty() ? "'" : ", '") + n + "'";
      ::ssah::detail::fail<IoError>("'", source, "': no tensor '", name, "' (it has ",
                                    names.empty() ? std::string("no tensors") : names, ")");
    }
    return it->second;
  }

  /// The tensor `name` converted to `T` (see `HostArray::as`).
  template <class T>
  std::vector<T> get(const std::string& name) const {
    return at(name).as<T>();
  }

  /// As above, and `ShapeError` naming both shapes unless the tensor has `expected_shape`.
  template <class T>
  std::vector<T> get(const std::string& name, const std::vector<std::size_t>& expected_shape) const {
    const HostArray& a = at(name);
    if (a.shape != expected_shape)
      ::ssah::detail::fail<ShapeError>(a.source, ": shape ", shape_str(a.shape), " where ", shape_str(expected_shape),
                                       " is expected");
    return a.as<T>();
  }

  /// The metadata value `key`; `IoError` naming the file when it is absent.
  const std::string& meta(const std::string& key) const {
    const auto it = metadata.find(key);
    if (it == metadata.end()) ::ssah::detail::fail<IoError>("'", source, "': no metadata entry '", key, "'");
    return it->second;
  }
};

namespace detail {

/// Larger headers are rejected before they are read (the reference implementation's limit).
constexpr std::size_t safetensors_max_header = 100'000'000;
/// JSON nesting deeper than this is rejected before parsing (a valid header needs 3 levels).
constexpr int safetensors_max_depth = 8;

inline std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::size_t> shape;
  std::size_t begin = 0, end = 0;
};

class SafetensorsReader {
 public:
  explicit SafetensorsReader(const ByteSource& src) : src_(src), file_(src.name()) {}

  SafetensorsFile read() {
    if (src_.size() < 8) bad("not a safetensors file (", src_.size(), " bytes, shorter than the 8-byte header length)");
    unsigned char len_bytes[8];
    src_.read(0, len_bytes, 8);
    const std::uint64_t n = load_le64(len_bytes);
    if (n < 2) bad("bad header length ", n, " (too short for a JSON object)");
    if (n > safetensors_max_header) bad("bad header length ", n, " (over the 100 MB limit; not a safetensors file?)");
    if (n > src_.size() - 8)
      bad("truncated header: declares ", n, " bytes but the file has ", src_.size() - 8, " after the length");
    std::string text(static_cast<std::size_t>(n), '\0');
    src_.read(8, text.data(), text.size());
    if (text[0] != '{')
      bad("header is not a JSON object (starts with byte ", static_cast<int>(static_cast<unsigned char>(text[0])), ")");
    // The format pads a header with spaces only: anything else after the JSON object means the
    // length field reaches into the tensor data.
    const JsonNesting nesting = json_nesting(text);
    const std::size_t json_end = nesting.first_value_end;
    if (json_end != std::string::npos && !nesting.unbalanced &&
        text.find_first_not_of(" \t\r\n", json_end) != std::string::npos)
      bad("header length ", n, " runs past the JSON header, which ends after ", json_end,
          " bytes (a wrong length field, or not a safetensors file)");
    if (nesting.max_depth > safetensors_max_depth)
      bad("header JSON is nested more than ", safetensors_max_depth, " levels deep");
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      bad("header JSON error: ", json_error_text(e));
    }
    if (!header.is_object()) bad("header is not a JSON object");

    SafetensorsFile out;
    out.source = file_;
    std::vector<SafetensorsEntry> entries;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        read_metadata(it.value(), out.metadata);
      } else {
        entries.push_back(read_entry(it.key(), it.value()));
      }
    }
    const std::size_t data_start = 8 + static_cast<std::size_t>(n);
    const std::size_t data_size = src_.size() - data_start;
    check_layout(entries, data_size);

    // Only now, with every size checked against the file, allocate and read, in file order.
    const auto checksum = out.metadata.find(safetensors_checksum_key);
    Crc32 crc;
    for (const SafetensorsEntry& e : entries) {
      HostArray a;
      a.dtype = e.dtype;
      a.shape = e.shape;
      a.source = file_ + ": tensor '" + e.name + "'";
      a.bytes.resize(e.end - e.begin);
      src_.read(data_start + e.begin, a.bytes.data(), a.bytes.size());
      if (checksum != out.metadata.end()) crc.update(a.bytes.data(), a.bytes.size());
      out.tensors.emplace(e.name, std::move(a));
    }
    if (checksum != out.metadata.end()) {
      const std::string& v = checksum->second;
      if (v.size() != 14 || v.compare(0, 6, "crc32:") != 0 ||
          v.find_first_not_of("0123456789abcdef", 6) != std::string::npos)
        bad("metadata '", safetensors_checksum_key, "' is '", v, "', expected 'crc32:' and 8 lowercase hex digits");
      if (v.substr(6) != crc.hex())
        bad("checksum mismatch: the data section's CRC-32 is ", crc.hex(), " but the header says ", v.substr(6),
            " (the file is corrupted)");
      out.checksum_verified = true;
    }
    return out;
  }

 private:
  template <class... Args>
  [[noreturn]] void bad(Args&&... args) const {
    fail<IoError>("'", file_, "': ", std::forward<Args>(args)...);
  }

  void read_metadata(const nlohmann::json& m, std::map<std::string, std::string>& out) const {
    if (!m.is_object()) bad("'__metadata__' must be an object of strings");
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!it.value().is_string()) bad("metadata '", it.key(), "' is not a string");
      out[it.key()] = it.value().get<std::string>();
    }
  }

  std::size_t read_size(const nlohmann::json& v, const std::string& name, const char* what) const {
    if (!v.is_number_unsigned()) bad("tensor '", name, "': ", what, " must hold non-negative integers");
    const std::uint64_t x = v.get<std::uint64_t>();
    if (x > std::numeric_limits<std::size_t>::max()) bad("tensor '", name, "': ", what, " value too large");
    return static_cast<std::size_t>(x);
  }

  SafetensorsEntry read_entry(const std::string& name, const nlohmann::json& info) const {
    if (!info.is_object()) bad("tensor '", name, "': entry is not an object");
    SafetensorsEntry e;
    e.name = name;
    const auto dtype = info.find("dtype");
    const auto shape = info.find("shape");
    const auto offsets = info.find("data_offsets");
    if (dtype == info.end() || shape == info.end() || offsets == info.end())
      bad("tensor '", name, "': entry needs 'dtype', 'shape' and 'data_offsets'");
    if (!dtype->is_string()) bad("tensor '", name, "': 'dtype' is not a string");
    const std::string d = dtype->get<std::string>();
    if (d == "F32")
      e.dtype = DType::F32;
    else if (d == "F64")
      e.dtype = DType::F64;
    else if (d == "I32")
      e.dtype = DType::I32;
    else if (d == "I64")
      e.dtype = DType::I64;
    else if (d == "U8" || d == "BOOL")
      e.dtype = DType::U8;
    else if (d == "I8")
      e.dtype = DType::I8;
    else
      bad("tensor '", name, "': unsupported dtype '", d, "' (supported: F32, F64, I32, I64, U8, I8, BOOL)");
    if (!shape->is_array()) bad("tensor '", name, "': 'shape' is not an array");
    if (shape->size() > 64) bad("tensor '", name, "': more than 64 dimensions");
    for (const auto& x : *shape) e.shape.push_back(read_size(x, name, "'shape'"));
    if (!offsets->is_array() || offsets->size() != 2) bad("tensor '", name, "': 'data_offsets' is not [begin, end]");
    e.begin = read_size((*offsets)[0], name, "'data_offsets'");
    e.end = read_size((*offsets)[1], name, "'data_offsets'");
    if (e.end < e.begin) bad("tensor '", name, "': data_offsets [", e.begin, ", ", e.end, "] end before they begin");
    std::size_t count = 0;
    if (!checked_count(e.shape, count) || count > std::numeric_limits<std::size_t>::max() / dtype_size(e.dtype))
      bad("tensor '", name, "': shape ", shape_str(e.shape), " is too large");
    if (count * dtype_size(e.dtype) != e.end - e.begin)
      bad("tensor '", name, "': shape ", shape_str(e.shape), " of ", d, " needs ", count * dtype_size(e.dtype),
          " bytes but data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin);
    return e;
  }

  /// The tensors must tile the data section exactly: no overlap, no gap, nothing after them.
  void check_layout(std::vector<SafetensorsEntry>& entries, std::size_t data_size) const {
    std::sort(entries.begin(), entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::size_t at = 0;
    const SafetensorsEntry* prev = nullptr;
    for (const SafetensorsEntry& e : entries) {
      if (e.begin < at)
        bad("tensors '", prev->name, "' [", prev->begin, ", ", prev->end, ") and '", e.name, "' [", e.begin, ", ",
            e.end, ") overlap");
      if (e.begin > at)
        bad("a gap of ", e.begin - at, " bytes before tensor '", e.name, "' (data_offsets must be contiguous)");
      if (e.end > data_size)
        bad("truncated: tensor '", e.name, "' ends at byte ", e.end, " of the data section, which has ", data_size);
      at = e.end;
      prev = &e;
    }
    if (at != data_size) bad(data_size - at, " unexpected bytes after the last tensor");
  }

  const ByteSource& src_;
  const std::string& file_;
};

}  // namespace detail

/// Reads a whole safetensors file (see the file comment for what is checked).
inline SafetensorsFile read_safetensors(const std::string& path) {
  detail::FileSource src(path);
  return detail::SafetensorsReader(src).read();
}

/// Parses a safetensors image held in memory; `name_for_errors` stands for the file in messages.
inline SafetensorsFile parse_safetensors(const unsigned char* data, std::size_t n, const std::string& name_for_errors) {
  detail::MemorySource src(data, n, name_for_errors);
  return detail::SafetensorsReader(src).read();
}

/// Collects tensors and metadata, then writes them as one safetensors file.
class SafetensorsWriter {
 public:
  /// Adds a copy of `count(shape)` values of `data`.
  template <class T>
  void add(const std::string& name, const T* data, std::vector<std::size_t> shape) {
    add(name, HostArray::from(data, std::move(shape)));
  }
  /// Adds a copy of `values`, which must hold `count(shape)` elements.
  template <class T>
  void add(const std::string& name, const std::vector<T>& values, std::vector<std::size_t> shape) {
    add(name, HostArray::from(values, std::move(shape), name));
  }
  /// Adds an array (moved in).
  void add(const std::string& name, HostArray array) {
    array.check_consistent();
    check_name(name);
    auto owned = std::make_shared<HostArray>(std::move(array));
    entries_.push_back({name, owned->dtype, owned->shape, owned->bytes.data(), owned->bytes.size(), owned});
  }
  /// Adds `count(shape)` values of `data` without copying them: `data` must stay valid and
  /// unchanged until `write`/`encode` returns.
  template <class T>
  void add_view(const std::string& name, const T* data, std::vector<std::size_t> shape) {
    check_name(name);
    std::size_t n = 0;
    SSAH_CHECK_AS(ShapeError,
                  detail::checked_count(shape, n) && n <= std::numeric_limits<std::size_t>::max() / sizeof(T),
                  "SafetensorsWriter: tensor '", name, "': shape ", shape_str(shape), " is too large");
    entries_.push_back(
        {name, dtype_of<T>(), std::move(shape), reinterpret_cast<const unsigned char*>(data), n * sizeof(T), nullptr});
  }
  /// Sets a metadata entry (a string, as the format requires; store numbers as text, structured
  /// configuration as JSON text). The key "ssah.checksum" is reserved.
  void set_metadata(const std::string& key, std::string value) {
    SSAH_CHECK_AS(InvalidArgument, key != safetensors_checksum_key, "SafetensorsWriter: metadata key '", key,
                  "' is reserved for the checksum");
    metadata_[key] = std::move(value);
  }
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  std::size_t size() const noexcept { return entries_.size(); }

  /// The bytes of the file.
  std::vector<unsigned char> encode() const {
    const std::vector<const Entry*> order = layout();
    const std::string head = header(order);
    std::vector<unsigned char> out(head.begin(), head.end());
    for (const Entry* e : order) out.insert(out.end(), e->data, e->data + e->nbytes);
    return out;
  }

  /// Writes the file atomically (temporary file, fsync, rename): on failure `path` is unchanged.
  void write(const std::string& path) const {
    const std::vector<const Entry*> order = layout();
    const std::string head = header(order);
    AtomicFile file(path);
    file.write(head);
    for (const Entry* e : order) file.write(e->data, e->nbytes);
    file.commit();
  }

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<std::size_t> shape;
    const unsigned char* data;
    std::size_t nbytes;
    std::shared_ptr<const HostArray> owned;
  };

  void check_name(const std::string& name) const {
    SSAH_CHECK_AS(InvalidArgument, name != "__metadata__", "SafetensorsWriter: '__metadata__' is not a tensor name");
    for (const Entry& e : entries_)
      SSAH_CHECK_AS(InvalidArgument, e.name != name, "SafetensorsWriter: tensor '", name, "' added twice");
  }

  /// Larger element types first, then by name: every tensor starts at a multiple of its size.
  std::vector<const Entry*> layout() const {
    std::vector<const Entry*> order;
    for (const Entry& e : entries_) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
      const std::size_t sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
      return sa != sb ? sa > sb : a->name < b->name;
    });
    return order;
  }

  /// The length field and the JSON header, padded with spaces to a multiple of 8 bytes.
  std::string header(const std::vector<const Entry*>& order) const {
    nlohmann::json h = nlohmann::json::object();
    std::size_t offset = 0;
    Crc32 crc;
    for (const Entry* e : order) {
      h[e->name] = {{"dtype", safetensors_dtype_name(e->dtype)},
                    {"shape", e->shape},
                    {"data_offsets", {offset, offset + e->nbytes}}};
      offset += e->nbytes;
      crc.update(e->data, e->nbytes);
    }
    nlohmann::json meta = nlohmann::json::object();
    meta["format"] = "pt";
    for (const auto& [k, v] : metadata_) meta[k] = v;
    meta[safetensors_checksum_key] = "crc32:" + crc.hex();
    h["__metadata__"] = meta;
    std::string text;
    try {
      text = h.dump();
    } catch (const nlohmann::json::exception& e) {
      ::ssah::detail::fail<InvalidArgument>("SafetensorsWriter: a tensor name or metadata string is not valid UTF-8 (",
                                            e.what(), ")");
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i)
      out[static_cast<std::size_t>(i)] = static_cast<char>((std::uint64_t(text.size()) >> (8 * i)) & 0xff);
    return out + text;
  }

  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace io
}  // namespace ssah
