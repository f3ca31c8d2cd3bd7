// The server's configuration: every setting is a flag with an environment
// variable equivalent (the variable is read first, a flag on the command line
// wins). kServerSettings is the one table of names; MAINTENANCE.md's map is
// checked against it by a test.
#ifndef GEO_SERVER_SERVER_OPTIONS_H_
#define GEO_SERVER_SERVER_OPTIONS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/common/logging.h"

namespace geo {

struct ServerOptions {
  // Database files, e.g. City and ASN; each is watched and hot-reloaded.
  std::vector<std::string> db_paths;
  // Address all listeners bind to. Containers need 0.0.0.0; `make run` and the
  // tests pass 127.0.0.1.
  std::string listen_address = "0.0.0.0";
  int grpc_port = 50051;
  int http_port = 8080;
  int metrics_port = 9090;
  // Geofence policy file (JSON or YAML); empty = allow everything.
  std::string policy_path;
  // Local overrides, an RFC 8805 geofeed CSV (geo/data/overrides.h); empty:
  // none.
  std::string overrides_path;
  absl::Duration poll_interval = absl::Seconds(1);
  // Readiness false and health NOT_SERVING for this long before listeners
  // close, so load balancers stop sending new requests first.
  absl::Duration drain_delay = absl::Seconds(5);
  // Deadline for in-flight requests once listeners close.
  absl::Duration shutdown_timeout = absl::Seconds(10);
  // Proxies whose forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP,
  // client_ip_headers) are trusted (CIDRs).
  std::vector<std::string> trusted_proxies;
  LogLevel log_level = LogLevel::kInfo;
  // Accept a reload that changes a slot's database_type (e.g. Country -> City).
  bool allow_type_change = false;
  // HTTP I/O threads; 0 = one per CPU the process may use (CpuBudget).
  int http_threads = 0;
  int max_batch_size = 1000;
  // HTTP limits, as geo::http::HttpServerOptions documents them:
  // request line plus headers beyond max_header_bytes is 431, a body beyond
  // max_body_bytes 413, connections beyond max_connections 503; a keep-alive
  // connection silent for idle_timeout is closed, and a request not complete
  // within request_timeout (slowloris) gets 408.
  int http_max_header_bytes = 16 * 1024;
  int http_max_body_bytes = 1024 * 1024;
  int http_max_connections = 10000;
  absl::Duration http_idle_timeout = absl::Seconds(60);
  absl::Duration http_request_timeout = absl::Seconds(10);
  // Liveness and readiness (/healthz, /readyz) on a listener of their own,
  // with a per-peer connection cap, so lookup traffic cannot make the kubelet
  // restart a healthy pod by filling the HTTP port's connection slots.
  int health_port = 8081;
  // Single-address headers a CDN sets (CF-Connecting-IP, True-Client-IP),
  // honoured from trusted proxies before Forwarded and X-Forwarded-For.
  std::vector<std::string> client_ip_headers;
  // Prefix of the forward-auth decision headers (X-Geo-Decision, ...).
  std::string edge_header_prefix = "X-Geo-";
};

// A flag and its environment variable.
struct SettingName {
  const char* flag;
  const char* env;
};

// Every server setting, in the order of ServerOptions.
extern const std::vector<SettingName>& ServerSettings();

// Parses environment variables (through `getenv`, injectable for tests), then
// argv. Returns InvalidArgument naming the variable or flag on a bad value.
// Positional arguments are rejected.
// `--help` yields a NotFound status whose message is the usage text.
absl::StatusOr<ServerOptions> ParseServerOptions(
    int argc, const char* const* argv,
    const std::function<const char*(const char*)>& getenv_function);

// The usage text: every flag, its variable and its default.
std::string ServerUsage();

}  // namespace geo

#endif  // GEO_SERVER_SERVER_OPTIONS_H_
