#include "updater/archive.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/updater/test_archives.h"

namespace geo::updater {
namespace {

using ::testing::HasSubstr;
using namespace ::geo::updater::testing;  // NOLINT: test helpers

class ArchiveTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::string> Extract(const std::string& archive,
                                      int64_t max_bytes = 1 << 20) {
    std::string path = MakeTempDirectory() + "/archive.tar.gz";
    WriteFileOrDie(path, archive);
    extracted_.clear();
    return ExtractMmdb(path, max_bytes, [this](absl::string_view chunk) {
      extracted_.append(chunk.data(), chunk.size());
      return absl::OkStatus();
    });
  }
  std::string extracted_;
};

TEST_F(ArchiveTest, ExtractsTheDatabaseFromMaxMindsLayout) {
  absl::StatusOr<std::string> entry =
      Extract(MakeMaxMindArchive("GeoLite2-City", "mmdb bytes"));
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(*entry, "GeoLite2-City_20240507/GeoLite2-City.mmdb");
  EXPECT_EQ(extracted_, "mmdb bytes");
}

TEST_F(ArchiveTest, RefusesPathTraversal) {
  for (const char* path : {"../x.mmdb", "/etc/x.mmdb", "a/../../x.mmdb"}) {
    absl::StatusOr<std::string> entry =
        Extract(MakeTarGz({{"README", "hi"}, {path, "evil"}}));
    EXPECT_TRUE(absl::IsDataLoss(entry.status())) << path;
    EXPECT_THAT(std::string(entry.status().message()),
                HasSubstr("archive refused"));
    EXPECT_TRUE(extracted_.empty());
  }
}

TEST_F(ArchiveTest, NeedsExactlyOneDatabase) {
  EXPECT_THAT(
      std::string(Extract(MakeTarGz({{"README", "hi"}})).status().message()),
      HasSubstr("no .mmdb"));
  EXPECT_THAT(std::string(Extract(MakeTarGz({{"a.mmdb", "1"}, {"b.mmdb", "2"}}))
                              .status()
                              .message()),
              HasSubstr("more than one"));
}

TEST_F(ArchiveTest, RefusesGarbageAndTruncation) {
  EXPECT_TRUE(absl::IsDataLoss(Extract("not a tarball at all").status()));
  std::string archive =
      MakeMaxMindArchive("GeoLite2-City", std::string(100000, 'z'));
  EXPECT_FALSE(Extract(archive.substr(0, archive.size() / 2)).ok());
}

TEST_F(ArchiveTest, LimitsTheExtractedSize) {
  EXPECT_TRUE(absl::IsOutOfRange(
      Extract(MakeTarGz({{"a.mmdb", std::string(5000, 'x')}}), 1000).status()));
}

TEST(IsUnsafeEntryPathTest, Cases) {
  EXPECT_TRUE(IsUnsafeEntryPath(""));
  EXPECT_TRUE(IsUnsafeEntryPath("/abs"));
  EXPECT_TRUE(IsUnsafeEntryPath(".."));
  EXPECT_TRUE(IsUnsafeEntryPath("a/../b"));
  EXPECT_FALSE(IsUnsafeEntryPath("a/b..c/d.mmdb"));
  EXPECT_FALSE(IsUnsafeEntryPath("./a.mmdb"));
}

}  // namespace
}  // namespace geo::updater
