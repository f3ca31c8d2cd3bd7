// Retry policy for talking to MaxMind or a mirror: exponential backoff with
// jitter for transient failures (transport errors, timeouts, 5xx, 408), the
// server's Retry-After for 429, and no retry for anything else.
//
// Failures are absl::Status values; whether one is worth retrying is carried by
// its code (UNAVAILABLE and DEADLINE_EXCEEDED are transient) and, for rate
// limiting, by a Retry-After payload attached with WithRetryAfter().
#ifndef UPDATER_RETRY_H_
#define UPDATER_RETRY_H_

#include <functional>
#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"

namespace geo::updater {

struct BackoffPolicy {
  // Attempts in total, the first one included.
  int max_attempts = 5;
  absl::Duration initial_delay = absl::Seconds(1);
  absl::Duration max_delay = absl::Minutes(2);
  double multiplier = 2.0;
  // Each delay is scaled by a uniform factor in [1 - jitter, 1 + jitter], so
  // that many sidecars restarted together do not retry in lockstep.
  double jitter = 0.2;
  // geoipupdate's RetryFor: no retry starts (nor its wait) once this much
  // time would have passed since the first attempt; attempts are also capped
  // by `max_attempts`.
  absl::Duration retry_for = absl::InfiniteDuration();
};

// Delays between attempts. `uniform01` returns values in [0, 1); tests pass a
// constant. Not thread-safe when `uniform01` is not.
class Backoff {
 public:
  Backoff(BackoffPolicy policy, std::function<double()> uniform01);

  // Delay before retry number `retry` (0 for the first retry).
  absl::Duration Delay(int retry) const;
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::function<double()> uniform01_;
};

// Attaches the delay a server asked for (HTTP 429 Retry-After): such a status
// is retried after at least that delay.
absl::Status WithRetryAfter(absl::Status status, absl::Duration delay);
std::optional<absl::Duration> RetryAfterOf(const absl::Status& status);

// UNAVAILABLE, DEADLINE_EXCEEDED, or anything carrying a Retry-After.
bool IsTransient(const absl::Status& status);

// Parses an HTTP Retry-After value: delta-seconds or an IMF-fixdate.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now);

// Runs `attempt` until it succeeds, fails permanently, runs out of attempts,
// or `cancel` is notified (then CANCELLED). Waits on `clock`. `what` names the
// operation in log lines.
absl::Status RetryWithBackoff(const Backoff& backoff, Clock* clock,
                              absl::Notification* cancel,
                              absl::string_view what,
                              absl::FunctionRef<absl::Status()> attempt);

}  // namespace geo::updater

#endif  // UPDATER_RETRY_H_
