#pragma once
/// \file
/// Fully-connected layer y = x W^T + b with PyTorch's weight layout [out, in].

#include <cstddef>
#include <string>

#include "ssah/ops/linalg.hpp"
#include "ssah/parameters.hpp"

namespace ssah::nn {

template <class T>
class Linear {
 public:
  Linear() = default;
  /// Registers `<name>.weight` [out, in] and `<name>.bias` [out] in `params` (zero until initialised).
  Linear(ParameterSet<T>& params, const std::string& name, std::size_t in, std::size_t out, bool with_bias = true)
      : in_(in), out_(out) {
    weight_ = params.add(name + ".weight", Shape{out, in});
    if (with_bias) bias_ = params.add(name + ".bias", Shape{out});
  }

  /// x viewed as [rows, in] -> [rows, out].
  Var<T> operator()(const Var<T>& x) const {
    SSAH_CHECK_AS(ShapeError, x.value().row_size() == in_, "Linear: input ", x.shape().str(), " has ",
                  x.value().row_size(), " features per row, the layer takes ", in_);
    Var<T> y = matmul(x, weight_, Trans::No, Trans::Yes);
    return bias_.defined() ? add_bias(y, bias_) : y;
  }

  std::size_t in_features() const noexcept { return in_; }
  std::size_t out_features() const noexcept { return out_; }
  const Var<T>& weight() const noexcept { return weight_; }
  const Var<T>& bias() const noexcept { return bias_; }

 private:
  std::size_t in_ = 0, out_ = 0;
  Var<T> weight_, bias_;
};

}  // namespace ssah::nn
