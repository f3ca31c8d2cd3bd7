#include "updater/config.h"

#include <algorithm>
#include <climits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "geo/common/status_macros.h"

namespace geo::updater {
namespace {

using O = UpdaterOptions;
using settings::Setting;

absl::Status CheckEdition(absl::string_view edition) {
  for (char c : edition) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') {
      return absl::InvalidArgumentError(absl::StrCat(
          "edition ID \"", edition, "\" has characters outside [A-Za-z0-9_-]"));
    }
  }
  return absl::OkStatus();
}

// An update service base URL; GeoIP.conf and geoipupdate accept a bare host
// name, which means https.
settings::ValueType<O> HostUrl(std::string O::*field) {
  return {"URL or host name", false,
          [field](absl::string_view text, O* options) -> absl::Status {
            if (text.empty()) {
              return absl::InvalidArgumentError("want a URL or a host name");
            }
            options->*field = absl::StrContains(text, "://")
                                  ? std::string(text)
                                  : absl::StrCat("https://", text);
            return absl::OkStatus();
          }};
}

// The TLS rows of the loop mode's status port.
tls::TlsSettingNames StatusTlsNames() {
  tls::TlsSettingNames names;
  names.flag_prefix = "status_tls_";
  names.env_prefix = "GEO_UPDATER_STATUS_TLS_";
  names.certificate_help =
      "loop mode: PEM certificate chain for /healthz and /metrics over TLS; "
      "empty: plaintext";
  names.private_key_help = "loop mode: PEM private key of that certificate";
  names.client_ca_help =
      "loop mode: PEM CA bundle status clients' certificates must chain to";
  names.client_certificates_help =
      "loop mode: client certificates on the status port";
  names.min_version_help = "loop mode: lowest TLS version of the status port";
  return names;
}

// Reads the GeoIP.conf that --config or GEOIPUPDATE_CONF_FILE names, if any,
// into `sources`.
absl::Status ReadGeoIpConf(settings::SettingSources* sources) {
  const settings::SettingSpec* config = UpdaterSettings().FindFlag("config");
  GEO_ASSIGN_OR_RETURN(std::optional<settings::FoundValue> path,
                       settings::FindValue(*config, *sources));
  if (!path.has_value()) return absl::OkStatus();
  GEO_ASSIGN_OR_RETURN(std::string text,
                       settings::ReadValueFile(path->text, "GeoIP.conf"));
  GEO_ASSIGN_OR_RETURN(sources->conf, ParseGeoIpConf(text));
  sources->conf_name = path->text;
  return UpdaterSettings().CheckConfKeys(sources->conf, sources->conf_name);
}

// The checks that involve more than one setting.
absl::Status CheckCombination(const UpdaterOptions& options) {
  if (options.mirror_url.empty()) {
    if (options.account_id.empty() || options.license_key.empty()) {
      return absl::InvalidArgumentError(
          "MaxMind needs an account ID and a license key: set "
          "MAXMIND_ACCOUNT_ID and MAXMIND_LICENSE_KEY (or their _FILE "
          "variants, --account_id and --license_key_file, or --config "
          "GeoIP.conf), or use --mirror_url");
    }
  } else if (options.editions.size() > 1 &&
             (!absl::StrContains(options.mirror_url, "{edition}") ||
              !options.mirror_sha256.empty())) {
    return absl::InvalidArgumentError(
        "with several editions, --mirror_url needs an {edition} placeholder "
        "and checksums come from --mirror_sha256_url, not --mirror_sha256");
  }
  if (!options.once && options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--interval must be positive");
  }
  if (options.serve && options.once) {
    return absl::InvalidArgumentError(
        "--serve runs in loop mode: it cannot be combined with --once");
  }
  // Checked whether or not a certificate is set, as the server checks its
  // listeners': a key, a CA bundle or a client-certificate mode without a
  // certificate would otherwise leave the status port in plaintext without a
  // word.
  const absl::Status status_tls = options.status_tls.Validate();
  if (!status_tls.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status port TLS (--status_tls_*): ", status_tls.message()));
  }
  if (options.serve_account_id.empty() != options.serve_license_key.empty()) {
    return absl::InvalidArgumentError(
        "--serve_account_id and the serve license key "
        "(GEO_UPDATER_SERVE_LICENSE_KEY[_FILE]) go together: set both, or "
        "neither for no check");
  }
  return absl::OkStatus();
}

}  // namespace

UpdaterOptions::UpdaterOptions() { UpdaterSettings().ApplyDefaults(this); }

// The updater's settings, in the order --help lists them. To add a setting:
// add its field to UpdaterOptions (config.h) and one row here (flag, typed
// value, variables in precedence order, GeoIP.conf keys, Secret() for a
// credential, the default, the help), then its row in MAINTENANCE.md's
// "Updater settings" (tests/docs:flag_map_test compares the two). Nothing
// else lists settings: the command line, --help, the precedence and the
// error messages all come from this table.
const settings::SettingsTable<UpdaterOptions>& UpdaterSettings() {
  static const auto* table = new settings::SettingsTable<O>(
      {"updater",
       "Downloads MaxMind (or mirrored) databases into a directory, verified "
       "and atomically, once (initContainer, CronJob) or in a loop "
       "(sidecar). Exit status with --once: 0 success, 1 a failed pass, 2 a "
       "configuration error, 143 cancelled by SIGTERM/SIGINT.",
       "GeoIP.conf"},
      {
          Setting<O>("config", settings::Path(&O::config_path))
              .Env({"GEOIPUPDATE_CONF_FILE"})
              .Help("geoipupdate GeoIP.conf to read (the keys listed under "
                    "each setting)"),
          Setting<O>("account_id", settings::String(&O::account_id))
              .Env({"MAXMIND_ACCOUNT_ID", "GEOIPUPDATE_ACCOUNT_ID"})
              .ConfKeys({"AccountID", "UserId"})
              .Secret()
              .Help("MaxMind account ID (required unless --mirror_url is "
                    "used); UserId is GeoIP.conf's old name for AccountID"),
          Setting<O>("license_key_file", settings::String(&O::license_key))
              .FlagNamesFile()
              .Env({"MAXMIND_LICENSE_KEY", "GEOIPUPDATE_LICENSE_KEY"})
              .ConfKeys({"LicenseKey"})
              .Secret()
              .Help("MaxMind license key: the flag names a file holding it; "
                    "there is deliberately no flag that takes the key"),
          Setting<O>("edition_ids",
                     settings::List(&O::editions, ", \t", CheckEdition,
                                    /*at_least_one=*/true))
              .Env({"MAXMIND_EDITION_IDS", "GEOIPUPDATE_EDITION_IDS"})
              .ConfKeys({"EditionIDs"})
              .Default("GeoLite2-City")
              .Help("editions to install, comma or space separated; each "
                    "becomes <data_dir>/<edition>.mmdb"),
          Setting<O>("host", HostUrl(&O::host))
              .Env({"MAXMIND_HOST", "GEOIPUPDATE_HOST"})
              .ConfKeys({"Host"})
              .Default("https://updates.maxmind.com")
              .Help("MaxMind update service (a bare host name gets https://)"),
          Setting<O>("data_dir", settings::Path(&O::data_dir))
              .Env({"GEO_DATA_DIR", "GEOIPUPDATE_DB_DIR"})
              .ConfKeys({"DatabaseDirectory"})
              .Default("/data")
              .Help("directory the databases are installed in"),
          Setting<O>("mirror_url", settings::String(&O::mirror_url))
              .Env({"GEO_MIRROR_URL"})
              .Help("download from this URL instead of MaxMind; {edition} is "
                    "replaced"),
          Setting<O>("mirror_sha256", settings::String(&O::mirror_sha256))
              .Env({"GEO_MIRROR_SHA256"})
              .Help("expected SHA-256 of the mirror payload (one edition "
                    "only)"),
          Setting<O>("mirror_sha256_url",
                     settings::String(&O::mirror_sha256_url))
              .Env({"GEO_MIRROR_SHA256_URL"})
              .Help("URL of a sha256sum-style file for the mirror payload; "
                    "{edition} is replaced"),
          Setting<O>("once", settings::Bool(&O::once))
              .Env({"GEO_UPDATER_ONCE"})
              .Default("false")
              .Help("run one update pass and exit (initContainer, CronJob); "
                    "otherwise loop (sidecar)"),
          Setting<O>("interval", settings::NonNegativeDuration(&O::interval))
              .Env({"GEO_UPDATER_INTERVAL",
                    {"GEOIPUPDATE_FREQUENCY", settings::WholeHoursAsDuration}})
              .Default("24h")
              .Help("loop mode: time between passes (GEOIPUPDATE_FREQUENCY "
                    "counts hours)"),
          Setting<O>("interval_jitter",
                     settings::DoubleInRange(&O::interval_jitter, 0, 1))
              .Default("0.1")
              .Help("loop mode: +/- fraction of the interval"),
          Setting<O>("connect_timeout",
                     settings::NonNegativeDuration(&O::connect_timeout))
              .Env({"GEO_UPDATER_CONNECT_TIMEOUT"})
              .Default("10s")
              .Help("connect timeout per request"),
          Setting<O>("timeout", settings::NonNegativeDuration(&O::timeout))
              .Env({"GEO_UPDATER_TIMEOUT"})
              .Default("10m")
              .Help("total timeout per HTTP request"),
          Setting<O>("low_speed_time",
                     settings::NonNegativeDuration(&O::low_speed_time))
              .Default("60s")
              .Help("abort a transfer slower than 1 KiB/s for this long"),
          Setting<O>("max_download_bytes",
                     settings::Int64AtLeast(&O::max_download_bytes, 0))
              .Env({"GEO_UPDATER_MAX_DOWNLOAD_BYTES"})
              .Default("2147483648")
              .Help("largest accepted download; also capped at the data "
                    "directory's free space"),
          Setting<O>("max_database_bytes",
                     settings::Int64AtLeast(&O::max_database_bytes, 0))
              .Env({"GEO_UPDATER_MAX_DATABASE_BYTES"})
              .Default("2147483648")
              .Help("largest accepted database once extracted; also capped "
                    "at the data directory's free space"),
          Setting<O>("ca_bundle", settings::Path(&O::ca_bundle))
              .Env({"GEO_CA_BUNDLE"})
              .Help("PEM file of trusted CAs (default: the system's); TLS "
                    "verification cannot be turned off"),
          Setting<O>("retries", settings::IntInRange(&O::retries, 0, INT_MAX))
              .Env({"GEO_UPDATER_RETRIES"})
              .Default("5")
              .Help("attempts per request, the first included (0 counts as "
                    "1)"),
          Setting<O>("backoff_initial",
                     settings::NonNegativeDuration(&O::backoff_initial))
              .Default("1s")
              .Help("first retry delay, doubled per retry with +/-20% "
                    "jitter"),
          Setting<O>("backoff_max",
                     settings::NonNegativeDuration(&O::backoff_max))
              .Default("2m")
              .Help("largest retry delay"),
          Setting<O>("max_retry_after",
                     settings::NonNegativeDuration(&O::max_retry_after))
              .Default("10m")
              .Help("longest HTTP 429 Retry-After honoured by waiting; "
                    "longer means the download limit is reached and the "
                    "pass fails"),
          Setting<O>("lock_timeout",
                     settings::NonNegativeDuration(&O::lock_timeout))
              .Env({"GEO_UPDATER_LOCK_TIMEOUT"})
              .Default("1m")
              .Help("how long to wait for another updater's lock on the "
                    "data directory; 0s fails at once"),
          Setting<O>("output", settings::EnumFromNames<O, OutputFormat>(
                                   &O::output, {{"none", OutputFormat::kNone},
                                                {"json", OutputFormat::kJson}}))
              .Default("none")
              .Help("json: print a per-edition summary on stdout, like "
                    "geoipupdate -o"),
          Setting<O>("status_address",
                     settings::String(&O::status_address, /*non_empty=*/true))
              .Env({"GEO_UPDATER_STATUS_ADDRESS"})
              .Default("0.0.0.0")
              .Help("loop mode: address of /healthz and /metrics"),
          Setting<O>("status_port",
                     settings::Port(&O::status_port, /*off_allowed=*/true))
              .Env({"GEO_UPDATER_STATUS_PORT"})
              .Default("9102")
              .Help("loop mode: port of /healthz and /metrics; -1 disables, "
                    "0 picks a free port"),
          tls::TlsSettings(&O::status_tls, StatusTlsNames()),
          Setting<O>("health_grace",
                     settings::NonNegativeDuration(&O::health_grace))
              .Default("30m")
              .Help("loop mode: /healthz fails when the last success is "
                    "older than two intervals plus this"),
          Setting<O>("log_level", LogLevelValue(&O::log_level))
              .Env({"GEO_LOG_LEVEL"})
              .Default("info")
              .Help("least severe level logged"),
          Setting<O>("proxy", settings::String(&O::proxy))
              .Env({"GEO_UPDATER_PROXY", "GEOIPUPDATE_PROXY"})
              .ConfKeys({"Proxy"})
              .Help("proxy for every request: host[:port] (port 1080 when "
                    "absent) or a URL (http://, https://, socks5://); unset, "
                    "libcurl's https_proxy / HTTPS_PROXY / http_proxy apply. "
                    "NO_PROXY is honoured either way"),
          Setting<O>("proxy_user_password_file",
                     settings::String(&O::proxy_user_password))
              .FlagNamesFile()
              .Env({"GEO_UPDATER_PROXY_USER_PASSWORD",
                    "GEOIPUPDATE_PROXY_USER_PASSWORD"})
              .ConfKeys({"ProxyUserPassword"})
              .Secret()
              .Help("user:password for the proxy; the flag names a file "
                    "holding it"),
          Setting<O>("preserve_file_times",
                     settings::Bool(&O::preserve_file_times))
              .Env({"GEO_UPDATER_PRESERVE_FILE_TIMES",
                    "GEOIPUPDATE_PRESERVE_FILE_TIMES"})
              .ConfKeys({"PreserveFileTimes"})
              .Default("true")
              .Help("give an installed file the release's time (the "
                    "download's Last-Modified, else the release date) as its "
                    "mtime; false: the install time. geoipupdate's default "
                    "is false; geo's mirror mode and serve mode use the "
                    "mtime as Last-Modified"),
          Setting<O>("lock_file", settings::Path(&O::lock_file))
              .Env({"GEO_UPDATER_LOCK_FILE", "GEOIPUPDATE_LOCK_FILE"})
              .ConfKeys({"LockFile"})
              .Help("lock file held during a pass (default "
                    "<data_dir>/.geo-updater.lock)"),
          Setting<O>("retry_for", settings::NonNegativeDuration(&O::retry_for))
              .Env({"GEO_UPDATER_RETRY_FOR", "GEOIPUPDATE_RETRY_FOR"})
              .ConfKeys({"RetryFor"})
              .Default("0s")
              .Help("no retry of a request starts after this long since its "
                    "first attempt; 0s: only --retries bounds them "
                    "(geoipupdate's default is 5m)"),
          Setting<O>("parallelism",
                     settings::IntInRange(&O::parallelism, 0, 64))
              .Env({"GEO_UPDATER_PARALLELISM", "GEOIPUPDATE_PARALLELISM"})
              .ConfKeys({"Parallelism"})
              .Default("1")
              .Help("editions updated at the same time (0 counts as 1)"),
          Setting<O>("serve", settings::Bool(&O::serve))
              .Env({"GEO_UPDATER_SERVE"})
              .Default("false")
              .Help("loop mode: also serve the installed, verified databases "
                    "as MaxMind's update protocol and as plain files with "
                    "SHA256SUMS, so the rest of the cluster downloads from "
                    "here"),
          Setting<O>("serve_address",
                     settings::String(&O::serve_address, /*non_empty=*/true))
              .Env({"GEO_UPDATER_SERVE_ADDRESS"})
              .Default("0.0.0.0")
              .Help("serve mode: listen address"),
          Setting<O>("serve_port", settings::Port(&O::serve_port))
              .Env({"GEO_UPDATER_SERVE_PORT"})
              .Default("8080")
              .Help("serve mode: port; 0 picks a free port (logged)"),
          Setting<O>("serve_account_id", settings::String(&O::serve_account_id))
              .Env({"GEO_UPDATER_SERVE_ACCOUNT_ID"})
              .Secret()
              .Help("serve mode: account ID clients must send (HTTP basic "
                    "auth, as to MaxMind); unset: no check"),
          Setting<O>("serve_license_key_file",
                     settings::String(&O::serve_license_key))
              .FlagNamesFile()
              .Env({"GEO_UPDATER_SERVE_LICENSE_KEY"})
              .Secret()
              .Help("serve mode: license key clients must send with "
                    "--serve_account_id; the flag names a file holding it"),
          Setting<O>("serve_max_connections",
                     settings::IntInRange(&O::serve_max_connections, 1, 1024))
              .Env({"GEO_UPDATER_SERVE_MAX_CONNECTIONS"})
              .Default("8")
              .Help("serve mode: open connections at most; more get 503 "
                    "(retried by clients). Every download of a database is "
                    "sent from one shared copy, so connections cost sockets "
                    "and buffers, not database copies"),
      });
  return *table;
}

absl::StatusOr<std::map<std::string, std::string>> ParseGeoIpConf(
    absl::string_view text) {
  std::map<std::string, std::string> values;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = line.substr(0, line.find('#'));
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    size_t space = line.find_first_of(" \t");
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("GeoIP.conf line ", number, ": a key without a value"));
    }
    values[std::string(line.substr(0, space))] =
        std::string(absl::StripAsciiWhitespace(line.substr(space)));
  }
  return values;
}

absl::StatusOr<UpdaterOptions> ResolveOptions(const ConfigSources& sources) {
  settings::SettingSources raw;
  raw.flags = sources.flags;
  raw.env = sources.env;
  GEO_RETURN_IF_ERROR(ReadGeoIpConf(&raw));
  GEO_ASSIGN_OR_RETURN(UpdaterOptions options, UpdaterSettings().Resolve(raw));
  options.retries = std::max(options.retries, 1);
  GEO_RETURN_IF_ERROR(CheckCombination(options));
  return options;
}

}  // namespace geo::updater
