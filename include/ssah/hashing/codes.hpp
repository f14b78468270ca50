#pragma once
/// \file
/// `ssah::PackedCodes<K>`: n binary codes of a compile-time length K, packed 8 bits per byte.
///
/// Bit convention (the one used everywhere in ssah):
/// - a real value v becomes bit 1 when `v > 0` and bit 0 otherwise. Exact zeros (and NaN) become 0,
///   the same bit as -1. NumPy's `sign` keeps an exact 0 as 0, which the reference `calc_map` then
///   treats as half a bit; ssah does not. Outputs of tanh are almost never exactly 0, and both
///   ±1 arrays and 0/1 arrays convert correctly under this rule;
/// - dimension d of a code lives in byte d / 8 at bit 7 - d % 8 (most significant bit first), which
///   is NumPy's `np.packbits(codes > 0, axis=1)`. A code is K / 8 consecutive bytes, as in FAISS's
///   binary indexes, so packed files from either library can be used directly.
///
/// \code
///   auto codes = ssah::PackedCodes<64>::from_values(tanh_out.data(), n);   // float [n, 64]
///   std::vector<std::int8_t> signs = codes.to_signs();                     // ±1 [n, 64]
/// \endcode

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "ssah/error.hpp"

namespace ssah {

/// n packed codes of K bits that live elsewhere (in a PackedCodes, in a memory-mapped file), read
/// where they lie: never owned, never copied. Valid while what it points into is.
template <int K>
class CodesView {
  static_assert(K > 0 && K % 8 == 0, "CodesView<K>: K must be a positive multiple of 8");

 public:
  static constexpr int bits = K;
  static constexpr std::size_t code_bytes = static_cast<std::size_t>(K) / 8;

  CodesView() = default;
  /// n codes of K / 8 bytes each, one after another from `data`.
  CodesView(const std::uint8_t* data, std::size_t n) noexcept : data_(data), n_(n) {}

  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  const std::uint8_t* data() const noexcept { return data_; }
  /// The K / 8 bytes of code i.
  const std::uint8_t* code(std::size_t i) const noexcept { return data_ + i * code_bytes; }

  /// Codes [begin, end), a view of the same bytes.
  CodesView slice(std::size_t begin, std::size_t end) const {
    SSAH_CHECK_AS(ShapeError, begin <= end && end <= n_, "CodesView<", K, ">::slice: [", begin, ", ", end,
                  ") is not within ", n_, " codes");
    return CodesView(code(begin), end - begin);
  }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t n_ = 0;
};

/// n codes of K bits (K a positive multiple of 8), stored row after row, K / 8 bytes each.
template <int K>
class PackedCodes {
  static_assert(K > 0 && K % 8 == 0, "PackedCodes<K>: K must be a positive multiple of 8");
  static_assert(K < 65536, "PackedCodes<K>: distances are held in 16 bits, so K must be below 65536");

 public:
  /// Bits per code.
  static constexpr int bits = K;
  /// Bytes per code.
  static constexpr std::size_t code_bytes = static_cast<std::size_t>(K) / 8;

  PackedCodes() = default;
  /// n all-zero codes.
  explicit PackedCodes(std::size_t n) : n_(n), bytes_(n * code_bytes, 0) {}

  /// Copies n packed codes of `row_bytes` bytes each (row_bytes <= K / 8; missing bytes are zero,
  /// which leaves every Hamming distance unchanged).
  static PackedCodes from_bytes(const std::uint8_t* data, std::size_t n, std::size_t row_bytes = code_bytes) {
    SSAH_CHECK_AS(ShapeError, row_bytes <= code_bytes, "PackedCodes<", K, ">::from_bytes: rows of ", row_bytes,
                  " bytes do not fit codes of ", code_bytes, " bytes");
    PackedCodes c(n);
    if (row_bytes == code_bytes) {
      if (n != 0) std::memcpy(c.bytes_.data(), data, n * code_bytes);
    } else {
      for (std::size_t i = 0; i < n; ++i)
        std::memcpy(c.bytes_.data() + i * code_bytes, data + i * row_bytes, row_bytes);
    }
    return c;
  }

  /// Packs an [n, dims] row-major array of real values (dims <= K): bit = value > 0. Missing
  /// dimensions are zero bits, which leaves every Hamming distance unchanged.
  template <class T>
  static PackedCodes from_values(const T* values, std::size_t n, std::size_t dims = static_cast<std::size_t>(K)) {
    static_assert(std::is_arithmetic_v<T>, "PackedCodes::from_values: T must be arithmetic");
    SSAH_CHECK_AS(ShapeError, dims <= static_cast<std::size_t>(K), "PackedCodes<", K, ">::from_values: rows of ", dims,
                  " values do not fit codes of ", K, " bits");
    PackedCodes c(n);
    for (std::size_t i = 0; i < n; ++i) {
      const T* row = values + i * dims;
      std::uint8_t* out = c.bytes_.data() + i * code_bytes;
      for (std::size_t d = 0; d < dims; ++d)
        if (row[d] > T(0)) out[d / 8] = static_cast<std::uint8_t>(out[d / 8] | (0x80u >> (d % 8)));
    }
    return c;
  }

  /// As above for a vector holding n * dims values.
  template <class T>
  static PackedCodes from_values(const std::vector<T>& values, std::size_t dims = static_cast<std::size_t>(K)) {
    SSAH_CHECK_AS(ShapeError, dims > 0 && values.size() % dims == 0, "PackedCodes<", K,
                  ">::from_values: ", values.size(), " values are not a whole number of rows of ", dims);
    return from_values(values.data(), values.size() / dims, dims);
  }

  /// Number of codes.
  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  /// The packed bytes, size() * code_bytes of them.
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::vector<std::uint8_t>& bytes() const noexcept { return bytes_; }
  /// The K / 8 bytes of code i.
  const std::uint8_t* code(std::size_t i) const noexcept { return bytes_.data() + i * code_bytes; }
  /// These codes, read in place (valid until they change).
  CodesView<K> view() const noexcept { return CodesView<K>(bytes_.data(), n_); }
  operator CodesView<K>() const noexcept { return view(); }  // NOLINT(google-explicit-constructor): a view of itself

  /// Bit d (0 <= d < K) of code i.
  bool bit(std::size_t i, int d) const noexcept {
    return (bytes_[i * code_bytes + static_cast<std::size_t>(d) / 8] >> (7 - d % 8)) & 1u;
  }
  void set_bit(std::size_t i, int d, bool value) noexcept {
    std::uint8_t& b = bytes_[i * code_bytes + static_cast<std::size_t>(d) / 8];
    const auto m = static_cast<std::uint8_t>(0x80u >> (d % 8));
    b = static_cast<std::uint8_t>(value ? (b | m) : (b & ~m));
  }

  /// The codes as an [n, K] row-major array of +1 / -1.
  template <class T = std::int8_t>
  std::vector<T> to_signs() const {
    std::vector<T> out(n_ * static_cast<std::size_t>(K));
    for (std::size_t i = 0; i < n_; ++i)
      for (int d = 0; d < K; ++d) out[i * K + static_cast<std::size_t>(d)] = bit(i, d) ? T(1) : T(-1);
    return out;
  }

  /// Appends the codes of `other`.
  void append(const PackedCodes& other) { append(other.data(), other.size()); }
  /// Appends n codes of K / 8 bytes each.
  void append(const std::uint8_t* data, std::size_t n) {
    if (n == 0) return;
    bytes_.insert(bytes_.end(), data, data + n * code_bytes);
    n_ += n;
  }

  /// A copy of codes [begin, end).
  PackedCodes slice(std::size_t begin, std::size_t end) const {
    SSAH_CHECK_AS(ShapeError, begin <= end && end <= n_, "PackedCodes<", K, ">::slice: [", begin, ", ", end,
                  ") is not within ", n_, " codes");
    return from_bytes(code(begin), end - begin);
  }

  friend bool operator==(const PackedCodes& a, const PackedCodes& b) { return a.n_ == b.n_ && a.bytes_ == b.bytes_; }
  friend bool operator!=(const PackedCodes& a, const PackedCodes& b) { return !(a == b); }

 private:
  std::size_t n_ = 0;
  std::vector<std::uint8_t> bytes_;
};

}  // namespace ssah
