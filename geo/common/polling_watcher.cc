#include "geo/common/polling_watcher.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/common/background_work.h"
#include "geo/common/logging.h"

namespace geo {
namespace {

absl::Status ErrnoStatus(int error, absl::string_view what,
                         const std::string& path) {
  absl::Status status =
      absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
  // A path component that is not a directory (a symlink swap in progress, a
  // directory replaced by a file) means the file is not there: NOT_FOUND, which
  // makes the next file at this path load even if it looks like the last one.
  if (error == ENOTDIR) return absl::NotFoundError(status.message());
  return status;
}

}  // namespace

PollingWatcher::PollingWatcher(std::string path, Callback callback,
                               PollingWatcherOptions options)
    : path_(std::move(path)),
      callback_(std::move(callback)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()) {}

PollingWatcher::~PollingWatcher() { Stop(); }

void PollingWatcher::Start() {
  absl::MutexLock lock(&thread_mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void PollingWatcher::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&thread_mu_);
    if (!stop_.HasBeenNotified()) stop_.Notify();
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void PollingWatcher::Run() {
  // The name docs/architecture.md#threads lists (15 characters at most).
  pthread_setname_np(pthread_self(), "geo-watch");
  if (options_.nice != 0) {
    absl::Status niced = SetThisThreadNiceness(options_.nice);
    if (!niced.ok()) {
      Log(LogLevel::kWarn, "Cannot lower the watcher thread's priority",
          {{"path", path_}, {"error", niced}});
    }
  }
  while (!stop_.HasBeenNotified()) {
    PollOnce();
    if (clock_->WaitFor(options_.interval, &stop_)) return;
  }
}

PollingWatcher::Stats PollingWatcher::stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

absl::StatusOr<PollingWatcher::FileIdentity> PollingWatcher::Identify() const {
  struct stat info;
  if (stat(path_.c_str(), &info) != 0) {
    return ErrnoStatus(errno, "cannot stat watched file", path_);
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("watched path ", path_, " is not a regular file"));
  }
  return FileIdentity{info.st_dev, info.st_ino, info.st_size,
                      static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
                          info.st_mtim.tv_nsec};
}

absl::Status PollingWatcher::LoadNow() {
  absl::MutexLock lock(&poll_mu_);
  // The stat comes first: whatever replaces the file after it is newer than
  // what the callback may have read, and differs from the recorded identity.
  absl::StatusOr<FileIdentity> identity = Identify();
  absl::Status status = callback_(path_);
  if (identity.ok() && status.ok()) attempted_ = *identity;
  return status;
}

void PollingWatcher::PollOnce() {
  absl::MutexLock lock(&poll_mu_);
  {
    absl::MutexLock stats_lock(&stats_mu_);
    ++stats_.polls;
  }
  absl::StatusOr<FileIdentity> identified = Identify();
  if (!identified.ok()) {
    candidate_.reset();
    // Forget the loaded version: a re-created file may reuse its inode, size
    // and mtime (same content copied with cp -p) and must still be loaded.
    if (absl::IsNotFound(identified.status())) attempted_.reset();
    ReportError(identified.status());
    return;
  }
  const FileIdentity& identity = *identified;
  if (attempted_.has_value() && *attempted_ == identity) {
    candidate_.reset();
    ClearError();
    return;
  }
  if (!candidate_.has_value() || *candidate_ != identity) {
    // New or still changing: wait for it to settle.
    candidate_ = identity;
    stable_count_ = 0;
    return;
  }
  if (++stable_count_ < options_.stable_polls) return;

  // stat needs no read permission; find out now rather than inside the
  // callback, so an unreadable file is an OS error (retried once fixed: a
  // chmod changes no part of the identity) and not a rejected file.
  const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ReportError(ErrnoStatus(errno, "cannot open watched file", path_));
    return;
  }
  close(fd);
  ClearError();
  Load(identity);
}

void PollingWatcher::Load(const FileIdentity& identity) {
  // Recorded before the call: if the callback fails the same version is not
  // retried every interval. If the file changes while the callback reads it,
  // the next poll sees a new identity and loads again.
  attempted_ = identity;
  candidate_.reset();
  const absl::Time start = clock_->Now();
  const absl::Status status = callback_(path_);
  const absl::Duration duration = clock_->Now() - start;
  {
    absl::MutexLock stats_lock(&stats_mu_);
    ++(status.ok() ? stats_.reloads : stats_.rejections);
  }
  if (status.ok()) {
    if (!options_.reloaded_message.empty()) {
      Log(LogLevel::kInfo, options_.reloaded_message,
          {{"path", path_}, {"duration", duration}});
    }
    if (options_.observer != nullptr) {
      options_.observer->OnReloaded(path_, duration);
    }
  } else {
    Log(LogLevel::kWarn, "Watched file rejected; keeping the current version",
        {{"path", path_}, {"error", status}, {"duration", duration}});
    if (options_.observer != nullptr) {
      options_.observer->OnRejected(path_, status);
    }
  }
}

void PollingWatcher::ReportError(const absl::Status& status) {
  {
    absl::MutexLock stats_lock(&stats_mu_);
    ++stats_.errors;
  }
  const std::string text = status.ToString();
  if (text != last_error_) {
    last_error_ = text;
    Log(LogLevel::kWarn, "Watched file unavailable",
        {{"path", path_}, {"error", status}});
  }
  if (options_.observer != nullptr) options_.observer->OnError(path_, status);
}

void PollingWatcher::ClearError() {
  if (last_error_.empty()) return;
  last_error_.clear();
  Log(LogLevel::kInfo, "Watched file available again", {{"path", path_}});
}

}  // namespace geo
