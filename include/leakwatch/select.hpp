// select.hpp: lw::select, Go's select statement over channel cases. Thread-safe; never
// allocates. Among the cases ready at once, one is chosen uniformly at random (Go's fairness).
//
//   int i = lw::select(lw::recv_case(in, [](std::optional<int> v) { ... }),
//                      lw::send_case(out, 42, [] { ... }),
//                      lw::timeout_case(std::chrono::milliseconds(100), [] { ... }));
//
// A default_case makes select non-blocking; a timeout_case bounds the wait. A select with no
// case blocks forever (wait reason "select (no cases)"). The chosen case's callback runs after
// the select, and select() returns that case's index.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <tuple>
#include <utility>

#include "leakwatch/chan.hpp"

namespace lw {
namespace detail {

enum class SelectKind : std::uint8_t { kRecv, kSend, kDefault, kTimeout };

// SelectCase is one case as the runtime sees it.
struct SelectCase {
  SelectKind kind;
  const ChanHandle* chan = nullptr;  // kRecv / kSend
  void* elem = nullptr;              // kRecv: where to build the value; kSend: the value
  bool ok = false;                   // kRecv: a value arrived (false: closed)
  std::int64_t timeout_ns = 0;       // kTimeout
};

// select_impl() runs the select and returns the index of the chosen case.
std::size_t select_impl(SelectCase* cases, std::size_t n);

}  // namespace detail

template <class T, class F>
class RecvCase {
 public:
  RecvCase(const Chan<T>& ch, F fn) : ch_(&ch), fn_(std::move(fn)) {}
  detail::SelectCase to_case() { return {detail::SelectKind::kRecv, &ch_->handle(), buf_, false, 0}; }
  void fire(const detail::SelectCase& c) {
    if (!c.ok) return fn_(std::optional<T>());
    T* p = std::launder(reinterpret_cast<T*>(buf_));
    std::optional<T> v(std::move(*p));
    p->~T();
    fn_(std::move(v));
  }

 private:
  const Chan<T>* ch_;
  F fn_;
  alignas(T) unsigned char buf_[sizeof(T)];
};

template <class T, class F>
class SendCase {
 public:
  SendCase(const Chan<T>& ch, T v, F fn) : ch_(&ch), v_(std::move(v)), fn_(std::move(fn)) {}
  detail::SelectCase to_case() {
    // The core moves from buf_ only if this case is chosen; v_ itself is never touched.
    ::new (buf_) T(v_);
    return {detail::SelectKind::kSend, &ch_->handle(), buf_, false, 0};
  }
  void fire(const detail::SelectCase&) { fn_(); }
  void discard() { std::launder(reinterpret_cast<T*>(buf_))->~T(); }

 private:
  const Chan<T>* ch_;
  T v_;
  F fn_;
  alignas(T) unsigned char buf_[sizeof(T)];
};

template <class F>
class DefaultCase {
 public:
  explicit DefaultCase(F fn) : fn_(std::move(fn)) {}
  detail::SelectCase to_case() { return {detail::SelectKind::kDefault, nullptr, nullptr, false, 0}; }
  void fire(const detail::SelectCase&) { fn_(); }

 private:
  F fn_;
};

template <class F>
class TimeoutCase {
 public:
  TimeoutCase(std::chrono::nanoseconds d, F fn) : d_(d), fn_(std::move(fn)) {}
  detail::SelectCase to_case() {
    return {detail::SelectKind::kTimeout, nullptr, nullptr, false, static_cast<std::int64_t>(d_.count())};
  }
  void fire(const detail::SelectCase&) { fn_(); }

 private:
  std::chrono::nanoseconds d_;
  F fn_;
};

// recv_case(ch, fn): fn(std::optional<T>) gets the value, or nullopt when ch is closed.
template <class T, class F>
RecvCase<T, F> recv_case(const Chan<T>& ch, F fn) { return RecvCase<T, F>(ch, std::move(fn)); }
// send_case(ch, v, fn): sends v; fn() runs when this case was chosen. A closed ch throws ChanError.
template <class T, class F>
SendCase<T, F> send_case(const Chan<T>& ch, T v, F fn) { return SendCase<T, F>(ch, std::move(v), std::move(fn)); }
template <class T>
auto send_case(const Chan<T>& ch, T v) { return send_case(ch, std::move(v), [] {}); }
// default_case(fn): chosen when no other case is ready.
template <class F>
DefaultCase<F> default_case(F fn) { return DefaultCase<F>(std::move(fn)); }
inline auto default_case() { return default_case([] {}); }
// timeout_case(d, fn): chosen when nothing else became ready within d.
template <class F>
TimeoutCase<F> timeout_case(std::chrono::nanoseconds d, F fn) { return TimeoutCase<F>(d, std::move(fn)); }
inline auto timeout_case(std::chrono::nanoseconds d) { return timeout_case(d, [] {}); }

namespace detail {
template <class C>
void discard_case(C& c) {
  if constexpr (requires { c.discard(); }) c.discard();
}
}  // namespace detail

// select() waits for one of `cases` (see the file comment) and returns its index.
template <class... Cases>
std::size_t select(Cases&&... cases) {
  std::array<detail::SelectCase, sizeof...(Cases)> raw{cases.to_case()...};
  std::size_t chosen = sizeof...(Cases);
  try {
    chosen = detail::select_impl(raw.data(), raw.size());
  } catch (...) {
    (detail::discard_case(cases), ...);
    throw;
  }
  (detail::discard_case(cases), ...);
  std::size_t i = 0;
  ((i++ == chosen ? cases.fire(raw[chosen]) : void()), ...);
  return chosen;
}

}  // namespace lw
