// chan.hpp: lw::Chan<T>, Go's channel. A Chan is a copyable handle to one shared channel; every
// copy is registered with the channel (one lock per copy/destroy), which is what lets the runtime
// prove that a blocked task can never be woken (docs/runtime.md). Thread-safe: any number of
// tasks (or plain threads) may use copies of one channel at once. send/recv/close allocate only
// when the channel is created (the ring buffer); waiting never allocates.
//
// Share channels by value, as in Go: capture copies in go() lambdas. Using a handle that lives on
// another task's stack (a by-reference capture) works, but is reported once and takes the channel
// out of leak proofs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>

#include "leakwatch/runtime.hpp"

namespace lw {
namespace detail {

struct ChanCore;

// ElemOps tells the untyped channel core how to move and destroy one element.
struct ElemOps {
  std::size_t size;
  std::size_t align;
  void (*move_to)(void* dst, void* src);  // move-construct at dst from src (src stays alive)
  void (*destroy)(void* p);
};

template <class T>
inline constexpr ElemOps kElemOps = {
    sizeof(T), alignof(T),
    [](void* dst, void* src) { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* p) { static_cast<T*>(p)->~T(); },
};

// ChanHandle is the untyped part of Chan<T>: one registered reference to a channel core.
class ChanHandle {
 public:
  ChanHandle() noexcept = default;  // the nil channel
  ChanHandle(std::size_t capacity, const ElemOps* ops);
  ChanHandle(const ChanHandle& other) noexcept;
  ChanHandle(ChanHandle&& other) noexcept;
  ChanHandle& operator=(const ChanHandle& other) noexcept;
  ChanHandle& operator=(ChanHandle&& other) noexcept;
  ~ChanHandle();

  // send_raw() moves the element at `elem` into the channel (the caller still destroys *elem).
  void send_raw(void* elem) const;
  // recv_raw() move-constructs an element at `out`; false when closed and drained.
  bool recv_raw(void* out) const;
  void close() const;
  std::size_t size() const noexcept;      // buffered elements now
  std::size_t capacity() const noexcept;
  bool is_nil() const noexcept { return core_ == nullptr; }
  const void* id() const noexcept { return core_; }
  bool operator==(const ChanHandle& o) const noexcept { return core_ == o.core_; }

 private:
  friend struct ChanCore;
  friend struct HandleAccess;
  void attach(ChanCore* core) noexcept;
  void detach() noexcept;

  ChanCore* core_ = nullptr;
  // Links in the core's handle list and the task whose stack holds this handle (null: anyone).
  // Guarded by the core's lock.
  ChanHandle* prev_ = nullptr;
  ChanHandle* next_ = nullptr;
  void* owner_ = nullptr;
};

}  // namespace detail

// Chan<T> is a channel of T. `Chan<T> ch(n)` makes a new channel with n buffered slots (0 =
// unbuffered); `Chan<T> ch;` is the nil channel, on which send and recv block forever.
template <class T>
class Chan : private detail::ChanHandle {
 public:
  Chan() noexcept = default;
  explicit Chan(std::size_t capacity) : detail::ChanHandle(capacity, &detail::kElemOps<T>) {}

  // send() blocks until a receiver takes `v` or a buffer slot is free (wait reason "chan send").
  // Throws ChanError when the channel is (or becomes, while waiting) closed.
  void send(T v) const { send_raw(&v); }
  // recv() blocks until a value arrives; empty once the channel is closed and drained.
  std::optional<T> recv() const {
    alignas(T) unsigned char buf[sizeof(T)];
    if (!recv_raw(buf)) return std::nullopt;
    T* p = std::launder(reinterpret_cast<T*>(buf));
    std::optional<T> out(std::move(*p));
    p->~T();
    return out;
  }
  // close() closes the channel: waiting receivers get nullopt, waiting senders ChanError.
  // Throws ChanError when already closed or nil.
  void close() const { detail::ChanHandle::close(); }
  std::size_t size() const noexcept { return detail::ChanHandle::size(); }
  std::size_t capacity() const noexcept { return detail::ChanHandle::capacity(); }
  bool is_nil() const noexcept { return detail::ChanHandle::is_nil(); }
  // id() identifies the channel (the same for every copy); wait_object in dumps.
  const void* id() const noexcept { return detail::ChanHandle::id(); }
  bool operator==(const Chan& o) const noexcept { return detail::ChanHandle::operator==(o); }

  // Range-for receives until the channel is closed and drained: for (int v : ch) ...
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const Chan* c) : c_(c) { ++*this; }
    T& operator*() { return *v_; }
    iterator& operator++() {
      v_ = c_->recv();
      if (!v_) c_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(const iterator& o) const { return c_ == o.c_; }

   private:
    const Chan* c_ = nullptr;
    std::optional<T> v_;
  };
  iterator begin() const { return iterator(this); }
  iterator end() const { return iterator(); }

 private:
  template <class U, class F>
  friend class RecvCase;
  template <class U, class F>
  friend class SendCase;
  const detail::ChanHandle& handle() const noexcept { return *this; }
};

}  // namespace lw
