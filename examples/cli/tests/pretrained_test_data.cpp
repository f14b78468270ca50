// Test data for `ssah train --pretrained` (examples/cli/pretrained.cpp).
//
//   pretrained_test_data DIR   writes, with matio and ssah's .npy writer:
//     fake_vgg_f.mat   a tiny MatConvNet CNN-F in the old (pre-beta16) layout, for 3 x 63 x 63
//                      images: conv channels 2, 3, 2, 2, 3, fc6 5, fc7 4 (the layer structure of
//                      imagenet-vgg-f.mat; the writer of tests/model_backbones/test_cnnf_matconvnet.cpp)
//                      and an averageImage 63 x 63 x 3 of values around 120
//     not_cnnf.mat     a .mat file without `layers` (not a MatConvNet network)
//     img.npy          40 x 3 x 63 x 63 uint8 images (raw pixels, 0..255)
//     gray.npy         40 x 1 x 63 x 63 uint8 (one channel: does not fit the file's conv1)
//     txt.npy          40 x 16 float32, labels.npy 40 x 4 uint8 (0/1)
//     split/           query_idx.npy 0..7, db_idx.npy and train_idx.npy 8..39 (int64)
//     img_db.npy       the database rows of img.npy (for `ssah encode`)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <matio.h>

#include "ssah/io/npy.hpp"

namespace {

using Dims = std::vector<std::size_t>;

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("matio: ") + what);
}
matvar_t* make(const char* name, matio_classes cls, matio_types type, Dims dims, const void* data) {
  matvar_t* v = Mat_VarCreate(name, cls, type, static_cast<int>(dims.size()), dims.data(), const_cast<void*>(data), 0);
  require(v != nullptr, "Mat_VarCreate");
  return v;
}
// Char data as UTF-16 code units, as MATLAB writes them (see test_cnnf_matconvnet.cpp).
matvar_t* text(const std::string& s) {
  std::vector<std::uint16_t> u(s.begin(), s.end());
  return make(nullptr, MAT_C_CHAR, MAT_T_UINT16, {1, s.size()}, u.data());
}
matvar_t* doubles(std::vector<double> v) { return make(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, {1, v.size()}, v.data()); }
matvar_t* singles(const std::vector<float>& v, Dims dims) { return make(nullptr, MAT_C_SINGLE, MAT_T_SINGLE, dims, v.data()); }
matvar_t* structure(const char* name, const std::vector<const char*>& fields) {
  Dims one{1, 1};
  matvar_t* s = Mat_VarCreateStruct(name, 2, one.data(), const_cast<const char**>(fields.data()),
                                    static_cast<unsigned>(fields.size()));
  require(s != nullptr, "Mat_VarCreateStruct");
  return s;
}
void set(matvar_t* s, const char* field, matvar_t* v) {
  require(Mat_VarSetStructFieldByName(s, field, 0, v) == nullptr, "Mat_VarSetStructFieldByName");
}

struct ConvDims {
  const char* name;
  std::size_t kh, kw, cin, cout;
};
const std::vector<ConvDims> kConvs = {{"conv1", 11, 11, 3, 2}, {"conv2", 5, 5, 2, 3}, {"conv3", 3, 3, 3, 2},
                                      {"conv4", 3, 3, 2, 2},   {"conv5", 3, 3, 2, 3}, {"fc6", 1, 1, 3, 5},
                                      {"fc7", 1, 1, 5, 4}};

/// A fixed pseudo-random pattern in [-scale, scale].
float weight(std::size_t l, std::size_t j, float scale) {
  const std::uint32_t h = static_cast<std::uint32_t>((l + 1) * 2654435761u) ^ static_cast<std::uint32_t>(j * 40503u);
  return scale * (static_cast<float>(h % 2001) / 1000.f - 1.f);
}

matvar_t* conv_layer(const ConvDims& c, std::size_t l, std::vector<double> pad, std::vector<double> stride) {
  std::vector<float> f(c.kh * c.kw * c.cin * c.cout), b(c.cout);
  // He-like uniform scale (variance 2 / fan-in), so that activations keep their size through the
  // layers and the codes differ between items.
  const float scale = std::sqrt(6.f / static_cast<float>(c.kh * c.kw * c.cin));
  for (std::size_t j = 0; j < f.size(); ++j) f[j] = weight(l, j, scale);
  for (std::size_t o = 0; o < c.cout; ++o) b[o] = 0.1f * static_cast<float>(o);
  Dims two{1, 2};
  matvar_t* weights = make(nullptr, MAT_C_CELL, MAT_T_CELL, two, nullptr);
  Mat_VarSetCell(weights, 0, singles(f, {c.kh, c.kw, c.cin, c.cout}));
  Mat_VarSetCell(weights, 1, singles(b, {1, c.cout}));
  matvar_t* s = structure(nullptr, {"weights", "pad", "type", "name", "stride"});
  set(s, "name", text(c.name));
  set(s, "type", text("conv"));
  set(s, "weights", weights);
  set(s, "pad", doubles(std::move(pad)));
  set(s, "stride", doubles(std::move(stride)));
  return s;
}

matvar_t* pool_layer(const char* name, std::vector<double> pad) {
  matvar_t* s = structure(nullptr, {"name", "stride", "pad", "type", "method", "pool"});
  set(s, "name", text(name));
  set(s, "type", text("pool"));
  set(s, "method", text("max"));
  set(s, "pool", doubles({3, 3}));
  set(s, "stride", doubles({2, 2}));
  set(s, "pad", doubles(std::move(pad)));
  return s;
}

matvar_t* simple_layer(const std::string& name, const char* type) {
  const bool lrn = std::string(type) == "lrn";
  matvar_t* s = lrn ? structure(nullptr, {"type", "name", "param"}) : structure(nullptr, {"type", "name"});
  set(s, "type", text(type));
  set(s, "name", text(name));
  if (lrn) set(s, "param", doubles({5, 2, 1e-4, 0.75}));
  return s;
}

void write_fake_vgg_f(const std::string& path) {
  std::vector<matvar_t*> ls;
  ls.push_back(conv_layer(kConvs[0], 0, {0, 0, 0, 0}, {4, 4}));
  ls.push_back(simple_layer("relu1", "relu"));
  ls.push_back(simple_layer("norm1", "lrn"));
  ls.push_back(pool_layer("pool1", {0, 1, 0, 1}));
  ls.push_back(conv_layer(kConvs[1], 1, {2, 2, 2, 2}, {1, 1}));
  ls.push_back(simple_layer("relu2", "relu"));
  ls.push_back(simple_layer("norm2", "lrn"));
  ls.push_back(pool_layer("pool2", {0, 0, 0, 0}));
  for (std::size_t i = 2; i < 5; ++i) {
    ls.push_back(conv_layer(kConvs[i], i, {1, 1, 1, 1}, {1, 1}));
    ls.push_back(simple_layer("relu" + std::to_string(i + 1), "relu"));
  }
  ls.push_back(pool_layer("pool5", {0, 0, 0, 0}));
  ls.push_back(conv_layer(kConvs[5], 5, {0, 0, 0, 0}, {1, 1}));
  ls.push_back(simple_layer("relu6", "relu"));
  ls.push_back(conv_layer(kConvs[6], 6, {0, 0, 0, 0}, {1, 1}));
  ls.push_back(simple_layer("relu7", "relu"));
  ls.push_back(conv_layer(ConvDims{"fc8", 1, 1, 4, 7}, 7, {0, 0, 0, 0}, {1, 1}));  // ImageNet's, ignored
  ls.push_back(simple_layer("prob", "softmax"));
  matvar_t* layers = make("layers", MAT_C_CELL, MAT_T_CELL, {1, ls.size()}, nullptr);
  for (std::size_t i = 0; i < ls.size(); ++i) Mat_VarSetCell(layers, static_cast<int>(i), ls[i]);

  matvar_t* norm = structure("normalization", {"averageImage", "keepAspect", "border", "imageSize", "interpolation"});
  std::vector<float> avg(63 * 63 * 3);
  for (std::size_t j = 0; j < avg.size(); ++j) avg[j] = 110.f + static_cast<float>(j % 23);
  set(norm, "averageImage", singles(avg, {63, 63, 3}));
  set(norm, "keepAspect", doubles({1}));
  set(norm, "border", doubles({0, 0}));
  set(norm, "imageSize", doubles({63, 63, 3, 1}));
  set(norm, "interpolation", text("bilinear"));

  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  require(m != nullptr, "Mat_CreateVer");
  require(Mat_VarWrite(m, layers, MAT_COMPRESSION_ZLIB) == 0, "Mat_VarWrite layers");
  require(Mat_VarWrite(m, norm, MAT_COMPRESSION_NONE) == 0, "Mat_VarWrite normalization");
  Mat_VarFree(layers);
  Mat_VarFree(norm);
  require(Mat_Close(m) == 0, "Mat_Close");
}

void write_not_cnnf(const std::string& path) {
  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  require(m != nullptr, "Mat_CreateVer");
  std::vector<double> v = {1, 2, 3, 4};
  matvar_t* x = make("weights", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 2}, v.data());
  require(Mat_VarWrite(m, x, MAT_COMPRESSION_NONE) == 0, "Mat_VarWrite");
  Mat_VarFree(x);
  require(Mat_Close(m) == 0, "Mat_Close");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    std::filesystem::create_directories(dir + "/split");
    write_fake_vgg_f(dir + "/fake_vgg_f.mat");
    write_not_cnnf(dir + "/not_cnnf.mat");
    constexpr std::size_t n = 40, L = 4, V = 16, S = 63 * 63, Q = 8;
    std::vector<std::uint8_t> labels(n * L), img(n * 3 * S), gray(n * S);
    std::vector<float> txt(n * V);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t cls = i % L;
      for (std::size_t l = 0; l < L; ++l) labels[i * L + l] = (l == cls || (i * 7 + l) % 11 == 0) ? 1 : 0;
      for (std::size_t v = 0; v < V; ++v)
        txt[i * V + v] = (v % L == cls ? 1.f : 0.f) + 0.1f * static_cast<float>((i * 13 + v * 7) % 5);
      // A brightness pattern per class, plus texture.
      for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t p = 0; p < S; ++p) {
          const std::size_t y = p / 63, x = p % 63;
          const std::size_t base = cls == c ? 180 : 60;
          img[(i * 3 + c) * S + p] = static_cast<std::uint8_t>((base + (x * 3 + y * 5 + i * 11) % 60) % 256);
        }
      for (std::size_t p = 0; p < S; ++p) gray[i * S + p] = img[(i * 3) * S + p];
    }
    ssah::io::write_npy(dir + "/labels.npy", labels, {n, L});
    ssah::io::write_npy(dir + "/txt.npy", txt, {n, V});
    ssah::io::write_npy(dir + "/img.npy", img, {n, 3, 63, 63});
    ssah::io::write_npy(dir + "/gray.npy", gray, {n, 1, 63, 63});
    std::vector<std::int64_t> query, db;
    for (std::size_t i = 0; i < n; ++i) (i < Q ? query : db).push_back(static_cast<std::int64_t>(i));
    ssah::io::write_npy(dir + "/split/query_idx.npy", query, {query.size()});
    ssah::io::write_npy(dir + "/split/db_idx.npy", db, {db.size()});
    ssah::io::write_npy(dir + "/split/train_idx.npy", db, {db.size()});
    std::vector<std::uint8_t> img_db(img.begin() + static_cast<std::ptrdiff_t>(Q * 3 * S), img.end());
    ssah::io::write_npy(dir + "/img_db.npy", img_db, {n - Q, 3, 63, 63});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pretrained_test_data: %s\n", e.what());
    return 1;
  }
  std::printf("written to %s\n", argv[1]);
  return 0;
}
