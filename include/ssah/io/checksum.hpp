#pragma once
/// \file
/// CRC-32 (the zlib/PNG/gzip polynomial, so `zlib.crc32(data)` in Python gives the same value),
/// used to detect corrupted checkpoints. Slicing-by-8, a few GB/s: negligible next to the disk.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ssah {
namespace io {
namespace detail {

using Crc32Table = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Crc32Table make_crc32_table() {
  Crc32Table t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    t[0][i] = c;
  }
  for (std::size_t s = 1; s < 8; ++s)
    for (std::size_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xffu];
  return t;
}

inline const Crc32Table& crc32_table() {
  static constexpr Crc32Table table = make_crc32_table();
  return table;
}

}  // namespace detail

/// Incremental CRC-32: `Crc32 c; c.update(a, n); c.update(b, m); c.value()`.
class Crc32 {
 public:
  void update(const void* data, std::size_t n) noexcept {
    const auto& t = detail::crc32_table();
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t c = ~state_;
    while (n >= 8) {
      const std::uint32_t lo =
          c ^ (std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24);
      c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
          t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
      p += 8;
      n -= 8;
    }
    while (n--) c = t[0][(c ^ *p++) & 0xffu] ^ (c >> 8);
    state_ = ~c;
  }
  std::uint32_t value() const noexcept { return state_; }
  /// Eight lowercase hex digits.
  std::string hex() const {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(state_));
    return buf;
  }

 private:
  std::uint32_t state_ = 0;
};

/// CRC-32 of `n` bytes.
inline std::uint32_t crc32(const void* data, std::size_t n) noexcept {
  Crc32 c;
  c.update(data, n);
  return c.value();
}

}  // namespace io
}  // namespace ssah
