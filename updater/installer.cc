#include "updater/installer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "geo/common/file_descriptor.h"
#include "geo/common/logging.h"

namespace geo::updater {
Installer::Installer(std::string directory) : directory_(std::move(directory)) {
  while (directory_.size() > 1 && absl::EndsWith(directory_, "/")) {
    directory_.pop_back();
  }
}

std::string Installer::PathOf(absl::string_view file_name) const {
  return absl::StrCat(directory_, "/", file_name);
}

absl::Status Installer::Prepare() {
  if (::mkdir(directory_.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("create data directory ", directory_));
  }
  if (::access(directory_.c_str(), W_OK | X_OK) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("data directory ", directory_, " is not writable"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Installer::RemoveStaleTempFiles() {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(directory_.c_str()),
                                          &::closedir);
  if (dir == nullptr)
    return absl::ErrnoToStatus(errno, absl::StrCat("list ", directory_));
  std::vector<std::string> stale;
  while (struct dirent* entry = ::readdir(dir.get())) {
    absl::string_view name = entry->d_name;
    if (absl::StartsWith(name, kTempPrefix) &&
        absl::StrContains(name, ".tmp")) {
      stale.emplace_back(name);
    }
  }
  int removed = 0;
  for (const std::string& name : stale) {
    std::string path = PathOf(name);
    if (::unlink(path.c_str()) == 0) {
      ++removed;
      Log(LogLevel::kInfo, "Removed stale temp file", {{"path", path}});
    } else if (errno != ENOENT) {
      return absl::ErrnoToStatus(errno, absl::StrCat("remove ", path));
    }
  }
  return removed;
}

absl::StatusOr<TempFile> Installer::CreateTemp(absl::string_view label) {
  std::string path =
      absl::StrCat(directory_, "/", kTempPrefix, label, ".tmpXXXXXX");
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0)
    return absl::ErrnoToStatus(
        errno, absl::StrCat("create temp file in ", directory_));
  return TempFile(directory_, std::move(path), FileDescriptor(fd));
}

}  // namespace geo::updater
