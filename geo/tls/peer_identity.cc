#include "geo/tls/peer_identity.h"

namespace geo::tls {

const std::string& PeerIdentity::primary() const {
  if (!uris.empty()) return uris.front();
  if (!dns_names.empty()) return dns_names.front();
  return common_name;
}

}  // namespace geo::tls
