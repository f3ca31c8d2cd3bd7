#include "updater/config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/types/optional.h"

extern char** environ;

namespace geo::updater {
namespace {

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " from ", path));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (contents.str().size() > 64 * 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, " is too large"));
  }
  return contents.str();
}

// Looks a setting up in order: flag, then each environment variable, then
// GeoIP.conf. A `NAME_FILE` variable is read as a file holding the value.
class Lookup {
 public:
  Lookup(const ConfigSources& sources,
         const std::map<std::string, std::string>& conf)
      : sources_(sources), conf_(conf) {}

  absl::StatusOr<absl::optional<std::string>> Get(
      absl::string_view flag, std::initializer_list<absl::string_view> env,
      absl::string_view conf_key, bool secret_files = false) const {
    if (!flag.empty()) {
      auto it = sources_.flags.find(std::string(flag));
      if (it != sources_.flags.end()) return absl::make_optional(it->second);
    }
    for (absl::string_view name : env) {
      auto it = sources_.env.find(std::string(name));
      if (it != sources_.env.end() && !it->second.empty()) {
        return absl::make_optional(it->second);
      }
      if (secret_files) {
        auto file = sources_.env.find(absl::StrCat(name, "_FILE"));
        if (file != sources_.env.end() && !file->second.empty()) {
          absl::StatusOr<std::string> value =
              ReadSmallFile(file->second, absl::StrCat(name, "_FILE"));
          if (!value.ok()) return value.status();
          return absl::make_optional(
              std::string(absl::StripAsciiWhitespace(*value)));
        }
      }
    }
    if (!conf_key.empty()) {
      auto it = conf_.find(std::string(conf_key));
      if (it != conf_.end()) return absl::make_optional(it->second);
    }
    return absl::optional<std::string>();
  }

 private:
  const ConfigSources& sources_;
  const std::map<std::string, std::string>& conf_;
};

absl::Status ParseDuration(absl::string_view name, const std::string& text,
                           absl::Duration* out) {
  if (!absl::ParseDuration(text, out) || *out < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": \"", text, "\" is not a duration (e.g. 30s, 10m, 24h)"));
  }
  return absl::OkStatus();
}

template <typename Int>
absl::Status ParseInt(absl::string_view name, const std::string& text,
                      Int* out) {
  if (!absl::SimpleAtoi(text, out) || *out < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": \"", text, "\" is not a non-negative integer"));
  }
  return absl::OkStatus();
}

bool IsValidEdition(absl::string_view edition) {
  if (edition.empty()) return false;
  for (char c : edition) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::map<std::string, std::string> CurrentEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view text = *entry;
    size_t equals = text.find('=');
    if (equals == absl::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, equals)),
                std::string(text.substr(equals + 1)));
  }
  return env;
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
  UpdaterOptions options;
  std::map<std::string, std::string> conf;
  {
    Lookup bootstrap(sources, conf);
    auto path = bootstrap.Get("config", {"GEOIPUPDATE_CONF_FILE"}, "");
    if (!path.ok()) return path.status();
    if (path->has_value()) {
      absl::StatusOr<std::string> text = ReadSmallFile(**path, "GeoIP.conf");
      if (!text.ok()) return text.status();
      absl::StatusOr<std::map<std::string, std::string>> parsed =
          ParseGeoIpConf(*text);
      if (!parsed.ok()) return parsed.status();
      conf = *std::move(parsed);
    }
  }
  Lookup lookup(sources, conf);
  absl::Status status;

#define GEO_GET(var, ...)             \
  auto var = lookup.Get(__VA_ARGS__); \
  if (!var.ok()) return var.status();

  GEO_GET(account_id, "account_id",
          {"MAXMIND_ACCOUNT_ID", "GEOIPUPDATE_ACCOUNT_ID"}, "AccountID", true);
  if (account_id->has_value()) options.account_id = **account_id;
  // UserId is the pre-2019 name of AccountID in GeoIP.conf.
  if (options.account_id.empty() && conf.count("UserId")) {
    options.account_id = conf["UserId"];
  }

  GEO_GET(license_key_file, "license_key_file", {}, "");
  if (license_key_file->has_value()) {
    absl::StatusOr<std::string> key =
        ReadSmallFile(**license_key_file, "license key");
    if (!key.ok()) return key.status();
    options.license_key = std::string(absl::StripAsciiWhitespace(*key));
  } else {
    GEO_GET(license_key, "", {"MAXMIND_LICENSE_KEY", "GEOIPUPDATE_LICENSE_KEY"},
            "LicenseKey", true);
    if (license_key->has_value()) options.license_key = **license_key;
  }

  GEO_GET(editions, "edition_ids",
          {"MAXMIND_EDITION_IDS", "GEOIPUPDATE_EDITION_IDS"}, "EditionIDs");
  if (editions->has_value()) {
    options.editions.clear();
    for (absl::string_view edition : absl::StrSplit(
             **editions, absl::ByAnyChar(", \t"), absl::SkipEmpty())) {
      if (!IsValidEdition(edition)) {
        return absl::InvalidArgumentError(
            absl::StrCat("edition ID \"", edition,
                         "\" has characters outside [A-Za-z0-9_-]"));
      }
      options.editions.emplace_back(edition);
    }
    if (options.editions.empty()) {
      return absl::InvalidArgumentError("no edition IDs given");
    }
  }

  GEO_GET(host, "host", {"MAXMIND_HOST", "GEOIPUPDATE_HOST"}, "Host");
  if (host->has_value()) {
    options.host = **host;
    // GeoIP.conf and geoipupdate accept a bare host name.
    if (!absl::StrContains(options.host, "://")) {
      options.host = absl::StrCat("https://", options.host);
    }
  }

  GEO_GET(data_dir, "data_dir", {"GEO_DATA_DIR", "GEOIPUPDATE_DB_DIR"},
          "DatabaseDirectory");
  if (data_dir->has_value()) options.data_dir = **data_dir;

  GEO_GET(mirror_url, "mirror_url", {"GEO_MIRROR_URL"}, "");
  if (mirror_url->has_value()) options.mirror_url = **mirror_url;
  GEO_GET(mirror_sha256, "mirror_sha256", {"GEO_MIRROR_SHA256"}, "");
  if (mirror_sha256->has_value()) options.mirror_sha256 = **mirror_sha256;
  GEO_GET(mirror_sha256_url, "mirror_sha256_url", {"GEO_MIRROR_SHA256_URL"},
          "");
  if (mirror_sha256_url->has_value()) {
    options.mirror_sha256_url = **mirror_sha256_url;
  }

  GEO_GET(once, "once", {"GEO_UPDATER_ONCE"}, "");
  if (once->has_value()) {
    std::string value = absl::AsciiStrToLower(**once);
    options.once = value == "1" || value == "true" || value == "yes";
  }

  GEO_GET(interval, "interval", {"GEO_UPDATER_INTERVAL"}, "");
  if (interval->has_value()) {
    status = ParseDuration("--interval", **interval, &options.interval);
    if (!status.ok()) return status;
  } else {
    // geoipupdate's Docker image takes the frequency in hours.
    GEO_GET(frequency, "", {"GEOIPUPDATE_FREQUENCY"}, "");
    if (frequency->has_value()) {
      int hours = 0;
      status = ParseInt("GEOIPUPDATE_FREQUENCY", **frequency, &hours);
      if (!status.ok()) return status;
      if (hours > 0) options.interval = absl::Hours(hours);
    }
  }
  GEO_GET(jitter, "interval_jitter", {}, "");
  if (jitter->has_value() &&
      (!absl::SimpleAtod(**jitter, &options.interval_jitter) ||
       options.interval_jitter < 0 || options.interval_jitter > 1)) {
    return absl::InvalidArgumentError(
        "--interval_jitter: want a fraction between 0 and 1");
  }

  struct DurationSetting {
    const char* flag;
    const char* env;
    absl::Duration* out;
  };
  for (const DurationSetting& setting : {
           DurationSetting{"connect_timeout", "GEO_UPDATER_CONNECT_TIMEOUT",
                           &options.connect_timeout},
           DurationSetting{"timeout", "GEO_UPDATER_TIMEOUT", &options.timeout},
           DurationSetting{"low_speed_time", "", &options.low_speed_time},
           DurationSetting{"backoff_initial", "", &options.backoff_initial},
           DurationSetting{"backoff_max", "", &options.backoff_max},
           DurationSetting{"max_retry_after", "", &options.max_retry_after},
           DurationSetting{"lock_timeout", "GEO_UPDATER_LOCK_TIMEOUT",
                           &options.lock_timeout},
           DurationSetting{"health_grace", "", &options.health_grace},
       }) {
    GEO_GET(value, setting.flag, {setting.env}, "");
    if (value->has_value()) {
      status =
          ParseDuration(absl::StrCat("--", setting.flag), **value, setting.out);
      if (!status.ok()) return status;
    }
  }

  GEO_GET(max_bytes, "max_download_bytes", {"GEO_UPDATER_MAX_DOWNLOAD_BYTES"},
          "");
  if (max_bytes->has_value()) {
    status = ParseInt("--max_download_bytes", **max_bytes,
                      &options.max_download_bytes);
    if (!status.ok()) return status;
  }
  GEO_GET(max_database, "max_database_bytes",
          {"GEO_UPDATER_MAX_DATABASE_BYTES"}, "");
  if (max_database->has_value()) {
    status = ParseInt("--max_database_bytes", **max_database,
                      &options.max_database_bytes);
    if (!status.ok()) return status;
  }
  GEO_GET(retries, "retries", {"GEO_UPDATER_RETRIES"}, "");
  if (retries->has_value()) {
    status = ParseInt("--retries", **retries, &options.retries);
    if (!status.ok()) return status;
    if (options.retries < 1) options.retries = 1;
  }
  GEO_GET(ca_bundle, "ca_bundle", {"GEO_CA_BUNDLE"}, "");
  if (ca_bundle->has_value()) options.ca_bundle = **ca_bundle;

  GEO_GET(output, "output", {}, "");
  if (output->has_value()) {
    if (**output == "json") {
      options.output = OutputFormat::kJson;
    } else if (!(*output)->empty() && **output != "none") {
      return absl::InvalidArgumentError(
          absl::StrCat("--output: \"", **output, "\" (want json)"));
    }
  }

  GEO_GET(status_address, "status_address", {"GEO_UPDATER_STATUS_ADDRESS"}, "");
  if (status_address->has_value()) options.status_address = **status_address;
  GEO_GET(status_port, "status_port", {"GEO_UPDATER_STATUS_PORT"}, "");
  if (status_port->has_value()) {
    if (!absl::SimpleAtoi(**status_port, &options.status_port) ||
        options.status_port < -1 || options.status_port > 65535) {
      return absl::InvalidArgumentError(
          "--status_port: want -1 (off), 0 (ephemeral) or a port number");
    }
  }
  GEO_GET(log_level, "log_level", {"GEO_LOG_LEVEL"}, "");
  if (log_level->has_value()) options.log_level = **log_level;
#undef GEO_GET

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
  return options;
}

}  // namespace geo::updater
