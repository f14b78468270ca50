// detail::parallel_for runs short ranges on the calling thread (below kSerialGrain on the host
// systems) and long ones on the device system: both paths must visit every index exactly once.

#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "ssah/detail/parallel.hpp"
#include "ssah/tensor.hpp"

using namespace ssah;

TEST_CASE("parallel_for visits every index once, below and above the serial grain") {
  for (std::size_t n : {std::size_t(1), std::size_t(1000), detail::kSerialGrain - 1, detail::kSerialGrain,
                        std::size_t(3) * detail::kSerialGrain + 17}) {
    Tensor<float> t = Tensor<float>::zeros(Shape{n});
    float* p = t.data();
    detail::parallel_for(n, [=] SSAH_HOST_DEVICE(std::size_t i) { p[i] += float(i % 1000) + 1.f; });
    const std::vector<float> h = t.to_host();
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) wrong += h[i] != float(i % 1000) + 1.f;
    INFO("n = ", n);
    CHECK(wrong == 0);
  }
}
