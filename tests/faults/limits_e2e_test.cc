// The HTTP limits of the real geo_server, set by its flags: body
// size (413), batch size (400), header size (431), connection count (503
// with Retry-After), idle keep-alive timeout, and the request deadline that
// stops a slowloris client from holding a connection (408). Each refusal is a
// grpc-gateway error body, and other clients keep being served.
#include <sched.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::RawConnection;
using ::geo::http::StatusLine;
using ::testing::HasSubstr;

class LimitsTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    const std::string path = NewTempDir() + "/City.mmdb";
    ASSERT_TRUE(CopyMaxmindTestDatabase("GeoIP2-City-Test.mmdb", path));
    flags.push_back("--db=" + path);
    flags.push_back("--http_threads=2");
    auto server = ServerProcess::Start(GeoServerBinary(), flags);
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
  }

  uint16_t port() const { return static_cast<uint16_t>(server_->ports().http); }

  // A fresh connection each time, so a refusal cannot poison the next call.
  absl::StatusOr<geo::http::CurlResponse> Get(const std::string& path) {
    CurlClient client;
    return client.Get(server_->http_url(path));
  }

  // A POST of `body` to the batch route on a fresh connection.
  absl::StatusOr<geo::http::CurlResponse> PostBatch(const std::string& body) {
    CurlClient client;
    return client.Send("POST", server_->http_url("/v1/lookup:batch"), body);
  }

  std::optional<ServerProcess> server_;
};

// `response` is a refusal: HTTP `status` and a grpc-gateway error body with
// gRPC `code` and a message holding `message`.
void ExpectRefusal(const absl::StatusOr<geo::http::CurlResponse>& response,
                   int status, int code, const std::string& message) {
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, status) << response->body;
  EXPECT_THAT(response->body, HasSubstr(absl::StrCat("\"code\":", code)));
  EXPECT_THAT(response->body, HasSubstr(message));
}

TEST_F(LimitsTest, BodyLargerThanTheLimitIs413) {
  Start({"--http_max_body_bytes=4096"});
  auto ok = PostBatch(R"({"ips":["81.2.69.160"]})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200) << ok->body;

  ExpectRefusal(PostBatch(absl::StrCat(R"({"ips":["81.2.69.160"],"language":")",
                                       std::string(5000, 'x'), "\"}")),
                413, /*RESOURCE_EXHAUSTED*/ 8, "body too large");
}

TEST_F(LimitsTest, BatchLargerThanTheLimitIs400) {
  Start({"--max_batch_size=5"});
  std::vector<std::string> ips(5, "\"81.2.69.160\"");
  auto five =
      PostBatch(absl::StrCat("{\"ips\":[", absl::StrJoin(ips, ","), "]}"));
  ASSERT_TRUE(five.ok()) << five.status();
  EXPECT_EQ(five->status, 200) << five->body;
  ips.push_back("\"2001:218::1\"");
  ExpectRefusal(
      PostBatch(absl::StrCat("{\"ips\":[", absl::StrJoin(ips, ","), "]}")), 400,
      /*INVALID_ARGUMENT*/ 3, "at most 5");
}

TEST_F(LimitsTest, HeadersLargerThanTheLimitAre431) {
  Start({"--http_max_header_bytes=2048"});
  auto fine = Get("/v1/lookup/81.2.69.160");
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->status, 200);
  CurlClient client;
  ExpectRefusal(client.Get(server_->http_url("/v1/lookup/81.2.69.160"),
                           {"X-Padding: " + std::string(3000, 'p')}),
                431, /*RESOURCE_EXHAUSTED*/ 8, "header fields too large");
}

TEST_F(LimitsTest, ConnectionsBeyondTheLimitAre503WithRetryAfter) {
  Start({"--http_max_connections=4", "--http_idle_timeout=60s"});
  std::vector<RawConnection> held;
  for (int i = 0; i < 4; ++i) {
    auto connection = RawConnection::Connect(port());
    ASSERT_TRUE(connection.ok()) << connection.status();
    held.push_back(*std::move(connection));
  }
  absl::SleepFor(absl::Milliseconds(200));  // Let the server accept them.
  auto refused = RawConnection::Connect(port());
  ASSERT_TRUE(refused.ok()) << refused.status();
  refused->Send("GET /v1/lookup/81.2.69.160 HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string answer = refused->ReadUntil(absl::Seconds(5));
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 503 Service Unavailable") << answer;
  EXPECT_THAT(answer, HasSubstr("Retry-After: 1"));
  EXPECT_THAT(answer, HasSubstr("\"code\":14"));  // UNAVAILABLE

  // Slots free up as soon as the held connections go.
  held.clear();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    auto response = Get("/v1/lookup/81.2.69.160");
    served = response.ok() && response->status == 200;
    if (!served) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(served);
}

// The kubelet's liveness probe must not depend on lookup traffic: with every
// HTTP slot held, and one other peer holding all the health connections it
// may, a probe from a third address still gets 200 on the health port.
TEST_F(LimitsTest, LivenessAnswersWhileTheLookupPortIsFull) {
  Start({"--http_max_connections=4", "--http_idle_timeout=60s"});
  const uint16_t health = static_cast<uint16_t>(server_->ports().health);
  ASSERT_NE(health, 0);
  std::vector<RawConnection> held;
  for (int i = 0; i < 4; ++i) {
    auto connection = RawConnection::Connect(port(), "127.0.0.3");
    ASSERT_TRUE(connection.ok()) << connection.status();
    held.push_back(*std::move(connection));
  }
  // The attacker also floods the health port from its one address.
  int refused_on_health = 0;
  for (int i = 0; i < 20; ++i) {
    auto connection = RawConnection::Connect(health, "127.0.0.3");
    ASSERT_TRUE(connection.ok()) << connection.status();
    held.push_back(*std::move(connection));
  }
  absl::SleepFor(absl::Milliseconds(300));  // Let the server accept them.
  for (size_t i = 4; i < held.size(); ++i) {
    if (held[i].WaitForClose(absl::Milliseconds(50))) ++refused_on_health;
  }
  // 8 per peer; the rest were answered 503 and closed.
  EXPECT_EQ(refused_on_health, 12);

  auto lookup = RawConnection::Connect(port(), "127.0.0.2");
  ASSERT_TRUE(lookup.ok());
  lookup->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusLine(lookup->ReadUntil(absl::Seconds(5))),
            "HTTP/1.1 503 Service Unavailable");

  for (const char* path : {"/healthz", "/readyz"}) {
    auto probe = RawConnection::Connect(health, "127.0.0.2");
    ASSERT_TRUE(probe.ok()) << probe.status();
    probe->Send(absl::StrCat("GET ", path,
                             " HTTP/1.1\r\nHost: x\r\nConnection: "
                             "close\r\n\r\n"));
    const std::string answer = probe->ReadUntil(absl::Seconds(5));
    EXPECT_EQ(StatusLine(answer), "HTTP/1.1 200 OK") << path << answer;
  }
}

// --http_threads=0 sizes the HTTP pool from the CPUs the process may use,
// not the machine's: started under a one-CPU affinity mask (what `taskset -c
// 0` does, inherited by the child), the server runs one HTTP thread.
TEST(CpuBudgetE2eTest, HttpThreadsFollowTheAffinityMask) {
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof(original), &original), 0);
  int first_cpu = 0;
  while (!CPU_ISSET(first_cpu, &original)) ++first_cpu;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first_cpu, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const std::string path = NewTempDir() + "/City.mmdb";
  ASSERT_TRUE(CopyMaxmindTestDatabase("GeoIP2-City-Test.mmdb", path));
  auto server = ServerProcess::Start(GeoServerBinary(),
                                     {"--db=" + path, "--http_threads=0"});
  ASSERT_EQ(sched_setaffinity(0, sizeof(original), &original), 0);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT(server->Log(),
              HasSubstr("\"msg\":\"HTTP threads from the CPU budget\","
                        "\"threads\":1,\"source\":\"affinity\""));
  CurlClient client;
  auto response = client.Get(server->http_url("/v1/lookup/81.2.69.160"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

TEST_F(LimitsTest, IdleKeepAliveConnectionsAreClosed) {
  Start({"--http_idle_timeout=1s"});
  auto connection = RawConnection::Connect(port());
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(connection->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string answer = connection->ReadUntil(absl::Seconds(5), "ok");
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 200 OK") << answer;
  const absl::Time idle_since = absl::Now();
  EXPECT_TRUE(connection->WaitForClose(absl::Seconds(10)));
  const absl::Duration waited = absl::Now() - idle_since;
  EXPECT_GE(waited, absl::Milliseconds(800));
  EXPECT_LE(waited, absl::Seconds(5));
}

// Slowloris: clients that trickle a request one byte at a time. Each is cut
// off at the request deadline (the trickle cannot extend it), and while
// they trickle, ordinary clients are served at once.
TEST_F(LimitsTest, SlowClientsCannotHoldTheServer) {
  Start({"--http_request_timeout=2s", "--http_max_connections=16"});
  constexpr int kSlowClients = 8;
  std::vector<std::thread> slow;
  std::vector<absl::Duration> held(kSlowClients);
  std::vector<std::string> answers(kSlowClients);
  const std::string request =
      "GET /v1/lookup/81.2.69.160 HTTP/1.1\r\nHost: x\r\nX-Slow: " +
      std::string(200, 's') + "\r\n\r\n";
  for (int i = 0; i < kSlowClients; ++i) {
    slow.emplace_back([&, i] {
      auto connection = RawConnection::Connect(port());
      if (!connection.ok()) return;
      const absl::Time start = absl::Now();
      for (char byte : request) {
        if (!connection->Send(std::string(1, byte))) break;
        // Instead of a plain pause: anything the server says arrives here.
        answers[i] += connection->ReadUntil(absl::Milliseconds(50), "}");
        if (!answers[i].empty()) break;
        if (absl::Now() - start > absl::Seconds(15)) break;
      }
      answers[i] += connection->ReadUntil(absl::Seconds(2), "}");
      held[i] = absl::Now() - start;
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  int served = 0;
  for (int i = 0; i < 20; ++i) {
    const absl::Time start = absl::Now();
    auto response = Get("/v1/lookup/81.2.69.160");
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_LT(absl::Now() - start, absl::Seconds(1));
    served += response->status == 200;
    absl::SleepFor(absl::Milliseconds(50));
  }
  for (std::thread& thread : slow) thread.join();
  EXPECT_EQ(served, 20);
  for (int i = 0; i < kSlowClients; ++i) {
    // The whole request takes ~13 s to trickle; the server answers at 2 s.
    EXPECT_GE(held[i], absl::Milliseconds(1800)) << "slow client " << i;
    EXPECT_LT(held[i], absl::Seconds(6)) << "slow client " << i;
    // Told why: 408 with a grpc-gateway body (DEADLINE_EXCEEDED).
    EXPECT_EQ(StatusLine(answers[i]), "HTTP/1.1 408 Request Timeout")
        << answers[i];
    EXPECT_THAT(answers[i], HasSubstr("\"code\":4"));
  }
}

}  // namespace
}  // namespace geo::testing
