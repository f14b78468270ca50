#pragma once
/// \file
/// A tiny fake MatConvNet CNN-F (`imagenet-vgg-f.mat`), written with matio, for the tests that
/// load one: the .mat loader's (tests/model_backbones/test_cnnf_matconvnet.cpp) and `ssah train
/// --pretrained`'s (examples/cli/tests/pretrained_test_data.cpp). The real file is large and not in
/// the repository; this one has its structure with tiny widths, so the tests run anywhere.
///
/// What it writes: the 21 layers of imagenet-vgg-f.mat in its order (conv1 relu1 norm1 pool1,
/// conv2 relu2 norm2 pool2, conv3 relu3, conv4 relu4, conv5 relu5 pool5, fc6 relu6, fc7 relu7,
/// fc8 prob) with CNN-F's pads, strides, pooling and LRN parameters, for 3 x 63 x 63 images:
/// conv channels 2, 3, 2, 2, 3 (pool5 map 1 x 1), fc6 5, fc7 4, and an fc8 of 7 (ImageNet's
/// classifier, which loaders ignore). Filter banks are H x W x Cin x Cout singles; the caller
/// chooses their values (see FakeCnnfMatOptions). Two layouts:
///  - old (pre-beta16, like the published imagenet-vgg-f.mat): top-level variables `layers` (a
///    1 x 21 cell of structs, conv fields in the order weights, pad, type, name, stride that
///    SSAH's reference code tnet.py indexes; biases 1 x Cout) and `normalization`;
///  - beta16+ (files saved by newer MatConvNet): layers with the extra fields size, precious,
///    dilate, opts (pool: precious, opts), biases Cout x 1, and `meta` holding inputs, classes
///    and normalization (with cropSize).
/// `layers` is zlib-compressed and `normalization` / `meta` is not, so readers see both kinds.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <matio.h>

namespace ssah::test {

/// One conv (or fully connected) layer of the fake file: its name and filter bank dims.
struct FakeCnnfConv {
  const char* name;
  std::size_t kh, kw, cin, cout;
};

/// conv1..fc7, the layers a loader takes (index = the `layer` passed to FakeCnnfValue); fc8 is
/// layer 7, {"fc8", 1, 1, 4, 7}.
inline const std::vector<FakeCnnfConv> kFakeCnnfConvs = {
    {"conv1", 11, 11, 3, 2}, {"conv2", 5, 5, 2, 3}, {"conv3", 3, 3, 3, 2}, {"conv4", 3, 3, 2, 2},
    {"conv5", 3, 3, 2, 3},   {"fc6", 1, 1, 3, 5},   {"fc7", 1, 1, 5, 4}};

/// The value of element `index` of layer `layer`'s filters (MATLAB column-major index into
/// H x W x Cin x Cout) or biases (output index).
using FakeCnnfValue = std::function<float(const FakeCnnfConv& conv, std::size_t layer, std::size_t index)>;

/// What write_fake_cnnf_mat writes. Only filter and bias must be set: the other defaults give an
/// old-layout file of CNN-F's geometry without an average image.
struct FakeCnnfMatOptions {
  FakeCnnfValue filter;  ///< required
  FakeCnnfValue bias;    ///< required
  bool beta16 = false;   ///< beta16+ layout instead of the old one
  /// normalization.averageImage: dims (empty: no such field; the published file's is
  /// 224 x 224 x 3) and values in MATLAB column-major order, as many as the dims hold.
  std::vector<std::size_t> average_image_dims;
  std::vector<float> average_image;
  std::vector<double> pool1_pad = {0, 1, 0, 1};  ///< CNN-F's; others test the geometry check
  bool drop_conv3 = false;                       ///< leave conv3 out (a file that is not CNN-F)
  bool wrap_in_net = false;  ///< one struct variable `net` {layers, normalization|meta} instead
};

/// Small matio helpers (also for a test data writer's other .mat files). Failures throw
/// std::runtime_error("matio: <what>"); variables are created with copied data (matio's flag 0).
using MatDims = std::vector<std::size_t>;

inline void mat_require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("matio: ") + what);
}
inline matvar_t* mat_make(const char* name, matio_classes cls, matio_types type, MatDims dims, const void* data) {
  matvar_t* v = Mat_VarCreate(name, cls, type, static_cast<int>(dims.size()), dims.data(), const_cast<void*>(data), 0);
  mat_require(v != nullptr, "Mat_VarCreate");
  return v;
}
/// Char data as UTF-16 code units, as MATLAB writes them. (matio 1.5.23 declares a wrong element
/// size for odd-length 8-bit char data inside compressed structs, which the strict reader refuses.)
inline matvar_t* mat_text(const std::string& s) {
  std::vector<std::uint16_t> u(s.begin(), s.end());
  return mat_make(nullptr, MAT_C_CHAR, MAT_T_UINT16, {1, s.size()}, u.data());
}
inline matvar_t* mat_doubles(std::vector<double> v) {
  return mat_make(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, {1, v.size()}, v.data());
}
inline matvar_t* mat_singles(const std::vector<float>& v, MatDims dims) {
  return mat_make(nullptr, MAT_C_SINGLE, MAT_T_SINGLE, std::move(dims), v.data());
}
inline matvar_t* mat_struct(const char* name, const std::vector<const char*>& fields) {
  MatDims one{1, 1};
  matvar_t* s = Mat_VarCreateStruct(name, 2, one.data(), const_cast<const char**>(fields.data()),
                                    static_cast<unsigned>(fields.size()));
  mat_require(s != nullptr, "Mat_VarCreateStruct");
  return s;
}
inline void mat_set(matvar_t* s, const char* field, matvar_t* v) {
  mat_require(Mat_VarSetStructFieldByName(s, field, 0, v) == nullptr, "Mat_VarSetStructFieldByName");
}
inline matvar_t* mat_empty_cell() { return mat_make(nullptr, MAT_C_CELL, MAT_T_CELL, {0, 0}, nullptr); }

namespace detail {

inline matvar_t* fake_conv_layer(const FakeCnnfConv& c, std::size_t l, const FakeCnnfMatOptions& o,
                                 std::vector<double> pad, std::vector<double> stride) {
  std::vector<float> f(c.kh * c.kw * c.cin * c.cout), b(c.cout);
  for (std::size_t j = 0; j < f.size(); ++j) f[j] = o.filter(c, l, j);
  for (std::size_t j = 0; j < b.size(); ++j) b[j] = o.bias(c, l, j);
  matvar_t* weights = mat_make(nullptr, MAT_C_CELL, MAT_T_CELL, {1, 2}, nullptr);
  // 4-d even where MATLAB would drop a trailing singleton Cout: no layer here has one output.
  Mat_VarSetCell(weights, 0, mat_singles(f, {c.kh, c.kw, c.cin, c.cout}));
  Mat_VarSetCell(weights, 1, mat_singles(b, o.beta16 ? MatDims{c.cout, 1} : MatDims{1, c.cout}));
  matvar_t* s;
  if (o.beta16) {
    s = mat_struct(nullptr, {"name", "type", "weights", "size", "pad", "stride", "precious", "dilate", "opts"});
    mat_set(s, "size", mat_doubles({double(c.kh), double(c.kw), double(c.cin), double(c.cout)}));
    mat_set(s, "precious", mat_doubles({0}));
    mat_set(s, "dilate", mat_doubles({1}));
    mat_set(s, "opts", mat_empty_cell());
  } else {
    s = mat_struct(nullptr, {"weights", "pad", "type", "name", "stride"});  // the order tnet.py indexes
  }
  mat_set(s, "name", mat_text(c.name));
  mat_set(s, "type", mat_text("conv"));
  mat_set(s, "weights", weights);
  mat_set(s, "pad", mat_doubles(std::move(pad)));
  mat_set(s, "stride", mat_doubles(std::move(stride)));
  return s;
}

inline matvar_t* fake_pool_layer(const char* name, bool beta16, std::vector<double> pad) {
  matvar_t* s = beta16 ? mat_struct(nullptr, {"name", "type", "method", "pool", "stride", "pad", "precious", "opts"})
                       : mat_struct(nullptr, {"name", "stride", "pad", "type", "method", "pool"});
  mat_set(s, "name", mat_text(name));
  mat_set(s, "type", mat_text("pool"));
  mat_set(s, "method", mat_text("max"));
  mat_set(s, "pool", mat_doubles({3, 3}));
  mat_set(s, "stride", mat_doubles({2, 2}));
  mat_set(s, "pad", mat_doubles(std::move(pad)));
  if (beta16) {
    mat_set(s, "precious", mat_doubles({0}));
    mat_set(s, "opts", mat_empty_cell());
  }
  return s;
}

/// relu, softmax or lrn (with CNN-F's LRN parameters).
inline matvar_t* fake_simple_layer(const std::string& name, const char* type) {
  const bool lrn = std::string(type) == "lrn";
  matvar_t* s = lrn ? mat_struct(nullptr, {"type", "name", "param"}) : mat_struct(nullptr, {"type", "name"});
  mat_set(s, "type", mat_text(type));
  mat_set(s, "name", mat_text(name));
  if (lrn) mat_set(s, "param", mat_doubles({5, 2, 1e-4, 0.75}));
  return s;
}

}  // namespace detail

/// Writes the fake imagenet-vgg-f.mat that `o` describes to `path` (MAT 5). Throws
/// std::runtime_error when matio fails or the average image's values do not fill its dims.
inline void write_fake_cnnf_mat(const std::string& path, const FakeCnnfMatOptions& o) {
  using namespace detail;
  const auto& k = kFakeCnnfConvs;
  const bool b16 = o.beta16;
  std::size_t average_size = o.average_image_dims.empty() ? 0 : 1;
  for (std::size_t d : o.average_image_dims) average_size *= d;
  mat_require(o.average_image.size() == average_size, "averageImage: the values do not fill its dims");

  std::vector<matvar_t*> ls;
  ls.push_back(fake_conv_layer(k[0], 0, o, {0, 0, 0, 0}, {4, 4}));
  ls.push_back(fake_simple_layer("relu1", "relu"));
  ls.push_back(fake_simple_layer("norm1", "lrn"));
  ls.push_back(fake_pool_layer("pool1", b16, o.pool1_pad));
  ls.push_back(fake_conv_layer(k[1], 1, o, {2, 2, 2, 2}, {1, 1}));
  ls.push_back(fake_simple_layer("relu2", "relu"));
  ls.push_back(fake_simple_layer("norm2", "lrn"));
  ls.push_back(fake_pool_layer("pool2", b16, {0, 0, 0, 0}));
  for (std::size_t i = 2; i < 5; ++i) {
    if (!(o.drop_conv3 && i == 2)) ls.push_back(fake_conv_layer(k[i], i, o, {1, 1, 1, 1}, {1, 1}));
    ls.push_back(fake_simple_layer("relu" + std::to_string(i + 1), "relu"));
  }
  ls.push_back(fake_pool_layer("pool5", b16, {0, 0, 0, 0}));
  ls.push_back(fake_conv_layer(k[5], 5, o, {0, 0, 0, 0}, {1, 1}));
  ls.push_back(fake_simple_layer("relu6", "relu"));
  ls.push_back(fake_conv_layer(k[6], 6, o, {0, 0, 0, 0}, {1, 1}));
  ls.push_back(fake_simple_layer("relu7", "relu"));
  ls.push_back(fake_conv_layer(FakeCnnfConv{"fc8", 1, 1, 4, 7}, 7, o, {0, 0, 0, 0}, {1, 1}));  // ImageNet's, ignored
  ls.push_back(fake_simple_layer("prob", "softmax"));
  matvar_t* layers = mat_make("layers", MAT_C_CELL, MAT_T_CELL, {1, ls.size()}, nullptr);
  for (std::size_t i = 0; i < ls.size(); ++i) Mat_VarSetCell(layers, static_cast<int>(i), ls[i]);

  matvar_t* norm = b16 ? mat_struct(nullptr, {"imageSize", "averageImage", "keepAspect", "border", "cropSize",
                                              "interpolation"})
                       : mat_struct("normalization", {"averageImage", "keepAspect", "border", "imageSize",
                                                       "interpolation"});
  if (average_size != 0) mat_set(norm, "averageImage", mat_singles(o.average_image, o.average_image_dims));
  mat_set(norm, "keepAspect", mat_doubles({1}));
  mat_set(norm, "border", mat_doubles({0, 0}));
  mat_set(norm, "imageSize", mat_doubles({63, 63, 3, 1}));
  mat_set(norm, "interpolation", mat_text("bilinear"));
  if (b16) mat_set(norm, "cropSize", mat_doubles({1, 1}));

  matvar_t* holder = norm;  // what goes next to `layers`: normalization (old) or meta (beta16+)
  if (b16) {
    holder = mat_struct("meta", {"inputs", "classes", "normalization"});
    mat_set(holder, "inputs", mat_text("input"));
    mat_set(holder, "classes", mat_text("imagenet"));
    mat_set(holder, "normalization", norm);
  }

  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  mat_require(m != nullptr, "Mat_CreateVer");
  if (o.wrap_in_net) {
    matvar_t* net = mat_struct("net", {"layers", b16 ? "meta" : "normalization"});
    mat_set(net, "layers", layers);
    mat_set(net, b16 ? "meta" : "normalization", holder);
    mat_require(Mat_VarWrite(m, net, MAT_COMPRESSION_ZLIB) == 0, "Mat_VarWrite net");
    Mat_VarFree(net);
  } else {
    mat_require(Mat_VarWrite(m, layers, MAT_COMPRESSION_ZLIB) == 0, "Mat_VarWrite layers");
    mat_require(Mat_VarWrite(m, holder, MAT_COMPRESSION_NONE) == 0, "Mat_VarWrite normalization");
    Mat_VarFree(layers);
    Mat_VarFree(holder);
  }
  mat_require(Mat_Close(m) == 0, "Mat_Close");
}

}  // namespace ssah::test
