#include "geo/common/open_file_limit.h"

#include <sys/resource.h>

#include "gtest/gtest.h"

namespace geo {
namespace {

// Changes this test process's own limit and puts the soft limit back (a
// hard limit, once lowered, stays lowered for the rest of the process).
class OpenFileLimitTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0); }
  void TearDown() override { setrlimit(RLIMIT_NOFILE, &saved_); }

  static rlimit Current() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    return limit;
  }

  rlimit saved_{};
};

TEST_F(OpenFileLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  rlimit lowered = Current();
  if (lowered.rlim_max == RLIM_INFINITY || lowered.rlim_max > 4096) {
    lowered.rlim_max = 4096;
  }
  ASSERT_GT(lowered.rlim_max, 64u);
  lowered.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  absl::StatusOr<OpenFileLimit> raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(raised->before, 64u);
  EXPECT_EQ(raised->soft, lowered.rlim_max);
  EXPECT_EQ(raised->hard, lowered.rlim_max);
  EXPECT_EQ(Current().rlim_cur, lowered.rlim_max);
  EXPECT_EQ(Current().rlim_max, lowered.rlim_max);
}

TEST_F(OpenFileLimitTest, ALimitAlreadyAtTheHardLimitStays) {
  rlimit full = Current();
  if (full.rlim_max == RLIM_INFINITY) full.rlim_max = 4096;
  full.rlim_cur = full.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &full), 0);

  absl::StatusOr<OpenFileLimit> raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(raised->before, full.rlim_max);
  EXPECT_EQ(raised->soft, full.rlim_max);
  EXPECT_EQ(Current().rlim_cur, full.rlim_max);
}

}  // namespace
}  // namespace geo
