// The two binaries together, the way a pod runs them: the real updater
// downloads from a fake MaxMind service (standing in for the internet) into the
// directory a running geo_server watches; the server hot-swaps the new database
// while HTTP and gRPC clients keep calling, and none of their calls fails.
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
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

constexpr char kAccountId[] = "424242";
constexpr char kLicenseKey[] = "e2e-fake-license-key-0000";

class UpdaterServerE2eTest : public CityReleaseTest {
 protected:
  void SetUp() override {
    CityReleaseTest::SetUp();
    data_dir_ = NewTempDir();
    server_.SetCredentials(kAccountId, kLicenseKey);
  }

  // `updater --once`, as an initContainer or a CronJob runs it.
  int RunUpdaterOnce() {
    absl::StatusOr<ChildProcess> updater =
        ChildProcess::Start({{UpdaterBinary(), "--once"},
                             server_.UpdaterEnvironment(kEdition, data_dir_)});
    if (!updater.ok()) {
      ADD_FAILURE() << updater.status();
      return -1;
    }
    std::optional<int> code = updater->Wait(absl::Seconds(60));
    updater_log_ = updater->Stderr();
    EXPECT_THAT(updater_log_,
                ::testing::Not(::testing::HasSubstr(kLicenseKey)));
    return code.value_or(-1);
  }

  FakeMaxMindServer server_;
  std::string data_dir_;
  std::string updater_log_;
};

TEST_F(UpdaterServerE2eTest, UpdaterInstallsAndServerHotSwapsWithoutFailures) {
  Publish(server_, original());
  ASSERT_EQ(RunUpdaterOnce(), 0) << updater_log_;
  const std::string installed = absl::StrCat(data_dir_, "/", kEdition, ".mmdb");
  ASSERT_EQ(ReadFile(installed), original());

  auto server = ServerProcess::Start(
      GeoServerBinary(), {"--db=" + installed, "--poll_interval=50ms"});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_EQ(CityName(*server), city_name());

  Outcomes outcomes;
  int updater_status = -1;
  const std::string served = LookUpWhile(
      *server,
      [&] {
        Publish(server_, release());
        updater_status = RunUpdaterOnce();
      },
      absl::Seconds(30), &outcomes);

  EXPECT_EQ(updater_status, 0) << updater_log_;
  EXPECT_EQ(ReadFile(installed), release());
  EXPECT_EQ(served, renamed_city()) << server->Log();
  EXPECT_TRUE(server->WaitForLog("Database reloaded", absl::Seconds(1)));
  EXPECT_EQ(outcomes.failed(), 0) << outcomes.examples();
  EXPECT_EQ(outcomes.not_accepted(), 0);
}

}  // namespace
}  // namespace geo::testing
