#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "io_test_support.hpp"
#include "ssah/io/npy.hpp"
#include "ssah/io/npy_map.hpp"

using namespace ssah;
using namespace ssah::io;
using ssah::test::TempDir;
using ssah::test::write_bytes;

namespace {

/// A .npy image with a hand-written header dict (version 1, 2 or 3) and raw payload bytes.
std::string make_npy(const std::string& dict, int major, const std::string& payload) {
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t len = dict.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (major >= 2) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  return out + dict + payload;
}

std::string bytes_of(const void* p, std::size_t n) { return std::string(static_cast<const char*>(p), n); }

NpyArray parse(const std::string& image, const std::string& name = "mem.npy") {
  return parse_npy(reinterpret_cast<const unsigned char*>(image.data()), image.size(), name);
}

template <class T>
void check_round_trip(const TempDir& dir, const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t e : shape) n *= e;
  std::vector<T> values(n);
  for (std::size_t i = 0; i < n; ++i)
    values[i] = static_cast<T>(static_cast<int>(i % 100) - 50 + (std::is_signed_v<T> ? 0 : 50));
  const std::string path = dir / "rt.npy";
  write_npy(path, values, shape);
  const NpyArray a = read_npy(path);
  CHECK(a.dtype == dtype_of<T>());
  CHECK(a.shape == shape);
  CHECK(a.source == path);
  CHECK(a.as<T>() == values);
  const NpyHeader h = read_npy_header(path);
  CHECK(h.data_offset % 64 == 0);
  CHECK(h.major_version == 1);
}

}  // namespace

TEST_CASE("npy: write then read every dtype and shapes of rank 0 to 3, including empty ones") {
  TempDir dir;
  const std::vector<std::vector<std::size_t>> shapes = {{}, {0}, {7}, {2, 3}, {4, 0}, {2, 3, 4}};
  for (const auto& s : shapes) {
    CAPTURE(shape_str(s));
    check_round_trip<std::uint8_t>(dir, s);
    check_round_trip<std::int8_t>(dir, s);
    check_round_trip<std::int32_t>(dir, s);
    check_round_trip<std::int64_t>(dir, s);
    check_round_trip<float>(dir, s);
    check_round_trip<double>(dir, s);
  }
  // rows() / row_size() of an [N, D] matrix and of a 0-d array.
  write_npy(dir / "m.npy", std::vector<float>(6, 1.f), {2, 3});
  const NpyArray m = read_npy(dir / "m.npy");
  CHECK(m.rows() == 2);
  CHECK(m.row_size() == 3);
  CHECK(m.size() == 6);
  write_npy(dir / "s.npy", std::vector<double>{2.5}, {});
  const NpyArray s = read_npy(dir / "s.npy");
  CHECK(s.rows() == 1);
  CHECK(s.row_size() == 1);
  CHECK(s.as<double>() == std::vector<double>{2.5});
}

TEST_CASE("npy: a mapped file shows the bytes read_npy reads, and is refused as read_npy refuses it") {
  TempDir dir;
  std::vector<std::uint8_t> codes(1000 * 8);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i * 37 + 5);
  write_npy(dir / "codes.npy", codes, {1000, 8});
  MappedNpy mapped(dir / "codes.npy");
  const NpyArray read = read_npy(dir / "codes.npy");
  CHECK(mapped.dtype() == DType::U8);
  CHECK(mapped.shape() == std::vector<std::size_t>{1000, 8});
  CHECK(mapped.source() == dir / "codes.npy");
  REQUIRE(mapped.data_bytes() == read.bytes.size());
  CHECK(std::equal(read.bytes.begin(), read.bytes.end(), mapped.data()));
  const MappedNpy moved = std::move(mapped);  // the mapping moves with it
  CHECK(std::equal(read.bytes.begin(), read.bytes.end(), moved.data()));
  CHECK(mapped.data() == nullptr);
  // No data: nothing mapped.
  write_npy(dir / "empty.npy", std::vector<std::uint8_t>{}, {0, 8});
  CHECK(MappedNpy(dir / "empty.npy").data() == nullptr);
  // A truncated file and a missing one: the errors of read_npy.
  const std::string header = io::detail::npy_header_bytes(DType::U8, {1000, 8});
  std::vector<unsigned char> cut(header.begin(), header.end());
  cut.insert(cut.end(), read.bytes.begin(), read.bytes.begin() + 100);
  write_bytes(dir / "cut.npy", cut);
  CHECK_THROWS_WITH_AS(MappedNpy(dir / "cut.npy"), doctest::Contains("cut.npy': truncated data"), IoError);
  CHECK_THROWS_WITH_AS(MappedNpy(dir / "none.npy"), doctest::Contains("cannot open"), IoError);
}

TEST_CASE("npy: the writer's header matches NumPy's byte for byte") {
  // np.save(f, np.zeros((2, 3), np.float32)) with NumPy 1.24 writes a 128-byte v1.0 header: the
  // 10-byte preamble (header length 118 = 0x76), the dict, spaces up to byte 127, then '\n'.
  const std::vector<float> zeros(6, 0.f);
  const std::vector<unsigned char> img = encode_npy(zeros.data(), {2, 3});
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string numpy_header =
      std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(128 - 10 - dict.size() - 1, ' ') + "\n";
  REQUIRE(img.size() == 128 + 6 * 4);
  CHECK(std::string(img.begin(), img.begin() + 128) == numpy_header);
  // A 1-d shape is written as a Python 1-tuple.
  const std::vector<std::int32_t> v(3, 1);
  const std::vector<unsigned char> img1 = encode_npy(v.data(), {3});
  CHECK(std::string(img1.begin(), img1.end()).find("'shape': (3,), }") != std::string::npos);
  // 64 extents (NumPy's maximum) fit a version 1.0 header; 65 are refused like NumPy does.
  const std::vector<std::size_t> ones64(64, 1), ones65(65, 1);
  const std::vector<unsigned char> img64 = encode_npy(v.data(), ones64);
  CHECK(parse_npy(img64.data(), img64.size(), "64.npy").shape == ones64);
  CHECK_THROWS_AS(encode_npy(v.data(), ones65), ShapeError);
}

TEST_CASE("npy: hand-written headers of versions 1.0, 2.0 and 3.0 and other spellings NumPy accepts") {
  const float vals[4] = {1.5f, -2.f, 0.f, 3.25f};
  const std::string payload = bytes_of(vals, sizeof vals);
  const std::vector<float> expect(vals, vals + 4);
  SUBCASE("version 1.0") {
    const NpyArray a = parse(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }  \n", 1, payload));
    CHECK(a.shape == std::vector<std::size_t>{2, 2});
    CHECK(a.as<float>() == expect);
  }
  SUBCASE("version 2.0") {
    CHECK(parse(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", 2, payload)).as<float>() ==
          expect);
  }
  SUBCASE("version 3.0") {
    CHECK(parse(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }\n", 3, payload)).shape ==
          std::vector<std::size_t>{1, 4});
  }
  SUBCASE("keys in another order, double quotes, no trailing comma, Python 2 long extents") {
    const NpyArray a =
        parse(make_npy("{\"shape\": (2L, 2L), \"fortran_order\": False, \"descr\": \"<f4\"}\n", 1, payload));
    CHECK(a.shape == std::vector<std::size_t>{2, 2});
    CHECK(a.as<float>() == expect);
  }
  SUBCASE("bool '|b1' is read as uint8") {
    const NpyArray a =
        parse(make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }\n", 1, std::string("\1\0\1", 3)));
    CHECK(a.dtype == DType::U8);
    CHECK(a.as<int>() == std::vector<int>{1, 0, 1});
  }
  SUBCASE("'<u1' and '|i1'") {
    CHECK(parse(make_npy("{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }\n", 1, "\xff\x01")).as<int>() ==
          std::vector<int>{255, 1});
    CHECK(parse(make_npy("{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }\n", 1, "\xff\x01")).as<int>() ==
          std::vector<int>{-1, 1});
  }
}

TEST_CASE("npy: bad files are rejected with one IoError naming the file and the problem") {
  TempDir dir;
  const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n";
  const std::string payload(16, '\0');
  auto expect_error = [&](const std::string& image, const std::string& what) {
    const std::string path = dir / "bad.npy";
    write_bytes(path, image);
    CAPTURE(what);
    bool threw = false;
    try {
      read_npy(path);
    } catch (const IoError& e) {
      threw = true;
      const std::string msg = e.what();
      CAPTURE(msg);
      CHECK(msg.find(path) != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
    }
    CHECK(threw);
    // The in-memory parser (the fuzzers' entry point) agrees.
    CHECK_THROWS_AS(parse(image), IoError);
  };

  SUBCASE("missing file and directory") {
    CHECK_THROWS_WITH_AS(read_npy(dir / "nope.npy"), doctest::Contains("nope.npy': No such file or directory"),
                         IoError);
    CHECK_THROWS_WITH_AS(read_npy(dir.path().string()), doctest::Contains("not a regular file (a directory)"), IoError);
  }
  SUBCASE("a FIFO is refused at once, not waited on for a writer") {
    const std::string fifo = (dir / "pipe.npy");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(read_npy(fifo), doctest::Contains("pipe.npy': not a regular file (a FIFO)"), IoError);
  }
  SUBCASE("empty file, short file, wrong magic") {
    expect_error("", "shorter than the 10-byte preamble");
    expect_error("\x93NUM", "shorter than the 10-byte preamble");
    expect_error("PK\x03\x04 this is a zip file", "wrong magic");
  }
  SUBCASE("unknown versions") {
    std::string v4 = make_npy(good_dict, 1, payload);
    v4[6] = 4;
    expect_error(v4, "unsupported .npy format version 4.0");
    std::string v11 = make_npy(good_dict, 1, payload);
    v11[7] = 1;
    expect_error(v11, "unsupported .npy format version 1.1");
  }
  SUBCASE("header length beyond the file or implausible") {
    std::string img = make_npy(good_dict, 1, payload);
    img[8] = '\xff';
    img[9] = '\xff';
    expect_error(img.substr(0, 40), "truncated header");
    std::string v2 = make_npy(good_dict, 2, payload);
    v2[8] = v2[9] = v2[10] = v2[11] = '\xff';
    expect_error(v2, "implausible");
  }
  SUBCASE("malformed header dicts") {
    expect_error(make_npy("['descr', '<f4']\n", 1, payload), "malformed header: expected '{'");
    expect_error(make_npy("{'descr': '<f4', 'shape': (2, 2), }\n", 1, payload), "needs the keys");
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 2), }\n", 1, payload),
                 "must be True or False");
    expect_error(make_npy("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 2), }\n", 1, payload),
                 "malformed header");
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }\n", 1, payload),
                 "expected a non-negative integer");
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2.0), }\n", 1, payload),
                 "expected ',' or ')'");
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'extra': 1}\n", 1, payload),
                 "unexpected key 'extra'");
    expect_error(make_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}\n", 1, payload),
                 "duplicate key 'descr'");
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), } x\n", 1, payload),
                 "unexpected text after");
    expect_error(
        make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }\n", 1, payload),
        "shape extent too large");
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), \n", 1, payload),
                 "malformed header");
    std::string many = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (int i = 0; i < 65; ++i) many += "1, ";
    expect_error(make_npy(many + "), }\n", 1, std::string(4, '\0')), "more than 64 dimensions");
  }
  SUBCASE("Fortran order, big-endian, unsupported dtypes") {
    expect_error(make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", 1, payload),
                 "Fortran-order arrays are not supported");
    expect_error(make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }\n", 1, payload),
                 "big-endian data ('>f4') are not supported");
    expect_error(make_npy("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }\n", 1, payload), "big-endian");
    expect_error(make_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }\n", 1, payload),
                 "unsupported dtype '<f2'");
    expect_error(make_npy("{'descr': '<u4', 'fortran_order': False, 'shape': (2, 2), }\n", 1, payload),
                 "unsupported dtype '<u4'");
    expect_error(make_npy("{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }\n", 1, payload),
                 "unsupported dtype '|O'");
    expect_error(make_npy("{'descr': '<U10', 'fortran_order': False, 'shape': (2,), }\n", 1, payload),
                 "unsupported dtype '<U10'");
    expect_error(make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", 1, payload),
                 "structured dtype");
    expect_error(make_npy("{'descr': '|f4', 'fortran_order': False, 'shape': (2, 2), }\n", 1, payload),
                 "byte order must be");
  }
  SUBCASE("an unsupported dtype is an NpyUnsupportedDType that carries the declared descr") {
    write_bytes(dir / "u8.npy", make_npy("{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }\n", 1, payload));
    try {
      read_npy(dir / "u8.npy");
      FAIL("read_npy accepted '<u8'");
    } catch (const NpyUnsupportedDType& e) {
      CHECK(e.descr() == "<u8");
      CHECK(npy_descr_name(e.descr()) == "uint64");
    }
    CHECK(npy_descr_name("<f2") == "float16");
    CHECK(npy_descr_name(">i4") == "big-endian int32");
    CHECK(npy_descr_name("|b1") == "bool");
    CHECK(npy_descr_name("<U10") == "<U10");
    CHECK(npy_descr_name("|O") == "|O");
  }
  SUBCASE("data shorter or longer than the shape implies") {
    expect_error(make_npy(good_dict, 1, payload.substr(0, 15)),
                 "truncated data: shape [2, 2] of float32 needs 16 bytes but the file has 15");
    expect_error(make_npy(good_dict, 1, payload + "x"), "1 unexpected bytes after the data");
    // A shape whose byte count overflows size_t, and one that is merely far larger than the file:
    // both are rejected before any allocation.
    expect_error(
        make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }\n", 1, payload),
        "is too large");
    expect_error(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 1000), }\n", 1, payload),
                 "truncated data");
  }
  SUBCASE("read_npy_header checks the length too") {
    write_bytes(dir / "short.npy", make_npy(good_dict, 1, payload.substr(0, 8)));
    CHECK_THROWS_WITH_AS(read_npy_header(dir / "short.npy"), doctest::Contains("truncated data"), IoError);
  }
}

TEST_CASE("npy: as<T>() converts exactly or names the element it cannot convert") {
  TempDir dir;
  write_npy(dir / "d.npy", std::vector<double>{1, 2, 3, 0.5, -4, 1e300}, {2, 3});
  const NpyArray d = read_npy(dir / "d.npy");
  // float64 -> float32 rounds, but a finite value beyond float's range is refused.
  CHECK_THROWS_WITH_AS(
      d.as<float>(),
      doctest::Contains("element [1, 2] = 1.0000000000000001e+300 (float64) cannot be converted exactly to float32"),
      IoError);
  CHECK_THROWS_WITH_AS(d.as<std::int32_t>(),
                       doctest::Contains("d.npy: element [1, 0] = 0.5 (float64) cannot be converted exactly to int32"),
                       IoError);
  write_npy(dir / "f.npy", std::vector<double>{0.1, NAN, 3}, {3});
  const std::vector<float> f = read_npy(dir / "f.npy").as<float>();
  CHECK(f[0] == 0.1f);
  CHECK(std::isnan(f[1]));
  CHECK_THROWS_WITH_AS(read_npy(dir / "f.npy").as<std::int64_t>(), doctest::Contains("element [0] = 0.1"), IoError);
  // Integer labels stored as floats convert when they are whole numbers.
  write_npy(dir / "l.npy", std::vector<float>{0, 1, 1, 0}, {2, 2});
  CHECK(read_npy(dir / "l.npy").as<std::uint8_t>() == std::vector<std::uint8_t>{0, 1, 1, 0});
  // Negative indices cannot become size_t; int64 beyond 2^24 cannot become float exactly.
  write_npy(dir / "i.npy", std::vector<std::int64_t>{3, -1}, {2});
  CHECK_THROWS_WITH_AS(read_npy(dir / "i.npy").as<std::size_t>(),
                       doctest::Contains("element [1] = -1 (int64) cannot be converted exactly to uint64"), IoError);
  CHECK(read_npy(dir / "i.npy").as<double>() == std::vector<double>{3, -1});
  write_npy(dir / "big.npy", std::vector<std::int64_t>{16777217}, {1});
  CHECK_THROWS_AS(read_npy(dir / "big.npy").as<float>(), IoError);
  CHECK(read_npy(dir / "big.npy").as<double>() == std::vector<double>{16777217});
  write_npy(dir / "u.npy", std::vector<std::uint8_t>{0, 200, 255}, {3});
  CHECK(read_npy(dir / "u.npy").as<float>() == std::vector<float>{0, 200, 255});
  CHECK_THROWS_WITH_AS(read_npy(dir / "u.npy").as<std::int8_t>(), doctest::Contains("element [1] = 200 (uint8)"),
                       IoError);
  write_npy(dir / "m.npy", std::vector<std::int32_t>{-128, 127, std::numeric_limits<std::int32_t>::max()}, {3});
  CHECK_THROWS_WITH_AS(read_npy(dir / "m.npy").as<std::int8_t>(), doctest::Contains("element [2] = 2147483647"),
                       IoError);
  CHECK(read_npy(dir / "m.npy").as<std::int64_t>() == std::vector<std::int64_t>{-128, 127, 2147483647});
}

TEST_CASE("npy: check_finite names the file, the row and the column of the first NaN or Inf") {
  TempDir dir;
  std::vector<float> v(12, 1.f);
  write_npy(dir / "ok.npy", v, {4, 3});
  CHECK_NOTHROW(check_finite(read_npy(dir / "ok.npy")));
  v[7] = std::numeric_limits<float>::infinity();
  v[10] = NAN;
  write_npy(dir / "inf.npy", v, {4, 3});
  CHECK_THROWS_WITH_AS(check_finite(read_npy(dir / "inf.npy")),
                       doctest::Contains("inf.npy: non-finite value inf at row 2, column 1"), NumericError);
  std::vector<double> d(6, 0.0);
  d[5] = -NAN;
  CHECK_THROWS_WITH_AS(check_finite(d.data(), 2, 3, "feat.npy"), doctest::Contains("feat.npy: non-finite value"),
                       NumericError);
  CHECK_THROWS_WITH_AS(check_finite(d.data(), 2, 3, "feat.npy"), doctest::Contains("at row 1, column 2"), NumericError);
  const std::vector<std::int32_t> ints(4, 7);
  CHECK_NOTHROW(check_finite(ints.data(), 2, 2, "ints"));
}

TEST_CASE("npy: write_npy is atomic: a failed write leaves the previous file intact") {
  TempDir dir;
  const std::string path = dir / "codes.npy";
  write_npy(path, std::vector<std::int8_t>{1, -1, 1, -1}, {2, 2});
  const std::string before = ssah::test::read_text(path);
  // Wrong value count: rejected before anything is written.
  CHECK_THROWS_AS(write_npy(path, std::vector<std::int8_t>{1, 2, 3}, {2, 2}), ShapeError);
  CHECK(ssah::test::read_text(path) == before);
  CHECK(dir.entries() == std::vector<std::string>{"codes.npy"});
  // A writer abandoned half-way (an exception between open and commit) leaves no trace.
  try {
    AtomicFile f(path);
    f.write("garbage", 7);
    CHECK(!f.temp_path().empty());
    throw std::runtime_error("interrupted");
  } catch (const std::runtime_error&) {
  }
  CHECK(ssah::test::read_text(path) == before);
  CHECK(dir.entries() == std::vector<std::string>{"codes.npy"});
  // A directory that does not exist.
  CHECK_THROWS_WITH_AS(write_npy(dir / "no/such/dir/x.npy", std::vector<float>{1}, {1}),
                       doctest::Contains("cannot create a temporary file"), IoError);
}

TEST_CASE("npy: a destination that is a device, a FIFO or a folder is refused, not replaced by a file") {
  TempDir dir;
  const std::string fifo = dir / "fifo.npy";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(write_npy(fifo, std::vector<float>{1}, {1}),
                       doctest::Contains("it exists and is not a regular file (a FIFO)"), IoError);
  struct stat st {};
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));  // still the FIFO (renaming over it would have replaced the node)
  const std::string folder = dir / "folder";
  REQUIRE(::mkdir(folder.c_str(), 0700) == 0);
  CHECK_THROWS_WITH_AS(write_npy(folder, std::vector<float>{1}, {1}), doctest::Contains("(a directory)"), IoError);
  CHECK_THROWS_WITH_AS(write_npy("/dev/null", std::vector<float>{1}, {1}), doctest::Contains("(a device)"), IoError);
  REQUIRE(::lstat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  // A symbolic link is replaced by the file (not followed), as before.
  const std::string target = dir / "target.npy", link = dir / "link.npy";
  write_npy(target, std::vector<float>{1}, {1});
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  write_npy(link, std::vector<float>{2, 3}, {2});
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(read_npy(target).shape == std::vector<std::size_t>{1});
  // A link to what is not a regular file (as /dev/stdout is) is refused, and stays a link.
  const std::string to_fifo = dir / "to_fifo.npy";
  REQUIRE(::symlink(fifo.c_str(), to_fifo.c_str()) == 0);
  CHECK_THROWS_WITH_AS(write_npy(to_fifo, std::vector<float>{1}, {1}),
                       doctest::Contains("it is a link to what is not a regular file (a FIFO)"), IoError);
  REQUIRE(::lstat(to_fifo.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  // A link into /proc (as /dev/stdout is: /proc/self/fd/1, whatever standard output is, a regular
  // file included) is refused, and stays a link; so is a name in /proc itself.
  const std::string to_fd = dir / "to_fd.npy";
  REQUIRE(::symlink("/proc/self/fd/1", to_fd.c_str()) == 0);
  CHECK_THROWS_WITH_AS(write_npy(to_fd, std::vector<float>{1}, {1}),
                       doctest::Contains("it leads to '/proc/self/fd/1', in /proc"), IoError);
  REQUIRE(::lstat(to_fd.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK_THROWS_WITH_AS(write_npy("/proc/self/x.npy", std::vector<float>{1}, {1}), doctest::Contains("in /proc"),
                       IoError);
}

TEST_CASE("npy: seeded random corruptions of valid files either parse or throw IoError") {
  std::vector<float> v(24);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.5f;
  const std::vector<std::vector<unsigned char>> seeds = {
      encode_npy(v.data(), {4, 6}),
      encode_npy(reinterpret_cast<const std::int64_t*>(v.data()), {3}),
      encode_npy(reinterpret_cast<const std::uint8_t*>(v.data()), {2, 2, 2}),
  };
  std::mt19937 rng(12345);
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::vector<unsigned char> img =
        ssah::test::mutate(seeds[static_cast<std::size_t>(iter) % seeds.size()], rng);
    try {
      const NpyArray a = parse_npy(img.data(), img.size(), "fuzz.npy");
      a.check_consistent();
      ++parsed;
    } catch (const IoError&) {
      ++rejected;
    }
  }
  // Both outcomes occur (padding spaces and data bytes can change harmlessly).
  CHECK(parsed > 100);
  CHECK(rejected > 100);
}

TEST_CASE("npy: files written by NumPy (v1.0, v2.0, v3.0, bool) read back, and NumPy reads ours") {
  if (!ssah::test::python_has("numpy")) {
    MESSAGE("skipped: " SSAH_TEST_PYTHON " with numpy not available");
    return;
  }
  TempDir dir;
  const std::string script =
      "import numpy as np, sys\n"
      "d = sys.argv[1]\n"
      "a = np.arange(12, dtype=np.float64).reshape(3, 4) / 4\n"
      "np.save(d + '/v1.npy', a)\n"
      "for v in [(2, 0), (3, 0)]:\n"
      "    with open(d + '/v%d.npy' % v[0], 'wb') as f: np.lib.format.write_array(f, a.astype(np.float32), version=v)\n"
      "np.save(d + '/b.npy', np.array([[True, False], [False, True]]))\n"
      "np.save(d + '/i.npy', np.array([-5, 7, 2**40], dtype=np.int64))\n"
      "np.save(d + '/f.npy', np.asfortranarray(a))\n"
      "np.save(d + '/be.npy', a.astype('>f8'))\n";
  write_bytes(dir / "gen.py", script);
  REQUIRE(std::system((SSAH_TEST_PYTHON " " + (dir / "gen.py") + " " + dir.path().string()).c_str()) == 0);
  std::vector<double> expect(12);
  for (int i = 0; i < 12; ++i) expect[static_cast<std::size_t>(i)] = i / 4.0;
  CHECK(read_npy(dir / "v1.npy").as<double>() == expect);
  CHECK(read_npy(dir / "v2.npy").as<double>() == expect);
  CHECK(read_npy(dir / "v3.npy").shape == std::vector<std::size_t>{3, 4});
  CHECK(read_npy(dir / "v3.npy").as<double>() == expect);
  CHECK(read_npy(dir / "b.npy").as<int>() == std::vector<int>{1, 0, 0, 1});
  CHECK(read_npy(dir / "i.npy").as<std::int64_t>() == std::vector<std::int64_t>{-5, 7, 1LL << 40});
  CHECK_THROWS_WITH_AS(read_npy(dir / "f.npy"), doctest::Contains("Fortran-order"), IoError);
  CHECK_THROWS_WITH_AS(read_npy(dir / "be.npy"), doctest::Contains("big-endian"), IoError);

  write_npy(dir / "ours.npy", std::vector<std::int32_t>{1, -2, 3, -4, 5, -6}, {2, 3});
  write_npy(dir / "ours8.npy", std::vector<std::int8_t>{1, -1}, {2});
  int status = 0;
  const std::string out = ssah::test::run_command(
      SSAH_TEST_PYTHON " -c \"import numpy as np; a = np.load('" + (dir / "ours.npy") + "'); b = np.load('" +
          (dir / "ours8.npy") + "'); print(a.dtype, a.shape, a.sum(), a[1, 2], b.dtype, b.tolist())\"",
      status);
  CHECK(status == 0);
  CHECK(out == "int32 (2, 3) -3 -6 int8 [1, -1]\n");
}

TEST_CASE("npy: the real Wikipedia feature files") {
  const std::string img = ssah::test::data_file("wikipedia/npy/train_img_sift128_f32.npy");
  const std::string lab = ssah::test::data_file("wikipedia/npy/test_label_i32.npy");
  if (img.empty() || lab.empty()) return;
  const NpyArray x = read_npy(img);
  CHECK(x.dtype == DType::F32);
  CHECK(x.shape == std::vector<std::size_t>{2173, 128});
  CHECK_NOTHROW(check_finite(x));
  const NpyArray y = read_npy(lab);
  CHECK(y.dtype == DType::I32);
  CHECK(y.rows() == 693);
  const std::vector<std::int64_t> labels = y.as<std::int64_t>();
  for (std::int64_t l : labels) REQUIRE((l >= 0 && l <= 10));
}
