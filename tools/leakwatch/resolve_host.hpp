// resolve_host.hpp: getaddrinfo() under a deadline. A numeric host resolves at once; a name is
// looked up asynchronously (glibc's getaddrinfo_a) and waited for until the deadline, so a dead
// DNS server cannot hold a watch round past its timeout. Thread-safe; allocates.
#pragma once

#include <netdb.h>

#include <string>

#include "leakwatch/result.hpp"
#include "src/base/clock.hpp"

namespace lw::cli {

// AddressList owns getaddrinfo's result.
class AddressList {
 public:
  explicit AddressList(addrinfo* list = nullptr) : list_(list) {}
  ~AddressList() {
    if (list_ != nullptr) freeaddrinfo(list_);
  }
  AddressList(AddressList&& o) noexcept : list_(o.list_) { o.list_ = nullptr; }
  AddressList& operator=(AddressList&&) = delete;
  AddressList(const AddressList&) = delete;
  const addrinfo* get() const { return list_; }

 private:
  addrinfo* list_;
};

// resolve_host() resolves `host`:`port` (numeric) for a TCP connection by `deadline_ns`
// (base::now_ns() time). Errors: "cannot resolve host: ...", or "timed out" at the deadline.
Result<AddressList> resolve_host(const std::string& host, const std::string& port, base::Nanos deadline_ns);

}  // namespace lw::cli
