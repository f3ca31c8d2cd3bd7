#include "updater/retry.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/updater/instant_clock.h"

namespace geo::updater {
namespace {

using testing::InstantClock;

TEST(BackoffTest, ExponentialCappedWithJitter) {
  BackoffPolicy policy;
  policy.initial_delay = absl::Seconds(1);
  policy.max_delay = absl::Seconds(10);
  policy.jitter = 0.2;
  Backoff middle(policy, [] { return 0.5; });
  EXPECT_EQ(middle.Delay(0), absl::Seconds(1));
  EXPECT_EQ(middle.Delay(1), absl::Seconds(2));
  EXPECT_EQ(middle.Delay(3), absl::Seconds(8));
  EXPECT_EQ(middle.Delay(10), absl::Seconds(10));
  Backoff low(policy, [] { return 0.0; });
  EXPECT_EQ(low.Delay(0), absl::Milliseconds(800));
  Backoff high(policy, [] { return 1.0; });
  EXPECT_EQ(high.Delay(0), absl::Milliseconds(1200));
}

TEST(RetryAfterTest, Parses) {
  absl::Time now = absl::FromUnixSeconds(1715083200);  // 2024-05-07 12:00 UTC
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter("Tue, 07 May 2024 12:01:00 GMT", now),
            absl::Seconds(60));
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
}

TEST(RetryAfterTest, PayloadRoundTrip) {
  absl::Status status =
      WithRetryAfter(absl::ResourceExhaustedError("429"), absl::Seconds(30));
  EXPECT_EQ(RetryAfterOf(status), absl::Seconds(30));
  EXPECT_TRUE(IsTransient(status));
  EXPECT_FALSE(IsTransient(absl::ResourceExhaustedError("disk full")));
  EXPECT_TRUE(IsTransient(absl::UnavailableError("500")));
  EXPECT_TRUE(IsTransient(absl::DeadlineExceededError("slow")));
  EXPECT_FALSE(IsTransient(absl::UnauthenticatedError("401")));
}

class RetryTest : public ::testing::Test {
 protected:
  RetryTest() : backoff_(Policy(), [] { return 0.5; }) {}
  static BackoffPolicy Policy() {
    BackoffPolicy policy;
    policy.max_attempts = 4;
    policy.initial_delay = absl::Seconds(1);
    return policy;
  }
  // Runs RetryWithBackoff on an operation whose n-th call (counting from 1)
  // answers `answer(n)`; calls_ counts the calls made.
  template <typename Answer>
  absl::Status Retry(const Backoff& backoff, absl::Notification* cancel,
                     Answer answer) {
    return RetryWithBackoff(backoff, &clock_, cancel, "test",
                            [&] { return answer(++calls_); });
  }
  template <typename Answer>
  absl::Status Retry(Answer answer) {
    return Retry(backoff_, nullptr, answer);
  }

  InstantClock clock_;
  Backoff backoff_;
  int calls_ = 0;
};

TEST_F(RetryTest, RetriesTransientFailuresWithGrowingDelays) {
  absl::Status status = Retry([](int call) {
    return call < 3 ? absl::UnavailableError("500") : absl::OkStatus();
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(clock_.waits(),
            (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(2)}));
}

TEST_F(RetryTest, PermanentFailureIsNotRetried) {
  absl::Status status =
      Retry([](int) { return absl::UnauthenticatedError("401"); });
  EXPECT_TRUE(absl::IsUnauthenticated(status));
  EXPECT_EQ(calls_, 1);
  EXPECT_TRUE(clock_.waits().empty());
}

TEST_F(RetryTest, GivesUpAfterMaxAttempts) {
  absl::Status status =
      Retry([](int) { return absl::DeadlineExceededError("slow"); });
  EXPECT_TRUE(absl::IsDeadlineExceeded(status));
  EXPECT_NE(status.message().find("gave up after 4 attempts"),
            absl::string_view::npos);
  EXPECT_EQ(calls_, 4);
}

TEST_F(RetryTest, RetryForBoundsTheTimeSpentRetrying) {
  BackoffPolicy policy = Policy();
  policy.max_attempts = 100;
  policy.retry_for = absl::Seconds(5);
  Backoff backoff(policy, [] { return 0.5; });
  absl::Status status = Retry(
      backoff, nullptr, [](int) { return absl::UnavailableError("500"); });
  EXPECT_TRUE(absl::IsUnavailable(status));
  // Waits of 1s and 2s fit in 5s; the next (4s) would end at 7s.
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(clock_.waits(),
            (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(2)}));
  EXPECT_NE(status.message().find("retry period of 5s"),
            absl::string_view::npos);
}

TEST_F(RetryTest, HonoursRetryAfterWhenLonger) {
  absl::Status status = Retry([](int call) {
    return call == 1 ? WithRetryAfter(absl::ResourceExhaustedError("429"),
                                      absl::Seconds(30))
                     : absl::OkStatus();
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(clock_.waits(), std::vector<absl::Duration>{absl::Seconds(30)});
}

TEST_F(RetryTest, CancelledStopsRetrying) {
  absl::Notification cancel;
  cancel.Notify();
  absl::Status status = Retry(
      backoff_, &cancel, [](int) { return absl::UnavailableError("500"); });
  EXPECT_TRUE(absl::IsCancelled(status));
  EXPECT_EQ(calls_, 0);
}

}  // namespace
}  // namespace geo::updater
