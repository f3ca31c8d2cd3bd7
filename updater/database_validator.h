// The last gate before a downloaded database is installed: it must open as a
// MaxMind DB, answer a probe lookup, and be the edition that was asked for.
#ifndef UPDATER_DATABASE_VALIDATOR_H_
#define UPDATER_DATABASE_VALIDATOR_H_

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace geo::updater {

// Validates the file at `path` as edition `edition` (MaxMind's database_type
// equals the edition ID, e.g. "GeoLite2-City"). DATA_LOSS when it is not.
using DatabaseValidator = std::function<absl::Status(
    const std::string& path, const std::string& edition)>;

// The validator the geo server itself applies when it loads a file.
absl::Status ValidateDatabase(const std::string& path,
                              const std::string& edition);

}  // namespace geo::updater

#endif  // UPDATER_DATABASE_VALIDATOR_H_
