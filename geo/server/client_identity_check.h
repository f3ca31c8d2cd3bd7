// The client-identity allow-list of the gRPC listener: with mutual TLS, a
// call whose verified client certificate names none of the allowed
// identities is refused with PERMISSION_DENIED before any handler runs
// (health and reflection included: the listener is for named callers).
#ifndef GEO_SERVER_CLIENT_IDENTITY_CHECK_H_
#define GEO_SERVER_CLIENT_IDENTITY_CHECK_H_

#include <utility>

#include "geo/tls/identity.h"
#include "geo/tls/peer_identity.h"
#include "geo/tls/tls_metrics.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/auth_metadata_processor.h"

namespace geo {

// Whether the peer of `context` carries an allowed identity: a SAN URI
// (peer_uri), a SAN DNS name (peer_dns) or the subject CN
// (x509_common_name) of a certificate gRPC's TLS stack has verified.
// Allocates nothing.
bool GrpcPeerAllowed(const tls::ClientIdentityAllowList& allowed,
                     const grpc::AuthContext& context);

// The names of the peer's verified client certificate (peer_uri, peer_dns,
// x509_common_name), for policies and logs (primary() is the one name a log
// line carries); empty when the peer is not authenticated or presented no
// certificate.
tls::PeerIdentity GrpcClientIdentity(const grpc::AuthContext& context);

// Set on the TLS server credentials. Runs inline on gRPC's thread for each
// call (IsBlocking false: no thread hop). Thread-safe.
class GrpcClientIdentityCheck final : public grpc::AuthMetadataProcessor {
 public:
  // `metrics` is not owned and may be null.
  GrpcClientIdentityCheck(tls::ClientIdentityAllowList allowed,
                          tls::TlsMetrics* metrics)
      : allowed_(std::move(allowed)), metrics_(metrics) {}

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const tls::ClientIdentityAllowList allowed_;
  tls::TlsMetrics* const metrics_;
};

}  // namespace geo

#endif  // GEO_SERVER_CLIENT_IDENTITY_CHECK_H_
