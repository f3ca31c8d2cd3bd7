// The names a verified client certificate carries, in a form the layers above
// TLS (HTTP requests, gRPC calls, policies, logs) can use without OpenSSL.
#ifndef GEO_TLS_PEER_IDENTITY_H_
#define GEO_TLS_PEER_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace geo::tls {

// Only meaningful for a certificate the TLS handshake has verified against
// the client CA bundle: whoever holds a matching key can present any names.
struct PeerIdentity {
  // subjectAltName URIs (SPIFFE IDs: spiffe://cluster.local/ns/x/sa/y).
  std::vector<std::string> uris;
  // subjectAltName DNS names.
  std::vector<std::string> dns_names;
  // The subject's commonName, empty when it has none.
  std::string common_name;

  bool empty() const {
    return uris.empty() && dns_names.empty() && common_name.empty();
  }
  // The one name for logs: the first URI, else the first DNS name, else the
  // common name ("" for no certificate).
  const std::string& primary() const;
};

// Whether `name` can be a client identity to match (an allow-list or policy
// entry): not empty, and no space or control character, which no name in a
// certificate holds.
bool IsClientIdentityName(absl::string_view name);

}  // namespace geo::tls

#endif  // GEO_TLS_PEER_IDENTITY_H_
