#include "geo/common/open_file_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <fstream>

#include "absl/status/status.h"
#include "geo/common/logging.h"

namespace geo {
namespace {

// fs.nr_open: setrlimit refuses a higher RLIMIT_NOFILE, RLIM_INFINITY too.
// 1048576 (the kernel's default) when the file cannot be read.
uint64_t KernelMaximum(const char* nr_open_path) {
  std::ifstream in(nr_open_path);
  uint64_t maximum = 0;
  if (in >> maximum && maximum > 0) return maximum;
  return uint64_t{1} << 20;
}

}  // namespace

absl::StatusOr<OpenFileLimit> RaiseOpenFileLimit(const char* nr_open_path) {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::ErrnoToStatus(errno, "getrlimit(RLIMIT_NOFILE)");
  }
  OpenFileLimit result;
  result.before = limit.rlim_cur;
  result.hard = limit.rlim_max;
  rlim_t target = limit.rlim_max;
  if (target == RLIM_INFINITY) target = KernelMaximum(nr_open_path);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    limit.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return absl::ErrnoToStatus(errno, "setrlimit(RLIMIT_NOFILE)");
    }
  }
  result.soft = limit.rlim_cur;
  return result;
}

absl::StatusOr<OpenFileLimit> RaiseAndLogOpenFileLimit() {
  absl::StatusOr<OpenFileLimit> files = RaiseOpenFileLimit();
  if (files.ok()) {
    Log(LogLevel::kInfo, "Open-file limit",
        {{"soft", files->soft}, {"hard", files->hard}, {"was", files->before}});
  } else {
    Log(LogLevel::kWarn, "Cannot raise the open-file limit",
        {{"error", files.status()}});
  }
  return files;
}

}  // namespace geo
