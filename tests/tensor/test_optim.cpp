// Optimizers against hand-rolled double references, persistence and checkpointing of their
// state, and the learning-rate schedules (including the reference code's table).

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "ssah/ops/elementwise.hpp"
#include "ssah/ops/loss.hpp"
#include "ssah/ops/reduce.hpp"
#include "ssah/optim.hpp"
#include "ssah/parameters.hpp"
#include "helpers.hpp"

using namespace ssah;
using test::host;

namespace {

/// f(p) = 1/2 sum a_i (p_i - c_i)^2 over a flat parameter vector, with its gradient a (p - c).
struct Quadratic {
  std::vector<double> a, c;
  explicit Quadratic(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      a.push_back(0.5 + 0.1 * double(i % 7));
      c.push_back(std::sin(double(i)));
    }
  }
  std::vector<double> grad(const std::vector<double>& p) const {
    std::vector<double> g(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) g[i] = a[i] * (p[i] - c[i]);
    return g;
  }
};

/// A parameter set of two tensors (12 + 5 values) starting at p0.
template <class T>
struct Problem {
  ParameterSet<T> ps;
  Var<T> w, b;
  Quadratic q{17};
  Problem() {
    w = ps.add("w", Shape{3, 4});
    b = ps.add("b", Shape{5});
    std::vector<T> p0;
    for (std::size_t i = 0; i < 17; ++i) p0.push_back(T(0.3 * std::cos(3.0 * double(i))));
    ps.values().copy_from_host(p0.data(), p0.size());
  }
  /// Gradients through autodiff: loss = 1/2 sum a (p - c)^2 with a, c constants.
  void compute_grads() {
    ps.zero_grad();
    const auto as = std::vector<T>(q.a.begin(), q.a.end());
    const auto cs = std::vector<T>(q.c.begin(), q.c.end());
    Var<T> aw(Tensor<T>::from_host(Shape{3, 4}, std::vector<T>(as.begin(), as.begin() + 12)));
    Var<T> ab(Tensor<T>::from_host(Shape{5}, std::vector<T>(as.begin() + 12, as.end())));
    Var<T> cw(Tensor<T>::from_host(Shape{3, 4}, std::vector<T>(cs.begin(), cs.begin() + 12)));
    Var<T> cb(Tensor<T>::from_host(Shape{5}, std::vector<T>(cs.begin() + 12, cs.end())));
    Var<T> loss = sum(mul(aw, squared_error(w, cw))) + sum(mul(ab, squared_error(b, cb)));
    scale(loss, T(0.5)).backward();
  }
  std::vector<double> values() const { return host(ps.values()); }
};

double max_abs_diff(const std::vector<double>& x, const std::vector<double>& y) {
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) d = std::max(d, std::abs(x[i] - y[i]));
  return d;
}

/// Hand-rolled Adam in double; `tf` selects TensorFlow's epsilon placement.
std::vector<double> adam_reference(const Quadratic& q, std::vector<double> p, int steps, double eps, bool tf,
                                   const LrSchedule& lr) {
  const double b1 = 0.9, b2 = 0.999;
  std::vector<double> m(p.size(), 0.0), v(p.size(), 0.0);
  for (int t = 1; t <= steps; ++t) {
    const std::vector<double> g = q.grad(p);
    const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    const double rate = lr(std::size_t(t - 1) / 10, std::size_t(t - 1) % 3);
    for (std::size_t i = 0; i < p.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      if (tf)
        p[i] -= rate * std::sqrt(bc2) / bc1 * m[i] / (std::sqrt(v[i]) + eps);
      else
        p[i] -= rate / bc1 * (m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + eps));
    }
  }
  return p;
}

std::vector<double> sgd_reference(const Quadratic& q, std::vector<double> p, int steps, double lr, double mu,
                                  double dampening, bool nesterov) {
  std::vector<double> buf(p.size(), 0.0);
  for (int t = 1; t <= steps; ++t) {
    const std::vector<double> g = q.grad(p);
    for (std::size_t i = 0; i < p.size(); ++i) {
      buf[i] = t == 1 ? g[i] : mu * buf[i] + (1 - dampening) * g[i];
      p[i] -= lr * (nesterov ? g[i] + mu * buf[i] : buf[i]);
    }
  }
  return p;
}

}  // namespace

TEST_CASE_TEMPLATE("Adam matches a hand-rolled double reference (PyTorch and TensorFlow forms)", T, float, double) {
  // Thresholds on the largest parameter difference after 60 steps: double 1e-10, float 2e-5.
  const double tol = std::is_same_v<T, double> ? 1e-10 : 2e-5;
  const int steps = 60;
  // A schedule that changes with epoch and stage, to exercise the schedule overload.
  const LrSchedule lr = [](std::size_t e, std::size_t s) { return 0.05 / double(1 + e) + 0.01 * double(s); };
  for (const bool tf : {false, true}) {
    for (const double eps : {1e-8, 1e-2}) {
      CAPTURE(tf);
      CAPTURE(eps);
      Problem<T> pr;
      const std::vector<double> p0 = pr.values();
      typename Adam<T>::Options opt;
      opt.eps = eps;
      opt.form = tf ? AdamForm::TensorFlow : AdamForm::PyTorch;
      Adam<T> adam(opt);
      for (int t = 0; t < steps; ++t) {
        pr.compute_grads();
        adam.step(pr.ps, lr, std::size_t(t) / 10, std::size_t(t) % 3);
      }
      CHECK(adam.state().step == steps);
      const std::vector<double> ref = adam_reference(pr.q, p0, steps, eps, tf, lr);
      CHECK(max_abs_diff(pr.values(), ref) < tol);
      // The forms differ measurably when eps is large (so the test can tell them apart).
      if (eps > 1e-3) CHECK(max_abs_diff(ref, adam_reference(pr.q, p0, steps, eps, !tf, lr)) > 1e-4);
      CHECK(max_abs_diff(pr.values(), p0) > 0.1);  // it did move
    }
  }
}

TEST_CASE_TEMPLATE("SGD with momentum (plain, dampened, Nesterov) matches a double reference", T, float, double) {
  const double tol = std::is_same_v<T, double> ? 1e-12 : 1e-5;
  struct Case {
    double mu, dampening;
    bool nesterov;
  };
  for (const Case c : {Case{0.0, 0.0, false}, Case{0.9, 0.0, false}, Case{0.8, 0.3, false}, Case{0.9, 0.0, true}}) {
    CAPTURE(c.mu);
    CAPTURE(c.nesterov);
    Problem<T> pr;
    const std::vector<double> p0 = pr.values();
    typename Sgd<T>::Options opt;
    opt.momentum = c.mu;
    opt.dampening = c.dampening;
    opt.nesterov = c.nesterov;
    Sgd<T> sgd(opt);
    for (int t = 0; t < 40; ++t) {
      pr.compute_grads();
      sgd.step(pr.ps, 0.05);
    }
    CHECK(max_abs_diff(pr.values(), sgd_reference(pr.q, p0, 40, 0.05, c.mu, c.dampening, c.nesterov)) < tol);
    CHECK(sgd.state().momentum_buffer.defined() == (c.mu != 0.0));
  }
  typename Sgd<T>::Options nesterov_without_momentum;
  nesterov_without_momentum.momentum = 0;
  nesterov_without_momentum.nesterov = true;
  CHECK_THROWS_AS(Sgd<T>{nesterov_without_momentum}, InvalidArgument);
}

TEST_CASE("optimizer state persists across calls, per network, and restores from a checkpoint") {
  // Alternating two networks, each with its own Adam, equals running each alone.
  Problem<double> a, b, a_alone, b_alone;
  Adam<double> opt_a, opt_b, opt_a_alone, opt_b_alone;
  for (int t = 0; t < 15; ++t) {
    a.compute_grads();
    opt_a.step(a.ps, 0.02);
    b.compute_grads();
    opt_b.step(b.ps, 0.01);
  }
  for (int t = 0; t < 15; ++t) {
    a_alone.compute_grads();
    opt_a_alone.step(a_alone.ps, 0.02);
  }
  for (int t = 0; t < 15; ++t) {
    b_alone.compute_grads();
    opt_b_alone.step(b_alone.ps, 0.01);
  }
  CHECK(a.values() == a_alone.values());
  CHECK(b.values() == b_alone.values());

  // Checkpoint after 15 steps, continue 10 more; a restored copy continues identically.
  AdamState<double> saved{opt_a.state().m.clone(), opt_a.state().v.clone(), opt_a.state().step};
  const Tensor<double> saved_values = a.ps.values().clone();
  for (int t = 0; t < 10; ++t) {
    a.compute_grads();
    opt_a.step(a.ps, 0.02);
  }
  Problem<double> resumed;
  resumed.ps.values().assign(saved_values);
  Adam<double> opt_resumed;
  opt_resumed.set_state(saved);
  for (int t = 0; t < 10; ++t) {
    resumed.compute_grads();
    opt_resumed.step(resumed.ps, 0.02);
  }
  CHECK(resumed.values() == a.values());
  CHECK(opt_resumed.state().step == 25);
  // Without the state (fresh moments) the result differs: the state matters.
  Problem<double> fresh;
  fresh.ps.values().assign(saved_values);
  Adam<double> opt_fresh;
  for (int t = 0; t < 10; ++t) {
    fresh.compute_grads();
    opt_fresh.step(fresh.ps, 0.02);
  }
  CHECK(max_abs_diff(fresh.values(), a.values()) > 1e-4);

  // One optimizer per parameter set: a different size is an error.
  ParameterSet<double> other;
  other.add("x", Shape{3});
  CHECK_THROWS_AS(opt_a.step(other, 0.1), ShapeError);
  AdamState<double> bad{Tensor<double>(Shape{3}), Tensor<double>(Shape{4}), 1};
  CHECK_THROWS_AS(opt_a.set_state(bad), ShapeError);
  Adam<double>::Options beta2_one;
  beta2_one.beta2 = 1.0;
  CHECK_THROWS_AS(Adam<double>{beta2_one}, InvalidArgument);
}

TEST_CASE("learning-rate schedules, including the reference code's table") {
  // Values printed by numpy: [0.1**x for x in np.arange(start, 100, 0.5)].
  const SsahTableLr img{4.5}, lab{2.0}, txt{3.5}, dis{3.0};
  CHECK(img.size() == 191);
  CHECK(lab.size() == 196);
  CHECK(img(0, 0) == doctest::Approx(3.16227766016838e-05).epsilon(1e-14));
  CHECK(img(0, 1) == doctest::Approx(1.0000000000000003e-05).epsilon(1e-14));
  CHECK(img(0, 2) == doctest::Approx(3.1622776601683805e-06).epsilon(1e-14));
  CHECK(img(1, 0) == img(0, 1));  // the next epoch starts one entry further: / sqrt(10)
  CHECK(img(9, 0) == doctest::Approx(1.0000000000000005e-09).epsilon(1e-14));
  CHECK(lab(0, 0) == doctest::Approx(0.010000000000000002).epsilon(1e-14));
  CHECK(lab(0, 1) == doctest::Approx(0.00316227766016838).epsilon(1e-14));
  CHECK(txt(0, 2) == doctest::Approx(3.16227766016838e-05).epsilon(1e-14));
  CHECK(dis(0, 1) == doctest::Approx(0.000316227766016838).epsilon(1e-14));
  CHECK(img(190, 0) == doctest::Approx(3.1622776601683966e-100).epsilon(1e-12));
  CHECK_THROWS_AS(img(191, 0), InvalidArgument);
  CHECK_THROWS_AS(img(189, 2), InvalidArgument);

  CHECK(ConstantLr{0.3}(7, 2) == 0.3);
  const StepLr step{0.1, 0.5, 2};
  CHECK(step(0) == 0.1);
  CHECK(step(1) == 0.1);
  CHECK(step(2) == doctest::Approx(0.05));
  CHECK(step(5) == doctest::Approx(0.025));
  CHECK(ExponentialLr{1.0, 0.5}(3) == doctest::Approx(0.125));

  const LrSchedule erased = img;
  CHECK(erased(0, 1) == img(0, 1));
  const LrSchedule copy = erased;
  CHECK(copy(2, 0) == img(2, 0));
}
