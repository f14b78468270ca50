#pragma once
/// \file
/// Optimizers and learning-rate schedules.
///
/// An optimizer updates a `ParameterSet` in one fused pass over its flat value and gradient
/// buffers. Its state (moments, step count) lives in the optimizer object, is created on the first
/// step, persists across calls and can be read and restored for checkpoints. SSAH alternates
/// between networks: give each network its own optimizer object.
///
/// Schedules are small callables `lr(epoch, stage)`; `LrSchedule` holds any of them.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "ssah/detail/math.hpp"
#include "ssah/detail/parallel.hpp"
#include "ssah/error.hpp"
#include "ssah/parameters.hpp"
#include "ssah/tensor.hpp"

namespace ssah {

// ---------------------------------------------------------------------------------------------
// Learning-rate schedules

/// The same rate at every epoch and stage.
struct ConstantLr {
  double lr;
  double operator()(std::size_t /*epoch*/, std::size_t /*stage*/ = 0) const { return lr; }
};

/// base * gamma^floor(epoch / step_size) (PyTorch's StepLR); the stage is ignored.
struct StepLr {
  double base;
  double gamma;
  std::size_t step_size = 1;
  double operator()(std::size_t epoch, std::size_t /*stage*/ = 0) const {
    SSAH_CHECK_AS(InvalidArgument, step_size > 0, "StepLr: step_size must be positive");
    return base * std::pow(gamma, static_cast<double>(epoch / step_size));
  }
};

/// base * gamma^epoch (PyTorch's ExponentialLR); the stage is ignored.
struct ExponentialLr {
  double base;
  double gamma;
  double operator()(std::size_t epoch, std::size_t /*stage*/ = 0) const {
    return base * std::pow(gamma, static_cast<double>(epoch));
  }
};

/// The SSAH reference code's table: `lr = [0.1**x for x in np.arange(start, stop, 0.5)]`, read at
/// `lr[epoch + stage]`, so lr(e, s) = 0.1^(start + 0.5 (e + s)): every epoch divides the rate by
/// sqrt(10), and each sub-stage of an epoch (LabNet 0-1, D 0-1, ImgNet/TxtNet 0-2) reads one entry
/// further. Starts in the reference: LabNet 2.0, ImgNet 4.5, TxtNet 3.5, discriminators 3.0.
/// Like the reference (an IndexError), reading past the end of the table is an error.
struct SsahTableLr {
  double start;
  double stop = 100.0;
  /// Number of entries, as len(np.arange(start, stop, 0.5)).
  std::size_t size() const { return stop > start ? static_cast<std::size_t>(std::ceil((stop - start) / 0.5)) : 0; }
  double operator()(std::size_t epoch, std::size_t stage = 0) const {
    const std::size_t k = epoch + stage;
    SSAH_CHECK_AS(InvalidArgument, k < size(), "SsahTableLr: entry ", k, " (epoch ", epoch, ", stage ", stage,
                  ") is past the end of the ", size(), "-entry table starting at ", start);
    return std::pow(0.1, start + 0.5 * static_cast<double>(k));  // numpy's arange: start + k * step
  }
};

/// Any schedule: a callable double(epoch, stage), e.g. the policies above or a lambda.
class LrSchedule {
 public:
  LrSchedule() : LrSchedule(ConstantLr{1e-3}) {}
  template <class Policy, class = std::enable_if_t<!std::is_same_v<std::decay_t<Policy>, LrSchedule>>>
  LrSchedule(Policy policy) : fn_(std::move(policy)) {}  // NOLINT(google-explicit-constructor): policies convert
  double operator()(std::size_t epoch, std::size_t stage = 0) const { return fn_(epoch, stage); }

 private:
  std::function<double(std::size_t, std::size_t)> fn_;
};

namespace detail {

template <class T>
void check_optimizer_buffers(const Tensor<T>& values, const Tensor<T>& grads, const char* who) {
  SSAH_CHECK_AS(ShapeError, values.size() == grads.size(), who, ": ", values.size(), " values but ", grads.size(),
                " gradients");
}

/// Creates zeroed state on the first step; afterwards the parameter count must not change.
template <class T>
void ensure_state(Tensor<T>& buffer, std::size_t n, const char* who) {
  if (!buffer.defined()) {
    buffer = Tensor<T>::zeros(Shape{n});
    return;
  }
  SSAH_CHECK_AS(ShapeError, buffer.size() == n, who, ": state holds ", buffer.size(), " entries, but ", n,
                " parameters were given (one optimizer per parameter set)");
}

// Update kernels as free functions: nvcc rejects extended lambdas in private member functions.

/// One fused Adam pass: moments, then p -= step_size m / (sqrt(v) / sqrt_bc2 + eps).
template <class T>
void adam_update(Tensor<T>& values, const Tensor<T>& grads, Tensor<T>& m_state, Tensor<T>& v_state, T b1, T b2,
                 T step_size, T sqrt_bc2, T eps) {
  T* const p_data = values.data();
  const T* const g_data = grads.data();
  T* const m_data = m_state.data();
  T* const v_data = v_state.data();
  parallel_for_runs(values.size(), [=] SSAH_HOST_DEVICE(std::size_t begin, std::size_t end) {
    T* const p = p_data;
    const T* const g = g_data;
    T* const m = m_data;
    T* const v = v_data;
    const T beta1 = b1, beta2 = b2, step = step_size, bc2 = sqrt_bc2, epsilon = eps;
    for (std::size_t i = begin; i < end; ++i) {
      const T gi = g[i];
      const T mi = beta1 * m[i] + (T(1) - beta1) * gi;
      const T vi = beta2 * v[i] + (T(1) - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] -= step * mi / (math::sqrt(vi) / bc2 + epsilon);
    }
  });
}

/// One fused SGD pass (momentum buffer unused when mu == 0).
template <class T>
void sgd_update(Tensor<T>& values, const Tensor<T>& grads, Tensor<T>& buffer, T lr, T mu, T keep, bool nesterov,
                bool first) {
  T* p = values.data();
  const T* g = grads.data();
  if (mu == T(0)) {
    parallel_for(values.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { p[i] -= lr * g[i]; });
    return;
  }
  T* buf = buffer.data();
  parallel_for(values.size(), [=] SSAH_HOST_DEVICE(std::size_t i) {
    const T gi = g[i];
    const T b = first ? gi : mu * buf[i] + keep * gi;
    buf[i] = b;
    p[i] -= lr * (nesterov ? gi + mu * b : b);
  });
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Adam

/// How epsilon enters Adam's update. Both use the same bias-corrected moments.
enum class AdamForm {
  /// PyTorch: p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps).
  PyTorch,
  /// TensorFlow 1 (the reference code): p -= (lr sqrt(bc2) / bc1) m / (sqrt(v) + eps).
  TensorFlow,
};

/// Adam's persistent state: first and second moments (flat, one entry per parameter) and the
/// number of steps taken (t of the bias corrections bc1 = 1 - beta1^t, bc2 = 1 - beta2^t).
template <class T>
struct AdamState {
  Tensor<T> m;
  Tensor<T> v;
  std::int64_t step = 0;

  /// A deep copy (tensors share storage when copied; a saved or restored state must not).
  AdamState clone() const {
    return AdamState{m.defined() ? m.clone() : Tensor<T>{}, v.defined() ? v.clone() : Tensor<T>{}, step};
  }
};

/// Adam (Kingma & Ba) over a flat parameter buffer. Defaults are TensorFlow's and PyTorch's:
/// beta1 0.9, beta2 0.999, eps 1e-8.
template <class T>
class Adam {
  static_assert(std::is_floating_point_v<T>, "Adam works on float or double parameters");

 public:
  struct Options {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    AdamForm form = AdamForm::PyTorch;
  };

  Adam() = default;
  explicit Adam(const Options& options) : options_(options) {
    SSAH_CHECK_AS(InvalidArgument, options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
                  "Adam: betas must lie in [0, 1), got ", options.beta1, ", ", options.beta2);
    SSAH_CHECK_AS(InvalidArgument, options.eps >= 0, "Adam: negative eps ", options.eps);
  }

  using State = AdamState<T>;

  /// Checks that `state` can continue training `parameters` parameters (moments of that many
  /// entries, or none before the first step); InvalidArgument / ShapeError naming `who`.
  static void check_state(const State& state, std::size_t parameters, const std::string& who) {
    SSAH_CHECK_AS(ShapeError, state.m.size() == state.v.size() && (!state.m.defined() || state.m.size() == parameters),
                  who, " holds moments of ", state.m.size(), " and ", state.v.size(), " entries for ", parameters,
                  " parameters");
    SSAH_CHECK_AS(InvalidArgument, state.step >= 0 && (state.m.defined() || state.step == 0), who, " has step count ",
                  state.step, state.m.defined() ? "" : " but no moments");
  }

  const Options& options() const noexcept { return options_; }
  const AdamState<T>& state() const noexcept { return state_; }
  /// Mutable state, e.g. to share a step count between optimizers as TF1's one Adam instance does.
  AdamState<T>& state() noexcept { return state_; }
  /// Restores a checkpointed state (m and v of equal size; checked against the parameters on the next step).
  void set_state(AdamState<T> state) {
    SSAH_CHECK_AS(ShapeError, state.m.size() == state.v.size(), "Adam::set_state: m has ", state.m.size(),
                  " entries but v has ", state.v.size());
    SSAH_CHECK_AS(InvalidArgument, state.step >= 0, "Adam::set_state: negative step count ", state.step);
    state_ = std::move(state);
  }
  /// Forgets the moments and the step count.
  void reset() { state_ = AdamState<T>{}; }

  void step(ParameterSet<T>& params, double lr) { step(params.values(), params.grads(), lr); }
  void step(ParameterSet<T>& params, const LrSchedule& schedule, std::size_t epoch, std::size_t stage = 0) {
    step(params.values(), params.grads(), schedule(epoch, stage));
  }
  /// One update of `values` (in place) from `grads`, with learning rate `lr`.
  void step(Tensor<T>& values, const Tensor<T>& grads, double lr) {
    detail::check_optimizer_buffers(values, grads, "Adam::step");
    const std::size_t n = values.size();
    detail::ensure_state(state_.m, n, "Adam::step");
    detail::ensure_state(state_.v, n, "Adam::step");
    ++state_.step;
    const double t = static_cast<double>(state_.step);
    const double bc1 = 1.0 - std::pow(options_.beta1, t);
    const double bc2 = 1.0 - std::pow(options_.beta2, t);
    const bool torch = options_.form == AdamForm::PyTorch;
    detail::adam_update(values, grads, state_.m, state_.v, static_cast<T>(options_.beta1),
                        static_cast<T>(options_.beta2), static_cast<T>(torch ? lr / bc1 : lr * std::sqrt(bc2) / bc1),
                        static_cast<T>(torch ? std::sqrt(bc2) : 1.0), static_cast<T>(options_.eps));
  }

 private:
  Options options_;
  AdamState<T> state_;
};

// ---------------------------------------------------------------------------------------------
// SGD with momentum

/// SGD's persistent state: the momentum buffer and the number of steps taken.
template <class T>
struct SgdState {
  Tensor<T> momentum_buffer;
  std::int64_t step = 0;

  /// A deep copy (tensors share storage when copied; a saved or restored state must not).
  SgdState clone() const { return SgdState{momentum_buffer.defined() ? momentum_buffer.clone() : Tensor<T>{}, step}; }
};

/// Stochastic gradient descent with (optionally Nesterov) momentum, in PyTorch's form:
/// buf = g on the first step, then buf = mu buf + (1 - dampening) g; p -= lr (nesterov ? g + mu buf : buf).
/// With momentum 0 it is plain SGD and keeps no buffer.
template <class T>
class Sgd {
  static_assert(std::is_floating_point_v<T>, "Sgd works on float or double parameters");

 public:
  struct Options {
    double momentum = 0.9;
    double dampening = 0.0;
    bool nesterov = false;
  };

  Sgd() = default;
  explicit Sgd(const Options& options) : options_(options) {
    SSAH_CHECK_AS(InvalidArgument, options.momentum >= 0, "Sgd: negative momentum ", options.momentum);
    SSAH_CHECK_AS(InvalidArgument, !options.nesterov || (options.momentum > 0 && options.dampening == 0),
                  "Sgd: Nesterov momentum needs momentum > 0 and no dampening");
  }

  using State = SgdState<T>;

  /// Checks that `state` can continue training `parameters` parameters (a momentum buffer of that
  /// many entries, or none); InvalidArgument / ShapeError naming `who`.
  static void check_state(const State& state, std::size_t parameters, const std::string& who) {
    SSAH_CHECK_AS(ShapeError, !state.momentum_buffer.defined() || state.momentum_buffer.size() == parameters, who,
                  " holds a momentum buffer of ", state.momentum_buffer.size(), " entries for ", parameters,
                  " parameters");
    SSAH_CHECK_AS(InvalidArgument, state.step >= 0, who, " has step count ", state.step);
  }

  const Options& options() const noexcept { return options_; }
  const SgdState<T>& state() const noexcept { return state_; }
  SgdState<T>& state() noexcept { return state_; }
  void set_state(SgdState<T> state) {
    SSAH_CHECK_AS(InvalidArgument, state.step >= 0, "Sgd::set_state: negative step count ", state.step);
    state_ = std::move(state);
  }
  void reset() { state_ = SgdState<T>{}; }

  void step(ParameterSet<T>& params, double lr) { step(params.values(), params.grads(), lr); }
  void step(ParameterSet<T>& params, const LrSchedule& schedule, std::size_t epoch, std::size_t stage = 0) {
    step(params.values(), params.grads(), schedule(epoch, stage));
  }
  void step(Tensor<T>& values, const Tensor<T>& grads, double lr) {
    detail::check_optimizer_buffers(values, grads, "Sgd::step");
    const bool first = state_.step == 0 || !state_.momentum_buffer.defined();
    if (options_.momentum != 0.0) detail::ensure_state(state_.momentum_buffer, values.size(), "Sgd::step");
    ++state_.step;
    detail::sgd_update(values, grads, state_.momentum_buffer, static_cast<T>(lr), static_cast<T>(options_.momentum),
                       static_cast<T>(1.0 - options_.dampening), options_.nesterov, first);
  }

 private:
  Options options_;
  SgdState<T> state_;
};

}  // namespace ssah
