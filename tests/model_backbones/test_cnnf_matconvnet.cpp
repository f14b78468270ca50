// Loading MatConvNet's imagenet-vgg-f.mat into CnnF, from small files of both layouts (old and
// beta16+) that this test writes with matio (tests/support/fake_cnnf_mat.hpp): fake layers of
// CNN-F's structure whose values encode their MATLAB index, so the test can tell where each value
// lands.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ssah/model/cnnf.hpp"
#include "ssah/matconvnet.hpp"

#include "fake_cnnf_mat.hpp"

using namespace ssah;

namespace {

using Dims = std::vector<std::size_t>;
using ssah::test::FakeCnnfConv;
using ssah::test::FakeCnnfMatOptions;
using ssah::test::kFakeCnnfConvs;
using ssah::test::write_fake_cnnf_mat;

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

/// Value stored at MATLAB column-major index j of layer l's filters / biases.
float filter_value(std::size_t l, std::size_t j) { return float(l * 10000 + j); }
float bias_value(std::size_t l, std::size_t o) { return float(l * 10000 + 5000 + o); }

/// averageImage(y+1, x+1, k+1) = 0.5 * (column-major index), or per-channel 100 + 10 k.
std::vector<float> average_image(const Dims& d) {
  std::size_t n = 1;
  for (std::size_t e : d) n *= e;
  std::vector<float> v(n);
  for (std::size_t j = 0; j < n; ++j) v[j] = n == 3 ? 100.f + 10.f * float(j) : 0.5f * float(j);
  return v;
}

/// A fake file (old layout unless changed) whose values encode their MATLAB index, with an
/// averageImage of dims `average` (values from average_image; empty: none).
FakeCnnfMatOptions indexed(Dims average = {63, 63, 3}) {
  FakeCnnfMatOptions o;
  o.filter = [](const FakeCnnfConv&, std::size_t l, std::size_t j) { return filter_value(l, j); };
  o.bias = [](const FakeCnnfConv&, std::size_t l, std::size_t j) { return bias_value(l, j); };
  if (!average.empty()) o.average_image = average_image(average);
  o.average_image_dims = std::move(average);
  return o;
}

/// Every loaded weight sits where MatConvNet's H x W x Cin x Cout index says.
void check_weights(const CnnF<float>& net) {
  for (std::size_t l = 0; l < kFakeCnnfConvs.size(); ++l) {
    const FakeCnnfConv& c = kFakeCnnfConvs[l];
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
  write_fake_cnnf_mat(path, indexed());
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
  FakeCnnfMatOptions o = indexed({1, 1, 3});
  o.beta16 = true;
  write_fake_cnnf_mat(path, o);
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
  FakeCnnfMatOptions o = indexed({2, 2, 3});  // values 0.5 * j: channel k holds j = 4k .. 4k + 3
  o.wrap_in_net = true;
  write_fake_cnnf_mat(path, o);
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
    FakeCnnfMatOptions o = indexed();
    o.pool1_pad = {0, 0, 0, 0};
    write_fake_cnnf_mat(dir / "pad.mat", o);
    CHECK_THROWS_WITH_AS(load_matconvnet_cnnf(net, dir / "pad.mat"),
                         doctest::Contains("layer 'pool1': pad [0 0 0 0] differs from CNN-F's [0 1 0 1]"), IoError);
  }
  SUBCASE("a missing layer") {
    FakeCnnfMatOptions o = indexed();
    o.drop_conv3 = true;
    write_fake_cnnf_mat(dir / "missing.mat", o);
    CHECK_THROWS_WITH_AS(load_matconvnet_cnnf(net, dir / "missing.mat"), doctest::Contains("no layer named 'conv3'"),
                         IoError);
  }
  SUBCASE("filters that do not fit the network") {
    write_fake_cnnf_mat(dir / "ok.mat", indexed());
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
    FakeCnnfMatOptions o = indexed();
    o.beta16 = beta16;
    o.wrap_in_net = beta16;
    write_fake_cnnf_mat(dir / "cfg.mat", o);
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
    FakeCnnfMatOptions o = indexed();
    o.drop_conv3 = true;
    write_fake_cnnf_mat(dir / "missing.mat", o);
    CHECK_THROWS_WITH_AS(matconvnet_cnnf_config<float>(dir / "missing.mat"),
                         doctest::Contains("no layer named 'conv3'"), IoError);
    { std::FILE* f = std::fopen((dir / "junk.mat").c_str(), "wb"); REQUIRE(f); std::fputs("not a mat file", f); std::fclose(f); }
    CHECK_THROWS_AS(matconvnet_cnnf_config<float>(dir / "junk.mat"), IoError);
  }
}
