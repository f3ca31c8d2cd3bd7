// TLS for the server's listeners, from one certificate set: gRPC, HTTP/JSON
// and (optionally) metrics serve it; the health listener stays plaintext
// for kubelet probes (docs/tls.md). The set is watched and rotated without a
// restart; each listener may have its own client-identity allow-list.
#ifndef GEO_SERVER_SERVER_TLS_H_
#define GEO_SERVER_SERVER_TLS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"
#include "geo/tls/certificate_reloader.h"
#include "geo/tls/grpc_credentials.h"
#include "geo/tls/identity.h"
#include "geo/tls/tls_metrics.h"
#include "geo/tls/tls_options.h"
#include "grpcpp/security/server_credentials.h"
#include "prometheus/registry.h"

namespace geo {

struct ServerTlsSettings {
  tls::TlsOptions tls;
  // Client identities (SAN URI, SAN DNS or subject CN) allowed per
  // listener; empty: any client the handshake accepts. Need client
  // certificates (request or require).
  std::vector<std::string> grpc_client_identities;
  std::vector<std::string> http_client_identities;
  // Metrics over TLS too (same certificate set and client mode).
  bool metrics_tls = false;
  // How often gRPC re-reads its verified stage.
  unsigned grpc_refresh_seconds = 1;
};

// Thread-safe once created.
class ServerTls {
 public:
  // Null when TLS is off. INVALID_ARGUMENT when the settings do not fit
  // together (TlsOptions::Validate, then the allow-lists and metrics TLS,
  // which need TLS). Loads and checks the set (a bad one is an error),
  // stages it for gRPC under TMPDIR.
  static absl::StatusOr<std::unique_ptr<ServerTls>> Create(
      const ServerTlsSettings& settings, prometheus::Registry& registry,
      Clock* clock);

  ~ServerTls();

  // TLS credentials reading the stage, with the gRPC allow-list as an auth
  // metadata processor when one is set.
  std::shared_ptr<grpc::ServerCredentials> GrpcCredentials();

  tls::CertificateReloader* reloader() { return reloader_.get(); }
  tls::TlsMetrics* metrics() { return &metrics_; }
  const tls::ClientIdentityAllowList& http_allowed() const {
    return http_allowed_;
  }
  const ServerTlsSettings& settings() const { return settings_; }
  // Whether the listeners ask clients for certificates (request or
  // require): only then can a call carry a verified client identity.
  bool asks_for_client_certificates() const {
    return settings_.tls.client_certificates != tls::ClientCertificates::kOff;
  }

  void StartWatching(absl::Duration poll_interval, Clock* clock);
  void StopWatching();

 private:
  ServerTls(const ServerTlsSettings& settings, prometheus::Registry& registry)
      : settings_(settings), metrics_(registry, tls::kServerTlsMetricNames) {}

  const ServerTlsSettings settings_;
  tls::TlsMetrics metrics_;
  tls::ClientIdentityAllowList grpc_allowed_;
  tls::ClientIdentityAllowList http_allowed_;
  std::unique_ptr<tls::GrpcCertificateStage> stage_;
  std::unique_ptr<tls::CertificateReloader> reloader_;
};

}  // namespace geo

#endif  // GEO_SERVER_SERVER_TLS_H_
