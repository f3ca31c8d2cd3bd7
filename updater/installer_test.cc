#include "updater/installer.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo::updater {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

int CountTemps(const std::string& directory) {
  int count = 0;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(directory.c_str()),
                                          &::closedir);
  while (struct dirent* entry = ::readdir(dir.get())) {
    if (absl::StrContains(entry->d_name, ".tmp")) ++count;
  }
  return count;
}

class InstallerTest : public ::testing::Test {
 protected:
  std::string directory_ = geo::testing::NewTempDir();
};

TEST_F(InstallerTest, CommitRenamesIntoPlaceWithMtime) {
  Installer installer(directory_ + "/");
  ASSERT_TRUE(installer.Prepare().ok());
  absl::StatusOr<TempFile> temp = installer.CreateTemp("db");
  ASSERT_TRUE(temp.ok());
  ASSERT_TRUE(temp->Write("abc").ok());
  ASSERT_TRUE(temp->Truncate().ok());
  ASSERT_TRUE(temp->Write("new").ok());
  EXPECT_EQ(CountTemps(directory_), 1);
  std::string final_path = installer.PathOf("x.mmdb");
  ASSERT_TRUE(temp->Commit(final_path, absl::FromUnixSeconds(1715083200)).ok());
  EXPECT_EQ(Read(final_path), "new");
  struct stat info;
  ASSERT_EQ(::stat(final_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mtime, 1715083200);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
  EXPECT_EQ(CountTemps(directory_), 0);
}

TEST_F(InstallerTest, UncommittedTempFilesAreRemoved) {
  Installer installer(directory_);
  {
    absl::StatusOr<TempFile> temp = installer.CreateTemp("db");
    ASSERT_TRUE(temp.ok());
    ASSERT_TRUE(temp->Write("partial").ok());
    TempFile moved = *std::move(temp);
    absl::StatusOr<TempFile> other = installer.CreateTemp("other");
    ASSERT_TRUE(other.ok());
    moved = *std::move(other);  // The first file goes at once.
    EXPECT_EQ(CountTemps(directory_), 1);
  }
  EXPECT_EQ(CountTemps(directory_), 0);
}

TEST_F(InstallerTest, RemovesStaleTempFilesOnly) {
  Installer installer(directory_);
  std::ofstream(directory_ + "/.geo-updater-x.mmdb.tmpAbC123") << "stale";
  std::ofstream(directory_ + "/GeoLite2-City.mmdb") << "keep";
  absl::StatusOr<int> removed = installer.RemoveStaleTempFiles();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(Read(directory_ + "/GeoLite2-City.mmdb"), "keep");
}

TEST_F(InstallerTest, FileSizeLimitIsResourceExhausted) {
  Installer installer(directory_);
  absl::StatusOr<TempFile> temp = installer.CreateTemp("db");
  ASSERT_TRUE(temp.ok());
  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  absl::Status status = temp->Write(std::string(4096, 'x'));
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
}

TEST_F(InstallerTest, PrepareCreatesTheDirectory) {
  Installer installer(directory_ + "/sub");
  EXPECT_TRUE(installer.Prepare().ok());
  struct stat info;
  EXPECT_EQ(::stat((directory_ + "/sub").c_str(), &info), 0);
}

}  // namespace
}  // namespace geo::updater
