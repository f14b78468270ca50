#pragma once
/// \file
/// Exceptions thrown by ssah. Every message names what was expected and what was found.

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ssah {

/// Base of every exception ssah throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Tensor shapes or sizes that do not fit together.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A file that is missing, unreadable, truncated or in an unsupported format.
class IoError : public Error {
 public:
  using Error::Error;
};

/// NaN or Inf where finite numbers are required, or a diverging computation.
class NumericError : public Error {
 public:
  using Error::Error;
};

/// Arguments that are out of range or inconsistent (other than shapes).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// Memory that could not be had: the message says what was being allocated and how much.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

namespace detail {

template <class... Args>
std::string concat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

/// A size for messages: "100 bytes", "512.0 KiB", "1.5 GiB".
inline std::string human_bytes(std::size_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

template <class E = Error, class... Args>
[[noreturn]] void fail(Args&&... args) {
  std::string message = concat(std::forward<Args>(args)...);
  // what() is a C string: a NUL quoted from a file (a tensor name, say) would end the message there.
  std::replace(message.begin(), message.end(), '\0', '?');
  throw E(message);
}

}  // namespace detail
}  // namespace ssah

/// Throws ExceptionType (ssah::InvalidArgument, ssah::IoError, ...) with the message made of the
/// arguments written one after the other, e.g. SSAH_THROW(InvalidArgument, "--bits ", k, ": ...").
/// What programs built on ssah use to report errors the way the library does.
#define SSAH_THROW(ExceptionType, ...) ::ssah::detail::fail<ExceptionType>(__VA_ARGS__)

/// Throws `ssah::Error` (or the type given first via SSAH_CHECK_AS) with the concatenated message.
#define SSAH_CHECK(cond, ...)                                      \
  do {                                                             \
    if (!(cond)) ::ssah::detail::fail<::ssah::Error>(__VA_ARGS__); \
  } while (0)

#define SSAH_CHECK_AS(ExceptionType, cond, ...)                    \
  do {                                                             \
    if (!(cond)) ::ssah::detail::fail<ExceptionType>(__VA_ARGS__); \
  } while (0)
