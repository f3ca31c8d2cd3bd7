// Free space in the data directory, which bounds what one update may write:
// the download, the extracted database, and the installed file they replace
// all live on the same filesystem (an emptyDir of a few hundred MiB in the
// sidecar topology).
#ifndef UPDATER_FREE_SPACE_H_
#define UPDATER_FREE_SPACE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace geo::updater {

// Thread-safe implementations only.
class FreeSpace {
 public:
  virtual ~FreeSpace() = default;
  // Bytes an unprivileged process may still write in `directory`'s
  // filesystem.
  virtual absl::StatusOr<int64_t> AvailableBytes(
      const std::string& directory) const = 0;
};

// statvfs(2): f_bavail blocks of f_frsize bytes.
class StatvfsFreeSpace final : public FreeSpace {
 public:
  absl::StatusOr<int64_t> AvailableBytes(
      const std::string& directory) const override;
};

// "512 MiB (536870912 bytes)": binary units for people, the exact count for
// comparing with settings.
std::string FormatBytes(int64_t bytes);

}  // namespace geo::updater

#endif  // UPDATER_FREE_SPACE_H_
