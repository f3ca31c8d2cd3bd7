// Time as a dependency: components that poll, back off or expire take a Clock
// so that tests drive time with FakeClock instead of sleeping.
#ifndef GEO_COMMON_CLOCK_H_
#define GEO_COMMON_CLOCK_H_

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace geo {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  virtual absl::Time Now() = 0;

  // Blocks until the clock reaches `deadline` or `cancel` is notified,
  // whichever comes first. Returns true when cancelled. `cancel` may be null.
  virtual bool WaitUntil(absl::Time deadline, absl::Notification* cancel) = 0;

  bool WaitFor(absl::Duration duration, absl::Notification* cancel) {
    return WaitUntil(Now() + duration, cancel);
  }

  // The process-wide wall clock.
  static Clock* Real();
};

}  // namespace geo

#endif  // GEO_COMMON_CLOCK_H_
