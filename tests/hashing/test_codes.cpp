#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ssah/hashing/codes.hpp"

using namespace ssah;

TEST_CASE("codes: bit = value > 0, most significant bit first (np.packbits(x > 0, axis=1))") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // 16 values: bits 1 0 0 1 | 1 0 0 0 | 0 1 1 0 | 0 0 0 1
  const std::vector<float> v = {1.f,  -1.f,   0.f, 0.3f, 2.5f, -0.f, nan,  -1e-30f,
                                -7.f, 1e-30f, 1.f, -1.f, -1.f, 0.f,  -2.f, 9.f};
  const auto c = PackedCodes<16>::from_values(v.data(), 1);
  REQUIRE(c.size() == 1);
  CHECK(c.code(0)[0] == 0x98);  // 1001 1000: exact 0, -0 and NaN become 0, like -1
  CHECK(c.code(0)[1] == 0x61);  // 0110 0001
  CHECK(c.bit(0, 0));
  CHECK_FALSE(c.bit(0, 2));
  CHECK(c.bit(0, 15));
  // ±1 and 0/1 inputs give the same codes.
  std::vector<std::int8_t> signs(16), zero_one(16);
  for (int d = 0; d < 16; ++d) {
    signs[d] = c.bit(0, d) ? 1 : -1;
    zero_one[d] = c.bit(0, d) ? 1 : 0;
  }
  CHECK(PackedCodes<16>::from_values(signs.data(), 1) == c);
  CHECK(PackedCodes<16>::from_values(zero_one.data(), 1) == c);
  CHECK(c.to_signs() == signs);
}

TEST_CASE("codes: short rows are padded with zero bits, long rows are rejected") {
  const std::vector<int> v = {1, -1, 1, -1, 1, 1};  // two rows of 3 values
  const auto c = PackedCodes<8>::from_values(v, 3);
  REQUIRE(c.size() == 2);
  CHECK(c.code(0)[0] == 0xa0);  // 101 00000
  CHECK(c.code(1)[0] == 0x60);  // 011 00000
  CHECK_THROWS_WITH_AS(PackedCodes<8>::from_values(v.data(), 1, 9),
                       "PackedCodes<8>::from_values: rows of 9 values do not fit codes of 8 bits", ShapeError);
  CHECK_THROWS_AS(PackedCodes<8>::from_values(v, 4), ShapeError);  // 6 values are not rows of 4

  const std::uint8_t bytes[] = {0xab, 0xcd};
  const auto p = PackedCodes<24>::from_bytes(bytes, 2, 1);
  REQUIRE(p.size() == 2);
  CHECK(p.code(1)[0] == 0xcd);
  CHECK(p.code(1)[1] == 0);
  CHECK(p.code(1)[2] == 0);
  CHECK_THROWS_AS(PackedCodes<8>::from_bytes(bytes, 1, 2), ShapeError);
}

TEST_CASE("codes: append, slice, set_bit") {
  std::vector<std::uint8_t> bytes(5 * 4);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 37 + 1);
  auto a = PackedCodes<32>::from_bytes(bytes.data(), 3);
  const auto b = PackedCodes<32>::from_bytes(bytes.data() + 12, 2);
  a.append(b);
  CHECK(a == PackedCodes<32>::from_bytes(bytes.data(), 5));
  CHECK(a.slice(3, 5) == b);
  CHECK_THROWS_AS(a.slice(4, 6), ShapeError);
  a.set_bit(1, 31, !a.bit(1, 31));
  CHECK(a != PackedCodes<32>::from_bytes(bytes.data(), 5));
  CHECK(a.code(1)[3] == (bytes[7] ^ 0x01));
}
