#include "geo/common/background_work.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace geo {

absl::Status SetThisThreadNiceness(int nice) {
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setpriority(", nice, ")"));
  }
  return absl::OkStatus();
}

BackgroundWork::BackgroundWork(absl::Duration slice)
    : slice_(slice), last_yield_(std::chrono::steady_clock::now()) {}

void BackgroundWork::Step() {
  ++steps_;
  if (slice_ == absl::InfiniteDuration()) return;
  const auto now = std::chrono::steady_clock::now();
  if (absl::FromChrono(now - last_yield_) < slice_) return;
  sched_yield();
  ++yields_;
  last_yield_ = std::chrono::steady_clock::now();
}

}  // namespace geo
