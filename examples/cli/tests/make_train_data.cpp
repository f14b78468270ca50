// Writes the tiny data set of the `ssah train` / `ssah encode` tests into the folder argv[1]:
//   img.npy (float32 [240, 32], label-driven plus noise), txt.npy (uint8 0/1 [240, 64]),
//   labels.npy (uint8 [240, 6]), img_query.npy / txt_query.npy (rows 0..23, the query rows of
//   split/), split/{query,db,train}_idx.npy (int64 and int32), and bad inputs: not_npy.npy,
//   img_f16.npy (float16: unsupported), img_rows.npy (239 rows), img_nan.npy, labels_2.npy
//   (a label 2), split_empty/ (no queries), split_range/ (index 240 of 240 items),
//   split_float/ (float32 query indices), split_u64/ (uint64 query indices: a dtype .npy reading refuses).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "ssah/io/atomic_file.hpp"
#include "ssah/io/npy.hpp"

namespace {

constexpr std::size_t items = 240, dim = 32, vocab = 64, classes = 6, queries = 24;

struct Lcg {
  std::uint64_t s = 12345;
  double uniform() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  }
};

template <class T>
std::vector<T> rows(const std::vector<T>& v, std::size_t width, std::size_t b, std::size_t e) {
  return std::vector<T>(v.begin() + static_cast<std::ptrdiff_t>(b * width),
                        v.begin() + static_cast<std::ptrdiff_t>(e * width));
}

void write_split(const std::string& dir, const std::vector<std::int64_t>& q, const std::vector<std::int32_t>& d,
                 const std::vector<std::int64_t>& t) {
  std::filesystem::create_directories(dir);
  ssah::io::write_npy(dir + "/query_idx.npy", q, {q.size()});
  ssah::io::write_npy(dir + "/db_idx.npy", d, {d.size()});
  ssah::io::write_npy(dir + "/train_idx.npy", t, {t.size()});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  std::filesystem::create_directories(out);
  Lcg rng;
  std::vector<std::uint8_t> labels(items * classes, 0);
  std::vector<float> img(items * dim);
  std::vector<std::uint8_t> txt(items * vocab, 0);
  for (std::size_t i = 0; i < items; ++i) {
    labels[i * classes + i % classes] = 1;
    if (rng.uniform() < 0.3) labels[i * classes + static_cast<std::size_t>(rng.uniform() * classes) % classes] = 1;
    for (std::size_t j = 0; j < dim; ++j) {
      double v = 0.5 * (rng.uniform() - 0.5) + 3.0;  // an offset, so that standardisation matters
      for (std::size_t c = 0; c < classes; ++c)
        if (labels[i * classes + c] && j % classes == c) v += 1.0;
      img[i * dim + j] = static_cast<float>(v);
    }
    for (std::size_t w = 0; w < vocab; ++w) {
      const std::size_t c = w % classes;
      txt[i * vocab + w] = (labels[i * classes + c] && rng.uniform() < 0.5) || rng.uniform() < 0.05 ? 1 : 0;
    }
  }
  using ssah::io::write_npy;
  write_npy(out + "/img.npy", img, {items, dim});
  write_npy(out + "/txt.npy", txt, {items, vocab});
  write_npy(out + "/labels.npy", labels, {items, classes});
  write_npy(out + "/img_query.npy", rows(img, dim, 0, queries), {queries, dim});
  write_npy(out + "/txt_query.npy", rows(txt, vocab, 0, queries), {queries, vocab});

  std::vector<std::int64_t> q, t;
  std::vector<std::int32_t> d;
  for (std::size_t i = 0; i < items; ++i) {
    if (i < queries)
      q.push_back(static_cast<std::int64_t>(i));
    else {
      d.push_back(static_cast<std::int32_t>(i));
      t.push_back(static_cast<std::int64_t>(i));
    }
  }
  write_split(out + "/split", q, d, t);
  write_split(out + "/split_empty", {}, d, t);
  std::vector<std::int32_t> d_range = d;
  d_range.back() = static_cast<std::int32_t>(items);
  write_split(out + "/split_range", q, d_range, t);
  write_split(out + "/split_float", q, d, t);
  ssah::io::write_npy(out + "/split_float/query_idx.npy", std::vector<float>(q.begin(), q.end()), {q.size()});

  // Bad inputs.
  ssah::io::write_file_atomic(out + "/not_npy.npy", std::string("this is a text file, not an array\n"));
  // A valid .npy file of a dtype ssah does not read ('<f2', '<u8'), declaring `shape` and holding `data`.
  auto write_unread_dtype = [](const std::string& path, const std::string& descr, const std::string& shape,
                               const std::string& data) {
    std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::string file = "\x93NUMPY";
    file += '\x01';
    file += '\x00';
    file += static_cast<char>(h.size() & 0xff);
    file += static_cast<char>(h.size() >> 8);
    file += h;
    file += data;
    ssah::io::write_file_atomic(path, file);
  };
  write_unread_dtype(out + "/img_f16.npy", "<f2", "(2, 2)", std::string(8, '\0'));
  // uint64 query indices (numpy's default for np.arange on some platforms): refused like float32.
  write_split(out + "/split_u64", q, d, t);
  write_unread_dtype(out + "/split_u64/query_idx.npy", "<u8", "(" + std::to_string(q.size()) + ",)",
                     std::string(q.size() * 8, '\0'));
  write_npy(out + "/img_rows.npy", rows(img, dim, 0, items - 1), {items - 1, dim});
  std::vector<float> nan_img = img;
  nan_img[3 * dim + 2] = std::numeric_limits<float>::quiet_NaN();
  write_npy(out + "/img_nan.npy", nan_img, {items, dim});
  std::vector<std::uint8_t> bad_labels = labels;
  bad_labels[5 * classes + 1] = 2;
  write_npy(out + "/labels_2.npy", bad_labels, {items, classes});
  std::printf("test data written to %s\n", out.c_str());
  return 0;
}
