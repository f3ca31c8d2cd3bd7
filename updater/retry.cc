#include "updater/retry.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "geo/common/logging.h"

namespace geo::updater {
namespace {

constexpr absl::string_view kRetryAfterPayload =
    "type.geo.dev/updater.RetryAfterSeconds";

}  // namespace

Backoff::Backoff(BackoffPolicy policy, std::function<double()> uniform01)
    : policy_(policy), uniform01_(std::move(uniform01)) {}

absl::Duration Backoff::Delay(int retry) const {
  double factor = std::pow(policy_.multiplier, std::max(retry, 0));
  absl::Duration delay = policy_.initial_delay * factor;
  if (delay > policy_.max_delay || delay < absl::ZeroDuration()) {
    delay = policy_.max_delay;
  }
  double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  double u = uniform01_ ? uniform01_() : 0.5;
  return delay * (1.0 - jitter + 2.0 * jitter * u);
}

absl::Status WithRetryAfter(absl::Status status, absl::Duration delay) {
  status.SetPayload(kRetryAfterPayload,
                    absl::Cord(absl::StrCat(absl::ToInt64Seconds(delay))));
  return status;
}

std::optional<absl::Duration> RetryAfterOf(const absl::Status& status) {
  // GetPayload returns absl::optional: this Abseil does not alias it to
  // std::optional.
  auto payload = status.GetPayload(kRetryAfterPayload);
  if (!payload.has_value()) return std::nullopt;
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &seconds)) return std::nullopt;
  return absl::Seconds(seconds);
}

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         RetryAfterOf(status).has_value();
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, absl::UTCTimeZone(),
                      &when, &error)) {
    return std::max(when - now, absl::ZeroDuration());
  }
  return std::nullopt;
}

absl::Status RetryWithBackoff(const Backoff& backoff, Clock* clock,
                              absl::Notification* cancel,
                              absl::string_view what,
                              absl::FunctionRef<absl::Status()> attempt) {
  const int max_attempts = std::max(backoff.policy().max_attempts, 1);
  const absl::Time first_attempt = clock->Now();
  for (int number = 1;; ++number) {
    if (cancel != nullptr && cancel->HasBeenNotified()) {
      return absl::CancelledError(absl::StrCat(what, ": cancelled"));
    }
    absl::Status status = attempt();
    if (status.ok() || absl::IsCancelled(status) || !IsTransient(status)) {
      return status;
    }
    if (number >= max_attempts) {
      return absl::Status(
          status.code(),
          absl::StrCat(status.message(), " (gave up after ", number,
                       number == 1 ? " attempt)" : " attempts)"));
    }
    absl::Duration delay = backoff.Delay(number - 1);
    if (std::optional<absl::Duration> asked = RetryAfterOf(status)) {
      delay = std::max(delay, *asked);
    }
    const absl::Duration retry_for = backoff.policy().retry_for;
    if (clock->Now() + delay - first_attempt > retry_for) {
      return absl::Status(
          status.code(),
          absl::StrCat(status.message(), " (gave up after ", number,
                       number == 1 ? " attempt" : " attempts",
                       ": the next would start after the retry period of ",
                       absl::FormatDuration(retry_for), ")"));
    }
    Log(LogLevel::kWarn, "Retrying after a transient failure",
        {{"operation", what},
         {"attempt", number},
         {"delay_seconds", delay},
         {"error", status}});
    if (clock->WaitFor(delay, cancel)) {
      return absl::CancelledError(absl::StrCat(what, ": cancelled"));
    }
  }
}

}  // namespace geo::updater
