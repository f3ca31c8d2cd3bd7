// Updater configuration: one options struct, resolved from (highest first)
// command-line flags, MAXMIND_* / GEO_* environment variables, geoipupdate's
// GEOIPUPDATE_* variables, a geoipupdate GeoIP.conf, and defaults. Secrets
// also come from files (`*_FILE` variables, --license_key_file), which is how
// a Kubernetes Secret is mounted. There is deliberately no --license_key flag:
// process arguments are visible to every user of the node (/proc/PID/cmdline).
#ifndef UPDATER_CONFIG_H_
#define UPDATER_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace geo::updater {

enum class OutputFormat { kNone, kJson };

struct UpdaterOptions {
  // MaxMind credentials. The license key is a secret: never log or print it.
  std::string account_id;
  std::string license_key;
  std::vector<std::string> editions = {"GeoLite2-City"};
  std::string host = "https://updates.maxmind.com";
  std::string data_dir = "/data";

  // A private mirror instead of MaxMind (see mirror_source.h).
  std::string mirror_url;
  std::string mirror_sha256;
  std::string mirror_sha256_url;

  // Run once and exit (initContainer, CronJob), or loop (sidecar).
  bool once = false;
  absl::Duration interval = absl::Hours(24);
  double interval_jitter = 0.1;

  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration timeout = absl::Minutes(10);
  absl::Duration low_speed_time = absl::Seconds(60);
  // Largest accepted download and largest extracted database. Each is also
  // capped at the data directory's free space (less
  // free_space_margin_bytes) when the download or the extraction starts,
  // and a download does not start unless the free space holds twice the
  // installed database plus the margin (archive and new database side by
  // side, next to the file they replace).
  int64_t max_download_bytes = int64_t{2} << 30;
  int64_t max_database_bytes = int64_t{2} << 30;
  // Left free in the data directory by every update.
  int64_t free_space_margin_bytes = int64_t{16} << 20;
  std::string ca_bundle;

  int retries = 5;  // Attempts per request, the first included.
  absl::Duration backoff_initial = absl::Seconds(1);
  absl::Duration backoff_max = absl::Minutes(2);
  absl::Duration max_retry_after = absl::Minutes(10);

  absl::Duration lock_timeout = absl::Minutes(1);
  OutputFormat output = OutputFormat::kNone;

  // Loop mode's /healthz and /metrics; port -1 disables them, 0 picks an
  // ephemeral port (logged).
  std::string status_address = "0.0.0.0";
  int status_port = 9102;
  absl::Duration health_grace = absl::Minutes(30);

  std::string log_level = "info";
};

// Raw settings by name. `flags` holds only the flags given on the command
// line (flag name without dashes -> value); `env` is the environment.
struct ConfigSources {
  std::map<std::string, std::string> flags;
  std::map<std::string, std::string> env;
};

// Resolves and validates the options. Reads GeoIP.conf (--config or
// GEOIPUPDATE_CONF_FILE) and secret files. Errors never contain secrets.
absl::StatusOr<UpdaterOptions> ResolveOptions(const ConfigSources& sources);

// Parses geoipupdate's GeoIP.conf format: `Key value...` lines, `#` comments.
absl::StatusOr<std::map<std::string, std::string>> ParseGeoIpConf(
    absl::string_view text);

// Environment as a map (from `environ`).
std::map<std::string, std::string> CurrentEnvironment();

}  // namespace geo::updater

#endif  // UPDATER_CONFIG_H_
