// Atomic installation of database files into the data directory.
//
// A file is written to a temp file in the target directory (same filesystem,
// so rename is atomic), fsync'ed, renamed over the final name, and the
// directory is fsync'ed so the rename survives a crash. Readers (the geo
// server's watcher) therefore only ever see a complete old or a complete new
// file. Temp files are dot-files with a fixed prefix so that stale ones left
// by a killed updater can be found and removed, under the directory lock
// (updater/directory_lock.h).
#ifndef UPDATER_INSTALLER_H_
#define UPDATER_INSTALLER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "updater/temp_file.h"

namespace geo::updater {

// Prefix of every temp file the updater creates.
inline constexpr absl::string_view kTempPrefix = ".geo-updater-";

// Thread-compatible.
class Installer {
 public:
  explicit Installer(std::string directory);

  // Creates the directory if needed and checks it is writable.
  absl::Status Prepare();
  // Removes temp files left behind by an interrupted run. Call with the
  // directory lock held. Returns how many were removed.
  absl::StatusOr<int> RemoveStaleTempFiles();
  // A new, empty temp file whose name mentions `label`.
  absl::StatusOr<TempFile> CreateTemp(absl::string_view label);

  std::string PathOf(absl::string_view file_name) const;
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
};

}  // namespace geo::updater

#endif  // UPDATER_INSTALLER_H_
