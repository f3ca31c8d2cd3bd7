// A Clock for tests whose waits return at once and move time forward, so
// retries and backoff run without real sleeping while the test can still see
// how long the code asked to wait.
#ifndef TESTS_UPDATER_INSTANT_CLOCK_H_
#define TESTS_UPDATER_INSTANT_CLOCK_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "geo/common/clock.h"

namespace geo::updater::testing {

// Thread-safe.
class InstantClock final : public Clock {
 public:
  absl::Time Now() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return now_;
  }

  bool WaitUntil(absl::Time deadline, absl::Notification* cancel) override
      ABSL_LOCKS_EXCLUDED(mu_) {
    if (cancel != nullptr && cancel->HasBeenNotified()) return true;
    absl::MutexLock lock(&mu_);
    if (deadline > now_) {
      waits_.push_back(deadline - now_);
      now_ = deadline;
    }
    return false;
  }

  std::vector<absl::Duration> waits() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return waits_;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1715083200);
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

}  // namespace geo::updater::testing

#endif  // TESTS_UPDATER_INSTANT_CLOCK_H_
