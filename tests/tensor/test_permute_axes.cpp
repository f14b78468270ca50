// ssah::detail::permute_axes against a naive index computation: random shapes of rank 0 to 5,
// random permutations, element sizes 1, 2, 4, 8 and 3, zero extents, and arrays large enough
// to cross the copy tiles.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "ssah/detail/permute_axes.hpp"

using ssah::detail::permute_axes;

namespace {

/// out[i_0, ..., i_{r-1}] = in[j] with j_{perm[k]} = i_k, one element at a time.
std::vector<unsigned char> naive_permute(const std::vector<unsigned char>& in, const std::vector<std::size_t>& dims,
                                         const std::vector<std::size_t>& perm, std::size_t es) {
  const std::size_t r = dims.size();
  std::size_t n = 1;
  for (std::size_t d : dims) n *= d;
  std::vector<std::size_t> out_dims(r);
  for (std::size_t k = 0; k < r; ++k) out_dims[k] = dims[perm[k]];
  std::vector<unsigned char> out(n * es);
  std::vector<std::size_t> out_idx(r), in_idx(r);
  for (std::size_t o = 0; o < n; ++o) {
    std::size_t rest = o;
    for (std::size_t k = r; k-- > 0;) {
      out_idx[k] = rest % out_dims[k];
      rest /= out_dims[k];
    }
    for (std::size_t k = 0; k < r; ++k) in_idx[perm[k]] = out_idx[k];
    std::size_t i = 0;
    for (std::size_t k = 0; k < r; ++k) i = i * dims[k] + in_idx[k];
    std::memcpy(out.data() + o * es, in.data() + i * es, es);
  }
  return out;
}

std::vector<unsigned char> random_bytes(std::size_t n, std::mt19937& rng) {
  std::vector<unsigned char> b(n);
  for (unsigned char& c : b) c = static_cast<unsigned char>(rng());
  return b;
}

/// permute_axes on random bytes equals the naive result (the destination starts as other bytes).
void check_against_naive(const std::vector<std::size_t>& dims, const std::vector<std::size_t>& perm, std::size_t es,
                         std::mt19937& rng) {
  std::size_t n = 1;
  for (std::size_t d : dims) n *= d;
  const std::vector<unsigned char> in = random_bytes(n * es, rng);
  std::vector<unsigned char> out(n * es, 0xAB);
  permute_axes(in.data(), dims, perm, es, out.data());
  CHECK(out == naive_permute(in, dims, perm, es));
}

std::vector<std::size_t> random_perm(std::size_t r, std::mt19937& rng) {
  std::vector<std::size_t> p(r);
  std::iota(p.begin(), p.end(), std::size_t(0));
  std::shuffle(p.begin(), p.end(), rng);
  return p;
}

struct Rgb {
  unsigned char c[3];
};
static_assert(sizeof(Rgb) == 3);

}  // namespace

TEST_CASE("permute_axes: random shapes of rank 0 to 5, every element size, against a naive gather") {
  std::mt19937 rng(20240611);
  for (std::size_t es : {1, 2, 4, 8, 3, 12}) {
    for (int trial = 0; trial < 300; ++trial) {
      const std::size_t r = static_cast<std::size_t>(rng() % 6);
      std::vector<std::size_t> dims(r);
      for (std::size_t& d : dims) d = static_cast<std::size_t>(rng() % 6);  // 0 included: empty arrays
      if (trial % 3 != 0)
        for (std::size_t& d : dims) d = d == 0 ? 1 : d;  // mostly non-empty
      const std::vector<std::size_t> perm = random_perm(r, rng);
      CAPTURE(es);
      CAPTURE(trial);
      check_against_naive(dims, perm, es, rng);
    }
  }
}

TEST_CASE("permute_axes: arrays larger than the copy tiles, with uneven edges") {
  std::mt19937 rng(7);
  for (std::size_t es : {1, 2, 4, 8, 3}) {
    for (int trial = 0; trial < 40; ++trial) {
      const std::size_t r = 2 + static_cast<std::size_t>(rng() % 3);
      std::vector<std::size_t> dims(r);
      for (std::size_t& d : dims) d = 1 + static_cast<std::size_t>(rng() % (r == 2 ? 300 : r == 3 ? 70 : 20));
      check_against_naive(dims, random_perm(r, rng), es, rng);
    }
  }
  // MATLAB's H x W x C x N image stacks made N x C x H x W, and column-major to row-major.
  check_against_naive({37, 41, 3, 70}, {3, 2, 0, 1}, 1, rng);
  check_against_naive({70, 37, 41, 3}, {0, 3, 1, 2}, 4, rng);
  check_against_naive({5, 7, 3, 129}, {3, 2, 1, 0}, 8, rng);
}

TEST_CASE("permute_axes: column-major to row-major, the typed overload and a 3-byte element") {
  // MATLAB's [1 2 3; 4 5 6] is stored 1 4 2 5 3 6: row-major of extents {3, 2}, reversed.
  const std::vector<double> col_major{1, 4, 2, 5, 3, 6};
  std::vector<double> row_major(6);
  permute_axes(col_major.data(), {3, 2}, {1, 0}, row_major.data());
  CHECK(row_major == std::vector<double>{1, 2, 3, 4, 5, 6});

  const std::vector<Rgb> hwc{{{1, 2, 3}}, {{4, 5, 6}}};  // H x W x 1 of 3-byte elements: 1 x 2 x 1
  std::vector<Rgb> chw(2);
  permute_axes(hwc.data(), {1, 2, 1}, {2, 0, 1}, chw.data());
  CHECK(std::memcmp(chw.data(), hwc.data(), sizeof(Rgb) * 2) == 0);

  const int scalar = 42;  // rank 0: one element
  int copy = 0;
  permute_axes(&scalar, {}, {}, &copy);
  CHECK(copy == 42);

  // Zero extents: nothing is read or written.
  CHECK_NOTHROW(permute_axes(static_cast<const float*>(nullptr), {4, 0, 3}, {2, 0, 1}, static_cast<float*>(nullptr)));
}

TEST_CASE("permute_axes: an invalid permutation or element size is an InvalidArgument") {
  std::vector<unsigned char> in(24), out(24);
  CHECK_THROWS_WITH_AS(permute_axes(in.data(), {2, 3, 4}, {0, 0, 1}, 1, out.data()),
                       "permute_axes: [0, 0, 1] is not a permutation of the 3 axes of dims [2, 3, 4]",
                       ssah::InvalidArgument);
  CHECK_THROWS_WITH_AS(permute_axes(in.data(), {2, 3, 4}, {0, 1, 3}, 1, out.data()),
                       "permute_axes: [0, 1, 3] is not a permutation of the 3 axes of dims [2, 3, 4]",
                       ssah::InvalidArgument);
  CHECK_THROWS_WITH_AS(permute_axes(in.data(), {2, 3, 4}, {1, 0}, 1, out.data()),
                       "permute_axes: [1, 0] is not a permutation of the 3 axes of dims [2, 3, 4]",
                       ssah::InvalidArgument);
  CHECK_THROWS_AS(permute_axes(in.data(), {}, {0}, 1, out.data()), ssah::InvalidArgument);
  CHECK_THROWS_WITH_AS(permute_axes(in.data(), {2, 3, 4}, {2, 1, 0}, 0, out.data()), "permute_axes: element size 0",
                       ssah::InvalidArgument);
  const std::size_t huge = std::size_t(1) << 40;
  CHECK_THROWS_AS(permute_axes(in.data(), {huge, huge}, {1, 0}, 1, out.data()), ssah::ShapeError);
}
