// MaxMind's update service, spoken the way geoipupdate speaks it:
//   GET {host}/geoip/updates/metadata?edition_id=E  ->
//   {"databases":[{md5,date}]} GET
//   {host}/geoip/databases/E/download?date=YYYYMMDD&suffix=tar.gz
// both with HTTP basic auth (account ID, license key). The metadata check does
// not count against MaxMind's daily download limit; a download does, so it is
// skipped when the installed file's MD5 matches.
#ifndef UPDATER_MAXMIND_SOURCE_H_
#define UPDATER_MAXMIND_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "updater/source.h"

namespace geo::updater {

struct MaxMindEditionMetadata {
  std::string edition;
  std::string md5;
  std::string date;  // YYYY-MM-DD
};

// Parses the metadata response and picks `edition` from it.
absl::StatusOr<MaxMindEditionMetadata> ParseMaxMindMetadata(
    absl::string_view json, absl::string_view edition);

// Thread-compatible.
class MaxMindSource final : public DatabaseSource {
 public:
  // `host` is a base URL such as https://updates.maxmind.com. The license key
  // stays inside this object and the HTTP client.
  MaxMindSource(SourceContext context, std::string host, std::string account_id,
                std::string license_key);

  absl::StatusOr<FetchResult> Fetch(const FetchRequest& request,
                                    TempFile* payload) override;

 private:
  absl::StatusOr<MaxMindEditionMetadata> FetchMetadata(
      const std::string& edition);

  SourceContext context_;
  std::string host_;
  std::string account_id_;
  std::string license_key_;
};

}  // namespace geo::updater

#endif  // UPDATER_MAXMIND_SOURCE_H_
