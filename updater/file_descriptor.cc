#include "updater/file_descriptor.h"

#include <unistd.h>

namespace geo::updater {

int FileDescriptor::Reset() {
  if (fd_ < 0) return 0;
  int result = ::close(fd_);
  fd_ = -1;
  return result;
}

}  // namespace geo::updater
