#include "geo/tls/peer_identity.h"

namespace geo::tls {

const std::string& PeerIdentity::primary() const {
  if (!uris.empty()) return uris.front();
  if (!dns_names.empty()) return dns_names.front();
  return common_name;
}

bool IsClientIdentityName(absl::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return false;
  }
  return true;
}

}  // namespace geo::tls
