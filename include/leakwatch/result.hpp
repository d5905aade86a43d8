// result.hpp: lw::Result<T>, the value-or-error type returned across library boundaries.
// Not thread-safe by itself (a plain value). Constructing an error allocates its message.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace lw {

// Error is what failed, in words a user can act on ("cannot open /x.db: permission denied").
struct Error {
  std::string message;
};

// Result<T> holds either a T or an Error. GCC 12 has no std::expected in C++20 mode.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

// make_error builds an Error from a message; kept short so call sites read as prose.
inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace lw
