// One MaxMind download for a whole cluster, end to end on loopback: a fake
// MaxMind service -> an updater that installs and serves (`--serve`) -> a
// second updater speaking MaxMind's protocol to it and a third in mirror mode
// (plain files and SHA256SUMS) -> a geo_server that hot-swaps what the third
// installs while clients keep looking up. Each release costs one download
// from MaxMind, counted in the fake's request log, and none of the lookups
// fails while a new release travels down the chain.
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/city_release.h"
#include "tests/e2e/load_clients.h"
#include "tests/support/child_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"
#include "tests/updater/fake_maxmind_server.h"

namespace geo::testing {
namespace {

using ::geo::updater::testing::FakeMaxMindServer;
using ::geo::updater::testing::MaxMindUpdaterEnvironment;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUpstreamAccount[] = "111111";
constexpr char kUpstreamKey[] = "upstream-KEY-never-logged-1";
// What the serving updater asks of its clients: a different pair, so a
// client holding only this pair cannot have reached MaxMind.
constexpr char kMirrorAccount[] = "222222";
constexpr char kMirrorKey[] = "mirror-KEY-never-logged-2";
constexpr absl::Duration kPatience = absl::Seconds(90);

// The port the serving updater logged ("Serving databases" ... "port":N).
int ServePort(const ChildProcess& updater, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    const std::string log = updater.Stderr();
    const size_t line = log.find("\"msg\":\"Serving databases\"");
    if (line != std::string::npos) {
      const size_t key = log.find("\"port\":", line);
      int port = 0;
      if (key != std::string::npos &&
          absl::SimpleAtoi(
              log.substr(key + 7, log.find_first_of(",}", key) - key - 7),
              &port)) {
        return port;
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return 0;
}

// Waits until `path` holds exactly `contents`.
bool AwaitFile(const std::string& path, const std::string& contents,
               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (ReadFile(path) == contents) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class ServeChainE2eTest : public CityReleaseTest {
 protected:
  void SetUp() override {
    CityReleaseTest::SetUp();
    upstream_.SetCredentials(kUpstreamAccount, kUpstreamKey);
  }

  FakeMaxMindServer upstream_;
};

TEST_F(ServeChainE2eTest, OneUpstreamDownloadPerReleaseFeedsTheChain) {
  Publish(upstream_, original());
  const std::string serving_dir = NewTempDir();
  const std::string maxmind_client_dir = NewTempDir();
  const std::string mirror_client_dir = NewTempDir();
  const std::string file = absl::StrCat("/", kEdition, ".mmdb");

  std::map<std::string, std::string> serving_env = MaxMindUpdaterEnvironment(
      upstream_.url(), kUpstreamAccount, kUpstreamKey, kEdition, serving_dir);
  serving_env["GEO_UPDATER_STATUS_PORT"] = "-1";
  serving_env["GEO_UPDATER_SERVE_ADDRESS"] = "127.0.0.1";
  serving_env["GEO_UPDATER_SERVE_PORT"] = "0";
  serving_env["GEO_UPDATER_SERVE_ACCOUNT_ID"] = kMirrorAccount;
  serving_env["GEO_UPDATER_SERVE_LICENSE_KEY"] = kMirrorKey;
  absl::StatusOr<ChildProcess> serving = ChildProcess::Start(
      {{UpdaterBinary(), "--serve", "--interval=1s"}, serving_env});
  ASSERT_TRUE(serving.ok()) << serving.status();
  const int port = ServePort(*serving, kPatience);
  ASSERT_GT(port, 0) << serving->Stderr();
  const std::string mirror = absl::StrCat("127.0.0.1:", port);

  // geo's own updater in MaxMind mode, Host pointed at the serving updater.
  std::map<std::string, std::string> maxmind_env =
      MaxMindUpdaterEnvironment(absl::StrCat("http://", mirror), kMirrorAccount,
                                kMirrorKey, kEdition, maxmind_client_dir);
  maxmind_env["GEO_UPDATER_STATUS_PORT"] = "-1";
  absl::StatusOr<ChildProcess> maxmind_client =
      ChildProcess::Start({{UpdaterBinary(), "--interval=1s"}, maxmind_env});
  ASSERT_TRUE(maxmind_client.ok()) << maxmind_client.status();

  // Mirror mode: plain files, each checked against SHA256SUMS.
  std::map<std::string, std::string> mirror_env = {
      {"MAXMIND_EDITION_IDS", kEdition}, {"GEO_UPDATER_STATUS_PORT", "-1"}};
  AddSanitizerOptions(&mirror_env);
  const std::string base =
      absl::StrCat("http://", kMirrorAccount, ":", kMirrorKey, "@", mirror);
  mirror_env["GEO_MIRROR_URL"] = base + "/{edition}.mmdb";
  mirror_env["GEO_MIRROR_SHA256_URL"] = base + "/SHA256SUMS";
  mirror_env["GEO_DATA_DIR"] = mirror_client_dir;
  absl::StatusOr<ChildProcess> mirror_client =
      ChildProcess::Start({{UpdaterBinary(), "--interval=1s"}, mirror_env});
  ASSERT_TRUE(mirror_client.ok()) << mirror_client.status();

  ASSERT_TRUE(AwaitFile(maxmind_client_dir + file, original(), kPatience))
      << maxmind_client->Stderr() << serving->Stderr();
  ASSERT_TRUE(AwaitFile(mirror_client_dir + file, original(), kPatience))
      << mirror_client->Stderr() << serving->Stderr();

  auto server = ServerProcess::Start(
      GeoServerBinary(),
      {"--db=" + mirror_client_dir + file, "--poll_interval=50ms"});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_EQ(CityName(*server), city_name());

  // A new release upstream: the same database with the city renamed.
  Outcomes outcomes;
  bool maxmind_client_updated = false;
  bool mirror_client_updated = false;
  const std::string served = LookUpWhile(
      *server,
      [&] {
        Publish(upstream_, release());
        maxmind_client_updated =
            AwaitFile(maxmind_client_dir + file, release(), kPatience);
        mirror_client_updated =
            AwaitFile(mirror_client_dir + file, release(), kPatience);
      },
      kPatience, &outcomes);

  EXPECT_TRUE(maxmind_client_updated) << maxmind_client->Stderr();
  EXPECT_TRUE(mirror_client_updated) << mirror_client->Stderr();
  EXPECT_EQ(served, renamed_city()) << server->Log();
  EXPECT_EQ(outcomes.failed(), 0) << outcomes.examples();
  EXPECT_EQ(outcomes.not_accepted(), 0);

  // Two releases, two downloads from MaxMind, whatever the clients did; the
  // clients only ever talked to the serving updater.
  EXPECT_EQ(upstream_.CountRequests("/geoip/databases/"), 2);
  EXPECT_GE(upstream_.CountRequests("/geoip/updates/metadata"), 2);
  for (const auto& request : upstream_.requests()) {
    EXPECT_EQ(request.headers.count("authorization"), 1u) << request.target;
  }
  for (ChildProcess* updater : {&*serving, &*maxmind_client, &*mirror_client}) {
    updater->Signal(SIGTERM);
    EXPECT_EQ(updater->Wait(absl::Seconds(30)), 0) << updater->Stderr();
    for (const char* secret : {kUpstreamKey, kMirrorKey}) {
      EXPECT_THAT(updater->Stderr(), Not(HasSubstr(secret)));
    }
  }
  EXPECT_THAT(serving->Stderr(), HasSubstr("\"msg\":\"Served\""));
}

}  // namespace
}  // namespace geo::testing
