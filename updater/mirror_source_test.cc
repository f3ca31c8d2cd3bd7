#include "updater/mirror_source.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/updater/fake_maxmind_server.h"
#include "tests/updater/instant_clock.h"
#include "tests/updater/test_archives.h"

namespace geo::updater {
namespace {

using namespace ::geo::updater::testing;  // NOLINT: test helpers

class MirrorSourceTest : public ::testing::Test {
 protected:
  MirrorSourceTest()
      : http_(HttpClientOptions(), nullptr),
        backoff_(BackoffPolicy(), [] { return 0.5; }),
        installer_(MakeTempDirectory()) {
    server_.SetFile("GeoLite2-City.mmdb", "db",
                    absl::FromUnixSeconds(1715000000));
    server_.SetFile("GeoLite2-City.sha256",
                    Sha256Hex("db") + "  GeoLite2-City.mmdb\n",
                    absl::FromUnixSeconds(1715000000));
  }
  MirrorSource Source(MirrorOptions options) {
    SourceContext context;
    context.http = &http_;
    context.backoff = &backoff_;
    context.clock = &clock_;
    return MirrorSource(context, std::move(options));
  }
  absl::StatusOr<FetchResult> Fetch(MirrorSource& source,
                                    FetchRequest request) {
    temp_.emplace(*installer_.CreateTemp("t"));
    request.edition = "GeoLite2-City";
    return source.Fetch(request, &*temp_);
  }

  FakeMaxMindServer server_;
  InstantClock clock_;
  HttpClient http_;
  Backoff backoff_;
  Installer installer_;
  absl::optional<TempFile> temp_;
};

TEST_F(MirrorSourceTest, DownloadsABareDatabaseWithSha256FromAUrl) {
  MirrorOptions options;
  options.url_template = server_.url() + "/files/{edition}.mmdb";
  options.sha256_url_template = server_.url() + "/files/{edition}.sha256";
  MirrorSource source = Source(options);
  absl::StatusOr<FetchResult> result = Fetch(source, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->format, PayloadFormat::kMmdb);
  EXPECT_EQ(result->expected_payload_sha256, Sha256Hex("db"));
  EXPECT_EQ(result->modified_at, absl::FromUnixSeconds(1715000000));
  EXPECT_FALSE(result->etag.empty());
  EXPECT_EQ(ReadFileOrDie(temp_->path()), "db");

  FetchRequest again;
  again.local_md5 = Md5Hex("db");
  again.local_etag = result->etag;
  again.local_modified_at = result->modified_at;
  absl::StatusOr<FetchResult> second = Fetch(source, again);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->up_to_date);
  EXPECT_EQ(server_.requests().back().headers.at("if-modified-since"),
            "Mon, 06 May 2024 12:53:20 GMT");
}

TEST_F(MirrorSourceTest, NoConditionalHeadersWithoutALocalCopy) {
  MirrorOptions options;
  options.url_template = server_.url() + "/files/{edition}.mmdb";
  MirrorSource source = Source(options);
  FetchRequest request;
  request.local_etag = "\"stale\"";
  ASSERT_TRUE(Fetch(source, request).ok());
  EXPECT_EQ(server_.requests().back().headers.count("if-none-match"), 0u);
}

TEST_F(MirrorSourceTest, BadChecksumFileIsDataLoss) {
  server_.SetFile("bad.sha256", "not-a-digest", absl::UnixEpoch());
  MirrorOptions options;
  options.url_template = server_.url() + "/files/{edition}.mmdb";
  options.sha256_url_template = server_.url() + "/files/bad.sha256";
  MirrorSource source = Source(options);
  EXPECT_TRUE(absl::IsDataLoss(Fetch(source, {}).status()));
}

TEST(ExpandEditionTest, ReplacesEveryPlaceholder) {
  EXPECT_EQ(ExpandEdition("a/{edition}/{edition}.mmdb", "X"), "a/X/X.mmdb");
}

}  // namespace
}  // namespace geo::updater
