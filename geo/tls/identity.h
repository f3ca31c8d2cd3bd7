// Who a verified client certificate names, and the allow-lists that decide
// whether that client may call a listener.
#ifndef GEO_TLS_IDENTITY_H_
#define GEO_TLS_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/tls/openssl_handles.h"
#include "geo/tls/peer_identity.h"

namespace geo::tls {

// The names of a certificate the handshake has verified; empty for null.
PeerIdentity IdentityOf(X509* certificate);

// The client identities allowed on one listener. Empty: every client the
// handshake accepted. An entry matches a certificate that carries it as a
// SAN URI, a SAN DNS name or the subject CN, compared exactly. Thread-safe
// (immutable).
class ClientIdentityAllowList {
 public:
  ClientIdentityAllowList() = default;
  // INVALID_ARGUMENT for an empty entry or one with control characters or
  // spaces.
  static absl::StatusOr<ClientIdentityAllowList> Create(
      const std::vector<std::string>& identities);

  bool empty() const { return allowed_.empty(); }
  bool Allows(const PeerIdentity& identity) const;
  // Any of `names` is on the list (for identities gRPC has already split).
  bool AllowsAnyOf(const std::vector<absl::string_view>& names) const;

 private:
  absl::flat_hash_set<std::string> allowed_;
};

}  // namespace geo::tls

#endif  // GEO_TLS_IDENTITY_H_
