// Writes the seed corpora of the fuzz targets: small valid files of every kind each reader
// accepts. Usage: ssah_fuzz_make_seeds DIR  (creates DIR/npy, DIR/safetensors, DIR/mat).
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#ifdef SSAH_FUZZ_WITH_MATIO
#include <matio.h>
#endif

#include "ssah/io/npy.hpp"
#include "ssah/io/safetensors.hpp"

using namespace ssah::io;

namespace {

#ifdef SSAH_FUZZ_WITH_MATIO
void mat_seed(const std::string& path, mat_ft version) {
  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, version);
  if (m == nullptr) throw ssah::IoError("cannot create " + path);
  auto put = [&](matvar_t* v, bool compress) {
    Mat_VarWrite(m, v, compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE);
    Mat_VarFree(v);
  };
  double a[6] = {1, 2, 3, 4, 5, 6};
  size_t d23[2] = {2, 3}, d12[2] = {1, 2}, d13[2] = {1, 3}, d11[2] = {1, 1};
  put(Mat_VarCreate("A", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d23, a, 0), false);
  put(Mat_VarCreate("Az", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d23, a, 0), true);
  std::int32_t ints[3] = {-1, 0, 7};
  put(Mat_VarCreate("i", MAT_C_INT32, MAT_T_INT32, 2, d13, ints, 0), false);
  char text[] = "abc";
  put(Mat_VarCreate("s", MAT_C_CHAR, MAT_T_UINT8, 2, d13, text, 0), false);
  const char* fields[] = {"w", "name"};
  matvar_t* st = Mat_VarCreateStruct("net", 2, d11, fields, 2);
  float w[2] = {0.5f, -1};
  Mat_VarSetStructFieldByName(st, "w", 0, Mat_VarCreate(nullptr, MAT_C_SINGLE, MAT_T_SINGLE, 2, d12, w, 0));
  matvar_t* cell = Mat_VarCreate(nullptr, MAT_C_CELL, MAT_T_CELL, 2, d12, nullptr, 0);
  Mat_VarSetCell(cell, 0, Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UINT8, 2, d13, text, 0));
  Mat_VarSetCell(cell, 1, Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d11, a, 0));
  Mat_VarSetStructFieldByName(st, "name", 0, cell);
  put(st, version == MAT_FT_MAT5);
  mat_uint32_t ir[2] = {0, 1}, jc[3] = {0, 1, 2};
  double sd[2] = {1.5, -2};
  mat_sparse_t sp{};
  sp.nzmax = 2, sp.ir = ir, sp.nir = 2, sp.jc = jc, sp.njc = 3, sp.ndata = 2, sp.data = sd;
  size_t d22[2] = {2, 2};
  put(Mat_VarCreate("sp", MAT_C_SPARSE, MAT_T_DOUBLE, 2, d22, &sp, MAT_F_DONT_COPY_DATA), false);
  // An empty array (v7.3: a dataset holding the dimensions, marked MATLAB_empty), a logical, a
  // complex pair, and a compressed uint8 image (v7.3: a chunked dataset, filled where chunks lack).
  size_t d00[2] = {0, 0}, d67[2] = {6, 7};
  put(Mat_VarCreate("e", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d00, nullptr, 0), false);
  std::uint8_t bits[3] = {1, 0, 1}, pixels[42] = {};
  put(Mat_VarCreate("L", MAT_C_UINT8, MAT_T_UINT8, 2, d13, bits, MAT_F_LOGICAL), false);
  double re[2] = {1, 2}, im[2] = {0, -1};
  mat_complex_split_t z{re, im};
  put(Mat_VarCreate("z", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d12, &z, MAT_F_COMPLEX), false);
  for (int k = 0; k < 42; ++k) pixels[k] = static_cast<std::uint8_t>(k);
  put(Mat_VarCreate("img", MAT_C_UINT8, MAT_T_UINT8, 2, d67, pixels, 0), true);
  Mat_Close(m);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  for (const char* sub : {"", "/npy", "/safetensors", "/mat"}) ::mkdir((dir + sub).c_str(), 0777);
  try {
    const std::vector<float> f = {0.5f, -1.f, 2.f, 3.25f, 0.f, 1e-3f};
    const std::vector<double> d = {1, 2, 3};
    const std::vector<std::int64_t> l = {-1, 1LL << 40};
    const std::vector<std::int32_t> i = {3, 1, 4, 1};
    const std::vector<std::uint8_t> u = {0, 1, 255};
    const std::vector<std::int8_t> s = {-1, 1};
    write_npy(dir + "/npy/f32_2x3.npy", f, {2, 3});
    write_npy(dir + "/npy/f64_3.npy", d, {3});
    write_npy(dir + "/npy/i64_2.npy", l, {2});
    write_npy(dir + "/npy/i32_2x1x2.npy", i, {2, 1, 2});
    write_npy(dir + "/npy/u8_3.npy", u, {3});
    write_npy(dir + "/npy/i8_scalar.npy", std::vector<std::int8_t>{-7}, {});
    write_npy(dir + "/npy/f32_0x4.npy", std::vector<float>{}, {0, 4});
    // Hand-made headers NumPy also writes: version 2.0 and 3.0, bool.
    const auto raw = [&](const std::string& name, int major, const std::string& dict, const std::string& payload) {
      std::string img = "\x93NUMPY";
      img += static_cast<char>(major);
      img += '\0';
      img += static_cast<char>(dict.size() & 0xff);
      img += static_cast<char>(dict.size() >> 8);
      if (major > 1) img += std::string(2, '\0');
      img += dict + payload;
      write_file_atomic(dir + "/npy/" + name, img);
    };
    raw("v2.npy", 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", std::string(4, '\0'));
    raw("v3.npy", 3, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }\n", std::string(8, '\1'));
    raw("bool.npy", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }\n", std::string("\1\0", 2));

    SafetensorsWriter w;
    w.add("weight", f, {2, 3});
    w.add("bias", d, {3});
    w.add("step", l, {2});
    w.add("perm", i, {4});
    w.add("mask", u, {3});
    w.add("codes", s, {2});
    w.set_metadata("ssah.config", "{\"bits\": 16}");
    w.write(dir + "/safetensors/all_dtypes.safetensors");
    SafetensorsWriter one;
    one.add("x", std::vector<float>{1}, {});
    one.write(dir + "/safetensors/scalar.safetensors");
    SafetensorsWriter none;
    none.write(dir + "/safetensors/empty.safetensors");

#ifdef SSAH_FUZZ_WITH_MATIO
    mat_seed(dir + "/mat/v5.mat", MAT_FT_MAT5);
    mat_seed(dir + "/mat/v73.mat", MAT_FT_MAT73);
#endif
  } catch (const ssah::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
