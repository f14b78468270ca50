// CnnF: the CNN-F geometry (224 -> ... -> 6x6 before fc6, 64 -> ... -> 1x1), mean-image
// subtraction, exact gradients on a tiny configuration, and a forward pass on real 64x64 photos.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "backbone_gradcheck.hpp"
#include "gradcheck.hpp"
#include "ssah/init.hpp"
#include "ssah/io/npy.hpp"
#include "ssah/model/cnnf.hpp"

using namespace ssah;

namespace {

template <class T>
typename CnnF<T>::Config tiny_config() {
  typename CnnF<T>::Config c;
  c.conv_channels = {2, 3, 2, 2, 3};
  c.fc6 = 5;
  c.fc7 = 4;
  c.feature = 3;
  return c;
}

/// Xavier-uniform weights and small positive biases (keeps ReLUs alive in a deep random net).
template <class T>
void init_for_test(ParameterSet<T>& params, std::uint64_t seed) {
  for (const auto& e : params.entries()) {
    Tensor<T> v = e.var.value();
    if (e.shape.rank() >= 2)
      init::xavier_uniform(v, seed, init::stream_of(e.name));
    else
      init::uniform(v, T(0.0), T(0.1), seed, init::stream_of(e.name));
  }
}

std::string data_dir() {
  if (const char* env = std::getenv("SSAH_DATA_DIR")) return env;
  return SSAH_TEST_DATA_DIR;
}

}  // namespace

TEST_CASE("CnnF: full CNN-F parameter shapes and the 224 -> 6x6 map before fc6") {
  // The layout is computed without allocating the 58M parameters.
  const auto l = CnnF<float>::layout(Shape{3, 224, 224}, CnnF<float>::Config::full());
  CHECK(std::string(CnnF<float>::kind) == "cnnf");
  CHECK(l.fc6_input == Shape{256, 6, 6});
  std::vector<std::string> names;
  std::size_t total = 0;
  for (const auto& p : l.params) {
    names.push_back(p.name);
    total += p.shape.size();
  }
  CHECK(names == std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "conv3.weight",
                                          "conv3.bias", "conv4.weight", "conv4.bias", "conv5.weight", "conv5.bias",
                                          "fc6.weight", "fc6.bias", "fc7.weight", "fc7.bias", "fc8.weight",
                                          "fc8.bias"});
  CHECK(l.params[0].shape == Shape{64, 3, 11, 11});
  CHECK(l.params[2].shape == Shape{256, 64, 5, 5});
  CHECK(l.params[8].shape == Shape{256, 256, 3, 3});
  CHECK(l.params[10].shape == Shape{4096, 256, 6, 6});
  CHECK(l.params[12].shape == Shape{4096, 4096, 1, 1});
  CHECK(l.params[14].shape == Shape{512, 4096});
  // conv1 23,296 + conv2 409,856 + conv3-5 3 x 590,080 + fc6 37,752,832 + fc7 16,781,312 = 56,737,536
  // (CNN-F up to fc7), plus the new fc8 4096 -> 512.
  CHECK(total == 56737536 + 512 * 4096 + 512);
  // The network registers exactly this layout (checked on a narrower configuration).
  ParameterSet<float> params;
  CnnF<float> net(Shape{3, 224, 224}, CnnF<float>::Config::scaled(1.0 / 16), params);
  const auto ls = CnnF<float>::layout(Shape{3, 224, 224}, CnnF<float>::Config::scaled(1.0 / 16));
  REQUIRE(params.entries().size() == ls.params.size());
  for (std::size_t i = 0; i < ls.params.size(); ++i) {
    CHECK(params.entries()[i].name == ls.params[i].name);
    CHECK(params.entries()[i].shape == ls.params[i].shape);
  }
  CHECK(net.fc6_input_shape() == Shape{16, 6, 6});
  CHECK(net.feature_dim() == 512);
}

TEST_CASE("CnnF: the small configuration on 64x64 photos reaches a 1x1 map before fc6") {
  const auto small = CnnF<float>::Config::small();
  CHECK(small.conv_channels == std::array<std::size_t, 5>{16, 64, 64, 64, 64});
  CHECK(small.fc6 == 1024);
  CHECK(small.fc7 == 1024);
  CHECK(small.feature == 512);
  ParameterSet<float> params;
  CnnF<float> net(Shape{3, 64, 64}, small, params);
  CHECK(net.fc6_input_shape() == Shape{64, 1, 1});
  ParameterSet<float> p2;
  CHECK_THROWS_AS(CnnF<float>(Shape{3, 62, 62}, small, p2), ShapeError);  // pool5 no longer fits
  ParameterSet<float> p3;
  CHECK_THROWS_AS(CnnF<float>(Shape{64, 64}, small, p3), ShapeError);
}

TEST_CASE("CnnF: forward shapes on 224x224 (reduced channels) and on 64x64") {
  NoGradGuard no_grad;
  auto config = tiny_config<float>();
  ParameterSet<float> params;
  CnnF<float> net(Shape{3, 224, 224}, config, params);
  CHECK(net.fc6_input_shape() == Shape{3, 6, 6});
  init_for_test(params, 1);
  TrunkOutput<float> out = net.forward(Var<float>(Tensor<float>::full(Shape{1, 3, 224, 224}, 0.5f)), {});
  CHECK(out.feature.shape() == Shape{1, 3});
  ParameterSet<float> p64;
  CnnF<float> small(Shape{3, 64, 64}, config, p64);
  init_for_test(p64, 2);
  // A flattened [N, 3*64*64] batch is accepted too.
  out = small.forward(Var<float>(Tensor<float>::full(Shape{2, 3 * 64 * 64}, 0.5f)), {});
  CHECK(out.feature.shape() == Shape{2, 3});
  CHECK(out.head_input.node() == out.feature.node());
  CHECK_THROWS_AS(small.forward(Var<float>(Tensor<float>::full(Shape{2, 3, 64, 63}, 0.5f)), {}), ShapeError);
}

TEST_CASE("CnnF: the mean image is subtracted before conv1 (whole image or one value per channel)") {
  NoGradGuard no_grad;
  ParameterSet<double> params;
  CnnF<double> net(Shape{3, 63, 63}, tiny_config<double>(), params);
  init_for_test(params, 3);
  const Tensor<double> x = test::random_tensor(Shape{2, 3, 63, 63}, 4, 0.0, 255.0);
  const Tensor<double> mean = test::random_tensor(Shape{3, 63, 63}, 5, 100.0, 150.0);
  // x - mean computed on the host, fed with no mean set.
  std::vector<double> xv = x.to_host();
  const std::vector<double> mv = mean.to_host();
  for (std::size_t i = 0; i < xv.size(); ++i) xv[i] -= mv[i % mv.size()];
  const auto expected = net.forward(Var<double>(Tensor<double>::from_host(x.shape(), xv)), {}).feature.value().to_host();
  net.set_mean_image(mean);
  CHECK(net.mean_image().to_host() == mv);
  const auto got = net.forward(Var<double>(x), {}).feature.value().to_host();
  REQUIRE(got.size() == expected.size());
  double scale = 0;
  for (double v : expected) scale = std::max(scale, std::abs(v));
  CHECK(scale > 0);  // the check below must not pass on all-zero features
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  // Per-channel means broadcast over the plane.
  net.set_mean_image(Tensor<double>::from_host(Shape{3}, {1, 2, 3}));
  const auto m = net.mean_image().to_host();
  CHECK(m[0] == 1);
  CHECK(m[63 * 63] == 2);
  CHECK(m[3 * 63 * 63 - 1] == 3);
  CHECK_THROWS_AS(net.set_mean_image(Tensor<double>::zeros(Shape{4})), ShapeError);
}

TEST_CASE("CnnF::copy_pretrained_layers: conv1..fc7 and the mean image copied, fc8 kept") {
  NoGradGuard no_grad;
  ParameterSet<double> pa, pb;
  CnnF<double> a(Shape{3, 63, 63}, tiny_config<double>(), pa), b(Shape{3, 63, 63}, tiny_config<double>(), pb);
  init_for_test(pa, 1);
  init_for_test(pb, 2);
  a.set_mean_image(test::random_tensor(Shape{3, 63, 63}, 5, 100.0, 150.0));
  const auto fc8_before = b.fc8().weight().value().to_host();
  b.copy_pretrained_layers(a);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(b.conv_weight(i).value().to_host() == a.conv_weight(i).value().to_host());
    CHECK(b.conv_bias(i).value().to_host() == a.conv_bias(i).value().to_host());
  }
  CHECK(b.fc6_weight().value().to_host() == a.fc6_weight().value().to_host());
  CHECK(b.fc7_bias().value().to_host() == a.fc7_bias().value().to_host());
  CHECK(b.mean_image().to_host() == a.mean_image().to_host());
  CHECK(b.fc8().weight().value().to_host() == fc8_before);
  CHECK(b.fc8().weight().value().to_host() != a.fc8().weight().value().to_host());
  // The copy is of values: changing the source afterwards leaves b alone.
  Tensor<double> w = a.conv_weight(0).value();
  w.fill(7.0);
  CHECK(b.conv_weight(0).value().to_host() != w.to_host());
  ParameterSet<double> pc;
  CnnF<double> other(Shape{3, 64, 64}, tiny_config<double>(), pc);
  CHECK_THROWS_AS(other.copy_pretrained_layers(a), ShapeError);
}

TEST_CASE("gradient check: CnnF parameters and input on a tiny configuration (3x63x63)") {
  ParameterSet<double> params;
  CnnF<double> net(Shape{3, 63, 63}, tiny_config<double>(), params);
  init_for_test(params, 6);
  net.set_mean_image(test::random_tensor(Shape{3, 63, 63}, 7, 0.2, 0.3));
  const Tensor<double> x = test::random_tensor(Shape{2, 3, 63, 63}, 8, 0.0, 1.0);
  const auto r = test::check_parameter_gradients(net, params, x, 5);
  INFO("worst parameter gradient mismatch at ", r.where);
  CHECK(r.worst < 1e-6);
  SSAH_CHECK_GRADIENTS(1e-6, [&](const std::vector<Var<double>>& v) { return net.forward(v[0], {}).feature; },
                       {test::random_tensor(Shape{1, 3, 63, 63}, 9, 0.0, 1.0)}, {}, 1e-6, 40);
}

TEST_CASE("CnnF: the small configuration runs on real 64x64 MIRFLICKR photos") {
  const std::string path = data_dir() + "/mirflickr25k/subset730/img_rgb64_u8.npy";
  if (!std::ifstream(path)) {
    MESSAGE("skipped: ", path, " not found (set SSAH_DATA_DIR to the data sets' root)");
    return;
  }
  const io::NpyArray photos = io::read_npy(path);
  REQUIRE(photos.shape == std::vector<std::size_t>{730, 64, 64, 3});
  const std::size_t n = 8, plane = 64 * 64;
  const std::vector<float> all = photos.as<float>();
  std::vector<float> nchw(n * 3 * plane);  // HWC -> CHW
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < plane; ++p)
      for (std::size_t c = 0; c < 3; ++c) nchw[(i * 3 + c) * plane + p] = all[(i * plane + p) * 3 + c];
  ParameterSet<float> params;
  CnnF<float> net(Shape{3, 64, 64}, CnnF<float>::Config::small(), params);
  init_for_test(params, 10);
  net.set_mean_image(Tensor<float>::from_host(Shape{3}, {120.f, 115.f, 105.f}));
  Var<float> x(Tensor<float>::from_host(Shape{n, 3, 64, 64}, nchw));
  TrunkOutput<float> out = net.forward(x, {});
  REQUIRE(out.feature.shape() == Shape{n, 512});
  const auto f = out.feature.value().to_host();
  std::size_t active = 0;
  for (float v : f) {
    CHECK(std::isfinite(v));
    active += v > 0.f;
  }
  // ReLU features of a random network: a sizeable fraction is active, and photos differ.
  CHECK(active > f.size() / 10);
  double diff = 0;
  for (std::size_t j = 0; j < 512; ++j) diff += std::abs(f[j] - f[512 + j]);
  CHECK(diff > 0.0);
  // One training-style backward pass reaches conv1.
  params.zero_grad();
  out.feature.backward(Tensor<float>::full(out.feature.shape(), 1.f));
  double g = 0;
  for (float v : net.conv_weight(0).grad().to_host()) g += std::abs(v);
  CHECK(g > 0.0);
}
