#include "geo/server/server_options.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace geo {
namespace {

using Setter =
    std::function<absl::Status(absl::string_view value, ServerOptions*)>;

struct Setting {
  SettingName name;
  const char* help;
  std::string default_value;
  Setter set;
};

std::vector<std::string> SplitList(absl::string_view value) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

// Typed parsing with abseil's parsers, so "5s", "1m30s", "true", "8080" mean
// what they mean for absl flags.
bool ParseValue(absl::string_view text, int* value, std::string* error) {
  if (absl::SimpleAtoi(text, value)) return true;
  *error = "not an integer";
  return false;
}
bool ParseValue(absl::string_view text, bool* value, std::string* error) {
  if (absl::SimpleAtob(text, value)) return true;
  *error = "not a boolean";
  return false;
}
bool ParseValue(absl::string_view text, absl::Duration* value,
                std::string* error) {
  if (absl::ParseDuration(text, value)) return true;
  *error = "not a duration (e.g. 500ms, 5s, 1m)";
  return false;
}

// A setter that parses `T` and checks it.
template <typename T>
Setter Typed(T ServerOptions::*field,
             std::function<bool(const T&)> valid = nullptr,
             const char* constraint = "") {
  return [field, valid, constraint](absl::string_view text,
                                    ServerOptions* options) -> absl::Status {
    T value;
    std::string error;
    if (!ParseValue(text, &value, &error)) {
      return absl::InvalidArgumentError(error);
    }
    if (valid && !valid(value)) {
      return absl::InvalidArgumentError(constraint);
    }
    options->*field = value;
    return absl::OkStatus();
  };
}

bool ValidPort(const int& port) { return port >= 0 && port <= 65535; }
bool NonNegative(const absl::Duration& d) { return d >= absl::ZeroDuration(); }
bool Positive(const absl::Duration& d) { return d > absl::ZeroDuration(); }

const std::vector<Setting>& Settings() {
  static const auto* settings = new std::vector<Setting>{
      {{"db", "GEO_DB_PATHS"},
       "comma-separated database files (e.g. City and ASN)",
       "",
       [](absl::string_view value, ServerOptions* options) {
         options->db_paths = SplitList(value);
         return absl::OkStatus();
       }},
      {{"listen_address", "GEO_LISTEN_ADDRESS"},
       "address the gRPC, HTTP and metrics listeners bind to",
       "0.0.0.0",
       [](absl::string_view value, ServerOptions* options) {
         if (value.empty()) return absl::InvalidArgumentError("empty address");
         options->listen_address = std::string(value);
         return absl::OkStatus();
       }},
      {{"grpc_port", "GEO_GRPC_PORT"},
       "gRPC port (0 = any free port)",
       "50051",
       Typed<int>(&ServerOptions::grpc_port, ValidPort, "not a port")},
      {{"http_port", "GEO_HTTP_PORT"},
       "HTTP/JSON port (0 = any free port)",
       "8080",
       Typed<int>(&ServerOptions::http_port, ValidPort, "not a port")},
      {{"metrics_port", "GEO_METRICS_PORT"},
       "Prometheus /metrics port (0 = any free port)",
       "9090",
       Typed<int>(&ServerOptions::metrics_port, ValidPort, "not a port")},
      {{"policy", "GEO_POLICY_FILE"},
       "geofence policy file, JSON or YAML (empty: allow all)",
       "",
       [](absl::string_view value, ServerOptions* options) {
         options->policy_path = std::string(value);
         return absl::OkStatus();
       }},
      {{"overrides", "GEO_OVERRIDES_FILE"},
       "local overrides, RFC 8805 geofeed CSV (empty: none)",
       "",
       [](absl::string_view value, ServerOptions* options) {
         options->overrides_path = std::string(value);
         return absl::OkStatus();
       }},
      {{"poll_interval", "GEO_POLL_INTERVAL"},
       "how often watched files are checked",
       "1s",
       Typed<absl::Duration>(&ServerOptions::poll_interval, Positive,
                             "must be positive")},
      {{"drain_delay", "GEO_DRAIN_DELAY"},
       "time between readiness going false and listeners closing",
       "5s",
       Typed<absl::Duration>(&ServerOptions::drain_delay, NonNegative,
                             "must not be negative")},
      {{"shutdown_timeout", "GEO_SHUTDOWN_TIMEOUT"},
       "deadline for in-flight requests at shutdown",
       "10s",
       Typed<absl::Duration>(&ServerOptions::shutdown_timeout, NonNegative,
                             "must not be negative")},
      {{"trusted_proxies", "GEO_TRUSTED_PROXIES"},
       "comma-separated CIDRs whose forwarding headers are trusted",
       "",
       [](absl::string_view value, ServerOptions* options) {
         options->trusted_proxies = SplitList(value);
         return absl::OkStatus();
       }},
      {{"log_level", "GEO_LOG_LEVEL"},
       "debug, info, warn or error",
       "info",
       [](absl::string_view value, ServerOptions* options) -> absl::Status {
         absl::StatusOr<LogLevel> level = ParseLogLevel(value);
         if (!level.ok()) return level.status();
         options->log_level = *level;
         return absl::OkStatus();
       }},
      {{"allow_type_change", "GEO_ALLOW_TYPE_CHANGE"},
       "accept a reload that changes a database's type",
       "false",
       Typed<bool>(&ServerOptions::allow_type_change)},
      {{"http_threads", "GEO_HTTP_THREADS"},
       "HTTP I/O threads (0 = one per CPU the process may use)",
       "0",
       Typed<int>(
           &ServerOptions::http_threads,
           [](const int& n) { return n >= 0 && n <= 256; }, "0 to 256")},
      {{"max_batch_size", "GEO_MAX_BATCH_SIZE"},
       "most addresses in one BatchLookup",
       "1000",
       Typed<int>(
           &ServerOptions::max_batch_size,
           [](const int& n) { return n >= 1 && n <= 100000; }, "1 to 100000")},
      // The HTTP server's limits.
      {{"http_max_header_bytes", "GEO_HTTP_MAX_HEADER_BYTES"},
       "HTTP request line plus headers, in bytes; beyond: 431",
       "16384",
       Typed<int>(
           &ServerOptions::http_max_header_bytes,
           [](const int& n) { return n >= 256 && n <= (1 << 20); },
           "256 to 1048576")},
      {{"http_max_body_bytes", "GEO_HTTP_MAX_BODY_BYTES"},
       "HTTP request body, in bytes; beyond: 413",
       "1048576",
       Typed<int>(
           &ServerOptions::http_max_body_bytes,
           [](const int& n) { return n >= 0 && n <= (256 << 20); },
           "0 to 268435456")},
      {{"http_max_connections", "GEO_HTTP_MAX_CONNECTIONS"},
       "open HTTP connections; beyond: 503 and close",
       "10000",
       Typed<int>(
           &ServerOptions::http_max_connections,
           [](const int& n) { return n >= 1 && n <= 1000000; },
           "1 to 1000000")},
      {{"http_idle_timeout", "GEO_HTTP_IDLE_TIMEOUT"},
       "how long an idle keep-alive HTTP connection stays open",
       "60s",
       Typed<absl::Duration>(&ServerOptions::http_idle_timeout, Positive,
                             "must be positive")},
      {{"http_request_timeout", "GEO_HTTP_REQUEST_TIMEOUT"},
       "time from a request's first byte to its last; slower: 408",
       "10s",
       Typed<absl::Duration>(&ServerOptions::http_request_timeout, Positive,
                             "must be positive")},
      {{"health_port", "GEO_HEALTH_PORT"},
       "/healthz and /readyz port, with a per-peer connection cap (0 = any "
       "free port)",
       "8081",
       Typed<int>(&ServerOptions::health_port, ValidPort, "not a port")},
      {{"client_ip_headers", "GEO_CLIENT_IP_HEADERS"},
       "comma-separated single-address headers trusted proxies set (e.g. "
       "CF-Connecting-IP)",
       "",
       [](absl::string_view value, ServerOptions* options) {
         options->client_ip_headers = SplitList(value);
         return absl::OkStatus();
       }},
      {{"edge_header_prefix", "GEO_EDGE_HEADER_PREFIX"},
       "prefix of the forward-auth decision headers",
       "X-Geo-",
       [](absl::string_view value, ServerOptions* options) {
         options->edge_header_prefix = std::string(value);
         return absl::OkStatus();
       }},
  };
  return *settings;
}

const Setting* FindFlag(absl::string_view flag) {
  for (const Setting& setting : Settings()) {
    if (flag == setting.name.flag) return &setting;
  }
  return nullptr;
}

}  // namespace

const std::vector<SettingName>& ServerSettings() {
  static const auto* names = [] {
    auto* names = new std::vector<SettingName>();
    for (const Setting& setting : Settings()) names->push_back(setting.name);
    return names;
  }();
  return *names;
}

std::string ServerUsage() {
  std::string usage =
      "usage: geo_server [--flag=value ...]\n"
      "Every flag may also be set by its environment variable; a flag "
      "wins.\n\n";
  for (const Setting& setting : Settings()) {
    absl::StrAppend(&usage, "  --", setting.name.flag, " (", setting.name.env,
                    ", default \"", setting.default_value, "\")\n      ",
                    setting.help, "\n");
  }
  return usage;
}

absl::StatusOr<ServerOptions> ParseServerOptions(
    int argc, const char* const* argv,
    const std::function<const char*(const char*)>& getenv_function) {
  ServerOptions options;
  for (const Setting& setting : Settings()) {
    const char* value = getenv_function(setting.name.env);
    if (value == nullptr) continue;
    absl::Status status = setting.set(value, &options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", setting.name.env, "=\"", value,
                       "\": ", status.message()));
    }
  }
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "--helpfull") {
      return absl::NotFoundError(ServerUsage());
    }
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\"; see --help"));
    }
    absl::string_view name = arg;
    absl::string_view value;
    bool has_value = false;
    if (size_t equals = arg.find('='); equals != absl::string_view::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
      has_value = true;
    }
    const Setting* setting = FindFlag(name);
    if (setting == nullptr && absl::StartsWith(name, "no")) {
      // --noallow_type_change, as absl flags accept.
      const Setting* negated = FindFlag(name.substr(2));
      if (negated != nullptr && negated->default_value == "false" &&
          !has_value) {
        setting = negated;
        value = "false";
        has_value = true;
      }
    }
    if (setting == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, "; see --help"));
    }
    if (!has_value) {
      if (setting->default_value == "false" ||
          setting->default_value == "true") {
        value = "true";  // A bare boolean flag.
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
    }
    absl::Status status = setting->set(value, &options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "flag --", name, "=\"", value, "\": ", status.message()));
    }
  }
  if (options.db_paths.empty()) {
    return absl::InvalidArgumentError(
        "no database: set --db or GEO_DB_PATHS (e.g. "
        "/data/GeoLite2-City.mmdb,/data/GeoLite2-ASN.mmdb)");
  }
  return options;
}

}  // namespace geo
