// Loading MatConvNet's imagenet-vgg-f.mat into CnnF, from small files of both layouts (old and
// beta16+) that this test writes with matio: fake layers of CNN-F's structure whose values encode
// their MATLAB index, so the test can tell where each value lands.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <matio.h>

#include "ssah/model/cnnf.hpp"
#include "ssah/model/cnnf_matconvnet.hpp"

using namespace ssah;

namespace {

using Dims = std::vector<std::size_t>;

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "ssah-cnnf-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

matvar_t* make(const char* name, matio_classes cls, matio_types type, Dims dims, const void* data) {
  matvar_t* v = Mat_VarCreate(name, cls, type, static_cast<int>(dims.size()), dims.data(), const_cast<void*>(data), 0);
  REQUIRE(v != nullptr);
  return v;
}
// Char data as UTF-16 code units, as MATLAB writes them. (matio 1.5.23 declares a wrong element
// size for odd-length 8-bit char data inside compressed structs, which the strict reader refuses.)
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
  REQUIRE(s != nullptr);
  return s;
}
void set(matvar_t* s, const char* field, matvar_t* v) { REQUIRE(Mat_VarSetStructFieldByName(s, field, 0, v) == nullptr); }

// The tiny CnnF the fake files are made for: 3x63x63 input, conv channels 2, 3, 2, 2, 3, pool5 map
// 1x1, fc6 5, fc7 4.
CnnF<float>::Config tiny() {
  CnnF<float>::Config c;
  c.conv_channels = {2, 3, 2, 2, 3};
  c.fc6 = 5;
  c.fc7 = 4;
  c.feature = 3;
  return c;
}
struct ConvDims {
  const char* name;
  std::size_t kh, kw, cin, cout;
};
const std::vector<ConvDims> kConvs = {{"conv1", 11, 11, 3, 2}, {"conv2", 5, 5, 2, 3}, {"conv3", 3, 3, 3, 2},
                                      {"conv4", 3, 3, 2, 2},   {"conv5", 3, 3, 2, 3}, {"fc6", 1, 1, 3, 5},
                                      {"fc7", 1, 1, 5, 4}};

/// Value stored at MATLAB column-major index j of layer l's filters / biases.
float filter_value(std::size_t l, std::size_t j) { return float(l * 10000 + j); }
float bias_value(std::size_t l, std::size_t o) { return float(l * 10000 + 5000 + o); }

struct FakeOptions {
  bool beta16 = false;
  Dims average_image = {63, 63, 3};     ///< dims of normalization.averageImage (empty: none)
  std::vector<double> pool1_pad = {0, 1, 0, 1};
  bool drop_conv3 = false;
  bool wrap_in_net = false;  ///< one struct variable `net` instead of top-level variables
};

/// averageImage(y+1, x+1, k+1) = 0.5 * (column-major index), or per-channel 100 + 10 k.
std::vector<float> average_image(const Dims& d) {
  std::size_t n = 1;
  for (std::size_t e : d) n *= e;
  std::vector<float> v(n);
  for (std::size_t j = 0; j < n; ++j) v[j] = n == 3 ? 100.f + 10.f * float(j) : 0.5f * float(j);
  return v;
}

matvar_t* conv_layer(const ConvDims& c, std::size_t l, bool beta16, std::vector<double> pad, std::vector<double> stride) {
  std::vector<float> f(c.kh * c.kw * c.cin * c.cout), b(c.cout);
  for (std::size_t j = 0; j < f.size(); ++j) f[j] = filter_value(l, j);
  for (std::size_t o = 0; o < c.cout; ++o) b[o] = bias_value(l, o);
  Dims two{1, 2};
  matvar_t* weights = make(nullptr, MAT_C_CELL, MAT_T_CELL, two, nullptr);
  // MATLAB drops a trailing singleton: a bank with one output is H x W x Cin.
  Dims fd = {c.kh, c.kw, c.cin, c.cout};
  Mat_VarSetCell(weights, 0, singles(f, fd));
  // Old files store biases as a row, beta16+ files as a column.
  Mat_VarSetCell(weights, 1, singles(b, beta16 ? Dims{c.cout, 1} : Dims{1, c.cout}));
  matvar_t* s;
  if (beta16) {
    s = structure(nullptr, {"name", "type", "weights", "size", "pad", "stride", "precious", "dilate", "opts"});
    set(s, "size", doubles({double(c.kh), double(c.kw), double(c.cin), double(c.cout)}));
    set(s, "precious", doubles({0}));
    set(s, "dilate", doubles({1}));
    set(s, "opts", make(nullptr, MAT_C_CELL, MAT_T_CELL, {0, 0}, nullptr));
  } else {
    s = structure(nullptr, {"weights", "pad", "type", "name", "stride"});  // the order tnet.py indexes
  }
  set(s, "name", text(c.name));
  set(s, "type", text("conv"));
  set(s, "weights", weights);
  set(s, "pad", doubles(std::move(pad)));
  set(s, "stride", doubles(std::move(stride)));
  return s;
}

matvar_t* pool_layer(const char* name, bool beta16, std::vector<double> pad) {
  matvar_t* s = beta16 ? structure(nullptr, {"name", "type", "method", "pool", "stride", "pad", "precious", "opts"})
                       : structure(nullptr, {"name", "stride", "pad", "type", "method", "pool"});
  set(s, "name", text(name));
  set(s, "type", text("pool"));
  set(s, "method", text("max"));
  set(s, "pool", doubles({3, 3}));
  set(s, "stride", doubles({2, 2}));
  set(s, "pad", doubles(std::move(pad)));
  if (beta16) {
    set(s, "precious", doubles({0}));
    set(s, "opts", make(nullptr, MAT_C_CELL, MAT_T_CELL, {0, 0}, nullptr));
  }
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

void write_fake_vgg_f(const std::string& path, const FakeOptions& o) {
  std::vector<matvar_t*> ls;
  const bool b16 = o.beta16;
  ls.push_back(conv_layer(kConvs[0], 0, b16, {0, 0, 0, 0}, {4, 4}));
  ls.push_back(simple_layer("relu1", "relu"));
  ls.push_back(simple_layer("norm1", "lrn"));
  ls.push_back(pool_layer("pool1", b16, o.pool1_pad));
  ls.push_back(conv_layer(kConvs[1], 1, b16, {2, 2, 2, 2}, {1, 1}));
  ls.push_back(simple_layer("relu2", "relu"));
  ls.push_back(simple_layer("norm2", "lrn"));
  ls.push_back(pool_layer("pool2", b16, {0, 0, 0, 0}));
  for (std::size_t i = 2; i < 5; ++i) {
    if (!(o.drop_conv3 && i == 2)) ls.push_back(conv_layer(kConvs[i], i, b16, {1, 1, 1, 1}, {1, 1}));
    ls.push_back(simple_layer("relu" + std::to_string(i + 1), "relu"));
  }
  ls.push_back(pool_layer("pool5", b16, {0, 0, 0, 0}));
  ls.push_back(conv_layer(kConvs[5], 5, b16, {0, 0, 0, 0}, {1, 1}));
  ls.push_back(simple_layer("relu6", "relu"));
  ls.push_back(conv_layer(kConvs[6], 6, b16, {0, 0, 0, 0}, {1, 1}));
  ls.push_back(simple_layer("relu7", "relu"));
  ls.push_back(conv_layer(ConvDims{"fc8", 1, 1, 4, 7}, 7, b16, {0, 0, 0, 0}, {1, 1}));  // ImageNet's, ignored
  ls.push_back(simple_layer("prob", "softmax"));

  matvar_t* layers = make("layers", MAT_C_CELL, MAT_T_CELL, {1, ls.size()}, nullptr);
  for (std::size_t i = 0; i < ls.size(); ++i) Mat_VarSetCell(layers, static_cast<int>(i), ls[i]);

  matvar_t* norm = b16 ? structure(nullptr, {"imageSize", "averageImage", "keepAspect", "border", "cropSize",
                                             "interpolation"})
                       : structure("normalization", {"averageImage", "keepAspect", "border", "imageSize",
                                                      "interpolation"});
  if (!o.average_image.empty()) set(norm, "averageImage", singles(average_image(o.average_image), o.average_image));
  set(norm, "keepAspect", doubles({1}));
  set(norm, "border", doubles({0, 0}));
  set(norm, "imageSize", doubles({63, 63, 3, 1}));
  set(norm, "interpolation", text("bilinear"));
  if (b16) set(norm, "cropSize", doubles({1, 1}));

  matvar_t* holder = norm;  // what goes next to `layers`: normalization (old) or meta (beta16+)
  if (b16) {
    holder = structure("meta", {"inputs", "classes", "normalization"});
    set(holder, "inputs", text("input"));
    set(holder, "classes", text("imagenet"));
    set(holder, "normalization", norm);
  }

  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  REQUIRE(m != nullptr);
  if (o.wrap_in_net) {
    matvar_t* net = structure("net", {"layers", b16 ? "meta" : "normalization"});
    set(net, "layers", layers);
    set(net, b16 ? "meta" : "normalization", holder);
    REQUIRE(Mat_VarWrite(m, net, MAT_COMPRESSION_ZLIB) == 0);
    Mat_VarFree(net);
  } else {
    REQUIRE(Mat_VarWrite(m, layers, MAT_COMPRESSION_ZLIB) == 0);
    REQUIRE(Mat_VarWrite(m, holder, MAT_COMPRESSION_NONE) == 0);
    Mat_VarFree(layers);
    Mat_VarFree(holder);
  }
  REQUIRE(Mat_Close(m) == 0);
}

/// Every loaded weight sits where MatConvNet's H x W x Cin x Cout index says.
void check_weights(const CnnF<float>& net) {
  for (std::size_t l = 0; l < kConvs.size(); ++l) {
    const ConvDims& c = kConvs[l];
    const Var<float>& w = l < 5 ? net.conv_weight(l) : (l == 5 ? net.fc6_weight() : net.fc7_weight());
    const Var<float>& b = l < 5 ? net.conv_bias(l) : (l == 5 ? net.fc6_bias() : net.fc7_bias());
    REQUIRE(w.shape() == Shape{c.cout, c.cin, c.kh, c.kw});
    const auto wv = w.value().to_host(), bv = b.value().to_host();
    std::size_t wrong = 0;
    for (std::size_t o = 0; o < c.cout; ++o)
      for (std::size_t ci = 0; ci < c.cin; ++ci)
        for (std::size_t y = 0; y < c.kh; ++y)
          for (std::size_t x = 0; x < c.kw; ++x) {
            const std::size_t matlab = y + c.kh * (x + c.kw * (ci + c.cin * o));  // column-major (y, x, c, o)
            wrong += wv[((o * c.cin + ci) * c.kh + y) * c.kw + x] != filter_value(l, matlab);
          }
    INFO("layer ", c.name);
    CHECK(wrong == 0);
    for (std::size_t o = 0; o < c.cout; ++o) CHECK(bv[o] == bias_value(l, o));
  }
}

}  // namespace

TEST_CASE("load_matconvnet_cnnf: old layout (layers + normalization, full average image)") {
  TempDir dir;
  const std::string path = dir / "vgg-f-old.mat";
  write_fake_vgg_f(path, FakeOptions{});
  ParameterSet<float> params;
  CnnF<float> net(Shape{3, 63, 63}, tiny(), params);
  const MatConvNetLoadReport r = load_matconvnet_cnnf(net, path);
  CHECK(r.layout == MatConvNetLayout::Old);
  CHECK(r.loaded.size() == 14);
  CHECK(r.loaded.front() == "conv1.weight");
  CHECK(r.loaded.back() == "fc7.bias");
  check_weights(net);
  // fc8 is SSAH's new layer: untouched (still zero).
  for (float v : net.fc8().weight().value().to_host()) REQUIRE(v == 0.f);
  // averageImage(y+1, x+1, k+1) -> mean[k, y, x].
  CHECK(r.mean_kind == "image");
  const auto mean = net.mean_image().to_host();
  std::size_t wrong = 0;
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t y = 0; y < 63; ++y)
      for (std::size_t x = 0; x < 63; ++x)
        wrong += mean[(k * 63 + y) * 63 + x] != 0.5f * float(y + 63 * (x + 63 * k));
  CHECK(wrong == 0);
  // The loaded network runs.
  NoGradGuard no_grad;
  CHECK(net.forward(Var<float>(Tensor<float>::full(Shape{1, 3, 63, 63}, 1.f)), {}).feature.shape() == Shape{1, 3});
}

TEST_CASE("load_matconvnet_cnnf: beta16+ layout (layers + meta.normalization, per-channel average)") {
  TempDir dir;
  const std::string path = dir / "vgg-f-beta16.mat";
  FakeOptions o;
  o.beta16 = true;
  o.average_image = {1, 1, 3};
  write_fake_vgg_f(path, o);
  ParameterSet<float> params;
  CnnF<float> net(Shape{3, 63, 63}, tiny(), params);
  const MatConvNetLoadReport r = load_matconvnet_cnnf(net, path);
  CHECK(r.layout == MatConvNetLayout::Beta16);
  check_weights(net);
  CHECK(r.mean_kind == "per-channel");
  const auto mean = net.mean_image().to_host();
  CHECK(mean[0] == 100.f);
  CHECK(mean[63 * 63 + 5] == 110.f);
  CHECK(mean[3 * 63 * 63 - 1] == 120.f);
}

TEST_CASE("load_matconvnet_cnnf: a struct `net`, an average image of another size, no mean requested") {
  TempDir dir;
  const std::string path = dir / "vgg-f-net.mat";
  FakeOptions o;
  o.wrap_in_net = true;
  o.average_image = {2, 2, 3};  // values 0.5 * j: channel k holds j = 4k .. 4k + 3
  write_fake_vgg_f(path, o);
  ParameterSet<float> params;
  CnnF<float> net(Shape{3, 63, 63}, tiny(), params);
  const MatConvNetLoadReport r = load_matconvnet_cnnf(net, path);
  CHECK(r.layout == MatConvNetLayout::Old);
  check_weights(net);
  CHECK(r.mean_kind == "per-channel average of a 2x2 image");
  const auto mean = net.mean_image().to_host();
  CHECK(mean[0] == doctest::Approx(0.75));  // mean of 0, 0.5, 1, 1.5
  CHECK(mean[63 * 63] == doctest::Approx(2.75));
  CHECK(mean[2 * 63 * 63] == doctest::Approx(4.75));

  ParameterSet<float> p2;
  CnnF<float> plain(Shape{3, 63, 63}, tiny(), p2);
  MatConvNetLoadOptions no_mean;
  no_mean.load_mean_image = false;
  CHECK(load_matconvnet_cnnf(plain, path, no_mean).mean_kind == "none");
  for (float v : plain.mean_image().to_host()) REQUIRE(v == 0.f);
}

TEST_CASE("load_matconvnet_cnnf: errors name the file and the layer") {
  TempDir dir;
  ParameterSet<float> params;
  CnnF<float> net(Shape{3, 63, 63}, tiny(), params);
  SUBCASE("geometry that differs from CNN-F's") {
    FakeOptions o;
    o.pool1_pad = {0, 0, 0, 0};
    write_fake_vgg_f(dir / "pad.mat", o);
    CHECK_THROWS_WITH_AS(load_matconvnet_cnnf(net, dir / "pad.mat"),
                         doctest::Contains("layer 'pool1': pad [0 0 0 0] differs from CNN-F's [0 1 0 1]"), IoError);
  }
  SUBCASE("a missing layer") {
    FakeOptions o;
    o.drop_conv3 = true;
    write_fake_vgg_f(dir / "missing.mat", o);
    CHECK_THROWS_WITH_AS(load_matconvnet_cnnf(net, dir / "missing.mat"), doctest::Contains("no layer named 'conv3'"),
                         IoError);
  }
  SUBCASE("filters that do not fit the network") {
    write_fake_vgg_f(dir / "ok.mat", FakeOptions{});
    auto wider = tiny();
    wider.conv_channels[0] = 4;
    ParameterSet<float> p2;
    CnnF<float> other(Shape{3, 63, 63}, wider, p2);
    CHECK_THROWS_WITH_AS(load_matconvnet_cnnf(other, dir / "ok.mat"),
                         doctest::Contains("layer 'conv1': filters of size [11, 11, 3, 2]"), IoError);
  }
  SUBCASE("not a .mat file") {
    { std::FILE* f = std::fopen((dir / "junk.mat").c_str(), "wb"); REQUIRE(f); std::fputs("not a mat file", f); std::fclose(f); }
    CHECK_THROWS_AS(load_matconvnet_cnnf(net, dir / "junk.mat"), IoError);
  }
}

TEST_CASE("matconvnet_cnnf_config: the widths the file's filter banks imply") {
  TempDir dir;
  for (const bool beta16 : {false, true}) {
    INFO("beta16 ", beta16);
    FakeOptions o;
    o.beta16 = beta16;
    o.wrap_in_net = beta16;
    write_fake_vgg_f(dir / "cfg.mat", o);
    const CnnF<float>::Config c = matconvnet_cnnf_config<float>(dir / "cfg.mat");
    CHECK(c.conv_channels == std::array<std::size_t, 5>{{2, 3, 2, 2, 3}});
    CHECK(c.fc6 == 5);
    CHECK(c.fc7 == 4);
    CHECK(c.feature == 512);
    CHECK(matconvnet_cnnf_config<float>(dir / "cfg.mat", 7).feature == 7);
    // A network built from it takes the file's weights.
    auto built = c;
    built.feature = 3;
    ParameterSet<float> params;
    CnnF<float> net(Shape{3, 63, 63}, built, params);
    load_matconvnet_cnnf(net, dir / "cfg.mat");
    check_weights(net);
  }
  SUBCASE("a file that is not CNN-F") {
    FakeOptions o;
    o.drop_conv3 = true;
    write_fake_vgg_f(dir / "missing.mat", o);
    CHECK_THROWS_WITH_AS(matconvnet_cnnf_config<float>(dir / "missing.mat"),
                         doctest::Contains("no layer named 'conv3'"), IoError);
    { std::FILE* f = std::fopen((dir / "junk.mat").c_str(), "wb"); REQUIRE(f); std::fputs("not a mat file", f); std::fclose(f); }
    CHECK_THROWS_AS(matconvnet_cnnf_config<float>(dir / "junk.mat"), IoError);
  }
}
