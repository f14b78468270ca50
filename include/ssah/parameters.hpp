#pragma once
/// \file
/// `ParameterSet<T>`: every trainable tensor of one network in one flat value buffer and one
/// flat gradient buffer. Each parameter is a leaf `Var` whose value and gradient are views into
/// those buffers, so an optimizer step is one pass over one vector, and a network's parameters
/// (or gradients) can be saved, loaded and compared as one vector.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "ssah/autodiff.hpp"
#include "ssah/error.hpp"

namespace ssah {

template <class T>
class ParameterSet {
 public:
  struct Entry {
    std::string name;
    Shape shape;
    std::size_t offset;  ///< into the flat buffers
    Var<T> var;
  };

  ParameterSet() = default;
  // Parameters are referred to by the Vars that layers hold: moving keeps them, copying would not.
  ParameterSet(const ParameterSet&) = delete;
  ParameterSet& operator=(const ParameterSet&) = delete;
  ParameterSet(ParameterSet&&) noexcept = default;
  ParameterSet& operator=(ParameterSet&&) noexcept = default;

  /// Registers a zero-initialised parameter and returns its leaf Var. Adding re-lays the flat
  /// buffers (values are kept): do it while building a network, not while training.
  Var<T> add(const std::string& name, const Shape& shape) {
    for (const auto& e : entries_)
      SSAH_CHECK_AS(InvalidArgument, e.name != name, "ParameterSet::add: duplicate parameter name '", name, "'");
    const std::size_t offset = size();
    Tensor<T> values(Shape{offset + shape.size()});
    if (offset) values.rows(0, offset).assign(values_);
    values_ = values;
    grads_ = Tensor<T>(Shape{values_.size()});
    Var<T> var(Tensor<T>(), true);
    entries_.push_back(Entry{name, shape, offset, var});
    for (auto& e : entries_) rebind(e);
    // The outgrown buffers (now unreferenced, in the pool's cache) have a size that will not come
    // back: hand them to the system, or building a large network would keep GBs cached.
    if (offset) detail::MemoryPool::instance().release_cached(offset * sizeof(T));
    return var;
  }

  std::size_t size() const noexcept { return values_.size(); }
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  const Entry& entry(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.name == name) return e;
    detail::fail<InvalidArgument>("ParameterSet: no parameter named '", name, "'");
  }

  /// All values / gradients, flat (views: writing into them changes the parameters).
  Tensor<T>& values() noexcept { return values_; }
  const Tensor<T>& values() const noexcept { return values_; }
  Tensor<T>& grads() noexcept { return grads_; }
  const Tensor<T>& grads() const noexcept { return grads_; }

  void zero_grad() { grads_.fill(T(0)); }

 private:
  void rebind(Entry& e) {
    Node<T>& node = *e.var.node();
    node.value = values_.rows(e.offset, e.offset + e.shape.size()).reshape(e.shape);
    node.grad = grads_.rows(e.offset, e.offset + e.shape.size()).reshape(e.shape);
    node.op = "parameter";
  }

  Tensor<T> values_{Shape{0}};
  Tensor<T> grads_{Shape{0}};
  std::vector<Entry> entries_;
};

}  // namespace ssah
