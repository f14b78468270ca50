#pragma once
/// \file
/// Reverse-mode automatic differentiation over tensors.
///
/// A `Var<T>` is a handle to a node holding a value and, after `backward()`, a gradient. Each op
/// (see `ssah/ops.hpp`) computes its value and, when gradients are being recorded, keeps its
/// inputs and a backward closure. `backward()` orders the graph topologically from the root and
/// runs the closures in reverse; a closure adds its contribution into each input's gradient, so
/// fan-out accumulates. Gradients are only recorded when an input requires them and no
/// `NoGradGuard` is alive on this thread.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ssah/error.hpp"
#include "ssah/tensor.hpp"

namespace ssah {

namespace detail {
inline bool& grad_mode_flag() {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

/// Whether ops record their backward pass on this thread.
inline bool grad_enabled() { return detail::grad_mode_flag(); }

/// While alive, ops on this thread record nothing (inference, buffer updates, metrics).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(detail::grad_mode_flag()) { detail::grad_mode_flag() = false; }
  ~NoGradGuard() { detail::grad_mode_flag() = previous_; }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

template <class T>
struct Node {
  Tensor<T> value;
  /// Gradient of the root with respect to `value`; undefined until something flows into it.
  Tensor<T> grad;
  bool requires_grad = false;
  const char* op = "leaf";
  std::vector<std::shared_ptr<Node>> inputs;
  /// Reads `self.grad` and accumulates into the inputs' gradients (see `grad_sink`).
  std::function<void(Node& self)> backward;

  /// Where a backward closure writes this node's gradient contribution. Returns the gradient
  /// tensor and the factor to apply to its current content: 0 when it was just created (its
  /// content is garbage and must be overwritten, never read), 1 when contributions accumulate.
  struct GradSink {
    Tensor<T>& tensor;
    T beta;
  };
  GradSink grad_sink() {
    if (grad.defined()) return {grad, T(1)};
    grad = Tensor<T>::empty(value.shape());
    return {grad, T(0)};
  }
};

template <class T>
class Var {
 public:
  using value_type = T;

  Var() = default;
  /// A leaf holding `value`; a parameter or an input that gradients should reach if `requires_grad`.
  explicit Var(Tensor<T> value, bool requires_grad = false) : node_(std::make_shared<Node<T>>()) {
    node_->value = std::move(value);
    node_->requires_grad = requires_grad;
  }
  explicit Var(std::shared_ptr<Node<T>> node) : node_(std::move(node)) {}

  bool defined() const noexcept { return node_ != nullptr; }
  const Tensor<T>& value() const { return node_->value; }
  Tensor<T>& value() { return node_->value; }
  const Shape& shape() const { return node_->value.shape(); }
  std::size_t size() const { return node_->value.size(); }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  bool has_grad() const { return node_ && node_->grad.defined(); }
  /// The accumulated gradient (throws if none has flowed here).
  const Tensor<T>& grad() const {
    SSAH_CHECK(has_grad(), "Var::grad: no gradient reached this ", node_ ? node_->op : "undefined", " node");
    return node_->grad;
  }
  Node<T>* node() const noexcept { return node_.get(); }
  const std::shared_ptr<Node<T>>& node_ptr() const noexcept { return node_; }

  /// The same value, cut from the graph: no gradient flows through the result.
  Var detach() const { return Var(node_->value, false); }

  /// Back-propagates from this scalar (seed 1).
  void backward(bool keep_graph = false) {
    SSAH_CHECK_AS(ShapeError, size() == 1, "Var::backward(): the root must be a scalar, got shape ",
                  shape().str(), "; pass a seed gradient instead");
    backward(Tensor<T>::full(shape(), T(1)), keep_graph);
  }
  /// Back-propagates `seed` (the gradient of some scalar with respect to this value). Unless
  /// `keep_graph`, the graph's closures are released afterwards so its memory is freed.
  void backward(const Tensor<T>& seed, bool keep_graph = false);

 private:
  std::shared_ptr<Node<T>> node_;
};

namespace detail {

/// Builds the result of an op. `backward` is recorded only when gradients are enabled and some
/// input requires them; it receives the result node and adds into its inputs' gradients.
template <class T, class Backward>
Var<T> make_result(Tensor<T> value, const char* op, std::vector<Var<T>> inputs, Backward&& backward) {
  auto node = std::make_shared<Node<T>>();
  node->value = std::move(value);
  node->op = op;
  if (grad_enabled()) {
    bool any = false;
    for (const auto& in : inputs) any = any || in.requires_grad();
    if (any) {
      node->requires_grad = true;
      node->inputs.reserve(inputs.size());
      for (const auto& in : inputs) node->inputs.push_back(in.node_ptr());
      node->backward = std::forward<Backward>(backward);
    }
  }
  return Var<T>(std::move(node));
}

}  // namespace detail

template <class T>
void Var<T>::backward(const Tensor<T>& seed, bool keep_graph) {
  SSAH_CHECK(defined(), "Var::backward: undefined variable");
  check_same_shape(seed.shape(), shape(), "Var::backward seed");
  if (!node_->requires_grad) return;
  // Topological order by iterative depth-first search (post-order), over nodes needing gradients.
  std::vector<Node<T>*> order;
  std::unordered_set<Node<T>*> seen;
  std::vector<std::pair<Node<T>*, std::size_t>> stack{{node_.get(), 0}};
  seen.insert(node_.get());
  while (!stack.empty()) {
    auto& [n, next] = stack.back();
    if (next < n->inputs.size()) {
      Node<T>* child = n->inputs[next++].get();
      if (child->requires_grad && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }
  auto sink = node_->grad_sink();
  if (sink.beta == T(0)) {
    sink.tensor.assign(seed);
  } else {
    const T* s = seed.data();
    T* d = sink.tensor.data();
    detail::parallel_for(seed.size(), [=] SSAH_HOST_DEVICE(std::size_t i) { d[i] += s[i]; });
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node<T>* n = *it;
    if (n->backward && n->grad.defined()) n->backward(*n);
  }
  if (!keep_graph) {
    for (Node<T>* n : order) {
      if (n->backward) {
        n->backward = nullptr;
        n->inputs.clear();
      }
    }
  }
}

}  // namespace ssah
