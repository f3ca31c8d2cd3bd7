// Soak (bounded): the real geo_server under mixed HTTP and gRPC load with
// its City database replaced (a new inode, so a real reload) every second,
// for SOAK_SECONDS (default 60, 30 under ASan/TSan; `make soak` runs
// longer). Asserts that no
// request failed, that the reloads happened, and that the server process
// did not drift: after a warm-up, its open file descriptors are the same at
// the end and its RSS grew by less than the tolerance below.
#include <dirent.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/http/test_http_client.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support/metrics_text.h"
#include "tests/support/process_stats.h"
#include "tests/support/sanitizers.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

// ASan's quarantine and TSan's shadow memory grow with allocations by design.
constexpr int64_t kRssToleranceKb = (kSanitized ? 256 : 32) * 1024;

constexpr char kProbe[] = "81.2.69.160";  // In GeoIP2-City-Test.

absl::Duration SoakDuration() {
  const char* text = std::getenv("SOAK_SECONDS");
  // Under TSan/ASan the soak is about races and leaks, not drift: half the
  // time keeps `make test` short.
  constexpr int kDefaultSeconds = kSanitized ? 30 : 60;
  int seconds = kDefaultSeconds;
  if (text != nullptr && !absl::SimpleAtoi(text, &seconds)) {
    seconds = kDefaultSeconds;
  }
  return absl::Seconds(std::max(seconds, 10));
}

// The least fd count over a few samples: a reload in progress holds the new
// file open for a moment, which is not drift.
int SteadyFds(pid_t pid) {
  int least = OpenDescriptorCount(pid);
  for (int i = 0; i < 10; ++i) {
    absl::SleepFor(absl::Milliseconds(30));
    least = std::min(least, OpenDescriptorCount(pid));
  }
  return least;
}

struct Tally {
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> failed{0};
  absl::Mutex mu;
  std::vector<std::string> first_failures ABSL_GUARDED_BY(mu);

  void Fail(const std::string& what) {
    failed.fetch_add(1);
    absl::MutexLock lock(&mu);
    if (first_failures.size() < 10) first_failures.push_back(what);
  }
};

TEST(SoakTest, MixedLoadWithReloadEverySecond) {
  const absl::Duration duration = SoakDuration();
  const absl::Duration warm_up = std::min(absl::Seconds(10), duration / 6);
  const std::string dir = NewTempDir();
  const std::string city =
      ReadFile(MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
  const std::string asn =
      ReadFile(MaxmindTestDataFile("GeoLite2-ASN-Test.mmdb"));
  ASSERT_FALSE(city.empty());
  ASSERT_FALSE(asn.empty());
  const std::string city_path = dir + "/City.mmdb";
  ASSERT_TRUE(ReplaceFile(city_path, city));
  ASSERT_TRUE(ReplaceFile(dir + "/ASN.mmdb", asn));
  auto server = ServerProcess::Start(
      GeoServerBinary(),
      {absl::StrCat("--db=", city_path, ",", dir, "/ASN.mmdb"),
       "--poll_interval=100ms", "--http_threads=2"});
  ASSERT_TRUE(server.ok()) << server.status();

  std::atomic<bool> stop{false};
  Tally http;
  Tally grpc_calls;
  std::atomic<int> replaced{0};
  std::vector<std::thread> threads;

  // The updater's part: a new file every second.
  threads.emplace_back([&] {
    while (!stop.load()) {
      absl::SleepFor(absl::Seconds(1));
      if (stop.load()) break;
      if (ReplaceFile(city_path, city)) replaced.fetch_add(1);
    }
  });
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      geo::http::CurlClient client;
      const std::string batch = absl::StrCat(
          R"({"ips":[")", kProbe, R"(","2001:218::1","1.128.0.0"]})");
      for (int64_t i = 0; !stop.load(); ++i) {
        absl::StatusOr<geo::http::CurlResponse> response;
        switch ((i + t) % 3) {
          case 0:
            response = client.Get(
                server->http_url(absl::StrCat("/v1/lookup/", kProbe)));
            break;
          case 1:
            response = client.Send("POST", server->http_url("/v1/lookup:batch"),
                                   batch);
            break;
          default:
            response = client.Get(
                server->http_url(absl::StrCat("/v1/check/", kProbe)));
        }
        if (!response.ok()) {
          http.Fail(std::string(response.status().message()));
        } else if (response->status != 200) {
          http.Fail(absl::StrCat(response->status, " ", response->body));
        } else {
          http.ok.fetch_add(1);
        }
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto stub = geo::v1::GeoService::NewStub(grpc::CreateChannel(
          server->grpc_target(), grpc::InsecureChannelCredentials()));
      for (int64_t i = 0; !stop.load(); ++i) {
        grpc::ClientContext context;
        context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        grpc::Status status;
        bool found = true;
        if ((i + t) % 2 == 0) {
          geo::v1::LookupRequest request;
          request.set_ip(kProbe);
          geo::v1::LookupResponse response;
          status = stub->Lookup(&context, request, &response);
          found = response.found();
        } else {
          geo::v1::BatchLookupRequest request;
          request.add_ips(kProbe);
          request.add_ips("2001:218::1");
          geo::v1::BatchLookupResponse response;
          status = stub->BatchLookup(&context, request, &response);
          found = response.results_size() == 2;
        }
        if (!status.ok()) {
          grpc_calls.Fail(
              absl::StrCat(status.error_code(), " ", status.error_message()));
        } else if (!found) {
          grpc_calls.Fail("answered, but without the record");
        } else {
          grpc_calls.ok.fetch_add(1);
        }
      }
    });
  }

  absl::SleepFor(warm_up);
  const int64_t rss_warm = ProcStatusKiB(server->pid(), "VmRSS");
  const int fds_warm = SteadyFds(server->pid());
  const int64_t ok_warm = http.ok.load() + grpc_calls.ok.load();
  absl::SleepFor(duration - warm_up);
  const int64_t rss_end = ProcStatusKiB(server->pid(), "VmRSS");
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  // With the clients gone, the server must be back at (or below) the count it
  // had under load after warm-up. Allow it a few seconds to close the
  // clients' connections and finish a reload in progress: a leak never
  // settles, a slow close (seen under TSan) does.
  int fds_end = SteadyFds(server->pid());
  for (int i = 0; i < 50 && fds_end > fds_warm; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    fds_end = SteadyFds(server->pid());
  }

  geo::http::CurlClient metrics_client;
  auto metrics = metrics_client.Get(server->metrics_url());
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const double reloads = MetricSample(
      metrics->body, "geofence_database_reloads_total{result=\"success\"}");
  const double reload_failures = MetricSample(
      metrics->body, "geofence_database_reloads_total{result=\"failure\"}");

  std::printf(
      "soak: %.0f s, http ok %lld failed %lld, grpc ok %lld failed %lld "
      "(%lld after warm-up), files replaced %d, reloads %.0f (failed %.0f), "
      "RSS %lld kB after %.0f s warm-up -> %lld kB (%+lld kB, tolerance "
      "%lld kB), fds %d -> %d\n",
      absl::ToDoubleSeconds(duration), static_cast<long long>(http.ok.load()),
      static_cast<long long>(http.failed.load()),
      static_cast<long long>(grpc_calls.ok.load()),
      static_cast<long long>(grpc_calls.failed.load()),
      static_cast<long long>(http.ok.load() + grpc_calls.ok.load() - ok_warm),
      replaced.load(), reloads, reload_failures,
      static_cast<long long>(rss_warm), absl::ToDoubleSeconds(warm_up),
      static_cast<long long>(rss_end),
      static_cast<long long>(rss_end - rss_warm),
      static_cast<long long>(kRssToleranceKb), fds_warm, fds_end);

  EXPECT_EQ(http.failed.load(), 0);
  EXPECT_EQ(grpc_calls.failed.load(), 0);
  for (Tally* tally : {&http, &grpc_calls}) {
    absl::MutexLock lock(&tally->mu);
    for (const std::string& failure : tally->first_failures) {
      ADD_FAILURE() << failure;
    }
  }
  EXPECT_GT(http.ok.load(), 0);
  EXPECT_GT(grpc_calls.ok.load(), 0);
  // Every replacement is a new inode; the watcher may merge two that land
  // within one debounce window, hardly more.
  EXPECT_GE(reloads, replaced.load() * 0.8) << metrics->body;
  EXPECT_EQ(reload_failures, 0);
  EXPECT_GT(rss_warm, 0);
  EXPECT_LT(rss_end - rss_warm, kRssToleranceKb);
  EXPECT_GT(fds_warm, 0);
  EXPECT_LE(fds_end, fds_warm);
  auto exit_status = server->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(*exit_status, 0) << server->Log();
}

}  // namespace
}  // namespace geo::testing
