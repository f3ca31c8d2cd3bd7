// Idle TCP connections to the gRPC port against the real geo_server.
// Descriptors are one table for the whole process: when it is full, every
// listener's accept fails, the health listener's included, and the kubelet
// restarts a pod that is serving. Two bounds hold it:
// - the server raises its soft open-file limit to the hard limit at start
//   (launchers often leave 1024 under a far higher hard limit);
// - a gRPC connection that has not finished its handshake and sent the
//   HTTP/2 preface within --grpc_handshake_timeout is closed (gRPC's own
//   default keeps it for 120 s).
// And if the table fills anyway, this gRPC stops accepting for good: the
// health routes notice from the listener's accept queue and fail liveness.
// /metrics shows the table through the standard process_open_fds and
// process_max_fds.
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/metrics_text.h"
#include "tests/support/sanitizers.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::RawConnection;
using ::testing::HasSubstr;

// The server's descriptor table when the test sets one, and the idle
// connections opened against it: well past the table, so a server that kept
// them all would have no descriptor left for anything else.
constexpr int kTableSize = 128;
constexpr int kIdleConnections = 200;

// The launcher that gives the server `soft` and `hard` open-file limits.
std::vector<std::string> WithOpenFileLimit(int soft, int hard) {
  absl::StatusOr<std::string> prlimit = FindProgram("prlimit");
  if (!prlimit.ok()) return {};
  return {*prlimit, absl::StrCat("--nofile=", soft, ":", hard), "--"};
}

// Opens `count` TCP connections to `port` that never send a byte.
std::vector<RawConnection> OpenIdleConnections(int port, int count) {
  std::vector<RawConnection> connections;
  connections.reserve(count);
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<RawConnection> connection =
        RawConnection::Connect(static_cast<uint16_t>(port));
    if (!connection.ok()) {
      ADD_FAILURE() << "connection " << i << ": " << connection.status();
      break;
    }
    connections.push_back(*std::move(connection));
  }
  return connections;
}

// The status of GET `path` on the health port, on a fresh connection; 0 when
// it got no answer (curl gives up after 10 s).
long Probe(const ServerProcess& server, const std::string& path = "/healthz") {
  CurlClient client;
  absl::StatusOr<http::CurlResponse> response =
      client.Get(server.health_url(path));
  return response.ok() ? response->status : 0;
}

// A sample of the server's /metrics; -1 when it has none (or no answer).
double Scraped(const ServerProcess& server, const std::string& series) {
  CurlClient client;
  absl::StatusOr<http::CurlResponse> response =
      client.Get(server.metrics_url());
  if (!response.ok() || response->status != 200) return -1;
  return MetricSample(response->body, series);
}

std::string CityDatabase() {
  return absl::StrCat("--db=", MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
}

TEST(DescriptorFloodTest, ASoftLimitLeftLowIsRaisedToTheHardLimit) {
  // A hard limit the server can raise to, within the test's own.
  rlimit own{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &own), 0);
  const int hard = static_cast<int>(std::min<rlim_t>(own.rlim_max, 4096));
  ASSERT_GT(hard, 2 * kIdleConnections) << "the test's hard limit is too low";
  const std::vector<std::string> launcher = WithOpenFileLimit(kTableSize, hard);
  ASSERT_FALSE(launcher.empty()) << "prlimit (util-linux) is not installed";
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(
      GeoServerBinary(), {CityDatabase(), "--grpc_handshake_timeout=120s"},
      absl::Seconds(60), launcher);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT(server->Log(), HasSubstr(absl::StrCat(
                                 "\"msg\":\"Open-file limit\",\"soft\":", hard,
                                 ",\"hard\":", hard, ",\"was\":", kTableSize)));

  // The standard process metrics show the limit and what is used of it.
  EXPECT_EQ(Scraped(*server, "process_max_fds"), hard);
  const double open_before = Scraped(*server, "process_open_fds");
  EXPECT_GT(open_before, 0);

  std::vector<RawConnection> idle =
      OpenIdleConnections(server->ports().grpc, kIdleConnections);
  ASSERT_EQ(idle.size(), static_cast<size_t>(kIdleConnections));
  // Every idle connection holds a descriptor (120 s to finish its
  // handshake), and the health listener still has one for the probe.
  EXPECT_EQ(Probe(*server), 200) << server->Log();
  // gRPC accepts them from the backlog as it gets to them.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  double open_after = 0;
  while (open_after < open_before + kIdleConnections &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    open_after = Scraped(*server, "process_open_fds");
  }
  EXPECT_GE(open_after, open_before + kIdleConnections);
}

TEST(DescriptorFloodTest, IdleGrpcConnectionsAreClosedAfterTheHandshakeTime) {
  // The table is not filled here: the sanitizers' runtimes need descriptors
  // of their own to check and report (UBSan's vptr check opens a pipe), so
  // a full table makes an instrumented server fail in them. What matters is
  // that the connections go, which frees the table whatever its size.
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(
      GeoServerBinary(), {CityDatabase(), "--grpc_handshake_timeout=1s"});
  ASSERT_TRUE(server.ok()) << server.status();

  std::vector<RawConnection> idle =
      OpenIdleConnections(server->ports().grpc, kIdleConnections);
  ASSERT_EQ(idle.size(), static_cast<size_t>(kIdleConnections));
  // gRPC's own default would keep each for 120 s.
  for (RawConnection* connection : {&idle.front(), &idle.back()}) {
    EXPECT_TRUE(connection->WaitForClose(absl::Seconds(10)))
        << "an idle gRPC connection was still open after 10 s";
  }
  // A listener that accepted them all is no stalled listener: the health
  // routes sample its accept queue (three samples a second apart) and stay
  // up.
  const absl::Time until = absl::Now() + absl::Seconds(4);
  while (absl::Now() < until) {
    ASSERT_EQ(Probe(*server), 200) << server->Log();
    absl::SleepFor(absl::Milliseconds(200));
  }
}

// This gRPC stops accepting on a port for good after one accept(2) fails
// with EMFILE (accept_stall_check.h). The server notices from the listener's
// accept queue and fails liveness and readiness, so that the kubelet
// restarts it instead of leaving a pod that answers probes and never takes
// another gRPC connection.
TEST(DescriptorFloodTest, AGrpcListenerThatStopsAcceptingFailsLiveness) {
  if (kSanitized) {
    GTEST_SKIP() << "fills the descriptor table, where the sanitizers' own "
                    "runtimes fail (UBSan's vptr check opens a pipe)";
  }
  const std::vector<std::string> launcher =
      WithOpenFileLimit(kTableSize, kTableSize);
  ASSERT_FALSE(launcher.empty()) << "prlimit (util-linux) is not installed";
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(
      GeoServerBinary(), {CityDatabase(), "--grpc_handshake_timeout=1s"},
      absl::Seconds(60), launcher);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_EQ(Probe(*server), 200);
  {
    // More than the table holds: gRPC's accept fails once with EMFILE.
    std::vector<RawConnection> idle =
        OpenIdleConnections(server->ports().grpc, kIdleConnections);
    ASSERT_TRUE(server->WaitForLog("Failed accept4", absl::Seconds(20)))
        << server->Log();
  }
  // The idle connections are gone (the server closed the ones it took after
  // a second, the test the rest): descriptors are free again, gRPC still
  // takes none, and the probes say so.
  const absl::Time deadline = absl::Now() + absl::Seconds(40);
  long status = 0;
  while (status != 503 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    status = Probe(*server);
  }
  EXPECT_EQ(status, 503) << server->Log();
  EXPECT_EQ(Probe(*server, "/readyz"), 503);
  EXPECT_TRUE(server->WaitForLog("Listener stopped accepting connections",
                                 absl::Seconds(1)))
      << server->Log();
}

}  // namespace
}  // namespace geo::testing
