// Watches one file by polling stat(2) and calls back when a new, settled
// version appears. Used for the databases and, later, the policy file.
#ifndef GEO_COMMON_POLLING_WATCHER_H_
#define GEO_COMMON_POLLING_WATCHER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"

namespace geo {

// Told about what the watcher sees, so the owner can count it in metrics.
// Called on the polling thread inside the poll (after the callback returns);
// must not call back into the watcher.
class PollingWatcherObserver {
 public:
  virtual ~PollingWatcherObserver() = default;
  // The callback accepted a new version of the file.
  virtual void OnReloaded(const std::string& path, absl::Duration duration) {
    (void)path;
    (void)duration;
  }
  // The callback refused a new version; it is not retried until the file
  // changes again.
  virtual void OnRejected(const std::string& path, const absl::Status& status) {
    (void)path;
    (void)status;
  }
  // The file could not be examined: missing, permission denied, not a
  // regular file... Reported on every poll that fails (logged only once per
  // distinct error).
  virtual void OnError(const std::string& path, const absl::Status& status) {
    (void)path;
    (void)status;
  }
};

struct PollingWatcherOptions {
  absl::Duration interval = absl::Seconds(1);
  // How many consecutive polls must see an unchanged (device, inode, size,
  // mtime) before the callback runs; 1 means unchanged for a whole interval.
  // Debounces in-place writes: a half-written file is never handed over.
  int stable_polls = 1;
  // Not owned; Clock::Real() when null.
  Clock* clock = nullptr;
  // Not owned; may be null. Must outlive the watcher.
  PollingWatcherObserver* observer = nullptr;
  // Logged (info, with path and duration) after the callback accepts a file;
  // empty to leave success logging to the callback (GeoStore::Reload logs
  // "Database reloaded" with type and build epoch itself).
  std::string reloaded_message = "Watched file reloaded";
  // Niceness of the watcher's thread, on which the callback (a reload) runs.
  // Positive values make a reload yield the CPU to lookups: on a busy core,
  // opening, prefaulting and validating a file in a few tens of milliseconds
  // at full priority stalls every request queued behind it, which shows as
  // the p99 during reloads. Linux sets niceness per thread.
  int nice = 0;
};

// Thread-safe. Identity is (device, inode, size, mtime) of the file the path
// resolves to (stat follows symlinks), so atomic renames, Kubernetes
// `..data` symlink swaps, in-place writes and delete-then-recreate are all
// seen as changes. After a deletion the next file is loaded even if it reuses
// the old inode with the same size and mtime.
class PollingWatcher {
 public:
  // Loads the file at `path`; an error status means the file was refused and
  // the caller keeps what it had.
  using Callback = std::function<absl::Status(const std::string& path)>;

  PollingWatcher(std::string path, Callback callback,
                 PollingWatcherOptions options = {});
  // Stops and joins.
  ~PollingWatcher();

  PollingWatcher(const PollingWatcher&) = delete;
  PollingWatcher& operator=(const PollingWatcher&) = delete;

  // The owner's first load, on the caller's thread, before Start(): stats
  // the file, then runs the callback. When both succeed, the identity seen
  // *before* the callback ran is the loaded version, so a file replaced at
  // any moment after the stat (even before the polling thread first runs)
  // is a new version that the polls load. When either fails nothing is
  // recorded and the polls keep trying. Logs and observer calls are left to
  // the callback: this is a start-up load, not a reload.
  absl::Status LoadNow() ABSL_LOCKS_EXCLUDED(poll_mu_);

  // Starts the polling thread (first poll at once). A watcher starts once;
  // after Stop() it cannot be restarted.
  void Start() ABSL_LOCKS_EXCLUDED(thread_mu_);

  // Wakes the polling thread and joins it. Returns within one interval
  // unless a callback is running, which it waits for. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(thread_mu_);

  // One poll on the caller's thread: what the thread does every interval.
  void PollOnce() ABSL_LOCKS_EXCLUDED(poll_mu_, stats_mu_);

  struct Stats {
    int64_t polls = 0;
    int64_t reloads = 0;
    int64_t rejections = 0;
    int64_t errors = 0;
  };
  Stats stats() const ABSL_LOCKS_EXCLUDED(stats_mu_);

  const std::string& path() const { return path_; }

 private:
  struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_nanoseconds = 0;
    bool operator==(const FileIdentity& other) const {
      return device == other.device && inode == other.inode &&
             size == other.size && mtime_nanoseconds == other.mtime_nanoseconds;
    }
    bool operator!=(const FileIdentity& other) const {
      return !(*this == other);
    }
  };

  void Run() ABSL_LOCKS_EXCLUDED(poll_mu_, stats_mu_);
  void ReportError(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(poll_mu_) ABSL_LOCKS_EXCLUDED(stats_mu_);
  void ClearError() ABSL_EXCLUSIVE_LOCKS_REQUIRED(poll_mu_);
  // stat(2) of the watched path, which must be a regular file.
  absl::StatusOr<FileIdentity> Identify() const;
  void Load(const FileIdentity& identity)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(poll_mu_) ABSL_LOCKS_EXCLUDED(stats_mu_);

  const std::string path_;
  const Callback callback_;
  const PollingWatcherOptions options_;
  Clock* const clock_;

  // Held for a whole poll, callback included: polls never overlap.
  absl::Mutex poll_mu_ ABSL_ACQUIRED_BEFORE(stats_mu_);
  // The version last handed to the callback (accepted or not).
  std::optional<FileIdentity> attempted_ ABSL_GUARDED_BY(poll_mu_);
  // A new version seen but not yet settled, and for how many polls.
  std::optional<FileIdentity> candidate_ ABSL_GUARDED_BY(poll_mu_);
  int stable_count_ ABSL_GUARDED_BY(poll_mu_) = 0;
  // The error last logged, so a persistent error logs once, not every poll.
  std::string last_error_ ABSL_GUARDED_BY(poll_mu_);

  mutable absl::Mutex stats_mu_;
  Stats stats_ ABSL_GUARDED_BY(stats_mu_);

  absl::Mutex thread_mu_;
  absl::Notification stop_;
  std::thread thread_ ABSL_GUARDED_BY(thread_mu_);
  bool started_ ABSL_GUARDED_BY(thread_mu_) = false;
};

}  // namespace geo

#endif  // GEO_COMMON_POLLING_WATCHER_H_
