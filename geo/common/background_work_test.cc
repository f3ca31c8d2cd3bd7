#include "geo/common/background_work.h"

#include <sys/resource.h>
#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"

namespace geo {
namespace {

int NicenessOf(pid_t thread) {
  errno = 0;
  return getpriority(PRIO_PROCESS, static_cast<id_t>(thread));
}

// Linux sets niceness per thread: lowering a background thread's priority
// must leave the threads that serve requests as they were.
TEST(BackgroundWorkTest, NicenessIsSetForTheCallingThreadOnly) {
  const int before = NicenessOf(gettid());
  int background = -100;
  std::thread worker([&] {
    ASSERT_TRUE(SetThisThreadNiceness(before + 5).ok());
    background = NicenessOf(gettid());
    // Returns whether or not it gave the CPU away; never blocks.
    BackgroundWork work;
    for (int i = 0; i < 1000; ++i) work.Step();
  });
  worker.join();
  EXPECT_EQ(background, before + 5);
  EXPECT_EQ(NicenessOf(gettid()), before);
}

// A step yields once the slice since the last yield is spent, and only then.
TEST(BackgroundWorkTest, StepsYieldOnlyOnceTheSliceIsSpent) {
  BackgroundWork every_step(absl::ZeroDuration());
  BackgroundWork never(absl::Hours(1));
  BackgroundWork unyielding = BackgroundWork::Unyielding();
  for (int i = 0; i < 100; ++i) {
    every_step.Step();
    never.Step();
    unyielding.Step();
  }
  EXPECT_EQ(every_step.steps(), 100u);
  EXPECT_EQ(every_step.yields(), 100u);
  EXPECT_EQ(never.steps(), 100u);
  EXPECT_EQ(never.yields(), 0u);
  EXPECT_EQ(unyielding.yields(), 0u);
}

}  // namespace
}  // namespace geo
