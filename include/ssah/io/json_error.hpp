#pragma once
/// \file
/// nlohmann::json's exceptions as a short message for users: without the library's exception id
/// ("[json.exception.parse_error.101]") and with the bytes it quotes cut to a short, printable
/// excerpt (a hostile file would otherwise put kilobytes of raw bytes into the message).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssah/error.hpp"

namespace ssah::io {

inline std::string json_error_text(const nlohmann::json::exception& e) {
  std::string msg = e.what();
  if (msg.compare(0, 15, "[json.exception") == 0) {
    const std::size_t close = msg.find("] ");
    if (close != std::string::npos) msg.erase(0, close + 2);
  }
  // "...; last read: '<bytes>'": keep the first 24 bytes, escaped.
  const std::string marker = "last read: '";
  const std::size_t at = msg.find(marker);
  if (at != std::string::npos) {
    const std::size_t begin = at + marker.size();
    const std::size_t end = msg.rfind('\'');
    const std::string raw =
        msg.substr(begin, end != std::string::npos && end >= begin ? end - begin : std::string::npos);
    std::string quoted;
    for (std::size_t i = 0; i < raw.size() && i < 24; ++i) {
      const unsigned char c = static_cast<unsigned char>(raw[i]);
      if (c >= 0x20 && c < 0x7f && c != '\'') {
        quoted += static_cast<char>(c);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        quoted += buf;
      }
    }
    msg = msg.substr(0, begin) + quoted + (raw.size() > 24 ? "...'" : "'");
  }
  if (msg.size() > 200) msg = msg.substr(0, 197) + "...";
  return msg;
}

namespace detail {

/// How a JSON text nests, from one scan that skips strings: the deepest nesting of [ and { (so
/// that hostile input cannot make a recursive parser recurse deeply), and where the first object
/// or array closes (the index after its bracket; npos when it does not), which tells a header
/// from bytes that follow it.
struct JsonNesting {
  int max_depth = 0;
  std::size_t first_value_end = std::string::npos;
  bool unbalanced = false;  ///< a closing bracket with nothing open: not JSON at all
};
inline JsonNesting json_nesting(const std::string& s) noexcept {
  JsonNesting n;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      n.max_depth = std::max(n.max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      if (--depth == 0 && n.first_value_end == std::string::npos) n.first_value_end = i + 1;
      if (depth < 0) n.unbalanced = true;
    }
  }
  return n;
}
inline int json_depth(const std::string& s) noexcept { return json_nesting(s).max_depth; }

}  // namespace detail

/// A field of a JSON document (a checkpoint's spec, a run's report) that does not have the form its
/// reader expects. The message names the field ("'modalities[1].sample_shape' is not a list of whole
/// numbers"); the reader that catches it adds the file.
class JsonFormError : public IoError {
 public:
  using IoError::IoError;
};

namespace detail {

template <class T>
struct JsonForm {  // bool, std::string, integers
  static_assert(std::is_same_v<T, bool> || std::is_same_v<T, std::string> || std::is_integral_v<T>,
                "json_as reads bool, std::string, integers and std::vector / std::array of them");
  /// "a whole number", or with `plural` "whole numbers"; signed and narrow types with their range.
  static std::string name(bool plural = false) {
    const std::string a = plural ? "" : "a ", s = plural ? "s" : "";
    if constexpr (std::is_same_v<T, bool>) {
      return plural ? "true or false values" : "true or false";
    } else if constexpr (std::is_same_v<T, std::string>) {
      return a + "string" + s;
    } else if constexpr (std::is_unsigned_v<T>) {
      const std::string upto = std::numeric_limits<T>::max() < std::numeric_limits<std::uint64_t>::max()
                                   ? " up to " + std::to_string(std::numeric_limits<T>::max())
                                   : std::string();
      return a + "whole number" + s + upto;
    } else {
      return (plural ? "" : "an ") + std::string("integer") + s + " from " +
             std::to_string(std::numeric_limits<T>::min()) + " to " + std::to_string(std::numeric_limits<T>::max());
    }
  }
  static bool read(const nlohmann::json& v, T& out) {
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) return false;
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) return false;
    } else if constexpr (std::is_unsigned_v<T>) {  // no sign, no fraction, in range: 3.5 is not 3, -1 not 2^64-1
      if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<std::int64_t>() < 0) ||
          v.get<std::uint64_t>() > std::numeric_limits<T>::max())
        return false;
    } else {
      if (!v.is_number_integer()) return false;
      const std::int64_t x = v.get<std::int64_t>();
      if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
        return false;
      if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) return false;
    }
    out = v.get<T>();
    return true;
  }
};

template <class T>
struct JsonForm<std::vector<T>> {
  static std::string name(bool = false) { return "a list of " + JsonForm<T>::name(true); }
  static bool read(const nlohmann::json& v, std::vector<T>& out) {
    if (!v.is_array()) return false;
    out.assign(v.size(), T{});
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!JsonForm<T>::read(v[i], out[i])) return false;
    return true;
  }
};

template <class T, std::size_t N>
struct JsonForm<std::array<T, N>> {
  static std::string name(bool = false) { return "a list of " + std::to_string(N) + " " + JsonForm<T>::name(true); }
  static bool read(const nlohmann::json& v, std::array<T, N>& out) {
    if (!v.is_array() || v.size() != N) return false;
    for (std::size_t i = 0; i < N; ++i)
      if (!JsonForm<T>::read(v[i], out[i])) return false;
    return true;
  }
};

}  // namespace detail

/// `v` as T (bool, std::string, an integer type, or a std::vector / std::array of them), read only
/// when it has exactly that form: JsonFormError "'<field>' is <v> (expected a whole number)"
/// otherwise. Unlike nlohmann's get<T>(), 3.5 is not read as the integer 3, nor -1 as 2^64-1.
template <class T>
T json_as(const nlohmann::json& v, const std::string& field) {
  T out{};
  if (!detail::JsonForm<T>::read(v, out)) {
    std::string shown = v.dump();
    if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
    ssah::detail::fail<JsonFormError>("'", field, "' is ", shown, " (expected ", detail::JsonForm<T>::name(), ")");
  }
  return out;
}

/// The object `parent` (field `parent_field`, "" for the document itself) must have key `key`, whose
/// value is read by json_as<T>; JsonFormError naming the field when the parent is not an object, the
/// key is missing or the value has another form.
template <class T>
T json_field(const nlohmann::json& parent, const std::string& key, const std::string& parent_field = "") {
  const std::string field = parent_field.empty() ? key : parent_field + "." + key;
  if (!parent.is_object())
    ssah::detail::fail<JsonFormError>(parent_field.empty() ? std::string("the document") : "'" + parent_field + "'",
                                      " is not an object");
  const auto it = parent.find(key);
  if (it == parent.end()) ssah::detail::fail<JsonFormError>("'", field, "' is missing");
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    return *it;
  } else {
    return json_as<T>(*it, field);
  }
}

/// Parses JSON text read from a file, refusing (JsonFormError) nesting deeper than `max_depth`
/// before the recursive parser sees it: a few hundred kilobytes of '{' would otherwise overflow
/// the stack. nlohmann::json::exception for text that is not JSON.
inline nlohmann::json parse_json(const std::string& text, int max_depth) {
  if (detail::json_depth(text) > max_depth)
    ::ssah::detail::fail<JsonFormError>("nested more than ", max_depth, " levels deep");
  return nlohmann::json::parse(text);
}

}  // namespace ssah::io
