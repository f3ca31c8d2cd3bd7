#include "tests/support/test_files.h"

#include <sys/stat.h>

#include "gtest/gtest.h"

namespace geo::testing {
namespace {

ino_t Inode(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

TEST(TestFilesTest, TempDirsAreFreshAndEmpty) {
  const std::string first = NewTempDir();
  const std::string second = NewTempDir();
  EXPECT_NE(first, second);
  EXPECT_TRUE(FilesUnder(first, "").empty());
}

TEST(TestFilesTest, ReplaceFileWritesANewInode) {
  const std::string path = NewTempDir() + "/file";
  ASSERT_TRUE(WriteFile(path, "one"));
  const ino_t before = Inode(path);
  ASSERT_TRUE(ReplaceFile(path, "two"));
  EXPECT_EQ(ReadFile(path), "two");
  EXPECT_NE(Inode(path), before);
  EXPECT_EQ(ReadFile(path + ".missing"), "");
}

TEST(TestFilesTest, CopyMaxmindTestDatabaseCopiesTheBytes) {
  const std::string path = NewTempDir() + "/City.mmdb";
  ASSERT_TRUE(CopyMaxmindTestDatabase("GeoIP2-City-Test.mmdb", path));
  const std::string copy = ReadFile(path);
  EXPECT_FALSE(copy.empty());
  EXPECT_EQ(copy, ReadFile(MaxmindTestDataFile("GeoIP2-City-Test.mmdb")));
  EXPECT_FALSE(CopyMaxmindTestDatabase("No-Such-Test.mmdb", path));
  EXPECT_EQ(ReadFile(path), copy);
}

TEST(TestFilesTest, CopyMaxmindTestDatabaseToTempDirKeepsTheBytes) {
  const TestDatabaseCopy copy =
      CopyMaxmindTestDatabaseToTempDir("GeoIP2-City-Test.mmdb");
  ASSERT_FALSE(copy.content.empty());
  EXPECT_EQ(copy.content,
            ReadFile(MaxmindTestDataFile("GeoIP2-City-Test.mmdb")));
  EXPECT_EQ(ReadFile(copy.path), copy.content);
  EXPECT_NE(copy.path,
            CopyMaxmindTestDatabaseToTempDir("GeoIP2-City-Test.mmdb").path);
  EXPECT_TRUE(
      CopyMaxmindTestDatabaseToTempDir("No-Such-Test.mmdb").content.empty());
}

TEST(TestFilesTest, FilesUnderRecursesAndSorts) {
  const std::string dir = NewTempDir();
  ASSERT_EQ(::mkdir((dir + "/sub").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(dir + "/sub/b.mmdb", ""));
  ASSERT_TRUE(WriteFile(dir + "/a.mmdb", ""));
  ASSERT_TRUE(WriteFile(dir + "/c.txt", ""));
  EXPECT_EQ(FilesUnder(dir, ".mmdb"),
            (std::vector<std::string>{dir + "/a.mmdb", dir + "/sub/b.mmdb"}));
}

TEST(TestFilesTest, FindsMaxmindTestData) {
  ASSERT_FALSE(MaxmindTestDataDir().empty());
  EXPECT_NE(Inode(MaxmindTestDataFile("GeoIP2-City-Test.mmdb")), 0u);
}

}  // namespace
}  // namespace geo::testing
