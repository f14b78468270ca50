#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io_test_support.hpp"
#include "ssah/io/checksum.hpp"
#include "ssah/io/safetensors.hpp"

using namespace ssah;
using namespace ssah::io;
using ssah::test::TempDir;
using ssah::test::write_bytes;

namespace {

/// A safetensors image from a header text and a data section.
std::string make_st(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((std::uint64_t(header.size()) >> (8 * i)) & 0xff);
  return out + header + data;
}

SafetensorsWriter sample_writer() {
  SafetensorsWriter w;
  w.add("img.fc1.weight", std::vector<float>{0.5f, -1.25f, 3.f, 1e-3f, 7.f, -0.f}, {2, 3});
  w.add("img.fc1.bias", std::vector<double>{1.0 / 3, -2.5}, {2});
  w.add("step", std::vector<std::int64_t>{123456789012LL}, {});
  w.add("codes", std::vector<std::int8_t>{1, -1, -1, 1}, {2, 2});
  w.add("mask", std::vector<std::uint8_t>{0, 1, 1}, {3});
  w.add("perm", std::vector<std::int32_t>{2, 0, 1}, {3});
  w.add("empty", std::vector<float>{}, {0, 4});
  w.set_metadata("ssah.config", R"({"bits": 64, "objective": "paper"})");
  w.set_metadata("epoch", "7");
  return w;
}

}  // namespace

TEST_CASE("crc32 matches the zlib check value and is incremental") {
  const std::string s = "123456789";
  CHECK(crc32(s.data(), s.size()) == 0xCBF43926u);
  CHECK(crc32(nullptr, 0) == 0u);
  std::vector<unsigned char> big(1000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<unsigned char>(i * 7 + 3);
  const std::uint32_t whole = crc32(big.data(), big.size());
  for (std::size_t cut : {0, 1, 7, 8, 13, 999}) {
    Crc32 c;
    c.update(big.data(), cut);
    c.update(big.data() + cut, big.size() - cut);
    CHECK(c.value() == whole);
  }
  Crc32 c;
  c.update(s.data(), s.size());
  CHECK(c.hex() == "cbf43926");
}

TEST_CASE("safetensors: write then read every dtype, metadata, checksum and alignment") {
  TempDir dir;
  const std::string path = dir / "ckpt.safetensors";
  sample_writer().write(path);
  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.checksum_verified);
  CHECK(f.tensors.size() == 7);
  CHECK(f.get<float>("img.fc1.weight", {2, 3}) == std::vector<float>{0.5f, -1.25f, 3.f, 1e-3f, 7.f, -0.f});
  CHECK(f.get<double>("img.fc1.bias") == std::vector<double>{1.0 / 3, -2.5});
  CHECK(f.at("step").shape.empty());
  CHECK(f.get<std::int64_t>("step") == std::vector<std::int64_t>{123456789012LL});
  CHECK(f.get<std::int8_t>("codes") == std::vector<std::int8_t>{1, -1, -1, 1});
  CHECK(f.get<std::uint8_t>("mask") == std::vector<std::uint8_t>{0, 1, 1});
  CHECK(f.get<std::int32_t>("perm") == std::vector<std::int32_t>{2, 0, 1});
  CHECK(f.at("empty").shape == std::vector<std::size_t>{0, 4});
  CHECK(f.at("empty").bytes.empty());
  CHECK(f.meta("format") == "pt");
  CHECK(f.meta("epoch") == "7");
  CHECK(nlohmann::json::parse(f.meta("ssah.config"))["bits"] == 64);
  CHECK(f.meta(safetensors_checksum_key).substr(0, 6) == "crc32:");
  CHECK_THROWS_WITH_AS(f.meta("nope"), doctest::Contains("no metadata entry 'nope'"), IoError);
  CHECK_THROWS_WITH_AS(f.at("fc2"), doctest::Contains("no tensor 'fc2' (it has 'codes', 'empty'"), IoError);
  CHECK_THROWS_WITH_AS(f.get<float>("img.fc1.weight", {3, 2}),
                       doctest::Contains("tensor 'img.fc1.weight': shape [2, 3] where [3, 2] is expected"), ShapeError);

  // The data section starts at a multiple of 8 and every tensor at a multiple of its element size.
  const std::vector<unsigned char> bytes = read_file(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | bytes[static_cast<std::size_t>(i)];
  CHECK((8 + n) % 8 == 0);
  const nlohmann::json h = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::size_t begin = it.value()["data_offsets"][0];
    CHECK(begin % dtype_size(f.at(it.key()).dtype) == 0);
  }
  // encode() and write() produce the same bytes.
  CHECK(sample_writer().encode() == bytes);
}

TEST_CASE("safetensors: the writer refuses bad names and keys, and a failed write keeps the old file") {
  TempDir dir;
  const std::string path = dir / "ckpt.safetensors";
  sample_writer().write(path);
  const std::string before = ssah::test::read_text(path);
  SafetensorsWriter w;
  w.add("a", std::vector<float>{1}, {1});
  CHECK_THROWS_WITH_AS(w.add("a", std::vector<float>{1}, {1}), doctest::Contains("tensor 'a' added twice"),
                       InvalidArgument);
  CHECK_THROWS_AS(w.add("__metadata__", std::vector<float>{1}, {1}), InvalidArgument);
  CHECK_THROWS_WITH_AS(w.set_metadata("ssah.checksum", "x"), doctest::Contains("reserved"), InvalidArgument);
  CHECK_THROWS_AS(w.add("b", std::vector<float>{1, 2}, {3}), ShapeError);
  w.add("bad\xff", std::vector<float>{1}, {1});
  CHECK_THROWS_WITH_AS(w.write(path), doctest::Contains("not valid UTF-8"), InvalidArgument);
  CHECK(ssah::test::read_text(path) == before);
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
  // add_view does not copy: the data are read at write time.
  std::vector<double> live{1, 2, 3};
  SafetensorsWriter v;
  v.add_view("x", live.data(), {3});
  live[1] = 20;
  v.write(dir / "view.safetensors");
  CHECK(read_safetensors(dir / "view.safetensors").get<double>("x") == std::vector<double>{1, 20, 3});
}

TEST_CASE("safetensors: bad files are rejected with one IoError naming the file and the problem") {
  TempDir dir;
  const std::string data16(16, '\x01');
  const std::string entry = R"("w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]})";
  auto expect_error = [&](const std::string& image, const std::string& what) {
    const std::string path = dir / "bad.safetensors";
    write_bytes(path, image);
    CAPTURE(what);
    bool threw = false;
    try {
      read_safetensors(path);
    } catch (const IoError& e) {
      threw = true;
      const std::string msg = e.what();
      CAPTURE(msg);
      CHECK(msg.find("'" + path + "'") != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
    }
    CHECK(threw);
    CHECK_THROWS_AS(parse_safetensors(reinterpret_cast<const unsigned char*>(image.data()), image.size(), "mem"),
                    IoError);
  };
  // The baseline parses, so each case below fails for its own reason.
  const std::string good = make_st("{" + entry + "}", data16);
  CHECK(parse_safetensors(reinterpret_cast<const unsigned char*>(good.data()), good.size(), "mem").at("w").shape ==
        std::vector<std::size_t>{2, 2});

  SUBCASE("missing file") {
    CHECK_THROWS_WITH_AS(read_safetensors(dir / "none.safetensors"), doctest::Contains("No such file"), IoError);
  }
  SUBCASE("header length") {
    expect_error("", "shorter than the 8-byte header length");
    expect_error(std::string("\x02\0\0\0", 4), "shorter than the 8-byte header length");
    expect_error(make_st("", ""), "bad header length 0");
    std::string huge = good;
    huge[4] = '\x01';  // 2^32 + ...
    expect_error(huge, "over the 100 MB limit");
    std::string longer = good;
    longer[0] = static_cast<char>(longer[0] + 40);
    expect_error(longer, "truncated header");
    // A length that reaches into the tensor data (here: the whole rest of the file).
    std::string past = good;
    const std::uint64_t rest = good.size() - 8;
    for (int b = 0; b < 8; ++b) past[static_cast<std::size_t>(b)] = static_cast<char>((rest >> (8 * b)) & 0xff);
    expect_error(past, "runs past the JSON header, which ends after");
    // Malformed JSON that closes early is a JSON error, not a length that runs past the header.
    expect_error(make_st("{\"a\": ]}", ""), "header JSON error");
  }
  SUBCASE("header JSON") {
    expect_error(make_st("[1, 2]", ""), "header is not a JSON object");
    expect_error(make_st("{\"w\": {\"dtype\": \"F32\",", ""), "header JSON error");
    expect_error(make_st("{" + entry + ",}", data16), "header JSON error");
    expect_error(make_st("{\"a\": " + std::string(50, '[') + std::string(50, ']') + "}", ""), "nested more than 8 levels deep");
    expect_error(make_st("{\"__metadata__\": [\"x\"]}", ""), "'__metadata__' must be an object of strings");
    expect_error(make_st("{\"__metadata__\": {\"epoch\": 7}}", ""), "metadata 'epoch' is not a string");
    expect_error(make_st("{\"w\": 5}", ""), "tensor 'w': entry is not an object");
    expect_error(make_st(R"({"w": {"dtype": "F32", "shape": [2, 2]}})", data16),
                 "entry needs 'dtype', 'shape' and 'data_offsets'");
  }
  SUBCASE("dtypes, shapes, offsets") {
    expect_error(make_st(R"({"w": {"dtype": "F16", "shape": [8], "data_offsets": [0, 16]}})", data16),
                 "tensor 'w': unsupported dtype 'F16'");
    expect_error(make_st(R"({"w": {"dtype": 3, "shape": [8], "data_offsets": [0, 16]}})", data16),
                 "'dtype' is not a string");
    expect_error(make_st(R"({"w": {"dtype": "F32", "shape": [-2, 2], "data_offsets": [0, 16]}})", data16),
                 "'shape' must hold non-negative integers");
    expect_error(make_st(R"({"w": {"dtype": "F32", "shape": [2.5, 2], "data_offsets": [0, 16]}})", data16),
                 "'shape' must hold non-negative integers");
    expect_error(make_st(R"({"w": {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]}})", data16),
                 "'shape' is not an array");
    expect_error(make_st(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0]}})", data16),
                 "'data_offsets' is not [begin, end]");
    expect_error(make_st(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [16, 0]}})", data16),
                 "end before they begin");
    expect_error(make_st(R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}})", data16),
                 "shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 16] hold 16");
    expect_error(
        make_st(R"({"w": {"dtype": "F64", "shape": [4611686018427387904, 8], "data_offsets": [0, 16]}})", data16),
        "is too large");
    expect_error(make_st(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 18446744073709551616]}})", data16),
                 "'data_offsets' must hold non-negative integers");
  }
  SUBCASE("layout: overlap, gap, truncation, trailing bytes") {
    expect_error(make_st(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                             "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                         data16),
                 "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
    expect_error(make_st(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                             "b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}})",
                         data16),
                 "a gap of 4 bytes before tensor 'b'");
    expect_error(make_st("{" + entry + "}", data16.substr(0, 10)),
                 "truncated: tensor 'w' ends at byte 16 of the data section, which has 10");
    expect_error(make_st("{" + entry + "}", data16 + "xyz"), "3 unexpected bytes after the last tensor");
    // Offsets far beyond the file: rejected before anything is allocated.
    expect_error(
        make_st(R"({"w": {"dtype": "U8", "shape": [1000000000000], "data_offsets": [0, 1000000000000]}})", data16),
        "truncated: tensor 'w' ends at byte 1000000000000");
  }
  SUBCASE("checksum") {
    std::vector<unsigned char> img = sample_writer().encode();
    img[img.size() - 3] ^= 0x10;  // one bit of the data section
    expect_error(std::string(img.begin(), img.end()), "checksum mismatch");
    const std::string ok_crc = "crc32:" + [&] {
      Crc32 c;
      c.update(data16.data(), data16.size());
      return c.hex();
    }();
    const std::string with_crc =
        make_st(R"({"__metadata__": {"ssah.checksum": ")" + ok_crc + R"("}, )" + entry + "}", data16);
    CHECK(parse_safetensors(reinterpret_cast<const unsigned char*>(with_crc.data()), with_crc.size(), "mem")
              .checksum_verified);
    CHECK_FALSE(
        parse_safetensors(reinterpret_cast<const unsigned char*>(good.data()), good.size(), "mem").checksum_verified);
    expect_error(make_st(R"({"__metadata__": {"ssah.checksum": "md5:abc"}, )" + entry + "}", data16),
                 "expected 'crc32:' and 8 lowercase hex digits");
    expect_error(make_st(R"({"__metadata__": {"ssah.checksum": "crc32:00000000"}, )" + entry + "}", data16),
                 "checksum mismatch: the data section's CRC-32 is " + ok_crc.substr(6));
  }
}

TEST_CASE("safetensors: seeded random corruptions either parse or throw IoError") {
  const std::vector<unsigned char> seed = sample_writer().encode();
  SafetensorsWriter small;
  small.add("x", std::vector<float>{1, 2, 3, 4}, {2, 2});
  const std::vector<unsigned char> seed2 = small.encode();
  std::mt19937 rng(777);
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const std::vector<unsigned char> img = ssah::test::mutate(iter % 2 ? seed : seed2, rng);
    try {
      const SafetensorsFile f = parse_safetensors(img.data(), img.size(), "fuzz");
      for (const auto& [name, t] : f.tensors) t.check_consistent();
      ++parsed;
    } catch (const IoError&) {
      ++rejected;
    }
  }
  CHECK(parsed > 10);  // padding spaces and metadata text can change harmlessly
  CHECK(rejected > 1000);
}

TEST_CASE("safetensors: plain Python (json + struct + zlib) reads what we write") {
  if (!ssah::test::python_has("json struct zlib")) {
    MESSAGE("skipped: " SSAH_TEST_PYTHON " not available");
    return;
  }
  TempDir dir;
  const std::string path = dir / "ckpt.safetensors";
  sample_writer().write(path);
  int status = 0;
  const std::string out = ssah::test::run_command(
      SSAH_TEST_PYTHON " " SSAH_TEST_SOURCE_DIR "/../reference/read_safetensors.py '" + path + "'", status);
  REQUIRE(status == 0);
  const nlohmann::json r = nlohmann::json::parse(out);
  CHECK(r["crc32_ok"] == true);
  CHECK(r["metadata"]["epoch"] == "7");
  CHECK(r["metadata"]["format"] == "pt");
  const nlohmann::json& t = r["tensors"];
  CHECK(t.size() == 7);
  CHECK(t["img.fc1.weight"]["dtype"] == "F32");
  CHECK(t["img.fc1.weight"]["shape"] == nlohmann::json::array({2, 3}));
  CHECK(t["img.fc1.weight"]["values"].get<std::vector<float>>() ==
        std::vector<float>{0.5f, -1.25f, 3.f, 1e-3f, 7.f, -0.f});
  CHECK(t["img.fc1.bias"]["values"].get<std::vector<double>>() == std::vector<double>{1.0 / 3, -2.5});
  CHECK(t["step"]["shape"] == nlohmann::json::array());
  CHECK(t["step"]["values"][0] == 123456789012LL);
  CHECK(t["codes"]["values"].get<std::vector<int>>() == std::vector<int>{1, -1, -1, 1});
  CHECK(t["perm"]["values"].get<std::vector<int>>() == std::vector<int>{2, 0, 1});
  CHECK(t["empty"]["shape"] == nlohmann::json::array({0, 4}));
  // The script itself notices corruption (so the check above can fail).
  std::vector<unsigned char> img = read_file(path);
  img.back() ^= 1;
  write_bytes(dir / "bad.safetensors", img);
  const nlohmann::json bad = nlohmann::json::parse(ssah::test::run_command(
      SSAH_TEST_PYTHON " " SSAH_TEST_SOURCE_DIR "/../reference/read_safetensors.py '" + (dir / "bad.safetensors") + "'",
      status));
  CHECK(bad["crc32_ok"] == false);
}

// Importing torch takes about 3 s: this case carries the CTest label "torch" (ctest -LE torch skips it).
TEST_CASE("safetensors: PyTorch builds tensors from what we write" * doctest::test_suite("torch")) {
  if (!ssah::test::python_has("torch")) {
    MESSAGE("skipped: " SSAH_TEST_PYTHON " with torch not available");
    return;
  }
  TempDir dir;
  const std::string path = dir / "ckpt.safetensors";
  sample_writer().write(path);
  int status = 0;
  const std::string out = ssah::test::run_command(
      SSAH_TEST_PYTHON " " SSAH_TEST_SOURCE_DIR "/../reference/read_safetensors.py '" + path + "' --torch", status);
  REQUIRE(status == 0);
  const nlohmann::json t = nlohmann::json::parse(out)["torch"];
  CHECK(t["img.fc1.weight"]["dtype"] == "torch.float32");
  CHECK(t["img.fc1.weight"]["shape"] == nlohmann::json::array({2, 3}));
  CHECK(t["img.fc1.weight"]["sum"].get<double>() == doctest::Approx(0.5 - 1.25 + 3 + 1e-3 + 7).epsilon(1e-6));
  CHECK(t["step"]["dtype"] == "torch.int64");
  CHECK(t["step"]["sum"].get<double>() == 123456789012.0);
  CHECK(t["codes"]["dtype"] == "torch.int8");
  CHECK(t["mask"]["dtype"] == "torch.uint8");
  CHECK(t["empty"]["shape"] == nlohmann::json::array({0, 4}));
}
