#include "geo/common/background_work.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace geo {

absl::Status SetThisThreadNiceness(int nice) {
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("setpriority(", nice, "): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void YieldToRequests() {
  // Per thread: the time of this thread's last yield. A yield on a busy core
  // costs the yielding thread a whole turn, so yielding after every small
  // step would stretch a reload far more than it helps requests.
  constexpr auto kInterval = std::chrono::microseconds(200);
  thread_local std::chrono::steady_clock::time_point last_yield;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_yield < kInterval) return;
  sched_yield();
  last_yield = std::chrono::steady_clock::now();
}

}  // namespace geo
