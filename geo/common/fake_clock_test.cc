#include "geo/common/fake_clock.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

TEST(FakeClockTest, WaiterWakesOnlyWhenTimeReachesItsDeadline) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  absl::Notification woke;
  std::thread waiter([&] {
    EXPECT_FALSE(clock.WaitFor(absl::Seconds(10), nullptr));
    woke.Notify();
  });
  clock.AwaitWaiters(1);
  clock.Advance(absl::Seconds(9));
  EXPECT_FALSE(woke.WaitForNotificationWithTimeout(absl::Milliseconds(20)));
  clock.Advance(absl::Seconds(1));
  woke.WaitForNotification();
  waiter.join();
  EXPECT_EQ(clock.Now() - start, absl::Seconds(10));
}

TEST(FakeClockTest, CancellationEndsTheWaitWithoutTimePassing) {
  FakeClock clock;
  absl::Notification cancel;
  bool cancelled = false;
  std::thread waiter(
      [&] { cancelled = clock.WaitFor(absl::Hours(1), &cancel); });
  clock.AwaitWaiters(1);
  cancel.Notify();
  waiter.join();
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(clock.waiters(), 0);
}

TEST(RealClockTest, CancelledWaitReturnsPromptly) {
  absl::Notification cancel;
  cancel.Notify();
  EXPECT_TRUE(Clock::Real()->WaitFor(absl::Hours(1), &cancel));
}

}  // namespace
}  // namespace geo
