#include "src/server/custom_profile_endpoints.hpp"

#include <sstream>

#include "src/profile/custom_text.hpp"
#include "src/profile/pprof_builder.hpp"

namespace lw::server {

std::string custom_profile_proto(const snapshot::Snapshot& s, const snapshot::CustomProfile& p) {
  return profile::custom_pprof(s, p);
}

std::string custom_profile_text(const snapshot::Snapshot& s, const snapshot::CustomProfile& p) {
  std::ostringstream os;
  profile::write_custom_text(os, s, p);
  return os.str();
}

}  // namespace lw::server
