// Counter-based RNG (known-answer vectors, fills vs. per-index values, statistics), host RNG
// (permutations, samples, state), and initialisers.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "ssah/init.hpp"
#include "ssah/parameters.hpp"
#include "ssah/random.hpp"
#include "helpers.hpp"

using namespace ssah;
using test::host;

namespace {

struct Moments {
  double mean = 0, var = 0, min = 1e300, max = -1e300;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) {
    m.mean += x;
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
  }
  m.mean /= double(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= double(v.size() - 1);
  return m;
}

}  // namespace

TEST_CASE("Philox4x32-10 matches Random123's known-answer vectors") {
  // Random123 tests/kat_vectors, "philox4x32 10" lines: counter[4] key[2] -> result[4].
  auto r = detail::philox4x32_10(0, 0, 0, 0, 0, 0);
  CHECK(std::vector<std::uint32_t>(r.w, r.w + 4) ==
        std::vector<std::uint32_t>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  r = detail::philox4x32_10(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
  CHECK(std::vector<std::uint32_t>(r.w, r.w + 4) ==
        std::vector<std::uint32_t>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  r = detail::philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
  CHECK(std::vector<std::uint32_t>(r.w, r.w + 4) ==
        std::vector<std::uint32_t>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
  // The stream layout: key = seed, counter = (block, stream).
  const CounterRng rng{0x299f31d0a4093822ull, 0x0370734413198a2eull};
  CHECK(rng.block(0x85a308d3243f6a88ull).w[2] == 0x5001e420u);
  CHECK(rng.bits(4 * 3 + 1) == rng.block(3).w[1]);
}

TEST_CASE_TEMPLATE("device fills equal the per-index values of the stream", T, float, double) {
  const CounterRng rng{1234, 5};
  Tensor<T> u = Tensor<T>::empty(Shape{7, 11});  // odd size: a partial last block
  fill_uniform(u, T(-2), T(3), rng);
  Tensor<T> z = Tensor<T>::empty(Shape{77});
  fill_normal(z, T(1), T(0.5), rng);
  const auto uh = u.to_host();
  const auto zh = z.to_host();
  for (std::size_t i = 0; i < 77; ++i) {
    CHECK(uh[i] == std::fma(rng.uniform<T>(i), T(5), T(-2)));  // bit-identical
    // Normals go through log/cos/sin, whose last bit may differ between CUDA's and the host's libm.
    const double normal_tol = std::is_same_v<T, float> ? 1e-6 : 1e-12;
    CHECK(zh[i] == doctest::Approx(std::fma(rng.normal<T>(i), T(0.5), T(1))).epsilon(normal_tol));
  }
  // Same seed: same values; another stream or seed: different values.
  Tensor<T> again = Tensor<T>::empty(Shape{7, 11});
  fill_uniform(again, T(-2), T(3), rng);
  CHECK(again.to_host() == uh);
  fill_uniform(again, T(-2), T(3), CounterRng{1234, 6});
  CHECK(again.to_host() != uh);
  fill_uniform(again, T(-2), T(3), CounterRng{1235, 5});
  CHECK(again.to_host() != uh);
}

TEST_CASE("uniform and normal fills have the right statistics, and float and double normals agree") {
  const std::size_t n = 200000;
  Tensor<double> u = Tensor<double>::empty(Shape{n});
  fill_uniform(u, -1.0, 3.0, CounterRng{99, 0});
  const Moments mu = moments(u.to_host());
  // U(-1, 3): mean 1, variance 16/12; standard error of the mean 0.0026.
  CHECK(mu.mean == doctest::Approx(1.0).epsilon(0.01));
  CHECK(mu.var == doctest::Approx(16.0 / 12.0).epsilon(0.01));
  CHECK(mu.min >= -1.0);
  CHECK(mu.max < 3.0);
  Tensor<double> z = Tensor<double>::empty(Shape{n});
  fill_normal(z, 2.0, 3.0, CounterRng{99, 1});
  const Moments mz = moments(z.to_host());
  CHECK(std::abs(mz.mean - 2.0) < 5 * 3.0 / std::sqrt(double(n)));  // 5 standard errors
  CHECK(std::sqrt(mz.var) == doctest::Approx(3.0).epsilon(0.01));
  Tensor<float> zf = Tensor<float>::empty(Shape{n});
  fill_normal(zf, 2.0f, 3.0f, CounterRng{99, 1});
  const auto zfh = zf.to_host();
  const auto zh = z.to_host();
  for (std::size_t i = 0; i < n; i += 997) CHECK(zfh[i] == doctest::Approx(zh[i]).epsilon(1e-6));
  Tensor<float> uf = Tensor<float>::empty(Shape{n});
  fill_uniform(uf, 0.f, 1.f, CounterRng{3, 3});
  const Moments mf = moments(host(uf));
  CHECK(mf.mean == doctest::Approx(0.5).epsilon(0.01));
  CHECK(mf.min >= 0.0);
  CHECK(mf.max < 1.0);
}

TEST_CASE("HostRng: permutations, samples, bounded integers, state save and restore") {
  HostRng rng(5);
  const std::string start = rng.state();
  std::vector<std::size_t> p = rng.permutation(1000);
  std::vector<std::size_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> iota(1000);
  std::iota(iota.begin(), iota.end(), std::size_t{0});
  CHECK(sorted == iota);
  CHECK(p != iota);
  // Same seed, same permutation; the sample of k is the first k of the permutation.
  HostRng same(5);
  CHECK(same.permutation(1000) == p);
  HostRng again(5);
  const std::vector<std::size_t> s = again.sample(1000, 128);
  CHECK(s == std::vector<std::size_t>(p.begin(), p.begin() + 128));
  CHECK(std::set<std::size_t>(s.begin(), s.end()).size() == 128);
  // Restoring the state replays the same draws.
  HostRng restored(0);
  restored.set_state(start);
  CHECK(restored.permutation(1000) == p);
  CHECK_THROWS_AS(restored.set_state("not a state"), InvalidArgument);
  CHECK_THROWS_AS(restored.sample(3, 4), InvalidArgument);
  // below(n): every value in range, roughly uniform (6 buckets x 60,000 draws, sd ~ 91).
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) ++counts[rng.below(6)];
  for (int c : counts) CHECK(std::abs(c - 10000) < 500);
  // The engine is the standard one: the 10000th output of a default-seeded mt19937_64 is fixed by C++.
  HostRng standard(5489);
  std::uint64_t x = 0;
  for (int i = 0; i < 10000; ++i) x = standard.next();
  CHECK(x == 9981545732273789042ull);
}

TEST_CASE("fans and Xavier initialisers follow PyTorch's [out, in, ...] layout") {
  CHECK(init::fans(Shape{512, 4096}).in == 4096);
  CHECK(init::fans(Shape{512, 4096}).out == 512);
  CHECK(init::fans(Shape{64, 3, 11, 11}).in == 3 * 121);
  CHECK(init::fans(Shape{64, 3, 11, 11}).out == 64 * 121);
  CHECK_THROWS_AS(init::fans(Shape{10}), ShapeError);

  Tensor<double> w = Tensor<double>::empty(Shape{300, 500});
  init::xavier_uniform(w, 1);
  const Moments mu = moments(w.to_host());
  const double a = std::sqrt(6.0 / 800.0);
  CHECK(mu.min >= -a);
  CHECK(mu.max <= a);
  CHECK(mu.max > 0.99 * a);
  CHECK(mu.var == doctest::Approx(a * a / 3).epsilon(0.02));
  init::xavier_normal(w, 2, 0, 2.0);  // gain 2
  CHECK(std::sqrt(moments(w.to_host()).var) == doctest::Approx(2.0 * std::sqrt(2.0 / 800.0)).epsilon(0.02));
}

TEST_CASE_TEMPLATE("normal init of a ParameterSet: N(0, 0.01^2), per-name streams, and load checks", T, float, double) {
  ParameterSet<T> ps;
  ps.add("fc1.weight", Shape{200, 300});
  ps.add("fc1.bias", Shape{200});
  init::normal(ps, T(0), T(0.01), 7);
  const Moments m = moments(host(ps.values()));
  CHECK(std::abs(m.mean) < 5 * 0.01 / std::sqrt(60200.0));
  CHECK(std::sqrt(m.var) == doctest::Approx(0.01).epsilon(0.02));
  const auto bias = host(ps.entry("fc1.bias").var.value());
  CHECK(std::count(bias.begin(), bias.end(), 0.0) == 0);  // biases are drawn too
  // Another parameter added before it does not change fc1.bias's values (its own stream).
  ParameterSet<T> other;
  other.add("extra", Shape{5});
  other.add("fc1.bias", Shape{200});
  init::normal(other, T(0), T(0.01), 7);
  CHECK(host(other.entry("fc1.bias").var.value()) == bias);

  init::load(ps, "fc1.bias", std::vector<T>(200, T(0.5)));
  CHECK(ps.entry("fc1.bias").var.value().item(199) == T(0.5));
  CHECK_THROWS_WITH_AS(init::load(ps, "fc1.bias", std::vector<T>(3, T(0))),
                       "init::load: 3 values given for parameter 'fc1.bias' of shape [200] (200 elements)", ShapeError);
  Tensor<T> t(Shape{2, 2});
  init::load(t, std::vector<T>{1, 2, 3, 4});
  CHECK(host(t) == std::vector<double>{1, 2, 3, 4});
  init::constant(t, T(3));
  CHECK(host(t) == std::vector<double>{3, 3, 3, 3});
}
