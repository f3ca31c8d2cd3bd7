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

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/data/test_data.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/load_clients.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/source_data.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;

class LoadE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir();
    city_bytes_ = ReadFile(
        absl::StrCat(MaxmindTestDataDir(), "/test-data/GeoIP2-City-Test.mmdb"));
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

double Sample(const std::string& exposition, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      return std::stod(std::string(line.substr(series.size() + 1)));
    }
  }
  return -1;
}

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
    return Sample(CurlClient().Get(server->metrics_url())->body,
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
  EXPECT_EQ(observed, kReloads);
  EXPECT_GT(outcomes.ok(), 100);
  EXPECT_EQ(outcomes.failed(), 0) << outcomes.examples();
  EXPECT_EQ(outcomes.not_accepted(), 0);
}

TEST_F(LoadE2eTest, SigtermUnderLoadCompletesAcceptedRequestsAndExitsZero) {
  auto server = ServerProcess::Start(
      GeoServerBinary(),
      {"--db=" + city_path_, "--drain_delay=2s", "--shutdown_timeout=10s"});
  ASSERT_TRUE(server.ok()) << server.status();
  std::atomic<bool> stop{false};
  Outcomes outcomes;
  std::vector<std::thread> clients =
      StartLookupClients(*server, expect(), 2, stop, &outcomes);
  // Large batches keep requests in flight at the moment listeners close.
  std::thread batches([&] {
    CurlClient http;
    std::string body = R"({"ips":[)";
    for (int i = 0; i < 1000; ++i) {
      absl::StrAppend(&body, i ? "," : "", "\"", address_, "\"");
    }
    body += "]}";
    while (!stop.load()) {
      const absl::Time sent = absl::Now();
      auto response =
          http.Send("POST", server->http_url("/v1/lookup:batch"), body);
      if (!response.ok()) {
        outcomes.Failure(sent, std::string(response.status().message()));
        absl::SleepFor(absl::Milliseconds(5));
      } else if (response->status == 200) {
        outcomes.Ok();
      } else {
        outcomes.Failed(absl::StrCat("batch HTTP ", response->status));
      }
    }
  });
  while (outcomes.ok() < 200) absl::SleepFor(absl::Milliseconds(5));
  // The server keeps accepting for the 2 s drain delay; requests sent in its
  // first half must all succeed. (The half left over absorbs the time a
  // client thread may sit descheduled between deciding to send and sending
  // on this 2-core machine.)
  outcomes.set_accepting_until(absl::Now() + absl::Seconds(1));
  server->SendSignal(SIGTERM);
  absl::StatusOr<int> exit_status = server->Wait(absl::Seconds(30));
  stop = true;
  for (auto& client : clients) client.join();
  batches.join();
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(*exit_status, 0) << server->Log();
  EXPECT_EQ(outcomes.failed(), 0) << outcomes.examples() << server->Log();
  // Requests kept being served through the drain delay.
  EXPECT_GT(outcomes.ok(), 200);
}

}  // namespace
}  // namespace geo::testing
