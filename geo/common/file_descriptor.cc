#include "geo/common/file_descriptor.h"

#include <unistd.h>

namespace geo {

int FileDescriptor::Reset() {
  if (fd_ < 0) return 0;
  // Never retried on EINTR: Linux has released the descriptor already, and
  // another thread may have been given the same number since.
  return ::close(std::exchange(fd_, -1));
}

void FileDescriptor::Reset(int fd) {
  Reset();
  fd_ = fd;
}

}  // namespace geo
