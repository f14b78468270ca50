#pragma once
/// \file
/// Parameter initialisers: constant, uniform, normal (the reference code draws every weight and
/// bias from N(0, 0.01^2)), Xavier/Glorot uniform and normal, and loading given host values; and
/// the named schemes (`InitScheme`) that initialise a whole `ParameterSet` the way the networks do.
///
/// Random initialisers draw from a `CounterRng` (ssah/random.hpp), so a seed gives the same
/// parameters on every device system. The `ParameterSet` overloads give each parameter its own
/// stream derived from its name: adding or reordering parameters does not change the others.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ssah/error.hpp"
#include "ssah/parameters.hpp"
#include "ssah/random.hpp"
#include "ssah/shape.hpp"
#include "ssah/tensor.hpp"

namespace ssah::init {

/// Fan-in and fan-out of a weight in PyTorch's layout: [out, in] for a linear layer, [out, in, kh, kw]
/// (or any [out, in, ...]) for a convolution, where both are multiplied by the receptive field size.
struct Fans {
  std::size_t in = 0;
  std::size_t out = 0;
};

inline Fans fans(const Shape& shape) {
  SSAH_CHECK_AS(ShapeError, shape.rank() >= 2, "init::fans: a weight needs rank >= 2 ([out, in, ...]), got ",
                shape.str());
  std::size_t receptive = 1;
  for (int a = 2; a < shape.rank(); ++a) receptive *= shape[a];
  return Fans{shape[1] * receptive, shape[0] * receptive};
}

/// A stream number derived from a name (64-bit FNV-1a), for per-parameter streams.
inline std::uint64_t stream_of(const std::string& name) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

template <class T>
void constant(Tensor<T>& t, T value) {
  t.fill(value);
}

/// Uniform in [lo, hi) from stream `stream` of `seed`.
template <class T>
void uniform(Tensor<T>& t, T lo, T hi, std::uint64_t seed, std::uint64_t stream = 0) {
  fill_uniform(t, lo, hi, CounterRng{seed, stream});
}

/// N(mean, stddev^2) from stream `stream` of `seed`.
template <class T>
void normal(Tensor<T>& t, T mean, T stddev, std::uint64_t seed, std::uint64_t stream = 0) {
  fill_normal(t, mean, stddev, CounterRng{seed, stream});
}

/// Xavier/Glorot uniform: U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)) (as PyTorch's xavier_uniform_).
template <class T>
void xavier_uniform(Tensor<T>& t, std::uint64_t seed, std::uint64_t stream = 0, double gain = 1.0) {
  const Fans f = fans(t.shape());
  SSAH_CHECK_AS(ShapeError, f.in + f.out > 0, "init::xavier_uniform: zero fans for ", t.shape().str());
  const T a = static_cast<T>(gain * std::sqrt(6.0 / static_cast<double>(f.in + f.out)));
  uniform(t, -a, a, seed, stream);
}

/// Xavier/Glorot normal: N(0, s^2), s = gain sqrt(2 / (fan_in + fan_out)) (as PyTorch's xavier_normal_).
template <class T>
void xavier_normal(Tensor<T>& t, std::uint64_t seed, std::uint64_t stream = 0, double gain = 1.0) {
  const Fans f = fans(t.shape());
  SSAH_CHECK_AS(ShapeError, f.in + f.out > 0, "init::xavier_normal: zero fans for ", t.shape().str());
  const T s = static_cast<T>(gain * std::sqrt(2.0 / static_cast<double>(f.in + f.out)));
  normal(t, T(0), s, seed, stream);
}

/// PyTorch's default for nn.Linear and nn.Conv2d (kaiming_uniform_ with a = sqrt(5) for the weight,
/// the same bound for the bias): U(-1/sqrt(fan_in), 1/sqrt(fan_in)). A weight ([out, in, ...]) has its
/// own fan-in; a bias takes its layer's, given as `fan_in` (0: from the tensor's own shape).
template <class T>
void pytorch_default(Tensor<T>& t, std::size_t fan_in, std::uint64_t seed, std::uint64_t stream = 0) {
  if (fan_in == 0) fan_in = t.shape().rank() >= 2 ? fans(t.shape()).in : t.size();
  SSAH_CHECK_AS(ShapeError, fan_in > 0, "init::pytorch_default: zero fan-in for ", t.shape().str());
  const T a = static_cast<T>(1.0 / std::sqrt(static_cast<double>(fan_in)));
  uniform(t, -a, a, seed, stream);
}

/// The fan-in of the layer a parameter belongs to: for "X.bias", that of "X.weight" when the set has
/// it; 0 otherwise (a weight, or a bias without a weight), meaning "from the parameter's own shape".
template <class T>
std::size_t bias_fan_in(const ParameterSet<T>& params, const std::string& name) {
  const std::string suffix = ".bias";
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return 0;
  const std::string weight = name.substr(0, name.size() - suffix.size()) + ".weight";
  for (const auto& e : params.entries())
    if (e.name == weight && e.shape.rank() >= 2) return fans(e.shape).in;
  return 0;
}

/// Copies `n` given host values into `t`; the count must equal t's size. `what` names the tensor
/// (e.g. the parameter or file) in the error message.
template <class T>
void load(Tensor<T>& t, const T* values, std::size_t n, const std::string& what = "tensor") {
  SSAH_CHECK_AS(ShapeError, n == t.size(), "init::load: ", n, " values given for ", what, " of shape ",
                t.shape().str(), " (", t.size(), " elements)");
  t.copy_from_host(values, n);
}
template <class T>
void load(Tensor<T>& t, const std::vector<T>& values, const std::string& what = "tensor") {
  load(t, values.data(), values.size(), what);
}

/// Every parameter of `params` from N(mean, stddev^2) (the reference code: mean 0, stddev 0.01,
/// weights and biases alike), each from the stream `stream_of(name)` of `seed`.
template <class T>
void normal(ParameterSet<T>& params, T mean, T stddev, std::uint64_t seed) {
  for (const auto& e : params.entries()) {
    Tensor<T> value = e.var.value();  // a view into the flat buffer
    normal(value, mean, stddev, seed, stream_of(e.name));
  }
}

/// Loads one named parameter from host values (size checked, the name in the error).
template <class T>
void load(ParameterSet<T>& params, const std::string& name, const std::vector<T>& values) {
  Tensor<T> value = params.entry(name).var.value();
  load(value, values, "parameter '" + name + "'");
}

}  // namespace ssah::init

namespace ssah {

/// How new layers are initialised.
enum class InitScheme {
  ReferenceNormal,  ///< every weight AND bias ~ N(0, 0.01^2), as the authors' code
  Xavier,           ///< Glorot-uniform weights, zero biases
  PyTorchDefault,   ///< PyTorch's nn.Linear / nn.Conv2d default: weights and biases ~ U(+-1/sqrt(fan_in))
};

/// The scheme named "reference", "xavier" or "pytorch" (as the CLI and the experiments spell them).
inline InitScheme init_scheme_from_name(const std::string& name) {
  if (name == "reference") return InitScheme::ReferenceNormal;
  if (name == "xavier") return InitScheme::Xavier;
  if (name == "pytorch") return InitScheme::PyTorchDefault;
  throw InvalidArgument("unknown initialisation '" + name + "' (reference, xavier or pytorch)");
}
inline const char* init_scheme_name(InitScheme scheme) {
  switch (scheme) {
    case InitScheme::ReferenceNormal:
      return "reference";
    case InitScheme::Xavier:
      return "xavier";
    case InitScheme::PyTorchDefault:
      return "pytorch";
  }
  return "?";
}

/// Initialises every parameter of `params` with `scheme`, reproducibly from `seed`.
template <class T>
void initialize_parameters(ParameterSet<T>& params, InitScheme scheme, std::uint64_t seed) {
  for (const auto& e : params.entries()) {
    Tensor<T> value = e.var.value();
    const std::uint64_t stream = init::stream_of(e.name);
    if (scheme == InitScheme::ReferenceNormal)
      init::normal(value, T(0), T(0.01), seed, stream);
    else if (scheme == InitScheme::PyTorchDefault)
      init::pytorch_default(value, init::bias_fan_in(params, e.name), seed, stream);
    else if (e.shape.rank() >= 2)
      init::xavier_uniform(value, seed, stream);
    else
      value.fill(T(0));
  }
}

}  // namespace ssah
