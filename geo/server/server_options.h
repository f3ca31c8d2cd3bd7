// The server's configuration: every setting is a flag with an environment
// variable equivalent (a flag on the command line wins over the variable).
// ServerSettings() is the one table of names, defaults and help; --help and
// MAINTENANCE.md's map (checked by tests/docs:flag_map_test) come from it.
#ifndef GEO_SERVER_SERVER_OPTIONS_H_
#define GEO_SERVER_SERVER_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/common/logging.h"
#include "geo/common/settings.h"
#include "geo/tls/tls_options.h"

namespace geo {

// Default-constructed, each field holds the default its row in
// ServerSettings() gives; the table is the one place defaults are written.
struct ServerOptions {
  ServerOptions();

  // Database files, e.g. City and ASN; each is watched and hot-reloaded.
  std::vector<std::string> db_paths;
  // Address all listeners bind to. Containers need 0.0.0.0; `make run` and the
  // tests pass 127.0.0.1.
  std::string listen_address;
  int grpc_port{};
  int http_port{};
  int metrics_port{};
  // Geofence policy file (JSON or YAML); empty = allow everything.
  std::string policy_path;
  // Local overrides, an RFC 8805 geofeed CSV (geo/data/overrides.h); empty:
  // none.
  std::string overrides_path;
  absl::Duration poll_interval;
  // Readiness false and health NOT_SERVING for this long before listeners
  // close, so load balancers stop sending new requests first.
  absl::Duration drain_delay;
  // Deadline for in-flight requests once listeners close.
  absl::Duration shutdown_timeout;
  // Proxies whose forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP,
  // client_ip_headers) are trusted (CIDRs).
  std::vector<std::string> trusted_proxies;
  LogLevel log_level{};
  // Accept a reload that changes a slot's database_type (e.g. Country -> City).
  bool allow_type_change{};
  // HTTP I/O threads; 0 = one per CPU the process may use (CpuBudget).
  int http_threads{};
  int max_batch_size{};
  // HTTP limits, as geo::http::HttpServerOptions documents them:
  // request line plus headers beyond max_header_bytes is 431, a body beyond
  // max_body_bytes 413, connections beyond max_connections 503; a keep-alive
  // connection silent for idle_timeout is closed, and a request not complete
  // within request_timeout (slowloris) gets 408.
  int http_max_header_bytes{};
  int http_max_body_bytes{};
  int http_max_connections{};
  absl::Duration http_idle_timeout;
  absl::Duration http_request_timeout;
  // A gRPC connection that has not finished its TLS handshake and sent the
  // HTTP/2 preface and SETTINGS within this is closed (gRPC's default, 120 s,
  // lets idle connections hold descriptors for two minutes each).
  absl::Duration grpc_handshake_timeout;
  // Liveness and readiness (/healthz, /readyz) on a listener of their own,
  // with a per-peer connection cap, so lookup traffic cannot make the kubelet
  // restart a healthy pod by filling the HTTP port's connection slots.
  int health_port{};
  // Single-address headers a CDN sets (CF-Connecting-IP, True-Client-IP),
  // honoured from trusted proxies before Forwarded and X-Forwarded-For.
  std::vector<std::string> client_ip_headers;
  // Prefix of the forward-auth decision headers (X-Geo-Decision, ...).
  std::string edge_header_prefix;
  // TLS for the gRPC and HTTP listeners (and metrics with metrics_tls), as
  // geo::tls::TlsOptions documents it; empty certificate: plaintext. The
  // health listener stays plaintext for probes (docs/tls.md).
  tls::TlsOptions tls;
  // Client identities allowed per listener (SAN URI, SAN DNS or CN); empty:
  // any client the handshake accepts.
  std::vector<std::string> grpc_client_identities;
  std::vector<std::string> http_client_identities;
  bool metrics_tls{};
};

// The server's settings table: every flag, its variable, default and help.
const settings::SettingsTable<ServerOptions>& ServerSettings();

// Reads argv (see settings::ParseCommandLine) and `env`. Returns
// InvalidArgument naming the variable or flag on a bad value, and when no
// database is given; `help_requested` for --help (print ServerUsage()).
absl::StatusOr<settings::Resolved<ServerOptions>> ParseServerOptions(
    int argc, const char* const* argv, const settings::Environment& env);

// The usage text: every flag, its variable, its default and its help.
std::string ServerUsage();

}  // namespace geo

#endif  // GEO_SERVER_SERVER_OPTIONS_H_
