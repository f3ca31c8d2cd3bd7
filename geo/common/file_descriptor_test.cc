#include "geo/common/file_descriptor.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "gtest/gtest.h"

namespace geo {
namespace {

// True while `fd` names an open file description in this process.
bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int OpenDevNull() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(FileDescriptorTest, ClosesOnDestruction) {
  int raw = OpenDevNull();
  ASSERT_GE(raw, 0);
  {
    FileDescriptor fd(raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(FileDescriptorTest, DefaultAndFailedOpenHoldNothing) {
  FileDescriptor none;
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(none.get(), -1);
  EXPECT_EQ(none.Reset(), 0);
  FileDescriptor failed(::open("/no/such/file", O_RDONLY));
  EXPECT_FALSE(failed.valid());
}

TEST(FileDescriptorTest, MoveTransfersOwnership) {
  int raw = OpenDevNull();
  ASSERT_GE(raw, 0);
  FileDescriptor first(raw);
  FileDescriptor second(std::move(first));
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(second.get(), raw);

  int other = OpenDevNull();
  ASSERT_GE(other, 0);
  FileDescriptor third(other);
  third = std::move(second);
  EXPECT_FALSE(IsOpen(other)) << "assignment closes what it replaces";
  EXPECT_EQ(third.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(FileDescriptorTest, ReleaseGivesUpOwnership) {
  int raw = OpenDevNull();
  ASSERT_GE(raw, 0);
  {
    FileDescriptor fd(raw);
    EXPECT_EQ(fd.Release(), raw);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(FileDescriptorTest, ResetClosesAndReportsTheResult) {
  int raw = OpenDevNull();
  ASSERT_GE(raw, 0);
  FileDescriptor fd(raw);
  EXPECT_EQ(fd.Reset(), 0);
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(IsOpen(raw));

  int next = OpenDevNull();
  ASSERT_GE(next, 0);
  fd.Reset(next);
  EXPECT_EQ(fd.get(), next);
  int replacement = OpenDevNull();
  ASSERT_GE(replacement, 0);
  fd.Reset(replacement);
  EXPECT_FALSE(IsOpen(next));
  EXPECT_TRUE(IsOpen(replacement));
}

}  // namespace
}  // namespace geo
