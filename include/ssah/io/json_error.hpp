#pragma once
/// \file
/// nlohmann::json's exceptions as a short message for users: without the library's exception id
/// ("[json.exception.parse_error.101]") and with the bytes it quotes cut to a short, printable
/// excerpt (a hostile file would otherwise put kilobytes of raw bytes into the message).

#include <cstddef>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

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
    const std::string raw = msg.substr(begin, end != std::string::npos && end >= begin ? end - begin : std::string::npos);
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

}  // namespace ssah::io
