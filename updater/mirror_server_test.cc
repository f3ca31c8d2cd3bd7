#include "updater/mirror_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "tests/updater/test_archives.h"
#include "updater/archive.h"
#include "updater/database_validator.h"
#include "updater/installed_databases.h"
#include "updater/mirror_source.h"

namespace geo::updater {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::CurlResponse;
using ::geo::http::RawConnection;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::Md5Hex;
using testing::ReadTestDatabase;
using testing::Sha256Hex;

constexpr char kEdition[] = "GeoIP2-City";
constexpr char kAccount[] = "4242";
constexpr char kKey[] = "mirror-KEY-0123";

std::string Authorization(absl::string_view user, absl::string_view password) {
  return absl::StrCat("Authorization: Basic ",
                      absl::Base64Escape(absl::StrCat(user, ":", password)));
}

std::string HeaderValue(const CurlResponse& response, absl::string_view name) {
  for (const std::string& line : response.headers) {
    if (absl::StartsWithIgnoreCase(line, absl::StrCat(name, ":"))) {
      return std::string(absl::StripAsciiWhitespace(
          absl::string_view(line).substr(name.size() + 1)));
    }
  }
  return "";
}

// Writes `contents` to a temp file and renames it over `path`, as the
// installer does.
void Install(const std::string& path, absl::string_view contents,
             absl::Time modified_at) {
  const std::string temp = path + ".tmp";
  testing::WriteFileOrDie(temp, contents);
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = absl::ToUnixSeconds(modified_at);
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(::utimensat(AT_FDCWD, temp.c_str(), times, 0), 0);
  ASSERT_EQ(std::rename(temp.c_str(), path.c_str()), 0);
}

class MirrorServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    city_ = ReadTestDatabase("GeoIP2-City-Test.mmdb");
    // Bytes after the metadata section keep the file a valid database (the
    // metadata marker is searched from the end) with another MD5: a second
    // release of the same edition.
    city_release_two_ = city_ + std::string(64, '\0');
    directory_ = testing::MakeTempDirectory();
    path_ = directory_ + "/" + kEdition + ".mmdb";
    Install(path_, city_, release_time_);
  }

  void Start(const std::string& account = "", const std::string& key = "") {
    databases_ = std::make_unique<InstalledDatabases>(
        directory_, std::vector<std::string>{kEdition, "GeoIP2-ASN"},
        &ValidateDatabase);
    (void)databases_->Refresh();  // GeoIP2-ASN is missing: NOT_FOUND.
    MirrorServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.account_id = account;
    options.license_key = key;
    options.max_connections_per_peer = 0;
    metrics_ = std::make_unique<MirrorServerMetrics>(registry_);
    auto handler = std::make_shared<MirrorHandler>(
        options, databases_.get(), metrics_.get(), nullptr, nullptr);
    auto server = StartMirrorServer(options, handler);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Now() + absl::Seconds(5));
  }

  std::string Url(absl::string_view target) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), target);
  }

  CurlResponse Get(absl::string_view target,
                   const std::vector<std::string>& headers = {}) {
    CurlClient client;
    absl::StatusOr<CurlResponse> response = client.Get(Url(target), headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : CurlResponse{};
  }

  // The status line of a raw request (for targets curl would normalise).
  std::string RawStatusLine(absl::string_view request) {
    absl::StatusOr<RawConnection> connection =
        RawConnection::Connect(server_->port());
    EXPECT_TRUE(connection.ok());
    if (!connection.ok()) return "";
    connection->Send(request);
    std::string answer = connection->ReadUntil(absl::Seconds(10), "\r\n");
    return answer.substr(0, answer.find("\r\n"));
  }

  std::string city_;
  std::string city_release_two_;
  std::string directory_;
  std::string path_;
  const absl::Time release_time_ = absl::FromUnixSeconds(1715040000);
  prometheus::Registry registry_;
  std::unique_ptr<InstalledDatabases> databases_;
  std::unique_ptr<MirrorServerMetrics> metrics_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(MirrorServerTest, MetadataAndDownloadSpeakMaxMindsProtocol) {
  Start();
  CurlResponse metadata = Get(
      "/geoip/updates/metadata?edition_id=GeoIP2-City&edition_id=GeoIP2-ASN");
  ASSERT_EQ(metadata.status, 200);
  // The edition that is not installed is left out, as MaxMind leaves out
  // editions an account may not download.
  EXPECT_EQ(metadata.body,
            absl::StrCat("{\"databases\":[{\"edition_id\":\"GeoIP2-City\","
                         "\"md5\":\"",
                         Md5Hex(city_), "\",\"date\":\"2024-05-07\"}]}"));

  CurlResponse download =
      Get("/geoip/databases/GeoIP2-City/download?date=20240507&suffix=tar.gz");
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(HeaderValue(download, "Content-Type"), "application/gzip");
  const std::string archive_path = directory_ + "/download.tar.gz";
  testing::WriteFileOrDie(archive_path, download.body);
  std::string extracted;
  absl::StatusOr<std::string> entry =
      ExtractMmdb(archive_path, int64_t{1} << 30, [&](absl::string_view chunk) {
        extracted.append(chunk.data(), chunk.size());
        return absl::OkStatus();
      });
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(*entry, "GeoIP2-City_20240507/GeoIP2-City.mmdb");
  EXPECT_EQ(Md5Hex(extracted), Md5Hex(city_));
}

TEST_F(MirrorServerTest, PlainFilesWithTheirChecksums) {
  Start();
  CurlResponse file = Get("/GeoIP2-City.mmdb");
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(Md5Hex(file.body), Md5Hex(city_));
  EXPECT_EQ(HeaderValue(file, "Last-Modified"),
            "Tue, 07 May 2024 00:00:00 GMT");

  CurlResponse checksum = Get("/GeoIP2-City.mmdb.sha256");
  ASSERT_EQ(checksum.status, 200);
  absl::StatusOr<std::string> digest =
      FindSha256ForFile(checksum.body, "GeoIP2-City.mmdb");
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, Sha256Hex(city_));

  CurlResponse sums = Get("/SHA256SUMS");
  ASSERT_EQ(sums.status, 200);
  digest = FindSha256ForFile(sums.body, "GeoIP2-City.mmdb");
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, Sha256Hex(city_));
}

TEST_F(MirrorServerTest, ConditionalRequestsAnswer304) {
  Start();
  CurlResponse first = Get("/GeoIP2-City.mmdb");
  const std::string etag = HeaderValue(first, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Get("/GeoIP2-City.mmdb", {"If-None-Match: " + etag}).status, 304);
  EXPECT_EQ(Get("/GeoIP2-City.mmdb", {"If-None-Match: \"other\""}).status, 200);
  // If-None-Match decides when present, whatever If-Modified-Since says.
  EXPECT_EQ(Get("/GeoIP2-City.mmdb",
                {"If-None-Match: \"other\"",
                 "If-Modified-Since: Wed, 08 May 2024 00:00:00 GMT"})
                .status,
            200);
  EXPECT_EQ(Get("/GeoIP2-City.mmdb",
                {"If-Modified-Since: Tue, 07 May 2024 00:00:00 GMT"})
                .status,
            304);
  EXPECT_EQ(Get("/GeoIP2-City.mmdb",
                {"If-Modified-Since: Mon, 06 May 2024 23:59:59 GMT"})
                .status,
            200);

  CurlResponse download = Get("/geoip/databases/GeoIP2-City/download");
  const std::string archive_etag = HeaderValue(download, "ETag");
  EXPECT_NE(archive_etag, etag);
  CurlResponse again = Get("/geoip/databases/GeoIP2-City/download",
                           {"If-None-Match: " + archive_etag});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());

  const std::string text =
      prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_THAT(text, HasSubstr("geo_updater_serve_not_modified_total{endpoint="
                              "\"file\"} 2"));
  EXPECT_THAT(text, HasSubstr("geo_updater_serve_not_modified_total{endpoint="
                              "\"download\"} 1"));
  EXPECT_THAT(text, HasSubstr("geo_updater_serve_requests_total{code=\"304\","
                              "endpoint=\"file\"} 2"));
}

TEST_F(MirrorServerTest, CredentialsAreChecked) {
  Start(kAccount, kKey);
  const std::string target = "/geoip/updates/metadata?edition_id=GeoIP2-City";
  EXPECT_EQ(Get(target).status, 401);
  EXPECT_EQ(Get(target, {Authorization(kAccount, "wrong-key")}).status, 401);
  EXPECT_EQ(Get(target, {Authorization("1", kKey)}).status, 401);
  EXPECT_EQ(Get(target, {"Authorization: Basic !!!"}).status, 401);
  // One spelling of the credential: no whitespace inside the token.
  EXPECT_EQ(
      Get(target, {absl::StrCat(Authorization(kAccount, kKey).substr(0, 25),
                                " ", Authorization(kAccount, kKey).substr(25))})
          .status,
      401);
  EXPECT_EQ(Get("/GeoIP2-City.mmdb").status, 401);
  EXPECT_EQ(Get("/SHA256SUMS").status, 401);
  // An unknown edition is not revealed before authentication either.
  EXPECT_EQ(Get("/geoip/databases/Nope/download").status, 401);
  EXPECT_EQ(Get(target, {Authorization(kAccount, kKey)}).status, 200);
  EXPECT_EQ(Get("/GeoIP2-City.mmdb", {Authorization(kAccount, kKey)}).status,
            200);
  // Probes need no credentials.
  EXPECT_EQ(Get("/metrics").status, 200);
  EXPECT_EQ(Get("/healthz").status, 503);  // GeoIP2-ASN is not served.
}

TEST_F(MirrorServerTest, BadRequestsGetTheirStatus) {
  Start();
  // Traversal in edition names: refused as names, never looked up.
  EXPECT_THAT(RawStatusLine("GET /geoip/databases/..%2F..%2Fetc%2Fpasswd/"
                            "download HTTP/1.1\r\nHost: x\r\n\r\n"),
              HasSubstr(" 400 "));
  EXPECT_THAT(
      RawStatusLine("GET /..%2Fsecret.mmdb HTTP/1.1\r\nHost: x\r\n\r\n"),
      HasSubstr(" 400 "));
  EXPECT_THAT(RawStatusLine("GET /../../etc/passwd.mmdb HTTP/1.1\r\n"
                            "Host: x\r\n\r\n"),
              HasSubstr(" 404 "));
  EXPECT_THAT(RawStatusLine("GET /geoip/databases/a/b/download HTTP/1.1\r\n"
                            "Host: x\r\n\r\n"),
              HasSubstr(" 400 "));
  EXPECT_EQ(Get("/geoip/updates/metadata?edition_id=..%2Fetc").status, 400);
  EXPECT_EQ(Get("/geoip/updates/metadata").status, 400);
  EXPECT_EQ(Get("/geoip/updates/metadata?edition_id=Unknown").status, 404);
  EXPECT_EQ(Get("/geoip/databases/Unknown/download").status, 404);
  EXPECT_EQ(Get("/Unknown.mmdb").status, 404);
  EXPECT_EQ(Get("/geoip/databases/GeoIP2-City/download?suffix=zip").status,
            400);
  EXPECT_EQ(Get(absl::StrCat("/", std::string(65, 'A'), ".mmdb")).status, 400);
  EXPECT_EQ(Get("/.geo-updater.lock").status, 404);
  // Huge headers: the HTTP server's cap.
  EXPECT_THAT(
      RawStatusLine(absl::StrCat("GET /GeoIP2-City.mmdb HTTP/1.1\r\n"
                                 "Host: x\r\nX-Big: ",
                                 std::string(64 * 1024, 'a'), "\r\n\r\n")),
      HasSubstr(" 431 "));
  CurlClient client;
  absl::StatusOr<CurlResponse> post =
      client.Send("POST", Url("/GeoIP2-City.mmdb"), "");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
}

TEST_F(MirrorServerTest, ServesTheVerifiedFileOnly) {
  // A file that is not a database of its edition is never served.
  testing::WriteFileOrDie(directory_ + "/GeoIP2-ASN.mmdb", "not a database");
  Start();
  EXPECT_EQ(Get("/GeoIP2-ASN.mmdb").status, 404);
  // A broken replacement keeps the verified snapshot.
  Install(path_, "truncated", release_time_ + absl::Hours(24));
  EXPECT_FALSE(databases_->Refresh().ok());
  CurlResponse file = Get("/GeoIP2-City.mmdb");
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(Md5Hex(file.body), Md5Hex(city_));
}

TEST_F(MirrorServerTest, DownloadsDuringReplacementsAreWholeFiles) {
  Start();
  const std::string old_md5 = Md5Hex(city_);
  const std::string new_md5 = Md5Hex(city_release_two_);
  // A snapshot taken before a replacement keeps reading the old inode.
  std::shared_ptr<const InstalledDatabase> before = databases_->Find(kEdition);
  ASSERT_NE(before, nullptr);
  Install(path_, city_release_two_, release_time_ + absl::Hours(24));
  (void)databases_->Refresh();
  ASSERT_EQ(databases_->Find(kEdition)->md5(), new_md5);
  EXPECT_EQ(Md5Hex(std::string(before->contents())), old_md5);

  // Clients download while the file is replaced back and forth: at least
  // kDownloads times, and on until both releases were served (a busy machine
  // may not run the replacer between the first downloads), for at most
  // kPatience.
  constexpr size_t kDownloads = 30;
  constexpr absl::Duration kPatience = absl::Seconds(20);
  std::atomic<bool> done{false};
  std::thread replacer([&] {
    for (int round = 0; !done.load(); ++round) {
      Install(path_, round % 2 == 0 ? city_ : city_release_two_,
              release_time_ + absl::Hours(48 + round));
      (void)databases_->Refresh();
    }
  });
  const absl::Time give_up = absl::Now() + kPatience;
  std::vector<std::string> seen;
  bool seen_old = false;
  bool seen_new = false;
  while (seen.size() < kDownloads || !(seen_old && seen_new)) {
    if (absl::Now() > give_up) break;
    CurlResponse file = Get("/GeoIP2-City.mmdb");
    if (file.status != 200) {
      ADD_FAILURE() << "status " << file.status;
      break;
    }
    const std::string md5 = Md5Hex(file.body);
    EXPECT_TRUE(md5 == old_md5 || md5 == new_md5) << "a mixed file: " << md5;
    const std::string copy = absl::StrCat(directory_, "/copy.mmdb");
    testing::WriteFileOrDie(copy, file.body);
    EXPECT_TRUE(ValidateDatabase(copy, kEdition).ok());
    seen_old |= md5 == old_md5;
    seen_new |= md5 == new_md5;
    seen.push_back(md5);
  }
  done = true;
  replacer.join();
  EXPECT_THAT(seen, Contains(old_md5));
  EXPECT_THAT(seen, Contains(new_md5));
}

// However many clients download at once, memory holds one copy of each
// database: every response sends the snapshot's own bytes (the mapped file or
// its tar.gz), and keeps that snapshot alive until it is written, even after
// a new release replaced it.
TEST_F(MirrorServerTest, DownloadsShareTheSnapshotsBytes) {
  Start();
  const MirrorHandler handler(MirrorServerOptions(), databases_.get(), nullptr,
                              nullptr, nullptr);
  std::shared_ptr<const InstalledDatabase> served = databases_->Find(kEdition);
  ASSERT_NE(served, nullptr);
  const std::string old_md5 = served->md5();
  const std::string file_target = absl::StrCat("/", kEdition, ".mmdb");
  const std::string archive_target =
      absl::StrCat("/geoip/databases/", kEdition, "/download?suffix=tar.gz");
  const http::HttpHeaderList no_headers;
  http::HttpResponse file[2];
  http::HttpResponse archive[2];
  for (int i = 0; i < 2; ++i) {
    handler.Handle(
        http::HttpRequest("GET", file_target, &no_headers, "", "127.0.0.1"),
        &file[i]);
    handler.Handle(
        http::HttpRequest("GET", archive_target, &no_headers, "", "127.0.0.1"),
        &archive[i]);
    ASSERT_EQ(file[i].status(), 200);
    ASSERT_EQ(archive[i].status(), 200);
    EXPECT_TRUE(file[i].body().empty());
    EXPECT_TRUE(archive[i].body().empty());
    EXPECT_EQ(file[i].BodyBytes().data(), served->contents().data());
    EXPECT_EQ(file[i].BodyBytes().size(), served->contents().size());
    EXPECT_EQ(archive[i].BodyBytes().data(), served->archive().data());
    EXPECT_EQ(archive[i].BodyBytes().size(), served->archive().size());
  }

  const std::weak_ptr<const InstalledDatabase> watched = served;
  served.reset();
  Install(path_, city_release_two_, release_time_ + absl::Hours(24));
  ASSERT_TRUE(databases_->Refresh().code() == absl::StatusCode::kNotFound);
  ASSERT_NE(databases_->Find(kEdition)->md5(), old_md5);
  // Replaced, but responses still being written hold the old release whole.
  ASSERT_FALSE(watched.expired());
  EXPECT_EQ(Md5Hex(std::string(file[0].BodyBytes())), old_md5);
  for (http::HttpResponse* response :
       {&file[0], &file[1], &archive[0], &archive[1]}) {
    response->Reset();
  }
  EXPECT_TRUE(watched.expired());
}

}  // namespace
}  // namespace geo::updater
