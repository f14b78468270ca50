#include <doctest/doctest.h>

#include <vector>

#include "ssah/autodiff.hpp"
#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/linalg.hpp"
#include "ssah/parameters.hpp"

using namespace ssah;

TEST_CASE("tensor views share storage and shape errors name both shapes") {
  Tensor<float> t = Tensor<float>::from_host(Shape{3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor<float> mid = t.rows(1, 2);
  CHECK(mid.shape() == Shape{1, 2});
  mid.fill(9.f);
  CHECK(t.to_host() == std::vector<float>{1, 2, 9, 9, 5, 6});
  CHECK_THROWS_WITH_AS(t.reshape(Shape{4, 2}), "Tensor::reshape: cannot view [3, 2] as [4, 2]", ShapeError);
}

TEST_CASE("Shape::from_extents: a leading row count followed by an item's extents") {
  CHECK(Shape::from_extents(std::vector<std::size_t>{3, 64, 64}, {10}) == Shape{10, 3, 64, 64});
  CHECK(Shape::from_extents(std::vector<std::size_t>{4096}) == Shape{4096});
  CHECK(Shape::from_extents(std::vector<std::size_t>{}).rank() == 0);
  CHECK_THROWS_WITH_AS(Shape::from_extents(std::vector<std::size_t>{1, 2, 3, 4}, {5}),
                       "a shape has at most 4 extents, got 5", ShapeError);
}

TEST_CASE("a tensor larger than memory is an OutOfMemory error naming its size, and the pool stays usable") {
  const MemoryStats before = memory_stats();
  // 2^44 floats = 64 TiB: more than any machine that runs these tests (the allocator returns
  // NULL; under ASan, allocator_may_return_null=1 as CI sets it).
  CHECK_THROWS_WITH_AS(Tensor<float>(Shape{std::size_t(1) << 22, std::size_t(1) << 22}),
                       doctest::Contains("out of memory: a tensor of 64.0 TiB could not be allocated"), OutOfMemory);
  // More elements than size_t counts, or more bytes: refused, never wrapped to a small block.
  CHECK_THROWS_WITH_AS(Tensor<float>(Shape{std::size_t(1) << 40, std::size_t(1) << 30}),
                       "shape [1099511627776, 1073741824] has more elements than memory can hold", ShapeError);
  CHECK_THROWS_WITH_AS(Tensor<float>(Shape{std::size_t(1) << 31, std::size_t(1) << 31}),
                       doctest::Contains("larger than any memory"), OutOfMemory);
  CHECK(memory_stats().in_use == before.in_use);
  Tensor<float> small = Tensor<float>::from_host(Shape{2}, {1, 2});
  CHECK(small.to_host() == std::vector<float>{1, 2});
}

TEST_CASE("matmul + bias + relu backward on a tiny case") {
  ParameterSet<double> ps;
  Var<double> w = ps.add("w", Shape{2, 2});
  Var<double> b = ps.add("b", Shape{2});
  ps.values().copy_from_host(std::vector<double>{1, -1, 2, 0.5, 0.1, -0.2}.data(), 6);
  Var<double> x(Tensor<double>::from_host(Shape{1, 2}, {1, 2}));
  Var<double> y = relu(add_bias(matmul(x, w, Trans::No, Trans::Yes), b));
  // x W^T = [1*1 + 2*-1, 1*2 + 2*0.5] = [-1, 3]; + b = [-0.9, 2.8]; relu = [0, 2.8]
  auto yv = y.value().to_host();
  CHECK(yv[0] == doctest::Approx(0.0));
  CHECK(yv[1] == doctest::Approx(2.8));
  y.backward(Tensor<double>::full(Shape{1, 2}, 1.0));
  auto g = ps.grads().to_host();
  CHECK(g == std::vector<double>{0, 0, 1, 2, 0, 1});
}

#include "gradcheck.hpp"

TEST_CASE("gradient check: matmul in all four transpose combinations, bias, relu, tanh") {
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes}) {
      const Shape sa = ta == Trans::No ? Shape{3, 5} : Shape{5, 3};
      const Shape sb = tb == Trans::No ? Shape{5, 2} : Shape{2, 5};
      SSAH_CHECK_GRADIENTS(1e-7, [=](const std::vector<Var<double>>& v) { return matmul(v[0], v[1], ta, tb); },
                           {test::random_tensor(sa, 1), test::random_tensor(sb, 2)});
    }
  SSAH_CHECK_GRADIENTS(
      1e-7, [](const std::vector<Var<double>>& v) { return tanh(relu(add_bias(v[0], v[1]))); },
      {test::random_tensor(Shape{1, 7}, 3), test::random_tensor(Shape{7}, 4)});
}
