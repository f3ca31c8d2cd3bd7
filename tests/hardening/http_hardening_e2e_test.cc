// Attacks on the real geo_server's HTTP stack, each with the bound that
// holds it: a chunk-size line or trailer section that never ends is refused
// (400, 431) and closed while the server's memory stays flat; connections
// left idle after a large batch give their buffers back; a Transfer-Encoding
// other than exactly "chunked" is refused and closed (no request smuggled
// behind it is served); every X-Forwarded-For line counts; a batch over
// --max_batch_size is refused before it is parsed.
//
// Memory is the server's anonymous resident memory (RssAnon in
// /proc/PID/status): the heap, not the pages of the memory-mapped database,
// which come and go with lookups. Each bound is against a baseline taken in
// the same run after the same kind of traffic, so allocator caches and
// ASan's quarantine (64 MB, .bazelrc) are full before the measurement
// starts; an unbounded server misses each bound by 4x or more.
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/http/test_http_client.h"
#include "geo/http/test_refused_framings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process_stats.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::RawConnection;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kMiB = 1024 * 1024;

// What a flood may send at most: far beyond any limit, so a server without
// one grows by this much.
constexpr size_t kFloodBytes = 64 * kMiB;
constexpr size_t kFloodWriteBytes = 64 * 1024;
// How much a refused flood may grow the server's memory.
constexpr int64_t kFloodGrowthBoundKiB = 16 * 1024;

// Samples a process's RssAnon every few milliseconds while it lives and
// keeps the highest value: the peak of an attack, not what is left after
// the server has freed the memory on closing the connection.
class PeakSampler {
 public:
  explicit PeakSampler(pid_t pid) : pid_(pid) {
    peak_ = ProcStatusKiB(pid_, "RssAnon");
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        peak_ = std::max(peak_.load(), ProcStatusKiB(pid_, "RssAnon"));
        absl::SleepFor(absl::Milliseconds(5));
      }
    });
  }
  ~PeakSampler() { Stop(); }

  int64_t Stop() {
    if (thread_.joinable()) {
      stop_.store(true);
      thread_.join();
    }
    peak_ = std::max(peak_.load(), ProcStatusKiB(pid_, "RssAnon"));
    return peak_.load();
  }

 private:
  const pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_{0};
  std::thread thread_;
};

// A batch of `count` public addresses, padded with whitespace to `bytes`.
std::string BatchBody(int count, size_t bytes) {
  std::string body = R"({"ips":[)";
  for (int i = 0; i < count; ++i) {
    absl::StrAppend(&body, i == 0 ? "" : ",", "\"81.2.", (i / 250) % 250, ".",
                    1 + i % 250, "\"");
  }
  body += "]";
  if (body.size() + 1 < bytes) body.append(bytes - body.size() - 1, ' ');
  body += "}";
  return body;
}

class HttpHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string database = GeoLite2CityPath();
    if (database.empty()) {
      std::fprintf(stderr, "GeoLite2-City absent; using GeoIP2-City-Test\n");
      database = MaxmindTestDataFile("GeoIP2-City-Test.mmdb");
    }
    auto server = ServerProcess::Start(
        GeoServerBinary(), {"--db=" + database, "--http_threads=2",
                            "--trusted_proxies=127.0.0.0/8,10.0.0.0/8"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
  }

  uint16_t port() const { return static_cast<uint16_t>(server_->ports().http); }

  // A chunked POST to the batch route with `prefix` after its header,
  // followed by `filler_unit` repeated (written kFloodWriteBytes at a time)
  // until the server answers; returns the answer and checks the connection
  // was closed. Sets `peak_growth_kib` to how much the server's memory grew
  // at most meanwhile.
  std::string Flood(absl::string_view prefix, absl::string_view filler_unit,
                    int64_t* peak_growth_kib) {
    std::string filler;
    while (filler.size() < kFloodWriteBytes)
      absl::StrAppend(&filler, filler_unit);
    const int64_t baseline = ProcStatusKiB(server_->pid(), "RssAnon");
    PeakSampler sampler(server_->pid());
    auto connection = RawConnection::Connect(port());
    EXPECT_TRUE(connection.ok()) << connection.status();
    if (!connection.ok()) return "";
    const size_t sent = connection->Flood(
        absl::StrCat("POST /v1/lookup:batch HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     prefix),
        filler, kFloodBytes, absl::Seconds(60));
    const std::string answer = connection->ReadUntil(absl::Seconds(15));
    EXPECT_TRUE(connection->WaitForClose(absl::Seconds(5)));
    *peak_growth_kib = sampler.Stop() - baseline;
    std::fprintf(stderr,
                 "flood: sent %zu bytes, RssAnon %lld kB -> peak +%lld kB\n",
                 sent, static_cast<long long>(baseline),
                 static_cast<long long>(*peak_growth_kib));
    EXPECT_LT(sent, kFloodBytes) << "the server never refused the flood";
    return answer;
  }

  void ExpectStillServing() {
    CurlClient client;
    auto response = client.Get(server_->http_url("/v1/lookup/81.2.69.160"));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200) << response->body;
  }

  // Sends `request` on a new connection and reads until the server closes.
  std::string Exchange(absl::string_view request) {
    auto connection = RawConnection::Connect(port());
    EXPECT_TRUE(connection.ok()) << connection.status();
    if (!connection.ok()) return "";
    EXPECT_TRUE(connection->Send(request));
    return connection->ReadUntil(absl::Seconds(10));
  }

  // Exchange() of a request the server must answer with 200 OK.
  std::string ExchangeOk(absl::string_view request) {
    const std::string answer = Exchange(request);
    EXPECT_EQ(http::StatusLine(answer), "HTTP/1.1 200 OK") << answer;
    return answer;
  }

  std::optional<ServerProcess> server_;
};

TEST_F(HttpHardeningTest, EndlessChunkExtensionIsRefusedWithFlatMemory) {
  ExpectStillServing();
  int64_t growth_kib = 0;
  const std::string answer = Flood("1;", "x", &growth_kib);
  EXPECT_EQ(http::StatusLine(answer), "HTTP/1.1 400 Bad Request") << answer;
  EXPECT_THAT(answer, HasSubstr("chunk-size line too long"));
  EXPECT_THAT(answer, HasSubstr("Connection: close"));
  EXPECT_LT(growth_kib, kFloodGrowthBoundKiB);
  ExpectStillServing();
}

TEST_F(HttpHardeningTest, EndlessTrailerSectionIsRefusedWithFlatMemory) {
  ExpectStillServing();
  int64_t growth_kib = 0;
  const std::string body = R"({"ips":["81.2.69.160"]})";
  const std::string answer = Flood(
      absl::StrCat(absl::Hex(body.size()), "\r\n", body, "\r\n0\r\n"),
      absl::StrCat("X-Trailer: ", std::string(52, 't'), "\r\n"), &growth_kib);
  EXPECT_EQ(http::StatusLine(answer),
            "HTTP/1.1 431 Request Header Fields Too Large")
      << answer;
  EXPECT_THAT(answer, HasSubstr("trailer fields too large"));
  EXPECT_LT(growth_kib, kFloodGrowthBoundKiB);
  ExpectStillServing();
}

// Many keep-alive connections that each send one large batch and then go
// idle (they would stay for the 60 s idle timeout) hold no more than a
// little each.
TEST_F(HttpHardeningTest, IdleConnectionsAfterLargeBatchesHoldLittle) {
  constexpr int kConnections = 200;
  // 250 addresses (answer: about 190 KB) padded to 1 MB: the body limit's
  // worth of request with little lookup work, which sanitizers slow most.
  const std::string body = BatchBody(250, 1000 * 1000);
  const std::string request = absl::StrCat(
      "POST /v1/lookup:batch HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nContent-Length: ",
      body.size(), "\r\n\r\n", body);
  // Every answer ends with the last result's closing brackets.
  auto send_batch = [&](RawConnection* connection) {
    if (!connection->Send(request)) return std::string();
    return connection->ReadUntil(absl::Seconds(30), "]}");
  };
  // The same traffic on connections that close: fills the allocator's
  // caches and ASan's quarantine (each batch frees over 1 MB), so the
  // baseline below already holds them.
  for (int i = 0; i < 80; ++i) {
    auto connection = RawConnection::Connect(port());
    ASSERT_TRUE(connection.ok()) << connection.status();
    const std::string answer = send_batch(&*connection);
    ASSERT_EQ(http::StatusLine(answer), "HTTP/1.1 200 OK")
        << answer.substr(0, 300);
    if (i == 0) {
      std::fprintf(stderr, "batch: request %zu bytes, answer %zu bytes\n",
                   request.size(), answer.size());
    }
  }
  absl::SleepFor(absl::Milliseconds(500));
  const int64_t baseline = ProcStatusKiB(server_->pid(), "RssAnon");
  std::vector<RawConnection> idle;
  for (int i = 0; i < kConnections; ++i) {
    auto connection = RawConnection::Connect(port());
    ASSERT_TRUE(connection.ok()) << connection.status();
    const std::string answer = send_batch(&*connection);
    ASSERT_EQ(http::StatusLine(answer), "HTTP/1.1 200 OK")
        << answer.substr(0, 300);
    idle.push_back(*std::move(connection));
  }
  absl::SleepFor(absl::Milliseconds(500));
  const int64_t idle_kib = ProcStatusKiB(server_->pid(), "RssAnon");
  std::fprintf(stderr,
               "idle: %d connections, RssAnon %lld kB -> %lld kB (%+lld kB)\n",
               kConnections, static_cast<long long>(baseline),
               static_cast<long long>(idle_kib),
               static_cast<long long>(idle_kib - baseline));
  // 64 KiB each and 16 MiB of slack; keeping each request's body and
  // answer would be about 1.2 MB each (240 MB).
  EXPECT_LT(idle_kib - baseline, kConnections * 64 + 16 * 1024);
  ExpectStillServing();
}

TEST_F(HttpHardeningTest, TransferEncodingOtherThanChunkedIsRefused) {
  for (const http::RefusedFraming& c : http::kRefusedFramings) {
    // What follows the header would be a second request to a server that
    // frames the message differently (request smuggling).
    const std::string answer = Exchange(absl::StrCat(
        "POST /v1/lookup:batch HTTP/1.1\r\nHost: x\r\n", c.fields, "\r\n",
        "0\r\n\r\nGET /v1/lookup/81.2.69.160 HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(http::StatusLine(answer), c.status_line) << c.fields << answer;
    EXPECT_THAT(answer, HasSubstr("Connection: close")) << c.fields;
    EXPECT_THAT(answer, Not(HasSubstr("81.2.69.160"))) << c.fields;
  }
  // Exactly "chunked" is served.
  const std::string body = R"({"ips":["81.2.69.160"]})";
  const std::string answer = ExchangeOk(
      absl::StrCat("POST /v1/lookup:batch HTTP/1.1\r\nHost: x\r\n"
                   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                   absl::Hex(body.size()), "\r\n", body, "\r\n0\r\n\r\n"));
  EXPECT_THAT(answer, HasSubstr("81.2.69.160"));
}

// "me" is the right-most untrusted address over every X-Forwarded-For line
// (a proxy may add its own line instead of extending the client's); the
// trusted proxies here are 127.0.0.0/8 and 10.0.0.0/8.
TEST_F(HttpHardeningTest, EveryXForwardedForLineCounts) {
  const std::string answer = ExchangeOk(
      "GET /v1/lookup/me HTTP/1.1\r\nHost: x\r\n"
      "X-Forwarded-For: 89.160.20.112\r\n"
      "X-Forwarded-For: 81.2.69.160, 10.0.0.1\r\n"
      "Connection: close\r\n\r\n");
  EXPECT_THAT(answer, HasSubstr(R"("ip":"81.2.69.160")"));
  // A trailer is not a header: an X-Forwarded-For there is ignored.
  const std::string chunked = ExchangeOk(
      "POST /v1/lookup:batch HTTP/1.1\r\nHost: x\r\n"
      "X-Forwarded-For: 81.2.69.160\r\n"
      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "e\r\n{\"ips\":[\"me\"]}\r\n0\r\nX-Forwarded-For: 89.160.20.112\r\n\r\n");
  EXPECT_THAT(chunked, HasSubstr("81.2.69.160"));
  EXPECT_THAT(chunked, Not(HasSubstr("89.160.20.112")));
}

TEST_F(HttpHardeningTest, BatchOverTheLimitIsRefusedBeforeParsing) {
  CurlClient client;
  auto refused = client.Send("POST", server_->http_url("/v1/lookup:batch"),
                             BatchBody(1001, 0));
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_THAT(refused->body,
              HasSubstr("a batch holds at most 1000 addresses; got more"));
  auto served = client.Send("POST", server_->http_url("/v1/lookup:batch"),
                            BatchBody(1000, 0));
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->status, 200);
}

}  // namespace
}  // namespace geo::testing
