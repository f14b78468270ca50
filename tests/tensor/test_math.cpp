// The float softplus / sigmoid kernels (ssah/detail/math.hpp: exp on (-inf, 0], log1p on [0, 1],
// built without libm so that loops over them vectorise) against double libm, over the whole float
// range that matters, with the special values: the bounds below are a few float ulp, measured
// (largest errors seen: printed by the test) and kept with a margin of about 2x.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "ssah/detail/math.hpp"

namespace math = ssah::detail::math;

namespace {

constexpr double kUlp = 5.96e-8;  // 2^-24, float's unit roundoff

// Every float in [lo, hi] reached by `count` even steps, plus both ends.
std::vector<float> grid(double lo, double hi, int count) {
  std::vector<float> xs;
  for (int i = 0; i <= count; ++i) xs.push_back(static_cast<float>(lo + (hi - lo) * i / count));
  return xs;
}

double rel_error(double got, double want) { return want == 0 ? std::abs(got) : std::abs(got - want) / std::abs(want); }

}  // namespace

TEST_CASE("float exp of non-positive arguments is within a few ulp of libm, flushes below e^-87 and keeps NaN") {
  double worst = 0;
  for (float x : grid(-87.0, 0.0, 400000)) worst = std::max(worst, rel_error(math::exp_nonpositive(x), std::exp(double(x))));
  std::printf("exp_nonpositive: largest relative error %.3g (%.2f ulp)\n", worst, worst / kUlp);
  CHECK(worst < 4 * kUlp);
  CHECK(math::exp_nonpositive(0.0f) == 1.0f);
  CHECK(math::exp_nonpositive(-87.5f) == 0.0f);
  CHECK(math::exp_nonpositive(-1e30f) == 0.0f);
  CHECK(math::exp_nonpositive(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(std::isnan(math::exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("float log1p of arguments from 0 to 1 is within a few ulp of libm, down to the tiniest") {
  double worst = 0;
  for (float e : grid(0.0, 1.0, 400000)) worst = std::max(worst, rel_error(math::log1p_unit(e), std::log1p(double(e))));
  for (float e = 1e-38f; e < 1e-3f; e *= 1.37f) worst = std::max(worst, rel_error(math::log1p_unit(e), std::log1p(double(e))));
  std::printf("log1p_unit: largest relative error %.3g (%.2f ulp)\n", worst, worst / kUlp);
  CHECK(worst < 8 * kUlp);
  CHECK(math::log1p_unit(0.0f) == 0.0f);
  CHECK(math::log1p_unit(1e-30f) == 1e-30f);
  CHECK(std::isnan(math::log1p_unit(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("float softplus and sigmoid match double libm over the range, and the special values") {
  double worst_sp = 0, worst_sg = 0;
  for (float x : grid(-100.0, 100.0, 800000)) {
    const double xd = x;
    const double sp = std::max(xd, 0.0) + std::log1p(std::exp(-std::abs(xd)));
    const double sg = 1.0 / (1.0 + std::exp(-xd));
    // Results under 2^-125 are flushed to 0 (exp_nonpositive), so compare absolutely there.
    worst_sp = std::max(worst_sp, sp < 1e-37 ? std::abs(math::softplus(x) - sp) : rel_error(math::softplus(x), sp));
    worst_sg = std::max(worst_sg, sg < 1e-37 ? std::abs(math::sigmoid(x) - sg) : rel_error(math::sigmoid(x), sg));
  }
  std::printf("softplus: largest relative error %.3g (%.2f ulp); sigmoid: %.3g (%.2f ulp)\n", worst_sp,
              worst_sp / kUlp, worst_sg, worst_sg / kUlp);
  CHECK(worst_sp < 10 * kUlp);
  CHECK(worst_sg < 6 * kUlp);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(math::softplus(0.0f) == doctest::Approx(std::log(2.0)).epsilon(1e-7));
  CHECK(math::softplus(1000.0f) == 1000.0f);
  CHECK(math::softplus(-1000.0f) == 0.0f);
  CHECK(math::softplus(inf) == inf);
  CHECK(math::softplus(-inf) == 0.0f);
  CHECK(std::isnan(math::softplus(nan)));
  CHECK(math::sigmoid(0.0f) == 0.5f);
  CHECK(math::sigmoid(1000.0f) == 1.0f);
  CHECK(math::sigmoid(-1000.0f) == 0.0f);
  CHECK(math::sigmoid(inf) == 1.0f);
  CHECK(math::sigmoid(-inf) == 0.0f);
  CHECK(std::isnan(math::sigmoid(nan)));
}
