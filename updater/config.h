// Updater configuration: UpdaterOptions, resolved by the updater's settings
// table (UpdaterSettings(), in config.cc) from (highest first) command-line
// flags, MAXMIND_* / GEO_* environment variables, geoipupdate's GEOIPUPDATE_*
// variables, a geoipupdate GeoIP.conf, and defaults. Secrets also come from
// files (`*_FILE` variables, --license_key_file), which is how a Kubernetes
// Secret is mounted. There is deliberately no --license_key flag: process
// arguments are visible to every user of the node (/proc/PID/cmdline).
#ifndef UPDATER_CONFIG_H_
#define UPDATER_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/common/logging.h"
#include "geo/common/settings.h"
#include "geo/tls/tls_options.h"

namespace geo::updater {

enum class OutputFormat { kNone, kJson };

// Every setting of the updater. Default-constructed, each field holds the
// default its row in UpdaterSettings() gives; the table is the one place
// defaults are written.
struct UpdaterOptions {
  UpdaterOptions();

  // geoipupdate's GeoIP.conf, read for the keys the table names.
  std::string config_path;

  // MaxMind credentials. The license key is a secret: never log or print it.
  std::string account_id;
  std::string license_key;
  std::vector<std::string> editions;
  std::string host;
  std::string data_dir;

  // A private mirror instead of MaxMind (see mirror_source.h).
  std::string mirror_url;
  std::string mirror_sha256;
  std::string mirror_sha256_url;

  // Run once and exit (initContainer, CronJob), or loop (sidecar).
  bool once{};
  absl::Duration interval;
  double interval_jitter{};

  absl::Duration connect_timeout;
  absl::Duration timeout;
  absl::Duration low_speed_time;
  // Largest accepted download and largest extracted database. Each is also
  // capped at the data directory's free space (less
  // free_space_margin_bytes) when the download or the extraction starts,
  // and a download does not start unless the free space holds twice the
  // installed database plus the margin (archive and new database side by
  // side, next to the file they replace).
  int64_t max_download_bytes{};
  int64_t max_database_bytes{};
  // Left free in the data directory by every update (not a setting).
  int64_t free_space_margin_bytes = int64_t{16} << 20;
  std::string ca_bundle;

  int retries{};  // Attempts per request, the first included.
  absl::Duration backoff_initial;
  absl::Duration backoff_max;
  absl::Duration max_retry_after;

  absl::Duration lock_timeout;
  OutputFormat output{};

  // Loop mode's /healthz and /metrics; port -1 disables them, 0 picks an
  // ephemeral port (logged).
  std::string status_address;
  int status_port{};
  absl::Duration health_grace;
  // TLS for /healthz and /metrics, as geo::tls::TlsOptions documents it;
  // empty certificate: plaintext.
  tls::TlsOptions status_tls;

  LogLevel log_level{};

  // geoipupdate's settings of the same names (GeoIP.conf keys Proxy,
  // ProxyUserPassword, PreserveFileTimes, LockFile, RetryFor, Parallelism).
  std::string proxy;
  std::string proxy_user_password;  // Secret.
  bool preserve_file_times{};
  // Empty: <data_dir>/.geo-updater.lock.
  std::string lock_file;
  // Zero: retries are bounded by `retries` only.
  absl::Duration retry_for;
  int parallelism{};

  // Serve mode (loop mode only): serve what was installed and verified, as
  // MaxMind's update protocol and as plain files (see mirror_server.h).
  bool serve{};
  std::string serve_address;
  int serve_port{};
  // Both set: clients must send this pair; both empty: no check.
  std::string serve_account_id;
  std::string serve_license_key;  // Secret.
  int serve_max_connections{};
};

// The updater's settings table: every flag, variable, GeoIP.conf key and
// default (MAINTENANCE.md's "Updater settings" is checked against it).
const settings::SettingsTable<UpdaterOptions>& UpdaterSettings();

// Raw settings by name. `flags` holds only the flags given on the command
// line (flag name without dashes -> value, settings::ParseCommandLine);
// `env` is the environment.
struct ConfigSources {
  std::map<std::string, std::string> flags;
  std::map<std::string, std::string> env;
};

// Resolves and validates the options: the table's rows, then the checks
// across settings (credentials unless a mirror, the mirror's placeholders,
// a positive interval in loop mode, the status port's TLS set as
// tls::TlsOptions::Validate checks it). Reads GeoIP.conf (--config or
// GEOIPUPDATE_CONF_FILE) and secret files. Errors never contain secrets.
absl::StatusOr<UpdaterOptions> ResolveOptions(const ConfigSources& sources);

// Parses geoipupdate's GeoIP.conf format: `Key value...` lines, `#` comments.
absl::StatusOr<std::map<std::string, std::string>> ParseGeoIpConf(
    absl::string_view text);

}  // namespace geo::updater

#endif  // UPDATER_CONFIG_H_
