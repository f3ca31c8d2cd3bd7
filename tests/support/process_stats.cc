#include "tests/support/process_stats.h"

#include <dirent.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace geo::testing {

namespace {

// The number of field `field` of /proc/<pid>/status, its unit ("kB")
// dropped; -1 when it cannot be read.
int64_t ProcStatusNumber(pid_t pid, const std::string& field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  const std::string prefix = field + ":";
  for (std::string text; std::getline(status, text);) {
    absl::string_view line = text;
    if (!absl::ConsumePrefix(&line, prefix)) continue;
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, "kB");
    int64_t number = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &number)) {
      return number;
    }
  }
  return -1;
}

}  // namespace

int64_t ProcStatusKiB(pid_t pid, const std::string& field) {
  return ProcStatusNumber(pid, field);
}

int ProcThreadCount(pid_t pid) {
  return static_cast<int>(ProcStatusNumber(pid, "Threads"));
}

int OpenDescriptorCount(pid_t pid) {
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

int64_t MappingResidentKiB(pid_t pid, const void* address) {
  std::ifstream smaps(absl::StrCat("/proc/", pid, "/smaps"));
  const auto target = reinterpret_cast<uintptr_t>(address);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t low = 0;
    uintptr_t high = 0;
    // A mapping's first line: "low-high perms offset dev inode path".
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &low, &high) == 2) {
      inside = low <= target && target < high;
      continue;
    }
    int64_t kib = 0;
    if (inside && std::sscanf(line.c_str(), "Rss: %" SCNd64, &kib) == 1) {
      return kib;
    }
  }
  return -1;
}

}  // namespace geo::testing
