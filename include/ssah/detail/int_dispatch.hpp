#pragma once
/// \file
/// The one step from an integer known at run time to a compile-time constant: `with_int_constant`
/// over a named set of values (std::integer_sequence). Both run-time code-length dispatchers are
/// this call over their set: `with_model_bits` (model/any_model.hpp: the K a model is compiled for)
/// and `with_code_bits` (hashing/dispatch.hpp: the K codes read from a file are searched with).

#include <array>
#include <type_traits>
#include <utility>

#include "ssah/error.hpp"

namespace ssah::detail {

/// Calls f(std::integral_constant<int, V>{}) for the V of the sequence equal to `value` and returns
/// what it returns; when there is none, calls missing(value), which throws the caller's error.
template <int First, int... Rest, class F, class Missing>
decltype(auto) with_int_constant(std::integer_sequence<int, First, Rest...>, int value, F&& f, Missing&& missing) {
  using Result = decltype(std::forward<F>(f)(std::integral_constant<int, First>{}));
  if (value == First) return static_cast<Result>(std::forward<F>(f)(std::integral_constant<int, First>{}));
  if constexpr (sizeof...(Rest) == 0) {
    std::forward<Missing>(missing)(value);
    fail<InvalidArgument>("with_int_constant: ", value, " is not in the set");  // `missing` did not throw
  } else {
    return static_cast<Result>(with_int_constant(std::integer_sequence<int, Rest...>{}, value, std::forward<F>(f),
                                                 std::forward<Missing>(missing)));
  }
}

/// The values of an integer_sequence as an array, for loops and messages.
template <int... Values>
constexpr auto int_array(std::integer_sequence<int, Values...>) noexcept {
  return std::array<int, sizeof...(Values)>{{Values...}};
}

}  // namespace ssah::detail
