// Background work (database reloads) that shares cores with request threads.
//
// On a saturated core a low-priority thread still gets its turns, and once
// picked it may keep the CPU until the next scheduler tick (4 ms at HZ=250):
// `perf sched` traces under `make bench` load showed a reload holding the
// server's core for ~5 ms at a time while the HTTP thread was runnable. Work
// that calls BackgroundWork::Step() between small steps delays a request by
// about 0.2 ms instead. See docs/adr/0010-reloads-off-the-request-path.md and
// 0016-reload-generations.md.
#ifndef GEO_COMMON_BACKGROUND_WORK_H_
#define GEO_COMMON_BACKGROUND_WORK_H_

#include <chrono>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace geo {

// Sets the calling thread's niceness (Linux sets it per thread); positive
// values make it yield to request threads. Errors name errno.
absl::Status SetThisThreadNiceness(int nice);

// The CPU budget of one piece of background work (a reload): whoever runs
// the work creates one and passes it down to every step, so that the parts
// (containers, the database's page-table work) take their turns from one
// budget instead of yielding on their own. Step() gives the CPU to any other
// runnable thread (sched_yield) once the work has run for `slice` since it
// last did, and otherwise returns at once, so callers may call it after
// every small step. Not thread-safe: one per thread of work.
class BackgroundWork {
 public:
  // Yielding on a busy core costs the yielding thread a whole turn, so
  // yielding after every small step would stretch a reload far more than it
  // helps requests; 0.2 ms keeps both short.
  static constexpr absl::Duration kDefaultSlice = absl::Microseconds(200);

  explicit BackgroundWork(absl::Duration slice = kDefaultSlice);

  // Work with no requests to yield to (tools, tests): Step() never yields.
  static BackgroundWork Unyielding() {
    return BackgroundWork(absl::InfiniteDuration());
  }

  void Step();

  // Steps taken, and how many of them gave the CPU away.
  uint64_t steps() const { return steps_; }
  uint64_t yields() const { return yields_; }

 private:
  const absl::Duration slice_;
  std::chrono::steady_clock::time_point last_yield_;
  uint64_t steps_ = 0;
  uint64_t yields_ = 0;
};

}  // namespace geo

#endif  // GEO_COMMON_BACKGROUND_WORK_H_
