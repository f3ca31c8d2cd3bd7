#include "geo/common/fake_clock.h"

namespace geo {

absl::Time FakeClock::Now() {
  absl::MutexLock lock(&mu_);
  return now_;
}

bool FakeClock::WaitUntil(absl::Time deadline, absl::Notification* cancel) {
  absl::MutexLock lock(&mu_);
  ++waiters_;
  auto reached = [this, deadline]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return now_ >= deadline;
  };
  bool cancelled = false;
  // Real time bounds only how quickly a cancellation is noticed.
  while (
      !mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Milliseconds(2))) {
    if (cancel != nullptr && cancel->HasBeenNotified()) {
      cancelled = true;
      break;
    }
  }
  --waiters_;
  return cancelled;
}

void FakeClock::Advance(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  now_ += duration;
}

int FakeClock::waiters() const {
  absl::MutexLock lock(&mu_);
  return waiters_;
}

void FakeClock::AwaitWaiters(int count) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, count]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return waiters_ >= count;
  };
  mu_.Await(absl::Condition(&enough));
}

}  // namespace geo
