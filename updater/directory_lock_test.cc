#include "updater/directory_lock.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"
#include "tests/updater/instant_clock.h"

namespace geo::updater {
namespace {

class DirectoryLockTest : public ::testing::Test {
 protected:
  std::string directory_ = geo::testing::NewTempDir();
};

TEST_F(DirectoryLockTest, LockIsExclusive) {
  testing::InstantClock clock;
  absl::StatusOr<DirectoryLock> first =
      DirectoryLock::Acquire(directory_, absl::ZeroDuration(), &clock, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  // flock locks belong to the open file description: a second open conflicts
  // even in the same process.
  absl::StatusOr<DirectoryLock> second =
      DirectoryLock::Acquire(directory_, absl::Seconds(1), &clock, nullptr);
  EXPECT_TRUE(absl::IsAborted(second.status())) << second.status();
  EXPECT_GE(clock.waits().size(), 9u);  // Polled for the whole second.
  first = absl::AbortedError("released");
  EXPECT_TRUE(
      DirectoryLock::Acquire(directory_, absl::ZeroDuration(), &clock, nullptr)
          .ok());
}

TEST_F(DirectoryLockTest, LockFileElsewhereExcludesTheSameWay) {
  testing::InstantClock clock;
  const std::string lock_path = directory_ + "/custom.lock";
  absl::StatusOr<DirectoryLock> first = DirectoryLock::AcquireFile(
      lock_path, absl::ZeroDuration(), &clock, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<DirectoryLock> second = DirectoryLock::AcquireFile(
      lock_path, absl::ZeroDuration(), &clock, nullptr);
  EXPECT_TRUE(absl::IsAborted(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()),
              ::testing::HasSubstr(lock_path));
  // The data directory's own lock is another file.
  EXPECT_TRUE(
      DirectoryLock::Acquire(directory_, absl::ZeroDuration(), &clock, nullptr)
          .ok());
}

}  // namespace
}  // namespace geo::updater
