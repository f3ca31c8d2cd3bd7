// A Clock for tests: time moves only when the test calls Advance().
#ifndef GEO_COMMON_FAKE_CLOCK_H_
#define GEO_COMMON_FAKE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "geo/common/clock.h"

namespace geo {

// Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000))
      : now_(start) {}

  absl::Time Now() override ABSL_LOCKS_EXCLUDED(mu_);

  // Waiters wake when Advance() moves the time past their deadline, or when
  // `cancel` is notified (checked at least every few real milliseconds, since
  // absl::Notification cannot wake a condition of ours).
  bool WaitUntil(absl::Time deadline, absl::Notification* cancel) override
      ABSL_LOCKS_EXCLUDED(mu_);

  void Advance(absl::Duration duration) ABSL_LOCKS_EXCLUDED(mu_);

  // Number of threads blocked in WaitUntil right now: lets a test wait until a
  // background loop has gone to sleep before it advances time.
  int waiters() const ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks (in real time) until at least `count` threads wait on this clock.
  void AwaitWaiters(int count) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace geo

#endif  // GEO_COMMON_FAKE_CLOCK_H_
