#include "updater/free_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace geo::updater {

absl::StatusOr<int64_t> StatvfsFreeSpace::AvailableBytes(
    const std::string& directory) const {
  struct statvfs info;
  if (::statvfs(directory.c_str(), &info) != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot read the free space of ", directory, ": ", strerror(errno)));
  }
  const uint64_t block = info.f_frsize != 0 ? info.f_frsize : info.f_bsize;
  const uint64_t max =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (block != 0 && info.f_bavail > max / block) {
    return std::numeric_limits<int64_t>::max();
  }
  return static_cast<int64_t>(info.f_bavail * block);
}

std::string FormatBytes(int64_t bytes) {
  constexpr int64_t kMiB = int64_t{1} << 20;
  if (bytes >= 10 * kMiB || -bytes >= 10 * kMiB) {
    return absl::StrCat(bytes / kMiB, " MiB (", bytes, " bytes)");
  }
  return absl::StrCat(bytes, " bytes");
}

}  // namespace geo::updater
