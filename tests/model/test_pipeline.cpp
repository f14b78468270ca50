#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "ssah/pipeline.hpp"

using namespace ssah;

TEST_CASE("Standardization: the training rows' mean and std; tiny spreads kept; constant columns centred only") {
  // Columns: ordinary values; a colour-histogram-like bin (0 but for one 1e-6: std 4e-7, variance
  // below 1e-12, as in a MIRFLICKR-730 bin); a constant large value; a constant 0.1.
  pipeline::Modality m;
  m.name = "img";
  m.sample_shape = {4};
  const std::vector<std::vector<float>> rows = {{1.f, 0.f, 1e6f, 0.1f},   {3.f, 1e-6f, 1e6f, 0.1f},
                                                {5.f, 0.f, 1e6f, 0.1f},   {7.f, 0.f, 1e6f, 0.1f},
                                                {-4.f, 0.f, 1e6f, 0.1f}, {9.f, 9.f, 9.f, 9.f}};  // last: not training
  for (const auto& r : rows) m.values.insert(m.values.end(), r.begin(), r.end());
  const std::vector<std::size_t> train = {0, 1, 2, 3, 4};
  const pipeline::Standardization s = pipeline::Standardization::fit(m, train);
  for (std::size_t j = 0; j < 2; ++j) {
    double mean = 0, var = 0;
    for (std::size_t r : train) mean += rows[r][j] / 5.0;
    for (std::size_t r : train) var += (rows[r][j] - mean) * (rows[r][j] - mean) / 5.0;
    CHECK(s.mean[j] == doctest::Approx(mean).epsilon(1e-6));
    CHECK(s.stddev[j] == doctest::Approx(std::sqrt(var)).epsilon(1e-5));
  }
  CHECK(s.stddev[1] < 1e-6f);  // the small spread is the column's scale, not treated as zero
  CHECK(s.mean[2] == 1e6f);
  CHECK(s.stddev[2] == 1.f);
  CHECK(s.mean[3] == 0.1f);
  CHECK(s.stddev[3] == 1.f);

  std::vector<float> standardized = m.values;
  s.apply(standardized);
  for (std::size_t r : train) {
    CHECK(standardized[r * 4 + 2] == 0.f);
    CHECK(standardized[r * 4 + 3] == 0.f);
  }
  CHECK(standardized[1 * 4 + 1] == doctest::Approx(2.0).epsilon(1e-4));  // (1e-6 - 2e-7) / 4e-7

  CHECK_THROWS_WITH_AS(pipeline::Standardization::fit(m, {}), doctest::Contains("no training rows"), InvalidArgument);
}
