// End-to-end under concurrent load: hot reloads lose no request, and SIGTERM
// lets every accepted request finish. Real geo_server, real HTTP and gRPC
// clients on loopback; bounded in time.
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/load_clients.h"
#include "tests/e2e/source_data.h"
#include "tests/support/metrics_text.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::RawConnection;

class LoadE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir();
    city_bytes_ = ReadFile(MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
    ASSERT_FALSE(city_bytes_.empty());
    city_path_ = absl::StrCat(dir_, "/GeoIP2-City-Test.mmdb");
    ASSERT_TRUE(ReplaceFile(city_path_, city_bytes_));
    auto records = LoadSourceRecords(absl::StrCat(
        MaxmindTestDataDir(), "/source-data/GeoIP2-City-Test.json"));
    ASSERT_TRUE(records.ok()) << records.status();
    const SourceRecord* record = FindIpv4(*records, [](const SourceRecord& r) {
      return !StringAt(r.record, "country.iso_code").empty();
    });
    ASSERT_NE(record, nullptr);
    address_ = record->address;
    country_ = StringAt(record->record, "country.iso_code");
  }

  LookupExpectation expect() const { return {address_, country_}; }

  std::string dir_;
  std::string city_bytes_;
  std::string city_path_;
  std::string address_;
  std::string country_;
};

TEST_F(LoadE2eTest, HotReloadsUnderHttpAndGrpcLoadLoseNoRequest) {
  auto server = ServerProcess::Start(
      GeoServerBinary(), {"--db=" + city_path_, "--poll_interval=20ms"});
  ASSERT_TRUE(server.ok()) << server.status();
  std::atomic<bool> stop{false};
  Outcomes outcomes;
  std::vector<std::thread> clients =
      StartLookupClients(*server, expect(), 2, stop, &outcomes);
  // A fresh connection per scrape, as Prometheus scrapes.
  auto reloads = [&] {
    return MetricSample(CurlClient().Get(server->metrics_url())->body,
                        R"(geofence_database_reloads_total{result="success"})");
  };
  constexpr int kReloads = 20;
  const double initial = reloads();
  int observed = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (int i = 0; i < kReloads && absl::Now() < deadline; ++i) {
    // A new inode each time, as the updater installs files.
    ASSERT_TRUE(ReplaceFile(city_path_, city_bytes_));
    while (reloads() < initial + i + 1 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    observed = static_cast<int>(reloads() - initial);
  }
  stop = true;
  for (auto& client : clients) client.join();
  EXPECT_EQ(observed, kReloads) << server->Log();
  EXPECT_GT(outcomes.ok(), 100);
  EXPECT_EQ(outcomes.failed(), 0) << outcomes.examples();
  EXPECT_EQ(outcomes.not_accepted(), 0);
}

// True once a new connection to `port` is refused: the listener has closed.
bool WaitForListenerClose(uint16_t port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (!RawConnection::Connect(port).ok()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

// The status line and the body of one HTTP/1.1 response read off the wire.
struct WireResponse {
  std::string status_line;
  std::string headers;
  std::string body;
};

WireResponse ParseWireResponse(const std::string& raw) {
  WireResponse response;
  const size_t headers_end = raw.find("\r\n\r\n");
  if (headers_end == std::string::npos) return response;
  response.headers = raw.substr(0, headers_end);
  response.status_line = response.headers.substr(0, raw.find("\r\n"));
  response.body = raw.substr(headers_end + 4);
  return response;
}

TEST_F(LoadE2eTest, SigtermUnderLoadCompletesAcceptedRequestsAndExitsZero) {
  constexpr absl::Duration kDrainDelay = absl::Seconds(2);
  auto server = ServerProcess::Start(
      GeoServerBinary(),
      {"--db=" + city_path_, "--drain_delay=2s", "--shutdown_timeout=20s",
       "--http_request_timeout=60s"});
  ASSERT_TRUE(server.ok()) << server.status();
  const auto http_port = static_cast<uint16_t>(server->ports().http);
  std::atomic<bool> stop{false};
  Outcomes outcomes;
  std::vector<std::thread> clients =
      StartLookupClients(*server, expect(), 2, stop, &outcomes);
  // Large batches keep requests in flight while the server drains.
  std::string batch_body = R"({"ips":[)";
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&batch_body, i ? "," : "", "\"", address_, "\"");
  }
  batch_body += "]}";
  std::thread batches([&] {
    CurlClient http;
    while (!stop.load()) {
      auto response =
          http.Send("POST", server->http_url("/v1/lookup:batch"), batch_body);
      if (!response.ok()) {
        outcomes.Failure(std::string(response.status().message()));
        absl::SleepFor(absl::Milliseconds(5));
      } else if (response->status == 200) {
        outcomes.Ok();
      } else {
        outcomes.Failed(absl::StrCat("batch HTTP ", response->status));
      }
    }
  });

  // Two connections whose fate at the listener close is known without
  // timestamps. `in_flight` has sent its headers and half its body: the
  // server has accepted that request and must answer it even though the
  // rest arrives after the listeners closed. `idle` finished a request and
  // waits: the server must close it at once rather than wait for it until
  // the shutdown timeout.
  auto in_flight = RawConnection::Connect(http_port);
  auto idle = RawConnection::Connect(http_port);
  ASSERT_TRUE(in_flight.ok() && idle.ok());
  const std::string head = absl::StrCat(
      "POST /v1/lookup:batch HTTP/1.1\r\nHost: geo\r\n"
      "Content-Type: application/json\r\nContent-Length: ",
      batch_body.size(), "\r\n\r\n");
  const size_t half = batch_body.size() / 2;
  ASSERT_TRUE(in_flight->Send(head + batch_body.substr(0, half)));
  ASSERT_TRUE(idle->Send(absl::StrCat("GET /v1/lookup/", address_,
                                      " HTTP/1.1\r\nHost: geo\r\n\r\n")));
  ASSERT_THAT(
      ParseWireResponse(idle->ReadUntil(absl::Seconds(10), "}")).status_line,
      ::testing::HasSubstr(" 200 "));

  while (outcomes.ok() < 200) absl::SleepFor(absl::Milliseconds(5));
  outcomes.set_shutdown(absl::Now(), kDrainDelay);
  server->SendSignal(SIGTERM);

  ASSERT_TRUE(WaitForListenerClose(http_port, absl::Seconds(30)))
      << server->Log();
  EXPECT_TRUE(idle->WaitForClose(absl::Seconds(10)))
      << "an idle keep-alive connection held the drain";
  ASSERT_TRUE(in_flight->Send(batch_body.substr(half)));
  const WireResponse answer =
      ParseWireResponse(in_flight->ReadUntil(absl::Seconds(15)));
  EXPECT_THAT(answer.status_line, ::testing::HasSubstr(" 200 "))
      << server->Log();
  // Draining: the answer tells the client not to reuse the connection.
  EXPECT_THAT(absl::AsciiStrToLower(answer.headers),
              ::testing::HasSubstr("connection: close"));
  geo::v1::BatchLookupResponse batch;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(answer.body, &batch).ok())
      << answer.body;
  ASSERT_EQ(batch.results_size(), 1000);
  for (const auto& result : batch.results()) {
    ASSERT_EQ(result.response().country().iso_code(), country_);
  }

  absl::StatusOr<int> exit_status = server->Wait(absl::Seconds(30));
  stop = true;
  for (auto& client : clients) client.join();
  batches.join();
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(*exit_status, 0) << server->Log();
  EXPECT_EQ(outcomes.failed(), 0) << outcomes.examples() << server->Log();
  // Requests kept being served after the signal, through the drain delay.
  EXPECT_GT(outcomes.ok_after_signal(), 0);
  // Nothing was cut off at the shutdown deadline.
  EXPECT_THAT(server->Log(),
              ::testing::Not(::testing::HasSubstr("shutdown deadline passed")));
}

}  // namespace
}  // namespace geo::testing
