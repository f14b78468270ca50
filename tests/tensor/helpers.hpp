#pragma once
// Small helpers shared by the tests of tests/tensor.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "gradcheck.hpp"
#include "ssah/autodiff.hpp"

namespace ssah::test {

/// A tensor of T from double literals.
template <class T>
Tensor<T> make(const Shape& shape, const std::vector<double>& values) {
  std::vector<T> v(values.begin(), values.end());
  return Tensor<T>::from_host(shape, v);
}

template <class T>
std::vector<double> host(const Tensor<T>& t) {
  std::vector<T> v = t.to_host();
  return std::vector<double>(v.begin(), v.end());
}

/// Moves every value at least `margin` away from 0 (keeps its sign): for ops with a kink at 0.
inline Tensor<double> away_from_zero(const Tensor<double>& t, double margin = 0.1) {
  std::vector<double> v = t.to_host();
  for (double& x : v) x = x < 0 ? x - margin : x + margin;
  return Tensor<double>::from_host(t.shape(), v);
}

/// Shapes for gradient checks: batch 1, non-square, rank 1 to 4, and a few drawn from a fixed seed.
inline std::vector<Shape> grad_shapes() {
  std::vector<Shape> shapes{Shape{1, 1}, Shape{1, 7}, Shape{5, 3}, Shape{3, 5}, Shape{6}, Shape{2, 3, 4},
                            Shape{2, 3, 2, 2}};
  std::mt19937_64 gen(2024);
  std::uniform_int_distribution<std::size_t> extent(1, 9);
  for (int k = 0; k < 3; ++k) shapes.push_back(Shape{extent(gen), extent(gen)});
  return shapes;
}

}  // namespace ssah::test
