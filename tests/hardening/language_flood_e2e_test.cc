// Attacks through the data path of the real geo_server, each with the bound
// that holds it:
// - a huge or random `language` (three 1 MB batches of 200 addresses, 2000
//   GETs with a random 16 KB tag) is refused with 400 before it reaches the
//   record cache, and the server's memory stays flat; valid tags the
//   database has no names in are answered from the English record;
// - a database whose pointers fan out exponentially (it passes open-time
//   validation) fails a lookup of the crafted record with 500 at once, within
//   the decode budget, counted in geofence_record_decode_failures_total, and
//   retries are answered from the remembered failure.
//
// Memory is the server's anonymous resident memory (RssAnon in
// /proc/PID/status): the heap, not the memory-mapped database. The baseline
// is taken after a warm-up of the same traffic, enough to fill allocator
// caches and ASan's 64 MB quarantine (.bazelrc), so the bound measures what
// the server keeps. Without the limits the flood keeps ~32 MB (one 16 KB
// language per cached record) and the batches hundreds of MB.
#include <sys/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/data/test_mmdb_writer.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support/metrics_text.h"
#include "tests/support/process_stats.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::CurlResponse;
using ::testing::HasSubstr;

constexpr int64_t kGrowthBoundKiB = 16 * 1024;
constexpr char kLanguageError[] =
    "language must be a BCP 47 tag such as de or pt-BR";

// Calls `method` of `stub` with `request` and expects the refusal the HTTP
// routes give a language that is not a BCP 47 tag.
template <typename Request, typename Response>
void ExpectLanguageRefused(geo::v1::GeoService::Stub& stub,
                           grpc::Status (geo::v1::GeoService::Stub::*method)(
                               grpc::ClientContext*, const Request&, Response*),
                           const Request& request) {
  Response response;
  grpc::ClientContext context;
  const grpc::Status status = (stub.*method)(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), kLanguageError);
}

std::string RandomLetters(std::mt19937* random, size_t size) {
  static constexpr char kLetters[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string text(size, 'a');
  for (char& c : text) c = kLetters[(*random)() % 52];
  return text;
}

class LanguageFloodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = NewTempDir();
    const std::string city = absl::StrCat(dir, "/GeoIP2-City-Test.mmdb");
    ASSERT_TRUE(CopyMaxmindTestDatabase("GeoIP2-City-Test.mmdb", city));
    // Headers up to 64 KiB, so a 16 KB language reaches the lookup instead
    // of being refused as an oversized request line (431).
    auto server = ServerProcess::Start(
        GeoServerBinary(),
        {"--db=" + city, "--http_threads=2", "--http_max_header_bytes=65536"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
    // Addresses with records in GeoIP2-City-Test, and some without.
    for (int i = 0; i < 200; ++i) {
      const int kind = i % 4;
      if (kind == 0) ips_.push_back(absl::StrCat("81.2.69.", 140 + i % 20));
      if (kind == 1) ips_.push_back(absl::StrCat("216.160.83.", 56 + i % 8));
      if (kind == 2) ips_.push_back(absl::StrCat("2001:218::", i));
      if (kind == 3) ips_.push_back(absl::StrCat("10.1.", i, ".1"));
    }
  }

  std::string BatchBody(const std::string& language) const {
    return absl::StrCat(R"({"ips":[")", absl::StrJoin(ips_, R"(",")"),
                        R"("],"language":")", language, R"("})");
  }

  // Three 1 MB-language batches and `gets` GETs with random 16 KB
  // languages; every one must be refused with 400 and the fixed message.
  void Flood(CurlClient* http, std::mt19937* random, int gets) {
    const std::string body = BatchBody(std::string(1000 * 1000, 'a'));
    ASSERT_LT(body.size(), size_t{1} << 20);  // Under the body limit.
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<CurlResponse> response =
          http->Send("POST", server_->http_url("/v1/lookup:batch"), body,
                     {"Content-Type: application/json"});
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->status, 400) << response->body.substr(0, 200);
      ASSERT_THAT(response->body, HasSubstr(kLanguageError));
      ASSERT_LT(response->body.size(), 1024u);  // The tag is not echoed.
    }
    for (int i = 0; i < gets; ++i) {
      absl::StatusOr<CurlResponse> response = http->Get(server_->http_url(
          absl::StrCat("/v1/lookup/81.2.69.", 140 + i % 20,
                       "?language=", RandomLetters(random, 16 * 1024))));
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->status, 400) << response->body.substr(0, 200);
      ASSERT_LT(response->body.size(), 1024u);
    }
  }

  std::optional<ServerProcess> server_;
  std::vector<std::string> ips_;
};

TEST_F(LanguageFloodTest, HugeAndRandomLanguagesAreRefusedAndKeepNoMemory) {
  CurlClient http;
  std::mt19937 random(7);
  // Legitimate traffic first, so the cache holds what it normally would.
  for (const char* language : {"", "en", "de", "zh-CN", "pt-BR"}) {
    absl::StatusOr<CurlResponse> batch =
        http.Send("POST", server_->http_url("/v1/lookup:batch"),
                  BatchBody(language), {"Content-Type: application/json"});
    ASSERT_TRUE(batch.ok());
    ASSERT_EQ(batch->status, 200) << batch->body.substr(0, 200);
  }
  // Warm-up: the same attack, twice the size, before the baseline.
  ASSERT_NO_FATAL_FAILURE(Flood(&http, &random, 4000));
  const int64_t before = ProcStatusKiB(server_->pid(), "RssAnon");
  ASSERT_GT(before, 0);
  const absl::Time start = absl::Now();
  ASSERT_NO_FATAL_FAILURE(Flood(&http, &random, 2000));
  const int64_t after = ProcStatusKiB(server_->pid(), "RssAnon");
  std::printf("language flood: RssAnon %lld -> %lld KiB in %s\n",
              static_cast<long long>(before), static_cast<long long>(after),
              absl::FormatDuration(absl::Now() - start).c_str());
  EXPECT_LT(after - before, kGrowthBoundKiB);
}

TEST_F(LanguageFloodTest, GrpcRefusesTheSameLanguages) {
  auto stub = geo::v1::GeoService::NewStub(grpc::CreateChannel(
      server_->grpc_target(), grpc::InsecureChannelCredentials()));
  const std::string huge(1000 * 1000, 'a');
  // Lookup is served by a raw method over the same store: same refusal.
  geo::v1::LookupRequest lookup;
  lookup.set_ip("81.2.69.142");
  lookup.set_language(huge);
  ExpectLanguageRefused(*stub, &geo::v1::GeoService::Stub::Lookup, lookup);
  geo::v1::BatchLookupRequest batch;
  for (const std::string& ip : ips_) batch.add_ips(ip);
  batch.set_language(huge);
  ExpectLanguageRefused(*stub, &geo::v1::GeoService::Stub::BatchLookup, batch);
}

TEST_F(LanguageFloodTest, ValidLanguagesWithoutNamesAnswerInEnglish) {
  CurlClient http;
  std::mt19937 random(11);
  absl::StatusOr<CurlResponse> english =
      http.Get(server_->http_url("/v1/lookup/81.2.69.142"));
  ASSERT_TRUE(english.ok());
  ASSERT_EQ(english->status, 200);
  for (int i = 0; i < 500; ++i) {
    // 35 bytes, BCP 47-shaped, never a language of the database.
    const std::string language = absl::StrCat(
        "q", RandomLetters(&random, 2), "-", RandomLetters(&random, 8), "-",
        RandomLetters(&random, 8), "-", RandomLetters(&random, 8), "-",
        RandomLetters(&random, 4));
    ASSERT_EQ(language.size(), 35u);
    absl::StatusOr<CurlResponse> response = http.Get(server_->http_url(
        absl::StrCat("/v1/lookup/81.2.69.142?language=", language)));
    ASSERT_TRUE(response.ok());
    ASSERT_EQ(response->status, 200);
    ASSERT_EQ(response->body, english->body);
  }
  absl::StatusOr<CurlResponse> too_long = http.Get(server_->http_url(
      absl::StrCat("/v1/lookup/81.2.69.142?language=q",
                   RandomLetters(&random, 2), "-", std::string(33, 'a'))));
  ASSERT_TRUE(too_long.ok());
  EXPECT_EQ(too_long->status, 400);
}

// Levels of maps whose two values point at the next level: the record
// expands to 2^31 entries from a few hundred bytes.
std::string PointerFanOutDatabase() {
  MmdbDataWriter data;
  uint32_t below = data.offset();
  data.String("leaf");
  for (int level = 0; level < 30; ++level) {
    const uint32_t here = data.offset();
    data.Map(2).String("a").Pointer(below).String("b").Pointer(below);
    below = here;
  }
  const uint32_t bomb = data.offset();
  data.Map(1).String("city").Pointer(below);
  const uint32_t country = data.offset();
  data.Map(1).String("country").Map(1).String("iso_code").String("DE");
  return BuildMmdb({{"10.0.0.0/8", bomb}, {"20.0.0.0/8", country}}, data);
}

TEST(CraftedDatabaseTest, PointerFanOutFailsFastWithBoundedMemory) {
  const std::string path = absl::StrCat(NewTempDir(), "/crafted.mmdb");
  ASSERT_TRUE(ReplaceFile(path, PointerFanOutDatabase()));
  auto server = ServerProcess::Start(GeoServerBinary(),
                                     {"--db=" + path, "--http_threads=2"});
  ASSERT_TRUE(server.ok()) << server.status();
  CurlClient http;
  absl::StatusOr<CurlResponse> good =
      http.Get(server->http_url("/v1/lookup/20.0.0.1"));
  ASSERT_TRUE(good.ok());
  ASSERT_EQ(good->status, 200) << good->body;
  const int64_t before = ProcStatusKiB(server->pid(), "RssAnon");
  const absl::Time start = absl::Now();
  absl::StatusOr<CurlResponse> first =
      http.Get(server->http_url("/v1/lookup/10.0.0.1"));
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 500) << first->body;
  EXPECT_THAT(first->body, HasSubstr("decode budget"));
  EXPECT_LT(took, absl::Seconds(5));
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<CurlResponse> again = http.Get(server->http_url(
        absl::StrCat("/v1/lookup/10.0.", i % 256, ".1?language=de")));
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->status, 500);
  }
  const int64_t after = ProcStatusKiB(server->pid(), "RssAnon");
  EXPECT_LT(after - before, kGrowthBoundKiB);
  absl::StatusOr<CurlResponse> metrics = http.Get(server->metrics_url());
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(
      MetricSample(
          metrics->body,
          R"(geofence_record_decode_failures_total{reason="entry_budget"})"),
      201);
  // The file still serves its other records.
  good = http.Get(server->http_url("/v1/lookup/20.0.0.1"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200);
}

}  // namespace
}  // namespace geo::testing
