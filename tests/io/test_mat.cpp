#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <matio.h>
#include <zlib.h>

#include "io_test_support.hpp"
#include "ssah/io/mat.hpp"
#include "ssah/io/npy.hpp"

using namespace ssah;
using namespace ssah::io;
using ssah::test::TempDir;

namespace {

using Dims = std::vector<std::size_t>;

matvar_t* make(const char* name, matio_classes cls, matio_types type, Dims dims, const void* data, int opt = 0) {
  matvar_t* v =
      Mat_VarCreate(name, cls, type, static_cast<int>(dims.size()), dims.data(), const_cast<void*>(data), opt);
  REQUIRE(v != nullptr);
  return v;
}

matvar_t* make_char(const char* name, const std::string& text) {
  return make(name, MAT_C_CHAR, MAT_T_UINT8, {1, text.size()}, text.data());
}

void put(mat_t* m, matvar_t* v, bool compress = false) {
  REQUIRE(Mat_VarWrite(m, v, compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE) == 0);
  Mat_VarFree(v);
}

/// A file with one variable of each kind the reader handles, in MATLAB v5 or v7.3 format.
void write_fixture(const std::string& path, mat_ft version) {
  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, version);
  REQUIRE(m != nullptr);
  const double a[6] = {1, 2, 3, 4, 5, 6};  // column-major [1 3 5; 2 4 6]
  put(m, make("A", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 3}, a), true);
  float cube[12];
  for (int i = 0; i < 12; ++i) cube[i] = static_cast<float>(i);  // cube(i,j,k) = i + 2j + 6k (0-based)
  put(m, make("cube", MAT_C_SINGLE, MAT_T_SINGLE, {2, 3, 2}, cube));
  const std::int16_t i16[3] = {-5, 0, 300};
  put(m, make("i16", MAT_C_INT16, MAT_T_INT16, {1, 3}, i16));
  const std::uint32_t u32[2] = {7, 4000000000u};
  put(m, make("u32", MAT_C_UINT32, MAT_T_UINT32, {1, 2}, u32));
  const std::uint64_t u64[2] = {1, (std::uint64_t(1) << 63) + 5};
  put(m, make("u64", MAT_C_UINT64, MAT_T_UINT64, {1, 2}, u64));
  const std::uint8_t l[3] = {1, 0, 1};
  put(m, make("L", MAT_C_UINT8, MAT_T_UINT8, {1, 3}, l, MAT_F_LOGICAL));
  put(m, make_char("name", "imagenet-vgg-f"));
  double re[2] = {1, 2}, im[2] = {0, -1};
  mat_complex_split_t z{re, im};
  put(m, make("Z", MAT_C_DOUBLE, MAT_T_DOUBLE, {1, 2}, &z, MAT_F_COMPLEX));
  mat_uint32_t ir[2] = {0, 2}, jc[3] = {0, 1, 2};
  double sd[2] = {1.5, -2};
  mat_sparse_t sp{};
  sp.nzmax = 2, sp.ir = ir, sp.nir = 2, sp.jc = jc, sp.njc = 3, sp.ndata = 2, sp.data = sd;
  put(m, make("SP", MAT_C_SPARSE, MAT_T_DOUBLE, {3, 2}, &sp, MAT_F_DONT_COPY_DATA));
  put(m, make("empty", MAT_C_DOUBLE, MAT_T_DOUBLE, {0, 0}, nullptr));

  // net.layers = {struct('type','conv','weights',{{W, b}}), struct('type','relu','weights',{{}})},
  // the shape of MatConvNet's imagenet-vgg-f.mat; net.meta = 'x'.
  const char* net_fields[] = {"layers", "meta"};
  Dims one{1, 1};
  matvar_t* net = Mat_VarCreateStruct("net", 2, one.data(), net_fields, 2);
  Dims two{1, 2};
  matvar_t* layers = make("layers", MAT_C_CELL, MAT_T_CELL, two, nullptr);
  const char* layer_fields[] = {"type", "weights"};
  for (int i = 0; i < 2; ++i) {
    matvar_t* layer = Mat_VarCreateStruct(nullptr, 2, one.data(), layer_fields, 2);
    Mat_VarSetStructFieldByName(layer, "type", 0, make_char(nullptr, i == 0 ? "conv" : "relu"));
    matvar_t* weights;
    if (i == 0) {
      weights = make(nullptr, MAT_C_CELL, MAT_T_CELL, two, nullptr);
      float w[3 * 3 * 1 * 2];
      for (int k = 0; k < 18; ++k) w[k] = static_cast<float>(k);
      Mat_VarSetCell(weights, 0, make(nullptr, MAT_C_SINGLE, MAT_T_SINGLE, {3, 3, 1, 2}, w));
      const float b[2] = {0.5f, -0.5f};
      Mat_VarSetCell(weights, 1, make(nullptr, MAT_C_SINGLE, MAT_T_SINGLE, {1, 2}, b));
    } else {
      weights = make(nullptr, MAT_C_CELL, MAT_T_CELL, {0, 0}, nullptr);
    }
    Mat_VarSetStructFieldByName(layer, "weights", 0, weights);
    Mat_VarSetCell(layers, i, layer);
  }
  Mat_VarSetStructFieldByName(net, "layers", 0, layers);
  Mat_VarSetStructFieldByName(net, "meta", 0, make_char(nullptr, "x"));
  put(m, net, true);

  // A 1x2 struct array S with S(1).v = 10, S(2).v = 20.
  const char* s_fields[] = {"v"};
  matvar_t* s = Mat_VarCreateStruct("S", 2, two.data(), s_fields, 1);
  for (std::size_t e = 0; e < 2; ++e) {
    const double v = 10.0 * static_cast<double>(e + 1);
    Mat_VarSetStructFieldByName(s, "v", e, make(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, {1, 1}, &v));
  }
  put(m, s);
  REQUIRE(Mat_Close(m) == 0);
}

void check_fixture(const std::string& path, const std::string& version) {
  const MatFile f(path);
  CHECK(f.version() == version);
  const std::vector<MatVarInfo> vars = f.variables();
  std::vector<std::string> names;
  for (const MatVarInfo& v : vars) names.push_back(v.name);
  std::sort(names.begin(), names.end());
  CHECK(names ==
        std::vector<std::string>{"A", "L", "S", "SP", "Z", "cube", "empty", "i16", "name", "net", "u32", "u64"});
  for (const MatVarInfo& v : vars) {
    if (v.name == "A") CHECK((v.class_name == "double" && v.dims == Dims{2, 3}));
    if (v.name == "net") CHECK(v.class_name == "struct");
    if (v.name == "Z") CHECK(v.is_complex);
    if (v.name == "L") CHECK(v.class_name == "logical");
  }
  CHECK(f.contains("cube"));
  CHECK_FALSE(f.contains("B"));

  // Column-major MATLAB data come out row-major with MATLAB's dimensions.
  const HostArray a = f.read("A").to_array();
  CHECK(a.dtype == DType::F64);
  CHECK(a.shape == Dims{2, 3});
  CHECK(a.as<double>() == std::vector<double>{1, 3, 5, 2, 4, 6});
  CHECK(a.source == path + ": A");
  const HostArray cube = f.read("cube").to_array();
  CHECK(cube.dtype == DType::F32);
  CHECK(cube.shape == Dims{2, 3, 2});
  const std::vector<float> c = cube.as<float>();
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 2; ++k) CHECK(c[i * 6 + j * 2 + k] == static_cast<float>(i + 2 * j + 6 * k));
  const HostArray i16 = f.read("i16").to_array();
  CHECK(i16.dtype == DType::I32);
  CHECK(i16.as<int>() == std::vector<int>{-5, 0, 300});
  CHECK(f.read("u32").to_array().as<std::int64_t>() == std::vector<std::int64_t>{7, 4000000000LL});
  CHECK_THROWS_WITH_AS(
      f.read("u64").to_array(),
      doctest::Contains("variable u64: element 1 (column-major) = 9223372036854775813 does not fit in int64"), IoError);
  const HostArray l = f.read("L").to_array();
  CHECK(l.dtype == DType::U8);
  CHECK(l.as<int>() == std::vector<int>{1, 0, 1});
  CHECK(f.read("name").to_string() == "imagenet-vgg-f");
  CHECK_THROWS_WITH_AS(f.read("Z").to_array(),
                       doctest::Contains("variable Z: is complex double; only real data are supported"), IoError);
  const HostArray sp = f.read("SP").to_array();
  CHECK(sp.dtype == DType::F64);
  CHECK(sp.shape == Dims{3, 2});
  CHECK(sp.as<double>() == std::vector<double>{1.5, 0, 0, 0, 0, -2});
  const HostArray e = f.read("empty").to_array();
  CHECK(e.shape == Dims{0, 0});
  CHECK(e.size() == 0);

  // Walking a MatConvNet-like struct of cells of structs.
  const MatValue net = f.read("net");
  CHECK(net.is_struct());
  CHECK(net.field_names() == std::vector<std::string>{"layers", "meta"});
  const MatValue layers = net.field("layers");
  CHECK(layers.is_cell());
  CHECK(layers.numel() == 2);
  CHECK(layers.cell(0).field("type").to_string() == "conv");
  CHECK(layers.cell(1).field("type").to_string() == "relu");
  const MatValue w = layers.cell(0).field("weights").cell(0);
  CHECK(w.path() == "net.layers{1}.weights{1}");
  const HostArray wa = w.to_array();
  CHECK(wa.shape == Dims{3, 3, 1, 2});
  // w(i,j,0,o) = i + 3j + 9o in column-major; row-major [i, j, 0, o] is at i*6 + j*2 + o.
  const std::vector<float> wv = wa.as<float>();
  CHECK(wv[1 * 6 + 2 * 2 + 1] == 1.f + 3 * 2 + 9 * 1);
  CHECK(layers.cell(0).field("weights").cell(1).to_array().as<float>() == std::vector<float>{0.5f, -0.5f});
  CHECK(layers.cell(1).field("weights").numel() == 0);
  // Parts stay valid after the file and the root value are gone (shared ownership).
  const MatValue s2 = MatFile(path).read("S").field("v", 1);
  CHECK(s2.path() == "S(2).v");
  CHECK(s2.to_array().as<double>() == std::vector<double>{20});

  // Errors name the file and the path of the part.
  CHECK_THROWS_WITH_AS(
      net.to_array(),
      doctest::Contains("': variable net: is a struct, not a numeric array (read its fields with field())"), IoError);
  CHECK_THROWS_WITH_AS(layers.to_array(), doctest::Contains("(read its elements with cell())"), IoError);
  CHECK_THROWS_WITH_AS(net.field("weights"),
                       doctest::Contains("variable net: no field 'weights' (fields: 'layers', 'meta')"), IoError);
  CHECK_THROWS_WITH_AS(
      layers.cell(2), doctest::Contains("variable net.layers: cell 2 is out of range (the cell array has 2)"), IoError);
  CHECK_THROWS_WITH_AS(f.read("S").field("v", 2), doctest::Contains("struct element 2 is out of range"), IoError);
  CHECK_THROWS_WITH_AS(f.read("A").field("x"), doctest::Contains("variable A: field(): is a double, not a struct"),
                       IoError);
  CHECK_THROWS_WITH_AS(f.read("A").to_string(), doctest::Contains("not a char array"), IoError);
  CHECK_THROWS_WITH_AS(f.read("nope"), doctest::Contains("': no variable 'nope' (it has 'A', "), IoError);
  CHECK_THROWS_WITH_AS(read_mat_array(path, "net"), doctest::Contains("not a numeric array"), IoError);
  // The size limit applies before the data are read.
  CHECK_THROWS_WITH_AS(MatFile(path, MatReadOptions{40}).read("A"),
                       doctest::Contains("variable 'A' declares 48 bytes of data"), IoError);
  CHECK(read_mat_array(path, "A", MatReadOptions{48}).size() == 6);
}

}  // namespace

TEST_CASE("mat: v5 files written by matio read back: numbers, logical, char, sparse, structs and cells") {
  TempDir dir;
  write_fixture(dir / "v5.mat", MAT_FT_MAT5);
  check_fixture(dir / "v5.mat", "5");
}

TEST_CASE("mat: v7.3 (HDF5) files written by matio read back the same way") {
  TempDir dir;
  write_fixture(dir / "v73.mat", MAT_FT_MAT73);
  check_fixture(dir / "v73.mat", "7.3");
}

TEST_CASE("mat: read_slabs gives every slab of every axis as the whole read does (v7.3 by parts, v5 whole)") {
  TempDir dir;
  for (const auto& entry : {std::pair("v5.mat", MAT_FT_MAT5), std::pair("v73.mat", MAT_FT_MAT73)}) {
    const std::string file = entry.first;  // not a structured binding: CAPTURE's lambda captures it
    const mat_ft version = entry.second;
    write_fixture(dir / file, version);
    const MatFile f(dir / file);
    for (const std::string name : {"A", "cube", "i16", "u32", "L"}) {
      const HostArray whole = f.read(name).to_array();
      const std::size_t each = dtype_size(whole.dtype);
      for (std::size_t axis = 0; axis < whole.shape.size(); ++axis) {
        CAPTURE(file);
        CAPTURE(name);
        CAPTURE(axis);
        std::size_t outer = 1, inner = each, slabs = 0, next = 0;
        for (std::size_t k = 0; k < axis; ++k) outer *= whole.shape[k];
        for (std::size_t k = axis + 1; k < whole.shape.size(); ++k) inner *= whole.shape[k];
        // Slabs of one index of the axis (1 byte at most: one index, the least a slab holds).
        f.read_slabs(name, axis, 1, [&](std::size_t first, HostArray slab) {
          ++slabs;
          REQUIRE(first == next);
          REQUIRE(slab.dtype == whole.dtype);
          REQUIRE(slab.shape.size() == whole.shape.size());
          const std::size_t count = slab.shape[axis];
          next += count;
          for (std::size_t o = 0; o < outer; ++o)
            for (std::size_t i = 0; i < count; ++i)
              CHECK(std::memcmp(slab.bytes.data() + (o * count + i) * inner,
                                whole.bytes.data() + (o * whole.shape[axis] + first + i) * inner, inner) == 0);
        });
        CHECK(next == whole.shape[axis]);
        CHECK(slabs == (version == MAT_FT_MAT73 ? whole.shape[axis] : 1));
      }
    }
  }
}

TEST_CASE("mat: v7.3 files are checked up to the HDF5 superblock, and can be refused") {
  TempDir dir;
  write_fixture(dir / "v73.mat", MAT_FT_MAT73);
  const std::vector<unsigned char> good = read_file(dir / "v73.mat");
  CHECK_THROWS_WITH_AS(MatFile(dir / "v73.mat", MatReadOptions{1 << 20, false}),
                       doctest::Contains("a MATLAB v7.3 (HDF5) file, refused (MatReadOptions::allow_hdf5 is false)"),
                       IoError);
  auto patched = [&](std::size_t at, std::vector<unsigned char> bytes, const char* what) {
    std::vector<unsigned char> b = good;
    std::copy(bytes.begin(), bytes.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
    ssah::test::write_bytes(dir / "bad.mat", b);
    CHECK_THROWS_WITH_AS(MatFile(dir / "bad.mat"), doctest::Contains(what), IoError);
  };
  REQUIRE(good[512] == 0x89);
  REQUIRE(good[520] == 0);  // superblock version 0
  patched(512, {'X'}, "no HDF5 signature at byte 512");
  patched(0, {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'}, "an HDF5 signature at byte 0");
  patched(520, {7}, "HDF5 superblock version 7");
  patched(512 + 48, {0, 0, 0, 0, 0, 0, 0, 0}, "an HDF5 driver information block");
  ssah::test::write_bytes(dir / "short.mat", std::vector<unsigned char>(good.begin(), good.begin() + 560));
  CHECK_THROWS_WITH_AS(MatFile(dir / "short.mat"), doctest::Contains("too short for an HDF5 superblock"), IoError);
}

TEST_CASE("mat: bad files are rejected with an IoError naming the file") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(MatFile(dir / "none.mat"), doctest::Contains("none.mat': No such file or directory"), IoError);
  CHECK_THROWS_WITH_AS(MatFile(dir.path().string()), doctest::Contains("not a regular file (a directory)"), IoError);
  ssah::test::write_bytes(dir / "text.mat", std::string("this is not a MATLAB file, just some text\n"));
  CHECK_THROWS_WITH_AS(
      MatFile(dir / "text.mat"),
      doctest::Contains("text.mat': not a MATLAB v5 or v7.3 .mat file (shorter than the 128-byte header)"), IoError);
  ssah::test::write_bytes(dir / "empty.mat", std::string());
  CHECK_THROWS_WITH_AS(MatFile(dir / "empty.mat"), doctest::Contains("(empty file)"), IoError);
  ssah::test::write_bytes(dir / "long.mat", std::string(300, 'x'));
  CHECK_THROWS_WITH_AS(MatFile(dir / "long.mat"), doctest::Contains("no endian indicator"), IoError);
  {  // MATLAB v4 files (no header) are refused rather than parsed.
    mat_t* m = Mat_CreateVer((dir / "v4.mat").c_str(), nullptr, MAT_FT_MAT4);
    REQUIRE(m != nullptr);
    const std::vector<double> a(60, 1.0);
    put(m, make("A", MAT_C_DOUBLE, MAT_T_DOUBLE, {20, 3}, a.data()));
    REQUIRE(Mat_Close(m) == 0);
    REQUIRE(read_file(dir / "v4.mat").size() > 128);
    CHECK_THROWS_WITH_AS(MatFile(dir / "v4.mat"), doctest::Contains("MATLAB v4 files are not supported"), IoError);
  }
  // A v5 file cut short: the header opens, the variable cannot be read.
  write_fixture(dir / "full.mat", MAT_FT_MAT5);
  const std::vector<unsigned char> full = read_file(dir / "full.mat");
  ssah::test::write_bytes(dir / "cut.mat", std::vector<unsigned char>(full.begin(), full.begin() + 200));
  bool threw = false;
  try {
    MatFile f(dir / "cut.mat");
    f.read("cube").to_array();
  } catch (const IoError& e) {
    threw = true;
    CHECK(std::string(e.what()).find("cut.mat") != std::string::npos);
  }
  CHECK(threw);
}

TEST_CASE("mat: the v5 structure check refuses inconsistent sizes before matio allocates anything") {
  TempDir dir;
  const std::string path = dir / "one.mat";
  {
    mat_t* m = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
    REQUIRE(m != nullptr);
    const double a[6] = {1, 2, 3, 4, 5, 6};
    put(m, make("A", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 3}, a));
    REQUIRE(Mat_Close(m) == 0);
  }
  const std::vector<unsigned char> good = read_file(path);
  // Layout of an uncompressed little-endian v5 file holding the 2x3 double A.
  auto u32 = [&](const std::vector<unsigned char>& b, std::size_t at) {
    return std::uint32_t(b[at]) | std::uint32_t(b[at + 1]) << 8 | std::uint32_t(b[at + 2]) << 16 |
           std::uint32_t(b[at + 3]) << 24;
  };
  REQUIRE(good.size() == 232);
  REQUIRE(u32(good, 128) == 14);  // miMATRIX
  REQUIRE(u32(good, 144) == 6);   // array flags: class double
  REQUIRE(u32(good, 160) == 2);   // dims
  REQUIRE(u32(good, 164) == 3);
  REQUIRE(u32(good, 176) == 9);  // real part: miDOUBLE, 48 bytes
  REQUIRE(u32(good, 180) == 48);
  CHECK(read_mat_array(path, "A").as<double>() == std::vector<double>{1, 3, 5, 2, 4, 6});
  auto patched2 = [&](std::vector<std::pair<std::size_t, std::uint32_t>> patches, const std::string& what) {
    std::vector<unsigned char> b = good;
    for (const auto& [at, value] : patches)
      for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<unsigned char>(value >> (8 * i));
    ssah::test::write_bytes(dir / "bad.mat", b);
    CAPTURE(what);
    CHECK_THROWS_WITH_AS(MatFile(dir / "bad.mat"), doctest::Contains(what.c_str()), IoError);
  };
  auto patched = [&](std::size_t at, std::uint32_t value, const std::string& what) { patched2({{at, value}}, what); };
  patched(160, 0xffffffffu, "malformed MAT v5 file: variable #1 (element at byte 128): negative dimension -1");
  patched(164, 100000000u, "real part holds 48 bytes for 200000000 elements");
  patched(144, 1, "a cell element has data type 9");  // a 2x3 cell: needs 6 nested matrices
  patched2({{144, 1}, {164, 1000000}}, "2000000 cells cannot fit in 56 bytes");
  patched(144, 17, "unsupported MATLAB class 17 (MATLAB object such as string or table)");
  patched(132, 1000000, "element of 1000000 bytes runs past the end of the file");
  patched(128, 3, "top-level element of type 3");
  patched(180, 4800, "real part holds 4800 bytes for 6 elements");
  patched(176, 14, "real part has non-numeric data type 14");
  patched(152, 5 | (8u << 16), "small data element longer than 4 bytes");
  patched(124, 0x4d490300u, "unknown version 0x300");

  // A compressed variable that expands beyond the caller's limit is refused while inflating.
  {
    mat_t* m = Mat_CreateVer((dir / "zeros.mat").c_str(), nullptr, MAT_FT_MAT5);
    REQUIRE(m != nullptr);
    const std::vector<double> zeros(200000, 0.0);
    put(m, make("Z", MAT_C_DOUBLE, MAT_T_DOUBLE, {1000, 200}, zeros.data()), true);
    REQUIRE(Mat_Close(m) == 0);
  }
  CHECK(ssah::io::read_file(dir / "zeros.mat").size() < 10000);
  CHECK_THROWS_WITH_AS(MatFile(dir / "zeros.mat", MatReadOptions{100000}),
                       doctest::Contains("larger than the size limit"), IoError);
  CHECK(MatFile(dir / "zeros.mat", MatReadOptions{2000000}).read("Z").to_array().size() == 200000);
}

TEST_CASE("mat: a sparse matrix whose column starts decrease is refused, not read out of bounds") {
  // Found by the fuzzer: jc = {0, huge, 2} passed a per-column check at column 1 too late.
  TempDir dir;
  mat_t* m = Mat_CreateVer((dir / "sp.mat").c_str(), nullptr, MAT_FT_MAT5);
  REQUIRE(m != nullptr);
  mat_uint32_t ir[2] = {0, 1}, jc[3] = {0, 16187393, 2};
  double sd[2] = {1.5, -2};
  mat_sparse_t sp{};
  sp.nzmax = 2, sp.ir = ir, sp.nir = 2, sp.jc = jc, sp.njc = 3, sp.ndata = 2, sp.data = sd;
  put(m, make("sp", MAT_C_SPARSE, MAT_T_DOUBLE, {2, 2}, &sp, MAT_F_DONT_COPY_DATA));
  REQUIRE(Mat_Close(m) == 0);
  CHECK_THROWS_WITH_AS(read_mat_array(dir / "sp.mat", "sp"),
                       doctest::Contains("variable sp: sparse column starts decrease at column 1"), IoError);
}

namespace {

/// Replaces each occurrence, at any offset, of the little-endian 64-bit values {a, b} in `bytes`
/// (an HDF5 dataspace's dimensions, and its maximum dimensions) by {new_a, b}; returns how many.
int patch_u64_pair(std::vector<unsigned char>& bytes, std::uint64_t a, std::uint64_t b, std::uint64_t new_a) {
  int found = 0;
  for (std::size_t i = 0; i + 16 <= bytes.size(); ++i) {
    std::uint64_t x = 0, y = 0;
    std::memcpy(&x, &bytes[i], 8);
    std::memcpy(&y, &bytes[i + 8], 8);
    if (x == a && y == b) {
      std::memcpy(&bytes[i], &new_a, 8);
      ++found;
    }
  }
  return found;
}

void put_u32(std::vector<unsigned char>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

/// A little-endian MAT v5 file: the 128-byte header, then `elements` (tagged, as written).
std::vector<unsigned char> v5_file(const std::vector<unsigned char>& elements) {
  std::vector<unsigned char> out(128 + elements.size(), ' ');
  const std::string text = "MATLAB 5.0 MAT-file, written by test_mat.cpp";
  std::copy(text.begin(), text.end(), out.begin());
  std::fill(out.begin() + 116, out.begin() + 124, 0);  // no subsystem data
  out[124] = 0, out[125] = 1, out[126] = 'I', out[127] = 'M';
  std::copy(elements.begin(), elements.end(), out.begin() + 128);
  return out;
}

}  // namespace

TEST_CASE("mat: a v7.3 array larger than the file can hold is refused before matio reads it (issue 16)") {
  // A compressed (chunked) 60 x 7 uint8 'img' whose dataspace is then edited to 60 x 200000: the
  // chunks that are not in the file read as the fill value, zeros, so HDF5 would hand over 12 MB
  // (and the 60 x 3,342,528 of the issue took matio 10 s and 8.6 GB) from a file of 4.5 KB.
  TempDir dir;
  const std::string good = dir / "img.mat", bad = dir / "bad.mat";
  {
    mat_t* m = Mat_CreateVer(good.c_str(), nullptr, MAT_FT_MAT73);
    REQUIRE(m != nullptr);
    const std::vector<std::uint8_t> img(60 * 7, 3);
    put(m, make("img", MAT_C_UINT8, MAT_T_UINT8, {60, 7}, img.data()), true);
    REQUIRE(Mat_Close(m) == 0);
  }
  CHECK(read_mat_array(good, "img").shape == Dims{60, 7});
  std::vector<unsigned char> bytes = read_file(good);
  const std::size_t size = bytes.size();
  REQUIRE(size < 16384);
  // HDF5 stores dimensions slowest first: MATLAB's 60 x 7 is {7, 60} (dimensions and maximum).
  REQUIRE(patch_u64_pair(bytes, 7, 60, 200000) >= 1);
  ssah::test::write_bytes(bad, bytes);
  {
    const MatFile f(bad);
    const std::vector<MatVarInfo> vars = f.variables();
    REQUIRE(vars.size() == 1);
    CHECK(vars[0].dims == Dims{60, 200000});
    REQUIRE_THROWS_WITH_AS(f.read("img"), doctest::Contains("bad.mat': variable 'img' declares 12000000 bytes of data"),
                           IoError);
    const std::string hold = "more than a file of " + std::to_string(size) + " bytes can hold";
    CHECK_THROWS_WITH_AS(f.read("img"), doctest::Contains(hold.c_str()), IoError);
    CHECK_THROWS_AS(read_mat_array(bad, "img"), IoError);
  }
  // The 60 x 3,342,528 (200 MB from 4.5 KB) likewise, and a larger limit does not let it through.
  bytes = read_file(good);
  REQUIRE(patch_u64_pair(bytes, 7, 60, 3342528) >= 1);
  ssah::test::write_bytes(bad, bytes);
  CHECK_THROWS_WITH_AS(MatFile(bad, MatReadOptions{std::size_t(1) << 40}).read("img"),
                       doctest::Contains("variable 'img' declares 200551680 bytes of data"), IoError);

  // Zeros that the file does hold, compressed, still read (HDF5 deflates each chunk separately).
  {
    mat_t* m = Mat_CreateVer((dir / "zeros.mat").c_str(), nullptr, MAT_FT_MAT73);
    REQUIRE(m != nullptr);
    const std::vector<double> zeros(1000 * 200, 0.0);
    put(m, make("Z", MAT_C_DOUBLE, MAT_T_DOUBLE, {1000, 200}, zeros.data()), true);
    REQUIRE(Mat_Close(m) == 0);
  }
  CHECK(read_file(dir / "zeros.mat").size() < 1600000 / 100);
  CHECK(read_mat_array(dir / "zeros.mat", "Z").size() == 200000);
}

TEST_CASE("mat: a v5 variable describing more arrays than its file can hold is refused before matio reads it") {
  // A compressed 1 x 200000 cell of empty elements: 8 bytes each once inflated, 2.5 KB in all on
  // disk, but matio allocates a record of about 100 bytes for every element (20 MB here, nearly
  // 1 GB from a 64 KB file), already when listing the variables.
  TempDir dir;
  const std::size_t n = 200000;
  std::vector<unsigned char> matrix;
  for (std::uint32_t v : {6u, 8u, 1u, 0u}) put_u32(matrix, v);                             // array flags: cell
  for (std::uint32_t v : {5u, 8u, 1u, static_cast<std::uint32_t>(n)}) put_u32(matrix, v);  // dims 1 x n
  for (std::uint32_t v : {(1u << 16) | 1u, std::uint32_t('c')}) put_u32(matrix, v);        // name 'c'
  for (std::size_t i = 0; i < n; ++i) {
    put_u32(matrix, 14);  // an empty miMATRIX
    put_u32(matrix, 0);
  }
  std::vector<unsigned char> raw;
  put_u32(raw, 14);
  put_u32(raw, static_cast<std::uint32_t>(matrix.size()));
  raw.insert(raw.end(), matrix.begin(), matrix.end());
  uLongf zn = compressBound(static_cast<uLong>(raw.size()));
  std::vector<unsigned char> z(zn);
  REQUIRE(compress2(z.data(), &zn, raw.data(), static_cast<uLong>(raw.size()), 9) == Z_OK);
  z.resize(zn);
  std::vector<unsigned char> element;
  put_u32(element, 15);  // miCOMPRESSED
  put_u32(element, static_cast<std::uint32_t>(z.size()));
  element.insert(element.end(), z.begin(), z.end());
  const std::vector<unsigned char> file = v5_file(element);
  REQUIRE(file.size() < 4096);
  ssah::test::write_bytes(dir / "cells.mat", file);
  bool threw = false;
  try {
    const MatFile f(dir / "cells.mat");
    for (const MatVarInfo& v : f.variables()) f.read(v.name);
  } catch (const IoError& e) {
    threw = true;
    CHECK(std::string(e.what()).find("cells.mat'") != std::string::npos);
    CHECK(std::string(e.what()).find("'c'") != std::string::npos);
    CHECK(std::string(e.what()).find("more than a file of " + std::to_string(file.size()) + " bytes can hold") !=
          std::string::npos);
  }
  CHECK(threw);

  // The same cell with 100 elements is fine.
  std::vector<unsigned char> small(matrix.begin(), matrix.begin() + 40 + 8 * 100);
  small[28] = 100, small[29] = 0, small[30] = 0, small[31] = 0;  // dims 1 x 100
  raw.clear();
  put_u32(raw, 14);
  put_u32(raw, static_cast<std::uint32_t>(small.size()));
  raw.insert(raw.end(), small.begin(), small.end());
  ssah::test::write_bytes(dir / "small.mat", v5_file(raw));
  const MatValue c = MatFile(dir / "small.mat").read("c");
  CHECK(c.numel() == 100);
}

TEST_CASE("mat: seeded random corruptions of a v5 file either read or throw IoError") {
  TempDir dir;
  const std::string path = dir / "seed.mat";
  {
    mat_t* m = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
    REQUIRE(m != nullptr);
    const double a[6] = {1, 2, 3, 4, 5, 6};
    put(m, make("A", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 3}, a));
    put(m, make_char("s", "abc"));
    REQUIRE(Mat_Close(m) == 0);
  }
  const std::vector<unsigned char> seed = read_file(path);
  std::mt19937 rng(99);
  int ok = 0, rejected = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<unsigned char> img = seed;
    // Leave the 128-byte text header alone most of the time so that matio gets to the variables.
    std::vector<unsigned char> tail(img.begin() + 128, img.end());
    tail = ssah::test::mutate(tail, rng);
    img.resize(128);
    img.insert(img.end(), tail.begin(), tail.end());
    ssah::test::write_bytes(dir / "m.mat", img);
    try {
      MatFile f(dir / "m.mat", MatReadOptions{1 << 20});
      for (const MatVarInfo& v : f.variables()) {
        const MatValue x = f.read(v.name);
        if (x.is_numeric()) x.to_array().check_consistent();
      }
      ++ok;
    } catch (const IoError&) {
      ++rejected;
    }
  }
  CHECK(ok + rejected == 300);
  CHECK(rejected > 0);
}

TEST_CASE("mat: the real Wikipedia raw_features.mat (MATLAB v5) matches the .npy features") {
  const std::string mat = ssah::test::data_file("wikipedia/raw_features.mat");
  const std::string npy = ssah::test::data_file("wikipedia/npy/train_img_sift128_f32.npy");
  if (mat.empty() || npy.empty()) return;
  const MatFile f(mat);
  CHECK(f.version() == "5");
  std::vector<std::string> names;
  for (const MatVarInfo& v : f.variables()) {
    names.push_back(v.name);
    if (v.name == "T_te") CHECK(v.dims == Dims{693, 10});
  }
  CHECK(names == std::vector<std::string>{"I_tr", "I_te", "T_tr", "T_te"});
  const HostArray x = f.read("I_tr").to_array();
  CHECK(x.dtype == DType::F64);
  CHECK(x.shape == Dims{2173, 128});
  // The .npy release is the same matrix in float32, row-major: equal element for element.
  CHECK(x.as<float>() == read_npy(npy).as<float>());
}
