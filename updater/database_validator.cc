#include "updater/database_validator.h"

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "geo/data/database.h"

namespace geo::updater {

absl::Status ValidateDatabase(const std::string& path,
                              const std::string& edition) {
  // The same open the geo server does on reload: libmaxminddb's checks, the
  // metadata, and probe lookups whose records must decode.
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(path);
  if (!database.ok()) {
    return absl::DataLossError(database.status().message());
  }
  if ((*database)->type() != edition) {
    return absl::DataLossError(
        absl::StrCat("database_type is \"", (*database)->type(),
                     "\", expected the edition \"", edition, "\""));
  }
  return absl::OkStatus();
}

}  // namespace geo::updater
