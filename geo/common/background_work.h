// Background work (database reloads) that shares cores with request threads.
//
// On a saturated core a low-priority thread still gets its turns, and once
// picked it may keep the CPU until the next scheduler tick (4 ms at HZ=250):
// `perf sched` traces under `make bench` load showed a reload holding the
// server's core for ~5 ms at a time while the HTTP thread was runnable. A
// background thread that calls YieldToRequests() between small steps of its
// work delays a request by about 0.2 ms instead. See
// docs/adr/0010-reloads-off-the-request-path.md.
#ifndef GEO_COMMON_BACKGROUND_WORK_H_
#define GEO_COMMON_BACKGROUND_WORK_H_

#include "absl/status/status.h"

namespace geo {

// Sets the calling thread's niceness (Linux sets it per thread); positive
// values make it yield to request threads. Errors name errno.
absl::Status SetThisThreadNiceness(int nice);

// Gives the CPU to any other runnable thread (sched_yield) when the calling
// thread last did so over 0.2 ms ago; otherwise returns at once, so callers
// may call it after every small step. Call only from background threads,
// between steps of their work.
void YieldToRequests();

}  // namespace geo

#endif  // GEO_COMMON_BACKGROUND_WORK_H_
