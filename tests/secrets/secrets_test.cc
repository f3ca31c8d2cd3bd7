// The MaxMind license key never leaks. The real updater runs
// against the fake MaxMind server through success and every failure path
// (401, 429 with and without the daily limit, 500s until retries run out,
// MD5 mismatch, a slow body that times out, a truncated body, a corrupt
// archive, garbage metadata, an unreachable host), once and in loop mode
// with its /metrics scraped; the real geo_server runs with the key in its
// environment. Nowhere may the key appear: not in any log line or error
// message (stdout, stderr), not in any metric, not in /proc/PID/cmdline,
// and not in a request target (URLs end up in proxy logs). Nor may the
// base64 Basic-auth credential, which is the key in thin disguise.
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/http/test_http_client.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"
#include "tests/updater/fake_maxmind_server.h"
#include "tests/updater/test_archives.h"

namespace geo::testing {
namespace {

using ::geo::updater::testing::FakeMaxMindServer;
using ::geo::updater::testing::FakeResponse;

constexpr char kAccountId[] = "424242";
constexpr char kLicenseKey[] = "SeCrEt-LiCeNsE-9f8e7d6c";
constexpr char kEdition[] = "GeoIP2-City";

// Every form of the key that would count as a leak.
std::vector<std::string> SecretForms() {
  return {kLicenseKey,
          absl::Base64Escape(absl::StrCat(kAccountId, ":", kLicenseKey))};
}

void ExpectNoSecret(const std::string& where, const std::string& text) {
  for (const std::string& secret : SecretForms()) {
    EXPECT_FALSE(absl::StrContains(text, secret))
        << where << " contains the license key (form \"" << secret << "\"):\n"
        << text;
  }
}

std::string ReadProc(pid_t pid, const std::string& file) {
  return ReadFile(absl::StrCat("/proc/", pid, "/", file));
}

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.SetCredentials(kAccountId, kLicenseKey);
    city_ = updater::testing::ReadTestDatabase("GeoIP2-City-Test.mmdb");
    ASSERT_FALSE(city_.empty());
    server_.SetDatabase(kEdition,
                        updater::testing::MakeMaxMindArchive(kEdition, city_),
                        updater::testing::Md5Hex(city_));
  }

  std::map<std::string, std::string> Environment(const std::string& host) {
    std::map<std::string, std::string> environment =
        server_.UpdaterEnvironment(kEdition, NewTempDir());
    environment["MAXMIND_HOST"] = host;
    return environment;
  }

  // Runs the updater once; checks its exit code, output and cmdline.
  void RunOnce(const std::string& scenario, std::vector<std::string> flags,
               int expected_exit, const std::string& host = "") {
    SCOPED_TRACE(scenario);
    std::vector<std::string> argv = {UpdaterBinary(), "--once"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    absl::StatusOr<ChildProcess> child = ChildProcess::Start(
        {argv, Environment(host.empty() ? server_.url() : host)});
    ASSERT_TRUE(child.ok()) << child.status();
    ExpectNoSecret(scenario + ": cmdline", ReadProc(child->pid(), "cmdline"));
    const auto code = child->Wait(absl::Seconds(60));
    ASSERT_TRUE(code.has_value()) << scenario << ": updater did not exit";
    EXPECT_EQ(*code, expected_exit) << scenario << "\n" << child->Stderr();
    ExpectNoSecret(scenario + ": stdout", child->Stdout());
    ExpectNoSecret(scenario + ": stderr", child->Stderr());
    // Proof that the run said something: an empty log would pass vacuously.
    EXPECT_FALSE(child->Stderr().empty() && child->Stdout().empty())
        << scenario;
    ++runs_;
  }

  FakeMaxMindServer server_;
  std::string city_;
  int runs_ = 0;
};

TEST_F(SecretsTest, UpdaterNeverPrintsTheKeyOnAnyPath) {
  RunOnce("success", {"--output=json"}, 0);

  FakeMaxMindServer wrong_key;
  wrong_key.SetCredentials(kAccountId, "another-key");
  RunOnce("401", {}, 1, wrong_key.url());

  FakeResponse daily_limit;
  daily_limit.status = 429;
  daily_limit.headers = {{"Retry-After", "86400"}};
  daily_limit.body = R"({"code":"DOWNLOAD_LIMIT_EXCEEDED"})";
  server_.Enqueue("/geoip/databases/", daily_limit);
  RunOnce("429 daily limit", {}, 1);

  FakeResponse rate_limited;
  rate_limited.status = 429;
  rate_limited.headers = {{"Retry-After", "1"}};
  server_.Enqueue("/geoip/updates/metadata", rate_limited);
  RunOnce("429 then success", {"--backoff_initial=10ms"}, 0);

  FakeResponse error;
  error.status = 500;
  error.body = "internal error";
  for (int i = 0; i < 3; ++i) server_.Enqueue("/geoip/databases/", error);
  RunOnce("500s until retries run out",
          {"--backoff_initial=10ms", "--retries=3"}, 1);

  FakeResponse garbage;
  garbage.body = "{not json";
  server_.Enqueue("/geoip/updates/metadata", garbage);
  RunOnce("garbage metadata", {"--retries=1"}, 1);

  FakeMaxMindServer mismatch;
  mismatch.SetCredentials(kAccountId, kLicenseKey);
  mismatch.SetDatabase(kEdition,
                       updater::testing::MakeMaxMindArchive(kEdition, city_),
                       std::string(32, '0'));
  RunOnce("MD5 mismatch", {"--retries=1"}, 1, mismatch.url());

  FakeMaxMindServer corrupt;
  corrupt.SetCredentials(kAccountId, kLicenseKey);
  corrupt.SetDatabase(kEdition, "this is not a tar.gz",
                      updater::testing::Md5Hex(city_));
  RunOnce("corrupt archive", {"--retries=1"}, 1, corrupt.url());

  FakeMaxMindServer slow;
  slow.SetCredentials(kAccountId, kLicenseKey);
  slow.SetDatabase(kEdition,
                   updater::testing::MakeMaxMindArchive(kEdition, city_),
                   updater::testing::Md5Hex(city_));
  slow.SetDelays("/geoip/databases/", absl::ZeroDuration(),
                 absl::Milliseconds(300));
  RunOnce("timeout", {"--timeout=1s", "--retries=1"}, 1, slow.url());

  const std::string archive =
      updater::testing::MakeMaxMindArchive(kEdition, city_);
  FakeResponse truncated;
  truncated.body = archive.substr(0, archive.size() / 2);
  truncated.content_length = static_cast<int64_t>(archive.size());
  server_.Enqueue("/geoip/databases/", truncated);
  RunOnce("truncated body", {"--retries=1"}, 1);

  // Nothing listens on port 1 of loopback.
  RunOnce("unreachable host", {"--retries=1", "--connect_timeout=1s"}, 1,
          "http://127.0.0.1:1");

  // The key travelled only in the Authorization header, never in a URL.
  for (FakeMaxMindServer* fake :
       {&server_, &wrong_key, &mismatch, &corrupt, &slow}) {
    for (const auto& request : fake->requests()) {
      ExpectNoSecret("request target", request.target);
      for (const auto& [name, value] : request.headers) {
        if (name != "authorization") ExpectNoSecret("header " + name, value);
      }
    }
  }
  EXPECT_EQ(runs_, 11);
}

TEST_F(SecretsTest, UpdaterLoopModeMetricsAndCmdline) {
  // Failing passes first, so failure metrics carry labels and messages.
  FakeResponse error;
  error.status = 500;
  for (int i = 0; i < 2; ++i) server_.Enqueue("/geoip/databases/", error);
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(
      {{UpdaterBinary(), "--interval=1h", "--status_address=127.0.0.1",
        "--status_port=0", "--retries=1", "--backoff_initial=10ms"},
       Environment(server_.url())});
  ASSERT_TRUE(child.ok()) << child.status();
  int port = 0;
  for (int i = 0; i < 3000 && port == 0; ++i) {
    const std::string log = child->Stderr();
    const size_t at = log.find("\"Serving /healthz and /metrics\"");
    const size_t key = at == std::string::npos ? at : log.find("\"port\":", at);
    if (key != std::string::npos) {
      const size_t end = log.find_first_of(",}", key);
      ASSERT_TRUE(absl::SimpleAtoi(log.substr(key + 7, end - key - 7), &port));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_NE(port, 0) << child->Stderr();
  geo::http::CurlClient http;
  std::string metrics;
  for (int i = 0; i < 500; ++i) {
    auto response =
        http.Get(absl::StrCat("http://127.0.0.1:", port, "/metrics"));
    if (response.ok()) metrics = response->body;
    if (absl::StrContains(metrics, "geo_updater_failures_total{")) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(absl::StrContains(metrics, "geo_updater_failures_total"))
      << metrics;
  ExpectNoSecret("updater /metrics", metrics);
  for (const char* path : {"/healthz", "/nope"}) {
    auto response = http.Get(absl::StrCat("http://127.0.0.1:", port, path));
    if (response.ok()) ExpectNoSecret(path, response->body);
  }
  ExpectNoSecret("updater cmdline", ReadProc(child->pid(), "cmdline"));
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(absl::Seconds(20)), 0);
  ExpectNoSecret("updater stderr", child->Stderr());
  ExpectNoSecret("updater stdout", child->Stdout());
}

TEST_F(SecretsTest, ServerWithTheKeyInItsEnvironment) {
  // A pod may hand the server the same Secret as the updater sidecar.
  ASSERT_EQ(setenv("MAXMIND_LICENSE_KEY", kLicenseKey, 1), 0);
  ASSERT_EQ(setenv("MAXMIND_ACCOUNT_ID", kAccountId, 1), 0);
  const std::string dir = NewTempDir();
  ASSERT_TRUE(ReplaceFile(dir + "/City.mmdb", city_));
  auto server = ServerProcess::Start(
      GeoServerBinary(), {"--db=" + dir + "/City.mmdb", "--log_level=debug",
                          "--poll_interval=50ms"});
  unsetenv("MAXMIND_LICENSE_KEY");
  unsetenv("MAXMIND_ACCOUNT_ID");
  ASSERT_TRUE(server.ok()) << server.status();
  // The environment does hold it (so the checks below mean something).
  EXPECT_TRUE(
      absl::StrContains(ReadProc(server->pid(), "environ"), kLicenseKey));
  geo::http::CurlClient http;
  for (const char* path : {"/v1/lookup/81.2.69.160", "/v1/databases",
                           "/v1/lookup/bad", "/readyz", "/nope"}) {
    auto response = http.Get(server->http_url(path));
    ASSERT_TRUE(response.ok()) << response.status();
    ExpectNoSecret(path, response->body);
  }
  // A bad database and a reload failure: the error paths log too.
  ASSERT_TRUE(ReplaceFile(dir + "/City.mmdb", "not a database"));
  EXPECT_TRUE(server->WaitForLog("rejected", absl::Seconds(20)))
      << server->Log();
  auto metrics = http.Get(server->metrics_url());
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_TRUE(absl::StrContains(metrics->body, "geofence_lookups_total"));
  ExpectNoSecret("server /metrics", metrics->body);
  ExpectNoSecret("server cmdline", ReadProc(server->pid(), "cmdline"));
  auto exit_status = server->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  ExpectNoSecret("server log", server->Log());
}

}  // namespace
}  // namespace geo::testing
