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
    for (int i = 0; i < 1000; ++i) YieldToRequests();
  });
  worker.join();
  EXPECT_EQ(background, before + 5);
  EXPECT_EQ(NicenessOf(gettid()), before);
}

}  // namespace
}  // namespace geo
