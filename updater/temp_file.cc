#include "updater/temp_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/common/logging.h"

namespace geo::updater {
namespace {

absl::Status ErrnoStatus(int error, absl::string_view what) {
  absl::Status status = absl::ErrnoToStatus(error, what);
  // EFBIG on a write is the file size limit (RLIMIT_FSIZE, a quota): the disk
  // is full as far as this process is concerned, like ENOSPC and EDQUOT,
  // which absl maps to RESOURCE_EXHAUSTED (absl makes EFBIG OUT_OF_RANGE,
  // which the updater reports as a download that is too large).
  if (error == EFBIG) return absl::ResourceExhaustedError(status.message());
  return status;
}

}  // namespace

TempFile::TempFile(std::string directory, std::string path, FileDescriptor fd)
    : directory_(std::move(directory)),
      path_(std::move(path)),
      fd_(std::move(fd)) {}

TempFile::TempFile(TempFile&& other) noexcept
    : directory_(std::move(other.directory_)),
      path_(std::exchange(other.path_, std::string())),
      fd_(std::move(other.fd_)),
      committed_(other.committed_),
      size_(other.size_),
      write_check_(std::move(other.write_check_)) {}

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    Discard();
    directory_ = std::move(other.directory_);
    path_ = std::exchange(other.path_, std::string());
    fd_ = std::move(other.fd_);
    committed_ = other.committed_;
    size_ = other.size_;
    write_check_ = std::move(other.write_check_);
  }
  return *this;
}

TempFile::~TempFile() { Discard(); }

void TempFile::Discard() {
  if (committed_ || path_.empty()) return;
  fd_.Reset();
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    Log(LogLevel::kWarn, "Cannot remove temp file",
        {{"path", path_}, {"error", strerror(errno)}});
  }
  path_.clear();
}

absl::Status TempFile::Write(absl::string_view data) {
  if (write_check_) {
    absl::Status allowed =
        write_check_(size_ + static_cast<int64_t>(data.size()));
    if (!allowed.ok()) return allowed;
  }
  size_ += static_cast<int64_t>(data.size());
  while (!data.empty()) {
    ssize_t written = ::write(fd_.get(), data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return ErrnoStatus(errno, absl::StrCat("write ", path_));
    data.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

absl::Status TempFile::Truncate() {
  if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0) {
    return ErrnoStatus(errno, absl::StrCat("truncate ", path_));
  }
  size_ = 0;
  return absl::OkStatus();
}

absl::Status TempFile::Commit(const std::string& final_path,
                              std::optional<absl::Time> modified_at) {
  if (::fchmod(fd_.get(), 0644) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chmod ", path_));
  }
  if (modified_at.has_value()) {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = absl::ToTimespec(*modified_at);
    if (::futimens(fd_.get(), times) != 0) {
      return ErrnoStatus(errno, absl::StrCat("set mtime of ", path_));
    }
  }
  if (::fsync(fd_.get()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fsync ", path_));
  }
  if (fd_.Reset() != 0) {
    return ErrnoStatus(errno, absl::StrCat("close ", path_));
  }
  if (::rename(path_.c_str(), final_path.c_str()) != 0) {
    return ErrnoStatus(errno,
                       absl::StrCat("rename ", path_, " to ", final_path));
  }
  committed_ = true;
  return SyncDirectory(directory_);
}

absl::Status SyncDirectory(const std::string& directory) {
  FileDescriptor fd(
      ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("open ", directory));
  if (::fsync(fd.get()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fsync ", directory));
  }
  return absl::OkStatus();
}

}  // namespace geo::updater
