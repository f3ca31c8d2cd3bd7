// The open-file limit (RLIMIT_NOFILE) of a server process.
//
// Every connection is a descriptor, and descriptors are one table for the
// whole process: when it is full, every listener's accept fails, the health
// listener's included, so a flood of idle connections on one port can fail
// the kubelet's probes on another. Many launchers leave the soft limit at
// 1024 under a much higher hard limit (systemd's default; older Docker), and
// the soft limit is the one that refuses. Like the Go runtime, a server
// raises it to the hard limit at start, which any process may do.
#ifndef GEO_COMMON_OPEN_FILE_LIMIT_H_
#define GEO_COMMON_OPEN_FILE_LIMIT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace geo {

struct OpenFileLimit {
  // The soft limit before and after, and the hard limit.
  uint64_t before = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

// Raises this process's soft RLIMIT_NOFILE to its hard limit (an unlimited
// hard limit: to the kernel's per-process maximum, fs.nr_open, read from
// `nr_open_path`). Fails only when getrlimit or setrlimit does; the limit
// is then unchanged.
absl::StatusOr<OpenFileLimit> RaiseOpenFileLimit(
    const char* nr_open_path = "/proc/sys/fs/nr_open");

// RaiseOpenFileLimit for a server's start: logs "Open-file limit" with the
// soft and hard limits and the one found (`was`), or a warning when the limit
// could not be raised, which does not stop the server.
absl::StatusOr<OpenFileLimit> RaiseAndLogOpenFileLimit();

}  // namespace geo

#endif  // GEO_COMMON_OPEN_FILE_LIMIT_H_
