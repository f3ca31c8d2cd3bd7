// An owned POSIX file descriptor, closed on destruction.
#ifndef UPDATER_FILE_DESCRIPTOR_H_
#define UPDATER_FILE_DESCRIPTOR_H_

#include <utility>

namespace geo::updater {

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { Reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }
  // Closes now; returns close(2)'s result (0 when nothing was open), which
  // matters for files written over NFS and the like.
  int Reset();

 private:
  int fd_ = -1;
};

}  // namespace geo::updater

#endif  // UPDATER_FILE_DESCRIPTOR_H_
