// Test data for `ssah train --pretrained` (examples/cli/pretrained.cpp).
//
//   pretrained_test_data DIR   writes, with matio and ssah's .npy writer:
//     fake_vgg_f.mat   a tiny MatConvNet CNN-F in the old (pre-beta16) layout, for 3 x 63 x 63
//                      images: conv channels 2, 3, 2, 2, 3, fc6 5, fc7 4 (the layer structure of
//                      imagenet-vgg-f.mat; written by tests/support/fake_cnnf_mat.hpp, as the .mat
//                      loader's tests do) and an averageImage 63 x 63 x 3 of values around 120
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
#include <string>
#include <vector>

#include <matio.h>

#include "ssah/io/npy.hpp"

#include "fake_cnnf_mat.hpp"

namespace {

/// A fixed pseudo-random pattern in [-scale, scale].
float weight(std::size_t l, std::size_t j, float scale) {
  const std::uint32_t h = static_cast<std::uint32_t>((l + 1) * 2654435761u) ^ static_cast<std::uint32_t>(j * 40503u);
  return scale * (static_cast<float>(h % 2001) / 1000.f - 1.f);
}

/// The old layout with pseudo-random He-like weights: uniform in [-s, s] with s = sqrt(6 / fan-in)
/// (variance 2 / fan-in), so that activations keep their size through the layers and the codes
/// differ between items; biases 0.1 o; an averageImage 63 x 63 x 3 of values 110..132.
void write_fake_vgg_f(const std::string& path) {
  ssah::test::FakeCnnfMatOptions o;
  o.filter = [](const ssah::test::FakeCnnfConv& c, std::size_t l, std::size_t j) {
    return weight(l, j, std::sqrt(6.f / static_cast<float>(c.kh * c.kw * c.cin)));
  };
  o.bias = [](const ssah::test::FakeCnnfConv&, std::size_t, std::size_t j) { return 0.1f * static_cast<float>(j); };
  o.average_image_dims = {63, 63, 3};
  o.average_image.resize(63 * 63 * 3);
  for (std::size_t j = 0; j < o.average_image.size(); ++j) o.average_image[j] = 110.f + static_cast<float>(j % 23);
  ssah::test::write_fake_cnnf_mat(path, o);
}

void write_not_cnnf(const std::string& path) {
  using ssah::test::mat_require;
  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  mat_require(m != nullptr, "Mat_CreateVer");
  std::vector<double> v = {1, 2, 3, 4};
  matvar_t* x = ssah::test::mat_make("weights", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 2}, v.data());
  mat_require(Mat_VarWrite(m, x, MAT_COMPRESSION_NONE) == 0, "Mat_VarWrite");
  Mat_VarFree(x);
  mat_require(Mat_Close(m) == 0, "Mat_Close");
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
