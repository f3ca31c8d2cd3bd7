#include "updater/maxmind_source.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/updater/source_fixture.h"
#include "tests/updater/test_archives.h"

namespace geo::updater {
namespace {

using ::testing::HasSubstr;
using namespace ::geo::updater::testing;  // NOLINT: test helpers

TEST(ParseMaxMindMetadataTest, PicksTheEdition) {
  auto metadata = ParseMaxMindMetadata(
      R"({"databases":[{"edition_id":"A","md5":"00000000000000000000000000000000","date":"2024-01-02"},
                       {"edition_id":"B","md5":"11111111111111111111111111111111","date":"2024-05-07"}]})",
      "B");
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  EXPECT_EQ(metadata->md5, "11111111111111111111111111111111");
  EXPECT_EQ(metadata->date, "2024-05-07");
  EXPECT_TRUE(absl::IsNotFound(
      ParseMaxMindMetadata(R"({"databases":[]})", "B").status()));
  EXPECT_TRUE(
      absl::IsDataLoss(ParseMaxMindMetadata("{not json", "B").status()));
  EXPECT_TRUE(absl::IsDataLoss(
      ParseMaxMindMetadata(R"({"databases":[{"edition_id":"B"}]})", "B")
          .status()));
}

TEST(ParseMaxMindMetadataTest, RejectsADateThatIsNotYearMonthDay) {
  for (const char* date :
       {"", "2024-5-7", "2024-05-07&x=1", "20240507", "2024-13-01"}) {
    SCOPED_TRACE(date);
    const std::string json = absl::StrCat(
        R"({"databases":[{"edition_id":"B","md5":"11111111111111111111111111111111","date":")",
        date, R"("}]})");
    EXPECT_TRUE(absl::IsDataLoss(ParseMaxMindMetadata(json, "B").status()));
  }
}

class MaxMindSourceTest : public SourceFixture {
 protected:
  MaxMindSourceTest() : SourceFixture(Policy()) {
    server_.SetCredentials("42", "key");
    archive_ = MakeMaxMindArchive("GeoLite2-City", "db");
    server_.SetDatabase("GeoLite2-City", archive_, Md5Hex("db"));
  }
  static BackoffPolicy Policy() {
    BackoffPolicy policy;
    policy.max_attempts = 3;
    return policy;
  }
  MaxMindSource Source(const std::string& key = "key") {
    return MaxMindSource(Context(), server_.url() + "/", "42", key);
  }
  absl::StatusOr<FetchResult> Fetch(MaxMindSource& source,
                                    const std::string& local_md5 = "") {
    FetchRequest request;
    request.edition = "GeoLite2-City";
    request.local_md5 = local_md5;
    return FetchInto(source, request);
  }

  std::string archive_;
};

TEST_F(MaxMindSourceTest, DownloadsWhenTheLocalCopyDiffers) {
  MaxMindSource source = Source();
  absl::StatusOr<FetchResult> result = Fetch(source, Md5Hex("old"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->up_to_date);
  EXPECT_EQ(result->expected_mmdb_md5, Md5Hex("db"));
  EXPECT_EQ(result->format, PayloadFormat::kTarGz);
  EXPECT_EQ(result->bytes, static_cast<int64_t>(archive_.size()));
  EXPECT_EQ(ReadFileOrDie(temp_->path()), archive_);
  EXPECT_EQ(result->modified_at, absl::FromUnixSeconds(1715083200));
  EXPECT_EQ(
      server_.requests().back().target,
      "/geoip/databases/GeoLite2-City/download?date=20240507&suffix=tar.gz");
}

TEST_F(MaxMindSourceTest, SkipsTheDownloadWhenMd5Matches) {
  MaxMindSource source = Source();
  absl::StatusOr<FetchResult> result = Fetch(source, Md5Hex("db"));
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->up_to_date);
  EXPECT_EQ(server_.CountRequests("/geoip/databases/"), 0);
}

TEST_F(MaxMindSourceTest, RetriesServerErrorsThenSucceeds) {
  FakeResponse error;
  error.status = 503;
  server_.Enqueue("/geoip/databases/", error);
  server_.Enqueue("/geoip/databases/", error);
  MaxMindSource source = Source();
  absl::StatusOr<FetchResult> result = Fetch(source);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(server_.CountRequests("/geoip/databases/"), 3);
  EXPECT_EQ(clock_.waits().size(), 2u);
  EXPECT_EQ(ReadFileOrDie(temp_->path()), archive_);  // No leftover bytes.
}

TEST_F(MaxMindSourceTest, BadKeyFailsAtOnceWithoutLeakingIt) {
  MaxMindSource source = Source("wrong-key-123");
  absl::Status status = Fetch(source).status();
  EXPECT_TRUE(absl::IsUnauthenticated(status));
  EXPECT_THAT(std::string(status.message()), HasSubstr("credentials"));
  EXPECT_THAT(status.ToString(), ::testing::Not(HasSubstr("wrong-key-123")));
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(MaxMindSourceTest, UnknownEditionIsNotFound) {
  MaxMindSource source = Source();
  temp_.emplace(*installer_.CreateTemp("t"));
  FetchRequest request;
  request.edition = "GeoIP2-Nothing";
  EXPECT_TRUE(absl::IsNotFound(source.Fetch(request, &*temp_).status()));
}

}  // namespace
}  // namespace geo::updater
