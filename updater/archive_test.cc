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

TEST_F(ArchiveTest, TheFirstPassStopsAtTheDecompressionLimit) {
  // A small archive whose licence inflates to 40 MiB (~40 KB compressed):
  // more than a 1 MiB database plus kArchiveOverheadBytes. Refused while
  // the first pass checks names, having inflated no more than the limit,
  // and the database is never extracted.
  const std::string bomb = MakeTarGz(
      {{"GeoLite2-City_20240507/LICENSE.txt", std::string(40 << 20, '\0')},
       {"GeoLite2-City_20240507/a.mmdb", "db"}});
  ASSERT_LT(bomb.size(), 1u << 20);
  absl::StatusOr<std::string> entry = Extract(bomb, 1 << 20);
  EXPECT_TRUE(absl::IsOutOfRange(entry.status())) << entry.status();
  EXPECT_THAT(entry.status().message(), HasSubstr("archive expands to more"));
  EXPECT_EQ(extracted_, "");
}

TEST_F(ArchiveTest, OtherMembersWithinTheOverheadAreFine) {
  absl::StatusOr<std::string> entry =
      Extract(MakeTarGz({{"d/README", std::string(8 << 20, 'r')},
                         {"d/a.mmdb", std::string(1 << 20, 'm')}}),
              1 << 20);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(extracted_.size(), 1u << 20);
}

TEST_F(ArchiveTest, ADatabaseDeclaredTooLargeIsRefusedFromItsHeader) {
  absl::StatusOr<std::string> entry =
      Extract(MakeTarGz({{"a.mmdb", std::string(3 << 20, 'x')}}), 1 << 20);
  EXPECT_TRUE(absl::IsOutOfRange(entry.status()));
  EXPECT_THAT(entry.status().message(), HasSubstr("larger than 1048576"));
  EXPECT_EQ(extracted_, "");
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
