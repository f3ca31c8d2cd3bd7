#include "updater/database_validator.h"

#include <maxminddb.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace geo::updater {
namespace {

struct MmdbCloser {
  void operator()(MMDB_s* mmdb) const {
    MMDB_close(mmdb);
    delete mmdb;
  }
};

}  // namespace

absl::Status ValidateDatabase(const std::string& path,
                              const std::string& edition) {
  auto* raw = new MMDB_s();
  int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, raw);
  if (status != MMDB_SUCCESS) {
    delete raw;
    return absl::DataLossError(
        absl::StrCat("not a valid MaxMind DB: ", MMDB_strerror(status)));
  }
  std::unique_ptr<MMDB_s, MmdbCloser> mmdb(raw);
  const char* type = mmdb->metadata.database_type;
  if (type == nullptr || edition != type) {
    return absl::DataLossError(
        absl::StrCat("database_type is \"", type == nullptr ? "" : type,
                     "\", expected the edition \"", edition, "\""));
  }
  // A probe lookup walks the search tree and decodes a record when found.
  for (const char* probe : {"1.1.1.1", "81.2.69.160", "::1.1.1.1"}) {
    int gai_error = 0;
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s result =
        MMDB_lookup_string(mmdb.get(), probe, &gai_error, &mmdb_error);
    if (gai_error != 0) continue;  // An IPv6 probe in an IPv4 database.
    if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) continue;
    if (mmdb_error != MMDB_SUCCESS) {
      return absl::DataLossError(absl::StrCat(
          "probe lookup of ", probe, " failed: ", MMDB_strerror(mmdb_error)));
    }
    if (result.found_entry) {
      MMDB_entry_data_list_s* list = nullptr;
      int decode = MMDB_get_entry_data_list(&result.entry, &list);
      MMDB_free_entry_data_list(list);
      if (decode != MMDB_SUCCESS) {
        return absl::DataLossError(absl::StrCat(
            "record of ", probe, " does not decode: ", MMDB_strerror(decode)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace geo::updater
