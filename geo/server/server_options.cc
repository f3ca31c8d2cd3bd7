#include "geo/server/server_options.h"

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace geo {

using O = ServerOptions;
using settings::Setting;

ServerOptions::ServerOptions() { ServerSettings().ApplyDefaults(this); }

namespace {

// The TLS rows of the gRPC, HTTP and metrics listeners.
tls::TlsSettingNames ListenerTlsNames() {
  tls::TlsSettingNames names;
  names.flag_prefix = "tls_";
  names.env_prefix = "GEO_TLS_";
  names.certificate_help =
      "PEM certificate chain, leaf first (tls.crt): gRPC and HTTP serve TLS; "
      "empty: plaintext";
  names.private_key_help = "PEM private key of the certificate (tls.key)";
  names.client_ca_help =
      "PEM CA bundle client certificates must chain to (ca.crt)";
  names.client_certificates_help =
      "client certificates (mutual TLS): off, request (verified when sent) or "
      "require";
  names.min_version_help = "lowest TLS version the HTTP listeners accept";
  return names;
}

}  // namespace

// The server's settings, in the order --help lists them. To add a setting:
// add its field to ServerOptions (server_options.h) and one row here (flag,
// typed value, variable, default, help), then its row in MAINTENANCE.md's
// "Server settings" (tests/docs:flag_map_test compares the two). Nothing
// else lists settings: the command line, --help, the precedence and the
// error messages all come from this table.
const settings::SettingsTable<ServerOptions>& ServerSettings() {
  static const auto* table = new settings::SettingsTable<O>(
      {"geo_server",
       "Geo-IP lookups and geofencing over gRPC and HTTP/JSON, with MaxMind "
       "databases hot-reloaded as they change.",
       ""},
      {
          Setting<O>("db", settings::CommaList(&O::db_paths))
              .Env({"GEO_DB_PATHS"})
              .Help("comma-separated database files (e.g. City and ASN); "
                    "required"),
          Setting<O>("listen_address",
                     settings::String(&O::listen_address, /*non_empty=*/true))
              .Env({"GEO_LISTEN_ADDRESS"})
              .Default("0.0.0.0")
              .Help("address the gRPC, HTTP and metrics listeners bind to"),
          Setting<O>("grpc_port", settings::Port(&O::grpc_port))
              .Env({"GEO_GRPC_PORT"})
              .Default("50051")
              .Help("gRPC port"),
          Setting<O>("http_port", settings::Port(&O::http_port))
              .Env({"GEO_HTTP_PORT"})
              .Default("8080")
              .Help("HTTP/JSON port"),
          Setting<O>("metrics_port", settings::Port(&O::metrics_port))
              .Env({"GEO_METRICS_PORT"})
              .Default("9090")
              .Help("Prometheus /metrics port"),
          Setting<O>("policy", settings::Path(&O::policy_path))
              .Env({"GEO_POLICY_FILE"})
              .Help("geofence policy file, JSON or YAML (none: allow all)"),
          Setting<O>("overrides", settings::Path(&O::overrides_path))
              .Env({"GEO_OVERRIDES_FILE"})
              .Help("local overrides, RFC 8805 geofeed CSV (none: no "
                    "overrides)"),
          Setting<O>("poll_interval",
                     settings::PositiveDuration(&O::poll_interval))
              .Env({"GEO_POLL_INTERVAL"})
              .Default("1s")
              .Help("how often watched files are checked"),
          Setting<O>("drain_delay",
                     settings::NonNegativeDuration(&O::drain_delay))
              .Env({"GEO_DRAIN_DELAY"})
              .Default("5s")
              .Help("time between readiness going false and listeners "
                    "closing"),
          Setting<O>("shutdown_timeout",
                     settings::NonNegativeDuration(&O::shutdown_timeout))
              .Env({"GEO_SHUTDOWN_TIMEOUT"})
              .Default("10s")
              .Help("deadline for in-flight requests at shutdown"),
          Setting<O>("trusted_proxies",
                     settings::CommaList(&O::trusted_proxies))
              .Env({"GEO_TRUSTED_PROXIES"})
              .Help("comma-separated CIDRs whose forwarding headers are "
                    "trusted"),
          Setting<O>("log_level", LogLevelValue(&O::log_level))
              .Env({"GEO_LOG_LEVEL"})
              .Default("info")
              .Help("least severe level logged"),
          Setting<O>("allow_type_change", settings::Bool(&O::allow_type_change))
              .Env({"GEO_ALLOW_TYPE_CHANGE"})
              .Default("false")
              .Help("accept a reload that changes a database's type"),
          Setting<O>("http_threads",
                     settings::IntInRange(&O::http_threads, 0, 256))
              .Env({"GEO_HTTP_THREADS"})
              .Default("0")
              .Help("HTTP I/O threads (0 = one per CPU the process may use)"),
          Setting<O>("max_batch_size",
                     settings::IntInRange(&O::max_batch_size, 1, 100000))
              .Env({"GEO_MAX_BATCH_SIZE"})
              .Default("1000")
              .Help("most addresses in one BatchLookup"),
          Setting<O>(
              "http_max_header_bytes",
              settings::IntInRange(&O::http_max_header_bytes, 256, 1 << 20))
              .Env({"GEO_HTTP_MAX_HEADER_BYTES"})
              .Default("16384")
              .Help("HTTP request line plus headers, in bytes; beyond: 431"),
          Setting<O>(
              "http_max_body_bytes",
              settings::IntInRange(&O::http_max_body_bytes, 0, 256 << 20))
              .Env({"GEO_HTTP_MAX_BODY_BYTES"})
              .Default("1048576")
              .Help("HTTP request body, in bytes; beyond: 413"),
          Setting<O>("http_max_connections",
                     settings::IntInRange(&O::http_max_connections, 1, 1000000))
              .Env({"GEO_HTTP_MAX_CONNECTIONS"})
              .Default("10000")
              .Help("open HTTP connections; beyond: 503 and close"),
          Setting<O>("http_idle_timeout",
                     settings::PositiveDuration(&O::http_idle_timeout))
              .Env({"GEO_HTTP_IDLE_TIMEOUT"})
              .Default("60s")
              .Help("how long an idle keep-alive HTTP connection stays open"),
          Setting<O>("http_request_timeout",
                     settings::PositiveDuration(&O::http_request_timeout))
              .Env({"GEO_HTTP_REQUEST_TIMEOUT"})
              .Default("10s")
              .Help("time from a request's first byte to its last; slower: "
                    "408"),
          Setting<O>("grpc_handshake_timeout",
                     settings::PositiveDuration(&O::grpc_handshake_timeout))
              .Env({"GEO_GRPC_HANDSHAKE_TIMEOUT"})
              .Default("10s")
              .Help("time a new gRPC connection has for its TLS handshake "
                    "and HTTP/2 preface; slower: closed"),
          Setting<O>("health_port", settings::Port(&O::health_port))
              .Env({"GEO_HEALTH_PORT"})
              .Default("8081")
              .Help("/healthz and /readyz port, with a per-peer connection "
                    "cap"),
          Setting<O>("client_ip_headers",
                     settings::CommaList(&O::client_ip_headers))
              .Env({"GEO_CLIENT_IP_HEADERS"})
              .Help("comma-separated single-address headers trusted proxies "
                    "set (e.g. CF-Connecting-IP)"),
          Setting<O>("edge_header_prefix",
                     settings::String(&O::edge_header_prefix))
              .Env({"GEO_EDGE_HEADER_PREFIX"})
              .Default("X-Geo-")
              .Help("prefix of the forward-auth decision headers"),
          tls::TlsSettings(&O::tls, ListenerTlsNames()),
          Setting<O>("grpc_client_identities",
                     settings::CommaList(&O::grpc_client_identities))
              .Env({"GEO_GRPC_CLIENT_IDENTITIES"})
              .Help("comma-separated client identities (SAN URI, DNS or CN) "
                    "allowed on gRPC; others: PERMISSION_DENIED"),
          Setting<O>("http_client_identities",
                     settings::CommaList(&O::http_client_identities))
              .Env({"GEO_HTTP_CLIENT_IDENTITIES"})
              .Help("comma-separated client identities allowed on HTTP; "
                    "others: 403"),
          Setting<O>("metrics_tls", settings::Bool(&O::metrics_tls))
              .Env({"GEO_METRICS_TLS"})
              .Default("false")
              .Help("serve /metrics over TLS too"),
      });
  return *table;
}

std::string ServerUsage() { return ServerSettings().Usage(); }

absl::StatusOr<settings::Resolved<ServerOptions>> ParseServerOptions(
    int argc, const char* const* argv, const settings::Environment& env) {
  absl::StatusOr<settings::Resolved<ServerOptions>> resolved =
      ServerSettings().Parse(argc, argv, env);
  if (!resolved.ok() || resolved->help_requested) return resolved;
  if (resolved->options.db_paths.empty()) {
    return absl::InvalidArgumentError(
        "no database: set --db or GEO_DB_PATHS (e.g. "
        "/data/GeoLite2-City.mmdb,/data/GeoLite2-ASN.mmdb)");
  }
  return resolved;
}

}  // namespace geo
