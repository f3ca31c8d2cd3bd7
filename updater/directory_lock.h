// Mutual exclusion between updaters sharing a data directory: an exclusive
// flock(2) held for a whole pass, so that two updaters (an initContainer and
// a CronJob, say) never install into the same directory at once.
#ifndef UPDATER_DIRECTORY_LOCK_H_
#define UPDATER_DIRECTORY_LOCK_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"
#include "geo/common/file_descriptor.h"

namespace geo::updater {

// An exclusive flock(2) on `<directory>/.geo-updater.lock`, released on
// destruction (and by the kernel if the process dies).
class DirectoryLock {
 public:
  // Tries for up to `timeout` (zero: once), polling on `clock`. ABORTED when
  // another process still holds the lock; CANCELLED when `cancel` fires.
  static absl::StatusOr<DirectoryLock> Acquire(const std::string& directory,
                                               absl::Duration timeout,
                                               Clock* clock,
                                               absl::Notification* cancel);
  // The same on the file `lock_path` (geoipupdate's LockFile), created when
  // missing.
  static absl::StatusOr<DirectoryLock> AcquireFile(const std::string& lock_path,
                                                   absl::Duration timeout,
                                                   Clock* clock,
                                                   absl::Notification* cancel);

  DirectoryLock(DirectoryLock&&) = default;
  DirectoryLock& operator=(DirectoryLock&&) = default;

 private:
  explicit DirectoryLock(FileDescriptor fd) : fd_(std::move(fd)) {}
  FileDescriptor fd_;
};

}  // namespace geo::updater

#endif  // UPDATER_DIRECTORY_LOCK_H_
