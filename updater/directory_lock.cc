#include "updater/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "geo/common/logging.h"

namespace geo::updater {

absl::StatusOr<DirectoryLock> DirectoryLock::Acquire(
    const std::string& directory, absl::Duration timeout, Clock* clock,
    absl::Notification* cancel) {
  return AcquireFile(absl::StrCat(directory, "/.geo-updater.lock"), timeout,
                     clock, cancel);
}

absl::StatusOr<DirectoryLock> DirectoryLock::AcquireFile(
    const std::string& path, absl::Duration timeout, Clock* clock,
    absl::Notification* cancel) {
  FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid())
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  const absl::Time deadline = clock->Now() + timeout;
  bool logged = false;
  while (true) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0)
      return DirectoryLock(std::move(fd));
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK)
      return absl::ErrnoToStatus(errno, absl::StrCat("flock ", path));
    if (clock->Now() >= deadline) {
      return absl::AbortedError(absl::StrCat("another updater holds the lock ",
                                             path, "; gave up after ",
                                             absl::FormatDuration(timeout)));
    }
    if (!logged) {
      Log(LogLevel::kInfo, "Waiting for another updater to release the lock",
          {{"path", path}, {"timeout_seconds", timeout}});
      logged = true;
    }
    if (clock->WaitFor(absl::Milliseconds(100), cancel)) {
      return absl::CancelledError("cancelled while waiting for the lock");
    }
  }
}

}  // namespace geo::updater
