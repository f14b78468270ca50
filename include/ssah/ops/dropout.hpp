#pragma once
/// \file
/// Seeded (inverted) dropout with its gradient.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "ssah/autodiff.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/ops/detail/common.hpp"
#include "ssah/random.hpp"

namespace ssah {
namespace detail {

/// Element i is kept when the 32 random bits `CounterRng{seed, counter}.bits(i)` are below
/// `threshold` = round(keep_prob 2^32), so the mask depends on (seed, counter, i) only: not on the
/// element type, the device system or the thread count.
struct DropoutMask {
  CounterRng rng;
  std::uint64_t threshold;
  SSAH_HOST_DEVICE bool keep(std::size_t i) const { return rng.bits(i) < threshold; }
};

inline DropoutMask dropout_mask(double keep_prob, std::uint64_t seed, std::uint64_t counter) {
  return DropoutMask{CounterRng{seed, counter}, static_cast<std::uint64_t>(std::llround(keep_prob * 4294967296.0))};
}

}  // namespace detail

/// Inverted dropout: each element is kept with probability `keep_prob` and scaled by 1 / keep_prob,
/// or set to 0. The mask is drawn from a counter-based stream: the same (seed, counter) gives the
/// same mask everywhere, so pass a step counter to get a fresh mask per step. The gradient is
/// masked and scaled identically (the mask is recomputed, not stored). keep_prob == 1 returns `x`
/// itself (the reference code always feeds keep_prob 1).
template <class T>
Var<T> dropout(const Var<T>& x, double keep_prob, std::uint64_t seed, std::uint64_t counter) {
  SSAH_CHECK_AS(InvalidArgument, keep_prob > 0.0 && keep_prob <= 1.0, "dropout: keep_prob must lie in (0, 1], got ",
                keep_prob);
  if (keep_prob == 1.0) return x;
  const detail::DropoutMask mask = detail::dropout_mask(keep_prob, seed, counter);
  const T inv_keep = static_cast<T>(1.0 / keep_prob);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  {
    const T* xp = x.value().data();
    T* yp = y.data();
    detail::parallel_for(y.size(), [=] SSAH_HOST_DEVICE(std::size_t i) {
      yp[i] = mask.keep(i) ? xp[i] * inv_keep : T(0);
    });
  }
  return detail::make_result<T>(std::move(y), "dropout", {x}, [mask, inv_keep](Node<T>& self) {
    auto gx = self.inputs[0]->grad_sink();
    const T beta = gx.beta;
    T* gp = gx.tensor.data();
    const T* gy = self.grad.data();
    detail::parallel_for(self.grad.size(), [=] SSAH_HOST_DEVICE(std::size_t i) {
      detail::accumulate(gp, i, beta, mask.keep(i) ? gy[i] * inv_keep : T(0));
    });
  });
}

}  // namespace ssah
