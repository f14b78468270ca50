// Test data and checks for `ssah train --mat` (examples/cli/mat_input.cpp).
//
//   mat_test_data write DIR   writes, with matio, small .mat files of N = 60 items:
//     dcmh_v73.mat, dcmh_v5.mat   the DCMH MIRFLICKR layout: images 8 x 8 x 3 x 60 uint8 (H x W x C x N),
//                                 YAll 60 x 64 double 0/1 tags, LAll 60 x 4 double 0/1 labels; v7.3
//                                 (HDF5) and v5 (compressed)
//     nus_v5.mat                  the NUS-WIDE / MS-COCO names: IAll 60 x 8 x 8 x 3 uint8 (N x H x W x C),
//                                 YAll, LAll
//     custom.mat (v5)             feat 16 x 60 single (D x N), gray 8 x 8 x 60 double (H x W x N),
//                                 bow 60 x 64 logical, lab 4 x 60 double (classes x N), and bad
//                                 variables: lab_short 59 x 4, lab_2 (a label 2), feat_nan (a NaN),
//                                 square 60 x 60, cellvar (a cell array)
//   mat_test_data check DIR   reads those files with read_mat_input and checks every element
//     against the values written (so that each orientation rule is tested for where each value
//     lands, not only for the shapes), and the errors of ambiguous or mismatched shapes; twice:
//     modalities read in one slab, then in slabs of one item (MatInputOptions::slab_bytes).
//   mat_test_data images N FILE   writes FILE, the DCMH layout (v7.3) with N pseudo-random
//     224 x 224 x 3 images, for bench/image_train_memory.sh.
//   mat_test_data wiki DATA_DIR   reads the real Wikipedia raw_features.mat (MATLAB v5) under DATA_DIR
//     (or $SSAH_DATA_DIR when set) and compares I_tr with npy/train_img_sift128_f32.npy; prints
//     "SKIPPED" when it is absent.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <matio.h>

#include "../mat_input.hpp"
#include "ssah/io/npy.hpp"

namespace {

constexpr std::size_t N = 60, H = 8, W = 8, C = 3, V = 64, L = 4, D = 16;

// The values, as functions of MATLAB's (0-based) subscripts.
std::uint8_t pixel(std::size_t h, std::size_t w, std::size_t c, std::size_t n) {
  return static_cast<std::uint8_t>((h * 7 + w * 3 + c * 11 + n * 5) % 251);
}
double label(std::size_t n, std::size_t l) { return (n % L == l || (n * 7 + l) % 5 == 0) ? 1.0 : 0.0; }
double tag(std::size_t n, std::size_t v) { return (label(n, v % L) > 0 && (n + v) % 3 != 0) || (n * v) % 17 == 1 ? 1 : 0; }
float feature(std::size_t d, std::size_t n) { return static_cast<float>(d) * 0.25f - static_cast<float>(n % 9) + 0.5f; }
double gray(std::size_t h, std::size_t w, std::size_t n) { return static_cast<double>(h * 10 + w) + 0.5 * static_cast<double>(n); }

int failures = 0;
// MatInputOptions::slab_bytes of the reads under test: the default, then one item a slab.
std::size_t slab_bytes = ssah::cli::MatInputOptions{}.slab_bytes;
#define EXPECT(cond, ...)                                          \
  do {                                                             \
    if (!(cond)) {                                                 \
      ++failures;                                                  \
      std::fprintf(stderr, "FAILED (line %d): %s: ", __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                           \
      std::fprintf(stderr, "\n");                                  \
    }                                                              \
  } while (0)

/// A column-major buffer filled by `f` over MATLAB's subscripts of `dims`.
template <class T>
std::vector<T> column_major(const std::vector<std::size_t>& dims, const std::function<T(const std::vector<std::size_t>&)>& f) {
  std::size_t n = 1;
  for (std::size_t e : dims) n *= e;
  std::vector<T> out(n);
  std::vector<std::size_t> sub(dims.size(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = f(sub);
    for (std::size_t k = 0; k < dims.size(); ++k) {  // the first subscript varies fastest
      if (++sub[k] < dims[k]) break;
      sub[k] = 0;
    }
  }
  return out;
}

void put(mat_t* m, const char* name, matio_classes cls, matio_types type, std::vector<std::size_t> dims, const void* data,
         int opt = 0) {
  matvar_t* v = Mat_VarCreate(name, cls, type, static_cast<int>(dims.size()), dims.data(), const_cast<void*>(data), opt);
  if (v == nullptr || Mat_VarWrite(m, v, MAT_COMPRESSION_ZLIB) != 0) {
    std::fprintf(stderr, "cannot write variable %s\n", name);
    std::exit(1);
  }
  Mat_VarFree(v);
}

using Sub = std::vector<std::size_t>;

void put_dcmh(mat_t* m, const char* image_name, bool items_first_hwc) {
  if (items_first_hwc) {
    const auto img = column_major<std::uint8_t>({N, H, W, C}, [](const Sub& s) { return pixel(s[1], s[2], s[3], s[0]); });
    put(m, image_name, MAT_C_UINT8, MAT_T_UINT8, {N, H, W, C}, img.data());
  } else {
    const auto img = column_major<std::uint8_t>({H, W, C, N}, [](const Sub& s) { return pixel(s[0], s[1], s[2], s[3]); });
    put(m, image_name, MAT_C_UINT8, MAT_T_UINT8, {H, W, C, N}, img.data());
  }
  const auto y = column_major<double>({N, V}, [](const Sub& s) { return tag(s[0], s[1]); });
  put(m, "YAll", MAT_C_DOUBLE, MAT_T_DOUBLE, {N, V}, y.data());
  const auto l = column_major<double>({N, L}, [](const Sub& s) { return label(s[0], s[1]); });
  put(m, "LAll", MAT_C_DOUBLE, MAT_T_DOUBLE, {N, L}, l.data());
}

mat_t* create(const std::string& path, mat_ft version) {
  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, version);
  if (m == nullptr) {
    std::fprintf(stderr, "cannot create %s\n", path.c_str());
    std::exit(1);
  }
  return m;
}

/// `file`: the DCMH MIRFLICKR layout in MATLAB v7.3 (compressed, as MATLAB writes it) with `n`
/// pseudo-random 224 x 224 x 3 uint8 images (H x W x C x N), 0/1 tags N x 64 and labels N x 8,
/// for measuring the memory of reading large images (bench/image_train_memory.sh).
int write_images(std::size_t n, const std::string& file) {
  constexpr std::size_t side = 224, tags = 64, classes = 8;
  mat_t* m = create(file, MAT_FT_MAT73);
  {
    std::vector<std::uint8_t> img(side * side * 3 * n);
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (std::uint8_t& p : img) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      p = static_cast<std::uint8_t>(x >> 24);
    }
    put(m, "images", MAT_C_UINT8, MAT_T_UINT8, {side, side, 3, n}, img.data());
  }
  std::vector<double> y(n * tags), l(n * classes);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = (i * 2654435761u >> 7) % 5 == 0 ? 1 : 0;
  for (std::size_t i = 0; i < l.size(); ++i) l[i] = (i * 40503u >> 5) % 3 == 0 ? 1 : 0;
  put(m, "YAll", MAT_C_DOUBLE, MAT_T_DOUBLE, {n, tags}, y.data());
  put(m, "LAll", MAT_C_DOUBLE, MAT_T_DOUBLE, {n, classes}, l.data());
  Mat_Close(m);
  return 0;
}

int write(const std::string& dir) {
  std::filesystem::create_directories(dir);
  mat_t* m = create(dir + "/dcmh_v73.mat", MAT_FT_MAT73);
  put_dcmh(m, "images", false);
  Mat_Close(m);
  m = create(dir + "/dcmh_v5.mat", MAT_FT_MAT5);
  put_dcmh(m, "images", false);
  Mat_Close(m);
  m = create(dir + "/nus_v5.mat", MAT_FT_MAT5);
  put_dcmh(m, "IAll", true);
  Mat_Close(m);

  m = create(dir + "/custom.mat", MAT_FT_MAT5);
  const auto feat = column_major<float>({D, N}, [](const Sub& s) { return feature(s[0], s[1]); });
  put(m, "feat", MAT_C_SINGLE, MAT_T_SINGLE, {D, N}, feat.data());
  const auto g = column_major<double>({H, W, N}, [](const Sub& s) { return gray(s[0], s[1], s[2]); });
  put(m, "gray", MAT_C_DOUBLE, MAT_T_DOUBLE, {H, W, N}, g.data());
  const auto bow = column_major<std::uint8_t>({N, V}, [](const Sub& s) { return static_cast<std::uint8_t>(tag(s[0], s[1])); });
  put(m, "bow", MAT_C_UINT8, MAT_T_UINT8, {N, V}, bow.data(), MAT_F_LOGICAL);
  const auto lab = column_major<double>({L, N}, [](const Sub& s) { return label(s[1], s[0]); });
  put(m, "lab", MAT_C_DOUBLE, MAT_T_DOUBLE, {L, N}, lab.data());
  const auto short_lab = column_major<double>({N - 1, L}, [](const Sub& s) { return label(s[0], s[1]); });
  put(m, "lab_short", MAT_C_DOUBLE, MAT_T_DOUBLE, {N - 1, L}, short_lab.data());
  const auto lab2 = column_major<double>({N, L}, [](const Sub& s) { return s[0] == 5 && s[1] == 1 ? 2.0 : label(s[0], s[1]); });
  put(m, "lab_2", MAT_C_DOUBLE, MAT_T_DOUBLE, {N, L}, lab2.data());
  const auto fnan = column_major<double>({N, D}, [](const Sub& s) {
    return s[0] == 3 && s[1] == 2 ? std::numeric_limits<double>::quiet_NaN() : feature(s[1], s[0]);
  });
  put(m, "feat_nan", MAT_C_DOUBLE, MAT_T_DOUBLE, {N, D}, fnan.data());
  const auto sq = column_major<double>({N, N}, [](const Sub& s) { return static_cast<double>(s[0] + s[1]); });
  put(m, "square", MAT_C_DOUBLE, MAT_T_DOUBLE, {N, N}, sq.data());
  // Five dimensions, the items first: no modality has more than four.
  const auto five = column_major<std::uint8_t>({N, 2, 2, 3, 2}, [](const Sub& s) { return std::uint8_t(s[0] % 7); });
  put(m, "five", MAT_C_UINT8, MAT_T_UINT8, {N, 2, 2, 3, 2}, five.data());
  {
    std::size_t dims[2] = {1, 1};
    matvar_t* cells[1];
    const double one = 1;
    cells[0] = Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, const_cast<double*>(&one), 0);
    matvar_t* cell = Mat_VarCreate("cellvar", MAT_C_CELL, MAT_T_CELL, 2, dims, cells, 0);
    if (cell == nullptr || Mat_VarWrite(m, cell, MAT_COMPRESSION_NONE) != 0) return 1;
    Mat_VarFree(cell);
  }
  Mat_Close(m);
  std::printf("written to %s\n", dir.c_str());
  return 0;
}

/// Calls f, expecting an ssah::Error whose message contains `needle`.
void expect_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    EXPECT(false, "no error, expected one containing '%s'", needle.c_str());
  } catch (const ssah::Error& e) {
    EXPECT(std::string(e.what()).find(needle) != std::string::npos, "message '%s' lacks '%s'", e.what(), needle.c_str());
  }
}

void check_dcmh(const std::string& path, const std::string& layout, const std::string& arrangement) {
  ssah::cli::MatInputOptions o;
  o.file = path;
  o.layout = layout;
  o.slab_bytes = slab_bytes;
  const ssah::cli::MatInput in = ssah::cli::read_mat_input(o);
  EXPECT(in.modalities.size() == 2, "%zu modalities", in.modalities.size());
  if (in.modalities.size() != 2) return;
  const auto& img = in.modalities[0];
  EXPECT(img.name == "image" && img.arrangement == arrangement, "%s: %s", img.name.c_str(), img.arrangement.c_str());
  EXPECT((img.array.shape == std::vector<std::size_t>{N, C, H, W}), "image shape %s",
         ssah::io::shape_str(img.array.shape).c_str());
  EXPECT(img.array.dtype == ssah::io::DType::U8, "image dtype %s", ssah::io::dtype_name(img.array.dtype));
  const std::vector<std::uint8_t> px = img.array.as<std::uint8_t>();
  std::size_t bad = 0;
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t h = 0; h < H; ++h)
        for (std::size_t w = 0; w < W; ++w)
          if (px[((n * C + c) * H + h) * W + w] != pixel(h, w, c, n)) ++bad;
  EXPECT(bad == 0, "%s: %zu pixels misplaced", path.c_str(), bad);
  const auto& txt = in.modalities[1];
  EXPECT(txt.name == "text" && txt.variable == "YAll", "%s=%s", txt.name.c_str(), txt.variable.c_str());
  EXPECT((txt.array.shape == std::vector<std::size_t>{N, V}), "text shape");
  EXPECT(txt.array.dtype == ssah::io::DType::U8, "0/1 double tags should come back as uint8, got %s",
         ssah::io::dtype_name(txt.array.dtype));
  const std::vector<double> t = txt.array.as<double>();
  bad = 0;
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t v = 0; v < V; ++v) bad += t[n * V + v] != tag(n, v);
  EXPECT(bad == 0, "%zu tags misplaced", bad);
  EXPECT((in.labels.shape == std::vector<std::size_t>{N, L}), "labels shape");
  const std::vector<double> l = in.labels.as<double>();
  bad = 0;
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < L; ++k) bad += l[n * L + k] != label(n, k);
  EXPECT(bad == 0, "%zu labels misplaced", bad);
}

int check(const std::string& dir) {
  using ssah::cli::MatInputOptions;
  using ssah::cli::read_mat_input;
  check_dcmh(dir + "/dcmh_v73.mat", "dcmh-flickr", "H x W x C x N, made [N, C, H, W]");
  check_dcmh(dir + "/dcmh_v5.mat", "dcmh-flickr", "H x W x C x N, made [N, C, H, W]");
  check_dcmh(dir + "/nus_v5.mat", "nus-wide", "N x H x W x C, made [N, C, H, W]");
  {
    ssah::cli::MatInputOptions o;
    o.file = dir + "/dcmh_v73.mat";
    EXPECT(read_mat_input([&] { o.layout = "dcmh-flickr"; return o; }()).version == "7.3", "version");
  }

  // Custom keys: D x N features, H x W x N grey images, classes x N labels.
  MatInputOptions o;
  o.file = dir + "/custom.mat";
  o.slab_bytes = slab_bytes;
  o.modalities = {"f=feat", "g=gray", "b=bow"};
  o.labels = "lab";
  const ssah::cli::MatInput in = read_mat_input(o);
  EXPECT(in.version == "5", "version %s", in.version.c_str());
  EXPECT(in.modalities.size() == 3, "modalities");
  if (in.modalities.size() == 3) {
    const auto& f = in.modalities[0];
    EXPECT((f.array.shape == std::vector<std::size_t>{N, D}) && f.array.dtype == ssah::io::DType::F32, "feat %s",
           f.arrangement.c_str());
    EXPECT(f.arrangement == "D x N, transposed to [N, D]", "%s", f.arrangement.c_str());
    const std::vector<float> fv = f.array.as<float>();
    std::size_t bad = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t d = 0; d < D; ++d) bad += fv[n * D + d] != feature(d, n);
    EXPECT(bad == 0, "%zu features misplaced", bad);
    const auto& g = in.modalities[1];
    EXPECT((g.array.shape == std::vector<std::size_t>{N, 1, H, W}), "gray shape %s",
           ssah::io::shape_str(g.array.shape).c_str());
    const std::vector<double> gv = g.array.as<double>();
    bad = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t h = 0; h < H; ++h)
        for (std::size_t w = 0; w < W; ++w) bad += gv[(n * H + h) * W + w] != gray(h, w, n);
    EXPECT(bad == 0, "%zu grey pixels misplaced", bad);
    EXPECT(in.modalities[2].array.dtype == ssah::io::DType::U8 && in.modalities[2].arrangement == "N x D", "bow");
  }
  EXPECT((in.labels.shape == std::vector<std::size_t>{N, L}), "labels shape");
  if (in.labels.shape.size() == 2) {
    const std::vector<double> lv = in.labels.as<double>();
    std::size_t bad = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t k = 0; k < L; ++k) bad += lv[n * L + k] != label(n, k);
    EXPECT(bad == 0, "%zu labels misplaced (classes x N)", bad);
  }

  // Errors.
  auto with = [&](std::vector<std::string> mods, std::string labels, std::string layout = "") {
    MatInputOptions b;
    b.file = dir + "/custom.mat";
    b.slab_bytes = slab_bytes;
    b.modalities = std::move(mods);
    b.labels = std::move(labels);
    b.layout = std::move(layout);
    return [b] { (void)read_mat_input(b); };
  };
  expect_error(with({"f=feat", "s=lab_short"}, "lab"),
               "the variables do not agree on the number of items: labels 'lab' are 4 x 60 (60 items), but "
               "'lab_short' (s) is 59 x 4, with no axis of 60");
  expect_error(with({"f=feat"}, "lab_short"),
               "no modality has an axis of the length of either axis of the labels (labels 'lab_short' 59 x 4, f "
               "'feat' 16 x 60)");
  expect_error(with({"f=feat"}, "nope"), "no variable 'nope' (the labels); the file has feat (single 16 x 60)");
  expect_error(with({"f=cellvar"}, "lab"), "variable 'cellvar' (modality f) is a cell 1 x 1, not a real numeric");
  expect_error(with({"s=square"}, "lab"), "variable 'square' (s) is 60 x 60 and the data set has 60 items: cannot tell");
  expect_error(with({"f=feat"}, "square"), "labels 'square' are 60 x 60: cannot tell the items from the classes");
  expect_error(with({}, ""), "say which variables to read");
  expect_error(with({"f=feat", "f=bow"}, "lab"), "the name 'f' is used twice");
  expect_error(with({"feat"}, "lab"), "--mat-modality expects NAME=VARIABLE, got 'feat'");
  expect_error(with({}, "", "flickr"), "--mat-layout: unknown layout 'flickr' (dcmh-flickr, nus-wide or coco)");
  expect_error(with({}, "", "dcmh-flickr"), "no variable 'images' (modality image)");

  // arrange_items alone: ambiguity and unsupported ranks.
  std::string arrangement;
  ssah::io::HostArray a;
  a.dtype = ssah::io::DType::U8;
  a.shape = {5, 3, 4, 5};
  a.bytes.assign(300, 0);
  expect_error([&] { (void)ssah::cli::arrange_items(a, 5, "x", arrangement); }, "x is 5 x 3 x 4 x 5 and the data set has 5 items");
  a.shape = {3, 5, 4, 5};
  EXPECT(ssah::cli::arrange_items(a, 5, "x", arrangement).shape == (std::vector<std::size_t>{5, 4, 3, 5}),
         "3 x 5 x 4 x 5 (H x W x C x N) -> %s", arrangement.c_str());
  a.shape = {2, 2, 3, 5, 5};
  expect_error([&] { (void)ssah::cli::arrange_items(a, 5, "x", arrangement); }, "2 to 4 dimensions");
  a.shape = {10, 30};
  expect_error([&] { (void)ssah::cli::arrange_items(a, 7, "x", arrangement); }, "x is 10 x 30, with no axis of 7 items");

  if (failures == 0) std::printf("all .mat input checks passed, read in slabs of at most %zu bytes\n", slab_bytes);
  return failures == 0 ? 0 : 1;
}

int wiki(std::string data_dir) {
  if (const char* env = std::getenv("SSAH_DATA_DIR"); env != nullptr && *env != '\0') data_dir = env;
  const std::string mat = data_dir + "/wikipedia/raw_features.mat", npy = data_dir + "/wikipedia/npy/train_img_sift128_f32.npy";
  if (!std::filesystem::exists(mat) || !std::filesystem::exists(npy)) {
    std::printf("SKIPPED: %s not found (real data; set SSAH_DATA_DIR)\n", mat.c_str());
    return 0;
  }
  ssah::cli::MatInputOptions o;
  o.file = mat;
  o.modalities = {"image=I_tr", "text=T_tr"};
  o.labels = "T_tr";  // the file has no labels; any N x something variable fixes the orientation
  const ssah::cli::MatInput in = ssah::cli::read_mat_input(o);
  const ssah::io::NpyArray ref = ssah::io::read_npy(npy);
  EXPECT(in.version == "5", "version %s", in.version.c_str());
  EXPECT(in.modalities.size() == 2 && in.modalities[0].array.shape == ref.shape, "I_tr shape vs %s",
         ssah::io::shape_str(ref.shape).c_str());
  if (failures == 0) {
    const std::vector<double> a = in.modalities[0].array.as<double>();
    const std::vector<float> b = ref.as<float>();
    std::size_t bad = 0;
    for (std::size_t i = 0; i < a.size(); ++i) bad += static_cast<float>(a[i]) != b[i];
    EXPECT(bad == 0, "%zu of %zu values of I_tr differ from train_img_sift128_f32.npy", bad, a.size());
  }
  if (failures == 0) std::printf("raw_features.mat I_tr matches npy/train_img_sift128_f32.npy (%zu values)\n", ref.size());
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc == 4 && mode == "images") return write_images(std::stoul(argv[2]), argv[3]);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s write|check|wiki DIR, or images N FILE\n", argv[0]);
    return 2;
  }
  try {
    if (mode == "write") return write(argv[2]);
    if (mode == "check") {  // modalities read in one slab each, then one item a slab
      check(argv[2]);
      slab_bytes = 1;
      return check(argv[2]);
    }
    if (mode == "wiki") return wiki(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
