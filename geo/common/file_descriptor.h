// An owned POSIX file descriptor (a file, socket or directory), closed on
// destruction. Shared by the server, the updater and the tests.
#ifndef GEO_COMMON_FILE_DESCRIPTOR_H_
#define GEO_COMMON_FILE_DESCRIPTOR_H_

#include <utility>

namespace geo {

// Move-only. Not thread-safe: one owner at a time.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  // Takes ownership of `fd`; a negative value (a failed open) means none.
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { Reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.Release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  bool valid() const { return fd_ >= 0; }
  // The descriptor, still owned; -1 when none.
  int get() const { return fd_; }
  // Gives up ownership without closing; the caller closes the result.
  [[nodiscard]] int Release() { return std::exchange(fd_, -1); }
  // Closes now; returns close(2)'s result (0 when nothing was open). A
  // writer must check it: NFS and the like report a failed write only here.
  int Reset();
  // Closes the current descriptor (ignoring close's result) and owns `fd`.
  void Reset(int fd);

 private:
  int fd_ = -1;
};

}  // namespace geo

#endif  // GEO_COMMON_FILE_DESCRIPTOR_H_
