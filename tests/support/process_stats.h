// What /proc says about a running process, for tests that bound a server's
// memory and descriptors and for the benchmark drivers (not testonly).
#ifndef TESTS_SUPPORT_PROCESS_STATS_H_
#define TESTS_SUPPORT_PROCESS_STATS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace geo::testing {

// A "kB" field of /proc/<pid>/status in KiB, e.g. "VmRSS" (resident) or
// "RssAnon" (the heap, not the pages of a memory-mapped file); -1 when it
// cannot be read.
int64_t ProcStatusKiB(pid_t pid, const std::string& field);

// The number of threads of <pid> ("Threads" in /proc/<pid>/status); -1 when
// it cannot be read.
int ProcThreadCount(pid_t pid);

// The number of open descriptors in /proc/<pid>/fd; -1 when unreadable.
int OpenDescriptorCount(pid_t pid);

// KiB of the mapping holding `address` that have page-table entries in
// <pid> (its "Rss" in /proc/<pid>/smaps); -1 when no mapping holds it.
int64_t MappingResidentKiB(pid_t pid, const void* address);

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_PROCESS_STATS_H_
