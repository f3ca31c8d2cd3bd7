#include "updater/mirror_source.h"

#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/updater/source_fixture.h"
#include "tests/updater/test_archives.h"

namespace geo::updater {
namespace {

using namespace ::geo::updater::testing;  // NOLINT: test helpers

class MirrorSourceTest : public SourceFixture {
 protected:
  MirrorSourceTest() {
    server_.SetFile("GeoLite2-City.mmdb", "db",
                    absl::FromUnixSeconds(1715000000));
    server_.SetFile("GeoLite2-City.sha256",
                    Sha256Hex("db") + "  GeoLite2-City.mmdb\n",
                    absl::FromUnixSeconds(1715000000));
  }
  // A source for the server's /files/{edition}.mmdb, checked against
  // /files/`sha256_file` (no checksum when empty).
  MirrorSource Source(absl::string_view sha256_file = "") {
    MirrorOptions options;
    options.url_template = server_.url() + "/files/{edition}.mmdb";
    if (!sha256_file.empty()) {
      options.sha256_url_template =
          absl::StrCat(server_.url(), "/files/", sha256_file);
    }
    return MirrorSource(Context(), std::move(options));
  }
  absl::StatusOr<FetchResult> Fetch(MirrorSource& source,
                                    FetchRequest request) {
    request.edition = "GeoLite2-City";
    return FetchInto(source, request);
  }
};

TEST_F(MirrorSourceTest, DownloadsABareDatabaseWithSha256FromAUrl) {
  MirrorSource source = Source("{edition}.sha256");
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
  MirrorSource source = Source();
  FetchRequest request;
  request.local_etag = "\"stale\"";
  ASSERT_TRUE(Fetch(source, request).ok());
  EXPECT_EQ(server_.requests().back().headers.count("if-none-match"), 0u);
}

TEST_F(MirrorSourceTest, BadChecksumFileIsDataLoss) {
  server_.SetFile("bad.sha256", "not-a-digest", absl::UnixEpoch());
  MirrorSource source = Source("bad.sha256");
  EXPECT_TRUE(absl::IsDataLoss(Fetch(source, {}).status()));
}

// A SHA256SUMS shared by every edition, as `sha256sum *.mmdb > SHA256SUMS`
// writes it: the line for the downloaded file is used, not the first one.
TEST_F(MirrorSourceTest, SharedChecksumFileUsesTheLineOfTheDownloadedFile) {
  server_.SetFile("SHA256SUMS",
                  Sha256Hex("asn") + "  GeoLite2-ASN.mmdb\n" + Sha256Hex("db") +
                      "  GeoLite2-City.mmdb\n",
                  absl::UnixEpoch());
  MirrorSource source = Source("SHA256SUMS");
  absl::StatusOr<FetchResult> result = Fetch(source, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->expected_payload_sha256, Sha256Hex("db"));
}

TEST_F(MirrorSourceTest, ChecksumFileWithoutTheDownloadedFileIsDataLoss) {
  server_.SetFile("SHA256SUMS", Sha256Hex("asn") + "  GeoLite2-ASN.mmdb\n",
                  absl::UnixEpoch());
  MirrorSource source = Source("SHA256SUMS");
  absl::Status status = Fetch(source, {}).status();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("no line for GeoLite2-City.mmdb"));
}

TEST(FindSha256ForFileTest, AcceptsTheFormsSha256sumWrites) {
  const std::string city = Sha256Hex("city");
  const std::string asn = Sha256Hex("asn");
  // Text mode, binary mode, paths, CRLF, comments, upper case.
  EXPECT_EQ(*FindSha256ForFile(
                asn + "  GeoLite2-ASN.mmdb\n" + city + "  GeoLite2-City.mmdb\n",
                "GeoLite2-City.mmdb"),
            city);
  EXPECT_EQ(*FindSha256ForFile(city + " *GeoLite2-City.mmdb\r\n" + asn +
                                   " *GeoLite2-ASN.mmdb\r\n",
                               "GeoLite2-ASN.mmdb"),
            asn);
  EXPECT_EQ(*FindSha256ForFile("# built nightly\n" + asn +
                                   "  ./out/GeoLite2-ASN.mmdb\n" + city +
                                   "  ./out/GeoLite2-City.mmdb\n",
                               "GeoLite2-City.mmdb"),
            city);
  EXPECT_EQ(*FindSha256ForFile(absl::AsciiStrToUpper(city) + "  x.tar.gz\n",
                               "x.tar.gz"),
            city);
  // BSD style (`sha256sum --tag`).
  EXPECT_EQ(
      *FindSha256ForFile("SHA256 (GeoLite2-ASN.mmdb) = " + asn +
                             "\nSHA256 (GeoLite2-City.mmdb) = " + city + "\n",
                         "GeoLite2-City.mmdb"),
      city);
  // A bare hash, with or without a newline.
  EXPECT_EQ(*FindSha256ForFile(city, "anything.mmdb"), city);
  EXPECT_EQ(*FindSha256ForFile(city + "\n", "anything.mmdb"), city);
}

TEST(FindSha256ForFileTest, RefusesAFileThatDoesNotNameTheDownload) {
  const std::string city = Sha256Hex("city");
  EXPECT_TRUE(absl::IsNotFound(
      FindSha256ForFile(city + "  GeoLite2-City.mmdb\n", "GeoLite2-ASN.mmdb")
          .status()));
  // Two bare hashes: which is which is unknowable.
  EXPECT_TRUE(absl::IsNotFound(
      FindSha256ForFile(city + "\n" + city + "\n", "x.mmdb").status()));
  EXPECT_TRUE(absl::IsNotFound(FindSha256ForFile("", "x.mmdb").status()));
  EXPECT_TRUE(absl::IsNotFound(
      FindSha256ForFile("nothex  x.mmdb\n", "x.mmdb").status()));
  // A name that only ends like the download is another file.
  EXPECT_TRUE(
      absl::IsNotFound(FindSha256ForFile(city + "  OldGeoLite2-City.mmdb\n",
                                         "GeoLite2-City.mmdb")
                           .status()));
}

TEST(ExpandEditionTest, ReplacesEveryPlaceholder) {
  EXPECT_EQ(ExpandEdition("a/{edition}/{edition}.mmdb", "X"), "a/X/X.mmdb");
}

}  // namespace
}  // namespace geo::updater
